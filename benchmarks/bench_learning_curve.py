"""Learning curve of the retraining loop: simulated users, logged outcomes, the deployed model.

Each *simulated user* is one outcome set of the public datasets (a strong/weak model pair
graded per prompt). A seeded random split keeps ``--future`` prompts (at most 30 % of the
set) as the user's future traffic; the rest is the pool the user's past traffic is drawn
from, in a seeded order. For N in ``--ns`` (cumulative: 250 then 750 more, ...):

1. the next prompts of the pool are decided by the router the user has deployed *now*
   (``Router()``: the promoted model and layer of a private registry) and written to a
   SQLite decision log with their prompt text, exactly as ``Router(log=...)`` records
   them (the decision, its features, the text); no provider is called;
2. each gets the feedback the real outcome implies, through the log's feedback API.
   ``--feedback verdict`` (default, the issue's protocol): the weak model right ->
   ``cheaper_ok``, wrong -> ``needed_stronger``. ``--feedback shadow``: what
   ``tierrouter label --shadow`` with a faithful judge would store: ``needed_stronger``
   only where the strong model was right and the weak one wrong (source ``shadow:``);
3. ``tierrouter train --logs`` runs (``train_layer_with_logs``: user layer, held-out calls,
   paired-bootstrap APGR, promotion into the registry), timed;
4. ``Router()`` is built again, as a restarted service would, and its ``Decision.score``
   on the future prompts is scored (and, for the record, the challenger's, promoted or
   not: the "challenger" column) with RouteLLM's APGR and CPT(50 %) on the real
   strong/weak outcomes (``training.metrics.routing_summary``), beside prompt length and
   random scores (mean of 20 seeded draws) on the same prompts.

N = 0 is the bundled model. Nothing here is shipped: eval-only sets (routerbench,
alpaca_eval) are measured as users, never fitted into anything bundled, and every layer
lives in a temporary registry.

    TIERROUTER_DATASETS=/path/to/shared/datasets python benchmarks/bench_learning_curve.py
    python benchmarks/bench_learning_curve.py --users mmlu --seeds 0 --ns 0,250,1000,2000
    python benchmarks/bench_learning_curve.py --json curve.json --markdown

The bundled model was trained on the *train* outcome sets (mmlu train subjects,
mifeval, zeroeval, arena_bench_v1), so its N = 0 numbers on those users are partly
in-sample; routerbench, alpaca_eval and the MMLU eval subjects are not.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from training.examples import Example  # noqa: E402

# user name -> (source, which outcome sets of it)
USERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "mmlu": ("routellm_outcomes", ("mmlu", "mmlu_train")),
    "mifeval": ("mifeval_outcomes", ("mifeval",)),
    "zeroeval": ("zeroeval_outcomes", ("zeroeval_crux", "zeroeval_math_l5")),
    "arena_bench_v1": ("arena_bench_v1_outcomes", ("arena_bench_v1",)),
    "routerbench": ("routerbench", ("routerbench",)),
    "alpaca_eval": ("alpaca_eval", ("alpaca_eval",)),
}
RANDOM_DRAWS = 20


def user_rows(user: str) -> list[tuple[Example, float, float]]:
    """(example, strong outcome, weak outcome) of every row of the user's set with a pair."""
    from training.evaluate import _strong_weak, outcome_set
    from training.sources import load_source

    source, sets = USERS[user]
    out = []
    for ex in load_source(source):
        pair = _strong_weak(ex)
        if pair is not None and outcome_set(ex) in sets:
            out.append((ex, pair[0], pair[1]))
    return out


def _value(ex: Example) -> Any:
    return ex.messages if ex.messages is not None else ex.text


def log_traffic(
    log: Any,
    rows: Sequence[tuple[Example, float, float]],
    start: int,
    feedback: str = "verdict",
    tag: str = "sim",
) -> None:
    """Decide each prompt with the deployed router and log it, then attach its feedback."""
    from router import Router
    from router.log.store import DecisionRecord, Feedback, prompt_hash

    router = Router()
    ids = []
    now = time.time()
    for i, (ex, _strong, _weak) in enumerate(rows):
        d = router.classify(_value(ex))
        # Ids decide the held-out split (a hash of the id): they must repeat across runs.
        rid = f"rt-{tag}-{start + i:06d}"
        ids.append(rid)
        log.record(
            DecisionRecord(
                id=rid, ts=now + start + i, prompt_hash=prompt_hash(ex.prompt_text()),
                task=d.task.value, tier=d.tier.value, language=d.language, source=d.source,
                model_version=d.model_version, confidence=d.confidence, score=d.score,
                tier_probabilities=dict(d.tier_probabilities),
                features={k: f.value for k, f in d.features.items()},
                model_used="weak", prompt=ex.text, messages=ex.messages, response="(simulated)",
            )
        )  # fmt: skip
    log.flush()
    for rid, (_ex, strong, weak) in zip(ids, rows, strict=True):
        if feedback == "shadow":
            short = strong >= 0.5 and weak < 0.5
            verdict = "needed_stronger" if short else "cheaper_ok"
            log.attach_feedback(Feedback(rid, verdict=verdict, source="shadow:strong"))
        else:
            verdict = "cheaper_ok" if weak >= 0.5 else "needed_stronger"
            log.attach_feedback(Feedback(rid, verdict=verdict, source="user"))


def score_future(
    rows: Sequence[tuple[Example, float, float]], layer_path: Path | None = None
) -> dict[str, Any]:
    """APGR and CPT(50 %) of the deployed router's scores on the future prompts.

    With ``layer_path``: of the bundled model with that layer instead (what a challenger
    would have scored had it been promoted; the simulation only ever layers the bundled
    model, so that is its base).
    """
    from router import Router
    from training.metrics import routing_summary

    if layer_path is None:
        router = Router()
    else:
        from router.decision.artifact import bundled_artifact_path
        from router.decision.user_layer import load_layer

        router = Router(model=bundled_artifact_path())
        router.classifier.user_layer = load_layer(layer_path)
    scores = [router.classify(_value(ex)).score for ex, _, _ in rows]
    strong = [s for _, s, _ in rows]
    weak = [w for _, _, w in rows]
    summary = routing_summary(scores, strong, weak)
    return {"apgr": summary["apgr"], "cpt50": summary["cpt"]["50%"]}


def baselines(rows: Sequence[tuple[Example, float, float]], seed: int) -> dict[str, float]:
    from training.metrics import routing_summary

    strong = [s for _, s, _ in rows]
    weak = [w for _, _, w in rows]
    length = [len(ex.prompt_text()) for ex, _, _ in rows]
    rng = np.random.default_rng(1000 + seed)
    rand = [
        routing_summary(rng.random(len(rows)), strong, weak)["apgr"] for _ in range(RANDOM_DRAWS)
    ]
    return {
        "length": routing_summary(length, strong, weak)["apgr"],
        "random": float(np.mean(rand)),
        # How far chance alone goes on these prompts: a small strong/weak gap makes it wide.
        "random_p95": float(np.quantile(rand, 0.95)),
    }


def simulate(
    user: str,
    seed: int,
    ns: Sequence[int],
    future_size: int,
    say: Callable[[str], None],
    feedback: str = "verdict",
) -> dict[str, Any]:
    from router.log.sqlite import SQLiteDecisionLog
    from training.retrain_layer import train_layer_with_logs

    rows = user_rows(user)
    order = np.random.default_rng(seed).permutation(len(rows))
    n_future = min(future_size, int(0.3 * len(rows)))
    future = [rows[i] for i in order[:n_future]]
    pool = [rows[i] for i in order[n_future:]]
    steps = sorted({min(n, len(pool)) for n in ns})
    work = Path(tempfile.mkdtemp(prefix=f"curve-{user}-{seed}-"))
    os.environ["TIERROUTER_MODEL_DIR"] = str(work / "models")
    log = SQLiteDecisionLog(work / "decisions.db")
    base = baselines(future, seed)
    points = []
    logged = 0
    for n in steps:
        point: dict[str, Any] = {"n": n}
        if n > logged:
            log_traffic(log, pool[logged:n], logged, feedback, f"{user}-{seed}")
            logged = n
            started = time.perf_counter()
            result = train_layer_with_logs(work / "decisions.db", seed=seed)
            point["retrain_s"] = round(time.perf_counter() - started, 2)
            point["promoted"] = result.promoted
            point["reason"] = result.reason
            point["held_out_apgr"] = (result.metrics.get("comparison") or {}).get("challenger_apgr")
            # What the challenger would have scored on the future had it been promoted:
            # says whether a refusal cost anything (or a promotion was a false one).
            point["challenger_apgr"] = score_future(future, result.path / "layer.json")["apgr"]
        point.update(score_future(future))
        points.append(point)
        say(
            f"{user} seed {seed} N={n}: APGR {point['apgr']:.3f} CPT50 {point['cpt50']}"
            f" retrain {point.get('retrain_s', '-')} s promoted {point.get('promoted', '-')}"
        )
    log.close()
    return {
        "user": user,
        "seed": seed,
        "feedback": feedback,
        "rows": len(rows),
        "future": n_future,
        "pool": len(pool),
        "baselines": base,
        "points": points,
    }


def aggregate(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per user and N: means over seeds."""
    table = []
    for user in dict.fromkeys(r["user"] for r in runs):
        mine = [r for r in runs if r["user"] == user]
        ns = sorted({p["n"] for r in mine for p in r["points"]})
        for n in ns:
            pts = [p for r in mine for p in r["points"] if p["n"] == n]
            if len(pts) != len(mine):
                continue

            def mean(key: str, pts: list[dict[str, Any]] = pts) -> float | None:
                vals = [p[key] for p in pts if p.get(key) is not None]
                return float(statistics.mean(vals)) if vals else None

            table.append({
                "user": user, "n": n, "seeds": len(pts), "future": mine[0]["future"],
                "apgr": mean("apgr"), "cpt50": mean("cpt50"),
                "challenger": mean("challenger_apgr"),
                "length": statistics.mean(r["baselines"]["length"] for r in mine),
                "random": statistics.mean(r["baselines"]["random"] for r in mine),
                "random_p95": statistics.mean(
                    r["baselines"].get("random_p95", math.nan) for r in mine
                ),
                "retrain_s": statistics.median(p["retrain_s"] for p in pts) if n else None,
                "promoted": sum(bool(p.get("promoted")) for p in pts) if n else None,
            })  # fmt: skip
    return table


def markdown(table: Sequence[dict[str, Any]]) -> str:
    lines = [
        "| user (future prompts) | N | APGR deployed | CPT(50%) | challenger | length "
        "| random (p95) | retrain s (median) | promoted |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in table:
        promoted = "—" if row["promoted"] is None else f"{row['promoted']} of {row['seeds']}"
        retrain = "—" if row["retrain_s"] is None else f"{row['retrain_s']:.1f}"
        challenger = "—" if row.get("challenger") is None else f"{row['challenger']:.3f}"
        lines.append(
            f"| {row['user']} ({row['future']}) | {row['n']:,} | {row['apgr']:.3f} | "
            f"{row['cpt50']:.2f} | {challenger} | {row['length']:.3f} | {row['random']:.3f} "
            f"({row['random_p95']:.3f}) | {retrain} | "
            f"{promoted} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", default=",".join(USERS), help="comma-separated")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated split seeds")
    parser.add_argument("--ns", default="0,250,1000,4000", help="logged outcomes, cumulative")
    parser.add_argument("--future", type=int, default=1200, help="future prompts (<= 30%%)")
    parser.add_argument(
        "--feedback", choices=("verdict", "shadow"), default="verdict",
        help="what each logged call is told (see the module docstring)",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, help="write every run and the table here")
    parser.add_argument("--markdown", action="store_true", help="print the table as markdown")
    args = parser.parse_args(argv)
    users = [u for u in args.users.split(",") if u]
    unknown = [u for u in users if u not in USERS]
    if unknown:
        parser.error(f"unknown user {unknown[0]!r}; known: {', '.join(USERS)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    ns = [int(n) for n in args.ns.split(",")]

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    runs = [simulate(u, s, ns, args.future, say, args.feedback) for u in users for s in seeds]
    table = aggregate(runs)
    print(markdown(table))
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "table": table}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
