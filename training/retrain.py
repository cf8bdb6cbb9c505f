"""Champion/challenger retraining on the user's own decision log.

``train_with_logs`` (behind ``tierrouter train --logs``):

1. turns the log into labelled rows (:mod:`training.log_labels`) and splits them
   by a hash of the decision id: ``held_out`` of them are never trained on;
2. trains a *challenger* with :func:`training.train.train` on the bundled data
   plus the other log rows, each log row's weight multiplied by ``log_weight``;
3. scores challenger and *champion* (the promoted model, else the bundled one),
   each exactly as ``Router(model=...)`` decides, on the held-out log rows:
   weighted tier accuracy is the score; within-one, under-/over-tier rates and
   task accuracy are reported beside it;
4. scores both, the same way, on a fixed sample of the bundled training rows (the
   *guard*): a challenger fitted hard to the user's traffic can forget everything
   else, and held-out log rows, drawn from that same traffic, would not show it;
5. stores the challenger in the registry (:mod:`router.log.registry`) with a
   ``metrics.json``, and promotes it only if its score beats the champion's by
   more than ``min_gain`` on at least ``min_held_out`` rows *and* its guard score
   is no more than ``max_regression`` below the champion's (``force=True``
   promotes regardless). Nothing is deleted: ``tierrouter models rollback``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from router.log.store import DecisionLog
from training.examples import TIER_NAMES, Example
from training.log_labels import LabelReport, labels_from_log, split
from training.train import Progress, TrainConfig, load_training_data, save, train

__all__ = ["RetrainResult", "guard_sample", "score_rows", "train_with_logs"]


@dataclass
class RetrainResult:
    name: str
    path: Path
    promoted: bool
    reason: str
    metrics: dict[str, Any]
    labels: LabelReport = field(repr=False, default_factory=LabelReport)


def score_rows(model: Any, rows: Sequence[Example]) -> dict[str, Any]:
    """How a model (path, artifact, or None for the bundled one) decides the labelled rows."""
    from router.router import Router

    router = Router(model=model if model is not None else None)
    total = hit = near = under = over = 0.0
    task_rows = task_hit = 0.0
    for ex in rows:
        d = router.classify(ex.messages if ex.messages is not None else ex.text)
        w = ex.weight
        if ex.tier is not None:
            got, want = TIER_NAMES.index(d.tier.value), TIER_NAMES.index(ex.tier)
            total += w
            hit += w * (got == want)
            near += w * (abs(got - want) <= 1)
            under += w * (got < want)
            over += w * (got > want)
        if ex.task is not None:
            task_rows += w
            task_hit += w * (d.task.value == ex.task)
    return {
        "model_version": router.classifier.model.version if router.classifier.model else "rules",
        "rows": len(rows),
        "score": hit / total if total else None,
        "tier_accuracy": hit / total if total else None,
        "within_one": near / total if total else None,
        "under_tier": under / total if total else None,
        "over_tier": over / total if total else None,
        "task_accuracy": task_hit / task_rows if task_rows else None,
    }


def guard_sample(rows: Sequence[Example], size: int, seed: int) -> list[Example]:
    """Up to ``size`` tier-labelled rows, chosen by a seeded hash of their ids.

    A hash, not the row order, so the sample does not follow how sources are listed,
    and the same rows come back on every run with the same seed.
    """

    def key(ex: Example) -> bytes:
        return hashlib.blake2b(f"{seed}:{ex.id}".encode(), digest_size=8).digest()

    return sorted((ex for ex in rows if ex.tier is not None), key=key)[:size]


def _champion(registry: str | Path | None, fleet: Any = None) -> tuple[Any, str]:
    from router.decision.artifact import bundled_artifact_path
    from router.log.registry import promoted_version, registry_root

    if fleet is not None:
        current = fleet.champion()
        if current is not None:
            return fleet.fetch(current), current
        return bundled_artifact_path(), "bundled"

    name = promoted_version(registry)
    if name is not None:
        return registry_root(registry) / name / "model.json", name
    return bundled_artifact_path(), "bundled"


def train_with_logs(
    log: DecisionLog | str | Path,
    *,
    data: Sequence[Path] = (),
    public: bool = True,
    base_rows: Sequence[Example] | None = None,
    log_weight: float = 3.0,
    held_out: float = 0.3,
    min_held_out: int = 5,
    min_gain: float = 0.0,
    max_regression: float = 0.02,
    guard_size: int = 800,
    force: bool = False,
    promote: bool = True,
    registry: str | Path | None = None,
    cfg: TrainConfig | None = None,
    progress: Progress | None = None,
    on_stage: Callable[[str], None] = lambda _: None,
) -> RetrainResult:
    """Train a challenger on bundled data + labelled logs; promote it only if it beats the champion.

    Args:
        log: a decision log or the path of one.
        data, public: the bundled training data, as ``tierrouter train --data/--public``.
        base_rows: use these rows instead of loading ``data`` (tests, notebooks: a small slice).
        log_weight: multiplies each log row's weight (the label rules set the base weight).
        held_out: share of labelled log rows kept for the champion/challenger comparison.
        max_regression: how far below the champion the challenger's tier accuracy on the
            guard rows (bundled training rows) may fall and still be promoted.
        guard_size: how many bundled training rows the guard scores (a seeded sample).
        force: promote even when the challenger is not better.
        registry: model registry folder (default :func:`router.log.paths.model_dir`).
        progress: the trainer's progress (stage, fraction); ``on_stage``: the stages
            around it (reading the log, loading rows, scoring), one call each.

    Raises:
        ValueError: the log yields no labelled rows (the message says why).
    """
    from router.db.urls import is_postgres
    from router.log.registry import promote as do_promote
    from router.log.registry import registry_root
    from router.log.sqlite import SQLiteDecisionLog

    cfg = cfg or TrainConfig()
    fleet = None
    if is_postgres(log):
        # A fleet's store: its log is read as a stream, the challenger goes to its registry.
        from router.log.pg_registry import PgRegistry
        from router.log.postgres import PostgresDecisionLog

        fleet = PgRegistry(str(log))
        store: Any = PostgresDecisionLog(str(log))
    else:
        store = SQLiteDecisionLog(log) if isinstance(log, (str, Path)) else log
    on_stage(f"reading labels from {store.path}")
    labels = labels_from_log(store, weight=log_weight)
    if not labels.examples:
        raise ValueError(
            f"decision log {store.path}: {labels.summary()}; give feedback "
            "(`tierrouter feedback`) or judge labels (`tierrouter label --judge`), and keep "
            "prompt text (log: {store_prompts: true})"
        )
    train_log, test_log = split(labels.examples, held_out, cfg.seed)
    # The trainer's held-out-source folds need task labels in every fold, and a fold can
    # hold only log rows: uncorrected log rows carry the logged task there (the task the
    # router already predicts, so it teaches nothing new but breaks nothing).
    train_log = [
        replace(ex, task=labels.records[ex.id].task) if ex.task is None else ex for ex in train_log
    ]
    if base_rows is None:
        on_stage("loading the bundled training rows")
        rows, manifest = load_training_data(list(data), public=public)
    else:
        rows, manifest = list(base_rows), {"sets": [{"name": "given", "rows": len(base_rows)}]}
    manifest = {**manifest, "sets": [*manifest.get("sets", []),
                {"name": "user_log", "use": "train", "licence": "user-supplied",
                 "rows": len(train_log), "log": str(store.path)}]}  # fmt: skip
    result = train([*rows, *train_log], manifest, cfg, progress)

    base = registry_root(registry)
    name = f"{dt.datetime.now():%Y%m%d-%H%M%S}-{result.meta['version']}"
    folder = base / name
    save(result, folder / "model")
    champion_model, champion_name = _champion(registry, fleet)
    on_stage(f"scoring challenger and champion on {len(test_log)} held-out log rows")
    challenger = score_rows(folder / "model.json", test_log)
    champion = score_rows(champion_model, test_log)
    guard = guard_sample(rows, guard_size, cfg.seed)
    on_stage(f"guard: scoring both on {len(guard)} bundled training rows")
    guard_scores = {
        "rows": len(guard),
        "challenger": score_rows(folder / "model.json", guard)["score"],
        "champion": score_rows(champion_model, guard)["score"],
        "max_regression": max_regression,
    }
    c_score, k_score = challenger["score"], champion["score"]
    c_guard, k_guard = guard_scores["challenger"], guard_scores["champion"]
    if force:
        promoted, reason = True, "forced"
    elif len(test_log) < min_held_out or c_score is None or k_score is None:
        promoted = False
        reason = f"only {len(test_log)} held-out log rows (need {min_held_out})"
    elif c_score <= k_score + min_gain:
        promoted, reason = False, f"not better on held-out logs ({c_score:.3f} <= {k_score:.3f})"
    elif c_guard is not None and k_guard is not None and c_guard < k_guard - max_regression:
        promoted = False
        reason = (
            f"better on held-out logs ({c_score:.3f} > {k_score:.3f}) but worse on "
            f"{len(guard)} bundled training rows ({c_guard:.3f} < {k_guard:.3f} - "
            f"{max_regression:g}): it forgot what the bundled data teaches"
        )
    else:
        promoted, reason = True, f"better on held-out logs ({c_score:.3f} > {k_score:.3f})"
    metrics = {
        "created": time.time(),
        "version": result.meta["version"],
        "log": str(store.path),
        "log_rows": {
            "train": len(train_log),
            "held_out": len(test_log),
            "skipped_no_text": labels.skipped_no_text,
            "skipped_no_signal": labels.skipped_no_signal,
        },
        "base_rows": len(rows),
        "log_weight": log_weight,
        "held_out": {"challenger": challenger, "champion": {**champion, "name": champion_name}},
        "guard": guard_scores,
        "validation": result.meta["metrics"]["validation"],
        "decision": {"promoted": promoted, "reason": reason, "min_gain": min_gain},
    }
    import json

    (folder / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n", encoding="utf-8")
    if fleet is not None:
        fleet.publish(folder, name)
        if promoted and promote:
            fleet.promote(name)  # every instance serves it within seconds
    elif promoted and promote:
        do_promote(name, registry)
    return RetrainResult(name, folder, promoted and promote, reason, metrics, labels)


def print_result(result: RetrainResult, console: Any) -> None:
    """The challenger-vs-champion table ``tierrouter train --logs`` prints.

    Model names run to about 40 characters: they go on lines of their own, whole
    (``models promote`` takes them), so the table's six columns fit 80.
    """
    from rich.table import Table

    held = result.metrics["held_out"]
    rows = result.metrics["log_rows"]["held_out"]
    table = Table(f"{rows} held-out log rows", "score", "within 1", "under", "over", "task acc")
    for who in ("challenger", "champion"):
        m = held[who]

        def f(key: str, m: dict[str, Any] = m) -> str:
            return "—" if m.get(key) is None else f"{m[key]:.3f}"

        table.add_row(who, f("score"), f("within_one"), f("under_tier"), f("over_tier"),
                      f("task_accuracy"))  # fmt: skip
    console.print(result.labels.summary())
    console.print(f"challenger: {result.name}", overflow="fold")
    console.print(f"champion: {held['champion'].get('name', 'bundled')}", overflow="fold")
    console.print(table)
    console.print(
        "under / over: share of held-out rows given a lower / higher tier than their label"
    )
    guard = result.metrics["guard"]
    if guard["rows"]:
        console.print(
            f"guard, tier accuracy on {guard['rows']} bundled training rows: challenger "
            f"{guard['challenger']:.3f}, champion {guard['champion']:.3f}"
        )
    verdict = "promoted" if result.promoted else "kept the champion"
    console.print(f"{verdict}: {result.reason}; challenger stored as {result.path}")
