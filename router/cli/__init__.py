"""The ``tierrouter`` command line.

Each command group lives in its own module and imports what it needs when it
runs, so ``tierrouter --help`` stays quick and ``import router`` never pays
for typer.
"""

from __future__ import annotations

from router.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    app()
