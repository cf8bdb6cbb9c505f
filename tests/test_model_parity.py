"""The numpy scorer equals scikit-learn, artifacts round-trip, broken ones fail loudly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from router.decision.artifact import ARTIFACT_VERSION, bundled_artifact_path, load_artifact
from router.decision.classifier import Classifier
from router.errors import ModelArtifactError

BUNDLED = bundled_artifact_path()
needs_bundled = pytest.mark.skipif(not BUNDLED.exists(), reason="no bundled model artifact")

PROMPTS = [
    "hi",
    "Write a haiku about autumn rain.",
    "Translate 'good morning, how did you sleep?' into Japanese.",
    "Prove that there are infinitely many primes congruent to 3 mod 4.",
    "Implement an LRU cache in Python with O(1) get and put, and explain the design.",
    "Résume ce texte en trois phrases : la réunion a porté sur le budget 2025.",
    "请解释一下量子纠缠是什么，并举一个例子。",
    "Extract every date and amount from this invoice as JSON: Invoice 42, due 2024-03-01, $1,250.",
    "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes "
    "muffins for her friends every day with four. How much does she make every day?",
]


def _copy_artifact(tmp_path: Path) -> Path:
    for suffix in (".json", ".npz"):
        shutil.copy(BUNDLED.with_suffix(suffix), tmp_path / f"m{suffix}")
    return tmp_path / "m.json"


@needs_bundled
def test_numpy_scorer_matches_sklearn_predict_proba() -> None:
    from training.examples import Example
    from training.featurize import default_extractor, extract
    from training.pipeline import load_pipeline

    joblib_path = BUNDLED.with_suffix(".joblib")
    if not joblib_path.exists():
        pytest.skip("bundled joblib pipeline not present")
    pipeline = load_pipeline(joblib_path)
    artifact = load_artifact(BUNDLED)
    rows = [
        Example(str(i), p, None, None, None, "en", "t", "eval", "t") for i, p in enumerate(PROMPTS)
    ]
    extractions = extract(rows, default_extractor())
    for head, index in (("task", 0), ("tier", 1)):
        expected = pipeline.predict_proba(head, extractions)
        got = np.asarray(
            [
                [getattr(artifact.predict(ex), head)[c] for c in pipeline_classes(artifact, head)]
                for ex in extractions
            ]
        )
        assert np.max(np.abs(got - expected)) < 1e-9
        dense = np.asarray([artifact.featurizer.dense(ex) for ex in extractions])
        words = [artifact.featurizer.word_indices(ex) for ex in extractions]
        ngrams = [artifact.featurizer.ngram_values(ex) for ex in extractions]
        batch = artifact.predict_proba_rows(dense, words, ngrams)[index]
        assert np.max(np.abs(batch - expected)) < 1e-9


def pipeline_classes(artifact: object, head: str) -> tuple[str, ...]:
    return getattr(artifact, f"{head}_classes")  # type: ignore[no-any-return]


@needs_bundled
def test_round_trip_and_metadata(tmp_path: Path) -> None:
    path = _copy_artifact(tmp_path)
    artifact = load_artifact(path)
    meta = json.loads(path.read_text(encoding="utf-8"))
    assert meta["format"] == "tierrouter-lr" and meta["format_version"] == ARTIFACT_VERSION
    assert artifact.version == meta["version"]
    assert meta["low_confidence"]["policy"] in ("rules", "blend")
    assert meta["training"]["manifest"]["sets"], "training-data manifest is empty"
    for entry in meta["training"]["manifest"]["sets"]:
        assert entry["use"] == "train"
        assert all(len(h) == 64 for h in entry["files"].values())
    decision = Classifier(model=path).classify("Prove that sqrt(2) is irrational.")
    assert decision.source in ("model", "blend", "rules")
    assert decision.model_version == meta["version"] or decision.source == "rules"


@needs_bundled
@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: p.unlink(), "not found"),
        (lambda p: p.write_text("{not json", encoding="utf-8"), "not a readable JSON"),
        (lambda p: _edit(p, format_version=99), "format_version 99"),
        (lambda p: _edit(p, format_version=1), "version 2 added the within-tier score"),
        (lambda p: _edit(p, within_tier={"length_weight": 0.1}), "length_center"),
        (lambda p: _edit(p, within_tier={"length_weight": -1, "length_center": 3}), ">= 0"),
        (lambda p: _edit(p, format="something-else"), "not a tierrouter-lr"),
        (lambda p: p.with_suffix(".npz").write_bytes(b"garbage"), "corrupt"),
        (lambda p: p.with_suffix(".npz").unlink(), "coefficients not found"),
        (lambda p: _drop_vocabulary(p), "shape"),
    ],
)
def test_broken_artifact_raises_naming_the_file(tmp_path: Path, damage, message: str) -> None:  # type: ignore[no-untyped-def]
    path = _copy_artifact(tmp_path)
    damage(path)
    with pytest.raises(ModelArtifactError, match=message) as info:
        load_artifact(path)
    assert "m.json" in str(info.value) or "m.npz" in str(info.value)
    with pytest.raises(ModelArtifactError):
        Classifier(model=path)


def _edit(path: Path, **changes: object) -> None:
    meta = json.loads(path.read_text(encoding="utf-8"))
    meta.update(changes)
    path.write_text(json.dumps(meta), encoding="utf-8")


def _drop_vocabulary(path: Path) -> None:
    meta = json.loads(path.read_text(encoding="utf-8"))
    meta["features"]["vocabulary"] = meta["features"]["vocabulary"][:-5]
    path.write_text(json.dumps(meta), encoding="utf-8")


def test_broken_bundled_model_falls_back_to_rules_with_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import router.decision.artifact

    broken = tmp_path / "tierrouter-model.json"
    broken.write_text("{}", encoding="utf-8")
    monkeypatch.setattr(router.decision.artifact, "bundled_artifact_path", lambda: broken)
    decision = Classifier().classify("Write a limerick about a cat.")
    assert decision.source == "rules"
    assert any("bundled model unavailable" in w and str(broken) in w for w in decision.warnings)


@needs_bundled
def test_router_answers_with_the_bundled_model() -> None:
    from router import Router

    decision = Router().classify("Implement a thread-safe bounded queue in Rust and explain it.")
    assert decision.source == "model"
    assert decision.model_version
    assert not any("unavailable" in w for w in decision.warnings)


@needs_bundled
def test_score_places_the_prompt_in_its_band_by_expected_rank_and_length() -> None:
    """The decision's score is the documented within-tier formula, for every prompt."""
    import math

    from router.types import TIERS, tier_band

    classifier = Classifier()
    model = classifier.model
    assert model is not None
    if model.has_score:
        pytest.skip("the bundled model's score is its outcome score (test_outcome_score.py)")
    for prompt in PROMPTS:
        d = classifier.classify(prompt)
        if d.source == "rules":
            continue
        expected = sum(d.tier_probabilities[t.value] * t.rank for t in TIERS)
        z = (
            expected
            - d.tier.rank
            + model.length_weight * (math.log1p(d.estimated_tokens) - model.length_center)
        )
        lo, hi = tier_band(d.tier)
        assert d.score == pytest.approx(lo + (hi - lo) * 0.5 * (1 + z / (1 + abs(z))), abs=1e-12)


@needs_bundled
def test_length_weight_moves_long_prompts_up_and_short_ones_down(tmp_path: Path) -> None:
    """Same tier and probabilities; the length term lifts prompts longer than the center."""
    import math

    path = _copy_artifact(tmp_path)
    # The within-tier score is what an artifact without an outcome score uses.
    _edit(path, score=None, within_tier={"length_weight": 0.5, "length_center": 4.0})
    heavy = Classifier(model=path)
    _edit(path, within_tier={"length_weight": 0.0, "length_center": 4.0})
    flat = Classifier(model=path)
    moved = set()
    for prompt in [*PROMPTS, " ".join(PROMPTS)]:
        h, f = heavy.classify(prompt), flat.classify(prompt)
        assert h.tier == f.tier and h.tier_probabilities == f.tier_probabilities
        longer = math.log1p(h.estimated_tokens) > 4.0
        assert (h.score > f.score) if longer else (h.score < f.score)
        moved.add(longer)
    assert moved == {True, False}
