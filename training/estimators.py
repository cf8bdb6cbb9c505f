"""Fitting the logistic-regression heads and reading their outputs in the artifact's
class order (every class listed, including those the rows never showed)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from router.decision.artifact import FeatureLayout
from training import featurize as F
from training.config import ABSENT_LOGIT, CLASSES, HEADS, HeadChoice, TrainConfig
from training.dataset import TrainingData

__all__ = ["fit_head", "fit_heads", "logits", "logloss", "proba", "softmax"]


def fit_head(
    X: Any, y: np.ndarray[Any, Any], w: np.ndarray[Any, Any], choice: HeadChoice, cfg: TrainConfig
) -> Any:
    """One head's ``LogisticRegression`` with ``choice``'s settings, fitted on weighted rows."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    est = LogisticRegression(
        C=choice.C,
        max_iter=cfg.max_iter,
        tol=1e-3,
        class_weight="balanced" if choice.balanced else None,
    )
    with warnings.catch_warnings():
        # A few hundred lbfgs steps are within 1e-3 of the optimum here; more buys
        # nothing on validation, and a tiny user dataset should not fail on it.
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y, sample_weight=w)
    return est


def fit_heads(
    data: TrainingData,
    train_idx: np.ndarray[Any, Any],
    choices: dict[str, HeadChoice],
    layout: FeatureLayout | None = None,
) -> tuple[FeatureLayout, dict[str, Any], F.Rows]:
    """Both heads fitted on the rows ``train_idx`` (each on those it has a label for),
    with the layout (vocabulary from those rows unless given) and every row featurised."""
    layout = layout or data.layout(train_idx)
    rows = data.rows(layout)
    w = data.weights()
    ests = {}
    for head in HEADS:
        y = data.labels(head)
        ti = train_idx[y[train_idx] != ""]
        X = F.matrix(rows, choices[head].groups)
        ests[head] = fit_head(X[ti], y[ti], w[ti], choices[head], data.cfg)
    return layout, ests, rows


def proba(est: Any, X: Any, head: str) -> np.ndarray[Any, Any]:
    """Probabilities over all of ``head``'s classes, absent ones floored at 1e-12."""
    raw = est.predict_proba(X)
    out = np.full((raw.shape[0], len(CLASSES[head])), 1e-12)
    for j, c in enumerate(est.classes_):
        out[:, CLASSES[head].index(str(c))] = raw[:, j]
    normalised: np.ndarray[Any, Any] = out / out.sum(axis=1, keepdims=True)
    return normalised


def logits(est: Any, X: Any, head: str) -> np.ndarray[Any, Any]:
    """Decision values over all of ``head``'s classes, absent ones at ``ABSENT_LOGIT``."""
    raw = est.decision_function(X)
    out = np.full((raw.shape[0], len(CLASSES[head])), ABSENT_LOGIT)
    for j, c in enumerate(est.classes_):
        out[:, CLASSES[head].index(str(c))] = raw[:, j]
    return out


def logloss(
    p: np.ndarray[Any, Any], y: np.ndarray[Any, Any], w: np.ndarray[Any, Any], head: str
) -> float:
    """Weighted mean log-loss of the probabilities ``p`` for the labels ``y``."""
    idx = np.asarray([CLASSES[head].index(c) for c in y])
    picked = np.clip(p[np.arange(len(y)), idx], 1e-12, 1.0)
    return float(-(w * np.log(picked)).sum() / w.sum())


def softmax(z: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray[Any, Any] = e / e.sum(axis=1, keepdims=True)
    return out
