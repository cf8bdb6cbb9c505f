"""Bounded load run of ``tierrouter serve`` against an upstream that answers instantly.

Loopback only; the load generator, the proxy and the upstream share the machine's
cores, which is the setting the targets are stated for. Every load is measured once
straight to the upstream ("direct") and once through the proxy at the same load; the
difference of the latency percentiles is what the proxy adds. What each table means:

* **Added latency, 1 client**: one connection, one request at a time (closed loop):
  no queueing anywhere, so proxy minus direct is the proxy's own time per request.
* **Added latency, paced, 32 clients**: 32 connections whose requests start at
  random (Poisson) moments adding up to a fixed offered rate: by default 25 % and
  50 % of the 1-worker saturation throughput measured just before
  (``--load-fractions``), or fixed rates (``--rates``). The proxy is busy but not
  saturated, so this is what it adds to a request under concurrent load. Its event
  loop interleaves the requests in flight, so even below saturation a request
  shares the CPU with the others: the added latency grows with the offered load.
  A request whose scheduled start comes while its connection still waits on the
  previous reply starts when that reply is in; its latency counts from its real
  start, and the "late" column counts them.
* **Saturation throughput**: N connections sending back to back (closed loop): the
  most requests/s the proxy serves. Its latencies are mostly queueing (Little's law:
  N / throughput), not time the proxy adds; the old "added latency at 32 clients"
  numbers were these and are kept in the closed-loop table for comparison.
* **CPU ms/request**: user+system CPU of all proxy processes over the run divided
  by the requests served; it moves much less than requests/s when something else
  on the machine takes CPU. With 2 workers, "CPU split" shows how evenly the
  kernel spread the client connections over them.

* **Floor**: ``benchmarks/proxy_floor.py``, a bare pass-through (read, parse,
  forward on aiohttp, parse, answer) on the same uvicorn stack, measured under the
  same loads right after the 1-worker proxy. No Python proxy on this stack costs
  less on this machine; the gap between it and ours is what routing, auth, limits,
  metrics, the access log and the framework cost. ``--no-floor`` skips it.

Memory is the RSS of all proxy processes before and after the run.

    python benchmarks/bench_proxy.py                   # writes benchmarks/bench_proxy_results.md
    python benchmarks/bench_proxy.py --requests 500 --out -

The load generator speaks raw HTTP/1.1 over keep-alive asyncio streams so the
client costs as little as possible.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import importlib.util
import json
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PROMPT = {
    "model": "auto",
    "messages": [{"role": "user", "content": "What is the capital of France?"}],
}
REPLY = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 0,
        "model": "gpt-5-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Paris."},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 14, "completion_tokens": 2, "total_tokens": 16},
    }
).encode()


# ---- the instant upstream (runs in its own process) ----------------------------------------


class _Upstream(asyncio.Protocol):
    """Answers every request with the same completion, as fast as asyncio allows."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.buffer = b""
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buffer[:head_end].lower()
            length = 0
            for line in head.split(b"\r\n"):
                if line.startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            total = head_end + 4 + length
            if len(self.buffer) < total:
                return
            self.buffer = self.buffer[total:]
            self.transport.write(  # type: ignore[attr-defined]
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                + str(len(REPLY)).encode()
                + b"\r\n\r\n"
                + REPLY
            )


def run_upstream(port: int) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_Upstream, "127.0.0.1", port, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# ---- the load generator ---------------------------------------------------------------------


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


def compare_litellm(
    venv: Path,
    upstream: int,
    tmp: Path,
    levels: list[int],
    args: argparse.Namespace,
    ours: dict[int, float],
) -> list[str]:
    """LiteLLM's proxy (its own venv, never our dependency) on the same upstream and load."""
    port = free_port()
    key = "sk-bench-litellm-master-0123456789"
    config = tmp / "litellm.yaml"
    config.write_text(
        "model_list:\n  - model_name: auto\n    litellm_params:\n"
        "      model: openai/gpt-4o-mini\n"
        f"      api_base: http://127.0.0.1:{upstream}/v1\n"
        "      api_key: sk-bench-not-a-real-key\n"
        f"general_settings:\n  master_key: {key}\n",
        encoding="utf-8",
    )
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp),
        # No network here: use the cost map LiteLLM ships instead of fetching one.
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_TELEMETRY": "False",
    }
    command = [str(venv / "bin" / "litellm"), "--config", str(config), "--host", "127.0.0.1"]
    proc = subprocess.Popen(
        [*command, "--port", str(port), "--num_workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rows = []
    try:
        wait_port(port, timeout=120)
        auth = {"authorization": f"Bearer {key}"}
        for c in levels:
            direct = asyncio.run(
                load(upstream, "/v1/chat/completions", {}, c, args.requests, args.seconds)
            )
            theirs = asyncio.run(
                load(port, "/v1/chat/completions", auth, c, args.requests, args.seconds)
            )
            rows.append(
                f"| {c} | {theirs.pct(0.5):.2f} / {theirs.pct(0.99):.2f} "
                f"| {theirs.pct(0.5) - direct.pct(0.5):.2f} | {theirs.rps:,.0f} "
                f"| {ours.get(c, float('nan')):,.0f} "
                f"| {theirs.errors} |"
            )
            print(
                f"litellm c={c}: p50 {theirs.pct(0.5):.2f} ms, {theirs.rps:,.0f} req/s", flush=True
            )
    finally:
        proc.terminate()
        proc.wait(20)
    return rows


def soak(port: int, headers: dict[str, str], seconds: float, pid: int) -> list[str]:
    """Steady load in one-minute slices: errors, throughput, tail latency and memory per slice."""
    rows = []
    slices = max(1, round(seconds / 60))
    for minute in range(1, slices + 1):
        result = asyncio.run(
            load(port, "/v1/chat/completions", headers, 8, 10**9, seconds / slices)
        )
        rows.append(
            f"| {minute} | {len(result.latencies)} | {result.errors} | {result.rps:,.0f} "
            f"| {result.pct(0.99):.1f} | {rss_mb(pid):.0f} |"
        )
        print(f"soak {minute}/{slices}: {rows[-1]}", flush=True)
    return rows


# ---- processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 20.0) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return time.perf_counter() - started
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listening on {port}")


def _descendants(pid: int) -> list[int]:
    pids, out = [pid], []
    while pids:
        current = pids.pop()
        out.append(current)
        try:
            with open(f"/proc/{current}/task/{current}/children") as f:
                pids += [int(p) for p in f.read().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return out


def cpu_seconds(pid: int) -> dict[int, float]:
    """User+system CPU seconds of a process and each of its descendants (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    out = {}
    for current in _descendants(pid):
        try:
            with open(f"/proc/{current}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        out[current] = (int(fields[11]) + int(fields[12])) / ticks
    return out


def _machine_busy() -> float:
    """CPU-seconds all cores have spent busy since boot (Linux /proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    """CPU-seconds of this process and of the children it has waited for."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def rss_mb(pid: int) -> float:
    """RSS of a process and all its descendants, in MB (Linux /proc)."""
    total = 0
    for current in _descendants(pid):
        try:
            with open(f"/proc/{current}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total / 1024


def _child_env() -> dict[str, str]:
    """The servers' environment: no provider keys, and bytecode caching left on.

    An installed package has its bytecode compiled at install time; a checkout
    run under PYTHONDONTWRITEBYTECODE=1 would compile the router's modules again
    on every start (about 0.1 s here) and misstate the start-up time.
    """
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def start_proxy(
    upstream: int, workers: int, config_dir: Path, extra_path: str = "", root: Path = ROOT
) -> tuple[subprocess.Popen[bytes], int, float]:
    """``tierrouter serve`` of the checkout at ``root`` (this one unless an A/B says otherwise)."""
    port = free_port()
    config = config_dir / f"bench-{workers}.yaml"
    config.write_text(
        "keys:\n  openai: sk-bench-not-a-real-key\n"
        f"providers:\n  openai:\n    base_url: http://127.0.0.1:{upstream}/v1\n"
        "proxy:\n  max_concurrency: 1024\n",
        encoding="utf-8",
    )
    env = _child_env()
    # uvicorn picks httptools and uvloop by itself when they can be imported.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), extra_path) if p)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from router.cli import main; main()",
            "serve",
            "--config",
            str(config),
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        # ``python -c`` puts the working directory first on sys.path: run from root so
        # another checkout's router in the caller's directory cannot stand in for this one.
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # the access log still gets written, as in production
    )
    wait_port(port)
    return proc, port, time.perf_counter() - started


def start_floor(upstream: int, extra_path: str = "") -> tuple[subprocess.Popen[bytes], int]:
    """The bare pass-through of ``proxy_floor.py`` under uvicorn, as serve runs it."""
    port = free_port()
    env = _child_env()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "benchmarks"), extra_path) if p)
    env["FLOOR_UPSTREAM"] = f"http://127.0.0.1:{upstream}/v1/chat/completions"
    options = ["--no-access-log", "--no-server-header", "--log-level", "warning"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "proxy_floor:app", "--port", str(port), *options],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_port(port)
    return proc, port


# ---- the run --------------------------------------------------------------------------------


@dataclass
class Measured:
    """A proxied load with the proxy's CPU time over it."""

    result: Result
    cpu_ms: float  # per request served
    split: str  # CPU share of each worker, busiest first


def measured(proc: subprocess.Popen[bytes], run: Any) -> Measured:
    before = cpu_seconds(proc.pid)
    result = asyncio.run(run)
    after = cpu_seconds(proc.pid)
    spent = {pid: after[pid] - before.get(pid, 0.0) for pid in after}
    total = sum(spent.values())
    served = len(result.latencies) + result.errors
    # The worker processes; uvicorn's supervisor and helpers use next to nothing.
    workers = sorted(
        (v for pid, v in spent.items() if pid != proc.pid and v > 0.01 * total), reverse=True
    )
    split = " / ".join(f"{100 * v / total:.0f}" for v in workers) if len(workers) > 1 else "-"
    return Measured(result, 1000 * total / served if served else float("nan"), split)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per closed-loop run")
    parser.add_argument("--seconds", type=float, default=15.0, help="time cap per closed-loop run")
    parser.add_argument("--levels", default="1,8,32", help="closed-loop clients, 1 worker")
    parser.add_argument("--levels2", default="32,64", help="closed-loop clients, 2 workers")
    parser.add_argument("--paced-clients", type=int, default=32, help="paced connections")
    parser.add_argument("--paced-seconds", type=float, default=10.0, help="length of a paced run")
    parser.add_argument(
        "--load-fractions",
        default="0.25,0.5",
        help="paced rates as fractions of the 1-worker saturation throughput at the most clients",
    )
    parser.add_argument("--rates", default="", help="fixed paced rates (req/s) instead")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "bench_proxy_results.md"))
    parser.add_argument(
        "--extra-path",
        default="",
        help="a folder added to the proxy's PYTHONPATH, e.g. one holding httptools and uvloop",
    )
    parser.add_argument(
        "--soak",
        type=float,
        default=0.0,
        help="also run a soak of this many seconds (2 workers, 8 clients), sampling memory",
    )
    parser.add_argument(
        "--litellm",
        metavar="VENV",
        default="",
        help="a venv holding LiteLLM's proxy (e.g. the peers venv of benchmarks/peers/): "
        "run it against the same upstream and report it beside ours",
    )
    parser.add_argument(
        "--no-floor",
        action="store_true",
        help="skip the bare pass-through floor (benchmarks/proxy_floor.py)",
    )
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    levels2 = [int(x) for x in args.levels2.split(",") if x]
    soak_rows: list[str] = []
    litellm_rows: list[str] = []
    ours_rps: dict[int, float] = {}
    path = "/v1/chat/completions"

    # As installed: the router's bytecode exists before the first measured start.
    compileall.compile_dir(ROOT / "router", quiet=2)
    busy_before, ours_before, wall_before = _machine_busy(), _own_cpu(), time.perf_counter()
    upstream_port = free_port()
    upstream = subprocess.Popen([sys.executable, __file__, "--upstream", str(upstream_port)])
    wait_port(upstream_port)
    closed_rows: list[str] = []
    added_rows: list[str] = []
    tp_rows: list[str] = []
    mem_rows: list[str] = []
    floor_rows: list[str] = []
    auth = {"authorization": "Bearer unused"}
    rates = [float(x) for x in args.rates.split(",") if x]
    rate_note = "fixed rates" if rates else ""

    def added_row(label: str, workers: int, direct: Result, proxied: Result, late: str) -> str:
        offered = f"{proxied.offered:,.0f}" if isinstance(proxied, Paced) else "-"
        return (
            f"| {label} | {workers} | {offered} | {proxied.rps:,.0f} "
            f"| {direct.pct(0.5):.2f} / {direct.pct(0.99):.2f} "
            f"| {proxied.pct(0.5):.2f} / {proxied.pct(0.99):.2f} "
            f"| **{proxied.pct(0.5) - direct.pct(0.5):.2f}** "
            f"| **{proxied.pct(0.99) - direct.pct(0.99):.2f}** | {late} | {proxied.errors} |"
        )

    def tp_row(workers: int | str, clients: int, m: Measured) -> str:
        r = m.result
        return (
            f"| {workers} | {clients} | {len(r.latencies)} | {r.rps:,.0f} | {r.pct(0.5):.2f} "
            f"| {r.pct(0.99):.2f} | {m.cpu_ms:.2f} | {m.split} | {r.errors} |"
        )

    def paced(
        port: int,
        proc: subprocess.Popen[bytes],
        workers: int,
        rate: float,
        headers: dict[str, str],
        label: str = "",
    ) -> str:
        """The added-latency row of one paced load through the server on ``port``."""
        clients = args.paced_clients
        direct = asyncio.run(
            paced_load(upstream_port, path, {}, clients, rate, args.paced_seconds, seed=1)
        )
        run = paced_load(port, path, headers, clients, rate, args.paced_seconds, seed=1)
        proxied = measured(proc, run).result
        assert isinstance(proxied, Paced)
        late = f"{proxied.late} / {direct.late}"
        print(
            f"paced {label.rstrip(', ') or f'workers={workers}'} {rate:,.0f} req/s: added p50 "
            f"{proxied.pct(0.5) - direct.pct(0.5):.2f} "
            f"p99 {proxied.pct(0.99) - direct.pct(0.99):.2f} ms, "
            f"late {proxied.late}, errors {proxied.errors}",
            flush=True,
        )
        return added_row(f"{label}{clients} clients, paced", workers, direct, proxied, late)

    def run_floor(rates: list[float]) -> list[str]:
        floor, port = start_floor(upstream_port, args.extra_path)
        rows = []
        try:
            direct = asyncio.run(load(upstream_port, path, {}, 1, args.requests, args.seconds))
            m = measured(floor, load(port, path, {}, 1, args.requests, args.seconds))
            rows.append(added_row("floor, 1 client, back to back", 1, direct, m.result, "-"))
            tp_rows.append(tp_row("floor", 1, m))
            c = max(levels)
            m = measured(floor, load(port, path, {}, c, args.requests, args.seconds))
            tp_rows.append(tp_row("floor", c, m))
            rows += [paced(port, floor, 1, rate, {}, label="floor, ") for rate in rates]
        finally:
            floor.terminate()
            floor.wait(10)
        return rows

    try:
        with tempfile.TemporaryDirectory() as tmp:
            for workers in (1, 2):
                proc, port, startup = start_proxy(
                    upstream_port, workers, Path(tmp), args.extra_path
                )
                try:
                    rss_before = rss_mb(proc.pid)
                    for c in levels if workers == 1 else levels2:
                        direct = asyncio.run(
                            load(upstream_port, path, {}, c, args.requests, args.seconds)
                        )
                        m = measured(proc, load(port, path, auth, c, args.requests, args.seconds))
                        proxied = m.result
                        if workers == 1:
                            ours_rps[c] = proxied.rps
                            closed_rows.append(
                                f"| {c} | {direct.pct(0.5):.2f} / {direct.pct(0.99):.2f} "
                                f"| {proxied.pct(0.5):.2f} / {proxied.pct(0.99):.2f} "
                                f"| {proxied.pct(0.5) - direct.pct(0.5):.2f} "
                                f"| {proxied.pct(0.99) - direct.pct(0.99):.2f} "
                                f"| {direct.rps:,.0f} | {proxied.rps:,.0f} | {proxied.errors} |"
                            )
                            if c == 1:
                                added_rows.append(
                                    added_row("1 client, back to back", 1, direct, proxied, "-")
                                )
                        tp_rows.append(tp_row(workers, c, m))
                        print(
                            f"workers={workers} c={c}: direct p50 {direct.pct(0.5):.2f} ms, "
                            f"proxy p50 {proxied.pct(0.5):.2f} p99 {proxied.pct(0.99):.2f} ms, "
                            f"{proxied.rps:,.0f} req/s, {m.cpu_ms:.2f} CPU ms/req "
                            f"(split {m.split}), errors {proxied.errors}",
                            flush=True,
                        )
                    if not rates:
                        saturation = ours_rps[max(levels)]
                        fractions = [float(x) for x in args.load_fractions.split(",")]
                        rates = [f * saturation for f in fractions]
                        rate_note = (
                            " and ".join(f"{f:.0%}" for f in fractions)
                            + f" of the 1-worker saturation throughput at {max(levels)} clients"
                            f" measured in the same run ({saturation:,.0f} req/s)"
                        )
                    for rate in rates:
                        added_rows.append(paced(port, proc, workers, rate, auth))
                    mem_rows.append(
                        f"| {workers} | {startup:.2f} | {rss_before:.0f} | {rss_mb(proc.pid):.0f} |"
                    )
                    if workers == 2 and args.soak > 0:
                        soak_rows = soak(port, auth, args.soak, proc.pid)
                    if workers == 1 and (args.litellm or not args.no_floor):
                        # Stop ours first: nothing else may share the two cores.
                        proc.terminate()
                        proc.wait(10)
                    if workers == 1 and not args.no_floor:
                        floor_rows = run_floor(rates)
                    if workers == 1 and args.litellm:
                        litellm_rows = compare_litellm(
                            Path(args.litellm), upstream_port, Path(tmp), levels, args, ours_rps
                        )
                finally:
                    proc.terminate()
                    proc.wait(10)
    finally:
        upstream.terminate()
        upstream.wait(10)

    # Everything this run started has been waited for, so its CPU is in os.times().
    others = max(0.0, _machine_busy() - busy_before - (_own_cpu() - ours_before))
    others_share = others / (time.perf_counter() - wall_before)
    command = (
        f"python benchmarks/bench_proxy.py --requests {args.requests} --seconds {args.seconds:g}"
        + (f" --rates {args.rates}" if args.rates else "")
        + (f" --litellm {args.litellm}" if args.litellm else "")
        + (f" --soak {args.soak:g}" if args.soak else "")
        + (" --no-floor" if args.no_floor else "")
    )
    report = "\n".join(
        [
            "# Proxy load benchmark",
            "",
            f"`{command}` on {platform.machine()}, {os.cpu_count()} cores, Python"
            f" {platform.python_version()}; load generator, proxy and instant upstream all on"
            " this machine, loopback only.",
            "HTTP server stack: "
            + (
                "uvicorn with httptools + uvloop"
                if args.extra_path or importlib.util.find_spec("uvloop")
                else "uvicorn with h11 + asyncio"
            )
            + "; upstream client: "
            + (
                "aiohttp's pool (calls straight on it, streams through httpx-aiohttp)"
                if importlib.util.find_spec("httpx_aiohttp")
                else "httpx on httpcore's pool"
            )
            + ".",
            f"Other work on the machine during the run: {others:.0f} CPU-seconds, on average"
            f" {others_share:.0%} of one core (requests/s suffer most from it; CPU ms/request"
            " is the steadier comparison).",
            "Requests: `model=auto` chat completions (classify, plan, call, normalize) with the"
            " access log on. Latencies in ms. The module docstring of"
            " `benchmarks/bench_proxy.py` says how each number is measured.",
            "",
            "## Added latency: what the proxy adds to a request",
            "",
            "Direct and via the proxy under the same load; added = via proxy minus direct."
            f" Paced runs: {args.paced_clients} connections, Poisson arrivals at {rate_note},"
            f" {args.paced_seconds:g} s each; late = requests that started late because their"
            " connection still waited on the previous reply (proxy / direct).",
            "",
            "| load | workers | offered req/s | served req/s | direct p50 / p99 "
            "| via proxy p50 / p99 | added p50 | added p99 | late | errors |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            *added_rows,
            *floor_rows,
            "",
            *(
                [
                    "Floor rows: `benchmarks/proxy_floor.py`, a bare pass-through on the same"
                    " uvicorn stack (no routing, auth, limits, metrics or log), under the same"
                    " loads. No Python proxy on this stack adds less on this machine.",
                    "",
                ]
                if floor_rows
                else []
            ),
            "## Saturation throughput (closed loop: each client sends back to back)",
            "",
            "Latencies here are mostly queueing (clients / throughput). CPU ms/request: CPU"
            " of all proxy processes per request; CPU split: each worker's share.",
            "",
            "| workers | clients | requests | req/s | p50 | p99 | CPU ms/request | CPU split "
            "| errors |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            *tp_rows,
            "",
            "## Closed-loop latency at each concurrency (1 worker): queueing included",
            "",
            "The table earlier versions of this file called added latency: past one client it"
            " measures the queue in front of a saturated proxy, not the proxy's own time.",
            "",
            "| clients | direct p50 / p99 | via proxy p50 / p99 | difference p50 "
            "| difference p99 | direct req/s | proxy req/s | errors |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
            *closed_rows,
            "",
            "## Start-up and memory (RSS of all proxy processes, MB)",
            "",
            "| workers | start to listening (s) | RSS before | RSS after |",
            "|---:|---:|---:|---:|",
            *mem_rows,
            "",
            *(
                [
                    "## LiteLLM's proxy against the same upstream (1 worker)",
                    "",
                    "| clients | LiteLLM p50 / p99 | LiteLLM added p50 | LiteLLM req/s "
                    "| tierrouter req/s (same run) | errors |",
                    "|---:|---:|---:|---:|---:|---:|",
                    *litellm_rows,
                    "",
                ]
                if litellm_rows
                else []
            ),
            *(
                [
                    f"## Soak: {args.soak:g} s, 2 workers, 8 clients",
                    "",
                    "| minute | requests | errors | req/s | p99 ms | RSS MB |",
                    "|---:|---:|---:|---:|---:|---:|",
                    *soak_rows,
                    "",
                ]
                if soak_rows
                else []
            ),
        ]
    )
    if args.out == "-":
        print(report)
    else:
        Path(args.out).write_text(report, encoding="utf-8")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--upstream":
        run_upstream(int(sys.argv[2]))
    else:
        main()
