"""The public entry point: ``Router``, put together from one :class:`RouterSettings`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from router.decision.classifier import Classifier
from router.decision.features import FeatureExtractor
from router.secrets import Secret
from router.settings import ClientFactory, LogSetting, ModelChoice, RouterSettings
from router.settings import check_option_names as _check_option_names
from router.types import Decision

if TYPE_CHECKING:
    import httpx

    from router.calls._sync_bridge import SyncBridge, SyncChatStream
    from router.calls.engine import CallEngine, ChatResponse, ChatStream
    from router.calls.fallback import CooldownStore, FallbackPolicy
    from router.calls.responses import Responses
    from router.decision.l2 import L2Config
    from router.decision.user_layer import UserLayer
    from router.log.config import LogConfig
    from router.log.store import DecisionLog
    from router.policy.api import FirewallRules, RoutingRules
    from router.policy.firewall import FirewallRule
    from router.policy.rules import RoutingRule
    from router.policy.store import PolicyStore
    from router.routing.catalog import Catalog
    from router.routing.planning import RoutePlan, Rule
    from router.routing.strategies import Strategy

__all__ = ["Router"]


class Router:
    """Decides task, language and tier for a prompt, and routes it.

    Usage::

        router = Router()
        decision = router.classify("Prove that the square root of 2 is irrational")
        decision.tier, decision.task, decision.reasons

    Calling models with your own keys (``chat``, ``achat``, ``chat_stream``,
    ``achat_stream``, ``responses.create``, ``route``; see docs/byok.md)::

        router = Router(keys={"openai": "sk-...", "anthropic": "sk-ant-..."})
        reply = router.chat([{"role": "user", "content": "Hi"}])  # model="auto"
        reply.content, reply.model_used, reply.decision.savings

    Every keyword argument is a field of :class:`~router.settings.RouterSettings`,
    where each is described; ``Router.from_settings(settings)`` takes one whole and
    ``Router.from_config(path)`` reads one from YAML. A misspelt name raises
    :class:`~router.errors.UnknownOptionError` listing the known ones.
    """

    def __new__(cls, *args: Any, **options: Any) -> Router:
        # Python's own TypeError for an unknown keyword names neither the known
        # options nor the likely one; this runs first and does both.
        if cls.__init__ is Router.__init__:
            _check_option_names(options, f"{cls.__name__}()")
        return super().__new__(cls)

    # The parameters are RouterSettings' fields, in order and with the same defaults
    # (tests/test_settings.py checks): listed here so type checkers and editors see them.
    def __init__(
        self,
        *,
        model: ModelChoice = None,
        confidence_threshold: float | None = None,
        keywords_dir: str | Path | None = None,
        scoring_path: str | Path | None = None,
        profile: str = "auto",
        strategy: str | Strategy | None = None,
        rules: Sequence[Mapping[str, Any] | Rule] = (),
        exclude_models: Sequence[str] = (),
        baseline_model: str | None = None,
        catalog: Catalog | None = None,
        providers: Mapping[str, Mapping[str, Any]] | None = None,
        models: Mapping[str, Mapping[str, Any]] | None = None,
        context_margin: float | None = None,
        max_candidates: int | None = None,
        keys: Mapping[str, str | Secret | None] | None = None,
        timeout: float = 60.0,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        client_factory: ClientFactory | None = None,
        l2: L2Config | Mapping[str, Any] | str | None = None,
        fallback: FallbackPolicy | Mapping[str, Any] | None = None,
        cooldown_store: CooldownStore | None = None,
        env: Mapping[str, str] | None = None,
        log: LogSetting = None,
        redact: Callable[[str], str] | None = None,
        policy_db: str | Path | None = None,
        policy_store: PolicyStore | None = None,
        routing_rules: Sequence[Mapping[str, Any] | RoutingRule] = (),
        firewall_rules: Sequence[Mapping[str, Any] | FirewallRule] = (),
        store: str | None = None,
        state: str | None = None,
    ) -> None:
        options = dict(locals())
        del options["self"]
        for name in ("providers", "models", "keys"):  # None reads better in a signature
            if options[name] is None:
                options[name] = {}
        self._setup(RouterSettings(**options))

    @classmethod
    def from_settings(cls, settings: RouterSettings) -> Router:
        """A router for ``settings`` as they are."""
        router = cls.__new__(cls)
        router._setup(settings)
        return router

    @classmethod
    def from_config(
        cls, path: str | Path, *, env: Mapping[str, str] | None = None, **overrides: Any
    ) -> Router:
        """A router configured from a YAML file (see ``examples/config.yaml``).

        ``env`` is where ``${VAR}`` in the file and the providers' keys are read
        (default ``os.environ``). Other keyword arguments replace the file's
        settings (e.g. ``transport=`` in tests); unknown names raise
        :class:`~router.errors.UnknownOptionError`.
        """
        from router.config import load_config

        _check_option_names(overrides, "Router.from_config()")
        settings = load_config(path, env=env)
        if env is not None:
            overrides.setdefault("env", env)
        return cls.from_settings(settings.replace(**overrides) if overrides else settings)

    def _setup(self, settings: RouterSettings) -> None:
        self._champion: Any = None
        self._settings_lock = threading.Lock()
        settings = _with_fleet(settings)
        self._settings = settings
        self._classifier = _classifier(settings, settings.model)
        self._engine_cache: CallEngine | None = None
        self._bridge: SyncBridge | None = None
        # Opened now so that a corrupted log file fails here, not in the middle of a call.
        self._log: tuple[Any, LogConfig] | None = None
        self._owns_log = False
        if settings.log is not None or settings.redact is not None or _log_env():
            from router.log.config import open_log

            self._log = open_log(settings.log, settings.redact)
            self._owns_log = self._log is not None and self._log[0] is not settings.log
        if settings.profile != "auto" or settings.strategy is not None or settings.wants_policy:
            self._engine()  # a model, rule or store that cannot be used fails at construction
        if settings.store is not None and settings.model is None:
            # Fleet mode: serve the store's champion, and follow promotions (unless pinned).
            from router.log.pg_registry import ChampionWatcher

            self._champion = ChampionWatcher(self, settings.store)

    # ---- the decision ----------------------------------------------------------------

    @property
    def settings(self) -> RouterSettings:
        """What this router was built from."""
        return self._settings

    def reload_model(self, model: ModelChoice = None, *, bundled: bool = False) -> str | None:
        """Load the decision model again (after ``tierrouter models promote``/``rollback``).

        ``model`` as in the constructor; by default the one given at construction
        (``None``: the promoted model of the registry, else the bundled one);
        ``bundled=True`` forgets a model given earlier and goes back to that default.
        In fleet mode (``store``) the default is the store's champion, else the
        bundled model: this machine's file registry is not consulted.
        Calls in flight finish with the old model. Returns the new model version.
        """
        # The champion watcher's thread calls this too: one swap of settings at a time.
        with self._settings_lock:
            if model is not None or bundled:
                self._settings = self._settings.replace(model=model)
            self._classifier = _classifier(self._settings, self._settings.model)
            return self._classifier.model.version if self._classifier.model else None

    @property
    def classifier(self) -> Classifier:
        """The decision engine: features, model and rules."""
        return self._classifier

    @property
    def extractor(self) -> FeatureExtractor:
        """The feature extractor, shared with training so both read prompts alike."""
        return self._classifier.extractor

    def classify(
        self,
        messages: Any,
        *,
        tools: Any = None,
        response_format: Any = None,
    ) -> Decision:
        """Decide task, tier and language for a string or an OpenAI-style message list.

        Raises:
            RouterInputError: when ``messages`` cannot be read; the message names the problem.
        """
        # Read through the attribute: reload_model swaps the classifier under calls.
        return self._classifier.classify(messages, tools=tools, response_format=response_format)

    # ---- the call engine -------------------------------------------------------------

    def _engine(self) -> CallEngine:
        if self._engine_cache is None:
            from router.calls.assembly import build_engine

            self._engine_cache = build_engine(self._settings, self.classify, self._log)
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
        return RoutingRules(self._policy_store(), catalog_validator(engine.catalog))

    @property
    def firewall(self) -> FirewallRules:
        """Firewall rules: ``create``, ``list``, ``retrieve``, ``update``, ``delete``, ``test``."""
        from router.policy.api import FirewallRules

        return FirewallRules(self._policy_store())

    def _policy_store(self) -> PolicyStore:
        from router.policy.engine import PolicyEngine

        guard = self._engine().guard
        assert isinstance(guard, PolicyEngine)  # build_engine always gives one
        return guard.store

    @property
    def fleet(self) -> dict[str, str | None]:
        """The fleet-mode URLs this router uses: ``store`` (PostgreSQL), ``state`` (Redis)."""
        return {"store": self._settings.store, "state": self._settings.state}

    @property
    def cooldowns(self) -> CooldownStore:
        return self._engine().cooldowns

    @property
    def bridge(self) -> SyncBridge:
        if self._bridge is None:
            from router.calls._sync_bridge import SyncBridge

            self._bridge = SyncBridge()
        return self._bridge

    # ---- routing without calling -----------------------------------------------------

    def route(self, messages: Any, *, model: str | None = "auto", **params: Any) -> RoutePlan:
        """The decision and the ranked chain of models, without calling any (no L2)."""
        return self._engine().route(messages, model, **params)

    async def aroute(
        self, messages: Any, *, model: str | None = "auto", **params: Any
    ) -> RoutePlan:
        """Like :meth:`route`, refining an unsure decision with L2 when configured."""
        return await self._engine().aroute(messages, model, **params)

    # ---- calls -----------------------------------------------------------------------

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
        from router.calls._sync_bridge import SyncChatStream

        stream = self.bridge.run(self._engine().achat_stream(messages, model, **params))
        return SyncChatStream(stream, self.bridge)

    @property
    def responses(self) -> Responses:
        """``router.responses.create(model=, input=, stream=)`` in the Responses API shape."""
        from router.calls.responses import Responses

        return Responses(self)

    # ---- decision log and feedback (router/log) ----------------------------------------

    @property
    def decision_log(self) -> DecisionLog | None:
        """Where routed calls are recorded (``Router(log=...)``), or None when logging is off."""
        return self._log[0] if self._log is not None else None

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
        from router.errors import DecisionLogError
        from router.log.store import Feedback

        log = self.decision_log
        if log is None:
            raise DecisionLogError("feedback needs the decision log: construct Router(log=True)")
        log.attach_feedback(
            Feedback(decision_id, rating, verdict, task, tier, source="user", comment=comment)
        )

    def _use_client_factory(self, factory: ClientFactory) -> None:
        """The proxy's app gives a router it was handed its own connection pool.

        Routers the proxy builds itself get ``client_factory`` in their settings;
        the call engine still prefers the caller's ``http_client`` or ``transport``.
        """
        with self._settings_lock:
            self._settings = self._settings.replace(client_factory=factory)
        if self._engine_cache is not None:
            self._engine_cache.client_factory = factory

    # ---- lifecycle -------------------------------------------------------------------

    def close(self) -> None:
        """Close HTTP connections held by the sync API; flush the decision log."""
        if self._champion is not None:  # fleet mode: stop following the store's champion
            self._champion.close()
        if self._log is not None:  # queued records reach the file
            try:
                if self._owns_log:
                    self._log[0].close()
                else:
                    self._log[0].flush()
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

    def __repr__(self) -> str:
        model = self._classifier.model.version if self._classifier.model else "rules"
        return f"Router(model={model!r}, profile={self._settings.profile!r})"

    def __enter__(self) -> Router:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Router:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _with_fleet(settings: RouterSettings) -> RouterSettings:
    """Fleet mode (docs/fleet.md): the store and state replace the local defaults.

    ``store`` holds the decision log (unless ``log`` names another place) and the
    rules (unless ``policy_db`` or ``policy_store`` is given); ``state`` holds the
    cooldowns (unless ``cooldown_store`` is given).
    """
    changes: dict[str, Any] = {}
    store = settings.store
    if store is not None:
        if settings.policy_db is None and settings.policy_store is None:
            changes["policy_db"] = store
        log = settings.log
        if log is None or log is True:
            changes["log"] = store
        elif isinstance(log, Mapping) and not log.get("path") and log.get("enabled", True):
            changes["log"] = {**log, "path": store}
    if settings.state is not None and settings.cooldown_store is None:
        from router.state.cooldowns import RedisCooldownStore
        from router.state.link import link_for

        changes["cooldown_store"] = RedisCooldownStore(link_for(settings.state))
    return settings.replace(**changes) if changes else settings


def _classifier(settings: RouterSettings, model: ModelChoice) -> Classifier:
    # In a fleet the store's champion (ChampionWatcher) is the only registry: a model
    # promoted in this machine's file registry would make this instance differ.
    classifier = Classifier(
        model=model if settings.store is not None else _promoted_or(model),
        confidence_threshold=settings.confidence_threshold,
        keywords_dir=settings.keywords_dir,
        scoring_path=settings.scoring_path,
    )
    if model is None:
        classifier.user_layer = _promoted_layer(classifier)
    return classifier


def _promoted_layer(classifier: Classifier) -> UserLayer | None:
    """The promoted user layer, when it was fitted on the model this router decides with.

    A layer corrects one model's scores; on another model (say, after an upgrade
    changed the bundled one) its correction would be wrong, so it is skipped with a
    warning until ``tierrouter train --logs`` fits a new one.
    """
    import warnings

    from router.decision.user_layer import compatible
    from router.log.registry import promoted_layer

    layer = promoted_layer()
    if layer is None:
        return None
    version = classifier.model.version if classifier.model else None
    if not compatible(layer, version):
        warnings.warn(
            f"user layer {layer.name} was fitted on model {layer.base_version}, this router "
            f"decides with {version}: deciding without it; `tierrouter train --logs` fits a "
            "new one",
            RuntimeWarning,
            stacklevel=4,
        )
        return None
    return layer


def _promoted_or(model: ModelChoice) -> ModelChoice:
    """A model promoted in the registry (router/log/registry.py) replaces the bundled one.

    Only when ``model`` is None (the default); an unusable promoted model warns
    and leaves the bundled one in place.
    """
    if model is not None:
        return model
    from router.log.registry import promoted_artifact

    return promoted_artifact()


def _log_env() -> bool:
    import os

    return bool(os.environ.get("TIERROUTER_LOG"))
