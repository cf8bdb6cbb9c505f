"""The calling half of ``Router``: chat, streaming, responses and routing with the user's keys.

Kept apart from ``router/router.py`` so classification stays importable
without httpx or yaml; everything here loads on the first call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from router.errors import ConfigError
from router.secrets import Secret, as_secret

if TYPE_CHECKING:
    import httpx

    from router.calls._sync_bridge import SyncBridge
    from router.calls.engine import CallEngine, ChatResponse, ChatStream
    from router.calls.fallback import CooldownStore, FallbackPolicy
    from router.calls.responses import Responses
    from router.decision.l2 import L2Config
    from router.log.store import DecisionLog
    from router.policy.api import FirewallRules, RoutingRules
    from router.policy.store import PolicyStore
    from router.routing.catalog import Catalog
    from router.routing.planning import RoutePlan, Rule
    from router.routing.strategies import Strategy

__all__ = ["ByokMixin", "SyncChatStream"]


class SyncChatStream:
    """A :class:`~router.calls.engine.ChatStream` driven from synchronous code."""

    def __init__(self, stream: ChatStream, bridge: SyncBridge) -> None:
        self._stream = stream
        self._iter = bridge.iterate(stream)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self._iter

    def __next__(self) -> dict[str, Any]:
        return next(self._iter)

    def close(self) -> None:
        close = getattr(self._iter, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> SyncChatStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        # decision, model_used, usage, cost, attempts: read through to the async stream.
        return getattr(self._stream, name)


class ByokMixin:
    """Adds the call API to ``Router``; ``_init_byok`` stores settings, the engine builds lazily."""

    classify: Any

    def _init_byok(
        self,
        *,
        keys: Mapping[str, str | Secret | None] | None = None,
        profile: str = "auto",
        strategy: str | Strategy | None = None,
        rules: Sequence[Mapping[str, Any] | Rule] = (),
        exclude_models: Sequence[str] = (),
        baseline_model: str | None = None,
        catalog: Catalog | None = None,
        providers: Mapping[str, Mapping[str, Any]] | None = None,
        models: Mapping[str, Mapping[str, Any]] | None = None,
        timeout: float = 60.0,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        l2: L2Config | Mapping[str, Any] | str | None = None,
        fallback: FallbackPolicy | None = None,
        cooldown_store: CooldownStore | None = None,
        context_margin: float | None = None,
        max_candidates: int | None = None,
        env: Mapping[str, str] | None = None,
        log: Any = None,
        redact: Callable[[str], str] | None = None,
        policy_db: str | Path | None = None,
        policy_store: PolicyStore | None = None,
        routing_rules: Sequence[Any] = (),
        firewall_rules: Sequence[Any] = (),
        store: str | None = None,
        state: str | None = None,
    ) -> None:
        # Fleet mode (docs/fleet.md): shared store and state replace the local defaults.
        self._champion: Any = None
        if store is not None:
            log, policy_db = self._use_store(store, log, policy_db, policy_store)
        if state is not None and cooldown_store is None:
            from router.db.urls import require_redis
            from router.state.cooldowns import RedisCooldownStore
            from router.state.link import link_for

            cooldown_store = RedisCooldownStore(link_for(require_redis(state, "state")))
        self._fleet = {"store": store, "state": state}
        secrets: dict[str, Secret] = {}
        for name, value in (keys or {}).items():
            if value is not None and not isinstance(value, (str, Secret)):
                raise ConfigError(f"keys[{name!r}] must be a string, got {type(value).__name__}")
            secret = as_secret(value)
            if secret:
                secrets[str(name)] = secret
        self._byok_settings: dict[str, Any] = {
            "keys": secrets,
            "profile": profile,
            "strategy": strategy,
            "rules": tuple(rules),
            "exclude_models": tuple(exclude_models),
            "baseline_model": baseline_model,
            "catalog": catalog,
            "providers": providers,
            "models": models,
            "timeout": timeout,
            "http_client": http_client,
            "transport": transport,
            "l2": l2,
            "fallback": fallback,
            "cooldown_store": cooldown_store,
            "context_margin": context_margin,
            "max_candidates": max_candidates,
            "env": env,
            # Policy (router/policy): where rules persist, and config seeds.
            "policy_db": policy_db,
            "policy_store": policy_store,
            "routing_rules": tuple(routing_rules),
            "firewall_rules": tuple(firewall_rules),
        }
        self._engine_cache: CallEngine | None = None
        self._bridge: SyncBridge | None = None
        # Decision log hook (router/log): opened now so a corrupted file fails here, not mid-call.
        self._log_setup: Any = None
        self._owns_log = False
        if log is not None or redact is not None or _log_env():
            from router.log.config import open_log

            self._log_setup = open_log(log, redact)
            self._owns_log = self._log_setup is not None and self._log_setup[0] is not log
        self._redact = redact
        policy = routing_rules or firewall_rules or policy_db is not None  # policy hook
        if profile != "auto" or strategy is not None or rules or policy:
            self._engine()  # validate eagerly: a typo should fail at construction

    def _use_store(
        self, store: str, log: Any, policy_db: Any, policy_store: Any
    ) -> tuple[Any, Any]:
        """``store: postgresql://...``: the log, the rules and the champion live there."""
        from collections.abc import Mapping as _Mapping

        from router.db.urls import require_postgres

        require_postgres(store, "store")
        if policy_db is None and policy_store is None:
            policy_db = store
        if log is None or log is True:
            log = store
        elif isinstance(log, _Mapping) and not log.get("path") and log.get("enabled", True):
            log = {**log, "path": store}
        if getattr(self, "_model_arg", False) is None:  # the caller did not pin a model
            from router.log.pg_registry import ChampionWatcher

            self._champion = ChampionWatcher(self, store)
        return log, policy_db

    # ---- construction ------------------------------------------------------------

    @classmethod
    def from_config(cls, path: str | Path, **overrides: Any) -> Any:
        """A router configured from a YAML file (see ``examples/config.yaml``).

        Keyword arguments override the file's settings (e.g. ``transport=`` in tests).
        """
        from router.config import load_config

        config = load_config(path, env=overrides.get("env"))
        return cls(**{**config.router_kwargs(), **overrides})

    def _engine(self) -> CallEngine:
        if self._engine_cache is None:
            self._engine_cache = _build_engine(self.classify, self._byok_settings)
            if self._log_setup is not None:  # decision log hook
                from router.log.recorder import Recorder

                engine = self._engine_cache
                base = engine.policy.baseline_model or engine.catalog.defaults.get("baseline_model")
                engine.recorder = Recorder(
                    self._log_setup[0],
                    self._log_setup[1],
                    redact=self._redact,
                    baseline=engine.catalog.find(str(base)) if base else None,
                )
        return self._engine_cache

    @property
    def catalog(self) -> Catalog:
        """The model catalog in use (bundled data plus config overrides)."""
        return self._engine().catalog

    @property
    def rules(self) -> RoutingRules:
        """Routing rules: ``create``, ``list``, ``retrieve``, ``update``, ``delete``.

        See docs/policy.md; ``Router(policy_db=...)`` keeps them in a SQLite file.
        """
        from router.policy.api import RoutingRules, catalog_validator

        engine = self._engine()
        assert engine.policy_engine is not None
        return RoutingRules(engine.policy_engine.store, catalog_validator(engine.catalog))

    @property
    def firewall(self) -> FirewallRules:
        """Firewall rules: ``create``, ``list``, ``retrieve``, ``update``, ``delete``, ``test``."""
        from router.policy.api import FirewallRules

        engine = self._engine()
        assert engine.policy_engine is not None
        return FirewallRules(engine.policy_engine.store)

    @property
    def fleet(self) -> dict[str, str | None]:
        """The fleet-mode URLs this router uses: ``store`` (PostgreSQL), ``state`` (Redis)."""
        return dict(self._fleet)

    @property
    def cooldowns(self) -> CooldownStore:
        return self._engine().cooldowns

    @property
    def bridge(self) -> SyncBridge:
        if self._bridge is None:
            from router.calls._sync_bridge import SyncBridge

            self._bridge = SyncBridge()
        return self._bridge

    # ---- routing without calling -------------------------------------------------

    def route(self, messages: Any, *, model: str | None = "auto", **params: Any) -> RoutePlan:
        """The decision and the ranked chain of models, without calling any (no L2)."""
        return self._engine().route(messages, model, **params)

    async def aroute(
        self, messages: Any, *, model: str | None = "auto", **params: Any
    ) -> RoutePlan:
        """Like :meth:`route`, refining an unsure decision with L2 when configured."""
        return await self._engine().aroute(messages, model, **params)

    # ---- calls -------------------------------------------------------------------

    async def achat(
        self, messages: Any, *, model: str | None = "auto", **params: Any
    ) -> ChatResponse:
        """Route and call; returns an OpenAI-shaped completion with routing facts.

        ``params`` pass through to the provider: ``tools``, ``tool_choice``,
        ``response_format``, ``max_tokens``, ``temperature``, ``stop``, ...

        Raises:
            APIError: the provider's error (400/401/403/404) or, after every
                candidate failed, the last one; ``attempts`` lists each try.
            NoCandidateError: no available model can serve the request.
        """
        return await self._engine().achat(messages, model, **params)

    def chat(self, messages: Any, *, model: str | None = "auto", **params: Any) -> ChatResponse:
        """Synchronous :meth:`achat`."""
        return self.bridge.run(self._engine().achat(messages, model, **params))

    async def achat_stream(
        self, messages: Any, *, model: str | None = "auto", **params: Any
    ) -> ChatStream:
        """Route and stream OpenAI ``chat.completion.chunk`` dicts (``async for``).

        Fails over to the next model while nothing has been streamed; after
        that a failure raises APIError type ``stream_interrupted``.
        """
        return await self._engine().achat_stream(messages, model, **params)

    def chat_stream(
        self, messages: Any, *, model: str | None = "auto", **params: Any
    ) -> SyncChatStream:
        """Synchronous :meth:`achat_stream`: iterate with ``for``."""
        stream = self.bridge.run(self._engine().achat_stream(messages, model, **params))
        return SyncChatStream(stream, self.bridge)

    @property
    def responses(self) -> Responses:
        """``router.responses.create(model=, input=, stream=)`` in the Responses API shape."""
        from router.calls.responses import Responses

        return Responses(self)

    # ---- decision log and feedback (router/log) -------------------------------------

    @property
    def decision_log(self) -> DecisionLog | None:
        """Where routed calls are recorded (``Router(log=...)``), or None when logging is off."""
        return self._log_setup[0] if self._log_setup is not None else None

    def feedback(
        self,
        decision_id: str,
        *,
        rating: float | None = None,
        verdict: str | None = None,
        task: str | None = None,
        tier: str | None = None,
        comment: str | None = None,
    ) -> None:
        """Attach feedback to a logged decision (``reply.decision.id``).

        ``verdict`` is ``"needed_stronger"`` or ``"cheaper_ok"``; ``task``/``tier``
        correct the decision; ``rating`` is 1..5. See docs/retraining.md.

        Raises:
            DecisionLogError: logging is off, the id is not in the log, or a value is invalid.
        """
        from router.log.store import DecisionLogError, Feedback

        log = self.decision_log
        if log is None:
            raise DecisionLogError("feedback needs the decision log: construct Router(log=True)")
        log.attach_feedback(
            Feedback(decision_id, rating, verdict, task, tier, source="user", comment=comment)
        )

    def _use_client_factory(self, factory: Callable[[float], httpx.AsyncClient]) -> None:
        """Proxy hook: upstream calls go through clients made by ``factory(timeout)``.

        The call engine still prefers the caller's own ``http_client`` or ``transport``
        when the router was given one.
        """
        self._engine().client_factory = factory

    # ---- lifecycle ---------------------------------------------------------------

    def close(self) -> None:
        """Close HTTP connections held by the sync API."""
        if self._champion is not None:  # fleet mode: stop following the store's champion
            self._champion.close()
        if self._log_setup is not None:  # decision log hook: queued records reach the file
            try:
                if self._owns_log:
                    self._log_setup[0].close()
                else:
                    self._log_setup[0].flush()
            except Exception as exc:  # a broken log must not break shutdown either
                import logging

                logging.getLogger("tierrouter.log").warning("decision log: flush failed: %s", exc)
        if self._bridge is not None:
            engine = self._engine_cache
            self._bridge.close(engine.aclose() if engine is not None else None)
            self._bridge = None

    async def aclose(self) -> None:
        """Close HTTP connections the async API holds on the running loop."""
        if self._engine_cache is not None:
            await self._engine_cache.aclose()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _build_engine(classify: Any, s: Mapping[str, Any]) -> CallEngine:
    from router.calls.engine import CallEngine
    from router.decision.l2 import L2Classifier, L2Config
    from router.routing.catalog import default_catalog
    from router.routing.planning import RoutingPolicy, Rule
    from router.routing.strategies import Strategy, load_profiles

    catalog = s["catalog"] or default_catalog()
    if s["providers"] or s["models"]:
        providers = {
            k: {f: v for f, v in p.items() if f != "key"} for k, p in (s["providers"] or {}).items()
        }
        catalog = catalog.with_overrides(providers, s["models"])
    keys = dict(s["keys"])
    for name, p in (s["providers"] or {}).items():
        secret = as_secret(p.get("key"))
        if secret and name not in keys:
            keys[name] = secret
    if s["profile"] not in load_profiles():
        raise ConfigError(f"profile {s['profile']!r} is not one of {', '.join(load_profiles())}")
    rules = tuple(
        r if isinstance(r, Rule) else Rule.from_mapping(r, where=f"rules[{i}]")
        for i, r in enumerate(s["rules"])
    )
    for rule in rules:
        _check_model_ref(catalog, rule.model, "rules")
    # Policy hook: the simple `rules` become routing rules (same order, same
    # meaning) run by router/policy/engine.py, so planning gets none of its own.
    legacy_rules, rules = rules, ()
    if s["baseline_model"]:
        _check_model_ref(catalog, s["baseline_model"], "baseline_model")
    defaults = catalog.defaults
    policy = RoutingPolicy(
        profile=s["profile"],
        strategy=Strategy.parse(s["strategy"]) if s["strategy"] is not None else None,
        rules=rules,
        exclude_models=s["exclude_models"],
        baseline_model=s["baseline_model"],
        context_margin=float(
            s["context_margin"]
            if s["context_margin"] is not None
            else defaults.get("context_margin", 0.1)
        ),
        max_candidates=int(s["max_candidates"] or defaults.get("max_candidates", 4)),
    )
    l2 = s["l2"]
    if isinstance(l2, str):
        l2 = L2Config(model=l2)
    elif isinstance(l2, Mapping):
        l2 = L2Config(**l2)
    engine = CallEngine(
        classify=classify,
        catalog=catalog,
        policy=policy,
        keys=keys,
        fallback=s["fallback"],
        cooldowns=s["cooldown_store"],
        timeout=float(s["timeout"]),
        http_client=s["http_client"],
        transport=s["transport"],
        l2=L2Classifier(l2) if l2 is not None else None,
        env=s["env"],
    )
    from router.policy.engine import attach_policy

    attach_policy(engine, legacy_rules, s)  # policy hook: rules store, seeds, engine
    return engine


def _log_env() -> bool:
    import os

    return bool(os.environ.get("TIERROUTER_LOG"))


def _check_model_ref(catalog: Catalog, ref: str, field: str) -> None:
    provider, sep, _ = ref.partition("/")
    if catalog.find(ref) is None and not (sep and provider in catalog.providers):
        raise ConfigError(f"{field}: model {ref!r} is not in the catalog")
