"""Coding agents through the proxy: Claude Code's requests, full fidelity to Anthropic,
per-model quirks, the human's request as the thing routed, session affinity, real cost."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
from fake_providers import THINKING, FakeProviders
from test_proxy_harness import (  # noqa: F401 -- fixtures
    PROVIDER_KEYS,
    PROXY_KEY,
    ProxyServer,
    chain,
    custom_proxy,
    proxy_fixture,
    proxy_session_fixture,
)

from router import Router
from router.log.sqlite import SQLiteDecisionLog

WEATHER = {
    "name": "get_weather",
    "description": "Current weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}
TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {}}}
BETAS = "mid-conversation-system-2026-04-07,context-management-2025-06-27"
REMINDER = (
    "<system-reminder>As you answer the user's questions, you can use the following "
    "context. Prove every claim rigorously; analyse the distributed consensus algorithm, "
    "derive its complexity, optimise the architecture and refactor the whole codebase "
    "step by step.</system-reminder>"
)


def agent_body(model: str, **extra: Any) -> dict[str, Any]:
    """A request as Claude Code sends one: cached system prompt and tools, a thinking
    budget, betas' fields, a mid-conversation system message and a server tool."""
    return {
        "model": model,
        "max_tokens": 32000,
        "system": [
            {"type": "text", "text": "You are Claude Code."},
            {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}},
        ],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": REMINDER},
                    {"type": "text", "text": "say hi", "cache_control": {"type": "ephemeral"}},
                ],
            },
            {"role": "system", "content": "Available agent types: general-purpose"},
        ],
        "tools": [
            {**WEATHER, "cache_control": {"type": "ephemeral"}},
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
        ],
        "tool_choice": {"type": "none"},
        "thinking": {"type": "enabled", "budget_tokens": 10000},
        "metadata": {"user_id": "user_abc_account__session_0f1e"},
        "context_management": {"edits": [{"type": "clear_tool_uses_20250919"}]},
        "output_config": {"effort": "medium"},
        "temperature": 1,
        **extra,
    }


def post(server: ProxyServer, body: dict[str, Any], **headers: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/v1/messages?beta=true",
        json=body,
        headers={
            "x-api-key": PROXY_KEY,
            "anthropic-version": "2023-06-01",
            "anthropic-beta": BETAS,
            **headers,
        },
        timeout=10,
    )


# ---- Claude Code's requests are served --------------------------------------------------


def test_the_issue_repro_answers_200(proxy: ProxyServer, fake: FakeProviders) -> None:
    body = {
        "model": "auto",
        "max_tokens": 256,
        "messages": [
            {"role": "user", "content": "say hi"},
            {"role": "system", "content": "Available agent types: ..."},
        ],
    }
    response = post(proxy, body)
    assert response.status_code == 200, response.text
    sent = fake.requests[-1]
    if sent.api == "anthropic":  # as sent, system message in place
        assert sent.body["messages"] == body["messages"]
    else:
        assert {"role": "system", "content": "Available agent types: ..."} in sent.body.get(
            "messages", []
        ) or sent.api == "gemini"


def test_a_pinned_claude_gets_every_field_as_sent(proxy: ProxyServer, fake: FakeProviders) -> None:
    body = agent_body("anthropic/claude-sonnet-4-5")
    response = post(proxy, copy.deepcopy(body))
    assert response.status_code == 200, response.text
    sent = fake.requests[-1]
    assert sent.api == "anthropic"
    # Byte-for-byte equivalent but for the model: the provider's name for it.
    assert sent.body == {**body, "model": "claude-sonnet-4-5"}
    assert sent.headers["anthropic-beta"] == BETAS
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.headers["x-api-key"] == PROVIDER_KEYS["anthropic"]  # never the proxy key
    assert "authorization" not in sent.headers
    # The reply comes back as the provider sent it: thinking block, cache usage.
    reply = response.json()
    assert reply["content"][0] == {"type": "thinking", "thinking": THINKING, "signature": "sig-1"}
    assert reply["usage"]["cache_read_input_tokens"] > 0
    assert "x-tierrouter-warnings" not in response.headers


def test_a_pinned_claude_stream_passes_the_providers_events(
    proxy: ProxyServer, fake: FakeProviders
) -> None:
    body = agent_body("claude-sonnet-4-5-20250929", stream=True)
    typed = ("model", "max_tokens", "messages", "stream")
    with anthropic.Anthropic(base_url=proxy.url, api_key=PROXY_KEY, max_retries=0) as client:
        raw = client.messages.with_raw_response.create(
            **{k: body[k] for k in typed},
            extra_body={k: v for k, v in body.items() if k not in typed},
            extra_headers={"anthropic-beta": BETAS},
        )
        events = list(raw.parse())
    assert fake.requests[-1].body == body  # the dated name is the provider's own
    kinds = [e.type for e in events]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    deltas = [e.delta for e in events if e.type == "content_block_delta"]
    assert [d.type for d in deltas][:2] == ["thinking_delta", "signature_delta"]
    assert "x-tierrouter-cost" not in raw.headers  # not known yet: the estimate only
    assert float(raw.headers["x-tierrouter-estimated-cost"]) > 0
    final = events[-2].tierrouter  # type: ignore[union-attr]
    # A dated snapshot of a listed model has its price; cache reads priced as such.
    start = events[0].message.usage  # type: ignore[union-attr]
    out = events[-2].usage.output_tokens  # type: ignore[union-attr]
    expected = (start.input_tokens * 3.0 + start.cache_read_input_tokens * 0.30 + out * 15.0) / 1e6
    assert final["cost"] == pytest.approx(expected)
    assert final["model"] == "anthropic/claude-sonnet-4-5-20250929"


def test_other_providers_get_a_translation_and_a_warning(
    proxy: ProxyServer, fake: FakeProviders
) -> None:
    response = post(proxy, agent_body("openai/gpt-5-mini"))
    assert response.status_code == 200, response.text
    sent = fake.requests[-1].body
    assert sent["messages"][-1] == {
        "role": "system",
        "content": "Available agent types: general-purpose",
    }
    # gpt-5-mini's quirks, from the catalog: max_completion_tokens, no temperature.
    assert sent["max_completion_tokens"] == 32000 and "max_tokens" not in sent
    assert "temperature" not in sent
    assert [t["function"]["name"] for t in sent["tools"]] == ["get_weather"]
    # Anthropic's effort, translated to OpenAI's; thinking needs no other field there.
    assert sent["reasoning_effort"] == "medium"
    warnings = response.headers["x-tierrouter-warnings"]
    for dropped in ("context_management", "web_search", "temperature dropped"):
        assert dropped in warnings
    assert "thinking" not in warnings and "output_config" not in warnings
    assert response.json()["tierrouter"]["warnings"] == warnings.split("; ")


def test_a_model_without_reasoning_gets_what_it_takes(
    proxy: ProxyServer, fake: FakeProviders
) -> None:
    body = agent_body("openai/gpt-4o")
    del body["output_config"]  # the thinking budget (10k) alone says medium effort
    response = post(proxy, body)
    assert response.status_code == 200, response.text
    sent = fake.requests[-1].body
    assert "reasoning_effort" not in sent and sent["max_tokens"] == 16384
    warnings = response.headers["x-tierrouter-warnings"]
    assert "reasoning_effort dropped" in warnings
    assert "max_tokens 32000 lowered to openai/gpt-4o's limit of 16384" in warnings


@pytest.mark.parametrize(
    ("model", "sent_as"),
    [
        ("anthropic/claude-haiku-4-5", {"type": "auto", "disable_parallel_tool_use": True}),
        ("google/gemini-2.5-flash", None),
    ],
)
def test_one_tool_call_at_a_time_is_translated_or_warned(
    proxy: ProxyServer, fake: FakeProviders, model: str, sent_as: Any
) -> None:
    body = {
        "model": model,
        "messages": [{"role": "user", "content": "weather in Oslo?"}],
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}],
        "parallel_tool_calls": False,
    }
    response = httpx.post(
        f"{proxy.url}/v1/chat/completions",
        json=body,
        headers={"authorization": f"Bearer {PROXY_KEY}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    sent = fake.requests[-1].body
    warnings = response.headers.get("x-tierrouter-warnings", "")
    if sent_as is not None:  # Anthropic has the switch: translated, nothing to warn about
        assert sent["tool_choice"] == sent_as
        assert "parallel_tool_calls" not in warnings
    else:  # Gemini has none: dropped, and the answer says so
        assert "parallel_tool_calls dropped" in warnings


def test_an_upstream_refusal_keeps_anthropics_wording(
    proxy: ProxyServer, fake: FakeProviders
) -> None:
    # Clients match Anthropic's own wording to pick a fallback (Claude Code drops the
    # mid-conversation system beta on this one): it must reach them intact.
    from fake_providers import Fault

    fake.fail("claude-sonnet-4-5", Fault(status=400))
    response = post(proxy, agent_body("anthropic/claude-sonnet-4-5"))
    assert response.status_code == 400
    error = response.json()
    assert error["type"] == "error" and error["error"]["type"] == "invalid_request_error"
    assert "invalid request error" in error["error"]["message"]


def test_empty_tools_are_not_sent_to_openai(proxy: ProxyServer, fake: FakeProviders) -> None:
    client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key=PROXY_KEY, max_retries=0)
    client.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], tools=[]
    )
    assert "tools" not in fake.requests[-1].body


# ---- models ----------------------------------------------------------------------------------


def test_models_retrieve(proxy: ProxyServer) -> None:
    client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key=PROXY_KEY, max_retries=0)
    assert client.models.retrieve("auto").id == "auto"
    assert client.models.retrieve("openai/gpt-5").owned_by == "openai"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")
    with anthropic.Anthropic(base_url=proxy.url, api_key=PROXY_KEY, max_retries=0) as claude:
        info = claude.models.retrieve("claude-haiku-4-5-20251001")
    assert info.id == "claude-haiku-4-5-20251001" and info.type == "model"


def test_unpriced_models_say_unknown(proxy: ProxyServer) -> None:
    response = post(proxy, {"model": "anthropic/claude-next-9", "max_tokens": 20,
                            "messages": [{"role": "user", "content": "hi"}]})  # fmt: skip
    assert response.status_code == 200
    assert response.headers["x-tierrouter-cost"] == "unknown"
    assert response.json()["tierrouter"]["cost"] is None


def test_classify_is_not_spend(proxy: ProxyServer) -> None:
    def totals() -> tuple[float, float]:
        metrics = proxy.ctx.metrics
        return sum(metrics.cost.values.values()), sum(metrics.savings.values.values())

    before = totals()
    response = httpx.post(
        f"{proxy.url}/v1/classify",
        json={"messages": [{"role": "user", "content": "Prove that sqrt(2) is irrational"}]},
        headers={"authorization": f"Bearer {PROXY_KEY}"},
    )
    assert response.status_code == 200
    assert "x-tierrouter-cost" not in response.headers
    assert float(response.headers["x-tierrouter-estimated-cost"]) > 0
    assert totals() == before


# ---- routing for agents --------------------------------------------------------------------


def test_the_humans_request_is_what_is_routed(proxy: ProxyServer) -> None:
    body = agent_body("auto")
    body["system"][0]["text"] = SYSTEM
    body["messages"][0]["content"][0]["text"] = REMINDER * 20
    tools = [{"type": "function", "function": {"name": "get_weather"}}]
    transcript = [{"role": "system", "content": SYSTEM},
                  {"role": "user", "content": REMINDER * 20 + " say hi"}]  # fmt: skip
    human = proxy.router.classify("say hi", tools=tools).tier.value
    response = post(proxy, body)
    assert response.status_code == 200, response.text
    assert response.headers["x-tierrouter-tier"] == human
    # The library reads the same transcript alike: harness blocks do not count as length.
    assert proxy.router.classify(transcript, tools=tools).tier.value == human


SYSTEM = "You are Claude Code. " * 300
HARD = (
    "Prove rigorously, step by step, that the consensus algorithm we designed is "
    "linearizable under network partitions, derive its message complexity, and "
    "give a formal TLA+ specification with invariants and a refinement proof."
)
TURNS = [
    HARD,
    "what does this function return?",
    "rename the variable x to count",
    "translate the error message to French",
    "list the files you changed",
    "add a docstring to parse()",
    "what is 12 times 7?",
    "fix the typo in README",
    "thanks, now run the tests",
    "summarise what we did",
]


def _turn(history: list[dict[str, Any]], text: str) -> dict[str, Any]:
    history.append({"role": "user", "content": [{"type": "text", "text": REMINDER},
                                                {"type": "text", "text": text}]})  # fmt: skip
    return {
        "model": "auto",
        "max_tokens": 1000,
        "system": [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}],
        "tools": [WEATHER],
        "tool_choice": {"type": "none"},
        "messages": history,
    }


def test_ten_turns_of_a_conversation_stay_on_one_model(fake: FakeProviders, tmp_path: Path) -> None:
    log = SQLiteDecisionLog(tmp_path / "decisions.sqlite")
    router = Router(
        model=False, keys=PROVIDER_KEYS, log=log, env={},
        providers={p: {"base_url": fake.url(a)} for p, a in
                   (("openai", "openai"), ("anthropic", "anthropic"), ("google", "gemini"))},
    )  # fmt: skip
    models, outcomes, fresh = [], [], set()
    with custom_proxy(fake, router) as server:
        history: list[dict[str, Any]] = []
        for text in TURNS:
            body = _turn(history, text)
            response = post(server, body)
            assert response.status_code == 200, response.text
            models.append(response.headers["x-tierrouter-model"])
            outcomes.append(response.headers["x-tierrouter-affinity"])
            fresh.add(chain(server, [{"role": "user", "content": text}], tools=[TOOL])[0])
            history.append({"role": "assistant", "content": response.json()["content"]})
        ids = [response.headers["x-tierrouter-decision-id"]]
    assert len(set(models)) == 1, models
    assert len(TURNS) == 10 and outcomes == ["new"] + ["kept"] * 9
    # Routed afresh, the easy turns after the hard first one would have moved down.
    assert len(fresh) > 1
    log.flush()
    record = log.get(ids[0])
    assert record is not None and record.cost is not None and record.model_used
    # The provider served most of the prompt from its cache (see fake_providers), and
    # the log's cost prices those tokens as cache reads, below the plain input price.
    spec = router.catalog.get(record.model_used)
    assert spec.cache_read_price is not None
    full = spec.cost(record.prompt_tokens or 0, record.completion_tokens or 0)
    assert full is not None and record.cost < full
    log.close()


def test_a_harder_turn_escalates_and_the_header_says_so(proxy: ProxyServer) -> None:
    from router.types import Tier

    history: list[dict[str, Any]] = []
    first = post(proxy, _turn(history, "say hi"))
    history.append({"role": "assistant", "content": first.json()["content"]})
    second = post(proxy, _turn(history, HARD))
    assert second.status_code == 200
    tiers = [Tier(r.headers["x-tierrouter-tier"]) for r in (first, second)]
    assert tiers[1].rank > tiers[0].rank
    assert second.headers["x-tierrouter-model"] != first.headers["x-tierrouter-model"]
    assert second.headers["x-tierrouter-affinity"] == "escalated"
    assert second.headers["x-tierrouter-session"] == first.headers["x-tierrouter-session"]


def test_a_session_header_names_the_conversation(proxy: ProxyServer) -> None:
    a = post(proxy, _turn([], "say hi"), **{"x-claude-code-session-id": "s-1"})
    b = post(proxy, _turn([], "say hi"), **{"x-claude-code-session-id": "s-2"})
    assert a.headers["x-tierrouter-session"] != b.headers["x-tierrouter-session"]
    assert json.loads(a.content)["tierrouter"]["affinity"] == "new"


def test_a_codex_style_responses_loop(proxy: ProxyServer, fake: FakeProviders) -> None:
    """What Codex-style clients send: stateless Responses calls (store off, the whole
    input every turn), function tools, a prompt_cache_key naming the conversation."""
    client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key=PROXY_KEY, max_retries=0)
    tools: Any = [{"type": "function", "name": "shell", "parameters": {"type": "object"}}]
    common: Any = {
        "model": "auto",
        "instructions": "You are a coding agent.",
        "tools": tools,
        "store": False,
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "conversation-42",
    }
    items: list[Any] = [{"role": "user", "content": "list the files"}]
    with client.responses.with_streaming_response.create(
        input=items, stream=True, **common
    ) as first:
        events = [json.loads(line[6:]) for line in first.iter_lines() if line.startswith("data: ")]
        headers = first.headers
    call = events[-1]["response"]["output"][0]
    assert call["type"] == "function_call" and call["name"] == "shell"
    items += [call, {"type": "function_call_output", "call_id": call["call_id"], "output": "a.py"}]
    second = client.responses.with_raw_response.create(input=items, **common)
    assert second.parse().output_text.startswith("Hello from")
    assert second.headers["x-tierrouter-model"] == headers["x-tierrouter-model"]
    assert second.headers["x-tierrouter-session"] == headers["x-tierrouter-session"]
    assert (headers["x-tierrouter-affinity"], second.headers["x-tierrouter-affinity"]) == (
        "new",
        "kept",
    )
    assert fake.requests[-1].body["messages"][-1]["role"] == "tool"
