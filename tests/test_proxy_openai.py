"""The OpenAI SDK, unchanged but for base_url and api_key, against ``tierrouter serve``."""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from fake_providers import FakeProviders, Fault
from test_proxy_harness import (  # noqa: F401 -- fixtures
    HI,
    PROXY_KEY,
    WEATHER_TOOL,
    ProxyServer,
    chain,
    proxy_fixture,
    proxy_session_fixture,
)

ROUTING_HEADERS = (
    "model",
    "task",
    "tier",
    "confidence",
    "source",
    "estimated-cost",
    "savings",
    "attempts",
    "decision-id",
)


def client(server: ProxyServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=PROXY_KEY, max_retries=0)


def routing(headers: httpx.Headers) -> dict[str, str]:
    return {name: headers[f"x-tierrouter-{name}"] for name in ROUTING_HEADERS}


def sse_lines(server: ProxyServer, body: dict[str, object]) -> tuple[httpx.Headers, list[str]]:
    with httpx.stream(
        "POST",
        f"{server.url}/v1/chat/completions",
        json=body,
        headers={"authorization": f"Bearer {PROXY_KEY}"},
        timeout=10,
    ) as response:
        assert response.status_code == 200
        return response.headers, [line for line in response.iter_lines() if line]


def test_chat_completion_says_what_was_decided(proxy: ProxyServer) -> None:
    raw = client(proxy).chat.completions.with_raw_response.create(model="auto", messages=HI)
    reply = raw.parse()
    facts = routing(raw.headers)
    first = chain(proxy)[0]
    assert reply.choices[0].message.content == f"Hello from {first}"
    assert facts["model"].endswith(f"/{first}")
    assert facts["task"] == "general" and facts["tier"] == "SIMPLE"
    assert facts["attempts"] == "1" and facts["decision-id"].startswith("rt-")
    assert float(raw.headers["x-tierrouter-cost"]) > 0 and float(facts["confidence"]) > 0
    assert float(facts["estimated-cost"]) > 0
    body = raw.http_response.json()
    assert body["tierrouter"]["decision_id"] == facts["decision-id"]
    assert reply.usage is not None and reply.usage.total_tokens > 0


def test_streaming_carries_headers_and_a_final_summary(proxy: ProxyServer) -> None:
    headers, lines = sse_lines(proxy, {"model": "auto", "messages": HI, "stream": True})
    facts = routing(headers)
    assert headers["content-type"].startswith("text/event-stream")
    assert lines[-1] == "data: [DONE]"
    comment = lines[-2]
    assert comment.startswith(": tierrouter ")
    summary = json.loads(comment.removeprefix(": tierrouter "))
    assert summary["decision_id"] == facts["decision-id"] and summary["model"] == facts["model"]
    # The headers left before the cost was known: they carry only the estimate, named so;
    # the real cost (the fake's token counts at the catalog's prices) comes at the end.
    assert "x-tierrouter-cost" not in headers
    assert summary["cost"] > 0 and summary["cost"] != summary["estimated_cost"]
    last_chunk = json.loads(lines[-3].removeprefix("data: "))
    assert last_chunk["tierrouter"] == summary
    # Without include_usage the usage-only chunk stays out, as with OpenAI.
    assert all(json.loads(x[6:]).get("choices") for x in lines if x.startswith("data: {"))

    stream = client(proxy).chat.completions.create(model="auto", messages=HI, stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == f"Hello from {chain(proxy)[0]}"


def test_stream_usage_when_asked(proxy: ProxyServer) -> None:
    chunks = list(
        client(proxy).chat.completions.create(
            model="auto", messages=HI, stream=True, stream_options={"include_usage": True}
        )
    )
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_tools_and_response_format_pass_through(proxy: ProxyServer, fake: FakeProviders) -> None:
    c = client(proxy)
    reply = c.chat.completions.create(model="auto", messages=HI, tools=[WEATHER_TOOL])
    call = reply.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == {"city": "Paris"}  # type: ignore[union-attr]
    assert reply.choices[0].finish_reason == "tool_calls"

    stream = c.chat.completions.create(model="auto", messages=HI, tools=[WEATHER_TOOL], stream=True)
    args = "".join(
        (c.choices[0].delta.tool_calls or [])[0].function.arguments or ""  # type: ignore[union-attr]
        for c in stream
        if c.choices and c.choices[0].delta.tool_calls
    )
    assert json.loads(args) == {"city": "Paris"}

    c.chat.completions.create(
        model="openai/gpt-5-mini", messages=HI, response_format={"type": "json_object"}
    )
    assert fake.requests[-1].body["response_format"] == {"type": "json_object"}


def test_pinned_model_is_called_as_is(proxy: ProxyServer, fake: FakeProviders) -> None:
    raw = client(proxy).chat.completions.with_raw_response.create(
        model="anthropic/claude-haiku-4-5", messages=HI
    )
    assert raw.headers["x-tierrouter-model"] == "anthropic/claude-haiku-4-5"
    assert fake.requests[-1].api == "anthropic"
    assert raw.parse().choices[0].message.content == "Hello from claude-haiku-4-5"


def test_failover_before_the_first_token_is_invisible(
    proxy: ProxyServer, fake: FakeProviders
) -> None:
    first, second = chain(proxy)[:2]
    fake.fail(first, Fault(status=503))
    headers, lines = sse_lines(proxy, {"model": "auto", "messages": HI, "stream": True})
    assert headers["x-tierrouter-attempts"] == "2"
    assert headers["x-tierrouter-model"].endswith(f"/{second}")
    text = "".join(
        (json.loads(x[6:])["choices"] or [{}])[0].get("delta", {}).get("content") or ""
        for x in lines
        if x.startswith("data: {")
    )
    assert text == f"Hello from {second}"  # one answer, not two spliced beginnings


def test_failover_without_streaming(proxy: ProxyServer, fake: FakeProviders) -> None:
    first, second = chain(proxy)[:2]
    fake.fail(first, Fault(status=429, retry_after=30))
    raw = client(proxy).chat.completions.with_raw_response.create(model="auto", messages=HI)
    assert raw.headers["x-tierrouter-attempts"] == "2"
    assert raw.parse().choices[0].message.content == f"Hello from {second}"


def test_failure_after_the_first_token_is_an_error_event(
    proxy: ProxyServer, fake: FakeProviders
) -> None:
    fake.fail(chain(proxy)[0], Fault(drop="mid_stream", after_events=1))
    stream = client(proxy).chat.completions.create(model="auto", messages=HI, stream=True)
    with pytest.raises(openai.APIError, match="after the reply had started"):
        for _ in stream:
            pass


def test_responses_api(proxy: ProxyServer) -> None:
    c = client(proxy)
    raw = c.responses.with_raw_response.create(model="auto", input="hi")
    response = raw.parse()
    assert response.output_text == f"Hello from {chain(proxy)[0]}"
    assert raw.headers["x-tierrouter-decision-id"].startswith("rt-")
    assert raw.http_response.json()["tierrouter"]["model"] == raw.headers["x-tierrouter-model"]

    events = list(c.responses.create(model="auto", input="hi", stream=True))
    kinds = [e.type for e in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert "response.output_text.delta" in kinds
    completed = events[-1].response  # type: ignore[union-attr]
    assert completed.output_text == f"Hello from {chain(proxy)[0]}"

    tool_reply = c.responses.create(
        model="auto",
        input="What is the weather in Paris?",
        tools=[{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}],
    )
    assert tool_reply.output[0].type == "function_call"


def test_models_lists_auto_profiles_and_the_catalog(proxy: ProxyServer) -> None:
    ids = {m.id for m in client(proxy).models.list()}
    assert {"auto", "auto:cheapest", "auto:best", "auto:eco", "openai/gpt-5-mini"} <= ids
    assert not any(i.startswith("deepseek/") for i in ids)  # no key, not offered


def test_classify_decides_without_calling(proxy: ProxyServer, fake: FakeProviders) -> None:
    messages = [{"role": "user", "content": "Prove that sqrt(2) is irrational"}]
    response = httpx.post(
        f"{proxy.url}/v1/classify",
        json={"messages": messages},
        headers={"authorization": f"Bearer {PROXY_KEY}"},
    )
    assert response.status_code == 200
    body = response.json()
    expected = proxy.router.classify(messages)
    assert (body["decision"]["task"], body["decision"]["tier"]) == (
        expected.task.value,
        expected.tier.value,
    )
    assert body["route"]["candidates"][0] == body["route"]["model"]
    assert response.headers["x-tierrouter-task"] == expected.task.value
    assert fake.requests == []
