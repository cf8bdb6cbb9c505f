"""Hostile and careless input on the wire: each gets a clear 4xx before anything is spent.

Every test speaks to a real ``tierrouter serve`` stack (uvicorn with the proxy's
own HTTP protocol) over a loopback socket, and checks that the fake upstream
received nothing when the request was refused.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from fake_providers import FakeProviders
from test_proxy_harness import (
    ADMIN_KEY,
    HI,
    PROXY_KEY,
    ProxyServer,
    custom_proxy,
    make_router,
    proxy_fixture,
    proxy_session_fixture,
    running,
)

from router.proxy.settings import ProxySettings
from router.secrets import Secret

_ = (proxy_fixture, proxy_session_fixture)  # fixtures used by name
AUTH = {"authorization": f"Bearer {PROXY_KEY}"}
ANTHROPIC_VERSION = {"anthropic-version": "2023-06-01"}


def raw_exchange(server: ProxyServer, data: bytes, *, wait: float = 5.0) -> bytes:
    """Send raw bytes, read until the server closes (or ``wait`` passes)."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def status_and_body(response: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)


def post_raw(server: ProxyServer, path: str, content: bytes, **headers: str) -> httpx.Response:
    headers = {**AUTH, "content-type": "application/json", **headers}
    return httpx.post(f"{server.url}{path}", content=content, headers=headers, timeout=10)


# ---- the head: size, time, malformed HTTP -------------------------------------------------


def test_an_oversized_header_is_431_json_without_reading_it_all(
    fake: FakeProviders,
) -> None:
    with custom_proxy(fake, max_header_bytes=8192) as proxy:
        big = b"x" * (2 * 1024 * 1024)
        request = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Big: " + big + b"\r\n\r\n"
        status, body = status_and_body(raw_exchange(proxy, request))
        assert status == 431
        assert body["error"]["code"] == "header_too_large"  # type: ignore[index]
        # The server still serves the next client.
        ok = httpx.post(f"{proxy.url}/v1/chat/completions", json={"messages": HI}, headers=AUTH)
        assert ok.status_code == 200


def test_a_head_that_never_finishes_is_cut_off(fake: FakeProviders) -> None:
    with custom_proxy(fake, header_timeout=0.5) as proxy:
        host, port = proxy.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
            # Left open, the recv below would raise at our own 10 s socket timeout.
            data = sock.recv(65536)
            while data and not data.endswith(b"}"):
                more = sock.recv(65536)
                if not more:
                    break
                data += more
            assert sock.recv(1) == b""  # and the connection is closed
        status, body = status_and_body(data)
        assert status == 408
        assert body["error"]["type"] == "timeout_error"  # type: ignore[index]


def _read_answer(sock: socket.socket) -> bytes:
    """One JSON answer from a kept-alive connection (head and Content-Length body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def _chat_request() -> tuple[bytes, bytes]:
    """A chat request's head (without its last CRLF) and the rest."""
    body = json.dumps({"messages": HI}).encode()
    head = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + PROXY_KEY.encode()
        + b"\r\ncontent-type: application/json\r\ncontent-length: "
        + str(len(body)).encode()
        + b"\r\n"
    )
    return head, b"\r\n" + body


def test_each_head_on_a_kept_alive_connection_has_its_own_deadline(
    fake: FakeProviders,
) -> None:
    """The head timer is set once per connection and re-set lazily: a head that
    begins late still gets its full time, and one that never ends is still cut."""
    with custom_proxy(fake, header_timeout=1.0) as proxy:
        host, port = proxy.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            head, rest = _chat_request()
            sock.sendall(head + rest)
            assert status_and_body(_read_answer(sock))[0] == 200
            time.sleep(0.7)
            # Its head spans the first deadline (1 s after connecting), not its own.
            sock.sendall(head)
            time.sleep(0.5)
            sock.sendall(rest)
            assert status_and_body(_read_answer(sock))[0] == 200
            sock.sendall(head)  # and never the end of it
            status, body = status_and_body(_read_answer(sock))
            assert status == 408
            assert body["error"]["type"] == "timeout_error"  # type: ignore[index]


def test_an_idle_connection_is_closed(fake: FakeProviders) -> None:
    with custom_proxy(fake, header_timeout=0.3) as proxy:
        host, port = proxy.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            assert sock.recv(1) == b""  # closed by the server, nothing said


def test_a_body_that_trickles_is_408_in_the_wire_format(fake: FakeProviders) -> None:
    with custom_proxy(fake, body_timeout=0.5) as proxy:
        host, port = proxy.url.removeprefix("http://").split(":")
        head = (
            b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: "
            + PROXY_KEY.encode()
            + b"\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"
        )
        response = raw_exchange_partial(host, int(port), head)
        status, body = status_and_body(response)
        assert status == 408
        assert body["type"] == "error"  # Anthropic's shape on an Anthropic route
    assert fake.requests == []


def test_a_body_sent_after_its_head_is_read_under_the_timer(fake: FakeProviders) -> None:
    # The body is not complete when the handler starts, so the read waits for it
    # (under the body timer) instead of taking the head's packet as the whole request.
    body = json.dumps({"model": "auto", "messages": [{"role": "user", "content": "hi"}]})
    with custom_proxy(fake, body_timeout=10) as proxy:
        host, port = proxy.url.removeprefix("http://").split(":")
        head = (
            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            f"authorization: Bearer {PROXY_KEY}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        ).encode()
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(head + body[:5].encode())
            time.sleep(0.3)  # lets the handler start and wait for the rest
            sock.sendall(body[5:].encode())
            out = b""
            while chunk := sock.recv(65536):
                out += chunk
    status, answer = status_and_body(out)
    assert status == 200, answer
    assert answer["choices"]


def raw_exchange_partial(host: str, port: int, data: bytes) -> bytes:
    """Send ``data`` and stop there, then read the answer."""
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(data)
        out = b""
        while b"\r\n\r\n" not in out or not out.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            out += chunk
        return out


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}",
        b"GET / HTTP/1.1\r\nHost: x\r\n folded: header\r\n\r\n",
        b"\x00\x01\x02 nonsense\r\n\r\n",
    ],
    ids=["bad-content-length", "folded-header", "garbage"],
)
def test_malformed_http_is_a_json_400(proxy: ProxyServer, request_bytes: bytes) -> None:
    status, body = status_and_body(raw_exchange(proxy, request_bytes))
    assert status == 400
    error = body["error"]
    assert error["type"] == "invalid_request_error" and error["message"]  # type: ignore[index]


# ---- the body: nesting, encoding, size ------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/v1/chat/completions", "/v1/messages", "/v1/classify", "/v1/feedback"]
)
def test_deeply_nested_json_is_400_on_every_endpoint(proxy: ProxyServer, path: str) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    response = post_raw(proxy, path, deep)
    assert response.status_code == 400, response.text
    assert "nesting" in response.text


def test_nesting_inside_a_field_is_400_naming_the_limit(
    proxy: ProxyServer, fake: FakeProviders
) -> None:
    inner: object = "x"
    for _ in range(500):
        inner = {"a": inner}
    body = {"model": "auto", "messages": HI, "metadata": inner}
    response = post_raw(proxy, "/v1/chat/completions", json.dumps(body).encode())
    assert response.status_code == 400
    assert "128" in response.json()["error"]["message"]
    assert fake.requests == []


def test_admin_api_refuses_deep_json_with_400(proxy: ProxyServer) -> None:
    deep = b'{"name": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = httpx.post(
        f"{proxy.url}/v1/routing_rules",
        content=deep,
        headers={"authorization": f"Bearer {ADMIN_KEY}"},
    )
    assert response.status_code == 400


def test_a_utf16_body_is_refused(proxy: ProxyServer, fake: FakeProviders) -> None:
    body = json.dumps({"model": "auto", "messages": HI}).encode("utf-16")
    response = post_raw(proxy, "/v1/chat/completions", body)
    assert response.status_code == 400
    assert "UTF-8" in response.json()["error"]["message"]
    assert fake.requests == []


def test_too_many_messages_is_413(fake: FakeProviders) -> None:
    with custom_proxy(fake, max_messages=10) as proxy:
        body = {"model": "auto", "messages": HI * 11}
        response = httpx.post(f"{proxy.url}/v1/chat/completions", json=body, headers=AUTH)
        assert response.status_code == 413
        assert response.json()["error"]["param"] == "messages"
    assert fake.requests == []


# ---- fields --------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["gpt-4o\r\nX-Injected: 1", "a\x00b", "auto\n", "", "   "])
def test_a_malformed_model_string_is_400_before_any_call(
    proxy: ProxyServer, fake: FakeProviders, model: str
) -> None:
    body = {"model": model, "messages": HI}
    response = httpx.post(f"{proxy.url}/v1/chat/completions", json=body, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "model"
    assert fake.requests == []


def test_a_non_ascii_model_name_answers_without_a_500(
    proxy: ProxyServer, fake: FakeProviders
) -> None:
    body = {"model": "openai/模型", "messages": HI}
    response = httpx.post(f"{proxy.url}/v1/chat/completions", json=body, headers=AUTH)
    assert response.status_code == 200
    assert response.headers["x-tierrouter-model"].isascii()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_tokens", "lots"),
        ("max_tokens", True),
        ("temperature", "hot"),
        ("stream", "yes"),
        ("stop", [1, 2]),
        ("response_format", {"type": ["text"]}),
        ("tool_choice", 5),
        ("n", 0),
    ],
)
def test_openai_fields_of_the_wrong_type_are_400_naming_them(
    proxy: ProxyServer, fake: FakeProviders, field: str, value: object
) -> None:
    body = {"model": "auto", "messages": HI, field: value}
    response = httpx.post(f"{proxy.url}/v1/chat/completions", json=body, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == field
    assert fake.requests == []


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"max_tokens": "lots"}, "max_tokens"),
        ({"system": [1, {"x": 2}]}, "system[0]"),
        ({"system": [{"type": "text", "text": 5}]}, "system[0].text"),
        (
            {"messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]},
            "messages[0].content[0].text",
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "image", "source": 5}]}]},
            "messages[0].content[0].source",
        ),
        ({"stop_sequences": "END"}, "stop_sequences"),
    ],
)
def test_anthropic_fields_of_the_wrong_type_are_400_naming_them(
    proxy: ProxyServer, fake: FakeProviders, change: dict[str, object], param: str
) -> None:
    body = {"model": "auto", "max_tokens": 64, "messages": HI, **change}
    response = httpx.post(f"{proxy.url}/v1/messages", json=body, headers={"x-api-key": PROXY_KEY})
    assert response.status_code == 400, response.text
    payload = response.json()
    assert payload["type"] == "error"
    assert payload["error"]["message"].startswith(param)
    assert fake.requests == []


# ---- logs and metrics cannot be forged ---------------------------------------------------


def test_metrics_labels_carry_no_raw_control_characters(proxy: ProxyServer) -> None:
    body = {"model": "openai/gpt-4o-mini", "messages": HI}
    httpx.post(f"{proxy.url}/v1/chat/completions", json=body, headers=AUTH)
    text = httpx.get(f"{proxy.url}/metrics", headers={"x-api-key": ADMIN_KEY}).text
    assert "\r" not in text and "\x00" not in text


# ---- the admin surface -----------------------------------------------------------------------


@pytest.fixture
def keyed_without_admin(fake: FakeProviders) -> Iterator[ProxyServer]:
    settings = ProxySettings(proxy_keys=(Secret(PROXY_KEY),), log_format="off")
    yield from running(make_router(fake), settings)


def test_without_an_admin_key_no_admin_endpoint_takes_a_proxy_key(
    keyed_without_admin: ProxyServer,
) -> None:
    url = keyed_without_admin.url
    assert httpx.post(f"{url}/admin/reload-model", headers=AUTH).status_code == 401
    assert httpx.get(f"{url}/metrics", headers=AUTH).status_code == 401
    assert httpx.get(f"{url}/v1/routing_rules", headers=AUTH).status_code == 401
    message = httpx.get(f"{url}/metrics", headers=AUTH).json()["error"]["message"]
    assert "admin_key" in message


def test_insecure_does_not_open_the_admin_endpoints(fake: FakeProviders) -> None:
    # Configured for a public address with --insecure and no keys (the test
    # server itself still listens on loopback): the API is open, admin is not.
    settings = ProxySettings(host="0.0.0.0", insecure=True, log_format="off")
    for server in running(make_router(fake), settings):
        url = server.url
        assert httpx.post(f"{url}/v1/chat/completions", json={"messages": HI}).status_code == 200
        assert httpx.post(f"{url}/admin/reload-model").status_code == 401
        assert httpx.get(f"{url}/metrics").status_code == 401
        assert httpx.get(f"{url}/v1/firewall_rules").status_code == 401


def test_a_keyless_loopback_server_is_open_to_its_developer(fake: FakeProviders) -> None:
    settings = ProxySettings(log_format="off")
    for server in running(make_router(fake), settings):
        assert httpx.get(f"{server.url}/metrics").status_code == 200
        assert httpx.get(f"{server.url}/v1/routing_rules").status_code == 200


@pytest.mark.parametrize("field", ["prefer", "route_messages", "native_request"])
@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages", "/v1/responses"])
def test_the_routers_own_field_names_are_refused(proxy: ProxyServer, path: str, field: str) -> None:
    """Found by the 100k-case fuzz run: a client's "prefer" reached session affinity (500)."""
    body: dict[str, object] = {"model": "auto", "max_tokens": 8, field: "x"}
    body["input" if path == "/v1/responses" else "messages"] = HI
    reply = httpx.post(f"{proxy.url}{path}", json=body, headers={**AUTH, **ANTHROPIC_VERSION})
    assert reply.status_code == 400, reply.text
    assert field in reply.text and "reserved" in reply.text


def test_a_chat_body_sent_to_responses_is_a_400(proxy: ProxyServer) -> None:
    """Found by the fuzz run: "messages" beside "input" collided with the call's own argument."""
    body = {"model": "auto", "messages": [], "input": [{}]}
    reply = httpx.post(f"{proxy.url}/v1/responses", json=body, headers=AUTH)
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"]["param"] == "messages"
