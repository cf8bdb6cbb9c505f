"""A client for a running ``tierrouter serve``, in the hosted TokenRouter SDK's shape.

::

    from router.client import Client

    client = Client(api_key="tr-proxy-key", base_url="http://127.0.0.1:8080")
    reply = client.responses.create(model="auto:balance", input="Say hi")
    reply.output_text, reply.router.model, reply.usage.total_tokens

    for event in client.responses.create(model="auto", input="Tell a story", stream=True):
        if event.event == "content.delta":
            print(event.delta.text, end="")

    admin = Client(api_key="tr-admin-key")        # the rules API wants the admin key
    rule = admin.routing_rules.create(name="code", match={"task": "coding"},
                                      action={"set_model": "anthropic/claude-sonnet-4-5"})
    admin.firewall_rules.create(name="cards", type="detector", pattern="credit_card")

:class:`AsyncClient` is the same with ``await`` and ``async for``. Every
failure raises :class:`router.errors.APIError` with ``status``, ``type`` and
``message`` (a firewall block: 422, ``type == "firewall_blocked"``). Only
httpx is needed: the client never imports the router's models or the proxy.
"""

from __future__ import annotations

import builtins
import json
import os
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar, overload
from urllib.parse import quote

import httpx

from router._version import __version__
from router.errors import APIError
from router.policy.firewall import DEFAULT_REPLACEMENT, FirewallRule
from router.policy.rules import RoutingRule
from router.secrets import Secret, as_secret

__all__ = [
    "DEFAULT_BASE_URL",
    "AsyncClient",
    "AsyncStream",
    "Client",
    "Delta",
    "FirewallRule",
    "Response",
    "RouterInfo",
    "RoutingRule",
    "Stream",
    "StreamEvent",
    "Usage",
]

DEFAULT_BASE_URL = "http://127.0.0.1:8080"
_DEFAULT_TIMEOUT = 60.0
# In-stream error codes -> the status the same failure has before streaming starts.
_HEADERS = ("model", "task", "tier", "confidence", "source", "cost", "savings", "attempts",
            "decision-id")  # fmt: skip
_STREAM_STATUS = {"firewall_blocked": 422, "upstream_error": 502, "upstream_timeout": 504}


# ---- typed results ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0

    @classmethod
    def from_dict(cls, raw: Any) -> Usage:
        if not isinstance(raw, Mapping):
            return cls()
        return cls(
            int(raw.get("input_tokens") or 0),
            int(raw.get("output_tokens") or 0),
            int(raw.get("total_tokens") or 0),
        )


def _float(value: Any) -> float | None:
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class RouterInfo:
    """What the router decided for one response (the ``tierrouter`` facts)."""

    model: str | None = None
    task: str | None = None
    tier: str | None = None
    confidence: float | None = None
    source: str | None = None
    language: str | None = None
    cost: float | None = None
    estimated_cost: float | None = None
    baseline_cost: float | None = None
    savings: float | None = None
    attempts: int = 0
    decision_id: str | None = None
    rule: str | None = None
    candidates: tuple[str, ...] = ()
    l2_used: bool = False
    warnings: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> RouterInfo:
        return cls(
            model=raw.get("model"),
            task=raw.get("task"),
            tier=raw.get("tier"),
            confidence=_float(raw.get("confidence")),
            source=raw.get("source"),
            language=raw.get("language"),
            cost=_float(raw.get("cost")),
            estimated_cost=_float(raw.get("estimated_cost")),
            baseline_cost=_float(raw.get("baseline_cost")),
            savings=_float(raw.get("savings")),
            attempts=int(raw.get("attempts") or 0),
            decision_id=raw.get("decision_id"),
            rule=raw.get("rule"),
            candidates=tuple(raw.get("candidates") or ()),
            l2_used=bool(raw.get("l2_used")),
            warnings=tuple(raw.get("warnings") or ()),
            raw=dict(raw),
        )

    @classmethod
    def from_headers(cls, headers: httpx.Headers) -> RouterInfo | None:
        """For a server that sent the facts only as ``x-tierrouter-*`` headers."""
        if "x-tierrouter-model" not in headers:
            return None
        raw = {name.replace("-", "_"): headers.get(f"x-tierrouter-{name}") for name in _HEADERS}
        return cls.from_dict(raw)


@dataclass(frozen=True, slots=True)
class Response:
    """A finished (or, on a stream's ``done`` event, completed) Responses API answer."""

    id: str
    model: str
    output_text: str
    status: str = "completed"
    usage: Usage = field(default_factory=Usage)
    router: RouterInfo | None = None
    output: tuple[Mapping[str, Any], ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], headers: httpx.Headers | None = None) -> Response:
        facts = raw.get("tierrouter")
        if isinstance(facts, Mapping):
            info: RouterInfo | None = RouterInfo.from_dict(facts)
        else:
            info = RouterInfo.from_headers(headers) if headers is not None else None
        output = tuple(o for o in raw.get("output") or () if isinstance(o, Mapping))
        text = raw.get("output_text")
        if not isinstance(text, str):
            text = "".join(
                part.get("text", "")
                for item in output
                if item.get("type") == "message"
                for part in item.get("content") or ()
                if isinstance(part, Mapping) and part.get("type") == "output_text"
            )
        return cls(
            id=str(raw.get("id") or ""),
            model=str(raw.get("model") or (info.model if info else "") or ""),
            output_text=text,
            status=str(raw.get("status") or "completed"),
            usage=Usage.from_dict(raw.get("usage")),
            router=info,
            output=output,
            raw=dict(raw),
        )


@dataclass(frozen=True, slots=True)
class Delta:
    text: str


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One streamed event.

    ``event`` is ``"content.delta"`` for text (``delta.text``), ``"done"`` at
    the end (``response`` holds the completed answer with usage and routing
    facts), ``"created"`` at the start, else the Responses event type itself
    (``response.function_call_arguments.delta``, ...). ``type`` is always the
    Responses event type and ``data`` its payload.
    """

    event: str
    type: str
    delta: Delta | None = None
    response: Response | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def usage(self) -> Usage | None:
        return self.response.usage if self.response is not None else None


def _event(kind: str, data: Mapping[str, Any]) -> StreamEvent:
    """A Responses SSE event as a :class:`StreamEvent`; an ``error`` event raises."""
    if kind == "response.output_text.delta":
        return StreamEvent(
            "content.delta", kind, delta=Delta(str(data.get("delta", ""))), data=data
        )
    if kind == "response.completed":
        payload = data.get("response")
        response = Response.from_dict(payload if isinstance(payload, Mapping) else {})
        return StreamEvent("done", kind, response=response, data=data)
    if kind == "response.created":
        return StreamEvent("created", kind, data=data)
    if kind == "error" or kind == "response.failed":
        inner = data.get("error") if isinstance(data.get("error"), Mapping) else data
        assert isinstance(inner, Mapping)
        code = str(inner.get("code") or inner.get("type") or "api_error")
        raise APIError(
            str(inner.get("message") or "the stream failed"),
            status=_STREAM_STATUS.get(code),
            type=code,
        )
    return StreamEvent(kind, kind, data=data)


class _SSE:
    """Incremental ``text/event-stream`` parsing: lines in, (event, data) out."""

    def __init__(self) -> None:
        self._kind: str | None = None
        self._data: list[str] = []

    def line(self, line: str) -> tuple[str, Mapping[str, Any]] | None:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None  # comments: the proxy's ``: tierrouter {...}`` trailer
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            self._kind = value
        elif name == "data":
            self._data.append(value)
        return None

    def _dispatch(self) -> tuple[str, Mapping[str, Any]] | None:
        kind, data = self._kind, "\n".join(self._data)
        self._kind, self._data = None, []
        if not data or data == "[DONE]":
            return None
        try:
            payload = json.loads(data)
        except ValueError:
            raise APIError(
                "the server sent an event that is not JSON", type="bad_response"
            ) from None
        if not isinstance(payload, Mapping):
            return None
        return kind or str(payload.get("type") or "message"), payload

    def end(self) -> tuple[str, Mapping[str, Any]] | None:
        return self._dispatch()


# ---- errors -----------------------------------------------------------------------------


def _error(status: int, body: bytes) -> APIError:
    """The proxy's OpenAI- or Anthropic-shaped error body as an APIError."""
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    inner = payload.get("error") if isinstance(payload, Mapping) else None
    if not isinstance(inner, Mapping):
        text = body.decode("utf-8", "replace").strip()[:300]
        return APIError(text or f"HTTP {status}", status=status, type="api_error")
    err = APIError(
        str(inner.get("message") or f"HTTP {status}"),
        status=status,
        type=str(inner.get("type") or "api_error"),
        attempts=list(inner.get("attempts") or []),
    )
    # Extra detail for callers that want it: which field a 400 is about.
    err.param = inner.get("param")  # type: ignore[attr-defined]
    err.code = inner.get("code")  # type: ignore[attr-defined]
    return err


def _transport_error(exc: httpx.HTTPError, url: str) -> APIError:
    if isinstance(exc, httpx.TimeoutException):
        return APIError(f"request to {url} timed out", type="timeout")
    return APIError(f"cannot reach {url}: {type(exc).__name__}: {exc}", type="connection_error")


# ---- the policy objects from their JSON ----------------------------------------------------


def _routing_rule(raw: Mapping[str, Any]) -> RoutingRule:
    action = raw.get("action")
    strategy = action.get("set_strategy") if isinstance(action, Mapping) else None
    # The server checked set_strategy against its own profiles, which this
    # machine may not have: accept the one it sent.
    profiles = (strategy,) if isinstance(strategy, str) else ()
    return RoutingRule.from_dict(raw, profiles=profiles)


def _firewall_rule(raw: Mapping[str, Any]) -> FirewallRule:
    # Built directly rather than with from_dict: the server has compiled and
    # vetted the pattern, and recompiling each listed rule here costs for nothing.
    return FirewallRule(
        id=str(raw["id"]),
        name=str(raw["name"]),
        pattern=str(raw["pattern"]),
        type=str(raw.get("type") or "substring"),
        scope=str(raw.get("scope") or "both"),
        action=str(raw.get("action") or "block"),
        replacement=str(raw.get("replacement") or DEFAULT_REPLACEMENT),
        priority=int(raw.get("priority") or 0),
        is_enabled=bool(raw.get("is_enabled", True)),
        created_at=float(raw.get("created_at") or 0.0),
        updated_at=float(raw.get("updated_at") or 0.0),
    )


def _given(**fields: Any) -> dict[str, Any]:
    """Only the fields the caller set, so the server's defaults apply to the rest."""
    return {k: v for k, v in fields.items() if v is not None}


R = TypeVar("R", RoutingRule, FirewallRule)


# ---- shared plumbing -------------------------------------------------------------------------


class _Config:
    def __init__(
        self,
        api_key: str | Secret | None,
        base_url: str | None,
        timeout: float | httpx.Timeout | None,
        admin_key: str | Secret | None,
    ) -> None:
        self.api_key = as_secret(api_key) or as_secret(os.environ.get("TIERROUTER_API_KEY"))
        self.admin_key = (
            as_secret(admin_key)
            or as_secret(os.environ.get("TIERROUTER_ADMIN_KEY"))
            or self.api_key
        )
        url = (base_url or os.environ.get("TIERROUTER_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        # Accept the OpenAI SDK's habit of putting /v1 in the base URL.
        self.base_url = url.removesuffix("/v1")
        self.timeout = httpx.Timeout(_DEFAULT_TIMEOUT if timeout is None else timeout)

    def headers(self, admin: bool) -> dict[str, str]:
        key = self.admin_key if admin else self.api_key
        headers = {"user-agent": f"tierrouter-client/{__version__}"}
        if key:
            headers["authorization"] = f"Bearer {key.reveal()}"
        return headers

    def __repr__(self) -> str:
        return f"base_url={self.base_url!r}, api_key={self.api_key!r}"


def _responses_body(
    model: str,
    input: Any,
    stream: bool,
    instructions: str | None,
    temperature: float | None,
    max_output_tokens: int | None,
    extra: Mapping[str, Any],
) -> dict[str, Any]:
    return {
        "model": model,
        "input": input,
        **_given(
            instructions=instructions, temperature=temperature, max_output_tokens=max_output_tokens
        ),
        **extra,
        "stream": stream,
    }


def _json(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise _error(response.status_code, response.content)
    try:
        return response.json()
    except ValueError:
        raise APIError(
            "the server's answer is not JSON", status=response.status_code, type="bad_response"
        ) from None


# ---- sync ------------------------------------------------------------------------------------


class Stream(Iterator[StreamEvent]):
    """Streamed events; iterate it, or use it as a context manager to close it early."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._events = self._read()
        self.final: Response | None = None  # the ``done`` event's response, once seen

    def _read(self) -> Generator[StreamEvent, None, None]:
        sse = _SSE()
        try:
            for line in self._response.iter_lines():
                item = sse.line(line)
                if item is not None:
                    yield self._seen(_event(*item))
            item = sse.end()
            if item is not None:
                yield self._seen(_event(*item))
        except httpx.HTTPError as exc:
            raise _transport_error(exc, str(self._response.url)) from None
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
        self._config = _Config(api_key, base_url, timeout, admin_key)
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(timeout=self._config.timeout)
        self.responses = Responses(self)
        self.routing_rules = RoutingRules(self)
        self.firewall_rules = FirewallRules(self)

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
        url = self._config.base_url + path
        request = self._http.build_request(
            method,
            url,
            json=body,
            headers=self._config.headers(admin),
            timeout=self._config.timeout,
        )
        try:
            response = self._http.send(request, stream=stream)
        except httpx.HTTPError as exc:
            raise _transport_error(exc, url) from None
        if stream and response.status_code >= 400:
            # An error before the first event has a JSON body and a real status.
            try:
                response.read()
            finally:
                response.close()
        return response

    def _request(self, method: str, path: str, body: Any = None, *, admin: bool = False) -> Any:
        return _json(self._send(method, path, body, admin=admin))


class Responses:
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
        body = _responses_body(
            model, input, stream, instructions, temperature, max_output_tokens, extra
        )
        if stream:
            response = self._client._send("POST", "/v1/responses", body, stream=True)
            if response.status_code >= 400:
                raise _error(response.status_code, response.content)
            return Stream(response)
        response = self._client._send("POST", "/v1/responses", body)
        return Response.from_dict(_json(response), response.headers)


class _Rules(Generic[R]):
    _path: str

    def __init__(self, client: Client) -> None:
        self._client = client

    def _parse(self, raw: Mapping[str, Any]) -> R:
        raise NotImplementedError

    def _item(self, rule_id: str) -> str:
        return f"{self._path}/{quote(rule_id, safe='')}"

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


class RoutingRules(_Rules[RoutingRule]):
    _path = "/v1/routing_rules"

    def _parse(self, raw: Mapping[str, Any]) -> RoutingRule:
        return _routing_rule(raw)

    def create(
        self,
        *,
        name: str,
        match: Mapping[str, Any] | None = None,
        action: Mapping[str, Any] | None = None,
        priority: int | None = None,
        is_enabled: bool | None = None,
        id: str | None = None,
    ) -> RoutingRule:
        return self._create(
            _given(
                name=name,
                match=match,
                action=action,
                priority=priority,
                is_enabled=is_enabled,
                id=id,
            )
        )


class FirewallRules(_Rules[FirewallRule]):
    _path = "/v1/firewall_rules"

    def _parse(self, raw: Mapping[str, Any]) -> FirewallRule:
        return _firewall_rule(raw)

    def create(
        self,
        *,
        name: str,
        pattern: str,
        type: str | None = None,
        scope: str | None = None,
        action: str | None = None,
        replacement: str | None = None,
        priority: int | None = None,
        is_enabled: bool | None = None,
        id: str | None = None,
    ) -> FirewallRule:
        return self._create(
            _given(
                name=name,
                pattern=pattern,
                type=type,
                scope=scope,
                action=action,
                replacement=replacement,
                priority=priority,
                is_enabled=is_enabled,
                id=id,
            )
        )


# ---- async -----------------------------------------------------------------------------------


class AsyncStream(AsyncIterator[StreamEvent]):
    """Streamed events for ``async for``; ``async with`` closes it early."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._events = self._read()
        self.final: Response | None = None

    async def _read(self) -> AsyncGenerator[StreamEvent, None]:
        sse = _SSE()
        try:
            async for line in self._response.aiter_lines():
                item = sse.line(line)
                if item is not None:
                    yield self._seen(_event(*item))
            item = sse.end()
            if item is not None:
                yield self._seen(_event(*item))
        except httpx.HTTPError as exc:
            raise _transport_error(exc, str(self._response.url)) from None
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
        self._config = _Config(api_key, base_url, timeout, admin_key)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=self._config.timeout)
        self.responses = AsyncResponses(self)
        self.routing_rules = AsyncRoutingRules(self)
        self.firewall_rules = AsyncFirewallRules(self)

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
        url = self._config.base_url + path
        request = self._http.build_request(
            method,
            url,
            json=body,
            headers=self._config.headers(admin),
            timeout=self._config.timeout,
        )
        try:
            response = await self._http.send(request, stream=stream)
        except httpx.HTTPError as exc:
            raise _transport_error(exc, url) from None
        if stream and response.status_code >= 400:
            try:
                await response.aread()
            finally:
                await response.aclose()
        return response

    async def _request(
        self, method: str, path: str, body: Any = None, *, admin: bool = False
    ) -> Any:
        return _json(await self._send(method, path, body, admin=admin))


class AsyncResponses:
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
        body = _responses_body(
            model, input, stream, instructions, temperature, max_output_tokens, extra
        )
        if stream:
            response = await self._client._send("POST", "/v1/responses", body, stream=True)
            if response.status_code >= 400:
                raise _error(response.status_code, response.content)
            return AsyncStream(response)
        response = await self._client._send("POST", "/v1/responses", body)
        return Response.from_dict(_json(response), response.headers)


class _AsyncRules(Generic[R]):
    _path: str

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    def _parse(self, raw: Mapping[str, Any]) -> R:
        raise NotImplementedError

    def _item(self, rule_id: str) -> str:
        return f"{self._path}/{quote(rule_id, safe='')}"

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


class AsyncRoutingRules(_AsyncRules[RoutingRule]):
    _path = "/v1/routing_rules"

    def _parse(self, raw: Mapping[str, Any]) -> RoutingRule:
        return _routing_rule(raw)

    async def create(
        self,
        *,
        name: str,
        match: Mapping[str, Any] | None = None,
        action: Mapping[str, Any] | None = None,
        priority: int | None = None,
        is_enabled: bool | None = None,
        id: str | None = None,
    ) -> RoutingRule:
        return await self._create(
            _given(
                name=name,
                match=match,
                action=action,
                priority=priority,
                is_enabled=is_enabled,
                id=id,
            )
        )


class AsyncFirewallRules(_AsyncRules[FirewallRule]):
    _path = "/v1/firewall_rules"

    def _parse(self, raw: Mapping[str, Any]) -> FirewallRule:
        return _firewall_rule(raw)

    async def create(
        self,
        *,
        name: str,
        pattern: str,
        type: str | None = None,
        scope: str | None = None,
        action: str | None = None,
        replacement: str | None = None,
        priority: int | None = None,
        is_enabled: bool | None = None,
        id: str | None = None,
    ) -> FirewallRule:
        return await self._create(
            _given(
                name=name,
                pattern=pattern,
                type=type,
                scope=scope,
                action=action,
                replacement=replacement,
                priority=priority,
                is_enabled=is_enabled,
                id=id,
            )
        )
