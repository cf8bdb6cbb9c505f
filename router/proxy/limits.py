"""Bounds on what one request may cost the server: body size, upstream time, concurrency.

Concurrency is a counter, not a queue: a request over the limit is refused at
once with 429 and Retry-After, so a burst can never pile up unbounded work or
memory. A :class:`Guard` ties the upstream call to its client: when the client
disconnects, or the upstream stalls past the timeout, the request's task is
cancelled, which closes the upstream connection too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TypeVar

import orjson

from router.proxy.errors import ProxyError, invalid

__all__ = [
    "ClientGone",
    "Gate",
    "Guard",
    "Link",
    "Watchers",
    "deeper_than",
    "link_of",
    "parse_json_body",
    "read_body",
]

T = TypeVar("T")
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]


class ClientGone(Exception):
    """The client disconnected; there is nobody left to answer."""


class Watchers:
    """What the requests of one connection want called when it is lost: each once.

    A request that asks after the connection is gone (its client left while the
    request was still being read or routed) is told at once.
    """

    __slots__ = ("_callbacks", "lost")

    def __init__(self) -> None:
        self._callbacks: set[Callable[[], None]] = set()
        self.lost = False

    def add(self, on_lost: Callable[[], None]) -> None:
        if self.lost:
            on_lost()
        else:
            self._callbacks.add(on_lost)

    def discard(self, on_lost: Callable[[], None]) -> None:
        self._callbacks.discard(on_lost)

    def fire(self) -> None:
        """The connection is lost: call every callback registered, and any added later."""
        self.lost = True
        callbacks, self._callbacks = self._callbacks, set()
        for on_lost in callbacks:
            on_lost()


class Link:
    """What the connection a request came on tells its handler directly.

    The proxy's protocol (router/proxy/protocol.py) puts one in each request's
    scope. Without it a handler learns both facts through ``receive``: a body
    timer per request in case the body is slow, and a task per request that
    waits on ``receive`` for the disconnect; together about 7 % of the proxy's
    own CPU per request (``benchmarks/bench_proxy_ab.py``), for a body that has
    nearly always arrived with its headers and a client that nearly always stays.
    """

    __slots__ = ("_watchers", "body_complete")

    def __init__(self, watchers: Watchers) -> None:
        # Set by the protocol once the parser has seen the request's last body byte.
        self.body_complete = False
        self._watchers = watchers

    def watch(self, on_lost: Callable[[], None]) -> None:
        """Call ``on_lost`` when the connection is lost (at once if it already is),
        until :meth:`unwatch`."""
        self._watchers.add(on_lost)

    def unwatch(self, on_lost: Callable[[], None]) -> None:
        self._watchers.discard(on_lost)


LINK_KEY = "tierrouter.link"


def link_of(scope: MutableMapping[str, Any] | Any) -> Link | None:
    """The request's :class:`Link`, or ``None`` under another server (e.g. in-process tests)."""
    extensions = scope.get("extensions")
    link = extensions.get(LINK_KEY) if extensions else None
    return link if isinstance(link, Link) else None


class Gate:
    """At most ``limit`` upstream calls at once in this process; the rest are refused."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0

    def try_enter(self) -> bool:
        # The event loop is single threaded: check-and-increment cannot race.
        if self.active >= self.limit:
            return False
        self.active += 1
        return True

    def leave(self) -> None:
        self.active -= 1


async def read_body(
    headers: MutableMapping[str, str] | Any,
    receive: Receive,
    limit: int,
    timeout: float,
    link: Link | None = None,
) -> bytes:
    """The request body, refusing with 413 as soon as it is known to exceed ``limit``.

    A body that has not fully arrived ``timeout`` seconds after its headers is a
    408: a client sending a byte a second must not hold a worker's memory and a
    connection for the minutes a 32 MB body would take. A body the connection
    says is complete is read without a timer: ``receive`` returns it at once.
    """
    if link is not None and link.body_complete:
        return await _read_body(headers, receive, limit)
    # A timer that cancels this task rather than asyncio.wait_for, which runs the
    # read in a task of its own: about 6 of the 9 µs it cost per request, for a
    # body that has nearly always arrived with its headers.
    task = asyncio.current_task()
    if task is None:  # a coroutine driven outside any task: nothing to cancel
        try:
            return await asyncio.wait_for(_read_body(headers, receive, limit), timeout)
        except asyncio.TimeoutError:
            raise _body_timeout(timeout) from None
    expired = False

    def expire() -> None:
        nonlocal expired
        expired = True
        task.cancel()

    timer = asyncio.get_running_loop().call_later(timeout, expire)
    try:
        return await _read_body(headers, receive, limit)
    except asyncio.CancelledError:
        if not expired:
            raise
        uncancel = getattr(task, "uncancel", None)
        if uncancel is not None:  # Python 3.11+: the task is no longer being cancelled
            uncancel()
        raise _body_timeout(timeout) from None
    finally:
        timer.cancel()


def _body_timeout(timeout: float) -> ProxyError:
    return ProxyError("request_timeout", f"the request body did not arrive within {timeout:g}s")


async def _read_body(
    headers: MutableMapping[str, str] | Any, receive: Receive, limit: int
) -> bytes:
    declared = headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise ProxyError("invalid_request", "Content-Length is not a number") from None
        if size > limit:
            raise _too_large(limit)
    parts: list[bytes] = []
    total = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone()
        chunk = message.get("body", b"")
        if chunk:
            total += len(chunk)
            if total > limit:  # chunked uploads declare no length: count as they arrive
                raise _too_large(limit)
            parts.append(chunk)
        if not message.get("more_body", False):
            return parts[0] if len(parts) == 1 else b"".join(parts)


def parse_json_body(raw: bytes, max_depth: int) -> dict[str, Any]:
    """A request body as a JSON object, or a 400 saying what is wrong with it.

    UTF-8 only, as JSON over HTTP is (RFC 8259): a UTF-16 or Latin-1 body is
    refused rather than guessed at. Nesting past ``max_depth`` is refused before
    any code walks the body (recursive walkers would raise RecursionError).
    """
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        problem = str(exc)
        if "depth limit" in problem or "recursion" in problem:
            raise _too_deep(max_depth) from None
        if "utf-8" in problem.lower():
            raise invalid("body", "the request body is not UTF-8 encoded JSON") from None
        raise invalid("body", "the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise invalid("body", f"expected a JSON object, got {type(body).__name__}")
    if deeper_than(raw, body, max_depth):
        raise _too_deep(max_depth)
    return body


def deeper_than(raw: bytes, value: Any, limit: int) -> bool:
    """Whether ``value`` (parsed from ``raw``) nests objects and arrays deeper than ``limit``.

    Nesting can be no deeper than the number of opening brackets in the raw
    text, which bytes.count finds at C speed: most bodies are decided there, and
    only the rest are walked, a level at a time (a deep body must not recurse here).
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    level = [value]
    depth = 1
    while level:
        if depth > limit:
            return True
        deeper: list[Any] = []
        for node in level:
            children = node.values() if node.__class__ is dict else node
            deeper += [c for c in children if c.__class__ is dict or c.__class__ is list]
        level = deeper
        depth += 1
    return False


def _too_deep(limit: int) -> ProxyError:
    return invalid("body", f"JSON nesting is deeper than the proxy's limit of {limit} levels")


def _too_large(limit: int) -> ProxyError:
    return ProxyError(
        "request_too_large", f"request body exceeds the proxy's limit of {limit} bytes"
    )


class Guard:
    """Cancels the request's task when its client leaves or the upstream stalls.

    Start it once the body has been read (``receive`` then only reports the
    disconnect). ``arm()`` before each wait on the upstream and ``disarm()``
    after; when a ``CancelledError`` reaches the handler, :meth:`reason_for`
    says whether the guard caused it.
    """

    def __init__(self, receive: Receive, timeout: float, link: Link | None = None) -> None:
        self.timeout = timeout
        self.reason: str | None = None
        self._task = asyncio.current_task()
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._active = True
        self._link = link
        self._watch: asyncio.Task[None] | None = None
        if link is not None:
            link.watch(self._disconnected)
        else:
            self._watch = self._loop.create_task(self._listen(receive))

    async def _listen(self, receive: Receive) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                self._fire("disconnect")
                return

    def _disconnected(self) -> None:
        self._fire("disconnect")

    def _fire(self, reason: str) -> None:
        if self._active and self.reason is None and self._task is not None:
            self.reason = reason
            self._task.cancel()

    def arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_later(self.timeout, self._fire, "timeout")

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def wait(self, awaitable: Awaitable[T]) -> T:
        """Await an upstream step under the timeout."""
        self.arm()
        try:
            return await awaitable
        finally:
            self.disarm()

    def close(self) -> None:
        """Stop watching; call before the last byte goes out (uvicorn then reports a disconnect)."""
        self._active = False
        self.disarm()
        if self._link is not None:
            self._link.unwatch(self._disconnected)
        if self._watch is not None:
            self._watch.cancel()

    def reason_for(self, exc: asyncio.CancelledError) -> Exception:
        """Turn a cancellation the guard caused into ClientGone or a 504 ProxyError.

        A cancellation from elsewhere (server shutdown) is re-raised unchanged.
        """
        if self.reason is None:
            raise exc
        uncancel = getattr(self._task, "uncancel", None)
        if uncancel is not None:  # Python 3.11+: the task is no longer being cancelled
            uncancel()
        if self.reason == "disconnect":
            return ClientGone()
        return ProxyError("timeout", f"no answer from the upstream model within {self.timeout:g}s")
