"""The durability barrier a decision log's writer thread keeps for ``awritten``.

Items are counted as they are queued and as the writer settles them (FIFO, so
"settled >= n" means the first n are done); a failure (a dropped item, a batch
that could not be stored) is counted too, so a waiter that saw fewer failures
than there are now learns its record may not be durable.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

__all__ = ["WriteBarrier"]


class WriteBarrier:
    """``on_wait`` is called (on the waiter's thread) when someone starts waiting: a
    writer that holds a batch open for more rows can send it at once instead."""

    def __init__(self, on_wait: Callable[[], None] | None = None) -> None:
        self._on_wait = on_wait
        self._lock = threading.Lock()
        self._enqueued = 0
        self._settled = 0
        self._failures = 0
        self._waiters: list[tuple[int, int, asyncio.AbstractEventLoop, asyncio.Future[bool]]] = []

    def queued(self) -> None:
        with self._lock:
            self._enqueued += 1

    def failed(self) -> None:
        """Something queued before now may be lost: waiters up to here get False."""
        with self._lock:
            self._failures += 1

    def settle(self, count: int) -> None:
        """The writer finished ``count`` more items: wake whoever waited for them."""
        with self._lock:
            self._settled += count
            ready = [w for w in self._waiters if w[0] <= self._settled]
            self._waiters = [w for w in self._waiters if w[0] > self._settled]
            failures = self._failures
        for _, seen, loop, future in ready:
            loop.call_soon_threadsafe(_resolve, future, seen == failures)

    async def wait(self, timeout: float) -> bool:
        """True once every item queued so far is settled with no failure among them."""
        with self._lock:
            target, failures = self._enqueued, self._failures
            if self._settled >= target:
                return True
            loop = asyncio.get_running_loop()
            future: asyncio.Future[bool] = loop.create_future()
            self._waiters.append((target, failures, loop, future))
        if self._on_wait is not None:
            self._on_wait()
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            return False


def _resolve(future: asyncio.Future[bool], durable: bool) -> None:
    if not future.done():  # the waiter may have timed out meanwhile
        future.set_result(durable)
