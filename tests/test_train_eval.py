"""Training is deterministic and fast on a small set; the eval harness reports what it should."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from training.metrics import routing_summary

DATA = Path(__file__).resolve().parents[1] / "data"
SMALL = ("de.jsonl", "fr.jsonl", "es.jsonl")
needs_data = pytest.mark.skipif(
    not all((DATA / f).exists() for f in SMALL), reason="project data files missing"
)


@pytest.fixture(scope="module")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    for name in SMALL:
        shutil.copy(DATA / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def trained(small_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from typer.testing import CliRunner

    from router.cli.app import app

    out = tmp_path_factory.mktemp("model") / "small.json"
    result = CliRunner().invoke(
        app, ["train", "--data", str(small_data), "--no-public", "--out", str(out), "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    return out


@needs_data
def test_cli_train_writes_a_loadable_artifact(trained: Path) -> None:
    from router import Router
    from router.decision.artifact import load_artifact

    artifact = load_artifact(trained)
    assert trained.with_suffix(".npz").exists() and trained.with_suffix(".joblib").exists()
    meta = artifact.meta
    assert meta["training"]["seed"] == 3
    assert {"validation", "held_out_sources", "low_confidence_selection"} <= set(meta["metrics"])
    assert meta["metrics"]["held_out_sources"]["folds"] >= 2
    assert meta["training"]["manifest"]["sets"][0]["name"] == "user"
    assert Router(model=trained).classify("Schreibe ein Gedicht über den Herbst.").model_version


@needs_data
def test_training_is_deterministic_given_the_seed(small_data: Path, trained: Path) -> None:
    from training.train import TrainConfig, load_training_data, train

    rows, manifest = load_training_data([small_data], public=False)
    again = train(rows, manifest, TrainConfig(seed=3))
    with np.load(trained.with_suffix(".npz")) as first:
        for name, array in again.arrays.items():
            assert np.allclose(first[name], array, atol=0, rtol=0), name
    assert again.meta["version"] == json.loads(trained.read_text(encoding="utf-8"))["version"]


@needs_data
def test_cli_eval_writes_json_markdown_and_png(
    small_data: Path, trained: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from router.cli.app import app

    out = tmp_path / "reports"
    result = CliRunner().invoke(
        app, ["eval", "--model", str(trained), "--data", str(small_data / "de.jsonl"),
              "--out-dir", str(out)]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads((out / "eval.json").read_text(encoding="utf-8"))
    assert {"classification", "routing", "multi_model", "held_out_sources"} <= set(report)
    assert {"model", "rules"} <= set(report["classification"])
    task = report["classification"]["model"]["all"]["task"]
    assert {"accuracy", "macro_f1", "confusion"} <= set(task)
    assert {"accuracy", "within_one", "ece"} <= set(
        report["classification"]["model"]["all"]["tier"]
    )
    assert "| decider |" in (out / "eval.md").read_text(encoding="utf-8")
    assert (out / "eval.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_apgr_of_oracle_random_and_references() -> None:
    rng = np.random.default_rng(0)
    n = 20_000
    # Weak right implies strong right; 2 % of prompts need the strong model.
    strong = np.ones(n)
    weak = (rng.random(n) > 0.02).astype(float)
    oracle = routing_summary(strong - weak, strong, weak)
    assert oracle["apgr"] == pytest.approx(1.0, abs=0.011)
    assert oracle["cpt"]["80%"] < 0.03
    random = routing_summary(rng.random(n), strong, weak)
    assert random["apgr"] == pytest.approx(0.5, abs=0.03)
    # A constant score is a coin flip over ties: exactly the diagonal.
    flat = routing_summary(np.zeros(n), strong, weak)
    assert flat["apgr"] == pytest.approx(0.5, abs=1e-9)
    assert flat["curve"]["pgr"][0] == 0.0 and flat["curve"]["pgr"][-1] == pytest.approx(1.0)


def test_within_tier_concordance_counts_only_pairs_inside_a_tier() -> None:
    from training.train import within_tier_concordance

    tier = np.array([0, 0, 0, 1, 1])
    label = np.array([0, 1, 2, 0, 3])
    w = np.ones(5)
    assert within_tier_concordance(tier, label, np.array([1.0, 2, 3, 5, 9]), w) == 1.0
    assert within_tier_concordance(tier, label, np.array([3.0, 2, 1, 9, 5]), w) == 0.0
    assert within_tier_concordance(tier, label, np.zeros(5), w) == 0.5
    # Across tiers nothing is compared: a wrong order between tiers changes nothing.
    assert within_tier_concordance(tier, label, np.array([1.0, 2, 3, -9, -5]), w) == 1.0
    # Weights count pairs: the heavy mis-ordered pair dominates.
    mixed = within_tier_concordance(
        np.zeros(3, dtype=int), np.array([0, 1, 2]), np.array([2.0, 1, 3]), np.array([5.0, 5, 1])
    )
    assert mixed == pytest.approx((5 * 1 + 1 * 5) / (25 + 5 + 5))


@needs_data
def test_within_tier_weight_is_the_best_trial(trained: Path) -> None:
    meta = json.loads(trained.read_text(encoding="utf-8"))
    chosen = meta["within_tier"]["length_weight"]
    trials = meta["metrics"]["within_tier_selection"]["trials"]
    assert chosen in meta["training"]["config"]["length_weight_grid"]
    best = max(t["concordance"] for t in trials)
    first_best = next(t for t in trials if t["concordance"] > best - 1e-9)
    assert first_best["length_weight"] == chosen
