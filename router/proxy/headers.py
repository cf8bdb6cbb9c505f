"""What the router decided, attached to every routed response.

Headers carry it for clients that can read them; streams, whose headers leave
before the cost is known, repeat it at the end as an SSE comment
(``: tierrouter {...}``, ignored by SSE parsers) and as a ``tierrouter``
field on their last event, for clients that cannot.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from router.proxy.json_bytes import dumps
from router.types import Decision

__all__ = ["HEADER_PREFIX", "facts", "routing_headers", "sse_comment"]

HEADER_PREFIX = "x-tierrouter-"


def facts(
    decision: Decision,
    model_used: str | None,
    cost: float | None,
    attempts: Sequence[Any] | int,
) -> dict[str, Any]:
    """The routing facts of one response as a small JSON-ready dict.

    ``cost`` is what the call cost by the provider's token counts when it
    reported them, else the router's estimate; ``savings`` is the router's
    estimate against the baseline model for this request.
    """
    return {
        "model": model_used or decision.model,
        "task": decision.task.value,
        "tier": decision.tier.value,
        "confidence": round(decision.confidence, 4),
        "source": decision.source,
        "language": decision.language,
        "cost": cost if cost is not None else decision.estimated_cost,
        "estimated_cost": decision.estimated_cost,
        "baseline_cost": decision.baseline_cost,
        "savings": decision.savings,
        "attempts": attempts if isinstance(attempts, int) else len(attempts),
        "decision_id": decision.id,
        "candidates": list(decision.candidates),
        "rule": decision.rule,
        # Warn-rule names and add_warning messages: clients can only see them here.
        "warnings": list(decision.warnings),
        "l2_used": decision.l2_used,
    }


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.8f}".rstrip("0").rstrip(".") or "0"


def _header_text(value: str) -> str:
    """``value`` as a header value: HTTP headers carry Latin-1 at most, so any
    other character (a model named ``deepseek/模型``) is percent-encoded."""
    if value.isascii() and value.isprintable():
        return value
    return quote(value, safe="/:@._-+ ")


def routing_headers(f: dict[str, Any]) -> dict[str, str]:
    p = HEADER_PREFIX
    return {
        p + "model": _header_text(f["model"] or ""),
        p + "task": f["task"],
        p + "tier": f["tier"],
        p + "confidence": f"{f['confidence']:.3f}",
        p + "source": f["source"],
        p + "cost": _num(f["cost"]),
        p + "savings": _num(f["savings"]),
        p + "attempts": str(f["attempts"]),
        p + "decision-id": f["decision_id"] or "",
    }


def sse_comment(f: dict[str, Any]) -> bytes:
    return b": tierrouter " + dumps(f) + b"\n\n"
