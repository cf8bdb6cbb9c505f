"""OpenAI's wire format: ``/v1/chat/completions``, ``/v1/responses``, ``/v1/models`` and
``/v1/models/{id}``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from router.proxy.agent_turns import routing_hints
from router.proxy.context import ProxyContext
from router.proxy.errors import ProxyError, Wire, invalid, sse_error
from router.proxy.exchange import Exchange, json_response
from router.proxy.headers import facts, routing_headers, sse_comment
from router.proxy.json_bytes import dumps
from router.proxy.models import check_model, model_list
from router.proxy.params import OPENAI_PARAMS, RESPONSES_PARAMS, check_params
from router.proxy.streaming import SSEResponse, routed_stream

__all__ = ["chat_completions", "list_models", "responses", "retrieve_model"]

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_NOT_FORWARDED = frozenset({"model", "messages", "stream", "stream_options"})
# Responses fields with no meaning for a stateless router; dropped rather than
# forwarded to providers that would reject them.
_RESPONSES_DROPPED = frozenset(
    {"store", "include", "truncation", "background", "prompt_cache_key", "client_metadata"}
)
_RESPONSES_STATEFUL = ("previous_response_id", "conversation", "prompt")


def _ctx(request: Request) -> ProxyContext:
    ctx: ProxyContext = request.app.state.proxy
    return ctx


def validate_messages(messages: Any) -> list[dict[str, Any]]:
    if not isinstance(messages, list) or not messages:
        raise invalid("messages", "expected a non-empty list of message objects")
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise invalid(f"messages[{i}]", "expected an object with 'role' and 'content'")
        role = message.get("role")
        if not isinstance(role, str) or role not in _ROLES:
            raise invalid(f"messages[{i}].role", f"{role!r} is not one of {sorted(_ROLES)}")
    return messages


async def chat_completions(request: Request) -> Response:
    ex = Exchange(_ctx(request), request, "chat.completions", Wire.OPENAI)
    try:
        body = await ex.read_json()
        messages = validate_messages(body.get("messages"))
        model = check_model(ex.ctx, body.get("model"))
        check_params(body, OPENAI_PARAMS)
        stream = bool(body.get("stream"))
        params = {k: v for k, v in body.items() if k not in _NOT_FORWARDED}
        model = await ex.admit(body, model)
        ex.session = routing_hints(ex.ctx, request.headers, body, model, messages, params)
        router = ex.ctx.router
        guard = ex.enter()
        if stream:
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return await _stream_chat(ex, messages, model, params, include_usage)
        reply = await guard.wait(router.achat(messages, model=model, **params))
        f = facts(reply.decision, reply.model_used, reply.cost, reply.attempts)
        ex.facts = f = ex.routed(f, reply.decision.tier.rank, translated=True)
        ex.attempts = reply.attempts
        await ex.logged()
        out = {
            "id": reply.id,
            "object": "chat.completion",
            "created": reply.created,
            "model": reply.model,
            "choices": reply.choices,
            "usage": reply.usage,
            "tierrouter": f,
        }
        return ex.ok(out, routing_headers(f))
    except (Exception, asyncio.CancelledError) as exc:
        return ex.fail(exc)
    finally:
        await ex.settle()


async def _stream_chat(
    ex: Exchange, messages: list[dict[str, Any]], model: str, params: dict[str, Any], usage: bool
) -> Response:
    return await routed_stream(
        ex, messages, model, params, lambda stream, final: ChatEncoder(usage, final)
    )


class ChatEncoder:
    """``chat.completion.chunk`` events, with the routing facts on the last chunk.

    Chunks from the finish reason on are held back (they carry no text, so
    nobody waits on them) until the stream ends and the cost is known.
    """

    def __init__(self, include_usage: bool, final_facts: Callable[[], dict[str, Any]]) -> None:
        self.include_usage = include_usage
        self.final_facts = final_facts
        self.held: list[dict[str, Any]] = []

    def feed(self, chunk: dict[str, Any]) -> bytes:
        choices = chunk.get("choices")
        if not choices and chunk.get("usage") and not self.include_usage:
            return b""  # the router asks for usage; this client did not
        if self.held or any(c.get("finish_reason") for c in choices or ()):
            self.held.append(chunk)
            return b""
        return b"data: " + dumps(chunk) + b"\n\n"

    def _flush(self) -> bytes:
        return b"".join(b"data: " + dumps(c) + b"\n\n" for c in self.held)

    def finish(self) -> bytes:
        f = self.final_facts()
        if self.held:
            self.held[-1] = {**self.held[-1], "tierrouter": f}
        return self._flush() + sse_comment(f) + b"data: [DONE]\n\n"

    def fail(self, err: ProxyError) -> bytes:
        return self._flush() + sse_error(err, Wire.OPENAI)


# ---- Responses API -------------------------------------------------------------------


class _Capture:
    """Stands in for the router inside ``router.calls.responses.Responses`` to keep the
    chat reply or stream, whose routing facts the Responses shape does not expose,
    and to give the router an agent's routing hints once the input is chat-shaped."""

    def __init__(self, ex: Exchange, body: dict[str, Any]) -> None:
        self.ex = ex
        self.body = body
        self.router = ex.ctx.router
        self.bridge = None
        self.reply: Any = None
        self.stream: Any = None

    def _hints(self, messages: Any, model: str | None, params: dict[str, Any]) -> None:
        if isinstance(messages, list) and model is not None:
            ex, headers = self.ex, self.ex.request.headers
            ex.session = routing_hints(ex.ctx, headers, self.body, model, messages, params)

    async def achat(self, messages: Any, model: str | None = None, **params: Any) -> Any:
        self._hints(messages, model, params)
        self.reply = await self.router.achat(messages, model=model, **params)
        return self.reply

    async def achat_stream(self, messages: Any, model: str | None = None, **params: Any) -> Any:
        self._hints(messages, model, params)
        self.stream = await self.router.achat_stream(messages, model=model, **params)
        return self.stream


async def responses(request: Request) -> Response:
    ex = Exchange(_ctx(request), request, "responses", Wire.RESPONSES)
    try:
        body = await ex.read_json()
        model = check_model(ex.ctx, body.get("model"))
        item_input = body.get("input")
        if not isinstance(item_input, (str, list)) or not item_input:
            raise invalid("input", "expected a non-empty string or list of input items")
        for name in _RESPONSES_STATEFUL:
            if body.get(name) is not None:
                raise invalid(name, "stored responses are not supported; send the full input")
        check_params(body, RESPONSES_PARAMS)
        if "messages" in body:  # a Chat Completions body sent to the wrong endpoint
            raise invalid("messages", "not a Responses API field: send the turns as input")
        params = {
            k: v
            for k, v in body.items()
            if k not in ("model", "input", "stream") and k not in _RESPONSES_DROPPED
        }
        _hosted_tools(params, ex.dropped)
        stream = bool(body.get("stream"))
        from router.calls.responses import Responses

        capture = _Capture(ex, body)
        api = Responses(capture)
        model = await ex.admit(body, model)
        guard = ex.enter()
        if stream:
            return await _stream_responses(ex, api, capture, model, item_input, params)
        out = await guard.wait(api.acreate(model=model, input=item_input, **params))
        reply = capture.reply
        f = facts(reply.decision, reply.model_used, reply.cost, reply.attempts)
        ex.facts = f = ex.routed(f, reply.decision.tier.rank, translated=True)
        ex.attempts = reply.attempts
        await ex.logged()
        out.pop("router", None)
        out.setdefault("error", None)
        out.setdefault("incomplete_details", None)
        out["tierrouter"] = f
        return ex.ok(out, routing_headers(f))
    except (Exception, asyncio.CancelledError) as exc:
        return ex.fail(exc)
    finally:
        await ex.settle()


def _hosted_tools(params: dict[str, Any], dropped: list[str]) -> None:
    """Leave out the tools OpenAI runs itself (web search, file search, ...): the
    router calls models through chat completions, which has no place for them."""
    tools = params.get("tools")
    if not isinstance(tools, list):
        return
    kept = [t for t in tools if not isinstance(t, dict) or t.get("type", "function") == "function"]
    for tool in tools:
        if isinstance(tool, dict) and tool.get("type", "function") != "function":
            note = f"{tool.get('type')} tool dropped: only OpenAI's Responses API runs it"
            if note not in dropped:
                dropped.append(note)
    params["tools"] = kept


async def _stream_responses(
    ex: Exchange, api: Any, capture: _Capture, model: str, item_input: Any, params: Any
) -> Response:
    assert ex.guard is not None
    events = await ex.guard.wait(api.acreate(model=model, input=item_input, stream=True, **params))
    ex.on_close(events.aclose)
    # response.created goes out before any upstream call; wait for real output.
    first = await ex.prefetch(events, lambda e: e.get("type") != "response.created")
    stream = capture.stream
    rank = stream.decision.tier.rank
    f = facts(stream.decision, stream.model_used, None, len(stream.attempts) + 1)
    ex.facts = f = ex.routed(f, rank, translated=True)

    def summary() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        attempts = stream.attempts
        final = facts(stream.decision, stream.model_used, stream.cost, attempts)
        return ex.routed(final, rank, translated=True), attempts

    encoder = ResponsesEncoder(lambda: summary()[0])
    headers = routing_headers(f, with_cost=False)
    return SSEResponse(ex, events, first, encoder, headers, summary, events.aclose)


class ResponsesEncoder:
    """Responses events as ``event: <type>`` / ``data: {...}`` pairs."""

    def __init__(self, final_facts: Callable[[], dict[str, Any]]) -> None:
        self.final_facts = final_facts

    def feed(self, event: dict[str, Any]) -> bytes:
        if event.get("type") == "response.completed":
            response = dict(event["response"])
            response.pop("router", None)
            response["tierrouter"] = self.final_facts()
            event = {**event, "response": response}
        return b"event: " + str(event.get("type")).encode() + b"\ndata: " + dumps(event) + b"\n\n"

    def finish(self) -> bytes:
        return sse_comment(self.final_facts())

    def fail(self, err: ProxyError) -> bytes:
        return sse_error(err, Wire.RESPONSES)


# ---- models --------------------------------------------------------------------------


def _anthropic_model(entry: dict[str, Any]) -> dict[str, Any]:
    return {"type": "model", "id": entry["id"], "display_name": entry["id"], "created_at": _EPOCH}


def _openai_model(entry: dict[str, Any]) -> dict[str, Any]:
    return {"object": "model", "created": 0, **entry}


async def retrieve_model(request: Request) -> Response:
    """``GET /v1/models/{id}``: one entry of the list (``client.models.retrieve``),
    in Anthropic's shape when the client sends ``anthropic-version``."""
    anthropic = "anthropic-version" in request.headers
    ex = Exchange(_ctx(request), request, "models", Wire.ANTHROPIC if anthropic else Wire.OPENAI)
    try:
        ex.authenticate()
        wanted = str(request.path_params["model_id"])
        entry = next((e for e in model_list(ex.ctx) if e["id"] == wanted), None)
        if entry is None:
            catalog = ex.ctx.router.catalog
            found = catalog.find(wanted)
            if found is None and wanted.startswith("claude-") and "anthropic" in catalog.providers:
                found = catalog.resolve_pin("anthropic", wanted)  # as /v1/messages pins it
            if found is None:
                raise ProxyError(
                    "not_found",
                    f"model {wanted!r} does not exist: GET /v1/models lists the models "
                    "this proxy serves",
                    param="model",
                )
            entry = {"id": wanted, "owned_by": found.provider, "kind": "model"}
        ex.status = 200
        return json_response(200, _anthropic_model(entry) if anthropic else _openai_model(entry))
    except (Exception, asyncio.CancelledError) as exc:
        return ex.fail(exc)
    finally:
        await ex.settle()


async def list_models(request: Request) -> Response:
    ex = Exchange(_ctx(request), request, "models", Wire.OPENAI)
    try:
        ex.authenticate()
        entries = model_list(ex.ctx)
        if "anthropic-version" in request.headers:
            ex.wire = Wire.ANTHROPIC  # the Anthropic SDK's models.list() shape
            data = [_anthropic_model(e) for e in entries]
            body: dict[str, Any] = {
                "data": data,
                "has_more": False,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
            }
        else:
            body = {"object": "list", "data": [_openai_model(e) for e in entries]}
        ex.status = 200
        return json_response(200, body)
    except (Exception, asyncio.CancelledError) as exc:
        return ex.fail(exc)
    finally:
        await ex.settle()


_EPOCH = "1970-01-01T00:00:00Z"
