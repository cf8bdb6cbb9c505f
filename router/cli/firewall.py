"""``tierrouter firewall``: block, mask or warn on prompts and responses."""

from __future__ import annotations

from typing import Annotated

import typer

from router.cli._listing import AsJson, block, echo_json
from router.cli._policy_common import (
    Config,
    Db,
    FirewallAction,
    FirewallType,
    Scope,
    Side,
    delete_rule,
    fail,
    make_console,
    policy_router,
    switch_rule,
    value_of,
)

__all__ = ["register"]

firewall_app = typer.Typer(
    help="Firewall rules: block, mask or warn on prompts and responses.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(firewall_app, name="firewall")


@firewall_app.command("list")
def firewall_list(db: Db = None, config: Config = None, as_json: AsJson = False) -> None:
    """List firewall rules in evaluation order.

    One block per rule, its id first.
    """
    rules = policy_router(db, config).firewall.list()
    if as_json:
        echo_json([r.to_dict() for r in rules])
        return
    if not rules:
        typer.echo("no firewall rules; `tierrouter firewall add --help` shows how to make one")
        return
    for i, r in enumerate(rules, start=1):
        action = f"mask with {r.replacement!r}" if r.action == "mask" else r.action
        block(
            f"{r.id}  #{i}, priority {r.priority}, {'enabled' if r.is_enabled else 'disabled'}",
            [
                ("name", r.name),
                ("checks", _sides(r.scope)),
                (r.type, r.pattern),
                ("action", action),
            ],
        )


def _sides(scope: str) -> str:
    return "prompts and responses" if scope == "both" else f"{scope}s"


@firewall_app.command("add")
def firewall_add(
    name: Annotated[str, typer.Option("--name")],
    pattern: Annotated[str | None, typer.Option(help="Substring or regex (see --type).")] = None,
    detector: Annotated[
        str | None,
        typer.Option(help="A built-in detector: email, phone, credit_card, us_ssn, iban, ..."),
    ] = None,
    type_: Annotated[FirewallType, typer.Option("--type")] = FirewallType.SUBSTRING,
    scope: Annotated[Scope, typer.Option()] = Scope.BOTH,
    action: Annotated[FirewallAction, typer.Option()] = FirewallAction.BLOCK,
    replacement: Annotated[str | None, typer.Option(help="What mask writes.")] = None,
    priority: Annotated[int, typer.Option()] = 0,
    disabled: Annotated[bool, typer.Option("--disabled")] = False,
    db: Db = None,
    config: Config = None,
) -> None:
    """Create a firewall rule; prints its id."""
    from router.errors import RouterError

    if (pattern is None) == (detector is None):
        raise typer.BadParameter("give exactly one of --pattern or --detector")
    try:
        rule = policy_router(db, config).firewall.create(
            name=name,
            pattern=detector or pattern or "",
            type=FirewallType.DETECTOR.value if detector else type_.value,
            scope=scope.value,
            action=action.value,
            replacement=replacement,
            priority=priority,
            is_enabled=not disabled,
        )
    except RouterError as exc:
        raise fail(exc) from None
    typer.echo(rule.id)


@firewall_app.command("update")
def firewall_update(
    rule_id: str,
    name: Annotated[str | None, typer.Option("--name")] = None,
    pattern: Annotated[str | None, typer.Option()] = None,
    type_: Annotated[FirewallType | None, typer.Option("--type")] = None,
    scope: Annotated[Scope | None, typer.Option()] = None,
    action: Annotated[FirewallAction | None, typer.Option()] = None,
    replacement: Annotated[str | None, typer.Option()] = None,
    priority: Annotated[int | None, typer.Option()] = None,
    db: Db = None,
    config: Config = None,
) -> None:
    """Change some fields of a firewall rule."""
    from router.errors import RouterError

    fields = {
        "name": name, "pattern": pattern, "type": value_of(type_), "scope": value_of(scope),
        "action": value_of(action),
        "replacement": replacement, "priority": priority,
    }  # fmt: skip
    try:
        rule = policy_router(db, config).firewall.update(
            rule_id, **{k: v for k, v in fields.items() if v is not None}
        )
    except RouterError as exc:
        raise fail(exc) from None
    typer.echo(rule.id)


@firewall_app.command("enable")
def firewall_enable(rule_id: str, db: Db = None, config: Config = None) -> None:
    """Switch a firewall rule on."""
    switch_rule("firewall", rule_id, True, db, config)


@firewall_app.command("disable")
def firewall_disable(rule_id: str, db: Db = None, config: Config = None) -> None:
    """Switch a firewall rule off."""
    switch_rule("firewall", rule_id, False, db, config)


@firewall_app.command("delete")
def firewalldelete_rule(rule_id: str, db: Db = None, config: Config = None) -> None:
    """Delete a firewall rule."""
    delete_rule("firewall", rule_id, db, config)


@firewall_app.command("test")
def firewall_test(
    text: Annotated[str, typer.Argument(help="The text to check.")],
    side: Annotated[Side, typer.Option()] = Side.PROMPT,
    db: Db = None,
    config: Config = None,
) -> None:
    """Show what the firewall does to a text: blocked (exit 1), masked, or warned."""
    out, warnings, blocked = policy_router(db, config).firewall.test(text, side.value)
    console = make_console()
    if blocked:
        console.print(f"[red]blocked[/red] by firewall rule {blocked!r}")
        raise typer.Exit(code=1)
    console.print(out, markup=False, highlight=False)
    for name in warnings:
        console.print(f"[yellow]warning:[/yellow] firewall rule {name!r} matched")
