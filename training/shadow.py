"""Shadow comparison: did the cheap model suffice? Ask a stronger one too, and let a judge compare.

``tierrouter label --shadow RATE`` takes a seeded share ``RATE`` of the logged calls
whose prompt and answer were stored, sends each prompt to a stronger model (the
user's own keys), and shows a judge both answers, in an order drawn per call so the
judge's position bias cancels out over many calls. "The stronger answer is clearly
better" becomes ``needed_stronger``, anything else ``cheaper_ok``; each verdict is
stored as feedback with ``source="shadow:<strong>"`` as it arrives, so an
interrupted run resumes and never pays twice (the selection is a hash of the
decision id: the same calls come back at the same rate, and a higher rate adds more).
:mod:`training.outcomes` reads them as direct "cheap model sufficed / fell short"
targets. Only calls answered by a model other than the strong one are eligible.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from router.log.store import DecisionLog, DecisionRecord, Feedback

__all__ = [
    "ShadowPlan",
    "ShadowResult",
    "parse_choice",
    "plan_shadow",
    "run_shadow",
    "strong_first",
]

PROMPT = """Two assistants answered the same user request. Decide whether one answer is \
clearly better at doing what the user asked (correct, complete, following instructions). \
Style and length do not matter.

[User request]
{prompt}

[Answer A]
{a}

[Answer B]
{b}

Reply with one letter: A if answer A is clearly better, B if answer B is clearly better, \
T if they are about equally good."""
_CHOICE = re.compile(r"\b([ABT])\b")
MAX_CHARS = 6000
JUDGE_OUTPUT_TOKENS = 4
# The strong model's answer is priced at the routed answer's length, or this when unknown.
DEFAULT_ANSWER_TOKENS = 512


def parse_choice(text: str | None) -> str | None:
    match = _CHOICE.search((text or "").upper())
    return match.group(1) if match else None


def _unit(seed: int, key: str) -> float:
    return int.from_bytes(hashlib.sha256(f"{seed}:{key}".encode()).digest()[:8], "big") / 2**64


def sampled(record_id: str, rate: float, seed: int = 0) -> bool:
    return _unit(seed, f"shadow:{record_id}") < rate


def strong_first(record_id: str) -> bool:
    """Whether the strong model's answer is shown as A for this call (else as B)."""
    return _unit(0, f"order:{record_id}") < 0.5


def _prompt_messages(record: DecisionRecord) -> list[dict[str, Any]]:
    if record.messages:
        return [dict(m) for m in record.messages]
    return [{"role": "user", "content": record.prompt or ""}]


def _judge_messages(record: DecisionRecord, strong_answer: str) -> list[dict[str, str]]:
    prompt = record.prompt or "\n".join(str(m.get("content", "")) for m in record.messages or [])
    routed = (record.response or "")[:MAX_CHARS]
    strong = strong_answer[:MAX_CHARS]
    a, b = (strong, routed) if strong_first(record.id) else (routed, strong)
    return [{"role": "user", "content": PROMPT.format(prompt=prompt[:MAX_CHARS], a=a, b=b)}]


@dataclass
class ShadowPlan:
    strong: str
    judge: str
    rate: float
    records: list[DecisionRecord]
    input_tokens: int
    output_tokens: int
    cost: float | None

    def describe(self) -> str:
        price = f"about ${self.cost:.4f}" if self.cost is not None else "an unknown cost"
        return (
            f"{len(self.records)} logged calls ({self.rate:.0%} sample) to answer again with "
            f"{self.strong} and compare with {self.judge}: ~{self.input_tokens:,} input + "
            f"{self.output_tokens:,} output tokens, {price}"
        )


@dataclass
class ShadowResult:
    compared: int = 0
    failed: int = 0
    verdicts: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def fell_short(self) -> int:
        return sum(v == "needed_stronger" for v in self.verdicts.values())


def plan_shadow(
    log: DecisionLog,
    router: Any,
    strong: str,
    judge: str,
    rate: float,
    *,
    since: float | None = None,
    limit: int | None = None,
    seed: int = 0,
) -> ShadowPlan:
    """Which logged calls to compare at ``rate``, and what it will cost (nothing is sent)."""
    from router.errors import RouterInputError
    from router.routing.planning import estimate_tokens

    if not 0.0 < rate <= 1.0:
        raise RouterInputError(f"shadow rate must be within (0, 1], got {rate!r}")
    source = f"shadow:{strong}"
    done = {f.decision_id for f in log.feedback() if f.source == source}
    todo = [
        r
        for r in log.records(since=since)
        if r.status == "ok" and (r.prompt or r.messages) and r.response and r.id not in done
        and r.model_used != strong and sampled(r.id, rate, seed)
    ]  # fmt: skip
    if limit is not None:
        todo = todo[:limit]
    in_tokens = out_tokens = 0
    judge_in = judge_out = 0
    for r in todo:
        asked = estimate_tokens(_prompt_messages(r))
        answer = r.completion_tokens or DEFAULT_ANSWER_TOKENS
        in_tokens += asked
        out_tokens += answer
        # The judge reads the prompt and two answers; the strong one priced at the routed length.
        judge_in += estimate_tokens(_judge_messages(r, r.response or "")) + answer
        judge_out += JUDGE_OUTPUT_TOKENS
    cost: float | None = None
    s_spec, j_spec = router.catalog.find(strong), router.catalog.find(judge)
    if s_spec is not None and j_spec is not None:
        cost = s_spec.cost(in_tokens, out_tokens) + j_spec.cost(judge_in, judge_out)
    return ShadowPlan(strong, judge, rate, todo, in_tokens + judge_in, out_tokens + judge_out, cost)


def run_shadow(
    plan: ShadowPlan,
    log: DecisionLog,
    router: Any,
    *,
    concurrency: int = 4,
    progress: Callable[[int, int], None] | None = None,
) -> ShadowResult:
    """Answer each planned call with the strong model, then ask the judge; store as it goes."""
    result = ShadowResult()
    source = f"shadow:{plan.strong}"

    async def one(record: DecisionRecord, gate: asyncio.Semaphore) -> None:
        async with gate:
            try:
                answer = await router.achat(
                    _prompt_messages(record),
                    model=plan.strong,
                    max_tokens=record.completion_tokens or DEFAULT_ANSWER_TOKENS,
                )
                reply = await router.achat(
                    _judge_messages(record, answer.content or ""),
                    model=plan.judge,
                    max_tokens=JUDGE_OUTPUT_TOKENS,
                    temperature=0,
                )
                choice = parse_choice(reply.content)
            except Exception as exc:  # one failed comparison must not lose the others
                result.failed += 1
                result.errors.append(f"{record.id}: {exc}")
                return
            if choice is None:
                result.failed += 1
                result.errors.append(f"{record.id}: no A/B/T in {reply.content!r}")
                return
            strong_letter = "A" if strong_first(record.id) else "B"
            verdict = "needed_stronger" if choice == strong_letter else "cheaper_ok"
            log.attach_feedback(
                Feedback(
                    record.id,
                    verdict=verdict,
                    source=source,
                    comment=f"judge {plan.judge}: {choice} (strong model was {strong_letter})",
                )
            )
            result.compared += 1
            result.verdicts[record.id] = verdict
            if progress is not None:
                progress(result.compared + result.failed, len(plan.records))

    async def main() -> None:
        gate = asyncio.Semaphore(concurrency)
        await asyncio.gather(*(one(r, gate) for r in plan.records))

    router.bridge.run(main())
    return result
