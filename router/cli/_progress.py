"""Progress of the long commands: one line per stage on stderr, on a terminal or not.

A bar redraws one line in place, so in a pipe, a CI log or ``2> file`` it shows
nothing until the end (rich does not animate without a terminal). A line per stage
reads the same everywhere, says where a slow run is, and keeps stdout for results.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import typer

__all__ = ["Stages"]


class Stages:
    """``<command>: [  12.3 s] <stage>`` on stderr, once per stage.

    ``clock`` is injectable so a test can check the lines without waiting.
    """

    def __init__(self, command: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.command = command
        self._clock = clock
        self._start = clock()
        self._last: str | None = None
        self._tenth = -1

    def __call__(self, what: str, fraction: float | None = None) -> None:
        """A stage starts (``fraction``: how far the whole command is, when known)."""
        if what == self._last:
            return
        self._last = what
        share = "" if fraction is None else f" ({fraction:.0%})"
        elapsed = self._clock() - self._start
        typer.echo(f"{self.command}: [{elapsed:7.1f} s] {what}{share}", err=True)

    def count(self, what: str, done: int, total: int | None = None) -> None:
        """``done`` of ``total`` items: a line at each tenth of the total and at the end.

        Without a total (a log read as a stream) ``done`` comes in steps the caller
        chooses; each step gets its line.
        """
        if total is None:
            self(f"{what}: {done:,}")
            return
        tenth = 10 * done // total if total else 10
        if tenth == self._tenth:
            return
        self._tenth = tenth
        self(f"{what}: {done:,} of {total:,}", done / total if total else 1.0)
