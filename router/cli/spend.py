"""``tierrouter spend``: what each proxy key, user and tag spent today and this month."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from router.cli._listing import block

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    app.command("spend")(spend)


def spend(
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="The proxy's config: its budgets (caps) and state."),
    ] = None,
    state: Annotated[
        str | None,
        typer.Option("--state", help="The fleet's redis:// state (default: the config's)."),
    ] = None,
    log: Annotated[
        Path | None,
        typer.Option("--log", help="The SQLite decision log holding this machine's counters."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON list on stdout.")] = False,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Write today's and this month's spend per scope as PNG."),
    ] = None,
) -> None:
    """Spend per budget scope (key:<id>, user:<name>, tag:<name>), day and month, with caps."""
    from router.errors import RouterError

    try:
        rows = _rows(config, state, log)
        if plot is not None:
            from router.state.spend_plot import plot_spend

            plot_spend(rows, str(plot))
    except RouterError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    if plot is not None and not as_json:
        typer.echo(f"wrote {plot}")
    if as_json:
        typer.echo(json.dumps(rows, indent=1))
        return
    if not rows:
        typer.echo("no spend counted yet (budgets count once proxy.budgets is configured)")
        return
    # One block per scope, the scope first and whole: it names the key, user or tag
    # a budget is set for, and a table of six columns cannot hold it at 80.
    by_scope: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_scope.setdefault(r["scope"], []).append(r)
    for scope, entries in by_scope.items():
        block(scope, [_period(r) for r in sorted(entries, key=lambda r: str(r["period"]))])


def _period(r: dict[str, Any]) -> tuple[str, str]:
    kind, _, when = str(r["period"]).partition(":")
    label = {"d": "day", "m": "month"}.get(kind, kind)
    cap = "no cap" if r["cap"] is None else f"cap ${r['cap']:.2f}"
    used = f", {r['share']:.0%} used" if r["share"] is not None else ""
    calls = f"{r['requests']} request" + ("" if r["requests"] == 1 else "s")
    return f"{label} {when}", f"${r['usd']:.4f} in {calls}, {cap}{used}"


def _rows(config: Path | None, state: str | None, log: Path | None) -> list[dict[str, Any]]:
    from router.state.budgets import BudgetConfig, Budgets

    budgets_raw: Any = None
    log_path: Any = log
    if config is not None:
        from router.log.config import LogConfig
        from router.proxy.settings import load_proxy_config

        router_config, settings = load_proxy_config(config)
        budgets_raw = settings.budgets
        if router_config is not None:
            state = state or router_config.state
            parsed = LogConfig.parse(router_config.log) if router_config.log else None
            if log_path is None and parsed is not None and parsed.path is not None:
                log_path = parsed.path
    ledger: Any
    if state:
        from router.db.urls import require_redis
        from router.state.link import RedisLink
        from router.state.spend import RedisSpendLedger

        ledger = RedisSpendLedger(RedisLink(require_redis(state, "--state")))
    else:
        from router.log.paths import default_log_path
        from router.state.spend import SQLiteSpendLedger

        ledger = SQLiteSpendLedger(log_path or default_log_path())
    caps = BudgetConfig.parse(budgets_raw) if budgets_raw else BudgetConfig()
    budgets = Budgets(caps, ledger)
    try:
        return budgets.table()
    finally:
        budgets.close()
