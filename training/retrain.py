"""Champion/challenger retraining on the user's own decision log.

``train_with_logs`` (behind ``tierrouter train --logs``):

1. turns the log into labelled rows (:mod:`training.log_labels`) and outcome targets
   (:mod:`training.outcomes`: did a cheap model suffice or fall short), and holds out
   ``held_out`` of the calls by a hash of the decision id: they are never trained on;
2. trains a *challenger* with :func:`training.train.train` on the bundled data
   plus the other log rows, each log row's weight multiplied by ``log_weight``;
3. scores challenger and *champion* (the promoted model, else the bundled one),
   each exactly as ``Router(model=...)`` decides, on the held-out calls:
   ``Decision.score`` against the outcome targets by APGR and CPT(50 %) with a
   paired-bootstrap interval (:mod:`training.promotion`), and tier accuracy beside it;
4. scores both on a fixed sample of bundled training rows (the *guard*), only to
   catch a broken model: task accuracy that collapses there refuses the challenger;
5. stores the challenger in the registry (:mod:`router.log.registry`) with a
   ``metrics.json`` holding the comparison and the reason in words, and promotes
   it by the rule of :func:`training.promotion.decide` (``force=True`` promotes
   regardless). Nothing is deleted: ``tierrouter models rollback``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from router.log.store import DecisionLog, DecisionRecord
from training.config import Progress, TrainConfig
from training.examples import TIER_NAMES, Example
from training.log_labels import LabelReport, labels_from_log, split
from training.outcomes import OutcomeReport, Target, targets_from_log
from training.promotion import Verdict, compare, decide, scores_valid
from training.promotion import held_out as is_held_out

__all__ = ["RetrainResult", "guard_sample", "score_rows", "train_with_logs"]


@dataclass
class RetrainResult:
    name: str
    path: Path
    promoted: bool
    reason: str
    metrics: dict[str, Any]
    labels: LabelReport = field(repr=False, default_factory=LabelReport)


def score_rows(model: Any, rows: Sequence[Example], layer: Any = None) -> dict[str, Any]:
    """How a model (path, artifact, or None for the bundled one) decides the labelled rows."""
    from router.router import Router

    router = Router(model=model if model is not None else None)
    router.classifier.user_layer = layer
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


def _champion(registry: str | Path | None, fleet: Any = None) -> tuple[Any, Any, str]:
    """(model: path or artifact, user layer or None, name) of what routers decide with now."""
    from router.decision.artifact import bundled_artifact_path
    from router.log.registry import promoted_artifact, promoted_layer, promoted_version

    if fleet is not None:
        current = fleet.champion()
        if current is not None:
            return fleet.fetch(current), None, current
        return bundled_artifact_path(), None, "bundled"

    name = promoted_version(registry)
    if name is None:
        return bundled_artifact_path(), None, "bundled"
    artifact = promoted_artifact(registry)
    model = artifact if artifact is not None else bundled_artifact_path()
    return model, promoted_layer(registry), name


def _open_log(log: DecisionLog | str | Path) -> tuple[Any, Any]:
    """(store, fleet registry or None): a postgresql:// log is a fleet's, read as a stream."""
    from router.db.urls import is_postgres
    from router.log.sqlite import SQLiteDecisionLog

    if is_postgres(log):
        from router.log.pg_registry import PgRegistry
        from router.log.postgres import PostgresDecisionLog

        return PostgresDecisionLog(str(log)), PgRegistry(str(log))
    store = SQLiteDecisionLog(log) if isinstance(log, (str, Path)) else log
    return store, None


def _text_of(record: DecisionRecord) -> Any:
    from training.log_labels import _prompt

    text, messages = _prompt(record)
    return messages if messages is not None else text


def record_scores(model: Any, records: Sequence[DecisionRecord], layer: Any = None) -> list[float]:
    """``Decision.score`` of each record's stored prompt, as ``Router(model=...)`` decides."""
    from router.decision.classifier import Classifier

    clf = Classifier(model=model if model is not None else None)
    clf.user_layer = layer
    return [clf.classify(_text_of(r)).score for r in records]


def task_accuracy(model: Any, rows: Sequence[Example]) -> float | None:
    accuracy: float | None = score_rows(model, rows)["task_accuracy"]
    return accuracy


def _readable(value: Any) -> bool:
    """Whether a stored prompt can be decided again (a redacted-away or odd one cannot)."""
    from router.decision.inputs import read_prompt
    from router.errors import RouterInputError

    if value is None:
        return False
    try:
        read_prompt(value)
    except RouterInputError:
        return False
    return True


def held_out_targets(
    report: OutcomeReport, share: float, seed: int
) -> tuple[list[Target], list[Target]]:
    """(train, held-out) targets with stored prompt text, split like the labelled rows."""
    train_t: list[Target] = []
    test_t: list[Target] = []
    for t in report.targets:
        if not _readable(_text_of(t.record)):
            continue
        (test_t if is_held_out(f"log-{t.record.id}", share, seed) else train_t).append(t)
    return train_t, test_t


def train_with_logs(
    log: DecisionLog | str | Path,
    *,
    data: Sequence[Path] = (),
    public: bool = True,
    base_rows: Sequence[Example] | None = None,
    log_weight: float = 3.0,
    held_out: float = 0.3,
    min_held_out: int = 30,
    max_task_drop: float = 0.10,
    guard_size: int = 800,
    resamples: int = 1000,
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
        held_out: share of logged calls kept for the champion/challenger comparison.
        min_held_out: held-out calls with outcomes of both kinds needed for the APGR rule.
        max_task_drop: the guard refuses a challenger whose task accuracy on bundled rows
            falls more than this below the champion's (a broken model).
        guard_size: how many bundled training rows the guard scores (a seeded sample).
        resamples: bootstrap resamples for the APGR interval.
        force: promote even when the challenger is not better.
        registry: model registry folder (default :func:`router.log.paths.model_dir`).
        progress: the trainer's progress (stage, fraction); ``on_stage``: the stages
            around it (reading the log, loading rows, scoring), one call each.

    Raises:
        ValueError: the log yields no labelled rows (the message says why).
    """
    from router.log.registry import promote as do_promote
    from router.log.registry import registry_root
    from training.dataset import load_training_data
    from training.export import save
    from training.train import train

    cfg = cfg or TrainConfig()
    store, fleet = _open_log(log)
    on_stage(f"reading labels from {store.path}")
    labels = labels_from_log(store, weight=log_weight)
    outcomes = targets_from_log(store)
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
    champion_model, champion_layer, champion_name = _champion(registry, fleet)
    challenger_model = folder / "model.json"
    on_stage(f"scoring challenger and champion on {len(test_log)} held-out log rows")
    challenger = score_rows(challenger_model, test_log)
    champion = score_rows(champion_model, test_log, champion_layer)
    guard = guard_sample(rows, guard_size, cfg.seed)
    on_stage(f"guard: scoring both on {len(guard)} bundled training rows")
    guard_scores = {
        "rows": len(guard),
        "what": "task accuracy",
        "challenger": task_accuracy(challenger_model, guard) if guard else None,
        "champion": task_accuracy(champion_model, guard) if guard else None,
        "max_task_drop": max_task_drop,
    }
    _, test_targets = held_out_targets(outcomes, held_out, cfg.seed)
    records = [t.record for t in test_targets]
    c_scores = record_scores(challenger_model, records)
    k_scores = record_scores(champion_model, records, champion_layer)
    comparison = compare(
        k_scores, c_scores, [t.fell_short for t in test_targets],
        resamples=resamples, seed=cfg.seed,
    )  # fmt: skip
    verdict = decide(
        comparison,
        outcome_rows=len(test_targets),
        min_rows=min_held_out,
        guard=guard_scores,
        max_task_drop=max_task_drop,
        challenger_scores_valid=scores_valid(c_scores),
        tier=(challenger["score"], champion["score"], len(test_log)),
        force=force,
    )
    metrics = {
        "created": time.time(),
        "kind": "model",
        "version": result.meta["version"],
        "log": str(store.path),
        "log_rows": {
            "train": len(train_log),
            "held_out": len(test_log),
            "skipped_no_text": labels.skipped_no_text,
            "skipped_no_signal": labels.skipped_no_signal,
        },
        "outcomes": {"summary": outcomes.summary(), "held_out": len(test_targets)},
        "base_rows": len(rows),
        "log_weight": log_weight,
        "held_out": {"challenger": challenger, "champion": {**champion, "name": champion_name}},
        "comparison": comparison.to_dict() if comparison else None,
        "guard": guard_scores,
        "validation": result.meta["metrics"]["validation"],
        "decision": {"promoted": verdict.promoted, "reason": verdict.reason, "rule": verdict.rule},
    }
    return _store(folder, name, metrics, verdict, fleet, promote, registry, labels, do_promote)


def _store(
    folder: Path,
    name: str,
    metrics: dict[str, Any],
    verdict: Verdict,
    fleet: Any,
    promote: bool,
    registry: str | Path | None,
    labels: LabelReport,
    do_promote: Any,
) -> RetrainResult:
    import json

    (folder / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n", encoding="utf-8")
    if fleet is not None:
        fleet.publish(folder, name)
        if verdict.promoted and promote:
            fleet.promote(name)  # every instance serves it within seconds
    elif verdict.promoted and promote:
        do_promote(name, registry)
    return RetrainResult(
        name, folder, verdict.promoted and promote, verdict.reason, metrics, labels
    )


def print_result(result: RetrainResult, console: Any) -> None:
    """The challenger-vs-champion table ``tierrouter train --logs`` prints.

    Model names run to about 40 characters: they go on lines of their own, whole
    (``models promote`` takes them), so the table's six columns fit 80.
    """
    from rich.table import Table

    m = result.metrics
    cmp = m.get("comparison")
    held = m.get("held_out", {})
    table = Table("held-out calls", "APGR", "CPT(50%)", "tier acc", "task acc")

    def f(value: Any, digits: int = 3) -> str:
        return "—" if value is None or value != value else f"{value:.{digits}f}"

    for who in ("challenger", "champion"):
        h = held.get(who, {})
        table.add_row(
            who,
            f(cmp[f"{who}_apgr"]) if cmp else "—",
            f(cmp[f"{who}_cpt50"], 2) if cmp else "—",
            f(h.get("tier_accuracy")),
            f(h.get("task_accuracy")),
        )
    guard = m.get("guard") or {}
    if guard.get("rows"):
        table.add_row(
            f"guard: {guard['rows']} bundled rows ({guard.get('what', 'task accuracy')}), "
            "challenger / champion",
            "", "", "",
            f"{f(guard.get('challenger'))} / {f(guard.get('champion'))}",
        )  # fmt: skip
    if m.get("kind", "model") == "model":
        console.print(result.labels.summary())
    if "outcomes" in m:
        console.print(m["outcomes"]["summary"])
    console.print(f"challenger: {result.name}", overflow="fold")
    console.print(f"champion: {held.get('champion', {}).get('name', 'bundled')}", overflow="fold")
    console.print(table)
    # The reason starts with the verdict in words ("promoted: ...", "not promoted: ...").
    kept = "" if result.promoted else "; the champion stays"
    console.print(f"{result.reason}{kept}; challenger stored as {result.path}")
