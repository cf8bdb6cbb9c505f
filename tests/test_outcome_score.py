"""Decision.score from outcomes: cut points, fitting on held-out sets, tier/score agreement."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from router.decision.artifact import bundled_artifact_path, load_artifact
from training.examples import Example
from training.outcome_score import (
    BAND_MARGIN,
    STACKS,
    band_cuts,
    fit_score,
    outcome_rows,
    squeeze,
)


def test_band_cuts_give_each_tier_its_share_and_squeeze_keeps_the_order() -> None:
    rng = np.random.default_rng(0)
    score = rng.random(1000)
    tier = rng.choice(4, size=1000, p=[0.4, 0.3, 0.2, 0.1])
    cuts = band_cuts(score, tier, np.ones(1000))
    assert list(cuts) == sorted(cuts)
    shares = np.bincount(np.searchsorted(np.asarray(cuts), score, side="right"), minlength=4)
    np.testing.assert_allclose(shares / 1000, np.bincount(tier) / 1000, atol=0.01)
    clamped = squeeze(score, tier, cuts, BAND_MARGIN)
    order = np.argsort(tier, kind="stable")
    for a, b in itertools.pairwise(order):
        if tier[a] < tier[b]:
            assert clamped[a] <= clamped[b] or tier[a] == tier[b]
    assert all(clamped[tier == 0] <= cuts[0]) and all(clamped[tier == 3] >= cuts[2])


def test_squeeze_keeps_tier_first_then_score_order_and_matches_the_router() -> None:
    from router.types import squeeze_into_band

    rng = np.random.default_rng(1)
    score = rng.random(2000)
    tier = rng.choice(4, size=2000)
    cuts = (0.3, 0.45, 0.6)
    banded = squeeze(score, tier, cuts, BAND_MARGIN)
    edges = np.asarray([0.0, *cuts, 1.0])
    assert np.all(banded >= edges[tier]) and np.all(banded <= edges[tier + 1])
    # The order is the tier's, then the probability's: no two scores of a tier tie.
    by_band = np.lexsort((score, tier))
    assert np.all(np.diff(banded[by_band]) > 0)
    inside = (score >= edges[tier]) & (score <= edges[tier + 1])
    # An in-band probability moves by at most the margin's share of its band.
    width = (edges[tier + 1] - edges[tier])[inside]
    assert np.all(np.abs(banded[inside] - score[inside]) <= BAND_MARGIN * width + 1e-12)
    cuts_all = (0.0, *cuts, 1.0)
    for p, t, b in zip(score[:200], tier[:200], banded[:200], strict=True):
        lo, hi = cuts_all[t], cuts_all[t + 1]
        assert squeeze_into_band(float(p), lo, hi, BAND_MARGIN) == pytest.approx(b, abs=1e-15)


def _row(i: int, source: str, weak_ok: bool, text: str, use: str = "train") -> Example:
    outcome = {"strong_correct": True, "weak_correct": weak_ok,
               "strong_model": "s", "weak_model": "w"}  # fmt: skip
    return Example(f"{source}/{i}", text, None, "math", None, "en", source, use, source,
                   outcome=outcome)  # fmt: skip


def test_outcome_rows_weigh_every_set_alike_and_skip_eval_rows() -> None:
    rows = [_row(i, "mifeval_outcomes", i % 2 == 0, "x") for i in range(10)]
    rows += [_row(i, "mmlu_pro_outcomes", True, "y") for i in range(30)]
    rows += [_row(i, "elyza_outcomes", False, "z", use="eval") for i in range(5)]
    idx, fail, sets, w = outcome_rows(rows)
    assert len(idx) == 40 and set(sets) == {"mifeval", "mmlu_pro"}
    by_set = {s: w[np.asarray(sets) == s].sum() for s in set(sets)}
    assert by_set["mifeval"] == pytest.approx(by_set["mmlu_pro"])
    assert fail[:10].tolist() == [0.0, 1.0] * 5


def test_fit_score_learns_which_prompts_the_cheap_model_fails() -> None:
    import scipy.sparse as sp

    rows, feats = [], []
    sources = ("mifeval_outcomes", "mmlu_pro_outcomes", "arena_bench_v1_outcomes")
    for k, source in enumerate(sources):
        for i in range(60):
            hard = i % 3 == 0
            rows.append(_row(100 * k + i, source, not hard, "hard" if hard else "easy"))
            feats.append([1.0 if hard else 0.0, float(k == 1)])
    X = sp.csr_matrix(np.asarray(feats))
    labels = np.asarray([3 if f[0] else 0 for f in feats])
    n = len(rows)
    fit = fit_score(
        rows, X, None, None, np.zeros(n), labels, np.ones(n), (1.0,), 3, 200, lambda _: None
    )
    assert fit is not None
    logit = X @ fit.coef + fit.intercept
    p = 1 / (1 + np.exp(-logit))
    assert p[labels == 3].min() > p[labels == 0].max()
    # A perfect scorer recovers the gap with a third of the calls: APGR 1 - 1/6.
    held_out = fit.report["held_out_apgr"].values()
    assert all(v["calibrated"] > 0.8 for v in held_out), fit.report
    assert list(fit.cuts) == sorted(fit.cuts)
    # Every candidate stacker was tried on the held-out sets; the best one was kept, and
    # it reads the fail head (length carries nothing here: every row has the same).
    stacking = fit.report["stacking"]
    trials = {t["inputs"]: t["mean_apgr"] for t in stacking["trials"]}
    assert set(trials) == set(STACKS)
    assert stacking["inputs"] == max(trials, key=trials.__getitem__)
    assert stacking["fail_logit"] > 0


def test_per_set_intercepts_keep_the_within_set_order() -> None:
    """Length orders prompts inside every set, while the set with the longer prompts
    has the lower failure rate: a pooled stacker learns "long is easy", one with an
    intercept per set learns "longer is harder", which is what a threshold sees."""
    from training.outcome_score import _fit_stacker

    rng = np.random.default_rng(3)
    lengths, fails, sets = [], [], []
    for k, name in enumerate(("a", "b", "c")):
        base = 20.0 * 8**k  # later sets: far longer prompts, far fewer failures
        for _ in range(300):
            length = base * (1 + 3 * rng.random())
            fails.append(float(rng.random() < (0.8 - 0.3 * k) * length / (4 * base)))
            lengths.append(np.log1p(length))
            sets.append(name)
    Z = np.asarray(lengths)[:, None]
    y, w, set_arr = np.asarray(fails), np.ones(len(fails)), np.asarray(sets)
    pooled, _ = _fit_stacker(Z, y, w, set_arr, per_set=False)
    within, bias = _fit_stacker(Z, y, w, set_arr, per_set=True)
    assert pooled[0] < 0 < within[0]
    assert np.isfinite(bias)


needs_scored_model = pytest.mark.skipif(
    not bundled_artifact_path().exists() or not load_artifact(bundled_artifact_path()).has_score,
    reason="the bundled model has no outcome score",
)


@needs_scored_model
def test_a_higher_tier_never_has_a_lower_score() -> None:
    from router import Router
    from router.types import TIERS

    router = Router()
    prompts = [
        "hi", "thanks!", "What is 17 * 23?", "Write a haiku about autumn.",
        "Write a Python function to reverse a string.",
        "Implement a lock-free MPMC queue in Rust using atomics.",
        "Prove that there are infinitely many primes congruent to 3 mod 4.",
        "请写一篇关于春天的作文，不少于800字。", "Summarize: the meeting moved the launch to May.",
        "Design a multi-region active-active payments ledger with exactly-once semantics.",
        "You have just overtaken the second person in a race. What position are you in?",
        "Extract all dates from: we met on 3 May and again on 9 June.",
    ]  # fmt: skip
    decisions = [router.classify(p) for p in prompts]
    decisions += [router.classify("run the tests", tools=[{"type": "function"}])]
    model = router.classifier.model
    assert model is not None
    cuts = (0.0, *model.score_cuts, 1.0)
    for d in decisions:
        if d.source == "rules":
            continue
        assert cuts[d.tier.rank] <= d.score <= cuts[d.tier.rank + 1], (d.tier, d.score)
        assert TIERS[d.tier.rank] is d.tier
    ranked = sorted(decisions, key=lambda d: d.tier.rank)
    for lower, higher in itertools.pairwise(ranked):
        if lower.tier.rank < higher.tier.rank:
            assert lower.score <= higher.score


@needs_scored_model
def test_score_is_the_documented_formula() -> None:
    import math

    from router.decision.classifier import Classifier
    from router.decision.inputs import read_prompt
    from router.types import TIERS, squeeze_into_band

    classifier = Classifier()
    model = classifier.model
    assert model is not None
    for prompt in ("hi", "Prove that sqrt(2) is irrational.", "写一首七言绝句，主题是秋天"):
        d = classifier.classify(prompt)
        ex = classifier.extractor.extract(read_prompt(prompt))
        p = model.predict(ex)
        assert p.fail_logit is not None
        expected = sum(d.tier_probabilities[t.value] * t.rank for t in TIERS)
        z = (
            p.fail_logit
            + model.score_rank_weight * expected
            + model.score_length_weight * math.log1p(d.estimated_tokens)
        )
        cuts = (0.0, *model.score_cuts, 1.0)
        lo, hi = cuts[d.tier.rank], cuts[d.tier.rank + 1]
        p_fail = 1 / (1 + math.exp(-z))
        margin = model.score_band_margin
        expected_score = (
            squeeze_into_band(p_fail, lo, hi, margin)
            if margin is not None
            else min(max(p_fail, lo), hi)
        )
        assert d.score == pytest.approx(expected_score, abs=1e-12)


@needs_scored_model
@pytest.mark.parametrize(
    "score",
    [
        {"rank_weight": 0.1, "length_weight": 0.0, "cuts": [0.6, 0.5, 0.9]},
        {"cuts": [0.1, 0.2, 0.3]},
        {"rank_weight": 0.1, "length_weight": 0.0, "cuts": [0.1, 0.2, 0.3], "band_margin": 0.7},
        {"rank_weight": 0.1, "length_weight": 0.0, "cuts": [0.1, 0.2, 0.3], "band_margin": "x"},
    ],
)
def test_bad_score_section_is_refused(tmp_path: Path, score: dict[str, object]) -> None:
    import json
    import shutil

    from router.errors import ModelArtifactError

    bundled = bundled_artifact_path()
    for suffix in (".json", ".npz"):
        shutil.copy(bundled.with_suffix(suffix), tmp_path / f"m{suffix}")
    meta = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))
    meta["score"] = score
    (tmp_path / "m.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelArtifactError, match="score"):
        load_artifact(tmp_path / "m.json")
