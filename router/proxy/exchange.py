"""One proxied request from first byte to log line, shared by every wire format.

Order of checks: proxy key (401), body size (413), JSON and fields (400),
model (400/404), capacity (429), then the upstream call under the guard.
Whatever happens, :meth:`Exchange.settle` releases the capacity slot,
records metrics and writes the access-log line exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from router.proxy.context import ProxyContext
from router.proxy.errors import (
    ProxyError,
    Wire,
    error_body,
    error_headers,
    from_exception,
)
from router.proxy.json_bytes import dumps
from router.proxy.limits import ClientGone, Guard, link_of, parse_json_body, read_body

__all__ = ["Exchange", "json_response"]

T = TypeVar("T")
_log = logging.getLogger("tierrouter.proxy")
# Not a real HTTP status: nginx's "client closed request", for logs and metrics only.
CLIENT_CLOSED = 499
# Seconds an answer waits for its decision record to be durable (Exchange.logged).
LOG_WAIT = 2.0


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(dumps(body), status, headers, media_type="application/json")


class Exchange:
    """State of one request; handlers drive it, :meth:`settle` closes it."""

    def __init__(self, ctx: ProxyContext, request: Request, endpoint: str, wire: Wire) -> None:
        self.ctx = ctx
        self.request = request
        self.endpoint = endpoint
        self.wire = wire
        self.started = time.perf_counter()
        self.status = 0
        self.facts: dict[str, Any] | None = None
        self.attempts: Sequence[Mapping[str, Any]] = ()
        self.guard: Guard | None = None
        self.error: str | None = None
        self.stream = False
        # Whether the request called a model: only then do cost and savings count.
        self.spent = True
        # The agent conversation this request continues (sessions.py), what happened
        # to its model, and what a translation for another provider left out.
        self.session: str | None = None
        self.affinity: str | None = None
        self.dropped: list[str] = []
        # Set when a streaming response takes over; it settles at the end of the stream.
        self.handed_off = False
        self._in_gate = False
        # Budget scopes this request is charged to, and headers its answer carries.
        self.budget_scopes: list[str] = []
        self.extra_headers: dict[str, str] = {}
        self._closers: list[Callable[[], Awaitable[Any]]] = []
        self._settled = False

    # ---- before the upstream call ------------------------------------------------

    def authenticate(self) -> None:
        if not self.ctx.auth.allows(self.request.headers):
            self.ctx.metrics.rejected.inc("unauthorized")
            raise ProxyError(
                "authentication",
                "invalid or missing proxy key: send it as 'Authorization: Bearer <key>' "
                "or 'x-api-key: <key>'",
            )

    async def read_json(self) -> dict[str, Any]:
        """Authenticate, then read and parse the body as a JSON object."""
        self.authenticate()
        settings = self.ctx.settings
        try:
            raw = await read_body(
                self.request.headers,
                self.request.receive,
                settings.max_body_bytes,
                settings.body_timeout,
                link_of(self.request.scope),
            )
        except ProxyError as exc:
            if exc.kind == "request_too_large":
                self.ctx.metrics.rejected.inc("body_too_large")
            raise
        body = parse_json_body(raw, settings.max_json_depth)
        messages = body.get("messages")
        if isinstance(messages, list) and len(messages) > settings.max_messages:
            raise ProxyError(
                "request_too_large",
                f"messages: {len(messages)} messages exceed the proxy's limit of "
                f"{settings.max_messages}",
                param="messages",
            )
        return body

    async def admit(self, body: Mapping[str, Any], model: str) -> str:
        """Rate limit and budgets (router/proxy/admission.py): the model to route with."""
        admission = self.ctx.admission
        if admission is None:
            return model
        model, self.budget_scopes = await admission.admit(
            self.request.headers, body, model, self.extra_headers
        )
        return model

    def enter(self) -> Guard:
        """Take a capacity slot (or refuse with 429) and start guarding the upstream call."""
        gate = self.ctx.gate
        if not gate.try_enter():
            self.ctx.metrics.rejected.inc("over_capacity")
            raise ProxyError(
                "over_capacity",
                f"the proxy is at its limit of {gate.limit} concurrent upstream calls; "
                "retry shortly",
                retry_after=self.ctx.settings.retry_after,
            )
        self._in_gate = True
        self.ctx.metrics.inflight.set(value=gate.active)
        self.guard = Guard(
            self.request.receive, self.ctx.settings.upstream_timeout, link_of(self.request.scope)
        )
        return self.guard

    def on_close(self, closer: Callable[[], Awaitable[Any]]) -> None:
        """Something to close if the request ends before a stream takes it over."""
        self._closers.append(closer)

    # ---- the upstream call ---------------------------------------------------------

    async def prefetch(self, source: AsyncIterator[T], ready: Callable[[T], bool]) -> list[T]:
        """Pull items until ``ready`` says one is worth headers (e.g. the first token).

        Every failover happens before this returns, so a failed stream still
        gets a proper error status instead of a 200 with an error inside.
        """
        assert self.guard is not None
        items: list[T] = []
        while True:
            try:
                item = await self.guard.wait(source.__anext__())
            except StopAsyncIteration:
                return items
            items.append(item)
            if ready(item):
                return items

    async def logged(self) -> None:
        """Wait until this request's decision record is durable in the decision log.

        The record is queued for the log's writer thread when the call ends; an
        answer sent before the writer commits it would be lost to a ``kill -9``.
        Waiting here costs one batched commit (WAL, ``synchronous=NORMAL``: no
        fsync), shared by every request in the batch. A log that cannot confirm
        within :data:`LOG_WAIT` seconds (a stuck disk) does not hold the answer.
        """
        log = self.ctx.router.decision_log
        if log is None:
            return
        if not await log.awritten(LOG_WAIT):
            _log.warning("decision log: a record was not confirmed durable before answering")

    def routed(self, f: dict[str, Any], tier_rank: int, *, translated: bool) -> dict[str, Any]:
        """The facts ``f`` with this request's session and translation warnings.

        The session's model is recorded once (the first time the model is known);
        a stream's final facts repeat the same outcome.
        """
        if translated and self.dropped:
            f["warnings"] = [*f["warnings"], *self.dropped]
        if self.session is not None:
            if self.affinity is None:
                self.affinity = self.ctx.sessions.settle(self.session, f["model"], tier_rank)
            f["session"], f["affinity"] = self.session, self.affinity
        return f

    # ---- answers ---------------------------------------------------------------------

    def ok(self, body: Any, headers: Mapping[str, str] | None = None) -> Response:
        self.status = 200
        if self.extra_headers:
            headers = {**(headers or {}), **self.extra_headers}
        return json_response(200, body, headers)

    def fail(self, exc: BaseException) -> Response:
        """The error response for ``exc`` in this route's wire format."""
        if isinstance(exc, asyncio.CancelledError):
            if self.guard is None:
                raise exc
            exc = self.guard.reason_for(exc)
        if isinstance(exc, ClientGone):
            self.status = CLIENT_CLOSED
            self.error = "client_disconnected"
            self.ctx.metrics.disconnects.inc()
            return Response(status_code=CLIENT_CLOSED)
        err = from_exception(exc)
        if err.kind == "internal":
            # The type only: an exception message may quote the request.
            _log.error("internal error in %s: %s", self.endpoint, type(exc).__name__)
        self.status = err.status
        self.error = err.kind
        if err.attempts:
            self.attempts = err.attempts
        headers = error_headers(err, self.ctx.settings.retry_after)
        return json_response(err.status, error_body(err, self.wire), headers)

    # ---- the end -----------------------------------------------------------------------

    async def settle(self) -> None:
        """Close what is open and record the request, unless a stream took it over."""
        if self.handed_off:
            return
        for closer in self._closers:
            with contextlib.suppress(Exception):
                await closer()
        self.finish()

    def finish(self) -> None:
        if self._settled:
            return
        self._settled = True
        if self.guard is not None:
            self.guard.close()
        if self._in_gate:
            self._in_gate = False
            self.ctx.gate.leave()
            self.ctx.metrics.inflight.set(value=self.ctx.gate.active)
        if self.budget_scopes and self.ctx.admission is not None and self.facts:
            self.ctx.admission.spent(self.budget_scopes, self.facts.get("cost"))
        seconds = time.perf_counter() - self.started
        self.ctx.metrics.record(
            self.endpoint, self.status, seconds, self.facts, self.attempts, spent=self.spent
        )
        f = self.facts or {}
        self.ctx.log_request(
            {
                "method": self.request.method,
                # The scope's path: request.url would build and parse a whole URL.
                "path": self.request.scope["path"],
                "status": self.status,
                "ms": seconds * 1000,
                "stream": int(self.stream) if self.facts else None,
                "model": f.get("model"),
                "task": f.get("task"),
                "tier": f.get("tier"),
                "attempts": len(self.attempts) or None,
                "cost": f.get("cost"),
                "decision": f.get("decision_id"),
                "affinity": f.get("affinity"),
                "error": self.error,
            }
        )
