"""``tierrouter eval``: classification and routing cost-quality report for a model.

The harness lives in ``training.evaluate`` and is imported inside the command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    app.command("eval")(evaluate)


def evaluate(
    model: Annotated[
        Path | None,
        typer.Option(
            "--model", "-m", help="Artifact .json to evaluate (default: the bundled one)."
        ),
    ] = None,
    data: Annotated[
        list[Path] | None,
        typer.Option(
            "--data",
            help="Labelled JSONL files or folders in data/ format to evaluate on "
            "(default: the public eval sets).",
        ),
    ] = None,
    out_dir: Annotated[
        Path, typer.Option("--out-dir", "-o", help="Where eval.json/.md/.png go.")
    ] = Path("reports"),
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random baseline.")] = 0,
) -> None:
    """Compare the model, the rules, prompt length and random on data the model never saw."""
    try:
        from training.evaluate import SUMMARY_HEADER, summary_table, write_report
        from training.evaluate import evaluate as run
        from training.sources import load_all, project_data
    except ImportError as exc:
        typer.echo(f"Error: evaluation needs the 'train' extra ({exc})", err=True)
        raise typer.Exit(code=2) from None
    from rich.console import Console
    from rich.table import Table

    from router.errors import ModelArtifactError

    console = Console(stderr=True)
    try:
        rows = project_data.load(*data) if data else load_all(use="eval")
    except (FileNotFoundError, ValueError) as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    console.print(f"evaluating on {len(rows)} rows")
    try:
        report = run(rows, model, seed=seed)
    except ModelArtifactError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    paths = write_report(report, out_dir)
    table = Table(*SUMMARY_HEADER)
    for row in summary_table(report):
        table.add_row(*row)
    Console().print(table)
    for kind, path in paths.items():
        console.print(f"wrote {kind}: {path}")
