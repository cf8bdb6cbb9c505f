"""Run the async engine from synchronous code.

One private event loop in a daemon thread per router: the sync API works the
same from scripts, from threads, and from inside a running loop (notebooks),
and its HTTP connection pool survives between calls, which ``asyncio.run``
per call would throw away.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from typing import Any, TypeVar

__all__ = ["SyncBridge"]

T = TypeVar("T")


class SyncBridge:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="tierrouter-sync", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def iterate(self, source: AsyncIterator[T]) -> Iterator[T]:
        """Drive an async iterator from sync code; closing the generator closes ``source``."""
        sentinel = object()

        async def step() -> Any:
            try:
                return await source.__anext__()
            except StopAsyncIteration:
                return sentinel

        try:
            while True:
                item = self.run(step())
                if item is sentinel:
                    return
                yield item
        finally:
            aclose = getattr(source, "aclose", None)
            if aclose is not None and self._loop is not None and not self._loop.is_closed():
                self.run(aclose())

    def close(self, final: Coroutine[Any, Any, Any] | None = None) -> None:
        """Run ``final`` (closing HTTP clients) on the loop, then stop it."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None:
            if final is not None:
                final.close()
            return
        if final is not None:
            asyncio.run_coroutine_threadsafe(final, loop).result()
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=5)
        loop.close()
