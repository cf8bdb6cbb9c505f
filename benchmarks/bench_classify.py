"""Decision-latency benchmark for tierrouter's ``Router().classify``.

One run measures, on this machine:

  (a) per-decision latency over benchmarks/prompts.jsonl (warm-up, then --repeat passes, each
      call timed with perf_counter_ns): p50/p90/p99/max overall and per length bucket;
  (b) one 10 MiB prompt (median of --big-runs);
  (c) ``import router`` in fresh interpreters (median of --import-runs, minus bare start-up),
      and that a full decision leaves scikit-learn unimported;
  (d) a baseline in the same process and passes: ``text.lower().split()`` on the same prompts,
      so "decision = N x baseline" compares across machines where microseconds do not;
      and a *skeleton* decision in the same passes (see ``make_skeleton``): the least any
      pure-Python decision of this design costs, which says how far a target is from reach;
  (e) with --peers, the peer routers (benchmarks/peers/) on the same prompts, as ratios;
  (f) with --baseline REV, an interleaved A/B: this checkout's decision against REV's, each in
      its own process, alternating pass by pass (benchmarks/_ab_worker.py).

    python benchmarks/bench_classify.py                     # table only
    python benchmarks/bench_classify.py --peers --markdown  # + peers, + README block
    python benchmarks/bench_classify.py --json out.json     # everything, machine-readable
    python benchmarks/bench_classify.py --peers --baseline main   # + A/B against main

It measures the ``router`` package of this checkout (the repository root goes first on the
path), not whatever copy is installed elsewhere.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for _benchlib
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's router

from _benchlib import (  # the path is set above
    BUCKETS,
    PROMPTS_PATH,
    Record,
    build_big_prompt,
    import_time_ms,
    load_records,
    scrubbed_env,
    summarize,
    timer_overhead_ns,
)

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
DEFAULT_PEERS_VENV = Path("/tmp/tierrouter-peers-venv")
PEER_NAMES = ("smart-llm-router", "byok-router")

# Targets (issue 14, "Decisions"): the bar is relative, measured in the same run. With --peers,
# the decision's p50 over the prompt set is at most this share of the faster peer's p50; with
# --baseline REV, no length bucket's p50 is above REV's in the interleaved A/B. Absolute
# microseconds depend on the machine and its load, so they are reported, not judged.
TARGET_PEER_RATIO = 0.5
TARGET_IMPORT_MS = 60.0

# Decisions shown side by side with the peers': (label, text).
PROBES: tuple[tuple[str, str], ...] = (
    ("proof", "Prove that the square root of 2 is irrational"),
    ("proof, peer's own example", "prove that sqrt(2) is irrational step by step"),
    ("proof, zh", "证明根号2是无理数。"),
    ("greeting", "hi there"),
    ("easy code", "Write a Python function to reverse a string"),
    ("hard code", "Implement a lock-free MPMC queue in Rust using atomics"),
    ("creative", "Write a haiku about autumn"),
    ("arithmetic", "What is 17 * 23?"),
)


# --- (a) + (d): decision latency and the baseline, interleaved pass by pass --------------------


def make_skeleton(router: Any) -> Callable[[str], Any]:
    """A decision stripped to its skeleton, built from ``router``'s own tables and model.

    Lower-case and tokenise, one set intersection with the merged keyword words, fifteen
    saturated counts, both linear heads over the non-zero columns with numpy, two softmaxes
    and a frozen :class:`router.Decision`. No phrases, CJK substrings, code or maths syntax,
    language, reasons or floors: the real decision does all of that on top, so the skeleton's
    time is a floor for any pure-Python implementation of this design on this machine.
    """

    import numpy as np

    from router import Decision, Task, Tier
    from router.decision.artifact import _softmax
    from router.decision.features import FEATURE_NAMES
    from router.decision.text import tokenize

    classifier = router.classifier
    index, model = classifier.extractor._index, classifier.model
    if model is None:
        raise SystemExit("the skeleton needs the bundled model")
    word_set, word_categories = index._word_set, index._words
    featurizer = model.featurizer
    signal_col = {name: i for i, name in enumerate(featurizer.layout.signals)}
    columns = [(signal_col[name], name.split("_")[0]) for name in FEATURE_NAMES]
    vocabulary, offset = featurizer._word_index, featurizer._words_offset
    vocabulary_set = frozenset(vocabulary)
    weights, bias, n_task = model._weights, model._bias, model._n_task
    tasks, tiers = list(Task), list(Tier)

    def skeleton(text: str) -> Any:
        words = frozenset(tokenize(text.lower()))
        counts: dict[str, int] = {}
        for word in words & word_set:
            for category in word_categories[word]:
                counts[category] = counts.get(category, 0) + 1
        cols: list[int] = []
        vals: list[float] = []
        for col, category in columns:
            value = min(1.0, counts.get(category, 0) / 2)
            if value:
                cols.append(col)
                vals.append(value)
        hits = [offset + vocabulary[w] for w in words & vocabulary_set]
        cols += hits
        vals += [1.0] * len(hits)
        logits = (np.dot(vals, weights.take(cols, axis=0)) + bias).tolist()
        # An artifact with an outcome score has one more column after the tier head's.
        n_tier = len(model.tier_classes)
        task_p = _softmax(logits[:n_task])
        tier_p = _softmax(logits[n_task : n_task + n_tier])
        best = max(range(len(tier_p)), key=tier_p.__getitem__)
        return Decision(
            task=tasks[max(range(n_task), key=task_p.__getitem__)],
            task_scores=dict(zip(model.task_classes, task_p, strict=True)),
            tier=tiers[best],
            tier_probabilities=dict(zip(model.tier_classes, tier_p, strict=True)),
            score=(best + 0.5) / 4,
            confidence=min(max(task_p), max(tier_p)),
            language="en",
            source="skeleton",
        )

    return skeleton


def bench_decisions(
    records: list[Record],
    classify: Callable[[Any], Any],
    repeat: int,
    warmup: int,
    seed: int,
    skeleton: Callable[[str], Any],
) -> dict[str, Any]:
    baseline: Callable[[str], Any] = lambda text: text.lower().split()  # noqa: E731
    for _ in range(warmup):
        for r in records:
            classify(r.payload)
            baseline(r.text)
            skeleton(r.text)
    rng = random.Random(seed)
    order = list(records)
    ours: dict[str, list[int]] = {label: [] for label, _ in BUCKETS}
    base: dict[str, list[int]] = {label: [] for label, _ in BUCKETS}
    floor: dict[str, list[int]] = {label: [] for label, _ in BUCKETS}
    # Each pass: the decision on what Router().classify receives, then the baseline and
    # the skeleton on the joined message text.
    timed = ((classify, True, ours), (baseline, False, base), (skeleton, False, floor))
    clock = time.perf_counter_ns
    t_start = time.perf_counter()
    for _ in range(repeat):
        rng.shuffle(order)
        gc.collect()
        for fn, reads_payload, times in timed:
            for r in order:
                arg = r.payload if reads_payload else r.text
                t0 = clock()
                fn(arg)
                times[r.bucket].append(clock() - t0)
    elapsed = time.perf_counter() - t_start

    def with_all(per: dict[str, list[int]]) -> dict[str, dict[str, float]]:
        stats = {"all": summarize(v for vs in per.values() for v in vs)}
        stats.update({label: summarize(vs) for label, vs in per.items()})
        return stats

    counts = Counter(r.bucket for r in records)
    return {
        "prompts": len(records),
        "passes": repeat,
        "warmup_passes": warmup,
        "prompts_per_bucket": {label: counts.get(label, 0) for label, _ in BUCKETS},
        "ours": with_all(ours),
        "baseline": with_all(base),
        "baseline_op": "text.lower().split()",
        "skeleton": with_all(floor),
        "elapsed_s": elapsed,
    }


# --- (b): the 10 MiB prompt ----------------------------------------------------------------------


def bench_big(
    records: list[Record], classify: Callable[[Any], Any], size_mb: float, runs: int
) -> dict[str, Any]:
    big = build_big_prompt(records, int(size_mb * 1024 * 1024))
    classify(big)  # warm: first touch of any lazily built path
    times: list[int] = []
    decision: Any = None
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        decision = classify(big)
        times.append(time.perf_counter_ns() - t0)
    return {
        "chars": len(big),
        "runs": runs,
        "median_ms": statistics.median(times) / 1e6,
        "min_ms": min(times) / 1e6,
        "max_ms": max(times) / 1e6,
        "decision": _label(decision),
    }


# --- (c): import cost and what a decision imports ------------------------------------------------


_MODULES_PROBE = """
import sys, json, time
t0 = time.perf_counter()
import router
t1 = time.perf_counter()
router.Router().classify('x')
t2 = time.perf_counter()
heavy = ('sklearn', 'joblib', 'numpy', 'scipy', 'pandas', 'typer', 'rich', 'httpx', 'yaml')
print(json.dumps({
    'router_file': router.__file__,
    'version': router.__version__,
    'loaded': [m for m in heavy if m in sys.modules],
    'modules_total': len(sys.modules),
    'first_decision_ms': (t2 - t1) * 1e3,
}))
"""


def bench_import(runs: int) -> dict[str, Any]:
    env = scrubbed_env(extra_pythonpath=str(REPO_ROOT))
    out = import_time_ms("import router", runs=runs, env=env)
    cold = import_time_ms(
        "from router import Router; Router().classify('x')", runs=max(3, runs // 2), env=env
    )
    probe = subprocess.run(
        [sys.executable, "-c", _MODULES_PROBE], env=env, check=True, capture_output=True, text=True
    )
    info = json.loads(probe.stdout)
    out["cold_first_decision_ms"] = cold["import_ms"]
    out["cold_runs"] = cold["runs"]
    out["after_first_decision"] = info
    out["sklearn_loaded"] = "sklearn" in info["loaded"]
    return out


# --- (e): peers -----------------------------------------------------------------------------------


def bench_peers(venv: Path, args: argparse.Namespace) -> dict[str, Any]:
    python = venv / "bin" / "python"
    script = BENCH_DIR / "peers" / "run_peer.py"
    if not python.exists():
        return {
            name: {
                "peer": name,
                "available": False,
                "error": f"no peers venv at {venv}: run bash benchmarks/peers/setup_peers.sh",
            }
            for name in PEER_NAMES
        }
    results: dict[str, Any] = {}
    for name in PEER_NAMES:
        argv = [
            str(python),
            str(script),
            "--peer",
            name,
            "--prompts",
            str(args.prompts),
            "--repeat",
            str(args.peer_repeat),
            "--big-mb",
            str(args.big_mb),
            "--import-runs",
            str(max(5, args.import_runs // 2)),
        ]
        for _, text in PROBES:
            argv += ["--probe", text]
        _status(f"peer {name} ...")
        proc = subprocess.run(
            argv, env=scrubbed_env(), capture_output=True, text=True, timeout=300, check=False
        )
        if proc.returncode != 0:
            results[name] = {
                "peer": name,
                "available": False,
                "error": f"run_peer.py exited {proc.returncode}: {proc.stderr.strip()[-800:]}",
            }
            continue
        results[name] = json.loads(proc.stdout)
    return results


# --- (f): interleaved A/B against another revision ----------------------------------------------


def bench_ab(rev: str, args: argparse.Namespace) -> dict[str, Any]:
    """This checkout's decision against REV's, one process each, alternating pass by pass.

    REV is checked out into a temporary git worktree (removed at the end). Each side is a
    ``_ab_worker.py`` process holding its own Router; the parent asks them for one shuffled pass
    in turn (ABBA order), so both see the same prompts under the same drift in machine load.
    """
    import tempfile

    worker = BENCH_DIR / "_ab_worker.py"
    times: dict[str, dict[str, list[int]]] = {"ours": {}, "baseline": {}}
    with tempfile.TemporaryDirectory(prefix="tierrouter-ab-") as tmp:
        baseline = Path(tmp) / "baseline"
        git = ["git", "-C", str(REPO_ROOT)]
        commit = subprocess.run(
            [*git, "rev-parse", "--short", rev], capture_output=True, text=True, check=True
        ).stdout.strip()
        subprocess.run(
            [*git, "worktree", "add", "--detach", str(baseline), rev],
            check=True,
            capture_output=True,
        )
        procs: dict[str, subprocess.Popen[str]] = {}
        try:
            for side, checkout in (("ours", REPO_ROOT), ("baseline", baseline)):
                procs[side] = subprocess.Popen(
                    [
                        sys.executable,
                        str(worker),
                        str(checkout),
                        str(args.prompts),
                        str(args.warmup),
                    ],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    env=scrubbed_env(),
                    text=True,
                )
            for side, proc in procs.items():
                assert proc.stdout is not None
                if proc.stdout.readline().strip() != "ready":
                    raise SystemExit(f"A/B worker for {side} failed to start")
            for i in range(args.ab_passes):
                sides = ("ours", "baseline") if i % 4 in (0, 3) else ("baseline", "ours")
                for side in sides:
                    proc = procs[side]
                    assert proc.stdin is not None and proc.stdout is not None
                    proc.stdin.write(f"pass {args.seed + i}\n")
                    proc.stdin.flush()
                    for bucket, values in json.loads(proc.stdout.readline()).items():
                        times[side].setdefault(bucket, []).extend(values)
        finally:
            for proc in procs.values():
                if proc.stdin is not None:
                    proc.stdin.close()
                proc.wait(timeout=30)
            subprocess.run(
                [*git, "worktree", "remove", "--force", str(baseline)],
                check=False,
                capture_output=True,
            )
    out: dict[str, Any] = {"rev": rev, "rev_commit": commit, "passes": args.ab_passes}
    for side, per in times.items():
        stats = {"all": summarize(v for vs in per.values() for v in vs)}
        stats.update({label: summarize(per.get(label, [])) for label, _ in BUCKETS})
        out[side] = stats
    out["ratio_p50"] = {
        label: out["ours"][label]["p50_us"] / out["baseline"][label]["p50_us"]
        for label in ["all", *[b for b, _ in BUCKETS]]
    }
    return out


# --- reporting ------------------------------------------------------------------------------------


def _label(decision: Any) -> str:
    if decision is None:
        return "-"
    return f"{decision.tier}/{decision.task} (score {decision.score:.2f})"


def _status(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def _us(v: float) -> str:
    return f"{v:,.1f} µs" if v < 1000 else f"{v / 1000:,.2f} ms"


def _ok(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def check_targets(res: dict[str, Any]) -> list[dict[str, Any]]:
    ours = res["decisions"]["ours"]["all"]
    out: list[dict[str, Any]] = []
    peers = {n: p for n, p in res.get("peers", {}).items() if p.get("available")}
    if peers:
        name, fastest = min(peers.items(), key=lambda kv: kv[1]["overall"]["p50_us"])
        bar = TARGET_PEER_RATIO * fastest["overall"]["p50_us"]
        out.append(
            {
                "check": f"p50 ≤ {TARGET_PEER_RATIO:g} × faster peer's p50 ({name}, same run)",
                "measured": ours["p50_us"],
                "target": bar,
                "unit": "µs",
                "ok": ours["p50_us"] <= bar,
            }
        )
    ab = res.get("ab")
    if ab:
        for label, ratio in ab["ratio_p50"].items():
            out.append(
                {
                    "check": f"A/B p50 ÷ {ab['rev']} p50, {label}",
                    "measured": ratio,
                    "target": 1.0,
                    "unit": "×",
                    "ok": ratio <= 1.0,
                }
            )
    out.append(
        {
            "check": "import router, median",
            "measured": res["import"]["import_ms"],
            "target": TARGET_IMPORT_MS,
            "unit": "ms",
            "ok": res["import"]["import_ms"] <= TARGET_IMPORT_MS,
        }
    )
    out.append(
        {
            "check": "sklearn not in sys.modules after a decision",
            "measured": "loaded" if res["import"]["sklearn_loaded"] else "not loaded",
            "target": "not loaded",
            "unit": "",
            "ok": not res["import"]["sklearn_loaded"],
        }
    )
    return out


def latency_rows(res: dict[str, Any]) -> list[list[str]]:
    d = res["decisions"]
    rows = []
    for label in ["all", *[b for b, _ in BUCKETS]]:
        o, b = d["ours"][label], d["baseline"][label]
        n = d["prompts"] if label == "all" else d["prompts_per_bucket"][label]
        rows.append(
            [
                "all ≤2048" if label == "all" else label,
                str(n),
                _us(o["p50_us"]),
                _us(o["p90_us"]),
                _us(o["p99_us"]),
                _us(o["max_us"]),
                _us(b["p50_us"]),
                f"{o['p50_us'] / b['p50_us']:.0f}×",
                _us(d["skeleton"][label]["p50_us"]),
            ]
        )
    return rows


LATENCY_HEADER = [
    "chars",
    "prompts",
    "p50",
    "p90",
    "p99",
    "max",
    "baseline p50",
    "p50 ÷ baseline",
    "skeleton p50",
]


def peer_rows(res: dict[str, Any]) -> list[list[str]]:
    ours = res["decisions"]["ours"]
    rows = []
    for name, p in res.get("peers", {}).items():
        if not p.get("available"):
            rows.append([f"{name}", "unavailable: " + str(p.get("error", "?"))[:120], *[""] * 6])
            continue
        o, a = ours["all"], p["overall"]
        rows.append(
            [
                f"{name} {p.get('version', '')}",
                _us(a["p50_us"]),
                _us(a["p99_us"]),
                f"{a['p50_us'] / o['p50_us']:.1f}×",
                f"{a['p99_us'] / o['p99_us']:.1f}×",
                " / ".join(
                    f"{p['buckets'][b]['p50_us'] / ours[b]['p50_us']:.1f}×"
                    for b, _ in BUCKETS
                    if b in p["buckets"]
                ),
                f"{p['big']['median_ms']:,.1f} ms (n={p['big']['runs']})",
                f"{p['import']['import_ms']:.1f} ms",
            ]
        )
    return rows


PEER_HEADER = [
    "peer",
    "p50",
    "p99",
    "p50 peer/ours",
    "p99 peer/ours",
    "p50 ratio ≤120/≤600/≤2048",
    "10 MB",
    "import",
]


AB_HEADER = ["chars", "p50 ours", "p50 baseline", "ours ÷ baseline", "p99 ours", "p99 baseline"]


def ab_rows(res: dict[str, Any]) -> list[list[str]]:
    ab = res["ab"]
    rows = []
    for label in ["all", *[b for b, _ in BUCKETS]]:
        o, b = ab["ours"][label], ab["baseline"][label]
        rows.append(
            [
                "all ≤2048" if label == "all" else label,
                _us(o["p50_us"]),
                _us(b["p50_us"]),
                f"{ab['ratio_p50'][label]:.2f}×",
                _us(o["p99_us"]),
                _us(b["p99_us"]),
            ]
        )
    return rows


def probe_rows(res: dict[str, Any]) -> list[list[str]]:
    rows = []
    for label, text in PROBES:
        row = [f"{label}: {text}", res["probes"][text]]
        for p in res.get("peers", {}).values():
            row.append(p.get("probes", {}).get(text, "-") if p.get("available") else "-")
        rows.append(row)
    return rows


def render_rich(res: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal or console.width < 140:
        console = Console(width=160)
    d = res["decisions"]
    env = res["env"]
    console.print(
        f"[bold]tierrouter {env['router_version']}[/] decision latency — Python {env['python']}, "
        f"{env['machine']}, {env['cpus']} CPUs, {d['prompts']} prompts × {d['passes']} passes, "
        f"timer floor {res['timer_overhead_ns']:.0f} ns"
    )
    note = _busy_note(env)
    if note:
        console.print(f"[yellow]warning: {note}[/]")
    t = Table(
        title="(a) Router().classify per call, (d) baseline text.lower().split() and the skeleton"
    )
    for h in LATENCY_HEADER:
        t.add_column(h, justify="right")
    for row in latency_rows(res):
        t.add_row(*row)
    console.print(t)

    t = Table(title="Targets")
    for h in ("check", "measured", "target", "status"):
        t.add_column(h)
    for c in res["targets"]:
        measured = c["measured"] if isinstance(c["measured"], str) else f"{c['measured']:.2f}"
        target = c["target"] if isinstance(c["target"], str) else f"≤ {c['target']:g}"
        t.add_row(
            c["check"], f"{measured} {c['unit']}", f"{target} {c['unit']}", _color(_ok(c["ok"]))
        )
    console.print(t)

    if res.get("ab"):
        ab = res["ab"]
        t = Table(title=f"(f) interleaved A/B against {ab['rev']} ({ab['rev_commit']})")
        for h in AB_HEADER:
            t.add_column(h, justify="right")
        for row in ab_rows(res):
            t.add_row(*row)
        console.print(t)

    imp, big = res["import"], res["big"]
    t = Table(title="(b) big prompt, (c) import")
    t.add_column("measurement")
    t.add_column("value", justify="right")
    t.add_row(
        f"classify, {big['chars'] / 2**20:.0f} MiB prompt (median / min / max of {big['runs']})",
        f"{big['median_ms']:.2f} / {big['min_ms']:.2f} / {big['max_ms']:.2f} ms",
    )
    t.add_row("  its decision", big["decision"])
    t.add_row(
        f"import router (median of {imp['runs']}, minus bare start-up)",
        f"{imp['import_ms']:.1f} ms",
    )
    t.add_row("  bare `python -c pass`", f"{imp['python_startup_ms']:.1f} ms")
    t.add_row(
        f"from router import Router; Router().classify('x') (median of {imp['cold_runs']})",
        f"{imp['cold_first_decision_ms']:.1f} ms",
    )
    after = imp["after_first_decision"]
    t.add_row("  modules loaded after it (of the heavy ones)", ", ".join(after["loaded"]) or "none")
    console.print(t)

    if res.get("peers"):
        t = Table(title="(e) peers, same prompts (last user turn), same statistics")
        for h in PEER_HEADER:
            t.add_column(h, justify="right")
        for row in peer_rows(res):
            t.add_row(*row)
        console.print(t)
        t = Table(title="Decisions on probe prompts")
        t.add_column("prompt")
        t.add_column("tierrouter")
        for name in res["peers"]:
            t.add_column(name)
        for row in probe_rows(res):
            t.add_row(*row)
        console.print(t)
        t = Table(title="What each router decided over the whole prompt set")
        t.add_column("router")
        t.add_column("decisions (count)")
        t.add_row("tierrouter", _counts(res["tier_counts"]))
        for name, p in res["peers"].items():
            if p.get("available"):
                t.add_row(name, _counts(p["tier_counts"]))
        console.print(t)


def _fmt(value: float | str, unit: str, *, prefix: str) -> str:
    """A measured value (two decimals) or a target (``prefix`` + shortest form), with its unit."""
    if isinstance(value, str):
        return value
    number = f"{value:g}" if prefix else f"{value:.2f}"
    return f"{prefix}{number} {unit}"


def _counts(c: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(c.items(), key=lambda kv: -kv[1]))


def _color(status: str) -> str:
    return f"[green]{status}[/]" if status == "PASS" else f"[red]{status}[/]"


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(res: dict[str, Any]) -> str:
    env, d = res["env"], res["decisions"]
    parts = [
        "<!-- bench:classify -->",
        f"`python benchmarks/bench_classify.py{' --peers' if res.get('peers') else ''}` — "
        f"tierrouter {env['router_version']}, Python {env['python']}, {env['machine']}, "
        f"{env['cpus']} CPUs, {env['date']}; {d['prompts']} prompts × {d['passes']} passes. "
        f"Baseline: `{d['baseline_op']}` on the same prompts in the same run.",
        *([f"*Warning: {_busy_note(env)}.*"] if _busy_note(env) else []),
        "",
        _md_table(LATENCY_HEADER, latency_rows(res)),
        "",
        _md_table(
            ["check", "measured", "target", "status"],
            [
                [
                    c["check"],
                    _fmt(c["measured"], c["unit"], prefix=""),
                    _fmt(c["target"], c["unit"], prefix="≤ "),
                    _ok(c["ok"]),
                ]
                for c in res["targets"]
            ],
        ),
    ]
    if res.get("ab"):
        parts += ["", _md_table(AB_HEADER, ab_rows(res))]
    if res.get("peers"):
        parts += ["", _md_table(PEER_HEADER, peer_rows(res))]
        parts += ["", _md_table(["prompt", "tierrouter", *res["peers"]], probe_rows(res))]
    parts.append("<!-- /bench:classify -->")
    return "\n".join(parts)


# --- main -----------------------------------------------------------------------------------------


def _git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _loadavg() -> float | None:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def _busy_note(env: dict[str, Any]) -> str | None:
    """A warning when other work shared the CPUs: tails (p99, max) then measure the neighbours."""
    loads = [
        v for v in (env.get("loadavg_1m_before"), env.get("loadavg_1m_after")) if v is not None
    ]
    cpus = env.get("cpus") or 1
    if loads and max(loads) > 0.75 * cpus:
        return (
            f"machine busy: 1-min load average up to {max(loads):.1f} on {cpus} CPUs during the "
            "run, so p99/max include time other processes held the CPU; rerun on an idle machine"
        )
    return None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--repeat", type=int, default=50, help="timed passes over the prompt set")
    p.add_argument("--warmup", type=int, default=3, help="untimed passes first")
    p.add_argument("--prompts", type=Path, default=PROMPTS_PATH)
    p.add_argument("--seed", type=int, default=1234, help="shuffles the order of each pass")
    p.add_argument("--big-mb", type=float, default=10.0, help="size of the big prompt (MiB)")
    p.add_argument("--big-runs", type=int, default=20)
    p.add_argument("--import-runs", type=int, default=20)
    p.add_argument(
        "--peers",
        nargs="?",
        const=str(DEFAULT_PEERS_VENV),
        default=None,
        metavar="VENV",
        help=f"also time the peer routers in VENV (default {DEFAULT_PEERS_VENV})",
    )
    p.add_argument("--peer-repeat", type=int, default=30, help="timed passes for each peer")
    p.add_argument(
        "--baseline",
        metavar="REV",
        help="also run an interleaved A/B of the decision against git revision REV",
    )
    p.add_argument("--ab-passes", type=int, default=20, help="passes per side in the A/B")
    p.add_argument("--json", type=Path, metavar="OUT", help="write every number to OUT")
    p.add_argument("--markdown", action="store_true", help="print a block for the README")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    args = p.parse_args(argv)

    from router import Router, __version__

    records = load_records(args.prompts)
    t0 = time.perf_counter()
    router = Router()
    construct_ms = (time.perf_counter() - t0) * 1e3
    classify = router.classify

    res: dict[str, Any] = {
        "env": {
            "router_version": __version__,
            "router_commit": _git_commit(),
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "machine": platform.machine(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "date": dt.date.today().isoformat(),
            "loadavg_1m_before": _loadavg(),
        },
        "router_construct_ms": construct_ms,
        "timer_overhead_ns": timer_overhead_ns(),
    }
    _status(f"(a)+(d) {len(records)} prompts × {args.repeat} passes ...")
    res["decisions"] = bench_decisions(
        records, classify, args.repeat, args.warmup, args.seed, make_skeleton(router)
    )
    res["tier_counts"] = dict(Counter(str(classify(r.payload).tier) for r in records))
    res["probes"] = {text: _label(classify(text)) for _, text in PROBES}
    _status(f"(b) {args.big_mb:g} MiB prompt × {args.big_runs} ...")
    res["big"] = bench_big(records, classify, args.big_mb, args.big_runs)
    _status(f"(c) import router × {args.import_runs} ...")
    res["import"] = bench_import(args.import_runs)
    if args.peers:
        res["peers"] = bench_peers(Path(args.peers), args)
    if args.baseline:
        _status(f"(f) A/B against {args.baseline}, {args.ab_passes} passes each ...")
        res["ab"] = bench_ab(args.baseline, args)
    res["targets"] = check_targets(res)
    res["env"]["loadavg_1m_after"] = _loadavg()

    render_rich(res)
    if args.markdown:
        print()
        print(render_markdown(res))
    if args.json:
        args.json.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        _status(f"wrote {args.json}")
    failed = [c["check"] for c in res["targets"] if not c["ok"]]
    if failed:
        _status("targets missed: " + "; ".join(failed))
    return 1 if (failed and args.strict) else 0


if __name__ == "__main__":
    raise SystemExit(main())
