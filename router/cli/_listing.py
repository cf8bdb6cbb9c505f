"""How the listing commands print: whole ids at any width, one JSON document with ``--json``.

An id or a model name printed by one command is typed into the next one
(``rules delete ID``, ``models promote NAME``, ``--set-model MODEL``), so it is
never cut with an ellipsis nor folded over two lines, at 80 columns or in a
pipe. Records with several long fields print as a block per record, the id on
the first line; tables keep their id column at the width of its longest cell
and let the other columns wrap.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

__all__ = ["AsJson", "block", "console", "echo_json", "keep_whole"]

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def console() -> Console:
    """A console on stdout; in a pipe rich takes $COLUMNS, else 80, and prints no colour codes."""
    from rich.console import Console

    return Console()


def echo_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


def keep_whole(table: Table, *columns: int) -> Table:
    """Size ``columns`` to their longest cell and never wrap them; the others give way.

    rich shrinks the columns it may wrap first, so a fixed-width, unwrapped id
    column stays whole as long as the rest of the table can shrink; when it
    cannot, ``fold`` still shows every character rather than an ellipsis.
    """
    from rich.cells import cell_len

    for index in columns:
        column = table.columns[index]
        cells = [str(c) for c in column.cells]
        column.width = max([cell_len(str(column.header)), *(cell_len(c) for c in cells)])
        column.no_wrap = True
        column.overflow = "fold"
    return table


def block(head: str, fields: list[tuple[str, str]]) -> None:
    """One record: ``head`` (starting with its id) then an indented ``label: value`` per field.

    Plain text, one field a line, so ``grep`` finds a rule by any field and a long
    value wraps softly in the terminal instead of being cut.
    """
    typer.echo(head)
    for label, value in fields:
        typer.echo(f"    {label}: {value}")
