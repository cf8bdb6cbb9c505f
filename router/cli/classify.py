"""``tierrouter classify``: the decision for a prompt: a short summary, JSON or a table.

One behaviour whatever stdout is: a few lines for a person by default, the full
decision as JSON with ``--json`` (pipes and scripts ask for it), and ``--batch``
always writes JSON lines.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from router.errors import RouterError

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    app.command("classify")(classify)


def classify(
    prompt: Annotated[
        str | None,
        typer.Argument(help="The prompt to classify; '-' reads it from standard input."),
    ] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Print each feature's value and contribution.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the whole decision as JSON.")
    ] = False,
    batch: Annotated[
        Path | None,
        typer.Option(
            "--batch",
            help="A JSONL file of prompts ({'prompt': ...} or {'messages': [...]}) to classify.",
            dir_okay=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Where --batch writes its JSONL (default: stdout)."),
    ] = None,
) -> None:
    """Print the decision for a prompt: tier, task, language, score, confidence, reasons.

    confidence is, for a model decision, the smaller of P(chosen tier) and
    P(chosen task); for a rules decision, how far the score is from the nearest tier
    boundary (0.5 on it, 1.0 mid-band). --json prints every field.
    """
    from router.router import Router

    if batch is not None:
        if prompt is not None:
            raise typer.BadParameter("give either a PROMPT or --batch, not both")
        router = Router()
        failures = _classify_batch(router, batch, out)
        raise typer.Exit(code=1 if failures else 0)
    if prompt is None:
        raise typer.BadParameter("a PROMPT (or '-' for standard input, or --batch FILE) is needed")
    text = sys.stdin.read() if prompt == "-" else prompt
    try:
        decision = Router().classify(text)
    except RouterError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    if as_json:
        typer.echo(json.dumps(decision.to_dict(), ensure_ascii=False, indent=2))
    elif explain:
        _print_explanation(decision)
    else:
        _print_summary(decision)


def _print_summary(decision: Any) -> None:
    """Five short lines: what a person reads first, the rest is behind --json/--explain."""
    tiers = "  ".join(f"{t} {p:.2f}" for t, p in decision.tier_probabilities.items())
    typer.echo(f"{decision.tier.value}  {decision.task.value}  (language {decision.language})")
    typer.echo(
        f"score {decision.score:.3f}  confidence {decision.confidence:.2f}  "
        f"source {decision.source}"
    )
    typer.echo(f"tiers: {tiers}")
    for reason in decision.reasons:
        typer.echo(f"- {reason}")
    for warning in decision.warnings:
        typer.echo(f"warning: {warning}")


# A batch this long takes a few seconds or more (about 0.1-0.3 ms a line): progress lines
# on stderr, one per tenth. Shorter ones finish before a line would help.
BIG_BATCH = 5_000


def _classify_batch(router: Any, path: Path, out: Path | None) -> int:
    """Classify every line; a bad line becomes an error record, never a lost line."""
    from router.cli._progress import Stages

    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc}", param_hint="--batch") from None
    sink: TextIO = out.open("w", encoding="utf-8") if out else sys.stdout
    stages = Stages("classify") if len(lines) >= BIG_BATCH else None
    failures = 0
    try:
        for number, line in enumerate(lines, start=1):
            if stages is not None:
                stages.count("lines", number, len(lines))
            if not line.strip():
                continue
            record = _classify_line(router, line, f"{path}:{number}")
            failures += "error" in record
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")
    finally:
        if out is not None:
            sink.close()
    if failures:
        typer.echo(f"{failures} of {len(lines)} lines could not be classified", err=True)
    return failures


def _classify_line(router: Any, line: str, where: str) -> dict[str, Any]:
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"line": where, "error": f"invalid JSON: {exc.msg} at column {exc.colno}"}
    if isinstance(item, str):
        item = {"prompt": item}
    if not isinstance(item, dict):
        return {"line": where, "error": "expected an object with 'prompt' or 'messages'"}
    value = item.get("messages", item.get("prompt"))
    if value is None:
        return {
            "line": where,
            "id": item.get("id"),
            "error": "no 'prompt' (a string) or 'messages' (a list) field in this line",
        }
    try:
        decision = router.classify(
            value, tools=item.get("tools"), response_format=item.get("response_format")
        )
    except RouterError as exc:
        return {"line": where, "id": item.get("id"), "error": str(exc)}
    return {"line": where, "id": item.get("id"), "decision": decision.to_dict()}


def _print_explanation(decision: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(
        f"[bold]{decision.tier.value}[/bold] {decision.task.value} "
        f"(language {decision.language}, score {decision.score:.3f}, "
        f"confidence {decision.confidence:.2f}, source {decision.source})"
    )
    table = Table("feature", "value", "weight", "contribution")
    for name, f in sorted(decision.features.items(), key=lambda kv: -abs(kv[1].contribution)):
        table.add_row(name, f"{f.value:.3f}", f"{f.weight:+.2f}", f"{f.contribution:+.3f}")
    console.print(table)
    tasks = Table("task", "probability")
    for task, p in sorted(decision.task_scores.items(), key=lambda kv: -kv[1]):
        tasks.add_row(task, f"{p:.3f}")
    console.print(tasks)
    for reason in decision.reasons:
        console.print(f"- {reason}")
    for warning in decision.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
