"""Anthropic's wire format: ``POST /v1/messages`` (and ``/v1/messages/count_tokens``).

So that ``ANTHROPIC_BASE_URL`` clients such as Claude Code work unchanged,
a dated Claude model name the catalog does not list (``claude-sonnet-4-5-20250929``)
is pinned to the Anthropic provider instead of refused.

The request goes to the router twice over: translated to the chat shape (for
routing, and for any model not on Anthropic) and as sent (``native_request``),
which a model on Anthropic gets unchanged but for the model name, with the
client's ``anthropic-beta`` and ``anthropic-version`` headers: ``cache_control``,
``thinking``, ``context_management`` and the rest reach it, and its reply
(thinking blocks, cache usage) comes back as it was.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from router.providers.base import NativeRequest
from router.proxy.agent_turns import routing_hints
from router.proxy.anthropic_translate import AnthropicEncoder, to_chat_request, to_message
from router.proxy.context import ProxyContext
from router.proxy.errors import Wire
from router.proxy.exchange import Exchange, json_response
from router.proxy.headers import facts, routing_headers
from router.proxy.models import check_model
from router.proxy.params import ANTHROPIC_PARAMS, check_params
from router.proxy.streaming import routed_stream

__all__ = ["count_tokens", "messages"]

# Client headers a model on Anthropic gets with the client's own request; none
# of them carries a credential (x-api-key and authorization are the proxy's).
_FORWARDED = ("anthropic-beta", "anthropic-version")


def _ctx(request: Request) -> ProxyContext:
    ctx: ProxyContext = request.app.state.proxy
    return ctx


def _model(ctx: ProxyContext, model: Any) -> str:
    if isinstance(model, str) and model.startswith("claude-"):
        catalog = ctx.router.catalog
        if catalog.find(model) is None and "anthropic" in catalog.providers:
            model = f"anthropic/{model}"
    return check_model(ctx, model)


async def messages(request: Request) -> Response:
    ex = Exchange(_ctx(request), request, "messages", Wire.ANTHROPIC)
    try:
        body = await ex.read_json()
        model = _model(ex.ctx, body.get("model"))
        check_params(body, ANTHROPIC_PARAMS)
        chat_messages, params = to_chat_request(body, ex.dropped)
        model = await ex.admit(body, model)
        headers = request.headers
        forwarded = tuple((h, headers[h]) for h in _FORWARDED if h in headers)
        params["native_request"] = NativeRequest("anthropic", body, forwarded)
        ex.session = routing_hints(ex.ctx, headers, body, model, chat_messages, params)
        router = ex.ctx.router
        guard = ex.enter()
        if body.get("stream"):
            return await _stream(ex, chat_messages, model, params)
        reply = await guard.wait(router.achat(chat_messages, model=model, **params))
        f = facts(reply.decision, reply.model_used, reply.cost, reply.attempts)
        ex.facts = f = ex.routed(f, reply.decision.tier.rank, translated=reply.native is None)
        ex.attempts = reply.attempts
        await ex.logged()
        out = dict(reply.native) if reply.native is not None else to_message(reply)
        out["tierrouter"] = f
        return ex.ok(out, routing_headers(f))
    except (Exception, asyncio.CancelledError) as exc:
        return ex.fail(exc)
    finally:
        await ex.settle()


async def _stream(
    ex: Exchange, chat_messages: list[dict[str, Any]], model: str, params: dict[str, Any]
) -> Response:
    return await routed_stream(
        ex,
        chat_messages,
        model,
        params,
        lambda stream, final: AnthropicEncoder(stream.decision.estimated_tokens, final),
    )


async def count_tokens(request: Request) -> Response:
    """An estimate (the router's own), for clients that size their context with it."""
    from router.routing.planning import estimate_tokens

    ex = Exchange(_ctx(request), request, "messages.count_tokens", Wire.ANTHROPIC)
    try:
        body = await ex.read_json()
        check_params(body, ANTHROPIC_PARAMS)
        chat_messages, params = to_chat_request(body)
        ex.status = 200
        tokens = estimate_tokens(chat_messages, params.get("tools"))
        return json_response(200, {"input_tokens": tokens})
    except (Exception, asyncio.CancelledError) as exc:
        return ex.fail(exc)
    finally:
        await ex.settle()
