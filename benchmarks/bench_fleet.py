"""Fleet mode on this machine: one instance in-process (the default) against instances on
Redis + PostgreSQL, under the load client of ``bench_proxy.py`` (``_proxy_load.py``) and
its instant upstream (``_proxy_upstream.py``).

What each number is:

* **Added p50/p99, 1 client, interleaved A/B**: one connection, one request at a time,
  alternating rounds between the default instance (in-process state, no store, no
  decision log), the same with its SQLite decision log on (``log: true``), a fleet
  instance with ``log: false`` (shared state and rules, no log: what sharing costs), a
  fleet instance (``state: redis://``, ``store: postgresql://``: cooldowns mirrored
  from Redis, rules and the decision log in PostgreSQL, every request logged) and the
  upstream directly, the order rotating each round; added = proxy minus direct, from
  the pooled rounds, and as the median over rounds of each round's p50 difference
  (steadier when a neighbour's burst hits some rounds). The target: the fleet
  instance within 0.3 ms of the default at p50.
* **Requests/s, 1 vs 3 fleet instances**: N connections back to back (closed loop),
  spread round-robin over the instances' ports (what a load balancer does), same N;
  1- and 3-instance runs alternate, the ratio is of their medians. The instances' CPU
  ms per request moves less than requests/s when a neighbour takes the cores; "machine
  busy" is the share of all cores busy (anyone's work) during the run: near 100 %, the
  machine, not the instance count, bounds requests/s.
* **Log rows/s**: decision rows that reached PostgreSQL during the throughput runs,
  counted after the writers drained, over the time until the last one landed; with
  the requests served, so a lost row would show.
* **Cooldown propagation**: one instance cools a model, another's local mirror has
  it (Redis pub/sub); median and p99 over trials, in-process, in ms.

Redis and PostgreSQL run as children of this script (tests/fleet_servers.py), small
and on loopback, sharing the machine's cores with everything else.

    python benchmarks/bench_fleet.py                 # prints a markdown report
    python benchmarks/bench_fleet.py --rounds 10 --pg-fsync --out fleet.md   # fsync on, to a file

benchmarks/bench_fleet_results.md holds the last runs, with what they mean.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT / "tests")]

from _proxy_load import Result, _request, _worker, load  # noqa: E402
from _proxy_servers import (  # noqa: E402
    _child_env,
    cpu_seconds,
    free_port,
    machine_busy,
    start_upstream,
    wait_port,
)
from fleet_servers import PostgresServer, RedisServer, find_postgres_bin, find_redis  # noqa: E402

PATH = "/v1/chat/completions"
CORES = os.cpu_count() or 1


def start_instance(
    upstream: int, config_dir: Path, name: str, extra: str = ""
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    config = config_dir / f"{name}.yaml"
    config.write_text(
        "keys:\n  openai: sk-bench-not-a-real-key\n"
        f"providers:\n  openai:\n    base_url: http://127.0.0.1:{upstream}/v1\n"
        "proxy:\n  max_concurrency: 1024\n  log_format: 'off'\n" + extra,
        encoding="utf-8",
    )
    env = _child_env()
    env["PYTHONPATH"] = str(ROOT)
    env["TIERROUTER_DATA_DIR"] = str(config_dir / f"data-{name}")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from router.cli import main; main()", "serve",
         "--config", str(config), "--port", str(port), "--log-level", "warning"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_port(port, 60)
    return proc, port


async def load_spread(ports: list[int], connections: int, seconds: float) -> tuple[int, Result]:
    """``connections`` closed-loop connections, round-robin over ``ports``, after a warm-up.

    Returns the warm-up requests served (they are logged too) and the measured run.
    """
    warm = Result([], 0.0, 0)
    await asyncio.gather(*(
        _worker(p, _request(PATH, p, {}), [30], time.perf_counter() + 5, warm) for p in ports
    ))  # fmt: skip
    out = Result([], 0.0, 0)
    budget = [10**9]
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(
        _worker(ports[i % len(ports)], _request(PATH, ports[i % len(ports)], {}), budget,
                deadline, out)
        for i in range(connections)
    ))  # fmt: skip
    out.seconds = time.perf_counter() - started
    return len(warm.latencies), out


def pct(values: list[float], q: float) -> float:
    data = sorted(values)
    return data[min(len(data) - 1, int(q * len(data)))] * 1000


def decisions(pg_url: str) -> int:
    import psycopg

    with psycopg.connect(pg_url) as conn:
        row = conn.execute("SELECT count(*) FROM decisions").fetchone()
    return int(row[0]) if row else 0


def drained(pg_url: str, last: int, landed_at: float) -> tuple[int, float]:
    """The row count once no new row has landed for 2 s, and when the last one did."""
    while time.perf_counter() - landed_at < 2:
        time.sleep(0.2)
        now = decisions(pg_url)
        if now != last:
            last, landed_at = now, time.perf_counter()
    return last, landed_at


def cooldown_propagation(redis_url: str, trials: int) -> list[float]:
    from router.state.cooldowns import RedisCooldownStore
    from router.state.link import RedisLink

    a, b = RedisCooldownStore(RedisLink(redis_url)), RedisCooldownStore(RedisLink(redis_url))
    for store in (a, b):
        store.subscribed.wait(5)
    out = []
    for i in range(trials):
        model = f"bench/model-{i}"
        started = time.perf_counter()
        a.cool(model, 30)
        while b.remaining(model) <= 0:
            if time.perf_counter() - started > 1:
                break
            time.sleep(0.0001)
        out.append(time.perf_counter() - started)
    for store in (a, b):
        store.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="interleaved 1-client rounds")
    parser.add_argument("--requests", type=int, default=100, help="requests per round and arm")
    parser.add_argument("--seconds", type=float, default=3.0, help="each throughput run")
    parser.add_argument("--tp-rounds", type=int, default=3,
                        help="alternating 1- and 3-instance throughput runs")  # fmt: skip
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--trials", type=int, default=50, help="cooldown propagation trials")
    parser.add_argument(
        "--pg-fsync",
        action="store_true",
        help="PostgreSQL with fsync on (its default; the tests run it off)",
    )
    parser.add_argument("--out", default="-")
    args = parser.parse_args()
    redis_bin, pg_bin = find_redis(), find_postgres_bin()
    if redis_bin is None or pg_bin is None:
        sys.exit("needs redis-server and PostgreSQL (apt-get install -y redis-server postgresql)")
    load_at_start = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    procs: list[subprocess.Popen[bytes]] = []
    redis = RedisServer(redis_bin).start()
    pg = PostgresServer(pg_bin, fsync=args.pg_fsync).init().start()
    try:
        pg_url = pg.database()
        fleet = f"store: {pg_url}\nstate: {redis.url}\n"
        upstream, upstream_port = start_upstream()
        procs.append(upstream)
        tmp = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
        default_proc, default_port = start_instance(upstream_port, tmp, "default")
        procs.append(default_proc)
        logged_proc, logged_port = start_instance(upstream_port, tmp, "logged", "log: true\n")
        procs.append(logged_proc)
        unlogged_proc, unlogged_port = start_instance(upstream_port, tmp, "unlogged",
                                                      fleet + "log: false\n")  # fmt: skip
        procs.append(unlogged_proc)
        fleet_ports = []
        for i in range(3):
            proc, port = start_instance(upstream_port, tmp, f"fleet-{i}", fleet)
            procs.append(proc)
            fleet_ports.append(port)

        # 1 client, interleaved: every arm in every round, the order rotating from round
        # to round so that no arm always runs right after another.
        ports = {"direct": upstream_port, "default": default_port, "logged": logged_port,
                 "unlogged": unlogged_port, "fleet": fleet_ports[0]}  # fmt: skip
        arms: dict[str, list[float]] = {arm: [] for arm in ports}
        round_p50: dict[str, list[float]] = {arm: [] for arm in ports}
        order = list(ports)
        for i in range(args.rounds):
            for arm in order[i % len(order) :] + order[: i % len(order)]:
                r = asyncio.run(load(ports[arm], PATH, {}, 1, args.requests, 60))
                arms[arm] += r.latencies
                round_p50[arm].append(pct(r.latencies, 0.5))
        direct50, direct99 = pct(arms["direct"], 0.5), pct(arms["direct"], 0.99)
        # (pooled p50, median over rounds of the round's p50 minus direct's, pooled p99)
        added = {
            arm: (
                pct(arms[arm], 0.5) - direct50,
                statistics.median(a - d for a, d in zip(round_p50[arm], round_p50["direct"],
                                                        strict=True)),
                pct(arms[arm], 0.99) - direct99,
            )
            for arm in ("default", "logged", "unlogged", "fleet")
        }  # fmt: skip

        # Throughput: the same connections on 1 and on 3 fleet instances, alternating
        # (the machine is shared: a neighbour's burst then hits both sides alike).
        fleet_pids = [proc.pid for proc in procs[-3:]]
        # (requests/s, errors, the instances' CPU ms per request, machine busy share)
        tp: dict[int, list[tuple[float, int, float, float]]] = {1: [], 3: []}
        before, _ = drained(pg_url, decisions(pg_url), time.perf_counter())
        served = 0
        started = time.perf_counter()
        for _ in range(args.tp_rounds):
            for n in (1, 3):
                cpu = sum(sum(cpu_seconds(pid).values()) for pid in fleet_pids[:n])
                busy, wall = machine_busy(), time.perf_counter()
                warmed, run = asyncio.run(
                    load_spread(fleet_ports[:n], args.connections, args.seconds)
                )
                cpu = sum(sum(cpu_seconds(pid).values()) for pid in fleet_pids[:n]) - cpu
                busy = (machine_busy() - busy) / ((time.perf_counter() - wall) * CORES)
                served += warmed + len(run.latencies)
                per_request = cpu * 1000 / max(1, warmed + len(run.latencies))
                tp[n].append((run.rps, run.errors, per_request, busy))
        last, landed_at = drained(pg_url, before, time.perf_counter())
        rows = last - before
        rows_per_s = rows / (landed_at - started)
        propagation = cooldown_propagation(redis.url, args.trials)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        redis.close()
        pg.close()

    rps = {n: statistics.median(t[0] for t in tp[n]) for n in (1, 3)}
    d50, dr, d99 = added["default"]
    l50, lr, l99 = added["logged"]
    u50, ur, u99 = added["unlogged"]
    f50, fr, f99 = added["fleet"]
    lines = [
        "# bench_fleet.py",
        "",
        f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{args.rounds} interleaved rounds x {args.requests} requests per arm; "
        f"{args.connections} connections for {args.seconds:g} s per throughput run. "
        f"Load average at the start: {load_at_start}. PostgreSQL fsync "
        f"{'on (its default)' if args.pg_fsync else 'off (as in the tests)'}; the SQLite log "
        "commits at SQLite's default synchronous=FULL (an fsync per batch).",
        "",
        "| 1 client | added p50 ms, pooled | added p50 ms, median of rounds | added p99 ms |",
        "|---|---|---|---|",
        f"| default (in-process, no store, no log) | {d50:.3f} | {dr:.3f} | {d99:.3f} |",
        f"| default with its SQLite log (`log: true`) | {l50:.3f} | {lr:.3f} | {l99:.3f} |",
        f"| fleet without the decision log (`log: false`) | {u50:.3f} | {ur:.3f} | {u99:.3f} |",
        f"| fleet (Redis + PostgreSQL, every request logged) | {f50:.3f} | {fr:.3f} | {f99:.3f} |",
        f"| fleet − default | **{f50 - d50:+.3f}** (target ≤ +0.3) | **{fr - dr:+.3f}** | "
        f"{f99 - d99:+.3f} |",
        f"| fleet without the log − default | {u50 - d50:+.3f} | {ur - dr:+.3f} | "
        f"{u99 - d99:+.3f} |",
        f"| fleet − default with its log | {f50 - l50:+.3f} | {fr - lr:+.3f} | {f99 - l99:+.3f} |",
        "",
        f"| throughput ({args.tp_rounds} alternating runs each) | requests/s, median "
        "| each run | errors | instances' CPU ms/request | machine busy |",
        "|---|---|---|---|---|---|",
        *(
            f"| {n} fleet instance{'s' if n > 1 else ''} | {rps[n]:.0f} | "
            f"{', '.join(f'{t[0]:.0f}' for t in tp[n])} | {sum(t[1] for t in tp[n])} | "
            f"{statistics.median(t[2] for t in tp[n]):.2f} | "
            f"{statistics.median(t[3] for t in tp[n]):.0%} |"
            for n in (1, 3)
        ),
        f"| ratio 3 / 1 | **{rps[3] / rps[1]:.2f}** | "
        f"{', '.join(f'{b[0] / a[0]:.2f}' for a, b in zip(tp[1], tp[3], strict=True))} | | | |",
        "",
        f"Log rows written during the throughput runs: {rows} for {served} requests served "
        f"(warm-ups included), {rows_per_s:.0f} rows/s (until the last landed).",
        "",
        f"Cooldown propagation (pub/sub, {args.trials} trials): median "
        f"{statistics.median(propagation) * 1000:.2f} ms, p99 {pct(propagation, 0.99):.2f} ms, "
        f"max {max(propagation) * 1000:.2f} ms (promise: 100 ms).",
    ]
    report = "\n".join(lines) + "\n"
    if args.out == "-":
        print(report)
    else:
        Path(args.out).write_text(report, encoding="utf-8")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
