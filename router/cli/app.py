"""The root typer application; commands register themselves from their own modules."""

from __future__ import annotations

from typing import Annotated

import typer

from router.cli import classify as _classify
from router.cli import datasets as _datasets
from router.cli import db as _db
from router.cli import evaluate as _evaluate
from router.cli import feedback as _feedback
from router.cli import firewall as _firewall
from router.cli import label as _label
from router.cli import models as _models
from router.cli import route as _route
from router.cli import routing_rules as _routing_rules
from router.cli import serve as _serve
from router.cli import spend as _spend
from router.cli import stats as _stats
from router.cli import train as _train

app = typer.Typer(
    name="tierrouter",
    help="Route each prompt to the cheapest model that will answer it well.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _show_version(value: bool) -> None:
    if value:
        from router._version import __version__

        typer.echo(f"tierrouter {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Route each prompt to the cheapest model that will answer it well."""


_classify.register(app)
_train.register(app)
_evaluate.register(app)
_datasets.register(app)
_serve.register(app)
# The decision log and retraining loop (router/log, training/retrain.py).
_feedback.register(app)
_stats.register(app)
_label.register(app)
_models.register(app)
# Routing rules, firewall, route and catalog (router/policy).
_routing_rules.register(app)
_firewall.register(app)
_route.register(app)
# Schema migrations and fleet mode (router/db, docs/fleet.md).
_db.register(app)
_spend.register(app)
