"""Every outcome signal of the log becomes a "cheap model sufficed / fell short" target."""

from __future__ import annotations

from router.log.store import DecisionRecord, Feedback, Outcome
from training.outcomes import targets_for


def rec(i: int, tier: str = "SIMPLE", **kw: object) -> DecisionRecord:
    return DecisionRecord(
        id=f"rt-{i}", ts=1000.0 + i, prompt_hash=f"h{i}", task="general", tier=tier,
        language="en", source="model", prompt=f"prompt {i}", response="ok", **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def by_id(records: list[DecisionRecord], feedback: list[Feedback], outcomes: list[Outcome]) -> dict:
    report = targets_for(records, feedback, outcomes)
    return {t.record.id: (t.fell_short, t.signal) for t in report.targets}


def test_user_verdicts_ratings_and_corrections() -> None:
    records = [rec(i) for i in range(7)] + [rec(7, "COMPLEX"), rec(8, "COMPLEX")]
    feedback = [
        Feedback("rt-0", verdict="needed_stronger"),
        Feedback("rt-1", verdict="cheaper_ok"),
        Feedback("rt-2", rating=1),  # thumbs down
        Feedback("rt-3", rating=5),
        Feedback("rt-4", verdict="good_enough"),
        Feedback("rt-5", tier="REASONING"),
        Feedback("rt-6", tier="MEDIUM"),
        # A strong model sufficed: nothing said about a cheap one.
        Feedback("rt-7", verdict="good_enough"),
        Feedback("rt-8", rating=2),
    ]
    got = by_id(records, feedback, [])
    assert got == {
        "rt-0": (True, "needed_stronger"),
        "rt-1": (False, "cheaper_ok"),
        "rt-2": (True, "low rating"),
        "rt-3": (False, "high rating"),
        "rt-4": (False, "good_enough"),
        "rt-5": (True, "tier correction"),
        "rt-6": (False, "tier correction"),
        "rt-8": (True, "low rating"),
    }


def test_judge_grades_and_shadow_comparisons() -> None:
    records = [rec(i) for i in range(4)] + [rec(4, "REASONING")]
    feedback = [
        Feedback("rt-0", rating=2, verdict="needed_stronger", source="judge:j"),
        Feedback("rt-1", rating=5, verdict="good_enough", source="judge:j"),
        Feedback("rt-2", verdict="needed_stronger", source="shadow:s"),
        Feedback("rt-3", verdict="cheaper_ok", source="shadow:s"),
        Feedback("rt-4", verdict="cheaper_ok", source="shadow:s"),
    ]
    got = by_id(records, feedback, [])
    assert got["rt-0"] == (True, "judge grade") and got["rt-1"] == (False, "judge grade")
    assert got["rt-2"] == (True, "shadow comparison")
    assert got["rt-3"] == (False, "shadow comparison")
    # A comparison says the cheaper answer sufficed even where the router chose a strong tier.
    assert got["rt-4"] == (False, "shadow comparison")


def test_automatic_signals() -> None:
    capable = [{"model": "a", "ok": False, "type": "request_too_large"}, {"model": "b", "ok": True}]
    busy = [{"model": "a", "ok": False, "type": "rate_limit"}, {"model": "b", "ok": True}]
    records = [
        rec(0), rec(1, model_used="cheap"),
        rec(2, "COMPLEX", model_used="strong"),  # the retry of rt-1, routed stronger
        rec(3), rec(4), rec(5, attempts=capable), rec(6, attempts=busy), rec(7),
    ]  # fmt: skip
    outcomes = [
        Outcome("rt-0", "retried", "rt-99"),  # the retry's record is gone
        Outcome("rt-1", "retried", "rt-2"),
        Outcome("rt-3", "refused"),
        Outcome("rt-4", "truncated", "length"),
        Outcome("rt-5", "failover", "a -> b (stronger)"),
        Outcome("rt-6", "failover", "a -> b (stronger)"),
        Outcome("rt-7", "error", "timeout"),
    ]
    got = by_id(records, [], outcomes)
    assert got == {
        "rt-0": (True, "retried"),
        "rt-1": (True, "retried stronger"),
        "rt-3": (True, "refused"),
        "rt-5": (True, "escalated"),
    }
    report = targets_for(records, [], outcomes)
    weights = {t.record.id: t.weight for t in report.targets}
    assert weights["rt-1"] > weights["rt-0"]
    assert report.skipped_no_signal == 4 and "4 outcome targets (4 fell short" in report.summary()


def test_conflicts_resolve_by_priority_then_recency() -> None:
    records = [rec(0), rec(1), rec(2)]
    feedback = [
        # A user's "cheaper is fine" outranks the automatic retry signal.
        Feedback("rt-0", verdict="cheaper_ok", ts=5.0),
        # Same priority: the later verdict wins.
        Feedback("rt-1", verdict="cheaper_ok", ts=1.0),
        Feedback("rt-1", verdict="needed_stronger", ts=2.0),
        # A correction outranks a verdict.
        Feedback("rt-2", verdict="needed_stronger", ts=9.0),
        Feedback("rt-2", tier="SIMPLE", ts=1.0),
    ]
    outcomes = [Outcome("rt-0", "retried", None, ts=9.0)]
    got = by_id(records, feedback, outcomes)
    assert got["rt-0"] == (False, "cheaper_ok")
    assert got["rt-1"] == (True, "needed_stronger")
    assert got["rt-2"] == (False, "tier correction")
