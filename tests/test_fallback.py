"""Fallback chains, Retry-After, cooldowns and streaming failover, against the local server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from conftest_providers import KEYS
from fake_providers import FakeProviders, Fault

from router import APIError, Router
from router.calls.fallback import CooldownStore, InMemoryCooldownStore

MakeRouter = Callable[..., Router]
HI = [{"role": "user", "content": "Say hello"}]


def _text(chunks: list[dict]) -> str:
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retryable_status_moves_to_the_next_model(
    fake: FakeProviders, make_router: MakeRouter, status: int
) -> None:
    fake.fail("fast-1", Fault(status=status))
    reply = make_router().chat(HI)
    assert reply.model_used == "an/claude-x"
    assert reply.content == "Hello from claude-x"
    assert [(a["model"], a["status"], a["ok"]) for a in reply.attempts] == [
        ("oa/fast-1", status, False),
        ("an/claude-x", None, True),
    ]
    assert fake.models_called() == ["fast-1", "claude-x"]


def test_retry_after_is_honoured_on_the_same_model(
    fake: FakeProviders, make_router: MakeRouter
) -> None:
    fake.fail("fast-1", Fault(status=429, retry_after=0.3))
    started = time.perf_counter()
    reply = make_router().chat(HI)
    elapsed = time.perf_counter() - started
    assert reply.model_used == "oa/fast-1"
    assert elapsed >= 0.3
    assert reply.attempts[0]["retry_after"] == pytest.approx(0.3)
    assert fake.models_called() == ["fast-1", "fast-1"]


def test_long_retry_after_goes_to_the_next_model_and_cools_down(
    fake: FakeProviders, make_router: MakeRouter
) -> None:
    fake.fail("fast-1", Fault(status=429, retry_after=60))
    router = make_router()
    started = time.perf_counter()
    assert router.chat(HI).model_used == "an/claude-x"
    assert time.perf_counter() - started < 5
    assert router.cooldowns.remaining("oa/fast-1") > 55  # the provider asked for 60 s
    # The cooled model is skipped on the next call, without a request to it.
    fake.reset()
    assert router.chat(HI).model_used == "an/claude-x"
    assert fake.models_called() == ["claude-x"]


def test_overloaded_529_and_anthropic_then_gemini(
    fake: FakeProviders, make_router: MakeRouter
) -> None:
    fake.fail("fast-1", Fault(status=503))
    fake.fail("claude-x", Fault(status=529))
    reply = make_router().chat(HI)
    assert reply.model_used == "gg/gem-x"
    assert [a["type"] for a in reply.attempts] == ["server_error", "overloaded", None]


def test_timeout_moves_on(fake: FakeProviders, make_router: MakeRouter) -> None:
    fake.fail("fast-1", Fault(delay=1.5))
    reply = make_router(timeout=0.3).chat(HI)
    assert reply.model_used == "an/claude-x"
    assert reply.attempts[0]["type"] == "timeout"
    assert reply.attempts[0]["status"] is None


def test_connection_dropped_moves_on(fake: FakeProviders, make_router: MakeRouter) -> None:
    fake.fail("fast-1", Fault(drop="before"))
    reply = make_router().chat(HI)
    assert reply.model_used == "an/claude-x"
    assert reply.attempts[0]["type"] == "connection_error"


def test_malformed_json_moves_on(fake: FakeProviders, make_router: MakeRouter) -> None:
    fake.fail("fast-1", Fault(malformed=True))
    reply = make_router().chat(HI)
    assert reply.model_used == "an/claude-x"
    assert reply.attempts[0]["type"] == "bad_response"


@pytest.mark.parametrize(
    ("status", "kind"),
    [(400, "invalid_request"), (401, "authentication"), (403, "permission"), (404, "not_found")],
)
def test_client_errors_are_not_retried(
    fake: FakeProviders, make_router: MakeRouter, status: int, kind: str
) -> None:
    fake.fail("fast-1", Fault(status=status))
    router = make_router()
    with pytest.raises(APIError) as info:
        router.chat(HI)
    err = info.value
    assert (err.status, err.type, err.provider, err.model) == (status, kind, "oa", "oa/fast-1")
    assert "oa" in err.message
    assert fake.models_called() == ["fast-1"]
    assert router.cooldowns.remaining("oa/fast-1") == 0  # the request was at fault, not the model


def test_all_candidates_failing_raises_with_every_attempt(
    fake: FakeProviders, make_router: MakeRouter
) -> None:
    fake.fail("fast-1", Fault(status=500))
    fake.fail("claude-x", Fault(status=503))
    fake.fail("gem-x", Fault(status=429))
    with pytest.raises(APIError) as info:
        make_router().chat(HI)
    err = info.value
    assert err.status == 429 and err.type == "rate_limit"
    assert err.provider == "gg" and err.model == "gg/gem-x"
    assert [a["model"] for a in err.attempts] == ["oa/fast-1", "an/claude-x", "gg/gem-x"]
    assert "all 3 candidate model(s) failed" in err.message


def test_every_model_cooling_still_gets_a_try(fake: FakeProviders, make_router: MakeRouter) -> None:
    router = make_router()
    for model in ("oa/fast-1", "an/claude-x", "gg/gem-x"):
        router.cooldowns.cool(model, 100 if model != "an/claude-x" else 10)
    reply = router.chat(HI)
    # Soonest-ready first, rather than failing with "all cooling down".
    assert reply.model_used == "an/claude-x"
    assert router.cooldowns.remaining("an/claude-x") == 0  # success clears the cooldown


def test_cooldown_store_protocol_and_expiry() -> None:
    now = [100.0]
    store = InMemoryCooldownStore(clock=lambda: now[0])
    assert isinstance(store, CooldownStore)
    store.cool("m", 30)
    store.cool("m", 5)  # a shorter cooldown does not shorten the longer one
    assert store.remaining("m") == pytest.approx(30)
    now[0] += 29
    assert store.remaining("m") == pytest.approx(1)
    now[0] += 2
    assert store.remaining("m") == 0


def test_custom_cooldown_store_is_used(fake: FakeProviders, make_router: MakeRouter) -> None:
    cooled: list[tuple[str, float]] = []

    class Recording(InMemoryCooldownStore):
        def cool(self, model_id: str, seconds: float) -> None:
            cooled.append((model_id, seconds))
            super().cool(model_id, seconds)

    store = Recording()
    fake.fail("fast-1", Fault(status=500))
    make_router(cooldown_store=store).chat(HI)
    assert cooled == [("oa/fast-1", 30)]


# ---- streaming ------------------------------------------------------------------


def test_stream_fails_over_before_content(fake: FakeProviders, make_router: MakeRouter) -> None:
    fake.fail("fast-1", Fault(status=503))
    fake.fail("claude-x", Fault(drop="mid_stream", after_events=0))
    with make_router().chat_stream(HI) as stream:
        chunks = list(stream)
    assert _text(chunks) == "Hello from gem-x"
    # One role announcement only: the failed attempts' openings were held back.
    assert sum(1 for c in chunks if c["choices"] and "role" in c["choices"][0]["delta"]) == 1
    assert stream.model_used == "gg/gem-x"
    assert [a["ok"] for a in stream.attempts] == [False, False, True]
    assert stream.usage and stream.usage["completion_tokens"] == 3


def test_stream_malformed_chunk_fails_over(fake: FakeProviders, make_router: MakeRouter) -> None:
    fake.fail("fast-1", Fault(malformed=True))
    with make_router().chat_stream(HI) as stream:
        assert _text(list(stream)) == "Hello from claude-x"
    assert stream.attempts[0]["type"] == "bad_response"


def test_stream_timeout_fails_over(fake: FakeProviders, make_router: MakeRouter) -> None:
    fake.fail("fast-1", Fault(delay=1.5))
    with make_router(timeout=0.3).chat_stream(HI) as stream:
        assert _text(list(stream)) == "Hello from claude-x"


@pytest.mark.parametrize("model", ["fast-1", "claude-x", "gem-x"])
def test_stream_drop_after_content_raises_clearly(
    fake: FakeProviders, make_router: MakeRouter, model: str
) -> None:
    fake.reply(model, "one two three four")
    fake.fail(model, Fault(drop="mid_stream", after_events=2))
    pins = {"fast-1": "oa/fast-1", "claude-x": "an/claude-x", "gem-x": "gg/gem-x"}
    router = make_router()
    received: list[dict] = []
    with pytest.raises(APIError) as info, router.chat_stream(HI, model=pins[model]) as stream:
        for chunk in stream:
            received.append(chunk)
    assert _text(received) == "one two"
    assert info.value.type == "stream_interrupted"
    assert "after the reply had started streaming" in info.value.message
    assert fake.models_called() == [model]  # not retried elsewhere


def test_stream_auto_chain_after_content_does_not_switch_models(
    fake: FakeProviders, make_router: MakeRouter
) -> None:
    fake.fail("fast-1", Fault(drop="mid_stream", after_events=1))

    async def main() -> tuple[list[dict], APIError]:
        router = make_router()
        stream = await router.achat_stream(HI)
        got: list[dict] = []
        with pytest.raises(APIError) as info:
            async for chunk in stream:
                got.append(chunk)
        await router.aclose()
        return got, info.value

    got, err = asyncio.run(main())
    assert _text(got) == "Hello"
    assert err.type == "stream_interrupted" and err.model == "oa/fast-1"
    assert fake.models_called() == ["fast-1"]


def test_stream_retry_after_same_model(fake: FakeProviders, make_router: MakeRouter) -> None:
    fake.fail("claude-x", Fault(status=429, retry_after=0.2))
    with make_router().chat_stream(HI, model="an/claude-x") as stream:
        assert _text(list(stream)) == "Hello from claude-x"
    assert fake.models_called() == ["claude-x", "claude-x"]


def test_keys_never_reach_errors_or_attempts(fake: FakeProviders, make_router: MakeRouter) -> None:
    router = make_router(keys={**KEYS, "oa": "bad-sk-LEAKME-0123456789"})
    with pytest.raises(APIError) as info:
        router.chat(HI)
    err = info.value
    assert err.status == 401 and err.type == "authentication"
    text = f"{err} {err!r} {err.attempts}"
    assert "LEAKME" not in text and "0123456789" not in text
    assert "oa rejected the API key" in err.message
