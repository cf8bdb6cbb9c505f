"""Properties every decision keeps, whatever the input."""

from __future__ import annotations

import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router import Router, RouterInputError, Tier
from router.types import TIERS, tier_band

_ROUTER = Router()

_text = st.text(alphabet=st.characters(codec=None, exclude_categories=()), min_size=0, max_size=400)
_part = st.one_of(
    st.fixed_dictionaries({"type": st.just("text"), "text": _text}),
    st.fixed_dictionaries({"type": st.just("image_url"), "image_url": st.just({"url": "x"})}),
    st.dictionaries(st.text(max_size=5), st.none() | st.integers() | _text, max_size=3),
    st.integers(),
    st.none(),
)
_content = st.one_of(_text, st.lists(_part, max_size=4), st.none(), st.integers(), st.binary())
_message = st.one_of(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["user", "system", "assistant", "tool", "x"]), "content": _content}
    ),
    st.dictionaries(st.text(max_size=8), _content, max_size=3),
    st.integers(),
)
_anything = st.one_of(
    _text,
    st.lists(_message, max_size=5),
    st.none(),
    st.binary(),
    st.integers(),
    st.floats(),
    st.recursive(st.lists(st.integers()), lambda inner: st.lists(inner), max_leaves=8),
)

_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(_anything)
def test_never_raises_anything_but_input_errors(value: object) -> None:
    """Any input gives a decision or a RouterInputError; nothing else escapes."""
    try:
        decision = _ROUTER.classify(value)
    except RouterInputError:
        return
    _check_invariants(decision)


@_SETTINGS
@given(st.text(min_size=1, max_size=2000).filter(str.strip))
def test_decision_invariants_on_any_text(text: str) -> None:
    """Probabilities sum to 1, score sits in the tier's band, the record serialises."""
    _check_invariants(_ROUTER.classify(text))


def _check_invariants(decision: object) -> None:
    from router.types import Decision

    assert isinstance(decision, Decision)
    assert set(decision.tier_probabilities) == {t.value for t in TIERS}
    assert math.isclose(sum(decision.tier_probabilities.values()), 1.0, abs_tol=1e-9)
    assert math.isclose(sum(decision.task_scores.values()), 1.0, abs_tol=1e-9)
    model = _ROUTER.classifier.model
    if decision.source != "rules" and model is not None and model.has_score:
        # The outcome score: the tier's band lies between the artifact's cut points.
        edges = (0.0, *model.score_cuts, 1.0)
        assert edges[decision.tier.rank] <= decision.score <= edges[decision.tier.rank + 1]
    else:
        lo, hi = tier_band(decision.tier)
        assert lo <= decision.score < hi
    assert 0.0 <= decision.confidence <= 1.0
    probabilities = decision.tier_probabilities
    assert max(probabilities, key=probabilities.__getitem__) == decision.tier.value
    for feature in decision.features.values():
        assert 0.0 <= feature.value <= 1.0
    json.dumps(decision.to_dict())


@_SETTINGS
@given(st.lists(st.text(min_size=1, max_size=300).filter(str.strip), min_size=2, max_size=12))
def test_score_is_monotone_with_tier(texts: list[str]) -> None:
    """Sorting decisions by score never puts a higher tier before a lower one."""
    decisions = sorted((_ROUTER.classify(t) for t in texts), key=lambda d: d.score)
    ranks = [d.tier.rank for d in decisions]
    assert ranks == sorted(ranks)


def test_ten_megabyte_prompt_is_decided() -> None:
    """A 10 MB prompt gets a decision (sampled, so quickly) with its real length estimated."""
    decision = _ROUTER.classify("lorem ipsum dolor sit amet " * 400_000)
    assert decision.estimated_tokens > 2_000_000
    assert decision.tier.rank >= Tier.COMPLEX.rank


def test_lone_surrogates_are_scored() -> None:
    """Text with lone surrogates (broken UTF-16) is still classified."""
    decision = _ROUTER.classify("write a poem \ud800 about \udfff the sea")
    assert decision.task.value == "creative_writing"
    json.dumps(decision.to_dict())
