"""Spend counters in USD per budget scope and period: this machine (SQLite) or the fleet (Redis).

A scope is ``key:<key id>``, ``user:<name>`` or ``tag:<name>``; a period is a UTC
day (``d:2026-12-07``) or month (``m:2026-12``). Adding never waits on storage:
the proxy calls :meth:`add` when a request has finished and a writer thread
stores it. Reading (before each request, to enforce caps) is one round trip:
Redis ``MGET`` in the fleet, a memory read on one machine.

* :class:`SQLiteSpendLedger`: the decision log's file (table ``spend``, schema
  migration 2), so ``tierrouter spend`` reads what the proxy counted. Each
  process keeps totals in memory and re-reads the file every ``refresh``
  seconds, so several workers on one machine see each other's spend.
* :class:`RedisSpendLedger`: ``INCRBYFLOAT`` per scope and period, atomic across
  instances. While Redis is away the amounts are counted in memory and added to
  Redis when it returns: nothing is lost. Meanwhile caps are checked against the
  fleet's totals as this instance last read them plus its own spend since, so a
  scope over its cap stays blocked; other instances' spend during the outage is
  not seen until Redis returns.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from contextlib import closing, suppress
from pathlib import Path
from typing import Any

from router.state.link import RedisLink

__all__ = ["RedisSpendLedger", "SQLiteSpendLedger", "periods"]

_log = logging.getLogger("tierrouter.state")
# Days are kept two days, months forty: enough for "today" and "this month" and a look back.
_TTL = {"d": 2 * 86400, "m": 40 * 86400}


def periods(now: float | None = None) -> tuple[str, str]:
    """Today's and this month's period names (UTC)."""
    t = dt.datetime.fromtimestamp(time.time() if now is None else now, dt.timezone.utc)
    return f"d:{t:%Y-%m-%d}", f"m:{t:%Y-%m}"


class SQLiteSpendLedger:
    """Spend on one machine, in the decision log's SQLite file."""

    def __init__(self, path: str | Path, *, refresh: float = 0.5) -> None:
        from router.log.sqlite import SQLiteDecisionLog

        self.path = Path(path)
        # Opening the log creates or upgrades the file, spend table included.
        SQLiteDecisionLog(self.path).close()
        self._totals: dict[tuple[str, str], float] = {}
        self._pending: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()
        self._wake = queue.Queue[None]()
        self._refresh = refresh
        self._closed = threading.Event()
        self._load()
        self._thread = threading.Thread(target=self._run, name="tierrouter-spend", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Write what is pending and stop the writer (the proxy's shutdown)."""
        self._closed.set()
        self._wake.put(None)
        self._thread.join(timeout)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
        conn.execute("PRAGMA busy_timeout=5000")
        return conn

    def _load(self) -> None:
        with closing(self._connect()) as conn:
            rows = conn.execute("SELECT scope, period, usd FROM spend").fetchall()
        with self._lock:
            stored = {(s, p): float(u) for s, p, u in rows}
            # What is not written yet stays on top of what the file says.
            for k, (usd, _) in self._pending.items():
                stored[k] = stored.get(k, 0.0) + usd
            self._totals = stored

    def add(self, scopes: Iterable[str], usd: float) -> None:
        with self._lock:
            for scope in scopes:
                for period in periods():
                    k = (scope, period)
                    self._totals[k] = self._totals.get(k, 0.0) + usd
                    entry = self._pending.setdefault(k, [0.0, 0])
                    entry[0] += usd
                    entry[1] += 1
        self._wake.put(None)

    async def totals(self, keys: Sequence[tuple[str, str]]) -> list[float]:
        with self._lock:
            return [self._totals.get(k, 0.0) for k in keys]

    def _run(self) -> None:
        while True:
            with suppress(queue.Empty):
                self._wake.get(timeout=self._refresh)
            try:
                self._flush()
                if self._closed.is_set():
                    return
                self._load()
            except Exception as exc:
                _log.warning("spend ledger %s: not written (%s); will retry", self.path, exc)
                if self._closed.is_set():
                    return

    def _flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return
        now = time.time()
        try:
            with closing(self._connect()) as conn:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(
                    "INSERT INTO spend (scope, period, usd, requests, updated_at) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (scope, period) DO UPDATE SET "
                    "usd = usd + excluded.usd, requests = requests + excluded.requests, "
                    "updated_at = excluded.updated_at",
                    [(s, p, usd, n, now) for (s, p), (usd, n) in pending.items()],
                )
                conn.execute("COMMIT")
        except BaseException:
            with self._lock:  # keep them for the next try
                _add(self._pending, pending)
            raise

    def flush(self, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._pending:
                    return True
            time.sleep(0.01)
        return False

    def rows(self) -> list[dict[str, Any]]:
        self.flush()
        with closing(self._connect()) as conn:
            found = conn.execute(
                "SELECT scope, period, usd, requests FROM spend ORDER BY period DESC, scope"
            ).fetchall()
        return [{"scope": s, "period": p, "usd": u, "requests": n} for s, p, u, n in found]


class RedisSpendLedger:
    """Spend for the whole fleet in Redis; atomic ``INCRBYFLOAT`` per scope and period."""

    def __init__(self, link: RedisLink) -> None:
        self.link = link
        self._lock = threading.Lock()
        # Amounts not yet in Redis (queued, or counted while Redis was away).
        self._pending: dict[tuple[str, str], list[float]] = {}
        # The fleet's totals as last read per (scope, period): what an outage starts from.
        self._last_read: dict[tuple[str, str], float] = {}
        self._wake = queue.Queue[None]()
        self._closed = threading.Event()
        link.on_up(self._flush)
        self._thread = threading.Thread(
            target=self._run, name="tierrouter-spend-redis", daemon=True
        )
        self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Send what is pending (if Redis answers) and stop the writer."""
        self._closed.set()
        self._wake.put(None)
        self._thread.join(timeout)

    def _key(self, scope: str, period: str, what: str = "usd") -> str:
        return self.link.key("spend", what, period, scope)

    def add(self, scopes: Iterable[str], usd: float) -> None:
        with self._lock:
            for scope in scopes:
                for period in periods():
                    entry = self._pending.setdefault((scope, period), [0.0, 0])
                    entry[0] += usd
                    entry[1] += 1
        self._wake.put(None)

    async def totals(self, keys: Sequence[tuple[str, str]]) -> list[float]:
        with self._lock:
            local = [self._pending.get(k, [0.0, 0])[0] for k in keys]
        if self.link.ok:
            try:
                values = await self.link.async_client().mget([self._key(s, p) for s, p in keys])
            except Exception as exc:
                self.link.mark_down(exc)
            else:
                fleet = [float(v or 0.0) for v in values]
                if len(self._last_read) > 100_000:  # past days and months: drop them
                    now = set(periods())
                    self._last_read = {k: v for k, v in self._last_read.items() if k[1] in now}
                self._last_read.update(zip(keys, fleet, strict=True))
                return [f + mine for f, mine in zip(fleet, local, strict=True)]
        # Redis is away: the fleet's totals as last read, plus what this instance spent
        # since (unsent), so a scope over its cap stays over instead of starting from 0.
        return [self._last_read.get(k, 0.0) + mine for k, mine in zip(keys, local, strict=True)]

    def _run(self) -> None:
        while True:
            self._wake.get()
            if self.link.ok:
                try:
                    self._flush()
                except Exception as exc:
                    self.link.mark_down(exc)
            if self._closed.is_set():
                return

    def _flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return
        try:
            pipe = self.link.sync.pipeline(transaction=False)
            for (scope, period), (usd, n) in pending.items():
                ttl = _TTL[period[0]]
                pipe.incrbyfloat(self._key(scope, period), usd)
                pipe.expire(self._key(scope, period), ttl)
                pipe.incrby(self._key(scope, period, "n"), int(n))
                pipe.expire(self._key(scope, period, "n"), ttl)
            pipe.execute()
        except BaseException:
            with self._lock:  # keep them for the next try
                _add(self._pending, pending)
            raise

    def flush(self, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._pending:
                    return True
            self._wake.put(None)
            time.sleep(0.01)
        return False

    def rows(self) -> list[dict[str, Any]]:
        """Every counter in Redis (``tierrouter spend --state``)."""
        self.flush()
        sync = self.link.sync
        prefix = self.link.key("spend", "usd", "")
        keys = sorted(sync.scan_iter(match=prefix + "*", count=1000))
        if not keys:
            return []
        usd = sync.mget(keys)
        counts = sync.mget([k.decode().replace(":usd:", ":n:", 1) for k in keys])
        out = []
        for key, u, n in zip(keys, usd, counts, strict=True):
            period_scope = key.decode()[len(prefix) :]
            kind, day, scope = period_scope.split(":", 2)
            out.append({"scope": scope, "period": f"{kind}:{day}", "usd": float(u or 0),
                        "requests": int(n or 0)})  # fmt: skip
        return sorted(out, key=lambda r: (r["period"], r["scope"]), reverse=False)


def _add(into: dict[tuple[str, str], list[float]], pending: Mapping[Any, Any]) -> None:
    """Add ``pending`` (key -> (usd, calls)) back into ``into`` after a failed write."""
    for k, (usd, n) in pending.items():
        entry = into.setdefault(k, [0.0, 0])
        entry[0] += usd
        entry[1] += n
