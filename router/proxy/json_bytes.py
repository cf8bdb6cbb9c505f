"""The proxy's one JSON writer: compact UTF-8 bytes."""

from __future__ import annotations

import json
from typing import Any

import orjson

__all__ = ["dumps"]


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON: every body, SSE event and upstream request the proxy writes.

    orjson writes a chat completion about ten times faster than ``json`` (about
    1 against 10 µs), which counts once per streamed chunk. It refuses integers
    past 64 bits, which JSON allows: those go through ``json``.
    """
    try:
        return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
