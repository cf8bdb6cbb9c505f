"""Server-sent events out of a routed stream, for any wire format.

The handler has already pulled the first item (so failover and routing
errors got a real status); this response sends the headers, then pumps the
rest. Each wait on the upstream runs under the guard's timeout, and a client
disconnect cancels the pump, which closes the upstream stream with it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, Protocol

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from router.proxy.errors import ProxyError, from_exception
from router.proxy.exchange import Exchange
from router.proxy.limits import ClientGone

__all__ = ["Encoder", "SSEResponse", "routed_stream"]

_SSE_HEADERS = {
    "cache-control": "no-cache",
    # Reverse proxies (nginx) would otherwise buffer the whole stream.
    "x-accel-buffering": "no",
}


class Encoder(Protocol):
    """Turns the router's stream items into one wire format's SSE bytes."""

    def feed(self, item: Any) -> bytes: ...

    def finish(self) -> bytes: ...

    def fail(self, err: ProxyError) -> bytes: ...


Summary = Callable[[], tuple[dict[str, Any] | None, Sequence[Mapping[str, Any]]]]


class SSEResponse(Response):
    def __init__(
        self,
        exchange: Exchange,
        source: AsyncIterator[Any],
        first: list[Any],
        encoder: Encoder,
        headers: Mapping[str, str],
        summary: Summary,
        close: Callable[[], Any],
    ) -> None:
        self.exchange = exchange
        self.source = source
        self.first = first
        self.encoder = encoder
        self.summary = summary
        self.close = close
        self.status_code = 200
        self.background = None
        self.media_type = "text/event-stream"
        self.init_headers({**_SSE_HEADERS, **headers, **exchange.extra_headers})
        exchange.handed_off = True
        exchange.stream = True
        exchange.status = 200

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ex = self.exchange
        guard = ex.guard
        assert guard is not None
        try:
            tail = await self._pump(send, guard)
            guard.close()
            if tail is not None:
                await ex.logged()  # the last event acknowledges the stream
                await send({"type": "http.response.body", "body": tail, "more_body": False})
        finally:
            guard.close()
            with contextlib.suppress(Exception):
                await self.close()
            facts, attempts = self.summary()
            ex.facts = facts if facts is not None else ex.facts
            ex.attempts = attempts or ex.attempts
            ex.finish()

    async def _pump(self, send: Send, guard: Any) -> bytes | None:
        """Send everything but the last bytes; ``None`` when the client is gone."""
        enc = self.encoder
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            for item in self.first:
                piece = enc.feed(item)
                if piece:
                    await send({"type": "http.response.body", "body": piece, "more_body": True})
            while True:
                guard.arm()
                try:
                    item = await self.source.__anext__()
                except StopAsyncIteration:
                    break
                finally:
                    guard.disarm()
                piece = enc.feed(item)
                if piece:
                    await send({"type": "http.response.body", "body": piece, "more_body": True})
            return enc.finish()
        except asyncio.CancelledError as exc:
            reason = guard.reason_for(exc)
            if isinstance(reason, ClientGone):
                self.exchange.error = "client_disconnected"
                self.exchange.status = 499
                self.exchange.ctx.metrics.disconnects.inc()
                return None
            return self._failed(from_exception(reason))
        except Exception as exc:
            return self._failed(from_exception(exc))

    def _failed(self, err: ProxyError) -> bytes:
        # Headers are out: the error travels as an event in the stream.
        self.exchange.error = err.kind
        if err.attempts:
            self.exchange.attempts = err.attempts
        return self.encoder.fail(err)


async def routed_stream(
    ex: Exchange,
    messages: list[dict[str, Any]],
    model: str,
    params: dict[str, Any],
    make_encoder: Callable[[Any, Callable[[], dict[str, Any]]], Encoder],
) -> SSEResponse:
    """Start a routed stream and wrap it in the caller's wire format.

    The first chunk is fetched before any header goes out, so a failover before
    the first token stays invisible and a total failure still gets a real error
    status. ``make_encoder(stream, final_facts)`` builds the wire-format encoder.
    """
    from router.proxy.headers import facts, routing_headers

    assert ex.guard is not None
    stream = await ex.guard.wait(ex.ctx.router.achat_stream(messages, model=model, **params))
    ex.on_close(stream.aclose)
    first = await ex.prefetch(stream, lambda chunk: True)
    # Chunks carrying the provider's own events: the client's request went as sent.
    translated = not any("native" in chunk for chunk in first)
    rank = stream.decision.tier.rank
    # The attempt now streaming is recorded only when it ends: count it here.
    f = facts(stream.decision, stream.model_used, None, len(stream.attempts) + 1)
    ex.facts = f = ex.routed(f, rank, translated=translated)

    def summary() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        attempts = stream.attempts
        final = facts(stream.decision, stream.model_used, stream.cost, attempts)
        return ex.routed(final, rank, translated=translated), attempts

    encoder = make_encoder(stream, lambda: summary()[0])
    headers = routing_headers(f, with_cost=False)
    return SSEResponse(ex, stream, first, encoder, headers, summary, stream.aclose)
