"""Read one YAML file holding both the router's settings and a ``proxy:`` section."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from router.settings import RouterSettings

__all__ = ["load_with_proxy_section"]


def load_with_proxy_section(
    path: str | Path, env: Mapping[str, str] | None = None
) -> tuple[RouterSettings, dict[str, Any], Callable[[str], str]]:
    """(router settings, raw ``proxy:`` mapping, ``where(field)`` for error messages)."""
    from router.config import load_config_with_section

    return load_config_with_section(path, "proxy", env)
