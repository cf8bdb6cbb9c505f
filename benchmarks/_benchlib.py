"""Shared helpers for the decision-latency benchmarks.

Standard library only: ``peers/run_peer.py`` imports this module inside the peers' own venv,
where tierrouter is not installed.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "BUCKETS",
    "PROMPTS_PATH",
    "Record",
    "bucket_of",
    "build_big_prompt",
    "import_time_ms",
    "load_records",
    "percentile",
    "scrubbed_env",
    "summarize",
    "timer_overhead_ns",
]

BENCH_DIR = Path(__file__).resolve().parent
PROMPTS_PATH = BENCH_DIR / "prompts.jsonl"

# (label, inclusive upper bound in characters). A record falls in the first bucket that holds it.
BUCKETS: tuple[tuple[str, int], ...] = (("≤120", 120), ("≤600", 600), ("≤2048", 2048))


@dataclass(frozen=True, slots=True)
class Record:
    """One line of prompts.jsonl, with the views each benchmark needs precomputed."""

    id: str
    lang: str
    kind: str
    payload: str | list[dict[str, Any]]  # what Router().classify receives
    text: str  # every message's content joined: what the baseline operation reads
    last_user: str  # the last user turn: what the peers receive
    chars: int  # total characters of content: decides the length bucket

    @property
    def bucket(self) -> str:
        return bucket_of(self.chars)


def bucket_of(chars: int) -> str:
    for label, bound in BUCKETS:
        if chars <= bound:
            return label
    return f">{BUCKETS[-1][1]}"


def load_records(path: Path = PROMPTS_PATH) -> list[Record]:
    """Read prompts.jsonl: one ``{"prompt": str}`` or ``{"messages": [...]}`` object per line."""
    records: list[Record] = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            raw = json.loads(line)
            rid = str(raw.get("id", f"line{n}"))
            if "prompt" in raw:
                prompt = str(raw["prompt"])
                payload: str | list[dict[str, Any]] = prompt
                contents = [prompt]
                last_user = prompt
            elif "messages" in raw:
                messages = list(raw["messages"])
                payload = messages
                contents = [str(m.get("content", "")) for m in messages]
                users = [str(m["content"]) for m in messages if m.get("role") == "user"]
                if not users:
                    raise ValueError(f"{path}:{n}: messages hold no user turn")
                last_user = users[-1]
            else:
                raise ValueError(f"{path}:{n}: expected a 'prompt' or 'messages' key")
            chars = sum(len(c) for c in contents)
            records.append(
                Record(
                    id=rid,
                    lang=str(raw.get("lang", "?")),
                    kind=str(raw.get("kind", "?")),
                    payload=payload,
                    text="\n".join(contents),
                    last_user=last_user,
                    chars=chars,
                )
            )
    return records


def build_big_prompt(records: Sequence[Record], size: int) -> str:
    """A deterministic prompt of exactly ``size`` characters made of the prompt set's texts."""
    parts: list[str] = []
    total = 0
    i = 0
    while total < size:
        chunk = records[i % len(records)].text + "\n\n"
        parts.append(chunk)
        total += len(chunk)
        i += 1
    return "".join(parts)[:size]


def percentile(sorted_values: Sequence[int], pct: float) -> int:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        raise ValueError("no values")
    rank = max(1, math.ceil(pct / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summarize(samples_ns: Iterable[int]) -> dict[str, float]:
    """p50/p90/p99/max/mean of nanosecond samples, reported in microseconds."""
    values = sorted(samples_ns)
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50_us": percentile(values, 50) / 1e3,
        "p90_us": percentile(values, 90) / 1e3,
        "p99_us": percentile(values, 99) / 1e3,
        "max_us": values[-1] / 1e3,
        "mean_us": statistics.fmean(values) / 1e3,
    }


def timer_overhead_ns(rounds: int = 20_000) -> float:
    """Median cost of two back-to-back perf_counter_ns calls: the floor of every sample."""
    clock = time.perf_counter_ns
    deltas = []
    for _ in range(rounds):
        t0 = clock()
        deltas.append(clock() - t0)
    return float(statistics.median(deltas))


def scrubbed_env(extra_pythonpath: str | None = None) -> dict[str, str]:
    """The environment for child interpreters, minus anything that looks like a key or token.

    The peers must decide without credentials; removing these names guarantees they do.
    """
    markers = ("KEY", "TOKEN", "SECRET", "PASSWORD", "CREDENTIAL")
    env = {k: v for k, v in os.environ.items() if not any(m in k.upper() for m in markers)}
    env.pop("PYTHONPATH", None)
    if extra_pythonpath:
        env["PYTHONPATH"] = extra_pythonpath
    return env


def _run_ns(argv: Sequence[str], env: dict[str, str]) -> int:
    t0 = time.perf_counter_ns()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter_ns() - t0


def import_time_ms(
    code: str,
    *,
    runs: int,
    python: str = sys.executable,
    env: dict[str, str] | None = None,
    progress: Callable[[], None] | None = None,
) -> dict[str, float]:
    """Wall time of ``python -c CODE`` minus ``python -c pass``, in fresh interpreters.

    The two are interleaved run by run so drift in machine load hits both alike; one
    untimed run of each first warms the OS file cache (and writes any .pyc files).
    """
    env = dict(os.environ) if env is None else env
    base_argv = [python, "-c", "pass"]
    code_argv = [python, "-c", code]
    _run_ns(base_argv, env)
    _run_ns(code_argv, env)
    base: list[int] = []
    full: list[int] = []
    for _ in range(runs):
        base.append(_run_ns(base_argv, env))
        full.append(_run_ns(code_argv, env))
        if progress:
            progress()
    base_med = statistics.median(base) / 1e6
    full_med = statistics.median(full) / 1e6
    diffs = sorted((f - b) / 1e6 for f, b in zip(full, base, strict=True))
    return {
        "runs": runs,
        "python_startup_ms": base_med,
        "with_import_ms": full_med,
        "import_ms": full_med - base_med,
        "paired_diff_median_ms": statistics.median(diffs),
    }
