"""Interleaved A/B of the proxy's cost: this checkout against another git revision.

On a shared or virtual machine the speed drifts by tens of percent within an hour,
so two ``bench_proxy.py`` runs taken apart cannot tell a 10 % change from the
drift. This alternates the two versions in the same minutes, round after round,
against one instant upstream, and compares the medians:

* **CPU ms/request** at ``--clients`` closed-loop clients (1 worker): the proxy's
  own cost, the steadiest number here;
* **added p50** at 1 client: what one request waits for the proxy.

    python benchmarks/bench_proxy_ab.py --baseline f558627            # 4 rounds, ~3 min
    python benchmarks/bench_proxy_ab.py --baseline main --rounds 6 --clients 32

The baseline is checked out into a temporary git worktree, removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _proxy_load import load
from _proxy_servers import ROOT, measured, start_proxy, start_upstream

PATH = "/v1/chat/completions"
AUTH = {"authorization": "Bearer unused"}


def measure(
    root: Path, upstream: int, tmp: Path, clients: int, seconds: float
) -> tuple[float, ...]:
    """(CPU ms/request at ``clients``, req/s there, added p50 ms at 1 client) for one start."""
    proc, port, _ = start_proxy(upstream, 1, tmp, root=root)
    try:
        asyncio.run(load(port, PATH, AUTH, clients, 2000, seconds))  # warm up
        busy = measured(proc, load(port, PATH, AUTH, clients, 10**9, seconds))
        direct = asyncio.run(load(upstream, PATH, {}, 1, 3000, seconds))
        one = measured(proc, load(port, PATH, AUTH, 1, 3000, seconds))
    finally:
        proc.terminate()
        proc.wait(10)
    added = one.result.pct(0.5) - direct.pct(0.5)
    return busy.cpu_ms, busy.result.rps, added


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", required=True, help="git revision to compare against")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--clients", type=int, default=8, help="closed-loop clients for CPU")
    parser.add_argument("--seconds", type=float, default=6.0, help="length of each load")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        baseline = tmp / "baseline"
        git = ["git", "-C", str(ROOT), "worktree"]
        subprocess.run([*git, "add", "--detach", str(baseline), args.baseline], check=True)
        upstream, upstream_port = start_upstream()
        try:
            sides = {"baseline": baseline, "this checkout": ROOT}
            for root in sides.values():
                compileall.compile_dir(root / "router", quiet=2)  # as installed
            results: dict[str, list[tuple[float, ...]]] = {name: [] for name in sides}
            for round_ in range(1, args.rounds + 1):
                # Alternate which side goes first, so neither always gets the warmer machine.
                order = list(sides.items()) if round_ % 2 else list(reversed(sides.items()))
                for name, root in order:
                    cpu, rps, added = measure(root, upstream_port, tmp, args.clients, args.seconds)
                    results[name].append((cpu, rps, added))
                    print(
                        f"round {round_} {name:>13}: CPU {cpu:.3f} ms/request, {rps:,.0f} req/s "
                        f"at {args.clients} clients; added p50 {added:.3f} ms at 1 client",
                        flush=True,
                    )
        finally:
            upstream.terminate()
            upstream.wait(10)
            subprocess.run([*git, "remove", "--force", str(baseline)], check=False)

    def med(name: str, i: int) -> float:
        return statistics.median(r[i] for r in results[name])

    print(f"\nmedians over {args.rounds} rounds (baseline = {args.baseline}):")
    print("| | CPU ms/request | req/s | added p50 ms, 1 client |")
    print("|---|---:|---:|---:|")
    for name in sides:
        print(f"| {name} | {med(name, 0):.3f} | {med(name, 1):,.0f} | {med(name, 2):.3f} |")
    ratio = [med("this checkout", i) / med("baseline", i) for i in range(3)]
    print(f"| ratio | {ratio[0]:.2f} | {ratio[1]:.2f} | {ratio[2]:.2f} |")


if __name__ == "__main__":
    main()
