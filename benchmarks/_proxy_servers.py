"""Starting, watching and measuring the servers a proxy benchmark runs against.

``tierrouter serve`` of a checkout, the bare pass-through floor, LiteLLM's proxy;
ports, CPU seconds and RSS of a process tree (Linux /proc), and a load measured
together with the CPU the proxy spent on it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _proxy_load import Result, load

__all__ = [
    "ROOT",
    "Measured",
    "compare_litellm",
    "cpu_seconds",
    "free_port",
    "machine_busy",
    "measured",
    "own_cpu",
    "rss_mb",
    "soak",
    "start_floor",
    "start_proxy",
    "start_upstream",
    "wait_port",
]

ROOT = Path(__file__).resolve().parents[1]


def start_upstream() -> tuple[subprocess.Popen[bytes], int]:
    """The instant upstream (``_proxy_upstream.py``) in its own process, listening."""
    port = free_port()
    upstream = Path(__file__).with_name("_proxy_upstream.py")
    proc = subprocess.Popen([sys.executable, str(upstream), str(port)])
    wait_port(port)
    return proc, port


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


def machine_busy() -> float:
    """CPU-seconds all cores have spent busy since boot (Linux /proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
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


@dataclass
class Measured:
    """A proxied load with the proxy's CPU time over it."""

    result: Result
    cpu_ms: float  # per request served
    split: str  # CPU share of each worker, busiest first


def measured(proc: subprocess.Popen[bytes], run: Coroutine[Any, Any, Result]) -> Measured:
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
