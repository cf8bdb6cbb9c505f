"""Cooldowns shared through Redis: a model one instance saw fail rests on every instance.

Reads never leave the process: each instance keeps a local mirror
(:class:`~router.calls.fallback.InMemoryCooldownStore`) that the routing path
reads as before. A cooldown is written to the mirror at once, then a writer
thread stores it in Redis (a key that expires with it) and publishes it; every
instance's subscriber applies what it hears to its own mirror, usually within a
millisecond. A subscriber that (re)connects first loads every cooldown key, so
an instance started late, or back from an outage, knows what the others do.

While Redis is away the mirror alone decides, exactly like the single-machine
default; when it returns, the cooldowns this instance saw meanwhile are
published, so nothing learned during the outage is lost.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable

from router.calls.fallback import InMemoryCooldownStore
from router.state.link import RedisLink, follow

__all__ = ["RedisCooldownStore"]

_log = logging.getLogger("tierrouter.state")
# Set the key unless a longer cooldown is already there (a short one never cuts a
# long one short, as in the local store), then tell every instance.
_COOL = """
local left = redis.call('PTTL', KEYS[1])
if left < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end
redis.call('PUBLISH', KEYS[2], ARGV[2])
return left
"""


class RedisCooldownStore:
    """A :class:`~router.calls.fallback.CooldownStore` shared by every instance on one Redis."""

    def __init__(self, link: RedisLink, clock: Callable[[], float] = time.monotonic) -> None:
        self.link = link
        self.local = InMemoryCooldownStore(clock)
        self.instance = uuid.uuid4().hex[:12]
        self._channel = link.key("cooldowns")
        self._outbox: queue.Queue[tuple[str, str, int]] = queue.Queue(maxsize=10_000)
        self._cool_script = link.sync.register_script(_COOL)
        self._closed = threading.Event()
        self.subscribed = threading.Event()
        self.received = 0
        link.on_up(self._republish)
        for target, name in ((self._write, "writer"), (self._listen, "subscriber")):
            threading.Thread(target=target, name=f"tierrouter-cooldown-{name}", daemon=True).start()

    def __repr__(self) -> str:
        return f"RedisCooldownStore({self.link.shown!r})"

    def close(self) -> None:
        self._closed.set()

    # ---- the CooldownStore protocol: memory only -------------------------------------

    def remaining(self, model_id: str) -> float:
        return self.local.remaining(model_id)

    def cool(self, model_id: str, seconds: float) -> None:
        self.local.cool(model_id, seconds)
        self._send("cool", model_id, max(1, round(seconds * 1000)))

    def clear(self, model_id: str) -> None:
        # Every answered call clears: only a model that was cooling costs a message.
        if self.local.remaining(model_id) > 0:
            self.local.clear(model_id)
            self._send("clear", model_id, 0)

    def _send(self, op: str, model_id: str, ms: int) -> None:
        if not self.link.ok:
            return  # republished on recovery from the mirror
        # A full outbox: the mirror has it; the others learn of it on the next resync.
        with contextlib.suppress(queue.Full):
            self._outbox.put_nowait((op, model_id, ms))

    # ---- writer: mirror -> Redis ------------------------------------------------------

    def _write(self) -> None:
        while not self._closed.is_set():
            try:
                op, model_id, ms = self._outbox.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                self._publish(op, model_id, ms)
            except Exception as exc:
                self.link.mark_down(exc)

    def _publish(self, op: str, model_id: str, ms: int) -> None:
        message = json.dumps({"op": op, "m": model_id, "ms": ms, "from": self.instance})
        key = self.link.key("cooldown", model_id)
        if op == "cool":
            self._cool_script(keys=[key, self._channel], args=[ms, message])
        else:
            pipe = self.link.sync.pipeline(transaction=False)
            pipe.delete(key)
            pipe.publish(self._channel, message)
            pipe.execute()

    def _republish(self) -> None:
        for model_id, left in self.local.active().items():
            self._publish("cool", model_id, max(1, round(left * 1000)))

    # ---- subscriber: Redis -> mirror --------------------------------------------------

    def _listen(self) -> None:
        follow(self.link, self._channel, self._closed, self.subscribed, self._load, self._apply)

    def _load(self) -> None:
        """Every cooldown in Redis into the mirror (on each (re)subscribe)."""
        pattern = self.link.key("cooldown", "*")
        cut = len(self.link.key("cooldown", ""))
        keys = list(self.link.sync.scan_iter(match=pattern, count=500))
        if not keys:
            return
        pipe = self.link.sync.pipeline(transaction=False)
        for key in keys:
            pipe.pttl(key)
        for key, ms in zip(keys, pipe.execute(), strict=True):
            if ms and ms > 0:
                self.local.cool(key.decode()[cut:], ms / 1000)

    def _apply(self, data: bytes) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            return
        if message.get("from") == self.instance:
            return
        self.received += 1
        if message.get("op") == "cool":
            self.local.cool(str(message["m"]), float(message["ms"]) / 1000)
        elif message.get("op") == "clear":
            self.local.clear(str(message["m"]))
