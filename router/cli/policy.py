"""``tierrouter rules|firewall|route|catalog``: manage policy and inspect routing without calling.

Rules live where the router keeps them: ``--db PATH`` (a SQLite file shared
with ``Router(policy_db=...)`` and ``tierrouter serve``), or the ``policy_db``
of ``--config``. ``route`` and ``rules test`` never call a model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["register"]

rules_app = typer.Typer(help="Routing rules: which requests go where.", no_args_is_help=True)
firewall_app = typer.Typer(
    help="Firewall rules: block, mask or warn on prompts and responses.", no_args_is_help=True
)

Db = Annotated[
    Path | None,
    typer.Option("--db", help="SQLite policy store (created if missing).", dir_okay=False),
]
Config = Annotated[
    Path | None, typer.Option("--config", "-c", help="Router YAML config.", dir_okay=False)
]
Csv = Annotated[list[str] | None, typer.Option(help="Repeat for several values.")]


def register(app: typer.Typer) -> None:
    app.add_typer(rules_app, name="rules")
    app.add_typer(firewall_app, name="firewall")
    if not any(c.name == "route" for c in app.registered_commands):
        app.command("route")(route)
    if not any(c.name == "catalog" for c in app.registered_commands):
        app.command("catalog")(catalog)


# ---- shared ----------------------------------------------------------------------


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"Error: {exc}", err=True)
    return typer.Exit(code=2)


def _router(db: Path | None, config: Path | None, assume_keys: bool = False, **kw: Any) -> Any:
    """A router on the given store; with ``assume_keys`` every provider counts as keyed.

    Inspecting routing must work before any key is set up; nothing is called,
    so a placeholder per provider is enough to make every model a candidate.
    """
    from router.errors import RouterError
    from router.router import Router

    options: dict[str, Any] = {"model": False, **kw}
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
        raise _fail(exc) from None


def _console() -> Any:
    from rich.console import Console

    return Console()


def _metadata(values: list[str] | None) -> dict[str, Any] | None:
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


def _one_or_many(values: list[str] | None) -> Any:
    if not values:
        return None
    return values[0] if len(values) == 1 else list(values)


# ---- rules -------------------------------------------------------------------------


def _rules_table(rules: list[Any]) -> Any:
    from rich.table import Table

    table = Table("#", "id", "name", "priority", "enabled", "match", "action")
    for i, rule in enumerate(rules, start=1):
        table.add_row(
            str(i),
            rule.id,
            rule.name,
            str(rule.priority),
            "yes" if rule.is_enabled else "no",
            json.dumps(rule.match.to_dict(), ensure_ascii=False) or "(any)",
            json.dumps(rule.action.to_dict(), ensure_ascii=False),
        )
    return table


@rules_app.command("list")
def rules_list(
    db: Db = None, config: Config = None, as_json: bool = typer.Option(False, "--json")
) -> None:
    """List routing rules in evaluation order (priority high first, then oldest)."""
    rules = _router(db, config).rules.list()
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in rules], indent=2, ensure_ascii=False))
        return
    _console().print(_rules_table(rules))


def _rule_fields(
    task: list[str] | None,
    tier: list[str] | None,
    language: list[str] | None,
    contains: list[str] | None,
    metadata: list[str] | None,
    mode: str | None,
    model_requested: str | None,
    set_provider: str | None,
    set_model: str | None,
    set_mode: str | None,
    set_strategy: str | None,
    exclude: list[str] | None,
    warning: str | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    match = {
        "task": _one_or_many(task),
        "tier": _one_or_many(tier),
        "language": _one_or_many(language),
        "contains": _one_or_many(contains),
        "metadata_equals": _metadata(metadata),
        "mode": mode,
        "model_requested": model_requested,
    }
    action = {
        "set_provider": set_provider,
        "set_model": set_model,
        "set_mode": set_mode,
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
    mode: Annotated[str | None, typer.Option(help="cost, balance or quality.")] = None,
    model_requested: Annotated[str | None, typer.Option("--model-requested")] = None,
    set_provider: Annotated[str | None, typer.Option("--set-provider")] = None,
    set_model: Annotated[str | None, typer.Option("--set-model")] = None,
    set_mode: Annotated[str | None, typer.Option("--set-mode")] = None,
    set_strategy: Annotated[str | None, typer.Option("--set-strategy")] = None,
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
        rule = _router(db, config).rules.create(
            name=name, priority=priority, is_enabled=not disabled, match=match, action=action
        )
    except RouterError as exc:
        raise _fail(exc) from None
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
    mode: Annotated[str | None, typer.Option()] = None,
    model_requested: Annotated[str | None, typer.Option("--model-requested")] = None,
    set_provider: Annotated[str | None, typer.Option("--set-provider")] = None,
    set_model: Annotated[str | None, typer.Option("--set-model")] = None,
    set_mode: Annotated[str | None, typer.Option("--set-mode")] = None,
    set_strategy: Annotated[str | None, typer.Option("--set-strategy")] = None,
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
        rules = _router(db, config).rules
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
        raise _fail(exc) from None
    typer.echo(rule.id)


def _switch(kind: str, rule_id: str, enabled: bool, db: Path | None, config: Path | None) -> None:
    from router.errors import RouterError

    router = _router(db, config)
    try:
        resource = router.rules if kind == "rules" else router.firewall
        resource.update(rule_id, is_enabled=enabled)
    except RouterError as exc:
        raise _fail(exc) from None
    typer.echo(f"{rule_id} {'enabled' if enabled else 'disabled'}")


def _delete(kind: str, rule_id: str, db: Path | None, config: Path | None) -> None:
    from router.errors import RouterError

    router = _router(db, config)
    try:
        (router.rules if kind == "rules" else router.firewall).delete(rule_id)
    except RouterError as exc:
        raise _fail(exc) from None
    typer.echo(f"{rule_id} deleted")


@rules_app.command("enable")
def rules_enable(rule_id: str, db: Db = None, config: Config = None) -> None:
    """Switch a routing rule on."""
    _switch("rules", rule_id, True, db, config)


@rules_app.command("disable")
def rules_disable(rule_id: str, db: Db = None, config: Config = None) -> None:
    """Switch a routing rule off (it stays stored)."""
    _switch("rules", rule_id, False, db, config)


@rules_app.command("delete")
def rules_delete(rule_id: str, db: Db = None, config: Config = None) -> None:
    """Delete a routing rule."""
    _delete("rules", rule_id, db, config)


@rules_app.command("test")
def rules_test(
    prompt: Annotated[str, typer.Argument(help="The prompt to route.")],
    model: Annotated[str, typer.Option("--model", help="The model string asked for.")] = "auto",
    metadata: Annotated[list[str] | None, typer.Option(help="KEY=VALUE; repeat.")] = None,
    db: Db = None,
    config: Config = None,
) -> None:
    """Show which routing rule fires for a prompt, and where it sends it (nothing is called)."""
    _show_route(_router(db, config, assume_keys=True), prompt, model, _metadata(metadata))


# ---- firewall ----------------------------------------------------------------------


@firewall_app.command("list")
def firewall_list(
    db: Db = None, config: Config = None, as_json: bool = typer.Option(False, "--json")
) -> None:
    """List firewall rules in evaluation order."""
    from rich.table import Table

    rules = _router(db, config).firewall.list()
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in rules], indent=2, ensure_ascii=False))
        return
    table = Table("#", "id", "name", "priority", "enabled", "scope", "type", "pattern", "action")
    for i, r in enumerate(rules, start=1):
        action = f"mask -> {r.replacement}" if r.action == "mask" else r.action
        table.add_row(
            str(i), r.id, r.name, str(r.priority), "yes" if r.is_enabled else "no",
            r.scope, r.type, r.pattern, action,
        )  # fmt: skip
    _console().print(table)


@firewall_app.command("add")
def firewall_add(
    name: Annotated[str, typer.Option("--name")],
    pattern: Annotated[str | None, typer.Option(help="Substring or regex (see --type).")] = None,
    detector: Annotated[
        str | None,
        typer.Option(help="A built-in detector: email, phone, credit_card, us_ssn, iban, ..."),
    ] = None,
    type_: Annotated[str, typer.Option("--type", help="substring or regex.")] = "substring",
    scope: Annotated[str, typer.Option(help="prompt, response or both.")] = "both",
    action: Annotated[str, typer.Option(help="block, mask or warn.")] = "block",
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
        rule = _router(db, config).firewall.create(
            name=name,
            pattern=detector or pattern or "",
            type="detector" if detector else type_,
            scope=scope,
            action=action,
            replacement=replacement,
            priority=priority,
            is_enabled=not disabled,
        )
    except RouterError as exc:
        raise _fail(exc) from None
    typer.echo(rule.id)


@firewall_app.command("update")
def firewall_update(
    rule_id: str,
    name: Annotated[str | None, typer.Option("--name")] = None,
    pattern: Annotated[str | None, typer.Option()] = None,
    type_: Annotated[str | None, typer.Option("--type")] = None,
    scope: Annotated[str | None, typer.Option()] = None,
    action: Annotated[str | None, typer.Option()] = None,
    replacement: Annotated[str | None, typer.Option()] = None,
    priority: Annotated[int | None, typer.Option()] = None,
    db: Db = None,
    config: Config = None,
) -> None:
    """Change some fields of a firewall rule."""
    from router.errors import RouterError

    fields = {
        "name": name, "pattern": pattern, "type": type_, "scope": scope, "action": action,
        "replacement": replacement, "priority": priority,
    }  # fmt: skip
    try:
        rule = _router(db, config).firewall.update(
            rule_id, **{k: v for k, v in fields.items() if v is not None}
        )
    except RouterError as exc:
        raise _fail(exc) from None
    typer.echo(rule.id)


@firewall_app.command("enable")
def firewall_enable(rule_id: str, db: Db = None, config: Config = None) -> None:
    """Switch a firewall rule on."""
    _switch("firewall", rule_id, True, db, config)


@firewall_app.command("disable")
def firewall_disable(rule_id: str, db: Db = None, config: Config = None) -> None:
    """Switch a firewall rule off."""
    _switch("firewall", rule_id, False, db, config)


@firewall_app.command("delete")
def firewall_delete(rule_id: str, db: Db = None, config: Config = None) -> None:
    """Delete a firewall rule."""
    _delete("firewall", rule_id, db, config)


@firewall_app.command("test")
def firewall_test(
    text: Annotated[str, typer.Argument(help="The text to check.")],
    side: Annotated[str, typer.Option(help="prompt or response.")] = "prompt",
    db: Db = None,
    config: Config = None,
) -> None:
    """Show what the firewall does to a text: blocked (exit 1), masked, or warned."""
    if side not in ("prompt", "response"):
        raise typer.BadParameter("prompt or response", param_hint="--side")
    out, warnings, blocked = _router(db, config).firewall.test(text, side)
    console = _console()
    if blocked:
        console.print(f"[red]blocked[/red] by firewall rule {blocked!r}")
        raise typer.Exit(code=1)
    console.print(out, markup=False, highlight=False)
    for name in warnings:
        console.print(f"[yellow]warning:[/yellow] firewall rule {name!r} matched")


# ---- route and catalog ---------------------------------------------------------------


def _show_route(router: Any, prompt: str, model: str, metadata: dict[str, Any] | None) -> None:
    from rich.table import Table

    from router.errors import RouterError

    try:
        plan = router.route(prompt, model=model, metadata=metadata)
    except RouterError as exc:
        raise _fail(exc) from None
    d = plan.decision
    console = _console()
    console.print(
        f"[bold]{d.task.value}[/bold] / [bold]{d.tier.value}[/bold] "
        f"(language {d.language}, confidence {d.confidence:.2f}, source {d.source})"
    )
    console.print(f"profile {plan.profile}, strategy {plan.strategy or 'pinned'}")
    console.print(f"rule: {d.rule or '(none fired)'}")
    chain = Table("#", "model", "provider", "$/1M in", "$/1M out")
    for i, m in enumerate(plan.chain, start=1):
        chain.add_row(str(i), m.id, m.provider, _price(m.input_price), _price(m.output_price))
    console.print(chain)
    console.print(f"estimated cost: {_usd(d.estimated_cost)}  baseline: {_usd(d.baseline_cost)}")
    console.print(f"savings vs baseline: {_usd(d.savings)}")
    for warning in d.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")


def _price(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


def _usd(value: float | None) -> str:
    return "unknown" if value is None else f"${value:.6f}"


def route(
    prompt: Annotated[str, typer.Argument(help="The prompt to route.")],
    profile: Annotated[
        str | None, typer.Option(help="auto, eco, premium, agentic or free.")
    ] = None,
    strategy: Annotated[str | None, typer.Option(help="cheapest, balanced or best.")] = None,
    model: Annotated[str, typer.Option("--model", help="The model string asked for.")] = "auto",
    db: Db = None,
    config: Config = None,
) -> None:
    """The decision, model, fallback chain, rule, cost and savings for a prompt (no call).

    Without provider keys in the environment every provider counts as available.
    """
    options: dict[str, Any] = {}
    if profile:
        options["profile"] = profile
    if strategy:
        options["strategy"] = strategy
    _show_route(_router(db, config, assume_keys=True, **options), prompt, model, None)


def catalog(
    profile: Annotated[str, typer.Option(help="The profile whose ranking to show.")] = "auto",
    config: Config = None,
) -> None:
    """The task x tier -> model table for a profile, with prices per 1M tokens."""
    from rich.table import Table

    from router.routing.strategies import load_profiles, rank
    from router.types import Task, Tier

    router = _router(None, config)
    profiles = load_profiles()
    if profile not in profiles:
        raise _fail(ValueError(f"profile {profile!r} is not one of {', '.join(profiles)}"))
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
            row.append(f"{best.id}\n${_price(best.input_price)}/${_price(best.output_price)}")
        table.add_row(task.value, *row)
    _console().print(table)
