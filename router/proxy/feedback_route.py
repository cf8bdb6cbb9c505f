"""``POST /v1/feedback`` (proxy key) and ``POST /admin/reload-model`` (admin key).

Feedback body: ``{"decision_id": "rt-...", "rating": 1-5, "verdict":
"needed_stronger" | "cheaper_ok", "task": ..., "tier": ..., "comment": ...}``;
the decision id is in each response's ``tierrouter`` facts. Answers
``{"ok": true}``; a 400 names the field when the id is unknown, logging is off,
or a value is invalid.

Mount (router/proxy/app.py)::

    Route("/v1/feedback", feedback_route.feedback, methods=["POST"]),
    Route("/admin/reload-model", feedback_route.reload_model, methods=["POST"]),
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from router.proxy.context import ProxyContext
from router.proxy.errors import ProxyError, Wire, error_body, invalid
from router.proxy.exchange import Exchange, json_response

__all__ = ["feedback", "reload_model"]

_FIELDS = ("rating", "verdict", "task", "tier", "comment")


async def feedback(request: Request) -> Response:
    from router.log.store import DecisionLogError

    ctx: ProxyContext = request.app.state.proxy
    ex = Exchange(ctx, request, "feedback", Wire.OPENAI)
    try:
        body = await ex.read_json()
        decision_id = body.get("decision_id")
        if not isinstance(decision_id, str) or not decision_id:
            raise invalid("decision_id", "expected the decision id (a string like 'rt-...')")
        unknown = sorted(set(body) - {"decision_id", *_FIELDS})
        if unknown:
            raise invalid(unknown[0], f"unknown field; known: decision_id, {', '.join(_FIELDS)}")
        rating = body.get("rating")
        if isinstance(rating, bool) or not isinstance(rating, (int, float, type(None))):
            raise invalid("rating", f"expected a number from 1 to 5, got {rating!r}")
        values: dict[str, Any] = {k: body.get(k) for k in _FIELDS}
        try:
            # SQLite work off the event loop: it may wait on another worker's lock.
            await asyncio.to_thread(ctx.router.feedback, decision_id, **values)
        except DecisionLogError as exc:
            field = "decision_id" if "not in the decision log" in str(exc) else "feedback"
            raise invalid(field, str(exc)) from None
        return ex.ok({"ok": True, "decision_id": decision_id})
    except (Exception, asyncio.CancelledError) as exc:
        return ex.fail(exc)
    finally:
        await ex.settle()


async def reload_model(request: Request) -> Response:
    """Load the promoted model (after ``tierrouter models promote``) without a restart."""
    ctx: ProxyContext = request.app.state.proxy
    try:
        ctx.require_admin(request.headers, "reloading the model")
    except ProxyError as err:
        return json_response(err.status, error_body(err, Wire.OPENAI))
    version = await asyncio.to_thread(ctx.router.reload_model)
    return json_response(200, {"ok": True, "model_version": version})
