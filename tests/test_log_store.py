"""The SQLite decision log: concurrency, crashes, bad files, retention, never raising."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from router.log.sqlite import SQLiteDecisionLog
from router.log.store import DecisionLogError, DecisionRecord, Feedback, Outcome

ROOT = Path(__file__).resolve().parents[1]


def rec(i: int | str, ts: float | None = None, **kw: object) -> DecisionRecord:
    return DecisionRecord(
        id=f"rt-{i}", ts=ts if ts is not None else time.time(), prompt_hash=f"h{i}",
        task="general", tier="SIMPLE", language="en", source="rules", **kw,  # type: ignore[arg-type]
    )  # fmt: skip


WRITER = """
import sys, time
from router.log.sqlite import SQLiteDecisionLog
from router.log.store import DecisionRecord
path, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
log = SQLiteDecisionLog(path, busy_timeout=10)
for i in range(n):
    log.record(DecisionRecord(id=f"{tag}-{i}", ts=time.time(), prompt_hash="x", task="general",
               tier="SIMPLE", language="en", source="rules", features={"a": 0.5}))
    if n < 0 or i % 50 == 0:
        log.flush()
log.close()
"""


def test_concurrent_writers_from_several_processes_lose_nothing(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    SQLiteDecisionLog(db).close()  # created once so the writers race on rows, not on DDL
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(db), f"p{k}", "300"], env=env)
        for k in range(4)
    ]
    assert all(p.wait(timeout=60) == 0 for p in procs)
    log = SQLiteDecisionLog(db)
    assert log.count() == 1200
    assert {r.id.split("-")[0] for r in log.records()} == {"p0", "p1", "p2", "p3"}


def test_a_killed_writer_leaves_a_readable_database(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    endless = WRITER.replace("range(n)", "iter(int, 1)").replace("i % 50 == 0", "True")
    endless = endless.replace("for i in", "i = 0\nfor _ in").replace(
        'id=f"{tag}-{i}"', 'id=f"{tag}-{time.time_ns()}"'
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", endless, str(db), "k", "0"], env=env)
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            time.sleep(0.1)
            if db.exists():
                try:
                    with sqlite3.connect(db, timeout=5) as conn:
                        if conn.execute("SELECT COUNT(*) FROM decisions").fetchone()[0] > 20:
                            break
                except sqlite3.OperationalError:
                    continue
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    log = SQLiteDecisionLog(db)
    assert log.count() > 20
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    log.record(rec("after"))
    assert log.get("rt-after") is not None


def test_a_corrupted_file_is_refused_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "garbage.db"
    bad.write_bytes(os.urandom(4096))
    with pytest.raises(DecisionLogError, match=r"garbage\.db.*corrupted or not a SQLite"):
        SQLiteDecisionLog(bad)


def test_a_foreign_sqlite_database_is_refused_naming_it(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    with pytest.raises(
        DecisionLogError, match=r"other\.db: not a tierrouter decision log.*invoices"
    ):
        SQLiteDecisionLog(other)
    assert sqlite3.connect(other).execute("SELECT COUNT(*) FROM invoices").fetchone() == (0,)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    SQLiteDecisionLog(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE tierrouter_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(DecisionLogError, match="schema_version 99"):
        SQLiteDecisionLog(db)


def test_router_refuses_a_corrupted_log_at_construction(tmp_path: Path) -> None:
    from router import Router

    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database at all" * 100)
    with pytest.raises(DecisionLogError, match=r"bad\.db"):
        Router(model=False, log=bad)


def test_write_failures_become_warnings_not_errors(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "d.db"
    log = SQLiteDecisionLog(db, busy_timeout=0.05)
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holding the write lock for too long
    writers: list[threading.Thread] = []
    write = log._write

    def watched_write(conn: Any, items: list[Any]) -> Any:
        writers.append(threading.current_thread())
        return write(conn, items)

    log._write = watched_write  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING, logger="tierrouter.log"):
        for i in range(50):
            log.record(rec(i))
        log.flush(timeout=10)
    # Only the writer thread touched the locked database: the caller never waits on the lock.
    assert writers and threading.current_thread() not in writers
    blocker.execute("ROLLBACK")
    blocker.close()
    assert log.dropped == 50
    assert any("not written" in r.getMessage() for r in caplog.records)
    log.record(rec("later"))  # the writer recovers once the lock is gone
    assert log.get("rt-later") is not None


def test_a_full_queue_drops_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = SQLiteDecisionLog(tmp_path / "d.db", queue_size=1)
    with caplog.at_level(logging.WARNING, logger="tierrouter.log"):
        for i in range(200):
            log.record(rec(i))
    log.flush()
    assert log.dropped > 0 and log.count() + log.dropped == 200
    assert any("dropped" in r.getMessage() for r in caplog.records)


def test_retention_by_age_and_size(tmp_path: Path) -> None:
    log = SQLiteDecisionLog(tmp_path / "d.db")
    now = time.time()
    for i in range(300):
        log.record(rec(i, ts=now - (300 - i) * 3600 + 1800, prompt="x" * 2000))
    log.attach_outcome(Outcome("rt-0", "retried", None, now))
    log.flush()
    log.attach_feedback(Feedback("rt-0", verdict="cheaper_ok"))
    assert log.retain(max_age_days=10) == 300 - 240
    assert log.count() == 240 and not log.feedback() and not log.outcomes()
    size = log.size_bytes()
    log.retain(max_bytes=size // 2)
    assert 0 < log.count() < 240
    assert min(r.ts for r in log.records()) > now - 240 * 3600  # the oldest went first


def test_default_path_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from router.log.paths import default_log_path, model_dir

    monkeypatch.delenv("TIERROUTER_DATA_DIR", raising=False)
    monkeypatch.delenv("TIERROUTER_MODEL_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_log_path() == tmp_path / "tierrouter" / "decisions.db"
    assert model_dir() == tmp_path / "tierrouter" / "models"
    log = SQLiteDecisionLog()
    assert log.path.parent.is_dir()


def test_feedback_is_validated(tmp_path: Path) -> None:
    log = SQLiteDecisionLog(tmp_path / "d.db")
    log.record(rec(1))
    with pytest.raises(DecisionLogError, match="not in the decision log"):
        log.attach_feedback(Feedback("rt-missing", verdict="cheaper_ok"))
    with pytest.raises(DecisionLogError, match="verdict must be one of"):
        log.attach_feedback(Feedback("rt-1", verdict="meh"))
    with pytest.raises(DecisionLogError, match="tier must be one of"):
        log.attach_feedback(Feedback("rt-1", tier="HARD"))
