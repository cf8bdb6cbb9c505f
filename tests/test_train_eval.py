"""Training is deterministic and fast on a small set; the eval harness reports what it should."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from training.examples import Example
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
def trained_run(small_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    from typer.testing import CliRunner

    from router.cli.app import app

    out = tmp_path_factory.mktemp("model") / "small.json"
    result = CliRunner().invoke(
        app, ["train", "--data", str(small_data), "--no-public", "--out", str(out), "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    return out, result


@pytest.fixture(scope="module")
def trained(trained_run: tuple[Path, Any]) -> Path:
    return trained_run[0]


def stage_lines(stderr: str, command: str) -> list[str]:
    """The stages a command reported, without their elapsed times."""
    prefix = f"{command}: ["
    return [line.split("] ", 1)[1] for line in stderr.splitlines() if line.startswith(prefix)]


@needs_data
def test_cli_train_reports_each_stage_on_stderr(trained_run: tuple[Path, Any]) -> None:
    # CliRunner's stderr is not a terminal: the lines must come all the same.
    stages = stage_lines(trained_run[1].stderr, "train")
    assert stages[0] == "loading labelled rows"
    assert stages[-1] == "writing the artifact"
    assert any(s.startswith("vocabulary (") for s in stages)
    assert any(s.startswith("final fit (") for s in stages)
    assert len(stages) == len(set(stages)) >= 6
    assert "train: [" not in trained_run[1].stdout


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
    from training.config import TrainConfig
    from training.dataset import load_training_data
    from training.train import train

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
    # Project rows carry no outcomes: no curve to draw, so no figure (never empty axes).
    assert report["routing"] == {}
    assert not (out / "eval.png").exists()
    assert "no outcome set present" in result.output
    stages = stage_lines(result.stderr, "eval")
    assert stages[0] == "loading evaluation rows" and stages[-1].startswith("writing the report")
    assert any(s.startswith("classifying") and s.endswith("with the model") for s in stages)


def _outcome_row(i: int, source: str, use: str, strong: bool, weak: bool, **kw: object) -> Example:
    texts = [
        "Write a haiku about a lighthouse keeper's cat.",
        "Prove that the sum of two odd integers is even, in full detail.",
        "Translate 'good evening' into Portuguese.",
        "Design a sharded rate limiter for a global API and discuss failure modes.",
        "What is the capital of Mongolia?",
        "A train leaves at 9:40 and arrives at 13:05; how long is the trip?",
    ]
    return Example(
        id=f"{source}/{i}",
        text=texts[i % len(texts)] + f" (case {i})",
        messages=None,
        task=str(kw.get("task", "general")),
        tier=None,
        language="en",
        source=source,
        use=use,
        group=source.split("/")[0],
        outcome={
            "strong_correct": strong,
            "weak_correct": weak,
            "strong_model": "big-model",
            "weak_model": "small-model",
        },
    )


PATTERN = [(True, True), (True, False), (False, False), (True, False), (True, True), (False, True)]


@pytest.fixture(scope="module")
def synthetic_report() -> dict[str, object]:
    from training.evaluate import evaluate

    held = [
        _outcome_row(i, "elyza_outcomes", "eval", s, w, task=("math" if i % 2 else "general"))
        for i, (s, w) in enumerate(PATTERN)
    ]
    seen = [
        _outcome_row(i, "mifeval_outcomes/en", "train", s, w) for i, (s, w) in enumerate(PATTERN)
    ]
    return evaluate(held, seed=1, seen=seen)


def test_evaluate_routes_every_outcome_set_and_keeps_seen_apart(
    synthetic_report: dict[str, Any],
) -> None:
    report = synthetic_report
    assert set(report["routing"]) == {"elyza", "mifeval"}
    held, seen = report["routing"]["elyza"], report["routing"]["mifeval"]
    assert (held["seen_in_training"], seen["seen_in_training"]) == (False, True)
    assert held["pair"] == {"strong": "big-model", "weak": "small-model"}
    assert (held["rows"], held["strong_only"], held["weak_only"]) == (6, 4 / 6, 3 / 6)
    assert set(held["deciders"]) == {"model", "rules", "length", "random"}
    for summary in held["deciders"].values():
        assert set(summary["cpt"]) == {"20%", "50%", "80%"}
    strong = np.array([s for s, _ in PATTERN], dtype=float)
    weak = np.array([w for _, w in PATTERN], dtype=float)
    assert held["oracle"]["apgr"] == pytest.approx(
        routing_summary(strong - weak, strong, weak)["apgr"]
    )
    low, high = held["random_apgr_90"]  # chance band: random scores average the diagonal
    assert low < 0.5 < high
    # Seen rows are routed only: classification counts the 6 held-out rows alone.
    assert (report["rows"], report["seen_rows"]) == (6, 6)
    task = report["classification"]["model"]["all"]["task"]
    assert task["rows"] == 6 and set(task["support"]) == {"general", "math"}
    assert task["support"] == {"general": 3, "math": 3}
    by_class = report["classification"]["model"]["by_set"]["elyza_outcomes"]["task"]["recall"]
    assert set(by_class) == {"general", "math"}


def test_recall_from_confusion() -> None:
    from training.evaluate import _recall

    recall, support = _recall([[3, 1, 0], [0, 0, 0], [2, 0, 2]], ["a", "b", "c"])
    assert recall == {"a": 0.75, "c": 0.5}  # no rows of "b": no 0/0 entry
    assert support == {"a": 4, "c": 4}


def test_terminal_tables_fit_80_columns_and_label_seen_sets(
    synthetic_report: dict[str, Any],
) -> None:
    from rich.console import Console

    from training.eval_report import terminal_tables

    console = Console(width=200, record=True, file=io.StringIO())
    tables = terminal_tables(synthetic_report)
    for table in tables:
        console.print(table)
    text = console.export_text()
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 80
    titles = [str(t.title) for t in tables]
    held = next(t for t in titles if t.startswith("Routing on held-out"))
    seen = next(t for t in titles if t.startswith("Seen in training"))
    assert "NOT held out" in seen and held
    held_text, seen_text = text.split("Seen in training")
    assert "elyza" in held_text and "mifeval" not in held_text
    assert "mifeval" in seen_text


def test_report_files_plot_only_sets_with_outcomes(
    synthetic_report: dict[str, Any], tmp_path: Path
) -> None:
    from training.eval_report import write_report

    paths = write_report(synthetic_report, tmp_path)
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = paths["md"].read_text(encoding="utf-8")
    assert "## Routing on held-out outcome sets" in md
    assert "## Routing on outcome sets seen in training" in md
    saved = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert saved["routing"]["mifeval"]["deciders"]["model"]["apgr"] == pytest.approx(
        synthetic_report["routing"]["mifeval"]["deciders"]["model"]["apgr"]
    )
    # No outcome set: no figure, and a stale one from an earlier run is removed.
    empty = {**synthetic_report, "routing": {}, "multi_model": {}}
    assert "png" not in write_report(empty, tmp_path)
    assert not (tmp_path / "eval.png").exists()


def test_cli_eval_names_missing_sets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from router.cli.app import app
    from training.sources import ENV_VAR, elyza_outcomes

    root = tmp_path / "datasets"
    folder = root / "elyza_outcomes"
    folder.mkdir(parents=True)
    rows = [
        {"id": f"elyza-tasks-100-{i}", "task_no": i, "prompt": f"短い質問その{i}です。",
         "score": {elyza_outcomes.STRONG: 5, elyza_outcomes.WEAK: 2 + i % 3}}
        for i in range(1, 7)
    ]  # fmt: skip
    (folder / elyza_outcomes.FILE).write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    monkeypatch.setenv(ENV_VAR, str(root))
    out = tmp_path / "reports"
    result = CliRunner().invoke(app, ["eval", "--out-dir", str(out), "--json"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # rich wraps long lines
    assert "public sets, not measured:" in said and "gsm8k_test" in said
    assert "alpaca_eval_matrix" not in said  # a companion of a set that is absent too
    report = json.loads((out / "eval.json").read_text(encoding="utf-8"))
    assert set(report["routing"]) == {"elyza"}
    assert "routellm_outcomes" in report["missing"]
    assert (out / "eval.png").exists()


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
    from training.within_tier import within_tier_concordance

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


def test_task_accuracy_accepts_the_tasks_a_hand_label_also_lists() -> None:
    from training.evaluate import Decided, _classify

    def row(i: int, task: str, also: tuple[str, ...] = ()) -> Example:
        return Example(f"x/{i}", "p", None, task, "SIMPLE", "en", "x", "eval", "x", also=also)

    rows = [row(0, "general", ("creative_writing",)), row(1, "general"), row(2, "coding")]
    d = Decided(
        task=["creative_writing", "creative_writing", "coding"],
        tier=["SIMPLE"] * 3,
        tier_confidence=[1.0] * 3,
        score=np.zeros(3),
        source=["model"] * 3,
    )
    task = _classify(rows, d, [0, 1, 2])["task"]
    assert task["accuracy"] == pytest.approx(2 / 3)  # row 1 lists no other task
    assert task["recall"] == {"creative_writing": 1.0, "general": 0.0, "coding": 1.0}


def test_holdout_unit_keeps_twins_together() -> None:
    from training.holdout import holdout_unit

    def row(source: str, group: str) -> Example:
        return Example("x/1", "p", None, "math", "SIMPLE", "en", source, "train", group)

    assert holdout_unit(row("arena_bench_v1_outcomes", "arena_hard")) == "arena_hard"
    assert holdout_unit(row("zeroeval_outcomes/math_l5", "math_hendrycks")) == "math_hendrycks"
    assert holdout_unit(row("tierrouter/en_a", "tierrouter/en_a")) == "tierrouter/en_a"
    mmlu = row("routellm_outcomes/mmlu/anatomy", "routellm_outcomes")
    assert holdout_unit(mmlu) == "routellm_outcomes/mmlu/anatomy"
