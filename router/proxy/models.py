"""Model strings as the proxy accepts them, and the list ``GET /v1/models`` shows.

A model string is checked before anything is spent on it: a malformed one is
a 400 naming ``model``, a well-formed one naming no known model a 404.
"""

from __future__ import annotations

from typing import Any

from router.errors import ConfigError
from router.proxy.context import ProxyContext
from router.proxy.errors import ProxyError, invalid
from router.routing.catalog import ModelSpec
from router.routing.model_strings import RequestKind, parse_model_string

__all__ = ["check_model", "model_list"]

_CACHE_LIMIT = 4096
_MAX_MODEL_CHARS = 256


def check_model(ctx: ProxyContext, model: Any, *, default: str = "auto") -> str:
    """The model string to route with; raises ProxyError 400/404 when it cannot be used."""
    if model is None:
        return default
    if not isinstance(model, str):
        raise invalid("model", f"must be a string, got {type(model).__name__}")
    if model in ctx.known_models:
        return model
    if not model.strip():
        raise invalid("model", "must not be empty: use 'auto', or leave the field out")
    if not model.isprintable() or len(model) > _MAX_MODEL_CHARS:
        # Control characters would reach upstream URLs, headers and log lines.
        raise invalid(
            "model",
            f"must be at most {_MAX_MODEL_CHARS} printable characters without control "
            "characters (CR, LF, NUL, ...)",
        )
    try:
        request = parse_model_string(model)
    except ConfigError as exc:
        raise invalid("model", str(exc)) from None
    if request.kind is not RequestKind.AUTO and request.model is not None:
        _check_ref(ctx, request.model)
    if len(ctx.known_models) < _CACHE_LIMIT:
        ctx.known_models[model] = None
    return model


def _check_ref(ctx: ProxyContext, ref: str) -> None:
    catalog = ctx.router.catalog
    if catalog.find(ref) is not None:
        return
    provider, sep, name = ref.partition("/")
    if sep and name and provider in catalog.providers:
        return  # a pin to any model the provider serves, listed or not
    try:
        catalog.get(ref)
    except ConfigError as exc:
        if "ambiguous" in str(exc):
            raise invalid("model", str(exc)) from None
    raise ProxyError(
        "not_found",
        f"model {ref!r} does not exist: use 'auto', 'auto:<strategy or profile>', a catalog "
        "model, or '<provider>/<model>' (GET /v1/models lists them)",
        param="model",
    )


def _available(ctx: ProxyContext) -> Any:
    # Availability (a key is set, the provider is enabled) is known only to the
    # call engine; Router has no public accessor for it yet.
    engine = getattr(ctx.router, "_engine", None)
    checker = getattr(engine(), "is_available", None) if callable(engine) else None
    return checker if callable(checker) else (lambda model: True)


def model_list(ctx: ProxyContext) -> list[dict[str, Any]]:
    """``auto`` entries first, then every catalog model this server can call."""
    from router.routing.strategies import Strategy, load_profiles

    autos = ["auto"] + [f"auto:{s.value}" for s in Strategy]
    autos += [f"auto:{p}" for p in load_profiles() if p != "auto"]
    out: list[dict[str, Any]] = [
        {"id": name, "owned_by": "tierrouter", "kind": "route"} for name in autos
    ]
    available = _available(ctx)
    model: ModelSpec
    for model in ctx.router.catalog:
        if available(model):
            out.append(
                {
                    "id": model.id,
                    "owned_by": model.provider,
                    "kind": "model",
                    "context_window": model.context_window,
                    "input_price": model.input_price,
                    "output_price": model.output_price,
                    "capabilities": sorted(model.capabilities),
                }
            )
    return out
