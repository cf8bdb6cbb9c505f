"""Routing rules: every condition, every action, priority and ties, legacy rules, model strings."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from conftest_providers import small_catalog
from fake_providers import FakeProviders

from router import Router
from router.errors import ConfigError, NoCandidateError
from router.policy.rules import RoutingRule, RuleContext, RuleMatch
from router.routing.catalog import Catalog
from router.routing.model_strings import RequestKind, parse_model_string
from router.routing.strategies import Strategy

MakeRouter = Callable[..., Router]
CODE = "Write a Python function that reverses a linked list"


def graded(fake: FakeProviders) -> Catalog:
    """The small catalog with quality rising with price: best -> gg/gem-x, cheapest -> oa."""
    base = small_catalog(fake)
    quality = {"oa/fast-1": 0.85, "an/claude-x": 0.9, "gg/gem-x": 0.97}
    models = [dataclasses.replace(m, tier_quality=(quality[m.id],) * 4) for m in base]
    return Catalog(base.providers, models, base.defaults)


def ctx(**kw: Any) -> RuleContext:
    base: dict[str, Any] = {
        "task": "coding", "tier": "MEDIUM", "language": "en", "text": "please analyze this",
        "metadata": {"team": "search", "n": 3}, "mode": "balance", "model_requested": "auto",
    }  # fmt: skip
    return RuleContext(**{**base, **kw})


@pytest.mark.parametrize(
    ("match", "hit", "miss"),
    [
        ({"task": "coding"}, {}, {"task": "math"}),
        ({"task": ["math", "coding"]}, {}, {"task": "general"}),
        ({"tier": "medium"}, {}, {"tier": "SIMPLE"}),
        ({"tier": ["COMPLEX", "MEDIUM"]}, {}, {"tier": "REASONING"}),
        ({"language": "EN"}, {}, {"language": "zh"}),
        ({"contains": "ANALYZE"}, {}, {"text": "please summarise"}),
        ({"contains": ["nothing", "analyze"]}, {}, {"text": "no match here"}),
        ({"metadata_equals": {"team": "search"}}, {}, {"metadata": {"team": "ads"}}),
        ({"metadata_equals": {"team": "search", "n": 3}}, {}, {"metadata": {"team": "search"}}),
        ({"mode": "balance"}, {}, {"mode": "quality"}),
        ({"mode": "balanced"}, {}, {"mode": "cost"}),
        ({"model_requested": "gpt-4o"}, {"model_requested": "gpt-4o:quality"}, {}),
        ({"model_requested": "auto:cost"}, {"model_requested": "AUTO:cost"}, {}),
        ({"model_requested": "gpt-4o"}, {"model_requested": "gpt-4o"}, {"model_requested": "o3"}),
        ({}, {}, None),  # an empty match matches everything
    ],
)
def test_each_condition(match: dict[str, Any], hit: dict[str, Any], miss: Any) -> None:
    parsed = RuleMatch.parse(match, "m")
    assert parsed.matches(ctx(**hit))
    if miss is not None:
        assert not parsed.matches(ctx(**miss))


def test_all_conditions_must_hold() -> None:
    parsed = RuleMatch.parse({"task": "coding", "contains": "analyze", "mode": "quality"}, "m")
    assert not parsed.matches(ctx())
    assert parsed.matches(ctx(mode="quality"))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"name": "x", "action": {"set_mode": "fast"}}, r"'x'\.action\.set_mode: 'fast'"),
        ({"name": "x", "match": {"task": "poetry"}, "action": {"set_mode": "cost"}}, r"\.task"),
        ({"name": "x", "match": {"colour": 1}, "action": {"set_mode": "cost"}}, r"\.colour"),
        ({"name": "x"}, r"needs an action"),
        ({"name": "", "action": {"set_mode": "cost"}}, r"name"),
        ({"name": "x", "priority": "high", "action": {"set_mode": "cost"}}, r"priority"),
        (
            {"name": "x", "action": {"set_provider": "an", "set_model": "oa/fast-1"}},
            r"not a model of set_provider",
        ),
    ],
)
def test_invalid_rules_name_rule_and_field(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        RoutingRule.from_dict(raw)


def test_hosted_model_strings() -> None:
    assert parse_model_string("auto:balance").strategy is Strategy.BALANCED
    assert parse_model_string("auto:quality").strategy is Strategy.BEST
    assert parse_model_string("auto:cost").strategy is Strategy.CHEAPEST
    anchored = parse_model_string("claude-x:quality")
    assert anchored.kind is RequestKind.ANCHORED and anchored.model == "claude-x"
    assert parse_model_string("gem-x:balance").strategy is Strategy.BALANCED
    assert parse_model_string("qwen2.5:7b").kind is RequestKind.PIN


def test_hosted_model_strings_route(fake: FakeProviders, make_router: MakeRouter) -> None:
    router = make_router(catalog=graded(fake))
    assert router.route("hi", model="auto:quality").model == "gg/gem-x"
    assert router.route("hi", model="auto:cost").model == "oa/fast-1"
    balance = router.route("hi", model="auto:balance")
    assert balance.strategy is Strategy.BALANCED
    assert balance.model == router.route("hi", model="auto:balanced").model
    # <model>:quality: the best model no pricier than the anchor.
    assert router.route("hi", model="an/claude-x:quality").model == "an/claude-x"


# ---- actions, through a real router ------------------------------------------------


def test_set_model_goes_first_and_records_the_rule(
    fake: FakeProviders, make_router: MakeRouter
) -> None:
    router = make_router()
    router.rules.create(name="code", match={"task": "coding"}, action={"set_model": "gg/gem-x"})
    plan = router.route(CODE)
    assert plan.model == "gg/gem-x" and plan.decision.rule == "code"
    assert plan.decision.candidates[1:] == ("oa/fast-1", "an/claude-x")  # fallbacks stay
    assert router.route("What is the capital of France?").decision.rule is None
    reply = router.chat(CODE)
    assert reply.model_used == "gg/gem-x" and reply.decision.rule == "code"


def test_set_provider_restricts_candidates(fake: FakeProviders, make_router: MakeRouter) -> None:
    router = make_router()
    router.rules.create(name="eu", match={"metadata_equals": {"region": "eu"}},
                        action={"set_provider": "an"})  # fmt: skip
    plan = router.route("hi", metadata={"region": "eu"})
    assert [m.provider for m in plan.chain] == ["an"]
    assert router.route("hi", metadata={"region": "us"}).model == "oa/fast-1"


def test_set_mode_and_set_strategy(fake: FakeProviders, make_router: MakeRouter) -> None:
    router = make_router(catalog=graded(fake))  # strategy cheapest -> oa/fast-1
    rule = router.rules.create(name="q", match={"contains": "analyze"},
                               action={"set_mode": "quality"})  # fmt: skip
    assert router.route("please analyze the data").model == "gg/gem-x"
    router.rules.update(rule.id, action={"set_strategy": "cheapest"})
    assert router.route("please ANALYZE the data").model == "oa/fast-1"
    router.rules.update(rule.id, action={"set_strategy": "free"})  # a profile name
    with pytest.raises(NoCandidateError):
        router.route("please analyze the data")  # no free model in this catalog


def test_mode_condition_reads_the_model_string(
    fake: FakeProviders, make_router: MakeRouter
) -> None:
    router = make_router()
    router.rules.create(name="quality mode", match={"mode": "quality"},
                        action={"set_model": "gg/gem-x"})  # fmt: skip
    assert router.route("hi", model="auto:quality").decision.rule == "quality mode"
    assert router.route("hi", model="auto:cost").decision.rule is None
    assert router.route("hi").decision.rule is None  # the router's own strategy: cheapest


def test_model_requested_rewrites_a_pin(fake: FakeProviders, make_router: MakeRouter) -> None:
    router = make_router()
    router.rules.create(name="swap", match={"model_requested": "an/claude-x"},
                        action={"set_model": "gg/gem-x"})  # fmt: skip
    plan = router.route("hi", model="an/claude-x")
    assert plan.model == "gg/gem-x" and plan.decision.rule == "swap"


def test_exclude_models_and_add_warning(fake: FakeProviders, make_router: MakeRouter) -> None:
    router = make_router()
    action = {"exclude_models": ["oa/*"], "add_warning": "oa is off"}
    router.rules.create(name="no oa", match={"language": "en"}, action=action)
    plan = router.route("Hello there, how are you today?")
    assert "oa/fast-1" not in plan.decision.candidates
    assert "oa is off" in plan.decision.warnings


def test_priority_then_creation_order(fake: FakeProviders, make_router: MakeRouter) -> None:
    router = make_router()
    low = router.rules.create(name="low", action={"set_model": "an/claude-x"}, priority=1)
    router.rules.create(name="high", action={"set_model": "gg/gem-x"}, priority=9)
    assert router.route("hi").decision.rule == "high"
    # Equal priority: the rule created first wins, whatever its id or name.
    tie = router.rules.create(name="aaa-tie", action={"set_model": "oa/fast-1"}, priority=9)
    assert router.route("hi").decision.rule == "high"
    assert [r.name for r in router.rules.list()] == ["high", "aaa-tie", "low"]
    router.rules.disable(router.rules.list()[0].id)
    assert router.route("hi").decision.rule == "aaa-tie"
    router.rules.delete(tie.id)
    assert router.route("hi").decision.rule == "low" == router.rules.retrieve(low.id).name


def test_unservable_rule_is_skipped_with_a_warning(
    fake: FakeProviders, make_router: MakeRouter
) -> None:
    router = make_router(keys={"oa": "k1", "an": "k2"})  # no key for gg
    router.rules.create(name="gem", action={"set_model": "gg/gem-x"}, priority=2)
    router.rules.create(name="claude", action={"set_model": "an/claude-x"}, priority=1)
    plan = router.route("hi")
    assert plan.model == "an/claude-x" and plan.decision.rule == "claude"
    assert any("'gem' skipped" in w for w in plan.decision.warnings)


def test_legacy_rules_still_work(fake: FakeProviders, make_router: MakeRouter) -> None:
    router = make_router(rules=[{"task": "coding", "model": "gg/gem-x"}])
    plan = router.route(CODE)
    assert plan.model == "gg/gem-x" and plan.decision.rule == "task=coding -> gg/gem-x"
    assert [r.id for r in router.rules.list()] == ["rules-0"]


def test_catalog_checked_at_creation(fake: FakeProviders, make_router: MakeRouter) -> None:
    router = make_router()
    with pytest.raises(ConfigError, match=r"'bad'\.action\.set_model: model 'nope/x'"):
        router.rules.create(name="bad", action={"set_model": "nope/x"})
    with pytest.raises(ConfigError, match=r"set_provider: 'zz' is not a provider"):
        router.rules.create(name="bad", action={"set_provider": "zz"})
    assert router.rules.list() == []
