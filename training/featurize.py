"""Examples -> model input, through the router's own extractor.

Training must read a prompt exactly as the router does at run time, so every row
goes through :func:`router.decision.inputs.read_prompt`, the router's
:class:`~router.decision.features.FeatureExtractor` and
:class:`router.decision.artifact.Featurizer`;
nothing here re-implements a feature. What lives here is only what training
adds: the vocabulary choice and the sparse matrix the estimators fit on.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from router.decision.artifact import FLAG_NAMES, FeatureLayout, Featurizer
from router.decision.features import SIGNAL_NAMES, Extraction, FeatureExtractor
from router.decision.inputs import read_prompt
from router.decision.ngrams import HashSpec, grams
from training.examples import Example

if TYPE_CHECKING:
    import scipy.sparse as sp  # type: ignore[import-untyped]

__all__ = [
    "DEFAULT_LANGUAGES",
    "DEFAULT_LENGTH_EDGES",
    "FeatureGroups",
    "Rows",
    "build_vocabulary",
    "default_extractor",
    "extract",
    "make_layout",
    "matrix",
]

# The languages the detector names (router/data/languages) plus "und" for empty text.
DEFAULT_LANGUAGES: tuple[str, ...] = (
    "en", "zh", "ja", "ko", "ru", "de", "fr", "es", "pt", "it", "nl", "ar", "und",
)  # fmt: skip
# Estimated-token edges: one-liners, questions, paragraphs, pages, documents.
DEFAULT_LENGTH_EDGES: tuple[float, ...] = (16, 32, 64, 128, 256, 512, 1024, 4096)
# Numbers, single letters and pure punctuation say nothing about a prompt's kind
# that the length and math signals do not, and they churn between datasets.
_NOISE_WORD = re.compile(r"^(?:\d[\d.,]*|.|_+)$")


def default_extractor() -> FeatureExtractor:
    """The bundled rules' extractor: the one ``Router()`` uses."""
    from router.router import Router

    return Router(model=False).extractor


def extract(examples: Iterable[Example], extractor: FeatureExtractor) -> list[Extraction]:
    """Read each example the way ``Router.classify`` reads a request."""
    out: list[Extraction] = []
    for ex in examples:
        value: Any = ex.messages if ex.messages is not None else ex.text
        out.append(extractor.extract(read_prompt(value)))
    return out


def build_vocabulary(
    extractions: Sequence[Extraction], *, min_df: int = 3, max_size: int = 3000
) -> tuple[str, ...]:
    """The ``max_size`` most frequent words seen in at least ``min_df`` training rows.

    Document frequency, not a label-aware score: the vocabulary is chosen before any
    split is looked at, so it cannot leak validation labels. Ties break alphabetically
    so the choice is deterministic.
    """
    df: Counter[str] = Counter()
    for ex in extractions:
        df.update(w for w in ex.words if len(w) <= 40 and not _NOISE_WORD.match(w))
    ranked = sorted((w for w, n in df.items() if n >= min_df), key=lambda w: (-df[w], w))
    return tuple(sorted(ranked[:max_size]))


def make_layout(
    vocabulary: Sequence[str],
    *,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
    length_edges: Sequence[float] = DEFAULT_LENGTH_EDGES,
    ngrams: HashSpec | None = None,
) -> FeatureLayout:
    return FeatureLayout(
        signals=SIGNAL_NAMES,
        languages=tuple(languages),
        length_edges=tuple(float(e) for e in length_edges),
        vocabulary=tuple(vocabulary),
        ngrams=ngrams,
    )


def hash_ngrams(extractions: Sequence[Extraction], spec: HashSpec) -> sp.csr_matrix:
    """The hashed n-gram block with scikit-learn, as the router computes it with mmh3.

    ``FeatureHasher`` without alternate signs hashes each gram with MurmurHash3 (seed 0)
    into ``abs(h) % n_features``, the rule :func:`router.decision.ngrams.hashed` follows;
    rows are then scaled to unit length as there. ``tests/test_ngrams.py`` checks parity.
    """
    from sklearn.feature_extraction import FeatureHasher
    from sklearn.preprocessing import normalize

    hasher = FeatureHasher(n_features=spec.n_features, input_type="string", alternate_sign=False)
    # The text alone, not the router's tokens: this is the independent side of the parity.
    docs = [sorted(grams(ex.text, spec.head, spec.tail)) for ex in extractions]
    block = hasher.transform(docs)
    return normalize(block, norm="l2", copy=False).tocsr()


@dataclass(frozen=True)
class FeatureGroups:
    """Which column groups a candidate model may use (the rest are zeroed, not removed).

    Zeroing keeps every candidate on the one artifact layout, so the ablation on
    validation and the exported model share column indices.
    """

    languages: bool = True
    length_buckets: bool = True
    vocabulary: bool = True
    ngrams: bool = True

    def label(self) -> str:
        off = [
            name
            for name, on in (
                ("languages", self.languages),
                ("length_buckets", self.length_buckets),
                ("vocabulary", self.vocabulary),
                ("ngrams", self.ngrams),
            )
            if not on
        ]
        return "all" if not off else "without " + ", ".join(off)


@dataclass
class Rows:
    """Featurised rows: the dense block, each row's vocabulary indices, the n-gram block."""

    dense: np.ndarray[Any, np.dtype[np.float64]]
    words: list[list[int]]
    layout: FeatureLayout
    ngrams: sp.csr_matrix | None = None

    @classmethod
    def build(
        cls,
        extractions: Sequence[Extraction],
        layout: FeatureLayout,
        ngrams: sp.csr_matrix | None = None,
    ) -> Rows:
        """``ngrams``: the rows' :func:`hash_ngrams` block, when already computed (it does
        not depend on the vocabulary, so folds share it)."""
        featurizer = Featurizer(layout)
        dense = np.asarray([featurizer.dense(ex) for ex in extractions], dtype=np.float64)
        dense = dense.reshape(len(extractions), layout.dense_size)
        if layout.ngrams is not None and ngrams is None:
            ngrams = hash_ngrams(extractions, layout.ngrams)
        if layout.ngrams is None:
            ngrams = None
        return cls(dense, [featurizer.word_indices(ex) for ex in extractions], layout, ngrams)

    def take(self, index: Sequence[int] | np.ndarray[Any, Any]) -> Rows:
        idx = np.asarray(index, dtype=np.int64)
        block = self.ngrams[idx] if self.ngrams is not None else None
        return Rows(self.dense[idx], [self.words[i] for i in idx.tolist()], self.layout, block)

    def __len__(self) -> int:
        return len(self.words)


def matrix(rows: Rows, groups: FeatureGroups = FeatureGroups()) -> sp.csr_matrix:
    """The CSR design matrix ``[dense | vocabulary presence | n-grams]`` in layout order."""
    import scipy.sparse as sp

    layout = rows.layout
    dense = rows.dense.copy()
    lang_start = len(layout.signals) + len(FLAG_NAMES)
    len_start = lang_start + len(layout.languages)
    if not groups.languages:
        dense[:, lang_start:len_start] = 0.0
    if not groups.length_buckets:
        dense[:, len_start : layout.dense_size] = 0.0
    left = sp.csr_matrix(dense)
    n = len(rows)
    if groups.vocabulary:
        indptr = np.zeros(n + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([len(w) for w in rows.words])
        flat = [i for w in rows.words for i in w]
        indices = np.asarray(flat, dtype=np.int64)
    else:
        indptr = np.zeros(n + 1, dtype=np.int64)
        indices = np.zeros(0, dtype=np.int64)
    right = sp.csr_matrix(
        (np.ones(len(indices)), indices, indptr), shape=(n, len(layout.vocabulary))
    )
    blocks = [left, right]
    if layout.ngrams is not None:
        if rows.ngrams is not None and groups.ngrams:
            blocks.append(rows.ngrams)
        else:
            blocks.append(sp.csr_matrix((n, layout.ngrams.n_features)))
    return sp.hstack(blocks, format="csr")
