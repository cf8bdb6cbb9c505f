"""The training rows: loading them with their manifest, and what every step reads of them
(features, labels, weights, the feature layout)."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from router.decision.artifact import FeatureLayout
from router.decision.features import Extraction
from router.decision.ngrams import HashSpec
from training import featurize as F
from training.config import TrainConfig
from training.examples import Example

__all__ = ["TrainingData", "from_guide", "load_training_data", "set_name"]

# Project rows carry sources such as "tierrouter/en_a".
_PROJECT_PREFIX = "tierrouter/"


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
        per_set = Counter(set_name(ex) for ex in public_rows)
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


def set_name(ex: Example) -> str:
    """The public set (or "tierrouter", "user") a row came from."""
    return ex.source.split("/")[0]


def from_guide(ex: Example) -> bool:
    """Whether the row's labels were written to the labeling guide (data/, the hand
    labels of data/labels/, the user's files) rather than mapped from a benchmark."""
    return ex.source.startswith(_PROJECT_PREFIX) or set_name(ex) == "user" or ex.hand_labelled


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


@dataclass
class TrainingData:
    """The rows of one run with their extractions, read once and shared by every step."""

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

    def log_tokens(self) -> np.ndarray[Any, Any]:
        """``log(1 + tokens)`` per row: the length beside the tier in the scores."""
        return np.log1p(np.asarray([ex.tokens for ex in self.extractions], dtype=np.float64))

    def weights(self) -> np.ndarray[Any, Any]:
        # Hand-labelled rows are weighed like data/, so a set's budget counts only the rest.
        sizes = Counter(set_name(ex) for ex in self.examples if not ex.hand_labelled)
        out = []
        for ex in self.examples:
            if from_guide(ex):
                factor = self.cfg.project_weight
            else:
                factor = min(1.0, self.cfg.set_budget / sizes[set_name(ex)])
            out.append(ex.weight * factor)
        return np.asarray(out, dtype=np.float64)

    def layout(self, index: np.ndarray[Any, Any]) -> FeatureLayout:
        """The feature layout with a vocabulary built from the rows ``index`` only."""
        vocab = F.build_vocabulary(
            [self.extractions[i] for i in index.tolist()],
            min_df=self.cfg.min_df,
            max_size=self.cfg.vocabulary_size,
        )
        return F.make_layout(vocab, length_edges=self.cfg.length_edges, ngrams=self.ngram_spec())


def _tier_from_outcome(ex: Example) -> bool:
    """Whether a row's tier was mapped from its outcome pair rather than written to the
    guide (hand labels replace the mapped tier where they exist)."""
    return not ex.hand_labelled and "weak_correct" in (ex.outcome or {})
