"""Requests per window per proxy key, counted once for the whole fleet.

A fixed window per key: ``INCR`` of ``rl:<key id>:<window number>`` and its
expiry in one round trip. Redis's INCR is atomic, so N instances admit exactly
``limit`` requests per window between them. Windows are numbered from the Unix
epoch, so instances agree on them as far as their clocks agree (NTP: milliseconds).

While Redis is away each instance counts alone (the same limit, per instance),
which keeps requests flowing instead of failing them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from router.state.link import RedisLink

__all__ = ["LocalRateLimiter", "RateLimit", "RedisRateLimiter"]


@dataclass(frozen=True)
class RateLimit:
    requests: int
    window: float = 60.0


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    count: int
    retry_after: float


def _window(now: float, window: float) -> tuple[int, float]:
    """The window number and the seconds until it ends."""
    index = int(now // window)
    return index, (index + 1) * window - now


class LocalRateLimiter:
    """The single-machine (and Redis-down) counter: this process only."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def hit_now(self, key_id: str, limit: RateLimit, now: float) -> Verdict:
        index, left = _window(now, limit.window)
        with self._lock:
            if len(self._counts) > 10_000:  # old windows: drop them
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= index}
            count = self._counts.get((key_id, index), 0) + 1
            self._counts[(key_id, index)] = count
        return Verdict(count <= limit.requests, count, left)

    async def hit(self, key_id: str, limit: RateLimit) -> Verdict:
        return self.hit_now(key_id, limit, time.time())


class RedisRateLimiter:
    """The fleet's counter in Redis, falling back to :class:`LocalRateLimiter`."""

    def __init__(self, link: RedisLink) -> None:
        self.link = link
        self.local = LocalRateLimiter()

    async def hit(self, key_id: str, limit: RateLimit) -> Verdict:
        now = time.time()
        if not self.link.ok:
            return self.local.hit_now(key_id, limit, now)
        index, left = _window(now, limit.window)
        key = self.link.key("rl", key_id, str(index))
        try:
            client: Any = self.link.async_client()
            async with client.pipeline(transaction=False) as pipe:
                pipe.incr(key)
                pipe.expire(key, int(limit.window) + 2)
                count, _ = await pipe.execute()
        except Exception as exc:
            self.link.mark_down(exc)
            return self.local.hit_now(key_id, limit, now)
        return Verdict(int(count) <= limit.requests, int(count), left)
