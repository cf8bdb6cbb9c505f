"""The queue-and-thread half both decision logs share: a routed call only queues,
a writer thread stores in batches; flush, the durability barrier, close.

Each log (:mod:`router.log.sqlite`, :mod:`router.log.postgres`) sets the fields in
its ``__init__`` and runs its own writer loop, which ends on :data:`STOP`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any, TypeVar

from router.log.barrier import WriteBarrier

__all__ = ["STOP", "QueuedWriter"]

_log = logging.getLogger("tierrouter.log")
# Put on the queue by close(): the writer stores what came before it, then returns.
STOP = object()
_W = TypeVar("_W", bound="QueuedWriter")


class QueuedWriter:
    thread_name = "tierrouter-decision-log"
    path: Any
    dropped: int
    _queue: queue.Queue[Any]
    _thread: threading.Thread | None
    _start_lock: threading.Lock
    _closed: bool
    _last_warning: dict[str, float]
    _barrier: WriteBarrier

    def _run(self) -> None:
        raise NotImplementedError  # the log's own writer loop

    def _put(self, item: tuple[str, Any]) -> None:
        """Queue ``item`` for the writer (started on first use); never blocks or raises."""
        if self._closed:
            return
        if self._thread is None:
            self._start()
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.dropped += 1
            self._barrier.failed()  # a waiter must not take this item for written
            self._warn("full", f"decision log {self.path}: writer behind, dropped {self.dropped}")
            return
        self._barrier.queued()

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=self.thread_name, daemon=True
                )
                self._thread.start()

    def _warn(self, key: str, message: str) -> None:
        # At most one line a minute per kind of trouble: a full disk must not flood the logs.
        now = time.monotonic()
        if now - self._last_warning.get(key, -1e9) >= 60:
            self._last_warning[key] = now
            _log.warning(message)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until queued writes are stored; False if they were not within ``timeout``."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.002)
        return True

    async def awritten(self, timeout: float = 5.0) -> bool:
        """Wait, without blocking the event loop, until every write queued so far is
        durable; False if one failed or ``timeout`` passed first."""
        return await self._barrier.wait(timeout)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._thread is not None and self._thread.is_alive():
            try:
                self._queue.put(STOP, timeout=1.0)
            except queue.Full:
                return
            self._thread.join(timeout=5.0)

    def __enter__(self: _W) -> _W:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
