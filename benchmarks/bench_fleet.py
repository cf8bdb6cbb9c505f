"""Fleet mode on this machine: one instance in-process (the default) against instances on
Redis + PostgreSQL, under the load client of ``bench_proxy.py`` (``_proxy_load.py``) and
its instant upstream (``_proxy_upstream.py``).

What each number is:

* **Added p50/p99, 1 client, interleaved A/B**: one connection, one request at a time,
  alternating rounds between the default instance (in-process state, no store, no
  decision log), the same with its SQLite decision log on (``log: true``), a
  fleet instance (``state: redis://``, ``store: postgresql://``: cooldowns mirrored
  from Redis, rules and the decision log in PostgreSQL, every request logged) and the
  upstream directly; added = proxy minus direct, from the pooled rounds. The target:
  the fleet instance within 0.3 ms of the default at p50.
* **Requests/s, 1 vs 3 fleet instances**: N connections back to back (closed loop),
  spread round-robin over the instances' ports (what a load balancer does), same N.
* **Log rows/s**: decision rows that reached PostgreSQL during the 3-instance run,
  counted after the writers drained, over the time until the last one landed; with
  the requests served, so a lost row would show.
* **Cooldown propagation**: one instance cools a model, another's local mirror has
  it (Redis pub/sub); median and p99 over trials, in-process, in ms.

Redis and PostgreSQL run as children of this script (tests/fleet_servers.py), small
and on loopback, sharing the machine's cores with everything else.

    python benchmarks/bench_fleet.py                 # prints a markdown report
    python benchmarks/bench_fleet.py --rounds 3 --seconds 3 --out benchmarks/bench_fleet_results.md
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
from _proxy_servers import _child_env, free_port, start_upstream, wait_port  # noqa: E402
from fleet_servers import PostgresServer, RedisServer, find_postgres_bin, find_redis  # noqa: E402

PATH = "/v1/chat/completions"


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
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved 1-client rounds")
    parser.add_argument("--requests", type=int, default=300, help="requests per round and arm")
    parser.add_argument("--seconds", type=float, default=5.0, help="each throughput run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--trials", type=int, default=50, help="cooldown propagation trials")
    parser.add_argument("--out", default="-")
    args = parser.parse_args()
    redis_bin, pg_bin = find_redis(), find_postgres_bin()
    if redis_bin is None or pg_bin is None:
        sys.exit("needs redis-server and PostgreSQL (apt-get install -y redis-server postgresql)")
    procs: list[subprocess.Popen[bytes]] = []
    redis = RedisServer(redis_bin).start()
    pg = PostgresServer(pg_bin).init().start()
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
        fleet_ports = []
        for i in range(3):
            proc, port = start_instance(upstream_port, tmp, f"fleet-{i}", fleet)
            procs.append(proc)
            fleet_ports.append(port)

        # 1 client, interleaved: direct, default, default with its log, fleet, in every round.
        ports = {"direct": upstream_port, "default": default_port, "logged": logged_port,
                 "fleet": fleet_ports[0]}  # fmt: skip
        arms: dict[str, list[float]] = {arm: [] for arm in ports}
        for _ in range(args.rounds):
            for arm, port in ports.items():
                r = asyncio.run(load(port, PATH, {}, 1, args.requests, 60))
                arms[arm] += r.latencies
        direct50, direct99 = pct(arms["direct"], 0.5), pct(arms["direct"], 0.99)
        added = {arm: (pct(arms[arm], 0.5) - direct50, pct(arms[arm], 0.99) - direct99)
                 for arm in ("default", "logged", "fleet")}  # fmt: skip

        # Throughput: the same connections on 1 and on 3 fleet instances.
        _, one = asyncio.run(load_spread(fleet_ports[:1], args.connections, args.seconds))
        before, _ = drained(pg_url, decisions(pg_url), time.perf_counter())
        started = time.perf_counter()
        warmed, three = asyncio.run(load_spread(fleet_ports, args.connections, args.seconds))
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

    d50, d99 = added["default"]
    l50, l99 = added["logged"]
    f50, f99 = added["fleet"]
    lines = [
        "# bench_fleet.py",
        "",
        f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{args.rounds} interleaved rounds x {args.requests} requests per arm; "
        f"{args.connections} connections for {args.seconds:g} s per throughput run.",
        "",
        "| 1 client | added p50 ms | added p99 ms |",
        "|---|---|---|",
        f"| default (in-process, no store, no log) | {d50:.3f} | {d99:.3f} |",
        f"| default with its SQLite log (`log: true`) | {l50:.3f} | {l99:.3f} |",
        f"| fleet (Redis + PostgreSQL, every request logged) | {f50:.3f} | {f99:.3f} |",
        f"| fleet − default | **{f50 - d50:+.3f}** (target ≤ +0.3) | {f99 - d99:+.3f} |",
        f"| fleet − default with its log | {f50 - l50:+.3f} | {f99 - l99:+.3f} |",
        "",
        "| throughput | requests/s | errors |",
        "|---|---|---|",
        f"| 1 fleet instance | {one.rps:.0f} | {one.errors} |",
        f"| 3 fleet instances | {three.rps:.0f} | {three.errors} |",
        f"| ratio 3 / 1 | **{three.rps / one.rps:.2f}** | |" if one.rps else "| ratio | n/a | |",
        "",
        f"Log rows written by the 3 instances: {rows} for {warmed + len(three.latencies)} "
        f"requests served (warm-up included), {rows_per_s:.0f} rows/s (until the last landed).",
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
