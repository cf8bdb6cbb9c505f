"""What routing adds to a model call: ``Router.chat`` against calling the same server with httpx.

Both sides talk to the same local fake provider (``tests/fake_providers.py``, a real
HTTP server on 127.0.0.1 speaking OpenAI's wire format), sequentially, one call at a
time, so the difference of the medians is the router's own cost per call: reading
the prompt, the decision, planning the chain, building the provider request,
parsing and normalising the response, cost accounting.

    python benchmarks/bench_calls.py [--calls 2000] [--json out.json]

Each line is measured in one run, interleaved call by call so that machine noise
hits them alike; the async lines are the headline, since the router is async
first and its sync API runs the same coroutine on a background loop:

* ``direct``: ``httpx.AsyncClient.post`` of the same body to the same URL (the baseline);
* ``pinned``: ``await Router.achat(model="oa/fast-1")``: no decision, the call path alone;
* ``auto``: ``await Router.achat(model="auto")``: decision and routing included;
* ``sync_*``: the same with ``httpx.Client`` and ``Router.chat``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

TARGET_ADDED_P50_US = 300.0
MESSAGES = [{"role": "user", "content": "Summarize the plot of Hamlet in two sentences, please."}]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _stats(samples_ns: list[int]) -> dict[str, float]:
    us = [s / 1000 for s in samples_ns]
    return {
        "p50_us": round(statistics.median(us), 1),
        "p99_us": round(_percentile(us, 0.99), 1),
        "mean_us": round(statistics.fmean(us), 1),
    }


def run(calls: int) -> dict[str, Any]:
    import asyncio

    import httpx
    from conftest_providers import KEYS, small_catalog
    from fake_providers import FakeProviders

    from router import Router

    samples: dict[str, list[int]] = {
        name: [] for name in ("direct", "pinned", "auto", "sync_direct", "sync_pinned", "sync_auto")
    }
    with FakeProviders() as fake:
        url = fake.url("openai") + "/chat/completions"
        body = {"model": "fast-1", "messages": MESSAGES}
        headers = {"Authorization": f"Bearer {KEYS['oa']}"}
        router = Router(
            model=False, catalog=small_catalog(fake), keys=dict(KEYS), env={}, strategy="cheapest"
        )

        async def async_side() -> None:
            async with httpx.AsyncClient(timeout=10) as client:
                for i in range(calls + 50):  # the first 50 warm connections and caches
                    t0 = time.perf_counter_ns()
                    (await client.post(url, json=body, headers=headers)).raise_for_status()
                    t1 = time.perf_counter_ns()
                    await router.achat(MESSAGES, model="oa/fast-1")
                    t2 = time.perf_counter_ns()
                    reply = await router.achat(MESSAGES, model="auto")
                    t3 = time.perf_counter_ns()
                    assert reply.model_used == "oa/fast-1", reply.model_used
                    if i >= 50:
                        samples["direct"].append(t1 - t0)
                        samples["pinned"].append(t2 - t1)
                        samples["auto"].append(t3 - t2)

        asyncio.run(async_side())
        with httpx.Client(timeout=10) as client:
            for i in range(calls + 50):
                t0 = time.perf_counter_ns()
                client.post(url, json=body, headers=headers).raise_for_status()
                t1 = time.perf_counter_ns()
                router.chat(MESSAGES, model="oa/fast-1")
                t2 = time.perf_counter_ns()
                router.chat(MESSAGES, model="auto")
                t3 = time.perf_counter_ns()
                if i >= 50:
                    samples["sync_direct"].append(t1 - t0)
                    samples["sync_pinned"].append(t2 - t1)
                    samples["sync_auto"].append(t3 - t2)
        router.close()
    result: dict[str, Any] = {name: _stats(s) for name, s in samples.items()}
    for prefix in ("", "sync_"):
        base = result[f"{prefix}direct"]["p50_us"]
        for name in ("pinned", "auto"):
            row = result[prefix + name]
            row["added_p50_us"] = round(row["p50_us"] - base, 1)
            row["ratio_p50"] = round(row["p50_us"] / base, 2)
    result["calls"] = calls
    result["target_added_p50_us"] = TARGET_ADDED_P50_US
    result["meets_target"] = result["auto"]["added_p50_us"] <= TARGET_ADDED_P50_US
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    result = run(args.calls)
    print(f"{'':12} {'p50 µs':>9} {'p99 µs':>9} {'added p50':>10} {'÷ direct':>9}")
    for name in ("direct", "pinned", "auto", "sync_direct", "sync_pinned", "sync_auto"):
        row = result[name]
        added = f"{row['added_p50_us']:+.1f}" if "added_p50_us" in row else "—"
        ratio = f"{row['ratio_p50']:.2f}" if "ratio_p50" in row else "1.00"
        print(f"{name:12} {row['p50_us']:9.1f} {row['p99_us']:9.1f} {added:>10} {ratio:>9}")
    verdict = "PASS" if result["meets_target"] else "FAIL"
    print(
        f"added p50 with routing: {result['auto']['added_p50_us']:.1f} µs "
        f"(target ≤ {TARGET_ADDED_P50_US:.0f} µs): {verdict}"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
