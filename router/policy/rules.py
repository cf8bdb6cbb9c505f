"""Routing rules: ``match`` conditions and ``action`` changes, ordered by priority.

Evaluation (see docs/policy.md):

* Enabled rules are tried in order of ``priority`` (higher first); ties go to
  the rule created first, then to the smaller id, so the order never depends
  on how a store happens to return rows.
* Every condition given in ``match`` must hold (an empty ``match`` matches
  every request). Within one condition a list means "any of these".
* The first matching rule applies, with all of its actions; later rules are
  not consulted. If its ``set_model`` or ``set_provider`` cannot serve the
  request (no key, excluded, context too small, missing tools/vision/JSON),
  the rule is passed over with a warning and the next matching rule is tried.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from router._ids import random_hex
from router.errors import ConfigError
from router.routing.model_strings import MODES
from router.types import Task, Tier

if TYPE_CHECKING:
    from router.routing.planning import Rule

__all__ = [
    "RoutingRule",
    "RuleAction",
    "RuleContext",
    "RuleMatch",
    "from_legacy",
    "new_id",
    "order_key",
]

_STRATEGIES = ("cheapest", "balanced", "best")
_MATCH_FIELDS = (
    "task", "tier", "language", "contains", "metadata_equals", "mode", "model_requested",
)  # fmt: skip
_ACTION_FIELDS = (
    "set_provider", "set_model", "set_mode", "set_strategy", "exclude_models", "add_warning",
)  # fmt: skip


def new_id(prefix: str) -> str:
    return f"{prefix}_{random_hex(20)}"


def header_fields(raw: Mapping[str, Any], where: str, id_prefix: str) -> tuple[str, int, bool]:
    """``(id, priority, is_enabled)``, the fields every rule kind shares, validated."""
    priority = raw.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise ConfigError(f"{where}.priority: expected an integer, got {priority!r}")
    enabled = raw.get("is_enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where}.is_enabled: expected true or false, got {enabled!r}")
    rule_id = raw.get("id") or new_id(id_prefix)
    if not isinstance(rule_id, str):
        raise ConfigError(f"{where}.id: expected a string, got {rule_id!r}")
    return rule_id, priority, enabled


def _strings(value: Any, where: str, lower: bool = False) -> tuple[str, ...]:
    """One string or a list of them -> a tuple; the error names the field."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(x, str) and x for x in items):
        raise ConfigError(f"{where}: expected a non-empty string or a list of them, got {value!r}")
    return tuple(x.lower() if lower else x for x in items)


@dataclass(frozen=True, slots=True)
class RuleContext:
    """What a rule can look at: the decision plus facts about the request."""

    task: str
    tier: str
    language: str
    text: str  # the user messages' text, lower-cased once for every ``contains``
    metadata: Mapping[str, Any]
    mode: str
    model_requested: str


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """Conditions, all of which must hold; ``None``/empty means "any"."""

    task: tuple[str, ...] = ()
    tier: tuple[str, ...] = ()
    language: tuple[str, ...] = ()
    contains: tuple[str, ...] = ()  # lower-cased; any one of them
    metadata_equals: Mapping[str, Any] = field(default_factory=dict)
    mode: str | None = None
    model_requested: str | None = None

    @classmethod
    def parse(cls, raw: Any, where: str) -> RuleMatch:
        if raw is None:
            return cls()
        if isinstance(raw, RuleMatch):
            return raw
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where}: expected a mapping of conditions, got {raw!r}")
        unknown = sorted(set(raw) - set(_MATCH_FIELDS))
        if unknown:
            raise ConfigError(
                f"{where}.{unknown[0]}: unknown condition; known: {', '.join(_MATCH_FIELDS)}"
            )
        values: dict[str, Any] = {}
        if raw.get("task") is not None:
            tasks = _strings(raw["task"], f"{where}.task", lower=True)
            known = {t.value for t in Task}
            for t in tasks:
                if t not in known:
                    raise ConfigError(
                        f"{where}.task: {t!r} is not one of {', '.join(sorted(known))}"
                    )
            values["task"] = tasks
        if raw.get("tier") is not None:
            tiers = tuple(t.upper() for t in _strings(raw["tier"], f"{where}.tier"))
            for t in tiers:
                if t not in {x.value for x in Tier}:
                    raise ConfigError(
                        f"{where}.tier: {t!r} is not one of {', '.join(x.value for x in Tier)}"
                    )
            values["tier"] = tiers
        if raw.get("language") is not None:
            values["language"] = _strings(raw["language"], f"{where}.language", lower=True)
        if raw.get("contains") is not None:
            values["contains"] = _strings(raw["contains"], f"{where}.contains", lower=True)
        meta = raw.get("metadata_equals")
        if meta is not None:
            if not isinstance(meta, Mapping) or not all(isinstance(k, str) for k in meta):
                raise ConfigError(f"{where}.metadata_equals: expected a mapping, got {meta!r}")
            values["metadata_equals"] = dict(meta)
        mode = raw.get("mode")
        if mode is not None:
            mode = {"balanced": "balance", "cheapest": "cost", "best": "quality"}.get(mode, mode)
            if mode not in MODES:
                raise ConfigError(f"{where}.mode: {raw['mode']!r} is not one of {', '.join(MODES)}")
            values["mode"] = mode
        requested = raw.get("model_requested")
        if requested is not None:
            if not isinstance(requested, str) or not requested.strip():
                raise ConfigError(f"{where}.model_requested: expected a model string")
            values["model_requested"] = requested.strip()
        return cls(**values)

    def matches(self, ctx: RuleContext) -> bool:
        if self.task and ctx.task not in self.task:
            return False
        if self.tier and ctx.tier not in self.tier:
            return False
        if self.language and ctx.language not in self.language:
            return False
        if self.mode is not None and ctx.mode != self.mode:
            return False
        if self.model_requested is not None and not _same_model(
            self.model_requested, ctx.model_requested
        ):
            return False
        for key, want in self.metadata_equals.items():
            if key not in ctx.metadata or ctx.metadata[key] != want:
                return False
        return not self.contains or any(s in ctx.text for s in self.contains)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in ("task", "tier", "language", "contains"):
            value = getattr(self, name)
            if value:
                out[name] = value[0] if len(value) == 1 else list(value)
        if self.metadata_equals:
            out["metadata_equals"] = dict(self.metadata_equals)
        if self.mode is not None:
            out["mode"] = self.mode
        if self.model_requested is not None:
            out["model_requested"] = self.model_requested
        return out


def _same_model(want: str, requested: str) -> bool:
    """``model_requested`` matches the whole string, or its model part without a mode."""
    want, requested = want.lower(), requested.lower()
    if want == requested:
        return True
    head, sep, tail = requested.rpartition(":")
    return bool(sep) and tail in (*MODES, "balanced") and head == want


@dataclass(frozen=True, slots=True)
class RuleAction:
    """What a matching rule changes; every given field applies."""

    set_provider: str | None = None
    set_model: str | None = None
    set_mode: str | None = None
    set_strategy: str | None = None
    exclude_models: tuple[str, ...] = ()
    add_warning: str | None = None

    @classmethod
    def parse(cls, raw: Any, where: str, profiles: Sequence[str] = ()) -> RuleAction:
        if isinstance(raw, RuleAction):
            return raw
        if not isinstance(raw, Mapping) or not raw:
            raise ConfigError(
                f"{where}: a rule needs an action, one or more of {', '.join(_ACTION_FIELDS)}"
            )
        unknown = sorted(set(raw) - set(_ACTION_FIELDS))
        if unknown:
            raise ConfigError(
                f"{where}.{unknown[0]}: unknown action; known: {', '.join(_ACTION_FIELDS)}"
            )
        values: dict[str, Any] = {}
        for name in ("set_provider", "set_model", "add_warning"):
            value = raw.get(name)
            if value is not None:
                if not isinstance(value, str) or not value.strip():
                    raise ConfigError(f"{where}.{name}: expected a non-empty string, got {value!r}")
                values[name] = value.strip()
        mode = raw.get("set_mode")
        if mode is not None:
            mode = "balance" if mode == "balanced" else mode
            if mode not in MODES:
                raise ConfigError(
                    f"{where}.set_mode: {raw['set_mode']!r} is not one of {', '.join(MODES)}"
                )
            values["set_mode"] = mode
        strategy = raw.get("set_strategy")
        if strategy is not None:
            choices = (*_STRATEGIES, *profiles)
            if strategy not in choices:
                raise ConfigError(
                    f"{where}.set_strategy: {strategy!r} is not one of {', '.join(choices)}"
                )
            values["set_strategy"] = strategy
        if raw.get("exclude_models") is not None:
            values["exclude_models"] = _strings(raw["exclude_models"], f"{where}.exclude_models")
        provider, model = values.get("set_provider"), values.get("set_model")
        if provider and model and "/" in model and model.split("/", 1)[0] != provider:
            raise ConfigError(
                f"{where}.set_model: {model!r} is not a model of set_provider {provider!r}"
            )
        if not values:
            raise ConfigError(f"{where}: the action sets nothing")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value:
                out[f.name] = list(value) if isinstance(value, tuple) else value
        return out


@dataclass(frozen=True, slots=True)
class RoutingRule:
    """A named, prioritised routing rule (the hosted TokenRouter SDK's shape)."""

    id: str
    name: str
    match: RuleMatch
    action: RuleAction
    priority: int = 0
    is_enabled: bool = True
    created_at: float = 0.0
    updated_at: float = 0.0

    @classmethod
    def from_dict(
        cls, raw: Mapping[str, Any], where: str = "routing rule", profiles: Sequence[str] = ()
    ) -> RoutingRule:
        """Validate a mapping (``id`` optional: a new one is made). Errors name the rule."""
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {raw!r}")
        known = {"id", "name", "priority", "is_enabled", "match", "action", "created_at",
                 "updated_at", "object"}  # fmt: skip
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ConfigError(f"{where}: unknown field {unknown[0]!r}; known: match, action, ...")
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{where}.name: a rule needs a non-empty name")
        where = f"routing rule {name!r}"
        rule_id, priority, enabled = header_fields(raw, where, "rr")
        now = time.time()
        return cls(
            id=rule_id,
            name=name.strip(),
            priority=priority,
            is_enabled=enabled,
            match=RuleMatch.parse(raw.get("match"), f"{where}.match"),
            action=RuleAction.parse(raw.get("action"), f"{where}.action", profiles),
            created_at=float(raw.get("created_at") or now),
            updated_at=float(raw.get("updated_at") or now),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "routing_rule",
            "name": self.name,
            "priority": self.priority,
            "is_enabled": self.is_enabled,
            "match": self.match.to_dict(),
            "action": self.action.to_dict(),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    def matches(self, ctx: RuleContext) -> bool:
        return self.is_enabled and self.match.matches(ctx)


def order_key(rule: Any) -> tuple[int, float, str]:
    """Evaluation order for both rule kinds: priority high first, then oldest, then id."""
    return (-int(rule.priority), float(rule.created_at), str(rule.id))


def from_legacy(rule: Rule, index: int) -> RoutingRule:
    """The config's simple ``{task: coding, model: ...}`` form as a routing rule.

    Legacy rules keep their list order (same priority 0, created in order) and
    their old meaning: the first matching rule whose model can serve wins.
    """
    conditions: dict[str, Any] = {}
    if rule.task is not None:
        conditions["task"] = rule.task.value
    if rule.tier is not None:
        conditions["tier"] = rule.tier.value
    if rule.language is not None:
        conditions["language"] = rule.language
    return RoutingRule(
        id=f"rules-{index}",
        name=rule.describe(),
        match=RuleMatch.parse(conditions, f"rules[{index}]"),
        action=RuleAction(set_model=rule.model),
        created_at=float(index),
        updated_at=float(index),
    )
