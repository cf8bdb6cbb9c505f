"""Google Gemini API (native ``generateContent`` / ``streamGenerateContent?alt=sse``)."""

from __future__ import annotations

import json
import mimetypes
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from router.providers.base import (
    ChatRequest,
    Endpoint,
    HttpCall,
    ProviderAdapter,
    ProviderError,
    chunk,
    completion,
    new_id,
    parse_data_url,
    text_of,
    usage_chunk,
    usage_dict,
)
from router.providers.sse import SSEEvent

__all__ = ["GeminiAdapter"]

_FINISH = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
}
_GEN_CONFIG = {
    "temperature": "temperature",
    "top_p": "topP",
    "top_k": "topK",
    "max_tokens": "maxOutputTokens",
    "max_completion_tokens": "maxOutputTokens",
    "seed": "seed",
    "presence_penalty": "presencePenalty",
    "frequency_penalty": "frequencyPenalty",
}


class GeminiAdapter(ProviderAdapter):
    api = "gemini"

    def build(
        self, endpoint: Endpoint, model: str, request: ChatRequest, *, stream: bool
    ) -> HttpCall:
        headers = {"Content-Type": "application/json", **dict(endpoint.headers)}
        if endpoint.key:
            headers["x-goog-api-key"] = endpoint.key.reveal()
        system, contents = _contents(request.messages)
        p = request.params
        body: dict[str, Any] = {"contents": contents}
        if system:
            body["systemInstruction"] = {"parts": [{"text": system}]}
        config = {
            native: p[ours] for ours, native in _GEN_CONFIG.items() if p.get(ours) is not None
        }
        stop = p.get("stop")
        if stop:
            config["stopSequences"] = [stop] if isinstance(stop, str) else list(stop)
        fmt = p.get("response_format")
        if isinstance(fmt, dict) and fmt.get("type") in ("json_object", "json_schema"):
            config["responseMimeType"] = "application/json"
            schema = (fmt.get("json_schema") or {}).get("schema")
            if schema:
                config["responseJsonSchema"] = schema
        if config:
            body["generationConfig"] = config
        if p.get("tools"):
            body["tools"] = [{"functionDeclarations": [_declaration(t) for t in p["tools"]]}]
            tool_config = _tool_config(p.get("tool_choice"))
            if tool_config:
                body["toolConfig"] = tool_config
        method = "streamGenerateContent?alt=sse" if stream else "generateContent"
        url = f"{endpoint.base_url}/v1beta/models/{quote(model, safe='.-_')}:{method}"
        return HttpCall(url, headers, body)

    def parse(self, body: Any, model: str) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise TypeError("response is not an object")
        text, calls, finish = _candidate(body)
        message: dict[str, Any] = {"role": "assistant", "content": text or None}
        if calls:
            message["tool_calls"] = calls
        return completion(
            body.get("responseId") or new_id(),
            body.get("modelVersion") or model,
            message,
            finish or "stop",
            _usage(body.get("usageMetadata") or {}),
        )

    async def translate_stream(
        self, events: AsyncIterator[SSEEvent], model: str
    ) -> AsyncIterator[dict[str, Any]]:
        chunk_id, name = new_id(), model
        usage = usage_dict(0, 0)
        started = False
        finish: str | None = None
        tool_count = 0
        async for event in events:
            if not event.data.strip():
                continue
            data = json.loads(event.data)
            if not isinstance(data, dict):
                raise ValueError("stream chunk is not an object")
            if "error" in data:
                err = data["error"]
                raise ProviderError("server_error", f"stream error: {err.get('message', err)}")
            chunk_id = data.get("responseId") or chunk_id
            name = data.get("modelVersion") or name
            if not started:
                started = True
                yield chunk(chunk_id, name, {"role": "assistant", "content": ""})
            text, calls, reason = _candidate(data)
            if text:
                yield chunk(chunk_id, name, {"content": text})
            if calls:
                for call in calls:
                    call["index"] = tool_count
                    tool_count += 1
                yield chunk(chunk_id, name, {"tool_calls": calls})
            if data.get("usageMetadata"):
                usage = _usage(data["usageMetadata"])
            finish = reason or finish
        if finish is None:
            raise ProviderError(
                "connection_error", "stream ended before a finishReason", retryable=True
            )
        yield chunk(chunk_id, name, {}, finish)
        yield usage_chunk(chunk_id, name, usage)


def _candidate(body: dict[str, Any]) -> tuple[str, list[dict[str, Any]], str | None]:
    candidates = body.get("candidates") or []
    if not candidates:
        blocked = (body.get("promptFeedback") or {}).get("blockReason")
        return "", [], "content_filter" if blocked else None
    first = candidates[0]
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for part in (first.get("content") or {}).get("parts") or []:
        if part.get("thought"):
            continue  # thinking summaries are not the answer
        if "text" in part:
            texts.append(part["text"])
        elif "functionCall" in part:
            fc = part["functionCall"]
            calls.append(
                {
                    "id": fc.get("id") or new_id("call"),
                    "type": "function",
                    "function": {
                        "name": fc["name"],
                        "arguments": json.dumps(fc.get("args") or {}, ensure_ascii=False),
                    },
                }
            )
    reason = first.get("finishReason")
    finish = None
    if reason:
        finish = "tool_calls" if calls else _FINISH.get(reason, "stop")
    return "".join(texts), calls, finish


def _usage(meta: dict[str, Any]) -> dict[str, int]:
    # Thinking tokens are billed as output.
    output = int(meta.get("candidatesTokenCount") or 0) + int(meta.get("thoughtsTokenCount") or 0)
    return usage_dict(int(meta.get("promptTokenCount") or 0), output)


def _declaration(tool: dict[str, Any]) -> dict[str, Any]:
    fn = tool.get("function", tool)
    out: dict[str, Any] = {"name": fn["name"]}
    if fn.get("description"):
        out["description"] = fn["description"]
    if fn.get("parameters"):
        out["parameters"] = fn["parameters"]
    return out


def _tool_config(choice: Any) -> dict[str, Any] | None:
    if choice == "required":
        return {"functionCallingConfig": {"mode": "ANY"}}
    if choice == "none":
        return {"functionCallingConfig": {"mode": "NONE"}}
    if isinstance(choice, dict):
        name = (choice.get("function") or choice)["name"]
        return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [name]}}
    return None


def _parts(content: Any) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"text": content}]
    parts: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, str):
            parts.append({"text": part})
            continue
        kind = part.get("type")
        if kind in ("text", "input_text"):
            parts.append({"text": part["text"]})
        elif kind in ("image_url", "input_image"):
            ref = part.get("image_url")
            url = (ref.get("url") if isinstance(ref, dict) else ref) or ""
            data = parse_data_url(url)
            if data:
                parts.append({"inlineData": {"mimeType": data[0], "data": data[1]}})
            else:
                mime = mimetypes.guess_type(url)[0] or "image/jpeg"
                parts.append({"fileData": {"mimeType": mime, "fileUri": url}})
    return parts


def _contents(messages: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    system: list[str] = []
    contents: list[dict[str, Any]] = []
    call_names: dict[str, str] = {}  # tool_call_id -> function name; Gemini matches by name
    for msg in messages:
        role = msg.get("role")
        if role in ("system", "developer"):
            system.append(text_of(msg.get("content")))
        elif role == "tool":
            raw = text_of(msg.get("content"))
            try:
                result = json.loads(raw)
            except ValueError:
                result = raw
            response = result if isinstance(result, dict) else {"result": result}
            name = call_names.get(msg.get("tool_call_id", ""), msg.get("name", "tool"))
            part = {"functionResponse": {"name": name, "response": response}}
            if (
                contents
                and contents[-1]["role"] == "user"
                and all("functionResponse" in p for p in contents[-1]["parts"])
            ):
                contents[-1]["parts"].append(part)
            else:
                contents.append({"role": "user", "parts": [part]})
        elif role == "assistant":
            parts = _parts(msg.get("content"))
            for call in msg.get("tool_calls") or ():
                fn = call["function"]
                call_names[call.get("id", "")] = fn["name"]
                args = fn.get("arguments") or "{}"
                parts.append(
                    {
                        "functionCall": {
                            "name": fn["name"],
                            "args": json.loads(args) if isinstance(args, str) else args,
                        }
                    }
                )
            contents.append({"role": "model", "parts": parts or [{"text": ""}]})
        else:
            contents.append({"role": "user", "parts": _parts(msg.get("content"))})
    return "\n\n".join(s for s in system if s), contents
