"""The proxy's upstream HTTP transport: httpx's API on aiohttp's connection pool.

Every upstream call still goes through an ``httpx.AsyncClient`` (the providers'
code, the error handling and the user's own ``http_client=``/``transport=``
options are unchanged); only the transport underneath differs. On httpx's own
pool, httpx, httpcore and anyio took 64 % of the proxy's CPU at 32 clients under
py-spy: anyio locks around every request, and a readability poll of every idle
pooled connection before each one. Swapping only the transport took the proxy
from about 360 to about 680 requests/s at 32 clients (1 worker, bench_proxy.py).

httpx-aiohttp maps aiohttp's exceptions to httpx's, but two of its mappings
would mislead the fallback code and the user: a refused connection and a
server that hangs up both become ``httpx.ConnectTimeout``. :class:`ProxyTransport`
re-maps those so a refusal or a reset reads as a connection error and only a
real timeout reads as one.

Imported only by the proxy app at start-up: ``import router`` never loads aiohttp.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any
from urllib.request import getproxies

import httpx

if TYPE_CHECKING:
    import aiohttp

__all__ = ["client_factory"]

_log = logging.getLogger("tierrouter.proxy")


def client_factory(max_connections: int) -> Callable[[float], httpx.AsyncClient]:
    """Makes the proxy's upstream client for one event loop, given the call timeout.

    ``max_connections`` should be the proxy's concurrency limit: the gate already
    refuses requests past it, so a smaller pool would only queue them a second time.
    Without aiohttp installed the clients use httpx's own pool.
    """
    make_transport = _aiohttp_transport(max_connections)
    limits = httpx.Limits(max_connections=max_connections)

    def make(timeout: float) -> httpx.AsyncClient:
        transport = make_transport() if make_transport is not None else None
        return _UpstreamClient(transport=transport, timeout=timeout, limits=limits)

    return make


class _NoCookies(httpx.Cookies):
    def extract_cookies(self, response: httpx.Response) -> None:
        pass


class _UpstreamClient(httpx.AsyncClient):
    """Keeps no cookies: a cookie one user's call got back must not ride on another
    user's call. It also skips httpx's per-response cookie parsing (about 4 % of the
    proxy's CPU), which builds urllib request objects even when there is no cookie."""

    def __init__(self, **kwargs: Any) -> None:
        self._no_cookies = _NoCookies()
        super().__init__(**kwargs)

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        pass


def _aiohttp_transport(max_connections: int) -> Callable[[], httpx.AsyncBaseTransport] | None:
    try:
        import aiohttp
        from httpx_aiohttp import AiohttpTransport
        from httpx_aiohttp.transport import AiohttpResponseStream
    except ImportError:
        _log.info("httpx-aiohttp is not installed: upstream calls use httpx's own pool")
        return None

    class ProxyTransport(AiohttpTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            try:
                response = await super().handle_async_request(request)
            except (httpx.TransportError, aiohttp.ClientError) as exc:
                raise _remap(exc) from _cause(exc)
            if isinstance(response.stream, AiohttpResponseStream):
                response.stream = _RemappedStream(response.stream)
            return response

    def session() -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=max_connections,
            # httpx's default, so an idle pool behaves as it did under httpcore.
            keepalive_timeout=5.0,
            ssl=httpx.create_ssl_context(),
        )
        return aiohttp.ClientSession(
            connector=connector,
            # No cookies on this side either (see _UpstreamClient).
            cookie_jar=aiohttp.DummyCookieJar(),
            # HTTP(S)_PROXY and NO_PROXY apply as they do with httpx's defaults; looked
            # up once here, since aiohttp would otherwise re-read them on every request.
            trust_env=bool(getproxies()),
        )

    def make() -> httpx.AsyncBaseTransport:
        return ProxyTransport(client=session)

    return make


class _RemappedStream(httpx.AsyncByteStream):
    """A response body whose transport errors get :func:`_remap` too."""

    def __init__(self, inner: httpx.AsyncByteStream) -> None:
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        import aiohttp

        try:
            async for chunk in self._inner:
                yield chunk
        except (httpx.TransportError, aiohttp.ClientError) as exc:
            raise _remap(exc) from _cause(exc)

    async def aclose(self) -> None:
        await self._inner.aclose()


def _cause(exc: BaseException) -> BaseException:
    """What aiohttp raised: httpx-aiohttp chains it as the cause of its own exception."""
    return exc.__cause__ if isinstance(exc, httpx.TransportError) and exc.__cause__ else exc


def _remap(exc: BaseException) -> BaseException:
    """The httpx exception that says what really happened underneath."""
    import aiohttp

    cause = _cause(exc)
    if isinstance(cause, asyncio.TimeoutError):
        # aiohttp's timeout errors are asyncio.TimeoutError; httpx-aiohttp maps them right.
        return exc
    message = str(cause) or type(cause).__name__
    if isinstance(cause, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message)  # refused, unreachable, DNS
    if isinstance(cause, aiohttp.ClientPayloadError):
        return httpx.ReadError(message)  # the body broke off
    if isinstance(cause, aiohttp.ClientError):
        # A reset, a server that hung up without answering, or a malformed response.
        return httpx.RemoteProtocolError(message)
    return exc
