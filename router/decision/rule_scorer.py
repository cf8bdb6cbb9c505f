"""The hand-weighted rule scorer: the fallback half of the decision.

The tier comes from a weighted sum of the features cut at three boundaries, then
a few overrides (proof demands, very long context, structured output, agentic
requests). The task comes from a softmax over per-task linear scores of the
same signals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from router.decision.features import FEATURE_NAMES, SIGNAL_NAMES, Extraction
from router.errors import ConfigError
from router.types import TASKS, TIERS, Contributions, Task, Tier, tier_band

__all__ = ["RuleScorer", "TierResult", "band_probabilities", "softmax"]


# Not frozen: this record is built on every decision, and a frozen
# dataclass pays for object.__setattr__ on each field.
@dataclass(slots=True)
class TierResult:
    tier: Tier
    score: float
    confidence: float
    probabilities: dict[str, float]
    contributions: Contributions
    reasons: tuple[str, ...]


def softmax(logits: Mapping[str, float], temperature: float = 1.0) -> dict[str, float]:
    top = max(logits.values())
    exps = {k: math.exp((v - top) / temperature) for k, v in logits.items()}
    total = sum(exps.values())
    return {k: v / total for k, v in exps.items()}


_BAND_CENTRES = tuple((lo + hi) / 2 for lo, hi in map(tier_band, TIERS))


def band_probabilities(score: float, sharpness: float = 12.0) -> dict[str, float]:
    """Tier probabilities peaked at the band ``score`` falls in.

    The nearest band centre wins, so the argmax always agrees with the tier
    that ``score`` encodes.
    """
    exps = [math.exp(-sharpness * abs(score - centre)) for centre in _BAND_CENTRES]
    total = sum(exps)
    return {tier.value: e / total for tier, e in zip(TIERS, exps, strict=True)}


class RuleScorer:
    """Scores tier and task from signal values with the weights in ``scoring.yaml``."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        features = config["features"]
        self._weights = {name: float(features[name]["weight"]) for name in FEATURE_NAMES}
        self._names = tuple(self._weights)
        bounds = [float(b) for b in config["tier_boundaries"]]
        if len(bounds) != len(TIERS) - 1 or bounds != sorted(bounds):
            raise ConfigError(
                f"scoring config: tier_boundaries must be {len(TIERS) - 1} increasing numbers, "
                f"got {config['tier_boundaries']!r}"
            )
        self._bounds = bounds
        lo, hi = (float(x) for x in config["score_range"])
        self._knots = [lo, *bounds, hi]
        over = config["overrides"]
        self._min_reasoning = int(over["reasoning_markers"])
        self._min_proof = int(over["proof"])
        self._long_tokens = int(over["long_context_tokens"])
        self._structured_tier = Tier(over["structured_output_min_tier"])
        self._agentic_value = float(over["agentic_min_value"])
        self._agentic_tier = Tier(over["agentic_min_tier"])
        tasks = config["tasks"]
        self._task_temperature = float(tasks["temperature"])
        self._task_terms: list[tuple[str, float, tuple[tuple[str, float], ...]]] = []
        for task in TASKS:
            spec = tasks["logits"].get(task.value)
            if spec is None:
                raise ConfigError(f"scoring config: tasks.logits has no entry for {task.value!r}")
            unknown = set(spec) - set(SIGNAL_NAMES) - {"bias"}
            if unknown:
                raise ConfigError(
                    f"scoring config: tasks.logits.{task.value} names unknown signals "
                    f"{sorted(unknown)}; known: {', '.join(SIGNAL_NAMES)}"
                )
            terms = tuple((k, float(v)) for k, v in spec.items() if k != "bias")
            self._task_terms.append((task.value, float(spec.get("bias", 0.0)), terms))

    def tier(self, ex: Extraction) -> TierResult:
        values = ex.values
        weights = self._weights
        contributions = [values[name] * w for name, w in weights.items()]
        raw = sum(contributions)
        rank = sum([raw >= b for b in self._bounds])
        reasons: list[str] = []
        floor = 0
        hits = ex.hits
        proof_hits = hits.get("proof", ())
        reasoning_hits = len(hits.get("reasoning", ())) + len(proof_hits)
        if len(proof_hits) >= self._min_proof:
            floor = Tier.REASONING.rank
            shown = ", ".join(sorted(proof_hits)[:3])
            reasons.append(f"asks for a proof ({shown}) -> REASONING")
        elif reasoning_hits >= self._min_reasoning:
            floor = Tier.REASONING.rank
            reasons.append(f"{reasoning_hits} reasoning markers -> REASONING")
        if ex.tokens > self._long_tokens:
            floor = max(floor, Tier.COMPLEX.rank)
            reasons.append(f"about {ex.tokens} tokens of context -> at least COMPLEX")
        if ex.prompt.wants_structured:
            floor = max(floor, self._structured_tier.rank)
            reasons.append(f"structured output requested -> at least {self._structured_tier.value}")
        if ex.prompt.has_tools or values["agentic_task"] >= self._agentic_value:
            floor = max(floor, self._agentic_tier.rank)
            reasons.append(f"agentic request -> at least {self._agentic_tier.value}")
        tier = TIERS[max(rank, floor)]
        lo, hi = tier_band(tier)
        # Clamped into the chosen tier's band so that score stays monotone with
        # tier even when an override lifted the tier.
        # The small inset keeps the nearest band centre, and so the most likely
        # tier, unambiguous at the band's edges.
        score = min(hi - 1e-6, max(lo + 1e-6, self._to_unit(raw)))
        ranked = sorted(zip(map(abs, contributions), self._names, strict=True), reverse=True)
        for size, name in ranked[:2]:
            if size >= 0.05:
                added = values[name] * weights[name]
                reasons.append(f"{name}={values[name]:.2f} adds {added:+.2f}")
        return TierResult(
            tier=tier,
            score=score,
            confidence=self._confidence(raw, tier, floor > rank),
            probabilities=band_probabilities(score),
            contributions=Contributions(values, weights),
            reasons=tuple(reasons),
        )

    def task(self, values: Mapping[str, float]) -> tuple[Task, dict[str, float]]:
        logits = {}
        for task, bias, terms in self._task_terms:
            logit = bias
            for name, w in terms:
                logit += w * values[name]
            logits[task] = logit
        scores = softmax(logits, self._task_temperature)
        best = max(scores, key=scores.__getitem__)
        return Task(best), scores

    def _to_unit(self, raw: float) -> float:
        """Piecewise-linear map of the raw score onto [0, 1], boundaries at the band edges."""
        knots = self._knots
        if raw <= knots[0]:
            return 0.0
        if raw >= knots[-1]:
            return 1.0
        width = 1.0 / len(TIERS)
        for i in range(len(knots) - 1):
            a, b = knots[i], knots[i + 1]
            if raw < b:
                return (i + (raw - a) / (b - a)) * width
        return 1.0

    def _confidence(self, raw: float, tier: Tier, overridden: bool) -> float:
        if overridden:
            # An override is a categorical rule, not a close call on the scale.
            return 0.9
        # Distance to the nearest boundary, relative to the width of the band.
        knots = self._knots
        lo, hi = knots[tier.rank], knots[tier.rank + 1]
        inner = [b for b in (lo, hi) if b in self._bounds]
        if not inner:
            return 1.0
        distance = min(abs(raw - b) for b in inner)
        half = (hi - lo) / 2
        return round(0.5 + 0.5 * min(1.0, distance / half), 4)
