"""The router's closed sets and its decision record."""

from __future__ import annotations

import dataclasses
import enum
import operator
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "TASKS",
    "TIERS",
    "Contributions",
    "Decision",
    "FeatureContribution",
    "Task",
    "Tier",
    "tier_band",
]


class Task(str, enum.Enum):
    """What kind of work a prompt asks for. Language is a separate attribute."""

    CODING = "coding"
    MATH = "math"
    REASONING = "reasoning"
    TRANSLATION = "translation"
    SUMMARIZATION = "summarization"
    EXTRACTION = "extraction"
    CREATIVE_WRITING = "creative_writing"
    GENERAL = "general"

    def __str__(self) -> str:
        return self.value


class Tier(str, enum.Enum):
    """How strong a model the prompt needs, weakest first."""

    SIMPLE = "SIMPLE"
    MEDIUM = "MEDIUM"
    COMPLEX = "COMPLEX"
    REASONING = "REASONING"

    def __str__(self) -> str:
        return self.value

    @property
    def rank(self) -> int:
        return _TIER_RANK[self]

    @classmethod
    def from_rank(cls, rank: int) -> Tier:
        return TIERS[max(0, min(len(TIERS) - 1, rank))]


TASKS: tuple[Task, ...] = tuple(Task)
TIERS: tuple[Tier, ...] = tuple(Tier)
_TIER_RANK = {tier: i for i, tier in enumerate(TIERS)}


def tier_band(tier: Tier) -> tuple[float, float]:
    """The slice of ``[0, 1]`` that ``Decision.score`` occupies for ``tier``.

    Every scorer keeps its score inside the band of the tier it chose, which is
    what makes ``score`` monotone with tier and safe to sweep thresholds over.
    """
    width = 1.0 / len(TIERS)
    lo = tier.rank * width
    return lo, lo + width


def band_position(z: float) -> float:
    """Where inside its tier's band a decision's score sits, as a fraction in ``(0, 1)``.

    ``z`` is the model's expected tier rank relative to the chosen tier, plus the
    artifact's length term; 0 is the middle of the band. Written with ``abs`` and
    arithmetic only, so training applies the same function to numpy arrays.
    """
    return 0.5 * (1.0 + z / (1.0 + abs(z)))


def squeeze_into_band(p: float, lo: float, hi: float, margin: float) -> float:
    """``p`` moved into ``[lo, hi]`` without losing its order among other scores.

    A probability inside the band keeps its place on a linear map onto the middle
    ``1 - 2 * margin`` of the band; one below or above it goes into the bottom or top
    ``margin`` strip, still ordered. Clipping instead would tie every out-of-band score
    at the edge, and a threshold cannot split ties. The training code applies the same
    map to arrays (``training.outcome_score.squeeze``).
    """
    edge = margin * (hi - lo)
    if p < lo:
        return lo + edge * (p / lo)
    if p > hi:
        return hi - edge * ((1.0 - p) / (1.0 - hi))
    return lo + edge + (p - lo) * (1.0 - 2.0 * margin)


@dataclass(frozen=True, slots=True)
class FeatureContribution:
    """One extractor's output: its bounded ``value`` and what it added to the tier score."""

    value: float
    weight: float
    contribution: float


class Contributions(Mapping[str, FeatureContribution]):
    """Feature name -> :class:`FeatureContribution`, built on access.

    Most decisions are never explained, so the per-feature records are not
    made until someone looks.
    """

    __slots__ = ("_values", "_weights")

    def __init__(self, values: Mapping[str, float], weights: Mapping[str, float]) -> None:
        self._values = values
        self._weights = weights

    def __getitem__(self, name: str) -> FeatureContribution:
        weight = self._weights[name]
        value = self._values[name]
        return FeatureContribution(value, weight, value * weight)

    def __iter__(self) -> Iterator[str]:
        return iter(self._weights)

    def __len__(self) -> int:
        return len(self._weights)

    def __repr__(self) -> str:
        return f"Contributions({dict(self)!r})"


@dataclass(frozen=True, slots=True)
class Decision:
    """What the router decided about one request, and why.

    ``score`` is a continuous difficulty in ``[0, 1]`` that never contradicts ``tier``:
    a higher tier never has a lower score. With a model that carries an outcome score
    (the bundled one does), ``score`` is the calibrated probability that a cheap model
    falls short on the prompt moved into the chosen tier's band between the artifact's
    three cut points (``ModelArtifact.score_cuts``) by :func:`squeeze_into_band`, so
    ``tier`` is the band ``score`` lies in; ``tier_probabilities`` stay the tier
    head's. Otherwise each tier owns a quarter of the range (see
    :func:`tier_band`): inside it the model orders prompts by expected tier rank and
    prompt length (weights in the artifact), the rules by their own score.
    ``tier_probabilities`` covers all four tiers and sums to 1.
    The routing fields (``model`` onwards) are filled when a call is routed.
    """

    task: Task
    task_scores: dict[str, float]
    tier: Tier
    tier_probabilities: dict[str, float]
    score: float
    confidence: float
    language: str
    source: str
    features: Mapping[str, FeatureContribution] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    estimated_tokens: int = 0
    has_tools: bool = False
    has_images: bool = False
    model_version: str | None = None
    # Filled once the decision is turned into a call.
    id: str | None = None
    model: str | None = None
    candidates: tuple[str, ...] = ()
    estimated_cost: float | None = None
    baseline_cost: float | None = None
    savings: float | None = None
    rule: str | None = None
    l2_used: bool = False

    def with_warnings(self, warnings: Iterable[str]) -> Decision:
        """This decision with ``warnings`` appended, each once (itself when none is new)."""
        new = [w for w in dict.fromkeys(warnings) if w not in self.warnings]
        if not new:
            return self
        return dataclasses.replace(self, warnings=(*self.warnings, *new))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view: enums as their values, features as plain dicts."""
        return {
            "task": self.task.value,
            "task_scores": dict(self.task_scores),
            "tier": self.tier.value,
            "tier_probabilities": dict(self.tier_probabilities),
            "score": self.score,
            "confidence": self.confidence,
            "language": self.language,
            "source": self.source,
            "features": {
                name: {"value": f.value, "weight": f.weight, "contribution": f.contribution}
                for name, f in self.features.items()
            },
            "reasons": list(self.reasons),
            "warnings": list(self.warnings),
            "estimated_tokens": self.estimated_tokens,
            "has_tools": self.has_tools,
            "has_images": self.has_images,
            "model_version": self.model_version,
            "id": self.id,
            "model": self.model,
            "candidates": list(self.candidates),
            "estimated_cost": self.estimated_cost,
            "baseline_cost": self.baseline_cost,
            "savings": self.savings,
            "rule": self.rule,
            "l2_used": self.l2_used,
        }


# How the decision path builds and copies a Decision: a frozen dataclass's __init__ (and
# dataclasses.replace through it) sets each of the 23 fields through object.__setattr__,
# which costs more than the rest of the record; setting the slots directly makes the same
# object. For new_decision the first _HEAD fields are given, the routing fields after them
# keep their defaults.
_FIELDS = dataclasses.fields(Decision)
_NAMES = tuple(f.name for f in _FIELDS)
_INDEX = {name: i for i, name in enumerate(_NAMES)}
_SETTERS = tuple(Decision.__dict__[name].__set__ for name in _NAMES)
_values_of = operator.attrgetter(*_NAMES)
_HEAD = 15
_SET_HEAD = _SETTERS[:_HEAD]
_SET_TAIL = tuple(zip(_SETTERS[_HEAD:], (f.default for f in _FIELDS[_HEAD:]), strict=True))
if any(f.default is dataclasses.MISSING for f in _FIELDS[_HEAD:]):  # pragma: no cover
    raise TypeError("new_decision() fills Decision's routing fields with their defaults")


def new_decision(
    task: Task,
    task_scores: dict[str, float],
    tier: Tier,
    tier_probabilities: dict[str, float],
    score: float,
    confidence: float,
    language: str,
    source: str,
    features: Mapping[str, FeatureContribution],
    reasons: tuple[str, ...],
    warnings: tuple[str, ...],
    estimated_tokens: int,
    has_tools: bool,
    has_images: bool,
    model_version: str | None,
) -> Decision:
    """``Decision(task=task, ..., model_version=model_version)``, built faster."""
    d: Decision = object.__new__(Decision)
    values = (
        task,
        task_scores,
        tier,
        tier_probabilities,
        score,
        confidence,
        language,
        source,
        features,
        reasons,
        warnings,
        estimated_tokens,
        has_tools,
        has_images,
        model_version,
    )
    for setter, value in zip(_SET_HEAD, values, strict=True):
        setter(d, value)
    for setter, default in _SET_TAIL:
        setter(d, default)
    return d


if new_decision.__code__.co_varnames[:_HEAD] != _NAMES[:_HEAD]:  # pragma: no cover
    raise TypeError("new_decision()'s parameters must be Decision's first fields, in order")


def replace_decision(decision: Decision, **changes: Any) -> Decision:
    """``dataclasses.replace(decision, **changes)``, built faster (Decision has no
    ``__post_init__`` for this to skip)."""
    values = list(_values_of(decision))
    for name, value in changes.items():
        values[_INDEX[name]] = value
    new: Decision = object.__new__(Decision)
    for setter, value in zip(_SETTERS, values, strict=True):
        setter(new, value)
    return new
