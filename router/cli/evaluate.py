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


def _load(
    data: list[Path] | None, seen: bool
) -> tuple[list[Any], list[Any], dict[str, str], str | None]:
    """Held-out rows, seen-in-training outcome rows, the public folders not present, and
    a note when the evaluation falls back to the project's data/."""
    from training.sources import SOURCES, load_available, project_data
    from training.sources.location import locate

    if data:
        return project_data.load(*data), [], {}, None
    where = locate()
    if not where.exists:
        missing = {spec.folder: f"{where.root} does not exist" for spec in SOURCES.values()}
        rows: list[Any] = []
        seen_rows: list[Any] = []
    else:
        rows, missing = load_available(where.root, use="eval")
        seen_rows = []
        if seen:
            train_rows, train_missing = load_available(where.root, use="train")
            seen_rows = [ex for ex in train_rows if ex.outcome is not None]
            missing.update(train_missing)
    note = None
    if not rows and not seen_rows:
        rows = project_data.load()
        note = (
            f"no public set in {where.describe()}: evaluating on data/ alone "
            f"({len(rows)} rows the model was trained on, so this measures fit, not "
            "generalisation, and there are no routing curves)"
        )
    return rows, seen_rows, dict(sorted(missing.items())), note


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

    from router.cli._progress import Stages
    from router.errors import ModelArtifactError

    console = Console(stderr=True)
    stages = Stages("eval")
    stages("loading evaluation rows")
    try:
        rows, seen_rows, missing, note = _load(data, seen)
    except (FileNotFoundError, ValueError) as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    if missing:
        from router.cli.datasets import FETCH_HINT

        console.print(
            f"[yellow]missing[/yellow] {len(missing)} public sets, not measured: "
            f"{', '.join(missing)} (`tierrouter datasets list` says where each comes from; "
            f"`{FETCH_HINT}` downloads those with a public origin)",
            highlight=False,
        )
    if note:
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False)
    if not rows and not seen_rows:
        typer.echo("Error: no evaluation rows", err=True)
        raise typer.Exit(code=2)
    console.print(
        f"evaluating on {len(rows)} {'data/' if note else 'held-out'} rows"
        + (f" and {len(seen_rows)} outcome rows seen in training" if seen_rows else "")
    )
    try:
        report = run(rows, model, seed=seed, seen=seen_rows, on_stage=stages)
    except ModelArtifactError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    report["missing"] = missing
    stages(f"writing the report to {out_dir}")
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
