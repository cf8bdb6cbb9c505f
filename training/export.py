"""The artifact a run produces: the arrays the router scores with (temperatures and
stacking folded in), the JSON metadata beside them, and writing both to disk."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from router.decision.artifact import ARTIFACT_FORMAT, ARTIFACT_VERSION, FeatureLayout
from training.config import ABSENT_LOGIT, CLASSES, HEADS, HeadChoice, TrainConfig
from training.outcome_score import ScoreFit
from training.pipeline import FittedPipeline

__all__ = ["TrainResult", "build_result", "save"]


@dataclass
class TrainResult:
    meta: dict[str, Any]
    arrays: dict[str, np.ndarray[Any, Any]]
    pipeline: FittedPipeline
    seconds: float = 0.0


def _head_arrays(
    ests: dict[str, Any], temps: dict[str, float], layout: FeatureLayout
) -> dict[str, np.ndarray[Any, Any]]:
    """Each head's coefficients and intercepts over all its classes, divided by its
    temperature (in the estimators as well)."""
    arrays: dict[str, np.ndarray[Any, Any]] = {}
    for head in HEADS:
        est = ests[head]
        # Fold the temperature into the estimator itself so scikit-learn's
        # predict_proba and the numpy scorer agree to rounding.
        est.coef_ = est.coef_ / temps[head]
        est.intercept_ = est.intercept_ / temps[head]
        coef = np.zeros((len(CLASSES[head]), layout.size))
        bias = np.full(len(CLASSES[head]), ABSENT_LOGIT)
        for j, c in enumerate(est.classes_):
            k = CLASSES[head].index(str(c))
            coef[k] = est.coef_[j]
            bias[k] = est.intercept_[j]
        arrays[f"{head}_coef"] = coef
        arrays[f"{head}_intercept"] = bias
    return arrays


def build_result(
    *,
    cfg: TrainConfig,
    layout: FeatureLayout,
    ests: dict[str, Any],
    choices: dict[str, HeadChoice],
    trials: dict[str, Any],
    temps: dict[str, float],
    low_conf: dict[str, Any],
    within: dict[str, Any],
    score_fit: ScoreFit | None,
    rows: int,
    validation_rows: int,
    validation: dict[str, Any],
    held_out: dict[str, Any],
    manifest: dict[str, Any] | None,
    protocol: str,
    started: float,
) -> TrainResult:
    """The arrays, the metadata and the pipeline of a run from what its steps chose.

    ``started`` is the run's ``time.perf_counter()`` at its start; ``protocol`` the text
    recorded as ``meta["training"]["protocol"]``.
    """
    import sklearn

    arrays = _head_arrays(ests, temps, layout)
    if score_fit is not None:
        arrays["score_coef"] = score_fit.coef.reshape(1, -1)
        arrays["score_intercept"] = np.asarray([score_fit.intercept])
    digest = hashlib.sha256()
    for name in sorted(arrays):
        digest.update(np.ascontiguousarray(arrays[name]).tobytes())
    # The within-tier weights change decisions as much as the coefficients do.
    digest.update(json.dumps(within["score"], sort_keys=True).encode())
    score_meta = (
        {
            "kind": "probability that the cheap model of a pair falls short",
            "rank_weight": score_fit.rank_weight,
            "length_weight": score_fit.length_weight,
            "cuts": list(score_fit.cuts),
            "band_margin": score_fit.band_margin,
        }
        if score_fit is not None
        else None
    )
    digest.update(json.dumps(score_meta, sort_keys=True).encode())
    seconds = time.perf_counter() - started
    meta: dict[str, Any] = {
        "format": ARTIFACT_FORMAT,
        "format_version": ARTIFACT_VERSION,
        "version": f"{_dt.date.today():%Y%m%d}-{digest.hexdigest()[:12]}",
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "libraries": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scikit-learn": sklearn.__version__,
        },
        "features": layout.to_json(),
        "heads": {
            head: {
                "classes": list(CLASSES[head]),
                "absent_classes": [
                    c for c in CLASSES[head] if c not in set(map(str, ests[head].classes_))
                ],
                "temperature": round(temps[head], 6),
                "selection": choices[head].to_json(),
                "trials": trials[head],
            }
            for head in HEADS
        },
        "low_confidence": {"threshold": low_conf["threshold"], "policy": low_conf["policy"]},
        "within_tier": within["score"],
        **({"score": score_meta} if score_meta is not None else {}),
        "training": {
            "seed": cfg.seed,
            "rows": rows,
            "validation_rows": validation_rows,
            "protocol": protocol,
            "config": {
                "validation_share": cfg.validation_share,
                "min_df": cfg.min_df,
                "vocabulary_size": cfg.vocabulary_size,
                "c_grid": list(cfg.c_grid),
                "holdout_folds": cfg.holdout_folds,
                "max_iter": cfg.max_iter,
                "length_weight_grid": list(cfg.length_weight_grid),
                "ngram_features": cfg.ngram_features,
                "ngram_head": cfg.ngram_head,
                "ngram_tail": cfg.ngram_tail,
                "score_c_grid": list(cfg.score_c_grid),
                "score_folds": cfg.score_folds,
                "tier_from_outcomes": cfg.tier_from_outcomes,
            },
            "seconds": round(seconds, 1),
            "manifest": manifest or {},
        },
        "metrics": {
            "validation": validation,
            "low_confidence_selection": low_conf,
            "within_tier_selection": within["selection"],
            **({"outcome_score": score_fit.report} if score_fit is not None else {}),
            "held_out_sources": held_out,
        },
    }
    pipeline = FittedPipeline(layout.to_json(), ests, {h: choices[h].groups for h in HEADS})
    return TrainResult(meta, arrays, pipeline, seconds)


def save(result: TrainResult, out: Path, *, joblib_limit: int = 2_000_000) -> dict[str, Path]:
    """Write ``<out>.json``, ``<out>.npz`` and ``<out>.joblib`` (the last only if small)."""
    import joblib

    meta_path = out.with_suffix(".json")
    meta_path.parent.mkdir(parents=True, exist_ok=True)
    written = {"json": meta_path, "npz": out.with_suffix(".npz")}
    np.savez_compressed(written["npz"], **result.arrays)  # type: ignore[arg-type]
    meta_path.write_text(
        json.dumps(result.meta, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    job = out.with_suffix(".joblib")
    joblib.dump(result.pipeline, job, compress=3)
    if job.stat().st_size > joblib_limit:
        job.unlink()
    else:
        written["joblib"] = job
    return written
