"""Build a :class:`~router.calls.engine.CallEngine` from :class:`~router.settings.RouterSettings`.

The one place where the catalog, keys, routing policy, L2, the policy layer and
the decision log are put together; ``Router`` calls it on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from router.errors import ConfigError

if TYPE_CHECKING:
    from router.calls.engine import CallEngine
    from router.log.config import LogConfig
    from router.routing.catalog import Catalog
    from router.settings import RouterSettings
    from router.types import Decision

__all__ = ["build_engine"]


def build_engine(
    settings: RouterSettings,
    classify: Callable[..., Decision],
    log: tuple[Any, LogConfig] | None = None,
) -> CallEngine:
    """The engine for ``settings``; ``log`` is the open decision log and its settings."""
    from router.calls.engine import CallEngine
    from router.decision.l2 import L2Classifier
    from router.policy.engine import build_policy
    from router.routing.catalog import default_catalog
    from router.routing.planning import RoutingPolicy

    catalog = settings.catalog or default_catalog()
    if settings.providers or settings.models:
        catalog = catalog.with_overrides(settings.providers, settings.models)
    for rule in settings.simple_rules:
        _check_model_ref(catalog, rule.model, "rules")
    if settings.baseline_model:
        _check_model_ref(catalog, settings.baseline_model, "baseline_model")
    defaults = catalog.defaults
    policy = RoutingPolicy(
        profile=settings.profile,
        strategy=settings.routing_strategy,
        exclude_models=tuple(settings.exclude_models),
        baseline_model=settings.baseline_model,
        context_margin=float(
            settings.context_margin
            if settings.context_margin is not None
            else defaults.get("context_margin", 0.1)
        ),
        max_candidates=int(settings.max_candidates or defaults.get("max_candidates", 4)),
    )
    recorder = None
    if log is not None:
        from router.log.recorder import Recorder

        base = policy.baseline_model or defaults.get("baseline_model")
        recorder = Recorder(
            log[0],
            log[1],
            redact=settings.redact,
            baseline=catalog.find(str(base)) if base else None,
        )
    l2 = settings.l2_config
    return CallEngine(
        classify=classify,
        catalog=catalog,
        policy=policy,
        keys=settings.secret_keys,
        fallback=settings.fallback_policy,
        cooldowns=settings.cooldown_store,
        timeout=settings.timeout,
        http_client=settings.http_client,
        transport=settings.transport,
        l2=L2Classifier(l2) if l2 is not None else None,
        env=settings.env,
        guard=build_policy(settings, catalog),
        recorder=recorder,
        client_factory=settings.client_factory,
    )


def _check_model_ref(catalog: Catalog, ref: str, field: str) -> None:
    provider, sep, _ = ref.partition("/")
    if catalog.find(ref) is None and not (sep and provider in catalog.providers):
        raise ConfigError(f"{field}: model {ref!r} is not in the catalog")
