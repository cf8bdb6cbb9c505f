"""The trained task/tier model, scored with numpy alone.

An artifact is two files side by side: ``<name>.json`` (format version, feature
layout, classes, library versions, training-data manifest, metrics) and
``<name>.npz`` (coefficients and intercepts). The JSON also holds the within-tier
score weights (``within_tier``: ``length_weight``, ``length_center``), new in format
version 2. Both load without pickle: the
``.npz`` is read with ``allow_pickle=False``. Training (``training/``) writes
them from a fitted scikit-learn model; this module never imports scikit-learn.

The feature vector, in order:

* ``signals``: the extractor values in :data:`router.decision.features.SIGNAL_NAMES` order;
* ``flags``: has_tools, has_images, wants_structured, multi_turn;
* ``languages``: a one-hot of the detected language over the artifact's list;
* ``length_buckets``: a one-hot of the estimated token count over bucket edges;
* ``vocabulary``: presence (0/1) of each vocabulary word among the turn's words;
* ``ngrams`` (format version 3): the turn's hashed word and CJK character n-grams
  (:mod:`router.decision.ngrams`), ``n_features`` buckets scaled to unit length.

Version 2 artifacts (no ``ngrams``) still load.

Format 3 may also carry an outcome score (``score`` in the JSON: ``rank_weight``,
``length_weight`` and three ascending ``cuts``; ``score_coef``/``score_intercept`` in the
``.npz``): ``sigmoid(score_coef . x + score_intercept + rank_weight * E[tier rank] +
length_weight * log(1 + tokens))`` is the calibrated chance that a cheap model falls
short, and ``Decision.score`` is that moved into the chosen tier's band between the
cuts (``training/outcome_score.py``): with ``band_margin`` by
:func:`router.types.squeeze_into_band`, which keeps the order inside the band; without
it (older artifacts) clamped.
"""

from __future__ import annotations

import json
import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import compress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from router.decision.features import FEATURE_NAMES, SIGNAL_NAMES, Extraction
from router.decision.ngrams import GramColumns, HashSpec, grams, hashed, unit_value
from router.errors import ModelArtifactError
from router.types import TASKS, TIERS

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "ARTIFACT_FORMAT",
    "ARTIFACT_VERSION",
    "FLAG_NAMES",
    "FeatureLayout",
    "ModelArtifact",
    "Prediction",
    "bundled_artifact_path",
    "load_artifact",
]

ARTIFACT_FORMAT = "tierrouter-lr"
ARTIFACT_VERSION = 3
# Version 2 is version 3 without hashed n-grams: it reads the same.
_READABLE_VERSIONS = (2, 3)
FLAG_NAMES: tuple[str, ...] = ("has_tools", "has_images", "wants_structured", "multi_turn")
_BUNDLED_NAME = "tierrouter-model"


def bundled_artifact_path() -> Path:
    """Where the shipped model lives: inside the wheel, or at the top of a source checkout."""
    here = Path(__file__).resolve().parent.parent  # the router package
    for folder in (here / "_models", here.parent / "models"):
        candidate = folder / f"{_BUNDLED_NAME}.json"
        if candidate.exists():
            return candidate
    return here / "_models" / f"{_BUNDLED_NAME}.json"


@dataclass(frozen=True, slots=True)
class FeatureLayout:
    """How an :class:`Extraction` becomes the model's input vector."""

    signals: tuple[str, ...]
    languages: tuple[str, ...]
    length_edges: tuple[float, ...]
    vocabulary: tuple[str, ...]
    ngrams: HashSpec | None = None

    @property
    def dense_size(self) -> int:
        return (
            len(self.signals) + len(FLAG_NAMES) + len(self.languages) + len(self.length_edges) + 1
        )

    @property
    def ngram_offset(self) -> int:
        """The column of the first hashed n-gram bucket."""
        return self.dense_size + len(self.vocabulary)

    @property
    def size(self) -> int:
        return self.ngram_offset + (self.ngrams.n_features if self.ngrams else 0)

    def names(self) -> list[str]:
        """Column names, in vector order."""
        buckets = [f"tokens<{edge:g}" for edge in self.length_edges]
        buckets.append(f"tokens>={self.length_edges[-1]:g}" if self.length_edges else "tokens")
        return [
            *(f"signal:{s}" for s in self.signals),
            *(f"flag:{f}" for f in FLAG_NAMES),
            *(f"lang:{lang}" for lang in self.languages),
            *(f"len:{b}" for b in buckets),
            *(f"word:{w}" for w in self.vocabulary),
            *(f"ngram:{b}" for b in range(self.ngrams.n_features if self.ngrams else 0)),
        ]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "signals": list(self.signals),
            "flags": list(FLAG_NAMES),
            "languages": list(self.languages),
            "length_edges": list(self.length_edges),
            "vocabulary": list(self.vocabulary),
        }
        if self.ngrams is not None:
            out["ngrams"] = self.ngrams.to_json()
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FeatureLayout:
        ngrams = data.get("ngrams")
        return cls(
            signals=tuple(data["signals"]),
            languages=tuple(data["languages"]),
            length_edges=tuple(float(x) for x in data["length_edges"]),
            vocabulary=tuple(data["vocabulary"]),
            ngrams=HashSpec.from_json(ngrams) if ngrams is not None else None,
        )


class Featurizer:
    """Turns extractions into model input, dense part and vocabulary indices apart."""

    def __init__(self, layout: FeatureLayout) -> None:
        self.layout = layout
        self._signals = layout.signals
        self._lang_index = {lang: i for i, lang in enumerate(layout.languages)}
        self._edges = layout.length_edges
        self._word_index = {w: i for i, w in enumerate(layout.vocabulary)}
        self._words = frozenset(self._word_index)
        self._lang_offset = len(layout.signals) + len(FLAG_NAMES)
        self._len_offset = self._lang_offset + len(layout.languages)
        self._words_offset = layout.dense_size
        self._ngrams = layout.ngrams
        self._ngram_offset = layout.ngram_offset
        self._gram_columns = (
            GramColumns(layout.ngrams, self._ngram_offset) if layout.ngrams is not None else None
        )
        # For sparse(): vocabulary words straight to their columns, and whether the length
        # bucket can be found by bisection (edges ascending, as training writes them).
        self._signal_cols = tuple(range(len(layout.signals)))
        self._word_cols = {w: self._words_offset + i for w, i in self._word_index.items()}
        self._edges_sorted = list(self._edges) == sorted(self._edges)

    def ngram_values(self, ex: Extraction) -> dict[int, float]:
        """Bucket -> value of the turn's hashed n-grams (empty without them)."""
        spec = self._ngrams
        if spec is None:
            return {}
        return hashed(grams(ex.text, spec.head, spec.tail, ex.ordered_words), spec.n_features)

    def dense(self, ex: Extraction) -> list[float]:
        values = ex.values
        prompt = ex.prompt
        row = [values[s] for s in self._signals]
        row += [
            float(prompt.has_tools),
            float(prompt.has_images),
            float(prompt.wants_structured),
            float(prompt.turns > 1),
        ]
        row += [0.0] * (len(self._lang_index) + len(self._edges) + 1)
        lang = self._lang_index.get(ex.language)
        if lang is not None:
            row[self._lang_offset + lang] = 1.0
        bucket = sum(1 for edge in self._edges if ex.tokens >= edge)
        row[self._len_offset + bucket] = 1.0
        return row

    def word_indices(self, ex: Extraction) -> list[int]:
        index = self._word_index
        return sorted(index[w] for w in ex.words & self._words)

    def sparse(self, ex: Extraction) -> tuple[list[int], list[float]]:
        """The non-zero columns of the full vector and their values.

        A prompt sets a handful of signals, one language, one length bucket and
        a few vocabulary words; scoring only those is several times cheaper
        than a dense product over every column.
        """
        # The columns go in the order the model was always scored in (signals, flags,
        # language, length, words, n-grams): the dot product's last bits depend on it.
        row = list(map(ex.values.__getitem__, self._signals))
        cols = list(compress(self._signal_cols, row))
        vals = list(compress(row, row))
        prompt = ex.prompt
        if prompt.has_tools or prompt.has_images or prompt.wants_structured or prompt.turns > 1:
            flags = (
                prompt.has_tools,
                prompt.has_images,
                prompt.wants_structured,
                prompt.turns > 1,
            )
            for i, flag in enumerate(flags, start=len(self._signals)):
                if flag:
                    cols.append(i)
                    vals.append(1.0)
        lang = self._lang_index.get(ex.language)
        if lang is not None:
            cols.append(self._lang_offset + lang)
            vals.append(1.0)
        tokens = ex.tokens
        if self._edges_sorted:
            cols.append(self._len_offset + bisect_right(self._edges, tokens))
        else:
            cols.append(self._len_offset + sum([tokens >= edge for edge in self._edges]))
        # Vocabulary words and n-grams in ascending column order: a set of strings
        # iterates in an order that changes with PYTHONHASHSEED, and the sum's last bits
        # with it.
        words = list(map(self._word_cols.__getitem__, ex.words & self._words))
        words.sort()
        cols += words
        vals += [1.0] * (len(words) + 1)
        gram_columns = self._gram_columns
        if gram_columns is not None:
            more = gram_columns(ex.text, ex.ordered_words)
            cols += more
            vals += [unit_value(more)] * len(more)
        return cols, vals


# Not frozen: this record is built on every decision, and a frozen
# dataclass pays for object.__setattr__ on each field.
@dataclass(slots=True)
class Prediction:
    task: dict[str, float]
    tier: dict[str, float]
    confidence: float
    # The outcome score's own logit (before the tier-rank term); None without one.
    fail_logit: float | None = None


class ModelArtifact:
    """A loaded model: layout, the two linear heads, and their metadata.

    Use :func:`load_artifact` to build one; it validates the files.
    """

    def __init__(
        self,
        meta: Mapping[str, Any],
        arrays: Mapping[str, npt.NDArray[np.float64]],
        path: Path | None = None,
    ) -> None:
        import numpy as np

        # Held here because a function-level import costs a microsecond per decision,
        # and importing numpy at module level would make `import router` heavy.
        self._np = np
        self.meta = dict(meta)
        self.path = path
        self.layout = FeatureLayout.from_json(meta["features"])
        self.featurizer = Featurizer(self.layout)
        self.task_classes: tuple[str, ...] = tuple(meta["heads"]["task"]["classes"])
        self.tier_classes: tuple[str, ...] = tuple(meta["heads"]["tier"]["classes"])
        # Both heads side by side, one row per input column: a prediction is
        # one gather of the prompt's non-zero columns and one small product.
        heads = [arrays["task_coef"], arrays["tier_coef"]]
        biases = [arrays["task_intercept"], arrays["tier_intercept"]]
        # The outcome score (format 3, optional): one more column in the same product.
        score = meta.get("score")
        self.has_score = score is not None
        if score is not None:
            heads.append(arrays["score_coef"])
            biases.append(arrays["score_intercept"])
            self.score_rank_weight = float(score["rank_weight"])
            self.score_length_weight = float(score["length_weight"])
            self.score_cuts: tuple[float, ...] = tuple(float(c) for c in score["cuts"])
        # Format 3 artifacts from before the band margin clamp the score to its band.
        margin = score.get("band_margin") if score is not None else None
        self.score_band_margin: float | None = float(margin) if margin is not None else None
        self._weights = np.ascontiguousarray(np.concatenate(heads, axis=0).T)
        self._bias = np.concatenate(biases)
        self._bias_list: list[float] = self._bias.tolist()
        self._n_task = len(self.task_classes)
        tier_coef = arrays["tier_coef"]
        self.signal_weights: dict[str, dict[str, float]] = {
            tier: {
                name: float(tier_coef[row, col])
                for col, name in enumerate(self.layout.signals)
                if name in FEATURE_NAMES
            }
            for row, tier in enumerate(self.tier_classes)
        }
        self.version: str = str(meta.get("version", "unversioned"))
        policy = meta.get("low_confidence", {})
        self.confidence_threshold = float(policy.get("threshold", 0.0))
        self.low_confidence_policy = str(policy.get("policy", "rules"))
        # Inside a tier's band, Decision.score orders prompts by
        # expected tier rank + length_weight * (log(1 + tokens) - length_center).
        within = meta["within_tier"]
        self.length_weight = float(within["length_weight"])
        self.length_center = float(within["length_center"])

    def predict(self, ex: Extraction) -> Prediction:
        cols, vals = self.featurizer.sparse(ex)
        np = self._np
        # take() with an intp array and a dot of two arrays: the same BLAS call as
        # with the plain lists, without numpy guessing their types (fromiter with the
        # count given skips the pass np.array makes to find the type and length).
        n_cols = len(cols)
        rows = self._weights.take(np.fromiter(cols, np.intp, n_cols), axis=0)
        logits = (np.dot(np.fromiter(vals, np.float64, n_cols), rows) + self._bias).tolist()
        n = self._n_task
        m = n + len(self.tier_classes)
        task = _softmax(logits[:n])
        tier = _softmax(logits[n:m])
        return Prediction(
            task=dict(zip(self.task_classes, task, strict=True)),
            tier=dict(zip(self.tier_classes, tier, strict=True)),
            confidence=min(max(task), max(tier)),
            fail_logit=logits[m] if self.has_score else None,
        )

    def predict_proba_rows(
        self,
        dense: npt.NDArray[np.float64],
        words: Sequence[Sequence[int]],
        ngrams: Sequence[Mapping[int, float]] = (),
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Batch scoring for evaluation: rows of dense features, their word indices and
        (for an artifact with n-grams) their bucket values (:meth:`Featurizer.ngram_values`)."""
        size = self.layout.dense_size
        logits = dense @ self._weights[:size] + self._bias
        for i, idx in enumerate(words):
            if len(idx):
                logits[i] += self._weights[[size + j for j in idx]].sum(axis=0)
        offset = self.layout.ngram_offset
        for i, values in enumerate(ngrams):
            for b, v in values.items():
                logits[i] += v * self._weights[offset + b]
        n = self._n_task
        m = n + len(self.tier_classes)
        return _softmax_rows(logits[:, :n]), _softmax_rows(logits[:, n:m])


def _softmax(logits: list[float]) -> list[float]:
    top = max(logits)
    exps = [math.exp(x - top) for x in logits]
    total = sum(exps)
    return [e / total for e in exps]


def _softmax_rows(logits: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    import numpy as np

    shifted = logits - logits.max(axis=1, keepdims=True)
    exps = np.exp(shifted)
    result: npt.NDArray[np.float64] = exps / exps.sum(axis=1, keepdims=True)
    return result


def load_artifact(path: str | Path) -> ModelArtifact:
    """Load and validate a model artifact from its ``.json`` path (the ``.npz`` sits beside it).

    Raises:
        ModelArtifactError: naming the file and what is wrong with it.
    """
    import numpy as np

    meta_path = Path(path)
    if meta_path.suffix != ".json":
        meta_path = meta_path.with_suffix(".json")
    arrays_path = meta_path.with_suffix(".npz")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelArtifactError(f"model artifact not found: {meta_path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelArtifactError(
            f"{meta_path}: not a readable JSON model artifact: {exc}"
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != ARTIFACT_FORMAT:
        raise ModelArtifactError(f"{meta_path}: not a {ARTIFACT_FORMAT} artifact")
    if meta.get("format_version") not in _READABLE_VERSIONS:
        # Version 1 had no within-tier score weights; guessing them would change
        # every decision's score without saying so.
        raise ModelArtifactError(
            f"{meta_path}: format_version {meta.get('format_version')!r} is not supported "
            f"(this tierrouter reads versions 2 and {ARTIFACT_VERSION}: version 2 added the "
            "within-tier score weights, 3 hashed n-grams); retrain with `tierrouter train`"
        )
    try:
        with np.load(arrays_path, allow_pickle=False) as npz:
            arrays = {name: np.asarray(npz[name], dtype=np.float64) for name in npz.files}
    except FileNotFoundError:
        raise ModelArtifactError(f"model coefficients not found: {arrays_path}") from None
    except (OSError, ValueError) as exc:
        raise ModelArtifactError(f"{arrays_path}: corrupt coefficients file: {exc}") from None
    _validate(meta, arrays, meta_path)
    return ModelArtifact(meta, arrays, meta_path)


def _validate(
    meta: Mapping[str, Any], arrays: Mapping[str, npt.NDArray[np.float64]], where: Path
) -> None:
    import numpy as np

    try:
        layout = FeatureLayout.from_json(meta["features"])
        if layout.ngrams is not None and meta.get("format_version") != ARTIFACT_VERSION:
            raise ValueError("hashed n-grams need format_version 3")
        task_classes = list(meta["heads"]["task"]["classes"])
        tier_classes = list(meta["heads"]["tier"]["classes"])
        within = meta["within_tier"]
        length_weight = float(within["length_weight"])
        length_center = float(within["length_center"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelArtifactError(f"{where}: missing or malformed field {exc}") from None
    if not (math.isfinite(length_weight) and math.isfinite(length_center)) or length_weight < 0:
        raise ModelArtifactError(
            f"{where}: within_tier weights must be finite and length_weight >= 0, got {within!r}"
        )
    unknown = set(layout.signals) - set(SIGNAL_NAMES)
    if unknown:
        raise ModelArtifactError(
            f"{where}: trained on signals this tierrouter does not compute: {sorted(unknown)}"
        )
    if sorted(task_classes) != sorted(t.value for t in TASKS):
        raise ModelArtifactError(f"{where}: task classes {task_classes} are not the 8 tasks")
    if sorted(tier_classes) != sorted(t.value for t in TIERS):
        raise ModelArtifactError(f"{where}: tier classes {tier_classes} are not the 4 tiers")
    expected = {
        "task_coef": (len(task_classes), layout.size),
        "task_intercept": (len(task_classes),),
        "tier_coef": (len(tier_classes), layout.size),
        "tier_intercept": (len(tier_classes),),
    }
    score = meta.get("score")
    if score is not None:
        try:
            cuts = [float(c) for c in score["cuts"]]
            weights = [float(score["rank_weight"]), float(score["length_weight"])]
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelArtifactError(f"{where}: missing or malformed field score {exc}") from None
        if (
            len(cuts) != len(tier_classes) - 1
            or cuts != sorted(cuts)
            or not all(math.isfinite(x) for x in [*cuts, *weights])
        ):
            raise ModelArtifactError(
                f"{where}: score.cuts must be {len(tier_classes) - 1} finite, ascending "
                f"cut points, got {score.get('cuts')!r}"
            )
        margin = score.get("band_margin")
        if margin is not None and not (
            isinstance(margin, int | float) and 0.0 < float(margin) < 0.5
        ):
            raise ModelArtifactError(
                f"{where}: score.band_margin must be a number in (0, 0.5), got {margin!r}"
            )
        expected["score_coef"] = (1, layout.size)
        expected["score_intercept"] = (1,)
    for name, shape in expected.items():
        if name not in arrays:
            raise ModelArtifactError(f"{where.with_suffix('.npz')}: array {name!r} is missing")
        if arrays[name].shape != shape:
            raise ModelArtifactError(
                f"{where.with_suffix('.npz')}: array {name!r} has shape {arrays[name].shape}, "
                f"expected {shape} for the feature layout in {where.name}"
            )
        if not np.all(np.isfinite(arrays[name])):
            raise ModelArtifactError(f"{where.with_suffix('.npz')}: array {name!r} is not finite")
