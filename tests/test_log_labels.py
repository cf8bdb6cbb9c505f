"""Labels from logs: one rule per signal, conflicts by priority then recency."""

from __future__ import annotations

import json
from pathlib import Path

from router.log.store import DecisionRecord, Feedback, Outcome
from training.log_labels import label_records, split, write_jsonl


def rec(i: int, tier: str = "MEDIUM", prompt: str | None = "a prompt") -> DecisionRecord:
    return DecisionRecord(
        id=f"d{i}", ts=100.0 + i, prompt_hash="h", task="coding", tier=tier,
        language="en", source="model", prompt=prompt,
    )  # fmt: skip


def fb(i: int, ts: float = 200.0, **kw: object) -> Feedback:
    return Feedback(f"d{i}", ts=ts, **kw)  # type: ignore[arg-type]


def tiers(records: list[DecisionRecord], feedback: list[Feedback], outcomes: list[Outcome]) -> dict:
    report = label_records(records, feedback, outcomes)
    return {ex.id.removeprefix("log-"): (ex.tier, ex.task, ex.weight) for ex in report.examples}


def test_each_signal_maps_to_its_documented_tier_and_weight() -> None:
    records = [rec(i) for i in range(9)] + [rec(9, tier="SIMPLE")]
    feedback = [
        fb(0, verdict="needed_stronger"),
        fb(1, verdict="cheaper_ok"),
        fb(2, rating=1),
        fb(3, rating=5),
        fb(4, tier="REASONING", task="math"),
        fb(5, rating=2, source="judge:gg/gem-x"),
        fb(6, rating=4, verdict="good_enough", source="judge:gg/gem-x"),
        fb(9, verdict="cheaper_ok"),  # already the cheapest tier: stays SIMPLE
    ]
    outcomes = [Outcome("d7", "retried", "d8", 150.0), Outcome("d8", "failover", "x", 150.0)]
    got = tiers(records, feedback, outcomes)
    assert got == {
        "d0": ("COMPLEX", None, 2.0),
        "d1": ("SIMPLE", None, 2.0),
        "d2": ("COMPLEX", None, 2.0),
        "d3": ("MEDIUM", None, 2.0),
        "d4": ("REASONING", "math", 3.0),
        "d5": ("COMPLEX", None, 1.0),
        "d6": ("MEDIUM", None, 1.0),
        "d7": ("COMPLEX", None, 0.5),
        "d9": ("SIMPLE", None, 2.0),
    }  # d8: a failover says nothing about difficulty


def test_conflicts_resolve_by_priority_then_recency() -> None:
    records = [rec(i) for i in range(4)]
    feedback = [
        # user beats judge and implicit signals, whatever the order
        fb(0, ts=300, rating=1, source="judge:j"), fb(0, ts=100, verdict="cheaper_ok"),
        # a later user verdict overrides an earlier one
        fb(1, ts=100, verdict="needed_stronger"), fb(1, ts=200, verdict="cheaper_ok"),
        # a correction beats any verdict
        fb(2, ts=300, verdict="cheaper_ok"), fb(2, ts=100, tier="COMPLEX"),
    ]  # fmt: skip
    outcomes = [Outcome("d0", "retried", None, 400.0), Outcome("d3", "refused", None, 1.0)]
    got = tiers(records, feedback, outcomes)
    assert got["d0"][0] == "SIMPLE" and got["d1"][0] == "SIMPLE"
    assert got["d2"] == ("COMPLEX", None, 3.0) and got["d3"] == ("COMPLEX", None, 0.5)


def test_rows_need_text_and_a_signal(tmp_path: Path) -> None:
    records = [rec(0), rec(1, prompt=None), rec(2)]
    feedback = [fb(0, verdict="cheaper_ok"), fb(1, verdict="cheaper_ok")]
    report = label_records(records, feedback, [], weight=3.0)
    assert [ex.id for ex in report.examples] == ["log-d0"]
    assert report.skipped_no_text == 1 and report.skipped_no_signal == 1
    assert report.examples[0].weight == 6.0 and report.examples[0].task is None
    out = tmp_path / "logs.jsonl"
    assert write_jsonl(report, out) == 1
    row = json.loads(out.read_text())
    assert row["task"] == "coding" and row["task_from"] == "decision"
    assert row["tier"] == "SIMPLE" and row["signals"] == ["cheaper_ok"]
    from training.sources.project_data import load_file

    assert load_file(out)[0].tier == "SIMPLE"  # readable as data/ format


def test_the_split_is_stable_and_disjoint() -> None:
    report = label_records([rec(i) for i in range(200)], [fb(i, rating=5) for i in range(200)], [])
    train, held = split(report.examples, 0.3)
    again = split(report.examples[::-1], 0.3)[1]
    assert {e.id for e in held} == {e.id for e in again}
    assert not {e.id for e in train} & {e.id for e in held} and 30 < len(held) < 90
