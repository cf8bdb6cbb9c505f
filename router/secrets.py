"""A wrapper for API keys whose every printable form is masked.

Keys travel from config and environment into request headers and nowhere else:
wrapping them means a stray ``repr`` in a log line, an exception message or a
dataclass dump cannot leak one.
"""

from __future__ import annotations

import functools
import re
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = ["Secret", "as_secret", "mask_secret"]

_MASK = "********"


class Secret:
    """An API key. ``str``/``repr``/``format`` show a mask; :meth:`reveal` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"Secret expects a str, got {type(value).__name__}")
        self._value = value

    def reveal(self) -> str:
        """The raw key, for building request headers only."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return f"Secret('{_MASK}')" if self._value else "Secret('')"

    def __str__(self) -> str:
        return _MASK if self._value else ""

    def __format__(self, spec: str) -> str:
        return str(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> Any:
        # Pickling would write the key to disk or a queue in clear text.
        raise TypeError("Secret values cannot be pickled")


def as_secret(value: str | Secret | None) -> Secret | None:
    """Wrap a raw key; ``None`` and empty strings mean "no key"."""
    if value is None:
        return None
    secret = value if isinstance(value, Secret) else Secret(value)
    return secret if secret else None


def mask_secret(text: str, secret: Secret | None) -> str:
    """``text`` with ``secret`` masked wherever it appears: in any letter case and in
    its URL-encoded forms (an upstream may echo a key upper-cased or inside a URL)."""
    if not secret:
        return text
    return _secret_pattern(secret.reveal()).sub(_MASK, text)


@functools.lru_cache(maxsize=64)
def _secret_pattern(value: str) -> re.Pattern[str]:
    forms = dict.fromkeys((value, quote(value, safe=""), quote_plus(value, safe="")))
    return re.compile("|".join(re.escape(f) for f in forms), re.IGNORECASE)
