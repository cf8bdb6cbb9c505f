"""``tierrouter eval``: classification and routing cost-quality report for a model.

The harness lives in ``training.evaluate`` (numbers) and ``training.eval_report``
(tables, files) and is imported inside the command.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    app.command("eval")(evaluate)


def _load(data: list[Path] | None, seen: bool) -> tuple[list[Any], list[Any], dict[str, str]]:
    """Held-out rows, seen-in-training outcome rows, and the public folders not present."""
    from training.sources import load_available, project_data

    if data:
        return project_data.load(*data), [], {}
    rows, missing = load_available(use="eval")
    seen_rows: list[Any] = []
    if seen:
        train_rows, train_missing = load_available(use="train")
        seen_rows = [ex for ex in train_rows if ex.outcome is not None]
        missing.update(train_missing)
    return rows, seen_rows, dict(sorted(missing.items()))


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
    seen: Annotated[
        bool,
        typer.Option(
            "--seen/--no-seen",
            help="Also route the outcome sets the model trains on, reported apart as "
            "'seen in training' (default: on).",
        ),
    ] = True,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the full report as JSON instead of tables.")
    ] = False,
) -> None:
    """Compare the model, the rules, prompt length and random on data the model never saw."""
    try:
        from training.eval_report import terminal_tables, write_report
        from training.evaluate import evaluate as run
    except ImportError as exc:
        typer.echo(f"Error: evaluation needs the 'train' extra ({exc})", err=True)
        raise typer.Exit(code=2) from None
    from rich.console import Console

    from router.errors import ModelArtifactError

    console = Console(stderr=True)
    try:
        rows, seen_rows, missing = _load(data, seen)
    except (FileNotFoundError, ValueError) as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    for folder, why in missing.items():
        console.print(f"[yellow]missing[/yellow] {folder}: {why}", highlight=False)
    if not rows and not seen_rows:
        typer.echo("Error: no evaluation rows (every public set is missing)", err=True)
        raise typer.Exit(code=2)
    console.print(
        f"evaluating on {len(rows)} held-out rows"
        + (f" and {len(seen_rows)} outcome rows seen in training" if seen_rows else "")
    )
    try:
        report = run(rows, model, seed=seed, seen=seen_rows)
    except ModelArtifactError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    report["missing"] = missing
    paths = write_report(report, out_dir)
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False))
    else:
        out = Console()
        for table in terminal_tables(report):
            out.print(table)
            out.print()
    if "png" not in paths:
        console.print("no outcome set present: no cost-quality figure")
    for kind, path in paths.items():
        console.print(f"wrote {kind}: {path}")
