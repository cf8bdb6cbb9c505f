"""The model catalog: providers, models, prices, capabilities and quality.

The bundled data lives in ``router/data/catalog.yaml``; users add or override
providers and models from config. Every model has a canonical id
``<provider>/<name>``; the bare name works too when only one provider serves it.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from router._resources import DATA_DIR, load_yaml
from router.errors import ConfigError, FieldError
from router.types import TIERS, Task, Tier

__all__ = [
    "API_STYLES",
    "CAPABILITIES",
    "Catalog",
    "FieldError",
    "ModelSpec",
    "ProviderSpec",
    "default_catalog",
]

API_STYLES = frozenset({"openai", "anthropic", "gemini"})
CAPABILITIES = frozenset({"tools", "vision", "json", "reasoning"})
_TASK_NAMES = frozenset(t.value for t in Task)
# A model name's snapshot suffix: -20251001, -2025-10-01 or -latest.
_DATED = re.compile(r"-(?:\d{8}|\d{4}-\d{2}-\d{2}|latest)$")


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """One endpoint that serves models. ``api`` picks the wire format."""

    name: str
    api: str
    base_url: str
    key_env: str | None = None
    requires_key: bool = True
    # Local servers are keyless; they join routing only once the user enables them.
    enabled: bool = False
    stream_usage: bool = True
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One model on one provider."""

    id: str
    provider: str
    api_model: str
    input_price: float | None
    output_price: float | None
    context_window: int
    max_output: int | None = None
    capabilities: frozenset[str] = frozenset()
    tier_quality: tuple[float, float, float, float] = (0.5, 0.5, 0.5, 0.5)
    task_bonus: Mapping[str, float] = field(default_factory=dict)
    price_source: str | None = None
    price_date: str | None = None
    # USD per 1M prompt tokens read from / written to the provider's prompt cache;
    # None: priced as ordinary input.
    cache_read_price: float | None = None
    cache_write_price: float | None = None
    # Request fields this model's API takes differently (see catalog.yaml ``params``).
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.id.split("/", 1)[1]

    @property
    def free(self) -> bool:
        return self.input_price == 0 and self.output_price == 0

    def quality(self, task: Task | str, tier: Tier) -> float:
        """The task x tier cell of the capability matrix, in [0, 1]."""
        return self.quality_cell(str(task), tier.rank)

    def quality_cell(self, task: str, tier_rank: int) -> float:
        """:meth:`quality` by task value and tier rank, for ranking a whole catalog
        without converting the enums once per model."""
        base = self.tier_quality[tier_rank]
        bonus = self.task_bonus.get(task, 0.0)
        return min(1.0, max(0.0, base + bonus))

    def cost(
        self,
        input_tokens: int,
        output_tokens: int,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
    ) -> float | None:
        """USD for a call of this size; ``None`` when the price is unknown.

        ``input_tokens`` counts every prompt token, the cached ones included;
        those read from or written to the prompt cache are priced at the cache
        prices where the catalog has them.
        """
        if self.input_price is None or self.output_price is None:
            return None
        read = min(max(cache_read_tokens, 0), input_tokens)
        written = min(max(cache_write_tokens, 0), input_tokens - read)
        read_price = self.input_price if self.cache_read_price is None else self.cache_read_price
        write_price = self.input_price if self.cache_write_price is None else self.cache_write_price
        plain = input_tokens - read - written
        return (
            plain * self.input_price
            + read * read_price
            + written * write_price
            + output_tokens * self.output_price
        ) / 1e6

    def usage_cost(self, usage: Mapping[str, Any]) -> float | None:
        """USD for a call from its OpenAI-shaped ``usage`` (``prompt_tokens_details``
        says how many prompt tokens the provider's cache served or stored)."""
        details = usage.get("prompt_tokens_details") or {}
        if not isinstance(details, dict) and not isinstance(details, Mapping):
            details = {}
        return self.cost(
            int(usage.get("prompt_tokens") or 0),
            int(usage.get("completion_tokens") or 0),
            int(details.get("cached_tokens") or 0),
            int(details.get("cache_write_tokens") or 0),
        )

    def blended_price(self) -> float:
        """Per-1M price of a typical 3:1 input:output mix, for ranking."""
        if self.input_price is None or self.output_price is None:
            return float("inf")
        return 0.75 * self.input_price + 0.25 * self.output_price


class Catalog:
    """Providers and models, looked up by canonical id, bare name or glob."""

    def __init__(
        self,
        providers: Mapping[str, ProviderSpec],
        models: Iterable[ModelSpec],
        defaults: Mapping[str, Any] | None = None,
    ) -> None:
        self.providers: dict[str, ProviderSpec] = dict(providers)
        self.models: dict[str, ModelSpec] = {}
        self.defaults: dict[str, Any] = dict(defaults or {})
        for model in models:
            if model.provider not in self.providers:
                raise FieldError(
                    ("models", model.id), f"provider {model.provider!r} is not defined"
                )
            self.models[model.id] = model
        self._by_name: dict[str, list[str]] = {}
        for model_id, model in self.models.items():
            self._by_name.setdefault(model.name, []).append(model_id)

    def __iter__(self) -> Iterator[ModelSpec]:
        return iter(self.models.values())

    def __len__(self) -> int:
        return len(self.models)

    def __contains__(self, ref: object) -> bool:
        return isinstance(ref, str) and self.find(ref) is not None

    def find(self, ref: str) -> ModelSpec | None:
        """The model named by canonical id or by an unambiguous bare name."""
        if ref in self.models:
            return self.models[ref]
        ids = self._by_name.get(ref, [])
        return self.models[ids[0]] if len(ids) == 1 else None

    def get(self, ref: str) -> ModelSpec:
        model = self.find(ref)
        if model is not None:
            return model
        ids = self._by_name.get(ref, [])
        if len(ids) > 1:
            raise ConfigError(f"model {ref!r} is ambiguous: write one of {sorted(ids)}")
        raise ConfigError(f"model {ref!r} is not in the catalog; add it under 'models:' in config")

    def resolve_pin(self, provider: str, name: str) -> ModelSpec:
        """A model for ``provider/name``, synthesised when the catalog does not list it.

        Pins must work for any model a provider serves (a new release, a local
        Ollama tag); unknown models get no price and no capability claims.
        """
        if provider not in self.providers:
            raise ConfigError(
                f"unknown provider {provider!r} in model {provider}/{name}; "
                f"known: {', '.join(sorted(self.providers))}"
            )
        known = self.models.get(f"{provider}/{name}")
        if known is not None:
            return known
        undated = self.models.get(f"{provider}/{_DATED.sub('', name)}")
        if undated is not None:
            # A dated snapshot (claude-haiku-4-5-20251001) of a listed model: the
            # listed model's price and abilities, called by the name asked for.
            return replace(undated, id=f"{provider}/{name}", api_model=name)
        return ModelSpec(
            id=f"{provider}/{name}",
            provider=provider,
            api_model=name,
            input_price=None,
            output_price=None,
            context_window=0,  # unknown: never filtered on, see strategies
            capabilities=CAPABILITIES,
        )

    def matches(self, model: ModelSpec, pattern: str) -> bool:
        """Whether ``pattern`` (id, bare name, ``provider/*`` glob) names ``model``."""
        return (
            pattern in (model.id, model.name)
            or fnmatch.fnmatchcase(model.id, pattern)
            or fnmatch.fnmatchcase(model.name, pattern)
        )

    def with_overrides(
        self,
        providers: Mapping[str, Mapping[str, Any]] | None = None,
        models: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> Catalog:
        """A copy with providers and models added or patched field by field."""
        new_providers = dict(self.providers)
        for name, raw in (providers or {}).items():
            path = ("providers", name)
            if not isinstance(raw, Mapping):
                raise FieldError(path, "expected a mapping of provider settings")
            base = new_providers.get(name)
            new_providers[name] = _provider(name, raw, path, base)
        new_models = dict(self.models)
        for model_id, raw in (models or {}).items():
            path = ("models", model_id)
            if not isinstance(raw, Mapping):
                raise FieldError(path, "expected a mapping of model fields")
            existing = self.find(model_id)
            new_models_id = existing.id if existing else model_id
            new_models[new_models_id] = _model(new_models_id, raw, path, existing)
        return Catalog(new_providers, new_models.values(), self.defaults)


def _provider(
    name: str, raw: Mapping[str, Any], path: tuple[str, ...], base: ProviderSpec | None
) -> ProviderSpec:
    known = {"api", "base_url", "key_env", "requires_key", "enabled", "stream_usage", "headers"}
    # Keys are config-level, not catalog-level; config.py strips them before we get here.
    for key in raw:
        if key not in known:
            raise FieldError((*path, str(key)), f"unknown provider field; known: {sorted(known)}")
    api = raw.get("api", base.api if base else "openai")
    if api not in API_STYLES:
        raise FieldError((*path, "api"), f"{api!r} is not one of {sorted(API_STYLES)}")
    base_url = raw.get("base_url", base.base_url if base else None)
    if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
        raise FieldError((*path, "base_url"), "must be an http:// or https:// URL")
    if "@" in base_url.split("://", 1)[1].split("/", 1)[0]:
        # Credentials in a URL end up in error messages, logs and redirects, and
        # no provider's API takes them there. The URL is not echoed: it holds them.
        raise FieldError(
            (*path, "base_url"),
            "must not contain credentials (user:password@host): give the provider's key "
            "in keys= or its key_env, or extra auth in the provider's headers:",
        )
    headers = raw.get("headers", dict(base.headers) if base else {})
    if not isinstance(headers, Mapping):
        raise FieldError((*path, "headers"), "must be a mapping of header -> value")
    values = {
        "requires_key": raw.get("requires_key", base.requires_key if base else True),
        "enabled": raw.get("enabled", True),
        "stream_usage": raw.get("stream_usage", base.stream_usage if base else True),
    }
    for key, value in values.items():
        if not isinstance(value, bool):
            raise FieldError((*path, key), f"must be true or false, got {value!r}")
    key_env = raw.get("key_env", base.key_env if base else None)
    if key_env is not None and not isinstance(key_env, str):
        raise FieldError((*path, "key_env"), "must be an environment variable name")
    return ProviderSpec(
        name=name,
        api=api,
        base_url=base_url.rstrip("/"),
        key_env=key_env,
        requires_key=values["requires_key"],
        enabled=values["enabled"],
        stream_usage=values["stream_usage"],
        headers=tuple((str(k), str(v)) for k, v in headers.items()),
    )


def _model(
    model_id: str, raw: Mapping[str, Any], path: tuple[str, ...], base: ModelSpec | None
) -> ModelSpec:
    if "/" not in model_id:
        raise FieldError(path, "model ids are '<provider>/<model>', e.g. 'openai/gpt-4o'")
    provider, name = model_id.split("/", 1)
    known = {
        "api_model",
        "input_price",
        "output_price",
        "price_source",
        "price_date",
        "context_window",
        "max_output",
        "capabilities",
        "quality",
        "task_bonus",
        "cache_read_price",
        "cache_write_price",
        "params",
    }
    for key in raw:
        if key not in known:
            raise FieldError((*path, str(key)), f"unknown model field; known: {sorted(known)}")
    if base is None:
        for required in ("input_price", "output_price", "context_window"):
            if required not in raw:
                raise FieldError((*path, required), "is required for a new model")
    prices = {}
    for key in ("input_price", "output_price", "cache_read_price", "cache_write_price"):
        value = raw.get(key, getattr(base, key) if base else None)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0
        ):
            raise FieldError(
                (*path, key), f"must be a non-negative number (USD per 1M tokens), got {value!r}"
            )
        prices[key] = None if value is None else float(value)
    window = raw.get("context_window", base.context_window if base else 0)
    if isinstance(window, bool) or not isinstance(window, int) or window <= 0:
        raise FieldError((*path, "context_window"), f"must be a positive integer, got {window!r}")
    max_output = raw.get("max_output", base.max_output if base else None)
    if max_output is not None and (isinstance(max_output, bool) or not isinstance(max_output, int)):
        raise FieldError((*path, "max_output"), f"must be an integer, got {max_output!r}")
    caps_raw = raw.get("capabilities", sorted(base.capabilities) if base else [])
    if not isinstance(caps_raw, list) or any(c not in CAPABILITIES for c in caps_raw):
        raise FieldError(
            (*path, "capabilities"), f"must be a list drawn from {sorted(CAPABILITIES)}"
        )
    quality_raw = raw.get("quality", list(base.tier_quality) if base else None)
    if quality_raw is None:
        quality_raw = [0.5] * len(TIERS)
    if isinstance(quality_raw, Mapping):
        try:
            quality_raw = [quality_raw[t.value] for t in TIERS]
        except KeyError as exc:
            raise FieldError((*path, "quality"), f"missing tier {exc.args[0]}") from None
    if (
        not isinstance(quality_raw, list)
        or len(quality_raw) != len(TIERS)
        or not all(isinstance(q, (int, float)) and 0 <= q <= 1 for q in quality_raw)
    ):
        raise FieldError(
            (*path, "quality"),
            "must be four numbers in [0, 1] for SIMPLE, MEDIUM, COMPLEX, REASONING",
        )
    bonus = raw.get("task_bonus", dict(base.task_bonus) if base else {})
    if not isinstance(bonus, Mapping) or any(
        k not in _TASK_NAMES or not isinstance(v, (int, float)) for k, v in bonus.items()
    ):
        raise FieldError((*path, "task_bonus"), f"must map tasks {sorted(_TASK_NAMES)} to numbers")
    params = raw.get("params", dict(base.params) if base else {})
    if not isinstance(params, Mapping):
        raise FieldError((*path, "params"), "must be a mapping of request field quirks")
    from router.routing.param_quirks import check_quirks

    try:
        check_quirks(params)
    except ValueError as exc:
        raise FieldError((*path, "params"), str(exc)) from None
    api_model = raw.get("api_model", base.api_model if base else name)
    q = [float(x) for x in quality_raw]
    fields: dict[str, Any] = {
        "id": model_id,
        "provider": provider,
        "api_model": str(api_model),
        "input_price": prices["input_price"],
        "output_price": prices["output_price"],
        "context_window": window,
        "max_output": max_output,
        "capabilities": frozenset(caps_raw),
        "tier_quality": (q[0], q[1], q[2], q[3]),
        "task_bonus": {str(k): float(v) for k, v in bonus.items()},
        "price_source": raw.get("price_source", base.price_source if base else None),
        "price_date": _date(raw.get("price_date", base.price_date if base else None)),
        "cache_read_price": prices["cache_read_price"],
        "cache_write_price": prices["cache_write_price"],
        "params": dict(params),
    }
    return replace(base, **fields) if base else ModelSpec(**fields)


def _date(value: object) -> str | None:
    # YAML turns 2025-01-01 into a date object; keep the ISO text.
    return None if value is None else str(value)


def catalog_from_data(data: Mapping[str, Any], source: str = "catalog") -> Catalog:
    """Build a catalog from the parsed ``catalog.yaml`` layout."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: expected a mapping with 'providers' and 'models'")
    providers_raw = data.get("providers") or {}
    models_raw = data.get("models") or {}
    providers = {}
    for name, raw in providers_raw.items():
        spec = _provider(str(name), raw, ("providers", str(name)), None)
        # Bundled providers are enabled unless keyless: keys decide availability.
        providers[str(name)] = replace(spec, enabled=bool(raw.get("enabled", spec.requires_key)))
    models = [_model(str(mid), raw, ("models", str(mid)), None) for mid, raw in models_raw.items()]
    return Catalog(providers, models, data.get("defaults") or {})


@functools.lru_cache(maxsize=1)
def _bundled() -> Catalog:
    return catalog_from_data(load_yaml(DATA_DIR / "catalog.yaml"), "router/data/catalog.yaml")


def default_catalog() -> Catalog:
    """The bundled catalog (parsed once; callers get a private copy)."""
    bundled = _bundled()
    return Catalog(bundled.providers, bundled.models.values(), bundled.defaults)
