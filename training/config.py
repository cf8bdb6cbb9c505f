"""What training fits and with which settings: the heads, their classes, the run's
configuration and the settings chosen for each head."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from training import featurize as F
from training.examples import TASK_NAMES, TIER_NAMES

__all__ = [
    "ABSENT_LOGIT",
    "CLASSES",
    "HEADS",
    "TIER_RANK",
    "HeadChoice",
    "Progress",
    "Tick",
    "TrainConfig",
]

HEADS = ("task", "tier")
CLASSES = {"task": TASK_NAMES, "tier": TIER_NAMES}
TIER_RANK = {t: i for i, t in enumerate(TIER_NAMES)}
# Logit given to a class the training data never showed, so the artifact still
# lists all classes and the class practically never wins.
ABSENT_LOGIT = -30.0

# A caller's progress hook: the step just done and the share of the run done.
Progress = Callable[[str, float], None]
# What the steps of a run call after each unit of work.
Tick = Callable[[str], None]


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
    # than on the random validation slice (see training/holdout.py).
    calibrate_on_held_out_sources: bool = True
    # Candidate weights of log(1 + tokens) next to the expected tier rank inside a
    # tier's band (see training/within_tier.py); 0 keeps the expected rank alone.
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
    """The settings model selection kept for one head (training/selection.py)."""

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
