"""Turns a finished (or failed) routed call into a decision record and outcome signals.

Called by the call engine after each call. Everything here is guarded: a bug or
an odd response costs the record and a logged warning, never the call.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from router.log.config import LogConfig, default_redact
from router.log.store import DecisionLog, DecisionRecord, Outcome, prompt_hash

if TYPE_CHECKING:
    from router.routing.catalog import ModelSpec
    from router.routing.planning import RoutePlan

__all__ = ["Recorder", "user_text"]

_log = logging.getLogger("tierrouter.log")
# Openings of a refusal; checked on the first 200 characters of the reply only.
_REFUSAL = re.compile(
    r"^\W*(?:i'?m sorry,? but |sorry,? but |unfortunately,? )?i (?:can(?:'|no)?t|cannot|"
    r"won'?t|am unable to|am not able to) (?:help|assist|comply|provide|do that|fulfil)",
    re.IGNORECASE,
)
_RECENT = 4096


def user_text(messages: Any) -> str:
    """The user turns joined: what a retry repeats and what the hash covers."""
    if isinstance(messages, str):
        return messages
    parts: list[str] = []
    for m in messages or ():
        if not isinstance(m, Mapping) or m.get("role") != "user":
            continue
        content = m.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts += [
                str(p.get("text", ""))
                for p in content
                if isinstance(p, Mapping) and p.get("type") in ("text", "input_text")
            ]
    return "\n\n".join(parts)


class Recorder:
    def __init__(
        self,
        log: DecisionLog,
        config: LogConfig,
        *,
        redact: Callable[[str], str] | None = None,
        baseline: ModelSpec | None = None,
    ) -> None:
        self.log = log
        self.config = config
        self._redact = redact
        self._baseline = baseline
        self._recent: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()

    def completed(
        self,
        messages: Any,
        plan: RoutePlan,
        *,
        body: Mapping[str, Any] | None,
        used: ModelSpec | None,
        attempts: Sequence[Mapping[str, Any]],
        usage: Mapping[str, Any] | None,
        cost: float | None,
        started: float,
        stream: bool = False,
        finish_reason: str | None = None,
        text: str | None = None,
        error: BaseException | None = None,
        requested: str | None = None,
    ) -> None:
        try:
            self._completed(
                messages, plan, body, used, attempts, usage, cost, started, stream,
                finish_reason, text, error, requested,
            )  # fmt: skip
        except Exception as exc:  # logging must never break the call
            _log.warning("decision log: record skipped (%s: %s)", type(exc).__name__, exc)

    def _completed(
        self,
        messages: Any,
        plan: RoutePlan,
        body: Mapping[str, Any] | None,
        used: ModelSpec | None,
        attempts: Sequence[Mapping[str, Any]],
        usage: Mapping[str, Any] | None,
        cost: float | None,
        started: float,
        stream: bool,
        finish_reason: str | None,
        text: str | None,
        error: BaseException | None,
        requested: str | None,
    ) -> None:
        d = plan.decision
        now = time.time()
        prompt = user_text(messages)
        digest = prompt_hash(prompt)
        if body is not None:
            choice = (body.get("choices") or [{}])[0]
            finish_reason = finish_reason or choice.get("finish_reason")
            message = choice.get("message") or {}
            text = text if text is not None else message.get("content")
            refusal = message.get("refusal")
        else:
            refusal = None
        pt = int(usage.get("prompt_tokens", 0)) if usage else None
        ct = int(usage.get("completion_tokens", 0)) if usage else None
        baseline_cost = d.baseline_cost
        if self._baseline is not None and pt is not None and ct is not None:
            # Priced on the tokens this call really used, like ``cost``.
            baseline_cost = self._baseline.cost(pt, ct)
        store = self.config.store_prompts
        record = DecisionRecord(
            id=d.id or f"rt-unrouted-{digest[:12]}-{now:.6f}",
            ts=now,
            prompt_hash=digest,
            task=d.task.value,
            tier=d.tier.value,
            language=d.language,
            source=d.source,
            model_version=d.model_version,
            confidence=float(d.confidence),
            score=float(d.score),
            tier_probabilities=dict(d.tier_probabilities),
            task_scores=dict(d.task_scores),
            features={name: float(f.value) for name, f in d.features.items()},
            model_requested=requested,
            model_used=used.id if used is not None else None,
            provider=used.provider if used is not None else None,
            attempts=[_attempt(a) for a in attempts],
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
            prompt_tokens=pt,
            completion_tokens=ct,
            cost=cost,
            estimated_cost=d.estimated_cost,
            baseline_cost=baseline_cost,
            finish_reason=finish_reason,
            status="error" if error is not None else "ok",
            error_type=(getattr(error, "type", None) or type(error).__name__) if error else None,
            stream=stream,
            prompt=self._clean(prompt) if store else None,
            response=self._clean(text) if store and isinstance(text, str) else None,
            messages=_clean_messages(messages, self._clean) if store else None,
        )
        self.log.record(record)
        for kind, detail in self._signals(record, plan, refusal, text):
            self.log.attach_outcome(Outcome(record.id, kind, detail, now))
        self._note_retry(record)

    def _clean(self, text: str | None) -> str | None:
        if text is None:
            return None
        text = default_redact(text)
        return self._redact(text) if self._redact is not None else text

    def _signals(
        self, record: DecisionRecord, plan: RoutePlan, refusal: Any, text: Any
    ) -> list[tuple[str, str | None]]:
        out: list[tuple[str, str | None]] = []
        if record.status == "error":
            out.append(("error", record.error_type))
        first = record.attempts[0]["model"] if record.attempts else None
        if record.model_used and first and record.model_used != first:
            stronger = _price(plan, record.model_used) > _price(plan, first)
            out.append(("failover", f"{first} -> {record.model_used}" + (
                " (stronger)" if stronger else "")))  # fmt: skip
        if record.finish_reason in ("length", "max_tokens", "MAX_TOKENS"):
            out.append(("truncated", record.finish_reason))
        if (
            refusal
            or record.finish_reason in ("content_filter", "refusal", "SAFETY")
            or (isinstance(text, str) and _REFUSAL.match(text[:200]))
        ):
            out.append(("refused", record.finish_reason))
        return out

    def _note_retry(self, record: DecisionRecord) -> None:
        window = self.config.retry_window
        with self._lock:
            before = self._recent.pop(record.prompt_hash, None)
            self._recent[record.prompt_hash] = (record.ts, record.id)
            while len(self._recent) > _RECENT:
                self._recent.popitem(last=False)
        if before is not None and record.ts - before[0] <= window:
            # The signal belongs to the earlier call: its answer did not satisfy.
            self.log.attach_outcome(Outcome(before[1], "retried", record.id, record.ts))


def _attempt(a: Mapping[str, Any]) -> dict[str, Any]:
    # Error text can echo request details; status and type say enough.
    return {k: a.get(k) for k in ("model", "provider", "ok", "status", "type", "latency_ms")}


def _price(plan: RoutePlan, model_id: str) -> float:
    for m in plan.chain:
        if m.id == model_id:
            return float((m.input_price or 0.0) + (m.output_price or 0.0))
    return 0.0


def _clean_messages(
    messages: Any, clean: Callable[[str | None], str | None]
) -> list[dict[str, Any]] | None:
    if isinstance(messages, str):
        return [{"role": "user", "content": clean(messages)}]
    out = []
    for m in messages or ():
        if not isinstance(m, Mapping) or not isinstance(m.get("content"), str):
            return None  # images, tool calls: keep the text-only prompt field instead
        out.append({"role": str(m.get("role")), "content": clean(m["content"])})
    return out
