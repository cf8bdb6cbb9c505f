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
            metavar="PATH",
            help="Labelled JSONL files or folders in data/ format (default: the project's data/).",
        ),
    ] = None,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            metavar="PATH",
            help="Artifact path, .json; .npz/.joblib go beside it (default: see above).",
            show_default=False,
        ),
    ] = DEFAULT_OUT,
    seed: Annotated[int, typer.Option("--seed", help="Seed for the validation split.")] = 0,
    public: Annotated[
        bool | None,
        typer.Option(
            "--public/--no-public",
            help="Also fit on the public sets marked 'train' (see `tierrouter datasets list`). "
            "Default: when all of them are present; otherwise data/ alone, with a note.",
            show_default=False,
        ),
    ] = None,
    logs: Annotated[
        str | None,
        typer.Option(
            "--logs",
            metavar="LOG",
            help="A decision log (a SQLite file, or a fleet's postgresql:// store): fit a user "
            "layer on its outcomes (seconds, no public data) and promote it only if it beats "
            "the current model on held-out logged calls (APGR, paired bootstrap). With "
            "--full, or for a postgresql:// store: retrain the whole model on the bundled "
            "data plus the log.",
        ),
    ] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="With --logs: refit the whole model on the public data plus the log "
            "instead of a user layer (minutes; needs the public datasets).",
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="With --logs: promote the challenger even if not better."),
    ] = False,
    max_task_drop: Annotated[
        float,
        typer.Option(
            "--max-task-drop",
            metavar="FRACTION",
            min=0.0,
            max=1.0,
            help="With --logs: refuse as broken a challenger whose task accuracy on a sample "
            "of the bundled training rows falls more than this below the champion's.",
        ),
    ] = 0.10,
) -> None:
    """Train the task and tier model, print validation metrics, write the artifact.

    The artifact goes to models/tierrouter-model.json unless --out names another path.
    """
    try:
        from rich.console import Console

        from training.config import TrainConfig
        from training.dataset import load_training_data
        from training.export import save
        from training.train import train as fit
    except ImportError as exc:
        typer.echo(
            f"Error: training needs the 'train' extra ({exc}); pip install 'tierrouter[train]'",
            err=True,
        )
        raise typer.Exit(code=2) from None

    from router.cli._progress import Stages

    console = Console(stderr=True)
    if logs is not None and not full and not _is_fleet(logs):
        _train_layer(logs, force=force, seed=seed, console=console)
        return
    use_public = _public_sets(public, console, "the given --data" if data else "data/")
    stages = Stages("train")
    if logs is not None:
        _train_with_logs(
            logs,
            data or [],
            public=use_public,
            force=force,
            max_task_drop=max_task_drop,
            seed=seed,
            console=console,
            stages=stages,
        )
        return
    stages("loading labelled rows" + (" and the public train sets" if use_public else ""))
    try:
        rows, manifest = load_training_data(data or (), public=use_public)
    except (FileNotFoundError, ValueError) as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    console.print(f"{len(rows)} training rows from {len(manifest['sources'])} sources")
    try:
        result = fit(rows, manifest, TrainConfig(seed=seed), progress=stages)
    except ValueError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    stages("writing the artifact")
    written = save(result, out)
    _print_metrics(console, result.meta, result.seconds)
    for kind, path in written.items():
        console.print(f"wrote {kind}: {path} ({path.stat().st_size / 1024:.0f} KB)")
    if "joblib" not in written:
        console.print("joblib pipeline over 2 MB: not kept (rerun train to regenerate it)")


def _public_sets(public: bool | None, console: Any, own: str) -> bool:
    """Whether to fit on the public train sets; says why not when they are not all there.

    A partial set of public sets gives a model that is neither the bundled recipe nor
    data/ alone, so without all of them the default is data/ alone, named as such.
    """
    if public is False:
        return False
    from router.cli.datasets import FETCH_HINT
    from training.sources.location import locate
    from training.sources.origins import load_manifest, state

    where = locate()
    needed = {n: ds for n, ds in load_manifest().items() if "train" in ds.use or "mixed" in ds.use}
    absent = {n: ds for n, ds in needed.items() if state(ds, where.root).status != "present"}
    if not absent:
        console.print(f"public train sets: all {len(needed)} from {where.describe()}")
        return True
    fetchable = [n for n, ds in absent.items() if ds.fetchable]
    derived = [n for n, ds in absent.items() if not ds.fetchable]
    lines = [
        f"public train sets not all in {where.describe()}: missing {', '.join(absent)}.",
    ]
    if fetchable:
        lines.append(f"`{FETCH_HINT}` downloads {', '.join(fetchable)}.")
    if derived:
        lines.append(
            f"{', '.join(derived)} are derived by the project and cannot be downloaded: "
            "copy them from the shared datasets (`tierrouter datasets list` shows where each "
            "came from)."
        )
    if public is True:
        typer.echo("Error: --public: " + " ".join(lines), err=True)
        raise typer.Exit(code=2)
    console.print(
        f"[yellow]note:[/yellow] training on {own} alone, not the bundled model's recipe "
        "(public train sets + data/). " + " ".join(lines),
        highlight=False,
    )
    return False


# Below this many labelled rows an accuracy is within about ±0.1 of anything: too few to
# say how good the model is, so the table says that instead of printing the number alone.
MIN_MEASURED_ROWS = 100


def _print_metrics(console: object, meta: dict[str, object], seconds: float) -> None:
    from rich.console import Console
    from rich.table import Table

    assert isinstance(console, Console)
    metrics = meta["metrics"]
    assert isinstance(metrics, dict)
    table = Table("split", "rows", "task acc", "task F1", "tier acc", "within 1", "tier ECE")
    held = metrics["held_out_sources"].get("all", {})
    notes: list[str] = []
    for name, rep in (("validation", metrics["validation"]), ("held-out sources", held)):
        task, tier = rep.get("task", {}), rep.get("tier", {})
        rows = max(task.get("rows", 0), tier.get("rows", 0))

        def cell(head: dict[str, Any], key: str) -> str:
            value = head.get(key)
            return "—" if value is None or value != value else f"{value:.3f}"

        table.add_row(
            name,
            str(rows),
            *(cell(task, k) for k in ("accuracy", "macro_f1")),
            *(cell(tier, k) for k in ("accuracy", "within_one", "ece")),
        )
        if rows == 0:
            notes.append(
                f"{name}: not measured (too little data for this split: the held-out "
                "sources need at least two sources with labelled rows)"
            )
        elif rows < MIN_MEASURED_ROWS:
            notes.append(
                f"{name}: only {rows} rows, too few to measure the model "
                f"(need about {MIN_MEASURED_ROWS}); treat these numbers as a smoke test"
            )
    console.print(table)
    for note in notes:
        console.print(f"[yellow]warning:[/yellow] {note}", highlight=False)
    low = meta["low_confidence"]
    assert isinstance(low, dict)
    console.print(
        f"version {meta['version']}; low-confidence policy: {low['policy']} "
        f"below {low['threshold']}; {seconds:.1f} s"
    )


def _is_fleet(logs: str) -> bool:
    from router.db.urls import is_postgres

    return is_postgres(logs)


def _train_layer(logs: str, *, force: bool, seed: int, console: Any) -> None:
    """A user layer on the log's outcomes, against the current champion."""
    from router.cli._logfile import open_existing
    from training.retrain import print_result
    from training.retrain_layer import train_layer_with_logs

    open_existing(Path(logs), "--logs").close()  # a typo names the file, creates nothing
    try:
        result = train_layer_with_logs(Path(logs), force=force, seed=seed)
    except (FileNotFoundError, ValueError) as exc:  # ConfigError is a ValueError
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    print_result(result, console)
    layer = result.metrics.get("layer", {})
    console.print(
        f"user layer: {layer.get('rows')} calls, prior strength {layer.get('prior')} "
        f"(cross-validated APGR {layer.get('cv_best')}); "
        f"{result.metrics['seconds']['total']:.1f} s"
    )


def _train_with_logs(
    logs: str,
    data: list[Path],
    *,
    public: bool,
    force: bool,
    max_task_drop: float,
    seed: int,
    console: Any,
    stages: Any,
) -> None:
    """Challenger on bundled data plus the user's labelled logs, against the current champion."""
    from router.db.urls import is_postgres
    from training.config import TrainConfig
    from training.retrain import print_result, train_with_logs

    if not is_postgres(logs):
        # Opening a SQLite path creates the file: a typo would leave an empty log behind
        # and then report "0 labelled rows" instead of naming the missing file.
        from router.cli._logfile import open_existing

        open_existing(Path(logs), "--logs").close()
    try:
        result = train_with_logs(
            logs if is_postgres(logs) else Path(logs),
            data=data,
            public=public,
            force=force,
            max_task_drop=max_task_drop,
            cfg=TrainConfig(seed=seed),
            progress=stages,
            on_stage=stages,
        )
    except (FileNotFoundError, ValueError) as exc:  # ConfigError is a ValueError
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    print_result(result, console)
