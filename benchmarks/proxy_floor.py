"""The floor under ``bench_proxy.py``: a bare pass-through on the proxy's own stack.

uvicorn (httptools + uvloop when installed, as for ``tierrouter serve``) runs this
raw ASGI app: read the body, parse it, forward the messages to the upstream on an
aiohttp session, parse the reply and send it back. No framework, no routing
decision, no auth, limits, metrics or access log. Whatever a Python proxy on this
stack does, it costs at least this much on the machine the benchmark runs on.

    FLOOR_UPSTREAM=http://127.0.0.1:PORT/v1/chat/completions \
        python -m uvicorn proxy_floor:app --port 8001
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import aiohttp

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

UPSTREAM = os.environ.get("FLOOR_UPSTREAM", "")
_session: list[aiohttp.ClientSession] = []


async def app(scope: Message, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if _session:
                    await _session[0].close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    request = json.loads(body)
    if not _session:
        _session.append(aiohttp.ClientSession())
    forward = json.dumps({"model": "gpt-5-mini", "messages": request["messages"]}).encode()
    headers = {"content-type": "application/json", "authorization": "Bearer not-a-real-key"}
    async with _session[0].post(UPSTREAM, data=forward, headers=headers) as reply:
        answer = json.loads(await reply.read())
    payload = json.dumps(answer).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
