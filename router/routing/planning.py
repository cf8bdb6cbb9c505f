"""Turn a classified request into a ranked chain of models to call.

Steps: parse the model string, pick the profile, drop models the user cannot
or will not call (no key, excluded, context too small, missing tools/vision/
JSON support), apply custom rules, rank with the strategy, price the result.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from router._ids import random_hex
from router.errors import ConfigError, NoCandidateError
from router.routing.catalog import Catalog, ModelSpec
from router.routing.model_strings import ModelRequest, RequestKind, parse_model_string
from router.routing.strategies import Profile, Strategy, load_profiles, rank
from router.types import Decision, Task, Tier, replace_decision

__all__ = ["Needs", "RoutePlan", "RoutingPolicy", "Rule", "estimate_tokens", "plan_route"]


@dataclass(frozen=True, slots=True)
class Rule:
    """Send requests matching every given condition to ``model`` first."""

    model: str
    task: Task | None = None
    language: str | None = None
    tier: Tier | None = None

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], where: str = "rules") -> Rule:
        unknown = set(raw) - {"model", "task", "language", "tier"}
        if unknown:
            raise ConfigError(f"{where}: unknown rule field {sorted(unknown)[0]!r}")
        model = raw.get("model")
        if not isinstance(model, str) or not model:
            raise ConfigError(f"{where}.model: a rule needs the model to route to")
        try:
            task = Task(raw["task"]) if raw.get("task") is not None else None
        except ValueError:
            choices = ", ".join(t.value for t in Task)
            raise ConfigError(f"{where}.task: {raw['task']!r} is not one of {choices}") from None
        try:
            tier = Tier(str(raw["tier"]).upper()) if raw.get("tier") is not None else None
        except ValueError:
            raise ConfigError(f"{where}.tier: {raw['tier']!r} is not a tier") from None
        language = raw.get("language")
        if task is None and tier is None and language is None:
            raise ConfigError(f"{where}: a rule needs a task, language or tier condition")
        return cls(model=model, task=task, language=str(language) if language else None, tier=tier)

    def matches(self, decision: Decision) -> bool:
        return (
            (self.task is None or decision.task == self.task)
            and (self.language is None or decision.language == self.language)
            and (self.tier is None or decision.tier == self.tier)
        )

    def describe(self) -> str:
        conds = [
            f"{k}={v}"
            for k, v in (("task", self.task), ("language", self.language), ("tier", self.tier))
            if v is not None
        ]
        return f"{' '.join(conds)} -> {self.model}"


@dataclass(frozen=True, slots=True)
class Needs:
    """What the request demands of a model."""

    input_tokens: int
    output_tokens: int
    tools: bool = False
    vision: bool = False
    json: bool = False


@dataclass(frozen=True, slots=True)
class RoutingPolicy:
    """The router-wide routing settings (from the constructor or config)."""

    profile: str = "auto"
    strategy: Strategy | None = None
    # Models to put first when they fit. The router's own ``rules=`` never land here:
    # they run as routing rules (router/policy/engine.py), whose ``set_model`` action
    # sets this field on a copy of the policy for the request it matched.
    rules: tuple[Rule, ...] = ()
    exclude_models: tuple[str, ...] = ()
    baseline_model: str | None = None
    context_margin: float = 0.10
    max_candidates: int = 4


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """A decision plus the models to try, best first."""

    decision: Decision
    chain: tuple[ModelSpec, ...]
    request: ModelRequest
    profile: str
    strategy: Strategy | None
    needs: Needs

    @property
    def model(self) -> str:
        return self.chain[0].id


_WIDE = re.compile("[\u2e80-\U0010ffff]")


def estimate_tokens(messages: Any, tools: Any = None) -> int:
    """A cheap upper-ish token estimate of the whole request, for pricing and context fit."""
    text = (
        messages
        if isinstance(messages, str)
        else json.dumps(messages, ensure_ascii=False, default=str)
    )
    if tools:
        text += json.dumps(tools, ensure_ascii=False, default=str)
    # ASCII runs ~4 chars/token; CJK and other wide scripts nearer 1 char/token.
    # Counted in C: a character loop in Python cost ~50 ms per MB of prompt.
    wide = 0 if text.isascii() else len(_WIDE.findall(text))
    return (len(text) - wide) // 4 + wide + 1


def plan_route(
    decision: Decision,
    *,
    catalog: Catalog,
    policy: RoutingPolicy,
    is_available: Callable[[ModelSpec], bool],
    model: str | None,
    needs: Needs,
    pool: Sequence[ModelSpec] | None = None,
) -> RoutePlan:
    """Choose the chain for one request. Raises NoCandidateError naming why nothing fits.

    ``pool``: the catalog's models ``is_available`` accepts, in catalog order, when
    the caller already has them (``is_available`` is then not asked per model).
    """
    request = parse_model_string(model)
    profiles = load_profiles()
    if request.kind is RequestKind.PIN:
        assert request.model is not None
        pinned = _resolve(catalog, request.model)
        return _finish(decision, catalog, policy, (pinned,), request, "pin", None, needs, None)

    profile_name = request.profile or policy.profile
    if request.profile is None and policy.profile == "auto" and needs.tools:
        profile_name = "agentic"
    if profile_name not in profiles:
        raise ConfigError(f"profile {profile_name!r} is not one of {', '.join(sorted(profiles))}")
    profile = profiles[profile_name]
    strategy = request.strategy or policy.strategy or profile.strategy

    pool = tuple(m for m in catalog if is_available(m)) if pool is None else tuple(pool)
    if not pool:
        raise NoCandidateError(_no_keys_message(catalog), type="no_candidate")
    task = profile.task or decision.task
    ranking = _ranking(pool, catalog, policy, profile, needs, task, decision.tier, strategy)
    # What depends on this request's size and anchor is filtered per request, from
    # the cached order: a subset of a ranked list is that subset ranked.
    total = needs.input_tokens + needs.output_tokens
    anchor: ModelSpec | None = None
    if request.kind is RequestKind.ANCHORED:
        assert request.model is not None
        anchor = _resolve(catalog, request.model)
    if anchor is None:
        kept = [e for e in ranking.entries if e.budget is None or total <= e.budget]
    else:
        ceiling, anchor_id = anchor.blended_price(), anchor.id
        kept = [
            e
            for e in ranking.entries
            if (e.budget is None or total <= e.budget)
            and (e.price <= ceiling or e.model.id == anchor_id)
        ]
    if not kept:
        raise _no_candidate(pool, catalog, policy, profile, needs, profile_name)
    candidates = ranked = [e.model for e in kept]
    any_capable = any(e.capable for e in kept)
    warnings = list(decision.warnings)
    if not any_capable:
        warnings.append(
            f"no available model reaches quality {profile.min_quality} for "
            f"{task}/{decision.tier}; using the strongest available"
        )
    rule = _matching_rule(decision, policy, catalog, candidates, ranked)
    if rule is not None:
        first = _resolve(catalog, rule.model)
        ranked = [first, *[m for m in ranked if m.id != first.id]]
    chain = tuple(ranked[: max(1, policy.max_candidates)])
    return _finish(
        decision,
        catalog,
        policy,
        chain,
        request,
        profile_name,
        strategy,
        needs,
        rule.describe() if rule else None,
        tuple(warnings),
    )


@dataclass(frozen=True, slots=True)
class _Entry:
    model: ModelSpec
    capable: bool  # reaches the profile's quality floor
    budget: int | None  # input + output tokens that fit its context; None: no limit known
    price: float  # blended, for anchored requests' ceiling


@dataclass(frozen=True, slots=True)
class _Ranking:
    pool: tuple[ModelSpec, ...]  # held so the ids in the cache key stay unique
    entries: tuple[_Entry, ...]


# Filtering and ranking the catalog is most of planning's cost and depends only on
# the key below, not on the prompt: computed once per key. The key holds the id of
# every available model (the entry holds the models, so no id is reused while it
# lives): a key or catalog change, an ``allow`` filter or an override gives a new key.
# Cooldowns are not planning's business: run_chain orders the chain by them per call.
_RANKINGS: dict[tuple[Any, ...], _Ranking] = {}
_MAX_RANKINGS = 512


def _ranking(
    pool: tuple[ModelSpec, ...],
    catalog: Catalog,
    policy: RoutingPolicy,
    profile: Profile,
    needs: Needs,
    task: Task | str,
    tier: Tier,
    strategy: Strategy,
) -> _Ranking:
    key = (
        tuple(map(id, pool)),
        policy.exclude_models,
        policy.context_margin,
        profile,
        needs.tools,
        needs.vision,
        needs.json,
        task,
        tier,
        strategy,
    )
    found = _RANKINGS.get(key)
    if found is not None:
        return found
    # The context check is left out (budget=None below): it is per request.
    unsized = Needs(0, 0, needs.tools, needs.vision, needs.json)
    margin = 1.0 - policy.context_margin
    fit = [m for m in pool if _keep(m, catalog, policy, profile, unsized, {})]
    ranked, _ = rank(fit, task, tier, strategy, profile.min_quality)
    task_key, tier_rank = str(task), tier.rank
    entries = tuple(
        _Entry(
            model=m,
            capable=m.quality_cell(task_key, tier_rank) >= profile.min_quality,
            budget=int(m.context_window * margin) if m.context_window else None,
            price=m.blended_price(),
        )
        for m in ranked
    )
    if len(_RANKINGS) >= _MAX_RANKINGS:
        _RANKINGS.clear()
    result = _RANKINGS[key] = _Ranking(pool, entries)
    return result


def _no_candidate(
    pool: Sequence[ModelSpec],
    catalog: Catalog,
    policy: RoutingPolicy,
    profile: Profile,
    needs: Needs,
    profile_name: str,
) -> NoCandidateError:
    dropped: dict[str, str] = {}
    for m in pool:
        _keep(m, catalog, policy, profile, needs, dropped)
    why = "; ".join(f"{mid}: {reason}" for mid, reason in list(dropped.items())[:6])
    return NoCandidateError(
        f"no model can serve this request (profile {profile_name}): {why or 'none available'}",
        type="no_candidate",
    )


def _resolve(catalog: Catalog, ref: str) -> ModelSpec:
    found = catalog.find(ref)
    if found is not None:
        return found
    provider, sep, name = ref.partition("/")
    if sep and provider in catalog.providers:
        return catalog.resolve_pin(provider, name)
    return catalog.get(ref)  # raises, naming the ambiguity or the unknown model


def _keep(
    model: ModelSpec,
    catalog: Catalog,
    policy: RoutingPolicy,
    profile: Profile,
    needs: Needs,
    dropped: dict[str, str],
) -> bool:
    reason = None
    if policy.exclude_models and any(
        catalog.matches(model, pattern) for pattern in policy.exclude_models
    ):
        reason = "excluded"
    elif profile.only_free and not model.free:
        reason = "not free"
    elif (needs.tools or "tools" in profile.require) and "tools" not in model.capabilities:
        reason = "no tool calling"
    elif needs.vision and "vision" not in model.capabilities:
        reason = "no image input"
    elif needs.json and "json" not in model.capabilities:
        reason = "no JSON mode"
    elif model.context_window:
        budget = int(model.context_window * (1.0 - policy.context_margin))
        if needs.input_tokens + needs.output_tokens > budget:
            reason = (
                f"context {model.context_window} too small for ~{needs.input_tokens} "
                f"+ {needs.output_tokens} tokens"
            )
    if reason:
        dropped[model.id] = reason
    return reason is None


def _matching_rule(
    decision: Decision,
    policy: RoutingPolicy,
    catalog: Catalog,
    candidates: Sequence[ModelSpec],
    ranked: Sequence[ModelSpec],
) -> Rule | None:
    allowed = {m.id for m in candidates}
    for rule in policy.rules:
        if not rule.matches(decision):
            continue
        target = catalog.find(rule.model)
        # A rule's model still has to be callable and fit the request.
        if target is not None and target.id in allowed:
            return rule
    return None


def _finish(
    decision: Decision,
    catalog: Catalog,
    policy: RoutingPolicy,
    chain: tuple[ModelSpec, ...],
    request: ModelRequest,
    profile: str,
    strategy: Strategy | None,
    needs: Needs,
    rule: str | None,
    warnings: tuple[str, ...] | None = None,
) -> RoutePlan:
    chosen = chain[0]
    cost = chosen.cost(needs.input_tokens, needs.output_tokens)
    baseline_cost = None
    baseline_ref = policy.baseline_model or catalog.defaults.get("baseline_model")
    if baseline_ref:
        baseline = catalog.find(str(baseline_ref))
        if baseline is not None:
            baseline_cost = baseline.cost(needs.input_tokens, needs.output_tokens)
    savings = None if cost is None or baseline_cost is None else baseline_cost - cost
    routed = replace_decision(
        decision,
        warnings=decision.warnings if warnings is None else warnings,
        id=decision.id or f"rt-{random_hex(16)}",
        model=chosen.id,
        candidates=tuple(m.id for m in chain),
        estimated_cost=cost,
        baseline_cost=baseline_cost,
        savings=savings,
        rule=rule,
    )
    return RoutePlan(routed, chain, request, profile, strategy, needs)


def _no_keys_message(catalog: Catalog) -> str:
    envs = sorted({p.key_env for p in catalog.providers.values() if p.key_env and p.requires_key})
    return (
        "no provider has an API key: pass Router(keys={'openai': ...}) or set one of "
        + ", ".join(envs)
    )
