"""Shared pieces of the proxy tests: a real uvicorn server on a loopback port.

The router behind it calls the local fake provider server (tests/fake_providers.py),
so every request crosses two real HTTP hops, as in production.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fake_providers import FakeProviders

from router import Router
from router.proxy import ProxySettings, create_app
from router.proxy.server import server_options
from router.secrets import Secret

PROXY_KEY = "tr-test-proxy-key"
ADMIN_KEY = "tr-test-admin-key"
PROVIDER_KEYS = {
    "openai": "sk-test-openai-0123456789abcdef",
    "anthropic": "sk-ant-test-0123456789abcdef",
    "google": "AIza-test-0123456789abcdef",
}
HI = [{"role": "user", "content": "hi"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


class ResettableCooldowns:
    """A cooldown store the tests can empty, so one test's failures never reorder the next."""

    def __init__(self) -> None:
        self.until: dict[str, float] = {}

    def remaining(self, model_id: str) -> float:
        return max(0.0, self.until.get(model_id, 0.0) - time.monotonic())

    def cool(self, model_id: str, seconds: float) -> None:
        self.until[model_id] = max(self.until.get(model_id, 0.0), time.monotonic() + seconds)

    def clear(self, model_id: str) -> None:
        self.until.pop(model_id, None)


def make_router(
    fake: FakeProviders,
    cooldowns: Any = None,
    timeout: float = 5.0,
    base_urls: dict[str, str] | None = None,
) -> Router:
    """``base_urls`` points providers elsewhere (provider -> URL), e.g. at a closed port."""
    urls = {
        "openai": fake.url("openai"),
        "anthropic": fake.url("anthropic"),
        "google": fake.url("gemini"),
        **(base_urls or {}),
    }
    return Router(
        model=False,
        keys=PROVIDER_KEYS,
        providers={provider: {"base_url": url} for provider, url in urls.items()},
        cooldown_store=cooldowns or ResettableCooldowns(),
        timeout=timeout,
        env={},  # only the keys above: the machine's environment must not leak in
    )


def settings(**changes: Any) -> ProxySettings:
    base = ProxySettings(
        proxy_keys=(Secret(PROXY_KEY),),
        admin_key=Secret(ADMIN_KEY),
        upstream_timeout=5.0,
        log_format="off",
    )
    return base.replace(**changes)


class ProxyServer:
    """The proxy app under uvicorn in a background thread, on a free loopback port."""

    def __init__(self, router: Router, proxy_settings: ProxySettings) -> None:
        self.router = router
        self.app = create_app(router, proxy_settings)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        # The options tierrouter serve runs with; logging stays pytest's to capture.
        options = server_options(proxy_settings)
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on", ws="none", **options)
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    @property
    def ctx(self) -> Any:
        return self.app.state.proxy

    def start(self) -> ProxyServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the proxy did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(10)
        self._sock.close()


def running(router: Router, proxy_settings: ProxySettings) -> Iterator[ProxyServer]:
    server = ProxyServer(router, proxy_settings).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session", name="_proxy_session")
def proxy_session_fixture(_fake_server: FakeProviders) -> Iterator[ProxyServer]:
    yield from running(make_router(_fake_server), settings(max_concurrency=16))


@pytest.fixture(name="proxy")
def proxy_fixture(_proxy_session: ProxyServer, fake: FakeProviders) -> ProxyServer:
    """The shared proxy with a clean fake upstream and no cooldowns left from other tests."""
    _proxy_session.router.cooldowns.until.clear()  # type: ignore[attr-defined]
    return _proxy_session


def chain(server: ProxyServer, messages: Any = HI, **params: Any) -> list[str]:
    """The provider model names the router will try for this request, in order."""
    plan = server.router.route(messages, **params)
    return [m.api_model for m in plan.chain]


@contextlib.contextmanager
def custom_proxy(
    fake: FakeProviders, router: Router | None = None, **changes: Any
) -> Iterator[ProxyServer]:
    """A dedicated proxy with its own settings (limits, timeouts) for one test."""
    yield from running(router or make_router(fake), settings(**changes))
