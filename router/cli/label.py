"""``tierrouter label --judge MODEL [--shadow RATE]``: label logged calls with your own keys.

``--judge`` alone grades each stored answer 1-5 (:mod:`training.judge`); with
``--shadow RATE`` a sampled share of the calls is answered again by a stronger
model and the judge compares the two answers (:mod:`training.shadow`). Both price
the batch and ask before spending.
"""

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


def _configured_rate(config: Path | None) -> float:
    """``log.shadow_rate`` of the config file, 0 when absent."""
    if config is None:
        return 0.0
    from collections.abc import Mapping

    from router.config import load_config
    from router.log.config import LogConfig

    value = load_config(config).log
    if not isinstance(value, Mapping):
        return 0.0
    parsed = LogConfig.parse(value)
    return parsed.shadow_rate if parsed is not None else 0.0


def label(
    judge: Annotated[str, typer.Option("--judge", help="The grading model, e.g. openai/gpt-4o.")],
    config: Annotated[
        Path | None, typer.Option("--config", help="Router config (keys, providers).")
    ] = None,
    shadow: Annotated[
        float | None,
        typer.Option(
            "--shadow",
            min=0.0,
            max=1.0,
            help="Compare instead of grade: answer this share of logged calls again with "
            "--strong and let the judge compare both answers (default: log.shadow_rate "
            "of --config, else off).",
            show_default=False,
        ),
    ] = None,
    strong: Annotated[
        str | None,
        typer.Option("--strong", help="With --shadow: the stronger model (default: the judge)."),
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help="7d, 24h or an ISO date.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Label at most N.")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before spending.")] = False,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1)] = 4,
    log: LogOption = None,
) -> None:
    """Ask JUDGE whether each logged answer was good enough, or (--shadow) whether a stronger
    model's answer is clearly better; resumable, prices the batch and asks before spending."""
    from router.cli._progress import Stages
    from router.errors import RouterError

    start = since_or_exit(since)
    store = open_existing(log)
    stages = Stages("label")
    try:
        rate = shadow if shadow is not None else _configured_rate(config)
        router = _make_router(config)
        if rate > 0:
            _shadow(store, router, judge, strong or judge, rate, start, limit, yes, concurrency)
        else:
            _grade(store, router, judge, start, limit, yes, concurrency, stages)
    except RouterError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    finally:
        store.close()


def _confirm(yes: bool) -> None:
    if not yes and not typer.confirm("Spend this on your keys?", default=False):
        typer.echo("nothing spent")
        raise typer.Exit(code=1)


def _grade(
    store: Any,
    router: Any,
    judge: str,
    start: Any,
    limit: Any,
    yes: bool,
    concurrency: int,
    stages: Any,
) -> None:
    from training.judge import plan_judging, run_judging

    stages(f"reading {store.path} for answers to judge")
    plan = plan_judging(store, router, judge, since=start, limit=limit)
    if not plan.records:
        typer.echo(
            "nothing to judge: every logged answer with stored text already has a grade "
            f"from {judge} (answers are stored with log: {{store_prompts: true}})"
        )
        return
    typer.echo(plan.describe())
    _confirm(yes)
    stages(f"asking {judge} about {len(plan.records)} answers")
    result = run_judging(
        plan,
        store,
        router,
        concurrency=concurrency,
        progress=lambda done, total: stages.count("judged", done, total),
    )
    good = sum(1 for g in result.grades.values() if g >= 4)
    typer.echo(
        f"labelled {result.labelled} ({good} good enough, {result.labelled - good} needed a "
        f"stronger model); {result.failed} failed and will be retried on the next run"
    )
    for line in result.errors[:5]:
        typer.echo(f"  {line}", err=True)


def _shadow(
    store: Any,
    router: Any,
    judge: str,
    strong: str,
    rate: float,
    start: Any,
    limit: Any,
    yes: bool,
    concurrency: int,
) -> None:
    from training.shadow import plan_shadow, run_shadow

    plan = plan_shadow(store, router, strong, judge, rate, since=start, limit=limit)
    if not plan.records:
        typer.echo(
            f"nothing to compare: the {rate:.0%} sample of logged calls with stored text "
            f"already has a comparison with {strong} (a higher --shadow adds calls)"
        )
        return
    typer.echo(plan.describe())
    _confirm(yes)
    result = run_shadow(plan, store, router, concurrency=concurrency)
    typer.echo(
        f"compared {result.compared}: the cheaper answer sufficed on "
        f"{result.compared - result.fell_short}, {strong} was clearly better on "
        f"{result.fell_short}; {result.failed} failed and will be retried on the next run"
    )
    for line in result.errors[:5]:
        typer.echo(f"  {line}", err=True)
