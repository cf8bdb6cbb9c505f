"""Time one peer router's decision call on the benchmark prompts; print JSON stats.

Runs INSIDE the peers' venv (see setup_peers.sh), never in tierrouter's:

    /tmp/tierrouter-peers-venv/bin/python benchmarks/peers/run_peer.py --peer smart-llm-router

Each peer gets the text of the last user turn of every prompt, the way a proxy would hand it
over. Network access is cut off in this process before the peer is imported: a decision that
needs the network (or an API key) fails loudly and is reported as such, never faked.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import json
import random
import socket
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _benchlib import (  # the path is set above
    PROMPTS_PATH,
    Record,
    build_big_prompt,
    import_time_ms,
    load_records,
    scrubbed_env,
    summarize,
)

Decide = Callable[[str], Any]
Label = Callable[[Any], str]


class NetworkBlockedError(RuntimeError):
    """Raised when a peer tries to open a network connection during a decision."""


def _block_network() -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise NetworkBlockedError("network access attempted during a routing decision")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse  # type: ignore[method-assign]
    socket.create_connection = refuse
    socket.getaddrinfo = refuse


# --- the peers -------------------------------------------------------------------------------


def _smart_llm_router() -> tuple[Decide, Label, str, str]:
    from smart_llm_router.router import DEFAULT_ROUTING_CONFIG, route
    from smart_llm_router.router.types import RouterOptions

    options = RouterOptions(config=DEFAULT_ROUTING_CONFIG)

    def decide(text: str) -> Any:
        # route() = the 14-dimension rule scorer + tier -> model selection. No I/O.
        return route(text, None, 4096, options)

    def label(d: Any) -> str:
        return f"{d.tier} (conf {d.confidence:.2f}) -> {d.model}"

    call = "smart_llm_router.router.route(text, None, 4096, RouterOptions(DEFAULT_ROUTING_CONFIG))"
    return decide, label, call, "smart_llm_router"


def _byok_router() -> tuple[Decide, Label, str, str]:
    from tokenrouter import TokenRouter

    router = TokenRouter()  # no keys: classify() is its L1 (regex) path, sync, no I/O

    def decide(text: str) -> Any:
        return router.classify([{"role": "user", "content": text}])

    def label(d: Any) -> str:
        return f"{d.task_type}/{d.complexity} (conf {d.confidence:.2f}) -> {d.selected_model.id}"

    call = "tokenrouter.TokenRouter().classify([{'role': 'user', 'content': text}])"
    return decide, label, call, "tokenrouter"


PEERS: dict[str, tuple[str, Callable[[], tuple[Decide, Label, str, str]]]] = {
    "smart-llm-router": ("smart-llm-router", _smart_llm_router),
    "byok-router": ("byok-router", _byok_router),
}


def _tier_of(peer: str, decision: Any) -> str:
    if peer == "smart-llm-router":
        return str(decision.tier)
    return f"{decision.task_type}/{decision.complexity}"


def run(args: argparse.Namespace) -> dict[str, Any]:
    dist, factory = PEERS[args.peer]
    out: dict[str, Any] = {"peer": args.peer, "python": sys.version.split()[0]}
    try:
        out["version"] = importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        out.update(available=False, error=f"{dist} is not installed in {sys.prefix}")
        return out

    records = load_records(Path(args.prompts))
    _block_network()
    try:
        decide, label, call, module = factory()
        out["call"] = call
        for r in records[:5]:
            decide(r.last_user)  # fails here if the peer needs keys or network
    except Exception as exc:
        out.update(
            available=False,
            error=f"{type(exc).__name__}: {exc}",
            traceback=traceback.format_exc(limit=5),
        )
        return out
    out["available"] = True

    # Warm-up, then timed passes in a fixed shuffled order per pass.
    for _ in range(args.warmup):
        for r in records:
            decide(r.last_user)
    rng = random.Random(args.seed)
    order = list(records)
    by_bucket: dict[str, list[int]] = {}
    samples: list[int] = []
    clock = time.perf_counter_ns
    for _ in range(args.repeat):
        rng.shuffle(order)
        gc.collect()
        for r in order:
            text = r.last_user
            t0 = clock()
            decide(text)
            dt = clock() - t0
            samples.append(dt)
            by_bucket.setdefault(r.bucket, []).append(dt)
    out["overall"] = summarize(samples)
    out["buckets"] = {b: summarize(v) for b, v in by_bucket.items()}

    # What it decided on each prompt: evidence for the comparison, not timed.
    decisions = {r.id: decide(r.last_user) for r in records}
    out["decisions"] = {rid: label(d) for rid, d in decisions.items()}
    out["tier_counts"] = dict(Counter(_tier_of(args.peer, d) for d in decisions.values()))
    out["probes"] = {text: label(decide(text)) for text in args.probe}

    out["big"] = _big_prompt(decide, label, records, args)
    out["import"] = import_time_ms(f"import {module}", runs=args.import_runs, env=scrubbed_env())
    return out


def _big_prompt(
    decide: Decide, label: Label, records: list[Record], args: argparse.Namespace
) -> dict[str, Any]:
    big = build_big_prompt(records, int(args.big_mb * 1024 * 1024))
    times: list[int] = []
    deadline = time.monotonic() + args.big_budget_s
    last: Any = None
    for _ in range(args.big_runs):
        t0 = time.perf_counter_ns()
        last = decide(big)
        times.append(time.perf_counter_ns() - t0)
        if time.monotonic() > deadline:
            break
    times.sort()
    return {
        "chars": len(big),
        "runs": len(times),
        "median_ms": times[len(times) // 2] / 1e6,
        "min_ms": times[0] / 1e6,
        "decision": label(last),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--peer", choices=sorted(PEERS), required=True)
    p.add_argument("--prompts", default=str(PROMPTS_PATH))
    p.add_argument("--repeat", type=int, default=30, help="timed passes over the prompt set")
    p.add_argument("--warmup", type=int, default=2, help="untimed passes first")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--big-mb", type=float, default=10.0, help="size of the big prompt (MiB)")
    p.add_argument("--big-runs", type=int, default=5)
    p.add_argument("--big-budget-s", type=float, default=8.0, help="stop big runs past this")
    p.add_argument(
        "--probe", action="append", default=[], help="also report the decision on this text"
    )
    p.add_argument("--import-runs", type=int, default=10)
    args = p.parse_args(argv)
    result = run(args)
    json.dump(result, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
