"""Spend over time in bins sized to the log's span: minutes for an hour, hours for a day,
days for a month, weeks for a year.

A fixed daily bin drew a log of one day as a single point. The log is read once,
in time order, into 5-minute and hourly buckets; once the span passes a day the
5-minute ones are dropped (hours are then fine enough), so memory stays at one
bucket per hour of traffic. Bins follow local time, so a day bin starts at
local midnight, as the ``days`` of the summary do.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BIN_SIZES", "Timeline", "choose_bin"]

_FINE = 300
_HOUR = 3600
_DAY = 86400
# (seconds, name): the first whose bins number at most MAX_BINS is used.
BIN_SIZES: tuple[tuple[int, str], ...] = (
    (_FINE, "5 minutes"),
    (900, "15 minutes"),
    (_HOUR, "hour"),
    (6 * _HOUR, "6 hours"),
    (_DAY, "day"),
    (7 * _DAY, "week"),
    (30 * _DAY, "30 days"),
)
# About as many bars as a 10-inch figure shows apart; a day is 24 hourly bins, a
# month 30 daily ones.
MAX_BINS = 60


def choose_bin(span: float) -> tuple[int, str]:
    """The smallest bin that cuts ``span`` seconds into at most MAX_BINS pieces."""
    for seconds, name in BIN_SIZES:
        if span / seconds <= MAX_BINS:
            return seconds, name
    return BIN_SIZES[-1]


@dataclass
class _Bucket:
    calls: int = 0
    spend: float = 0.0
    baseline: float = 0.0
    tiers: Counter[str] = field(default_factory=Counter)

    def add(self, other: _Bucket) -> None:
        self.calls += other.calls
        self.spend += other.spend
        self.baseline += other.baseline
        self.tiers.update(other.tiers)


@dataclass
class Timeline:
    """Feed records in time order with :meth:`add`; :meth:`bins` gives the chosen bins."""

    offset: float = field(default_factory=lambda: -float(time.localtime().tm_gmtoff))
    first: float | None = None
    last: float | None = None
    _fine: dict[int, _Bucket] | None = field(default_factory=dict)
    _hourly: dict[int, _Bucket] = field(default_factory=dict)

    def _local(self, ts: float) -> float:
        return ts - self.offset

    def add(self, ts: float, spend: float, baseline: float, tier: str) -> None:
        self.first = ts if self.first is None else min(self.first, ts)
        self.last = ts if self.last is None else max(self.last, ts)
        local = self._local(ts)
        buckets = [self._hourly.setdefault(int(local // _HOUR), _Bucket())]
        if self._fine is not None:
            if self.last - self.first > _DAY:
                self._fine = None  # hours are fine enough from here on
            else:
                buckets.append(self._fine.setdefault(int(local // _FINE), _Bucket()))
        for b in buckets:
            b.calls += 1
            b.spend += spend
            b.baseline += baseline
            b.tiers[tier] += 1

    def bins(self) -> dict[str, Any]:
        """``{bin_seconds, bin_name, bins: [{start, calls, spend, baseline, saved, tiers}]}``.

        Every bin between the first and the last record is listed, empty ones too,
        so a quiet night shows as a gap rather than being skipped.
        """
        if self.first is None or self.last is None:
            return {"bin_seconds": None, "bin_name": None, "bins": []}
        seconds, name = choose_bin(self.last - self.first)
        # Sub-hour bins only come with spans under a day, when the 5-minute buckets are kept.
        if seconds < _HOUR and self._fine is not None:
            source, unit = self._fine, _FINE
        else:
            source, unit = self._hourly, _HOUR
        merged: dict[int, _Bucket] = {}
        for key, bucket in source.items():
            merged.setdefault(int(key * unit // seconds), _Bucket()).add(bucket)
        lo = int(self._local(self.first) // seconds)
        hi = int(self._local(self.last) // seconds)
        out = []
        for k in range(lo, hi + 1):
            b = merged.get(k, _Bucket())
            out.append(
                {
                    "start": k * seconds + self.offset,
                    "calls": b.calls,
                    "spend": b.spend,
                    "baseline": b.baseline,
                    "saved": b.baseline - b.spend,
                    "tiers": dict(b.tiers),
                }
            )
        return {"bin_seconds": seconds, "bin_name": name, "bins": out}
