"""``tierrouter stats``: what routing cost and saved, from the decision log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from router.cli._listing import console, keep_whole
from router.cli._logfile import LogOption, open_existing, since_or_exit

__all__ = ["register"]


# Below this many records stats takes well under 2 s: no progress lines. Records are
# counted in steps of STEP (about 0.5 s each on a busy 2-core machine).
BIG_LOG = 20_000
STEP = 10_000


def register(app: typer.Typer) -> None:
    app.command("stats")(stats)


def stats(
    since: Annotated[
        str | None, typer.Option("--since", help="7d, 24h, 30m or an ISO date (default: all).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot",
            help="Write a PNG: spend per time bin (hours for a day, days for a month), "
            "cumulative routed, baseline and saved spend, and the tier mix.",
        ),
    ] = None,
    log: LogOption = None,
) -> None:
    """Calls, spend, baseline spend, savings, mix by task/tier/model/language, feedback."""
    from router.cli._progress import Stages
    from router.log.stats import plot_summary, summarize

    start = since_or_exit(since)
    store = open_existing(log)
    stages = Stages("stats")
    try:
        # The whole log's size is one cheap query; with --since the count is not known
        # up front, so a line comes every 5 * STEP records instead of every tenth.
        total = store.count() if start is None else None
        if total is not None and total >= BIG_LOG:
            stages(f"reading {store.path}")
        summary = summarize(
            store,
            since=start,
            progress=lambda n: stages.count("records read", n, total),
            every=STEP if total is not None else 5 * STEP,
        )
    finally:
        store.close()
    if plot is not None and not summary["calls"]:
        typer.echo("no calls in the log for this period: no plot written", err=True)
        plot = None
    if plot is not None:
        stages(f"drawing {plot}")
        plot_summary(summary, str(plot))
    if as_json:
        typer.echo(json.dumps(summary, indent=1, sort_keys=True))
    else:
        _print(summary, store.path)
    if plot is not None and not as_json:
        typer.echo(f"wrote {plot}")


def _money(x: float) -> str:
    return f"${x:,.4f}" if abs(x) < 1 else f"${x:,.2f}"


def _print(s: dict[str, Any], path: Path) -> None:
    from rich.table import Table

    out = console()
    out.print(f"tierrouter stats: {path}", highlight=False, overflow="fold")
    if not s["calls"]:
        out.print("no calls logged" + (" in this period" if s["since"] else " yet"))
        return
    head = Table(show_header=False)
    head.add_column("", style="bold")
    head.add_column("", justify="right")
    head.add_row("calls", f"{s['calls']:,}")
    head.add_row("spend", _money(s["spend"]))
    head.add_row("baseline spend", _money(s["baseline_spend"]))
    head.add_row("savings", f"{_money(s['savings'])} ({100 * s['savings_share']:.1f} %)")
    head.add_row("fallback rate", f"{100 * s['fallback_rate']:.1f} %")
    head.add_row("error rate", f"{100 * s['error_rate']:.1f} %")
    for kind, n in s["outcomes"].items():
        head.add_row(f"outcome: {kind}", str(n))
    fb = s["feedback"]
    rating = f", mean rating {fb['mean_rating']:.2f}" if fb["mean_rating"] is not None else ""
    verdicts = ", ".join(f"{k} {v}" for k, v in fb["by_verdict"].items())
    head.add_row("feedback", f"{fb['count']}{rating}" + (f" ({verdicts})" if verdicts else ""))
    out.print(head)
    calls = max(s["calls"], 1)
    for title, key in (("task", "by_task"), ("tier", "by_tier"), ("model", "by_model"),
                       ("language", "by_language")):  # fmt: skip
        table = Table(title=f"by {title}")
        table.add_column(title)
        table.add_column("calls", justify="right")
        table.add_column("share", justify="right")
        if key == "by_model":
            table.add_column("spend", justify="right")
        for name, n in s[key].items():
            row = [name, str(n), f"{100 * n / calls:.1f} %"]
            if key == "by_model":
                row.append(_money(s["spend_by_model"].get(name, 0.0)))
            table.add_row(*row)
        # Model names are what rules and --model take: sized to fit, never cut.
        out.print(keep_whole(table, 0))
