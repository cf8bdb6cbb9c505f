"""Temperature scaling: the one number per head that makes its probabilities honest."""

from __future__ import annotations

from typing import Any

import numpy as np

from training.estimators import logloss

__all__ = ["fit_temperature"]


def fit_temperature(
    logits: np.ndarray[Any, Any], y: np.ndarray[Any, Any], w: np.ndarray[Any, Any], head: str
) -> float:
    """The T in softmax(logits / T) that minimises weighted validation log-loss."""

    def loss(t: float) -> float:
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return logloss(p / p.sum(axis=1, keepdims=True), y, w, head)

    # Golden-section search on log T over [0.25, 4]: the loss is unimodal in T.
    lo, hi = np.log(0.25), np.log(4.0)
    g = (np.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = loss(float(np.exp(a))), loss(float(np.exp(b)))
    for _ in range(40):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = loss(float(np.exp(a)))
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = loss(float(np.exp(b)))
    return float(np.exp((lo + hi) / 2))
