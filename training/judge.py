"""Judge labels: a strong model, called with the user's own keys, grades logged answers.

The RouteLLM recipe: show the judge the prompt and the answer the routed model
gave, ask for a 1-5 grade, and take 4-5 as "the cheaper model was good enough"
and 1-3 as "it needed a stronger one" (rules in :mod:`training.log_labels`).
Each grade is stored as feedback with ``source="judge:<model>"`` the moment it
arrives, so an interrupted run resumes where it stopped and never pays twice.
Only records whose prompt and answer text were stored can be judged.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from router.log.store import DecisionLog, DecisionRecord, Feedback

__all__ = ["JudgePlan", "JudgeResult", "parse_grade", "plan_judging", "run_judging"]

PROMPT = """You are grading an AI assistant's answer. Judge only whether the answer fully \
and correctly does what the user asked; a stronger model's answer would not need to be \
better for a 5.

[User request]
{prompt}

[Assistant answer]
{answer}

Grade from 1 (wrong or useless) to 5 (fully correct and complete). Reply with the digit only."""
_GRADE = re.compile(r"[1-5]")
# Prompt and answer are clipped so one huge log record cannot blow the budget.
MAX_CHARS = 8000
OUTPUT_TOKENS = 4


def parse_grade(text: str | None) -> int | None:
    match = _GRADE.search(text or "")
    return int(match.group()) if match else None


@dataclass
class JudgePlan:
    model: str
    records: list[DecisionRecord]
    input_tokens: int
    output_tokens: int
    cost: float | None  # None when the catalog has no price for the judge

    def describe(self) -> str:
        price = f"about ${self.cost:.4f}" if self.cost is not None else "an unknown cost"
        return (
            f"{len(self.records)} answers to judge with {self.model}: ~{self.input_tokens:,} "
            f"input + {self.output_tokens:,} output tokens, {price}"
        )


@dataclass
class JudgeResult:
    labelled: int = 0
    failed: int = 0
    grades: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _messages(record: DecisionRecord) -> list[dict[str, str]]:
    prompt = (record.prompt or "")[:MAX_CHARS]
    answer = (record.response or "")[:MAX_CHARS]
    return [{"role": "user", "content": PROMPT.format(prompt=prompt, answer=answer)}]


def plan_judging(
    log: DecisionLog,
    router: Any,
    model: str,
    *,
    since: float | None = None,
    limit: int | None = None,
) -> JudgePlan:
    """Which records still need a grade from ``model``, and what grading them will cost."""
    from router.routing.planning import estimate_tokens

    source = f"judge:{model}"
    done = {f.decision_id for f in log.feedback() if f.source == source}
    todo = [
        r
        for r in log.records(since=since)
        if r.status == "ok" and r.prompt and r.response and r.id not in done
        and r.model_used != model
    ]  # fmt: skip
    if limit is not None:
        todo = todo[:limit]
    tokens = sum(estimate_tokens(_messages(r)) for r in todo)
    out_tokens = OUTPUT_TOKENS * len(todo)
    spec = router.catalog.find(model)
    cost = spec.cost(tokens, out_tokens) if spec is not None else None
    return JudgePlan(model, todo, tokens, out_tokens, cost)


def run_judging(
    plan: JudgePlan,
    log: DecisionLog,
    router: Any,
    *,
    concurrency: int = 4,
    progress: Callable[[int, int], None] | None = None,
) -> JudgeResult:
    """Ask the judge about every planned record; each grade is stored as it arrives."""
    result = JudgeResult()
    source = f"judge:{plan.model}"

    async def one(record: DecisionRecord, gate: asyncio.Semaphore) -> None:
        async with gate:
            try:
                await grade_one(record)
            finally:  # failures count too: the total is every planned record
                if progress is not None:
                    progress(result.labelled + result.failed, len(plan.records))

    async def grade_one(record: DecisionRecord) -> None:
        try:
            reply = await router.achat(
                _messages(record), model=plan.model, max_tokens=OUTPUT_TOKENS, temperature=0
            )
            grade = parse_grade(reply.content)
        except Exception as exc:  # one failed grade must not lose the others
            result.failed += 1
            result.errors.append(f"{record.id}: {exc}")
            return
        if grade is None:
            result.failed += 1
            result.errors.append(f"{record.id}: no grade in {reply.content!r}")
            return
        log.attach_feedback(
            Feedback(
                record.id,
                rating=float(grade),
                verdict="good_enough" if grade >= 4 else "needed_stronger",
                source=source,
            )
        )
        result.labelled += 1
        result.grades[record.id] = grade

    async def main() -> None:
        gate = asyncio.Semaphore(concurrency)
        await asyncio.gather(*(one(r, gate) for r in plan.records))

    router.bridge.run(main())
    return result
