"""Prometheus metrics, written out by hand in the text exposition format.

Counters live in plain dicts keyed by label values: the event loop is single
threaded, so no locks, and recording one request costs a few dict updates.
Each uvicorn worker keeps its own; a scrape sees the worker that answered it.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["Metrics"]

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


def _escape(value: str) -> str:
    # The exposition format escapes backslash, quote and LF only; any other
    # control character (CR, NUL) would split or corrupt the line, and an
    # unknown escape is a parse error, so they become U+FFFD.
    out = value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
    if out.isprintable():
        return out
    return "".join(c if c.isprintable() else "\ufffd" for c in out)


def _labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class _Family:
    def __init__(self, name: str, kind: str, help: str, labels: Sequence[str] = ()) -> None:
        self.name, self.kind, self.help, self.labels = name, kind, help, tuple(labels)

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]


class Counter(_Family):
    def __init__(self, name: str, help: str, labels: Sequence[str] = (), kind: str = "counter"):
        super().__init__(name, kind, help, labels)
        self.values: dict[tuple[str, ...], float] = {}
        if not labels:
            self.values[()] = 0.0

    def inc(self, *labels: str, by: float = 1.0) -> None:
        self.values[labels] = self.values.get(labels, 0.0) + by

    def set(self, *labels: str, value: float) -> None:
        self.values[labels] = value

    def render(self) -> Iterable[str]:
        yield from self.header()
        for key, value in sorted(self.values.items()):
            yield f"{self.name}{_labels(self.labels, key)} {_fmt(value)}"


class Histogram(_Family):
    def __init__(self, name: str, help: str, labels: Sequence[str] = ()) -> None:
        super().__init__(name, "histogram", help, labels)
        self.series: dict[tuple[str, ...], list[float]] = {}  # bucket counts..., sum, count

    def observe(self, value: float, *labels: str) -> None:
        row = self.series.get(labels)
        if row is None:
            row = self.series[labels] = [0.0] * (len(_BUCKETS) + 2)
        row[bisect.bisect_left(_BUCKETS, value)] += 1  # the bucket this value first fits
        row[-2] += value
        row[-1] += 1

    def render(self) -> Iterable[str]:
        yield from self.header()
        for key, row in sorted(self.series.items()):
            running = 0.0
            for bound, count in zip(_BUCKETS, row, strict=False):
                running += count
                le = _labels(self.labels, key, 'le="' + _fmt(bound) + '"')
                yield f"{self.name}_bucket{le} {_fmt(running)}"
            inf = _labels(self.labels, key, 'le="+Inf"')
            yield f"{self.name}_bucket{inf} {_fmt(row[-1])}"
            yield f"{self.name}_sum{_labels(self.labels, key)} {_fmt(row[-2])}"
            yield f"{self.name}_count{_labels(self.labels, key)} {_fmt(row[-1])}"


class Metrics:
    """Everything ``GET /metrics`` reports."""

    def __init__(self) -> None:
        p = "tierrouter_"
        self.requests = Counter(
            p + "requests_total", "HTTP requests handled.", ("endpoint", "status")
        )
        self.latency = Histogram(
            p + "request_duration_seconds",
            "Time from request to last byte of the response.",
            ("endpoint",),
        )
        self.decisions = Counter(
            p + "decisions_total", "Routed requests by decision.", ("task", "tier", "model")
        )
        self.fallbacks = Counter(
            p + "fallbacks_total", "Requests that needed more than one model attempt."
        )
        self.upstream_errors = Counter(
            p + "upstream_errors_total",
            "Failed attempts against a provider.",
            ("provider", "type"),
        )
        self.cost = Counter(
            p + "cost_usd_total",
            "Cost of routed calls in USD (provider token counts, else the router's estimate).",
            ("model",),
        )
        self.savings = Counter(
            p + "savings_usd_total",
            "Estimated USD saved against the baseline model.",
        )
        self.rejected = Counter(
            p + "rejected_total", "Requests refused before any upstream call.", ("reason",)
        )
        self.disconnects = Counter(
            p + "client_disconnects_total", "Clients that went away before their answer."
        )
        self.inflight = Counter(
            p + "inflight_upstream_requests", "Upstream calls in progress.", kind="gauge"
        )
        self._families: tuple[Counter | Histogram, ...] = (
            self.requests,
            self.latency,
            self.decisions,
            self.fallbacks,
            self.upstream_errors,
            self.cost,
            self.savings,
            self.rejected,
            self.disconnects,
            self.inflight,
        )

    def record(
        self,
        endpoint: str,
        status: int,
        seconds: float,
        facts: Mapping[str, Any] | None = None,
        attempts: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        self.requests.inc(endpoint, str(status))
        self.latency.observe(seconds, endpoint)
        failed = 0
        for attempt in attempts:
            if not attempt.get("ok"):
                failed += 1
                self.upstream_errors.inc(
                    str(attempt.get("provider")), str(attempt.get("type") or "error")
                )
        if len(attempts) > 1:
            self.fallbacks.inc()
        if facts is None:
            return
        model = str(facts.get("model") or "")
        self.decisions.inc(str(facts["task"]), str(facts["tier"]), model)
        if status < 400:
            if facts.get("cost") is not None:
                self.cost.inc(model, by=float(facts["cost"]))
            if facts.get("savings") is not None:
                self.savings.inc(by=float(facts["savings"]))

    def render(self) -> str:
        lines: list[str] = []
        for family in self._families:
            lines.extend(family.render())
        return "\n".join(lines) + "\n"
