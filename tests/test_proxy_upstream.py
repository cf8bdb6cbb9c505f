"""The proxy's upstream transport (aiohttp under httpx): failover, errors and shutdown.

Every other proxy test runs on this transport too; these pin down what is
specific to it, against the real local fake provider server.
"""

from __future__ import annotations

import asyncio
import gc
import socket
from typing import Any

import httpx
import pytest
from fake_providers import FakeProviders, Fault
from test_proxy_harness import (
    HI,
    PROVIDER_KEYS,
    PROXY_KEY,
    ProxyServer,
    chain,
    custom_proxy,
    make_router,
)

from router import Router
from router.proxy.upstream import client_factory


def post(server: ProxyServer, stream: bool = False) -> httpx.Response:
    return httpx.post(
        f"{server.url}/v1/chat/completions",
        json={"model": "auto", "messages": HI, "stream": stream},
        headers={"authorization": f"Bearer {PROXY_KEY}"},
        timeout=10,
    )


def clients(server: ProxyServer) -> list[Any]:
    return list(server.router._engine()._clients.values())


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    "fault", [Fault(status=503), Fault(delay=1.0), Fault(drop="before")], ids=str
)
def test_the_proxy_fails_over_through_the_aiohttp_transport(
    fake: FakeProviders, fault: Fault, stream: bool
) -> None:
    router = make_router(fake, timeout=0.3)
    with custom_proxy(fake, router) as server:
        first, second = chain(server)[:2]
        fake.fail(first, fault)
        response = post(server, stream)
        (live,) = clients(server)
        assert type(live._transport).__name__ == "ProxyTransport"
        session = live._pool.session
        assert session is not None and not session.closed
    assert response.status_code == 200
    assert response.headers["x-tierrouter-attempts"] == "2"
    assert response.headers["x-tierrouter-model"].endswith(f"/{second}")
    # The lifespan's shutdown closed the aiohttp session with the client.
    assert session.closed


def test_a_refused_connection_is_a_connection_error_and_fails_over(fake: FakeProviders) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    router = make_router(fake, base_urls={"openai": f"http://127.0.0.1:{closed_port}/v1"})
    with custom_proxy(fake, router) as server:
        response = httpx.post(
            f"{server.url}/v1/chat/completions",
            json={"model": "openai/gpt-5-mini", "messages": HI},
            headers={"authorization": f"Bearer {PROXY_KEY}"},
            timeout=10,
        )
    assert response.status_code == 502
    assert "connection failed" in response.json()["error"]["message"]


def test_a_transport_the_user_passed_is_kept(fake: FakeProviders) -> None:
    seen: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        async with httpx.AsyncClient() as real:
            return await real.send(request)

    router = Router(
        model=False,
        keys=PROVIDER_KEYS,
        providers={"openai": {"base_url": fake.url("openai")}},
        transport=httpx.MockTransport(handler),
        env={},
    )
    with custom_proxy(fake, router) as server:
        assert post(server).status_code == 200
    assert seen and seen[0].startswith(fake.url("openai"))


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("refused", httpx.ConnectError),
        ("drop", httpx.RemoteProtocolError),
        ("slow", httpx.ReadTimeout),
    ],
)
def test_aiohttp_errors_become_the_httpx_errors_that_say_what_happened(
    fake: FakeProviders, case: str, expected: type[Exception]
) -> None:
    factory = client_factory(4)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/v1/chat/completions"
    url = closed if case == "refused" else f"{fake.url('openai')}/chat/completions"
    if case == "drop":
        fake.fail("m", Fault(drop="before"))
    if case == "slow":
        fake.fail("m", Fault(delay=1.0))

    async def call() -> None:
        async with factory(0.3) as client:
            await client.post(url, json={"model": "m", "messages": HI})

    with pytest.raises(expected) as err:
        asyncio.run(call())
    # The exact subclass: a refusal or a hang-up must not read as a timeout.
    assert type(err.value) is expected


def test_a_served_process_freezes_its_start_up_objects_and_lightens_log_records(
    fake: FakeProviders,
) -> None:
    import logging

    from starlette.testclient import TestClient
    from test_proxy_harness import settings

    from router.proxy import create_app

    assert gc.get_freeze_count() == 0
    assert logging.logThreads
    threshold = gc.get_threshold()
    app = create_app(make_router(fake), settings(), own_process=True)
    try:
        with TestClient(app) as client:
            assert gc.get_freeze_count() > 0
            assert gc.get_threshold()[0] > 700  # fewer young collections per request
            assert not (logging.logThreads or logging.logProcesses or logging.logMultiprocessing)
            assert client.get("/health").status_code == 200
    finally:
        # The test process is not a server: give it its collector and records back.
        gc.unfreeze()
        gc.set_threshold(*threshold)
        logging.logThreads = logging.logProcesses = logging.logMultiprocessing = True


def test_a_direct_post_sends_what_httpx_would_send(fake: FakeProviders) -> None:
    """Non-streaming calls skip httpx's client layer; the provider must not see a difference."""
    url = f"{fake.url('openai')}/chat/completions"
    body = {"model": "m", "messages": [{"role": "user", "content": "grüß dich 🙂"}]}
    headers = {"authorization": "Bearer sk-test-direct", "x-extra": "1"}

    async def call(client: httpx.AsyncClient) -> httpx.Response:
        async with client:
            return await client.post(url, json=body, headers=headers)

    via_httpx = asyncio.run(call(httpx.AsyncClient(timeout=5)))
    direct = client_factory(4)(5.0)
    assert direct._pool is not None  # type: ignore[attr-defined]
    via_pool = asyncio.run(call(direct))
    first, second = fake.requests[-2:]
    assert second.body == first.body == body
    assert second.headers == first.headers
    assert via_pool.status_code == via_httpx.status_code == 200
    assert via_pool.json()["choices"][0]["message"] == via_httpx.json()["choices"][0]["message"]


def test_a_direct_post_decodes_a_compressed_reply_and_keeps_error_statuses() -> None:
    import gzip
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["content-length"]))
            status = 429 if self.path == "/busy" else 200
            payload = gzip.compress(json.dumps({"status": status, "text": "ünïcode"}).encode())
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-encoding", "gzip")
            self.send_header("retry-after", "3")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"

    async def call() -> list[httpx.Response]:
        async with client_factory(4)(5.0) as client:
            return [await client.post(f"{base}{p}", json={"x": 1}) for p in ("/ok", "/busy")]

    try:
        ok, busy = asyncio.run(call())
    finally:
        server.shutdown()
        server.server_close()
    assert ok.json() == {"status": 200, "text": "ünïcode"}
    assert busy.status_code == 429
    assert busy.headers["retry-after"] == "3"
    assert busy.json()["status"] == 429


def test_the_proxy_json_writer_is_compact_utf8_and_takes_what_json_takes() -> None:
    import json

    from router.proxy.json_bytes import dumps

    body = {"text": "grüß 🙂", "n": 1.5, "nested": [None, True, {"k": "v"}]}
    assert dumps(body) == json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    # orjson refuses these; JSON allows them, so they go through json instead.
    assert dumps({"seed": 2**70}) == b'{"seed":1180591620717411303424}'
    assert json.loads(dumps({1: "one"})) == {"1": "one"}
    with pytest.raises(TypeError):
        dumps({"x": object()})
