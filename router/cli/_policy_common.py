"""What the ``rules``, ``firewall`` and ``route`` commands share: options, the router, output.

Rules live where the router keeps them: ``--db PATH`` (a SQLite file shared
with ``Router(policy_db=...)`` and ``tierrouter serve``), or the ``policy_db``
of ``--config``. Nothing here calls a model.
"""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = [
    "Config",
    "Csv",
    "Db",
    "FirewallAction",
    "FirewallType",
    "Mode",
    "Scope",
    "Side",
    "Strategy",
    "delete_rule",
    "fail",
    "make_console",
    "one_or_many",
    "parse_metadata",
    "policy_router",
    "price",
    "show_route",
    "switch_rule",
    "value_of",
]

Db = Annotated[
    Path | None,
    typer.Option("--db", help="SQLite policy store (created if missing).", dir_okay=False),
]
Config = Annotated[
    Path | None, typer.Option("--config", "-c", help="Router YAML config.", dir_okay=False)
]
Csv = Annotated[list[str] | None, typer.Option(help="Repeat for several values.")]


# Closed option sets, so --help lists them and a typo is a usage error. Their
# values are the library's own (tests/test_policy_store.py checks).


class Mode(str, enum.Enum):
    """``model_strings.MODES``: the ``:cost``/``:balance``/``:quality`` suffixes."""

    COST = "cost"
    BALANCE = "balance"
    QUALITY = "quality"


class Strategy(str, enum.Enum):
    CHEAPEST = "cheapest"
    BALANCED = "balanced"
    BEST = "best"


class FirewallType(str, enum.Enum):
    SUBSTRING = "substring"
    REGEX = "regex"
    DETECTOR = "detector"


class Scope(str, enum.Enum):
    PROMPT = "prompt"
    RESPONSE = "response"
    BOTH = "both"


class FirewallAction(str, enum.Enum):
    BLOCK = "block"
    MASK = "mask"
    WARN = "warn"


class Side(str, enum.Enum):
    PROMPT = "prompt"
    RESPONSE = "response"


def fail(exc: Exception) -> typer.Exit:
    typer.echo(f"Error: {exc}", err=True)
    return typer.Exit(code=2)


def policy_router(
    db: Path | None,
    config: Path | None,
    assume_keys: bool = False,
    decides: bool = False,
    **kw: Any,
) -> Any:
    """A router on the given store; with ``assume_keys`` every provider counts as keyed.

    Inspecting routing must work before any key is set up; nothing is called,
    so a placeholder per provider is enough to make every model a candidate.
    A command that shows a decision (``decides``: route, rules test) gets the
    model ``classify``, ``Router()`` and ``serve`` use, so all four decide alike;
    commands that only read or write rules skip loading it.
    """
    from router.errors import RouterError
    from router.router import Router

    options: dict[str, Any] = {**({} if decides else {"model": False}), **kw}
    if db is not None:
        options["policy_db"] = str(db)

    def build(**extra: Any) -> Any:
        if config is not None:
            return Router.from_config(config, **options, **extra)
        return Router(**options, **extra)

    try:
        router = build()
        if assume_keys and not router._engine().providers_with_keys():
            router = build(keys=dict.fromkeys(router.catalog.providers, "placeholder-not-called"))
        return router
    except RouterError as exc:
        raise fail(exc) from None


def make_console() -> Any:
    from rich.console import Console

    return Console()


def parse_metadata(values: list[str] | None) -> dict[str, Any] | None:
    if not values:
        return None
    out: dict[str, Any] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--metadata")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def value_of(choice: enum.Enum | None) -> Any:
    """An option's plain value for the library (``None`` when not given)."""
    return None if choice is None else choice.value


def one_or_many(values: list[str] | None) -> Any:
    if not values:
        return None
    return values[0] if len(values) == 1 else list(values)


def switch_rule(
    kind: str, rule_id: str, enabled: bool, db: Path | None, config: Path | None
) -> None:
    from router.errors import RouterError

    router = policy_router(db, config)
    try:
        resource = router.rules if kind == "rules" else router.firewall
        resource.update(rule_id, is_enabled=enabled)
    except RouterError as exc:
        raise fail(exc) from None
    typer.echo(f"{rule_id} {'enabled' if enabled else 'disabled'}")


def delete_rule(kind: str, rule_id: str, db: Path | None, config: Path | None) -> None:
    from router.errors import RouterError

    router = policy_router(db, config)
    try:
        (router.rules if kind == "rules" else router.firewall).delete(rule_id)
    except RouterError as exc:
        raise fail(exc) from None
    typer.echo(f"{rule_id} deleted")


def show_route(
    router: Any,
    prompt: str,
    model: str,
    metadata: dict[str, Any] | None,
    as_json: bool = False,
) -> None:
    from rich.table import Table

    from router.errors import RouterError

    try:
        plan = router.route(prompt, model=model, metadata=metadata)
    except RouterError as exc:
        raise fail(exc) from None
    d = plan.decision
    if as_json:
        out = {
            "decision": d.to_dict(),
            "model": plan.model,
            "chain": [m.id for m in plan.chain],
            "profile": plan.profile,
            "strategy": plan.strategy.value if plan.strategy else None,
        }
        typer.echo(json.dumps(out, indent=2, ensure_ascii=False))
        return
    console = make_console()
    console.print(
        f"[bold]{d.task.value}[/bold] / [bold]{d.tier.value}[/bold] "
        f"(language {d.language}, confidence {d.confidence:.2f}, source {d.source})"
    )
    console.print(f"profile {plan.profile}, strategy {plan.strategy or 'pinned'}")
    console.print(f"rule: {d.rule or '(none fired)'}")
    from router.cli._listing import keep_whole

    # Model ids are what `--model` and rules take: whole, the prices give way. The
    # provider is the id's first part, so it has no column of its own.
    chain = Table("#", "model", "$/1M in", "$/1M out")
    for i, m in enumerate(plan.chain, start=1):
        chain.add_row(str(i), m.id, price(m.input_price), price(m.output_price))
    console.print(keep_whole(chain, 1))
    console.print(f"estimated cost: {_usd(d.estimated_cost)}  baseline: {_usd(d.baseline_cost)}")
    console.print(f"savings vs baseline: {_usd(d.savings)}")
    for warning in d.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")


def price(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


def _usd(value: float | None) -> str:
    return "unknown" if value is None else f"${value:.6f}"
