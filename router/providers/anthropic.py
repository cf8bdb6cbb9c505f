"""Anthropic Messages API (native): request translation, responses, and its SSE events."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from router.providers.base import (
    ChatRequest,
    Endpoint,
    HttpCall,
    ProviderAdapter,
    ProviderError,
    chunk,
    completion,
    parse_data_url,
    text_of,
    usage_chunk,
    usage_dict,
)
from router.providers.sse import SSEEvent

__all__ = ["ANTHROPIC_VERSION", "AnthropicAdapter"]

ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096
_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
    "pause_turn": "stop",
}
_JSON_NOTE = "Respond with a single valid JSON object and nothing else."


class AnthropicAdapter(ProviderAdapter):
    api = "anthropic"

    def build(
        self, endpoint: Endpoint, model: str, request: ChatRequest, *, stream: bool
    ) -> HttpCall:
        headers = {
            "Content-Type": "application/json",
            "anthropic-version": ANTHROPIC_VERSION,
            **dict(endpoint.headers),
        }
        native = request.native_for(self.api)
        if native is not None:
            # The client's own headers (betas, version) win over our defaults; the
            # proxy passes on only headers that carry no credential.
            headers.update(native.headers)
        if endpoint.key:
            headers["x-api-key"] = endpoint.key.reveal()
        if native is not None:
            raw = {**native.body, "model": model}
            if stream:
                raw["stream"] = True
            else:
                raw.pop("stream", None)
            return HttpCall(f"{endpoint.base_url}/v1/messages", headers, raw)
        system, messages = _messages(request.messages)
        p = request.params
        body: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "max_tokens": p.get("max_completion_tokens")
            or p.get("max_tokens")
            or DEFAULT_MAX_TOKENS,
        }
        for key in ("temperature", "top_p", "top_k", "metadata"):
            if p.get(key) is not None:
                body[key] = p[key]
        stop = p.get("stop")
        if stop:
            body["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
        note = _json_note(p.get("response_format"))
        if note:
            system = f"{system}\n\n{note}" if system else note
        if system:
            body["system"] = system
        if p.get("tools"):
            body["tools"] = [_tool(t) for t in p["tools"]]
            choice = _tool_choice(p.get("tool_choice"))
            if p.get("parallel_tool_calls") is False and (choice or {}).get("type") != "none":
                # Anthropic's switch for one tool call per turn lives on tool_choice.
                choice = {**(choice or {"type": "auto"}), "disable_parallel_tool_use": True}
            if choice:
                body["tool_choice"] = choice
        if stream:
            body["stream"] = True
        return HttpCall(f"{endpoint.base_url}/v1/messages", headers, body)

    def parse(self, body: Any, model: str) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("content"), list):
            raise TypeError("no 'content' list in the message")
        texts: list[str] = []
        calls: list[dict[str, Any]] = []
        for block in body["content"]:
            if block.get("type") == "text":
                texts.append(block["text"])
            elif block.get("type") == "tool_use":
                calls.append(_tool_call(block["id"], block["name"], block.get("input") or {}))
        message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) or None}
        if calls:
            message["tool_calls"] = calls
        return completion(
            body.get("id") or "msg",
            body.get("model") or model,
            message,
            _FINISH.get(body.get("stop_reason") or "", "stop"),
            _usage(body.get("usage") or {}),
        )

    def parse_native(self, body: Any, model: str) -> dict[str, Any]:
        out = self.parse(body, model)
        out["native"] = body
        return out

    async def translate_stream(
        self, events: AsyncIterator[SSEEvent], model: str
    ) -> AsyncIterator[dict[str, Any]]:
        state = _StreamState(model)
        async for event in events:
            if event.event == "ping" or not event.data:
                continue
            for piece in state.on(json.loads(event.data), event.event):
                yield piece
            if state.done:
                return
        raise ProviderError("connection_error", "stream ended before message_stop", retryable=True)

    async def translate_native_stream(
        self, events: AsyncIterator[SSEEvent], model: str
    ) -> AsyncIterator[dict[str, Any]]:
        """Chunks as :meth:`translate_stream` makes them, each carrying ``"native"``:
        ``(event name, the event's SSE bytes, its data)`` on the last chunk an
        event made, ``None`` on the others; events that make no chunk (pings,
        block stops, thinking) get a chunk with an empty delta to carry theirs."""
        state = _StreamState(model)
        async for event in events:
            if not event.data:
                continue
            data = json.loads(event.data)
            name = event.event or str(data.get("type"))
            wire = b"event: " + name.encode() + b"\ndata: " + event.data.encode() + b"\n\n"
            pieces = [] if name == "ping" else state.on(data, name)
            if not pieces:
                pieces = [chunk(state.msg_id, state.name, {})]
            for piece in pieces[:-1]:
                piece["native"] = None
            pieces[-1]["native"] = (name, wire, data)
            for piece in pieces:
                yield piece
            if state.done:
                return
        raise ProviderError("connection_error", "stream ended before message_stop", retryable=True)


class _StreamState:
    """Anthropic's stream events -> OpenAI chunks, one event at a time."""

    def __init__(self, model: str) -> None:
        self.msg_id, self.name = "msg", model
        self.usage: dict[str, Any] = {}
        self.finish: str | None = None
        self.tool_index: dict[int, int] = {}  # content block index -> tool_calls index
        self.done = False

    def on(self, data: dict[str, Any], event: str) -> list[dict[str, Any]]:
        kind = data.get("type", event)
        msg_id, name = self.msg_id, self.name
        if kind == "message_start":
            message = data["message"]
            self.msg_id, self.name = message.get("id", msg_id), message.get("model", name)
            self.usage = dict(message.get("usage") or {})
            return [chunk(self.msg_id, self.name, {"role": "assistant", "content": ""})]
        if kind == "content_block_start":
            block = data["content_block"]
            if block.get("type") == "tool_use":
                idx = self.tool_index[data["index"]] = len(self.tool_index)
                call = {
                    "index": idx,
                    "id": block["id"],
                    "type": "function",
                    "function": {"name": block["name"], "arguments": ""},
                }
                return [chunk(msg_id, name, {"tool_calls": [call]})]
        elif kind == "content_block_delta":
            delta = data["delta"]
            if delta.get("type") == "text_delta":
                return [chunk(msg_id, name, {"content": delta["text"]})]
            if delta.get("type") == "thinking_delta":
                # Thinking is output: a failover after it began would show two answers.
                return [chunk(msg_id, name, {"reasoning_content": delta.get("thinking", "")})]
            if delta.get("type") == "input_json_delta":
                idx = self.tool_index.get(data["index"], 0)
                part = {"index": idx, "function": {"arguments": delta.get("partial_json", "")}}
                return [chunk(msg_id, name, {"tool_calls": [part]})]
        elif kind == "message_delta":
            self.finish = _FINISH.get((data.get("delta") or {}).get("stop_reason") or "", "stop")
            # Later usage counts are cumulative: they replace the message_start ones.
            self.usage.update({k: v for k, v in (data.get("usage") or {}).items() if v is not None})
        elif kind == "message_stop":
            self.done = True
            return [
                chunk(msg_id, name, {}, self.finish or "stop"),
                usage_chunk(msg_id, name, _usage(self.usage)),
            ]
        elif kind == "error":
            err = data.get("error") or {}
            etype = err.get("type", "api_error")
            retryable = etype in {"overloaded_error", "api_error", "rate_limit_error"}
            raise ProviderError(
                "overloaded" if etype == "overloaded_error" else "server_error",
                f"stream error {etype}: {err.get('message', '')}",
                retryable=retryable,
            )
        return []


def _usage(usage: dict[str, Any]) -> dict[str, Any]:
    """Anthropic's usage in OpenAI's shape. Prompt tokens include the cached ones (as
    OpenAI counts them); ``prompt_tokens_details`` says how many were read from the
    cache and, Anthropic's own, how many were written to it, for pricing."""
    out: dict[str, Any] = usage_dict(_input_tokens(usage), int(usage.get("output_tokens") or 0))
    read = int(usage.get("cache_read_input_tokens") or 0)
    written = int(usage.get("cache_creation_input_tokens") or 0)
    if read or written:
        out["prompt_tokens_details"] = {"cached_tokens": read, "cache_write_tokens": written}
    return out


def _input_tokens(usage: dict[str, Any]) -> int:
    # Cached prompt tokens are still prompt tokens for cost and context accounting.
    return sum(
        int(usage.get(k) or 0)
        for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    )


def _tool_call(call_id: str, name: str, args: Any) -> dict[str, Any]:
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(args, ensure_ascii=False)},
    }


def _tool(tool: dict[str, Any]) -> dict[str, Any]:
    fn = tool.get("function", tool)
    out = {
        "name": fn["name"],
        "input_schema": fn.get("parameters") or {"type": "object", "properties": {}},
    }
    if fn.get("description"):
        out["description"] = fn["description"]
    return out


def _tool_choice(choice: Any) -> dict[str, Any] | None:
    if choice in (None, "auto"):
        return {"type": "auto"} if choice else None
    if choice == "required":
        return {"type": "any"}
    if choice == "none":
        return {"type": "none"}
    if isinstance(choice, dict):
        return {"type": "tool", "name": (choice.get("function") or choice)["name"]}
    return None


def _json_note(fmt: Any) -> str | None:
    # The Messages API has no JSON mode; an instruction (with the schema) is the portable way.
    if not isinstance(fmt, dict):
        return None
    if fmt.get("type") == "json_object":
        return _JSON_NOTE
    if fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema")
        return f"{_JSON_NOTE} It must match this JSON schema: {json.dumps(schema)}"
    return None


def _content(content: Any) -> Any:
    if isinstance(content, str) or content is None:
        return content or ""
    blocks: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, str):
            blocks.append({"type": "text", "text": part})
            continue
        kind = part.get("type")
        if kind in ("text", "input_text"):
            blocks.append({"type": "text", "text": part["text"]})
        elif kind in ("image_url", "input_image"):
            ref = part.get("image_url")
            url = ref.get("url") if isinstance(ref, dict) else ref
            data = parse_data_url(url or "")
            source: dict[str, Any]
            if data:
                source = {"type": "base64", "media_type": data[0], "data": data[1]}
            else:
                source = {"type": "url", "url": url}
            blocks.append({"type": "image", "source": source})
        else:
            blocks.append(part)  # already native (documents, cache_control blocks, ...)
    return blocks


def _messages(messages: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    system: list[str] = []
    out: list[dict[str, Any]] = []
    for msg in messages:
        role = msg.get("role")
        if role in ("system", "developer"):
            system.append(text_of(msg.get("content")))
        elif role == "tool":
            block = {
                "type": "tool_result",
                "tool_use_id": msg.get("tool_call_id", ""),
                "content": text_of(msg.get("content")),
            }
            # Parallel tool results belong in one user turn.
            if (
                out
                and out[-1]["role"] == "user"
                and isinstance(out[-1]["content"], list)
                and all(b.get("type") == "tool_result" for b in out[-1]["content"])
            ):
                out[-1]["content"].append(block)
            else:
                out.append({"role": "user", "content": [block]})
        elif role == "assistant" and msg.get("tool_calls"):
            blocks: list[dict[str, Any]] = []
            text = text_of(msg.get("content"))
            if text:
                blocks.append({"type": "text", "text": text})
            for call in msg["tool_calls"]:
                fn = call["function"]
                args = fn.get("arguments") or "{}"
                blocks.append(
                    {
                        "type": "tool_use",
                        "id": call["id"],
                        "name": fn["name"],
                        "input": json.loads(args) if isinstance(args, str) else args,
                    }
                )
            out.append({"role": "assistant", "content": blocks})
        else:
            out.append(
                {
                    "role": "assistant" if role == "assistant" else "user",
                    "content": _content(msg.get("content")),
                }
            )
    return "\n\n".join(s for s in system if s), out
