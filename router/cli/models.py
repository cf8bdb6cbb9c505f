"""``tierrouter models list|promote|rollback``: the user's retrained decision models."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from router.cli._listing import AsJson, block, echo_json

__all__ = ["register"]

models_app = typer.Typer(help="Retrained decision models: list, promote, roll back.")

DirOption = Annotated[
    Path | None,
    typer.Option("--dir", help="Model registry (default: $XDG_DATA_HOME/tierrouter/models)."),
]


StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="A fleet's postgresql:// store: its registry instead of the local folder "
        "(every instance serves its champion within seconds).",
        show_default=False,
    ),
]


def _registry(store: str) -> Any:
    from router.db.urls import require_postgres
    from router.errors import RouterError
    from router.log.pg_registry import PgRegistry

    try:
        return PgRegistry(require_postgres(store, "--store"))
    except RouterError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(code=2) from None


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")


def _metric(m: dict[str, Any], *keys: str) -> str:
    value: Any = m
    for k in keys:
        value = value.get(k) if isinstance(value, dict) else None
    return f"{value:.3f}" if isinstance(value, (int, float)) else "—"


def _entry_json(e: Any) -> dict[str, Any]:
    return {"name": e.name, "path": str(e.path), "promoted": e.promoted, "metrics": e.metrics}


def _verdict(m: dict[str, Any]) -> str:
    """What retraining decided for this challenger, and why (not who promoted it)."""
    decision = m.get("decision")
    if not isinstance(decision, dict):
        return "—"
    outcome = "promoted" if decision.get("promoted") else "kept the champion"
    return f"{outcome}: {decision.get('reason', 'no reason recorded')}"


@models_app.command("list")
def list_(directory: DirOption = None, store: StoreOption = None, as_json: AsJson = False) -> None:
    """Every model in the registry with its metrics, oldest first; the served one is marked.

    One block per model, its name (what `models promote` takes) first.
    """
    from router.log.paths import model_dir
    from router.log.registry import list_models

    entries: list[Any] = _registry(store).list_models() if store else list_models(directory)
    if as_json:
        echo_json([_entry_json(e) for e in entries])
        return
    if not entries:
        where = _registry(store).shown if store else directory or model_dir()
        typer.echo(
            f"no models in {where} yet; `tierrouter train --logs` adds one. "
            "Routers use the bundled model."
        )
        return
    for e in entries:
        m = e.metrics
        created = m.get("created")
        when = dt.datetime.fromtimestamp(created).strftime("%Y-%m-%d %H:%M") if created else "—"
        rows = m.get("log_rows", {})
        block(
            f"{e.name}" + ("  * served (promoted)" if e.promoted else ""),
            [
                ("created", when),
                ("kind", str(m.get("kind", "model"))),
                ("log rows", f"{rows.get('train', '—')} trained on, "
                 f"{rows.get('held_out', '—')} held out"),
                ("held-out APGR", f"challenger {_metric(m, 'comparison', 'challenger_apgr')}, "
                 f"champion {_metric(m, 'comparison', 'champion_apgr')}"),
                ("retraining", _verdict(m)),
            ],
        )  # fmt: skip
    if not any(e.promoted for e in entries):
        typer.echo("none promoted: routers use the bundled model")


@models_app.command("promote")
def promote(
    name: Annotated[str, typer.Argument(help="Folder name from `tierrouter models list`.")],
    directory: DirOption = None,
    store: StoreOption = None,
) -> None:
    """Make NAME the model new routers load (``Router()`` or ``router.reload_model()``)."""
    from router.errors import ConfigError
    from router.log.registry import promote as do_promote

    try:
        entry = _registry(store).promote(name) if store else do_promote(name, directory)
    except ConfigError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    typer.echo(f"promoted {entry.name}")


@models_app.command("rollback")
def rollback(directory: DirOption = None, store: StoreOption = None) -> None:
    """Return to the previously promoted model (or the bundled one)."""
    from router.log.registry import rollback as do_rollback

    previous = _registry(store).rollback() if store else do_rollback(directory)
    typer.echo(f"promoted {previous}" if previous else "back to the bundled model")
