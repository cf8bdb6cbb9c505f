"""Model selection per head: the ``C``, feature groups and class balance kept by the
weighted log-loss on the validation slice."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from training import featurize as F
from training.config import HeadChoice, Tick, TrainConfig
from training.estimators import fit_head, logloss, proba

__all__ = ["select_head"]


def select_head(
    head: str,
    rows: F.Rows,
    y: np.ndarray[Any, Any],
    w: np.ndarray[Any, Any],
    fit_idx: np.ndarray[Any, Any],
    val_idx: np.ndarray[Any, Any],
    cfg: TrainConfig,
    tick: Tick,
) -> tuple[HeadChoice, list[dict[str, Any]]]:
    """Greedy search on validation log-loss: C, then drop groups, then class balance."""
    fi = fit_idx[y[fit_idx] != ""]
    vi = val_idx[y[val_idx] != ""]
    cache: dict[F.FeatureGroups, Any] = {}

    def design(groups: F.FeatureGroups) -> Any:
        if groups not in cache:
            cache[groups] = F.matrix(rows, groups)
        return cache[groups]

    trials: list[dict[str, Any]] = []

    def score(choice: HeadChoice) -> float:
        X = design(choice.groups)
        est = fit_head(X[fi], y[fi], w[fi], choice, cfg)
        loss = logloss(proba(est, X[vi], head), y[vi], w[vi], head)
        trials.append({**choice.to_json(), "val_logloss": round(loss, 5)})
        tick(f"{head}: C={choice.C:g}, {choice.groups.label()}")
        return loss

    best = min((HeadChoice(c, F.FeatureGroups(), False) for c in cfg.c_grid), key=score)
    best_loss = min(t["val_logloss"] for t in trials)
    droppable = ["languages", "length_buckets", "vocabulary"]
    if rows.layout.ngrams is not None:
        droppable.append("ngrams")
    for name in droppable:
        candidate = replace(best, groups=replace(best.groups, **{name: False}))
        loss = score(candidate)
        if loss < best_loss:
            best, best_loss = candidate, loss
    candidate = replace(best, balanced=True)
    if score(candidate) < best_loss:
        best = candidate
    return best, trials
