"""OpenAI-compatible chat completions (OpenAI, DeepSeek, Moonshot, Qwen, Zhipu, OpenRouter, ...)."""

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
    new_id,
)
from router.providers.sse import SSEEvent

__all__ = ["OpenAIAdapter"]


class OpenAIAdapter(ProviderAdapter):
    api = "openai"

    def build(
        self, endpoint: Endpoint, model: str, request: ChatRequest, *, stream: bool
    ) -> HttpCall:
        headers = {"Content-Type": "application/json", **dict(endpoint.headers)}
        if endpoint.key:
            headers["Authorization"] = f"Bearer {endpoint.key.reveal()}"
        body: dict[str, Any] = {**request.params, "model": model, "messages": request.messages}
        body.pop("stream", None)
        body.pop("stream_options", None)
        if stream:
            body["stream"] = True
            if endpoint.stream_usage:
                body["stream_options"] = {"include_usage": True}
        return HttpCall(f"{endpoint.base_url}/chat/completions", headers, body)

    def parse(self, body: Any, model: str) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("choices"), list):
            raise TypeError("no 'choices' list in the completion")
        if not body["choices"]:
            raise IndexError("empty 'choices' list")
        out = dict(body)
        if "id" not in out:  # not setdefault: a made-up id costs a system call
            out["id"] = new_id()
        out["object"] = "chat.completion"
        out.setdefault("model", model)
        out.setdefault("usage", None)
        return out

    async def translate_stream(
        self, events: AsyncIterator[SSEEvent], model: str
    ) -> AsyncIterator[dict[str, Any]]:
        finished = False
        async for event in events:
            data = event.data.strip()
            if data == "[DONE]":
                return
            if not data:
                continue
            obj = json.loads(data)
            if not isinstance(obj, dict):
                raise ValueError(f"chunk is {type(obj).__name__}, not an object")
            if "error" in obj:
                err = obj["error"]
                message = err.get("message") if isinstance(err, dict) else str(err)
                raise ProviderError("server_error", f"stream error: {message}", retryable=True)
            obj.setdefault("object", "chat.completion.chunk")
            obj.setdefault("model", model)
            for choice in obj.get("choices") or ():
                if choice.get("finish_reason"):
                    finished = True
            yield obj
        if not finished:
            raise ProviderError("connection_error", "stream ended before [DONE]", retryable=True)
