"""Bounded text sampling, tokenisation and keyword matching.

Matching is word-exact in space-delimited scripts ("definitely" does not contain
the keyword "def", "approve" does not contain "prove") and substring-based in
scripts written without spaces (Chinese, Japanese) or with attached particles
and clitics (Korean, Arabic). Latin runs are split from CJK runs first, so
"用Python写" yields the word "python" and the CJK run "用", "写".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["KeywordIndex", "Scan", "sample", "strip_boilerplate", "substring_script_chars"]

# Scripts matched by substring rather than by whole word.
_SUBSTRING_SCRIPTS = (
    "\u3040-\u30ff"  # hiragana, katakana
    "\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # han
    "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"  # hangul
    "\u0600-\u06ff\u0750-\u077f"  # arabic
    "\uff66-\uff9f"  # half-width katakana
)
_WORD_RE = re.compile(rf"[^\W_{_SUBSTRING_SCRIPTS}][^\W{_SUBSTRING_SCRIPTS}]*(?:\+\+|#)?")
_RUN_RE = re.compile(rf"[{_SUBSTRING_SCRIPTS}]+")
_HAS_SUBSTRING_SCRIPT = re.compile(rf"[{_SUBSTRING_SCRIPTS}]")


def sample(text: str, limit: int) -> str:
    """Return ``text`` whole if short, else its head and tail.

    Long prompts put the instruction at the start or the end; the middle is
    usually a pasted document. Sampling keeps classification cost flat in length.
    """
    if len(text) <= limit:
        return text
    half = limit // 2
    return text[:half] + "\n" + text[-half:]


def strip_boilerplate(text: str, tags: Iterable[str]) -> str:
    """Remove ``<tag>…</tag>`` blocks that agent harnesses inject into user turns.

    An unterminated block runs to the end of the text, as harnesses truncate.
    """
    for tag in tags:
        opening = f"<{tag}>"
        if opening not in text:
            continue
        closing = f"</{tag}>"
        parts: list[str] = []
        pos = 0
        while True:
            start = text.find(opening, pos)
            if start < 0:
                parts.append(text[pos:])
                break
            parts.append(text[pos:start])
            end = text.find(closing, start)
            if end < 0:
                break
            pos = end + len(closing)
        text = "".join(parts)
    return text


def substring_script_chars(text: str) -> int:
    """How many characters of ``text`` are in scripts written without spaces."""
    if text.isascii():
        return 0
    return sum(len(run) for run in _RUN_RE.findall(text))


@dataclass(frozen=True, slots=True)
class Scan:
    """Which keywords of each category a text contains (each counted once)."""

    hits: Mapping[str, tuple[str, ...]]
    words: tuple[str, ...]

    def count(self, category: str) -> int:
        return len(self.hits.get(category, ()))


class KeywordIndex:
    """All keyword tables merged into lookups that cost one pass over the text.

    Args:
        tables: category -> keywords. A keyword may be a word, a phrase of
            several words ("step by step", hyphens and spaces alike), or text in a
            substring script ("证明", "증명").
    """

    def __init__(self, tables: Mapping[str, Iterable[str]]) -> None:
        words: dict[str, list[str]] = {}
        phrases: dict[str, list[str]] = {}
        substrings: dict[str, list[str]] = {}
        for category, keywords in tables.items():
            for raw in keywords:
                keyword = raw.strip().lower()
                if not keyword:
                    continue
                if _HAS_SUBSTRING_SCRIPT.search(keyword):
                    substrings.setdefault(keyword, []).append(category)
                    continue
                tokens = _WORD_RE.findall(keyword)
                if len(tokens) == 1 and tokens[0] == keyword:
                    words.setdefault(keyword, []).append(category)
                elif tokens:
                    phrases.setdefault(" ".join(tokens), []).append(category)
        self._words = {k: tuple(v) for k, v in words.items()}
        self._word_set = frozenset(self._words)
        self._phrases = {k: tuple(v) for k, v in phrases.items()}
        # A phrase can only be present when its first word is; checking that
        # first keeps the phrase regex off most prompts.
        self._phrase_heads = frozenset(p.split(" ", 1)[0] for p in self._phrases)
        self._phrase_re = _alternation(self._phrases, r"(?<![^ ])", r"(?![^ ])")
        self._substrings = {k: tuple(v) for k, v in substrings.items()}
        self._substring_re = _alternation(self._substrings, "", "")

    def scan(self, lowered: str) -> Scan:
        """Find every keyword in ``lowered`` (text already lower-cased and sampled)."""
        words = _WORD_RE.findall(lowered)
        distinct = set(words)
        found: dict[str, list[str]] = {}
        for word in distinct & self._word_set:
            for category in self._words[word]:
                found.setdefault(category, []).append(word)
        if self._phrase_re is not None and not distinct.isdisjoint(self._phrase_heads):
            for phrase in set(self._phrase_re.findall(" ".join(words))):
                for category in self._phrases[phrase]:
                    found.setdefault(category, []).append(phrase)
        if self._substring_re is not None:
            runs = _RUN_RE.findall(lowered)
            if runs:
                for keyword in set(self._substring_re.findall("\n".join(runs))):
                    for category in self._substrings[keyword]:
                        found.setdefault(category, []).append(keyword)
        return Scan(hits={k: tuple(v) for k, v in found.items()}, words=tuple(words))


def _alternation(keys: Iterable[str], before: str, after: str) -> re.Pattern[str] | None:
    # Longest first, so "step by step" wins over "step" and "証明せよ" over "証明".
    ordered = sorted(keys, key=len, reverse=True)
    if not ordered:
        return None
    body = "|".join(re.escape(k) for k in ordered)
    return re.compile(f"{before}(?:{body}){after}")
