"""The one interface every API style implements, and the HTTP plumbing they share.

An adapter only translates: OpenAI-shaped request -> provider request, and
provider response/stream -> OpenAI-shaped completion/chunks. Sending, status
mapping, timeouts and key redaction live here, once.
"""

from __future__ import annotations

import functools
import json
import re
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from router._ids import random_hex
from router.errors import transport_failure
from router.providers.sse import SSEEvent, aiter_sse
from router.secrets import Secret, mask_secret

if TYPE_CHECKING:
    import httpx

__all__ = [
    "RETRYABLE_STATUSES",
    "ChatRequest",
    "Endpoint",
    "HttpCall",
    "NativeRequest",
    "ProviderAdapter",
    "ProviderError",
    "error_from_status",
    "open_stream",
    "send",
]

# 529 is Anthropic's "overloaded"; 408 a proxy's request timeout.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 529})
_STATUS_TYPES = {
    400: "invalid_request",
    401: "authentication",
    403: "permission",
    404: "not_found",
    408: "timeout",
    413: "request_too_large",
    422: "invalid_request",
    429: "rate_limit",
    529: "overloaded",
}
# Provider error texts sometimes quote part of the key ("Incorrect API key provided: sk-ab***yz").
_KEYLIKE = re.compile(r"\b(?:sk|pk|rk|gsk|xai|AIza)[-_A-Za-z0-9*.]{6,}")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A provider resolved for one call: where to send and with which key."""

    provider: str
    base_url: str
    key: Secret | None = None
    key_env: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    stream_usage: bool = True


@dataclass(frozen=True, slots=True)
class NativeRequest:
    """A request as the client wrote it in one provider's own wire format.

    A model served in that format gets ``body`` as it is (model and stream
    flag aside) with ``headers`` added, so fields the OpenAI shape has no place
    for (``cache_control``, ``thinking``, betas, ...) reach it unchanged. Any
    other model gets the OpenAI-shaped translation instead.
    """

    api: str
    body: dict[str, Any]
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class ChatRequest:
    """An OpenAI-shaped chat request: messages plus every other body field."""

    messages: list[dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)
    native: NativeRequest | None = None

    def native_for(self, api: str) -> NativeRequest | None:
        """The client's own request, when it is in the format ``api`` speaks."""
        native = self.native
        return native if native is not None and native.api == api else None


@dataclass(frozen=True, slots=True)
class HttpCall:
    url: str
    headers: dict[str, str]
    body: dict[str, Any]


class ProviderError(Exception):
    """One failed attempt. ``retryable`` decides whether the chain moves on."""

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        retryable: bool | None = None,
        content_sent: bool = False,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.retry_after = retry_after
        if retryable is None:
            # No status means the network failed (timeout, reset): another model may work.
            retryable = status is None or status in RETRYABLE_STATUSES
        self.retryable = retryable
        self.content_sent = content_sent


def redact(text: str, key: Secret | None) -> str:
    return _KEYLIKE.sub("********", mask_secret(text, key))


def error_from_status(
    status: int, body: bytes, endpoint: Endpoint, headers: Mapping[str, str]
) -> ProviderError:
    """Map an HTTP error response to a ProviderError with a key-free message."""
    detail = redact(_error_text(body), endpoint.key)[:300]
    kind = _STATUS_TYPES.get(status, "server_error" if status >= 500 else "invalid_request")
    name = endpoint.provider
    if status == 401:
        where = f"set {endpoint.key_env} or " if endpoint.key_env else ""
        message = f"{name} rejected the API key (401); {where}pass keys={{'{name}': ...}}"
    elif status == 403:
        message = f"{name} refused access (403): the key lacks permission for this model"
    elif status == 404:
        message = f"{name} returned 404: model or endpoint not found (base_url {endpoint.base_url})"
    elif status == 429:
        message = f"{name} rate-limited the request (429)"
    else:
        message = f"{name} returned HTTP {status}"
    if detail:
        message += f": {detail}"
    return ProviderError(kind, message, status=status, retry_after=_retry_after(headers))


def _error_text(body: bytes) -> str:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body.decode("utf-8", "replace").strip()
    # OpenAI {"error": {"message"}}, Anthropic {"error": {"type", "message"}},
    # Gemini {"error": {"message", "status"}}; some proxies send a bare string.
    err = data.get("error", data) if isinstance(data, dict) else data
    if isinstance(err, dict):
        return str(err.get("message") or err.get("type") or err)
    return str(err)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class ProviderAdapter(ABC):
    """Translates between the OpenAI chat shape and one provider API style."""

    api: ClassVar[str]

    @abstractmethod
    def build(
        self, endpoint: Endpoint, model: str, request: ChatRequest, *, stream: bool
    ) -> HttpCall:
        """The HTTP request for a call (stream or not)."""

    @abstractmethod
    def parse(self, body: Any, model: str) -> dict[str, Any]:
        """A provider response body -> OpenAI ``chat.completion`` dict."""

    @abstractmethod
    def translate_stream(
        self, events: AsyncIterator[SSEEvent], model: str
    ) -> AsyncIterator[dict[str, Any]]:
        """Provider SSE events -> OpenAI ``chat.completion.chunk`` dicts.

        Raises ProviderError when the stream carries an error event, bad JSON,
        or ends before the provider's end-of-message marker.
        """

    def parse_native(self, body: Any, model: str) -> dict[str, Any]:
        """:meth:`parse` for a call built from a :class:`NativeRequest`; an adapter
        that can pass its provider's reply through keeps it under ``"native"``."""
        return self.parse(body, model)

    def translate_native_stream(
        self, events: AsyncIterator[SSEEvent], model: str
    ) -> AsyncIterator[dict[str, Any]]:
        """:meth:`translate_stream` for a call built from a :class:`NativeRequest`;
        an adapter that can pass its provider's events through puts each one's
        bytes under ``"native"`` on a chunk."""
        return self.translate_stream(events, model)


def _transport_error(
    endpoint: Endpoint, timeout: float | None, exc: httpx.TransportError
) -> ProviderError:

    kind, message = transport_failure(
        exc, endpoint.provider, timeout=timeout, redact=lambda text: redact(text, endpoint.key)
    )
    return ProviderError(kind, message)


@functools.lru_cache(maxsize=1024)
def _url(url: str) -> httpx.URL:
    """The parsed URL: httpx would parse the string again on every request (about 4 % of
    the proxy's CPU), and a process only ever calls a few URLs per provider."""
    import httpx

    return httpx.URL(url)


async def send(
    client: httpx.AsyncClient,
    adapter: ProviderAdapter,
    endpoint: Endpoint,
    model: str,
    request: ChatRequest,
    *,
    timeout: float | None,
) -> dict[str, Any]:
    """One non-streaming call; returns the OpenAI-shaped completion."""
    import httpx

    call = adapter.build(endpoint, model, request, stream=False)
    try:
        response = await client.post(
            _url(call.url), headers=call.headers, json=call.body, timeout=timeout
        )
    except httpx.TransportError as exc:
        raise _transport_error(endpoint, timeout, exc) from exc
    if response.status_code >= 400:
        raise error_from_status(response.status_code, response.content, endpoint, response.headers)
    try:
        body = response.json()
    except ValueError as exc:
        raise ProviderError(
            "bad_response",
            f"{endpoint.provider} returned malformed JSON (HTTP {response.status_code})",
            retryable=True,
        ) from exc
    try:
        if request.native_for(adapter.api) is not None:
            return adapter.parse_native(body, model)
        return adapter.parse(body, model)
    except (KeyError, TypeError, IndexError, AttributeError) as exc:
        raise ProviderError(
            "bad_response",
            f"{endpoint.provider} returned an unexpected response shape "
            f"({type(exc).__name__}: {exc})",
            retryable=True,
        ) from exc


async def open_stream(
    client: httpx.AsyncClient,
    adapter: ProviderAdapter,
    endpoint: Endpoint,
    model: str,
    request: ChatRequest,
    *,
    timeout: float | None,
) -> AsyncGenerator[dict[str, Any], None]:
    """One streaming call, as OpenAI-shaped chunks; transport errors become ProviderError."""
    import httpx

    call = adapter.build(endpoint, model, request, stream=True)
    try:
        async with client.stream(
            "POST", _url(call.url), headers=call.headers, json=call.body, timeout=timeout
        ) as response:
            if response.status_code >= 400:
                body = await response.aread()
                raise error_from_status(response.status_code, body, endpoint, response.headers)
            translate = (
                adapter.translate_native_stream
                if request.native_for(adapter.api) is not None
                else adapter.translate_stream
            )
            async for chunk in translate(aiter_sse(response.aiter_bytes()), model):
                yield chunk
    except httpx.TransportError as exc:
        raise _transport_error(endpoint, timeout, exc) from exc
    except ValueError as exc:  # json.JSONDecodeError from the adapter
        raise ProviderError(
            "bad_response", f"{endpoint.provider} streamed malformed JSON: {exc}", retryable=True
        ) from exc


def new_id(prefix: str = "chatcmpl") -> str:
    return f"{prefix}-{random_hex(24)}"


def usage_dict(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def chunk(
    chunk_id: str, model: str, delta: dict[str, Any], finish: str | None = None
) -> dict[str, Any]:
    return {
        "id": chunk_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def usage_chunk(chunk_id: str, model: str, usage: dict[str, int]) -> dict[str, Any]:
    return {
        "id": chunk_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [],
        "usage": usage,
    }


def completion(
    completion_id: str,
    model: str,
    message: dict[str, Any],
    finish: str | None,
    usage: dict[str, int],
    created: int | None = None,
) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created or int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage,
    }


def text_of(content: Any) -> str:
    """The text of an OpenAI message content (a string or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            p.get("text", "") if isinstance(p, dict) else str(p)
            for p in content
            if not isinstance(p, dict) or p.get("type") in ("text", "input_text", None)
        )
    return "" if content is None else str(content)


def parse_data_url(url: str) -> tuple[str, str] | None:
    """``data:<mime>;base64,<data>`` -> (mime, data); None for http(s) URLs."""
    if not url.startswith("data:"):
        return None
    header, _, data = url[5:].partition(",")
    mime = header.split(";", 1)[0] or "application/octet-stream"
    return mime, data
