"""Budgets and the fleet's sharing guarantees through real proxies (uvicorn on loopback).

Single-machine budgets use the SQLite ledger; the fleet tests run three proxies in
this process against the same real Redis and PostgreSQL, which is what separate
machines share too (tests/test_fleet_serve.py runs real `tierrouter serve` processes).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fake_providers import FakeProviders, Fault
from test_proxy_harness import (
    ADMIN_KEY,
    HI,
    PROVIDER_KEYS,
    PROXY_KEY,
    ProxyServer,
    running,
    settings,
)

from router import Router

AUTH = {"authorization": f"Bearer {PROXY_KEY}"}
ADMIN = {"authorization": f"Bearer {ADMIN_KEY}"}


def wait_for(condition: Callable[[], Any], within: float, what: str) -> Any:
    deadline = time.monotonic() + within
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"not within {within} s: {what}")
        time.sleep(0.01)


def fleet_router(fake: FakeProviders, **kwargs: Any) -> Router:
    urls = {"openai": fake.url("openai"), "anthropic": fake.url("anthropic"),
            "google": fake.url("gemini")}  # fmt: skip
    return Router(
        model=False,
        keys=PROVIDER_KEYS,
        providers={provider: {"base_url": url} for provider, url in urls.items()},
        timeout=5.0,
        env={},
        **kwargs,
    )


@contextlib.contextmanager
def proxies(fake: FakeProviders, n: int, router_kwargs: dict[str, Any],
            **changes: Any) -> Iterator[list[ProxyServer]]:  # fmt: skip
    with contextlib.ExitStack() as stack:
        servers = []
        for _ in range(n):
            router = fleet_router(fake, **router_kwargs)
            stack.callback(router.close)
            servers.append(stack.enter_context(
                contextlib.contextmanager(running)(router, settings(**changes))))  # fmt: skip
        yield servers


def chat(server: ProxyServer, *, user: str | None = None, model: str = "auto",
         headers: dict[str, str] | None = None) -> httpx.Response:  # fmt: skip
    body: dict[str, Any] = {"model": model, "messages": HI}
    if user is not None:
        body["user"] = user
    return httpx.post(f"{server.url}/v1/chat/completions", json=body,
                      headers={**AUTH, **(headers or {})}, timeout=10)  # fmt: skip


# ---- budgets on one machine -----------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TIERROUTER_DATA_DIR", str(tmp_path))
    return tmp_path


def one_call_cost(fake: FakeProviders, data_dir: Path) -> float:
    with proxies(fake, 1, {}) as (server,):
        reply = chat(server)
        assert reply.status_code == 200, reply.text
        cost = float(reply.json()["tierrouter"]["cost"])
    assert cost > 0
    return cost


def test_budget_warns_then_blocks_before_any_upstream_call(
    fake: FakeProviders, data_dir: Path
) -> None:
    cost = one_call_cost(fake, data_dir)
    budgets = {"user": {"daily": cost * 1.5}, "warn_at": 0.5, "action": "block"}
    with proxies(fake, 1, {}, budgets=budgets) as (server,):
        first = chat(server, user="alice")
        assert first.status_code == 200 and "x-tierrouter-budget-warning" not in first.headers
        second = chat(server, user="alice")
        assert second.status_code == 200
        assert "user:alice" in second.headers["x-tierrouter-budget-warning"]
        called = len(fake.requests)
        third = chat(server, user="alice")
        assert third.status_code == 429
        error = third.json()["error"]
        assert error["type"] == "insufficient_quota" and error["code"] == "insufficient_quota"
        assert third.headers["x-should-retry"] == "false"
        assert len(fake.requests) == called  # nothing went upstream
        # Another user is within budget; the Anthropic wire format gets its own error shape.
        assert chat(server, user="bob").status_code == 200
        blocked = httpx.post(
            f"{server.url}/v1/messages",
            json={"model": "auto", "max_tokens": 10, "messages": HI,
                  "metadata": {"user_id": "alice"}},
            headers={"x-api-key": PROXY_KEY, "anthropic-version": "2023-06-01"},
            timeout=10,
        )  # fmt: skip
        assert blocked.status_code == 429
        assert blocked.json()["type"] == "error"
        assert blocked.json()["error"]["type"] == "rate_limit_error"
        assert "budget exhausted" in blocked.json()["error"]["message"]
        listing = httpx.get(f"{server.url}/v1/spend", headers=ADMIN, timeout=10).json()
        alice = [r for r in listing["data"] if r["scope"] == "user:alice" and r["period"][0] == "d"]
        assert alice[0]["requests"] == 2 and alice[0]["share"] >= 1


def test_budget_downgrades_to_the_cheapest_models(fake: FakeProviders, data_dir: Path) -> None:
    cost = one_call_cost(fake, data_dir)
    budgets = {"tag": {"monthly": cost * 0.5}, "action": "downgrade"}
    with proxies(fake, 1, {}, budgets=budgets) as (server,):
        best = server.router.route(HI, model="auto:best").chain[0].id
        cheapest = server.router.route(HI, model="auto:cheapest").chain[0].id
        assert best != cheapest
        tag = {"x-tierrouter-tag": "research"}
        first = chat(server, model="auto:best", headers=tag)
        assert first.json()["tierrouter"]["model"] == best
        second = chat(server, model="auto:best", headers=tag)
        assert second.status_code == 200
        assert "tag:research" in second.headers["x-tierrouter-budget"]
        assert second.json()["tierrouter"]["model"] == cheapest


def test_spend_command_reads_the_ledger(fake: FakeProviders, data_dir: Path) -> None:
    import json

    from typer.testing import CliRunner

    from router.cli import app

    with proxies(fake, 1, {}, budgets={"key": {"daily": 100}}) as (server,):
        assert chat(server).status_code == 200
        server.ctx.admission.budgets.ledger.flush()
    out = CliRunner().invoke(app, ["spend", "--json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    assert {r["period"][0] for r in rows} == {"d", "m"}
    assert all(r["scope"].startswith("key:") and r["requests"] == 1 for r in rows)
    png = data_dir / "spend.png"
    table = CliRunner().invoke(app, ["spend", "--plot", str(png)], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert rows[0]["scope"] in table.output and f"wrote {png}" in table.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---- the fleet: three proxies, one Redis, one PostgreSQL --------------------------------


def test_global_rate_limit_per_key_across_three_instances(
    fake: FakeProviders, redis_url: str
) -> None:
    with proxies(fake, 3, {"state": redis_url},
                 rate_limit={"requests": 7, "window": 3600}) as servers:  # fmt: skip
        statuses = [chat(servers[i % 3]).status_code for i in range(21)]
    assert statuses.count(200) == 7
    assert statuses.count(429) == 14


def test_a_429_on_one_instance_stops_the_others_calling_that_model(
    fake: FakeProviders, redis_url: str
) -> None:
    with proxies(fake, 3, {"state": redis_url}) as (a, b, c):
        first = a.router.route(HI).chain[0]
        fake.fail(first.api_model, Fault(status=429), Fault(status=429))
        assert chat(a).status_code == 200  # failed over
        for other in (b, c):
            wait_for(lambda o=other: o.router.cooldowns.remaining(first.id) > 0, 0.1,
                     "the cooldown reached the other instances")  # fmt: skip
        fake.reset()
        assert chat(b).status_code == 200
        assert chat(c).status_code == 200
        assert first.api_model not in fake.models_called()


def test_budgets_hold_across_instances(fake: FakeProviders, redis_url: str,
                                       data_dir: Path) -> None:  # fmt: skip
    cost = one_call_cost(fake, data_dir)
    budgets = {"user": {"daily": cost * 2.5}, "action": "block"}
    with proxies(fake, 3, {"state": redis_url}, budgets=budgets) as servers:
        # One call each: no instance alone is over the cap, the three together are.
        assert [chat(s, user="carol").status_code for s in servers] == [200, 200, 200]
        # The spend reaches Redis off the request path: wait until all three count it.
        for s in servers:
            s.ctx.admission.budgets.ledger.flush()
        called = len(fake.requests)
        blocked = [chat(s, user="carol") for s in servers]
        assert [r.status_code for r in blocked] == [429, 429, 429]
        assert all(r.json()["error"]["type"] == "insufficient_quota" for r in blocked)
        # Streams and the Responses API are refused before any upstream call as well.
        streamed = httpx.post(f"{servers[0].url}/v1/chat/completions", headers=AUTH, timeout=10,
                              json={"model": "auto", "messages": HI, "stream": True,
                                    "user": "carol"})  # fmt: skip
        assert streamed.status_code == 429 and "budget exhausted" in streamed.text
        responses = httpx.post(
            f"{servers[1].url}/v1/responses",
            headers=AUTH,
            timeout=10,
            json={"model": "auto", "input": "Say hi", "user": "carol"},
        )
        assert responses.status_code == 429 and "budget exhausted" in responses.text
        assert len(fake.requests) == called  # nothing went upstream from any instance
        # A blocked request spends nothing: the fleet's counter still holds three calls.
        listing = httpx.get(f"{servers[1].url}/v1/spend", headers=ADMIN, timeout=10).json()
        carol = [r for r in listing["data"] if r["scope"] == "user:carol"]
        assert {r["period"][0] for r in carol} == {"d", "m"}
        assert all(r["requests"] == 3 and r["usd"] == pytest.approx(cost * 3) for r in carol)
        assert chat(servers[2], user="dave").status_code == 200  # another user is within


def test_budget_downgrade_holds_across_instances(
    fake: FakeProviders, redis_url: str, data_dir: Path
) -> None:
    cost = one_call_cost(fake, data_dir)
    budgets = {"tag": {"monthly": cost * 0.5}, "action": "downgrade"}
    tag = {"x-tierrouter-tag": "research"}
    with proxies(fake, 3, {"state": redis_url}, budgets=budgets) as (a, b, c):
        best = a.router.route(HI, model="auto:best").chain[0].id
        cheapest = a.router.route(HI, model="auto:cheapest").chain[0].id
        assert best != cheapest
        first = chat(a, model="auto:best", headers=tag)
        assert first.json()["tierrouter"]["model"] == best
        a.ctx.admission.budgets.ledger.flush()
        # b and c have spent nothing themselves: only the fleet's counter says "over".
        for other in (b, c):
            reply = chat(other, model="auto:best", headers=tag)
            assert reply.status_code == 200
            assert "tag:research" in reply.headers["x-tierrouter-budget"]
            assert reply.json()["tierrouter"]["model"] == cheapest
        assert chat(b, model="auto:best").json()["tierrouter"]["model"] == best  # untagged


def test_rules_and_feedback_across_instances_through_the_admin_api(
    fake: FakeProviders, redis_url: str, pg_url: str
) -> None:
    with proxies(fake, 3, {"state": redis_url, "store": pg_url}) as (a, b, c):
        pinned = a.router.route(HI, model="auto:best").chain[0].id
        assert chat(b).json()["tierrouter"]["model"] != pinned
        made = httpx.post(
            f"{a.url}/v1/routing_rules",
            headers=ADMIN,
            timeout=10,
            json={"name": "all to anthropic", "action": {"set_model": pinned}},
        )
        assert made.status_code == 201, made.text
        for other in (b, c):
            wait_for(lambda o=other: chat(o).json()["tierrouter"]["model"] == pinned, 1.0,
                     "the rule applies on every instance")  # fmt: skip
        fw = httpx.post(
            f"{b.url}/v1/firewall_rules",
            headers=ADMIN,
            timeout=10,
            json={"name": "no secrets", "pattern": "hunter2"},
        )
        assert fw.status_code == 201, fw.text
        secret = {"model": "auto", "messages": [{"role": "user", "content": "pw hunter2"}]}
        for other in (a, c):
            wait_for(lambda o=other: httpx.post(f"{o.url}/v1/chat/completions", json=secret,
                                                headers=AUTH, timeout=10).status_code == 422,
                     1.0, "the firewall rule applies on every instance")  # fmt: skip
        # Feedback to c for a decision a logged.
        decision = chat(a).json()["tierrouter"]["decision_id"]
        fb = httpx.post(
            f"{c.url}/v1/feedback",
            headers=AUTH,
            timeout=10,
            json={"decision_id": decision, "verdict": "cheaper_ok"},
        )
        assert fb.status_code == 200, fb.text
        log = b.router.decision_log
        assert log is not None
        assert [f.verdict for f in log.feedback(decision)] == ["cheaper_ok"]


def test_a_conversation_keeps_its_model_on_every_instance(
    fake: FakeProviders, redis_url: str
) -> None:
    """Session affinity through Redis: each turn of an agent's conversation may reach
    another instance (a load balancer without sticky sessions); it stays on its model."""
    from test_proxy_agents import TURNS, _turn, post

    with proxies(fake, 3, {"state": redis_url}) as servers:
        history: list[dict[str, Any]] = []
        models, outcomes = [], []
        for i, text in enumerate(TURNS[:4]):
            server = servers[i % 3]
            reply = post(server, _turn(history, text))
            assert reply.status_code == 200, reply.text
            models.append(reply.headers["x-tierrouter-model"])
            outcomes.append(reply.headers["x-tierrouter-affinity"])
            history.append({"role": "assistant", "content": reply.json()["content"]})
            key = reply.headers["x-tierrouter-session"]
            for other in servers:
                wait_for(lambda o=other, k=key: o.ctx.sessions.prefer(k) is not None, 1.0,
                         "the conversation reached every instance")  # fmt: skip
        fresh = servers[1].router.route(
            [{"role": "user", "content": TURNS[1]}],
            tools=[{"type": "function", "function": {"name": "get_weather", "parameters": {}}}],
        )
    assert outcomes == ["new", "kept", "kept", "kept"]
    assert len(set(models)) == 1, models
    assert fresh.chain[0].id != models[0]  # routed afresh, the easy turn would have moved


def test_a_streamed_answer_is_charged_to_its_budget(fake: FakeProviders, data_dir: Path) -> None:
    """Streams are charged too (their cost is known when the stream ends): streaming
    must not be a way around a cap."""
    with proxies(fake, 1, {}, budgets={"user": {"daily": 100}}) as (server,):
        with httpx.stream("POST", f"{server.url}/v1/chat/completions", headers=AUTH, timeout=10,
                          json={"model": "auto", "messages": HI, "stream": True,
                                "user": "gina"}) as reply:  # fmt: skip
            assert reply.status_code == 200
            assert "[DONE]" in reply.read().decode()
        ledger = server.ctx.admission.budgets.ledger
        wait_for(lambda: any(r["scope"] == "user:gina" for r in ledger.rows()), 5,
                 "the stream's spend is counted")  # fmt: skip
        gina = [r for r in ledger.rows() if r["scope"] == "user:gina"]
    assert all(r["requests"] == 1 and r["usd"] > 0 for r in gina)
