"""The fourteen feature extractors, plus the agentic signal and the task signals.

Every extractor is a small function of one turn's :class:`Evidence` and its
parameters from ``data/scoring.yaml``, returning a value in ``[0, 1]``. The rule
scorer weights them by hand; the trained model learns weights over the same
values, so both read prompts the same way.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from router.inputs import Prompt
from router.language import LanguageDetector
from router.text import KeywordIndex, Scan, sample, strip_boilerplate, substring_script_chars

__all__ = [
    "EXTRACTORS",
    "FEATURE_NAMES",
    "SIGNAL_NAMES",
    "TASK_SIGNAL_NAMES",
    "Evidence",
    "Extraction",
    "FeatureExtractor",
]

# What code looks like, as opposed to words about code. Case matters for SQL
# so that "select a few items from the list" stays prose.
_CODE_SYNTAX = re.compile(
    r"```"
    r"|^(?: {4,}|\t+)\S"
    r"|\bdef \w+\("
    r"|\bclass \w+\s*[:({]"
    r"|\bfunction\s*\w*\s*\("
    r"|=>|->|::|&&|\|\||!=|==|\+=|:="
    r"|#include\b"
    r"|^\s*(?:import|from) [\w.]+(?: import \w+)?\s*$"
    r"|\bSELECT\b.{1,200}?\bFROM\b"
    r"|\b(?:INSERT INTO|UPDATE \w+ SET|CREATE TABLE)\b"
    r"|[;{}]\s*$"
    r"|\b\w+\.\w+\([^()\n]*\)"
    r"|</?[a-z][a-z0-9]*(?: [^<>\n]*)?>"
    r"|\$ \w"
    r"|\b(?:fn|func) \w+\("
    r"|\b(?:public|private) (?:static )?\w+",
    re.MULTILINE,
)
_MATH_SYNTAX = re.compile(
    r"\d\s*[-+*/×÷^=<>≤≥]\s*[\d(.a-z]"
    r"|\\(?:frac|sqrt|int|sum|prod|lim|cdot|leq|geq|pi|binom|log|sin|cos)\b"
    r"|\b[a-z]\^\d"
    r"|\$[^$\n]{1,80}\$"
    r"|[√∑∫π∞≈≠]"
)
_LIST_LINE = re.compile(r"^\s*(?:\d{1,2}[.)、]|[-*•]|[①-⑩])\s*\S", re.MULTILINE)

FEATURE_NAMES: tuple[str, ...] = (
    "token_count",
    "code_presence",
    "reasoning_markers",
    "technical_terms",
    "creative_markers",
    "simple_indicators",
    "multi_step_patterns",
    "question_complexity",
    "imperative_verbs",
    "constraint_count",
    "output_format",
    "reference_complexity",
    "domain_specificity",
    "negation_complexity",
    "agentic_task",
)
# Signals the task scorer reads beyond the features.
TASK_SIGNAL_NAMES: tuple[str, ...] = (
    "math",
    "math_syntax",
    "proof",
    "translation",
    "summarization",
    "extraction",
)
SIGNAL_NAMES: tuple[str, ...] = FEATURE_NAMES + TASK_SIGNAL_NAMES


@dataclass(frozen=True, slots=True)
class Evidence:
    """What one turn contains, computed once and shared by every extractor."""

    scan: Scan
    tokens: int
    code_syntax: int
    math_syntax: int
    list_lines: int
    questions: int


Params = Mapping[str, Any]


def _saturate(count: float, params: Params) -> float:
    return min(1.0, count / float(params.get("saturation", 2)))


def token_count(ev: Evidence, params: Params) -> float:
    """Length on a log scale: ``low`` tokens or fewer is 0, ``high`` or more is 1."""
    low, high = math.log(params["low"]), math.log(params["high"])
    return min(1.0, max(0.0, (math.log(max(ev.tokens, 1)) - low) / (high - low)))


def code_presence(ev: Evidence, params: Params) -> float:
    """Words about code, and code itself (fences, indentation, calls), which counts double."""
    return _saturate(ev.scan.count("code") + 2 * min(ev.code_syntax, 3), params)


def reasoning_markers(ev: Evidence, params: Params) -> float:
    """Requests to reason: step by step, deduce, puzzles, proofs."""
    return _saturate(ev.scan.count("reasoning") + 2 * ev.scan.count("proof"), params)


def technical_terms(ev: Evidence, params: Params) -> float:
    """Vocabulary of systems, algorithms and engineering."""
    return _saturate(ev.scan.count("technical"), params)


def creative_markers(ev: Evidence, params: Params) -> float:
    """Stories, poems, lyrics, slogans."""
    return _saturate(ev.scan.count("creative"), params)


def simple_indicators(ev: Evidence, params: Params) -> float:
    """Greetings, definitions, lookups: what a small model answers well."""
    return _saturate(ev.scan.count("simple"), params)


def multi_step_patterns(ev: Evidence, params: Params) -> float:
    """Sequencing words and numbered or bulleted steps."""
    return _saturate(ev.scan.count("multistep") + min(ev.list_lines, 6) / 2, params)


def question_complexity(ev: Evidence, params: Params) -> float:
    """Why/how/compare questions, and several questions at once."""
    extra_questions = max(0, min(ev.questions, 6) - 1) / 2
    return _saturate(ev.scan.count("question_deep") + extra_questions, params)


def imperative_verbs(ev: Evidence, params: Params) -> float:
    """Demanding verbs: implement, design, optimize, analyze."""
    return _saturate(ev.scan.count("imperative"), params)


def constraint_count(ev: Evidence, params: Params) -> float:
    """Must / at most / without using / O(n): requirements the answer has to meet."""
    return _saturate(ev.scan.count("constraint"), params)


def output_format(ev: Evidence, params: Params) -> float:
    """A required shape for the answer: JSON, a table, bullet points."""
    return _saturate(ev.scan.count("format"), params)


def reference_complexity(ev: Evidence, params: Params) -> float:
    """Pointers to given material: the following, above, this code, attached."""
    return _saturate(ev.scan.count("reference"), params)


def domain_specificity(ev: Evidence, params: Params) -> float:
    """Expert-domain vocabulary: law, medicine, finance, physics."""
    return _saturate(ev.scan.count("domain"), params)


def negation_complexity(ev: Evidence, params: Params) -> float:
    """Negations and exceptions, which make instructions harder to follow."""
    return _saturate(ev.scan.count("negation"), params)


def agentic_task(ev: Evidence, params: Params) -> float:
    """Multi-step actions in the world: run the tests, open a PR, browse."""
    return _saturate(ev.scan.count("agentic"), params)


Extractor = Callable[[Evidence, Params], float]
EXTRACTORS: dict[str, Extractor] = {
    "token_count": token_count,
    "code_presence": code_presence,
    "reasoning_markers": reasoning_markers,
    "technical_terms": technical_terms,
    "creative_markers": creative_markers,
    "simple_indicators": simple_indicators,
    "multi_step_patterns": multi_step_patterns,
    "question_complexity": question_complexity,
    "imperative_verbs": imperative_verbs,
    "constraint_count": constraint_count,
    "output_format": output_format,
    "reference_complexity": reference_complexity,
    "domain_specificity": domain_specificity,
    "negation_complexity": negation_complexity,
    "agentic_task": agentic_task,
}


@dataclass(frozen=True, slots=True)
class Extraction:
    """All signals of one request, with what triggered them."""

    values: dict[str, float]
    hits: dict[str, tuple[str, ...]]
    language: str
    tokens: int
    prompt: Prompt


class FeatureExtractor:
    """Reads a :class:`Prompt` into signal values.

    Args:
        index: the merged keyword tables.
        detector: the language detector.
        config: the parsed ``scoring.yaml``.
    """

    def __init__(
        self, index: KeywordIndex, detector: LanguageDetector, config: Mapping[str, Any]
    ) -> None:
        self._index = index
        self._detector = detector
        self._params: dict[str, Params] = dict(config["features"])
        missing = set(FEATURE_NAMES) - set(self._params)
        if missing:
            from router.errors import ConfigError

            raise ConfigError(f"scoring config has no parameters for features {sorted(missing)}")
        scan = config["scan"]
        self._sample_chars = int(scan["sample_chars"])
        self._context_weight = float(scan["context_weight"])
        self._tags = tuple(config["boilerplate_tags"])
        per_char = config["tokens_per_char"]
        self._tpc_default = float(per_char["default"])
        self._tpc_runs = float(per_char["substring_scripts"])
        self._task_saturation = {"saturation": config["tasks"]["keyword_saturation"]}

    def evidence(self, text: str) -> tuple[Evidence, str]:
        """Scan one turn; also return its sampled, cleaned text."""
        sampled = strip_boilerplate(sample(text, self._sample_chars), self._tags)
        lowered = sampled.lower()
        scan = self._index.scan(lowered)
        tokens = self._estimate_tokens(text, sampled)
        ev = Evidence(
            scan=scan,
            tokens=tokens,
            code_syntax=len(_CODE_SYNTAX.findall(sampled)),
            math_syntax=len(_MATH_SYNTAX.findall(lowered)),
            list_lines=len(_LIST_LINE.findall(sampled)) if "\n" in sampled else 0,
            questions=sampled.count("?") + sampled.count("？") + sampled.count("؟"),
        )
        return ev, sampled

    def extract(self, prompt: Prompt) -> Extraction:
        ev, sampled = self.evidence(prompt.text)
        values = self._values(ev)
        hits = dict(ev.scan.hits)
        tokens = ev.tokens
        if prompt.context:
            ctx, _ = self.evidence(prompt.context)
            ctx_values = self._values(ctx)
            weight = self._context_weight
            for name, value in ctx_values.items():
                values[name] = min(1.0, values[name] + weight * value)
            tokens += ctx.tokens
        if prompt.has_tools:
            values["agentic_task"] = max(values["agentic_task"], 1.0)
        language = self._detector.detect(sampled, ev.scan.words) if sampled.strip() else "und"
        return Extraction(values=values, hits=hits, language=language, tokens=tokens, prompt=prompt)

    def _values(self, ev: Evidence) -> dict[str, float]:
        params = self._params
        values = {name: fn(ev, params[name]) for name, fn in EXTRACTORS.items()}
        sat = self._task_saturation
        scan = ev.scan
        values["math"] = _saturate(scan.count("math"), sat)
        values["math_syntax"] = _saturate(min(ev.math_syntax, 4), sat)
        values["proof"] = _saturate(scan.count("proof"), sat)
        values["translation"] = _saturate(scan.count("translation"), sat)
        values["summarization"] = _saturate(scan.count("summarization"), sat)
        values["extraction"] = _saturate(scan.count("extraction"), sat)
        return values

    def _estimate_tokens(self, text: str, sampled: str) -> int:
        # Scripts without spaces spend about a token per character; the sample
        # tells us the mix, the full length scales it.
        share = substring_script_chars(sampled) / max(len(sampled), 1)
        per_char = self._tpc_runs * share + self._tpc_default * (1.0 - share)
        return max(1, round(len(text) * per_char))
