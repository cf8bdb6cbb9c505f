"""The asyncio client for a running ``tierrouter serve`` (see :mod:`router.client`)."""

from __future__ import annotations

import builtins
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, Literal, overload

import httpx

from router.client._wire import (
    FIREWALL_RULES_PATH,
    ROUTING_RULES_PATH,
    Config,
    FirewallRuleFields,
    R,
    Response,
    RoutingRuleFields,
    SSEParser,
    StreamEvent,
    build_request,
    error_from_body,
    firewall_rule,
    given,
    json_body,
    responses_body,
    routing_rule,
    rule_path,
    stream_event,
    transport_error,
)
from router.policy.firewall import FirewallRule
from router.policy.rules import RoutingRule
from router.secrets import Secret

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "AsyncClient",
    "AsyncFirewallRulesEndpoint",
    "AsyncResponsesEndpoint",
    "AsyncRoutingRulesEndpoint",
    "AsyncStream",
]


class AsyncStream(AsyncIterator[StreamEvent]):
    """Streamed events for ``async for``; ``async with`` closes it early."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._events = self._read()
        self.final: Response | None = None

    async def _read(self) -> AsyncGenerator[StreamEvent, None]:
        sse = SSEParser()
        try:
            async for line in self._response.aiter_lines():
                item = sse.line(line)
                if item is not None:
                    yield self._seen(stream_event(*item))
            item = sse.end()
            if item is not None:
                yield self._seen(stream_event(*item))
        except httpx.HTTPError as exc:
            raise transport_error(exc, str(self._response.url)) from exc
        finally:
            await self._response.aclose()

    def _seen(self, event: StreamEvent) -> StreamEvent:
        if event.response is not None:
            self.final = event.response
        return event

    async def __anext__(self) -> StreamEvent:
        return await self._events.__anext__()

    def __aiter__(self) -> AsyncStream:
        return self

    async def aclose(self) -> None:
        await self._events.aclose()
        await self._response.aclose()

    async def __aenter__(self) -> AsyncStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class AsyncClient:
    """:class:`Client` for asyncio: the same resources, each method awaited."""

    def __init__(
        self,
        api_key: str | Secret | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        *,
        admin_key: str | Secret | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self._config = Config(api_key, base_url, timeout, admin_key)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=self._config.timeout)
        self.responses = AsyncResponsesEndpoint(self)
        self.routing_rules = AsyncRoutingRulesEndpoint(self)
        self.firewall_rules = AsyncFirewallRulesEndpoint(self)

    def __repr__(self) -> str:
        return f"AsyncClient({self._config!r})"

    @property
    def base_url(self) -> str:
        return self._config.base_url

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _send(
        self, method: str, path: str, body: Any = None, *, admin: bool = False, stream: bool = False
    ) -> httpx.Response:
        request, url = build_request(self._http, self._config, method, path, body, admin)
        try:
            response = await self._http.send(request, stream=stream)
        except httpx.HTTPError as exc:
            raise transport_error(exc, url) from exc
        if stream and response.status_code >= 400:
            try:
                await response.aread()
            finally:
                await response.aclose()
        return response

    async def _request(
        self, method: str, path: str, body: Any = None, *, admin: bool = False
    ) -> Any:
        return json_body(await self._send(method, path, body, admin=admin))


class AsyncResponsesEndpoint:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    @overload
    async def create(
        self,
        *,
        model: str = ...,
        input: str | builtins.list[Any],
        instructions: str | None = ...,
        temperature: float | None = ...,
        max_output_tokens: int | None = ...,
        stream: Literal[False] = ...,
        **extra: Any,
    ) -> Response: ...

    @overload
    async def create(
        self,
        *,
        model: str = ...,
        input: str | builtins.list[Any],
        instructions: str | None = ...,
        temperature: float | None = ...,
        max_output_tokens: int | None = ...,
        stream: Literal[True],
        **extra: Any,
    ) -> AsyncStream: ...

    async def create(
        self,
        *,
        model: str = "auto",
        input: str | builtins.list[Any],
        instructions: str | None = None,
        temperature: float | None = None,
        max_output_tokens: int | None = None,
        stream: bool = False,
        **extra: Any,
    ) -> Response | AsyncStream:
        """``POST /v1/responses``; with ``stream=True`` await it, then ``async for``."""
        body = responses_body(
            model, input, stream, instructions, temperature, max_output_tokens, extra
        )
        if stream:
            response = await self._client._send("POST", "/v1/responses", body, stream=True)
            if response.status_code >= 400:
                raise error_from_body(response.status_code, response.content)
            return AsyncStream(response)
        response = await self._client._send("POST", "/v1/responses", body)
        return Response.from_dict(json_body(response), response.headers)


class _AsyncRulesEndpoint(Generic[R]):
    _path: str

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    def _parse(self, raw: Mapping[str, Any]) -> R:
        raise NotImplementedError

    def _item(self, rule_id: str) -> str:
        return rule_path(self._path, rule_id)

    async def _create(self, fields: dict[str, Any]) -> R:
        return self._parse(await self._client._request("POST", self._path, fields, admin=True))

    async def retrieve(self, rule_id: str) -> R:
        path = self._item(rule_id)
        return self._parse(await self._client._request("GET", path, admin=True))

    async def update(self, rule_id: str, **changes: Any) -> R:
        path = self._item(rule_id)
        return self._parse(await self._client._request("PATCH", path, changes, admin=True))

    async def replace(self, rule_id: str, **fields: Any) -> R:
        path = self._item(rule_id)
        return self._parse(await self._client._request("PUT", path, fields, admin=True))

    async def delete(self, rule_id: str) -> None:
        await self._client._request("DELETE", self._item(rule_id), admin=True)

    async def list(self) -> builtins.list[R]:
        body = await self._client._request("GET", self._path, admin=True)
        return [self._parse(r) for r in body.get("data") or ()]


class AsyncRoutingRulesEndpoint(_AsyncRulesEndpoint[RoutingRule]):
    _path = ROUTING_RULES_PATH

    def _parse(self, raw: Mapping[str, Any]) -> RoutingRule:
        return routing_rule(raw)

    async def create(self, **fields: Unpack[RoutingRuleFields]) -> RoutingRule:
        return await self._create(given(**fields))


class AsyncFirewallRulesEndpoint(_AsyncRulesEndpoint[FirewallRule]):
    _path = FIREWALL_RULES_PATH

    def _parse(self, raw: Mapping[str, Any]) -> FirewallRule:
        return firewall_rule(raw)

    async def create(self, **fields: Unpack[FirewallRuleFields]) -> FirewallRule:
        return await self._create(given(**fields))
