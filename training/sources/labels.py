"""Hand labels for public prompts (``data/labels/``), joined onto the loaders' rows.

The public sets carry no task and tier written to the project's guide (data/README.md):
their loaders map a category, a keyword guess or a model outcome. ``data/labels/`` holds
labels written to the guide for prompts of those sets, without the prompts themselves
(the repository never copies ``../shared/datasets`` text)::

    {"source": <set folder>, "source_id": <the set's own id>, "task", "tier",
     "also": [tasks], "language", "notes"[, "skip": true]}

Two kinds, by folder:

* ``data/labels/*.jsonl`` label prompts of *train* sets. They replace the loader's task,
  tier and language, add ``also``, and mark the row ``hand_labelled`` (training weighs
  it like ``data/``); the outcome, when the set has one, is kept for routing. A row with
  ``skip`` is not a usable request and is dropped.
* ``data/labels/eval/*.jsonl`` label prompts of *eval* sets: the project's instrument for
  task accuracy on real prompts. They replace only the task (and add ``also``) where the
  loader guessed it from a keyword or a category, and they are never read for training:
  :func:`join` applies them to rows whose set is registered ``use="eval"`` only.

Join key: the set's folder and the row's own id (``Example.id`` after ``<name>/``).
Two special cases, both about Arena prompts:

* ``arena_hard`` yields, besides each rated prompt, the longer original conversation of
  the 47 rated prompts that were only its first turn (id ``<question_id>:full``). Their
  ``question_id`` is labelled twice, in queue order: the first label is the rated
  first turn, the second the whole conversation (its last user turn, read in context).
* ``arena_bench_v1_outcomes`` repeats Arena prompts under the same ``question_id``; it
  takes the task (and ``also``) of the first label, and keeps the tier its outcomes give.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from training.examples import TASK_NAMES, TIER_NAMES, Example

__all__ = [
    "FULL_SUFFIX",
    "LabelError",
    "Labels",
    "default_labels_dir",
    "join",
    "read_labels",
]

# Id suffix of an Arena conversation whose first turn is also a rated prompt.
FULL_SUFFIX = ":full"
# Sets that repeat another set's prompts under the same ids: (labels folder, fields joined).
_TWINS: dict[str, str] = {"arena_bench_v1_outcomes": "arena_hard_proto_2023"}


class LabelError(ValueError):
    """A label file breaks the documented schema."""


Table = dict[str, dict[str, list[dict[str, Any]]]]


class Labels:
    """Label rows by set folder and id: ``train`` (``labels/``) and ``eval`` (``labels/eval/``)."""

    def __init__(self, train: Table, evaluation: Table) -> None:
        self.train = train
        self.eval = evaluation

    def __len__(self) -> int:
        tables = (self.train, self.eval)
        return sum(len(v) for t in tables for ids in t.values() for v in ids.values())


def default_labels_dir() -> Path:
    """``labels/`` inside the project data folder (the wheel bundles it with ``data/``)."""
    from training.sources.project_data import default_data_dir

    return default_data_dir() / "labels"


def _check(row: Any, where: str) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise LabelError(f"{where}: expected a JSON object")
    for name in ("source", "source_id", "task", "tier"):
        if name not in row:
            raise LabelError(f"{where}: missing field {name!r}")
    if row["task"] not in TASK_NAMES:
        raise LabelError(f"{where}: field 'task' must be one of {', '.join(TASK_NAMES)}")
    if row["tier"] not in TIER_NAMES:
        raise LabelError(f"{where}: field 'tier' must be one of {', '.join(TIER_NAMES)}")
    also = row.get("also", [])
    if not isinstance(also, list) or any(t not in TASK_NAMES for t in also):
        raise LabelError(f"{where}: field 'also' must be a list of tasks")
    return row


def _read_folder(files: Iterable[Path]) -> Table:
    table: Table = {}
    for file in files:
        with file.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                where = f"{file}:{lineno}"
                try:
                    row = _check(json.loads(line), where)
                except json.JSONDecodeError as exc:
                    raise LabelError(f"{where}: invalid JSON ({exc.msg})") from exc
                by_id = table.setdefault(str(row["source"]), {})
                by_id.setdefault(str(row["source_id"]), []).append(row)
    return table


def read_labels(folder: Path | None = None) -> Labels:
    """Every label file under ``folder`` (default :func:`default_labels_dir`); none if absent."""
    root = Path(folder) if folder is not None else default_labels_dir()
    if not root.is_dir():
        return Labels({}, {})
    return Labels(
        _read_folder(sorted(root.glob("*.jsonl"))),
        _read_folder(sorted((root / "eval").glob("*.jsonl"))),
    )


def _native_id(ex: Example) -> str:
    return ex.id.split("/", 1)[1] if "/" in ex.id else ex.id


def _label_for(by_id: Mapping[str, Sequence[dict[str, Any]]], native: str) -> dict[str, Any] | None:
    if native.endswith(FULL_SUFFIX):
        found = by_id.get(native[: -len(FULL_SUFFIX)], ())
        return found[1] if len(found) > 1 else None
    found = by_id.get(native, ())
    return found[0] if found else None


def join(
    name: str, folder: str, use: str, rows: Sequence[Example], labels: Labels
) -> list[Example]:
    """``rows`` of the set ``name`` (in ``folder``, registered ``use``) with their hand labels."""
    if use == "eval":
        by_id = labels.eval.get(folder, {})
        if not by_id:
            return list(rows)
        out = []
        for ex in rows:
            label = _label_for(by_id, _native_id(ex))
            if label is not None and ex.use == "eval":
                ex = replace(ex, task=label["task"], also=tuple(label.get("also", ())))
            out.append(ex)
        return out
    twin = _TWINS.get(name)
    by_id = labels.train.get(twin or folder, {})
    if not by_id:
        return list(rows)
    out = []
    for ex in rows:
        label = _label_for(by_id, _native_id(ex))
        if label is None:
            out.append(ex)
        elif twin is not None:
            out.append(replace(ex, task=label["task"], also=tuple(label.get("also", ()))))
        elif not label.get("skip"):
            out.append(
                replace(
                    ex,
                    task=label["task"],
                    tier=label["tier"],
                    also=tuple(label.get("also", ())),
                    language=str(label.get("language") or ex.language),
                    hand_labelled=True,
                    # The outcome weight discounted outcome-derived tiers; this tier is read.
                    weight=1.0,
                )
            )
    return out
