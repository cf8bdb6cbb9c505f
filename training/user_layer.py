"""Fit the user layer (:mod:`router.decision.user_layer`) on the log's outcome targets.

A weighted logistic regression of "the cheap model fell short" on the base model's
``logit(score)``, the extractor features (standardised) and hashed word n-grams,
started at the identity (``a = 1``, everything else 0) and pulled back towards it by
an L2 prior. How strong the prior is, for the features and for the n-grams
separately, is chosen by cross-validation on the training calls (3 folds by a hash
of the decision id) on APGR, the number promotion will judge it by; the identity is
one of the candidates, so with too little evidence the layer stays (nearly) the
base model. Everything runs on numpy/scipy in seconds: no public data, no refit of
the corpus.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse  # type: ignore[import-untyped]

from router.decision.features import FEATURE_NAMES
from router.decision.inputs import read_prompt
from router.decision.user_layer import UserLayer, hashed_tokens, logit
from training.outcomes import Target
from training.promotion import routing_numbers

__all__ = ["LayerData", "fit_layer", "layer_data"]

FloatArray = npt.NDArray[np.float64]
BUCKETS = 1 << 13
INF = math.inf
# (feature prior, n-gram prior) in pseudo-rows; INF keeps that part at the identity.
# Ordered from the strongest prior: on a tie the simpler layer wins.
GRID: tuple[tuple[float, float], ...] = (
    (INF, INF),
    (300.0, INF), (30.0, INF), (3.0, INF),
    (300.0, 30.0), (30.0, 30.0), (30.0, 10.0), (30.0, 3.0), (3.0, 3.0), (3.0, 1.0),
)  # fmt: skip
# The intercept and the slope on the base logit move the score's level and spread (not the
# order); a light prior keeps them finite when the calls are all one way.
LEVEL_PRIOR = 1.0
FOLDS = 3


@dataclass
class LayerData:
    ids: list[str]
    base: FloatArray  # logit of the base model's score
    x: FloatArray  # raw extractor features, rows x FEATURE_NAMES
    hashed: sparse.csr_matrix
    y: FloatArray
    w: FloatArray


def layer_data(
    classifier: Any, targets: Sequence[Target], text_of: Any, buckets: int = BUCKETS
) -> LayerData:
    """Classify each target's stored prompt with ``classifier`` (the base model, no layer)."""
    scores, feats, rows, cols = [], [], [], []
    for i, t in enumerate(targets):
        value = text_of(t.record)
        decision = classifier.classify(value)
        prompt = read_prompt(value)
        values = classifier.extractor.extract(prompt).values
        scores.append(logit(decision.score))
        feats.append([float(values.get(n, 0.0)) for n in FEATURE_NAMES])
        for h in hashed_tokens(prompt.text, buckets):
            rows.append(i)
            cols.append(h)
    n = len(targets)
    matrix = sparse.csr_matrix(
        (np.ones(len(rows)), (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64))),
        shape=(n, buckets),
    )
    return LayerData(
        ids=[t.record.id for t in targets],
        base=np.asarray(scores, dtype=np.float64),
        x=np.asarray(feats, dtype=np.float64).reshape(n, len(FEATURE_NAMES)),
        hashed=matrix,
        y=np.asarray([float(t.fell_short) for t in targets]),
        w=np.asarray([t.weight for t in targets], dtype=np.float64),
    )


@dataclass
class _Fit:
    a: float
    b: float
    w: FloatArray
    v: FloatArray

    def z(self, base: FloatArray, xs: FloatArray, hashed: sparse.csr_matrix) -> FloatArray:
        out = self.a * base + self.b + xs @ self.w
        if self.v.size:
            out = out + hashed @ self.v
        return np.asarray(out, dtype=np.float64)


def _fit(
    base: FloatArray,
    xs: FloatArray,
    hashed: sparse.csr_matrix,
    y: FloatArray,
    w: FloatArray,
    lam_x: float,
    lam_h: float,
) -> _Fit:
    """Penalised logistic regression by Newton-CG on one sparse design matrix.

    Columns: base logit, intercept, features (if their prior is finite), and the
    n-gram buckets that occur in these rows (the others stay 0: L2 gives them no
    reason to move). The penalty pulls each parameter to the identity.
    """
    n, k = xs.shape
    blocks = [sparse.csr_matrix(base.reshape(n, 1)), sparse.csr_matrix(np.ones((n, 1)))]
    pen = [LEVEL_PRIOR, LEVEL_PRIOR]
    if math.isfinite(lam_x):
        blocks.append(sparse.csr_matrix(xs))
        pen += [lam_x] * k
    used = np.zeros(0, dtype=np.int64)
    if math.isfinite(lam_h):
        used = np.flatnonzero(np.asarray(hashed.getnnz(axis=0)) > 0)
        blocks.append(hashed[:, used])
        pen += [lam_h] * len(used)
    design = sparse.hstack(blocks, format="csr")
    design_t = design.T.tocsr()
    penalty = np.asarray(pen)
    prior = np.zeros(design.shape[1])
    prior[0] = 1.0
    weight = w / w.mean()

    def parts(theta: FloatArray) -> tuple[FloatArray, FloatArray]:
        z = design @ theta
        return z, 1.0 / (1.0 + np.exp(-z))

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        z, p = parts(theta)
        d = theta - prior
        loss = float(np.sum(weight * (np.logaddexp(0.0, z) - y * z)) + 0.5 * (penalty * d) @ d)
        return loss, design_t @ (weight * (p - y)) + penalty * d

    squared = design.multiply(design).T.tocsr()
    theta = _newton(objective, design, design_t, squared, weight, penalty, prior, parts)
    wx = theta[2 : 2 + k] if math.isfinite(lam_x) else np.zeros(k)
    v = np.zeros(hashed.shape[1] if math.isfinite(lam_h) else 0)
    if v.size:
        v[used] = theta[len(theta) - len(used) :]
    return _Fit(float(theta[0]), float(theta[1]), wx, v)


def _newton(
    objective: Any,
    design: sparse.csr_matrix,
    design_t: sparse.csr_matrix,
    squared: sparse.csr_matrix,
    weight: FloatArray,
    penalty: FloatArray,
    start: FloatArray,
    parts: Any,
    *,
    steps: int = 25,
    cg_steps: int = 40,
    tol: float = 1e-5,
) -> FloatArray:
    """Newton's method, each step solved by Jacobi-preconditioned conjugate gradients.

    Written out because scipy's Newton-CG and L-BFGS-B spend most of their time in
    per-iteration overhead at this size (tens of thousands of sparse columns); here
    a step costs two sparse products per CG iteration, and a backtracking line
    search keeps every step a descent.
    """
    theta = start.copy()
    loss, grad = objective(theta)
    for _ in range(steps):
        _, p = parts(theta)
        d = weight * p * (1.0 - p)
        diag = squared @ d + penalty
        # CG on H x = -grad
        x = np.zeros_like(theta)
        r = -grad
        z = r / diag
        q = z.copy()
        rz = float(r @ z)
        for _ in range(cg_steps):
            hq = design_t @ (d * (design @ q)) + penalty * q
            alpha = rz / float(q @ hq)
            x += alpha * q
            r -= alpha * hq
            if float(np.sqrt(r @ r)) < 0.1 * float(np.sqrt(grad @ grad)):
                break
            z = r / diag
            rz_new = float(r @ z)
            q = z + (rz_new / rz) * q
            rz = rz_new
        step = 1.0
        decrease = float(grad @ x)
        while step > 1e-4:
            new_loss, new_grad = objective(theta + step * x)
            if new_loss <= loss + 1e-4 * step * decrease:
                break
            step *= 0.5
        else:
            break
        theta = theta + step * x
        done = loss - new_loss < tol * max(1.0, abs(loss))
        loss, grad = new_loss, new_grad
        if done:
            break
    return np.asarray(theta, dtype=np.float64)


def _folds(ids: Sequence[str], seed: int) -> FloatArray:
    return np.asarray(
        [int(hashlib.sha256(f"fold:{seed}:{i}".encode()).hexdigest(), 16) % FOLDS for i in ids]
    )


def fit_layer(
    data: LayerData,
    *,
    name: str,
    base_version: str | None,
    seed: int = 0,
    grid: Sequence[tuple[float, float]] = GRID,
    info: dict[str, Any] | None = None,
) -> UserLayer:
    """The layer with the prior strength that cross-validates best by APGR, refitted on all rows."""
    mean = data.x.mean(axis=0) if len(data.y) else np.zeros(data.x.shape[1])
    scale = data.x.std(axis=0) if len(data.y) else np.ones(data.x.shape[1])
    scale = np.where(scale > 1e-9, scale, 1.0)
    xs = (data.x - mean) / scale
    fold = _folds(data.ids, seed)
    cv: list[tuple[float, float, float]] = []
    both = len(data.y) and data.y.min() != data.y.max()
    for lam_x, lam_h in grid if both else grid[:1]:
        apgrs = []
        for f in range(FOLDS):
            tr, te = fold != f, fold == f
            yt = data.y[te]
            if not tr.any() or len(yt) == 0 or yt.min() == yt.max():
                continue
            fit = _fit(data.base[tr], xs[tr], data.hashed[tr], data.y[tr], data.w[tr], lam_x, lam_h)
            apgrs.append(routing_numbers(fit.z(data.base[te], xs[te], data.hashed[te]), yt)[0])
        cv.append((lam_x, lam_h, float(np.mean(apgrs)) if apgrs else float("nan")))
    scored = [c for c in cv if c[2] == c[2]]
    lam_x, lam_h, best = max(scored, key=lambda c: c[2]) if scored else (INF, INF, float("nan"))
    fit = _fit(data.base, xs, data.hashed, data.y, data.w, lam_x, lam_h)
    hashed = {int(i): float(v) for i, v in enumerate(fit.v) if abs(v) > 1e-6}
    return UserLayer(
        name=name,
        base_version=base_version,
        features=tuple(FEATURE_NAMES),
        mean=tuple(float(m) for m in mean),
        scale=tuple(float(s) for s in scale),
        a=fit.a,
        b=fit.b,
        w=tuple(float(x) for x in fit.w),
        buckets=data.hashed.shape[1] if hashed else 0,
        hashed=hashed,
        info={
            **(info or {}),
            "rows": len(data.y),
            "fell_short": int(data.y.sum()),
            "prior": {"features": _num(lam_x), "ngrams": _num(lam_h)},
            "cv_apgr": {f"{_num(a)}/{_num(b)}": round(s, 4) for a, b, s in cv},
            "cv_best": round(best, 4) if best == best else None,
        },
    )


def _num(x: float) -> float | str:
    return x if math.isfinite(x) else "inf"
