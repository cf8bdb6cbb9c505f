"""One side of ``bench_classify.py --baseline``: times ``Router().classify`` of one checkout.

Run as ``python _ab_worker.py CHECKOUT PROMPTS WARMUP``. It imports the ``router`` package of
CHECKOUT (first on the path), warms up, prints ``ready``, then for each ``pass SEED`` line on
stdin runs one shuffled pass over the prompts and prints one JSON line, bucket -> per-call
nanoseconds. The parent runs two of these (this checkout and the baseline's) and alternates
passes between them, so slow drifts in machine load hit both sides alike.
"""

from __future__ import annotations

import gc
import json
import random
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


def main() -> int:
    checkout, prompts, warmup = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    sys.path.insert(0, str(BENCH_DIR))
    from _benchlib import load_records

    sys.path.insert(0, str(checkout))
    from router import Router

    records = load_records(prompts)
    classify = Router().classify
    for _ in range(warmup):
        for r in records:
            classify(r.payload)
    print("ready", flush=True)
    clock = time.perf_counter_ns
    for line in sys.stdin:
        cmd, _, seed = line.strip().partition(" ")
        if cmd != "pass":
            break
        order = list(records)
        random.Random(int(seed)).shuffle(order)
        gc.collect()
        times: dict[str, list[int]] = {}
        for r in order:
            t0 = clock()
            classify(r.payload)
            times.setdefault(r.bucket, []).append(clock() - t0)
        print(json.dumps(times), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
