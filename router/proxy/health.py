"""``GET /health`` (open, for load balancers) and ``GET /metrics`` (the admin key)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from router._version import __version__
from router.proxy.admission import fleet_health, fleet_metrics
from router.proxy.context import ProxyContext
from router.proxy.errors import ProxyError, Wire, error_body
from router.proxy.exchange import json_response

__all__ = ["health", "metrics"]

_PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"


async def health(request: Request) -> Response:
    ctx: ProxyContext = request.app.state.proxy
    body = {
        "status": "ok",
        "version": __version__,
        "inflight": ctx.gate.active,
        "max_concurrency": ctx.gate.limit,
    }
    fleet = fleet_health(ctx.router)
    if fleet is not None:
        if not _is_admin(ctx, request):
            # Open to anyone who reaches the port: the servers' addresses are the admin's.
            fleet = {part: {k: v for k, v in facts.items() if k != "url"}
                     for part, facts in fleet.items()}  # fmt: skip
        body["fleet"] = fleet
        if not all(part["ok"] for part in fleet.values()):
            # Still 200: requests are served (on local state, or spooling the log).
            body["status"] = "degraded"
    return json_response(200, body)


def _is_admin(ctx: ProxyContext, request: Request) -> bool:
    try:
        ctx.require_admin(request.headers, "GET /health")
    except ProxyError:
        return False
    return True


async def metrics(request: Request) -> Response:
    ctx: ProxyContext = request.app.state.proxy
    try:
        ctx.require_admin(request.headers, "GET /metrics")
    except ProxyError as err:
        return json_response(err.status, error_body(err, Wire.OPENAI))
    return Response(ctx.metrics.render() + fleet_metrics(ctx.router), 200, media_type=_PROMETHEUS)
