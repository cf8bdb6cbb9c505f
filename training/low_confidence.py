"""The low-confidence policy: below which confidence the rules answer (or blend in)
instead of the model."""

from __future__ import annotations

from typing import Any

import numpy as np

from training.dataset import TrainingData
from training.examples import TASK_NAMES, TIER_NAMES

__all__ = ["low_confidence_policy"]


def low_confidence_policy(
    data: TrainingData,
    val_idx: np.ndarray[Any, Any],
    probs: dict[str, np.ndarray[Any, Any]],
) -> dict[str, Any]:
    """Pick the threshold and policy (rules or blend) that maximise validation accuracy.

    Mirrors ``Classifier._model_decision`` without the capability floors (they apply
    to model, rules and blend alike).
    """
    from router.router import Router

    rules = Router(model=False).classifier.rules
    task_y = data.labels("task")[val_idx]
    tier_y = data.labels("tier")[val_idx]
    rule_tier = np.zeros((len(val_idx), len(TIER_NAMES)))
    rule_task = np.zeros((len(val_idx), len(TASK_NAMES)))
    for k, i in enumerate(val_idx.tolist()):
        ex = data.extractions[i]
        tier_result = rules.tier(ex)
        _, task_scores = rules.task(ex.values)
        rule_tier[k] = [tier_result.probabilities[t] for t in TIER_NAMES]
        rule_task[k] = [task_scores[t] for t in TASK_NAMES]
    p_task, p_tier = probs["task"], probs["tier"]
    confidence = np.minimum(p_task.max(axis=1), p_tier.max(axis=1))

    def accuracy(tp: np.ndarray[Any, Any], rp: np.ndarray[Any, Any]) -> float:
        task_pred = np.asarray(TASK_NAMES, dtype=object)[tp.argmax(axis=1)]
        tier_pred = np.asarray(TIER_NAMES, dtype=object)[rp.argmax(axis=1)]
        t_ok = task_y != ""
        r_ok = tier_y != ""
        return float(((task_pred == task_y)[t_ok].mean() + (tier_pred == tier_y)[r_ok].mean()) / 2)

    grid = [0.0, *np.round(np.arange(0.2, 0.81, 0.05), 2).tolist()]
    table = []
    best: tuple[float, float, str] = (-1.0, 0.0, "rules")
    for policy in ("rules", "blend"):
        other_task = rule_task if policy == "rules" else (p_task + rule_task) / 2
        other_tier = rule_tier if policy == "rules" else (p_tier + rule_tier) / 2
        for threshold in grid:
            low = (confidence < threshold)[:, None]
            acc = accuracy(np.where(low, other_task, p_task), np.where(low, other_tier, p_tier))
            table.append({"policy": policy, "threshold": threshold, "val_accuracy": round(acc, 4)})
            # Strictly better only: ties keep the lower threshold (the model answers).
            if acc > best[0] + 1e-9:
                best = (acc, threshold, policy)
    return {
        "threshold": best[1],
        "policy": best[2],
        "val_accuracy": round(best[0], 4),
        "share_below": float((confidence < best[1]).mean()),
        "candidates": table,
    }
