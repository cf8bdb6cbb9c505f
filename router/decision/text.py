"""Bounded text sampling, tokenisation and keyword matching.

Matching is word-exact in space-delimited scripts ("definitely" does not contain
the keyword "def", "approve" does not contain "prove") and substring-based in
scripts written without spaces (Chinese, Japanese) or with particles glued to
words (Korean). Latin runs are split from CJK runs first, so "用Python写" yields
the word "python" and the runs "用", "写". Arabic keywords also match behind the
article and the common one-letter proclitics ("البرمجة" matches "برمجة").

Everything here is on the decision's hot path: lookups are set intersections
and substring tests, never a regex alternation over hundreds of keywords.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "KeywordIndex",
    "Scan",
    "sample",
    "strip_boilerplate",
    "tokenize",
]

# Scripts matched by substring rather than by whole word.
_SUBSTRING_SCRIPTS = (
    "\u3040-\u30ff"  # hiragana, katakana
    "\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # han
    "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"  # hangul
    "\uff66-\uff9f"  # half-width katakana
)
_WORD_RE = re.compile(rf"[^\W_{_SUBSTRING_SCRIPTS}][^\W{_SUBSTRING_SCRIPTS}]*(?:\+\+|#)?")
_RUN_RE = re.compile(rf"[{_SUBSTRING_SCRIPTS}]+")
_HAS_SUBSTRING_SCRIPT = re.compile(rf"[{_SUBSTRING_SCRIPTS}]")
_ARABIC_WORD = re.compile(r"^[\u0600-\u06ff]+$")
# Article and proclitics that Arabic writes attached to the word.
_ARABIC_PREFIXES = ("ال", "وال", "بال", "لل", "فال", "كال", "و", "ب", "ل", "ف")
# ASCII punctuation becomes a word break, except the characters that are part
# of names users type: c++, c#, snake_case.
_ASCII_BREAK_CHARS = "".join(c for c in string.punctuation if c not in "+#_")
# The same map as bytes: translating the ASCII text's bytes is four times faster than
# str.translate with a dict, and gives the same text.
_ASCII_BREAKS = bytes.maketrans(_ASCII_BREAK_CHARS.encode(), b" " * len(_ASCII_BREAK_CHARS))


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

    An unterminated block runs to the end of the text, as harnesses truncate. Only
    tags that open in the text as given are removed: taking a block out never turns
    the text around it into a new tag.
    """
    if "<" not in text:
        return text
    tags = tuple(tags)
    # One scan for every tag: a substring test per tag read a 10 MB paste ten times.
    present = set(_openings(tags).findall(text))
    if not present:
        return text
    for tag in tags:
        opening = f"<{tag}>"
        if tag not in present or opening not in text:
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


@functools.lru_cache(maxsize=8)
def _openings(tags: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("<(" + "|".join(map(re.escape, tags)) + ")>")


def tokenize(lowered: str) -> list[str]:
    """Words of already lower-cased text, outside the substring scripts."""
    if lowered.isascii():
        # Ten times faster than the Unicode regex, and most prompts are ASCII.
        return lowered.encode().translate(_ASCII_BREAKS).decode().split()
    return _WORD_RE.findall(lowered)


@dataclass(slots=True)
class Scan:
    """Which keywords of each category a text contains (each counted once)."""

    hits: Mapping[str, Sequence[str]]
    words: frozenset[str]
    run_chars: int = 0  # characters in scripts written without spaces
    # The words in order (the hashed n-grams pair neighbours); tokenised once, here.
    ordered_words: Sequence[str] = ()

    def count(self, category: str) -> int:
        return len(self.hits.get(category, ()))


class KeywordIndex:
    """All keyword tables merged into lookups that cost about one pass over the text.

    Args:
        tables: category -> keywords. A keyword may be a word, a phrase of
            several words ("step by step"; hyphens and spaces alike), or text in a
            substring script ("证明", "증명").
        common_words: function words ("the", "what"); a phrase is never keyed
            on one of them when it has another word, since they occur everywhere.
    """

    def __init__(
        self, tables: Mapping[str, Iterable[str]], common_words: Iterable[str] = ()
    ) -> None:
        words: dict[str, set[str]] = {}
        phrases: dict[str, set[str]] = {}
        substrings: dict[str, set[str]] = {}
        for category, keywords in tables.items():
            for raw in keywords:
                keyword = raw.strip().lower()
                if not keyword:
                    continue
                if _HAS_SUBSTRING_SCRIPT.search(keyword):
                    substrings.setdefault(keyword, set()).add(category)
                    continue
                tokens = tokenize(keyword)
                if len(tokens) == 1:
                    for form in _word_forms(tokens[0]):
                        words.setdefault(form, set()).add(category)
                elif tokens:
                    phrases.setdefault(" ".join(tokens), set()).add(category)
        self._words = {k: tuple(sorted(v)) for k, v in words.items()}
        self._word_set = frozenset(self._words)
        # A phrase is looked for only when its rarest-looking word (not a
        # function word, then the longest) is present, so most phrases cost
        # nothing on most prompts. Stored padded, ready for a substring test.
        common = frozenset(w.lower() for w in common_words)
        self._phrases = _group_by(
            ((f" {p} ", tuple(sorted(c))) for p, c in phrases.items()),
            key=lambda p: max(p.split(), key=lambda w: (w not in common, len(w))),
        )
        self._phrase_keys = frozenset(self._phrases)
        # Likewise a substring keyword is tried only when its least shared
        # character occurs in the text.
        char_use: dict[str, int] = {}
        for keyword in substrings:
            for ch in set(keyword):
                char_use[ch] = char_use.get(ch, 0) + 1
        self._substrings = _group_by(
            ((k, tuple(sorted(c))) for k, c in substrings.items()),
            key=lambda k: min(k, key=lambda ch: (char_use[ch], ch)),
        )
        self._substring_keys = frozenset(self._substrings)

    def scan(self, lowered: str) -> Scan:
        """Find every keyword in ``lowered`` (text already lower-cased and sampled)."""
        words = tokenize(lowered)
        distinct = frozenset(words)
        found: dict[str, list[str]] = {}
        for word in distinct & self._word_set:
            for category in self._words[word]:
                found.setdefault(category, []).append(word)
        keys = distinct & self._phrase_keys
        if keys:
            padded = f" {' '.join(words)} "
            for key in keys:
                for phrase, categories in self._phrases[key]:
                    if phrase in padded:
                        for category in categories:
                            found.setdefault(category, []).append(phrase[1:-1])
        run_chars = 0
        if not lowered.isascii() and _HAS_SUBSTRING_SCRIPT.search(lowered):
            runs = "\n".join(_RUN_RE.findall(lowered))
            run_chars = len(runs) - runs.count("\n")
            if runs:
                for ch in self._substring_keys.intersection(runs):
                    for keyword, categories in self._substrings[ch]:
                        if keyword in runs:
                            for category in categories:
                                found.setdefault(category, []).append(keyword)
        return Scan(hits=found, words=distinct, run_chars=run_chars, ordered_words=words)


def _word_forms(word: str) -> tuple[str, ...]:
    if _ARABIC_WORD.match(word):
        return (word, *(prefix + word for prefix in _ARABIC_PREFIXES))
    return (word,)


def _group_by(
    items: Iterable[tuple[str, tuple[str, ...]]], key: Callable[[str], str]
) -> dict[str, tuple[tuple[str, tuple[str, ...]], ...]]:
    grouped: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for item in items:
        grouped.setdefault(key(item[0]), []).append(item)
    return {k: tuple(v) for k, v in grouped.items()}
