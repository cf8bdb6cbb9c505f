"""Errors in the caller's wire format, with the status an SDK expects.

OpenAI clients get ``{"error": {"message", "type", "param", "code"}}``,
Anthropic clients ``{"type": "error", "error": {"type", "message"}}``. When
every candidate model failed, the body also lists the attempts (model,
provider, status, error type and message: the router's messages never carry
keys) so the caller can see what was tried.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from typing import Any

from router.errors import (
    APIError,
    ConfigError,
    NoCandidateError,
    RouterInputError,
    StoreUnavailableError,
)
from router.proxy.json_bytes import dumps

__all__ = ["ProxyError", "Wire", "error_body", "error_headers", "from_exception", "sse_error"]


class Wire(str, enum.Enum):
    """Which API dialect a route speaks, and so how its errors look."""

    OPENAI = "openai"
    ANTHROPIC = "anthropic"
    RESPONSES = "responses"


# kind -> (HTTP status, OpenAI type, OpenAI code, Anthropic type)
_KINDS: dict[str, tuple[int, str, str | None, str]] = {
    "invalid_request": (400, "invalid_request_error", None, "invalid_request_error"),
    # A firewall rule refused the prompt: the request was understood and is
    # not to be retried as it stands.
    "firewall_blocked": (422, "firewall_blocked", "firewall_blocked", "invalid_request_error"),
    "authentication": (401, "authentication_error", "invalid_api_key", "authentication_error"),
    "permission": (403, "permission_error", None, "permission_error"),
    "not_found": (404, "invalid_request_error", "model_not_found", "not_found_error"),
    "route_not_found": (404, "invalid_request_error", "not_found", "not_found_error"),
    "request_timeout": (408, "invalid_request_error", "request_timeout", "timeout_error"),
    "request_too_large": (
        413,
        "invalid_request_error",
        "request_too_large",
        "request_too_large",
    ),
    "rate_limit": (429, "rate_limit_error", "rate_limit_exceeded", "rate_limit_error"),
    "over_capacity": (429, "rate_limit_error", "over_capacity", "rate_limit_error"),
    # A spend budget is exhausted (router/state/budgets.py): OpenAI's own type for it;
    # Anthropic has none, and its SDKs treat rate_limit_error as a 429 to surface.
    "insufficient_quota": (429, "insufficient_quota", "insufficient_quota", "rate_limit_error"),
    "internal": (500, "api_error", "internal_error", "api_error"),
    "upstream_error": (502, "api_error", "upstream_error", "api_error"),
    "unavailable": (503, "api_error", "service_unavailable", "overloaded_error"),
    "no_candidate": (503, "api_error", "no_candidate", "api_error"),
    "timeout": (504, "api_error", "upstream_timeout", "timeout_error"),
}
# Retrying these cannot help (nothing will change until the config does); the
# OpenAI and Anthropic SDKs both honour ``x-should-retry``.
_NO_RETRY = frozenset({"no_candidate", "upstream_auth", "insufficient_quota"})
_ATTEMPT_FIELDS = ("model", "provider", "ok", "status", "type", "error", "latency_ms")


class ProxyError(Exception):
    """A request the proxy answers with an error; ``kind`` picks status and types."""

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        param: str | None = None,
        retry_after: float | None = None,
        attempts: Sequence[Mapping[str, Any]] = (),
        retryable: bool = True,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        if kind not in _KINDS:
            raise ValueError(f"unknown error kind {kind!r}")
        self.kind = kind
        self.message = message
        self.param = param
        self.retry_after = retry_after
        self.attempts = [{k: a.get(k) for k in _ATTEMPT_FIELDS} for a in attempts]
        self.retryable = retryable
        self.status = status or _KINDS[kind][0]

    def __repr__(self) -> str:
        return f"ProxyError({self.kind!r}, status={self.status}, message={self.message!r})"


def invalid(param: str, problem: str) -> ProxyError:
    """A 400 naming the offending field, e.g. ``messages[2].role: ...``."""
    return ProxyError("invalid_request", f"{param}: {problem}", param=param)


def from_exception(exc: BaseException) -> ProxyError:
    """Map the router's exceptions (and our own) to a ProxyError."""
    if isinstance(exc, ProxyError):
        return exc
    if isinstance(exc, NoCandidateError):
        return ProxyError("no_candidate", exc.message, retryable=False)
    if isinstance(exc, APIError):
        return _from_api_error(exc)
    if isinstance(exc, RouterInputError):
        return invalid("messages", str(exc))
    if isinstance(exc, ConfigError):
        return invalid("model", str(exc))
    if isinstance(exc, StoreUnavailableError):
        return ProxyError("unavailable", str(exc))  # a 503 the caller may retry
    return ProxyError("internal", f"internal error ({type(exc).__name__})")


def _from_api_error(exc: APIError) -> ProxyError:
    attempts = exc.attempts
    failed = [a for a in attempts if not a.get("ok")]
    status = exc.status

    def make(kind: str, message: str = exc.message, **kw: Any) -> ProxyError:
        return ProxyError(kind, message, attempts=attempts, **kw)

    if exc.type == "stream_interrupted":
        return make("upstream_error")
    if exc.type == "firewall_blocked":
        return make("firewall_blocked")
    if status in (400, 422):
        return make("invalid_request")
    if status == 404:
        return make("not_found")
    if status == 413:
        return make("request_too_large")
    if status in (401, 403) or exc.type == "authentication":
        # The server's provider key failed, not the caller's proxy key: a 401
        # here would tell the caller to fix a key it does not hold.
        return make("upstream_error", retryable=False)
    if failed and all(a.get("status") == 429 for a in failed):
        waits = [float(a["retry_after"]) for a in failed if a.get("retry_after") is not None]
        return make("rate_limit", retry_after=min(waits) if waits else None)
    if failed and all(a.get("status") in (503, 529) for a in failed):
        return make("unavailable")
    if failed and all(a.get("type") == "timeout" for a in failed):
        return make("timeout")
    return make("upstream_error")


def error_body(err: ProxyError, wire: Wire) -> dict[str, Any]:
    _, openai_type, code, anthropic_type = _KINDS[err.kind]
    if wire is Wire.ANTHROPIC:
        inner: dict[str, Any] = {"type": anthropic_type, "message": err.message}
        if err.attempts:
            inner["attempts"] = err.attempts
        return {"type": "error", "error": inner}
    inner = {"message": err.message, "type": openai_type, "param": err.param, "code": code}
    if err.attempts:
        inner["attempts"] = err.attempts
    return {"error": inner}


def error_headers(err: ProxyError, default_retry_after: float) -> dict[str, str]:
    headers: dict[str, str] = {}
    if err.status == 429 or (err.status == 503 and err.retryable):
        wait = err.retry_after if err.retry_after is not None else default_retry_after
        headers["retry-after"] = str(max(1, math.ceil(wait)))
        headers["retry-after-ms"] = str(max(1, round(wait * 1000)))
    if not err.retryable or err.kind in _NO_RETRY:
        headers["x-should-retry"] = "false"
    return headers


def sse_error(err: ProxyError, wire: Wire) -> bytes:
    """The in-stream error event once headers are out and the status can no longer change."""
    body = error_body(err, wire)
    if wire is Wire.ANTHROPIC:
        return b"event: error\ndata: " + dumps(body) + b"\n\n"
    if wire is Wire.RESPONSES:
        _, openai_type, code, _ = _KINDS[err.kind]
        event = {
            "type": "error",
            "code": code or openai_type,
            "message": err.message,
            "param": None,
        }
        return b"event: error\ndata: " + dumps(event) + b"\n\n"
    return b"data: " + dumps(body) + b"\n\n"
