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
from training.retrain import train_with_logs
from training.train import TrainConfig

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
    # so a challenger trained on a sliver of data cannot beat it.
    router = Router()
    prompts = [ex.prompt_text() for ex in base_rows[:60]]
    rows = [{"prompt": p, "verdict": "good_enough"} for p in prompts]
    for row in rows:
        row["tier"] = router.classify(row["prompt"]).tier.value
    log = synthetic_log(tmp_path / "d.db", rows)
    result = train_with_logs(
        log, base_rows=base_rows, registry=tmp_path / "models", cfg=FAST, log_weight=0.01
    )
    assert not result.promoted and "not better" in result.reason
    assert registry.promoted_version(tmp_path / "models") is None
    held = result.metrics["held_out"]
    assert held["champion"]["score"] == 1.0 and held["challenger"]["score"] <= 1.0
    assert (result.path / "metrics.json").exists() and (result.path / "model.json").exists()
    forced = train_with_logs(
        log, base_rows=base_rows, registry=tmp_path / "models", cfg=FAST, force=True
    )
    assert forced.promoted and registry.promoted_version(tmp_path / "models") == forced.name


def test_a_challenger_that_forgets_the_bundled_data_is_not_promoted(
    tmp_path: Path, base_rows: list
) -> None:
    # The user relabels every prompt of the bundled slice one tier cheaper and weights
    # the log heavily: the challenger wins on held-out log rows (they say cheaper too)
    # and loses on the bundled labels the guard scores, so the champion stays.
    lower = {"MEDIUM": "SIMPLE", "COMPLEX": "MEDIUM", "REASONING": "COMPLEX"}
    rows = [
        {"prompt": ex.prompt_text(), "tier_fix": lower[ex.tier]}
        for ex in base_rows
        if ex.tier in lower
    ]
    log = synthetic_log(tmp_path / "d.db", rows)
    result = train_with_logs(
        log, base_rows=base_rows, registry=tmp_path / "models", cfg=FAST, log_weight=30.0
    )
    held, guard = result.metrics["held_out"], result.metrics["guard"]
    assert held["challenger"]["score"] > held["champion"]["score"]
    assert guard["rows"] == len([ex for ex in base_rows if ex.tier is not None])
    assert guard["challenger"] < guard["champion"] - guard["max_regression"]
    assert not result.promoted and "forgot" in result.reason, result.reason
    assert registry.promoted_version(tmp_path / "models") is None
    # A looser bound lets the same challenger through.
    loose = train_with_logs(
        log, base_rows=base_rows, registry=tmp_path / "models", cfg=FAST, log_weight=30.0,
        max_regression=1.0,
    )  # fmt: skip
    assert loose.promoted, loose.reason


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
    result = train_with_logs(log, base_rows=base_rows, cfg=FAST)
    assert result.promoted, result.reason
    held, guard = result.metrics["held_out"], result.metrics["guard"]
    assert held["challenger"]["score"] > held["champion"]["score"]
    assert guard["challenger"] >= guard["champion"] - guard["max_regression"]

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


def test_max_regression_out_of_range_names_the_option(tmp_path: Path) -> None:
    out = CliRunner().invoke(
        app, ["train", "--logs", str(tmp_path / "d.db"), "--max-regression", "2"]
    )
    assert out.exit_code == 2 and "--max-regression" in out.output
