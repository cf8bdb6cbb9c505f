"""``POST /v1/classify``: the decision and the ranked models, without calling any.

Body: ``{"messages": [...]}`` (or ``"prompt": "..."``), optionally ``model``,
``tools`` and ``response_format`` as in a chat request.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from router.errors import NoCandidateError
from router.proxy.context import ProxyContext
from router.proxy.errors import Wire, invalid
from router.proxy.exchange import Exchange
from router.proxy.headers import facts, routing_headers
from router.proxy.models import check_model

__all__ = ["classify"]


async def classify(request: Request) -> Response:
    ctx: ProxyContext = request.app.state.proxy
    ex = Exchange(ctx, request, "classify", Wire.OPENAI)
    try:
        body = await ex.read_json()
        messages: Any = body.get("messages", body.get("prompt"))
        if not messages or not isinstance(messages, (str, list)):
            raise invalid("messages", "expected 'messages' (a list) or 'prompt' (a string)")
        model = check_model(ctx, body.get("model"))
        extra = {k: body[k] for k in ("tools", "response_format") if body.get(k) is not None}
        router = ctx.router
        try:
            # route() never calls a model (no L2 either): this endpoint is free.
            plan = router.route(messages, model=model, **extra)
            decision = plan.decision
            route: dict[str, Any] | None = {
                "model": plan.model,
                "candidates": [m.id for m in plan.chain],
                "profile": plan.profile,
                "strategy": plan.strategy.value if plan.strategy else None,
            }
            problem = None
        except NoCandidateError as exc:
            decision = router.classify(messages, **extra)
            route, problem = None, exc.message
        ex.facts = f = facts(decision, None, None, 0)
        ex.spent = False  # nothing was called: no cost, no savings in the metrics
        out: dict[str, Any] = {"decision": decision.to_dict(), "route": route, "tierrouter": f}
        if problem:
            out["route_error"] = problem
        return ex.ok(out, routing_headers(f, with_cost=False))
    except (Exception, asyncio.CancelledError) as exc:
        return ex.fail(exc)
    finally:
        await ex.settle()
