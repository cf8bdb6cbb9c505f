"""Session affinity shared through Redis: a conversation stays on its model on every instance.

A load balancer may send each turn of an agent's conversation to another
instance; without sharing, each would route the turn afresh and the provider's
prompt cache would be lost at every switch. Like the cooldowns
(:mod:`router.state.cooldowns`), reads never leave the process: each instance
keeps its own :class:`~router.proxy.sessions.SessionStore` as a mirror that the
request path reads. A settled turn is written to the mirror at once, then a
writer thread stores it in Redis (a key that expires after the idle time) and
publishes it; every instance's subscriber applies what it hears. A subscriber
that (re)connects first loads the conversations in Redis (up to the mirror's
size), so an instance started later continues them too.

Only news is sent (a conversation's first turn, a new model or tier, and a
keep-alive every quarter of the idle time), so the many turns that keep their
model cost no Redis write and no message. While Redis is away each instance
keeps its own conversations, exactly like the single-machine default.
"""

from __future__ import annotations

import collections
import contextlib
import json
import queue
import threading
import time
import uuid

from router.proxy.sessions import SessionStore
from router.state.link import RedisLink, follow

__all__ = ["RedisSessionStore"]


class RedisSessionStore(SessionStore):
    """A :class:`~router.proxy.sessions.SessionStore` every instance on one Redis shares."""

    def __init__(self, link: RedisLink, limit: int = 10_000, idle_seconds: float = 3600.0) -> None:
        super().__init__(limit, idle_seconds)
        self.link = link
        self.instance = uuid.uuid4().hex[:12]
        self._channel = link.key("sessions")
        self._outbox: queue.Queue[tuple[str, str, int]] = queue.Queue(maxsize=10_000)
        # What this instance last sent per conversation: (model, tier rank, when).
        self._sent: collections.OrderedDict[str, tuple[str, int, float]] = collections.OrderedDict()
        # The mirror is written by the event loop (settle) and the subscriber thread;
        # reentrant because the base class's settle() calls prefer().
        self._lock = threading.RLock()
        self._closed = threading.Event()
        self.subscribed = threading.Event()
        for target, name in ((self._write, "writer"), (self._listen, "subscriber")):
            threading.Thread(target=target, name=f"tierrouter-session-{name}", daemon=True).start()

    def close(self) -> None:
        self._closed.set()

    # ---- the SessionStore interface: memory only ---------------------------------------

    def prefer(self, key: str) -> tuple[str, int] | None:
        with self._lock:
            return super().prefer(key)

    def settle(self, key: str, model: str | None, tier_rank: int) -> str:
        with self._lock:
            outcome = super().settle(key, model, tier_rank)
            entry = self._entries.get(key) if model is not None else None
            if entry is None or not self.link.ok:
                return outcome
            # Only news is sent: a conversation's first turn, a new model or tier, and
            # now and then a turn that keeps it alive on the others (they expire it
            # after the idle time). A kept turn costs no Redis write and no message.
            now = time.monotonic()
            sent = self._sent.get(key)
            if (
                sent is not None
                and sent[:2] == (entry.model, entry.tier_rank)
                and (now - sent[2] < self.idle_seconds / 4)
            ):
                return outcome
            self._sent[key] = (entry.model, entry.tier_rank, now)
            self._sent.move_to_end(key)
            while len(self._sent) > self.limit:
                self._sent.popitem(last=False)
        # A full outbox: this instance has it; the others route that turn afresh.
        with contextlib.suppress(queue.Full):
            self._outbox.put_nowait((key, entry.model, entry.tier_rank))
        return outcome

    def _mirror(self, key: str, model: str, tier_rank: int, age: float = 0.0) -> None:
        with self._lock:
            self._keep(key, model, tier_rank, time.monotonic() - age)

    # ---- writer: mirror -> Redis --------------------------------------------------------

    def _write(self) -> None:
        ttl = max(1, round(self.idle_seconds * 1000))
        while not self._closed.is_set():
            try:
                batch = [self._outbox.get(timeout=0.5)]
            except queue.Empty:
                continue
            with contextlib.suppress(queue.Empty):  # whatever else is waiting: one round trip
                while len(batch) < 256:
                    batch.append(self._outbox.get_nowait())
            try:
                pipe = self.link.sync.pipeline(transaction=False)
                for key, model, rank in batch:
                    pipe.set(self.link.key("session", key), json.dumps([model, rank]), px=ttl)
                    pipe.publish(self._channel, json.dumps(
                        {"k": key, "m": model, "r": rank, "from": self.instance}))  # fmt: skip
                pipe.execute()
            except Exception as exc:
                self.link.mark_down(exc)

    # ---- subscriber: Redis -> mirror ----------------------------------------------------

    def _listen(self) -> None:
        follow(self.link, self._channel, self._closed, self.subscribed, self._load, self._apply)

    def _load(self) -> None:
        """The conversations in Redis into the mirror (at most ``limit``), with their age."""
        cut = len(self.link.key("session", ""))
        keys = []
        for key in self.link.sync.scan_iter(match=self.link.key("session", "*"), count=500):
            keys.append(key)
            if len(keys) >= self.limit:
                break
        if not keys:
            return
        pipe = self.link.sync.pipeline(transaction=False)
        for key in keys:
            pipe.get(key)
            pipe.pttl(key)
        found = pipe.execute()
        for key, value, ms in zip(keys, found[::2], found[1::2], strict=True):
            if value is None or not ms or ms <= 0:
                continue
            try:
                model, rank = json.loads(value)
            except (ValueError, TypeError):
                continue
            age = max(0.0, self.idle_seconds - ms / 1000)
            self._mirror(key.decode()[cut:], str(model), int(rank), age)

    def _apply(self, data: bytes) -> None:
        try:
            message = json.loads(data)
            if message.get("from") == self.instance:
                return
            self._mirror(str(message["k"]), str(message["m"]), int(message["r"]))
        except (ValueError, TypeError, KeyError, AttributeError):
            return
