"""Fit the task and tier heads and export the artifact the router scores with numpy.

Protocol (every choice below is made on training data only; eval sets never are read):

1. **Data.** Public sets marked *train* (``training.sources.load_all(use="train")``,
   with the hand labels of ``data/labels/`` joined on) plus the project's
   ``data/*.jsonl``; or, with ``--data``, the user's files in that
   format (public sets still join unless ``public=False``).
2. **Validation slice.** 20 % of the training rows, chosen by a seeded hash of the row
   id (stable when rows are added). Model selection, temperature and the
   low-confidence policy are fitted on it; the other 80 % fits the candidates.
3. **Selection, per head.** ``C`` over a small grid with every feature group, then
   each group (language one-hot, length buckets, vocabulary, hashed n-grams) dropped
   in turn, and class balancing, keeping whatever lowers the weighted validation
   log-loss. A
   dropped group is zeroed, not removed, so its coefficients export as zeros and
   the artifact layout stays the same.
4. **Held-out sources.** Hold-out units (each project ``source``, each public set,
   each MMLU subject) are dealt into three folds; each fold is refitted without its
   units and scored on them, so these numbers describe prompts unlike any seen in
   training. The vocabulary is rebuilt without the held-out rows too.
5. **Final fit** on all training rows with the chosen settings; the temperatures fitted
   on validation are folded into coefficients and intercepts (both divided by T), in
   the exported arrays and in the saved scikit-learn estimators alike.
6. **Within-tier score.** ``Decision.score`` places a prompt inside its tier's band by
   ``expected tier rank + w * (log(1 + tokens) - center)``. ``w`` is chosen from
   ``TrainConfig.length_weight_grid`` by the weighted within-tier concordance of the
   held-out-source predictions of step 4 (of two prompts given the same tier, does
   the one labelled higher score higher?); ties keep the smaller weight.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from training import featurize as F
from training.calibration import fit_temperature
from training.config import HEADS, HeadChoice, Progress, TrainConfig
from training.dataset import TrainingData, load_training_data
from training.estimators import fit_head, fit_heads, logits, softmax
from training.examples import Example
from training.export import TrainResult, build_result
from training.holdout import held_out_sources, report, validation_split
from training.low_confidence import low_confidence_policy
from training.outcome_score import fit_score_for_run
from training.pipeline import FittedPipeline, load_pipeline
from training.selection import select_head
from training.within_tier import choose_length_weight

# FittedPipeline stays importable here: joblib files written before it moved to
# training/pipeline.py (the shipped models/tierrouter-model.joblib among them) pickle it
# as training.train.FittedPipeline.
__all__ = [
    "FittedPipeline",
    "TrainConfig",
    "TrainResult",
    "load_pipeline",
    "load_training_data",
    "train",
]


def train(
    examples: Sequence[Example],
    manifest: dict[str, Any] | None = None,
    cfg: TrainConfig = TrainConfig(),
    progress: Progress | None = None,
) -> TrainResult:
    """Select, calibrate, hold out, refit and package. Deterministic given ``cfg.seed``."""
    started = time.perf_counter()
    steps = (
        3 + 2 * (len(cfg.c_grid) + 5) + cfg.holdout_folds + 1
        + len(cfg.score_c_grid) * cfg.score_folds + 1
    )  # fmt: skip
    done = 0

    def tick(what: str) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(what, min(done / steps, 1.0))

    examples = list(examples)
    if not examples:
        raise ValueError("no training rows")
    tick("reading prompts")
    data = TrainingData(examples, F.extract(examples, F.default_extractor()), cfg)
    n = len(examples)
    fit_idx, val_idx = validation_split(examples, cfg)
    layout = data.layout(fit_idx)
    rows = data.rows(layout)
    w = data.weights()
    tick("vocabulary")

    choices: dict[str, HeadChoice] = {}
    trials: dict[str, Any] = {}
    temps: dict[str, float] = {}
    val_probs: dict[str, np.ndarray[Any, Any]] = {}
    val_raw: dict[str, np.ndarray[Any, Any]] = {}
    val_logits: dict[str, np.ndarray[Any, Any]] = {}
    for head in HEADS:
        y = data.labels(head)
        choices[head], trials[head] = select_head(head, rows, y, w, fit_idx, val_idx, cfg, tick)
        X = F.matrix(rows, choices[head].groups)
        labelled_fit = fit_idx[y[fit_idx] != ""]
        est = fit_head(X[labelled_fit], y[labelled_fit], w[labelled_fit], choices[head], cfg)
        head_logits = logits(est, X[val_idx], head)
        labelled = y[val_idx] != ""
        temps[head] = fit_temperature(
            head_logits[labelled], y[val_idx][labelled], w[val_idx][labelled], head
        )
        val_logits[head] = head_logits
        val_raw[head] = softmax(head_logits)
    # May replace the temperatures with ones fitted on held-out sources, so it
    # runs before anything that reads calibrated probabilities.
    held_out, held_out_tier = held_out_sources(data, choices, temps, tick)
    for head in HEADS:
        val_probs[head] = softmax(val_logits[head] / temps[head])
    if held_out_tier is not None:
        within = choose_length_weight(data, np.arange(n), held_out_tier, "held-out sources")
    else:
        within = choose_length_weight(data, val_idx, val_probs["tier"], "validation slice")
    validation = report(data, val_idx, val_probs)
    uncalibrated = report(data, val_idx, val_raw)
    if "tier" in validation and "tier" in uncalibrated:
        validation["tier"]["ece_before_temperature"] = uncalibrated["tier"]["ece"]
    low_conf = low_confidence_policy(data, val_idx, val_probs)
    tick("low-confidence policy")

    layout, ests, final_rows = fit_heads(data, np.arange(n), choices)
    tick("final fit")
    score_fit = fit_score_for_run(data, final_rows, held_out_tier, tick)
    return build_result(
        cfg=cfg,
        layout=layout,
        ests=ests,
        choices=choices,
        trials=trials,
        temps=temps,
        low_conf=low_conf,
        within=within,
        score_fit=score_fit,
        rows=n,
        validation_rows=len(val_idx),
        validation=validation,
        held_out=held_out,
        manifest=manifest,
        protocol=(__doc__ or "").split("Protocol", 1)[-1].strip(),
        started=started,
    )
