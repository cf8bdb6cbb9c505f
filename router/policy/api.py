"""``router.rules`` and ``router.firewall``: typed CRUD over a :class:`PolicyStore`.

The same shapes serve the library, the CLI and the proxy's admin API::

    rule = router.rules.create(
        name="analysis to the frontier model",
        priority=10,
        match={"mode": "quality", "contains": ["analyze", "analyse"]},
        action={"set_model": "anthropic/claude-opus-4-1"},
    )
    router.rules.update(rule.id, is_enabled=False)
    router.firewall.create(name="cards", type="detector", pattern="credit_card", action="block")
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from router.errors import ConfigError
from router.policy.firewall import FirewallRule
from router.policy.rules import RoutingRule, order_key
from router.policy.store import PolicyStore

__all__ = ["FirewallRules", "RoutingRules", "catalog_validator"]

R = TypeVar("R", RoutingRule, FirewallRule)
_FIXED = frozenset({"id", "created_at", "updated_at", "object"})


class _Rules(Generic[R]):
    kind: str
    label: str

    def __init__(self, store: PolicyStore, validate: Callable[[R], None] | None = None) -> None:
        self._store = store
        self._validate: Callable[[R], None] | None = validate

    def _parse(self, raw: Mapping[str, Any]) -> R:
        raise NotImplementedError

    def _check(self, rule: R) -> R:
        if self._validate is not None:
            self._validate(rule)
        return rule

    def create(self, **fields: Any) -> R:
        """Validate and store a new rule; errors name the rule and the field."""
        rule = self._check(self._parse(fields))
        return self._parse(self._store.create(self.kind, rule.to_dict()))

    def list(self) -> list[R]:
        """Every rule, enabled or not, in evaluation order."""
        return sorted((self._parse(r) for r in self._store.list(self.kind)), key=order_key)

    def retrieve(self, rule_id: str) -> R:
        """Raises PolicyNotFound."""
        return self._parse(self._store.retrieve(self.kind, rule_id))

    def update(self, rule_id: str, **changes: Any) -> R:
        """Change some fields (``match``/``action`` are replaced whole)."""
        fixed = sorted(set(changes) & _FIXED)
        if fixed:
            raise ConfigError(f"{self.label} {rule_id!r}: {fixed[0]!r} cannot be changed")
        current = self._store.retrieve(self.kind, rule_id)
        rule = self._check(self._parse({**current, **changes}))
        return self._parse(self._store.update(self.kind, rule_id, rule.to_dict()))

    def delete(self, rule_id: str) -> None:
        """Raises PolicyNotFound."""
        self._store.delete(self.kind, rule_id)

    def enable(self, rule_id: str) -> R:
        return self.update(rule_id, is_enabled=True)

    def disable(self, rule_id: str) -> R:
        return self.update(rule_id, is_enabled=False)

    def seed(self, rules: Any) -> None:
        """Store rules from config, replacing stored ones with the same id (config wins)."""
        for rule in rules:
            self._store.upsert(self.kind, self._check(rule).to_dict())


class RoutingRules(_Rules[RoutingRule]):
    kind = "routing_rule"
    label = "routing rule"

    def _parse(self, raw: Mapping[str, Any]) -> RoutingRule:
        from router.routing.strategies import load_profiles

        return RoutingRule.from_dict(raw, profiles=tuple(load_profiles()))

    def create(  # type: ignore[override]
        self,
        *,
        name: str,
        match: Mapping[str, Any] | None = None,
        action: Mapping[str, Any] | None = None,
        priority: int = 0,
        is_enabled: bool = True,
        id: str | None = None,
    ) -> RoutingRule:
        return super().create(
            name=name, match=match, action=action, priority=priority, is_enabled=is_enabled, id=id
        )


class FirewallRules(_Rules[FirewallRule]):
    kind = "firewall_rule"
    label = "firewall rule"

    def _parse(self, raw: Mapping[str, Any]) -> FirewallRule:
        return FirewallRule.from_dict(raw)

    def create(  # type: ignore[override]
        self,
        *,
        name: str,
        pattern: str,
        type: str = "substring",
        scope: str = "both",
        action: str = "block",
        replacement: str | None = None,
        priority: int = 0,
        is_enabled: bool = True,
        id: str | None = None,
    ) -> FirewallRule:
        return super().create(
            name=name,
            pattern=pattern,
            type=type,
            scope=scope,
            action=action,
            replacement=replacement,
            priority=priority,
            is_enabled=is_enabled,
            id=id,
        )

    def test(self, text: str, side: str = "prompt") -> tuple[str, list[str], str | None]:
        """(text after masking, warn rule names, name of the blocking rule or None)."""
        from router.policy.errors import FirewallBlocked
        from router.policy.firewall import compile_rule

        warnings: list[str] = []
        for rule in self.list():
            if not rule.applies_to(side):
                continue
            try:
                text = compile_rule(rule).apply(text, side, warnings)
            except FirewallBlocked as exc:
                return text, warnings, exc.rule_name
        return text, warnings, None


def catalog_validator(catalog: Any) -> Callable[[RoutingRule], None]:
    """Checks a routing rule's model and provider against the router's catalog."""

    def check(rule: RoutingRule) -> None:
        where = f"routing rule {rule.name!r}.action"
        action = rule.action
        if action.set_provider and action.set_provider not in catalog.providers:
            raise ConfigError(
                f"{where}.set_provider: {action.set_provider!r} is not a provider; "
                f"known: {', '.join(sorted(catalog.providers))}"
            )
        ref = action.set_model
        if ref:
            provider, sep, _ = ref.partition("/")
            if catalog.find(ref) is None and not (sep and provider in catalog.providers):
                raise ConfigError(f"{where}.set_model: model {ref!r} is not in the catalog")

    return check
