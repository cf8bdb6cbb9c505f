"""The decision log's records and the ``DecisionLog`` protocol every backend implements.

SQLite (:mod:`router.log.sqlite`) is the default; a Postgres or HTTP backend only
has to implement :class:`DecisionLog`. Records hold what the router produced —
the decision, the chain it tried, tokens, cost, a prompt hash — never a key, and
prompt or reply text only when the user opted in (``store_prompts``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

from router.errors import DecisionLogError

__all__ = [
    "FEEDBACK_VERDICTS",
    "OUTCOME_KINDS",
    "DecisionLog",
    "DecisionLogError",
    "DecisionRecord",
    "Feedback",
    "Outcome",
    "prompt_hash",
]

# What a person (or a judge) can say about a routed call.
FEEDBACK_VERDICTS: tuple[str, ...] = ("needed_stronger", "cheaper_ok", "good_enough")
# Signals the call engine records by itself.
OUTCOME_KINDS: tuple[str, ...] = ("failover", "truncated", "refused", "retried", "error")


def prompt_hash(text: str) -> str:
    """A stable digest of the prompt text; joins retries and feedback without storing text."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass
class DecisionRecord:
    """One routed call: the decision, what was tried, and what it cost."""

    id: str
    ts: float
    prompt_hash: str
    task: str
    tier: str
    language: str
    source: str
    model_version: str | None = None
    confidence: float = 0.0
    score: float = 0.0
    tier_probabilities: dict[str, float] = field(default_factory=dict)
    task_scores: dict[str, float] = field(default_factory=dict)
    features: dict[str, float] = field(default_factory=dict)
    model_requested: str | None = None
    model_used: str | None = None
    provider: str | None = None
    # Each try: model, provider, ok, status, type, latency_ms (never error bodies with keys).
    attempts: list[dict[str, Any]] = field(default_factory=list)
    latency_ms: float = 0.0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost: float | None = None
    estimated_cost: float | None = None
    baseline_cost: float | None = None
    finish_reason: str | None = None
    status: str = "ok"  # "ok" or "error"
    error_type: str | None = None
    stream: bool = False
    prompt: str | None = None
    response: str | None = None
    messages: list[dict[str, Any]] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DecisionRecord:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class Feedback:
    """A rating, a verdict or a corrected label for one decision.

    ``source`` says who gave it: ``"user"`` (library, CLI, proxy) or
    ``"judge:<model>"`` for labels from ``tierrouter label --judge``.
    """

    decision_id: str
    rating: float | None = None
    verdict: str | None = None
    task: str | None = None
    tier: str | None = None
    source: str = "user"
    comment: str | None = None
    ts: float = 0.0

    def validate(self) -> Feedback:
        from router.types import TASKS, TIERS

        if not self.decision_id:
            raise DecisionLogError("feedback needs a decision id")
        if self.verdict is not None and self.verdict not in FEEDBACK_VERDICTS:
            raise DecisionLogError(
                f"feedback verdict must be one of {', '.join(FEEDBACK_VERDICTS)}, "
                f"got {self.verdict!r}"
            )
        if self.task is not None and self.task not in {t.value for t in TASKS}:
            raise DecisionLogError(
                f"feedback task must be one of {', '.join(t.value for t in TASKS)}, "
                f"got {self.task!r}"
            )
        if self.tier is not None and self.tier not in {t.value for t in TIERS}:
            raise DecisionLogError(
                f"feedback tier must be one of {', '.join(t.value for t in TIERS)}, "
                f"got {self.tier!r}"
            )
        if self.rating is not None and not 1 <= float(self.rating) <= 5:
            raise DecisionLogError(f"feedback rating must be within 1..5, got {self.rating!r}")
        if self.rating is None and self.verdict is None and self.task is None and self.tier is None:
            raise DecisionLogError("feedback needs at least one of rating, verdict, task, tier")
        return self


@dataclass
class Outcome:
    """An automatic signal about a call (see :data:`OUTCOME_KINDS`)."""

    decision_id: str
    kind: str
    detail: str | None = None
    ts: float = 0.0


@runtime_checkable
class DecisionLog(Protocol):
    """Where routed calls, feedback and outcomes go.

    ``record`` and ``attach_outcome`` sit on the call path: they must return at
    once and never raise. ``attach_feedback`` is user-initiated and may raise
    :class:`DecisionLogError` (e.g. an unknown decision id).
    """

    path: Any

    def record(self, record: DecisionRecord) -> None: ...

    def attach_outcome(self, outcome: Outcome) -> None: ...

    def attach_feedback(self, feedback: Feedback) -> None: ...

    def get(self, decision_id: str) -> DecisionRecord | None: ...

    def records(
        self, *, since: float | None = None, until: float | None = None, limit: int | None = None
    ) -> Iterator[DecisionRecord]: ...

    def feedback(self, decision_id: str | None = None) -> list[Feedback]: ...

    def outcomes(self, decision_id: str | None = None) -> list[Outcome]: ...

    def count(self) -> int: ...

    def retain(self, *, max_age_days: float | None = None, max_bytes: int | None = None) -> int:
        """Delete the oldest records beyond the limits; returns how many went."""
        ...

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until queued writes are stored; False if they were not within ``timeout``."""
        ...

    async def awritten(self, timeout: float = 5.0) -> bool:
        """Wait, without blocking the event loop, until every write queued so far is
        durable; False if one failed or ``timeout`` passed first. The proxy awaits it
        before an answer goes out, so an answered decision is never lost to a crash."""
        ...

    def close(self) -> None: ...
