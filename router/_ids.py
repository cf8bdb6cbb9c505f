"""Random hex for the ids the router makes up: responses, decisions, tool calls, rules."""

from __future__ import annotations

import os

__all__ = ["random_hex"]


def random_hex(chars: int) -> str:
    """``chars`` hex digits from the operating system's CSPRNG.

    Ids were ``uuid.uuid4().hex[:n]``, which builds a UUID object only to slice its
    hex: a few µs each, and a proxied request makes two.
    """
    return os.urandom((chars + 1) // 2).hex()[:chars]
