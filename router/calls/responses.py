"""``router.responses.create(...)``: the OpenAI Responses API shape over routed chat calls."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from router._ids import random_hex
from router.errors import RouterInputError

if TYPE_CHECKING:
    from router.calls._sync_bridge import SyncBridge
    from router.calls.engine import ChatResponse, ChatStream

__all__ = ["Responses", "to_chat_messages", "to_chat_params"]


class _Chat:
    """What Responses needs from a router: the async chat calls and the sync bridge."""

    bridge: SyncBridge

    async def achat(self, messages: Any, model: str | None = None, **params: Any) -> ChatResponse:
        raise NotImplementedError

    async def achat_stream(
        self, messages: Any, model: str | None = None, **params: Any
    ) -> ChatStream:
        raise NotImplementedError


class Responses:
    """``create`` / ``acreate`` returning Response dicts, or event dicts when ``stream=True``."""

    def __init__(self, chat: Any) -> None:
        self._chat: _Chat = chat

    def create(
        self, *, model: str = "auto", input: Any, stream: bool = False, **params: Any
    ) -> Any:
        bridge = self._chat.bridge
        if stream:
            return bridge.iterate(self._astream(model, input, params))
        return bridge.run(self.acreate(model=model, input=input, **params))

    async def acreate(
        self, *, model: str = "auto", input: Any, stream: bool = False, **params: Any
    ) -> Any:
        if stream:
            return self._astream(model, input, params)
        messages, chat_params = _request(input, params)
        response = await self._chat.achat(messages, model=model, **chat_params)
        return _response(response)

    async def _astream(
        self, model: str, input: Any, params: Mapping[str, Any]
    ) -> AsyncIterator[dict[str, Any]]:
        messages, chat_params = _request(input, params)
        stream = await self._chat.achat_stream(messages, model=model, **chat_params)
        builder = _StreamBuilder(stream)
        try:
            yield builder.event("response.created", response=builder.snapshot("in_progress"))
            async for chunk in stream:
                for event in builder.feed(chunk):
                    yield event
            for event in builder.finish():
                yield event
        finally:
            await stream.aclose()


def to_chat_messages(input: Any, instructions: str | None = None) -> list[dict[str, Any]]:
    """Responses ``input`` (a string or a list of items) -> chat messages."""
    messages: list[dict[str, Any]] = []
    if instructions:
        messages.append({"role": "system", "content": instructions})
    if isinstance(input, str):
        messages.append({"role": "user", "content": input})
        return messages
    if not isinstance(input, list):
        raise RouterInputError(
            f"input must be a string or a list of items, got {type(input).__name__}"
        )
    for i, item in enumerate(input):
        if not isinstance(item, Mapping):
            raise RouterInputError(f"input[{i}] must be a dict, got {type(item).__name__}")
        kind = item.get("type", "message")
        if kind == "message":
            messages.append(
                {"role": item.get("role", "user"), "content": _content(item.get("content"))}
            )
        elif kind == "function_call":
            messages.append(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": item["call_id"],
                            "type": "function",
                            "function": {
                                "name": item["name"],
                                "arguments": item.get("arguments", "{}"),
                            },
                        }
                    ],
                }
            )
        elif kind == "function_call_output":
            output = item.get("output", "")
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": item["call_id"],
                    "content": output if isinstance(output, str) else str(output),
                }
            )
        else:
            raise RouterInputError(f"input[{i}].type {kind!r} is not supported")
    return messages


def _content(content: Any) -> Any:
    if not isinstance(content, list):
        return content
    parts: list[dict[str, Any]] = []
    for part in content:
        kind = part.get("type")
        if kind in ("input_text", "output_text", "text"):
            parts.append({"type": "text", "text": part["text"]})
        elif kind == "input_image":
            url = part.get("image_url") or part.get("file_id")
            parts.append({"type": "image_url", "image_url": {"url": url}})
        else:
            parts.append(part)
    return parts


def to_chat_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Responses parameters -> chat completion parameters."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None or key == "instructions":
            continue
        if key == "max_output_tokens":
            out["max_tokens"] = value
        elif key == "tools":
            out["tools"] = [_tool(t) for t in value]
        elif key == "text":
            fmt = (value or {}).get("format")
            if fmt and fmt.get("type") == "json_schema":
                schema = {k: v for k, v in fmt.items() if k != "type"}
                out["response_format"] = {"type": "json_schema", "json_schema": schema}
            elif fmt and fmt.get("type") == "json_object":
                out["response_format"] = {"type": "json_object"}
        elif key == "reasoning":
            # Chat completions name the Responses API's reasoning.effort reasoning_effort;
            # reasoning summaries have no chat equivalent.
            if isinstance(value, Mapping) and isinstance(value.get("effort"), str):
                out["reasoning_effort"] = value["effort"]
        elif key == "tool_choice" and isinstance(value, Mapping) and value.get("name"):
            out["tool_choice"] = {"type": "function", "function": {"name": value["name"]}}
        else:
            out[key] = value
    return out


def _tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    if "function" in tool:
        return dict(tool)
    fn = {k: tool[k] for k in ("name", "description", "parameters", "strict") if k in tool}
    return {"type": "function", "function": fn}


def _request(input: Any, params: Mapping[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    if "messages" in params:
        from router.errors import RouterInputError

        raise RouterInputError("messages is not a Responses API argument: pass the turns as input")
    return to_chat_messages(input, params.get("instructions")), to_chat_params(params)


def _router_meta(
    decision: Any, model_used: str | None, attempts: Any, cost: float | None
) -> dict[str, Any]:
    return {
        "model_used": model_used,
        "decision": decision.to_dict(),
        "attempts": attempts,
        "cost": cost,
    }


def _response(chat: ChatResponse) -> dict[str, Any]:
    message = chat.message
    output: list[dict[str, Any]] = []
    text = message.get("content") or ""
    if text:
        output.append(_message_item(f"msg_{random_hex(24)}", text, "completed"))
    for call in message.get("tool_calls") or ():
        output.append(
            {
                "type": "function_call",
                "id": f"fc_{random_hex(24)}",
                "call_id": call["id"],
                "name": call["function"]["name"],
                "arguments": call["function"]["arguments"],
                "status": "completed",
            }
        )
    usage = chat.usage or {}
    return {
        "id": f"resp_{random_hex(24)}",
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed",
        "model": chat.model,
        "output": output,
        "output_text": text,
        "usage": _usage(usage),
        "router": _router_meta(chat.decision, chat.model_used, chat.attempts, chat.cost),
    }


def _usage(usage: Mapping[str, int]) -> dict[str, int]:
    return {
        "input_tokens": usage.get("prompt_tokens", 0),
        "output_tokens": usage.get("completion_tokens", 0),
        "total_tokens": usage.get("total_tokens", 0),
    }


def _message_item(item_id: str, text: str, status: str) -> dict[str, Any]:
    return {
        "type": "message",
        "id": item_id,
        "status": status,
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


class _StreamBuilder:
    """Chat chunks -> Responses streaming events (``response.output_text.delta`` and friends)."""

    def __init__(self, stream: ChatStream) -> None:
        self.stream = stream
        self.id = f"resp_{random_hex(24)}"
        self.created = int(time.time())
        self.seq = 0
        self.text: list[str] = []
        self.msg_id = f"msg_{random_hex(24)}"
        self.msg_open = False
        self.calls: dict[int, dict[str, Any]] = {}
        self.model = ""

    def event(self, kind: str, **fields: Any) -> dict[str, Any]:
        self.seq += 1
        return {"type": kind, "sequence_number": self.seq, **fields}

    def snapshot(self, status: str) -> dict[str, Any]:
        output: list[dict[str, Any]] = []
        if self.msg_open:
            output.append(_message_item(self.msg_id, "".join(self.text), status))
        output.extend(self.calls.values())
        return {
            "id": self.id,
            "object": "response",
            "created_at": self.created,
            "status": status,
            "model": self.model,
            "output": output,
            "output_text": "".join(self.text),
            "usage": _usage(self.stream.usage or {}) if status == "completed" else None,
        }

    def feed(self, chunk: dict[str, Any]) -> Iterator[dict[str, Any]]:
        self.model = chunk.get("model") or self.model
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            if delta.get("content"):
                if not self.msg_open:
                    self.msg_open = True
                    yield self.event(
                        "response.output_item.added",
                        output_index=0,
                        item=_message_item(self.msg_id, "", "in_progress"),
                    )
                    yield self.event(
                        "response.content_part.added",
                        item_id=self.msg_id,
                        output_index=0,
                        content_index=0,
                        part={"type": "output_text", "text": "", "annotations": []},
                    )
                self.text.append(delta["content"])
                yield self.event(
                    "response.output_text.delta",
                    item_id=self.msg_id,
                    output_index=0,
                    content_index=0,
                    delta=delta["content"],
                )
            for call in delta.get("tool_calls") or ():
                yield from self._call_delta(call)

    def _call_delta(self, call: dict[str, Any]) -> Iterator[dict[str, Any]]:
        index = int(call.get("index", 0))
        fn = call.get("function") or {}
        item = self.calls.get(index)
        if item is None:
            item = self.calls[index] = {
                "type": "function_call",
                "id": f"fc_{random_hex(24)}",
                "call_id": call.get("id", ""),
                "name": fn.get("name", ""),
                "arguments": "",
                "status": "in_progress",
            }
            yield self.event(
                "response.output_item.added",
                output_index=len(self.calls) - 1 + self.msg_open,
                item=dict(item),
            )
        if fn.get("arguments"):
            item["arguments"] += fn["arguments"]
            yield self.event(
                "response.function_call_arguments.delta",
                item_id=item["id"],
                output_index=index + self.msg_open,
                delta=fn["arguments"],
            )

    def finish(self) -> Iterator[dict[str, Any]]:
        if self.msg_open:
            text = "".join(self.text)
            yield self.event(
                "response.output_text.done",
                item_id=self.msg_id,
                output_index=0,
                content_index=0,
                text=text,
            )
            yield self.event(
                "response.content_part.done",
                item_id=self.msg_id,
                output_index=0,
                content_index=0,
                part={"type": "output_text", "text": text, "annotations": []},
            )
            yield self.event(
                "response.output_item.done",
                output_index=0,
                item=_message_item(self.msg_id, text, "completed"),
            )
        for index, item in self.calls.items():
            item["status"] = "completed"
            yield self.event(
                "response.function_call_arguments.done",
                item_id=item["id"],
                output_index=index + self.msg_open,
                arguments=item["arguments"],
            )
            yield self.event(
                "response.output_item.done", output_index=index + self.msg_open, item=dict(item)
            )
        final = self.snapshot("completed")
        s = self.stream
        final["router"] = _router_meta(s.decision, s.model_used, s.attempts, s.cost)
        yield self.event("response.completed", response=final)
