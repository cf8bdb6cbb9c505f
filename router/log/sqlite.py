"""The default decision log: one SQLite file, written from a background thread.

Why this shape:

* **WAL + busy timeout** so several proxy workers (processes) append to one file
  while ``tierrouter stats`` reads it; each batch is one transaction, so a writer
  killed mid-way leaves the file readable with every committed batch intact.
* **A bounded queue and one writer thread** so a routed call only pays for a
  ``put_nowait``. A full queue, a full disk or a database locked past the busy
  timeout costs the affected records and a logged warning (logger
  ``tierrouter.log``), never an exception in the caller.
* **A meta table** (``tierrouter_meta``: app name and schema version) so a
  foreign or corrupted file is refused at open with an error naming it, instead
  of being written into.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import closing, suppress
from pathlib import Path
from typing import Any

from router.db.migrations import SQLITE_DECISIONS, latest, upgrade_sqlite
from router.log.barrier import WriteBarrier
from router.log.paths import default_log_path
from router.log.rows import COLUMNS, record_from_row, row_values
from router.log.store import DecisionLogError, DecisionRecord, Feedback, Outcome
from router.log.writer import STOP, QueuedWriter

__all__ = ["SCHEMA_VERSION", "SQLiteDecisionLog"]

SCHEMA_VERSION = latest(SQLITE_DECISIONS)
APP_ID = "tierrouter-decisions"
_log = logging.getLogger("tierrouter.log")

_OPEN: weakref.WeakSet[SQLiteDecisionLog] = weakref.WeakSet()


class SQLiteDecisionLog(QueuedWriter):
    """A :class:`~router.log.store.DecisionLog` in one SQLite file.

    Args:
        path: the database file (default: :func:`router.log.paths.default_log_path`).
        queue_size: records waiting for the writer beyond this are dropped (with a warning).
        busy_timeout: seconds a write waits for another process's lock.
        max_age_days, max_bytes: retention, applied by the writer when it starts
            and every ``retention_every`` writes.

    Raises:
        DecisionLogError: the file exists but is not a tierrouter decision log
            (corrupted, another application's database, or a newer schema).
    """

    thread_name = "tierrouter-decision-log"

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        queue_size: int = 10_000,
        busy_timeout: float = 5.0,
        max_age_days: float | None = None,
        max_bytes: int | None = None,
        retention_every: int = 1000,
        batch_size: int = 256,
    ) -> None:
        self.path = Path(path).expanduser() if path is not None else default_log_path()
        self.busy_timeout = busy_timeout
        self.max_age_days = max_age_days
        self.max_bytes = max_bytes
        self._retention_every = retention_every
        self._batch_size = batch_size
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False
        self._last_warning: dict[str, float] = {}
        self.dropped = 0
        self._barrier = WriteBarrier()  # what awritten waits on
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DecisionLogError(
                f"decision log {self.path}: cannot create its folder: {exc.strerror}"
            ) from None
        try:
            with closing(self._connect()):
                pass
        except sqlite3.OperationalError as exc:
            if not _transient(exc):
                raise DecisionLogError(f"decision log {self.path}: cannot open: {exc}") from None
            # Locked or out of space right now: calls must go on; the writer retries.
            self._warn("open", f"decision log {self.path} not ready yet ({exc}); will retry")
        _OPEN.add(self)

    def __repr__(self) -> str:
        return f"SQLiteDecisionLog({str(self.path)!r})"

    # ---- connections -------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise DecisionLogError(f"decision log {self.path}: cannot open: {exc}") from None
        try:
            conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
            self._check_schema(conn)
        except sqlite3.DatabaseError as exc:
            conn.close()
            if isinstance(exc, sqlite3.OperationalError) and _transient(exc):
                raise
            raise DecisionLogError(
                f"{self.path}: not a usable tierrouter decision log: the file is corrupted or "
                f"not a SQLite database ({exc}); move it aside or choose another log path"
            ) from None
        except DecisionLogError:
            conn.close()
            raise
        return conn

    def _check_schema(self, conn: sqlite3.Connection) -> None:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            # auto_vacuum must be chosen before the first table exists.
            conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(
                "CREATE TABLE IF NOT EXISTS tierrouter_meta "
                "(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            )
            conn.execute(
                "INSERT OR IGNORE INTO tierrouter_meta VALUES ('app', ?), ('schema_version', '0')",
                (APP_ID,),
            )
            upgrade_sqlite(conn, 0)
            return
        if "tierrouter_meta" not in tables:
            shown = ", ".join(sorted(tables)[:5])
            raise DecisionLogError(
                f"{self.path}: not a tierrouter decision log (it is another SQLite database "
                f"with tables {shown}); choose another log path"
            )
        meta = dict(conn.execute("SELECT key, value FROM tierrouter_meta").fetchall())
        if meta.get("app") != APP_ID:
            raise DecisionLogError(
                f"{self.path}: tierrouter_meta.app is {meta.get('app')!r}, "
                f"expected {APP_ID!r}; choose another log path"
            )
        version = int(meta.get("schema_version", "0"))
        if version > SCHEMA_VERSION:
            raise DecisionLogError(
                f"{self.path}: schema_version {version} was written by a newer tierrouter "
                f"(this one reads {SCHEMA_VERSION}); upgrade tierrouter or use another path"
            )
        conn.execute("PRAGMA journal_mode=WAL")
        if version < SCHEMA_VERSION:
            upgrade_sqlite(conn, version)

    # ---- the write path (never raises) ---------------------------------------------

    def record(self, record: DecisionRecord) -> None:
        self._put(("record", record))

    def attach_outcome(self, outcome: Outcome) -> None:
        self._put(("outcome", outcome))

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        writes = 0
        if self.max_age_days is not None or self.max_bytes is not None:
            self._safe_retain()
        while True:
            batch = [self._queue.get()]
            while len(batch) < self._batch_size:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = any(item is STOP for item in batch)
            items = [item for item in batch if item is not STOP]
            try:
                if items:
                    conn = self._write(conn, items)
                    writes += len(items)
                    if self._retention_every and writes >= self._retention_every:
                        writes = 0
                        if self.max_age_days is not None or self.max_bytes is not None:
                            self._safe_retain()
            except Exception as exc:  # disk full, locked past retries, a bad value: drop, warn
                if conn is not None:
                    conn.close()
                conn = None
                self.dropped += len(items)
                self._barrier.failed()
                self._warn(
                    type(exc).__name__,
                    f"decision log {self.path}: {len(items)} entries not written ({exc})",
                )
            finally:
                self._barrier.settle(len(items))
                for _ in batch:
                    self._queue.task_done()
            if stop:
                if conn is not None:
                    conn.close()
                return

    def _write(self, conn: sqlite3.Connection | None, items: list[Any]) -> sqlite3.Connection:
        for attempt in range(3):
            try:
                if conn is None:
                    conn = self._connect()
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for kind, obj in items:
                        if kind == "record":
                            _insert_record(conn, obj)
                        else:
                            conn.execute(
                                "INSERT INTO outcomes (decision_id, ts, kind, detail) "
                                "VALUES (?, ?, ?, ?)",
                                (obj.decision_id, obj.ts or time.time(), obj.kind, obj.detail),
                            )
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                return conn
            except sqlite3.OperationalError as exc:
                if not _transient(exc) or attempt == 2:
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    # ---- feedback (synchronous: the user wants to know it was stored) ---------------

    def attach_feedback(self, feedback: Feedback) -> None:
        feedback.validate()
        self.flush()
        with closing(self._connect()) as conn:
            found = conn.execute(
                "SELECT 1 FROM decisions WHERE id = ?", (feedback.decision_id,)
            ).fetchone()
            if not found:
                raise DecisionLogError(
                    f"decision {feedback.decision_id!r} is not in the decision log {self.path}"
                )
            conn.execute(
                "INSERT INTO feedback (decision_id, ts, rating, verdict, task, tier, source, "
                "comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    feedback.decision_id,
                    feedback.ts or time.time(),
                    feedback.rating,
                    feedback.verdict,
                    feedback.task,
                    feedback.tier,
                    feedback.source,
                    feedback.comment,
                ),
            )

    # ---- reads ---------------------------------------------------------------------

    def get(self, decision_id: str) -> DecisionRecord | None:
        self.flush()
        with closing(self._connect()) as conn:
            conn.row_factory = sqlite3.Row
            row = conn.execute("SELECT * FROM decisions WHERE id = ?", (decision_id,)).fetchone()
        return record_from_row(row) if row is not None else None

    def records(
        self, *, since: float | None = None, until: float | None = None, limit: int | None = None
    ) -> Iterator[DecisionRecord]:
        self.flush()
        sql = "SELECT * FROM decisions WHERE ts >= ? AND ts < ? ORDER BY ts, id"
        args: list[Any] = [since if since is not None else 0.0, until or float("inf")]
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        with closing(self._connect()) as conn:
            conn.row_factory = sqlite3.Row
            cursor = conn.execute(sql, args)
            while True:
                rows = cursor.fetchmany(500)
                if not rows:
                    return
                for row in rows:
                    yield record_from_row(row)

    def feedback(self, decision_id: str | None = None) -> list[Feedback]:
        self.flush()
        where, args = ("WHERE decision_id = ?", (decision_id,)) if decision_id else ("", ())
        with closing(self._connect()) as conn:
            rows = conn.execute(
                "SELECT decision_id, rating, verdict, task, tier, source, comment, ts "
                f"FROM feedback {where} ORDER BY ts, n",
                args,
            ).fetchall()
        return [Feedback(*row) for row in rows]

    def outcomes(self, decision_id: str | None = None) -> list[Outcome]:
        self.flush()
        where, args = ("WHERE decision_id = ?", (decision_id,)) if decision_id else ("", ())
        with closing(self._connect()) as conn:
            rows = conn.execute(
                f"SELECT decision_id, kind, detail, ts FROM outcomes {where} ORDER BY ts, n", args
            ).fetchall()
        return [Outcome(*row) for row in rows]

    def count(self) -> int:
        self.flush()
        with closing(self._connect()) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM decisions").fetchone()[0])

    def size_bytes(self) -> int:
        total = 0
        for suffix in ("", "-wal"):
            with suppress(OSError):
                total += os.path.getsize(f"{self.path}{suffix}")
        return total

    # ---- retention -----------------------------------------------------------------

    def _safe_retain(self) -> None:
        try:
            self.retain(max_age_days=self.max_age_days, max_bytes=self.max_bytes)
        except Exception as exc:
            self._warn("retention", f"decision log {self.path}: retention skipped ({exc})")

    def retain(self, *, max_age_days: float | None = None, max_bytes: int | None = None) -> int:
        """Delete records older than ``max_age_days`` and the oldest beyond ``max_bytes``.

        Feedback and outcomes go with their decision. Returns the decisions deleted.
        """
        deleted = 0
        with closing(self._connect()) as conn:
            if max_age_days is not None:
                deleted += _delete_before(conn, time.time() - max_age_days * 86400)
            if max_bytes is not None and self.size_bytes() > max_bytes:
                total = int(conn.execute("SELECT COUNT(*) FROM decisions").fetchone()[0])
                # Keep the newest share that fits, with 10 % headroom so we do not trim
                # again on the next write.
                keep = int(total * max_bytes / max(self.size_bytes(), 1) * 0.9)
                row = conn.execute(
                    "SELECT ts FROM decisions ORDER BY ts DESC LIMIT 1 OFFSET ?", (keep,)
                ).fetchone()
                if row is not None:
                    deleted += _delete_before(conn, float(row[0]) + 1e-9)
            if deleted:
                conn.execute("PRAGMA incremental_vacuum")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return deleted


def _delete_before(conn: sqlite3.Connection, cutoff: float) -> int:
    conn.execute("BEGIN IMMEDIATE")
    try:
        old = "SELECT id FROM decisions WHERE ts < ?"
        conn.execute(f"DELETE FROM feedback WHERE decision_id IN ({old})", (cutoff,))
        conn.execute(f"DELETE FROM outcomes WHERE decision_id IN ({old})", (cutoff,))
        n = conn.execute("DELETE FROM decisions WHERE ts < ?", (cutoff,)).rowcount
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return int(n)


def _transient(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text or "disk is full" in text or "disk i/o" in text


def _insert_record(conn: sqlite3.Connection, record: DecisionRecord) -> None:
    columns = ", ".join((*COLUMNS, "n_attempts"))
    marks = ", ".join("?" * (len(COLUMNS) + 1))
    conn.execute(
        f"INSERT OR REPLACE INTO decisions ({columns}) VALUES ({marks})", row_values(record)
    )


@atexit.register
def _flush_open_logs() -> None:
    # Queued records of a short script should reach the file before the interpreter exits.
    for log in list(_OPEN):
        log.flush(timeout=2.0)
        log.close()
