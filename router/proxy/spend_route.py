"""``GET /v1/spend`` (admin key): every budget counter with its cap (``tierrouter spend``)."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from router.proxy.context import ProxyContext
from router.proxy.errors import ProxyError, Wire
from router.proxy.exchange import Exchange, json_response

__all__ = ["spend"]


async def spend(request: Request) -> Response:
    ctx: ProxyContext = request.app.state.proxy
    ex = Exchange(ctx, request, "admin.spend", Wire.OPENAI)
    try:
        ctx.require_admin(request.headers, "GET /v1/spend")
        budgets = ctx.admission.budgets if ctx.admission is not None else None
        if budgets is None:
            raise ProxyError(
                "route_not_found", "no budgets are configured (proxy.budgets in the config)"
            )
        rows = await asyncio.to_thread(budgets.table)  # Redis or SQLite: off the event loop
        ex.status = 200
        return json_response(200, {"object": "list", "data": rows})
    except (Exception, asyncio.CancelledError) as exc:
        return ex.fail(exc)
    finally:
        await ex.settle()
