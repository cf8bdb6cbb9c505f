"""Spend budgets: daily and monthly USD caps per proxy key, per user and per tag.

Config (the ``proxy:`` section of the config file)::

    budgets:
      action: block          # at a cap: block (429 insufficient_quota) or downgrade
      warn_at: 0.8           # share of a cap from which answers carry a warning header
      tag_header: x-tierrouter-tag
      key:  {daily: 5, monthly: 100}    # each proxy key
      user: {daily: 1}                  # each user (OpenAI `user`, Anthropic metadata.user_id)
      tag:  {monthly: 50}               # each value of the tag header
      overrides:                        # one scope's own caps, by the name `tierrouter spend` shows
        "user:alice": {daily: 10}

Spend is what the calls cost: usage × the catalog's prices, counted when a call
ends (:mod:`router.state.spend`). A request is checked before any upstream call
against every scope it belongs to, today and this month; the worst verdict wins.
``downgrade`` routes the request with the cheapest strategy instead of refusing
it; ``block`` refuses it, so nothing is spent upstream.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from router.errors import ConfigError
from router.state.spend import periods

__all__ = ["ACTIONS", "BudgetConfig", "BudgetVerdict", "Budgets", "Caps", "key_id"]

ACTIONS = ("block", "downgrade")
_SCOPES = ("key", "user", "tag")
_PERIODS = {"d": "daily", "m": "monthly"}


def key_id(key: str | None) -> str:
    """A proxy key's name in budgets and counters: a digest, never the key."""
    if not key:
        return "anonymous"
    return hashlib.sha256(key.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Caps:
    daily: float | None = None
    monthly: float | None = None

    def of(self, period: str) -> float | None:
        return self.daily if period.startswith("d:") else self.monthly

    @classmethod
    def parse(cls, raw: Any, where: str) -> Caps:
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where}: expected a mapping like {{daily: 5, monthly: 100}}")
        unknown = sorted(set(raw) - {"daily", "monthly"})
        if unknown:
            raise ConfigError(f"{where}.{unknown[0]}: unknown cap; known: daily, monthly")
        values: dict[str, float] = {}
        for name in ("daily", "monthly"):
            value = raw.get(name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ConfigError(
                    f"{where}.{name}: must be a non-negative USD amount, got {value!r}"
                )
            values[name] = float(value)
        return cls(**values)


@dataclass(frozen=True)
class BudgetConfig:
    action: str = "block"
    warn_at: float = 0.8
    tag_header: str = "x-tierrouter-tag"
    caps: dict[str, Caps] = field(default_factory=dict)  # "key" / "user" / "tag"
    overrides: dict[str, Caps] = field(default_factory=dict)  # "user:alice" -> caps

    @classmethod
    def parse(cls, raw: Any, where: str = "proxy.budgets") -> BudgetConfig:
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where}: expected a mapping of budget settings")
        known = {"action", "warn_at", "tag_header", "overrides", *_SCOPES}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ConfigError(
                f"{where}.{unknown[0]}: unknown setting; known: {', '.join(sorted(known))}"
            )
        action = raw.get("action", "block")
        if action not in ACTIONS:
            raise ConfigError(
                f"{where}.action: must be one of {', '.join(ACTIONS)}, got {action!r}"
            )
        warn_at = raw.get("warn_at", 0.8)
        if (
            isinstance(warn_at, bool)
            or not isinstance(warn_at, (int, float))
            or not 0 < warn_at <= 1
        ):
            raise ConfigError(
                f"{where}.warn_at: must be a share of the cap in (0, 1], got {warn_at!r}"
            )
        tag_header = raw.get("tag_header", "x-tierrouter-tag")
        if not isinstance(tag_header, str) or not tag_header.strip():
            raise ConfigError(f"{where}.tag_header: must be a header name, got {tag_header!r}")
        caps = {s: Caps.parse(raw[s], f"{where}.{s}") for s in _SCOPES if raw.get(s) is not None}
        overrides_raw = raw.get("overrides") or {}
        if not isinstance(overrides_raw, Mapping):
            raise ConfigError(f"{where}.overrides: expected a mapping of scope -> caps")
        overrides = {}
        for scope, value in overrides_raw.items():
            kind = str(scope).partition(":")[0]
            if kind not in _SCOPES or ":" not in str(scope):
                raise ConfigError(
                    f"{where}.overrides.{scope}: name a scope key:<id>, user:<name> or tag:<name>"
                )
            overrides[str(scope)] = Caps.parse(value, f"{where}.overrides.{scope}")
        return cls(str(action), float(warn_at), tag_header.strip().lower(), caps, overrides)

    def caps_for(self, scope: str) -> Caps | None:
        return self.overrides.get(scope) or self.caps.get(scope.partition(":")[0])


@dataclass(frozen=True)
class BudgetVerdict:
    """``ok``, ``warn`` (over ``warn_at``) or ``over`` (at or past a cap), for the worst scope."""

    state: str
    scope: str | None = None
    period: str | None = None
    spent: float = 0.0
    cap: float | None = None

    def describe(self) -> str:
        if self.scope is None or self.cap is None or self.period is None:
            return "within budget"
        which = _PERIODS[self.period[0]]
        return (
            f"{self.scope} has spent ${self.spent:.4f} of its {which} budget of "
            f"${self.cap:.2f} ({self.period[2:]})"
        )


class Ledger(Protocol):
    def add(self, scopes: Sequence[str], usd: float) -> None: ...

    async def totals(self, keys: Sequence[tuple[str, str]]) -> list[float]: ...

    def rows(self) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...


class Budgets:
    """Checks a request's scopes against their caps and counts what calls spend."""

    def __init__(self, config: BudgetConfig, ledger: Ledger) -> None:
        self.config = config
        self.ledger = ledger

    def scopes(self, key: str | None, user: str | None, tag: str | None) -> list[str]:
        out = [f"key:{key_id(key)}"]
        if user:
            out.append(f"user:{user}")
        if tag:
            out.append(f"tag:{tag}")
        return out

    async def check(self, scopes: Sequence[str]) -> BudgetVerdict:
        capped = []
        for scope in scopes:
            caps = self.config.caps_for(scope)
            if caps is None:
                continue
            for period in periods():
                cap = caps.of(period)
                if cap is not None:
                    capped.append((scope, period, cap))
        if not capped:
            return BudgetVerdict("ok")
        spent = await self.ledger.totals([(s, p) for s, p, _ in capped])
        worst = BudgetVerdict("ok")
        worst_share = -1.0
        for (scope, period, cap), usd in zip(capped, spent, strict=True):
            share = usd / cap if cap > 0 else float("inf")
            if share > worst_share:
                worst_share = share
                state = "over" if share >= 1 else "warn" if share >= self.config.warn_at else "ok"
                worst = BudgetVerdict(state, scope, period, usd, cap)
        return worst

    def spent(self, scopes: Sequence[str], usd: float | None) -> None:
        if usd:
            self.ledger.add(scopes, float(usd))

    def close(self) -> None:
        """Store what is counted but not written, and stop the ledger's writer."""
        self.ledger.close()

    def table(self) -> list[dict[str, Any]]:
        """Every counter with its cap and share of it (``tierrouter spend``, the admin API)."""
        out = []
        for row in self.ledger.rows():
            caps = self.config.caps_for(row["scope"])
            cap = caps.of(row["period"]) if caps is not None else None
            share = row["usd"] / cap if cap else None
            out.append({**row, "cap": cap, "share": share})
        return out
