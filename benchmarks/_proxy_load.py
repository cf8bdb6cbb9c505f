"""The proxy benchmarks' load generator: raw HTTP/1.1 over keep-alive asyncio streams.

Closed loop (:func:`load`: each connection sends back to back) and open loop
(:func:`paced_load`: Poisson arrivals at a fixed rate), both returning the
latencies of the requests that got a 200. It speaks raw HTTP so the client
costs as little as possible.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import time
from dataclasses import dataclass

__all__ = ["PROMPT", "Paced", "Result", "load", "paced_load"]

PROMPT = {
    "model": "auto",
    "messages": [{"role": "user", "content": "What is the capital of France?"}],
}


@dataclass
class Result:
    latencies: list[float]
    seconds: float
    errors: int

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(q * len(data)))] * 1000 if data else float("nan")


def _request(path: str, port: int, headers: dict[str, str]) -> bytes:
    body = json.dumps(PROMPT).encode()
    lines = [f"POST {path} HTTP/1.1", f"host: 127.0.0.1:{port}", "content-type: application/json"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"content-length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes, out: Result
) -> None:
    """One request on a keep-alive connection; its latency, or an error, goes to ``out``."""
    started = time.perf_counter()
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.lower().split(b"\r\n"):
        if line.startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    if status == 200:
        out.latencies.append(time.perf_counter() - started)
    else:
        out.errors += 1


async def _worker(
    port: int, request: bytes, budget: list[int], deadline: float, out: Result
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while budget[0] > 0 and time.perf_counter() < deadline:
            budget[0] -= 1
            await _exchange(reader, writer, request, out)
    finally:
        writer.close()


async def load(
    port: int, path: str, headers: dict[str, str], concurrency: int, requests: int, seconds: float
) -> Result:
    request = _request(path, port, headers)
    # Warm up connections, caches and the router's classifier first.
    warm = Result([], 0.0, 0)
    await asyncio.gather(
        *(_worker(port, request, [20], time.perf_counter() + 5, warm) for _ in range(concurrency))
    )
    out = Result([], 0.0, 0)
    budget = [requests]
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(_worker(port, request, budget, deadline, out) for _ in range(concurrency))
    )
    out.seconds = time.perf_counter() - started
    return out


@dataclass
class Paced(Result):
    late: int = 0
    offered: float = 0.0


async def _paced_worker(
    port: int, request: bytes, starts: list[float], ready: asyncio.Event, out: Paced
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    await ready.wait()
    try:
        for start in starts:
            now = time.perf_counter()
            if start > now:
                await asyncio.sleep(start - now)
            else:
                out.late += 1  # the previous reply on this connection came in after `start`
            await _exchange(reader, writer, request, out)
    finally:
        writer.close()


async def paced_load(
    port: int,
    path: str,
    headers: dict[str, str],
    concurrency: int,
    rate: float,
    seconds: float,
    seed: int = 0,
) -> Paced:
    """Open-loop load: Poisson arrivals at ``rate`` req/s in total, spread over the connections.

    The same seed gives the same schedule, so the direct and the proxied run see
    identical arrival times.
    """
    request = _request(path, port, headers)
    rng = random.Random(seed)
    out = Paced([], 0.0, 0, offered=rate)
    schedules: list[list[float]] = []
    for _ in range(concurrency):
        t, starts = 0.0, []
        while True:
            t += rng.expovariate(rate / concurrency)
            if t >= seconds:
                break
            starts.append(t)
        schedules.append(starts)
    ready = asyncio.Event()
    origin = time.perf_counter() + 1.0  # the connections are up by then
    tasks = [
        asyncio.create_task(_paced_worker(port, request, [origin + t for t in starts], ready, out))
        for starts in schedules
    ]
    await asyncio.sleep(max(0.0, origin - time.perf_counter()))
    ready.set()
    await asyncio.gather(*tasks)
    out.seconds = time.perf_counter() - origin
    return out
