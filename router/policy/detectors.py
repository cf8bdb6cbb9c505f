"""Built-in detectors a firewall rule can switch on by name (``type="detector"``).

Each detector is a linear-time candidate pattern plus, where the format has
one, a check that throws out look-alikes: card numbers must pass Luhn, IBANs
the mod-97 checksum, IP addresses must parse, SSNs must not use the
never-issued areas. Every pattern has a bounded length so streaming holds
back a known, small window.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from router.policy.safe_regex import SafePattern, compile_trusted

__all__ = ["DETECTORS", "Detector", "detector", "iban_ok", "luhn_ok"]

Check = Callable[[str, int, int], bool]


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def luhn_ok(number: str) -> bool:
    """The Luhn checksum every payment card number carries."""
    digits = _digits(number)
    if not digits:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(text: str) -> bool:
    """ISO 13616 mod-97 check: move the first four characters to the end, letters to numbers."""
    raw = "".join(text.split()).upper()
    if not 15 <= len(raw) <= 34:
        return False
    moved = raw[4:] + raw[:4]
    try:
        return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1
    except ValueError:
        return False


def _not_glued(text: str, start: int, end: int) -> bool:
    # A match running straight into more digits or letters is part of something longer.
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not (before.isalnum() or after.isalnum())


def _card(text: str, start: int, end: int) -> bool:
    return (
        _not_glued(text, start, end)
        and 13 <= len(_digits(text[start:end])) <= 19
        and (luhn_ok(text[start:end]))
    )


def _ssn(text: str, start: int, end: int) -> bool:
    digits = _digits(text[start:end])
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return (
        _not_glued(text, start, end)
        and area not in ("000", "666")
        and not area.startswith("9")
        and group != "00"
        and serial != "0000"
    )


def _iban(text: str, start: int, end: int) -> bool:
    return _not_glued(text, start, end) and iban_ok(text[start:end])


def _ip(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    if before.isalnum() or before in ".:" or after.isalnum() or after == ":":
        return False
    try:
        ipaddress.ip_address(text[start:end])
    except ValueError:
        return False
    return True


def _phone(text: str, start: int, end: int) -> bool:
    return _not_glued(text, start, end) and 7 <= len(_digits(text[start:end])) <= 15


def _openai(text: str, start: int, end: int) -> bool:
    # Anthropic keys start with sk- too; they belong to their own detector.
    return not text.startswith("sk-ant-", start) and _not_glued(text, start, end)


def _token(text: str, start: int, end: int) -> bool:
    return _not_glued(text, start, end)


@dataclass(frozen=True)
class Detector:
    name: str
    description: str
    pattern: str
    check: Check | None = None

    @functools.cached_property
    def compiled(self) -> SafePattern:
        return compile_trusted(self.pattern)

    @property
    def window(self) -> int:
        return self.compiled.window

    def candidates(self, text: str, pos: int = 0) -> Iterator[tuple[int, int, bool]]:
        """Every pattern match, left to right, with whether the check accepts it.

        A rejected candidate still consumes its text (the search resumes at its
        end, as ``re.finditer`` would), which keeps scanning linear; streaming
        follows the same rule, so streamed and whole-text scans agree.
        """
        for start, end in self.compiled.finditer(text, pos):
            yield start, end, self.check is None or self.check(text, start, end)

    def finditer(self, text: str, pos: int = 0) -> Iterator[tuple[int, int]]:
        for start, end, ok in self.candidates(text, pos):
            if ok:
                yield start, end


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"

DETECTORS: dict[str, Detector] = {
    d.name: d
    for d in (
        Detector(
            "email",
            "e-mail addresses",
            r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,3}",
        ),
        Detector(
            "phone",
            "phone numbers (7-15 digits, optional +country code, separators)",
            r"(?:\+[0-9]{1,3}[ .-]?)?(?:\([0-9]{2,4}\)[ .-]?|[0-9]{2,4}[ .-])"
            r"[0-9]{2,4}[ .-]?[0-9]{3,4}",
            _phone,
        ),
        Detector(
            "credit_card",
            "payment card numbers (13-19 digits, Luhn-checked)",
            r"[0-9](?:[ -]?[0-9]){12,18}",
            _card,
        ),
        Detector(
            "us_ssn",
            "US social security numbers (123-45-6789)",
            r"[0-9]{3}[- ][0-9]{2}[- ][0-9]{4}",
            _ssn,
        ),
        Detector(
            "iban",
            "international bank account numbers (mod-97 checked)",
            r"[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?",
            _iban,
        ),
        Detector(
            "ip_address",
            "IPv4 and IPv6 addresses",
            rf"{_OCTET}(?:\.{_OCTET}){{3}}|(?:[0-9A-Fa-f]{{0,4}}:){{2,7}}[0-9A-Fa-f]{{0,4}}",
            _ip,
        ),
        Detector(
            "openai_key",
            "OpenAI API keys (sk-..., sk-proj-...)",
            r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,200}",
            _openai,
        ),
        Detector(
            "anthropic_key",
            "Anthropic API keys (sk-ant-...)",
            r"sk-ant-[a-z]{3,6}[0-9]{2}-[A-Za-z0-9_-]{20,120}",
            _token,
        ),
        Detector(
            "aws_access_key",
            "AWS access key ids (AKIA..., ASIA...)",
            r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}",
            _token,
        ),
        Detector(
            "github_token",
            "GitHub tokens (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_)",
            r"(?:gh[pousr]_[A-Za-z0-9]{36,40}|github_pat_[A-Za-z0-9_]{22,100})",
            _token,
        ),
    )
}


def detector(name: str) -> Detector | None:
    return DETECTORS.get(name)
