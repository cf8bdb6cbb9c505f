"""Before a request may call upstream: the fleet-wide rate limit per proxy key, then budgets.

Both are optional (``proxy.rate_limit``, ``proxy.budgets``) and cost nothing when
unset. With ``state: redis://...`` their counters are the fleet's (one round
trip per request); without, this machine's. Budget logic is in
:mod:`router.state.budgets`; this module only ties it to a request: which key,
user and tag it belongs to, which error or header it gets, and what it cost.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from router.errors import ConfigError
from router.proxy.auth import presented_key
from router.proxy.errors import ProxyError

if TYPE_CHECKING:
    from router.proxy.settings import ProxySettings
    from router.state.budgets import Budgets
    from router.state.link import RedisLink
    from router.state.ratelimit import RateLimit

__all__ = ["Admission", "parse_rate_limit", "user_of"]

WARNING_HEADER = "x-tierrouter-budget-warning"
DOWNGRADE_HEADER = "x-tierrouter-budget"
CHEAPEST = "auto:cheapest"


def parse_rate_limit(raw: Any, where: str = "proxy.rate_limit") -> RateLimit:
    from router.state.ratelimit import RateLimit

    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a mapping like {{requests: 60, window: 60}}")
    unknown = sorted(set(raw) - {"requests", "window"})
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown setting; known: requests, window")
    requests, window = raw.get("requests"), raw.get("window", 60)
    if isinstance(requests, bool) or not isinstance(requests, int) or requests < 1:
        raise ConfigError(f"{where}.requests: must be an integer >= 1, got {requests!r}")
    if isinstance(window, bool) or not isinstance(window, (int, float)) or window < 1:
        raise ConfigError(f"{where}.window: must be at least 1 second, got {window!r}")
    return RateLimit(requests, float(window))


def user_of(body: Mapping[str, Any]) -> str | None:
    """The end user a request names: OpenAI's ``user`` or Anthropic's ``metadata.user_id``."""
    user = body.get("user")
    if not isinstance(user, str) or not user:
        metadata = body.get("metadata")
        user = metadata.get("user_id") if isinstance(metadata, Mapping) else None
    if isinstance(user, str) and user and len(user) <= 256 and user.isprintable():
        return user
    return None


class Admission:
    """The rate limiter and budgets of one proxy process."""

    def __init__(self, settings: ProxySettings, router: Any) -> None:
        fleet = getattr(router, "fleet", {}) or {}
        self.link: RedisLink | None = None
        if fleet.get("state"):
            from router.state.link import link_for

            self.link = link_for(fleet["state"])
        self.limit = parse_rate_limit(settings.rate_limit) if settings.rate_limit else None
        self.limiter: Any = None
        if self.limit is not None:
            from router.state.ratelimit import LocalRateLimiter, RedisRateLimiter

            self.limiter = RedisRateLimiter(self.link) if self.link else LocalRateLimiter()
        self.budgets: Budgets | None = None
        if settings.budgets:
            self.budgets = _budgets(settings.budgets, self.link, router)

    @property
    def active(self) -> bool:
        return self.limiter is not None or self.budgets is not None

    async def admit(
        self, headers: Mapping[str, str], body: Mapping[str, Any], model: str, out: dict[str, str]
    ) -> tuple[str, list[str]]:
        """The model to route with and the budget scopes to charge; raises ProxyError 429.

        Headers for the answer (a budget warning or downgrade) are added to ``out``.
        """
        key = presented_key(headers)
        if self.limiter is not None and self.limit is not None:
            from router.state.budgets import key_id

            verdict = await self.limiter.hit(key_id(key), self.limit)
            if not verdict.allowed:
                raise ProxyError(
                    "rate_limit",
                    f"this proxy key is limited to {self.limit.requests} requests per "
                    f"{self.limit.window:g} s across the fleet; retry after the window",
                    retry_after=verdict.retry_after,
                )
        if self.budgets is None:
            return model, []
        config = self.budgets.config
        scopes = self.budgets.scopes(key, user_of(body), headers.get(config.tag_header))
        verdict_b = await self.budgets.check(scopes)
        if verdict_b.state == "warn":
            out[WARNING_HEADER] = verdict_b.describe()
        elif verdict_b.state == "over":
            if config.action == "block":
                raise ProxyError(
                    "insufficient_quota",
                    f"budget exhausted: {verdict_b.describe()}; nothing was sent upstream",
                    retryable=False,
                )
            out[DOWNGRADE_HEADER] = f"downgraded to the cheapest models: {verdict_b.describe()}"
            return CHEAPEST, scopes
        return model, scopes

    def close(self) -> None:
        if self.budgets is not None:
            self.budgets.close()

    def spent(self, scopes: list[str], cost: Any) -> None:
        if self.budgets is not None and scopes and isinstance(cost, (int, float)):
            self.budgets.spent(scopes, float(cost))


def _budgets(raw: Any, link: RedisLink | None, router: Any) -> Budgets:
    from router.state.budgets import BudgetConfig, Budgets

    config = BudgetConfig.parse(raw)
    ledger: Any
    if link is not None:
        from router.state.spend import RedisSpendLedger

        ledger = RedisSpendLedger(link)
    else:
        from router.log.paths import default_log_path
        from router.state.spend import SQLiteSpendLedger

        log = getattr(router, "decision_log", None)
        path = getattr(log, "path", None)
        # Beside the decisions when the log is a SQLite file; the default log file otherwise.
        ledger = SQLiteSpendLedger(path if isinstance(path, Path) else default_log_path())
    return Budgets(config, ledger)


def fleet_health(router: Any) -> dict[str, Any] | None:
    """What /health says about shared state and store, when fleet mode is on."""
    fleet = getattr(router, "fleet", {}) or {}
    if not fleet.get("state") and not fleet.get("store"):
        return None
    out: dict[str, Any] = {}
    if fleet.get("state"):
        from router.state.link import link_for

        out["state"] = link_for(fleet["state"]).health()
    log = getattr(router, "decision_log", None)
    if fleet.get("store") and log is not None and hasattr(log, "spooling"):
        out["store"] = {
            "backend": "postgresql",
            "url": log.path,
            "ok": not log.spooling,
            "spooled": log.spooled,
        }
    return out


def fleet_metrics(router: Any) -> str:
    """Prometheus lines for the same facts (appended to /metrics)."""
    health = fleet_health(router)
    if not health:
        return ""
    lines = []
    state = health.get("state")
    if state is not None:
        lines += [
            "# HELP tierrouter_state_up 1 when the shared state (Redis) answers, 0 on local state.",
            "# TYPE tierrouter_state_up gauge",
            f"tierrouter_state_up {int(state['ok'])}",
            "# HELP tierrouter_state_outages_total Times the shared state became unreachable.",
            "# TYPE tierrouter_state_outages_total counter",
            f"tierrouter_state_outages_total {state['outages']}",
        ]
    store = health.get("store")
    if store is not None:
        lines += [
            "# HELP tierrouter_store_up 1 when log writes reach PostgreSQL, 0 while spooling.",
            "# TYPE tierrouter_store_up gauge",
            f"tierrouter_store_up {int(store['ok'])}",
            "# HELP tierrouter_store_spooled Log entries waiting in the local spool.",
            "# TYPE tierrouter_store_spooled gauge",
            f"tierrouter_store_spooled {store['spooled']}",
        ]
    return "\n".join(lines) + "\n"
