"""The client's wire format, shared by its sync and async halves: no I/O here.

Typed results and stream events, the SSE parser, the server's error bodies and
transport failures as :class:`~router.errors.APIError`, rule JSON, request bodies
and the connection settings. :mod:`router.client._sync` and
:mod:`router.client._async` only send and read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict, TypeVar
from urllib.parse import quote

import httpx

from router._version import __version__
from router.errors import APIError, transport_failure
from router.policy.firewall import DEFAULT_REPLACEMENT, FirewallRule
from router.policy.rules import RoutingRule
from router.secrets import Secret, as_secret

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


def stream_event(kind: str, data: Mapping[str, Any]) -> StreamEvent:
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


class SSEParser:
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


def error_from_body(status: int, body: bytes) -> APIError:
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


def transport_error(exc: httpx.HTTPError, url: str) -> APIError:
    if not isinstance(exc, httpx.TransportError):  # e.g. a redirect loop or a bad URL
        return APIError(f"request to {url} failed: {type(exc).__name__}: {exc}")
    kind, message = transport_failure(exc, url)
    return APIError(message, type=kind)


# ---- the policy objects from their JSON ----------------------------------------------------


def routing_rule(raw: Mapping[str, Any]) -> RoutingRule:
    action = raw.get("action")
    strategy = action.get("set_strategy") if isinstance(action, Mapping) else None
    # The server checked set_strategy against its own profiles, which this
    # machine may not have: accept the one it sent.
    profiles = (strategy,) if isinstance(strategy, str) else ()
    return RoutingRule.from_dict(raw, profiles=profiles)


def firewall_rule(raw: Mapping[str, Any]) -> FirewallRule:
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


def given(**fields: Any) -> dict[str, Any]:
    """Only the fields the caller set, so the server's defaults apply to the rest."""
    return {k: v for k, v in fields.items() if v is not None}


R = TypeVar("R", RoutingRule, FirewallRule)


class _Named(TypedDict):
    name: str


class RoutingRuleFields(_Named, total=False):
    """``routing_rules.create(...)``'s fields; those left out take the server's defaults."""

    match: Mapping[str, Any] | None
    action: Mapping[str, Any] | None
    priority: int | None
    is_enabled: bool | None
    id: str | None


class _Patterned(_Named):
    pattern: str


class FirewallRuleFields(_Patterned, total=False):
    """``firewall_rules.create(...)``'s fields; those left out take the server's defaults."""

    type: str | None
    scope: str | None
    action: str | None
    replacement: str | None
    priority: int | None
    is_enabled: bool | None
    id: str | None


ROUTING_RULES_PATH = "/v1/routing_rules"
FIREWALL_RULES_PATH = "/v1/firewall_rules"


def rule_path(collection: str, rule_id: str) -> str:
    return f"{collection}/{quote(rule_id, safe='')}"


# ---- shared plumbing -------------------------------------------------------------------------


class Config:
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


def responses_body(
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
        **given(
            instructions=instructions, temperature=temperature, max_output_tokens=max_output_tokens
        ),
        **extra,
        "stream": stream,
    }


def build_request(
    http: httpx.Client | httpx.AsyncClient,
    config: Config,
    method: str,
    path: str,
    body: Any,
    admin: bool,
) -> tuple[httpx.Request, str]:
    """The request and its URL (for error messages)."""
    url = config.base_url + path
    request = http.build_request(
        method, url, json=body, headers=config.headers(admin), timeout=config.timeout
    )
    return request, url


def json_body(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise error_from_body(response.status_code, response.content)
    try:
        return response.json()
    except ValueError:
        raise APIError(
            "the server's answer is not JSON", status=response.status_code, type="bad_response"
        ) from None
