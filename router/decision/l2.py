"""The L2 classifier: ask a cheap model when the rule/ML decision is unsure.

Runs only below a confidence threshold, with a short timeout and a cache;
any failure (network, bad JSON, unknown labels) keeps the L1 decision, so L2
can only ever improve a decision, never break a call.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from router.decision.inputs import read_prompt
from router.types import TASKS, TIERS, Decision, Task, Tier, tier_band

__all__ = ["L2Classifier", "L2Config"]

_SYSTEM = (
    "You classify requests sent to a language model. Reply with one JSON object "
    'and nothing else: {"task": <task>, "tier": <tier>}. '
    f"task is one of {', '.join(t.value for t in TASKS)}. "
    f"tier is one of {', '.join(t.value for t in TIERS)}: SIMPLE for lookups and "
    "short answers, MEDIUM for ordinary writing or code, COMPLEX for long, "
    "multi-part or expert work, REASONING for proofs, hard math and multi-step logic."
)
_MAX_CHARS = 4000
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")

# (model ref, chat request params) -> the completion's message text
Ask = Callable[[str, list[dict[str, Any]], dict[str, Any], float], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class L2Config:
    model: str
    threshold: float = 0.7
    timeout: float = 3.0
    cache_size: int = 2048


class L2Classifier:
    def __init__(self, config: L2Config) -> None:
        self.config = config
        self._cache: OrderedDict[str, tuple[Task, Tier] | None] = OrderedDict()

    def wanted(self, decision: Decision) -> bool:
        return decision.confidence < self.config.threshold

    async def refine(self, decision: Decision, messages: Any, ask: Ask) -> Decision:
        """The decision with L2's task and tier, or ``decision`` unchanged on any failure."""
        if not self.wanted(decision):
            return decision
        try:
            text = read_prompt(messages).text[:_MAX_CHARS]
        except ValueError:
            return decision
        key = hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()
        if key in self._cache:
            self._cache.move_to_end(key)
            labels = self._cache[key]
        else:
            labels = await self._ask(text, ask)
            self._cache[key] = labels
            if len(self._cache) > self.config.cache_size:
                self._cache.popitem(last=False)
        if labels is None:
            return decision
        return _apply(decision, *labels, self.config.model)

    async def _ask(self, text: str, ask: Ask) -> tuple[Task, Tier] | None:
        messages = [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": text}]
        params = {"temperature": 0, "max_tokens": 60, "response_format": {"type": "json_object"}}
        try:
            reply = await ask(self.config.model, messages, params, self.config.timeout)
            data = json.loads(_FENCE.sub("", reply.strip()))
            return Task(data["task"]), Tier(str(data["tier"]).upper())
        except Exception:  # L2 is best-effort by design: on any failure L1 stands
            return None


def _apply(decision: Decision, task: Task, tier: Tier, model: str) -> Decision:
    score, probabilities = decision.score, decision.tier_probabilities
    if tier != decision.tier:
        # Keep the invariant that score sits in the band of the tier.
        lo, hi = tier_band(tier)
        score = (lo + hi) / 2
        probabilities = {t.value: (0.85 if t == tier else 0.05) for t in TIERS}
    return dataclasses.replace(
        decision,
        task=task,
        tier=tier,
        score=score,
        tier_probabilities=probabilities,
        source=f"{decision.source}+l2",
        l2_used=True,
        reasons=(*decision.reasons, f"L2 ({model}) said task={task.value} tier={tier.value}"),
    )
