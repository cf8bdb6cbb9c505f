"""Replay known attacks against ``tierrouter serve`` and watch a normal client beside them.

Loopback only, bounded in count and time. For each attack the script prints what
the server answered, the latency of a concurrent normal request (``POST
/v1/classify``, median and max over the attack) and the server's peak RSS
against its idle RSS. Targets (issue 18): the normal request's median under
100 ms, and peak RSS under 1.5 x idle.

    python benchmarks/bench_abuse.py            # ~1 minute
    python benchmarks/bench_abuse.py --json out.json

The server runs with a firewall regex rule (``(.*a){20}``, the slow-pattern
attack's target) and a provider pointed at a closed port, so nothing can leave
the machine; every attack here is refused before any upstream call.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
KEY = "bench-abuse-key"
AUTH = {"authorization": f"Bearer {KEY}", "content-type": "application/json"}
NORMAL = json.dumps({"messages": [{"role": "user", "content": "What is a mutex?"}]}).encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    closed = free_port()  # nothing listens there: no request can leave
    config = workdir / "abuse.yaml"
    config.write_text(
        f"providers:\n  openai: {{base_url: 'http://127.0.0.1:{closed}/v1'}}\n"
        "firewall_rules:\n"
        "  - {name: a-run, type: regex, pattern: '(.*a){20}', scope: prompt}\n"
        f"proxy:\n  proxy_keys: ['{KEY}']\n  log_format: 'off'\n",
        encoding="utf-8",
    )
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENAI_API_KEY": "sk-bench-not-a-key"}
    process = subprocess.Popen(
        [sys.executable, "-c", "from router.cli import main; main()", "serve",
         "--config", str(config), "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("tierrouter serve did not start")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Watch:
    """A normal client and an RSS sampler running while an attack does."""

    def __init__(self, url: str, pid: int) -> None:
        self.url, self.pid = url, pid
        self.latencies: list[float] = []
        self.failures = 0
        self.peak = rss_mb(pid)
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._probe), threading.Thread(target=self._rss)]

    def __enter__(self) -> Watch:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(30)

    def _probe(self) -> None:
        with httpx.Client(timeout=30) as http:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    ok = http.post(f"{self.url}/v1/classify", content=NORMAL, headers=AUTH)
                    if ok.status_code != 200:
                        self.failures += 1
                except httpx.HTTPError:
                    self.failures += 1
                self.latencies.append((time.perf_counter() - started) * 1000)
                time.sleep(0.02)

    def _rss(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.02)


def raw(url: str, data: bytes, timeout: float = 30) -> str:
    """Send raw bytes; the status line of the answer, or what happened instead."""
    host, port = url.removeprefix("http://").split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as sock:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                sock.sendall(data)
            reply = sock.recv(65536)
    except OSError as exc:
        return f"{type(exc).__name__}"
    return reply.split(b"\r\n", 1)[0].decode("latin-1") or "closed without an answer"


def post(url: str, path: str, body: bytes, **headers: str) -> str:
    try:
        r = httpx.post(f"{url}{path}", content=body, headers={**AUTH, **headers}, timeout=60)
    except httpx.HTTPError as exc:
        return type(exc).__name__
    return f"{r.status_code} {r.text[:70]!s}"


def big_header(url: str) -> str:
    head = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Big: "
    return raw(url, head + b"x" * (16 * 2**20) + b"\r\n\r\n")


def big_headers_parallel(url: str) -> str:
    out: list[str] = []
    head = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Big: "
    payload = head + b"x" * (30 * 2**20) + b"\r\n\r\n"
    threads = [threading.Thread(target=lambda: out.append(raw(url, payload))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return " | ".join(sorted(set(out)))


def slow_connections(url: str, count: int = 300, seconds: float = 20) -> str:
    """Connections that send a byte a second, and as many that send nothing."""
    host, port = url.removeprefix("http://").split(":")
    socks: list[socket.socket] = []
    for i in range(count):
        try:
            s = socket.create_connection((host, int(port)), timeout=5)
        except OSError:
            break
        if i % 2 == 0:
            s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\n")
        socks.append(s)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for s in socks[::2]:
            with contextlib.suppress(OSError):
                s.sendall(b"X")
        time.sleep(1)
    closed = 0
    for s in socks:
        s.settimeout(0.2)
        try:
            s.recv(1)  # b"" (closed) or the start of a 408 before the close
            closed += 1
        except TimeoutError:
            pass  # still open: the server is holding it
        except OSError:
            closed += 1
        s.close()
    return f"{closed} of {len(socks)} slow or idle connections closed within {seconds:.0f}s"


def chat(url: str, body: Any, path: str = "/v1/chat/completions") -> str:
    return post(url, path, json.dumps(body).encode())


def user(content: Any) -> list[dict[str, Any]]:
    return [{"role": "user", "content": content}]


def nested_metadata(url: str) -> str:
    deep = '{"a":' * 5000 + "1" + "}" * 5000
    return post(url, "/v1/chat/completions", ('{"messages":[],"metadata":' + deep + "}").encode())


def utf16_body(url: str) -> str:
    return post(url, "/v1/chat/completions", json.dumps({"messages": user("hi")}).encode("utf-16"))


def huge_body(url: str) -> str:
    return post(url, "/v1/chat/completions", b'{"messages": "' + b"x" * (32 * 2**20) + b'"}')


BAD_LENGTH = b"POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}"
ATTACKS: list[tuple[str, Callable[[str], str]]] = [
    ("16 MB header", big_header),
    ("4 x 30 MB headers in parallel", big_headers_parallel),
    ("JSON nested 100,000 deep",
     lambda u: post(u, "/v1/chat/completions", b"[" * 100_000 + b"]" * 100_000)),
    ("nesting inside metadata", nested_metadata),
    ("model with CR/LF", lambda u: chat(u, {"model": "gpt-4o\r\nX: 1", "messages": user("hi")})),
    ("unhashable part type",
     lambda u: chat(u, {"messages": user([{"type": ["text"], "text": "x"}])})),
    ("anthropic max_tokens 'lots'",
     lambda u: chat(u, {"model": "auto", "max_tokens": "lots", "messages": user("hi")},
                    "/v1/messages")),
    ("UTF-16 body", utf16_body),
    ("(.*a){20} firewall on a 2M-character prompt",
     lambda u: chat(u, {"messages": user("ab" * 1_000_000)})),
    ("32 MB body", huge_body),
    ("malformed Content-Length", lambda u: raw(u, BAD_LENGTH)),
    ("300 slow/idle connections", slow_connections),
]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="write every number here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        process, url = start_server(Path(tmp))
        try:
            for _ in range(20):  # warm: the model and catalog load on first use
                httpx.post(f"{url}/v1/classify", content=NORMAL, headers=AUTH, timeout=30)
            idle = rss_mb(process.pid)
            rows: list[dict[str, Any]] = []
            print(f"idle RSS {idle:.0f} MB; targets: normal median < 100 ms, RSS < 1.5x idle")
            for name, attack in ATTACKS:
                with Watch(url, process.pid) as watch:
                    time.sleep(0.3)
                    answer = attack(url)
                    time.sleep(0.3)
                lat = watch.latencies or [float("nan")]
                row = {
                    "attack": name,
                    "answer": answer,
                    "normal_median_ms": statistics.median(lat),
                    "normal_max_ms": max(lat),
                    "normal_failures": watch.failures,
                    "peak_rss_mb": watch.peak,
                    "rss_ratio": watch.peak / idle,
                }
                row["ok"] = row["normal_median_ms"] < 100 and row["rss_ratio"] < 1.5
                rows.append(row)
                print(
                    f"{'ok  ' if row['ok'] else 'FAIL'} {name:<44} -> {answer[:60]:<60} "
                    f"normal p50 {row['normal_median_ms']:6.1f} ms "
                    f"max {row['normal_max_ms']:7.1f} ms "
                    f"fails {watch.failures}  RSS x{row['rss_ratio']:.2f}",
                    flush=True,
                )
        finally:
            process.kill()
            process.wait(10)
    if args.json:
        args.json.write_text(json.dumps({"idle_rss_mb": idle, "attacks": rows}, indent=2))


if __name__ == "__main__":
    main()
