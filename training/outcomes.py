"""Decision log -> outcome targets: did a cheap model suffice for this prompt, or fall short?

``Decision.score`` is read as "how likely a cheap model falls short" (higher =
harder), whichever model produced it. Every signal the log holds that speaks to
that question becomes one binary target per logged call (``fell_short``), which
is what the promotion gate (:mod:`training.promotion`) scores with APGR and what
the user layer (:mod:`training.user_layer`) is fitted on. Tier labels are not
involved: a failure is a failure whatever tier the router had decided.

===============================================  ========  ==========  ======
signal                                           priority  target      weight
===============================================  ========  ==========  ======
feedback ``tier=X`` (a correction)               5         X >= COMPLEX  3.0
verdict ``needed_stronger`` / ``cheaper_ok``     4         short / ok  2.0
rating 1-2 (thumbs down) / 4-5                   4         short / ok* 2.0
shadow comparison (``shadow:<strong>``): the     3         short / ok  1.5
judge preferred the stronger model's answer /
found the routed answer as good
judge grade 1-3 / 4-5 (``judge:<model>``)        2         short / ok* 1.0
retried with a stronger tier or another model    1         short       1.0
retried (same prompt again), reply refused,      1         short       0.5
escalated fallback (a stronger model answered
after the first one could not take the request)
===============================================  ========  ==========  ======

``*`` A "good enough" (verdict ``good_enough``, rating 4-5, grade 4-5) says the
model that answered sufficed. When the router had decided COMPLEX or REASONING that
model was a strong one, which says nothing about a cheap one: no target then.

Not targets: a failover for availability (429, 5xx, timeouts: the provider, not
the prompt), truncation (the caller's ``max_tokens``), errors. Conflicts resolve
as in :mod:`training.log_labels`: highest priority first, then the latest.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from router.log.store import DecisionLog, DecisionRecord, Feedback, Outcome
from training.examples import TIER_NAMES

__all__ = [
    "OutcomeReport",
    "Target",
    "feedback_targets",
    "outcome_targets",
    "targets_from_log",
]

WEIGHTS = {5: 3.0, 4: 2.0, 3: 1.5, 2: 1.0}
# The ranks at and above which the decided model is a strong one (COMPLEX, REASONING).
STRONG_RANK = 2
# First-attempt failures that mean "this model could not take the request" (too long,
# filtered), not "the provider was busy": only those make an escalation a signal.
CAPABILITY_FAILURES = frozenset({"request_too_large", "invalid_request", "content_filter"})


@dataclass(frozen=True)
class Vote:
    priority: int
    ts: float
    what: str
    fell_short: bool
    weight: float


@dataclass(frozen=True)
class Target:
    """One logged call with a verdict on the cheap model."""

    record: DecisionRecord
    fell_short: bool
    weight: float
    signal: str


@dataclass
class OutcomeReport:
    targets: list[Target] = field(default_factory=list)
    signals: Counter[str] = field(default_factory=Counter)
    skipped_no_signal: int = 0

    @property
    def fell_short(self) -> int:
        return sum(t.fell_short for t in self.targets)

    def summary(self) -> str:
        n = len(self.targets)
        kinds = ", ".join(f"{k} {v}" for k, v in self.signals.most_common()) or "none"
        return (
            f"{n} outcome targets ({self.fell_short} fell short, {n - self.fell_short} "
            f"sufficed; signals: {kinds}); {self.skipped_no_signal} calls without a signal"
        )


def _strong(record: DecisionRecord) -> bool:
    return record.tier in TIER_NAMES and TIER_NAMES.index(record.tier) >= STRONG_RANK


def feedback_targets(f: Feedback, record: DecisionRecord) -> list[Vote]:
    ok_counts = not _strong(record)
    if f.source.startswith("shadow"):
        if f.verdict in ("needed_stronger", "cheaper_ok", "good_enough"):
            short = f.verdict == "needed_stronger"
            return [Vote(3, f.ts, "shadow comparison", short, WEIGHTS[3])]
        return []
    if f.source.startswith("judge"):
        bad = f.verdict == "needed_stronger" or (f.rating is not None and f.rating < 4)
        if bad:
            return [Vote(2, f.ts, "judge grade", True, WEIGHTS[2])]
        if ok_counts and (f.verdict is not None or f.rating is not None):
            return [Vote(2, f.ts, "judge grade", False, WEIGHTS[2])]
        return []
    out: list[Vote] = []
    if f.tier is not None:
        short = TIER_NAMES.index(f.tier) >= STRONG_RANK
        out.append(Vote(5, f.ts, "tier correction", short, WEIGHTS[5]))
    if f.verdict == "needed_stronger":
        out.append(Vote(4, f.ts, "needed_stronger", True, WEIGHTS[4]))
    elif f.verdict == "cheaper_ok":
        out.append(Vote(4, f.ts, "cheaper_ok", False, WEIGHTS[4]))
    elif f.verdict == "good_enough" and ok_counts:
        out.append(Vote(4, f.ts, "good_enough", False, WEIGHTS[4]))
    elif f.rating is not None and f.rating <= 2:
        out.append(Vote(4, f.ts, "low rating", True, WEIGHTS[4]))
    elif f.rating is not None and f.rating >= 4 and ok_counts:
        out.append(Vote(4, f.ts, "high rating", False, WEIGHTS[4]))
    return out


def _stronger_retry(record: DecisionRecord, later: DecisionRecord | None) -> bool:
    if later is None:
        return False
    ranked = later.tier in TIER_NAMES and record.tier in TIER_NAMES
    if ranked and TIER_NAMES.index(later.tier) > TIER_NAMES.index(record.tier):
        return True
    asked = later.model_requested
    return bool(asked and asked != "auto" and later.model_used != record.model_used)


def outcome_targets(
    o: Outcome, record: DecisionRecord, later: DecisionRecord | None = None
) -> list[Vote]:
    """Automatic signals; ``later`` is the retry's own record when the log still has it."""
    if o.kind == "retried":
        if _stronger_retry(record, later):
            return [Vote(1, o.ts, "retried stronger", True, 1.0)]
        return [Vote(1, o.ts, "retried", True, 0.5)]
    if o.kind == "refused":
        return [Vote(1, o.ts, "refused", True, 0.5)]
    if o.kind == "failover" and (o.detail or "").endswith("(stronger)"):
        first = record.attempts[0] if record.attempts else {}
        if first.get("type") in CAPABILITY_FAILURES:
            return [Vote(1, o.ts, "escalated", True, 0.5)]
    return []


def _resolve(votes: Sequence[Vote]) -> Vote:
    top = max(v.priority for v in votes)
    return max((v for v in votes if v.priority == top), key=lambda v: v.ts)


def targets_for(
    records: Iterable[DecisionRecord],
    feedback: Iterable[Feedback],
    outcomes: Iterable[Outcome],
    *,
    lookup: dict[str, DecisionRecord] | None = None,
) -> OutcomeReport:
    """Apply the module's rules to records and the signals attached to them."""
    records = list(records)
    by_id = {r.id: r for r in records}
    if lookup:
        by_id = {**lookup, **by_id}
    votes: dict[str, list[Vote]] = defaultdict(list)
    for f in feedback:
        rec = by_id.get(f.decision_id)
        if rec is not None:
            votes[f.decision_id] += feedback_targets(f, rec)
    for o in outcomes:
        rec = by_id.get(o.decision_id)
        if rec is not None:
            later = by_id.get(o.detail or "") if o.kind == "retried" else None
            votes[o.decision_id] += outcome_targets(o, rec, later)
    report = OutcomeReport()
    for r in records:
        mine = votes.get(r.id)
        if not mine:
            report.skipped_no_signal += 1
            continue
        chosen = _resolve(mine)
        report.targets.append(Target(r, chosen.fell_short, chosen.weight, chosen.what))
        report.signals[chosen.what] += 1
    return report


def targets_from_log(log: DecisionLog, *, since: float | None = None) -> OutcomeReport:
    """Every call of ``log`` (since ``since``) that some signal speaks to."""
    return targets_for(log.records(since=since), log.feedback(), log.outcomes())
