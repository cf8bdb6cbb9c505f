"""Read one YAML file holding both the router's settings and a ``proxy:`` section.

``router.config.load_config`` rejects top-level keys it does not know, and
``proxy`` is not one of them, so this module repeats its few steps (parse,
index lines, interpolate ``${ENV}``) and hands everything but ``proxy:`` to
the same validator. Errors keep the file:line: field form of the router's own.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from router.errors import ConfigError

if TYPE_CHECKING:
    from router.config import RouterConfig

__all__ = ["load_with_proxy_section"]


def load_with_proxy_section(
    path: str | Path, env: Mapping[str, str] | None = None
) -> tuple[RouterConfig, dict[str, Any], Callable[[str], str]]:
    """(router config, raw ``proxy:`` mapping, ``where(field)`` for error messages)."""
    import yaml

    from router import config as cfg

    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {file}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {file}: {exc.strerror}") from None
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else {}
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{file}{line}: invalid YAML: {exc.problem}") from None
    lines: dict[Any, int] = {}
    if node is not None:
        cfg._index_lines(node, (), lines)
    loc = cfg._Located(str(file), lines)
    data = data or {}
    if not isinstance(data, dict):
        raise loc.error((), "the top level must be a mapping of settings")
    data = cfg._interpolate(data, (), loc, os.environ if env is None else env)
    proxy = data.pop("proxy", None) or {}
    if not isinstance(proxy, dict):
        raise loc.error(("proxy",), "expected a mapping of proxy settings")
    return cfg._build(data, loc), proxy, lambda name: loc.where(("proxy", name))
