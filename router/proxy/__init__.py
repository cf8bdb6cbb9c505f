"""The HTTP proxy: OpenAI- and Anthropic-compatible endpoints in front of ``Router``.

Needs the ``proxy`` extra (Starlette and uvicorn). Nothing here is imported by
``import router``; ``tierrouter serve`` and :func:`router.proxy.app.create_app`
load it on demand.
"""

from __future__ import annotations

__all__ = ["ProxySettings", "create_app"]

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from router.proxy.app import create_app
    from router.proxy.settings import ProxySettings


def __getattr__(name: str) -> Any:
    # Settings import no web framework; only the app factory pulls in Starlette.
    if name == "ProxySettings":
        from router.proxy.settings import ProxySettings

        return ProxySettings
    if name == "create_app":
        from router.proxy.app import create_app

        return create_app
    raise AttributeError(f"module 'router.proxy' has no attribute {name!r}")
