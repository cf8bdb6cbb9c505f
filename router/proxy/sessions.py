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
from typing import Any

from router.proxy.json_bytes import dumps

__all__ = ["SessionStore", "session_key"]

_HEADERS = ("x-tierrouter-session", "x-claude-code-session-id")
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
    for name in _HEADERS:
        value = headers.get(name)
        if value:
            return _digest("h:" + value[:_MAX_KEY_CHARS])
    metadata = body.get("metadata")
    if isinstance(metadata, Mapping) and isinstance(metadata.get("user_id"), str):
        return _digest("u:" + metadata["user_id"][:_MAX_KEY_CHARS])
    for name in ("prompt_cache_key", "user"):
        value = body.get(name)
        if isinstance(value, str) and value:
            return _digest(f"{name}:" + value[:_MAX_KEY_CHARS])
    prefix: list[Any] = []
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        prefix.append([message.get("role"), message.get("content")])
        if message.get("role") == "user":
            break
    return _digest("p:" + dumps(prefix).decode())


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


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
