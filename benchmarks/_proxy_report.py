"""The proxy benchmark's report: its table rows and the Markdown file they make.

What each number means is said in the docstring of ``benchmarks/bench_proxy.py``;
this module only formats what a run measured.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
from dataclasses import dataclass, field

from _proxy_load import Paced, Result
from _proxy_servers import Measured

__all__ = ["Rows", "added_row", "closed_row", "render", "tp_row"]


@dataclass
class Rows:
    """The rows of each table, filled as the run goes."""

    added: list[str] = field(default_factory=list)
    floor: list[str] = field(default_factory=list)
    tp: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    mem: list[str] = field(default_factory=list)
    litellm: list[str] = field(default_factory=list)
    soak: list[str] = field(default_factory=list)
    rate_note: str = ""
    # CPU-seconds other work on the machine took during the run, and its share of a core.
    others: float = 0.0
    others_share: float = 0.0


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


def closed_row(clients: int, direct: Result, proxied: Result) -> str:
    return (
        f"| {clients} | {direct.pct(0.5):.2f} / {direct.pct(0.99):.2f} "
        f"| {proxied.pct(0.5):.2f} / {proxied.pct(0.99):.2f} "
        f"| {proxied.pct(0.5) - direct.pct(0.5):.2f} "
        f"| {proxied.pct(0.99) - direct.pct(0.99):.2f} "
        f"| {direct.rps:,.0f} | {proxied.rps:,.0f} | {proxied.errors} |"
    )


def render(rows: Rows, args: argparse.Namespace) -> str:
    """The Markdown report of a run made with ``args``."""
    command = (
        f"python benchmarks/bench_proxy.py --requests {args.requests} --seconds {args.seconds:g}"
        + (f" --rates {args.rates}" if args.rates else "")
        + (f" --litellm {args.litellm}" if args.litellm else "")
        + (f" --soak {args.soak:g}" if args.soak else "")
        + (" --no-floor" if args.no_floor else "")
    )
    return "\n".join(
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
            f"Other work on the machine during the run: {rows.others:.0f} CPU-seconds, on average"
            f" {rows.others_share:.0%} of one core (requests/s suffer most from it; CPU ms/request"
            " is the steadier comparison).",
            "Requests: `model=auto` chat completions (classify, plan, call, normalize) with the"
            " access log on. Latencies in ms. The module docstring of"
            " `benchmarks/bench_proxy.py` says how each number is measured.",
            "",
            "## Added latency: what the proxy adds to a request",
            "",
            "Direct and via the proxy under the same load; added = via proxy minus direct."
            f" Paced runs: {args.paced_clients} connections, Poisson arrivals at {rows.rate_note},"
            f" {args.paced_seconds:g} s each; late = requests that started late because their"
            " connection still waited on the previous reply (proxy / direct).",
            "",
            "| load | workers | offered req/s | served req/s | direct p50 / p99 "
            "| via proxy p50 / p99 | added p50 | added p99 | late | errors |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            *rows.added,
            *rows.floor,
            "",
            *(
                [
                    "Floor rows: `benchmarks/proxy_floor.py`, a bare pass-through on the same"
                    " uvicorn stack (no routing, auth, limits, metrics or log), under the same"
                    " loads. No Python proxy on this stack adds less on this machine.",
                    "",
                ]
                if rows.floor
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
            *rows.tp,
            "",
            "## Closed-loop latency at each concurrency (1 worker): queueing included",
            "",
            "The table earlier versions of this file called added latency: past one client it"
            " measures the queue in front of a saturated proxy, not the proxy's own time.",
            "",
            "| clients | direct p50 / p99 | via proxy p50 / p99 | difference p50 "
            "| difference p99 | direct req/s | proxy req/s | errors |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
            *rows.closed,
            "",
            "## Start-up and memory (RSS of all proxy processes, MB)",
            "",
            "| workers | start to listening (s) | RSS before | RSS after |",
            "|---:|---:|---:|---:|",
            *rows.mem,
            "",
            *(
                [
                    "## LiteLLM's proxy against the same upstream (1 worker)",
                    "",
                    "| clients | LiteLLM p50 / p99 | LiteLLM added p50 | LiteLLM req/s "
                    "| tierrouter req/s (same run) | errors |",
                    "|---:|---:|---:|---:|---:|---:|",
                    *rows.litellm,
                    "",
                ]
                if rows.litellm
                else []
            ),
            *(
                [
                    f"## Soak: {args.soak:g} s, 2 workers, 8 clients",
                    "",
                    "| minute | requests | errors | req/s | p99 ms | RSS MB |",
                    "|---:|---:|---:|---:|---:|---:|",
                    *rows.soak,
                    "",
                ]
                if rows.soak
                else []
            ),
        ]
    )
