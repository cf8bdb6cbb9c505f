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
    from router.errors import (
        APIError,
        ConfigError,
        ModelArtifactError,
        NoCandidateError,
        RouterError,
        RouterInputError,
    )
    from router.router import Router
    from router.types import Decision, FeatureContribution, Task, Tier

# name -> module that defines it
_EXPORTS: dict[str, str] = {
    "APIError": "router.errors",
    "ConfigError": "router.errors",
    "Decision": "router.types",
    "FeatureContribution": "router.types",
    "ModelArtifactError": "router.errors",
    "NoCandidateError": "router.errors",
    "Router": "router.router",
    "RouterError": "router.errors",
    "RouterInputError": "router.errors",
    "Task": "router.types",
    "Tier": "router.types",
}

__all__ = [
    "APIError",
    "ConfigError",
    "Decision",
    "FeatureContribution",
    "ModelArtifactError",
    "NoCandidateError",
    "Router",
    "RouterError",
    "RouterInputError",
    "Task",
    "Tier",
    "__version__",
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
