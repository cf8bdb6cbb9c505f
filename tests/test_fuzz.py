"""Fuzzing what users and clients hand over: only the documented errors may come out.

The library's inputs (prompts, messages, content parts, tools, response
formats, config mappings) may raise ``RouterInputError`` or ``ConfigError``
and nothing else; the proxy's JSON endpoints answer every body with a status
below 500 and a JSON error body, over a real socket, without dropping the
connection.

The suite runs a short profile by default (about 20 s). A long run:

    TIERROUTER_FUZZ_EXAMPLES=20000 python -m pytest -m fuzz -p no:cacheprovider

(each of the tests below then draws that many cases; seven tests make a
100k-case run at about 15,000).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_proxy_harness import PROXY_KEY, ProxyServer, proxy_fixture, proxy_session_fixture

from router import Router
from router.config import config_from_mapping
from router.errors import ConfigError, RouterInputError
from router.log.store import DecisionLogError

_ = (proxy_fixture, proxy_session_fixture)  # fixtures used by name
pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("TIERROUTER_FUZZ_EXAMPLES", "120"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 1000,  # the CI profile replays the same cases every run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Text with the characters that break things: controls, surrogates' neighbours,
# CJK, RTL marks, NUL, and the harness tags the router strips.
_TEXT = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x3000), max_size=200),
    st.sampled_from(
        ["", " ", "\x00", "\r\n", "<system-reminder>x</system-reminder>", "用Python写"]
    ),
)
_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    _TEXT,
)
_JSONISH = st.recursive(
    _SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(_TEXT, st.sampled_from(["type", "text", "role"])), inner, max_size=4
        ),
    ),
    max_leaves=12,
)
_PART = st.one_of(
    _JSONISH,
    st.fixed_dictionaries(
        {
            "type": st.one_of(
                st.sampled_from(["text", "image_url", "input_audio", "tool_result"]), _JSONISH
            )
        },
        optional={"text": _JSONISH, "image_url": _JSONISH},
    ),
)
_MESSAGE = st.one_of(
    _JSONISH,
    st.fixed_dictionaries(
        {
            "role": st.one_of(
                st.sampled_from(["user", "assistant", "system", "tool", "developer"]), _JSONISH
            )
        },
        optional={"content": st.one_of(_TEXT, st.lists(_PART, max_size=4), _JSONISH)},
    ),
)
_PROMPT = st.one_of(_TEXT, st.lists(_MESSAGE, max_size=5), _JSONISH)


@pytest.fixture(scope="module")
def routers() -> list[Router]:
    return [Router(model=False), Router()]


@FUZZ
@given(value=_PROMPT, tools=_JSONISH, response_format=_JSONISH)
def test_classify_raises_only_router_input_error(
    routers: list[Router], value: Any, tools: Any, response_format: Any
) -> None:
    for router in routers:
        try:
            decision = router.classify(value, tools=tools, response_format=response_format)
        except RouterInputError:
            continue
        assert 0.0 <= decision.score <= 1.0
        assert json.dumps(decision.to_dict())  # every decision serialises


_CONFIG_KEYS = st.sampled_from(
    ["profile", "strategy", "timeout", "fallback", "providers", "models", "keys", "log", "l2",
     "rules", "exclude_models", "max_candidates", "context_margin", "baseline_model", "bogus"]
)  # fmt: skip


@FUZZ
@given(data=st.dictionaries(_CONFIG_KEYS, _JSONISH, max_size=5))
def test_config_mappings_raise_only_config_error(
    data: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A drawn `log: <text>` opens a SQLite file there: in a temp dir, not the clone.
    monkeypatch.chdir(tmp_path)
    try:
        config = config_from_mapping(data)
    except ConfigError:
        return
    try:
        router = Router.from_settings(config.replace(model=False))
        router.catalog  # noqa: B018 -- built lazily: its errors count too
    except (ConfigError, DecisionLogError):  # a log path that cannot be opened says so
        return


_ENDPOINTS = ["/v1/chat/completions", "/v1/messages", "/v1/responses", "/v1/classify",
              "/v1/messages/count_tokens", "/v1/feedback"]  # fmt: skip
_BODY = st.one_of(
    _JSONISH,
    st.fixed_dictionaries(
        {
            "model": st.one_of(st.just("auto"), _JSONISH),
            "messages": st.one_of(st.lists(_MESSAGE, max_size=4), _JSONISH),
        },
        optional={
            "max_tokens": _JSONISH, "stream": _JSONISH, "tools": _JSONISH, "system": _JSONISH,
            "response_format": _JSONISH, "input": _JSONISH, "metadata": _JSONISH,
            "temperature": _JSONISH, "tool_choice": _JSONISH, "decision_id": _JSONISH,
        },
    ),
)  # fmt: skip


def _check(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400:
        body = response.json()  # always JSON, in either wire format
        assert "error" in body


@FUZZ
@given(path=st.sampled_from(_ENDPOINTS), body=_BODY)
def test_json_endpoints_never_answer_5xx(proxy: ProxyServer, path: str, body: Any) -> None:
    try:
        raw = json.dumps(body, allow_nan=False).encode()
    except ValueError:
        raw = json.dumps(body).encode()  # NaN: not JSON by RFC 8259; the proxy must say so
    headers = {"authorization": f"Bearer {PROXY_KEY}", "content-type": "application/json"}
    _check(httpx.post(f"{proxy.url}{path}", content=raw, headers=headers, timeout=30))


_ENCODINGS = st.sampled_from(["utf-8", "utf-16", "utf-32", "latin-1", "utf-8-sig"])


@FUZZ
@given(
    path=st.sampled_from(_ENDPOINTS), body=_BODY, encoding=_ENCODINGS, junk=st.binary(max_size=64)
)
def test_bodies_in_any_encoding_or_none_never_answer_5xx(
    proxy: ProxyServer, path: str, body: Any, encoding: str, junk: bytes
) -> None:
    headers = {"authorization": f"Bearer {PROXY_KEY}", "content-type": "application/json"}
    try:
        raw = json.dumps(body, ensure_ascii=False).encode(encoding)
    except UnicodeEncodeError:
        raw = junk
    _check(httpx.post(f"{proxy.url}{path}", content=raw + junk[:3], headers=headers, timeout=30))
