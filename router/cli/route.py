"""``tierrouter route`` and ``catalog``: where a prompt would go, and each profile's picks."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from router.cli._listing import AsJson, echo_json, keep_whole
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
    as_json: AsJson = False,
) -> None:
    """The task x tier -> model table for a profile, with prices per 1M tokens.

    Each cell holds a key; the list below it gives each key's whole model id and prices.
    """
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
    picks: dict[tuple[str, str], Any] = {}
    for task in Task:
        for tier in Tier:
            ranked, _ = rank(models, spec.task or task, tier, spec.strategy, spec.min_quality)
            picks[task.value, tier.value] = ranked[0] if ranked else None
    if as_json:
        echo_json(
            {
                "profile": profile,
                "strategy": str(spec.strategy),
                "cells": [
                    {
                        "task": task, "tier": tier, "model": m.id if m else None,
                        "input_price": m.input_price if m else None,
                        "output_price": m.output_price if m else None,
                    }
                    for (task, tier), m in picks.items()
                ],
            }
        )  # fmt: skip
        return
    # Model ids run to 48 characters: four of them side by side cannot fit 80 columns,
    # so the grid holds a key per model and the ids are listed whole beneath it.
    keys: dict[str, str] = {}
    for m in picks.values():
        if m is not None and m.id not in keys:
            keys[m.id] = _key(len(keys))
    console = make_console()
    grid = Table("task", *(t.value for t in Tier), title=f"profile {profile} ({spec.strategy})")
    for task in Task:
        cells = [picks[task.value, tier.value] for tier in Tier]
        grid.add_row(task.value, *(keys[m.id] if m else "-" for m in cells))
    console.print(grid)
    legend = Table("key", "model", "$/1M in", "$/1M out", title="models")
    by_id = {m.id: m for m in picks.values() if m is not None}
    for model_id, key in keys.items():
        m = by_id[model_id]
        legend.add_row(key, model_id, price(m.input_price), price(m.output_price))
    console.print(keep_whole(legend, 1))


def _key(index: int) -> str:
    """A, B, ... Z, AA, AB, ...: a cell key, short whatever the catalog's size."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
