"""Where rules live: the :class:`PolicyStore` protocol, in memory or in SQLite.

A store keeps plain JSON-ready records (the rules' ``to_dict()``) for two
kinds, ``routing_rule`` and ``firewall_rule``; validation happens above it.
``version()`` is cheap and changes whenever any record changes, in this
process or another: the engine polls it on every request and reloads only
when it moved, which is how every proxy worker sees an edit on its next
request without a restart.

The store stamps ``created_at`` strictly increasing, so "oldest first" breaks
priority ties deterministically even for rules created in the same instant.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Hashable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from router.errors import ConfigError
from router.policy.errors import PolicyNotFound

__all__ = ["KINDS", "InMemoryPolicyStore", "PolicyStore", "SqlitePolicyStore", "open_store"]

KINDS = ("routing_rule", "firewall_rule")
_LABEL = {"routing_rule": "routing rule", "firewall_rule": "firewall rule"}


@runtime_checkable
class PolicyStore(Protocol):
    """CRUD over rule records of one ``kind`` (``routing_rule`` or ``firewall_rule``)."""

    def version(self) -> Hashable:
        """Changes whenever any record of any kind changes, in any process."""
        ...

    def create(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        """Insert; stamps ``created_at``/``updated_at``. ConfigError if the id exists."""
        ...

    def list(self, kind: str) -> list[dict[str, Any]]: ...

    def retrieve(self, kind: str, rule_id: str) -> dict[str, Any]:
        """Raises PolicyNotFound."""
        ...

    def update(self, kind: str, rule_id: str, record: dict[str, Any]) -> dict[str, Any]:
        """Replace the record, keeping ``created_at``; raises PolicyNotFound."""
        ...

    def delete(self, kind: str, rule_id: str) -> None:
        """Raises PolicyNotFound."""
        ...

    def upsert(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        """Create or replace by id (how a config file seeds the store)."""
        ...


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown rule kind {kind!r}; expected one of {KINDS}")


class InMemoryPolicyStore:
    """The default: rules for this process only, thread-safe."""

    def __init__(self) -> None:
        self._records: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in KINDS}
        self._lock = threading.Lock()
        self._version = 0
        self._last_created = 0.0

    def __repr__(self) -> str:
        counts = {k: len(v) for k, v in self._records.items()}
        return f"InMemoryPolicyStore({counts})"

    def version(self) -> Hashable:
        return self._version

    def _stamp(self, record: dict[str, Any], created: float | None) -> dict[str, Any]:
        now = time.time()
        if created is None:
            created = max(now, self._last_created + 1e-6)
        self._last_created = max(self._last_created, created)
        return {**record, "created_at": created, "updated_at": now}

    def create(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        _check_kind(kind)
        with self._lock:
            if record["id"] in self._records[kind]:
                raise ConfigError(f"a {_LABEL[kind]} with id {record['id']!r} already exists")
            stored = self._stamp(record, None)
            self._records[kind][record["id"]] = stored
            self._version += 1
            return dict(stored)

    def list(self, kind: str) -> list[dict[str, Any]]:
        _check_kind(kind)
        with self._lock:
            return [dict(r) for r in self._records[kind].values()]

    def retrieve(self, kind: str, rule_id: str) -> dict[str, Any]:
        _check_kind(kind)
        with self._lock:
            found = self._records[kind].get(rule_id)
        if found is None:
            raise PolicyNotFound(_LABEL[kind], rule_id)
        return dict(found)

    def update(self, kind: str, rule_id: str, record: dict[str, Any]) -> dict[str, Any]:
        _check_kind(kind)
        with self._lock:
            old = self._records[kind].get(rule_id)
            if old is None:
                raise PolicyNotFound(_LABEL[kind], rule_id)
            stored = self._stamp({**record, "id": rule_id}, old["created_at"])
            self._records[kind][rule_id] = stored
            self._version += 1
            return dict(stored)

    def delete(self, kind: str, rule_id: str) -> None:
        _check_kind(kind)
        with self._lock:
            if self._records[kind].pop(rule_id, None) is None:
                raise PolicyNotFound(_LABEL[kind], rule_id)
            self._version += 1

    def upsert(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        _check_kind(kind)
        with self._lock:
            old = self._records[kind].get(record["id"])
            created = old["created_at"] if old else None
            stored = self._stamp(record, created)
            self._records[kind][record["id"]] = stored
            self._version += 1
            return dict(stored)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS policy_rules (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, id)
)
"""


class SqlitePolicyStore:
    """Rules in a SQLite file shared by every process that opens it.

    WAL lets readers go on while a writer commits; the busy timeout makes a
    writer wait for another instead of failing. ``version()`` combines
    SQLite's ``data_version`` (moves on commits by other connections) with a
    counter of this connection's own writes.
    """

    def __init__(self, path: str | Path, *, busy_timeout: float = 5.0) -> None:
        import sqlite3

        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # One connection per store, used under a lock: the sync bridge and
            # the proxy's event loop may call from different threads.
            self._db = sqlite3.connect(
                str(self.path), timeout=busy_timeout, isolation_level=None,
                check_same_thread=False,
            )  # fmt: skip
            self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.execute(_SCHEMA)
        except sqlite3.Error as exc:
            raise ConfigError(f"policy_db {str(self.path)!r}: cannot open: {exc}") from None
        self._lock = threading.Lock()
        self._writes = 0

    def __repr__(self) -> str:
        return f"SqlitePolicyStore({str(self.path)!r})"

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def version(self) -> Hashable:
        with self._lock:
            (data_version,) = self._db.execute("PRAGMA data_version").fetchone()
            return (data_version, self._writes)

    def _write(self, fn: Any) -> Any:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                result = fn()
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            self._writes += 1
            return result

    def _next_created(self) -> float:
        (last,) = self._db.execute("SELECT MAX(created_at) FROM policy_rules").fetchone()
        return max(time.time(), (last or 0.0) + 1e-6)

    def _put(self, kind: str, record: dict[str, Any], created: float) -> dict[str, Any]:
        stored = {**record, "created_at": created, "updated_at": time.time()}
        self._db.execute(
            "INSERT OR REPLACE INTO policy_rules (kind, id, created_at, updated_at, body) "
            "VALUES (?, ?, ?, ?, ?)",
            (kind, stored["id"], created, stored["updated_at"], json.dumps(stored)),
        )
        return stored

    def _get(self, kind: str, rule_id: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT body FROM policy_rules WHERE kind = ? AND id = ?", (kind, rule_id)
        ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def create(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        _check_kind(kind)

        def run() -> dict[str, Any]:
            if self._get(kind, record["id"]) is not None:
                raise ConfigError(f"a {_LABEL[kind]} with id {record['id']!r} already exists")
            return self._put(kind, record, self._next_created())

        result: dict[str, Any] = self._write(run)
        return result

    def list(self, kind: str) -> list[dict[str, Any]]:
        _check_kind(kind)
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM policy_rules WHERE kind = ? ORDER BY created_at, id", (kind,)
            ).fetchall()
        return [dict(json.loads(body)) for (body,) in rows]

    def retrieve(self, kind: str, rule_id: str) -> dict[str, Any]:
        _check_kind(kind)
        with self._lock:
            found = self._get(kind, rule_id)
        if found is None:
            raise PolicyNotFound(_LABEL[kind], rule_id)
        return found

    def update(self, kind: str, rule_id: str, record: dict[str, Any]) -> dict[str, Any]:
        _check_kind(kind)

        def run() -> dict[str, Any]:
            old = self._get(kind, rule_id)
            if old is None:
                raise PolicyNotFound(_LABEL[kind], rule_id)
            return self._put(kind, {**record, "id": rule_id}, float(old["created_at"]))

        result: dict[str, Any] = self._write(run)
        return result

    def delete(self, kind: str, rule_id: str) -> None:
        _check_kind(kind)

        def run() -> None:
            cursor = self._db.execute(
                "DELETE FROM policy_rules WHERE kind = ? AND id = ?", (kind, rule_id)
            )
            if cursor.rowcount == 0:
                raise PolicyNotFound(_LABEL[kind], rule_id)

        self._write(run)

    def upsert(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        _check_kind(kind)

        def run() -> dict[str, Any]:
            old = self._get(kind, record["id"])
            created = float(old["created_at"]) if old else self._next_created()
            return self._put(kind, record, created)

        result: dict[str, Any] = self._write(run)
        return result


def open_store(policy_db: str | Path | None, store: PolicyStore | None = None) -> PolicyStore:
    """The store a Router uses: the one given, PostgreSQL, a SQLite file, or memory."""
    if store is not None:
        return store
    if policy_db is not None:
        from router.db.urls import is_postgres

        if is_postgres(policy_db):  # fleet mode: `store: postgresql://...`
            from router.policy.pg_store import PostgresPolicyStore

            return PostgresPolicyStore(str(policy_db))
        return SqlitePolicyStore(policy_db)
    return InMemoryPolicyStore()
