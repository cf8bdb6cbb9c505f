"""Session affinity: the turns of one agent conversation stay on one model.

A provider's prompt cache only pays off when the next turn goes to the same
model, and an agent that switches models mid-task loses the thread. So the
proxy remembers which model answered each conversation and asks the router to
keep it (``prefer``), unless a turn needs a higher tier than the one the model
was chosen for (then it escalates) or the model cannot serve (then it moves).

A conversation is named by, in order: the ``x-tierrouter-session`` header,
Claude Code's ``x-claude-code-session-id``, the request's ``metadata.user_id``
(Anthropic) or ``prompt_cache_key`` / ``user`` (OpenAI), else a hash of the
conversation's stable prefix (system prompt and first user turn), which stays
the same on every turn of it. Memory is bounded: the least recently used
conversations are forgotten first, and any after an hour idle.
"""

from __future__ import annotations

import collections
import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from router.proxy.json_bytes import dumps

__all__ = ["SessionStore", "session_key"]

_HEADERS = ("x-tierrouter-session", "x-claude-code-session-id")
_RAW_HEADERS = tuple(name.encode() for name in _HEADERS)
_MAX_KEY_CHARS = 256


@dataclass(slots=True)
class _Entry:
    model: str
    tier_rank: int
    seen: float


def session_key(
    headers: Mapping[str, str], body: Mapping[str, Any], messages: Sequence[Any]
) -> str:
    """A short stable id for the conversation this request continues."""
    named = _named_by_header(headers)
    if named:
        return _digest(("h:" + named[:_MAX_KEY_CHARS]).encode())
    metadata = body.get("metadata")
    if _is_mapping(metadata):
        user_id = metadata.get("user_id")
        if isinstance(user_id, str):
            return _digest(("u:" + user_id[:_MAX_KEY_CHARS]).encode())
    for name in ("prompt_cache_key", "user"):
        value = body.get(name)
        if isinstance(value, str) and value:
            return _digest(f"{name}:{value[:_MAX_KEY_CHARS]}".encode())
    prefix: list[Any] = []
    for message in messages:
        if not _is_mapping(message):
            continue
        prefix.append([message.get("role"), message.get("content")])
        if message.get("role") == "user":
            break
    # The JSON is already UTF-8: hashed as it is, not decoded and encoded again.
    return _digest(b"p:" + dumps(prefix))


def _is_mapping(value: Any) -> TypeGuard[Mapping[str, Any]]:
    # isinstance against the Mapping ABC takes a Python-level hook; JSON objects are dicts.
    return isinstance(value, dict) or (value is not None and isinstance(value, Mapping))


def _named_by_header(headers: Mapping[str, str]) -> str | None:
    """The first of :data:`_HEADERS` the request names its conversation with.

    Starlette's ``Headers.get`` walks every header per name and raises KeyError
    inside for a missing one, the usual case: one pass over the raw headers
    (lower-cased by the server) costs a fraction of the two lookups.
    """
    raw = getattr(headers, "raw", None)
    if not isinstance(raw, list):
        for name in _HEADERS:
            value = headers.get(name)
            if value:
                return value
        return None
    found: dict[bytes, bytes] = {}
    for raw_name, raw_value in raw:
        if raw_name in _RAW_HEADERS and raw_name not in found:
            found[raw_name] = raw_value  # the first occurrence, as Headers.get returns
    for raw_name in _RAW_HEADERS:
        first = found.get(raw_name)
        if first:
            return first.decode("latin-1")
    return None


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=8).hexdigest()


class SessionStore:
    """Conversation -> the model serving it and the tier it was chosen for."""

    def __init__(self, limit: int = 10_000, idle_seconds: float = 3600.0) -> None:
        self.limit = limit
        self.idle_seconds = idle_seconds
        self._entries: collections.OrderedDict[str, _Entry] = collections.OrderedDict()

    def prefer(self, key: str) -> tuple[str, int] | None:
        """``(model id, tier rank)`` to keep this conversation on, if it has one."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if time.monotonic() - entry.seen > self.idle_seconds:
            del self._entries[key]
            return None
        return entry.model, entry.tier_rank

    def settle(self, key: str, model: str | None, tier_rank: int) -> str:
        """Record the model that answered; returns what happened to the conversation:
        ``new``, ``kept``, ``escalated`` (a higher tier needed a new model) or
        ``moved`` (its model could not serve, so another did)."""
        before = self.prefer(key)
        if model is None:
            return "new" if before is None else "kept"
        if before is None:
            outcome, rank = "new", tier_rank
        elif before[0] == model:
            outcome, rank = "kept", max(before[1], tier_rank)
        elif tier_rank > before[1]:
            outcome, rank = "escalated", tier_rank
        else:
            outcome, rank = "moved", max(before[1], tier_rank)
        self._keep(key, model, rank, time.monotonic())
        return outcome

    def _keep(self, key: str, model: str, tier_rank: int, seen: float) -> None:
        """Remember ``key``'s model as the most recent conversation (shared stores too)."""
        self._entries[key] = _Entry(model, tier_rank, seen)
        self._entries.move_to_end(key)
        while len(self._entries) > self.limit:
            self._entries.popitem(last=False)
