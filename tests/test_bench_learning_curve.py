"""The learning-curve benchmark: its table, and one small simulated user end to end."""

from __future__ import annotations

import importlib.util
import math
import os
from itertools import pairwise
from pathlib import Path
from types import ModuleType

import pytest

from training.sources import ENV_VAR

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get(ENV_VAR) or ROOT.parent / "shared" / "datasets")


def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_learning_curve", ROOT / "benchmarks" / "bench_learning_curve.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_table_averages_seeds_and_counts_promotions() -> None:
    b = bench()
    runs = [
        {"user": "u", "seed": s, "future": 10,
         "baselines": {"length": 0.4 + s / 10, "random": 0.5, "random_p95": 0.6},
         "points": [{"n": 0, "apgr": 0.5, "cpt50": 0.4},
                    {"n": 250, "apgr": 0.6 + s / 10, "cpt50": 0.3, "retrain_s": 1.0 + s,
                     "challenger_apgr": 0.7,
                     "promoted": s == 0}]}
        for s in (0, 1)
    ]  # fmt: skip
    table = b.aggregate(runs)
    assert [r["n"] for r in table] == [0, 250]
    assert table[1]["apgr"] == pytest.approx(0.65) and table[1]["promoted"] == 1
    assert table[1]["retrain_s"] == pytest.approx(1.5) and table[0]["promoted"] is None
    assert table[0]["length"] == pytest.approx(0.45)
    text = b.markdown(table)
    assert "| u (10) | 250 | 0.650 | 0.30 | 0.700 | 0.450 | 0.500 (0.600) | 1.5 | 1 of 2 |" in text
    assert "| u (10) | 0 | 0.500 | 0.40 | — |" in text


@pytest.mark.skipif(
    not (SHARED / "arena_bench_v1_outcomes").is_dir(), reason="shared datasets not present"
)
def test_a_small_user_runs_through_log_retrain_and_promotion(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(ENV_VAR, str(SHARED))
    monkeypatch.setenv("TIERROUTER_MODEL_DIR", str(tmp_path))  # simulate() points it elsewhere
    b = bench()
    lines: list[str] = []
    run = b.simulate("arena_bench_v1", 0, (0, 120, 10_000), 1200, lines.append, "shadow")
    assert run["future"] == int(0.3 * run["rows"]) and run["pool"] == run["rows"] - run["future"]
    points = run["points"]
    assert [p["n"] for p in points] == [0, 120, run["pool"]]
    first = points[0]
    for p in points[1:]:
        assert p["retrain_s"] > 0 and isinstance(p["promoted"], bool) and p["reason"]
        assert math.isfinite(p["apgr"]) and 0 <= p["cpt50"] <= 1
    # The deployed model only changes by a promotion: without one, the future scores
    # (and so APGR) are the previous point's exactly.
    for before, after in pairwise(points):
        if not after["promoted"]:
            assert after["apgr"] == before["apgr"]
        else:  # a promoted challenger is what is deployed
            assert after["apgr"] == pytest.approx(after["challenger_apgr"])
    assert 0.3 < first["apgr"] < 0.8 and len(lines) == 3
    assert os.environ["TIERROUTER_MODEL_DIR"] != str(tmp_path)


@pytest.mark.skipif(
    not (SHARED / "arena_bench_v1_outcomes").is_dir(), reason="shared datasets not present"
)
def test_runs_repeat_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    # Same seed, same numbers: the split, the logged ids (they decide the held-out
    # calls) and the layer's fit are all deterministic.
    monkeypatch.setenv(ENV_VAR, str(SHARED))
    b = bench()
    first = b.simulate("arena_bench_v1", 1, (0, 150), 1200, lambda _: None)
    second = b.simulate("arena_bench_v1", 1, (0, 150), 1200, lambda _: None)
    keys = ("n", "apgr", "cpt50", "promoted", "reason", "challenger_apgr")
    strip = [[{k: p.get(k) for k in keys} for p in run["points"]] for run in (first, second)]
    assert strip[0] == strip[1]
