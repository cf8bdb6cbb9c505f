"""``tierrouter label --judge MODEL``: grade logged answers with a strong model (your keys)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from router.cli._logfile import LogOption, open_existing, since_or_exit

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    app.command("label")(label)


def _make_router(config: Path | None) -> Any:
    """The router that calls the judge; never logs (judge calls are not user traffic)."""
    from router.router import Router

    if config is not None:
        return Router.from_config(config, log=False)
    return Router(log=False)


def label(
    judge: Annotated[str, typer.Option("--judge", help="The grading model, e.g. openai/gpt-4o.")],
    config: Annotated[
        Path | None, typer.Option("--config", help="Router config (keys, providers).")
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help="7d, 24h or an ISO date.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Judge at most N.")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before spending.")] = False,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1)] = 4,
    log: LogOption = None,
) -> None:
    """Ask JUDGE whether each logged answer was good enough; resumable, asks before spending."""
    from router.cli._progress import Stages
    from router.errors import RouterError
    from training.judge import plan_judging, run_judging

    start = since_or_exit(since)
    store = open_existing(log)
    stages = Stages("label")
    try:
        router = _make_router(config)
        stages(f"reading {store.path} for answers to judge")
        plan = plan_judging(store, router, judge, since=start, limit=limit)
        if not plan.records:
            typer.echo(
                "nothing to judge: every logged answer with stored text already has a grade "
                f"from {judge} (answers are stored with log: {{store_prompts: true}})"
            )
            return
        typer.echo(plan.describe())
        if not yes and not typer.confirm("Spend this on your keys?", default=False):
            typer.echo("nothing spent")
            raise typer.Exit(code=1)
        stages(f"asking {judge} about {len(plan.records)} answers")
        result = run_judging(
            plan,
            store,
            router,
            concurrency=concurrency,
            progress=lambda done, total: stages.count("judged", done, total),
        )
    except RouterError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    finally:
        store.close()
    good = sum(1 for g in result.grades.values() if g >= 4)
    typer.echo(
        f"labelled {result.labelled} ({good} good enough, {result.labelled - good} needed a "
        f"stronger model); {result.failed} failed and will be retried on the next run"
    )
    for line in result.errors[:5]:
        typer.echo(f"  {line}", err=True)
