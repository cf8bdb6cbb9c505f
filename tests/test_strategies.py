"""Strategies, profiles, model strings and candidate planning."""

from __future__ import annotations

import dataclasses

import pytest

from router.errors import ConfigError, NoCandidateError
from router.routing.catalog import Catalog, default_catalog
from router.routing.model_strings import RequestKind, parse_model_string, strategy_of_mode
from router.routing.planning import Needs, RoutingPolicy, Rule, plan_route
from router.routing.strategies import Strategy, load_profiles, rank
from router.types import Decision, Task, Tier


def decision(
    task: Task = Task.GENERAL, tier: Tier = Tier.SIMPLE, language: str = "en", **kw: object
) -> Decision:
    return Decision(
        task=task,
        task_scores={},
        tier=tier,
        tier_probabilities={},
        score=0.1,
        confidence=0.9,
        language=language,
        source="test",
        **kw,
    )  # type: ignore[arg-type]


@pytest.fixture(scope="module", name="catalog")
def catalog_fixture() -> Catalog:
    return default_catalog()


def plan(
    catalog: Catalog,
    d: Decision | None = None,
    *,
    model: str | None = "auto",
    providers: tuple[str, ...] = ("openai", "anthropic", "google"),
    needs: Needs | None = None,
    policy: RoutingPolicy | None = None,
    **fields: object,
):  # type: ignore[no-untyped-def]
    """``plan_route`` with test defaults; the policy given whole or by its fields."""
    assert policy is None or not fields, "give the policy or its fields, not both"
    return plan_route(
        d or decision(),
        catalog=catalog,
        policy=policy or RoutingPolicy(**fields),  # type: ignore[arg-type]
        is_available=lambda m: m.provider in providers,
        model=model,
        needs=needs or Needs(input_tokens=100, output_tokens=300),
    )


# ---- model strings ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "strategy", "profile", "model"),
    [
        (None, RequestKind.AUTO, None, None, None),
        ("auto", RequestKind.AUTO, None, None, None),
        ("auto:cheapest", RequestKind.AUTO, Strategy.CHEAPEST, None, None),
        ("auto:best", RequestKind.AUTO, Strategy.BEST, None, None),
        ("auto:eco", RequestKind.AUTO, None, "eco", None),
        ("gpt-4o:cost", RequestKind.ANCHORED, Strategy.CHEAPEST, None, "gpt-4o"),
        ("openai/gpt-4o:quality", RequestKind.ANCHORED, Strategy.BEST, None, "openai/gpt-4o"),
        ("anthropic/claude-haiku-4-5", RequestKind.PIN, None, None, "anthropic/claude-haiku-4-5"),
        ("ollama/qwen2.5-coder:7b", RequestKind.PIN, None, None, "ollama/qwen2.5-coder:7b"),
    ],
)
def test_model_strings(
    text: str | None,
    kind: RequestKind,
    strategy: Strategy | None,
    profile: str | None,
    model: str | None,
) -> None:
    request = parse_model_string(text)
    assert (request.kind, request.strategy, request.profile, request.model) == (
        kind,
        strategy,
        profile,
        model,
    )
    assert strategy_of_mode("balanced") is Strategy.BALANCED


def test_bad_auto_suffix_lists_the_options() -> None:
    with pytest.raises(ConfigError, match="cheapest"):
        parse_model_string("auto:fastest")


# ---- ranking ------------------------------------------------------------------------


def test_strategies_order(catalog: Catalog) -> None:
    models = [catalog.get(m) for m in ("gpt-5", "gpt-5-mini", "gpt-4o-mini", "claude-opus-4-1")]
    cheapest, ok = rank(models, Task.GENERAL, Tier.MEDIUM, Strategy.CHEAPEST, 0.75)
    assert ok and cheapest[0].id == "openai/gpt-4o-mini"
    best, _ = rank(models, Task.CODING, Tier.REASONING, Strategy.BEST, 0.75)
    assert best[0].id == "anthropic/claude-opus-4-1"
    balanced, _ = rank(models, Task.GENERAL, Tier.COMPLEX, Strategy.BALANCED, 0.75)
    assert balanced[0].id == "openai/gpt-5-mini"  # near-frontier quality at a fraction of the price
    # Capable models come before weak ones whatever the strategy.
    hard, _ = rank(models, Task.MATH, Tier.REASONING, Strategy.CHEAPEST, 0.8)
    assert hard[-1].id == "openai/gpt-4o-mini"


def test_no_capable_model_falls_back_to_the_strongest(catalog: Catalog) -> None:
    models = [catalog.get("gpt-4o-mini"), catalog.get("gpt-4.1-nano")]
    ranked, ok = rank(models, Task.MATH, Tier.REASONING, Strategy.CHEAPEST, 0.95)
    assert not ok and ranked[0].id == "openai/gpt-4o-mini"


def test_profiles_are_bundled() -> None:
    profiles = load_profiles()
    assert set(profiles) >= {"auto", "eco", "premium", "agentic", "free"}
    assert profiles["agentic"].require == {"tools"} and profiles["free"].only_free


# ---- planning ------------------------------------------------------------------------


def test_plan_prices_and_savings(catalog: Catalog) -> None:
    p = plan(catalog, strategy=Strategy.CHEAPEST, baseline_model="openai/gpt-4o")
    d = p.decision
    assert d.model == p.chain[0].id and d.candidates == tuple(m.id for m in p.chain)
    assert len(d.candidates) <= 4 and d.id
    expected = p.chain[0].cost(100, 300)
    assert d.estimated_cost == pytest.approx(expected)
    assert d.baseline_cost == pytest.approx((100 * 2.5 + 300 * 10) / 1e6)
    assert d.savings == pytest.approx(d.baseline_cost - expected)


def test_keys_limit_candidates(catalog: Catalog) -> None:
    p = plan(catalog, providers=("anthropic",))
    assert {m.provider for m in p.chain} == {"anthropic"}
    with pytest.raises(NoCandidateError, match="OPENAI_API_KEY"):
        plan(catalog, providers=())


def test_exclusions_and_globs(catalog: Catalog) -> None:
    p = plan(catalog, exclude_models=("openai/*", "gemini-2.5-flash-lite"))
    assert all(not m.id.startswith("openai/") for m in p.chain)
    assert "google/gemini-2.5-flash-lite" not in p.decision.candidates


def test_context_window_with_margin(catalog: Catalog) -> None:
    big = Needs(input_tokens=150_000, output_tokens=1000)
    p = plan(catalog, needs=big, providers=("openai",))
    assert all(m.context_window * 0.9 >= 151_000 for m in p.chain)
    assert "openai/gpt-4o" not in p.decision.candidates  # 128k window
    with pytest.raises(NoCandidateError, match="context"):
        plan(catalog, needs=Needs(input_tokens=5_000_000, output_tokens=10))


def test_tools_take_the_agentic_profile_and_vision_filters(catalog: Catalog) -> None:
    p = plan(catalog, needs=Needs(100, 300, tools=True), providers=("deepseek", "anthropic"))
    assert p.profile == "agentic"
    assert "deepseek/deepseek-reasoner" not in p.decision.candidates  # no tool calling
    p = plan(catalog, needs=Needs(100, 300, vision=True), providers=("deepseek", "anthropic"))
    assert all("vision" in m.capabilities for m in p.chain)


def test_free_profile_only_free_models(catalog: Catalog) -> None:
    p = plan(catalog, model="auto:free", providers=("ollama", "zhipu", "openai"))
    assert all(m.free for m in p.chain) and p.chain


def test_rules_task_and_language(catalog: Catalog) -> None:
    rules = (
        Rule.from_mapping({"task": "coding", "model": "claude-sonnet-4-5"}),
        Rule.from_mapping({"language": "zh", "model": "qwen/qwen-max"}),
    )
    providers = ("openai", "anthropic", "qwen")
    p = plan(catalog, decision(Task.CODING), rules=rules, providers=providers)
    assert p.chain[0].id == "anthropic/claude-sonnet-4-5"
    assert p.decision.rule == "task=coding -> claude-sonnet-4-5"
    p = plan(catalog, decision(language="zh"), rules=rules, providers=providers)
    assert p.chain[0].id == "qwen/qwen-max" and len(p.chain) > 1  # the rest stays as fallback
    # A rule whose model has no key is skipped, not an error.
    p = plan(catalog, decision(language="zh"), rules=rules, providers=("openai",))
    assert p.decision.rule is None
    with pytest.raises(ConfigError, match=r"rules\.task"):
        Rule.from_mapping({"task": "poetry", "model": "x"})


def test_anchored_mode_stays_under_the_anchor_price(catalog: Catalog) -> None:
    p = plan(catalog, decision(tier=Tier.SIMPLE), model="gpt-4o:cost")
    ceiling = catalog.get("gpt-4o").blended_price()
    assert all(m.blended_price() <= ceiling for m in p.chain)
    assert p.chain[0].blended_price() < ceiling


def test_pins_bypass_routing(catalog: Catalog) -> None:
    p = plan(catalog, model="anthropic/claude-opus-4-1", providers=())
    assert p.decision.candidates == ("anthropic/claude-opus-4-1",) and p.profile == "pin"
    p = plan(catalog, model="ollama/some-new-model:3b", providers=())
    assert p.chain[0].api_model == "some-new-model:3b" and p.decision.estimated_cost is None


def test_routing_does_not_change_the_classification(catalog: Catalog) -> None:
    d = decision(Task.MATH, Tier.COMPLEX)
    routed = plan(catalog, d).decision
    assert (
        dataclasses.replace(
            routed,
            id=None,
            model=None,
            candidates=(),
            estimated_cost=None,
            baseline_cost=None,
            savings=None,
        )
        == d
    )
