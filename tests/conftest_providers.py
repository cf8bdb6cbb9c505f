"""Pytest fixtures for the local fake provider server (loaded via ``pytest_plugins``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fake_providers import FakeProviders

from router import Router
from router.calls.fallback import FallbackPolicy
from router.routing.catalog import Catalog, ModelSpec, ProviderSpec

# Test keys: long enough that a leak would be unmistakable in any message.
KEYS = {
    "oa": "sk-test-OPENAI-0123456789abcdef",
    "an": "sk-ant-test-ANTHROPIC-0123456789",
    "gg": "AIzaTEST-GEMINI-0123456789abcdef",
}


@pytest.fixture(scope="session")
def _fake_server() -> Iterator[FakeProviders]:
    with FakeProviders() as server:
        yield server


@pytest.fixture
def fake(_fake_server: FakeProviders) -> Iterator[FakeProviders]:
    """The shared server, with faults, replies and recorded requests reset per test."""
    _fake_server.reset()
    yield _fake_server
    _fake_server.reset()


def small_catalog(fake: FakeProviders) -> Catalog:
    """Three providers (one per API style) on the fake server; cheapest first: oa, an, gg."""
    providers = {
        "oa": ProviderSpec("oa", "openai", fake.url("openai"), "OA_KEY", enabled=True),
        "an": ProviderSpec("an", "anthropic", fake.url("anthropic"), "AN_KEY", enabled=True),
        "gg": ProviderSpec("gg", "gemini", fake.url("gemini"), "GG_KEY", enabled=True),
    }

    def model(mid: str, price: float, caps: frozenset[str]) -> ModelSpec:
        provider, name = mid.split("/")
        return ModelSpec(
            id=mid,
            provider=provider,
            api_model=name,
            input_price=price,
            output_price=price * 4,
            context_window=100_000,
            capabilities=caps,
            tier_quality=(0.9, 0.9, 0.9, 0.9),
        )

    caps = frozenset({"tools", "vision", "json"})
    models = [
        model("oa/fast-1", 0.1, caps),
        model("an/claude-x", 1.0, caps),
        model("gg/gem-x", 2.0, caps),
    ]
    return Catalog(providers, models, {"baseline_model": "gg/gem-x", "output_tokens": {}})


@pytest.fixture
def make_router(fake: FakeProviders) -> Iterator[Callable[..., Router]]:
    """Build routers on the small catalog with fast fallback settings; closed after the test."""
    made: list[Router] = []

    def build(**kwargs: Any) -> Router:
        options: dict[str, Any] = {
            "catalog": small_catalog(fake),
            "keys": dict(KEYS),
            "env": {},
            "strategy": "cheapest",
            "timeout": 0.5,
            "fallback": FallbackPolicy(
                same_model_retries=1, max_retry_after=0.5, cooldown_seconds=30
            ),
        }
        options.update(kwargs)
        router = Router(model=False, **options)
        made.append(router)
        return router

    yield build
    for router in made:
        router.close()
