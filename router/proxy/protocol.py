"""uvicorn's HTTP protocol with the proxy's bounds on what a connection may hold.

uvicorn's httptools protocol parses a request head of any size (a 16 MB header
was read whole before the 401), keeps a connection that never finishes its head
open for ever (one byte a second, or nothing at all), and answers malformed HTTP
in plain text. This subclass counts the bytes of each request head and cuts it
off at ``max_header_bytes`` with a 431, closes a connection whose head does not
arrive within ``header_timeout`` with a 408, and answers every protocol-level
error as JSON that both the OpenAI and the Anthropic SDKs can read.

The body's own deadline is the handler's (``limits.read_body``): there the
answer can be in the caller's wire format. Each request's scope carries a
:class:`~router.proxy.limits.Link` through which the handler learns that its
body is complete and that its client has gone, without a timer or a task.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from router.proxy.json_bytes import dumps
from router.proxy.limits import LINK_KEY, Link, Watchers
from router.proxy.settings import ProxySettings

__all__ = ["GuardedHttpProtocol", "protocol_error_body"]

# How long a refused connection may keep sending before it is closed.
_LINGER_SECONDS = 2.0
_REASONS = {
    400: b"Bad Request",
    408: b"Request Timeout",
    431: b"Request Header Fields Too Large",
}


def protocol_error_body(status: int, code: str, message: str) -> bytes:
    """One body both SDKs parse: OpenAI reads ``error.message``, Anthropic ``error.type``."""
    kind = "invalid_request_error" if status != 408 else "timeout_error"
    return dumps(
        {
            "type": "error",
            "error": {"type": kind, "message": message, "param": None, "code": code},
        }
    )


def _settings_of(app: Any) -> ProxySettings:
    """The settings of the proxy app this server runs (uvicorn may wrap it)."""
    for _ in range(8):
        ctx = getattr(getattr(app, "state", None), "proxy", None)
        if ctx is not None:
            settings: ProxySettings = ctx.settings
            return settings
        app = getattr(app, "app", None)
        if app is None:
            break
    return ProxySettings()


class GuardedHttpProtocol(HttpToolsProtocol):
    """One client connection, bounded in head size and head time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cached = getattr(self.config, "_tierrouter_settings", None)
        if cached is None:
            cached = _settings_of(self.app)
            self.config._tierrouter_settings = cached  # type: ignore[attr-defined]
        self._limits: ProxySettings = cached
        # Bytes of the current request's head seen so far; None once it is complete.
        self._head_bytes: int | None = 0
        # When the current head began (loop time), the timer that checks a head, and
        # when the head it was set for began.
        self._head_started = 0.0
        self._head_timer: asyncio.TimerHandle | None = None
        self._timer_for = 0.0
        self._refused = False
        # What the handlers of this connection's requests want to hear when it is lost.
        self._watchers = Watchers()
        self._link: Link | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_started = self.loop.time()
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)
        self._watchers.fire()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # the rest of a refused request, read only so the answer arrives
        super().data_received(data)
        if self._head_bytes is not None and not self.transport.is_closing():
            # Still inside a head: every byte of this connection since the
            # request began is head, whatever the parser kept of it.
            self._head_bytes += len(data)
            if self._head_bytes > self._limits.max_header_bytes:
                self._refuse(
                    431,
                    "header_too_large",
                    "the request line and headers exceed the proxy's limit of "
                    f"{self._limits.max_header_bytes} bytes",
                )

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._link = Link(self._watchers)
        self.scope.setdefault("extensions", {})[LINK_KEY] = self._link
        if self._head_bytes is None:
            self._head_bytes = 0
            self._head_started = self.loop.time()
            if self._head_timer is None:
                self._arm_head_timer()

    def on_headers_complete(self) -> None:
        # The timer is left running: arming and cancelling one per request cost more
        # than the rest of this class. When it fires between heads it does nothing;
        # inside a later head it waits again for that head's own deadline.
        self._head_bytes = None
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        if self._link is not None:
            self._link.body_complete = True

    def send_400_response(self, msg: str) -> None:
        self._refuse(400, "invalid_http", f"the request is not valid HTTP/1.1 ({msg.rstrip('.')})")

    # ---- internals -----------------------------------------------------------------

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._timer_for = self._head_started
        self._head_timer = self.loop.call_at(
            self._head_started + self._limits.header_timeout, self._head_timed_out
        )

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._head_bytes is None or self.transport.is_closing():
            return
        if self._timer_for != self._head_started:
            self._arm_head_timer()  # set for an earlier head: this one began later
            return
        if self._head_bytes == 0:
            self.transport.close()  # nothing was asked: nobody to answer
            return
        self._refuse(
            408,
            "request_timeout",
            f"the request headers did not arrive within {self._limits.header_timeout:g}s",
        )

    def _refuse(self, status: int, code: str, message: str) -> None:
        self._cancel_head_timer()
        self._head_bytes = None
        if self.transport.is_closing():
            return
        body = protocol_error_body(status, code, message)
        head = b"HTTP/1.1 %d %s\r\n" % (status, _REASONS[status])
        head += b"content-type: application/json\r\n"
        head += b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body)
        self.transport.write(head + body)
        # Closing now, with the client still sending, would reset the connection
        # and lose the answer on its way. So: end our side, drop what still
        # arrives (nothing is kept), and close when the client does or after a
        # short linger.
        self._refused = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(_LINGER_SECONDS, self.transport.close)
