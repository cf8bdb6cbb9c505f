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

    from router.calls._sync_bridge import SyncChatStream
    from router.calls.engine import ChatResponse, ChatStream
    from router.calls.fallback import CooldownStore, FallbackPolicy, InMemoryCooldownStore
    from router.calls.responses import Responses
    from router.config import load_config
    from router.decision.artifact import ModelArtifact
    from router.decision.classifier import Classifier
    from router.decision.features import FeatureExtractor
    from router.decision.l2 import L2Config
    from router.errors import (
        APIError,
        ConfigError,
        DecisionLogError,
        FieldError,
        FirewallBlocked,
        ModelArtifactError,
        NoCandidateError,
        PolicyNotFound,
        RouterError,
        RouterInputError,
        StoreUnavailableError,
        UnknownOptionError,
    )
    from router.log.config import LogConfig
    from router.log.store import DecisionLog, DecisionRecord, Feedback, Outcome
    from router.policy.api import FirewallRules, RoutingRules
    from router.policy.firewall import FirewallRule
    from router.policy.rules import RoutingRule
    from router.policy.store import PolicyStore
    from router.router import Router
    from router.routing.catalog import Catalog, ModelSpec, ProviderSpec
    from router.routing.planning import RoutePlan, Rule
    from router.routing.strategies import Strategy
    from router.secrets import Secret
    from router.settings import RouterSettings
    from router.types import Decision, FeatureContribution, Task, Tier

# name -> module that defines it
_EXPORTS: dict[str, str] = {
    "APIError": "router.errors",
    "Catalog": "router.routing.catalog",
    "ChatResponse": "router.calls.engine",
    "ChatStream": "router.calls.engine",
    "Classifier": "router.decision.classifier",
    "ConfigError": "router.errors",
    "CooldownStore": "router.calls.fallback",
    "Decision": "router.types",
    "DecisionLog": "router.log.store",
    "DecisionRecord": "router.log.store",
    "DecisionLogError": "router.errors",
    "FallbackPolicy": "router.calls.fallback",
    "Feedback": "router.log.store",
    "FeatureContribution": "router.types",
    "FeatureExtractor": "router.decision.features",
    "FieldError": "router.errors",
    "FirewallBlocked": "router.errors",
    "FirewallRule": "router.policy.firewall",
    "FirewallRules": "router.policy.api",
    "InMemoryCooldownStore": "router.calls.fallback",
    "L2Config": "router.decision.l2",
    "LogConfig": "router.log.config",
    "ModelArtifact": "router.decision.artifact",
    "ModelArtifactError": "router.errors",
    "ModelSpec": "router.routing.catalog",
    "NoCandidateError": "router.errors",
    "Outcome": "router.log.store",
    "PolicyNotFound": "router.errors",
    "PolicyStore": "router.policy.store",
    "ProviderSpec": "router.routing.catalog",
    "Responses": "router.calls.responses",
    "RoutePlan": "router.routing.planning",
    "Router": "router.router",
    "RouterError": "router.errors",
    "RouterInputError": "router.errors",
    "RouterSettings": "router.settings",
    "RoutingRule": "router.policy.rules",
    "RoutingRules": "router.policy.api",
    "Rule": "router.routing.planning",
    "Secret": "router.secrets",
    "StoreUnavailableError": "router.errors",
    "Strategy": "router.routing.strategies",
    "SyncChatStream": "router.calls._sync_bridge",
    "Task": "router.types",
    "Tier": "router.types",
    "UnknownOptionError": "router.errors",
    "load_config": "router.config",
}
# Renamed names, outside __all__: the defining module warns (remove after one release).
_RENAMED: dict[str, str] = {"RouterConfig": "router.config"}

__all__ = [
    "APIError",
    "Catalog",
    "ChatResponse",
    "ChatStream",
    "Classifier",
    "ConfigError",
    "CooldownStore",
    "Decision",
    "DecisionLog",
    "DecisionLogError",
    "DecisionRecord",
    "FallbackPolicy",
    "FeatureContribution",
    "FeatureExtractor",
    "Feedback",
    "FieldError",
    "FirewallBlocked",
    "FirewallRule",
    "FirewallRules",
    "InMemoryCooldownStore",
    "L2Config",
    "LogConfig",
    "ModelArtifact",
    "ModelArtifactError",
    "ModelSpec",
    "NoCandidateError",
    "Outcome",
    "PolicyNotFound",
    "PolicyStore",
    "ProviderSpec",
    "Responses",
    "RoutePlan",
    "Router",
    "RouterError",
    "RouterInputError",
    "RouterSettings",
    "RoutingRule",
    "RoutingRules",
    "Rule",
    "Secret",
    "StoreUnavailableError",
    "Strategy",
    "SyncChatStream",
    "Task",
    "Tier",
    "UnknownOptionError",
    "__version__",
    "load_config",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name) or _RENAMED.get(name)
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
