"""tierrouter: send each prompt to the cheapest model that will answer it well.

    >>> from router import Router
    >>> Router().classify("Prove that the square root of 2 is irrational").tier
    <Tier.REASONING: 'REASONING'>

Public names resolve lazily so that ``import router`` costs almost nothing; the
classifier, catalog and providers load when first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from router._version import __version__

if TYPE_CHECKING:
    from router.calls import ChatResponse, ChatStream
    from router.config import RouterConfig, load_config
    from router.errors import (
        APIError,
        ConfigError,
        ModelArtifactError,
        NoCandidateError,
        RouterError,
        RouterInputError,
    )
    from router.fallback import CooldownStore, FallbackPolicy, InMemoryCooldownStore
    from router.l2 import L2Config
    from router.router import Router
    from router.secrets import Secret
    from router.strategies import Strategy
    from router.types import Decision, FeatureContribution, Task, Tier

# name -> module that defines it
_EXPORTS: dict[str, str] = {
    "APIError": "router.errors",
    "ChatResponse": "router.calls",
    "ChatStream": "router.calls",
    "ConfigError": "router.errors",
    "CooldownStore": "router.fallback",
    "Decision": "router.types",
    "FallbackPolicy": "router.fallback",
    "FeatureContribution": "router.types",
    "InMemoryCooldownStore": "router.fallback",
    "L2Config": "router.l2",
    "ModelArtifactError": "router.errors",
    "NoCandidateError": "router.errors",
    "Router": "router.router",
    "RouterConfig": "router.config",
    "RouterError": "router.errors",
    "RouterInputError": "router.errors",
    "Secret": "router.secrets",
    "Strategy": "router.strategies",
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
