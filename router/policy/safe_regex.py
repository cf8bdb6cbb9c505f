"""Compile user-supplied patterns so that none can stall the router.

A firewall pattern runs on every prompt and every answer, so a pattern with
catastrophic backtracking (``(a+)+$`` on a long run of ``a``) would be a
denial of service. Patterns are therefore compiled with google-re2, whose
matching time is linear in the text whatever the pattern. Patterns re2 cannot
express (backreferences, lookaround) fall back to the ``regex`` module when it
is installed, with a time limit on every search and a probe against
adversarial inputs at creation; without ``regex`` they are rejected.

``max_length`` is the longest text a pattern can match, derived from the
pattern; streaming holds back that much text so a match split across chunks
is still seen whole. Unbounded patterns (``+``, ``*``, ``{n,}``) get
:data:`UNBOUNDED_WINDOW` characters instead (see docs/policy.md).
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Iterator
from typing import Any

from router.errors import ConfigError

__all__ = [
    "FALLBACK_TIMEOUT",
    "MAX_PATTERN_LENGTH",
    "UNBOUNDED_WINDOW",
    "PatternTimeout",
    "SafePattern",
    "compile_trusted",
    "compile_user_pattern",
    "literal_pattern",
]

# Streaming holds back this many characters for patterns with no length bound.
# A match longer than this that straddles chunks may be masked in pieces or
# missed; 256 covers every realistic secret, address or identifier.
UNBOUNDED_WINDOW = 256
# Seconds one search may take with the backtracking fallback engine.
FALLBACK_TIMEOUT = 0.05
MAX_PATTERN_LENGTH = 4096
# Inputs that make backtracking engines explode; a fallback pattern must get
# through each of them within the timeout to be accepted.
_PROBES = tuple(
    body * 2000 + tail
    for body in ("a", "ab", "0", " ", "x@", "aa.", "\n")
    for tail in ("", "!", "\x00")
)


class PatternTimeout(Exception):
    """A fallback-engine search ran past :data:`FALLBACK_TIMEOUT`."""


class SafePattern:
    """A compiled pattern: ``finditer`` yields ``(start, end)`` character spans."""

    __slots__ = ("_compiled", "engine", "max_length", "pattern")

    def __init__(self, pattern: str, compiled: Any, engine: str, max_length: int | None) -> None:
        self.pattern = pattern
        self._compiled = compiled
        self.engine = engine
        # None: the pattern can match text of any length.
        self.max_length = max_length

    def __repr__(self) -> str:
        return f"SafePattern({self.pattern!r}, engine={self.engine})"

    @property
    def window(self) -> int:
        """How much text a streaming scan must see at once to find any match whole."""
        return self.max_length if self.max_length is not None else UNBOUNDED_WINDOW

    def finditer(self, text: str, pos: int = 0) -> Iterator[tuple[int, int]]:
        """Non-overlapping matches from ``pos``; text before ``pos`` is context only.

        Raises PatternTimeout when the fallback engine runs out of time.
        """
        if self.engine == "regex":
            try:
                # One timeout bounds the whole scan: collect it eagerly.
                spans = [
                    m.span()
                    for m in self._compiled.finditer(text, pos, timeout=FALLBACK_TIMEOUT)
                    if m.end() > m.start()
                ]
            except TimeoutError:
                raise PatternTimeout(self.pattern) from None
            yield from spans
            return
        for m in self._compiled.finditer(text, pos):
            # Empty matches (``a*`` between letters) mask nothing; skip them.
            if m.end() > m.start():
                yield m.start(), m.end()

    def search(self, text: str) -> bool:
        return next(self.finditer(text), None) is not None

    def candidates(self, text: str, pos: int = 0) -> Iterator[tuple[int, int, bool]]:
        for start, end in self.finditer(text, pos):
            yield start, end, True


def _re2() -> Any:
    try:
        import re2
    except ImportError:
        return None
    return re2


@functools.lru_cache(maxsize=1)
def _re2_options() -> Any:
    re2 = _re2()
    if re2 is None:
        return None
    options = re2.Options()
    # Rejections are reported through our own error; keep absl quiet on stderr.
    options.log_errors = False
    return options


def _regex_module() -> Any:
    import importlib

    try:
        # Optional and untyped; imported by name so mypy needs no stubs for it.
        return importlib.import_module("regex")
    except ImportError:
        return None


def _max_length(pattern: str) -> int | None:
    """The longest match of ``pattern`` in characters, or None when unbounded/unknown."""
    if sys.version_info >= (3, 11):
        import re._parser as sre_parse
    else:  # pragma: no cover - Python 3.10
        import sre_parse
    try:
        _, high = sre_parse.parse(pattern).getwidth()
    except (re.error, OverflowError, RecursionError, TypeError, ValueError):
        return None  # re2-only syntax Python cannot read: treat as unbounded
    return int(high) if high < 1_000_000 else None


def compile_user_pattern(pattern: str, rule: str) -> SafePattern:
    """Compile a user's regex; ConfigError naming ``rule`` when invalid, unsafe or too slow."""
    if not isinstance(pattern, str) or not pattern:
        raise ConfigError(f"firewall rule {rule!r}: pattern must be a non-empty string")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ConfigError(
            f"firewall rule {rule!r}: pattern is {len(pattern)} characters; "
            f"the limit is {MAX_PATTERN_LENGTH}"
        )
    try:
        re.compile(pattern)
        python_error = None
    except re.error as exc:
        python_error = str(exc)
    re2 = _re2()
    if re2 is not None:
        try:
            compiled = re2.compile(pattern, options=_re2_options())
        except re2.error as exc:
            reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
            if python_error is not None:
                raise ConfigError(
                    f"firewall rule {rule!r}: invalid regex {pattern!r}: {python_error}"
                ) from None
            return _fallback(pattern, rule, f"re2 cannot run it ({reason})")
        return _non_empty(SafePattern(pattern, compiled, "re2", _max_length(pattern)), rule)
    if python_error is not None:
        raise ConfigError(f"firewall rule {rule!r}: invalid regex {pattern!r}: {python_error}")
    return _fallback(pattern, rule, "google-re2 is not installed")


def _non_empty(safe: SafePattern, rule: str) -> SafePattern:
    # A pattern that matches empty text would "match" every prompt: almost
    # certainly a mistake (``a*``, ``x|``), so say so instead of blocking everything.
    match = safe._compiled.search("")
    if match is not None:
        raise ConfigError(
            f"firewall rule {rule!r}: pattern {safe.pattern!r} matches empty text; "
            "require at least one character (use + instead of *)"
        )
    return safe


def _fallback(pattern: str, rule: str, why: str) -> SafePattern:
    regex = _regex_module()
    if regex is None:
        raise ConfigError(
            f"firewall rule {rule!r}: pattern {pattern!r} cannot be run in linear time: {why}; "
            "rewrite it without backreferences or lookaround, or install the 'regex' "
            "module to run it with a time limit"
        )
    try:
        compiled = regex.compile(pattern)
    except regex.error as exc:
        raise ConfigError(f"firewall rule {rule!r}: invalid regex {pattern!r}: {exc}") from None
    safe = _non_empty(SafePattern(pattern, compiled, "regex", _max_length(pattern)), rule)
    for probe in _PROBES:
        try:
            list(safe.finditer(probe))
        except PatternTimeout:
            raise ConfigError(
                f"firewall rule {rule!r}: pattern {pattern!r} is too slow (more than "
                f"{FALLBACK_TIMEOUT * 1000:.0f} ms on a {len(probe)}-character probe); "
                "it would let one request stall the router"
            ) from None
    return safe


def compile_trusted(pattern: str) -> SafePattern:
    """The bundled detectors' patterns: written to be linear, re2 when present, else ``re``."""
    re2 = _re2()
    if re2 is not None:
        return SafePattern(
            pattern, re2.compile(pattern, options=_re2_options()), "re2", _max_length(pattern)
        )
    return SafePattern(pattern, re.compile(pattern), "re", _max_length(pattern))


def literal_pattern(text: str) -> SafePattern:
    """A case-insensitive substring as a pattern (an escaped literal cannot backtrack)."""
    # Python's re folds case one character to one character, so the match
    # length is exactly len(text) and streaming needs no larger window.
    return SafePattern(text, re.compile(re.escape(text), re.IGNORECASE), "re", len(text))
