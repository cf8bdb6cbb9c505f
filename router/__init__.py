"""tierrouter: send each prompt to the cheapest model that will answer it well.

    >>> from router import Router
    >>> Router().classify("Prove that the square root of 2 is irrational").tier
    <Tier.REASONING: 'REASONING'>

Public names resolve lazily so that ``import router`` costs almost nothing; the
classifier, catalog and providers load when first used.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

from router._version import __version__

if TYPE_CHECKING:
    from importlib.abc import Loader

    from router.calls.engine import ChatResponse, ChatStream
    from router.calls.fallback import CooldownStore, FallbackPolicy, InMemoryCooldownStore
    from router.config import RouterConfig, load_config
    from router.decision.l2 import L2Config
    from router.errors import (
        APIError,
        ConfigError,
        ModelArtifactError,
        NoCandidateError,
        RouterError,
        RouterInputError,
    )
    from router.router import Router
    from router.routing.strategies import Strategy
    from router.secrets import Secret
    from router.types import Decision, FeatureContribution, Task, Tier

# name -> module that defines it
_EXPORTS: dict[str, str] = {
    "APIError": "router.errors",
    "ChatResponse": "router.calls.engine",
    "ChatStream": "router.calls.engine",
    "ConfigError": "router.errors",
    "CooldownStore": "router.calls.fallback",
    "Decision": "router.types",
    "FallbackPolicy": "router.calls.fallback",
    "FeatureContribution": "router.types",
    "InMemoryCooldownStore": "router.calls.fallback",
    "L2Config": "router.decision.l2",
    "ModelArtifactError": "router.errors",
    "NoCandidateError": "router.errors",
    "Router": "router.router",
    "RouterConfig": "router.config",
    "RouterError": "router.errors",
    "RouterInputError": "router.errors",
    "Secret": "router.secrets",
    "Strategy": "router.routing.strategies",
    "Task": "router.types",
    "Tier": "router.types",
    "load_config": "router.config",
}

__all__ = [
    "APIError",
    "ChatResponse",
    "ChatStream",
    "ConfigError",
    "CooldownStore",
    "Decision",
    "FallbackPolicy",
    "FeatureContribution",
    "InMemoryCooldownStore",
    "L2Config",
    "ModelArtifactError",
    "NoCandidateError",
    "Router",
    "RouterConfig",
    "RouterError",
    "RouterInputError",
    "Secret",
    "Strategy",
    "Task",
    "Tier",
    "__version__",
    "load_config",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'router' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


# Module paths that users imported before 0.x moved them into subpackages (issue 13).
# Importing an old path warns once and hands back a module that forwards to the new one.
# Remove after one release.
_MOVED: dict[str, str] = {
    "router.catalog": "router.routing.catalog",
    "router.fallback": "router.calls.fallback",
    "router.l2": "router.decision.l2",
    "router.model": "router.decision.artifact",
    "router.strategies": "router.routing.strategies",
}


class _MovedModules:
    """A meta-path finder and loader for the paths in ``_MOVED``."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        # duck-typed: importing importlib.abc would cost every ``import router``
        return ModuleSpec(fullname, cast("Loader", self)) if fullname in _MOVED else None

    def create_module(self, spec: ModuleSpec) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        new = _MOVED[module.__name__]
        warnings.warn(
            f"{module.__name__} moved to {new}; import from {new} (or from router) instead: "
            "the old path will be removed in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        target = importlib.import_module(new)

        def forward(name: str) -> Any:
            return getattr(target, name)

        module.__getattr__ = forward  # type: ignore[method-assign]
        module.__dict__["__all__"] = list(getattr(target, "__all__", ()))
        module.__doc__ = f"Deprecated alias of {new}."


sys.meta_path.append(_MovedModules())
