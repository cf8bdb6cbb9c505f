"""The shipped model is what `tierrouter train` makes from this checkout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from router.decision.artifact import bundled_artifact_path, load_artifact


def _shared_datasets() -> Path | None:
    try:
        from training.sources import default_shared_root

        return default_shared_root()
    except FileNotFoundError:
        return None


@pytest.mark.slow
# A full training run: about 4 minutes on 2 busy cores since the hashed n-grams, over the
# suite's 300 s default.
@pytest.mark.timeout(1200)
def test_train_reproduces_the_bundled_model(tmp_path: Path) -> None:
    """Default training on the bundled data gives the shipped coefficients.

    Catches a feature, keyword table or data change that was committed without
    retraining: the shipped model would then read prompts differently from how
    it was trained.
    """
    if _shared_datasets() is None:
        pytest.skip("../shared/datasets is not here; the bundled model trains on it")
    from training.config import TrainConfig
    from training.dataset import load_training_data
    from training.export import save
    from training.train import train

    rows, manifest = load_training_data()
    result = train(rows, manifest, TrainConfig())
    save(result, tmp_path / "model")
    bundled = np.load(bundled_artifact_path().with_suffix(".npz"))
    fresh = np.load(tmp_path / "model.npz")
    assert sorted(bundled.files) == sorted(fresh.files)
    for name in bundled.files:
        np.testing.assert_allclose(fresh[name], bundled[name], rtol=1e-6, atol=1e-8, err_msg=name)
    assert (
        load_artifact(tmp_path / "model.json").layout
        == load_artifact(bundled_artifact_path()).layout
    )
