"""The synchronous client for a running ``tierrouter serve`` (see :mod:`router.client`)."""

from __future__ import annotations

import builtins
from collections.abc import Generator, Iterator, Mapping
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
    "Client",
    "FirewallRulesEndpoint",
    "ResponsesEndpoint",
    "RoutingRulesEndpoint",
    "Stream",
]


class Stream(Iterator[StreamEvent]):
    """Streamed events; iterate it, or use it as a context manager to close it early."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._events = self._read()
        self.final: Response | None = None  # the ``done`` event's response, once seen

    def _read(self) -> Generator[StreamEvent, None, None]:
        sse = SSEParser()
        try:
            for line in self._response.iter_lines():
                item = sse.line(line)
                if item is not None:
                    yield self._seen(stream_event(*item))
            item = sse.end()
            if item is not None:
                yield self._seen(stream_event(*item))
        except httpx.HTTPError as exc:
            raise transport_error(exc, str(self._response.url)) from exc
        finally:
            self._response.close()

    def _seen(self, event: StreamEvent) -> StreamEvent:
        if event.response is not None:
            self.final = event.response
        return event

    def __next__(self) -> StreamEvent:
        return next(self._events)

    def __iter__(self) -> Stream:
        return self

    def close(self) -> None:
        self._events.close()
        self._response.close()

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Client:
    """A running ``tierrouter serve``: ``responses``, ``routing_rules``, ``firewall_rules``.

    ``api_key`` is a proxy key (``TIERROUTER_API_KEY``); the rules API sends
    ``admin_key`` (``TIERROUTER_ADMIN_KEY``), else ``api_key``. ``base_url``
    defaults to ``TIERROUTER_BASE_URL`` or ``http://127.0.0.1:8080``.
    """

    def __init__(
        self,
        api_key: str | Secret | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        *,
        admin_key: str | Secret | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        self._config = Config(api_key, base_url, timeout, admin_key)
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(timeout=self._config.timeout)
        self.responses = ResponsesEndpoint(self)
        self.routing_rules = RoutingRulesEndpoint(self)
        self.firewall_rules = FirewallRulesEndpoint(self)

    def __repr__(self) -> str:
        return f"Client({self._config!r})"

    @property
    def base_url(self) -> str:
        return self._config.base_url

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(
        self, method: str, path: str, body: Any = None, *, admin: bool = False, stream: bool = False
    ) -> httpx.Response:
        request, url = build_request(self._http, self._config, method, path, body, admin)
        try:
            response = self._http.send(request, stream=stream)
        except httpx.HTTPError as exc:
            raise transport_error(exc, url) from exc
        if stream and response.status_code >= 400:
            # An error before the first event has a JSON body and a real status.
            try:
                response.read()
            finally:
                response.close()
        return response

    def _request(self, method: str, path: str, body: Any = None, *, admin: bool = False) -> Any:
        return json_body(self._send(method, path, body, admin=admin))


class ResponsesEndpoint:
    def __init__(self, client: Client) -> None:
        self._client = client

    @overload
    def create(
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
    def create(
        self,
        *,
        model: str = ...,
        input: str | builtins.list[Any],
        instructions: str | None = ...,
        temperature: float | None = ...,
        max_output_tokens: int | None = ...,
        stream: Literal[True],
        **extra: Any,
    ) -> Stream: ...

    def create(
        self,
        *,
        model: str = "auto",
        input: str | builtins.list[Any],
        instructions: str | None = None,
        temperature: float | None = None,
        max_output_tokens: int | None = None,
        stream: bool = False,
        **extra: Any,
    ) -> Response | Stream:
        """``POST /v1/responses``; other Responses fields (``tools``, ...) pass through."""
        body = responses_body(
            model, input, stream, instructions, temperature, max_output_tokens, extra
        )
        if stream:
            response = self._client._send("POST", "/v1/responses", body, stream=True)
            if response.status_code >= 400:
                raise error_from_body(response.status_code, response.content)
            return Stream(response)
        response = self._client._send("POST", "/v1/responses", body)
        return Response.from_dict(json_body(response), response.headers)


class _RulesEndpoint(Generic[R]):
    _path: str

    def __init__(self, client: Client) -> None:
        self._client = client

    def _parse(self, raw: Mapping[str, Any]) -> R:
        raise NotImplementedError

    def _item(self, rule_id: str) -> str:
        return rule_path(self._path, rule_id)

    def _create(self, fields: dict[str, Any]) -> R:
        return self._parse(self._client._request("POST", self._path, fields, admin=True))

    def retrieve(self, rule_id: str) -> R:
        return self._parse(self._client._request("GET", self._item(rule_id), admin=True))

    def update(self, rule_id: str, **changes: Any) -> R:
        """Change the given fields (``PATCH``); ``match``/``action`` are replaced whole."""
        path = self._item(rule_id)
        return self._parse(self._client._request("PATCH", path, changes, admin=True))

    def replace(self, rule_id: str, **fields: Any) -> R:
        """Replace the whole rule (``PUT``): omitted fields take their defaults."""
        path = self._item(rule_id)
        return self._parse(self._client._request("PUT", path, fields, admin=True))

    def delete(self, rule_id: str) -> None:
        self._client._request("DELETE", self._item(rule_id), admin=True)

    def list(self) -> builtins.list[R]:
        """Every rule, enabled or not, in evaluation order."""
        body = self._client._request("GET", self._path, admin=True)
        return [self._parse(r) for r in body.get("data") or ()]


class RoutingRulesEndpoint(_RulesEndpoint[RoutingRule]):
    _path = ROUTING_RULES_PATH

    def _parse(self, raw: Mapping[str, Any]) -> RoutingRule:
        return routing_rule(raw)

    def create(self, **fields: Unpack[RoutingRuleFields]) -> RoutingRule:
        return self._create(given(**fields))


class FirewallRulesEndpoint(_RulesEndpoint[FirewallRule]):
    _path = FIREWALL_RULES_PATH

    def _parse(self, raw: Mapping[str, Any]) -> FirewallRule:
        return firewall_rule(raw)

    def create(self, **fields: Unpack[FirewallRuleFields]) -> FirewallRule:
        return self._create(given(**fields))
