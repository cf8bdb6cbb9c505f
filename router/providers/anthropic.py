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
        if endpoint.key:
            headers["x-api-key"] = endpoint.key.reveal()
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
        usage = body.get("usage") or {}
        return completion(
            body.get("id") or "msg",
            body.get("model") or model,
            message,
            _FINISH.get(body.get("stop_reason") or "", "stop"),
            usage_dict(_input_tokens(usage), int(usage.get("output_tokens") or 0)),
        )

    async def translate_stream(
        self, events: AsyncIterator[SSEEvent], model: str
    ) -> AsyncIterator[dict[str, Any]]:
        msg_id, name = "msg", model
        prompt = output = 0
        finish: str | None = None
        tool_index: dict[int, int] = {}  # content block index -> tool_calls index
        async for event in events:
            if event.event == "ping" or not event.data:
                continue
            data = json.loads(event.data)
            kind = data.get("type", event.event)
            if kind == "message_start":
                message = data["message"]
                msg_id, name = message.get("id", msg_id), message.get("model", name)
                prompt = _input_tokens(message.get("usage") or {})
                output = int((message.get("usage") or {}).get("output_tokens") or 0)
                yield chunk(msg_id, name, {"role": "assistant", "content": ""})
            elif kind == "content_block_start":
                block = data["content_block"]
                if block.get("type") == "tool_use":
                    idx = tool_index[data["index"]] = len(tool_index)
                    yield chunk(
                        msg_id,
                        name,
                        {
                            "tool_calls": [
                                {
                                    "index": idx,
                                    "id": block["id"],
                                    "type": "function",
                                    "function": {"name": block["name"], "arguments": ""},
                                }
                            ]
                        },
                    )
            elif kind == "content_block_delta":
                delta = data["delta"]
                if delta.get("type") == "text_delta":
                    yield chunk(msg_id, name, {"content": delta["text"]})
                elif delta.get("type") == "input_json_delta":
                    idx = tool_index.get(data["index"], 0)
                    yield chunk(
                        msg_id,
                        name,
                        {
                            "tool_calls": [
                                {
                                    "index": idx,
                                    "function": {"arguments": delta.get("partial_json", "")},
                                }
                            ]
                        },
                    )
            elif kind == "message_delta":
                finish = _FINISH.get((data.get("delta") or {}).get("stop_reason") or "", "stop")
                output = int((data.get("usage") or {}).get("output_tokens") or output)
            elif kind == "message_stop":
                yield chunk(msg_id, name, {}, finish or "stop")
                yield usage_chunk(msg_id, name, usage_dict(prompt, output))
                return
            elif kind == "error":
                err = data.get("error") or {}
                etype = err.get("type", "api_error")
                retryable = etype in {"overloaded_error", "api_error", "rate_limit_error"}
                raise ProviderError(
                    "overloaded" if etype == "overloaded_error" else "server_error",
                    f"stream error {etype}: {err.get('message', '')}",
                    retryable=retryable,
                )
        raise ProviderError("connection_error", "stream ended before message_stop", retryable=True)


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
