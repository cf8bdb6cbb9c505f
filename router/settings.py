"""``RouterSettings``: every option of a ``Router``, typed and written once.

``Router(...)``, ``Router.from_config(...)`` (through :func:`router.config.load_config`)
and the proxy all build one of these; the router then builds its classifier and
call engine from it. Values are checked and normalized here, so a typo or a bad
value fails when the settings are made, not on the first call:

    >>> from router import RouterSettings
    >>> settings = RouterSettings(profile="auto", timeout=5)
    >>> settings.replace(timeout=10).timeout
    10.0

Only the standard library is imported at module level: ``import router`` stays light.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Union, cast

from router.errors import ConfigError, UnknownOptionError
from router.secrets import Secret, as_secret

if TYPE_CHECKING:
    import httpx

    from router.calls.fallback import CooldownStore, FallbackPolicy
    from router.decision.artifact import ModelArtifact
    from router.decision.l2 import L2Config
    from router.log.config import LogConfig
    from router.log.store import DecisionLog
    from router.policy.firewall import FirewallRule
    from router.policy.rules import RoutingRule
    from router.policy.store import PolicyStore
    from router.routing.catalog import Catalog
    from router.routing.planning import Rule
    from router.routing.strategies import Strategy

__all__ = ["ClientFactory", "LogSetting", "ModelChoice", "RouterSettings"]

# None: the promoted model of the registry, else the bundled one; False: the rules
# only; a path: that artifact; or an artifact already loaded.
ModelChoice = Union["ModelArtifact", str, Path, bool, None]
# None/False: off (unless $TIERROUTER_LOG); True: the default file; a path; a mapping
# {enabled, path, store_prompts, ...}; a LogConfig; or a DecisionLog used as is.
LogSetting = Union[bool, str, Path, Mapping[str, Any], "LogConfig", "DecisionLog", None]
# timeout -> a new HTTP client; the proxy's makes clients over its own connection pool.
ClientFactory = Callable[[float], "httpx.AsyncClient"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class RouterSettings:
    """Everything a :class:`~router.Router` can be told. All fields are keyword-only.

    Decision:
        model: see :data:`ModelChoice`.
        confidence_threshold: model confidence under which the artifact's
            low-confidence policy (rules or a blend) decides instead.
        keywords_dir: a folder of ``<lang>.yaml`` keyword tables replacing the bundled ones.
        scoring_path: a ``scoring.yaml`` replacing the bundled rule weights.

    Routing (docs/byok.md):
        profile, strategy: how candidates are ranked (``"auto"``; cheapest/balanced/best).
        rules: simple ``{task|language|tier: ..., model: ...}`` rules, run as routing rules.
        exclude_models: model ids or globs never chosen.
        baseline_model: what savings are measured against.
        catalog, providers, models: the model catalog and overrides of its entries
            (a provider's ``key`` moves into ``keys``).
        context_margin, max_candidates: planning limits (catalog defaults when None).

    Calls:
        keys: provider name -> API key (else the providers' environment variables).
        timeout: seconds per provider call.
        http_client, transport: an httpx client or transport to call providers with.
        client_factory: makes the HTTP client of each event loop (the proxy's pool).
        l2: an :class:`~router.decision.l2.L2Config`, its mapping, or the L2 model id.
        fallback, cooldown_store: retries, cooldowns and where cooldowns are kept.
        env: the environment keys are read from (default ``os.environ``).

    Decision log (docs/retraining.md): ``log`` (:data:`LogSetting`), ``redact``.

    Policy (docs/policy.md): ``policy_db`` (SQLite file the rules persist in) or
    ``policy_store``; ``routing_rules`` and ``firewall_rules`` seed it.

    Fleet (docs/fleet.md): ``store`` (``postgresql://``: the decision log, the rules
    and the model registry whose champion every instance serves) and ``state``
    (``redis://``: cooldowns, rate limits and spend shared by every instance).
    """

    # ---- decision ----
    model: ModelChoice = None
    confidence_threshold: float | None = None
    keywords_dir: str | Path | None = None
    scoring_path: str | Path | None = None
    # ---- routing ----
    profile: str = "auto"
    strategy: str | Strategy | None = None
    rules: Sequence[Mapping[str, Any] | Rule] = ()
    exclude_models: Sequence[str] = ()
    baseline_model: str | None = None
    catalog: Catalog | None = None
    providers: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    models: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    context_margin: float | None = None
    max_candidates: int | None = None
    # ---- calls ----
    keys: Mapping[str, str | Secret | None] = dataclasses.field(default_factory=dict)
    timeout: float = 60.0
    http_client: httpx.AsyncClient | None = None
    transport: httpx.AsyncBaseTransport | None = None
    client_factory: ClientFactory | None = None
    l2: L2Config | Mapping[str, Any] | str | None = None
    fallback: FallbackPolicy | Mapping[str, Any] | None = None
    cooldown_store: CooldownStore | None = None
    env: Mapping[str, str] | None = None
    # ---- decision log ----
    log: LogSetting = None
    redact: Callable[[str], str] | None = None
    # ---- policy ----
    policy_db: str | Path | None = None
    policy_store: PolicyStore | None = None
    routing_rules: Sequence[Mapping[str, Any] | RoutingRule] = ()
    firewall_rules: Sequence[Mapping[str, Any] | FirewallRule] = ()
    # ---- fleet ----
    store: str | None = None
    state: str | None = None

    def __post_init__(self) -> None:
        keys = _secrets(self.keys)
        providers: dict[str, Mapping[str, Any]] = {}
        for name, spec in self.providers.items():
            if not isinstance(spec, Mapping):
                raise ConfigError(f"providers[{name!r}] must be a mapping of provider settings")
            # A key may sit with its provider; it never enters the catalog.
            secret = as_secret(spec.get("key"))
            if secret and name not in keys:
                keys[str(name)] = secret
            providers[str(name)] = MappingProxyType({k: v for k, v in spec.items() if k != "key"})
        set_ = object.__setattr__  # frozen: normalize once, here
        set_(self, "keys", MappingProxyType(keys))
        set_(self, "providers", MappingProxyType(providers))
        set_(self, "models", MappingProxyType({str(k): v for k, v in self.models.items()}))
        set_(self, "exclude_models", _strings(self.exclude_models, "exclude_models"))
        set_(self, "rules", _simple_rules(self.rules))
        set_(self, "routing_rules", tuple(self.routing_rules))
        set_(self, "firewall_rules", tuple(self.firewall_rules))
        set_(self, "timeout", _non_negative(self.timeout, "timeout"))
        if self.strategy is not None:
            from router.routing.strategies import Strategy

            set_(self, "strategy", Strategy.parse(self.strategy))
        if self.profile != "auto":
            from router.routing.strategies import load_profiles

            if self.profile not in load_profiles():
                choices = ", ".join(load_profiles())
                raise ConfigError(f"profile {self.profile!r} is not one of {choices}")
        set_(self, "l2", _l2(self.l2))
        if self.fallback is not None:
            # Checked now: a wrong policy would otherwise surface at the first failover.
            from router.calls.fallback import FallbackPolicy

            set_(self, "fallback", FallbackPolicy.coerce(self.fallback))
        if self.store is not None or self.state is not None:
            from router.db.urls import require_postgres, require_redis

            if self.store is not None:
                require_postgres(self.store, "store")
            if self.state is not None:
                require_redis(self.state, "state")

    # ---- typed views of the normalized fields -----------------------------------
    # __post_init__ replaced the loose inputs with these types; the casts record that.

    @property
    def secret_keys(self) -> Mapping[str, Secret]:
        return cast("Mapping[str, Secret]", self.keys)

    @property
    def routing_strategy(self) -> Strategy | None:
        return cast("Strategy | None", self.strategy)

    @property
    def simple_rules(self) -> tuple[Rule, ...]:
        return cast("tuple[Rule, ...]", self.rules)

    @property
    def fallback_policy(self) -> FallbackPolicy | None:
        return cast("FallbackPolicy | None", self.fallback)

    @property
    def l2_config(self) -> L2Config | None:
        return cast("L2Config | None", self.l2)

    @property
    def wants_policy(self) -> bool:
        """Whether rules or a rules store were configured (checked at construction)."""
        return bool(
            self.rules
            or self.routing_rules
            or self.firewall_rules
            or self.policy_db is not None
            or self.policy_store is not None
        )

    def replace(self, **changes: Any) -> RouterSettings:
        """A copy with ``changes``; unknown names raise :class:`UnknownOptionError`."""
        check_option_names(changes, "RouterSettings.replace()")
        return dataclasses.replace(self, **changes)


OPTION_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(RouterSettings))


def check_option_names(given: Mapping[str, Any] | Sequence[str], where: str) -> None:
    """Raise :class:`UnknownOptionError` naming each unknown option and the known ones."""
    unknown = [name for name in given if name not in OPTION_NAMES]
    if unknown:
        import difflib

        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, OPTION_NAMES, n=1)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise UnknownOptionError(
            f"{where} got unknown option(s) {', '.join(hints)}; "
            f"known options: {', '.join(OPTION_NAMES)}",
            names=tuple(unknown),
        )


def _secrets(keys: Mapping[str, str | Secret | None] | None) -> dict[str, Secret]:
    out: dict[str, Secret] = {}
    for name, value in (keys or {}).items():
        if value is not None and not isinstance(value, (str, Secret)):
            raise ConfigError(f"keys[{name!r}] must be a string, got {type(value).__name__}")
        secret = as_secret(value)
        if secret:
            out[str(name)] = secret
    return out


def _strings(values: Sequence[str], field: str) -> tuple[str, ...]:
    if isinstance(values, str) or not all(isinstance(v, str) for v in values):
        raise ConfigError(f"{field}: expected a list of strings")
    return tuple(values)


def _non_negative(value: float, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(f"{field}: must be a non-negative number, got {value!r}")
    return float(value)


def _simple_rules(rules: Sequence[Mapping[str, Any] | Rule]) -> tuple[Rule, ...]:
    if not rules:
        return ()
    from router.routing.planning import Rule

    return tuple(
        r if isinstance(r, Rule) else Rule.from_mapping(r, where=f"rules[{i}]")
        for i, r in enumerate(rules)
    )


def _l2(value: L2Config | Mapping[str, Any] | str | None) -> L2Config | None:
    if value is None:
        return None
    from router.decision.l2 import L2Config

    if isinstance(value, L2Config):
        return value
    if isinstance(value, str):
        return L2Config(model=value)
    try:
        return L2Config(**value)
    except TypeError:
        raise ConfigError("l2: known fields: model, threshold, timeout, cache_size") from None
