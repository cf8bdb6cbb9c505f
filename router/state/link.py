"""One Redis connection per URL per process, and whether Redis is reachable right now.

The link is the single place that decides "Redis is down": any component whose
call fails reports it here, everything then uses local state at once (no
connect timeout per request), and one thread pings until Redis answers again.
Both transitions are logged once (logger ``tierrouter.state``) and counted.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from router.db.urls import redacted, require_redis
from router.errors import ConfigError

__all__ = ["RedisLink", "follow", "link_for"]

_log = logging.getLogger("tierrouter.state")
_LINKS: dict[tuple[str, str], RedisLink] = {}
_LOCK = threading.Lock()
# A dead or partitioned Redis costs one request at most this long before the
# link is marked down; loopback and LAN round trips are well under a millisecond.
TIMEOUT = 0.25


def _redis_module() -> Any:
    try:
        import redis
    except ImportError:
        raise ConfigError(
            "state: redis:// needs the 'fleet' extra: pip install 'tierrouter[fleet]'"
        ) from None
    return redis


class RedisLink:
    """A Redis URL, its clients (sync for threads, async for the proxy) and its health."""

    def __init__(self, url: str, prefix: str = "tierrouter:", ping_every: float = 0.5) -> None:
        redis = _redis_module()
        self.url = require_redis(url, "state")
        self.prefix = prefix
        self.shown = redacted(url)
        self.sync = redis.Redis.from_url(
            url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT, health_check_interval=0
        )
        self._async: dict[int, Any] = {}
        self._ping_every = ping_every
        self.ok = True
        self.down_since: float | None = None
        self.outages = 0
        self._lock = threading.Lock()
        self._recovering = False
        self._on_up: list[Callable[[], None]] = []
        try:
            self.sync.ping()
        except Exception as exc:
            self.mark_down(exc)

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    def async_client(self) -> Any:
        """The asyncio client of the running loop (the proxy has one; tests may make more)."""
        import asyncio

        import redis.asyncio as aioredis

        loop_id = id(asyncio.get_running_loop())
        client = self._async.get(loop_id)
        if client is None:
            client = aioredis.Redis.from_url(
                self.url,
                socket_timeout=TIMEOUT,
                socket_connect_timeout=TIMEOUT,
                health_check_interval=0,
            )
            self._async[loop_id] = client
        return client

    def on_up(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` (on the pinger thread) each time Redis comes back."""
        self._on_up.append(callback)

    def mark_down(self, exc: BaseException) -> None:
        with self._lock:
            if not self.ok:
                return
            self.ok = False
            self.down_since = time.time()
            self.outages += 1
            start = not self._recovering
            self._recovering = True
        _log.warning(
            "state backend %s unreachable (%s: %s): each instance uses its local state "
            "until it returns",
            self.shown, type(exc).__name__, exc,
        )  # fmt: skip
        if start:
            ping = threading.Thread(target=self._recover, name="tierrouter-redis-ping", daemon=True)
            ping.start()

    def _recover(self) -> None:
        while True:
            time.sleep(self._ping_every)
            try:
                self.sync.ping()
            except Exception:
                continue
            break
        for callback in self._on_up:
            try:
                callback()
            except Exception as exc:  # a resync that fails must not keep the link down
                _log.warning("state backend %s: resync failed (%s)", self.shown, exc)
        with self._lock:
            self.ok = True
            self._recovering = False
            down = time.time() - (self.down_since or time.time())
            self.down_since = None
        _log.warning("state backend %s reachable again after %.1f s: shared state resumes",
                     self.shown, down)  # fmt: skip

    def health(self) -> dict[str, Any]:
        return {
            "backend": "redis",
            "url": self.shown,
            "ok": self.ok,
            "down_since": self.down_since,
            "outages": self.outages,
        }


def link_for(url: str, prefix: str = "tierrouter:") -> RedisLink:
    """The process's link for ``url``: every component shares its health."""
    with _LOCK:
        link = _LINKS.get((url, prefix))
        if link is None:
            link = _LINKS[(url, prefix)] = RedisLink(url, prefix)
        return link


def forget_links() -> None:
    """Drop every link (tests start servers on new ports)."""
    with _LOCK:
        _LINKS.clear()


def follow(
    link: RedisLink,
    channel: str,
    closed: threading.Event,
    subscribed: threading.Event,
    load: Callable[[], None],
    apply: Callable[[Any], None],
) -> None:
    """Keep a local mirror in step with Redis until ``closed``: subscribe to
    ``channel``, ``load`` the whole state (on every (re)subscribe, since messages
    sent while away are lost), then ``apply`` each message; while Redis is down,
    wait for the link to come back."""
    while not closed.is_set():
        if not link.ok:
            time.sleep(0.1)
            continue
        pubsub: Any = None
        try:
            pubsub = link.sync.pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(channel)
            load()
            subscribed.set()
            while not closed.is_set() and link.ok:
                message = pubsub.get_message(timeout=0.2)
                if message is not None:
                    apply(message["data"])
        except Exception as exc:
            subscribed.clear()
            link.mark_down(exc)
        finally:
            if pubsub is not None:
                with contextlib.suppress(Exception):
                    pubsub.close()
