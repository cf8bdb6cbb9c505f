"""The savings report behind ``tierrouter stats``: one pass over the log, plain data out.

``baseline_spend`` prices each call's own tokens at the baseline model (the
catalog's ``baseline_model`` or ``Router(baseline_model=...)``): what the same
traffic would have cost had everything gone there. Calls without usage
(errors, streams without a usage chunk) fall back to the decision's estimate.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

from router.log.store import DecisionLog
from router.log.timeline import Timeline

__all__ = ["parse_since", "plot_summary", "summarize"]

_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(value: str | None, now: float | None = None) -> float | None:
    """``7d``, ``24h``, ``30m``, ``2w`` ago, or an ISO date/time; None for everything."""
    if not value:
        return None
    match = _SPAN.match(value)
    if match:
        return (now or time.time()) - float(match.group(1)) * _UNIT[match.group(2)]
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"--since {value!r}: expected a span like 7d, 24h, 30m or an ISO date like 2025-01-31"
        ) from None
    if when.tzinfo is None:
        when = when.astimezone()
    return when.timestamp()


def summarize(
    log: DecisionLog,
    since: float | None = None,
    progress: Callable[[int], None] | None = None,
    every: int = 10_000,
) -> dict[str, Any]:
    """The report; ``progress(n)`` is called after every ``every`` records read."""
    calls = errors = fallbacks = 0
    spend = baseline = 0.0
    first: float | None = None
    last: float | None = None
    by: dict[str, Counter[str]] = {k: Counter() for k in ("task", "tier", "model", "language")}
    spend_by_model: dict[str, float] = defaultdict(float)
    days: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"calls": 0, "spend": 0.0, "baseline": 0.0, "tiers": Counter()}
    )
    ids: set[str] = set()
    timeline = Timeline()
    for r in log.records(since=since):
        calls += 1
        if progress is not None and calls % every == 0:
            progress(calls)
        ids.add(r.id)
        first = r.ts if first is None else first
        last = r.ts
        cost = r.cost or 0.0
        base = r.baseline_cost if r.baseline_cost is not None else cost
        if r.status != "ok":
            errors += 1
            cost = base = 0.0  # nothing was billed for a failed call
        spend += cost
        baseline += base
        if r.status == "ok" and r.attempts and r.attempts[0].get("model") != r.model_used:
            fallbacks += 1
        by["task"][r.task] += 1
        by["tier"][r.tier] += 1
        by["model"][r.model_used or "(none)"] += 1
        by["language"][r.language] += 1
        spend_by_model[r.model_used or "(none)"] += cost
        day = dt.datetime.fromtimestamp(r.ts).strftime("%Y-%m-%d")
        days[day]["calls"] += 1
        days[day]["spend"] += cost
        days[day]["baseline"] += base
        days[day]["tiers"][r.tier] += 1
        timeline.add(r.ts, cost, base, r.tier)
    feedback = [f for f in log.feedback() if f.decision_id in ids]
    outcomes = Counter(o.kind for o in log.outcomes() if o.decision_id in ids)
    ratings = [f.rating for f in feedback if f.rating is not None]
    savings = baseline - spend
    return {
        "since": since,
        "first": first,
        "last": last,
        "calls": calls,
        "errors": errors,
        "error_rate": errors / calls if calls else 0.0,
        "fallbacks": fallbacks,
        "fallback_rate": fallbacks / calls if calls else 0.0,
        "spend": spend,
        "baseline_spend": baseline,
        "savings": savings,
        "savings_share": savings / baseline if baseline else 0.0,
        "by_task": dict(by["task"].most_common()),
        "by_tier": dict(by["tier"].most_common()),
        "by_model": dict(by["model"].most_common()),
        "by_language": dict(by["language"].most_common()),
        "spend_by_model": dict(sorted(spend_by_model.items(), key=lambda kv: -kv[1])),
        "outcomes": dict(outcomes.most_common()),
        "feedback": {
            "count": len(feedback),
            "by_verdict": dict(Counter(f.verdict for f in feedback if f.verdict).most_common()),
            "by_source": dict(Counter(f.source.split(":")[0] for f in feedback).most_common()),
            "corrections": sum(1 for f in feedback if f.task or f.tier),
            "mean_rating": sum(ratings) / len(ratings) if ratings else None,
        },
        "days": {day: {**v, "tiers": dict(v["tiers"])} for day, v in sorted(days.items())},
        "timeline": timeline.bins(),
    }


def plot_summary(summary: dict[str, Any], path: str) -> None:
    """The PNG of ``tierrouter stats --plot`` (drawn by :mod:`router.log.stats_plot`)."""
    from router.log.stats_plot import plot_summary as draw

    draw(summary, path)
