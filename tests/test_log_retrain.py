"""Challenger vs champion on the user's logs; the registry; routing changes after promotion."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest_providers import KEYS
from fake_providers import FakeProviders
from log_helpers import k8s_prompts, synthetic_log, tiered_catalog
from typer.testing import CliRunner

from router import Router
from router.cli.app import app
from router.log import registry
from training.config import TrainConfig
from training.retrain import train_with_logs

DATA = Path(__file__).resolve().parents[1] / "data"
FAST = TrainConfig(c_grid=(1.0,), holdout_folds=2, max_iter=150)


@pytest.fixture(scope="module")
def base_rows() -> list:
    from training.sources import project_data

    # A small slice of several sources: quick to fit, and the trainer's held-out-source
    # folds always keep more than one class to fit on.
    rows = project_data.load(DATA / "en_a.jsonl", DATA / "de.jsonl", DATA / "fr.jsonl")
    return rows[::2]


def test_a_worse_challenger_is_not_promoted(tmp_path: Path, base_rows: list) -> None:
    # The user confirms what the champion decided: the champion is right on every row,
    # so a challenger trained on a sliver of data cannot beat it. Every outcome says
    # "sufficed" (one way: no APGR), so tier accuracy decides, and the reason says so.
    router = Router()
    prompts = [ex.prompt_text() for ex in base_rows[:60]]
    rows = [{"prompt": p, "verdict": "good_enough"} for p in prompts]
    for row in rows:
        row["tier"] = router.classify(row["prompt"]).tier.value
    log = synthetic_log(tmp_path / "d.db", rows)
    # A challenger fitted on a slice is weaker at tasks than the bundled model; this test
    # is about the comparison on the logs, so the broken-model guard is opened wide.
    result = train_with_logs(
        log, base_rows=base_rows, registry=tmp_path / "models", cfg=FAST, log_weight=0.01,
        max_task_drop=1.0,
    )  # fmt: skip
    assert not result.promoted and "tier accuracy decided" in result.reason, result.reason
    assert registry.promoted_version(tmp_path / "models") is None
    held = result.metrics["held_out"]
    assert held["champion"]["score"] == 1.0 and held["challenger"]["score"] <= 1.0
    assert (result.path / "metrics.json").exists() and (result.path / "model.json").exists()
    forced = train_with_logs(
        log, base_rows=base_rows, registry=tmp_path / "models", cfg=FAST, force=True
    )
    assert forced.promoted and registry.promoted_version(tmp_path / "models") == forced.name


@pytest.fixture(scope="module")
def slice_model(base_rows: list, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A champion fitted on the same slice as the challengers, so the guard compares like
    with like (the bundled model, fitted on far more data, is better at tasks than any
    slice-fitted challenger without either being broken)."""
    from training.export import save
    from training.train import train

    folder = tmp_path_factory.mktemp("slice") / "00000000-000000-slice"
    result = train(list(base_rows), {"sets": [{"name": "given"}]}, FAST)
    save(result, folder / "model")
    (folder / "metrics.json").write_text("{}")
    return folder


def registry_with(slice_model: Path, root: Path) -> Path:
    import shutil

    shutil.copytree(slice_model, root / slice_model.name)
    registry.promote(slice_model.name, root)
    return root


COUNTRIES = ["France", "Peru", "Japan", "Kenya", "Norway", "Chile", "Egypt", "Canada", "India",
             "Spain", "Ghana", "Nepal", "Cuba", "Italy", "Laos", "Mali", "Oman", "Chad", "Fiji",
             "Iran"]  # fmt: skip


def trivia(count: int) -> list[str]:
    forms = ["What is the capital of {c}?", "Which currency does {c} use?",
             "What language is spoken in {c}?"]  # fmt: skip
    return [forms[i % 3].format(c=COUNTRIES[(i // 3) % len(COUNTRIES)]) for i in range(count)]


def test_a_challenger_that_orders_the_users_outcomes_better_is_promoted(
    tmp_path: Path, base_rows: list, slice_model: Path
) -> None:
    # This user's cheap model handles the long Kubernetes requests but misses the short
    # factual questions: the opposite of what the bundled model expects. The challenger
    # learns it, scores higher on the held-out calls by APGR, and is promoted on that
    # evidence, tiers notwithstanding.
    rows = [{"prompt": p, "verdict": "cheaper_ok"} for p in k8s_prompts(60)]
    rows += [{"prompt": p, "verdict": "needed_stronger"} for p in trivia(60)]
    log = synthetic_log(tmp_path / "d.db", rows)
    models = registry_with(slice_model, tmp_path / "models")
    result = train_with_logs(log, base_rows=base_rows, registry=models, cfg=FAST, resamples=300)
    cmp = result.metrics["comparison"]
    assert cmp is not None and cmp["rows"] >= 30, result.metrics["outcomes"]
    assert cmp["challenger_apgr"] > cmp["champion_apgr"] and cmp["ci_low"] > 0
    assert result.promoted and result.metrics["decision"]["rule"] == "apgr", result.reason
    assert registry.promoted_version(models) == result.name
    listed = CliRunner(env={"COLUMNS": "250"}).invoke(app, ["models", "list", "--dir", str(models)])
    assert listed.exit_code == 0 and "better on your held-out calls" in listed.output


def test_a_broken_challenger_is_refused(tmp_path: Path, base_rows: list, slice_model: Path) -> None:
    # A log that "corrects" every prompt to translation, weighted heavily, breaks the
    # task head: the guard sees task accuracy collapse on the bundled rows and refuses
    # the challenger even though the same corrections make its held-out tiers look fine.
    rows = [{"prompt": ex.prompt_text(), "task_fix": "translation", "verdict": "cheaper_ok"}
            for ex in base_rows]  # fmt: skip
    log = synthetic_log(tmp_path / "d.db", rows)
    models = registry_with(slice_model, tmp_path / "models")
    result = train_with_logs(log, base_rows=base_rows, registry=models, cfg=FAST, log_weight=30.0)
    guard = result.metrics["guard"]
    assert guard["challenger"] < guard["champion"] - guard["max_task_drop"], guard
    assert not result.promoted and result.metrics["decision"]["rule"] == "broken"
    assert "refused as broken" in result.reason and "task accuracy" in result.reason
    assert registry.promoted_version(models) == slice_model.name


def test_logs_favouring_a_cheaper_model_make_the_family_route_cheaper(
    fake: FakeProviders, tmp_path: Path, base_rows: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = tmp_path / "models"
    monkeypatch.setenv("TIERROUTER_MODEL_DIR", str(models))
    prompts = k8s_prompts(48)
    options = {"catalog": tiered_catalog(fake), "keys": dict(KEYS), "env": {},
               "strategy": "cheapest"}  # fmt: skip
    before = Router(**options)
    probe = "Write a Kubernetes deployment manifest for the ledger service with 3 replicas."
    old = before.route(probe)
    assert old.decision.tier.value == "MEDIUM" and old.model == "an/claude-x"

    # The user's traffic: this family was sent to MEDIUM, and the user says cheaper is fine.
    rows = [{"prompt": p, "verdict": "cheaper_ok"} for p in prompts]
    log = synthetic_log(tmp_path / "d.db", rows)
    # The champion is the bundled model here (the probe's tier is its): a slice-fitted
    # challenger is weaker at tasks without being broken, so the guard is opened wide.
    result = train_with_logs(log, base_rows=base_rows, cfg=FAST, max_task_drop=1.0)
    assert result.promoted, result.reason
    held = result.metrics["held_out"]
    assert held["challenger"]["score"] > held["champion"]["score"]

    before.reload_model()  # a running router picks the promoted model up
    for router in (before, Router(**options)):
        new = router.route(probe)
        assert new.decision.tier.value == "SIMPLE" and new.model == "oa/fast-1"
        assert new.decision.model_version == result.metrics["version"]
        assert new.decision.estimated_cost < old.decision.estimated_cost

    # models list / rollback / promote through the CLI
    listed = CliRunner(env={"COLUMNS": "250"}).invoke(app, ["models", "list"])
    assert listed.exit_code == 0 and result.name in listed.output and "*" in listed.output
    back = CliRunner().invoke(app, ["models", "rollback"])
    assert back.exit_code == 0 and "bundled" in back.output
    assert Router(**options).route(probe).model == "an/claude-x"
    again = CliRunner().invoke(app, ["models", "promote", result.name])
    assert again.exit_code == 0 and Router(**options).route(probe).model == "oa/fast-1"
    missing = CliRunner().invoke(app, ["models", "promote", "nope"])
    assert missing.exit_code == 2 and "not in the registry" in missing.output


def test_an_unusable_promoted_model_falls_back_with_a_warning(tmp_path: Path) -> None:
    folder = tmp_path / "20250101-000000-x"
    folder.mkdir()
    (folder / "model.json").write_text("{}")
    registry.promote(folder.name, tmp_path)
    with pytest.warns(RuntimeWarning, match="unusable, using the bundled model"):
        assert registry.promoted_artifact(tmp_path) is None


def test_no_labelled_rows_is_a_clear_error(tmp_path: Path) -> None:
    log = synthetic_log(tmp_path / "d.db", [{"prompt": "hello"}])
    with pytest.raises(ValueError, match=r"0 labelled rows.*tierrouter feedback"):
        train_with_logs(log, base_rows=[], registry=tmp_path / "m")


def test_max_task_drop_out_of_range_names_the_option(tmp_path: Path) -> None:
    out = CliRunner().invoke(
        app, ["train", "--logs", str(tmp_path / "d.db"), "--max-task-drop", "2"]
    )
    assert out.exit_code == 2 and "--max-task-drop" in out.output
