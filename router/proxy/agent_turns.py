"""What an agent's request asks for: the human's latest words, not the transcript.

A coding agent sends its whole transcript on every turn: a long system prompt,
tool definitions, tool results, and ``<system-reminder>`` blocks in the user's
turns. Classifying all of that makes "say hi" look like a long, complex task.
The router is given the latest user turn that is not a tool result, with the
harness's blocks removed; the whole request still sizes the call.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from router.decision.text import strip_boilerplate
from router.proxy.sessions import session_key
from router.routing.model_strings import RequestKind, parse_model_string

__all__ = ["human_request", "routes", "routing_hints"]


@functools.lru_cache(maxsize=1)
def _harness_tags() -> tuple[str, ...]:
    """The blocks the decision strips too (``boilerplate_tags`` in scoring.yaml)."""
    from router._resources import DATA_DIR, load_yaml

    data = load_yaml(DATA_DIR / "scoring.yaml")
    tags = data.get("boilerplate_tags") if isinstance(data, dict) else None
    return tuple(str(t) for t in tags or ())


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(p.get("text") or "")
            for p in content
            if isinstance(p, dict) and p.get("type") in ("text", "input_text")
        )
    return ""


def human_request(messages: Sequence[Any], tools: bool) -> list[dict[str, Any]] | None:
    """The latest user turn with human text in it, as a one-message list.

    ``None`` (classify the request as it is) unless the request looks like an
    agent's: it offers tools, carries tool results, or has harness blocks in
    its user turns. ``messages`` are chat-shaped (tool results are ``tool``
    messages, as both wire formats arrive after translation).
    """
    users, tool_results, _ = _turns(messages)
    return _human(users, tools or tool_results)


def _turns(messages: Sequence[Any]) -> tuple[list[dict[str, Any]], bool, bool]:
    """(the user turns, whether any turn is a tool result, whether any is the
    assistant's): one pass over a transcript that may hold hundreds of turns."""
    users: list[dict[str, Any]] = []
    tool_results = assistant = False
    for message in messages:
        if isinstance(message, dict):
            role = message.get("role")
            if role == "user":
                users.append(message)
            elif role == "tool":
                tool_results = True
            elif role == "assistant":
                assistant = True
    return users, tool_results, assistant


def _human(users: list[dict[str, Any]], agentic: bool) -> list[dict[str, Any]] | None:
    if not users:
        return None
    tags = _harness_tags()
    for message in reversed(users):
        raw = _text(message.get("content"))
        text = strip_boilerplate(raw, tags).strip()
        if text:
            if not agentic and text == raw.strip():
                return None
            return [{"role": "user", "content": text}]
    return None


def routes(model: str) -> bool:
    """Whether a model string asks the router to choose (``auto``, ``gpt-5:cost``...)."""
    return parse_model_string(model).kind is not RequestKind.PIN


def routing_hints(
    ctx: Any,
    headers: Mapping[str, str],
    body: Mapping[str, Any],
    model: str,
    messages: Sequence[Any],
    params: dict[str, Any],
) -> str | None:
    """Add what the router needs for an agent's turn to ``params``: the human's
    request to classify and the model its conversation is on. Returns the
    conversation's key; ``None`` for pinned models, which stay where they are
    (their decision is still made on the human's request, for the logs)."""
    users, tool_results, continuation = _turns(messages)
    human = _human(users, bool(params.get("tools")) or tool_results)
    if human is not None:
        params["route_messages"] = human
    if not routes(model):
        return None
    key = session_key(headers, body, messages)
    # A first turn starts a conversation, routed afresh; only a continuation (it
    # replays an assistant turn) is kept on the conversation's model.
    if continuation:
        prefer = ctx.sessions.prefer(key)
        if prefer is not None:
            params["prefer"] = prefer
    return key
