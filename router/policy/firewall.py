"""Firewall rules: block, mask or warn on prompts and responses, streaming included.

Rules run in evaluation order (priority high first, then oldest, then id),
each on the output of the one before: a mask earlier in the order hides text
from the rules after it.

Streaming: a match may straddle chunks, so :class:`StreamScanner` holds back
the last ``window`` characters (the longest text the pattern can match, see
``SafePattern.window``) and only decides about a match once the text after it
has arrived. The streamed output is then exactly what masking the whole text
at once gives, for every way of splitting it into chunks.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from router.errors import ConfigError
from router.policy.errors import FirewallBlocked
from router.policy.rules import header_fields

__all__ = [
    "ACTIONS",
    "SCOPES",
    "TYPES",
    "CompiledFirewallRule",
    "FirewallRule",
    "Matcher",
    "StreamGuard",
    "StreamScanner",
    "compile_rule",
]

SCOPES = ("prompt", "response", "both")
TYPES = ("substring", "regex", "detector")
ACTIONS = ("block", "mask", "warn")
DEFAULT_REPLACEMENT = "[REDACTED]"


class Matcher(Protocol):
    """A compiled pattern or detector."""

    @property
    def window(self) -> int:
        """The longest text one match can cover (the streaming hold-back)."""
        ...

    def finditer(self, text: str, pos: int = 0) -> Iterator[tuple[int, int]]:
        """Accepted matches as (start, end), left to right, non-overlapping."""
        ...

    def candidates(self, text: str, pos: int = 0) -> Iterator[tuple[int, int, bool]]:
        """Every raw match with whether it is accepted; rejected ones still consume text."""
        ...


@dataclass(frozen=True, slots=True)
class FirewallRule:
    """A named firewall rule (the hosted TokenRouter SDK's shape, plus ``type="detector"``)."""

    id: str
    name: str
    pattern: str
    type: str = "substring"
    scope: str = "both"
    action: str = "block"
    replacement: str = DEFAULT_REPLACEMENT
    priority: int = 0
    is_enabled: bool = True
    created_at: float = 0.0
    updated_at: float = 0.0

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], where: str = "firewall rule") -> FirewallRule:
        """Validate a mapping and compile its pattern; errors name the rule and field."""
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {raw!r}")
        known = {"id", "name", "pattern", "type", "scope", "action", "replacement", "priority",
                 "is_enabled", "created_at", "updated_at", "object"}  # fmt: skip
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ConfigError(f"{where}: unknown field {unknown[0]!r}; known: {sorted(known)}")
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{where}.name: a rule needs a non-empty name")
        where = f"firewall rule {name.strip()!r}"
        values: dict[str, Any] = {}
        for fname, choices, default in (
            ("type", TYPES, "substring"),
            ("scope", SCOPES, "both"),
            ("action", ACTIONS, "block"),
        ):
            value = raw.get(fname, default)
            if value not in choices:
                raise ConfigError(f"{where}.{fname}: {value!r} is not one of {', '.join(choices)}")
            values[fname] = value
        pattern = raw.get("pattern")
        if not isinstance(pattern, str) or not pattern:
            raise ConfigError(f"{where}.pattern: expected a non-empty string")
        replacement = raw.get("replacement", DEFAULT_REPLACEMENT)
        if replacement is None:
            replacement = DEFAULT_REPLACEMENT
        if not isinstance(replacement, str):
            raise ConfigError(f"{where}.replacement: expected a string, got {replacement!r}")
        rule_id, priority, enabled = header_fields(raw, where, "fw")
        now = time.time()
        rule = cls(
            id=rule_id,
            name=name.strip(),
            pattern=pattern,
            replacement=replacement,
            priority=priority,
            is_enabled=enabled,
            created_at=float(raw.get("created_at") or now),
            updated_at=float(raw.get("updated_at") or now),
            **values,
        )
        compile_rule(rule)  # an unusable pattern fails now, naming the rule
        return rule

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "firewall_rule",
            "name": self.name,
            "priority": self.priority,
            "is_enabled": self.is_enabled,
            "scope": self.scope,
            "type": self.type,
            "pattern": self.pattern,
            "action": self.action,
            "replacement": self.replacement,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    def applies_to(self, side: str) -> bool:
        return self.is_enabled and self.scope in (side, "both")


@dataclass(frozen=True, slots=True)
class CompiledFirewallRule:
    rule: FirewallRule
    matcher: Matcher

    def blocked(self, side: str, detail: str = "") -> FirewallBlocked:
        return FirewallBlocked(self.rule.name, self.rule.id, side, detail)

    def apply(self, text: str, side: str, warnings: list[str]) -> str:
        """The whole-text form: raise on block, return masked text, note a warning."""
        from router.policy.safe_regex import PatternTimeout

        rule = self.rule
        try:
            spans = list(self.matcher.finditer(text))
        except PatternTimeout:
            # Fail closed: a rule that cannot finish must not wave the text through.
            if rule.action == "warn":
                _note(warnings, rule.name)
                return text
            raise self.blocked(side, " (its pattern timed out)") from None
        if not spans:
            return text
        if rule.action == "block":
            raise self.blocked(side)
        if rule.action == "warn":
            _note(warnings, rule.name)
            return text
        return _replace(text, spans, rule.replacement)


def _note(warnings: list[str], name: str) -> None:
    if name not in warnings:
        warnings.append(name)


def _replace(text: str, spans: list[tuple[int, int]], replacement: str) -> str:
    out: list[str] = []
    pos = 0
    for start, end in spans:
        out.append(text[pos:start])
        out.append(replacement)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def compile_rule(rule: FirewallRule) -> CompiledFirewallRule:
    """The rule's matcher. Raises ConfigError naming the rule when the pattern is unusable."""
    from router.policy import safe_regex

    matcher: Matcher
    if rule.type == "substring":
        matcher = safe_regex.literal_pattern(rule.pattern)
    elif rule.type == "regex":
        matcher = safe_regex.compile_user_pattern(rule.pattern, rule.name)
    else:
        from router.policy.detectors import DETECTORS

        found = DETECTORS.get(rule.pattern)
        if found is None:
            raise ConfigError(
                f"firewall rule {rule.name!r}.pattern: {rule.pattern!r} is not a detector; "
                f"known: {', '.join(DETECTORS)}"
            )
        matcher = found
    return CompiledFirewallRule(rule, matcher)


class StreamScanner:
    """One rule over a stream of text pieces: ``feed`` returns what may be sent now.

    Invariant: every character of the buffer before ``_base`` is decided (sent,
    masked or blocked). A match starting at ``s`` is at most ``window`` long,
    and whether it exists, and how long it is, depends only on the text up to
    ``s + window`` plus one character (for ``\\b``, ``$`` and the detectors'
    "not glued to more digits" checks). So once the buffer reaches
    ``s + window + 1`` the outcome at ``s`` is final; only the tail past that
    is held back. A few already-sent characters stay in the buffer as context
    for checks that look at the character before a match.

    ``warn`` rules hold nothing back: they pass text straight through and only
    watch it.
    """

    _CONTEXT = 8

    def __init__(self, compiled: CompiledFirewallRule, side: str = "response") -> None:
        self._rule = compiled
        self._side = side
        self._window = max(1, compiled.matcher.window)
        self._buffer = ""  # context + undecided text
        self._base = 0  # where undecided text starts within _buffer
        self.matched = False

    @property
    def rule(self) -> FirewallRule:
        return self._rule.rule

    def feed(self, piece: str) -> str:
        if not piece:
            return ""
        if self._rule.rule.action == "warn":
            if not self.matched:  # one match is enough to warn; then stop looking
                self._buffer += piece
                self._scan(final=False)
            return piece
        self._buffer += piece
        return self._scan(final=False)

    def flush(self) -> str:
        if self._rule.rule.action == "warn":
            if not self.matched:
                self._scan(final=True)
            return ""
        return self._scan(final=True)

    def _scan(self, final: bool) -> str:
        from router.policy.safe_regex import PatternTimeout

        buf, base = self._buffer, self._base
        # Matches starting before ``limit`` are decided; at the end everything is.
        limit = len(buf) if final else len(buf) - self._window
        if limit <= base:
            return ""
        rule = self._rule.rule
        out: list[str] = []
        sent = base  # buf[base:sent] is already in ``out``
        resume = base  # where the next search starts (past consumed candidates)
        try:
            for start, end, accepted in self._rule.matcher.candidates(buf, base):
                if start >= limit:
                    break
                resume = end
                if not accepted:
                    continue
                self.matched = True
                if rule.action == "block":
                    raise self._rule.blocked(self._side)
                if rule.action == "mask":
                    out.append(buf[sent:start])
                    out.append(rule.replacement)
                    sent = end
        except PatternTimeout:
            raise self._rule.blocked(self._side, " (its pattern timed out)") from None
        # No undecided match starts before ``limit``; a consumed match may run past it.
        cut = max(resume, limit)
        out.append(buf[sent:cut])
        keep_from = max(0, cut - self._CONTEXT)
        self._buffer = buf[keep_from:]
        self._base = cut - keep_from
        return "".join(out)


class StreamGuard:
    """The response rules chained over one stream of text (one per choice index)."""

    def __init__(self, rules: list[CompiledFirewallRule]) -> None:
        self._scanners = [StreamScanner(r, "response") for r in rules]

    def feed(self, piece: str) -> str:
        for scanner in self._scanners:
            piece = scanner.feed(piece)
        return piece

    def flush(self) -> str:
        # Each stage's remainder still has to pass through the stages after it.
        out = ""
        for scanner in self._scanners:
            out = scanner.feed(out) + scanner.flush()
        return out

    def warnings(self) -> list[str]:
        return [s.rule.name for s in self._scanners if s.matched and s.rule.action == "warn"]
