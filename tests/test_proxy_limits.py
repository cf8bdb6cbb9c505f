"""Errors, auth and limits of ``tierrouter serve``, each in the caller's wire format."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import anthropic
import httpx
import openai
import pytest
from fake_providers import FakeProviders, Fault
from test_proxy_harness import (
    ADMIN_KEY,
    HI,
    PROVIDER_KEYS,
    PROXY_KEY,
    ProxyServer,
    chain,
    custom_proxy,
    make_router,
    proxy_fixture,
    proxy_session_fixture,
)

from router import Router
from router.errors import ConfigError
from router.proxy.settings import ProxySettings, check_bind, load_proxy_config
from router.secrets import Secret

_ = (proxy_fixture, proxy_session_fixture)  # fixtures used by name


def oai(server: ProxyServer, key: str = PROXY_KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0)


def ant(server: ProxyServer, key: str = PROXY_KEY) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.url, api_key=key, max_retries=0)


def post(server: ProxyServer, path: str, body: object, **headers: str) -> httpx.Response:
    headers.setdefault("authorization", f"Bearer {PROXY_KEY}")
    return httpx.post(f"{server.url}{path}", json=body, headers=headers, timeout=10)


# ---- auth ---------------------------------------------------------------------------


def test_bad_proxy_key_is_401_in_each_format(proxy: ProxyServer) -> None:
    with pytest.raises(openai.AuthenticationError) as oerr:
        oai(proxy, "wrong").chat.completions.create(model="auto", messages=HI)
    assert oerr.value.status_code == 401
    assert oerr.value.body["type"] == "authentication_error"  # type: ignore[index]
    with pytest.raises(anthropic.AuthenticationError) as aerr:
        ant(proxy, "wrong").messages.create(model="auto", max_tokens=10, messages=HI)
    assert aerr.value.body["type"] == "error"  # type: ignore[index]
    assert aerr.value.body["error"]["type"] == "authentication_error"  # type: ignore[index]
    response = httpx.post(f"{proxy.url}/v1/chat/completions", json={"messages": HI})
    assert response.status_code == 401  # no key at all
    assert "wrong" not in response.text


def test_either_header_carries_the_key(proxy: ProxyServer) -> None:
    body = {"model": "auto", "messages": HI}
    assert post(proxy, "/v1/chat/completions", body, **{"x-api-key": PROXY_KEY}).status_code == 200
    assert post(proxy, "/v1/chat/completions", body).status_code == 200


def test_health_is_open_and_metrics_need_the_admin_key(proxy: ProxyServer) -> None:
    assert httpx.get(f"{proxy.url}/health").json()["status"] == "ok"
    assert httpx.get(f"{proxy.url}/metrics").status_code == 401
    proxy_key = {"authorization": f"Bearer {PROXY_KEY}"}
    assert httpx.get(f"{proxy.url}/metrics", headers=proxy_key).status_code == 401
    assert httpx.get(f"{proxy.url}/metrics", headers={"x-api-key": ADMIN_KEY}).status_code == 200


# ---- bad requests ---------------------------------------------------------------------


def test_400_names_the_field(proxy: ProxyServer) -> None:
    cases = {
        "messages": {"model": "auto"},
        "messages[1].role": {"messages": [*HI, {"role": "robot", "content": "x"}]},
        "model": {"model": "auto:fastest", "messages": HI},
        "tools": {"messages": HI, "tools": "get_weather"},
    }
    for field, body in cases.items():
        response = post(proxy, "/v1/chat/completions", body)
        assert response.status_code == 400, field
        error = response.json()["error"]
        assert error["type"] == "invalid_request_error"
        assert error["param"] == field and error["message"].startswith(field)
    response = httpx.post(
        f"{proxy.url}/v1/chat/completions",
        content=b"{not json",
        headers={"authorization": f"Bearer {PROXY_KEY}"},
    )
    assert response.status_code == 400 and response.json()["error"]["param"] == "body"


def test_unknown_model_is_404_in_each_format(proxy: ProxyServer) -> None:
    with pytest.raises(openai.NotFoundError) as oerr:
        oai(proxy).chat.completions.create(model="gpt-unicorn", messages=HI)
    assert oerr.value.body["code"] == "model_not_found"  # type: ignore[index]
    with pytest.raises(anthropic.NotFoundError) as aerr:
        ant(proxy).messages.create(model="unicorn-9", max_tokens=10, messages=HI)
    assert aerr.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]
    assert post(proxy, "/v1/nowhere", {}).status_code == 404


def test_body_over_the_limit_is_413(fake: FakeProviders) -> None:
    big = [{"role": "user", "content": "x" * 5000}]
    with custom_proxy(fake, max_body_bytes=2000) as server:
        with pytest.raises(openai.APIStatusError) as oerr:
            oai(server).chat.completions.create(model="auto", messages=big)  # type: ignore[arg-type]
        assert oerr.value.status_code == 413
        with pytest.raises(anthropic.APIStatusError) as aerr:
            ant(server).messages.create(model="auto", max_tokens=10, messages=big)  # type: ignore[arg-type]
        assert aerr.value.status_code == 413
        assert aerr.value.body["error"]["type"] == "request_too_large"  # type: ignore[index]
        # A chunked upload declares no length; it is cut off while it arrives.
        response = httpx.post(
            f"{server.url}/v1/chat/completions",
            content=iter([b'{"messages": "' + b"x" * 1500, b"x" * 1500 + b'"}']),
            headers={"authorization": f"Bearer {PROXY_KEY}"},
        )
        assert response.status_code == 413
    assert fake.requests == []


# ---- capacity and upstream failures ---------------------------------------------------


def test_over_capacity_is_an_immediate_429(fake: FakeProviders) -> None:
    with custom_proxy(fake, max_concurrency=1, retry_after=2) as server:
        fake.fail(chain(server)[0], Fault(delay=3.0))
        slow = threading.Thread(
            target=lambda: oai(server).chat.completions.create(model="auto", messages=HI)
        )
        slow.start()
        deadline = time.monotonic() + 5
        while server.ctx.gate.active == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        with pytest.raises(openai.RateLimitError) as err:
            oai(server).chat.completions.create(model="auto", messages=HI)
        # Refused while the slow call still holds the only slot: not queued behind it.
        assert slow.is_alive() and server.ctx.gate.active == 1
        assert err.value.response.headers["retry-after"] == "2"
        assert err.value.body["code"] == "over_capacity"  # type: ignore[index]
        slow.join(5)
        assert server.ctx.gate.active == 0


def test_every_candidate_rate_limited_is_429_with_retry_after(
    proxy: ProxyServer, fake: FakeProviders
) -> None:
    for name in chain(proxy):
        fake.fail(name, Fault(status=429, retry_after=30))
    response = post(proxy, "/v1/chat/completions", {"model": "auto", "messages": HI})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "30"
    error = response.json()["error"]
    assert error["type"] == "rate_limit_error"
    assert [a["status"] for a in error["attempts"]] == [429] * len(chain(proxy))


def test_every_candidate_failing_is_502_listing_attempts_without_secrets(
    proxy: ProxyServer, fake: FakeProviders
) -> None:
    for name in chain(proxy):
        fake.fail(name, Fault(status=500))
    with pytest.raises(openai.InternalServerError) as err:
        oai(proxy).chat.completions.create(model="auto", messages=HI)
    assert err.value.status_code == 502
    attempts = err.value.body["attempts"]  # type: ignore[index]
    assert [a["model"].split("/")[1] for a in attempts] == chain(proxy)
    for name in chain(proxy):
        fake.fail(name, Fault(status=503))
    response = post(proxy, "/v1/messages", {"model": "auto", "max_tokens": 5, "messages": HI})
    assert response.status_code == 503 and response.json()["type"] == "error"
    for key in (*PROVIDER_KEYS.values(), PROXY_KEY):
        assert key not in response.text and key not in str(err.value.body)


def test_rejected_provider_key_is_502_and_never_echoed(fake: FakeProviders) -> None:
    router = Router(
        model=False,
        keys={"openai": "bad-key-0123456789abcdef"},
        providers={"openai": {"base_url": fake.url("openai")}},
        env={},
    )
    with custom_proxy(fake, router=router) as server:
        response = post(
            server, "/v1/chat/completions", {"model": "openai/gpt-5-mini", "messages": HI}
        )
    assert response.status_code == 502
    assert response.headers["x-should-retry"] == "false"
    assert "openai rejected the API key" in response.json()["error"]["message"]
    assert "bad-key" not in response.text and "0123456789" not in response.text


def test_slow_upstream_is_504(fake: FakeProviders) -> None:
    with custom_proxy(fake, upstream_timeout=0.3) as server:
        fake.fail(chain(server)[0], Fault(delay=1.5))
        response = post(server, "/v1/chat/completions", {"model": "auto", "messages": HI})
    # A 504, not the upstream's late 200: the proxy's timeout cut the call off.
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "upstream_timeout"


@pytest.mark.parametrize("stream", [False, True])
def test_client_disconnect_cancels_the_upstream_call(fake: FakeProviders, stream: bool) -> None:
    with custom_proxy(fake) as server:
        fake.fail(chain(server)[0], Fault(delay=2.0))
        body = {"model": "auto", "messages": HI, "stream": stream}
        with pytest.raises(httpx.ReadTimeout):
            post_with_timeout(server, body, 0.3)
        started = time.monotonic()
        while server.ctx.gate.active and time.monotonic() - started < 1.0:
            time.sleep(0.01)
        # Freed well before the upstream's 2 s answer: the call was cancelled.
        assert server.ctx.gate.active == 0
        assert server.ctx.metrics.disconnects.values[()] == 1
        assert server.ctx.metrics.requests.values[("chat.completions", "499")] == 1


def post_with_timeout(server: ProxyServer, body: object, timeout: float) -> None:
    httpx.post(
        f"{server.url}/v1/chat/completions",
        json=body,
        headers={"authorization": f"Bearer {PROXY_KEY}"},
        timeout=timeout,
    )


# ---- metrics and logs -----------------------------------------------------------------

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_]+="(\\.|[^"\\])*",?)*\})? (\S+)$')


def parse_prometheus(text: str) -> dict[str, list[tuple[str, float]]]:
    samples: dict[str, list[tuple[str, float]]] = {}
    for line in text.splitlines():
        if not line or line.startswith(("# HELP ", "# TYPE ")):
            continue
        match = _SAMPLE.match(line)
        assert match, f"not Prometheus text: {line!r}"
        samples.setdefault(match.group(1), []).append((match.group(2) or "", float(match.group(5))))
    return samples


def test_metrics_parse_and_count_decisions_fallbacks_and_cost(
    proxy: ProxyServer, fake: FakeProviders
) -> None:
    oai(proxy).chat.completions.create(model="auto", messages=HI)
    fake.fail(chain(proxy)[0], Fault(status=503))
    oai(proxy).chat.completions.create(model="auto", messages=HI)
    text = httpx.get(f"{proxy.url}/metrics", headers={"x-api-key": ADMIN_KEY}).text
    samples = parse_prometheus(text)
    for name in (
        "tierrouter_requests_total",
        "tierrouter_request_duration_seconds_bucket",
        "tierrouter_request_duration_seconds_count",
        "tierrouter_decisions_total",
        "tierrouter_fallbacks_total",
        "tierrouter_upstream_errors_total",
        "tierrouter_cost_usd_total",
        "tierrouter_savings_usd_total",
    ):
        assert name in samples, name
    assert any('task="general"' in labels for labels, _ in samples["tierrouter_decisions_total"])
    assert samples["tierrouter_fallbacks_total"][0][1] >= 1
    assert sum(v for _, v in samples["tierrouter_cost_usd_total"]) > 0
    buckets = [
        v
        for labels, v in samples["tierrouter_request_duration_seconds_bucket"]
        if 'endpoint="chat.completions"' in labels
    ]
    assert buckets == sorted(buckets)  # cumulative
    assert "# TYPE tierrouter_request_duration_seconds histogram" in text


def test_access_log_has_no_prompt_and_no_keys(
    fake: FakeProviders, caplog: pytest.LogCaptureFixture
) -> None:
    prompt = [{"role": "user", "content": "zebra-canary-prompt please"}]
    with caplog.at_level("INFO", logger="tierrouter"), custom_proxy(fake, log_format="text") as s:
        oai(s).chat.completions.create(model="auto", messages=prompt)  # type: ignore[arg-type]
        with pytest.raises(openai.AuthenticationError):
            oai(s, "wrong-key-xyz").chat.completions.create(model="auto", messages=HI)
    lines = [r.getMessage() for r in caplog.records if r.name == "tierrouter.proxy.access"]
    assert len(lines) == 2
    assert lines[0].startswith("POST /v1/chat/completions 200") and "model=" in lines[0]
    assert " 401 " in lines[1]
    for secret in ("zebra-canary", "wrong-key-xyz", PROXY_KEY, *PROVIDER_KEYS.values()):
        assert secret not in caplog.text


# ---- settings and startup ---------------------------------------------------------------


def test_non_loopback_without_keys_refuses_to_start() -> None:
    with pytest.raises(ConfigError, match=r"refusing to listen on 0\.0\.0\.0"):
        check_bind(ProxySettings(host="0.0.0.0"))
    check_bind(ProxySettings(host="0.0.0.0", proxy_keys=(Secret("k"),)))
    check_bind(ProxySettings(host="0.0.0.0", insecure=True))
    check_bind(ProxySettings(host="::1"))
    result = subprocess.run(
        [sys.executable, "-c", "from router.cli import main; main()", "serve", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).parents[1])},
    )
    assert result.returncode == 2
    assert "refusing to listen" in result.stderr


def test_proxy_section_of_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "profile: eco\n"
        "proxy:\n"
        "  port: 9000\n"
        "  proxy_keys: ['${PROXY_KEY_FOR_TEST}']\n"
        "  max_concurrency: 7\n",
        encoding="utf-8",
    )
    config, proxy_settings = load_proxy_config(path, env={"PROXY_KEY_FOR_TEST": "k-1"})
    assert config is not None and config.profile == "eco"
    assert proxy_settings.port == 9000 and proxy_settings.max_concurrency == 7
    assert [k.reveal() for k in proxy_settings.proxy_keys] == ["k-1"]
    assert "k-1" not in repr(proxy_settings)
    path.write_text("proxy:\n  port: 9000\n  max_conurrency: 7\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config.yaml:3: proxy.max_conurrency"):
        load_proxy_config(path, env={})


def test_a_server_reads_provider_keys_from_its_environment_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from router.proxy.server import build_router

    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    router, _ = build_router(None)
    engine = router._engine()
    key = engine.key_for("openai")
    assert key is not None and key.reveal() == "sk-from-the-environment"
    assert engine.key_for("anthropic") is None
    # A copy taken at start: os.environ is never consulted per request.
    assert engine._env is not os.environ


def test_import_router_and_the_cli_stay_free_of_the_web_stack() -> None:
    code = (
        "import sys, router, router.cli.app\n"
        "print(','.join(m for m in ('starlette', 'uvicorn', 'aiohttp') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_make_router_uses_only_the_test_keys(fake: FakeProviders) -> None:
    assert make_router(fake).route(HI).chain  # sanity for every test above


@pytest.mark.parametrize("left", ["before the guard", "during the upstream call"])
def test_the_connection_link_cancels_the_call_when_the_client_leaves(left: str) -> None:
    # Through the protocol's Link (no watcher task): a client gone before the guard
    # exists (while its request was read or routed) must stop the call as surely as one
    # that leaves during it.
    import asyncio

    from router.proxy.limits import Guard, Link, Watchers

    async def receive() -> dict[str, object]:
        raise AssertionError("the Link path does not read receive")

    async def handler() -> str:
        watchers = Watchers()
        if left == "before the guard":
            watchers.fire()
        guard = Guard(receive, 60.0, Link(watchers))
        if left == "during the upstream call":
            asyncio.get_running_loop().call_soon(watchers.fire)
        try:
            await guard.wait(asyncio.sleep(30))
        except asyncio.CancelledError as exc:
            return type(guard.reason_for(exc)).__name__
        finally:
            guard.close()
        return "the call ran to its end"

    assert asyncio.run(handler()) == "ClientGone"
