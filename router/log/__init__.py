"""The decision log: every routed call recorded, feedback and outcomes attached.

Switch it on with ``Router(log=True)`` (or a path, or ``log: {enabled: true}`` in
the config file); read it with ``tierrouter stats``; learn from it with
``tierrouter train --logs`` (docs/retraining.md). Submodules load on first use,
so ``import router.log`` costs nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from router.log.config import LogConfig as LogConfig
    from router.log.config import open_log as open_log
    from router.log.paths import default_log_path as default_log_path
    from router.log.paths import model_dir as model_dir
    from router.log.sqlite import SQLiteDecisionLog as SQLiteDecisionLog
    from router.log.store import DecisionLog as DecisionLog
    from router.log.store import DecisionLogError as DecisionLogError
    from router.log.store import DecisionRecord as DecisionRecord
    from router.log.store import Feedback as Feedback
    from router.log.store import Outcome as Outcome

_EXPORTS = {
    "DecisionLog": "router.log.store",
    "DecisionLogError": "router.log.store",
    "DecisionRecord": "router.log.store",
    "Feedback": "router.log.store",
    "Outcome": "router.log.store",
    "LogConfig": "router.log.config",
    "open_log": "router.log.config",
    "SQLiteDecisionLog": "router.log.sqlite",
    "default_log_path": "router.log.paths",
    "model_dir": "router.log.paths",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'router.log' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
