"""Call the planned models, with fallback.

``engine`` (the CallEngine and its results), ``fallback`` (retries, cooldowns),
``responses`` (the Responses API shape), ``observers`` (the protocols of what
watches each call), ``assembly`` (the engine built from RouterSettings) and
``_sync_bridge`` (the sync API's event loop).
"""

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
