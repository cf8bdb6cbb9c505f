"""``tierrouter db upgrade``: bring a decision log or fleet store to the latest schema."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from router.db.migrations import Migration

__all__ = ["register"]

db_app = typer.Typer(help="Schema migrations of the decision log (SQLite) or the fleet store.")

StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="A postgresql:// store, or a SQLite decision log path "
        "(default: $XDG_DATA_HOME/tierrouter/decisions.db).",
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code=2)


@db_app.command("upgrade")
def upgrade(store: StoreOption = None) -> None:
    """Apply every pending migration (safe to run again; a no-op when up to date)."""
    from router.db.urls import is_postgres, redacted
    from router.errors import RouterError

    try:
        if is_postgres(store):
            assert store is not None
            from router.db.migrations import POSTGRES, postgres_version, upgrade_postgres
            from router.db.postgres import connect

            try:
                with connect(store) as conn:
                    applied = upgrade_postgres(conn)
                    version = postgres_version(conn)
            except RouterError:
                raise
            except Exception as exc:
                raise _fail(f"store {redacted(store)}: {exc}") from None
            where, latest_version = redacted(store), POSTGRES[-1].version
        else:
            applied, version, where = _upgrade_sqlite(store)
            from router.db.migrations import SQLITE_DECISIONS

            latest_version = SQLITE_DECISIONS[-1].version
    except RouterError as exc:
        raise _fail(str(exc)) from None
    for m in applied:
        typer.echo(f"applied {m.version}: {m.name}")
    typer.echo(f"{where}: schema version {version} (latest {latest_version})")


def _upgrade_sqlite(store: str | None) -> tuple[list[Migration], int, str]:
    import sqlite3
    from contextlib import closing

    from router.db.migrations import SQLITE_DECISIONS
    from router.log.paths import default_log_path
    from router.log.sqlite import SQLiteDecisionLog

    path = Path(store).expanduser() if store else default_log_path()
    before = 0
    if path.is_file():
        with closing(sqlite3.connect(path)) as conn:
            try:
                row = conn.execute(
                    "SELECT value FROM tierrouter_meta WHERE key = 'schema_version'"
                ).fetchone()
                before = int(row[0]) if row else 0
            except sqlite3.Error:
                before = 0  # not a decision log: opening it below says so
    SQLiteDecisionLog(path).close()  # opening upgrades (one machine: no race to fear)
    with closing(sqlite3.connect(path)) as conn:
        row = conn.execute("SELECT value FROM tierrouter_meta WHERE key = 'schema_version'")
        version = int(row.fetchone()[0])
    applied = [m for m in SQLITE_DECISIONS if before < m.version <= version]
    return applied, version, str(path)
