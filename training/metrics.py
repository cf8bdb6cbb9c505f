"""Metrics shared by training (model selection, held-out reports) and evaluation.

Everything is plain numpy so the same numbers come out of ``tierrouter train`` and
``tierrouter eval``. The routing metrics follow RouteLLM (Ong et al., 2024):
the strong-model share is swept from 0 to 100 %, PGR (performance gap recovered)
is ``(quality - weak) / (strong - weak)``, APGR is the area under the PGR curve and
CPT(x %) the smallest strong-model share that recovers x % of the gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "classification_report",
    "ece",
    "macro_f1",
    "routing_curve",
    "routing_summary",
]

FloatArray = npt.NDArray[np.float64]


def macro_f1(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> float:
    """Macro-F1 over the labels that occur in ``y_true`` (absent classes would score 0)."""
    present = [c for c in labels if c in set(y_true)]
    scores = []
    for c in present:
        tp = sum(1 for t, p in zip(y_true, y_pred, strict=True) if t == c and p == c)
        fp = sum(1 for t, p in zip(y_true, y_pred, strict=True) if t != c and p == c)
        fn = sum(1 for t, p in zip(y_true, y_pred, strict=True) if t == c and p != c)
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(scores)) if scores else 0.0


def ece(confidence: Sequence[float], correct: Sequence[bool], bins: int = 10) -> float:
    """Expected calibration error of the top-class probability, equal-width bins."""
    conf = np.asarray(confidence, dtype=np.float64)
    hit = np.asarray(correct, dtype=np.float64)
    if len(conf) == 0:
        return 0.0
    which = np.minimum((conf * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.mean() * abs(conf[mask].mean() - hit[mask].mean())
    return float(total)


def classification_report(
    true_task: Sequence[str | None],
    pred_task: Sequence[str],
    true_tier: Sequence[str | None],
    pred_tier: Sequence[str],
    tier_confidence: Sequence[float],
    tasks: Sequence[str],
    tiers: Sequence[str],
) -> dict[str, Any]:
    """Task accuracy/macro-F1/confusion and tier accuracy/within-one/ECE on labelled rows."""
    out: dict[str, Any] = {}
    t_idx = [i for i, t in enumerate(true_task) if t is not None]
    if t_idx:
        yt = [str(true_task[i]) for i in t_idx]
        yp = [pred_task[i] for i in t_idx]
        out["task"] = {
            "rows": len(t_idx),
            "accuracy": float(np.mean([a == b for a, b in zip(yt, yp, strict=True)])),
            "macro_f1": macro_f1(yt, yp, tasks),
            "labels": list(tasks),
            "confusion": _confusion(yt, yp, tasks),
        }
    r_idx = [i for i, t in enumerate(true_tier) if t is not None]
    if r_idx:
        rank = {t: k for k, t in enumerate(tiers)}
        yt = [str(true_tier[i]) for i in r_idx]
        yp = [pred_tier[i] for i in r_idx]
        hits = [a == b for a, b in zip(yt, yp, strict=True)]
        out["tier"] = {
            "rows": len(r_idx),
            "accuracy": float(np.mean(hits)),
            "within_one": float(
                np.mean([abs(rank[a] - rank[b]) <= 1 for a, b in zip(yt, yp, strict=True)])
            ),
            "ece": ece([tier_confidence[i] for i in r_idx], hits),
            "labels": list(tiers),
            "confusion": _confusion(yt, yp, tiers),
        }
    return out


def _confusion(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]
) -> list[list[int]]:
    index = {c: i for i, c in enumerate(labels)}
    grid = [[0] * len(labels) for _ in labels]
    for t, p in zip(y_true, y_pred, strict=True):
        grid[index[t]][index[p]] += 1
    return grid


def routing_curve(
    score: npt.ArrayLike, strong: npt.ArrayLike, weak: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Strong-model share and quality when the highest-scoring prompts go to the strong model.

    Prompts with equal scores are indistinguishable to a threshold, so within a tie
    the gain is spread evenly: the curve is the expectation over random tie-breaks,
    which keeps coarse scorers (rules, length buckets) from being flattered or
    punished by row order.
    """
    s = np.asarray(score, dtype=np.float64)
    gain = np.asarray(strong, dtype=np.float64) - np.asarray(weak, dtype=np.float64)
    n = len(s)
    order = np.argsort(-s, kind="stable")
    sorted_scores = s[order]
    _, inverse, counts = np.unique(-sorted_scores, return_inverse=True, return_counts=True)
    tie_mean = np.bincount(inverse, weights=gain[order]) / counts
    cum = np.concatenate([[0.0], np.cumsum(tie_mean[inverse])])
    share = np.arange(n + 1, dtype=np.float64) / max(n, 1)
    quality = (float(np.sum(weak)) + cum) / max(n, 1)
    return share, quality


def routing_summary(
    score: npt.ArrayLike, strong: npt.ArrayLike, weak: npt.ArrayLike
) -> dict[str, Any]:
    """APGR, CPT(20/50/80 %) and a 21-point PGR curve for one scorer on one benchmark."""
    share, quality = routing_curve(score, strong, weak)
    q_weak = float(np.mean(np.asarray(weak, dtype=np.float64)))
    q_strong = float(np.mean(np.asarray(strong, dtype=np.float64)))
    gap = q_strong - q_weak
    pgr = (quality - q_weak) / gap if gap else np.zeros_like(quality)
    cpt = {}
    for target in (0.2, 0.5, 0.8):
        reached = np.nonzero(pgr >= target - 1e-12)[0]
        cpt[f"{round(target * 100)}%"] = float(share[reached[0]]) if len(reached) else None
    grid = np.linspace(0.0, 1.0, 21)
    return {
        "apgr": float(np.trapezoid(pgr, share)),
        "cpt": cpt,
        "curve": {
            "strong_share": grid.round(3).tolist(),
            "pgr": np.interp(grid, share, pgr).round(4).tolist(),
            "quality": np.interp(grid, share, quality).round(4).tolist(),
        },
    }
