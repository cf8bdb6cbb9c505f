"""The public entry point: ``Router``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from router.features import FeatureExtractor
from router.inputs import read_prompt
from router.language import LanguageDetector
from router.resources import language_config, load_keyword_tables, scoring_config
from router.rules import RuleScorer
from router.text import KeywordIndex
from router.types import Decision

__all__ = ["Router"]


class Router:
    """Decides task, language and tier for a prompt, and routes it.

    Usage::

        router = Router()
        decision = router.classify("Prove that the square root of 2 is irrational")
        decision.tier, decision.task, decision.reasons

    Args:
        keywords_dir: a folder of ``<lang>.yaml`` keyword tables replacing the bundled ones.
        scoring_path: a ``scoring.yaml`` replacing the bundled rule weights.
    """

    def __init__(
        self,
        *,
        keywords_dir: str | Path | None = None,
        scoring_path: str | Path | None = None,
    ) -> None:
        config = scoring_config(Path(scoring_path)) if scoring_path else scoring_config()
        tables = load_keyword_tables(Path(keywords_dir)) if keywords_dir else load_keyword_tables()
        languages = language_config()
        self._extractor = FeatureExtractor(
            KeywordIndex(tables),
            LanguageDetector(languages["stopwords"], default=languages.get("default", "en")),
            config,
        )
        self._rules = RuleScorer(config)

    @property
    def extractor(self) -> FeatureExtractor:
        """The feature extractor, shared with training so both read prompts alike."""
        return self._extractor

    def classify(
        self,
        messages: Any,
        *,
        tools: Any = None,
        response_format: Any = None,
    ) -> Decision:
        """Decide task, tier and language for a string or an OpenAI-style message list.

        Raises:
            RouterInputError: when ``messages`` cannot be read; the message names the problem.
        """
        prompt = read_prompt(messages, tools=tools, response_format=response_format)
        ex = self._extractor.extract(prompt)
        tier = self._rules.tier(ex)
        task, task_scores = self._rules.task(ex.values)
        warnings: tuple[str, ...] = ()
        if prompt.has_images or prompt.has_audio:
            warnings = ("image or audio parts were noted but not scored",)
        return Decision(
            task=task,
            task_scores=task_scores,
            tier=tier.tier,
            tier_probabilities=tier.probabilities,
            score=tier.score,
            confidence=tier.confidence,
            language=ex.language,
            source="rules",
            features=tier.contributions,
            reasons=tier.reasons,
            warnings=warnings,
            estimated_tokens=ex.tokens,
            has_tools=prompt.has_tools,
            has_images=prompt.has_images,
        )
