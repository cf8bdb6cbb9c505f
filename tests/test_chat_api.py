"""The public call API: chat / achat / chat_stream / achat_stream / responses / route / L2."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from conftest_providers import KEYS
from fake_providers import FakeProviders, Fault

from router import Router
from router.calls.engine import ChatResponse
from router.decision.l2 import L2Config

MakeRouter = Callable[..., Router]
TOOLS = [
    {
        "type": "function",
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
]


def test_sync_chat_fills_the_decision(fake: FakeProviders, make_router: MakeRouter) -> None:
    reply = make_router().chat([{"role": "user", "content": "What is the capital of France?"}])
    assert isinstance(reply, ChatResponse)
    assert reply.content == "Hello from fast-1" and reply["object"] == "chat.completion"
    d = reply.decision
    assert d.model == "oa/fast-1" and d.candidates == ("oa/fast-1", "an/claude-x", "gg/gem-x")
    assert d.estimated_cost is not None and d.baseline_cost is not None
    assert d.savings == pytest.approx(d.baseline_cost - d.estimated_cost)
    assert d.id and d.id.startswith("rt-") and not d.l2_used
    assert json.dumps(reply.to_dict())  # JSON-ready throughout


def test_async_chat_and_stream(fake: FakeProviders, make_router: MakeRouter) -> None:
    async def main() -> tuple[Any, list[dict[str, Any]], Any]:
        async with make_router() as router:
            reply = await router.achat("Say hello", model="an/claude-x")
            stream = await router.achat_stream("Say hello", model="gg/gem-x")
            chunks = [c async for c in stream]
            return reply, chunks, stream

    reply, chunks, stream = asyncio.run(main())
    assert reply.model_used == "an/claude-x"
    assert (
        "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
        == "Hello from gem-x"
    )
    assert stream.model_used == "gg/gem-x" and stream.decision.model == "gg/gem-x"
    assert chunks[-1]["usage"]["total_tokens"] > 0


def test_concurrent_async_calls(fake: FakeProviders, make_router: MakeRouter) -> None:
    async def main() -> list[str]:
        async with make_router() as router:
            replies = await asyncio.gather(*(router.achat(f"Hi {i}") for i in range(20)))
            return [r.attempts for r in replies]

    for attempts in asyncio.run(main()):
        assert [(a["model"], a["ok"]) for a in attempts] == [("oa/fast-1", True)], attempts


def test_sync_api_works_inside_a_running_loop(fake: FakeProviders, make_router: MakeRouter) -> None:
    router = make_router()

    async def main() -> str | None:
        return router.chat("Say hello").content  # e.g. a notebook cell

    assert asyncio.run(main()) == "Hello from fast-1"


def test_route_decides_without_calling(fake: FakeProviders, make_router: MakeRouter) -> None:
    plan = make_router(strategy="best").route("Prove that there are infinitely many primes")
    assert plan.decision.model == plan.model and len(plan.chain) == 3
    assert fake.requests == []


def test_passthrough_of_response_format_and_images(
    fake: FakeProviders, make_router: MakeRouter
) -> None:
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Describe as JSON"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            ],
        }
    ]
    reply = make_router().chat(messages, response_format={"type": "json_object"}, seed=7)
    body = fake.requests[-1].body
    assert body["response_format"] == {"type": "json_object"} and body["seed"] == 7
    assert body["messages"][0]["content"][1]["image_url"]["url"].startswith("data:image/png")
    assert reply.decision.has_images


def test_keys_from_environment_variables(fake: FakeProviders, make_router: MakeRouter) -> None:
    router = make_router(keys={}, env={"AN_KEY": "sk-env-ANTHROPIC-000111222"})
    reply = router.chat("Say hello")
    assert reply.model_used == "an/claude-x"  # the only provider with a key
    assert fake.requests[-1].headers["x-api-key"] == "sk-env-ANTHROPIC-000111222"


def test_keys_never_appear_in_reprs_or_decisions(
    fake: FakeProviders, make_router: MakeRouter
) -> None:
    router = make_router()
    reply = router.chat("Say hello")
    texts = [
        repr(router),
        repr(router._engine()),
        repr(router.settings),
        json.dumps(reply.to_dict()),
        repr(reply),
    ]
    for text in texts:
        for key in KEYS.values():
            assert key not in text


def test_responses_create(fake: FakeProviders, make_router: MakeRouter) -> None:
    router = make_router()
    resp = router.responses.create(model="auto", input="Say hello", instructions="Be terse.")
    assert resp["object"] == "response" and resp["status"] == "completed"
    assert resp["output_text"] == "Hello from fast-1"
    assert resp["output"][0]["content"][0]["type"] == "output_text"
    assert resp["usage"]["output_tokens"] == 3
    assert resp["router"]["model_used"] == "oa/fast-1"
    assert fake.requests[-1].body["messages"][0] == {"role": "system", "content": "Be terse."}


def test_responses_create_refuses_chat_messages(make_router: MakeRouter) -> None:
    from router.errors import RouterInputError

    with pytest.raises(RouterInputError, match="input"):
        make_router().responses.create(model="auto", input="Hi", messages=[])


def test_responses_tools_and_function_outputs(fake: FakeProviders, make_router: MakeRouter) -> None:
    router = make_router()
    resp = router.responses.create(model="an/claude-x", input="Weather?", tools=TOOLS)
    call = resp["output"][0]
    assert call["type"] == "function_call" and call["name"] == "get_weather"
    follow_up = [
        {"role": "user", "content": [{"type": "input_text", "text": "Weather?"}]},
        {
            "type": "function_call",
            "call_id": call["call_id"],
            "name": call["name"],
            "arguments": call["arguments"],
        },
        {"type": "function_call_output", "call_id": call["call_id"], "output": '{"t": 20}'},
    ]
    router.responses.create(model="an/claude-x", input=follow_up)
    messages = fake.requests[-1].body["messages"]
    assert messages[1]["content"][0]["type"] == "tool_use"
    assert messages[2]["content"][0] == {
        "type": "tool_result",
        "tool_use_id": call["call_id"],
        "content": '{"t": 20}',
    }


def test_responses_stream_events(fake: FakeProviders, make_router: MakeRouter) -> None:
    events = list(make_router().responses.create(model="gg/gem-x", input="Hi", stream=True))
    kinds = [e["type"] for e in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
    assert "".join(deltas) == "Hello from gem-x"
    assert [e["sequence_number"] for e in events] == list(range(1, len(events) + 1))
    final = events[-1]["response"]
    assert final["output_text"] == "Hello from gem-x" and final["usage"]["output_tokens"] == 3
    assert final["router"]["model_used"] == "gg/gem-x"


# ---- L2 ------------------------------------------------------------------------


def _l2_router(make_router: MakeRouter, threshold: float = 1.01) -> Router:
    # threshold above 1 makes every decision "unsure", so L2 always runs.
    return make_router(l2=L2Config(model="an/claude-x", threshold=threshold, timeout=0.5))


def test_l2_refines_unsure_decisions_and_is_cached(
    fake: FakeProviders, make_router: MakeRouter
) -> None:
    fake.reply("claude-x", '{"task": "math", "tier": "REASONING"}')
    router = _l2_router(make_router)
    reply = router.chat("hmm, what about this one?")
    d = reply.decision
    assert d.l2_used and d.task.value == "math" and d.tier.value == "REASONING"
    assert d.source.endswith("+l2") and any("L2" in r for r in d.reasons)
    assert fake.models_called() == ["claude-x", "fast-1"]  # L2 ask, then the routed call
    router.chat("hmm, what about this one?")
    assert fake.models_called().count("claude-x") == 1  # the second decision came from cache


@pytest.mark.parametrize("fault", [Fault(status=500), Fault(delay=1.5), Fault(malformed=True)])
def test_l2_failure_keeps_l1(fake: FakeProviders, make_router: MakeRouter, fault: Fault) -> None:
    fake.fail("claude-x", fault)
    reply = _l2_router(make_router).chat("hmm, what about this one?")
    assert not reply.decision.l2_used and reply.content == "Hello from fast-1"


def test_l2_bad_labels_keep_l1(
    fake: FakeProviders, make_router: MakeRouter, caplog: pytest.LogCaptureFixture
) -> None:
    fake.reply("claude-x", '{"task": "astrology", "tier": "EASY"}')
    with caplog.at_level("WARNING", logger="tierrouter.l2"):
        assert not _l2_router(make_router).chat("hmm").decision.l2_used
    assert any("L2 (an/claude-x) failed" in r.getMessage() for r in caplog.records)


def test_an_l2_failure_is_logged_and_not_cached(
    fake: FakeProviders, make_router: MakeRouter, caplog: pytest.LogCaptureFixture
) -> None:
    """One failed ask must not turn L2 off for that prompt: the next request asks again."""
    fake.fail("claude-x", Fault(status=500))
    fake.reply("claude-x", '{"task": "math", "tier": "REASONING"}')
    router = _l2_router(make_router)
    with caplog.at_level("WARNING", logger="tierrouter.l2"):
        assert not router.chat("hmm, what about this one?").decision.l2_used
    assert [r.levelname for r in caplog.records if r.name == "tierrouter.l2"] == ["WARNING"]
    assert router.chat("hmm, what about this one?").decision.l2_used
    assert fake.models_called().count("claude-x") == 2


def test_l2_skipped_when_confident_or_pinned(fake: FakeProviders, make_router: MakeRouter) -> None:
    make_router(l2=L2Config(model="an/claude-x", threshold=0.0)).chat("hmm")
    _l2_router(make_router).chat("hmm", model="oa/fast-1")
    assert fake.models_called() == ["fast-1", "fast-1"]
