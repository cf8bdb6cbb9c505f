"""Route planning caches its filtered, ranked catalog: every input that changes the
answer must reach the next request at once, and a cached plan equals a fresh one."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from fake_providers import FakeProviders
from test_strategies import catalog_fixture, decision, plan  # noqa: F401 -- a fixture

from router import Router
from router.errors import NoCandidateError
from router.routing import planning
from router.routing.catalog import Catalog
from router.routing.planning import Needs, RoutePlan, RoutingPolicy, Rule
from router.routing.strategies import Strategy
from router.types import Decision, Task, Tier, replace_decision

HI = [{"role": "user", "content": "Say hello"}]
ALL = ("openai", "anthropic", "google")


def chain(p: RoutePlan) -> list[str]:
    return [m.id for m in p.chain]


def test_cooled_model_is_skipped_on_the_very_next_request(
    fake: FakeProviders, make_router: Callable[..., Router]
) -> None:
    router = make_router()
    assert router.chat(HI).model_used == "oa/fast-1"  # the plan is cached now
    router.cooldowns.cool("oa/fast-1", 100)
    fake.reset()
    assert router.chat(HI).model_used == "an/claude-x"
    assert fake.models_called() == ["claude-x"]


def test_a_provider_without_key_leaves_the_plan_at_once(catalog: Catalog) -> None:
    first = plan(catalog).chain[0]
    rest = tuple(p for p in ALL if p != first.provider)
    assert all(m.provider != first.provider for m in plan(catalog, providers=rest).chain)


def test_an_excluded_model_leaves_the_plan_at_once(catalog: Catalog) -> None:
    first = plan(catalog).model
    excluded = plan(catalog, policy=RoutingPolicy(exclude_models=(first,)))
    assert first not in chain(excluded)
    assert plan(catalog).model == first  # and comes back with the policy


def test_a_changed_catalog_is_ranked_afresh(catalog: Catalog) -> None:
    cheapest = RoutingPolicy(strategy=Strategy.CHEAPEST)
    first = plan(catalog, policy=cheapest).model
    pricier = catalog.with_overrides(models={first: {"input_price": 500.0, "output_price": 500.0}})
    assert plan(pricier, policy=cheapest).model != first


def test_a_request_too_big_for_a_model_drops_it_though_the_order_is_cached(
    catalog: Catalog,
) -> None:
    small = plan(catalog, policy=RoutingPolicy(max_candidates=50))
    windows = sorted({m.context_window for m in small.chain if m.context_window})
    assert len(windows) > 1
    big = Needs(input_tokens=windows[0], output_tokens=1000)
    fitting = plan(catalog, needs=big, policy=RoutingPolicy(max_candidates=50))
    assert all(m.context_window == 0 or m.context_window > windows[0] for m in fitting.chain)
    assert chain(fitting) == [m for m in chain(small) if m in set(chain(fitting))]
    with pytest.raises(NoCandidateError, match="too small"):
        plan(catalog, needs=Needs(input_tokens=10**9, output_tokens=1))


@pytest.mark.parametrize("strategy", [None, *Strategy])
def test_cached_plans_equal_fresh_ones(catalog: Catalog, strategy: Strategy | None) -> None:
    policy = RoutingPolicy(
        strategy=strategy,
        rules=(Rule(model="claude-sonnet-4-5", task=Task.CODING),),
        max_candidates=100,  # the whole order, not its head
    )
    everyone = tuple(catalog.providers)
    cases = [
        ("auto", Needs(100, 300)),
        ("auto", Needs(150_000, 20_000)),
        ("auto", Needs(20_000, 1_000)),
        ("auto", Needs(100, 300, tools=True)),
        ("auto:agentic", Needs(100, 300, json=True)),
        ("auto:free", Needs(100, 300)),
        ("auto:premium", Needs(100, 300)),
        ("auto:premium", Needs(100, 300, tools=True)),
        ("auto:premium", Needs(100, 300, vision=True)),
        ("auto:premium", Needs(100, 300, json=True)),
        ("gpt-5:balanced", Needs(100, 300)),
        ("gpt-5-mini:quality", Needs(100, 300)),
        ("claude-sonnet-4-5:cost", Needs(100, 300)),
    ]
    cases = [
        # A fixed id: a plan copies the decision's id, or draws a new one.
        (decision(task, tier, id="rt-fixed"), model, needs)
        for task in (Task.GENERAL, Task.CODING, Task.REASONING)
        for tier in Tier
        for model, needs in cases
    ]

    tight = dataclasses.replace(policy, context_margin=0.9)
    cases = [(*case, p) for case in cases for p in (policy, tight)]

    def outcome(d: Decision, model: str, needs: Needs, policy: RoutingPolicy) -> object:
        try:
            return dataclasses.astuple(
                plan(catalog, d, model=model, needs=needs, policy=policy, providers=everyone)
            )
        except NoCandidateError as exc:
            return str(exc)

    # Every case after the first meets a cache that others sharing a key filled.
    planning._RANKINGS.clear()
    warm = [outcome(*case) for case in cases]
    assert planning._RANKINGS
    fresh = []
    for case in cases:
        planning._RANKINGS.clear()
        fresh.append(outcome(*case))
    assert warm == fresh


def test_a_key_gone_from_the_environment_leaves_the_plan_at_once(
    fake: FakeProviders, make_router: Callable[..., Router]
) -> None:
    env = {"OA_KEY": "sk-oa", "AN_KEY": "sk-an", "GG_KEY": "sk-gg"}
    router = make_router(keys={}, env=env)
    assert router.route(HI).model == "oa/fast-1"  # the available models are cached now
    del env["OA_KEY"]
    plan = router.route(HI)
    assert plan.model == "an/claude-x"
    assert all(m.provider != "oa" for m in plan.chain)
    env["OA_KEY"] = "sk-oa"
    assert router.route(HI).model == "oa/fast-1"


def test_the_fast_decision_copy_equals_dataclasses_replace() -> None:
    base = decision(Task.CODING, Tier.COMPLEX)
    assert not hasattr(Decision, "__post_init__")  # the fast copy would skip it
    changes = {
        "warnings": ("w",),
        "id": "rt-1",
        "model": "openai/gpt-5",
        "candidates": ("openai/gpt-5", "openai/gpt-5-mini"),
        "estimated_cost": 0.25,
        "baseline_cost": 0.5,
        "savings": 0.25,
        "rule": "coding -> gpt-5",
    }
    copied = replace_decision(base, **changes)
    assert copied == dataclasses.replace(base, **changes)
    assert base.model is None and base.warnings == ()  # the original is untouched
    with pytest.raises(dataclasses.FrozenInstanceError):
        copied.model = "x"  # type: ignore[misc]
