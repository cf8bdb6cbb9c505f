"""The fourteen feature extractors, plus the agentic signal and the task signals.

Every extractor is a small function of one turn's :class:`Evidence` and its
parameters from ``data/scoring.yaml``, returning a value in ``[0, 1]``. The rule
scorer weights them by hand; the trained model learns weights over the same
values, so both read prompts the same way.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from router.decision.inputs import Prompt
from router.decision.language import LanguageDetector
from router.decision.text import KeywordIndex, Scan, sample, strip_boilerplate
from router.errors import ConfigError

__all__ = [
    "EXTRACTORS",
    "FEATURE_NAMES",
    "SIGNAL_NAMES",
    "TASK_SIGNAL_NAMES",
    "Evidence",
    "Extraction",
    "FeatureExtractor",
    "Params",
]

# What code looks like, as opposed to words about code: fences, indentation,
# statement ends and operator characters. Counted with str.count and one
# character-class scan; a regex alternation over code shapes costs twenty times
# more on a 2 kB prompt, and this runs on every decision.
_CODE_MARKS = ("```", "```", "\n    ", "\n\t", "def ", "();", "print(", "SELECT ", " FROM ")
_CODE_PUNCT = re.compile(r"[`;{}=<>|&$#\\]")
_CODE_PUNCT_BYTES = b"`;{}=<>|&$#\\"
_MATH_SYNTAX = re.compile(r"[0-9] ?[-+*/×÷^=<>≤≥] ?[0-9(.a-z]")
_MATH_SYMBOLS = re.compile(r"[√∑∫π∞≈≠²³]")
_LATEX = re.compile(r"\\(?:frac|sqrt|int|sum|prod|lim|cdot|binom)\b|\b[a-z]\^\d")
_LIST_LINE = re.compile(r"\n[ \t]*(?:\d{1,2}[.)、]|[-*•]|[①-⑩])[ \t]*\S")


def _code_syntax(text: str) -> int:
    # The characters of _CODE_PUNCT, counted as the bytes deleted from the UTF-8 form:
    # three times faster than findall, and exact, as UTF-8 never uses an ASCII byte
    # inside another character ("surrogatepass" encodes lone surrogates likewise).
    encoded = text.encode("utf-8", "surrogatepass")
    punct = len(encoded) - len(encoded.translate(None, _CODE_PUNCT_BYTES))
    if punct == 0 and "\n" not in text and "def " not in text:
        return 0
    return punct // 2 + sum([text.count(mark) for mark in _CODE_MARKS])


def _questions(text: str) -> int:
    # isascii() is a flag check, so ASCII prompts skip the two full-width scans.
    if text.isascii():
        return text.count("?")
    return text.count("?") + text.count("？") + text.count("؟")


def _math_syntax(lowered: str) -> int:
    count = len(_MATH_SYNTAX.findall(lowered))
    if not lowered.isascii():
        count += len(_MATH_SYMBOLS.findall(lowered))
    if "\\" in lowered or "^" in lowered:
        count += len(_LATEX.findall(lowered))
    if lowered.count("$") >= 2:
        count += 1
    return count


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
    "code",
    "math",
    "math_syntax",
    "numbers",
    "proof",
    "translation",
    "summarization",
    "extraction",
)
SIGNAL_NAMES: tuple[str, ...] = FEATURE_NAMES + TASK_SIGNAL_NAMES
# Task signals that are plain keyword categories of the same name.
TASK_KEYWORD_SIGNALS: tuple[str, ...] = tuple(
    n for n in TASK_SIGNAL_NAMES if n not in {"code", "math_syntax", "numbers"}
)


# Not frozen: this record is built on every decision, and a frozen
# dataclass pays for object.__setattr__ on each field.
@dataclass(slots=True)
class Evidence:
    """What one turn contains, computed once and shared by every extractor."""

    scan: Scan
    counts: Mapping[str, int]  # distinct keyword hits per category
    tokens: int
    code_syntax: int
    math_syntax: int
    numbers: int  # distinct numbers: quantities are what a word problem is made of
    list_lines: int
    questions: int


# Not frozen: this record is built on every decision, and a frozen
# dataclass pays for object.__setattr__ on each field.
@dataclass(slots=True)
class Params:
    """One extractor's parameters from ``scoring.yaml``, resolved once."""

    weight: float
    saturation: float = 2.0
    low: float = 1.0
    high: float = 2.0

    @classmethod
    def from_config(cls, name: str, spec: Mapping[str, Any]) -> Params:
        try:
            params = cls(**{k: float(v) for k, v in spec.items()})
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"scoring config: features.{name}: {exc}") from None
        if params.saturation <= 0 or params.low <= 0 or params.high <= params.low:
            raise ConfigError(
                f"scoring config: features.{name} needs saturation > 0 and 0 < low < high, "
                f"got {dict(spec)!r}"
            )
        return params


def token_count(ev: Evidence, p: Params) -> float:
    """Length on a log scale: ``low`` tokens or fewer is 0, ``high`` or more is 1."""
    x = (math.log(max(ev.tokens, 1)) - math.log(p.low)) / (math.log(p.high) - math.log(p.low))
    return 0.0 if x < 0.0 else min(1.0, x)


def code_presence(ev: Evidence, p: Params) -> float:
    """Words about code, and code itself (fences, indentation, operators), which counts double."""
    return min(1.0, (ev.counts.get("code", 0) + 2 * min(ev.code_syntax, 3)) / p.saturation)


def reasoning_markers(ev: Evidence, p: Params) -> float:
    """Requests to reason: step by step, deduce, puzzles; a proof demand counts double."""
    c = ev.counts
    return min(1.0, (c.get("reasoning", 0) + 2 * c.get("proof", 0)) / p.saturation)


def technical_terms(ev: Evidence, p: Params) -> float:
    """Vocabulary of systems, algorithms and engineering."""
    return min(1.0, ev.counts.get("technical", 0) / p.saturation)


def creative_markers(ev: Evidence, p: Params) -> float:
    """Stories, poems, lyrics, slogans."""
    return min(1.0, ev.counts.get("creative", 0) / p.saturation)


def simple_indicators(ev: Evidence, p: Params) -> float:
    """Greetings, definitions, lookups: what a small model answers well."""
    return min(1.0, ev.counts.get("simple", 0) / p.saturation)


def multi_step_patterns(ev: Evidence, p: Params) -> float:
    """Sequencing words and numbered or bulleted steps."""
    return min(1.0, (ev.counts.get("multistep", 0) + min(ev.list_lines, 6) / 2) / p.saturation)


def question_complexity(ev: Evidence, p: Params) -> float:
    """Why/how/compare questions, and several questions at once."""
    extra_questions = max(0, min(ev.questions, 6) - 1) / 2
    return min(1.0, (ev.counts.get("question_deep", 0) + extra_questions) / p.saturation)


def imperative_verbs(ev: Evidence, p: Params) -> float:
    """Demanding verbs: implement, design, optimize, analyze."""
    return min(1.0, ev.counts.get("imperative", 0) / p.saturation)


def constraint_count(ev: Evidence, p: Params) -> float:
    """Must / at most / without using / O(n): requirements the answer has to meet."""
    return min(1.0, ev.counts.get("constraint", 0) / p.saturation)


def output_format(ev: Evidence, p: Params) -> float:
    """A required shape for the answer: JSON, a table, bullet points."""
    return min(1.0, ev.counts.get("format", 0) / p.saturation)


def reference_complexity(ev: Evidence, p: Params) -> float:
    """Pointers to given material: the following, above, this code, attached."""
    return min(1.0, ev.counts.get("reference", 0) / p.saturation)


def domain_specificity(ev: Evidence, p: Params) -> float:
    """Expert-domain vocabulary: law, medicine, finance, physics."""
    return min(1.0, ev.counts.get("domain", 0) / p.saturation)


def negation_complexity(ev: Evidence, p: Params) -> float:
    """Negations and exceptions, which make instructions harder to follow."""
    return min(1.0, ev.counts.get("negation", 0) / p.saturation)


def agentic_task(ev: Evidence, p: Params) -> float:
    """Multi-step actions in the world: run the tests, open a PR, browse."""
    return min(1.0, ev.counts.get("agentic", 0) / p.saturation)


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


_BUILTIN_EXTRACTORS = tuple(EXTRACTORS.items())
# The extractors that are one keyword category over its saturation, in EXTRACTORS order
# around multi_step_patterns and question_complexity.
_COUNT_FEATURES: tuple[tuple[str, str], ...] = (
    ("technical_terms", "technical"),
    ("creative_markers", "creative"),
    ("simple_indicators", "simple"),
    ("imperative_verbs", "imperative"),
    ("constraint_count", "constraint"),
    ("output_format", "format"),
    ("reference_complexity", "reference"),
    ("domain_specificity", "domain"),
    ("negation_complexity", "negation"),
    ("agentic_task", "agentic"),
)


# Not frozen: this record is built on every decision, and a frozen
# dataclass pays for object.__setattr__ on each field.
@dataclass(slots=True)
class Extraction:
    """All signals of one request, with what triggered them."""

    values: dict[str, float]
    hits: Mapping[str, Sequence[str]]
    words: frozenset[str]
    language: str
    tokens: int
    prompt: Prompt
    # The last turn as scored (cleaned, sampled, lower-cased) and its words in order:
    # what the hashed n-grams read.
    text: str = ""
    ordered_words: Sequence[str] = ()


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
        specs = config["features"]
        missing = set(FEATURE_NAMES) - set(specs)
        if missing:
            raise ConfigError(f"scoring config has no parameters for features {sorted(missing)}")
        self.params = {name: Params.from_config(name, specs[name]) for name in FEATURE_NAMES}
        self._extractors = tuple((name, fn, self.params[name]) for name, fn in EXTRACTORS.items())
        # The fused form below is the fourteen functions written out inline: a decision
        # then makes one call instead of fifty. It stands in only while EXTRACTORS holds
        # exactly those functions; tests/test_decision_fast_paths.py checks the two agree.
        self._fused = tuple(EXTRACTORS.items()) == _BUILTIN_EXTRACTORS
        tc = self.params["token_count"]
        self._log_low = math.log(tc.low)
        self._log_span = math.log(tc.high) - math.log(tc.low)
        self._saturation = {name: p.saturation for name, p in self.params.items()}
        scan = config["scan"]
        self._sample_chars = int(scan["sample_chars"])
        self._context_weight = float(scan["context_weight"])
        self._tags = tuple(config["boilerplate_tags"])
        per_char = config["tokens_per_char"]
        self._tpc_default = float(per_char["default"])
        self._tpc_runs = float(per_char["substring_scripts"])
        self._task_inv_saturation = 1.0 / float(config["tasks"]["keyword_saturation"])
        self._numbers_inv_saturation = 1.0 / float(config["tasks"]["numbers_saturation"])

    def evidence(self, text: str) -> tuple[Evidence, str, str]:
        """Scan one turn; also return its sampled, cleaned text, as is and lower-cased."""
        # Harness blocks go before sampling and before counting: a 6 kB
        # <system-reminder> in front of "say hi" is not what the user wrote, so it
        # must not make the prompt long (a sample could also cut the block's end).
        cleaned = strip_boilerplate(text, self._tags)
        sampled = sample(cleaned, self._sample_chars)
        lowered = sampled.lower()
        scan = self._index.scan(lowered)
        tokens = self._estimate_tokens(cleaned, sampled, scan.run_chars)
        ev = Evidence(
            scan=scan,
            counts={k: len(v) for k, v in scan.hits.items()},
            tokens=tokens,
            code_syntax=_code_syntax(sampled),
            math_syntax=_math_syntax(lowered),
            # Digit-only words: "3.5" counts as two, which is fine for telling
            # a word problem's handful of quantities from prose.
            numbers=sum(map(str.isdigit, scan.words)),
            list_lines=len(_LIST_LINE.findall(sampled)) if "\n" in sampled else 0,
            questions=_questions(sampled),
        )
        return ev, sampled, lowered

    def extract(self, prompt: Prompt) -> Extraction:
        ev, sampled, lowered = self.evidence(prompt.text)
        values = self._values(ev)
        hits = ev.scan.hits
        tokens = ev.tokens
        if prompt.context:
            ctx, _, _ = self.evidence(prompt.context)
            ctx_values = self._values(ctx)
            weight = self._context_weight
            for name, value in ctx_values.items():
                values[name] = min(1.0, values[name] + weight * value)
            tokens += ctx.tokens
        if prompt.has_tools:
            values["agentic_task"] = max(values["agentic_task"], 1.0)
        # isspace() scans without copying; strip() would copy up to the whole sample.
        blank = not sampled or sampled.isspace()
        language = "und" if blank else self._detector.detect(sampled, ev.scan.words)
        return Extraction(
            values=values,
            hits=hits,
            words=ev.scan.words,
            language=language,
            tokens=tokens,
            prompt=prompt,
            text=lowered,
            ordered_words=ev.scan.ordered_words,
        )

    def _values(self, ev: Evidence) -> dict[str, float]:
        if not self._fused:
            return self._values_by_function(ev)
        counts = ev.counts
        get = counts.get
        sat = self._saturation
        # Each value is the extractor of the same name with min(1.0, v) written as a
        # comparison (the same float for every v), in the same key order.
        x = (math.log(max(ev.tokens, 1)) - self._log_low) / self._log_span
        token = 0.0 if x < 0.0 else (x if x < 1.0 else 1.0)
        code = get("code", 0)
        code_syntax = ev.code_syntax
        syntax = 2 * (code_syntax if code_syntax < 3 else 3)
        lines = ev.list_lines
        q = ev.questions
        extra_questions = max(0, (q if q < 6 else 6) - 1) / 2
        values: dict[str, float] = {"token_count": token}
        v = (code + syntax) / sat["code_presence"]
        values["code_presence"] = v if v < 1.0 else 1.0
        v = (get("reasoning", 0) + 2 * get("proof", 0)) / sat["reasoning_markers"]
        values["reasoning_markers"] = v if v < 1.0 else 1.0
        for name, category in _COUNT_FEATURES[:3]:
            v = get(category, 0) / sat[name]
            values[name] = v if v < 1.0 else 1.0
        v = (get("multistep", 0) + (lines if lines < 6 else 6) / 2) / sat["multi_step_patterns"]
        values["multi_step_patterns"] = v if v < 1.0 else 1.0
        v = (get("question_deep", 0) + extra_questions) / sat["question_complexity"]
        values["question_complexity"] = v if v < 1.0 else 1.0
        for name, category in _COUNT_FEATURES[3:]:
            v = get(category, 0) / sat[name]
            values[name] = v if v < 1.0 else 1.0
        inv = self._task_inv_saturation
        for name in TASK_KEYWORD_SIGNALS:
            v = get(name, 0) * inv
            values[name] = v if v < 1.0 else 1.0
        math_syntax = ev.math_syntax
        v = (math_syntax if math_syntax < 4 else 4) * inv
        values["math_syntax"] = v if v < 1.0 else 1.0
        v = ev.numbers * self._numbers_inv_saturation
        values["numbers"] = v if v < 1.0 else 1.0
        v = (code + syntax) * inv
        values["code"] = v if v < 1.0 else 1.0
        return values

    def _values_by_function(self, ev: Evidence) -> dict[str, float]:
        values = {name: fn(ev, p) for name, fn, p in self._extractors}
        inv = self._task_inv_saturation
        counts = ev.counts
        for name in TASK_KEYWORD_SIGNALS:
            values[name] = min(1.0, counts.get(name, 0) * inv)
        values["math_syntax"] = min(1.0, min(ev.math_syntax, 4) * inv)
        values["numbers"] = min(1.0, ev.numbers * self._numbers_inv_saturation)
        # The task scorer saturates sooner than the tier feature: two words
        # about code already say "coding", however hard the task is.
        values["code"] = min(1.0, (counts.get("code", 0) + 2 * min(ev.code_syntax, 3)) * inv)
        return values

    def _estimate_tokens(self, text: str, sampled: str, run_chars: int) -> int:
        # Scripts without spaces spend about a token per character; the sample
        # tells us the mix, the full length scales it.
        share = run_chars / max(len(sampled), 1)
        per_char = self._tpc_runs * share + self._tpc_default * (1.0 - share)
        return max(1, round(len(text) * per_char))
