"""``GET /health`` (open, for load balancers) and ``GET /metrics`` (the admin key)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from router._version import __version__
from router.proxy.context import ProxyContext
from router.proxy.errors import ProxyError, Wire, error_body
from router.proxy.exchange import json_response

__all__ = ["health", "metrics"]

_PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"


async def health(request: Request) -> Response:
    ctx: ProxyContext = request.app.state.proxy
    return json_response(
        200,
        {
            "status": "ok",
            "version": __version__,
            "inflight": ctx.gate.active,
            "max_concurrency": ctx.gate.limit,
        },
    )


async def metrics(request: Request) -> Response:
    ctx: ProxyContext = request.app.state.proxy
    try:
        ctx.require_admin(request.headers, "GET /metrics")
    except ProxyError as err:
        return json_response(err.status, error_body(err, Wire.OPENAI))
    return Response(ctx.metrics.render(), 200, media_type=_PROMETHEUS)
