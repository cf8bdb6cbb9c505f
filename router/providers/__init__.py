"""Provider adapters, one per API style, looked up by the catalog's ``api`` field."""

from __future__ import annotations

from router.errors import ConfigError
from router.providers.anthropic import AnthropicAdapter
from router.providers.base import ChatRequest, Endpoint, ProviderAdapter, ProviderError
from router.providers.gemini import GeminiAdapter
from router.providers.openai_compat import OpenAIAdapter

__all__ = [
    "ADAPTERS",
    "AnthropicAdapter",
    "ChatRequest",
    "Endpoint",
    "GeminiAdapter",
    "OpenAIAdapter",
    "ProviderAdapter",
    "ProviderError",
    "get_adapter",
]

ADAPTERS: dict[str, ProviderAdapter] = {
    adapter.api: adapter for adapter in (OpenAIAdapter(), AnthropicAdapter(), GeminiAdapter())
}


def get_adapter(api: str) -> ProviderAdapter:
    try:
        return ADAPTERS[api]
    except KeyError:
        raise ConfigError(f"unknown API style {api!r}; known: {sorted(ADAPTERS)}") from None
