"""Agent frameworks, unchanged but for base_url and api_key, against ``tierrouter serve``.

The OpenAI Agents SDK and LangChain build their own requests on the openai SDK (strict
tool schemas, the tool-result turn, forced tool choice, structured output) and parse the
replies their own way, so they reach parts of the wire formats the plain SDK tests
(test_proxy_openai.py, test_proxy_agents.py) do not; each runs routed (``auto``) and
pinned to Anthropic and Gemini, where the proxy translates both ways.

Both are test-only dependencies (the ``agents`` extra): without them this module skips;
with ``CI`` set it fails instead, because CI installs them.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import socket
from types import ModuleType
from typing import Any

import openai
import pytest
from fake_providers import FakeProviders
from pydantic import BaseModel
from test_proxy_harness import (  # noqa: F401 -- fixtures
    PROXY_KEY,
    ProxyServer,
    proxy_fixture,
    proxy_session_fixture,
)


def _framework(module: str, package: str) -> ModuleType:
    missing = f"{package} is not installed (pip install -e '.[agents]')"
    if not os.environ.get("CI"):
        return pytest.importorskip(module, reason=missing)
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError:
        pytest.fail(f"CI must run the framework tests: {missing}; .ci/run installs it")


agents = _framework("agents", "openai-agents")
langchain_openai = _framework("langchain_openai", "langchain-openai")

MODELS = ["auto", "anthropic/claude-haiku-4-5", "google/gemini-2.5-flash"]
CITY = {"city": "Oslo"}  # not the fake's default arguments: they must come from use_tool
FORECAST = "Oslo: 21 C and sunny"
ANSWER = "It is sunny in Oslo today."
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """A name lookup other than loopback fails at once: a framework reaching for the
    internet (trace export, tiktoken's encoding download) fails the test, not hangs it."""
    lookup = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in LOOPBACK:
            raise OSError(f"test tried to reach {name}: only loopback is allowed")
        return lookup(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    for variable in ("LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2"):
        monkeypatch.delenv(variable, raising=False)


def _answer(proxy: ProxyServer, fake: FakeProviders, text: str) -> None:
    """Whichever model the router picks answers ``text`` when it does not call a tool."""
    for spec in proxy.router.catalog:
        fake.reply(spec.api_model, text)


# ---- OpenAI Agents SDK ----------------------------------------------------------------------


async def _run_agent(
    url: str, api: str, model: str, streamed: bool
) -> tuple[Any, list[dict[str, Any]]]:
    """One agent run over ``api`` (chat or responses); returns the result and the tool's calls."""
    calls: list[dict[str, Any]] = []

    @agents.function_tool
    def get_weather(city: str) -> str:
        """Current weather in a city."""
        calls.append({"city": city})
        return FORECAST

    async with openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=PROXY_KEY, max_retries=0) as c:
        if api == "chat":
            llm: Any = agents.OpenAIChatCompletionsModel(model=model, openai_client=c)
        else:
            llm = agents.OpenAIResponsesModel(model=model, openai_client=c)
        agent = agents.Agent(
            name="forecaster",
            instructions="Answer with the weather tool.",
            tools=[get_weather],
            model=llm,
        )
        config = agents.RunConfig(tracing_disabled=True)  # traces would go to OpenAI
        question = "What is the weather in Oslo?"
        if not streamed:
            return await agents.Runner.run(agent, question, run_config=config), calls
        run = agents.Runner.run_streamed(agent, question, run_config=config)
        async for _ in run.stream_events():
            pass
        return run, calls


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("streamed", [False, True], ids=["run", "streamed"])
@pytest.mark.parametrize("api", ["chat", "responses"])
def test_an_agent_calls_its_tool_and_answers(
    proxy: ProxyServer, fake: FakeProviders, api: str, streamed: bool, model: str
) -> None:
    fake.use_tool("get_weather", CITY)
    _answer(proxy, fake, ANSWER)
    result, calls = asyncio.run(_run_agent(proxy.url, api, model, streamed))
    assert calls == [CITY]  # the SDK parsed the fake's call and ran the tool with its arguments
    assert result.final_output == ANSWER
    first, second = fake.requests
    assert first.stream == second.stream == streamed
    assert FORECAST not in json.dumps(first.body)
    assert FORECAST in json.dumps(second.body)  # the tool's result went back upstream


# ---- LangChain --------------------------------------------------------------------------------


class Weather(BaseModel):
    city: str
    celsius: int


def _chat(proxy: ProxyServer, model: str) -> Any:
    return langchain_openai.ChatOpenAI(
        base_url=f"{proxy.url}/v1",
        api_key=PROXY_KEY,
        model=model,
        max_retries=0,
        timeout=10,
        include_response_headers=True,  # the routing facts, in response_metadata["headers"]
        stream_usage=True,  # off by default for a base_url other than OpenAI's
    )


@pytest.mark.parametrize("model", MODELS)
def test_langchain_tool_call_round_trip(
    proxy: ProxyServer, fake: FakeProviders, model: str
) -> None:
    from langchain_core.messages import HumanMessage, ToolMessage
    from langchain_core.tools import tool

    @tool
    def get_weather(city: str) -> str:
        """Current weather in a city."""
        return FORECAST

    fake.use_tool("get_weather", CITY)
    _answer(proxy, fake, ANSWER)
    llm = _chat(proxy, model).bind_tools([get_weather])
    question = HumanMessage("What is the weather in Oslo?")
    asked = llm.invoke([question])
    assert [(c["name"], c["args"]) for c in asked.tool_calls] == [("get_weather", CITY)]
    served = asked.response_metadata["headers"]["x-tierrouter-model"]
    assert served.endswith(f"/{fake.requests[0].model}")
    call = asked.tool_calls[0]
    result = ToolMessage(get_weather.invoke(call["args"]), tool_call_id=call["id"])
    answer = llm.invoke([question, asked, result])
    assert answer.content == ANSWER and not answer.tool_calls
    assert FORECAST in json.dumps(fake.requests[-1].body)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
def test_langchain_structured_output(
    proxy: ProxyServer, fake: FakeProviders, method: str, model: str
) -> None:
    wanted = {"city": "Oslo", "celsius": 21}
    fake.use_tool("Weather", wanted)  # function calling: a forced tool named after the class
    _answer(proxy, fake, json.dumps(wanted))  # json_schema: the reply's text is the object
    parsed = _chat(proxy, model).with_structured_output(Weather, method=method).invoke("Oslo?")
    assert parsed == Weather(**wanted)
    assert "celsius" in json.dumps(fake.requests[-1].body)  # the schema reached the model


@pytest.mark.parametrize("model", MODELS)
def test_langchain_stream(proxy: ProxyServer, fake: FakeProviders, model: str) -> None:
    _answer(proxy, fake, ANSWER)
    chunks = list(_chat(proxy, model).stream("hi"))
    assert fake.requests[-1].stream
    assert len([c for c in chunks if c.content]) > 1  # piece by piece, not one block
    assert "".join(str(c.content) for c in chunks) == ANSWER
    # stream_usage: the provider's token counts come back on the stream (a token a word here)
    usage = [c.usage_metadata for c in chunks if c.usage_metadata]
    assert [u["output_tokens"] for u in usage] == [len(ANSWER.split())]
