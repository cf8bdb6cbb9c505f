"""``tierrouter feedback DECISION_ID``: rate or correct a logged routing decision."""

from __future__ import annotations

from typing import Annotated

import typer

from router.cli._logfile import LogOption, open_existing

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    app.command("feedback")(feedback)


def feedback(
    decision_id: Annotated[str, typer.Argument(help="The decision id (reply.decision.id).")],
    rating: Annotated[
        float | None, typer.Option("--rating", min=1, max=5, help="How good the answer was, 1..5.")
    ] = None,
    verdict: Annotated[
        str | None,
        typer.Option(
            "--verdict",
            help="needed_stronger (a stronger model was needed), cheaper_ok (a cheaper one "
            "would have done) or good_enough (right as routed).",
        ),
    ] = None,
    task: Annotated[str | None, typer.Option("--task", help="The correct task.")] = None,
    tier: Annotated[str | None, typer.Option("--tier", help="The tier it should have had.")] = None,
    comment: Annotated[str | None, typer.Option("--comment", help="A free-text note.")] = None,
    log: LogOption = None,
) -> None:
    """Attach feedback to a decision in the log; retraining learns from it."""
    from router.log.store import DecisionLogError, Feedback

    store = open_existing(log)
    try:
        store.attach_feedback(
            Feedback(
                decision_id,
                rating=rating,
                verdict=verdict.strip().lower().replace("-", "_") if verdict else None,
                task=task.strip().lower() if task else None,
                tier=tier.strip().upper() if tier else None,
                comment=comment,
            )
        )
    except DecisionLogError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    finally:
        store.close()
    typer.echo(f"feedback stored for {decision_id} in {store.path}")
