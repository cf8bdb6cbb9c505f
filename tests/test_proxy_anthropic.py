"""The Anthropic SDK (and so Claude Code's wire format) against ``tierrouter serve``."""

from __future__ import annotations

import anthropic
import httpx
from fake_providers import FakeProviders, Fault
from test_proxy_harness import (  # noqa: F401 -- fixtures
    HI,
    PROXY_KEY,
    ProxyServer,
    chain,
    proxy_fixture,
    proxy_session_fixture,
)

WEATHER = {
    "name": "get_weather",
    "description": "Current weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def client(server: ProxyServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.url, api_key=PROXY_KEY, max_retries=0)


def test_message_with_routing_headers(proxy: ProxyServer) -> None:
    raw = client(proxy).messages.with_raw_response.create(
        model="auto", max_tokens=100, messages=HI, system=[{"type": "text", "text": "Be brief."}]
    )
    message = raw.parse()
    assert message.content[0].type == "text"
    assert message.content[0].text == f"Hello from {chain(proxy)[0]}"
    assert message.stop_reason == "end_turn"
    assert message.usage.output_tokens > 0
    assert raw.headers["x-tierrouter-model"].endswith(chain(proxy)[0])
    assert raw.headers["x-tierrouter-decision-id"].startswith("rt-")


def test_streaming_events_in_anthropic_order(proxy: ProxyServer) -> None:
    events = list(
        client(proxy).messages.create(model="auto", max_tokens=100, messages=HI, stream=True)
    )
    kinds = [e.type for e in events]
    assert kinds[0] == "message_start"
    assert kinds[1] == "content_block_start"
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(kinds[2:-3]) == {"content_block_delta"}
    text = "".join(e.delta.text for e in events if e.type == "content_block_delta")  # type: ignore[union-attr]
    assert text == f"Hello from {chain(proxy)[0]}"
    delta = events[-2]
    assert delta.delta.stop_reason == "end_turn"  # type: ignore[union-attr]
    assert delta.tierrouter["model"].endswith(chain(proxy)[0])  # type: ignore[union-attr]


def test_tool_use_and_tool_result(proxy: ProxyServer, fake: FakeProviders) -> None:
    c = client(proxy)
    message = c.messages.create(
        model="auto",
        max_tokens=200,
        messages=HI,
        tools=[WEATHER],  # type: ignore[list-item]
    )
    block = message.content[0]
    assert block.type == "tool_use" and message.stop_reason == "tool_use"
    assert block.name == "get_weather" and block.input == {"city": "Paris"}

    with c.messages.stream(
        model="auto",
        max_tokens=200,
        messages=HI,
        tools=[WEATHER],  # type: ignore[list-item]
    ) as stream:
        final = stream.get_final_message()
    assert final.content[0].type == "tool_use"
    assert final.content[0].input == {"city": "Paris"}

    c.messages.create(
        model="openai/gpt-5-mini",
        max_tokens=200,
        tools=[WEATHER],  # type: ignore[list-item]
        messages=[
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "hm", "signature": "x"},
                    {
                        "type": "tool_use",
                        "id": "toolu_1",
                        "name": "get_weather",
                        "input": {"city": "Paris"},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C, sunny"},
                ],
            },
        ],
    )
    sent = fake.requests[-1].body["messages"]
    assert sent[1]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert sent[2] == {"role": "tool", "tool_call_id": "toolu_1", "content": "18C, sunny"}


def test_dated_claude_names_pin_to_anthropic(proxy: ProxyServer, fake: FakeProviders) -> None:
    raw = client(proxy).messages.with_raw_response.create(
        model="claude-haiku-4-5-20251001", max_tokens=50, messages=HI
    )
    assert raw.headers["x-tierrouter-model"] == "anthropic/claude-haiku-4-5-20251001"
    assert fake.requests[-1].api == "anthropic"


def test_streaming_failover_before_first_token(proxy: ProxyServer, fake: FakeProviders) -> None:
    first, second = chain(proxy)[:2]
    fake.fail(first, Fault(drop="before"))
    raw = client(proxy).messages.with_raw_response.create(
        model="auto", max_tokens=50, messages=HI, stream=True
    )
    assert raw.headers["x-tierrouter-attempts"] == "2"
    events = list(raw.parse())
    assert [e.type for e in events].count("message_start") == 1
    text = "".join(e.delta.text for e in events if e.type == "content_block_delta")  # type: ignore[union-attr]
    assert text == f"Hello from {second}"


def test_count_tokens(proxy: ProxyServer) -> None:
    count = client(proxy).messages.count_tokens(model="auto", messages=HI)
    assert count.input_tokens > 0


def test_models_list_in_anthropic_shape(proxy: ProxyServer) -> None:
    ids = [m.id for m in client(proxy).models.list()]
    assert "auto" in ids


def test_bad_requests_name_the_field(proxy: ProxyServer) -> None:
    response = httpx.post(
        f"{proxy.url}/v1/messages",
        json={"model": "auto", "max_tokens": 10, "messages": [{"role": "robot", "content": "x"}]},
        headers={"x-api-key": PROXY_KEY},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    assert body["error"]["message"].startswith("messages[0].role")
