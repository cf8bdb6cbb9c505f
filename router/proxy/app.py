"""``create_app(router, settings)``: the Starlette application behind ``tierrouter serve``.

No middleware on purpose: every handler authenticates and bounds itself, which
keeps each request on one task (so a disconnect can cancel it) and the added
latency small. For the same reason a request to a fixed path goes straight from
a dict to its handler (:class:`ProxyApp`); Starlette's stack still serves paths
with parameters, unknown paths and wrong methods, and the lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from router.proxy import (
    admin_routes,
    anthropic_routes,
    classify_route,
    feedback_route,
    health,
    openai_routes,
    spend_route,
)
from router.proxy.context import ProxyContext
from router.proxy.errors import ProxyError, Wire, error_body
from router.proxy.exchange import json_response
from router.proxy.settings import ProxySettings

if TYPE_CHECKING:
    from router.router import Router

__all__ = ["ProxyApp", "create_app"]

Endpoint = Callable[[Request], Awaitable[Response]]


class ProxyApp(Starlette):
    """Starlette, with each fixed path's handler looked up in one dict.

    Starlette's own path went through two middlewares, the router's match over
    every route and a wrapper per request: about 5 % of the proxy's CPU per request
    (py-spy, bench_proxy.py). The handlers catch their own errors and answer in
    the caller's wire format, so those layers had nothing left to do for them.
    """

    def __init__(self, routes: list[Route], **kwargs: Any) -> None:
        super().__init__(routes=routes, **kwargs)
        self.fixed: dict[tuple[str, str], Endpoint] = {
            (method, route.path): route.endpoint
            for route in routes
            if not route.param_convertors
            for method in route.methods or ()
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            endpoint = self.fixed.get((scope["method"], scope["path"]))
            if endpoint is not None:
                scope["app"] = self
                response = await endpoint(Request(scope, receive, send))
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def create_app(
    router: Router, settings: ProxySettings | None = None, *, own_process: bool = False
) -> ProxyApp:
    """An ASGI app serving ``router`` in the OpenAI and Anthropic wire formats.

    ``own_process``: the app is all this process serves (``tierrouter serve``), so it
    may tune process-wide settings such as the garbage collector's.
    """
    settings = settings or ProxySettings()
    ctx = ProxyContext(router, settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if router.settings.client_factory is None:  # a router built elsewhere
            from router.proxy.upstream import client_factory

            router._use_client_factory(client_factory(settings.max_concurrency))
        router.catalog  # noqa: B018 -- build the call engine now, not on the first request
        if own_process:
            _tune_gc()
            _lighten_log_records()
        yield
        await asyncio.to_thread(ctx.close)  # may write the last spend: off the loop
        await router.aclose()

    routes = [
        Route("/v1/chat/completions", openai_routes.chat_completions, methods=["POST"]),
        Route("/v1/responses", openai_routes.responses, methods=["POST"]),
        Route("/v1/models", openai_routes.list_models, methods=["GET"]),
        Route("/v1/messages", anthropic_routes.messages, methods=["POST"]),
        Route("/v1/messages/count_tokens", anthropic_routes.count_tokens, methods=["POST"]),
        Route("/v1/classify", classify_route.classify, methods=["POST"]),
        Route("/health", health.health, methods=["GET"]),
        Route("/metrics", health.metrics, methods=["GET"]),
    ]
    # Clients that put /v1 in the base URL twice, or leave it out, still find us.
    routes += [
        Route(r.path.removeprefix("/v1"), r.endpoint, methods=list(r.methods or ()))
        for r in routes[:6]
    ]
    # Model ids hold slashes (openai/gpt-5): the path converter takes them whole.
    routes += [
        Route(f"{prefix}/models/{{model_id:path}}", openai_routes.retrieve_model, methods=["GET"])
        for prefix in ("/v1", "")
    ]
    # Feedback and the admin API are this proxy's own: no unprefixed aliases.
    routes += [
        Route("/v1/feedback", feedback_route.feedback, methods=["POST"]),
        Route("/admin/reload-model", feedback_route.reload_model, methods=["POST"]),
        Route("/v1/spend", spend_route.spend, methods=["GET"]),  # budgets (admin key)
    ]
    routes += admin_routes.routes()  # /v1/routing_rules, /v1/firewall_rules (admin key)
    app = ProxyApp(
        routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error},
    )
    app.state.proxy = ctx
    return app


def _tune_gc() -> None:
    """Take what exists at start-up out of the garbage collector's full collections.

    Modules, the model and the catalog live as long as the process, yet every full
    collection walked them again (about 10 ms each). Requests in flight make the
    collector run those more often, so the cost grew with concurrency. Frozen, the
    proxy's CPU per request at 32 clients fell by about a fifth and its closed-loop
    p99 by more than half (bench_proxy.py, run with and without).

    A request allocates a few thousand objects, so the default young-generation
    threshold (700) ran several collections per request, each walking the state
    of every request in flight. At 20,000 that is about one per ten requests
    (about 5 % less CPU per request in an interleaved A/B); the older generations
    keep their default ratios, and the 5-minute soak's memory stayed flat.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 10, 10)


def _lighten_log_records() -> None:
    """Log records without thread, process and multiprocessing names.

    ``tierrouter serve``'s log formats (server.py) print none of them, yet every
    record looked all three up: about 6 µs of the 20 µs an access-log line cost.
    """
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths (404) and wrong methods (405) in the caller's format."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    path = request.scope["path"]
    wire = Wire.ANTHROPIC if "/messages" in path else Wire.OPENAI
    kind = "route_not_found" if status in (404, 405) else "invalid_request"
    message = f"{request.method} {path} is not an endpoint of this proxy"
    return json_response(status, error_body(ProxyError(kind, message, status=status), wire))
