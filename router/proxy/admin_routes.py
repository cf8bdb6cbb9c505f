"""The admin REST API: routing and firewall rules, behind the admin key.

    GET    /v1/routing_rules            list, in evaluation order
    POST   /v1/routing_rules            create (201)
    GET    /v1/routing_rules/{id}       retrieve
    PATCH  /v1/routing_rules/{id}       change the given fields (match/action replaced whole)
    PUT    /v1/routing_rules/{id}       replace the rule (omitted fields take their defaults)
    DELETE /v1/routing_rules/{id}       delete

and the same under ``/v1/firewall_rules``. Bodies are the hosted TokenRouter
SDK's shapes, i.e. the rules' ``to_dict()``; lists are ``{"object": "list",
"data": [...]}``. Errors use the OpenAI error body: 400 naming the field
(``param``), 404 for an unknown id, 409 for a duplicate id, 401 without the
admin key.

The key is the admin key only, never a proxy key (``ProxyContext.require_admin``,
the same check as ``/metrics`` and ``/admin/reload-model``).

Edits go to the router's policy store. With a SQLite store (``policy_db``,
which ``tierrouter serve --workers N`` always has) every worker's policy
engine compares the store's version on each request, so the next request on
any worker obeys the change.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from router.errors import ConfigError
from router.policy.errors import PolicyNotFound
from router.proxy.context import ProxyContext
from router.proxy.errors import ProxyError, Wire, invalid
from router.proxy.exchange import Exchange, json_response
from router.proxy.limits import link_of, parse_json_body, read_body

__all__ = ["routes"]

# Admin bodies are small; a client sending megabytes here is a mistake.
_MAX_BODY = 256 * 1024
# Fields the server owns: accepted when a client echoes a rule back unchanged.
_READ_ONLY = ("object", "created_at", "updated_at")
# What PUT needs: a replacement must be a whole rule, not a patch.
_REQUIRED = {"routing_rule": ("name", "action"), "firewall_rule": ("name", "pattern")}
_DEFAULTS: dict[str, dict[str, Any]] = {
    "routing_rule": {"priority": 0, "is_enabled": True, "match": None},
    "firewall_rule": {
        "type": "substring",
        "scope": "both",
        "action": "block",
        "replacement": None,
        "priority": 0,
        "is_enabled": True,
    },
}
# "routing rule 'x'.action.set_mode: ..." -> "action.set_mode"
_FIELD_IN_MESSAGE = re.compile(r"^\w+ rule(?: '[^']*')?\.([\w.\[\]]+):")
_UNKNOWN_FIELD = re.compile(r"unknown field '([^']+)'")

Handler = Callable[[Request], Awaitable[Response]]


def routes() -> list[Route]:
    """The admin routes to mount (``router/proxy/app.py``)."""
    out: list[Route] = []
    for kind, path in (("routing_rule", "routing_rules"), ("firewall_rule", "firewall_rules")):
        out.append(Route(f"/v1/{path}", _endpoint(kind, collection=True), methods=["GET", "POST"]))
        out.append(
            Route(
                f"/v1/{path}/{{rule_id}}",
                _endpoint(kind, collection=False),
                methods=["GET", "PATCH", "PUT", "DELETE"],
            )
        )
    return out


def _endpoint(kind: str, collection: bool) -> Handler:
    name = f"admin.{kind}s"

    async def endpoint(request: Request) -> Response:
        ctx: ProxyContext = request.app.state.proxy
        ex = Exchange(ctx, request, name, Wire.OPENAI)
        try:
            ctx.require_admin(request.headers, "the rules API")
            if collection:
                if request.method == "GET":
                    found = await _run(_rules(ctx, kind).list)
                    listing = {"object": "list", "data": [r.to_dict() for r in found]}
                    return _answer(ex, 200, listing)
                body = await _read(ctx, request)
                rule = await _run(lambda: _create(ctx, kind, body))
                return _answer(ex, 201, rule.to_dict())
            rule_id = str(request.path_params["rule_id"])
            if request.method == "GET":
                rule = await _run(lambda: _rules(ctx, kind).retrieve(rule_id))
                return _answer(ex, 200, rule.to_dict())
            if request.method == "DELETE":
                await _run(lambda: _rules(ctx, kind).delete(rule_id))
                gone = {"id": rule_id, "object": f"{kind}.deleted", "deleted": True}
                return _answer(ex, 200, gone)
            body = await _read(ctx, request)
            replace = request.method == "PUT"
            rule = await _run(lambda: _update(ctx, kind, rule_id, body, replace))
            return _answer(ex, 200, rule.to_dict())
        except (Exception, asyncio.CancelledError) as exc:
            return ex.fail(_admin_error(exc))
        finally:
            await ex.settle()

    endpoint.__name__ = name.replace(".", "_")
    return endpoint


def _rules(ctx: ProxyContext, kind: str) -> Any:
    return ctx.router.rules if kind == "routing_rule" else ctx.router.firewall


async def _run(fn: Callable[[], Any]) -> Any:
    # SQLite off the event loop: a write may wait on another worker's lock.
    return await asyncio.to_thread(fn)


async def _read(ctx: ProxyContext, request: Request) -> dict[str, Any]:
    settings = ctx.settings
    raw = await read_body(
        request.headers, request.receive, _MAX_BODY, settings.body_timeout, link_of(request.scope)
    )
    return parse_json_body(raw or b"{}", settings.max_json_depth)


def _create(ctx: ProxyContext, kind: str, body: Mapping[str, Any]) -> Any:
    fields = {k: v for k, v in body.items() if k not in _READ_ONLY}
    if fields.get("id") is not None and not isinstance(fields["id"], str):
        raise invalid("id", f"expected a string, got {fields['id']!r}")
    # create() takes the known fields as keywords: check them here so that a
    # wrong or missing one is a 400 naming it, not a TypeError.
    known = {"id", "name", *_REQUIRED[kind], *_DEFAULTS[kind]}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise invalid(unknown[0], f"unknown field; known: {', '.join(sorted(known))}")
    for name in _REQUIRED[kind]:
        if fields.get(name) is None:
            raise invalid(name, f"required to create a {kind.replace('_', ' ')}")
    return _rules(ctx, kind).create(**fields)


def _update(
    ctx: ProxyContext, kind: str, rule_id: str, body: Mapping[str, Any], replace: bool
) -> Any:
    changes = {k: v for k, v in body.items() if k not in _READ_ONLY}
    given_id = changes.pop("id", rule_id)
    if given_id != rule_id:
        raise invalid("id", f"cannot be changed (the path names {rule_id!r})")
    if replace:
        missing = [f for f in _REQUIRED[kind] if changes.get(f) is None]
        if missing:
            raise invalid(
                missing[0], "required: PUT replaces the whole rule (PATCH changes some fields)"
            )
        changes = {**_DEFAULTS[kind], **changes}
    return _rules(ctx, kind).update(rule_id, **changes)


def _answer(ex: Exchange, status: int, body: Any) -> Response:
    ex.status = status
    return json_response(status, body)


def _admin_error(exc: BaseException) -> BaseException:
    """The policy layer's errors as the admin API's statuses, naming the field."""
    if isinstance(exc, PolicyNotFound):
        return ProxyError("route_not_found", str(exc), param="id")
    if isinstance(exc, ConfigError):
        message = str(exc)
        if "already exists" in message:
            return ProxyError("invalid_request", message, param="id", status=409)
        param = _field_of(message)
        if param is not None and f".{param}:" not in message:
            message = f"{param}: {message}"  # the field first, as every other 400 says it
        return ProxyError("invalid_request", message, param=param)
    return exc


def _field_of(message: str) -> str | None:
    """Which field a validation message is about: ``action.set_mode``, ``pattern``..."""
    found = _FIELD_IN_MESSAGE.match(message)
    if found:
        return found.group(1)
    unknown = _UNKNOWN_FIELD.search(message)
    if unknown:
        return unknown.group(1)
    fixed = re.search(r": '(\w+)' cannot be changed", message)
    if fixed:
        return fixed.group(1)
    # safe_regex reports "firewall rule 'x': invalid regex ..." and the like.
    if message.startswith("firewall rule") and ("pattern" in message or "regex" in message):
        return "pattern"
    return None
