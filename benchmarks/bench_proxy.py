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

This file runs the benchmark; its parts live beside it: ``_proxy_upstream.py``
(the instant upstream), ``_proxy_load.py`` (the load generator: raw HTTP/1.1 over
keep-alive asyncio streams, so the client costs as little as possible),
``_proxy_servers.py`` (starting and measuring the servers) and
``_proxy_report.py`` (the tables and the Markdown file).
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import subprocess
import tempfile
import time
from pathlib import Path

from _proxy_load import Paced, load, paced_load
from _proxy_report import Rows, added_row, closed_row, render, tp_row
from _proxy_servers import (
    ROOT,
    compare_litellm,
    machine_busy,
    measured,
    own_cpu,
    rss_mb,
    soak,
    start_floor,
    start_proxy,
    start_upstream,
)


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
    rows = Rows()
    ours_rps: dict[int, float] = {}
    path = "/v1/chat/completions"

    # As installed: the router's bytecode exists before the first measured start.
    compileall.compile_dir(ROOT / "router", quiet=2)
    busy_before, ours_before, wall_before = machine_busy(), own_cpu(), time.perf_counter()
    upstream, upstream_port = start_upstream()
    auth = {"authorization": "Bearer unused"}
    rates = [float(x) for x in args.rates.split(",") if x]
    rows.rate_note = "fixed rates" if rates else ""

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
        out = []
        try:
            direct = asyncio.run(load(upstream_port, path, {}, 1, args.requests, args.seconds))
            m = measured(floor, load(port, path, {}, 1, args.requests, args.seconds))
            out.append(added_row("floor, 1 client, back to back", 1, direct, m.result, "-"))
            rows.tp.append(tp_row("floor", 1, m))
            c = max(levels)
            m = measured(floor, load(port, path, {}, c, args.requests, args.seconds))
            rows.tp.append(tp_row("floor", c, m))
            out += [paced(port, floor, 1, rate, {}, label="floor, ") for rate in rates]
        finally:
            floor.terminate()
            floor.wait(10)
        return out

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
                            rows.closed.append(closed_row(c, direct, proxied))
                            if c == 1:
                                rows.added.append(
                                    added_row("1 client, back to back", 1, direct, proxied, "-")
                                )
                        rows.tp.append(tp_row(workers, c, m))
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
                        rows.rate_note = (
                            " and ".join(f"{f:.0%}" for f in fractions)
                            + f" of the 1-worker saturation throughput at {max(levels)} clients"
                            f" measured in the same run ({saturation:,.0f} req/s)"
                        )
                    for rate in rates:
                        rows.added.append(paced(port, proc, workers, rate, auth))
                    rows.mem.append(
                        f"| {workers} | {startup:.2f} | {rss_before:.0f} | {rss_mb(proc.pid):.0f} |"
                    )
                    if workers == 2 and args.soak > 0:
                        rows.soak = soak(port, auth, args.soak, proc.pid)
                    if workers == 1 and (args.litellm or not args.no_floor):
                        # Stop ours first: nothing else may share the two cores.
                        proc.terminate()
                        proc.wait(10)
                    if workers == 1 and not args.no_floor:
                        rows.floor = run_floor(rates)
                    if workers == 1 and args.litellm:
                        rows.litellm = compare_litellm(
                            Path(args.litellm), upstream_port, Path(tmp), levels, args, ours_rps
                        )
                finally:
                    proc.terminate()
                    proc.wait(10)
    finally:
        upstream.terminate()
        upstream.wait(10)

    # Everything this run started has been waited for, so its CPU is in os.times().
    rows.others = max(0.0, machine_busy() - busy_before - (own_cpu() - ours_before))
    rows.others_share = rows.others / (time.perf_counter() - wall_before)
    report = render(rows, args)
    if args.out == "-":
        print(report)
    else:
        Path(args.out).write_text(report, encoding="utf-8")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
