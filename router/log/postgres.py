"""The fleet's decision log: every instance writes to one PostgreSQL database.

Why this shape:

* **The same queue and writer thread as the SQLite log**: a routed call pays a
  ``put_nowait``; the writer sends up to ``batch_size`` rows per transaction,
  waiting up to ``linger`` seconds for a batch to fill (a row reaches the
  store at most that much later; feedback on another instance waits for it).
* **A spool when PostgreSQL is away**: rows that cannot be written are appended,
  in order, to a local JSON-lines file; while the file holds anything, new rows
  go behind them, and the writer replays it (in order) as soon as the server
  answers. Decisions are keyed by their id and feedback and outcomes by a uid
  given at enqueue time, all inserted with ``ON CONFLICT DO NOTHING``: a replay
  cut short and repeated adds nothing twice.
* **Spool files per writer** (``<pid>-<id>.jsonl``): workers on one machine never
  interleave lines; a file left by a process that died is adopted and replayed
  by the next writer that starts on the same store.
* **Feedback waits for the decision**: feedback may reach instance B before
  instance A's writer has flushed the decision it names, so B looks for it for
  up to ``feedback_wait`` seconds before answering "unknown id".
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import logging
import os
import queue
import threading
import time
import uuid
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from router.db.urls import redacted
from router.log.barrier import WriteBarrier
from router.log.rows import COLUMNS, record_from_row, row_values
from router.log.store import DecisionLogError, DecisionRecord, Feedback, Outcome
from router.log.writer import STOP, QueuedWriter

__all__ = ["PostgresDecisionLog"]

_log = logging.getLogger("tierrouter.log")
# Put by a waiter for durability (the proxy, before it answers): send the batch now.
_NUDGE = object()
_OPEN: weakref.WeakSet[PostgresDecisionLog] = weakref.WeakSet()
_INSERT_DECISION = (
    f"INSERT INTO decisions ({', '.join((*COLUMNS, 'n_attempts'))}) "
    f"VALUES ({', '.join(['%s'] * (len(COLUMNS) + 1))}) ON CONFLICT (id) DO NOTHING"
)
_INSERT_OUTCOME = (
    "INSERT INTO outcomes (uid, decision_id, ts, kind, detail) VALUES (%s, %s, %s, %s, %s) "
    "ON CONFLICT (uid) DO NOTHING"
)
_INSERT_FEEDBACK = (
    "INSERT INTO feedback (uid, decision_id, ts, rating, verdict, task, tier, source, comment) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (uid) DO NOTHING"
)


def default_spool_dir(url: str) -> Path:
    from router.log.paths import data_dir

    digest = hashlib.sha256(redacted(url).encode()).hexdigest()[:12]
    return data_dir() / "spool" / digest


class PostgresDecisionLog(QueuedWriter):
    """A :class:`~router.log.store.DecisionLog` in PostgreSQL, shared by every instance.

    Args:
        url: ``postgresql://user:password@host:port/database``.
        spool_dir: where rows wait while the server is away (default: under the
            user data directory, one folder per store).
        feedback_wait: seconds feedback looks for a decision not yet written.

    Raises:
        ConfigError: the client is not installed, or the store's schema is at
            another version (``tierrouter db upgrade``).
    """

    thread_name = "tierrouter-decision-log-pg"

    def __init__(
        self,
        url: str,
        *,
        spool_dir: str | Path | None = None,
        queue_size: int = 10_000,
        batch_size: int = 256,
        retry_every: float = 0.5,
        feedback_wait: float = 3.0,
        linger: float = 0.05,
    ) -> None:
        from router.db.postgres import shared_pool

        self.url = url
        self.path = redacted(url)
        self._pool = shared_pool(url)
        self.spool_dir = Path(spool_dir) if spool_dir is not None else default_spool_dir(url)
        # One file per log object (pid first, for adoption once the process is gone).
        self._spool = self.spool_dir / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
        self._batch_size = batch_size
        self._retry_every = retry_every
        self._linger = linger
        self.feedback_wait = feedback_wait
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False
        self._last_warning: dict[str, float] = {}
        self.dropped = 0
        self.written = 0
        self._barrier = WriteBarrier(self._nudge)  # what awritten waits on
        # True while rows wait in the spool: /health and /metrics say so.
        self.spooling = False
        self.spooled = 0
        _OPEN.add(self)
        if self._orphans():
            self.spooling = True
            self._start()  # replay what a dead process left, even before the first call

    def __repr__(self) -> str:
        return f"PostgresDecisionLog({self.path!r})"

    # ---- the write path (never raises) ---------------------------------------------

    def record(self, record: DecisionRecord) -> None:
        self._put(("record", record.to_dict()))

    def attach_outcome(self, outcome: Outcome) -> None:
        o = outcome
        self._put(("outcome", [uuid.uuid4().hex, o.decision_id, o.ts or time.time(), o.kind,
                               o.detail]))  # fmt: skip

    def _nudge(self) -> None:
        """A caller waits for its row: the writer stops lingering for a fuller batch.

        The linger saves transactions when nobody waits (library calls); a proxy
        answer that waits on durability would otherwise pay it on every request.
        """
        if self._closed:
            return
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(_NUDGE)

    def _run(self) -> None:
        conn: Any = None
        while True:
            try:
                first = self._queue.get(timeout=self._retry_every)
            except queue.Empty:
                if self._spool_pending():
                    conn = self._replay(conn)
                continue
            if first is _NUDGE:
                # Its rows were taken by an earlier batch (FIFO): nothing to hurry.
                self._queue.task_done()
                continue
            batch = [first]
            # Linger a moment for more: at low load every row was its own transaction,
            # which cost the server and this process's GIL more than the rows did.
            # A waiter's nudge ends the linger (the rows it waits for are in the batch);
            # what is queued already still joins it, so busy proxies keep group commits.
            until = time.monotonic() + self._linger
            while len(batch) < self._batch_size:
                try:
                    left = until - time.monotonic()
                    item = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                batch.append(item)
                if item is STOP:
                    break
                if item is _NUDGE:
                    until = 0.0
            stop = any(item is STOP for item in batch)
            items = [item for item in batch if item is not STOP and item is not _NUDGE]
            try:
                if items:
                    if self._spool_pending():
                        # Behind the rows already waiting: order is kept.
                        self._append_spool(items)
                        conn = self._replay(conn)
                    else:
                        try:
                            conn = self._write(conn, items)
                        except Exception as exc:
                            conn = _close(conn)
                            self._went_down(exc)
                            self._append_spool(items)
            except Exception as exc:  # the spool itself failed (disk full): drop, warn
                self.dropped += len(items)
                self._barrier.failed()
                self._warn("spool", f"decision log {self.path}: {len(items)} entries lost ({exc})")
            finally:
                # Written to PostgreSQL or fsynced to the spool: durable either way.
                self._barrier.settle(len(items))
                for _ in batch:
                    self._queue.task_done()
            if stop:
                if self._spool_pending():
                    conn = self._replay(conn)
                _close(conn)
                return

    def _write(self, conn: Any, items: list[tuple[str, Any]]) -> Any:
        if conn is None or conn.closed:
            from router.db.postgres import connect

            conn = connect(self.url)
        decisions, outcomes, feedback = [], [], []
        for kind, data in items:
            if kind == "record":
                decisions.append(row_values(DecisionRecord.from_dict(data)))
            elif kind == "outcome":
                outcomes.append(tuple(data))
            else:
                feedback.append(tuple(data))
        with conn.transaction(), conn.cursor() as cur:
            if decisions:
                cur.executemany(_INSERT_DECISION, decisions)
            if outcomes:
                cur.executemany(_INSERT_OUTCOME, outcomes)
            if feedback:
                cur.executemany(_INSERT_FEEDBACK, feedback)
        self.written += len(decisions)
        return conn

    # ---- the spool -----------------------------------------------------------------

    def _spool_files(self) -> list[Path]:
        """Our file first (it is being appended to), then those of dead processes."""
        files = [self._spool] if self._spool.exists() else []
        return files + self._orphans()

    def _orphans(self) -> list[Path]:
        try:
            found = sorted(self.spool_dir.glob("*.jsonl"))
        except OSError:
            return []
        return [f for f in found if f != self._spool and not _alive(f.stem.split("-")[0])]

    def _spool_pending(self) -> bool:
        return self.spooling

    def _append_spool(self, items: list[tuple[str, Any]]) -> None:
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        lines = "".join(json.dumps({"k": k, "d": d}, default=str) + "\n" for k, d in items)
        with self._spool.open("a", encoding="utf-8") as f:
            f.write(lines)
            f.flush()
            os.fsync(f.fileno())
        self.spooling = True
        self.spooled += len(items)

    def _replay(self, conn: Any) -> Any:
        """Write every spooled row, in order; on failure keep the files for the next try."""
        for file in self._spool_files():
            try:
                with file.open(encoding="utf-8") as f:
                    chunk: list[tuple[str, Any]] = []
                    for line in f:
                        if not line.endswith("\n"):
                            break  # a line cut by a crash: the rest of it never arrived
                        entry = json.loads(line)
                        chunk.append((entry["k"], entry["d"]))
                        if len(chunk) >= self._batch_size:
                            conn = self._write(conn, chunk)
                            chunk = []
                    if chunk:
                        conn = self._write(conn, chunk)
            except Exception as exc:
                conn = _close(conn)
                self._went_down(exc)
                return conn
            file.unlink(missing_ok=True)
        if self.spooling:
            _log.warning(
                "decision log %s: PostgreSQL is back; %d spooled entries written",
                self.path, self.spooled,
            )  # fmt: skip
        self.spooling = False
        self.spooled = 0
        return conn

    def _went_down(self, exc: BaseException) -> None:
        if not self.spooling:
            _log.warning(
                "decision log %s: PostgreSQL unavailable (%s); spooling to %s until it returns",
                self.path, type(exc).__name__, self._spool,
            )  # fmt: skip

    # ---- feedback ------------------------------------------------------------------

    def attach_feedback(self, feedback: Feedback) -> None:
        feedback.validate()
        self.flush()
        f = feedback
        row = [uuid.uuid4().hex, f.decision_id, f.ts or time.time(), f.rating, f.verdict,
               f.task, f.tier, f.source, f.comment]  # fmt: skip
        deadline = time.monotonic() + self.feedback_wait
        try:
            with self._pool.connection() as conn:
                while True:
                    found = conn.execute(
                        "SELECT 1 FROM decisions WHERE id = %s", (f.decision_id,)
                    ).fetchone()
                    if found or time.monotonic() > deadline:
                        break
                    time.sleep(0.05)  # another instance's writer may not have sent it yet
                if not found:
                    raise DecisionLogError(
                        f"decision {f.decision_id!r} is not in the decision log {self.path}"
                    )
                conn.execute(_INSERT_FEEDBACK, row)
        except DecisionLogError:
            raise
        except Exception as exc:
            # The store is away: keep the feedback with the other spooled rows.
            self._went_down(exc)
            self._put(("feedback", row))

    # ---- reads ---------------------------------------------------------------------

    def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        from psycopg.rows import dict_row

        with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())

    def get(self, decision_id: str) -> DecisionRecord | None:
        self.flush()
        rows = self._rows("SELECT * FROM decisions WHERE id = %s", (decision_id,))
        return record_from_row(rows[0]) if rows else None

    def records(
        self, *, since: float | None = None, until: float | None = None, limit: int | None = None
    ) -> Iterator[DecisionRecord]:
        """Every record in time order, streamed through a server-side cursor."""
        from psycopg.rows import dict_row

        self.flush()
        sql = "SELECT * FROM decisions WHERE ts >= %s AND ts < %s ORDER BY ts, id"
        args: list[Any] = [since if since is not None else 0.0, until or float("inf")]
        if limit is not None:
            sql += " LIMIT %s"
            args.append(int(limit))
        with self._pool.connection() as conn, conn.transaction():
            name = f"tierrouter_records_{uuid.uuid4().hex[:8]}"
            with conn.cursor(name=name, row_factory=dict_row) as cur:
                cur.itersize = 500
                cur.execute(sql, args)
                for row in cur:
                    yield record_from_row(row)

    def feedback(self, decision_id: str | None = None) -> list[Feedback]:
        self.flush()
        where, args = ("WHERE decision_id = %s", (decision_id,)) if decision_id else ("", ())
        rows = self._rows(
            "SELECT decision_id, rating, verdict, task, tier, source, comment, ts "
            f"FROM feedback {where} ORDER BY ts, n",
            args,
        )
        return [Feedback(**r) for r in rows]

    def outcomes(self, decision_id: str | None = None) -> list[Outcome]:
        self.flush()
        where, args = ("WHERE decision_id = %s", (decision_id,)) if decision_id else ("", ())
        rows = self._rows(
            f"SELECT decision_id, kind, detail, ts FROM outcomes {where} ORDER BY ts, n", args
        )
        return [Outcome(**r) for r in rows]

    def count(self) -> int:
        self.flush()
        return int(self._rows("SELECT COUNT(*) AS n FROM decisions")[0]["n"])

    def retain(self, *, max_age_days: float | None = None, max_bytes: int | None = None) -> int:
        """Delete records older than ``max_age_days`` (``max_bytes`` is SQLite's alone)."""
        if max_age_days is None:
            return 0
        cutoff = time.time() - max_age_days * 86400
        old = "SELECT id FROM decisions WHERE ts < %s"
        with self._pool.connection() as conn, conn.transaction():
            conn.execute(f"DELETE FROM feedback WHERE decision_id IN ({old})", (cutoff,))
            conn.execute(f"DELETE FROM outcomes WHERE decision_id IN ({old})", (cutoff,))
            n = conn.execute("DELETE FROM decisions WHERE ts < %s", (cutoff,)).rowcount
        return int(n)


def _close(conn: Any) -> Any:
    """Close a connection that failed; the writer reconnects on its next batch."""
    if conn is not None:
        with contextlib.suppress(Exception):
            conn.close()
    return None


def _alive(stem: str) -> bool:
    try:
        pid = int(stem)
        if pid <= 0:
            return False
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


@atexit.register
def _flush_open_logs() -> None:
    for log in list(_OPEN):
        log.flush(timeout=2.0)
        log.close()
