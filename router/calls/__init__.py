"""Call the planned models, with fallback: the engine, fallback and cooldowns, Responses."""

from __future__ import annotations

import importlib
import warnings
from typing import Any

# ``router.calls`` was a module before issue 13; its public names now live in
# ``router.calls.engine`` (and at the root). Remove after one release.
_OLD_NAMES = frozenset({"CallEngine", "ChatResponse", "ChatStream"})


def __getattr__(name: str) -> Any:
    if name not in _OLD_NAMES:
        raise AttributeError(f"module 'router.calls' has no attribute {name!r}")
    warnings.warn(
        f"router.calls.{name} moved to router.calls.engine.{name} (ChatResponse and ChatStream "
        "are also exported from router); the old path will be removed in the next release",
        DeprecationWarning,
        stacklevel=2,
    )
    return getattr(importlib.import_module("router.calls.engine"), name)
