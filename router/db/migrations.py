"""Versioned schema migrations for the decision log (SQLite) and the fleet store (PostgreSQL).

Each migration has a number and runs once, in order, in one transaction with the
record of its number: a crash mid-upgrade leaves the old schema, never half of
the new one. ``tierrouter db upgrade`` applies what is pending. A fresh database
is created at the latest version when first opened; PostgreSQL stores at an older
version are refused with a message naming the command (several instances must
not race to change a shared schema while serving), SQLite files upgrade on open
(one machine, one writer at a time under SQLite's lock).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from router.errors import ConfigError

__all__ = [
    "POSTGRES",
    "SQLITE_DECISIONS",
    "Migration",
    "check_postgres",
    "latest",
    "postgres_version",
    "upgrade_postgres",
    "upgrade_sqlite",
]


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


SQLITE_DECISIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "decisions, feedback, outcomes",
        """
CREATE TABLE IF NOT EXISTS decisions (
    id TEXT PRIMARY KEY,
    ts REAL NOT NULL,
    prompt_hash TEXT NOT NULL,
    task TEXT, tier TEXT, language TEXT, source TEXT, model_version TEXT,
    confidence REAL, score REAL,
    tier_probabilities TEXT, task_scores TEXT, features TEXT,
    model_requested TEXT, model_used TEXT, provider TEXT,
    attempts TEXT, n_attempts INTEGER,
    latency_ms REAL, prompt_tokens INTEGER, completion_tokens INTEGER,
    cost REAL, estimated_cost REAL, baseline_cost REAL,
    finish_reason TEXT, status TEXT, error_type TEXT, stream INTEGER,
    prompt TEXT, response TEXT, messages TEXT
);
CREATE INDEX IF NOT EXISTS decisions_ts ON decisions (ts);
CREATE INDEX IF NOT EXISTS decisions_hash ON decisions (prompt_hash);
CREATE TABLE IF NOT EXISTS feedback (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    decision_id TEXT NOT NULL, ts REAL NOT NULL,
    rating REAL, verdict TEXT, task TEXT, tier TEXT, source TEXT NOT NULL, comment TEXT
);
CREATE INDEX IF NOT EXISTS feedback_decision ON feedback (decision_id);
CREATE TABLE IF NOT EXISTS outcomes (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    decision_id TEXT NOT NULL, ts REAL NOT NULL, kind TEXT NOT NULL, detail TEXT
);
CREATE INDEX IF NOT EXISTS outcomes_decision ON outcomes (decision_id);
""",
    ),
    Migration(
        2,
        "spend ledger: USD per budget scope and period",
        # The single-machine budget counters (router/state/spend.py) live beside the
        # decisions they count, so `tierrouter spend` reads them from the same file.
        """
CREATE TABLE IF NOT EXISTS spend (
    scope TEXT NOT NULL, period TEXT NOT NULL, usd REAL NOT NULL DEFAULT 0,
    requests INTEGER NOT NULL DEFAULT 0, updated_at REAL NOT NULL,
    PRIMARY KEY (scope, period)
);
""",
    ),
)

POSTGRES: tuple[Migration, ...] = (
    Migration(
        1,
        "decision log, feedback, outcomes, rules, model registry",
        """
CREATE TABLE decisions (
    id TEXT PRIMARY KEY,
    ts DOUBLE PRECISION NOT NULL,
    prompt_hash TEXT NOT NULL,
    task TEXT, tier TEXT, language TEXT, source TEXT, model_version TEXT,
    confidence DOUBLE PRECISION, score DOUBLE PRECISION,
    tier_probabilities TEXT, task_scores TEXT, features TEXT,
    model_requested TEXT, model_used TEXT, provider TEXT,
    attempts TEXT, n_attempts INTEGER,
    latency_ms DOUBLE PRECISION, prompt_tokens INTEGER, completion_tokens INTEGER,
    cost DOUBLE PRECISION, estimated_cost DOUBLE PRECISION, baseline_cost DOUBLE PRECISION,
    finish_reason TEXT, status TEXT, error_type TEXT, stream INTEGER,
    prompt TEXT, response TEXT, messages TEXT
);
CREATE INDEX decisions_ts ON decisions (ts, id);
CREATE INDEX decisions_hash ON decisions (prompt_hash);
-- uid: the writer's id for the row, so a spool replayed twice adds it once.
CREATE TABLE feedback (
    n BIGSERIAL PRIMARY KEY, uid TEXT UNIQUE,
    decision_id TEXT NOT NULL, ts DOUBLE PRECISION NOT NULL,
    rating DOUBLE PRECISION, verdict TEXT, task TEXT, tier TEXT, source TEXT NOT NULL,
    comment TEXT
);
CREATE INDEX feedback_decision ON feedback (decision_id);
CREATE TABLE outcomes (
    n BIGSERIAL PRIMARY KEY, uid TEXT UNIQUE,
    decision_id TEXT NOT NULL, ts DOUBLE PRECISION NOT NULL, kind TEXT NOT NULL, detail TEXT
);
CREATE INDEX outcomes_decision ON outcomes (decision_id);
CREATE TABLE policy_rules (
    kind TEXT NOT NULL, id TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL, updated_at DOUBLE PRECISION NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
-- One row: bumped by every rule change, polled by every instance.
CREATE TABLE policy_version (
    one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one), version BIGINT NOT NULL
);
INSERT INTO policy_version VALUES (TRUE, 0);
CREATE TABLE models (
    name TEXT PRIMARY KEY, created DOUBLE PRECISION NOT NULL, metrics TEXT NOT NULL
);
CREATE TABLE model_files (
    name TEXT NOT NULL REFERENCES models (name) ON DELETE CASCADE,
    file TEXT NOT NULL, data BYTEA NOT NULL,
    PRIMARY KEY (name, file)
);
-- One row: the promotion history; its last name is the champion every instance serves.
CREATE TABLE model_champion (
    one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
    history TEXT NOT NULL, updated_at DOUBLE PRECISION NOT NULL
);
""",
    ),
)

# Every instance may open the store at once: one of them creates it, the others wait.
_LOCK_ID = 0x7469_6572  # "tier"


def latest(migrations: tuple[Migration, ...]) -> int:
    return migrations[-1].version


# ---- SQLite ------------------------------------------------------------------------------


def upgrade_sqlite(conn: Any, current: int) -> list[Migration]:
    """Apply the decision-log migrations after ``current`` on an open sqlite3 connection.

    The caller holds no transaction; each migration commits with its version in
    ``tierrouter_meta``. Returns the migrations applied.
    """
    applied = []
    for m in SQLITE_DECISIONS:
        if m.version <= current:
            continue
        conn.executescript(
            f"BEGIN IMMEDIATE;\n{m.sql}\n"
            "INSERT OR REPLACE INTO tierrouter_meta VALUES "
            f"('schema_version', '{m.version}');\nCOMMIT;"
        )
        applied.append(m)
    return applied


# ---- PostgreSQL --------------------------------------------------------------------------


def postgres_version(conn: Any) -> int | None:
    """The store's schema version; None for an empty database."""
    row = conn.execute("SELECT to_regclass('tierrouter_schema')").fetchone()
    if row is None or row[0] is None:
        return None
    found = conn.execute("SELECT max(version) FROM tierrouter_schema").fetchone()
    return int(found[0]) if found and found[0] is not None else 0


def upgrade_postgres(conn: Any, *, only_if_empty: bool = False) -> list[Migration]:
    """Apply pending migrations under an advisory lock; returns those applied.

    ``only_if_empty``: create a fresh store, but leave an existing older one alone
    (instances starting call this; ``tierrouter db upgrade`` upgrades).
    """
    applied: list[Migration] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
        current = postgres_version(conn)
        if current is not None and only_if_empty:
            return applied
        conn.execute(
            "CREATE TABLE IF NOT EXISTS tierrouter_schema ("
            "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)"
        )
        for m in POSTGRES:
            if m.version <= (current or 0):
                continue
            conn.execute(m.sql.encode())
            conn.execute(
                "INSERT INTO tierrouter_schema VALUES (%s, %s, %s)",
                (m.version, m.name, time.time()),
            )
            applied.append(m)
    return applied


def check_postgres(conn: Any, where: str) -> None:
    """Create an empty store; refuse one at another version, naming the way out."""
    upgrade_postgres(conn, only_if_empty=True)
    version = postgres_version(conn) or 0
    want = latest(POSTGRES)
    if version < want:
        raise ConfigError(
            f"{where}: schema version {version}, this tierrouter needs {want}: "
            f"run `tierrouter db upgrade --store <url>` once, then start the instances"
        )
    if version > want:
        raise ConfigError(
            f"{where}: schema version {version} was written by a newer tierrouter "
            f"(this one reads {want}); upgrade tierrouter on this machine"
        )
