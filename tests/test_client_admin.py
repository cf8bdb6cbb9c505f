"""The admin REST API and the client SDK against a real proxy on loopback.

Most tests share one proxy (uvicorn in a thread, tests/test_proxy_harness.py)
whose router keeps its rules in a SQLite file, in front of the fake provider
server. The last test starts ``tierrouter serve --workers 2`` as a subprocess
and checks that a rule change made through one worker is obeyed by the next
request on every worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
from fake_providers import FakeProviders
from test_proxy_harness import (
    ADMIN_KEY,
    PROVIDER_KEYS,
    PROXY_KEY,
    ProxyServer,
    ResettableCooldowns,
    running,
    settings,
)

from router import Router
from router.client import AsyncClient, Client, FirewallRule, RoutingRule
from router.errors import APIError
from router.proxy import ProxySettings
from router.secrets import Secret

OPUS = "anthropic/claude-opus-4-1"
GPT4O = "openai/gpt-4o"
ADMIN = {"authorization": f"Bearer {ADMIN_KEY}"}
serving = contextlib.contextmanager(running)


@pytest.fixture(scope="module")
def _policy_proxy(
    _fake_server: FakeProviders, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProxyServer]:
    fake = _fake_server
    router = Router(
        model=False,
        keys=PROVIDER_KEYS,
        providers={
            "openai": {"base_url": fake.url("openai")},
            "anthropic": {"base_url": fake.url("anthropic")},
            "google": {"base_url": fake.url("gemini")},
        },
        cooldown_store=ResettableCooldowns(),
        timeout=5.0,
        env={},
        policy_db=tmp_path_factory.mktemp("policy") / "policy.sqlite",
    )
    yield from running(router, settings(max_concurrency=16))


@pytest.fixture(name="server")
def server_fixture(_policy_proxy: ProxyServer, fake: FakeProviders) -> Iterator[ProxyServer]:
    """The shared proxy with no rules before and after each test."""

    def clear() -> None:
        for rules in (_policy_proxy.router.rules, _policy_proxy.router.firewall):
            for rule in rules.list():
                rules.delete(rule.id)

    clear()
    yield _policy_proxy
    clear()


@pytest.fixture(name="client")
def client_fixture(server: ProxyServer) -> Iterator[Client]:
    with Client(api_key=PROXY_KEY, base_url=server.url, admin_key=ADMIN_KEY, timeout=10) as c:
        yield c


def admin(server: ProxyServer, method: str, path: str, **kw: Any) -> httpx.Response:
    kw.setdefault("headers", ADMIN)
    return httpx.request(method, f"{server.url}{path}", timeout=10, **kw)


# ---- the admin API over plain HTTP -------------------------------------------------------


def test_admin_api_crud_routing_rules(server: ProxyServer) -> None:
    body = {
        "name": "code to opus",
        "priority": 5,
        "match": {"task": "coding"},
        "action": {"set_model": OPUS},
    }
    created = admin(server, "POST", "/v1/routing_rules", json=body)
    assert created.status_code == 201
    rule = created.json()
    assert rule["id"].startswith("rr_") and rule["object"] == "routing_rule"
    assert {k: rule[k] for k in body} == {**body, "match": {"task": "coding"}}
    path = f"/v1/routing_rules/{rule['id']}"

    listed = admin(server, "GET", "/v1/routing_rules").json()
    assert listed["object"] == "list" and [r["id"] for r in listed["data"]] == [rule["id"]]
    assert admin(server, "GET", path).json() == rule

    patched = admin(server, "PATCH", path, json={"priority": 9, "is_enabled": False}).json()
    assert (patched["priority"], patched["is_enabled"], patched["match"]) == (
        9,
        False,
        body["match"],
    )
    assert patched["created_at"] == rule["created_at"]
    # A client may send back what it read: the server-owned fields are accepted unchanged.
    echoed = admin(server, "PATCH", path, json={**patched, "name": "renamed"})
    assert echoed.status_code == 200 and echoed.json()["name"] == "renamed"

    # PUT replaces: what it leaves out goes back to the defaults.
    put = admin(server, "PUT", path, json={"name": "all", "action": {"set_mode": "quality"}})
    assert put.status_code == 200
    assert put.json()["match"] == {} and put.json()["priority"] == 0
    assert put.json()["is_enabled"] is True

    deleted = admin(server, "DELETE", path)
    assert deleted.json() == {"id": rule["id"], "object": "routing_rule.deleted", "deleted": True}
    for method in ("GET", "PATCH", "DELETE"):
        gone = admin(server, method, path, json={"priority": 1} if method == "PATCH" else None)
        assert gone.status_code == 404, method
        assert rule["id"] in gone.json()["error"]["message"]


def test_admin_api_crud_firewall_rules(server: ProxyServer) -> None:
    body = {
        "name": "cards",
        "type": "detector",
        "pattern": "credit_card",
        "scope": "prompt",
        "action": "mask",
        "replacement": "[card]",
        "priority": 2,
    }
    created = admin(server, "POST", "/v1/firewall_rules", json=body)
    assert created.status_code == 201
    rule = created.json()
    assert {k: rule[k] for k in body} == body and rule["is_enabled"] is True
    path = f"/v1/firewall_rules/{rule['id']}"
    assert admin(server, "GET", "/v1/firewall_rules").json()["data"] == [rule]
    assert admin(server, "PATCH", path, json={"action": "block"}).json()["action"] == "block"
    put = admin(server, "PUT", path, json={"name": "falcon", "pattern": "project falcon"}).json()
    assert (put["type"], put["scope"], put["action"]) == ("substring", "both", "block")
    assert admin(server, "DELETE", path).status_code == 200
    assert admin(server, "GET", path).status_code == 404


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/v1/routing_rules", {"name": "x", "action": {"set_mode": "fast"}}, "action.set_mode"),
        ("/v1/routing_rules", {"name": "x", "action": {"set_model": "nope/x"}}, "action.set_model"),
        (
            "/v1/routing_rules",
            {"name": "x", "match": {"task": "poetry"}, "action": {"set_mode": "cost"}},
            "match.task",
        ),
        ("/v1/routing_rules", {"name": "x", "action": {}}, "action"),
        ("/v1/routing_rules", {"action": {"set_mode": "cost"}}, "name"),
        ("/v1/routing_rules", {"name": "x", "action": {"set_mode": "cost"}, "colour": 1}, "colour"),
        (
            "/v1/routing_rules",
            {"name": "x", "priority": "high", "action": {"set_mode": "cost"}},
            "priority",
        ),
        ("/v1/firewall_rules", {"name": "x", "type": "regex", "pattern": "("}, "pattern"),
        ("/v1/firewall_rules", {"name": "x", "type": "regex", "pattern": "a*"}, "pattern"),
        ("/v1/firewall_rules", {"name": "x", "type": "detector", "pattern": "dna"}, "pattern"),
        ("/v1/firewall_rules", {"name": "x", "pattern": "p", "action": "shred"}, "action"),
        ("/v1/firewall_rules", {"name": "x", "pattern": "p", "scope": "all"}, "scope"),
        ("/v1/firewall_rules", {"name": "x"}, "pattern"),
    ],
)
def test_admin_api_validation_names_the_field(
    server: ProxyServer, path: str, body: dict[str, Any], param: str
) -> None:
    answer = admin(server, "POST", path, json=body)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["param"] == param
    assert param.rsplit(".", 1)[-1] in error["message"]
    assert admin(server, "GET", path).json()["data"] == []  # nothing half-created


def test_admin_api_rejects_bad_bodies_and_updates(server: ProxyServer) -> None:
    assert admin(server, "POST", "/v1/routing_rules", content=b"{not json").status_code == 400
    assert admin(server, "POST", "/v1/routing_rules", json=[1]).status_code == 400
    made = admin(
        server,
        "POST",
        "/v1/routing_rules",
        json={"id": "mine", "name": "x", "action": {"set_mode": "cost"}},
    )
    assert made.json()["id"] == "mine"
    again = admin(
        server,
        "POST",
        "/v1/routing_rules",
        json={"id": "mine", "name": "y", "action": {"set_mode": "cost"}},
    )
    assert again.status_code == 409 and again.json()["error"]["param"] == "id"
    moved = admin(server, "PATCH", "/v1/routing_rules/mine", json={"id": "other"})
    assert moved.status_code == 400 and moved.json()["error"]["param"] == "id"
    bad = admin(server, "PATCH", "/v1/routing_rules/mine", json={"action": {"set_mode": "x"}})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "action.set_mode"
    partial = admin(server, "PUT", "/v1/routing_rules/mine", json={"name": "z"})
    assert partial.status_code == 400 and partial.json()["error"]["param"] == "action"
    assert admin(server, "GET", "/v1/routing_rules/mine").json()["name"] == "x"  # unchanged


def test_admin_key_required_and_proxy_keys_refused(server: ProxyServer) -> None:
    for headers in (
        {},
        {"authorization": f"Bearer {PROXY_KEY}"},
        {"x-api-key": PROXY_KEY},
        {"authorization": "Bearer wrong"},
    ):
        for method, path in (
            ("GET", "/v1/routing_rules"),
            ("POST", "/v1/firewall_rules"),
            ("DELETE", "/v1/routing_rules/x"),
        ):
            answer = admin(server, method, path, headers=headers, json={"name": "x"})
            assert answer.status_code == 401, (headers, method, path)
            assert answer.json()["error"]["type"] == "authentication_error"
    assert admin(server, "GET", "/v1/routing_rules", headers={"x-api-key": ADMIN_KEY}).is_success
    # And the admin key is not a proxy key.
    with Client(api_key=ADMIN_KEY, base_url=server.url) as wrong, pytest.raises(APIError) as err:
        wrong.responses.create(input="hi")
    assert err.value.status == 401
    with Client(api_key=PROXY_KEY, base_url=server.url) as no_admin, pytest.raises(APIError) as e2:
        no_admin.routing_rules.list()
    assert e2.value.status == 401 and e2.value.type == "authentication_error"


def test_without_an_admin_key_only_a_keyless_loopback_server_is_open(
    _policy_proxy: ProxyServer,
) -> None:
    router = _policy_proxy.router
    keyed = ProxySettings(proxy_keys=(Secret(PROXY_KEY),), log_format="off")
    with serving(router, keyed) as server:
        answer = admin(server, "GET", "/v1/routing_rules", headers={"x-api-key": PROXY_KEY})
        assert answer.status_code == 401 and "admin_key" in answer.json()["error"]["message"]
    with serving(router, ProxySettings(log_format="off")) as server:
        assert admin(server, "GET", "/v1/routing_rules", headers={}).status_code == 200


# ---- the client SDK ------------------------------------------------------------------------


def test_client_crud_returns_typed_rules(client: Client) -> None:
    rule = client.routing_rules.create(
        name="quality analysis",
        priority=10,
        match={"mode": "quality", "contains": ["analyze", "analyse"]},
        action={"set_model": OPUS, "add_warning": "frontier"},
    )
    assert isinstance(rule, RoutingRule)
    assert rule.match.contains == ("analyze", "analyse") and rule.action.set_model == OPUS
    assert client.routing_rules.retrieve(rule.id) == rule
    assert client.routing_rules.list() == [rule]
    changed = client.routing_rules.update(rule.id, is_enabled=False)
    assert changed.is_enabled is False and changed.priority == 10
    replaced = client.routing_rules.replace(rule.id, name="all", action={"set_mode": "cost"})
    assert replaced.priority == 0 and replaced.match.contains == ()
    client.routing_rules.delete(rule.id)
    assert client.routing_rules.list() == []

    fw = client.firewall_rules.create(
        name="emails", type="detector", pattern="email", action="mask", replacement="[email]"
    )
    assert isinstance(fw, FirewallRule) and fw.scope == "both" and fw.replacement == "[email]"
    assert client.firewall_rules.update(fw.id, scope="response").scope == "response"
    assert [r.id for r in client.firewall_rules.list()] == [fw.id]
    client.firewall_rules.delete(fw.id)
    with pytest.raises(APIError) as err:
        client.firewall_rules.retrieve(fw.id)
    assert err.value.status == 404
    with pytest.raises(APIError) as bad:
        client.routing_rules.create(name="x", action={"set_mode": "fast"})
    assert bad.value.status == 400 and "action.set_mode" in bad.value.message


def test_routing_rule_changes_the_very_next_request(client: Client, fake: FakeProviders) -> None:
    before = client.responses.create(model="auto:balance", input="hi")
    assert before.router is not None and before.router.model != OPUS and before.router.rule is None
    rule = client.routing_rules.create(name="all to opus", action={"set_model": OPUS})
    reply = client.responses.create(
        model="auto:balance", input="hi", temperature=0.2, max_output_tokens=50
    )
    assert reply.router is not None
    assert (reply.router.model, reply.router.rule) == (OPUS, "all to opus")
    assert reply.output_text == "Hello from claude-opus-4-1"
    assert reply.usage.total_tokens == reply.usage.input_tokens + reply.usage.output_tokens > 0
    sent = fake.requests[-1].body
    assert sent["temperature"] == 0.2 and sent["max_tokens"] == 50
    client.routing_rules.update(rule.id, is_enabled=False)
    after = client.responses.create(model="auto:balance", input="hi")
    assert after.router is not None and after.router.model == before.router.model


def test_firewall_block_is_422_in_every_sdk(
    server: ProxyServer, client: Client, fake: FakeProviders
) -> None:
    client.firewall_rules.create(name="codename guard", pattern="Project Falcon", scope="prompt")
    prompt = "Summarise the project falcon launch plan"

    def check(message: str) -> None:
        assert "codename guard" in message
        assert "falcon" not in message.lower()  # never the matched text

    oa = openai.OpenAI(base_url=f"{server.url}/v1", api_key=PROXY_KEY, max_retries=0)
    with pytest.raises(openai.UnprocessableEntityError) as oa_err:
        oa.chat.completions.create(model="auto", messages=[{"role": "user", "content": prompt}])
    assert oa_err.value.status_code == 422
    check(oa_err.value.message)
    with pytest.raises(openai.UnprocessableEntityError):
        oa.responses.create(model="auto:balance", input=prompt)

    an = anthropic.Anthropic(base_url=server.url, api_key=PROXY_KEY, max_retries=0)
    with pytest.raises(anthropic.UnprocessableEntityError) as an_err:
        an.messages.create(
            model="auto", max_tokens=50, messages=[{"role": "user", "content": prompt}]
        )
    assert an_err.value.status_code == 422
    check(an_err.value.message)

    for stream in (False, True):
        with pytest.raises(APIError) as err:
            client.responses.create(model="auto:balance", input=prompt, stream=stream)
        assert (err.value.status, err.value.type) == (422, "firewall_blocked")
        check(err.value.message)
    assert fake.requests == []  # blocked before any provider was called


def test_mask_rules_mask_a_streamed_response(client: Client, fake: FakeProviders) -> None:
    client.routing_rules.create(name="pin", action={"set_model": GPT4O})
    fake.reply("gpt-4o", "write to bob@example.com about the secret plan today")
    client.firewall_rules.create(
        name="emails",
        type="detector",
        pattern="email",
        scope="response",
        action="mask",
        replacement="[email]",
    )
    # The fake streams word by word, so "secret" and " plan" arrive in different chunks.
    client.firewall_rules.create(
        name="plans", pattern="SECRET PLAN", scope="response", action="mask", replacement="[hidden]"
    )
    with client.responses.create(model="auto", input="who do I write to?", stream=True) as stream:
        events = list(stream)
    text = "".join(e.delta.text for e in events if e.event == "content.delta" and e.delta)
    assert text == "write to [email] about the [hidden] today"
    done = [e for e in events if e.event == "done"]
    assert len(done) == 1 and events[-1] is done[0]
    final = done[0].response
    assert final is not None and final.output_text == text and stream.final == final
    assert final.router is not None and final.router.model == GPT4O
    assert done[0].usage is not None and done[0].usage.output_tokens > 0
    plain = client.responses.create(model="auto", input="again")
    assert plain.output_text == text


def test_response_block_withholds_the_answer(client: Client, fake: FakeProviders) -> None:
    client.routing_rules.create(name="pin", action={"set_model": GPT4O})
    fake.reply("gpt-4o", "the launch code is 0000 and more text after it")
    client.firewall_rules.create(name="launch codes", pattern="launch code", scope="response")
    with pytest.raises(APIError) as plain:
        client.responses.create(model="auto", input="tell me")
    seen: list[str] = []
    with pytest.raises(APIError) as streamed:
        for event in client.responses.create(model="auto", input="tell me", stream=True):
            if event.event == "content.delta" and event.delta:
                seen.append(event.delta.text)
    assert "launch code" not in "".join(seen)
    for err in (plain, streamed):
        assert (err.value.status, err.value.type) == (422, "firewall_blocked")
        assert "launch codes" in err.value.message and "0000" not in err.value.message


def test_async_client_mirrors_the_sync_one(server: ProxyServer, fake: FakeProviders) -> None:
    async def scenario() -> None:
        async with AsyncClient(
            api_key=PROXY_KEY, base_url=f"{server.url}/v1", admin_key=ADMIN_KEY
        ) as client:
            rule = await client.routing_rules.create(name="pin", action={"set_model": GPT4O})
            assert isinstance(rule, RoutingRule)
            assert [r.id for r in await client.routing_rules.list()] == [rule.id]
            assert (await client.routing_rules.retrieve(rule.id)).name == "pin"
            assert (await client.routing_rules.update(rule.id, priority=3)).priority == 3
            fw = await client.firewall_rules.create(
                name="hello", pattern="hello", scope="response", action="mask"
            )
            assert isinstance(fw, FirewallRule)
            assert (await client.firewall_rules.update(fw.id, replacement="[hi]")).replacement == (
                "[hi]"
            )
            reply = await client.responses.create(model="auto", input="hi")
            assert reply.output_text == "[hi] from gpt-4o"
            assert reply.router is not None and reply.router.rule == "pin"
            stream = await client.responses.create(model="auto", input="hi", stream=True)
            pieces = [e.delta.text async for e in stream if e.event == "content.delta" and e.delta]
            assert "".join(pieces) == "[hi] from gpt-4o"
            assert stream.final is not None and stream.final.usage.total_tokens > 0
            await client.firewall_rules.create(name="stop", pattern="hi", scope="prompt")
            with pytest.raises(APIError) as err:
                await client.responses.create(model="auto", input="hi")
            assert (err.value.status, err.value.type) == (422, "firewall_blocked")
            await client.firewall_rules.delete(fw.id)
            await client.routing_rules.delete(rule.id)
            assert await client.routing_rules.list() == []
            with pytest.raises(APIError) as gone:
                await client.routing_rules.delete(rule.id)
            assert gone.value.status == 404

    asyncio.run(scenario())


def test_client_defaults_and_transport_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERROUTER_BASE_URL", "http://127.0.0.1:1/v1/")
    monkeypatch.setenv("TIERROUTER_API_KEY", "tr-from-env")
    monkeypatch.delenv("TIERROUTER_ADMIN_KEY", raising=False)
    with Client(timeout=2) as client:
        assert client.base_url == "http://127.0.0.1:1"
        assert "tr-from-env" not in repr(client)
        with pytest.raises(APIError) as err:
            client.responses.create(input="hi")
        assert err.value.type == "connection_error" and err.value.status is None
    monkeypatch.delenv("TIERROUTER_BASE_URL")
    assert Client().base_url == "http://127.0.0.1:8080"


# ---- several workers -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _model_of(url: str, n: int) -> list[str]:
    """The model of ``n`` requests, each on a new connection so the kernel spreads them."""
    models = []
    for _ in range(n):
        answer = httpx.post(
            f"{url}/v1/chat/completions",
            json={"model": "auto:balance", "messages": [{"role": "user", "content": "hi"}]},
            headers={"authorization": f"Bearer {PROXY_KEY}", "connection": "close"},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        models.append(answer.headers["x-tierrouter-model"])
    return models


def _statuses(url: str, n: int) -> list[int]:
    return [
        httpx.post(
            f"{url}/v1/responses",
            json={"model": "auto", "input": "hi"},
            headers={"authorization": f"Bearer {PROXY_KEY}", "connection": "close"},
            timeout=10,
        ).status_code
        for _ in range(n)
    ]


def test_rule_changes_reach_every_worker(_fake_server: FakeProviders, tmp_path: Path) -> None:
    fake = _fake_server
    config = tmp_path / "config.yaml"
    config.write_text(
        f"""
keys: {{openai: {PROVIDER_KEYS["openai"]}, anthropic: {PROVIDER_KEYS["anthropic"]},
        google: {PROVIDER_KEYS["google"]}}}
providers:
  openai: {{base_url: "{fake.url("openai")}"}}
  anthropic: {{base_url: "{fake.url("anthropic")}"}}
  google: {{base_url: "{fake.url("gemini")}"}}
timeout: 5
proxy:
  proxy_keys: [{PROXY_KEY}]
  admin_key: {ADMIN_KEY}
  log_format: "off"
"""
    )
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from router.cli import main; main()",
                "serve",
                "--config",
                str(config),
                "--port",
                str(port),
                "--workers",
                "2",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        # Both workers say so once their app (and router) is up.
        deadline = time.monotonic() + 120  # a hang guard, not a speed bound
        while log.read_text().count("Application startup complete") < 2:
            assert proc.poll() is None, log.read_text()
            if time.monotonic() > deadline:
                pytest.fail(f"the workers never started:\n{log.read_text()}")
            time.sleep(0.05)
        # No policy_db in the config: the workers share one next to it.
        assert (tmp_path / "tierrouter-policy.sqlite").exists()

        default = _model_of(url, 10)
        assert OPUS not in default and len(set(default)) == 1
        with Client(api_key=PROXY_KEY, base_url=url, admin_key=ADMIN_KEY) as client:
            rule = client.routing_rules.create(name="all to opus", action={"set_model": OPUS})
            assert _model_of(url, 20) == [OPUS] * 20
            client.routing_rules.update(rule.id, action={"set_model": GPT4O})
            assert _model_of(url, 20) == [GPT4O] * 20
            block = client.firewall_rules.create(name="no hi", pattern="hi", scope="prompt")
            assert _statuses(url, 10) == [422] * 10
            client.firewall_rules.delete(block.id)
            client.routing_rules.delete(rule.id)
            assert _model_of(url, 20) == [default[0]] * 20
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_metadata_rules_fire_through_the_responses_api(client: Client, fake: FakeProviders) -> None:
    """Request metadata reaches the routing rules and never the provider."""
    client.routing_rules.create(
        name="legal team to opus", match={"metadata_equals": {"team": "legal"}},
        action={"set_model": OPUS},
    )  # fmt: skip
    other = client.responses.create(model="auto", input="hi", metadata={"team": "sales"})
    assert other.router is not None and other.router.model != OPUS
    legal = client.responses.create(model="auto", input="hi", metadata={"team": "legal"})
    assert legal.router is not None
    assert (legal.router.model, legal.router.rule) == (OPUS, "legal team to opus")
    assert "metadata" not in fake.requests[-1].body
