"""``tierrouter serve``: the OpenAI- and Anthropic-compatible proxy (needs the ``proxy`` extra)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="YAML config: keys, providers, rules, and a 'proxy:' section."
        ),
    ] = None,
    host: Annotated[
        str | None, typer.Option("--host", help="Address to bind (default 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option("--port", "-p", help="Port (default 8080).")] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", min=1, help="Worker processes (default 1).")
    ] = None,
    insecure: Annotated[
        bool,
        typer.Option(
            "--insecure", help="Allow a non-loopback --host without proxy keys (anyone can call)."
        ),
    ] = False,
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            help="Fleet mode: a postgresql:// store for the log, rules and models (docs/fleet.md).",
            show_default=False,
        ),
    ] = None,
    state: Annotated[
        str | None,
        typer.Option(
            "--state",
            help="Fleet mode: a redis:// state for cooldowns, rate limits and spend.",
            show_default=False,
        ),
    ] = None,
    log_level: Annotated[
        str, typer.Option("--log-level", help="debug, info, warning or error.")
    ] = "info",
) -> None:
    """Serve routed models at /v1/chat/completions, /v1/responses and /v1/messages."""
    needed = ("starlette", "uvicorn", "orjson")
    missing = [m for m in needed if importlib.util.find_spec(m) is None]
    if missing:
        typer.echo(
            f"Error: the proxy needs {' and '.join(missing)}: pip install 'tierrouter[proxy]'",
            err=True,
        )
        raise typer.Exit(code=2)
    import os

    from router.db.urls import is_postgres, is_redis
    from router.errors import RouterError
    from router.proxy.server import serve as run

    # Through the environment, so that every worker process builds its router with them.
    for value, check, var, example in (
        (store, is_postgres, "TIERROUTER_STORE", "postgresql://user@host/db"),
        (state, is_redis, "TIERROUTER_STATE", "redis://host:6379/0"),
    ):
        if value is None:
            continue
        if not check(value):
            typer.echo(f"Error: expected a URL like {example}, got {value!r}", err=True)
            raise typer.Exit(code=2)
        os.environ[var] = value

    try:
        run(config, host=host, port=port, workers=workers, insecure=insecure, log_level=log_level)
    except RouterError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(code=2) from None
