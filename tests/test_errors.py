"""router.errors: every user-facing exception in one module, transport errors named once."""

from __future__ import annotations

import httpx
import pytest

import router
import router.errors
from router import APIError, Router
from router.providers.base import ProviderError


def test_every_exception_a_user_meets_is_defined_in_errors_and_exported() -> None:
    defined = {
        name
        for name, value in vars(router.errors).items()
        if isinstance(value, type) and issubclass(value, Exception)
    }
    assert defined == {n for n in router.errors.__all__ if n != "transport_failure"}
    for name in defined:
        assert getattr(router, name) is getattr(router.errors, name)
    from router.log.store import DecisionLogError
    from router.policy.errors import FirewallBlocked, PolicyNotFound
    from router.routing.catalog import FieldError

    assert (DecisionLogError, FirewallBlocked, PolicyNotFound, FieldError) == (
        router.DecisionLogError,
        router.FirewallBlocked,
        router.PolicyNotFound,
        router.FieldError,
    )


@pytest.mark.parametrize(
    ("exc", "kind", "text"),
    [
        (httpx.ReadTimeout("slow"), "timeout", "api.example timed out after 2.5s (ReadTimeout)"),
        (httpx.ConnectError("refused"), "connection_error", "connection failed: ConnectError"),
    ],
)
def test_transport_failure_names_timeouts_and_connection_errors(
    exc: httpx.TransportError, kind: str, text: str
) -> None:
    got_kind, message = router.errors.transport_failure(exc, "api.example", timeout=2.5)
    assert got_kind == kind and text in message


def test_a_key_in_the_transport_error_text_is_redacted() -> None:
    exc = httpx.ConnectError("cannot reach https://x/?key=sk-secret-000111")
    _, message = router.errors.transport_failure(
        exc, "gemini", redact=lambda t: t.replace("sk-secret-000111", "[key]")
    )
    assert "sk-secret" not in message and "[key]" in message


def test_a_failed_call_keeps_the_transport_error_as_its_cause() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with (
        Router(
            model=False,
            keys={"openai": "sk-test-000111222333"},
            transport=httpx.MockTransport(refuse),
        ) as r,
        pytest.raises(APIError) as info,
    ):
        r.chat("hi", model="openai/gpt-4o-mini")
    assert info.value.type == "connection_error"
    cause = info.value.__cause__
    assert isinstance(cause, ProviderError) and isinstance(cause.__cause__, httpx.ConnectError)
