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

Non-streaming calls skip httpx's client layer as well: :meth:`_UpstreamClient.post`
hands the provider's JSON straight to the aiohttp session the transport uses and
wraps the reply in an ``httpx.Response``. Building and sending the request through
``httpx.AsyncClient`` (URL and header merging, auth and redirect hooks, the
response stream) was about a fifth of the proxy's CPU per request, for a client
that has no auth, hooks, base URL or cookies. Streams keep the full httpx path.

Imported only by the proxy app at start-up: ``import router`` never loads aiohttp.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Callable
from types import NoneType
from typing import TYPE_CHECKING, Any
from urllib.request import getproxies

import httpx

from router.proxy.json_bytes import dumps

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
    aiohttp_pool = _aiohttp_pool(max_connections)
    limits = httpx.Limits(max_connections=max_connections)

    def make(timeout: float) -> httpx.AsyncClient:
        if aiohttp_pool is None:
            return _UpstreamClient(timeout=timeout, limits=limits)
        pool, transport = aiohttp_pool()
        return _UpstreamClient(pool=pool, transport=transport, timeout=timeout, limits=limits)

    return make


class _NoCookies(httpx.Cookies):
    def extract_cookies(self, response: httpx.Response) -> None:
        pass


class _Pool:
    """One aiohttp session, made on first use (it must be made inside the event loop)
    and shared by the direct ``post`` and the httpx transport used for streams."""

    def __init__(self, make: Callable[[], aiohttp.ClientSession]) -> None:
        self._make = make
        self.session: aiohttp.ClientSession | None = None

    def get(self) -> aiohttp.ClientSession:
        if self.session is None:
            self.session = self._make()
        return self.session

    async def aclose(self) -> None:
        if self.session is not None and not self.session.closed:
            await self.session.close()


class _UpstreamClient(httpx.AsyncClient):
    """Keeps no cookies: a cookie one user's call got back must not ride on another
    user's call. It also skips httpx's per-response cookie parsing (about 4 % of the
    proxy's CPU), which builds urllib request objects even when there is no cookie.

    With an aiohttp ``pool``, :meth:`post` goes straight to it (see the module's doc).
    """

    def __init__(self, *, pool: _Pool | None = None, **kwargs: Any) -> None:
        self._no_cookies = _NoCookies()
        super().__init__(**kwargs)
        self._pool = pool
        # httpx's default request headers (accept, accept-encoding, user-agent), so a
        # provider sees the same request whichever path it took; the accepted encodings
        # are the ones httpx can decode, since httpx decodes the body (see post).
        self._base_headers = tuple(self.headers.items())

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        pass

    async def post(
        self,
        url: httpx.URL | str,
        *,
        json: Any = None,
        headers: Any = None,
        timeout: Any = httpx.USE_CLIENT_DEFAULT,
        **kwargs: Any,
    ) -> httpx.Response:
        """``send()``'s JSON POST, on the aiohttp session; anything else goes to httpx."""
        if (
            self._pool is None
            or kwargs
            or json is None
            or not isinstance(headers, (dict, NoneType))
        ):
            return await super().post(url, json=json, headers=headers, timeout=timeout, **kwargs)
        import aiohttp
        from multidict import CIMultiDict

        merged: CIMultiDict[str] = CIMultiDict(self._base_headers)
        if headers:
            merged.update(headers)
        merged["content-type"] = "application/json"
        limits = self.timeout if timeout is httpx.USE_CLIENT_DEFAULT else httpx.Timeout(timeout)
        try:
            async with self._pool.get().request(
                "POST",
                str(url),
                headers=merged,
                data=dumps(json),
                allow_redirects=False,
                auto_decompress=False,  # httpx decodes, as on the streaming path
                timeout=_client_timeout(limits.connect, limits.read, limits.pool),
            ) as reply:
                content = await reply.read()
                status, raw_headers = reply.status, reply.raw_headers
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise _remap(exc) from exc
        return httpx.Response(status, headers=list(raw_headers), content=content)


@functools.lru_cache(maxsize=64)
def _client_timeout(
    connect: float | None, read: float | None, pool: float | None
) -> aiohttp.ClientTimeout:
    """httpx's timeout as aiohttp's, mapped as httpx-aiohttp maps it for streams."""
    import aiohttp

    return aiohttp.ClientTimeout(sock_connect=connect, sock_read=read, connect=pool)


def _aiohttp_pool(
    max_connections: int,
) -> Callable[[], tuple[_Pool, httpx.AsyncBaseTransport]] | None:
    try:
        import aiohttp
        from httpx_aiohttp import AiohttpTransport
        from httpx_aiohttp.transport import AiohttpResponseStream
    except ImportError:
        _log.info("httpx-aiohttp is not installed: upstream calls use httpx's own pool")
        return None

    class ProxyTransport(AiohttpTransport):
        def __init__(self, pool: _Pool) -> None:
            # verify=False only skips building a second SSL context: the pool's
            # connector, made with httpx's verifying context, is what connects.
            super().__init__(client=pool.get, verify=False)
            self.pool = pool

        async def aclose(self) -> None:
            # The session may never have reached the transport (no stream yet):
            # the pool owns it. httpx's ``async with`` closes transports this way.
            await self.pool.aclose()

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            try:
                response = await super().handle_async_request(request)
            except (httpx.TransportError, aiohttp.ClientError) as exc:
                raise _remap(exc) from _cause(exc)
            if isinstance(response.stream, AiohttpResponseStream):
                response.stream = _RemappedStream(response.stream)
            return response

    ssl_context = httpx.create_ssl_context()  # loading the CA bundle takes tens of ms

    def session() -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=max_connections,
            # httpx's default, so an idle pool behaves as it did under httpcore.
            keepalive_timeout=5.0,
            ssl=ssl_context,
        )
        return aiohttp.ClientSession(
            connector=connector,
            # No cookies on this side either (see _UpstreamClient).
            cookie_jar=aiohttp.DummyCookieJar(),
            # HTTP(S)_PROXY and NO_PROXY apply as they do with httpx's defaults; looked
            # up once here, since aiohttp would otherwise re-read them on every request.
            trust_env=bool(getproxies()),
        )

    def make() -> tuple[_Pool, httpx.AsyncBaseTransport]:
        pool = _Pool(session)
        return pool, ProxyTransport(pool)

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
    message = str(cause) or type(cause).__name__
    if isinstance(cause, asyncio.TimeoutError):
        if isinstance(exc, httpx.TimeoutException):
            return exc  # httpx-aiohttp maps aiohttp's timeouts right
        if isinstance(cause, aiohttp.ConnectionTimeoutError):
            return httpx.ConnectTimeout(message)
        return httpx.ReadTimeout(message)
    if isinstance(cause, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message)  # refused, unreachable, DNS
    if isinstance(cause, aiohttp.ClientPayloadError):
        return httpx.ReadError(message)  # the body broke off
    if isinstance(cause, aiohttp.ClientError):
        # A reset, a server that hung up without answering, or a malformed response.
        return httpx.RemoteProtocolError(message)
    return exc
