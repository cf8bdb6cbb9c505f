"""The fitted scikit-learn estimators as one object, saved beside the artifact for
users who want them (the router itself reads only the JSON + npz artifact)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from router.decision.artifact import FeatureLayout
from router.decision.features import Extraction
from training import featurize as F
from training.config import CLASSES

__all__ = ["FittedPipeline", "load_pipeline"]


@dataclass
class FittedPipeline:
    """The fitted scikit-learn estimators with the layout that feeds them.

    Saved with joblib for users who want scikit-learn objects; the router itself
    never loads this (it reads the JSON + npz artifact).
    """

    layout_json: dict[str, Any]
    estimators: dict[str, Any]
    groups: dict[str, F.FeatureGroups] = field(default_factory=dict)

    @property
    def layout(self) -> FeatureLayout:
        return FeatureLayout.from_json(self.layout_json)

    def design(self, extractions: Sequence[Extraction]) -> Any:
        return F.matrix(F.Rows.build(extractions, self.layout))

    def predict_proba(self, head: str, extractions: Sequence[Extraction]) -> np.ndarray[Any, Any]:
        """Probabilities in the artifact's class order (all classes, absent ones ~0)."""
        est = self.estimators[head]
        raw = est.predict_proba(self.design(extractions))
        out = np.zeros((raw.shape[0], len(CLASSES[head])))
        for j, c in enumerate(est.classes_):
            out[:, CLASSES[head].index(str(c))] = raw[:, j]
        return out


def load_pipeline(path: str | Path) -> FittedPipeline:
    """Load a ``.joblib`` pipeline the user named explicitly.

    joblib files are pickles and run code when loaded: this is only ever called on a
    path a user passed, never on a default or a discovered file.
    """
    import joblib

    p = Path(path)
    if p.suffix != ".joblib":
        raise ValueError(f"{p}: expected a .joblib file written by `tierrouter train`")
    obj = joblib.load(p)
    if not isinstance(obj, FittedPipeline):
        raise TypeError(f"{p}: not a tierrouter pipeline (got {type(obj).__name__})")
    return obj
