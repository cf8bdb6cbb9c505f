"""The decision: features, then the trained model, with the rules as fallback.

``source`` on the decision says who answered: ``"model"``; ``"rules"`` when no
usable model is loaded or the model was unsure and the artifact's policy says
rules do better there; ``"blend"`` when it says an average of both does.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from router._resources import language_config, load_keyword_tables, scoring_config
from router.decision.features import Extraction, FeatureExtractor
from router.decision.inputs import read_prompt
from router.decision.language import LanguageDetector
from router.decision.rule_scorer import RuleScorer, TierResult
from router.decision.text import KeywordIndex
from router.errors import ModelArtifactError
from router.types import (
    TASKS,
    TIERS,
    Contributions,
    Decision,
    Tier,
    band_position,
    new_decision,
    squeeze_into_band,
    tier_band,
)

if TYPE_CHECKING:
    from router.decision.artifact import ModelArtifact
    from router.decision.user_layer import UserLayer

__all__ = ["Classifier"]

# Enum lookups by value and property access cost more than dict lookups on the hot path.
_TIER_OF = {t.value: t for t in TIERS}
_TASK_OF = {t.value: t for t in TASKS}
_TIER_RANKS = tuple((t.value, t.rank) for t in TIERS)
# Keyed by value: an Enum member hashes through a Python-level __hash__.
_BANDS = {t.value: tier_band(t) for t in TIERS}
_RANK = dict(_TIER_RANKS)


class Classifier:
    """Reads prompts and decides task, tier and language.

    Args:
        model: ``None`` loads the bundled model (falling back to the rules, with
            a warning on every decision, if it is missing or unusable); a path
            loads that artifact and raises :class:`ModelArtifactError` if it
            cannot; ``False`` uses the rules only.
        confidence_threshold: below this model confidence the artifact's
            low-confidence policy (rules or blend) applies; ``None`` keeps the
            threshold chosen on validation data at training time.
        keywords_dir, scoring_path: replace the bundled keyword tables or rule weights.
    """

    def __init__(
        self,
        *,
        model: Any = None,
        confidence_threshold: float | None = None,
        keywords_dir: str | Path | None = None,
        scoring_path: str | Path | None = None,
    ) -> None:
        config = scoring_config(Path(scoring_path)) if scoring_path else scoring_config()
        tables = load_keyword_tables(Path(keywords_dir)) if keywords_dir else load_keyword_tables()
        languages = language_config()
        common = [w for words in languages["stopwords"].values() for w in words]
        self.extractor = FeatureExtractor(
            KeywordIndex(tables, common_words=common),
            LanguageDetector(
                languages["stopwords"],
                default=languages.get("default", "en"),
                letters=languages.get("letters"),
            ),
            config,
        )
        self.rules = RuleScorer(config)
        floors = config["overrides"]
        self._long_context = int(floors["long_context_tokens"])
        self._structured_floor = Tier(floors["structured_output_min_tier"])
        self._tools_floor = Tier(floors["agentic_min_tier"])
        self.model_warning: str | None = None
        self.model: ModelArtifact | None = self._load_model(model)
        # The user's outcome layer on top of the model's score (router/decision/user_layer.py).
        self.user_layer: UserLayer | None = None
        if confidence_threshold is not None and not 0.0 <= confidence_threshold <= 1.0:
            raise ValueError(
                f"confidence_threshold must be within [0, 1], got {confidence_threshold!r}"
            )
        self.confidence_threshold = (
            confidence_threshold
            if confidence_threshold is not None
            else (self.model.confidence_threshold if self.model else 0.0)
        )

    def _load_model(self, model: Any) -> ModelArtifact | None:
        from router.decision.artifact import ModelArtifact, bundled_artifact_path, load_artifact

        if model is False:
            return None
        if isinstance(model, ModelArtifact):
            return model
        if model is None or model is True:
            try:
                return load_artifact(bundled_artifact_path())
            except ModelArtifactError as exc:
                self.model_warning = f"bundled model unavailable, using rules: {exc}"
                return None
        if isinstance(model, (str, Path)):
            return load_artifact(model)
        raise TypeError(
            f"model must be None, False, a path or a ModelArtifact, got {type(model).__name__}"
        )

    def classify(
        self, messages: Any, *, tools: Any = None, response_format: Any = None
    ) -> Decision:
        prompt = read_prompt(messages, tools=tools, response_format=response_format)
        ex = self.extractor.extract(prompt)
        warnings: list[str] = []
        if prompt.has_images or prompt.has_audio:
            warnings.append("image or audio parts were noted but not scored")
        if self.model is None:
            if self.model_warning:
                warnings.append(self.model_warning)
            return self._rules_decision(ex, self.rules.tier(ex), warnings)
        decision = self._model_decision(ex, self.model, warnings)
        if self.user_layer is not None:
            floor = self._floor(ex)[0]
            decision = self.user_layer.adjust(
                decision, ex.values, prompt.text, floor=floor, model=self.model
            )
        return decision

    def _rules_decision(
        self, ex: Extraction, rules: TierResult, warnings: list[str], reasons: tuple[str, ...] = ()
    ) -> Decision:
        task, task_scores = self.rules.task(ex.values)
        return Decision(
            task=task,
            task_scores=task_scores,
            tier=rules.tier,
            tier_probabilities=rules.probabilities,
            score=rules.score,
            confidence=rules.confidence,
            language=ex.language,
            source="rules",
            features=rules.contributions,
            reasons=reasons + rules.reasons,
            warnings=tuple(warnings),
            estimated_tokens=ex.tokens,
            has_tools=ex.prompt.has_tools,
            has_images=ex.prompt.has_images,
        )

    def _model_decision(
        self, ex: Extraction, model: ModelArtifact, warnings: list[str]
    ) -> Decision:
        prediction = model.predict(ex)
        tier_p = prediction.tier
        task_p = prediction.task
        source = "model"
        reasons: list[str] = []
        if prediction.confidence < self.confidence_threshold:
            note = (
                f"model confidence {prediction.confidence:.2f} is below "
                f"{self.confidence_threshold:.2f}"
            )
            rules = self.rules.tier(ex)
            if model.low_confidence_policy == "rules":
                return self._rules_decision(ex, rules, warnings, (f"{note}: rules decide",))
            _, rule_tasks = self.rules.task(ex.values)
            tier_p = {k: (v + rules.probabilities[k]) / 2 for k, v in tier_p.items()}
            task_p = {k: (v + rule_tasks[k]) / 2 for k, v in task_p.items()}
            source = "blend"
            reasons.append(f"{note}: model and rules averaged")
        floor, why = self._floor(ex)
        if floor:
            # The floors are capability needs (context, structured output,
            # tools), not opinions: condition the distribution on them.
            kept = {t.value: tier_p[t.value] for t in TIERS if t.rank >= floor}
            total = sum(kept.values()) or 1.0
            tier_p = {t.value: kept.get(t.value, 0.0) / total for t in TIERS}
            reasons.append(why)
        task_name = max(task_p, key=task_p.__getitem__)
        expected = sum([tier_p[value] * rank for value, rank in _TIER_RANKS])
        if tier_p is prediction.tier and task_p is prediction.task:
            # Neither blended nor floored: the prediction already holds the same min of maxes.
            confidence = round(prediction.confidence, 4)
        else:
            confidence = round(min(max(tier_p.values()), max(task_p.values())), 4)
        if prediction.fail_logit is not None:
            return self._scored_decision(
                ex, model, prediction.fail_logit, expected, tier_p, task_p, task_name,
                confidence, source, reasons, warnings,
            )  # fmt: skip
        tier_name = max(tier_p, key=tier_p.__getitem__)
        lo, hi = _BANDS[tier_name]
        # Inside the band: the expected rank relative to the chosen tier, plus the
        # artifact's log-length term (its weight was chosen on held-out sources),
        # squashed into (0, 1). Clipping the expected rank to the band instead made
        # ties at the band edges, which a threshold cannot split.
        z = (
            expected
            - _RANK[tier_name]
            + model.length_weight * (math.log1p(ex.tokens) - model.length_center)
        )
        score = min(hi - 1e-9, lo + (hi - lo) * band_position(z))
        reasons.insert(
            0,
            f"{source}: P({tier_name})={tier_p[tier_name]:.2f}, "
            f"P({task_name})={task_p[task_name]:.2f}",
        )
        return Decision(
            task=_TASK_OF[task_name],
            task_scores=task_p,
            tier=_TIER_OF[tier_name],
            tier_probabilities=tier_p,
            score=score,
            confidence=confidence,
            language=ex.language,
            source=source,
            # Each signal's share of the chosen tier's logit under the model.
            features=Contributions(ex.values, model.signal_weights[tier_name]),
            reasons=tuple(reasons),
            warnings=tuple(warnings),
            estimated_tokens=ex.tokens,
            has_tools=ex.prompt.has_tools,
            has_images=ex.prompt.has_images,
            model_version=model.version,
        )

    def _scored_decision(
        self,
        ex: Extraction,
        model: ModelArtifact,
        fail_logit: float,
        expected: float,
        tier_p: dict[str, float],
        task_p: dict[str, float],
        task_name: str,
        confidence: float,
        source: str,
        reasons: list[str],
        warnings: list[str],
    ) -> Decision:
        """Score = P(cheap model falls short) from the artifact's outcome score, moved
        into the band of the tier the tier head chose (cut points in the artifact) without
        losing its order there, so a higher tier never has a lower score. ``tier_p`` is
        already floored."""
        z = (
            fail_logit
            + model.score_rank_weight * expected
            + model.score_length_weight * math.log1p(ex.tokens)
        )
        p_fail = 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0
        tier_name = max(tier_p, key=tier_p.__getitem__)
        tier = _TIER_OF[tier_name]
        cuts = model.score_cuts
        lo = cuts[tier.rank - 1] if tier.rank > 0 else 0.0
        hi = cuts[tier.rank] if tier.rank < len(cuts) else 1.0
        margin = model.score_band_margin
        score = (
            squeeze_into_band(p_fail, lo, hi, margin)
            if margin is not None
            else min(max(p_fail, lo), hi)
        )
        reasons.insert(
            0,
            f"{source}: P({tier_name})={tier_p[tier_name]:.2f}, "
            f"P({task_name})={task_p[task_name]:.2f}, "
            f"P(cheap model falls short)={p_fail:.2f}"
            + ("" if lo <= p_fail <= hi else f" (kept in {tier_name}'s band: {score:.2f})"),
        )
        return new_decision(
            _TASK_OF[task_name],
            task_p,
            tier,
            tier_p,
            score,
            confidence,
            ex.language,
            source,
            Contributions(ex.values, model.signal_weights[tier_name]),
            tuple(reasons),
            tuple(warnings),
            ex.tokens,
            ex.prompt.has_tools,
            ex.prompt.has_images,
            model.version,
        )

    def _floor(self, ex: Extraction) -> tuple[int, str]:
        if ex.tokens > self._long_context:
            return Tier.COMPLEX.rank, f"about {ex.tokens} tokens of context -> at least COMPLEX"
        if ex.prompt.wants_structured:
            tier = self._structured_floor
            return tier.rank, f"structured output requested -> at least {tier.value}"
        if ex.prompt.has_tools:
            tier = self._tools_floor
            return tier.rank, f"tools in the request -> at least {tier.value}"
        return 0, ""
