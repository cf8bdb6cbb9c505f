"""The user layer: fitted on outcomes in seconds, safe to load, applied at decision time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest_providers import KEYS
from fake_providers import FakeProviders
from log_helpers import k8s_prompts, synthetic_log, tiered_catalog
from test_log_retrain import trivia
from typer.testing import CliRunner

from router import Router
from router.cli.app import app
from router.decision.classifier import Classifier
from router.decision.user_layer import UserLayer, hashed_tokens, load_layer
from router.errors import ModelArtifactError
from router.log import registry
from router.types import tier_band
from training import retrain_layer
from training.retrain_layer import train_layer_with_logs

PROBE_K8S = "Write a Kubernetes deployment manifest for the ledger service with 3 replicas."
PROBE_FACT = "What is the capital of Portugal?"


def user_log(tmp_path: Path, *, as_bundled: bool = False):  # type: ignore[no-untyped-def]
    # This user's cheap model does the long Kubernetes requests well and misses short
    # factual questions: the opposite of the bundled model's ordering (or, with
    # ``as_bundled``, the other way round, as the bundled model expects).
    k8s, fact = (
        ("needed_stronger", "cheaper_ok") if as_bundled else ("cheaper_ok", "needed_stronger")
    )
    rows = [{"prompt": p, "verdict": k8s} for p in k8s_prompts(60)]
    rows += [{"prompt": p, "verdict": fact} for p in trivia(60)]
    return synthetic_log(tmp_path / "d.db", rows)


def identity(name: str = "id", base_version: str | None = None) -> UserLayer:
    return UserLayer(name, base_version, ("token_count",), (0.0,), (1.0,), w=(0.0,))


def test_the_identity_layer_keeps_score_and_tier() -> None:
    plain = Classifier()
    layered = Classifier()
    layered.user_layer = identity()
    for prompt in (PROBE_K8S, PROBE_FACT, "Prove that there are infinitely many primes."):
        a, b = plain.classify(prompt), layered.classify(prompt)
        assert b.score == pytest.approx(a.score, abs=1e-3) and b.tier is a.tier
        assert b.model_version == f"{a.model_version}+id" and "user layer id" in b.reasons[-1]


def test_a_layer_moves_score_and_tier_through_the_thresholds_but_not_below_a_floor() -> None:
    up = UserLayer("up", None, (), (), (), a=1.0, b=6.0)
    clf = Classifier()
    clf.user_layer = up
    d = clf.classify(PROBE_FACT)
    assert d.score > 0.75 and d.tier.value == "REASONING"
    down = UserLayer("down", None, (), (), (), a=1.0, b=-8.0)
    clf.user_layer = down
    assert clf.classify(PROBE_FACT).tier.value == "SIMPLE"
    # Tools in the request put a floor under the tier; the layer cannot push below it.
    tools = [{"type": "function", "function": {"name": "f", "parameters": {}}}]
    floored = clf.classify(PROBE_FACT, tools=tools)
    assert clf._tools_floor.rank >= 1
    assert floored.tier.rank == clf._tools_floor.rank
    assert floored.score >= tier_band(floored.tier)[0]


def test_layer_files_round_trip_and_bad_ones_are_refused(tmp_path: Path) -> None:
    names = ("token_count", "code_presence")
    layer = UserLayer("L", "v1", names, (0.1, 0.2), (1.0, 2.0), a=0.9, b=-0.1,
                      w=(0.3, -0.2), buckets=64, hashed={3: 0.5, 60: -0.25})  # fmt: skip
    path = layer.save(tmp_path / "layer.json")
    again = load_layer(path)
    assert again == UserLayer(**{**layer.__dict__, "hashed": {3: 0.5, 60: -0.25}})
    assert again.score(0.4, {"token_count": 1.0}, "x") == layer.score(
        0.4, {"token_count": 1.0}, "x"
    )
    data = json.loads(path.read_text())
    for field, value, match in (
        ("format", "pickle", "not a tierrouter user layer"),
        ("w", [0.1], "w has 1 values, expected 2"),
        ("scale", [1.0, 0.0], "scale must be positive"),
        ("hashed", {"99": 1.0}, "hashed bucket outside"),
        ("a", "nan", "not a finite number"),
    ):
        (tmp_path / "bad.json").write_text(json.dumps({**data, field: value}))
        with pytest.raises(ModelArtifactError, match=match):
            load_layer(tmp_path / "bad.json")
    assert hashed_tokens("Hello, World!", 64) == hashed_tokens("hello world", 64)


def test_a_layer_fitted_on_the_users_outcomes_is_promoted_and_routes_their_way(
    fake: FakeProviders, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = tmp_path / "models"
    monkeypatch.setenv("TIERROUTER_MODEL_DIR", str(models))
    options = {"catalog": tiered_catalog(fake), "keys": dict(KEYS), "env": {},
               "strategy": "cheapest"}  # fmt: skip
    before = Router(**options)
    old_k8s, old_fact = before.classify(PROBE_K8S), before.classify(PROBE_FACT)
    assert old_k8s.score > old_fact.score  # the bundled model's view

    result = train_layer_with_logs(user_log(tmp_path), resamples=300)
    assert result.promoted, result.reason
    cmp = result.metrics["comparison"]
    assert cmp["challenger_apgr"] > cmp["champion_apgr"] and cmp["ci_low"] > 0
    assert result.metrics["kind"] == "user layer" and (result.path / "layer.json").is_file()
    assert not (result.path / "model.json").exists()
    assert "pickle" not in (result.path / "layer.json").read_text()

    before.reload_model()  # a running router picks the promoted layer up
    for router in (before, Router(**options)):
        k8s, fact = router.classify(PROBE_K8S), router.classify(PROBE_FACT)
        assert fact.score > k8s.score  # the user's outcomes now order them
        assert k8s.model_version and k8s.model_version.endswith(result.name)
        assert router.route(PROBE_K8S).decision.estimated_cost <= before.route(
            PROBE_K8S).decision.estimated_cost  # fmt: skip

    listed = CliRunner(env={"COLUMNS": "250"}).invoke(app, ["models", "list"])
    assert listed.exit_code == 0 and "user layer" in listed.output
    assert "better on your held-out calls" in listed.output
    back = CliRunner().invoke(app, ["models", "rollback"])
    assert back.exit_code == 0 and "bundled" in back.output
    assert Router(**options).classify(PROBE_K8S).score == pytest.approx(old_k8s.score)


def test_a_broken_layer_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A layer that inverts the order it learned (a bug in fitting, say) on a user whose
    # outcomes the bundled model already orders well: worse on the held-out calls with
    # an interval below 0, so the champion stays.
    real = retrain_layer.fit_layer

    def inverted(*args, **kwargs):  # type: ignore[no-untyped-def]
        good = real(*args, **kwargs)
        return UserLayer(**{**good.__dict__, "a": -good.a, "b": -good.b,
                            "w": tuple(-x for x in good.w),
                            "hashed": {k: -v for k, v in good.hashed.items()}})  # fmt: skip

    monkeypatch.setattr(retrain_layer, "fit_layer", inverted)
    log = user_log(tmp_path, as_bundled=True)
    result = train_layer_with_logs(log, registry=tmp_path / "m", resamples=300)
    assert not result.promoted and "not clearly better" in result.reason
    assert result.metrics["comparison"]["ci_high"] < 0
    assert registry.promoted_version(tmp_path / "m") is None


def test_a_layer_fitted_on_another_model_is_skipped_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIERROUTER_MODEL_DIR", str(tmp_path))
    identity("old", base_version="some-older-model").save(tmp_path / "x-layer" / "layer.json")
    registry.promote("x-layer", tmp_path)
    with pytest.warns(RuntimeWarning, match="fitted on model some-older-model"):
        router = Router()
    assert router.classifier.user_layer is None


def test_cli_train_logs_fits_a_layer_in_seconds_without_public_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIERROUTER_MODEL_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("TIERROUTER_DATASETS", str(tmp_path / "nowhere"))
    user_log(tmp_path)
    out = CliRunner().invoke(app, ["train", "--logs", str(tmp_path / "d.db")])
    assert out.exit_code == 0, out.output
    assert "promoted" in out.output and "user layer: 79 calls" in out.output
    empty = synthetic_log(tmp_path / "e.db", [{"prompt": "hello"}])
    empty.close()
    none = CliRunner().invoke(app, ["train", "--logs", str(tmp_path / "e.db")])
    assert none.exit_code == 2 and "tierrouter feedback" in none.output


def test_stored_prompts_that_cannot_be_read_again_are_left_out(tmp_path: Path) -> None:
    from router.log.store import Feedback
    from training.outcomes import targets_from_log
    from training.retrain import held_out_targets

    log = user_log(tmp_path)
    bad = next(iter(log.records()))
    # A prompt that reads as empty (say, everything in it was redacted): not decidable.
    log.record(bad.__class__(**{**bad.to_dict(), "id": "rt-blank", "prompt": "   "}))
    log.flush()
    log.attach_feedback(Feedback("rt-blank", verdict="needed_stronger"))
    report = targets_from_log(log)
    assert "rt-blank" in {t.record.id for t in report.targets}
    train, test = held_out_targets(report, 0.3, 0)
    assert "rt-blank" not in {t.record.id for t in train + test}
    assert len(train) + len(test) == len(report.targets) - 1
    assert train_layer_with_logs(log, registry=tmp_path / "m", resamples=50).name


def test_the_tier_follows_a_models_own_cut_points() -> None:
    from types import SimpleNamespace

    from router.decision.user_layer import _thresholds

    assert _thresholds(None) == (0.25, 0.5, 0.75)
    model = SimpleNamespace(score_cuts=(0.1, 0.3, 0.6))
    assert _thresholds(model) == (0.1, 0.3, 0.6)
    decision = Classifier().classify(PROBE_FACT)
    # b moves the score, so its tier is read from the model's cuts, not kept.
    layer = UserLayer("c", None, (), (), (), a=1.0, b=0.5)
    moved = layer.adjust(decision, {}, PROBE_FACT, model=model)
    want = sum(moved.score >= c for c in (0.1, 0.3, 0.6))
    assert moved.tier.rank == want


def test_a_layer_sits_on_a_promoted_full_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from router.decision.artifact import bundled_artifact_path

    models = tmp_path / "models"
    monkeypatch.setenv("TIERROUTER_MODEL_DIR", str(models))
    base = models / "00000000-000000-full"
    base.mkdir(parents=True)
    source = bundled_artifact_path()
    for file in source.parent.glob(f"{source.stem}.*"):
        shutil.copy(file, base / f"model{file.suffix}")
    registry.promote(base.name)
    result = train_layer_with_logs(user_log(tmp_path), resamples=300)
    assert result.promoted, result.reason
    assert result.metrics["layer"]["base_entry"] == base.name
    assert registry.promoted_artifact() is not None  # the full model under the layer
    assert Router().classifier.user_layer is not None
    # Rolling back the layer returns to the full model, not to the bundled one.
    assert registry.rollback() == base.name
    assert Router().classifier.user_layer is None
