"""Provider adapters: SSE framing, request translation, and each wire format against the server."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fake_providers import FakeProviders, Fault
from hypothesis import given
from hypothesis import strategies as st

from router import APIError, Router
from router.providers import AnthropicAdapter, ChatRequest, Endpoint, GeminiAdapter, OpenAIAdapter
from router.providers.base import ProviderError, error_from_status, send
from router.providers.sse import SSEParser
from router.secrets import Secret

MakeRouter = Callable[..., Router]
PINS = {"openai": "oa/fast-1", "anthropic": "an/claude-x", "gemini": "gg/gem-x"}
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]
IMAGE = "data:image/png;base64,iVBORw0KGgo="


# ---- SSE --------------------------------------------------------------------------


def _parse(chunks: list[bytes]) -> list[tuple[str, str]]:
    parser = SSEParser()
    events = [e for c in chunks for e in parser.feed(c)] + parser.close()
    return [(e.event, e.data) for e in events]


def test_sse_framing_variants() -> None:
    raw = (
        b': keep-alive\n\nevent: message_start\ndata: {"a": 1}\n\n'
        b"data: line one\ndata: line two\r\n\r\n"
        b"data:no-space\r\rdata: last"
    )
    expected = [
        ("message_start", '{"a": 1}'),
        ("message", "line one\nline two"),
        ("message", "no-space"),
        ("message", "last"),
    ]
    assert _parse([raw]) == expected


@given(st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=40))
def test_sse_is_independent_of_chunk_boundaries(cuts: list[int]) -> None:
    raw = "event: e\r\ndata: héllo 世界\r\n\r\ndata: [DONE]\n\n".encode()
    chunks, pos = [], 0
    for cut in cuts:
        chunks.append(raw[pos : pos + cut])
        pos += cut
    chunks.append(raw[pos:])
    assert _parse(chunks) == [("e", "héllo 世界"), ("message", "[DONE]")]


# ---- request translation ------------------------------------------------------------

ENDPOINT = Endpoint("p", "https://example.invalid", Secret("sk-xyz-0123456789"), "P_KEY")
CONVERSATION: list[dict[str, Any]] = [
    {"role": "system", "content": "Be brief."},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": IMAGE}},
        ],
    },
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 21}'},
]


def test_openai_request_passes_everything_through() -> None:
    params = {"tools": TOOLS, "response_format": {"type": "json_object"}, "temperature": 0}
    call = OpenAIAdapter().build(ENDPOINT, "m", ChatRequest(CONVERSATION, params), stream=True)
    assert call.url == "https://example.invalid/chat/completions"
    assert call.headers["Authorization"] == "Bearer sk-xyz-0123456789"
    assert call.body["messages"] == CONVERSATION
    assert call.body["tools"] == TOOLS and call.body["response_format"] == {"type": "json_object"}
    assert call.body["stream"] is True and call.body["stream_options"] == {"include_usage": True}


def test_anthropic_request_translation() -> None:
    params = {
        "tools": TOOLS,
        "tool_choice": "required",
        "stop": "END",
        "max_tokens": 100,
        "response_format": {"type": "json_object"},
    }
    call = AnthropicAdapter().build(
        ENDPOINT, "claude", ChatRequest(CONVERSATION, params), stream=False
    )
    body = call.body
    assert call.url == "https://example.invalid/v1/messages"
    assert call.headers["x-api-key"] == "sk-xyz-0123456789"
    assert call.headers["anthropic-version"] == "2023-06-01"
    assert body["system"].startswith("Be brief.") and "JSON" in body["system"]
    assert body["max_tokens"] == 100 and body["stop_sequences"] == ["END"]
    assert body["tools"] == [
        {
            "name": "get_weather",
            "description": "Weather for a city",
            "input_schema": TOOLS[0]["function"]["parameters"],
        }
    ]
    assert body["tool_choice"] == {"type": "any"}
    user, assistant, tool = body["messages"]
    assert user["content"][1] == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
    }
    assert assistant["content"] == [
        {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}}
    ]
    assert tool == {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": '{"temp": 21}'}],
    }


@pytest.mark.parametrize(
    ("tool_choice", "expected"),
    [
        (None, {"type": "auto", "disable_parallel_tool_use": True}),
        ("required", {"type": "any", "disable_parallel_tool_use": True}),
        (
            {"type": "function", "function": {"name": "get_weather"}},
            {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True},
        ),
        ("none", {"type": "none"}),  # no tool call at all: nothing to serialise
    ],
)
def test_anthropic_one_tool_call_at_a_time(tool_choice: object, expected: object) -> None:
    # OpenAI's parallel_tool_calls=false (LangChain's function-calling structured output
    # sends it) is Anthropic's disable_parallel_tool_use on tool_choice.
    params = {"tools": TOOLS, "parallel_tool_calls": False, "tool_choice": tool_choice}
    call = AnthropicAdapter().build(
        ENDPOINT, "claude", ChatRequest(CONVERSATION, params), stream=False
    )
    assert call.body["tool_choice"] == expected
    default = AnthropicAdapter().build(
        ENDPOINT, "claude", ChatRequest(CONVERSATION, {"tools": TOOLS}), stream=False
    )
    assert "tool_choice" not in default.body


def test_gemini_request_translation() -> None:
    params = {
        "tools": TOOLS,
        "max_tokens": 50,
        "temperature": 0.2,
        "response_format": {"type": "json_schema", "json_schema": {"schema": {"type": "object"}}},
    }
    call = GeminiAdapter().build(
        ENDPOINT, "gemini-2.5-flash", ChatRequest(CONVERSATION, params), stream=True
    )
    body = call.body
    assert call.url.endswith("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse")
    assert call.headers["x-goog-api-key"] == "sk-xyz-0123456789"
    assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert body["generationConfig"] == {
        "temperature": 0.2,
        "maxOutputTokens": 50,
        "responseMimeType": "application/json",
        "responseJsonSchema": {"type": "object"},
    }
    user, model, tool = body["contents"]
    assert user["parts"][1] == {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}
    assert model == {
        "role": "model",
        "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}],
    }
    assert tool["parts"] == [
        {"functionResponse": {"name": "get_weather", "response": {"temp": 21}}}
    ]
    assert body["tools"][0]["functionDeclarations"][0]["name"] == "get_weather"


# ---- error mapping ---------------------------------------------------------------------


def test_error_mapping_redacts_keys_and_reads_retry_after() -> None:
    body = json.dumps({"error": {"message": "Incorrect API key provided: sk-xyz-0123456789"}})
    err = error_from_status(401, body.encode(), ENDPOINT, {"retry-after": "2"})
    assert err.kind == "authentication" and not err.retryable and err.retry_after == 2
    assert "0123456789" not in err.message and "set P_KEY" in err.message
    err = error_from_status(429, b"{}", ENDPOINT, {"retry-after-ms": "1500"})
    assert err.retryable and err.retry_after == 1.5
    assert error_from_status(503, b"oops", ENDPOINT, {}).retryable


def test_mock_transport_unexpected_shape_is_a_bad_response() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"unexpected": True})

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            with pytest.raises(ProviderError) as info:
                await send(client, OpenAIAdapter(), ENDPOINT, "m", ChatRequest([]), timeout=1)
            assert info.value.kind == "bad_response" and info.value.retryable

    asyncio.run(main())


# ---- against the local server --------------------------------------------------------------


@pytest.mark.parametrize("api", ["openai", "anthropic", "gemini"])
def test_text_reply_and_usage(fake: FakeProviders, make_router: MakeRouter, api: str) -> None:
    router = make_router()
    reply = router.chat("Say hello", model=PINS[api], max_tokens=20)
    name = PINS[api].split("/")[1]
    assert reply.content == f"Hello from {name}"
    assert reply.choices[0]["finish_reason"] == "stop"
    assert reply.usage and reply.usage["completion_tokens"] == 3
    assert reply.usage["total_tokens"] == reply.usage["prompt_tokens"] + 3
    assert reply.cost is not None and reply.cost > 0
    assert reply.model_used == PINS[api] and reply.provider == PINS[api].split("/")[0]
    assert reply.to_dict()["object"] == "chat.completion"


@pytest.mark.parametrize("api", ["openai", "anthropic", "gemini"])
def test_stream_text_chunks(fake: FakeProviders, make_router: MakeRouter, api: str) -> None:
    with make_router().chat_stream("Say hello", model=PINS[api]) as stream:
        chunks = list(stream)
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == f"Hello from {PINS[api].split('/')[1]}"
    finishes = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    assert finishes[-1] == "stop"
    assert stream.usage and stream.usage["completion_tokens"] == 3
    assert stream.cost is not None


@pytest.mark.parametrize("api", ["openai", "anthropic", "gemini"])
def test_tool_calls_round_trip(fake: FakeProviders, make_router: MakeRouter, api: str) -> None:
    router = make_router()
    reply = router.chat("Weather in Paris?", model=PINS[api], tools=TOOLS)
    calls = reply.message["tool_calls"]
    assert reply.choices[0]["finish_reason"] == "tool_calls"
    assert calls[0]["function"]["name"] == "get_weather"
    assert json.loads(calls[0]["function"]["arguments"]) == {"city": "Paris"}
    with router.chat_stream("Weather in Paris?", model=PINS[api], tools=TOOLS) as stream:
        deltas = [c["choices"][0]["delta"] for c in stream if c["choices"]]
    parts = [tc for d in deltas for tc in d.get("tool_calls") or ()]
    assert parts[0]["function"]["name"] == "get_weather" and parts[0]["id"]
    args = "".join(tc["function"].get("arguments", "") for tc in parts)
    assert json.loads(args) == {"city": "Paris"}


@pytest.mark.parametrize("api", ["openai", "anthropic", "gemini"])
def test_wire_requests_carry_native_fields(
    fake: FakeProviders, make_router: MakeRouter, api: str
) -> None:
    make_router().chat(CONVERSATION[:2], model=PINS[api])
    request = fake.requests[-1]
    if api == "openai":
        assert request.headers["authorization"].startswith("Bearer sk-test-OPENAI")
        assert request.body["messages"][1]["content"][1]["type"] == "image_url"
    elif api == "anthropic":
        assert request.headers["x-api-key"].startswith("sk-ant-test")
        assert request.body["system"] == "Be brief."
        assert request.body["messages"][0]["content"][1]["type"] == "image"
    else:
        assert request.headers["x-goog-api-key"].startswith("AIzaTEST")
        assert "inlineData" in request.body["contents"][0]["parts"][1]


def test_gemini_rejected_key_is_named_without_echo(
    fake: FakeProviders, make_router: MakeRouter
) -> None:
    router = make_router(keys={"gg": "bad-AIza-SECRET-987654321"})
    with pytest.raises(APIError) as info:
        router.chat("hi", model="gg/gem-x")
    assert info.value.provider == "gg" and info.value.status == 400
    assert "API key not valid" in info.value.message
    assert "SECRET" not in str(info.value)


def test_missing_key_names_the_provider_and_env_var(make_router: MakeRouter) -> None:
    router = make_router(keys={"oa": "sk-test-OPENAI-0123456789abcdef"})
    with pytest.raises(APIError) as info:
        router.chat("hi", model="an/claude-x")
    assert info.value.type == "authentication"
    assert "no API key for provider 'an'" in info.value.message and "AN_KEY" in info.value.message


def test_provider_stream_error_is_retryable(fake: FakeProviders) -> None:
    async def events() -> Any:
        from router.providers.sse import SSEEvent

        data = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        yield SSEEvent("error", json.dumps(data))

    async def main() -> None:
        with pytest.raises(ProviderError) as info:
            async for _ in AnthropicAdapter().translate_stream(events(), "m"):
                pass
        assert info.value.retryable and info.value.kind == "overloaded"

    asyncio.run(main())


def test_failed_server_reply_is_mapped(fake: FakeProviders, make_router: MakeRouter) -> None:
    fake.fail("gem-x", Fault(status=404))
    with pytest.raises(APIError) as info:
        make_router().chat("hi", model="gg/gem-x")
    assert info.value.type == "not_found" and "base_url" in info.value.message


def test_made_up_ids_are_random_hex_of_the_asked_length() -> None:
    from router._ids import random_hex
    from router.providers.base import new_id

    ids = {random_hex(16) for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 16 and int(i, 16) >= 0 for i in ids)
    assert len(random_hex(7)) == 7
    assert new_id().startswith("chatcmpl-") and len(new_id()) == len("chatcmpl-") + 24


@pytest.mark.parametrize(
    "echo",
    [
        "key K3y-Abc_0123456789xyz rejected",
        "KEY K3Y-ABC_0123456789XYZ REJECTED",
        "key k3y-abc_0123456789xyz rejected",
        "see https://x.test/?key=K3y-Abc_0123456789xyz%2B",
    ],
    ids=["as-is", "upper", "lower", "url"],
)
def test_an_echoed_key_is_masked_in_any_case_and_encoding(echo: str) -> None:
    from router.secrets import Secret

    endpoint = dataclasses.replace(ENDPOINT, key=Secret("K3y-Abc_0123456789xyz"))
    err = error_from_status(400, json.dumps({"error": {"message": echo}}).encode(), endpoint, {})
    assert "0123456789" not in err.message.lower()


def test_credentials_in_a_base_url_are_refused_without_echoing_them() -> None:
    from router.errors import ConfigError

    router = Router(model=False, providers={"openai": {"base_url": "http://user:s3cr3t@h/v1"}})
    with pytest.raises(ConfigError) as caught:
        router.catalog  # noqa: B018 -- the catalog is built on first use
    assert "base_url" in str(caught.value) and "s3cr3t" not in str(caught.value)
