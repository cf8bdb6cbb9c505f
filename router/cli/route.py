"""``tierrouter route`` and ``catalog``: where a prompt would go, and each profile's picks."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from router.cli._policy_common import (
    Config,
    Db,
    Strategy,
    fail,
    make_console,
    policy_router,
    price,
    show_route,
)

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    app.command("route")(route)
    app.command("catalog")(catalog)


def route(
    prompt: Annotated[str, typer.Argument(help="The prompt to route.")],
    profile: Annotated[
        str | None, typer.Option(help="auto, eco, premium, agentic or free.")
    ] = None,
    strategy: Annotated[Strategy | None, typer.Option()] = None,
    model: Annotated[str, typer.Option("--model", help="The model string asked for.")] = "auto",
    db: Db = None,
    config: Config = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
) -> None:
    """The decision, model, fallback chain, rule, cost and savings for a prompt (no call).

    Without provider keys in the environment every provider counts as available.
    """
    options: dict[str, Any] = {}
    if profile:
        options["profile"] = profile
    if strategy:
        options["strategy"] = strategy.value
    router = policy_router(db, config, assume_keys=True, decides=True, **options)
    show_route(router, prompt, model, None, as_json)


def catalog(
    profile: Annotated[str, typer.Option(help="The profile whose ranking to show.")] = "auto",
    config: Config = None,
) -> None:
    """The task x tier -> model table for a profile, with prices per 1M tokens."""
    from rich.table import Table

    from router.routing.strategies import load_profiles, rank
    from router.types import Task, Tier

    router = policy_router(None, config)
    profiles = load_profiles()
    if profile not in profiles:
        raise fail(ValueError(f"profile {profile!r} is not one of {', '.join(profiles)}"))
    spec = profiles[profile]
    models = [
        m
        for m in router.catalog
        if (not spec.only_free or m.free) and spec.require <= m.capabilities
    ]
    table = Table("task", *(t.value for t in Tier), title=f"profile {profile} ({spec.strategy})")
    for task in Task:
        row = []
        for tier in Tier:
            ranked, _ = rank(models, spec.task or task, tier, spec.strategy, spec.min_quality)
            if not ranked:
                row.append("-")
                continue
            best = ranked[0]
            row.append(f"{best.id}\n${price(best.input_price)}/${price(best.output_price)}")
        table.add_row(task.value, *row)
    make_console().print(table)
