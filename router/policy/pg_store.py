"""Rules in PostgreSQL: one rule set for every instance of a fleet.

Each change bumps a one-row ``policy_version`` counter in the same transaction.
A daemon thread per store reads that counter every ``poll_interval`` seconds and,
when it moved, the rules with it; ``version()`` and ``list()`` (what the policy
engine reads when a request finds the version changed) answer from that copy, so
a request never waits on the server. A change made through any instance reaches
every other within about one interval (1 s is the promise; the default polls 5
times as often); the instance that made it has it at once. If the server is
away, the last rules loaded keep applying (and listing); changes are refused
with :class:`~router.errors.StoreUnavailableError`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from typing import Any

from router.db.urls import redacted
from router.errors import ConfigError, StoreUnavailableError
from router.policy.errors import PolicyNotFound
from router.policy.store import _LABEL, _check_kind

__all__ = ["PostgresPolicyStore"]

_log = logging.getLogger("tierrouter.policy")


class PostgresPolicyStore:
    """A :class:`~router.policy.store.PolicyStore` in the fleet's PostgreSQL store."""

    def __init__(self, url: str, *, poll_interval: float = 0.2) -> None:
        from router.db.postgres import shared_pool

        self.url = url
        self._pool = shared_pool(url)
        self._poll_interval = poll_interval
        # (version, {kind: [rule JSON, ...]}), replaced whole: readers never see a mix.
        self._state: tuple[int, dict[str, list[str]]] = self._load()
        self._state_lock = threading.Lock()
        self._closed = threading.Event()
        self._thread = threading.Thread(
            target=self._poll, name="tierrouter-policy-version", daemon=True
        )
        self._thread.start()

    def __repr__(self) -> str:
        return f"PostgresPolicyStore({redacted(self.url)!r})"

    def close(self) -> None:
        self._closed.set()

    @contextlib.contextmanager
    def _connection(self) -> Iterator[Any]:
        """A pooled connection; the server being away is a StoreUnavailableError.

        Only connection failures are translated: a rule that does not exist or
        already exists still raises its own error.
        """
        from psycopg import OperationalError  # PoolTimeout is one too

        try:
            with self._pool.connection() as conn:
                yield conn
        except OperationalError as exc:
            raise StoreUnavailableError(
                f"policy store {redacted(self.url)} is unreachable ({type(exc).__name__}): "
                "the change was not made; the rules loaded last keep applying, retry later"
            ) from None

    # ---- the version every request reads ---------------------------------------------

    def _read_version(self) -> int:
        with self._pool.connection() as conn:
            row = conn.execute("SELECT version FROM policy_version").fetchone()
        return int(row[0])

    def _load(self) -> tuple[int, dict[str, list[str]]]:
        with self._pool.connection() as conn, conn.transaction():
            return self._read_state(conn)

    @staticmethod
    def _read_state(conn: Any) -> tuple[int, dict[str, list[str]]]:
        """The version and every rule, as one transaction sees them."""
        (version,) = conn.execute("SELECT version FROM policy_version").fetchone()
        rules: dict[str, list[str]] = {kind: [] for kind in _LABEL}
        for kind, body in conn.execute(
            "SELECT kind, body FROM policy_rules ORDER BY created_at, id"
        ).fetchall():
            if kind in rules:
                rules[kind].append(body)
        return int(version), rules

    def _poll(self) -> None:
        failing = False
        while not self._closed.wait(self._poll_interval):
            if self._pool.closed:
                return  # the process closed its pools: it is shutting down
            try:
                if self._read_version() != self._state[0]:
                    self._keep(self._load())
                if failing:
                    _log.warning("policy store %s reachable again", redacted(self.url))
                failing = False
            except Exception as exc:
                if not failing:
                    _log.warning(
                        "policy store %s unreachable (%s); the rules loaded last keep applying",
                        redacted(self.url), type(exc).__name__,
                    )  # fmt: skip
                failing = True

    def version(self) -> Hashable:
        return self._state[0]

    # ---- writes ------------------------------------------------------------------------

    def _write(self, fn: Callable[[Any], Any]) -> Any:
        with self._connection() as conn, conn.transaction():
            # The version row is the lock: concurrent writers serialise on it, so
            # created_at stays strictly increasing across instances.
            conn.execute("UPDATE policy_version SET version = version + 1")
            result = fn(conn)
            # Read back in the same transaction: this instance applies its own change
            # at once, and the copy matches the version exactly.
            state = self._read_state(conn)
        self._keep(state)
        return result

    def _keep(self, state: tuple[int, dict[str, list[str]]]) -> None:
        # The poller and a writer may finish in either order: never go back a version.
        with self._state_lock:
            if state[0] >= self._state[0]:
                self._state = state

    @staticmethod
    def _next_created(conn: Any) -> float:
        (last,) = conn.execute("SELECT MAX(created_at) FROM policy_rules").fetchone()
        return max(time.time(), (last or 0.0) + 1e-6)

    @staticmethod
    def _put(conn: Any, kind: str, record: dict[str, Any], created: float) -> dict[str, Any]:
        stored = {**record, "created_at": created, "updated_at": time.time()}
        conn.execute(
            "INSERT INTO policy_rules (kind, id, created_at, updated_at, body) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (kind, id) DO UPDATE SET "
            "created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, "
            "body = EXCLUDED.body",
            (kind, stored["id"], created, stored["updated_at"], json.dumps(stored)),
        )
        return stored

    @staticmethod
    def _get(conn: Any, kind: str, rule_id: str) -> dict[str, Any] | None:
        row = conn.execute(
            "SELECT body FROM policy_rules WHERE kind = %s AND id = %s", (kind, rule_id)
        ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def create(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        _check_kind(kind)

        def run(conn: Any) -> dict[str, Any]:
            if self._get(conn, kind, record["id"]) is not None:
                raise ConfigError(f"a {_LABEL[kind]} with id {record['id']!r} already exists")
            return self._put(conn, kind, record, self._next_created(conn))

        result: dict[str, Any] = self._write(run)
        return result

    def list(self, kind: str) -> list[dict[str, Any]]:
        """The rules as last loaded (at most one poll interval behind other instances)."""
        _check_kind(kind)
        return [dict(json.loads(body)) for body in self._state[1][kind]]

    def retrieve(self, kind: str, rule_id: str) -> dict[str, Any]:
        _check_kind(kind)
        with self._connection() as conn:
            found = self._get(conn, kind, rule_id)
        if found is None:
            raise PolicyNotFound(_LABEL[kind], rule_id)
        return found

    def update(self, kind: str, rule_id: str, record: dict[str, Any]) -> dict[str, Any]:
        _check_kind(kind)

        def run(conn: Any) -> dict[str, Any]:
            old = self._get(conn, kind, rule_id)
            if old is None:
                raise PolicyNotFound(_LABEL[kind], rule_id)
            return self._put(conn, kind, {**record, "id": rule_id}, float(old["created_at"]))

        result: dict[str, Any] = self._write(run)
        return result

    def delete(self, kind: str, rule_id: str) -> None:
        _check_kind(kind)

        def run(conn: Any) -> None:
            cursor = conn.execute(
                "DELETE FROM policy_rules WHERE kind = %s AND id = %s", (kind, rule_id)
            )
            if cursor.rowcount == 0:
                raise PolicyNotFound(_LABEL[kind], rule_id)

        self._write(run)

    def upsert(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        _check_kind(kind)

        def run(conn: Any) -> dict[str, Any]:
            old = self._get(conn, kind, record["id"])
            created = float(old["created_at"]) if old else self._next_created(conn)
            return self._put(conn, kind, record, created)

        result: dict[str, Any] = self._write(run)
        return result
