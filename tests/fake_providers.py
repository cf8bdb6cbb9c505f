"""A real HTTP server on 127.0.0.1 that speaks the OpenAI, Anthropic and Gemini wire formats.

Used by the provider, fallback and chat API tests instead of the internet.
Each request is recorded; faults are queued per model name and consumed one
per request, so a test can say "the first call to gpt-4o gets a 429 with
Retry-After: 0.1, the second succeeds".

Paths (``base_url`` for each API style in parentheses):

* OpenAI chat completions  ``POST /openai/v1/chat/completions``  (``/openai/v1``)
* Anthropic Messages       ``POST /anthropic/v1/messages``       (``/anthropic``)
* Gemini                   ``POST /gemini/v1beta/models/{m}:generateContent``
                           ``POST /gemini/v1beta/models/{m}:streamGenerateContent?alt=sse``
                           (``/gemini``)
"""

from __future__ import annotations

import collections
import contextlib
import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = ["FakeProviders", "Fault", "Recorded"]


@dataclass(frozen=True)
class Fault:
    """What to do wrong on one request.

    status: answer with this HTTP status and the provider's error body.
    retry_after: add a ``Retry-After`` header (seconds).
    delay: sleep this long before answering (push it past the client timeout).
    drop: ``"before"`` closes the socket without answering; ``"mid_stream"`` sends
        ``after_events`` content events of a stream, then closes the socket.
    malformed: answer 200 with broken JSON (or a broken SSE data line).
    """

    status: int | None = None
    retry_after: float | None = None
    delay: float = 0.0
    drop: str | None = None
    after_events: int = 1
    malformed: bool = False


@dataclass
class Recorded:
    api: str
    path: str
    model: str
    headers: dict[str, str]
    body: dict[str, Any]
    stream: bool


@dataclass
class _State:
    faults: dict[str, collections.deque[Fault]] = field(
        default_factory=lambda: collections.defaultdict(collections.deque)
    )
    replies: dict[str, str] = field(default_factory=dict)
    # The tool a tool-use reply calls, when the request offers it: name -> arguments.
    tool: tuple[str, dict[str, Any]] | None = None
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Server(ThreadingHTTPServer):
    # The default listen backlog of 5 refuses bursts of concurrent test clients.
    request_queue_size = 256

    def get_request(self) -> tuple[socket.socket, Any]:
        # http.server writes the headers and the body in separate sends; with
        # Nagle on, the body waits for the client's delayed ACK (40 ms on Linux)
        # whenever the client reads asynchronously. Real servers disable Nagle.
        conn, addr = super().get_request()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid-request is what the fault tests do on purpose.
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class FakeProviders:
    """Start with :meth:`start` (or as a context manager); ``url(api)`` gives base URLs."""

    def __init__(self) -> None:
        self.state = _State()
        state = self.state

        class Handler(_Handler):
            shared = state

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, api: str) -> str:
        suffix = {"openai": "/openai/v1", "anthropic": "/anthropic", "gemini": "/gemini"}[api]
        return f"http://127.0.0.1:{self.port}{suffix}"

    def start(self) -> FakeProviders:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeProviders:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail(self, model: str, *faults: Fault) -> None:
        """Queue faults for the next requests naming ``model`` (the provider's model name)."""
        with self.state.lock:
            self.state.faults[model].extend(faults)

    def reply(self, model: str, text: str) -> None:
        self.state.replies[model] = text

    def use_tool(self, name: str, arguments: dict[str, Any]) -> None:
        """Tool-use replies call ``name`` with ``arguments`` when the request offers it
        (an agent's tools: Claude Code's ``Read``), else the first tool as usual."""
        self.state.tool = (name, arguments)

    def reset(self) -> None:
        with self.state.lock:
            self.state.faults.clear()
            self.state.replies.clear()
            self.state.requests.clear()
            self.state.tool = None

    @property
    def requests(self) -> list[Recorded]:
        return list(self.state.requests)

    def models_called(self) -> list[str]:
        return [r.model for r in self.state.requests]


def _tokens(value: Any) -> int:
    return max(1, len(json.dumps(value)) // 4)


def _words(text: str) -> list[str]:
    words = text.split(" ")
    return [w if i == 0 else " " + w for i, w in enumerate(words)]


class _Handler(BaseHTTPRequestHandler):
    shared: _State
    protocol_version = "HTTP/1.1"  # keep-alive, chunked streams: what real APIs speak

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean

    # ---- plumbing ------------------------------------------------------------------

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._json(400, {"error": {"message": "request body is not JSON"}})
            return
        parts = urlsplit(self.path)
        path = parts.path
        if path.startswith("/openai/") and path.endswith("/chat/completions"):
            api, model, stream = "openai", str(body.get("model")), bool(body.get("stream"))
        elif path == "/anthropic/v1/messages":
            api, model, stream = "anthropic", str(body.get("model")), bool(body.get("stream"))
        elif path.startswith("/gemini/v1beta/models/"):
            name, _, method = unquote(path.rsplit("/", 1)[1]).partition(":")
            api, model, stream = "gemini", name, method == "streamGenerateContent"
            if stream and "alt=sse" not in parts.query:
                self._json(
                    400,
                    {
                        "error": {
                            "code": 400,
                            "message": "use alt=sse",
                            "status": "INVALID_ARGUMENT",
                        }
                    },
                )
                return
        else:
            self._json(404, {"error": {"message": f"no route {path}"}})
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        with self.shared.lock:
            self.shared.requests.append(Recorded(api, path, model, headers, body, stream))
            queue = self.shared.faults.get(model)
            fault = queue.popleft() if queue else None
        # A client that gave up (the timeout tests) needs no answer.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._serve(api, model, stream, headers, body, fault)

    def _serve(
        self,
        api: str,
        model: str,
        stream: bool,
        headers: dict[str, str],
        body: dict[str, Any],
        fault: Fault | None,
    ) -> None:
        if fault and fault.delay:
            time.sleep(fault.delay)
        if fault and fault.drop == "before":
            self._drop()
            return
        key = _key(api, headers)
        if not key or key.startswith("bad"):
            self._error(api, 401 if api != "gemini" else 400, key)
            return
        if fault and fault.status:
            self._error(api, fault.status, key, fault.retry_after)
            return
        if fault and fault.malformed and not stream:
            self._raw(200, b'{"id": "x", "choices": [{"index": 0, "mess', "application/json")
            return
        reply = self.shared.replies.get(model, f"Hello from {model}")
        tool = _first_tool(api, body)
        args = _TOOL_ARGS
        wanted = self.shared.tool
        if tool is not None and wanted is not None and wanted[0] in _tool_names(api, body):
            tool, args = wanted
        renderer = {"openai": _OpenAI, "anthropic": _Anthropic, "gemini": _Gemini}[api]
        out = renderer(model, body, reply, tool)
        out.args = args
        if not stream:
            self._json(200, out.complete())
            return
        self._start_stream()
        events = out.events()
        content_events = 0
        for event in events:
            if fault and fault.malformed and event.is_content:
                self._chunk(b'data: {"broken": \n\n')
                self._chunk(b"")
                return
            if (
                fault
                and fault.drop == "mid_stream"
                and event.is_content
                and content_events >= fault.after_events
            ):
                self._drop()
                return
            content_events += event.is_content
            self._chunk(event.wire)
        self._chunk(b"")

    def _json(self, status: int, payload: Any, extra: dict[str, str] | None = None) -> None:
        self._raw(status, json.dumps(payload).encode(), "application/json", extra)

    def _raw(
        self, status: int, data: bytes, ctype: str, extra: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _drop(self) -> None:
        self.close_connection = True
        self.wfile.flush()
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _error(
        self, api: str, status: int, key: str | None, retry_after: float | None = None
    ) -> None:
        extra = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        self._json(status, _error_body(api, status, key), extra)


def _key(api: str, headers: dict[str, str]) -> str | None:
    if api == "openai":
        auth = headers.get("authorization", "")
        return auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
    if api == "anthropic":
        return headers.get("x-api-key")
    return headers.get("x-goog-api-key")


def _masked(key: str | None) -> str:
    # Real providers quote part of a rejected key; the router must not pass it on.
    return f"{key[:6]}****{key[-4:]}" if key and len(key) > 10 else "****"


def _error_body(api: str, status: int, key: str | None) -> dict[str, Any]:
    if api == "openai":
        messages = {
            401: (
                f"Incorrect API key provided: {_masked(key)}. You can find your API key "
                "at https://platform.openai.com/account/api-keys.",
                "invalid_request_error",
                "invalid_api_key",
            ),
            429: ("Rate limit reached for requests", "requests", "rate_limit_exceeded"),
            400: ("Invalid request", "invalid_request_error", None),
            404: ("The model does not exist", "invalid_request_error", "model_not_found"),
        }
        msg, etype, code = messages.get(status, ("The server had an error", "server_error", None))
        return {"error": {"message": msg, "type": etype, "param": None, "code": code}}
    if api == "anthropic":
        types = {
            400: "invalid_request_error",
            401: "authentication_error",
            403: "permission_error",
            404: "not_found_error",
            429: "rate_limit_error",
            500: "api_error",
            529: "overloaded_error",
        }
        etype = types.get(status, "api_error")
        msg = "invalid x-api-key" if status == 401 else f"{etype.replace('_', ' ')}"
        return {"type": "error", "error": {"type": etype, "message": msg}}
    statuses = {
        400: "INVALID_ARGUMENT",
        403: "PERMISSION_DENIED",
        404: "NOT_FOUND",
        429: "RESOURCE_EXHAUSTED",
        500: "INTERNAL",
        503: "UNAVAILABLE",
    }
    if status == 400 and (not key or key.startswith("bad")):
        msg = "API key not valid. Please pass a valid API key."
    elif status == 429:
        msg = "Resource has been exhausted (e.g. check quota)."
    else:
        msg = "The model is overloaded. Please try again later."
    return {"error": {"code": status, "message": msg, "status": statuses.get(status, "UNKNOWN")}}


def _answers_tool(api: str, body: dict[str, Any]) -> bool:
    """Whether the request's last turn returns a tool's result: then the model
    answers in text, so an agent's tool round-trip ends as a real one does."""
    if api == "openai":
        messages = body.get("messages") or [{}]
        return bool(messages) and messages[-1].get("role") == "tool"
    if api == "anthropic":
        last = (body.get("messages") or [{}])[-1]
        content = last.get("content")
        return isinstance(content, list) and any(
            isinstance(b, dict) and b.get("type") == "tool_result" for b in content
        )
    contents = body.get("contents") or [{}]
    return any("functionResponse" in p for p in contents[-1].get("parts") or ())


def _tool_names(api: str, body: dict[str, Any]) -> list[str]:
    tools = body.get("tools") or []
    if api == "openai":
        return [str(t.get("function", {}).get("name")) for t in tools]
    if api == "anthropic":
        return [str(t.get("name")) for t in tools]
    return [str(f.get("name")) for t in tools for f in t.get("functionDeclarations") or ()]


def _first_tool(api: str, body: dict[str, Any]) -> str | None:
    if _answers_tool(api, body):
        return None
    if api == "openai":
        tools = body.get("tools") or []
        if tools and body.get("tool_choice") != "none":
            return str(tools[0]["function"]["name"])
    elif api == "anthropic":
        tools = body.get("tools") or []
        if tools and (body.get("tool_choice") or {}).get("type") != "none":
            return str(tools[0]["name"])
    else:
        tools = body.get("tools") or []
        mode = ((body.get("toolConfig") or {}).get("functionCallingConfig") or {}).get("mode")
        if tools and mode != "NONE":
            return str(tools[0]["functionDeclarations"][0]["name"])
    return None


@dataclass
class _Event:
    wire: bytes
    is_content: bool = False


_TOOL_ARGS = {"city": "Paris"}


class _OpenAI:
    """Replies as OpenAI does. Like its automatic prompt caching, a later turn of a
    conversation (one with an assistant turn in it) whose prompt has 1024 tokens or
    more reports three quarters of them as cached (``prompt_tokens_details``)."""

    args: dict[str, Any] = _TOOL_ARGS

    def __init__(self, model: str, body: dict[str, Any], reply: str, tool: str | None) -> None:
        self.model, self.body, self.reply, self.tool = model, body, reply, tool
        self.id = f"chatcmpl-{uuid.uuid4().hex[:20]}"
        messages = body.get("messages") or []
        self.prompt = _tokens(messages)
        later = any(isinstance(m, dict) and m.get("role") == "assistant" for m in messages)
        self.cached = self.prompt * 3 // 4 if later and self.prompt >= 1024 else 0
        self.completion = len(_words(reply)) if not tool else 12

    def _usage(self) -> dict[str, Any]:
        usage: dict[str, Any] = {
            "prompt_tokens": self.prompt,
            "completion_tokens": self.completion,
            "total_tokens": self.prompt + self.completion,
        }
        if self.cached:
            usage["prompt_tokens_details"] = {"cached_tokens": self.cached}
        return usage

    def complete(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": self.reply, "refusal": None}
        finish = "stop"
        if self.tool:
            message["content"] = None
            message["tool_calls"] = [
                {
                    "id": "call_abc123",
                    "type": "function",
                    "function": {"name": self.tool, "arguments": json.dumps(self.args)},
                }
            ]
            finish = "tool_calls"
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "system_fingerprint": "fp_fake",
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
            ],
            "usage": self._usage(),
        }

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> bytes:
        payload = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": self.model,
            "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        return f"data: {json.dumps(payload)}\n\n".encode()

    def events(self) -> list[_Event]:
        out = [_Event(self._chunk({"role": "assistant", "content": "", "refusal": None}))]
        if self.tool:
            args = json.dumps(self.args)
            out.append(
                _Event(
                    self._chunk(
                        {
                            "tool_calls": [
                                {
                                    "index": 0,
                                    "id": "call_abc123",
                                    "type": "function",
                                    "function": {"name": self.tool, "arguments": ""},
                                }
                            ]
                        }
                    ),
                    True,
                )
            )
            for piece in (args[:5], args[5:]):
                out.append(
                    _Event(
                        self._chunk(
                            {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}
                        ),
                        True,
                    )
                )
            out.append(_Event(self._chunk({}, "tool_calls")))
        else:
            out += [_Event(self._chunk({"content": w}), True) for w in _words(self.reply)]
            out.append(_Event(self._chunk({}, "stop")))
        if (self.body.get("stream_options") or {}).get("include_usage"):
            usage = {
                "id": self.id,
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": self.model,
                "choices": [],
                "usage": self._usage(),
            }
            out.append(_Event(f"data: {json.dumps(usage)}\n\n".encode()))
        out.append(_Event(b"data: [DONE]\n\n"))
        return out


THINKING = "Let me think."


def _has_cache_control(value: Any) -> bool:
    if isinstance(value, dict):
        return "cache_control" in value or any(_has_cache_control(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_cache_control(v) for v in value)
    return False


class _Anthropic:
    """Replies as Anthropic does. With ``thinking`` on, a thinking block comes first;
    with ``cache_control`` anywhere, three quarters of the prompt are read from the
    cache (``cache_read_input_tokens``), as on a later turn of a cached conversation."""

    args: dict[str, Any] = _TOOL_ARGS

    def __init__(self, model: str, body: dict[str, Any], reply: str, tool: str | None) -> None:
        self.model, self.body, self.reply, self.tool = model, body, reply, tool
        self.id = f"msg_{uuid.uuid4().hex[:24]}"
        prompt = _tokens([body.get("system"), body.get("messages"), body.get("tools")])
        self.cached = prompt * 3 // 4 if _has_cache_control(body) else 0
        self.prompt = prompt - self.cached
        self.completion = len(_words(reply)) if not tool else 12
        self.thinking = (body.get("thinking") or {}).get("type") in ("enabled", "adaptive")

    def _usage(self, output: int) -> dict[str, int]:
        return {
            "input_tokens": self.prompt,
            "output_tokens": output,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": self.cached,
        }

    def complete(self) -> dict[str, Any]:
        content: list[dict[str, Any]] = [{"type": "text", "text": self.reply}]
        stop = "end_turn"
        if self.tool:
            content = [
                {"type": "tool_use", "id": "toolu_01A", "name": self.tool, "input": self.args}
            ]
            stop = "tool_use"
        if self.thinking:
            content.insert(0, {"type": "thinking", "thinking": THINKING, "signature": "sig-1"})
        return {
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": self._usage(self.completion),
        }

    @staticmethod
    def _ev(name: str, data: dict[str, Any], content: bool = False) -> _Event:
        return _Event(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode(), content)

    def events(self) -> list[_Event]:
        ev = self._ev
        out = [
            ev(
                "message_start",
                {
                    "type": "message_start",
                    "message": {
                        "id": self.id,
                        "type": "message",
                        "role": "assistant",
                        "model": self.model,
                        "content": [],
                        "stop_reason": None,
                        "stop_sequence": None,
                        "usage": self._usage(1),
                    },
                },
            )
        ]
        first = 0
        if self.thinking:
            first = 1
            out.append(
                ev(
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": 0,
                        "content_block": {"type": "thinking", "thinking": "", "signature": ""},
                    },
                )
            )
            for delta in (
                {"type": "thinking_delta", "thinking": THINKING},
                {"type": "signature_delta", "signature": "sig-1"},
            ):
                out.append(
                    ev(
                        "content_block_delta",
                        {"type": "content_block_delta", "index": 0, "delta": delta},
                        True,
                    )
                )
            out.append(ev("content_block_stop", {"type": "content_block_stop", "index": 0}))
        if self.tool:
            out.append(
                ev(
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": first,
                        "content_block": {
                            "type": "tool_use",
                            "id": "toolu_01A",
                            "name": self.tool,
                            "input": {},
                        },
                    },
                    True,
                )
            )
            args = json.dumps(self.args)
            for piece in (args[:5], args[5:]):
                out.append(
                    ev(
                        "content_block_delta",
                        {
                            "type": "content_block_delta",
                            "index": first,
                            "delta": {"type": "input_json_delta", "partial_json": piece},
                        },
                        True,
                    )
                )
            stop = "tool_use"
        else:
            out.append(
                ev(
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": first,
                        "content_block": {"type": "text", "text": ""},
                    },
                )
            )
            out.append(ev("ping", {"type": "ping"}))
            for w in _words(self.reply):
                out.append(
                    ev(
                        "content_block_delta",
                        {
                            "type": "content_block_delta",
                            "index": first,
                            "delta": {"type": "text_delta", "text": w},
                        },
                        True,
                    )
                )
            stop = "end_turn"
        out.append(ev("content_block_stop", {"type": "content_block_stop", "index": first}))
        out.append(
            ev(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop, "stop_sequence": None},
                    "usage": {"output_tokens": self.completion},
                },
            )
        )
        out.append(ev("message_stop", {"type": "message_stop"}))
        return out


class _Gemini:
    args: dict[str, Any] = _TOOL_ARGS

    def __init__(self, model: str, body: dict[str, Any], reply: str, tool: str | None) -> None:
        self.model, self.body, self.reply, self.tool = model, body, reply, tool
        self.id = uuid.uuid4().hex[:22]
        self.prompt = _tokens([body.get("systemInstruction"), body.get("contents")])
        self.completion = len(_words(reply)) if not tool else 12

    def _usage(self, done: bool) -> dict[str, int]:
        out = self.completion if done else 0
        return {
            "promptTokenCount": self.prompt,
            "candidatesTokenCount": out,
            "totalTokenCount": self.prompt + out,
        }

    def _response(
        self, parts: list[dict[str, Any]], finish: str | None, done: bool
    ) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
        if finish:
            candidate["finishReason"] = finish
        return {
            "candidates": [candidate],
            "usageMetadata": self._usage(done),
            "modelVersion": self.model,
            "responseId": self.id,
        }

    def complete(self) -> dict[str, Any]:
        if self.tool:
            parts = [{"functionCall": {"name": self.tool, "args": self.args}}]
            return self._response(parts, "STOP", True)
        return self._response([{"text": self.reply}], "STOP", True)

    def events(self) -> list[_Event]:
        def sse(payload: dict[str, Any], content: bool = True) -> _Event:
            # Gemini frames its SSE with CRLF.
            return _Event(f"data: {json.dumps(payload)}\r\n\r\n".encode(), content)

        if self.tool:
            parts = [{"functionCall": {"name": self.tool, "args": self.args}}]
            return [sse(self._response(parts, "STOP", True))]
        words = _words(self.reply)
        out = [sse(self._response([{"text": w}], None, False)) for w in words[:-1]]
        out.append(sse(self._response([{"text": words[-1]}], "STOP", True)))
        return out
