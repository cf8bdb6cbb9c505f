"""``tierrouter train``: fit the decision model and write its artifact.

scikit-learn and the training package are imported inside the command, so the
router itself never pays for them (and never needs them installed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["register"]

DEFAULT_OUT = Path("models/tierrouter-model.json")


def register(app: typer.Typer) -> None:
    app.command("train")(train)


def train(
    data: Annotated[
        list[Path] | None,
        typer.Option(
            "--data",
            help="Labelled JSONL files or folders in data/ format (default: the project's data/).",
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Artifact path (.json; .npz/.joblib beside it).")
    ] = DEFAULT_OUT,
    seed: Annotated[int, typer.Option("--seed", help="Seed for the validation split.")] = 0,
    public: Annotated[
        bool,
        typer.Option(
            "--public/--no-public",
            help="Also fit on the public sets marked 'train' (TIERROUTER_DATASETS).",
        ),
    ] = True,
    logs: Annotated[
        str | None,
        typer.Option(
            "--logs",
            help="A decision log (a SQLite file, or a fleet's postgresql:// store, read as a "
            "stream): train a challenger on it and promote it only if it beats the current "
            "model on held-out log rows (in the store's registry for a postgresql:// log).",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="With --logs: promote the challenger even if not better."),
    ] = False,
    max_regression: Annotated[
        float,
        typer.Option(
            "--max-regression",
            min=0.0,
            max=1.0,
            help="With --logs: refuse a challenger whose tier accuracy on a sample of the "
            "bundled training rows falls more than this below the champion's.",
        ),
    ] = 0.02,
) -> None:
    """Train the task and tier model, print validation metrics, write the artifact."""
    try:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from training.train import TrainConfig, load_training_data, save
        from training.train import train as fit
    except ImportError as exc:
        typer.echo(
            f"Error: training needs the 'train' extra ({exc}); pip install 'tierrouter[train]'",
            err=True,
        )
        raise typer.Exit(code=2) from None

    console = Console(stderr=True)
    if logs is not None:
        _train_with_logs(
            logs,
            data or [],
            public=public,
            force=force,
            max_regression=max_regression,
            seed=seed,
            console=console,
        )
        return
    try:
        rows, manifest = load_training_data(data or (), public=public)
    except (FileNotFoundError, ValueError) as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    console.print(f"{len(rows)} training rows from {len(manifest['sources'])} sources")
    with Progress(
        TextColumn("{task.description:<40}"), BarColumn(), TimeElapsedColumn(), console=console
    ) as progress:
        job = progress.add_task("training", total=1.0)

        def report(what: str, fraction: float) -> None:
            progress.update(job, completed=fraction, description=what[:40])

        try:
            result = fit(rows, manifest, TrainConfig(seed=seed), progress=report)
        except ValueError as exc:
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(code=2) from None
    written = save(result, out)
    _print_metrics(console, result.meta, result.seconds)
    for kind, path in written.items():
        console.print(f"wrote {kind}: {path} ({path.stat().st_size / 1024:.0f} KB)")
    if "joblib" not in written:
        console.print("joblib pipeline over 2 MB: not kept (rerun train to regenerate it)")


def _print_metrics(console: object, meta: dict[str, object], seconds: float) -> None:
    from rich.console import Console
    from rich.table import Table

    assert isinstance(console, Console)
    metrics = meta["metrics"]
    assert isinstance(metrics, dict)
    table = Table("split", "task acc", "task macro-F1", "tier acc", "within-one", "tier ECE")
    held = metrics["held_out_sources"].get("all", {})
    for name, rep in (("validation", metrics["validation"]), ("held-out sources", held)):
        task, tier = rep.get("task", {}), rep.get("tier", {})
        table.add_row(
            name,
            *(f"{task.get(k, float('nan')):.3f}" for k in ("accuracy", "macro_f1")),
            *(f"{tier.get(k, float('nan')):.3f}" for k in ("accuracy", "within_one", "ece")),
        )
    console.print(table)
    low = meta["low_confidence"]
    assert isinstance(low, dict)
    console.print(
        f"version {meta['version']}; low-confidence policy: {low['policy']} "
        f"below {low['threshold']}; {seconds:.1f} s"
    )


def _train_with_logs(
    logs: str,
    data: list[Path],
    *,
    public: bool,
    force: bool,
    max_regression: float,
    seed: int,
    console: Any,
) -> None:
    """Challenger on bundled data plus the user's labelled logs, against the current champion."""
    from training.retrain import print_result, train_with_logs
    from training.train import TrainConfig

    try:
        from router.db.urls import is_postgres

        result = train_with_logs(
            logs if is_postgres(logs) else Path(logs),
            data=data,
            public=public,
            force=force,
            max_regression=max_regression,
            cfg=TrainConfig(seed=seed),
        )
    except (FileNotFoundError, ValueError) as exc:  # ConfigError is a ValueError
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    print_result(result, console)
