"""Fit the task and tier heads and export the artifact the router scores with numpy.

Protocol (every choice below is made on training data only; eval sets never are read):

1. **Data.** Public sets marked *train* (``training.sources.load_all(use="train")``,
   with the hand labels of ``data/labels/`` joined on) plus the project's
   ``data/*.jsonl``; or, with ``--data``, the user's files in that
   format (public sets still join unless ``public=False``).
2. **Validation slice.** 20 % of the training rows, chosen by a seeded hash of the row
   id (stable when rows are added). Model selection, temperature and the
   low-confidence policy are fitted on it; the other 80 % fits the candidates.
3. **Selection, per head.** ``C`` over a small grid with every feature group, then
   each group (language one-hot, length buckets, vocabulary, hashed n-grams) dropped
   in turn, and class balancing, keeping whatever lowers the weighted validation
   log-loss. A
   dropped group is zeroed, not removed, so its coefficients export as zeros and
   the artifact layout stays the same.
4. **Held-out sources.** Hold-out units (each project ``source``, each public set,
   each MMLU subject) are dealt into three folds; each fold is refitted without its
   units and scored on them, so these numbers describe prompts unlike any seen in
   training. The vocabulary is rebuilt without the held-out rows too.
5. **Final fit** on all training rows with the chosen settings; the temperatures fitted
   on validation are folded into coefficients and intercepts (both divided by T), in
   the exported arrays and in the saved scikit-learn estimators alike.
6. **Within-tier score.** ``Decision.score`` places a prompt inside its tier's band by
   ``expected tier rank + w * (log(1 + tokens) - center)``. ``w`` is chosen from
   ``TrainConfig.length_weight_grid`` by the weighted within-tier concordance of the
   held-out-source predictions of step 4 (of two prompts given the same tier, does
   the one labelled higher score higher?); ties keep the smaller weight.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import platform
import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from router.decision.artifact import ARTIFACT_FORMAT, ARTIFACT_VERSION, FeatureLayout
from router.decision.features import Extraction
from router.decision.ngrams import HashSpec
from router.types import band_position
from training import featurize as F
from training.examples import TASK_NAMES, TIER_NAMES, Example
from training.metrics import classification_report

__all__ = [
    "FittedPipeline",
    "TrainConfig",
    "TrainResult",
    "load_pipeline",
    "load_training_data",
    "train",
]

HEADS = ("task", "tier")
CLASSES = {"task": TASK_NAMES, "tier": TIER_NAMES}
TIER_RANK = {t: i for i, t in enumerate(TIER_NAMES)}
# Logit given to a class the training data never showed, so the artifact still
# lists all classes and the class practically never wins.
_ABSENT_LOGIT = -30.0

Progress = Callable[[str, float], None]
# Project rows carry sources such as "tierrouter/en_a".
_PROJECT_PREFIX = "tierrouter/"


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 0
    validation_share: float = 0.2
    min_df: int = 3
    vocabulary_size: int = 3000
    c_grid: tuple[float, ...] = (0.3, 1.0)
    holdout_folds: int = 3
    max_iter: int = 200
    # No length buckets by default: with them the tier head learned "under 16
    # tokens means SIMPLE" (a +2.4 logit swing), which sent short expert requests
    # ("Implement a lock-free MPMC queue in Rust using atomics") to the cheapest
    # model; the continuous token_count signal keeps length without that cliff.
    # Held-out-source task macro-F1 0.642 -> 0.645, eval tier within-one 0.813 -> 0.830.
    length_edges: tuple[float, ...] = ()
    # A public set larger than this many rows is weighted down to this total, so
    # 11k MMLU questions and 5k MATH problems do not drown the other sources.
    set_budget: float = 1500.0
    # Rows written to the labeling guide (data/, the hand labels of data/labels/, or
    # the user's own files) count more than rows whose labels were mapped from another
    # benchmark's fields.
    project_weight: float = 2.0
    # Fit each head's temperature on the held-out-source predictions rather
    # than on the random validation slice (see _holdout).
    calibrate_on_held_out_sources: bool = True
    # Candidate weights of log(1 + tokens) next to the expected tier rank inside a
    # tier's band (see _within_tier); 0 keeps the expected rank alone.
    length_weight_grid: tuple[float, ...] = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0)
    # Hashed word and CJK character n-grams beside the extractors and the vocabulary
    # (router/decision/ngrams.py); 0 buckets leaves them out. The vocabulary sees
    # the 3,000 most frequent words only; these see every word and every CJK pair.
    ngram_features: int = 2**14
    ngram_head: int = 256
    ngram_tail: int = 64
    # Decision.score from outcomes (training/outcome_score.py): C candidates, chosen on
    # this many folds of whole outcome sets; an empty grid keeps the within-tier score.
    score_c_grid: tuple[float, ...] = (0.1, 1.0)
    score_folds: int = 3
    # Whether the tier head also learns from tiers mapped from an outcome pair ("the
    # cheap model was right -> SIMPLE"). Off: the tier is the guide's class (what the
    # prompt needs), and outcomes teach Decision.score instead. Mapped that way, 63-68 %
    # of MMLU, MMLU-Pro and ZeroEval rows and half of arena-bench's were SIMPLE, and the
    # head learned to send a proof of the Banach fixed-point theorem to SIMPLE.
    tier_from_outcomes: bool = False


@dataclass(frozen=True)
class HeadChoice:
    C: float
    groups: F.FeatureGroups
    balanced: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "C": self.C,
            "features": self.groups.label(),
            "languages": self.groups.languages,
            "length_buckets": self.groups.length_buckets,
            "vocabulary": self.groups.vocabulary,
            "ngrams": self.groups.ngrams,
            "class_weight": "balanced" if self.balanced else None,
        }


@dataclass
class TrainResult:
    meta: dict[str, Any]
    arrays: dict[str, np.ndarray[Any, Any]]
    pipeline: FittedPipeline
    seconds: float = 0.0


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


# ---------------------------------------------------------------------------- data


def load_training_data(
    data: Sequence[Path] = (), *, public: bool = True, shared_root: Path | None = None
) -> tuple[list[Example], dict[str, Any]]:
    """Training rows and their manifest (per source: rows, use, licence, file hashes)."""
    from training.sources import SOURCES, default_shared_root, load_all, project_data

    rows: list[Example] = []
    sets: list[dict[str, Any]] = []
    if public:
        root = shared_root or default_shared_root()
        public_rows = load_all(root, use="train")
        rows += public_rows
        per_set = Counter(_set_name(ex) for ex in public_rows)
        for name, spec in SOURCES.items():
            if name not in per_set:
                continue
            folder = root / spec.folder
            sets.append(
                {
                    "name": name,
                    "use": "train",
                    "licence": spec.licence,
                    "rows": per_set[name],
                    "files": _hash_folder(folder),
                }
            )
    project_paths = [Path(p) for p in data] or [project_data.default_data_dir()]
    project_rows = project_data.load(*project_paths)
    rows += project_rows
    files = project_data._files(project_paths)
    sets.append(
        {
            "name": "project" if not data else "user",
            "use": "train",
            "licence": "Apache-2.0 (written by the project)" if not data else "user-supplied",
            "rows": len(project_rows),
            "files": {_short(f): _sha256(f) for f in files},
        }
    )
    sources = Counter(ex.source for ex in rows)
    manifest = {"sets": sets, "rows": len(rows), "sources": dict(sorted(sources.items()))}
    return rows, manifest


def _set_name(ex: Example) -> str:
    return ex.source.split("/")[0]


def _short(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path.name


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _hash_folder(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): _sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def holdout_unit(ex: Example) -> str:
    """The unit held out together: a project source, a public set, or an MMLU subject.

    ``group`` is that unit for every row but RouteLLM's MMLU subjects: a set that
    repeats another set's prompts takes its twin's group (arena-bench-v1 is Arena,
    ZeroEval's MATH-L5 is MATH), so a fold never trains on one copy and scores the other.
    """
    if ex.source.startswith("routellm_outcomes/"):
        return ex.source
    return ex.group


def _hash_unit(text: str, seed: int) -> float:
    digest = hashlib.sha256(f"{seed}:{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


# ---------------------------------------------------------------------------- fitting


def _fit(
    X: Any, y: np.ndarray[Any, Any], w: np.ndarray[Any, Any], choice: HeadChoice, cfg: TrainConfig
) -> Any:
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


def _proba(est: Any, X: Any, head: str) -> np.ndarray[Any, Any]:
    raw = est.predict_proba(X)
    out = np.full((raw.shape[0], len(CLASSES[head])), 1e-12)
    for j, c in enumerate(est.classes_):
        out[:, CLASSES[head].index(str(c))] = raw[:, j]
    normalised: np.ndarray[Any, Any] = out / out.sum(axis=1, keepdims=True)
    return normalised


def _logloss(
    p: np.ndarray[Any, Any], y: np.ndarray[Any, Any], w: np.ndarray[Any, Any], head: str
) -> float:
    idx = np.asarray([CLASSES[head].index(c) for c in y])
    picked = np.clip(p[np.arange(len(y)), idx], 1e-12, 1.0)
    return float(-(w * np.log(picked)).sum() / w.sum())


def _fit_temperature(
    logits: np.ndarray[Any, Any], y: np.ndarray[Any, Any], w: np.ndarray[Any, Any], head: str
) -> float:
    """The T in softmax(logits / T) that minimises weighted validation log-loss."""

    def loss(t: float) -> float:
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return _logloss(p / p.sum(axis=1, keepdims=True), y, w, head)

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


def _logits(est: Any, X: Any, head: str) -> np.ndarray[Any, Any]:
    raw = est.decision_function(X)
    out = np.full((raw.shape[0], len(CLASSES[head])), _ABSENT_LOGIT)
    for j, c in enumerate(est.classes_):
        out[:, CLASSES[head].index(str(c))] = raw[:, j]
    return out


@dataclass
class _Data:
    examples: list[Example]
    extractions: list[Extraction]
    cfg: TrainConfig
    _ngrams: Any = None

    def ngram_spec(self) -> HashSpec | None:
        cfg = self.cfg
        if cfg.ngram_features <= 0:
            return None
        return HashSpec(cfg.ngram_features, cfg.ngram_head, cfg.ngram_tail)

    def ngrams(self) -> Any:
        """Every row's hashed n-gram block, computed once: it needs no vocabulary."""
        spec = self.ngram_spec()
        if spec is not None and self._ngrams is None:
            self._ngrams = F.hash_ngrams(self.extractions, spec)
        return self._ngrams

    def rows(self, layout: FeatureLayout) -> F.Rows:
        return F.Rows.build(self.extractions, layout, self.ngrams())

    def labels(self, head: str) -> np.ndarray[Any, Any]:
        """Each row's class for ``head``, "" where the row does not train that head."""
        if head == "tier" and not self.cfg.tier_from_outcomes:
            return np.asarray(
                ["" if _tier_from_outcome(ex) else (ex.tier or "") for ex in self.examples],
                dtype=object,
            )
        return np.asarray([getattr(ex, head) or "" for ex in self.examples], dtype=object)

    def weights(self) -> np.ndarray[Any, Any]:
        # Hand-labelled rows are weighed like data/, so a set's budget counts only the rest.
        sizes = Counter(_set_name(ex) for ex in self.examples if not ex.hand_labelled)
        out = []
        for ex in self.examples:
            name = _set_name(ex)
            if ex.source.startswith(_PROJECT_PREFIX) or name == "user" or ex.hand_labelled:
                factor = self.cfg.project_weight
            else:
                factor = min(1.0, self.cfg.set_budget / sizes[name])
            out.append(ex.weight * factor)
        return np.asarray(out, dtype=np.float64)

    def layout(self, index: np.ndarray[Any, Any]) -> FeatureLayout:
        vocab = F.build_vocabulary(
            [self.extractions[i] for i in index.tolist()],
            min_df=self.cfg.min_df,
            max_size=self.cfg.vocabulary_size,
        )
        return F.make_layout(vocab, length_edges=self.cfg.length_edges, ngrams=self.ngram_spec())


def _select(
    head: str,
    rows: F.Rows,
    y: np.ndarray[Any, Any],
    w: np.ndarray[Any, Any],
    fit_idx: np.ndarray[Any, Any],
    val_idx: np.ndarray[Any, Any],
    cfg: TrainConfig,
    tick: Callable[[str], None],
) -> tuple[HeadChoice, list[dict[str, Any]]]:
    """Greedy search on validation log-loss: C, then drop groups, then class balance."""
    fi = fit_idx[y[fit_idx] != ""]
    vi = val_idx[y[val_idx] != ""]
    cache: dict[F.FeatureGroups, Any] = {}

    def design(groups: F.FeatureGroups) -> Any:
        if groups not in cache:
            cache[groups] = F.matrix(rows, groups)
        return cache[groups]

    trials: list[dict[str, Any]] = []

    def score(choice: HeadChoice) -> float:
        X = design(choice.groups)
        est = _fit(X[fi], y[fi], w[fi], choice, cfg)
        loss = _logloss(_proba(est, X[vi], head), y[vi], w[vi], head)
        trials.append({**choice.to_json(), "val_logloss": round(loss, 5)})
        tick(f"{head}: C={choice.C:g}, {choice.groups.label()}")
        return loss

    best = min((HeadChoice(c, F.FeatureGroups(), False) for c in cfg.c_grid), key=score)
    best_loss = min(t["val_logloss"] for t in trials)
    droppable = ["languages", "length_buckets", "vocabulary"]
    if rows.layout.ngrams is not None:
        droppable.append("ngrams")
    for name in droppable:
        candidate = replace(best, groups=replace(best.groups, **{name: False}))
        loss = score(candidate)
        if loss < best_loss:
            best, best_loss = candidate, loss
    candidate = replace(best, balanced=True)
    if score(candidate) < best_loss:
        best = candidate
    return best, trials


def _low_confidence_policy(
    data: _Data,
    val_idx: np.ndarray[Any, Any],
    probs: dict[str, np.ndarray[Any, Any]],
) -> dict[str, Any]:
    """Pick the threshold and policy (rules or blend) that maximise validation accuracy.

    Mirrors ``Classifier._model_decision`` without the capability floors (they apply
    to model, rules and blend alike).
    """
    from router.router import Router

    rules = Router(model=False).classifier.rules
    task_y = data.labels("task")[val_idx]
    tier_y = data.labels("tier")[val_idx]
    rule_tier = np.zeros((len(val_idx), len(TIER_NAMES)))
    rule_task = np.zeros((len(val_idx), len(TASK_NAMES)))
    for k, i in enumerate(val_idx.tolist()):
        ex = data.extractions[i]
        tier_result = rules.tier(ex)
        _, task_scores = rules.task(ex.values)
        rule_tier[k] = [tier_result.probabilities[t] for t in TIER_NAMES]
        rule_task[k] = [task_scores[t] for t in TASK_NAMES]
    p_task, p_tier = probs["task"], probs["tier"]
    confidence = np.minimum(p_task.max(axis=1), p_tier.max(axis=1))

    def accuracy(tp: np.ndarray[Any, Any], rp: np.ndarray[Any, Any]) -> float:
        task_pred = np.asarray(TASK_NAMES, dtype=object)[tp.argmax(axis=1)]
        tier_pred = np.asarray(TIER_NAMES, dtype=object)[rp.argmax(axis=1)]
        t_ok = task_y != ""
        r_ok = tier_y != ""
        return float(((task_pred == task_y)[t_ok].mean() + (tier_pred == tier_y)[r_ok].mean()) / 2)

    grid = [0.0, *np.round(np.arange(0.2, 0.81, 0.05), 2).tolist()]
    table = []
    best: tuple[float, float, str] = (-1.0, 0.0, "rules")
    for policy in ("rules", "blend"):
        other_task = rule_task if policy == "rules" else (p_task + rule_task) / 2
        other_tier = rule_tier if policy == "rules" else (p_tier + rule_tier) / 2
        for threshold in grid:
            low = (confidence < threshold)[:, None]
            acc = accuracy(np.where(low, other_task, p_task), np.where(low, other_tier, p_tier))
            table.append({"policy": policy, "threshold": threshold, "val_accuracy": round(acc, 4)})
            # Strictly better only: ties keep the lower threshold (the model answers).
            if acc > best[0] + 1e-9:
                best = (acc, threshold, policy)
    return {
        "threshold": best[1],
        "policy": best[2],
        "val_accuracy": round(best[0], 4),
        "share_below": float((confidence < best[1]).mean()),
        "candidates": table,
    }


def _report(
    data: _Data, idx: np.ndarray[Any, Any], probs: dict[str, np.ndarray[Any, Any]]
) -> dict[str, Any]:
    task_pred = [TASK_NAMES[k] for k in probs["task"].argmax(axis=1)]
    tier_pred = [TIER_NAMES[k] for k in probs["tier"].argmax(axis=1)]
    report = classification_report(
        [data.examples[i].task for i in idx.tolist()],
        task_pred,
        [data.examples[i].tier for i in idx.tolist()],
        tier_pred,
        probs["tier"].max(axis=1).tolist(),
        TASK_NAMES,
        TIER_NAMES,
    )
    for head in report.values():
        head.pop("confusion", None)
        head.pop("labels", None)
    return report


def _fit_heads(
    data: _Data,
    train_idx: np.ndarray[Any, Any],
    choices: dict[str, HeadChoice],
    layout: FeatureLayout | None = None,
) -> tuple[FeatureLayout, dict[str, Any], F.Rows]:
    layout = layout or data.layout(train_idx)
    rows = data.rows(layout)
    w = data.weights()
    ests = {}
    for head in HEADS:
        y = data.labels(head)
        ti = train_idx[y[train_idx] != ""]
        X = F.matrix(rows, choices[head].groups)
        ests[head] = _fit(X[ti], y[ti], w[ti], choices[head], data.cfg)
    return layout, ests, rows


def _holdout(
    data: _Data,
    choices: dict[str, HeadChoice],
    temps: dict[str, float],
    tick: Callable[[str], None],
) -> tuple[dict[str, Any], np.ndarray[Any, Any] | None]:
    """The held-out-source report and the held-out tier probabilities (None: one source)."""
    cfg = data.cfg
    units = sorted({holdout_unit(ex) for ex in data.examples})
    if len(units) < 2:
        return {"folds": 0, "note": "a single source: nothing to hold out"}, None
    folds = min(cfg.holdout_folds, len(units))
    ranked = sorted(units, key=lambda u: _hash_unit(u, cfg.seed))
    fold_of = {u: k % folds for k, u in enumerate(ranked)}
    unit_arr = np.asarray([fold_of[holdout_unit(ex)] for ex in data.examples])
    logits = {
        "task": np.zeros((len(data.examples), len(TASK_NAMES))),
        "tier": np.zeros((len(data.examples), len(TIER_NAMES))),
    }
    for k in range(folds):
        train_idx = np.nonzero(unit_arr != k)[0]
        test_idx = np.nonzero(unit_arr == k)[0]
        _, ests, rows = _fit_heads(data, train_idx, choices)
        for head in HEADS:
            X = F.matrix(rows, choices[head].groups)[test_idx]
            logits[head][test_idx] = _logits(ests[head], X, head)
        tick(f"held-out fold {k + 1}/{folds}")
    if data.cfg.calibrate_on_held_out_sources:
        # Prompts from a source the model never saw are what it meets in use:
        # a temperature fitted on them keeps its confidence honest off the
        # training distribution, where one fitted on a random slice of the
        # training rows leaves it overconfident.
        w = data.weights()
        for head in HEADS:
            y = data.labels(head)
            labelled = y != ""
            temps[head] = _fit_temperature(logits[head][labelled], y[labelled], w[labelled], head)
    task_p = _softmax(logits["task"] / temps["task"])
    tier_p = _softmax(logits["tier"] / temps["tier"])
    everything = np.arange(len(data.examples))
    result: dict[str, Any] = {
        "folds": folds,
        "units": {u: fold_of[u] for u in units},
        "temperatures": {head: round(temps[head], 6) for head in HEADS},
        "all": _report(data, everything, {"task": task_p, "tier": tier_p}),
    }
    by_family: dict[str, list[int]] = {}
    for i, ex in enumerate(data.examples):
        by_family.setdefault(_family(ex), []).append(i)
    predicted = tier_p.argmax(axis=1)
    result["by_source"] = {
        fam: {
            "rows": len(ix),
            **_report(data, np.asarray(ix), {"task": task_p[ix], "tier": tier_p[ix]}),
            # Where a held-out source's prompts were sent, whatever their labels:
            # e.g. the share of Arena prompts (hard by construction) sent to SIMPLE.
            "predicted_tiers": {
                t: round(float(np.mean(predicted[ix] == k)), 4) for k, t in enumerate(TIER_NAMES)
            },
        }
        for fam, ix in sorted(by_family.items())
    }
    return result, tier_p


def _ordered_mass(
    low: np.ndarray[Any, Any],
    w_low: np.ndarray[Any, Any],
    high: np.ndarray[Any, Any],
    w_high: np.ndarray[Any, Any],
) -> tuple[float, float]:
    """Weighted pairs (low-labelled, high-labelled) that the score orders right, ties half."""
    order = np.argsort(low, kind="stable")
    sorted_low = low[order]
    cum = np.concatenate([[0.0], np.cumsum(w_low[order])])
    below = cum[np.searchsorted(sorted_low, high, side="left")]
    equal = cum[np.searchsorted(sorted_low, high, side="right")] - below
    right = float(np.sum(w_high * (below + 0.5 * equal)))
    return right, float(w_high.sum() * w_low.sum())


def within_tier_concordance(
    tier: np.ndarray[Any, Any],
    label: np.ndarray[Any, Any],
    z: np.ndarray[Any, Any],
    w: np.ndarray[Any, Any],
) -> float:
    """Of two prompts given the same tier but labelled differently, how often ``z`` ranks the
    higher-labelled one higher (weighted; ties count half). 0.5 is a coin flip."""
    right = total = 0.0
    for t in np.unique(tier).tolist():
        here = tier == t
        for a in range(len(TIER_NAMES)):
            lo = here & (label == a)
            if not lo.any():
                continue
            for b in range(a + 1, len(TIER_NAMES)):
                hi = here & (label == b)
                if hi.any():
                    r, m = _ordered_mass(z[lo], w[lo], z[hi], w[hi])
                    right += r
                    total += m
    return right / total if total else 0.5


def _within_tier(
    data: _Data, idx: np.ndarray[Any, Any], tier_p: np.ndarray[Any, Any], where: str
) -> dict[str, Any]:
    """Choose the weight of log(1 + tokens) beside the expected tier rank inside a band.

    ``tier_p[k]`` is the prediction for row ``idx[k]`` from a model that did not fit it.
    Only the order inside a band matters to a threshold, so the criterion is the
    within-tier concordance with the tier labels. The routing APGR on rows with
    strong/weak outcomes (the MMLU train subjects) is recorded beside it, not used.
    """
    from training.metrics import routing_summary

    w_all = data.weights()
    tokens = np.log1p(np.asarray([ex.tokens for ex in data.extractions], dtype=np.float64))
    center = float(np.average(tokens, weights=w_all))
    y = data.labels("tier")[idx]
    labelled = y != ""
    label = np.asarray([TIER_RANK.get(str(c), -1) for c in y])
    tier = tier_p.argmax(axis=1)
    expected = tier_p @ np.arange(len(TIER_NAMES), dtype=np.float64)
    tok, w = tokens[idx], w_all[idx]
    outcome = [
        k
        for k, i in enumerate(idx.tolist())
        if "strong_correct" in (data.examples[i].outcome or {})
    ]
    pairs = np.asarray(
        [
            (
                float((data.examples[idx[k]].outcome or {})["strong_correct"]),
                float((data.examples[idx[k]].outcome or {})["weak_correct"]),
            )
            for k in outcome
        ]
    ).reshape(-1, 2)
    trials = []
    best: tuple[float, float] = (-1.0, 0.0)
    for weight in data.cfg.length_weight_grid:
        z = expected - tier + weight * (tok - center)
        trial: dict[str, Any] = {
            "length_weight": weight,
            "concordance": round(
                within_tier_concordance(tier[labelled], label[labelled], z[labelled], w[labelled]),
                5,
            ),
        }
        if outcome:
            # The classifier's own placement, applied elementwise.
            score = tier[outcome] + band_position(z[outcome])
            trial["outcome_apgr"] = round(
                routing_summary(score, pairs[:, 0], pairs[:, 1])["apgr"], 5
            )
        trials.append(trial)
        # Strictly better only: a tie keeps the smaller weight (less length).
        if trial["concordance"] > best[0] + 1e-9:
            best = (trial["concordance"], weight)
    return {
        "score": {"length_weight": best[1], "length_center": round(center, 6)},
        "selection": {
            "on": where,
            "rows": int(labelled.sum()),
            "outcome_rows": len(outcome),
            "trials": trials,
        },
    }


def _outcome_score(
    data: _Data,
    rows: F.Rows,
    held_out_tier: np.ndarray[Any, Any] | None,
    tick: Callable[[str], None],
) -> Any:
    """The outcome score (training/outcome_score.py), or None when it is off or has no data."""
    from training.outcome_score import fit_score

    cfg = data.cfg
    if not cfg.score_c_grid:
        return None
    y = data.labels("tier")
    guide = np.asarray(
        [
            ex.hand_labelled or ex.source.startswith(_PROJECT_PREFIX) or _set_name(ex) == "user"
            for ex in data.examples
        ]
    )
    ranks = np.asarray(
        [TIER_RANK.get(str(c), -1) if g else -1 for c, g in zip(y, guide, strict=True)]
    )
    rank = (
        held_out_tier @ np.arange(len(TIER_NAMES), dtype=np.float64)
        if held_out_tier is not None
        else None
    )
    chosen = held_out_tier.argmax(axis=1) if held_out_tier is not None else None
    log_tokens = np.log1p(np.asarray([ex.tokens for ex in data.extractions], dtype=np.float64))
    return fit_score(
        data.examples,
        F.matrix(rows),
        rank,
        chosen,
        log_tokens,
        ranks,
        data.weights(),
        cfg.score_c_grid,
        cfg.score_folds,
        cfg.max_iter,
        tick,
    )


def _tier_from_outcome(ex: Example) -> bool:
    """Whether a row's tier was mapped from its outcome pair rather than written to the
    guide (hand labels replace the mapped tier where they exist)."""
    return not ex.hand_labelled and "weak_correct" in (ex.outcome or {})


def _family(ex: Example) -> str:
    """Reporting bucket: project sources by name, MMLU as one, other public sets by name."""
    if ex.source.startswith("routellm_outcomes/mmlu"):
        return "routellm_outcomes/mmlu (train subjects)"
    return ex.source if ex.group == ex.source else _set_name(ex)


def train(
    examples: Sequence[Example],
    manifest: dict[str, Any] | None = None,
    cfg: TrainConfig = TrainConfig(),
    progress: Progress | None = None,
) -> TrainResult:
    """Select, calibrate, hold out, refit and package. Deterministic given ``cfg.seed``."""
    import sklearn

    started = time.perf_counter()
    steps = (
        3 + 2 * (len(cfg.c_grid) + 5) + cfg.holdout_folds + 1
        + len(cfg.score_c_grid) * cfg.score_folds + 1
    )  # fmt: skip
    done = 0

    def tick(what: str) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(what, min(done / steps, 1.0))

    examples = list(examples)
    if not examples:
        raise ValueError("no training rows")
    tick("reading prompts")
    data = _Data(examples, F.extract(examples, F.default_extractor()), cfg)
    n = len(examples)
    is_val = np.asarray([_hash_unit(ex.id, cfg.seed) < cfg.validation_share for ex in examples])
    fit_idx, val_idx = np.nonzero(~is_val)[0], np.nonzero(is_val)[0]
    if len(val_idx) == 0 or len(fit_idx) == 0:
        raise ValueError(f"{n} rows are too few for a validation split")
    layout = data.layout(fit_idx)
    rows = data.rows(layout)
    w = data.weights()
    tick("vocabulary")

    choices: dict[str, HeadChoice] = {}
    trials: dict[str, Any] = {}
    temps: dict[str, float] = {}
    val_probs: dict[str, np.ndarray[Any, Any]] = {}
    val_raw: dict[str, np.ndarray[Any, Any]] = {}
    val_logits: dict[str, np.ndarray[Any, Any]] = {}
    for head in HEADS:
        y = data.labels(head)
        choices[head], trials[head] = _select(head, rows, y, w, fit_idx, val_idx, cfg, tick)
        X = F.matrix(rows, choices[head].groups)
        est = _fit(
            X[fit_idx[y[fit_idx] != ""]],
            y[fit_idx[y[fit_idx] != ""]],
            w[fit_idx[y[fit_idx] != ""]],
            choices[head],
            cfg,
        )
        logits = _logits(est, X[val_idx], head)
        labelled = y[val_idx] != ""
        temps[head] = _fit_temperature(
            logits[labelled], y[val_idx][labelled], w[val_idx][labelled], head
        )
        val_logits[head] = logits
        val_raw[head] = _softmax(logits)
    # May replace the temperatures with ones fitted on held-out sources, so it
    # runs before anything that reads calibrated probabilities.
    held_out, held_out_tier = _holdout(data, choices, temps, tick)
    for head in HEADS:
        val_probs[head] = _softmax(val_logits[head] / temps[head])
    if held_out_tier is not None:
        within = _within_tier(data, np.arange(n), held_out_tier, "held-out sources")
    else:
        within = _within_tier(data, val_idx, val_probs["tier"], "validation slice")
    validation = _report(data, val_idx, val_probs)
    uncalibrated = _report(data, val_idx, val_raw)
    if "tier" in validation and "tier" in uncalibrated:
        validation["tier"]["ece_before_temperature"] = uncalibrated["tier"]["ece"]
    low_conf = _low_confidence_policy(data, val_idx, val_probs)
    tick("low-confidence policy")

    everything = np.arange(n)
    layout, ests, final_rows = _fit_heads(data, everything, choices)
    tick("final fit")
    score_fit = _outcome_score(data, final_rows, held_out_tier, tick)
    arrays: dict[str, np.ndarray[Any, Any]] = {}
    for head in HEADS:
        est = ests[head]
        # Fold the temperature into the estimator itself so scikit-learn's
        # predict_proba and the numpy scorer agree to rounding.
        est.coef_ = est.coef_ / temps[head]
        est.intercept_ = est.intercept_ / temps[head]
        coef = np.zeros((len(CLASSES[head]), layout.size))
        bias = np.full(len(CLASSES[head]), _ABSENT_LOGIT)
        for j, c in enumerate(est.classes_):
            k = CLASSES[head].index(str(c))
            coef[k] = est.coef_[j]
            bias[k] = est.intercept_[j]
        arrays[f"{head}_coef"] = coef
        arrays[f"{head}_intercept"] = bias

    if score_fit is not None:
        arrays["score_coef"] = score_fit.coef.reshape(1, -1)
        arrays["score_intercept"] = np.asarray([score_fit.intercept])
    digest = hashlib.sha256()
    for name in sorted(arrays):
        digest.update(np.ascontiguousarray(arrays[name]).tobytes())
    # The within-tier weights change decisions as much as the coefficients do.
    digest.update(json.dumps(within["score"], sort_keys=True).encode())
    score_meta = (
        {
            "kind": "probability that the cheap model of a pair falls short",
            "rank_weight": score_fit.rank_weight,
            "length_weight": score_fit.length_weight,
            "cuts": list(score_fit.cuts),
            "band_margin": score_fit.band_margin,
        }
        if score_fit is not None
        else None
    )
    digest.update(json.dumps(score_meta, sort_keys=True).encode())
    seconds = time.perf_counter() - started
    meta: dict[str, Any] = {
        "format": ARTIFACT_FORMAT,
        "format_version": ARTIFACT_VERSION,
        "version": f"{_dt.date.today():%Y%m%d}-{digest.hexdigest()[:12]}",
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "libraries": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scikit-learn": sklearn.__version__,
        },
        "features": layout.to_json(),
        "heads": {
            head: {
                "classes": list(CLASSES[head]),
                "absent_classes": [
                    c for c in CLASSES[head] if c not in set(map(str, ests[head].classes_))
                ],
                "temperature": round(temps[head], 6),
                "selection": choices[head].to_json(),
                "trials": trials[head],
            }
            for head in HEADS
        },
        "low_confidence": {"threshold": low_conf["threshold"], "policy": low_conf["policy"]},
        "within_tier": within["score"],
        **({"score": score_meta} if score_meta is not None else {}),
        "training": {
            "seed": cfg.seed,
            "rows": n,
            "validation_rows": len(val_idx),
            "protocol": (__doc__ or "").split("Protocol", 1)[-1].strip(),
            "config": {
                "validation_share": cfg.validation_share,
                "min_df": cfg.min_df,
                "vocabulary_size": cfg.vocabulary_size,
                "c_grid": list(cfg.c_grid),
                "holdout_folds": cfg.holdout_folds,
                "max_iter": cfg.max_iter,
                "length_weight_grid": list(cfg.length_weight_grid),
                "ngram_features": cfg.ngram_features,
                "ngram_head": cfg.ngram_head,
                "ngram_tail": cfg.ngram_tail,
                "score_c_grid": list(cfg.score_c_grid),
                "score_folds": cfg.score_folds,
                "tier_from_outcomes": cfg.tier_from_outcomes,
            },
            "seconds": round(seconds, 1),
            "manifest": manifest or {},
        },
        "metrics": {
            "validation": validation,
            "low_confidence_selection": low_conf,
            "within_tier_selection": within["selection"],
            **({"outcome_score": score_fit.report} if score_fit is not None else {}),
            "held_out_sources": held_out,
        },
    }
    pipeline = FittedPipeline(layout.to_json(), ests, {h: choices[h].groups for h in HEADS})
    return TrainResult(meta, arrays, pipeline, seconds)


def _softmax(z: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray[Any, Any] = e / e.sum(axis=1, keepdims=True)
    return out


def save(result: TrainResult, out: Path, *, joblib_limit: int = 2_000_000) -> dict[str, Path]:
    """Write ``<out>.json``, ``<out>.npz`` and ``<out>.joblib`` (the last only if small)."""
    import joblib

    meta_path = out.with_suffix(".json")
    meta_path.parent.mkdir(parents=True, exist_ok=True)
    written = {"json": meta_path, "npz": out.with_suffix(".npz")}
    np.savez_compressed(written["npz"], **result.arrays)  # type: ignore[arg-type]
    meta_path.write_text(
        json.dumps(result.meta, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    job = out.with_suffix(".joblib")
    joblib.dump(result.pipeline, job, compress=3)
    if job.stat().st_size > joblib_limit:
        job.unlink()
    else:
        written["joblib"] = job
    return written
