"""Anthropic Messages <-> the router's OpenAI-shaped chat API.

Requests: ``system`` (top-level, or a ``system`` message mid-conversation as
Claude Code sends them) becomes a system message, ``tool_use`` blocks assistant
``tool_calls``, ``tool_result`` blocks ``tool`` messages, images data URLs.
What has no equivalent outside Anthropic (thinking, server tools, betas'
fields) is left out of the translation and named in ``dropped``; a model on
Anthropic gets the request as it was sent instead (see anthropic_routes).
Replies and streams go back as Anthropic content blocks and its SSE events
(message_start, content_block_start/delta/stop, message_delta, message_stop).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from router._ids import random_hex
from router.proxy.errors import ProxyError, Wire, invalid, sse_error
from router.proxy.headers import sse_comment
from router.proxy.json_bytes import dumps

__all__ = ["AnthropicEncoder", "to_chat_request", "to_message"]

_STOP = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}
# Blocks a router cannot carry to another provider; dropping them keeps the
# conversation usable (Claude Code replays its thinking blocks every turn).
_DROPPED_BLOCKS = frozenset(
    {"thinking", "redacted_thinking", "server_tool_use", "web_search_tool_result"}
)
# Fields the translation carries (or that are the request's frame); any other
# top-level field has no equivalent on other providers and is reported as dropped.
_TRANSLATED = frozenset(
    {
        "model", "messages", "system", "stream", "max_tokens", "temperature", "top_p",
        "stop_sequences", "metadata", "tools", "tool_choice",
    }
)  # fmt: skip
# Effort levels Anthropic names that OpenAI's reasoning_effort lacks.
_EFFORT = {"low": "low", "medium": "medium", "high": "high", "max": "high", "xhigh": "high"}


def to_chat_request(
    body: dict[str, Any], dropped: list[str] | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """An Anthropic Messages request body -> (chat messages, chat params).

    ``dropped`` collects what the translation left out, as warnings.
    """
    out = dropped if dropped is not None else []
    messages: list[dict[str, Any]] = []
    system = body.get("system")
    if system:
        messages.append({"role": "system", "content": _system_text(system, "system")})
    raw = body.get("messages")
    if not isinstance(raw, list) or not raw:
        raise invalid("messages", "expected a non-empty list of messages")
    for i, message in enumerate(raw):
        if not isinstance(message, dict):
            raise invalid(f"messages[{i}]", "expected an object with 'role' and 'content'")
        role = message.get("role")
        if role == "system":
            # Claude Code's mid-conversation system messages (a beta): kept in place.
            text = _system_text(message.get("content"), f"messages[{i}].content")
            messages.append({"role": "system", "content": text})
            continue
        if role not in ("user", "assistant"):
            raise invalid(f"messages[{i}].role", f"{role!r} is not 'user', 'assistant' or 'system'")
        messages.extend(_message(role, message.get("content"), f"messages[{i}]", out))
    params = _params(body, out)
    carried = _TRANSLATED
    effort = _effort(body)
    if effort is not None:
        # Models that take no reasoning_effort drop it (catalog quirks), with a warning.
        params["reasoning_effort"] = effort
        carried = carried | {"thinking", "output_config"}
    for key in body:
        if key not in carried and body[key] is not None:
            _note(out, f"{key} dropped: only Anthropic models take it")
    return messages, params


def _note(dropped: list[str], warning: str) -> None:
    if warning not in dropped:
        dropped.append(warning)


def _system_text(system: Any, where: str) -> str:
    if isinstance(system, str):
        return system
    if not isinstance(system, list):
        raise invalid(where, "expected a string or a list of text blocks")
    texts: list[str] = []
    for i, block in enumerate(system):
        if not isinstance(block, dict) or block.get("type") != "text":
            raise invalid(f"{where}[{i}]", "expected a text block {'type': 'text', 'text': ...}")
        texts.append(_text_of(block, f"{where}[{i}]"))
    return "\n\n".join(texts)


def _text_of(block: dict[str, Any], at: str) -> str:
    text = block.get("text")
    if not isinstance(text, str):
        raise invalid(f"{at}.text", f"expected a string, got {type(text).__name__}")
    return text


def _message(role: str, content: Any, where: str, dropped: list[str]) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"role": role, "content": content}]
    if not isinstance(content, list):
        raise invalid(f"{where}.content", "expected a string or a list of content blocks")
    parts: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for j, block in enumerate(content):
        at = f"{where}.content[{j}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            parts.append({"type": "text", "text": _text_of(block, at)})
        elif kind == "image":
            parts.append({"type": "image_url", "image_url": {"url": _image_url(block, at)}})
        elif kind == "document" and _source(block, at).get("type") == "text":
            data = block["source"].get("data")
            if not isinstance(data, str):
                raise invalid(f"{at}.source.data", "expected the document's text as a string")
            parts.append({"type": "text", "text": data})
        elif kind == "tool_use" and role == "assistant":
            calls.append(
                {
                    "id": str(block.get("id")),
                    "type": "function",
                    "function": {
                        "name": str(block.get("name")),
                        "arguments": json.dumps(block.get("input") or {}, ensure_ascii=False),
                    },
                }
            )
        elif kind == "tool_result" and role == "user":
            results.append(
                {
                    "role": "tool",
                    "tool_call_id": str(block.get("tool_use_id")),
                    "content": _result_text(block.get("content")),
                }
            )
        elif kind in _DROPPED_BLOCKS:
            continue
        elif isinstance(kind, str) and kind:
            # A block only Anthropic reads (a newer or beta type): Anthropic models get
            # it as sent; the translation for the others leaves it out and says so.
            _note(dropped, f"{kind} content blocks dropped: only Anthropic models read them")
        else:
            raise invalid(f"{at}.type", f"content block type {kind!r} is not supported")
    out: list[dict[str, Any]] = list(results)  # tool answers must follow the calls directly
    if calls:
        text = "".join(p["text"] for p in parts if p["type"] == "text")
        out.append({"role": "assistant", "content": text or None, "tool_calls": calls})
    elif parts:
        only_text = all(p["type"] == "text" for p in parts)
        content_out: Any = "".join(p["text"] for p in parts) if only_text else parts
        out.append({"role": role, "content": content_out})
    return out


def _source(block: dict[str, Any], at: str) -> dict[str, Any]:
    source = block.get("source")
    if not isinstance(source, dict):
        raise invalid(f"{at}.source", "expected an object with a 'type'")
    return source


def _image_url(block: dict[str, Any], at: str) -> str:
    source = _source(block, at)
    if source.get("type") == "base64":
        return f"data:{source.get('media_type', 'image/png')};base64,{source.get('data', '')}"
    if source.get("type") == "url":
        return str(source.get("url"))
    raise invalid(f"{at}.source.type", f"image source {source.get('type')!r} is not supported")


def _result_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(b.get("text", ""))
            for b in content
            if isinstance(b, dict) and b.get("type") == "text"
        )
    return str(content)


def _params(body: dict[str, Any], dropped: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key in ("max_tokens", "temperature", "top_p"):
        if body.get(key) is not None:
            params[key] = body[key]
    if body.get("stop_sequences"):
        params["stop"] = list(body["stop_sequences"])
    user = (body.get("metadata") or {}).get("user_id")
    if user:
        params["user"] = str(user)
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise invalid("tools", "expected a list of tools")
        translated = [_tool(t, f"tools[{i}]", dropped) for i, t in enumerate(tools)]
        params["tools"] = [t for t in translated if t is not None]
    choice = body.get("tool_choice")
    if choice is not None:
        params.update(_tool_choice(choice))
    return params


def _effort(body: dict[str, Any]) -> str | None:
    """OpenAI's ``reasoning_effort`` for Anthropic's ``output_config.effort``, else for
    a ``thinking`` budget (under 4k tokens low, under 16k medium, else high)."""
    config = body.get("output_config")
    if isinstance(config, dict) and isinstance(config.get("effort"), str):
        effort = _EFFORT.get(config["effort"])
        if effort is not None and set(config) <= {"effort"}:
            return effort
    thinking = body.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") == "enabled":
        budget = thinking.get("budget_tokens")
        if isinstance(budget, int) and not isinstance(budget, bool):
            return "low" if budget < 4096 else "medium" if budget < 16384 else "high"
    return None


def _tool(tool: Any, at: str, dropped: list[str]) -> dict[str, Any] | None:
    if not isinstance(tool, dict) or not tool.get("name"):
        raise invalid(at, "expected a tool with 'name' and 'input_schema'")
    if "input_schema" not in tool:
        # A server tool (web search, code execution): Anthropic runs it itself.
        _note(dropped, f"server tool {tool['name']} dropped: only Anthropic models run it")
        return None
    fn = {"name": tool["name"], "parameters": tool["input_schema"]}
    if tool.get("description"):
        fn["description"] = tool["description"]
    return {"type": "function", "function": fn}


def _tool_choice(choice: Any) -> dict[str, Any]:
    if not isinstance(choice, dict):
        raise invalid("tool_choice", "expected an object such as {'type': 'auto'}")
    kind = choice.get("type")
    out: dict[str, Any] = {}
    if kind == "auto":
        out["tool_choice"] = "auto"
    elif kind == "any":
        out["tool_choice"] = "required"
    elif kind == "none":
        out["tool_choice"] = "none"
    elif kind == "tool" and choice.get("name"):
        out["tool_choice"] = {"type": "function", "function": {"name": choice["name"]}}
    else:
        raise invalid("tool_choice.type", f"{kind!r} is not one of auto, any, tool, none")
    if choice.get("disable_parallel_tool_use"):
        out["parallel_tool_calls"] = False
    return out


def _tool_input(arguments: Any) -> Any:
    if isinstance(arguments, dict):
        return arguments
    try:
        parsed = json.loads(arguments or "{}")
    except ValueError:
        return {"_raw": arguments}  # a model's broken JSON, kept rather than lost
    return parsed if isinstance(parsed, dict) else {"value": parsed}


def message_id() -> str:
    return f"msg_{random_hex(24)}"


def to_message(reply: Any) -> dict[str, Any]:
    """A routed ``ChatResponse`` -> an Anthropic ``message`` object."""
    choice = reply.choices[0] if reply.choices else {}
    message = choice.get("message") or {}
    content: list[dict[str, Any]] = []
    if message.get("content"):
        content.append({"type": "text", "text": message["content"]})
    for call in message.get("tool_calls") or ():
        fn = call.get("function") or {}
        content.append(
            {
                "type": "tool_use",
                "id": call.get("id") or f"toolu_{random_hex(24)}",
                "name": fn.get("name"),
                "input": _tool_input(fn.get("arguments")),
            }
        )
    usage = reply.usage or {}
    return {
        "id": message_id(),
        "type": "message",
        "role": "assistant",
        "model": reply.model,
        "content": content,
        "stop_reason": _STOP.get(choice.get("finish_reason") or "stop", "end_turn"),
        "stop_sequence": None,
        "usage": {
            "input_tokens": usage.get("prompt_tokens", 0),
            "output_tokens": usage.get("completion_tokens", 0),
        },
    }


def _event(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + dumps(data) + b"\n\n"


class AnthropicEncoder:
    """OpenAI chunks -> Anthropic streaming events, one content block at a time.

    Chunks from a model on Anthropic that got the client's own request carry the
    provider's events (``"native"``, see AnthropicAdapter.translate_native_stream):
    those go out as they came, but for ``message_delta`` (which gains the routing
    facts) and ``message_stop``, held until the stream ends and the cost is known.
    """

    def __init__(self, input_tokens: int, final_facts: Callable[[], dict[str, Any]]) -> None:
        self.input_tokens = input_tokens
        self.final_facts = final_facts
        self.started = False
        self.index = -1
        self.open: str | None = None  # "text" or "tool_use"
        self.tools: dict[int, int] = {}  # OpenAI tool-call index -> our block index
        self.stop: str | None = None
        self.usage: dict[str, int] | None = None
        self.native_delta: dict[str, Any] | None = None
        self.native = False

    def _start(self, model: str) -> bytes:
        self.started = True
        message: dict[str, Any] = {
            "id": message_id(),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": self.input_tokens, "output_tokens": 0},
        }
        return _event("message_start", {"type": "message_start", "message": message}) + _event(
            "ping", {"type": "ping"}
        )

    def _open(self, block: dict[str, Any]) -> bytes:
        out = self._close()
        self.index += 1
        self.open = block["type"]
        return out + _event(
            "content_block_start",
            {"type": "content_block_start", "index": self.index, "content_block": block},
        )

    def _close(self) -> bytes:
        if self.open is None:
            return b""
        self.open = None
        return _event("content_block_stop", {"type": "content_block_stop", "index": self.index})

    def _delta(self, index: int, delta: dict[str, Any]) -> bytes:
        return _event(
            "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        )

    def feed(self, chunk: dict[str, Any]) -> bytes:
        if "native" in chunk:
            return self._native(chunk["native"])
        out = b"" if self.started else self._start(str(chunk.get("model") or ""))
        if chunk.get("usage"):
            self.usage = chunk["usage"]
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            text = delta.get("content")
            if text:
                if self.open != "text":
                    out += self._open({"type": "text", "text": ""})
                out += self._delta(self.index, {"type": "text_delta", "text": text})
            for call in delta.get("tool_calls") or ():
                out += self._tool_delta(call)
            if choice.get("finish_reason"):
                self.stop = _STOP.get(choice["finish_reason"], "end_turn")
        return out

    def _tool_delta(self, call: dict[str, Any]) -> bytes:
        out = b""
        position = int(call.get("index", 0))
        fn = call.get("function") or {}
        if position not in self.tools:
            block: dict[str, Any] = {
                "type": "tool_use",
                "id": call.get("id") or f"toolu_{random_hex(24)}",
                "name": fn.get("name") or "",
                "input": {},
            }
            out += self._open(block)
            self.tools[position] = self.index
        if fn.get("arguments"):
            partial = {"type": "input_json_delta", "partial_json": fn["arguments"]}
            out += self._delta(self.tools[position], partial)
        return out

    def _native(self, event: tuple[str, bytes, dict[str, Any]] | None) -> bytes:
        if event is None:
            return b""  # the same event, already carried by a later chunk
        name, wire, data = event
        self.native = self.started = True
        if name == "message_delta":
            self.native_delta = data
            return b""
        if name == "message_stop":
            return b""
        return wire

    def _finish_native(self) -> bytes:
        facts = self.final_facts()
        delta = dict(self.native_delta or {"type": "message_delta", "delta": {}})
        delta["tierrouter"] = facts
        return (
            _event("message_delta", delta)
            + sse_comment(facts)
            + _event("message_stop", {"type": "message_stop"})
        )

    def finish(self) -> bytes:
        if self.native:
            return self._finish_native()
        out = b"" if self.started else self._start("")
        if self.index < 0:  # an empty reply still has one (empty) text block
            out += self._open({"type": "text", "text": ""})
        out += self._close()
        usage = self.usage or {}
        facts = self.final_facts()
        out += _event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": self.stop or "end_turn", "stop_sequence": None},
                "usage": {
                    "input_tokens": usage.get("prompt_tokens", self.input_tokens),
                    "output_tokens": usage.get("completion_tokens", 0),
                },
                "tierrouter": facts,
            },
        )
        return out + sse_comment(facts) + _event("message_stop", {"type": "message_stop"})

    def fail(self, err: ProxyError) -> bytes:
        if self.native:
            return sse_error(err, Wire.ANTHROPIC)
        return self._close() + sse_error(err, Wire.ANTHROPIC)
