"""The rows kept out of fitting and the reports on them: the validation slice, and the
held-out-source folds (each hold-out unit predicted by heads fitted without it)."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from training import featurize as F
from training.calibration import fit_temperature
from training.config import HEADS, HeadChoice, Tick, TrainConfig
from training.dataset import TrainingData, set_name
from training.estimators import fit_heads, logits, softmax
from training.examples import TASK_NAMES, TIER_NAMES, Example
from training.metrics import classification_report

__all__ = ["held_out_sources", "holdout_unit", "report", "validation_split"]


def _hash_unit(text: str, seed: int) -> float:
    digest = hashlib.sha256(f"{seed}:{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def validation_split(
    examples: list[Example], cfg: TrainConfig
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """The fitting and validation row indices, by a seeded hash of each row id (so a row
    stays on its side when rows are added)."""
    is_val = np.asarray([_hash_unit(ex.id, cfg.seed) < cfg.validation_share for ex in examples])
    fit_idx, val_idx = np.nonzero(~is_val)[0], np.nonzero(is_val)[0]
    if len(val_idx) == 0 or len(fit_idx) == 0:
        raise ValueError(f"{len(examples)} rows are too few for a validation split")
    return fit_idx, val_idx


def holdout_unit(ex: Example) -> str:
    """The unit held out together: a project source, a public set, or an MMLU subject.

    ``group`` is that unit for every row but RouteLLM's MMLU subjects: a set that
    repeats another set's prompts takes its twin's group (arena-bench-v1 is Arena,
    ZeroEval's MATH-L5 is MATH), so a fold never trains on one copy and scores the other.
    """
    if ex.source.startswith("routellm_outcomes/"):
        return ex.source
    return ex.group


def report(
    data: TrainingData, idx: np.ndarray[Any, Any], probs: dict[str, np.ndarray[Any, Any]]
) -> dict[str, Any]:
    """Both heads' classification report on the rows ``idx``, without confusion matrices."""
    task_pred = [TASK_NAMES[k] for k in probs["task"].argmax(axis=1)]
    tier_pred = [TIER_NAMES[k] for k in probs["tier"].argmax(axis=1)]
    result = classification_report(
        [data.examples[i].task for i in idx.tolist()],
        task_pred,
        [data.examples[i].tier for i in idx.tolist()],
        tier_pred,
        probs["tier"].max(axis=1).tolist(),
        TASK_NAMES,
        TIER_NAMES,
    )
    for head in result.values():
        head.pop("confusion", None)
        head.pop("labels", None)
    return result


def held_out_sources(
    data: TrainingData,
    choices: dict[str, HeadChoice],
    temps: dict[str, float],
    tick: Tick,
) -> tuple[dict[str, Any], np.ndarray[Any, Any] | None]:
    """The held-out-source report and the held-out tier probabilities (None: one source).

    With ``calibrate_on_held_out_sources`` the temperatures in ``temps`` are replaced,
    in place, by ones fitted on the held-out predictions.
    """
    cfg = data.cfg
    units = sorted({holdout_unit(ex) for ex in data.examples})
    if len(units) < 2:
        return {"folds": 0, "note": "a single source: nothing to hold out"}, None
    folds = min(cfg.holdout_folds, len(units))
    ranked = sorted(units, key=lambda u: _hash_unit(u, cfg.seed))
    fold_of = {u: k % folds for k, u in enumerate(ranked)}
    unit_arr = np.asarray([fold_of[holdout_unit(ex)] for ex in data.examples])
    held_out = {
        "task": np.zeros((len(data.examples), len(TASK_NAMES))),
        "tier": np.zeros((len(data.examples), len(TIER_NAMES))),
    }
    for k in range(folds):
        train_idx = np.nonzero(unit_arr != k)[0]
        test_idx = np.nonzero(unit_arr == k)[0]
        _, ests, rows = fit_heads(data, train_idx, choices)
        for head in HEADS:
            X = F.matrix(rows, choices[head].groups)[test_idx]
            held_out[head][test_idx] = logits(ests[head], X, head)
        tick(f"held-out fold {k + 1}/{folds}")
    if data.cfg.calibrate_on_held_out_sources:
        # Prompts from a source the model never saw are what it meets in use:
        # a temperature fitted on them keeps its confidence honest off the
        # training distribution, where one fitted on a random slice of the
        # training rows leaves it overconfident.
        w = data.weights()
        for head in HEADS:
            y = data.labels(head)
            labelled = y != ""
            temps[head] = fit_temperature(held_out[head][labelled], y[labelled], w[labelled], head)
    task_p = softmax(held_out["task"] / temps["task"])
    tier_p = softmax(held_out["tier"] / temps["tier"])
    everything = np.arange(len(data.examples))
    result: dict[str, Any] = {
        "folds": folds,
        "units": {u: fold_of[u] for u in units},
        "temperatures": {head: round(temps[head], 6) for head in HEADS},
        "all": report(data, everything, {"task": task_p, "tier": tier_p}),
    }
    by_family: dict[str, list[int]] = {}
    for i, ex in enumerate(data.examples):
        by_family.setdefault(_family(ex), []).append(i)
    predicted = tier_p.argmax(axis=1)
    result["by_source"] = {
        fam: {
            "rows": len(ix),
            **report(data, np.asarray(ix), {"task": task_p[ix], "tier": tier_p[ix]}),
            # Where a held-out source's prompts were sent, whatever their labels:
            # e.g. the share of Arena prompts (hard by construction) sent to SIMPLE.
            "predicted_tiers": {
                t: round(float(np.mean(predicted[ix] == k)), 4) for k, t in enumerate(TIER_NAMES)
            },
        }
        for fam, ix in sorted(by_family.items())
    }
    return result, tier_p


def _family(ex: Example) -> str:
    """Reporting bucket: project sources by name, MMLU as one, other public sets by name."""
    if ex.source.startswith("routellm_outcomes/mmlu"):
        return "routellm_outcomes/mmlu (train subjects)"
    return ex.source if ex.group == ex.source else set_name(ex)
