"""Decision log + feedback -> training rows (``Example`` and the ``data/`` JSONL format).

A logged call becomes a row only when (a) its prompt text was stored
(``log: {store_prompts: true}``; the hash alone cannot be trained on) and (b) at
least one signal below says something about the tier it needed. Tiers are
relative to the tier the router decided (``decided``); ``+1`` is one tier
stronger, ``-1`` one weaker, clamped to SIMPLE..REASONING.

==========================  =========  =============  ========================
signal                      priority   tier label     weight
==========================  =========  =============  ========================
feedback ``tier=X``         4          X              3.0
feedback ``task=Y``         4          (task Y)       3.0 (task head)
verdict ``needed_stronger`` 3          decided + 1    2.0
verdict ``cheaper_ok``      3          decided - 1    2.0
verdict ``good_enough``     3          decided        2.0
rating 1-2 / 4-5 (3: none)  3          +1 / decided   2.0
judge (``judge:<model>``,   2          +1 if the      1.0
shadow ``shadow:<model>``)             answer was
                                       not good
                                       enough, else
                                       decided
user retried (same prompt   1          decided + 1    0.5
within ``retry_window``)
reply refused               1          decided + 1    0.5
failover, truncated, error  —          none           —
==========================  =========  =============  ========================

Why some signals carry no label: a failover reflects a provider's availability
(429, 5xx, timeouts), not the prompt's difficulty; truncation follows the
caller's ``max_tokens``; an error says nothing about the answer.

Conflicts resolve by priority, then recency: the highest-priority signal present
decides the tier, and among signals of that priority the latest wins (a user who
says "cheaper is fine" after a retry overrides the retry; a later correction
overrides an earlier one). The task head learns only from explicit ``task=``
corrections (latest wins); other rows leave ``task`` unset so the router's own
task guess is never fed back to it as a label (the JSONL writer, whose format
requires a task, writes the logged task and marks it ``"task_from": "decision"``).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from router.log.store import DecisionLog, DecisionRecord, Feedback, Outcome
from training.examples import TIER_NAMES, Example

__all__ = ["LabelReport", "Signal", "label_records", "labels_from_log", "split", "write_jsonl"]

SOURCE = "user_log"
WEIGHTS = {4: 3.0, 3: 2.0, 2: 1.0, 1: 0.5}


@dataclass(frozen=True)
class Signal:
    priority: int
    ts: float
    what: str
    tier_shift: int | None = None  # relative to the decided tier
    tier: str | None = None  # absolute (corrections)
    task: str | None = None


@dataclass
class LabelReport:
    examples: list[Example] = field(default_factory=list)
    records: dict[str, DecisionRecord] = field(default_factory=dict)
    signals: dict[str, list[str]] = field(default_factory=dict)
    skipped_no_text: int = 0
    skipped_no_signal: int = 0

    def summary(self) -> str:
        return (
            f"{len(self.examples)} labelled rows; skipped {self.skipped_no_text} without "
            f"stored prompt text and {self.skipped_no_signal} without a signal"
        )


def _shift(tier: str, by: int) -> str:
    k = TIER_NAMES.index(tier) + by
    return TIER_NAMES[max(0, min(len(TIER_NAMES) - 1, k))]


def feedback_signals(f: Feedback) -> list[Signal]:
    out: list[Signal] = []
    if f.source.startswith(("judge", "shadow")):
        if f.verdict == "needed_stronger" or (f.rating is not None and f.rating < 4):
            out.append(Signal(2, f.ts, f"{f.source}: not good enough", tier_shift=1))
        elif f.verdict in ("good_enough", "cheaper_ok") or f.rating is not None:
            out.append(Signal(2, f.ts, f"{f.source}: good enough", tier_shift=0))
        return out
    if f.tier or f.task:
        out.append(Signal(4, f.ts, "correction", tier=f.tier, task=f.task))
    if f.verdict == "needed_stronger":
        out.append(Signal(3, f.ts, "needed_stronger", tier_shift=1))
    elif f.verdict == "cheaper_ok":
        out.append(Signal(3, f.ts, "cheaper_ok", tier_shift=-1))
    elif f.verdict == "good_enough":
        out.append(Signal(3, f.ts, "good_enough", tier_shift=0))
    elif f.rating is not None and f.rating <= 2:
        out.append(Signal(3, f.ts, f"rating {f.rating:g}", tier_shift=1))
    elif f.rating is not None and f.rating >= 4:
        out.append(Signal(3, f.ts, f"rating {f.rating:g}", tier_shift=0))
    return out


def outcome_signals(o: Outcome) -> list[Signal]:
    if o.kind in ("retried", "refused"):
        return [Signal(1, o.ts, o.kind, tier_shift=1)]
    return []


def resolve(
    record: DecisionRecord, signals: Sequence[Signal]
) -> tuple[str | None, str | None, float]:
    """(tier, task, weight) by the module's rules; tier None when nothing speaks to it."""
    task_fixes = sorted((s for s in signals if s.task), key=lambda s: s.ts)
    task = task_fixes[-1].task if task_fixes else None
    tiered = [s for s in signals if s.tier is not None or s.tier_shift is not None]
    if not tiered:
        return None, task, WEIGHTS[4] if task else 0.0
    top = max(s.priority for s in tiered)
    chosen = max((s for s in tiered if s.priority == top), key=lambda s: s.ts)
    tier = chosen.tier or _shift(record.tier, chosen.tier_shift or 0)
    return tier, task, WEIGHTS[top]


def label_records(
    records: Iterable[DecisionRecord],
    feedback: Iterable[Feedback],
    outcomes: Iterable[Outcome],
    *,
    weight: float = 1.0,
) -> LabelReport:
    """Apply the rules; ``weight`` multiplies every row's weight (log vs bundled data)."""
    signals: dict[str, list[Signal]] = defaultdict(list)
    for f in feedback:
        signals[f.decision_id] += feedback_signals(f)
    for o in outcomes:
        signals[o.decision_id] += outcome_signals(o)
    report = LabelReport()
    for r in records:
        sig = signals.get(r.id, [])
        tier, task, w = resolve(r, sig)
        if tier is None and task is None:
            report.skipped_no_signal += 1
            continue
        text, messages = _prompt(r)
        if text is None and messages is None:
            report.skipped_no_text += 1
            continue
        report.examples.append(
            Example(
                id=f"log-{r.id}",
                text=text,
                messages=messages,
                task=task,
                tier=tier,
                language=r.language,
                source=SOURCE,
                use="train",
                group=SOURCE,
                weight=w * weight,
            )
        )
        report.records[f"log-{r.id}"] = r
        report.signals[f"log-{r.id}"] = [s.what for s in sig]
    return report


def labels_from_log(
    log: DecisionLog, *, since: float | None = None, weight: float = 1.0
) -> LabelReport:
    return label_records(log.records(since=since), log.feedback(), log.outcomes(), weight=weight)


def _prompt(r: DecisionRecord) -> tuple[str | None, list[dict[str, Any]] | None]:
    if r.messages and any(m.get("role") == "user" and m.get("content") for m in r.messages):
        if len(r.messages) > 1:
            return None, [dict(m) for m in r.messages]
        return str(r.messages[0]["content"]), None
    if r.prompt:
        return r.prompt, None
    return None, None


def split(
    examples: Sequence[Example], held_out: float = 0.3, seed: int = 0
) -> tuple[list[Example], list[Example]]:
    """(train, held-out) by a seeded hash of the row id: stable as the log grows."""
    train: list[Example] = []
    test: list[Example] = []
    for ex in examples:
        h = int.from_bytes(hashlib.sha256(f"{seed}:{ex.id}".encode()).digest()[:8], "big") / 2**64
        (test if h < held_out else train).append(ex)
    return train, test


def write_jsonl(report: LabelReport, path: Path) -> int:
    """The rows in the ``data/`` format (``training/sources/project_data.py``) plus provenance."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for ex in report.examples:
            record = report.records[ex.id]
            row: dict[str, Any] = {"id": ex.id}
            if ex.text is not None:
                row["prompt"] = ex.text
            else:
                row["messages"] = ex.messages
            row.update(
                task=ex.task or record.task,
                tier=ex.tier,
                language=ex.language,
                source=ex.source,
                weight=ex.weight,
                signals=report.signals.get(ex.id, []),
            )
            if ex.task is None:
                row["task_from"] = "decision"
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(report.examples)
