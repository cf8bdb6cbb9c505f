"""``Decision.score`` learned from outcomes: the calibrated chance that a cheap model falls short.

Fitted on the per-prompt outcome rows of the *train* sets (RouteLLM's MMLU train
subjects, MMLU-Pro, M-IFEval, ZeroEval CRUXEval and MATH-L5, arena-bench-v1), each with
its own cheap/frontier pair (``training.sources``); the label is "the cheap model of the
pair got it wrong". GSM8K and every *eval* set are never read here.

1. **Fail head.** A logistic regression on the same design matrix as the task and tier
   heads. Every outcome set weighs the same in total, so 11,000 MMLU questions do not
   decide what "hard" means for instructions or code.
2. **Settings on sources held out whole.** ``C`` is chosen from ``score_c_grid`` by the
   mean APGR over folds of whole outcome sets: each fold's sets are predicted by a head
   fitted without them.
3. **Calibration, the tier head and length.** On those out-of-set predictions a small
   logistic regression (the *stacker*) gives the calibrated probability. Its inputs are
   chosen from ``STACKS`` by the mean APGR over the outcome sets, each predicted by a
   stacker fitted without it: the fail head's logit, the tier head's expected rank from
   the held-out-source folds (``training.holdout``) and ``log(1 + tokens)``, pooled or
   with one intercept per outcome set. Per-set intercepts keep the weights to what
   orders prompts *within* a set (which is what APGR and a threshold see) instead of
   what tells one set's base rate from another's; the router uses their mean. The
   chosen weights are folded into the exported coefficients (``rank_weight``,
   ``length_weight``).
4. **Tier bands.** The tier stays the tier head's class (the readable one, trained on
   the guide's labels). Three cut points ``c1 < c2 < c3`` split the score into one band
   per tier, placed at the quantiles of the training rows' scores that match the tier
   head's share of each tier on them; the router moves a decision's score into its
   tier's band with :func:`router.types.squeeze_into_band` (margin ``BAND_MARGIN``), so
   a higher tier never has a lower score and scores inside a tier keep their order. The
   report records how often a held-out score fell outside its tier's band (the
   decisions where the two disagree).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from training import featurize as F
from training.config import TIER_RANK
from training.dataset import TrainingData, from_guide
from training.examples import TIER_NAMES, Example
from training.metrics import routing_summary

__all__ = [
    "BAND_MARGIN",
    "STACKS",
    "ScoreFit",
    "band_cuts",
    "fit_score",
    "fit_score_for_run",
    "outcome_rows",
    "squeeze",
]

_Array = np.ndarray[Any, Any]

# The stacker's candidate inputs (step 3): name -> (inputs, one intercept per set).
# Fixed before any were compared; the choice among them is made on the train outcome
# sets only, each held out whole.
STACKS: dict[str, tuple[tuple[str, ...], bool]] = {
    "fail+rank+length": (("fail", "rank", "length"), False),
    "fail+rank+length, per-set intercepts": (("fail", "rank", "length"), True),
    "length, per-set intercepts": (("length",), True),
}
# Share of a tier's band kept for scores that fall outside it (step 4): a design
# constant, not a fitted setting; it only decides how close to the band's middle an
# in-band probability is drawn (at most by this share of the band's width).
BAND_MARGIN = 0.1


@dataclass
class ScoreFit:
    coef: _Array  # (size,), stacking weight folded in
    intercept: float
    rank_weight: float
    length_weight: float
    cuts: tuple[float, float, float]
    report: dict[str, Any]
    band_margin: float = BAND_MARGIN


def outcome_rows(examples: Sequence[Example]) -> tuple[_Array, _Array, list[str], _Array]:
    """Indices of training rows with a pair outcome, the label (cheap model wrong), their
    outcome set names and the per-row weights (every set sums to the same)."""
    from training.evaluate import outcome_set

    idx, fail, sets = [], [], []
    for i, ex in enumerate(examples):
        out = ex.outcome or {}
        if ex.use != "train" or "weak_correct" not in out:
            continue
        name = outcome_set(ex)
        if name is None:
            continue
        idx.append(i)
        fail.append(0.0 if out["weak_correct"] else 1.0)
        sets.append(name)
    counts = {s: sets.count(s) for s in set(sets)}
    weights = np.asarray([1.0 / counts[s] for s in sets]) * (len(sets) / max(len(counts), 1))
    return np.asarray(idx, dtype=np.int64), np.asarray(fail), sets, weights


def _fit_binary(X: Any, y: _Array, w: _Array, C: float, max_iter: int) -> Any:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    est = LogisticRegression(C=C, max_iter=max_iter, tol=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y, sample_weight=w)
    return est


def _apgr(score: _Array, examples: Sequence[Example], idx: _Array) -> float:
    strong = np.asarray([float((examples[i].outcome or {})["strong_correct"]) for i in idx])
    weak = np.asarray([float((examples[i].outcome or {})["weak_correct"]) for i in idx])
    if strong.mean() == weak.mean():
        return 0.5
    return float(routing_summary(score, strong, weak)["apgr"])


def band_cuts(score: _Array, tier: _Array, w: _Array) -> tuple[float, float, float]:
    """Cut points at the weighted quantiles of ``score`` that give each band the share of
    rows the tier head puts in that tier (``tier``: predicted rank per row)."""
    order = np.argsort(score, kind="stable")
    cum = np.cumsum(w[order]) / w.sum()
    cuts = []
    for k in range(1, len(TIER_NAMES)):
        share = float(np.sum(w[tier < k]) / w.sum())
        at = min(int(np.searchsorted(cum, share)), len(cum) - 1)
        cuts.append(float(score[order][at]))
    for k in range(1, len(cuts)):
        cuts[k] = max(cuts[k], cuts[k - 1] + 1e-6)  # bands of positive width
    return cuts[0], cuts[1], cuts[2]


def squeeze(score: _Array, tier: _Array, cuts: Sequence[float], margin: float) -> _Array:
    """``score`` moved into the band of ``tier`` keeping its order inside the band: the
    array form of :func:`router.types.squeeze_into_band`, which the router applies."""
    lo = np.concatenate([[0.0], np.asarray(cuts)])[tier]
    hi = np.concatenate([np.asarray(cuts), [1.0]])[tier]
    edge = margin * (hi - lo)
    with np.errstate(divide="ignore", invalid="ignore"):
        below = lo + edge * (score / lo)
        above = hi - edge * ((1.0 - score) / (1.0 - hi))
    inside = lo + edge + (score - lo) * (1.0 - 2.0 * margin)
    out: _Array = np.where(score < lo, below, np.where(score > hi, above, inside))
    return out


def fit_score(
    examples: Sequence[Example],
    X: Any,
    held_out_rank: _Array | None,
    held_out_tier: _Array | None,
    log_tokens: _Array,
    tier_labels: _Array,
    label_weights: _Array,
    c_grid: Sequence[float],
    folds: int,
    max_iter: int,
    tick: Callable[[str], None],
) -> ScoreFit | None:
    """Fit, select, calibrate and cut (see the module docstring); ``None`` without outcomes.

    ``X`` is the design matrix of every training row; ``held_out_rank`` and
    ``held_out_tier`` the tier head's expected rank and chosen rank for every row from
    models that did not see it (``None``: 0 and the labels); ``log_tokens`` is
    ``log(1 + tokens)``; ``tier_labels`` the guide label rank per row (-1 unlabelled),
    ``label_weights`` the training weights.
    """
    idx, y, sets, w = outcome_rows(examples)
    names = sorted(set(sets))
    if len(names) < 2 or len(np.unique(y)) < 2:
        return None
    set_arr = np.asarray(sets)
    fold_of = {s: k % folds for k, s in enumerate(names)}
    fold = np.asarray([fold_of[s] for s in sets])
    Xo = X[idx]
    trials = []
    oos_best: _Array | None = None
    best_c, best_apgr = c_grid[0], -1.0
    for C in c_grid:
        oos = np.zeros(len(idx))
        for k in range(min(folds, len(names))):
            train, test = fold != k, fold == k
            est = _fit_binary(Xo[train], y[train], w[train], C, max_iter)
            oos[test] = est.decision_function(Xo[test])
            tick(f"score: C={C:g}, fold {k + 1}")
        per_set = {s: _apgr(oos[set_arr == s], examples, idx[set_arr == s]) for s in names}
        mean = float(np.mean(list(per_set.values())))
        trials.append({"C": C, "mean_apgr": round(mean, 5), "apgr": _round(per_set)})
        if mean > best_apgr + 1e-9:
            best_c, best_apgr, oos_best = C, mean, oos
    assert oos_best is not None
    rank = held_out_rank if held_out_rank is not None else np.zeros(X.shape[0])
    chosen_tier = (
        held_out_tier if held_out_tier is not None else np.maximum(tier_labels, 0)
    ).astype(np.int64)
    inputs = {"fail": oos_best, "rank": rank[idx], "length": log_tokens[idx]}
    stack_trials, best_stack, best_stack_apgr = [], "", -1.0
    for name, (used, by_set) in STACKS.items():
        Z = np.column_stack([inputs[k] for k in used])
        per_held_out = {}
        for s in names:
            out = set_arr == s
            weights, bias = _fit_stacker(Z[~out], y[~out], w[~out], set_arr[~out], by_set)
            # Inside the held-out set the router's order is tier first, then this
            # probability (squeeze keeps both), so APGR is measured on that order.
            z = Z[out] @ weights + bias
            order = chosen_tier[idx][out] + _sigmoid(z)
            per_held_out[s] = _apgr(order, examples, idx[out])
        mean = float(np.mean(list(per_held_out.values())))
        stack_trials.append(
            {"inputs": name, "mean_apgr": round(mean, 5), "apgr": _round(per_held_out)}
        )
        tick(f"score: stacker {name}")
        if mean > best_stack_apgr + 1e-9:
            best_stack, best_stack_apgr = name, mean
    used, by_set = STACKS[best_stack]
    weights, c0 = _fit_stacker(np.column_stack([inputs[k] for k in used]), y, w, set_arr, by_set)
    coef_of = dict(zip(used, (float(v) for v in weights), strict=True))
    a, b, g = coef_of.get("fail", 0.0), coef_of.get("rank", 0.0), coef_of.get("length", 0.0)
    if a != 0.0:
        final = _fit_binary(Xo, y, w, best_c, max_iter)
        tick("score: final fit")
        head, head_bias = np.asarray(final.coef_[0]), float(final.intercept_[0])
    else:  # the chosen stacker does not read the fail head
        head, head_bias = np.zeros(Xo.shape[1]), 0.0
    coef = head * a
    intercept = head_bias * a + c0

    calibrated = _sigmoid(a * oos_best + b * rank[idx] + g * log_tokens[idx] + c0)
    # Every training row's score as the router computes it (outcome rows keep their
    # out-of-set fail logit, others the final head's), and the tier the head gave it.
    logit = np.asarray(X @ head).ravel() + head_bias
    logit[idx] = oos_best
    score = _sigmoid(a * logit + b * rank + g * log_tokens + c0)
    labelled = tier_labels >= 0
    tier = chosen_tier
    cuts = band_cuts(score, tier, label_weights)
    banded = squeeze(score, tier, cuts, BAND_MARGIN)
    lo = np.concatenate([[0.0], np.asarray(cuts)])[tier]
    hi = np.concatenate([np.asarray(cuts), [1.0]])[tier]
    moved = float(np.average((score < lo) | (score > hi), weights=label_weights))
    held_out = {
        s: {
            "calibrated": round(_apgr(calibrated[set_arr == s], examples, idx[set_arr == s]), 4),
            "in_tier_bands": round(
                _apgr(banded[idx][set_arr == s], examples, idx[set_arr == s]), 4
            ),
        }
        for s in names
    }
    bands = np.searchsorted(np.asarray(cuts), score[labelled], side="right")
    acc = float(np.average(bands == tier_labels[labelled], weights=label_weights[labelled]))
    report = {
        "rows": len(idx),
        "sets": {s: int((set_arr == s).sum()) for s in names},
        "selection": {
            "on": f"{min(folds, len(names))} folds of whole outcome sets",
            "trials": trials,
            "C": best_c,
        },
        "stacking": {
            "inputs": best_stack,
            "on": "each train outcome set held out whole, routed tier first",
            "trials": stack_trials,
            "fail_logit": round(a, 6),
            "tier_rank": round(b, 6),
            "log_tokens": round(g, 6),
            "bias": round(c0, 6),
        },
        "held_out_apgr": held_out,
        "cuts": [round(c, 6) for c in cuts],
        "outside_band_share": round(moved, 4),
        "band_margin": BAND_MARGIN,
        # For comparison only: the guide-labelled rows' tier accuracy if the tier were
        # read off the unclamped score's bands instead of the tier head.
        "tier_from_score_bands_accuracy": round(acc, 4),
    }
    return ScoreFit(coef, intercept, b, g, (cuts[0], cuts[1], cuts[2]), report)


def fit_score_for_run(
    data: TrainingData,
    rows: F.Rows,
    held_out_tier: _Array | None,
    tick: Callable[[str], None],
) -> ScoreFit | None:
    """:func:`fit_score` on a training run's rows, or None when it is off or has no data.

    ``held_out_tier`` holds the tier probabilities of the held-out-source folds (None:
    one source). Only the guide's tier labels are passed on: a label mapped from a
    benchmark's fields counts as none.
    """
    cfg = data.cfg
    if not cfg.score_c_grid:
        return None
    y = data.labels("tier")
    guide = np.asarray([from_guide(ex) for ex in data.examples])
    ranks = np.asarray(
        [TIER_RANK.get(str(c), -1) if g else -1 for c, g in zip(y, guide, strict=True)]
    )
    rank = (
        held_out_tier @ np.arange(len(TIER_NAMES), dtype=np.float64)
        if held_out_tier is not None
        else None
    )
    chosen = held_out_tier.argmax(axis=1) if held_out_tier is not None else None
    return fit_score(
        data.examples,
        F.matrix(rows),
        rank,
        chosen,
        data.log_tokens(),
        ranks,
        data.weights(),
        cfg.score_c_grid,
        cfg.score_folds,
        cfg.max_iter,
        tick,
    )


def _sigmoid(z: _Array) -> _Array:
    out: _Array = 1.0 / (1.0 + np.exp(-z))
    return out


def _fit_stacker(
    Z: _Array, y: _Array, w: _Array, sets: _Array, per_set: bool
) -> tuple[_Array, float]:
    """Stacking weights and intercept; with ``per_set`` one intercept per outcome set
    during the fit and their mean as the intercept (every set weighs the same)."""
    if not per_set:
        est = _fit_binary(Z, y, w, 1e4, 1000)
        return np.asarray(est.coef_[0]), float(est.intercept_[0])
    from sklearn.linear_model import LogisticRegression

    names = sorted(set(sets.tolist()))
    dummies = np.column_stack([(sets == s).astype(np.float64) for s in names])
    est = LogisticRegression(C=1e4, max_iter=1000, tol=1e-3, fit_intercept=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(np.column_stack([Z, dummies]), y, sample_weight=w)
    k = Z.shape[1]
    return np.asarray(est.coef_[0][:k]), float(np.mean(est.coef_[0][k:]))


def _round(d: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in d.items()}
