"""The within-tier score: where a prompt sits inside its tier's band, from the expected
tier rank and its length, with the length weight chosen by within-tier concordance."""

from __future__ import annotations

from typing import Any

import numpy as np

from router.types import band_position
from training.config import TIER_RANK
from training.dataset import TrainingData
from training.examples import TIER_NAMES

__all__ = ["choose_length_weight", "within_tier_concordance"]


def _ordered_mass(
    low: np.ndarray[Any, Any],
    w_low: np.ndarray[Any, Any],
    high: np.ndarray[Any, Any],
    w_high: np.ndarray[Any, Any],
) -> tuple[float, float]:
    """Weighted pairs (low-labelled, high-labelled) that the score orders right, ties half."""
    order = np.argsort(low, kind="stable")
    sorted_low = low[order]
    cum = np.concatenate([[0.0], np.cumsum(w_low[order])])
    below = cum[np.searchsorted(sorted_low, high, side="left")]
    equal = cum[np.searchsorted(sorted_low, high, side="right")] - below
    right = float(np.sum(w_high * (below + 0.5 * equal)))
    return right, float(w_high.sum() * w_low.sum())


def within_tier_concordance(
    tier: np.ndarray[Any, Any],
    label: np.ndarray[Any, Any],
    z: np.ndarray[Any, Any],
    w: np.ndarray[Any, Any],
) -> float:
    """Of two prompts given the same tier but labelled differently, how often ``z`` ranks the
    higher-labelled one higher (weighted; ties count half). 0.5 is a coin flip."""
    right = total = 0.0
    for t in np.unique(tier).tolist():
        here = tier == t
        for a in range(len(TIER_NAMES)):
            lo = here & (label == a)
            if not lo.any():
                continue
            for b in range(a + 1, len(TIER_NAMES)):
                hi = here & (label == b)
                if hi.any():
                    r, m = _ordered_mass(z[lo], w[lo], z[hi], w[hi])
                    right += r
                    total += m
    return right / total if total else 0.5


def choose_length_weight(
    data: TrainingData, idx: np.ndarray[Any, Any], tier_p: np.ndarray[Any, Any], where: str
) -> dict[str, Any]:
    """Choose the weight of log(1 + tokens) beside the expected tier rank inside a band.

    ``tier_p[k]`` is the prediction for row ``idx[k]`` from a model that did not fit it.
    Only the order inside a band matters to a threshold, so the criterion is the
    within-tier concordance with the tier labels. The routing APGR on rows with
    strong/weak outcomes (the MMLU train subjects) is recorded beside it, not used.
    """
    from training.metrics import routing_summary

    w_all = data.weights()
    tokens = data.log_tokens()
    center = float(np.average(tokens, weights=w_all))
    y = data.labels("tier")[idx]
    labelled = y != ""
    label = np.asarray([TIER_RANK.get(str(c), -1) for c in y])
    tier = tier_p.argmax(axis=1)
    expected = tier_p @ np.arange(len(TIER_NAMES), dtype=np.float64)
    tok, w = tokens[idx], w_all[idx]
    outcome = [
        k
        for k, i in enumerate(idx.tolist())
        if "strong_correct" in (data.examples[i].outcome or {})
    ]
    pairs = np.asarray(
        [
            (
                float((data.examples[idx[k]].outcome or {})["strong_correct"]),
                float((data.examples[idx[k]].outcome or {})["weak_correct"]),
            )
            for k in outcome
        ]
    ).reshape(-1, 2)
    trials = []
    best: tuple[float, float] = (-1.0, 0.0)
    for weight in data.cfg.length_weight_grid:
        z = expected - tier + weight * (tok - center)
        trial: dict[str, Any] = {
            "length_weight": weight,
            "concordance": round(
                within_tier_concordance(tier[labelled], label[labelled], z[labelled], w[labelled]),
                5,
            ),
        }
        if outcome:
            # The classifier's own placement, applied elementwise.
            score = tier[outcome] + band_position(z[outcome])
            trial["outcome_apgr"] = round(
                routing_summary(score, pairs[:, 0], pairs[:, 1])["apgr"], 5
            )
        trials.append(trial)
        # Strictly better only: a tie keeps the smaller weight (less length).
        if trial["concordance"] > best[0] + 1e-9:
            best = (trial["concordance"], weight)
    return {
        "score": {"length_weight": best[1], "length_center": round(center, 6)},
        "selection": {
            "on": where,
            "rows": int(labelled.sum()),
            "outcome_rows": len(outcome),
            "trials": trials,
        },
    }
