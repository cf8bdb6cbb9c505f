"""``tierrouter train --logs``: fit a user layer on the log's outcomes, compare, promote.

The fast path of retraining (seconds, no public data): the champion's model stays
as it is and a small logistic layer on its score (:mod:`training.user_layer`) is
fitted on the user's outcome targets (:mod:`training.outcomes`). The held-out
calls (the same hash split as the full retrain) judge challenger against champion
by the paired-bootstrap APGR rule of :mod:`training.promotion`; the layer never
changes the task head, so the bundled-data guard has nothing to check beyond
the scores being numbers in [0, 1].
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from pathlib import Path
from typing import Any

from router.log.store import DecisionLog
from training.log_labels import LabelReport
from training.outcomes import targets_from_log
from training.promotion import compare, decide, scores_valid
from training.retrain import (
    RetrainResult,
    _champion,
    _open_log,
    _store,
    _text_of,
    held_out_targets,
    record_scores,
)
from training.user_layer import BUCKETS, fit_layer, layer_data

__all__ = ["train_layer_with_logs"]


def train_layer_with_logs(
    log: DecisionLog | str | Path,
    *,
    held_out: float = 0.3,
    min_held_out: int = 30,
    resamples: int = 1000,
    seed: int = 0,
    buckets: int = BUCKETS,
    force: bool = False,
    promote: bool = True,
    registry: str | Path | None = None,
) -> RetrainResult:
    """Fit a user layer on ``log``'s outcome targets; promote it when it beats the champion.

    Raises:
        ValueError: the log holds no outcome targets with stored prompt text (the
            message says what to do), or it is a fleet's store (not supported yet:
            ``tierrouter train --logs URL --full``).
    """
    from router.decision.classifier import Classifier
    from router.log.registry import promote as do_promote
    from router.log.registry import promoted_version, registry_root

    started = time.perf_counter()
    store, fleet = _open_log(log)
    if fleet is not None:
        raise ValueError(
            "a user layer cannot be published to a fleet's store yet: retrain the whole "
            "model with `tierrouter train --logs URL --full`"
        )
    outcomes = targets_from_log(store)
    train_t, test_t = held_out_targets(outcomes, held_out, seed)
    if not train_t:
        raise ValueError(
            f"decision log {store.path}: {outcomes.summary()}; none to fit on with stored "
            "prompt text. Give feedback (`tierrouter feedback`), judge or shadow labels "
            "(`tierrouter label --judge/--shadow`), and keep prompt text "
            "(log: {store_prompts: true})"
        )
    champion_model, champion_layer, champion_name = _champion(registry)
    base = Classifier(model=champion_model)
    base_version = base.model.version if base.model else None
    current = promoted_version(registry)
    # The full model under the new layer: the champion layer's, a promoted full model, or
    # None for the bundled one.
    base_entry = champion_layer.info.get("base_entry") if champion_layer is not None else current
    digest = hashlib.sha256(",".join(t.record.id for t in train_t).encode()).hexdigest()[:8]
    name = f"{dt.datetime.now():%Y%m%d-%H%M%S}-layer-{digest}"
    data = layer_data(base, train_t, _text_of, buckets)
    layer = fit_layer(
        data, name=name, base_version=base_version, seed=seed,
        info={"base_entry": base_entry, "log": str(store.path)},
    )  # fmt: skip
    fitted = time.perf_counter() - started
    records = [t.record for t in test_t]
    c_scores = record_scores(champion_model, records, layer)
    k_scores = record_scores(champion_model, records, champion_layer)
    comparison = compare(
        k_scores, c_scores, [t.fell_short for t in test_t], resamples=resamples, seed=seed
    )
    verdict = decide(
        comparison,
        outcome_rows=len(test_t),
        min_rows=min_held_out,
        guard=None,
        max_task_drop=1.0,
        challenger_scores_valid=scores_valid(c_scores),
        force=force,
    )
    folder = registry_root(registry) / name
    layer.save(folder / "layer.json")
    metrics: dict[str, Any] = {
        "created": time.time(),
        "kind": "user layer",
        "version": f"{base_version}+{name}",
        "log": str(store.path),
        "log_rows": {"train": len(train_t), "held_out": len(test_t)},
        "outcomes": {"summary": outcomes.summary(), "held_out": len(test_t)},
        "layer": dict(layer.info),
        "held_out": {"challenger": {"name": name}, "champion": {"name": champion_name}},
        "comparison": comparison.to_dict() if comparison else None,
        "guard": {"rows": 0, "what": "none: a user layer leaves the task head as it is"},
        "seconds": {"fit": round(fitted, 3), "total": round(time.perf_counter() - started, 3)},
        "decision": {"promoted": verdict.promoted, "reason": verdict.reason, "rule": verdict.rule},
    }
    result = _store(folder, name, metrics, verdict, None, promote, registry, LabelReport(),
                    do_promote)  # fmt: skip
    # The total, comparison included, is what a user waits for; store it as measured.
    metrics["seconds"]["total"] = round(time.perf_counter() - started, 3)
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n", encoding="utf-8")
    return result
