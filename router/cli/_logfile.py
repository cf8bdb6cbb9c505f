"""The ``--log`` option shared by the decision-log commands, and opening the file for them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from router.log.sqlite import SQLiteDecisionLog

LogOption = Annotated[
    Path | None,
    typer.Option(
        "--log",
        help="Decision log file (default: $XDG_DATA_HOME/tierrouter/decisions.db).",
        show_default=False,
    ),
]


def open_existing(path: Path | None, option: str = "--log") -> SQLiteDecisionLog:
    """The log at ``path``; exits with a message naming the file when it is missing or unusable."""
    from router.log.paths import default_log_path
    from router.log.sqlite import SQLiteDecisionLog
    from router.log.store import DecisionLogError

    file = path or default_log_path()
    if not file.is_file():
        typer.echo(
            f"Error: no decision log at {file}; switch logging on with Router(log=True) "
            f"or `log: {{enabled: true}}` in the config, or pass {option}",
            err=True,
        )
        raise typer.Exit(code=2)
    try:
        return SQLiteDecisionLog(file)
    except DecisionLogError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(code=2) from None


def since_or_exit(since: str | None) -> float | None:
    """``--since`` as a timestamp; a bad value exits with the parser's message."""
    from router.log.stats import parse_since

    try:
        return parse_since(since)
    except ValueError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(code=2) from None
