"""The promotion rule: paired-bootstrap APGR on held-out calls, the guard only for broken models."""

from __future__ import annotations

import numpy as np
import pytest

from training.promotion import compare, decide, held_out, routing_numbers, scores_valid


def _calls(n: int = 400, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    hardness = rng.random(n)
    fell_short = (rng.random(n) < hardness).astype(float)
    return hardness, fell_short


def test_apgr_of_a_perfect_scorer_is_high_and_of_its_inverse_low() -> None:
    y = np.array([1, 1, 0, 0, 0, 0, 1, 0], dtype=float)
    perfect, _ = routing_numbers(y, y)
    inverse, _ = routing_numbers(1 - y, y)
    assert perfect > 0.8 and inverse < 0.2
    assert np.isnan(routing_numbers(y, np.zeros_like(y))[0])


def test_a_better_scorer_is_promoted_with_an_interval_above_zero() -> None:
    hardness, y = _calls()
    rng = np.random.default_rng(2)
    champion = rng.random(len(y))  # knows nothing
    comparison = compare(champion, hardness, y, resamples=300)
    assert comparison is not None and comparison.better
    assert comparison.ci_low > 0 and comparison.apgr_gain > 0.1
    verdict = decide(comparison, outcome_rows=len(y), min_rows=30, guard=None,
                     max_task_drop=0.1, challenger_scores_valid=True)  # fmt: skip
    assert verdict.promoted and verdict.rule == "apgr"
    assert "better on your held-out calls" in verdict.reason and "CI" in verdict.reason


def test_an_inverted_or_equal_challenger_is_not_promoted() -> None:
    hardness, y = _calls()
    worse = compare(hardness, 1 - hardness, y, resamples=300)
    assert worse is not None and worse.ci_high < 0
    assert not decide(worse, outcome_rows=len(y), min_rows=30, guard=None, max_task_drop=0.1,
                      challenger_scores_valid=True).promoted  # fmt: skip
    same = compare(hardness, hardness, y, resamples=300)
    assert same is not None and not same.better
    verdict = decide(same, outcome_rows=len(y), min_rows=30, guard=None, max_task_drop=0.1,
                     challenger_scores_valid=True)  # fmt: skip
    assert not verdict.promoted and "not clearly better" in verdict.reason


def test_a_broken_challenger_is_refused_whatever_the_logs_say() -> None:
    hardness, y = _calls()
    good = compare(np.zeros_like(y) + 0.5, hardness, y, resamples=100)
    assert good is not None and good.better
    collapsed = {"rows": 800, "challenger": 0.31, "champion": 0.85}
    verdict = decide(good, outcome_rows=len(y), min_rows=30, guard=collapsed,
                     max_task_drop=0.1, challenger_scores_valid=True)  # fmt: skip
    assert not verdict.promoted and verdict.rule == "broken"
    assert "task accuracy" in verdict.reason and "0.850 to 0.310" in verdict.reason
    assert not scores_valid([0.2, float("nan")]) and not scores_valid([1.5])
    nan = decide(good, outcome_rows=len(y), min_rows=30, guard=None, max_task_drop=0.1,
                 challenger_scores_valid=False)  # fmt: skip
    assert not nan.promoted and "not numbers" in nan.reason
    # A small drop is fitting the user's traffic, not breaking: it does not veto.
    fine = {"rows": 800, "challenger": 0.80, "champion": 0.85}
    assert decide(good, outcome_rows=len(y), min_rows=30, guard=fine, max_task_drop=0.1,
                  challenger_scores_valid=True).promoted  # fmt: skip


def test_one_way_outcomes_fall_back_to_tier_accuracy_and_say_so() -> None:
    assert compare([0.1, 0.2], [0.2, 0.1], [0, 0]) is None
    verdict = decide(None, outcome_rows=40, min_rows=30, guard=None, max_task_drop=0.1,
                     challenger_scores_valid=True, tier=(0.9, 0.5, 40))  # fmt: skip
    assert verdict.promoted and "all one way" in verdict.reason
    assert "tier accuracy" in verdict.reason
    few = decide(None, outcome_rows=3, min_rows=30, guard=None, max_task_drop=0.1,
                 challenger_scores_valid=True)  # fmt: skip
    assert not few.promoted and "too little evidence" in few.reason


@pytest.mark.parametrize("seed", [0, 7])
def test_the_held_out_split_is_stable_and_near_its_share(seed: int) -> None:
    ids = [f"log-rt-{i}" for i in range(2000)]
    first = [held_out(i, 0.3, seed) for i in ids]
    assert first == [held_out(i, 0.3, seed) for i in ids]
    assert 0.25 < sum(first) / len(ids) < 0.35
