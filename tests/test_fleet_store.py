"""The fleet store on a real PostgreSQL: decision log, feedback, rules, registry, migrations."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fake_providers import FakeProviders
from typer.testing import CliRunner

from router import Router
from router.cli import app
from router.errors import ConfigError
from router.log.store import DecisionLogError, DecisionRecord, Feedback, Outcome

HI = [{"role": "user", "content": "Say hi"}]


def wait_for(condition: Callable[[], Any], within: float, what: str) -> Any:
    """Poll until ``condition()`` is truthy; fail naming ``what`` after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"not within {within} s: {what}")
        time.sleep(0.01)


def record(i: int, ts: float | None = None) -> DecisionRecord:
    return DecisionRecord(
        id=f"rt-{i}", ts=ts or time.time(), prompt_hash=f"h{i}", task="chat", tier="simple",
        language="en", source="rules", attempts=[{"model": "oa/fast-1", "ok": True}],
        cost=0.001 * i,
    )  # fmt: skip


def test_decision_log_round_trip_and_idempotent_ids(pg_url: str, tmp_path: Path) -> None:
    from router.log.postgres import PostgresDecisionLog

    with PostgresDecisionLog(pg_url, spool_dir=tmp_path) as log:
        for i in range(5):
            log.record(record(i, ts=1000.0 + i))
        log.record(record(2, ts=1000.0 + 2))  # the same id again: stored once
        log.attach_outcome(Outcome("rt-1", "retried", "rt-2", 1001.5))
        assert log.flush()
        assert log.count() == 5
        got = log.get("rt-3")
        assert got is not None and got.attempts == [{"model": "oa/fast-1", "ok": True}]
        assert [r.id for r in log.records(since=1001.0, until=1004.0)] == ["rt-1", "rt-2", "rt-3"]
        assert [o.kind for o in log.outcomes("rt-1")] == ["retried"]
        log.attach_feedback(Feedback("rt-4", verdict="cheaper_ok"))
        assert [f.verdict for f in log.feedback("rt-4")] == ["cheaper_ok"]
        with pytest.raises(DecisionLogError, match="rt-404"):
            log.feedback_wait = 0.1
            log.attach_feedback(Feedback("rt-404", rating=3))


def test_feedback_to_another_instance_attaches_to_the_decision(
    pg_url: str, make_router: Callable[..., Router]
) -> None:
    a = make_router(store=pg_url)
    b = make_router(store=pg_url)
    reply = a.chat(HI)
    # No flush on A: B finds the decision as soon as A's writer has sent it.
    b.feedback(reply.decision.id, verdict="needed_stronger", comment="via b")
    assert b.decision_log is not None
    assert [f.comment for f in b.decision_log.feedback(reply.decision.id)] == ["via b"]
    assert a.decision_log is not None
    assert a.decision_log.feedback(reply.decision.id)[0].verdict == "needed_stronger"


def test_a_rule_made_on_one_instance_applies_on_every_instance(
    pg_url: str, make_router: Callable[..., Router], fake: FakeProviders
) -> None:
    a = make_router(store=pg_url)
    b = make_router(store=pg_url)
    assert b.route(HI).chain[0].id == "oa/fast-1"
    a.rules.create(name="to anthropic", action={"set_model": "an/claude-x"})
    wait_for(lambda: b.route(HI).chain[0].id == "an/claude-x", 1.0, "rule reached instance b")
    a.firewall.create(name="no secrets", pattern="hunter2", action="block")
    blocked = [{"role": "user", "content": "my password is hunter2"}]

    def b_blocks() -> bool:
        try:
            b.chat(blocked)
        except Exception as exc:
            return "firewall" in type(exc).__name__.lower() or "firewall" in str(exc).lower()
        return False

    wait_for(b_blocks, 1.0, "firewall rule reached instance b")


def challenger(tmp_path: Path, version: str) -> Path:
    """A registry folder holding the bundled model under another version name."""
    import json

    from router.decision.artifact import bundled_artifact_path

    bundled = bundled_artifact_path()
    folder = tmp_path / f"20260101-000000-{version}"
    folder.mkdir()
    for file in bundled.parent.glob(bundled.stem + ".*"):
        if file.suffix in (".json", ".npz"):
            (folder / ("model" + file.suffix)).write_bytes(file.read_bytes())
    meta = json.loads((folder / "model.json").read_text())
    meta["version"] = version
    (folder / "model.json").write_text(json.dumps(meta))
    (folder / "metrics.json").write_text(json.dumps({"created": 1.0}))
    return folder


def test_promote_makes_every_instance_serve_the_champion(pg_url: str, tmp_path: Path) -> None:
    from router.log.pg_registry import PgRegistry

    folder = challenger(tmp_path, "challenger-1")
    PgRegistry(pg_url).publish(folder)
    routers = [Router(store=pg_url, log=False) for _ in range(2)]
    try:
        assert all(r.classifier.model is not None for r in routers)
        before = {r.classifier.model.version for r in routers if r.classifier.model}
        assert "challenger-1" not in before
        result = CliRunner().invoke(app, ["models", "promote", folder.name, "--store", pg_url])
        assert result.exit_code == 0, result.output
        for r in routers:
            wait_for(
                lambda r=r: (
                    r.classifier.model is not None and r.classifier.model.version == "challenger-1"
                ),
                5.0,
                "every instance serves the promoted model",
            )
        listed = CliRunner().invoke(
            app, ["models", "list", "--store", pg_url], env={"COLUMNS": "200"}
        )
        assert folder.name in listed.output
    finally:
        for r in routers:
            r.close()


def test_a_fleet_instance_ignores_this_machines_registry_and_rolls_back_to_bundled(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every instance serves the store's champion: a model promoted in one machine's
    file registry must not make that instance differ, before a promotion or after a
    rollback past the first one."""
    from router.decision.artifact import bundled_artifact_path, load_artifact
    from router.log import registry
    from router.log.pg_registry import PgRegistry

    bundled = load_artifact(bundled_artifact_path()).version
    local = tmp_path / "local-models"
    local.mkdir()
    registry.promote(challenger(local, "local-only").name, local)
    monkeypatch.setenv("TIERROUTER_MODEL_DIR", str(local))
    assert Router(log=False).classifier.model.version == "local-only"  # type: ignore[union-attr]

    folder = challenger(tmp_path, "fleet-1")
    store = PgRegistry(pg_url)
    store.publish(folder)
    router = Router(store=pg_url, log=False)
    try:
        assert router.classifier.model is not None
        assert router.classifier.model.version == bundled

        def serving() -> str | None:
            return router.classifier.model.version if router.classifier.model else None

        store.promote(folder.name)
        wait_for(lambda: serving() == "fleet-1", 5.0, "the champion")
        assert store.rollback() is None
        wait_for(lambda: serving() == bundled, 5.0, "the bundled model after the rollback")
        router.reload_model()  # POST /admin/reload-model: still not this machine's model
        assert router.classifier.model is not None
        assert router.classifier.model.version == bundled
    finally:
        router.close()


def test_db_upgrade_on_sqlite_and_postgres(pg_url: str, tmp_path: Path) -> None:
    import psycopg

    runner = CliRunner()
    log = tmp_path / "decisions.db"
    first = runner.invoke(app, ["db", "upgrade", "--store", str(log)])
    assert first.exit_code == 0, first.output
    assert "applied 1" in first.output and "applied 2" in first.output
    again = runner.invoke(app, ["db", "upgrade", "--store", str(log)])
    assert "applied" not in again.output and "schema version 2" in again.output
    pg = runner.invoke(app, ["db", "upgrade", "--store", pg_url])
    assert pg.exit_code == 0, pg.output
    assert "schema version 1" in pg.output
    # A store left at an older version is refused with the way out.
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO tierrouter_schema VALUES (0, 'older', 0)")
        conn.execute("DELETE FROM tierrouter_schema WHERE version = 1")
    from router.db.postgres import close_pools

    close_pools()
    with pytest.raises(ConfigError, match="tierrouter db upgrade"):
        Router(store=pg_url, log=False, model=False)


def test_config_file_store_and_state(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("store: redis://wrong\n")
    with pytest.raises(ConfigError, match=r"c.yaml:1: store: expected a URL like postgresql://"):
        Router.from_config(config)
    config.write_text("state: postgresql://x/y\n")
    with pytest.raises(ConfigError, match=r"c.yaml:1: state: expected a URL like redis://"):
        Router.from_config(config)


def test_train_on_the_whole_fleets_log(pg_url: str, tmp_path: Path) -> None:
    from log_helpers import synthetic_log

    from router.log.pg_registry import PgRegistry
    from router.log.postgres import PostgresDecisionLog
    from training.config import TrainConfig
    from training.retrain import train_with_logs
    from training.sources import project_data

    data = Path(__file__).resolve().parents[1] / "data"
    base = project_data.load(data / "en_a.jsonl", data / "de.jsonl", data / "fr.jsonl")[::2]
    rows = [{"prompt": ex.prompt_text(), "verdict": "cheaper_ok"} for ex in base[:40]]
    local = synthetic_log(tmp_path / "d.db", rows)
    # Two instances wrote half of the log each.
    writers = [PostgresDecisionLog(pg_url, spool_dir=tmp_path / f"s{i}") for i in range(2)]
    records = list(local.records())
    for i, rec in enumerate(records):
        writers[i % 2].record(rec)
    for w in writers:
        assert w.flush()
    for f in local.feedback():
        writers[1].attach_feedback(f)
    fast = TrainConfig(c_grid=(1.0,), holdout_folds=2, max_iter=150)
    result = train_with_logs(pg_url, base_rows=base, cfg=fast, force=True,
                             registry=tmp_path / "models")  # fmt: skip
    used = result.metrics["log_rows"]
    assert used["train"] + used["held_out"] == len(rows)
    assert PgRegistry(pg_url).champion() == result.name


def test_a_spool_left_by_a_dead_process_is_replayed_once(pg_url: str, tmp_path: Path) -> None:
    import json

    from router.log.postgres import PostgresDecisionLog

    lines = [json.dumps({"k": "record", "d": record(i, ts=2000.0 + i).to_dict()}) for i in (1, 2)]
    # No process has pid 99999999; the last line was cut by the crash.
    (tmp_path / "99999999-dead.jsonl").write_text("\n".join(lines) + "\n" + lines[0][:20])
    with PostgresDecisionLog(pg_url, spool_dir=tmp_path) as log:
        log.record(record(1, ts=2000.0 + 1))  # already in the spool: still stored once
        wait_for(lambda: not (tmp_path / "99999999-dead.jsonl").exists(), 5, "the spool is adopted")
        assert log.flush()
        assert sorted(r.id for r in log.records()) == ["rt-1", "rt-2"]


def test_a_waiter_for_durability_does_not_wait_for_the_batch_to_fill(
    pg_url: str, tmp_path: Path
) -> None:
    """The proxy answers once its row is stored: the writer's linger (which fills
    batches when nobody waits) must end as soon as somebody does."""
    import asyncio

    from router.log.postgres import PostgresDecisionLog

    async def stored(log: PostgresDecisionLog) -> list[bool]:
        results = []
        for i in range(3):
            log.record(record(i + 1))
            results.append(await log.awritten(timeout=10.0))
        return results

    with PostgresDecisionLog(pg_url, spool_dir=tmp_path, linger=3600.0) as log:
        assert asyncio.run(stored(log)) == [True, True, True]
        assert log.written == 3
