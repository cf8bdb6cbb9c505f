"""Routing rules and the firewall: what goes where, and what may not leave or return.

``Router.rules`` and ``Router.firewall`` are the entry points (see docs/policy.md).
Names resolve lazily: ``import router`` must not pay for regex engines or SQLite.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from router.policy.api import FirewallRules, RoutingRules
    from router.policy.detectors import DETECTORS
    from router.policy.engine import PolicyEngine
    from router.policy.errors import FirewallBlocked, PolicyNotFound
    from router.policy.firewall import FirewallRule, StreamGuard, StreamScanner
    from router.policy.rules import RoutingRule, RuleAction, RuleMatch
    from router.policy.store import InMemoryPolicyStore, PolicyStore, SqlitePolicyStore

_EXPORTS = {
    "DETECTORS": "router.policy.detectors",
    "FirewallBlocked": "router.policy.errors",
    "FirewallRule": "router.policy.firewall",
    "FirewallRules": "router.policy.api",
    "InMemoryPolicyStore": "router.policy.store",
    "PolicyEngine": "router.policy.engine",
    "PolicyNotFound": "router.policy.errors",
    "PolicyStore": "router.policy.store",
    "RoutingRule": "router.policy.rules",
    "RoutingRules": "router.policy.api",
    "RuleAction": "router.policy.rules",
    "RuleMatch": "router.policy.rules",
    "SqlitePolicyStore": "router.policy.store",
    "StreamGuard": "router.policy.firewall",
    "StreamScanner": "router.policy.firewall",
}

__all__ = [
    "DETECTORS",
    "FirewallBlocked",
    "FirewallRule",
    "FirewallRules",
    "InMemoryPolicyStore",
    "PolicyEngine",
    "PolicyNotFound",
    "PolicyStore",
    "RoutingRule",
    "RoutingRules",
    "RuleAction",
    "RuleMatch",
    "SqlitePolicyStore",
    "StreamGuard",
    "StreamScanner",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'router.policy' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
