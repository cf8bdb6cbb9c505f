"""Routed calls land in the log with outcome signals; feedback via library, CLI and proxy."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest_providers import KEYS
from fake_providers import FakeProviders, Fault

from router import APIError, Router
from router.log.store import DecisionLogError, DecisionRecord

MakeRouter = Callable[..., Router]


def test_routed_calls_are_recorded_without_keys_or_text(
    fake: FakeProviders, make_router: MakeRouter, tmp_path: Path
) -> None:
    db = tmp_path / "d.db"
    router = make_router(log=db)
    reply = router.chat(f"What is the capital of France? my key is {KEYS['oa']}")
    router.close()
    log = router.decision_log
    assert log is not None
    rec = log.get(reply.decision.id)
    assert rec is not None and rec.status == "ok" and rec.model_used == "oa/fast-1"
    assert rec.task == reply.decision.task.value and rec.tier == reply.decision.tier.value
    assert rec.features and rec.tier_probabilities and rec.prompt_hash
    assert rec.cost == pytest.approx(reply.cost) and rec.baseline_cost > rec.cost
    assert rec.prompt_tokens and rec.completion_tokens and rec.latency_ms > 0
    assert rec.prompt is None and rec.response is None  # text only on opt-in
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for key in KEYS.values():
        assert key.encode() not in raw


def test_opt_in_prompts_are_redacted(
    fake: FakeProviders, make_router: MakeRouter, tmp_path: Path
) -> None:
    router = make_router(
        log={"path": str(tmp_path / "d.db"), "store_prompts": True},
        redact=lambda s: s.replace("Alice", "[NAME]"),
    )
    reply = router.chat(f"Alice asks: summarise this. key {KEYS['oa']}")
    router.close()
    rec = router.decision_log.get(reply.decision.id)  # type: ignore[union-attr]
    assert rec is not None and rec.prompt is not None
    assert rec.prompt.startswith("[NAME] asks") and "[REDACTED]" in rec.prompt
    assert KEYS["oa"] not in rec.prompt and rec.response == "Hello from fast-1"


def test_automatic_outcome_signals(
    fake: FakeProviders, make_router: MakeRouter, tmp_path: Path
) -> None:
    router = make_router(log=tmp_path / "d.db")
    fake.fail("fast-1", Fault(status=500), Fault(status=500))
    failed_over = router.chat("Name three rivers in Europe")
    first = router.chat("Translate 'good morning' into German")
    again = router.chat("Translate 'good morning' into German")
    for name in ("fast-1", "claude-x", "gem-x"):  # fast-1 may still be cooling down
        fake.reply(name, "I'm sorry, but I can't help with that.")
    refused = router.chat("Tell me a joke about cats")
    fake.fail("claude-x", Fault(status=400))
    with pytest.raises(APIError):
        router.chat("This request fails", model="an/claude-x")
    router.close()
    log = router.decision_log
    assert log is not None
    kinds = {(o.decision_id, o.kind) for o in log.outcomes()}
    assert (failed_over.decision.id, "failover") in kinds
    assert (first.decision.id, "retried") in kinds and (again.decision.id, "retried") not in kinds
    assert (refused.decision.id, "refused") in kinds
    errors = [r for r in log.records() if r.status == "error"]
    assert len(errors) == 1 and errors[0].attempts[0]["status"] == 400
    assert any(k == "error" for _, k in kinds)


def test_streams_are_recorded_when_they_end(
    fake: FakeProviders, make_router: MakeRouter, tmp_path: Path
) -> None:
    async def main() -> str:
        async with make_router(log={"path": str(tmp_path / "d.db"), "store_prompts": True}) as r:
            stream = await r.achat_stream("Say hello")
            _ = [c async for c in stream]
            assert stream.decision.id is not None
            r.decision_log.flush()  # type: ignore[union-attr]
            return stream.decision.id

    decision_id = asyncio.run(main())
    from router.log.sqlite import SQLiteDecisionLog

    rec = SQLiteDecisionLog(tmp_path / "d.db").get(decision_id)
    assert rec is not None and rec.stream and rec.response == "Hello from fast-1"
    assert rec.finish_reason == "stop" and rec.completion_tokens


def test_a_broken_log_never_breaks_a_call(fake: FakeProviders, make_router: MakeRouter) -> None:
    class Exploding:
        path = "memory"

        def record(self, record: DecisionRecord) -> None:
            raise OSError("No space left on device")

        def attach_outcome(self, outcome: object) -> None:
            raise OSError("No space left on device")

        def flush(self, timeout: float = 5.0) -> bool:
            raise OSError("No space left on device")

    router = make_router(log=Exploding())
    assert router.chat("Hi there").content == "Hello from fast-1"


def test_feedback_through_the_library(
    fake: FakeProviders, make_router: MakeRouter, tmp_path: Path
) -> None:
    router = make_router(log=tmp_path / "d.db")
    reply = router.chat("Write a limerick about a cat")
    router.feedback(reply.decision.id, verdict="needed_stronger", rating=2, comment="flat")
    router.feedback(reply.decision.id, tier="COMPLEX", task="creative_writing")
    got = router.decision_log.feedback(reply.decision.id)  # type: ignore[union-attr]
    assert [(f.verdict, f.tier) for f in got] == [("needed_stronger", None), (None, "COMPLEX")]
    with pytest.raises(DecisionLogError, match="not in the decision log"):
        router.feedback("rt-nope", verdict="cheaper_ok")
    with pytest.raises(DecisionLogError, match="Router\\(log=True\\)"):
        make_router().feedback(reply.decision.id, verdict="cheaper_ok")


def test_feedback_through_the_cli(
    fake: FakeProviders, make_router: MakeRouter, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from router.cli.app import app

    db = tmp_path / "d.db"
    router = make_router(log=db)
    reply = router.chat("Write a haiku about rain")
    router.close()
    run = CliRunner().invoke
    ok = run(app, ["feedback", reply.decision.id, "--verdict", "cheaper-ok", "--log", str(db)])
    assert ok.exit_code == 0, ok.output
    bad = run(app, ["feedback", reply.decision.id, "--tier", "HUGE", "--log", str(db)])
    assert bad.exit_code == 2 and "tier must be one of" in bad.output
    missing = run(app, ["feedback", "rt-x", "--rating", "4", "--log", str(tmp_path / "no.db")])
    assert missing.exit_code == 2 and "no decision log at" in missing.output
    from router.log.sqlite import SQLiteDecisionLog

    assert [f.verdict for f in SQLiteDecisionLog(db).feedback()] == ["cheaper_ok"]


def test_feedback_through_the_proxy(
    fake: FakeProviders, make_router: MakeRouter, tmp_path: Path
) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from router.proxy import feedback_route
    from router.proxy.context import ProxyContext
    from router.proxy.settings import ProxySettings
    from router.secrets import Secret

    router = make_router(log=tmp_path / "d.db")
    reply = router.chat("Explain recursion briefly")
    app = Starlette(routes=[
        Route("/v1/feedback", feedback_route.feedback, methods=["POST"]),
        Route("/admin/reload-model", feedback_route.reload_model, methods=["POST"]),
    ])  # fmt: skip
    settings = ProxySettings(proxy_keys=(Secret("pk-1"),), admin_key=Secret("ak-1"))
    app.state.proxy = ProxyContext(router, settings)
    auth = {"authorization": "Bearer pk-1"}
    with TestClient(app) as client:
        body = {"decision_id": reply.decision.id, "verdict": "cheaper_ok", "rating": 5}
        assert client.post("/v1/feedback", json=body).status_code == 401
        ok = client.post("/v1/feedback", json=body, headers=auth)
        assert ok.status_code == 200 and ok.json()["ok"] is True
        unknown = client.post(
            "/v1/feedback", json={"decision_id": "rt-x", "rating": 3}, headers=auth
        )
        assert unknown.status_code == 400 and "decision_id" in unknown.text
        odd = client.post("/v1/feedback", json={**body, "mood": "meh"}, headers=auth)
        assert odd.status_code == 400 and "mood" in odd.text
        # The model is the admin's: a proxy key may send feedback, not reload.
        assert client.post("/admin/reload-model", headers=auth).status_code == 401
        admin = {"authorization": "Bearer ak-1"}
        reload = client.post("/admin/reload-model", headers=admin)
        assert reload.status_code == 200 and reload.json()["ok"] is True
    assert [f.rating for f in router.decision_log.feedback()] == [5.0]  # type: ignore[union-attr]


def test_config_file_log_section(tmp_path: Path) -> None:
    from router.config import load_config
    from router.errors import ConfigError

    good = tmp_path / "c.yaml"
    good.write_text(f"log:\n  enabled: true\n  path: {tmp_path / 'x.db'}\n  store_prompts: true\n")
    config = load_config(good, env={})
    router = Router(model=False, **config.router_kwargs())
    assert router.decision_log is not None and router.decision_log.path == tmp_path / "x.db"
    bad = tmp_path / "bad.yaml"
    bad.write_text("log:\n  store_prompts: maybe\n")
    with pytest.raises(ConfigError, match=r"bad.yaml:1: log: store_prompts: must be true or false"):
        load_config(bad, env={})
