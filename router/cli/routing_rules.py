"""``tierrouter rules``: routing rules, which requests go where (``route`` shows the effect)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from router.cli._listing import AsJson, block, echo_json
from router.cli._policy_common import (
    Config,
    Csv,
    Db,
    Mode,
    delete_rule,
    fail,
    one_or_many,
    parse_metadata,
    policy_router,
    show_route,
    switch_rule,
    value_of,
)

__all__ = ["register"]

rules_app = typer.Typer(help="Routing rules: which requests go where.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(rules_app, name="rules")


def _print_rules(rules: list[Any]) -> None:
    if not rules:
        typer.echo("no routing rules; `tierrouter rules add --help` shows how to make one")
        return
    for i, rule in enumerate(rules, start=1):
        block(
            f"{rule.id}  #{i}, priority {rule.priority}, "
            f"{'enabled' if rule.is_enabled else 'disabled'}",
            [
                ("name", rule.name),
                ("match", json.dumps(rule.match.to_dict(), ensure_ascii=False)
                 if rule.match.to_dict() else "(any request)"),
                ("action", json.dumps(rule.action.to_dict(), ensure_ascii=False)),
            ],
        )  # fmt: skip


@rules_app.command("list")
def rules_list(db: Db = None, config: Config = None, as_json: AsJson = False) -> None:
    """List routing rules in evaluation order (priority high first, then oldest).

    One block per rule, its id first.
    """
    rules = policy_router(db, config).rules.list()
    if as_json:
        echo_json([r.to_dict() for r in rules])
        return
    _print_rules(rules)


def _rule_fields(
    task: list[str] | None,
    tier: list[str] | None,
    language: list[str] | None,
    contains: list[str] | None,
    metadata: list[str] | None,
    mode: Mode | None,
    model_requested: str | None,
    set_provider: str | None,
    set_model: str | None,
    set_mode: Mode | None,
    set_strategy: str | None,
    exclude: list[str] | None,
    warning: str | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    match = {
        "task": one_or_many(task),
        "tier": one_or_many(tier),
        "language": one_or_many(language),
        "contains": one_or_many(contains),
        "metadata_equals": parse_metadata(metadata),
        "mode": value_of(mode),
        "model_requested": model_requested,
    }
    action = {
        "set_provider": set_provider,
        "set_model": set_model,
        "set_mode": value_of(set_mode),
        "set_strategy": set_strategy,
        "exclude_models": list(exclude) if exclude else None,
        "add_warning": warning,
    }
    return (
        {k: v for k, v in match.items() if v is not None},
        {k: v for k, v in action.items() if v is not None},
    )


@rules_app.command("add")
def rules_add(
    name: Annotated[str, typer.Option("--name", help="A name for the rule.")],
    priority: Annotated[int, typer.Option(help="Higher runs first.")] = 0,
    disabled: Annotated[bool, typer.Option("--disabled", help="Create it switched off.")] = False,
    task: Csv = None,
    tier: Csv = None,
    language: Csv = None,
    contains: Csv = None,
    metadata: Annotated[list[str] | None, typer.Option(help="KEY=VALUE; repeat.")] = None,
    mode: Annotated[Mode | None, typer.Option(help="The mode the request asked for.")] = None,
    model_requested: Annotated[str | None, typer.Option("--model-requested")] = None,
    set_provider: Annotated[str | None, typer.Option("--set-provider")] = None,
    set_model: Annotated[str | None, typer.Option("--set-model")] = None,
    set_mode: Annotated[Mode | None, typer.Option("--set-mode")] = None,
    set_strategy: Annotated[
        str | None, typer.Option("--set-strategy", help="A strategy or a profile name.")
    ] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", help="Model or glob.")] = None,
    warning: Annotated[str | None, typer.Option("--warning", help="add_warning text.")] = None,
    db: Db = None,
    config: Config = None,
) -> None:
    """Create a routing rule; prints its id."""
    from router.errors import RouterError

    match, action = _rule_fields(
        task, tier, language, contains, metadata, mode, model_requested,
        set_provider, set_model, set_mode, set_strategy, exclude, warning,
    )  # fmt: skip
    try:
        rule = policy_router(db, config).rules.create(
            name=name, priority=priority, is_enabled=not disabled, match=match, action=action
        )
    except RouterError as exc:
        raise fail(exc) from None
    typer.echo(rule.id)


@rules_app.command("update")
def rules_update(
    rule_id: Annotated[str, typer.Argument(help="The rule's id.")],
    name: Annotated[str | None, typer.Option("--name")] = None,
    priority: Annotated[int | None, typer.Option()] = None,
    task: Csv = None,
    tier: Csv = None,
    language: Csv = None,
    contains: Csv = None,
    metadata: Annotated[list[str] | None, typer.Option(help="KEY=VALUE; repeat.")] = None,
    mode: Annotated[Mode | None, typer.Option()] = None,
    model_requested: Annotated[str | None, typer.Option("--model-requested")] = None,
    set_provider: Annotated[str | None, typer.Option("--set-provider")] = None,
    set_model: Annotated[str | None, typer.Option("--set-model")] = None,
    set_mode: Annotated[Mode | None, typer.Option("--set-mode")] = None,
    set_strategy: Annotated[
        str | None, typer.Option("--set-strategy", help="A strategy or a profile name.")
    ] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude")] = None,
    warning: Annotated[str | None, typer.Option("--warning")] = None,
    db: Db = None,
    config: Config = None,
) -> None:
    """Change a rule: given conditions and actions are merged into the existing ones."""
    from router.errors import RouterError

    match, action = _rule_fields(
        task, tier, language, contains, metadata, mode, model_requested,
        set_provider, set_model, set_mode, set_strategy, exclude, warning,
    )  # fmt: skip
    try:
        rules = policy_router(db, config).rules
        current = rules.retrieve(rule_id)
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = name
        if priority is not None:
            changes["priority"] = priority
        if match:
            changes["match"] = {**current.match.to_dict(), **match}
        if action:
            changes["action"] = {**current.action.to_dict(), **action}
        rule = rules.update(rule_id, **changes)
    except RouterError as exc:
        raise fail(exc) from None
    typer.echo(rule.id)


@rules_app.command("enable")
def rules_enable(rule_id: str, db: Db = None, config: Config = None) -> None:
    """Switch a routing rule on."""
    switch_rule("rules", rule_id, True, db, config)


@rules_app.command("disable")
def rules_disable(rule_id: str, db: Db = None, config: Config = None) -> None:
    """Switch a routing rule off (it stays stored)."""
    switch_rule("rules", rule_id, False, db, config)


@rules_app.command("delete")
def rulesdelete_rule(rule_id: str, db: Db = None, config: Config = None) -> None:
    """Delete a routing rule."""
    delete_rule("rules", rule_id, db, config)


@rules_app.command("test")
def rules_test(
    prompt: Annotated[str, typer.Argument(help="The prompt to route.")],
    model: Annotated[str, typer.Option("--model", help="The model string asked for.")] = "auto",
    metadata: Annotated[list[str] | None, typer.Option(help="KEY=VALUE; repeat.")] = None,
    db: Db = None,
    config: Config = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
) -> None:
    """Show which routing rule fires for a prompt, and where it sends it (nothing is called)."""
    router = policy_router(db, config, assume_keys=True, decides=True)
    show_route(router, prompt, model, parse_metadata(metadata), as_json)
