"""Detect a prompt's main language as an ISO 639-1 code.

Scripts decide most languages outright (kana means Japanese even among kanji;
hangul Korean; Cyrillic Russian unless Ukrainian letters appear). Latin-script
languages are told apart by their commonest function words, listed in
``data/languages.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = ["LanguageDetector"]

# Each script's characters, as regex class ranges; Latin last.
_SCRIPT_RANGES: tuple[tuple[str, str], ...] = (
    ("ja", "\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f"),
    ("zh", "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"),
    ("ko", "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"),
    ("ru", "\u0400-\u04ff"),
    ("ar", "\u0600-\u06ff\u0750-\u077f"),
    ("el", "\u0370-\u03ff"),
    ("he", "\u0590-\u05ff"),
    ("th", "\u0e00-\u0e7f"),
    ("hi", "\u0900-\u097f"),
    ("latin", "A-Za-z\u00c0-\u024f"),
)
_SCRIPTS = tuple(script for script, _ in _SCRIPT_RANGES)
# One alternation of script runs: a single pass over the head of the text,
# with group i capturing runs of script i.
_SCRIPT_RUNS = re.compile("|".join(f"([{ranges}]+)" for _, ranges in _SCRIPT_RANGES))
# Any character of a script other than Latin: without one, every count but Latin's
# is zero and the function words decide, so the run scan, which loops in Python
# once per word and is most of the cost of detecting German or French, is skipped.
_NON_LATIN = re.compile(
    "[" + "".join(ranges for script, ranges in _SCRIPT_RANGES if script != "latin") + "]"
)
_UKRAINIAN = re.compile(r"[іїєґІЇЄҐ]")
_PERSIAN = re.compile(r"[پچژگ]")
_CJK_SCRIPTS = frozenset({"ja", "zh", "ko"})
_LETTER_RUNS = re.compile(r"[^\W\d_]+")

# A CJK character carries about as much as a short Latin word, so one counts
# as several Latin letters when deciding which script dominates.
_CJK_WEIGHT = 3
# A lead-in instruction ends at the first newline or colon within this many
# characters, and must be at least this long to decide alone.
_LEAD_IN_END = re.compile(r"[\n:：]")
_LEAD_IN_CHARS = 160
_MIN_LEAD_IN = 2
# How much of a text is enough to tell its language.
_SAMPLE = 300


class LanguageDetector:
    """Script counts first, then function-word votes for Latin-script text.

    Args:
        stopwords: language code -> its commonest function words.
        letters: language code -> letters only that language uses among the
            Latin-script ones (each present adds two votes).
        default: the answer when nothing votes (short ASCII text is usually English).
    """

    def __init__(
        self,
        stopwords: Mapping[str, Iterable[str]],
        default: str = "en",
        letters: Mapping[str, str] | None = None,
    ) -> None:
        self._votes: dict[str, tuple[str, ...]] = {}
        for lang, words in stopwords.items():
            for word in words:
                key = word.lower()
                self._votes[key] = (*self._votes.get(key, ()), lang)
        self._vote_words = frozenset(self._votes)
        # Ties go to the language listed first, not to set iteration order,
        # which changes from one process to the next.
        self._rank = {lang: i for i, lang in enumerate(stopwords)}
        self._default = default
        self._letters = tuple((lang, frozenset(chars)) for lang, chars in (letters or {}).items())

    def detect(self, text: str, words: Iterable[str] = ()) -> str:
        """Return the language code of ``text``.

        ``words`` are the text's distinct lower-cased words when the caller
        already has them (the keyword scan does); they are recomputed otherwise.
        Each function word votes once, however often it occurs.
        """
        head = text[:_SAMPLE]
        # A lead-in such as "翻译成中文：" or "Translate into German:" is the
        # instruction, and the passage after it may be in any language: the
        # lead-in decides when it can.
        cut = _LEAD_IN_END.search(head, 0, _LEAD_IN_CHARS)
        if cut is not None and cut.start() >= _MIN_LEAD_IN:
            found = self._by_script(head[: cut.start()], ())
            if found is not None:
                return found
        return self._by_script(head, words) or self._default

    def _by_script(self, head: str, words: Iterable[str]) -> str | None:
        if head.isascii() or not _NON_LATIN.search(head):
            return self._latin(words, head)
        sizes = [0] * (len(_SCRIPTS) + 1)
        for match in _SCRIPT_RUNS.finditer(head):
            # lastindex is the number of the group that matched: the script.
            sizes[match.lastindex or 0] += match.end() - match.start()
        counts = {
            script: size * (_CJK_WEIGHT if script in _CJK_SCRIPTS else 1)
            for script, size in zip(_SCRIPTS, sizes[1:], strict=True)
        }
        latin = counts.pop("latin")
        # Japanese writes kanji alongside kana: any real share of kana makes
        # the whole CJK block Japanese.
        if counts["ja"] and counts["ja"] * 10 >= counts["zh"]:
            counts["ja"] += counts["zh"]
            counts["zh"] = 0
        script, best = max(counts.items(), key=lambda item: item[1])
        if best <= latin:
            return self._latin(words, head)
        if script == "ru" and _UKRAINIAN.search(head):
            return "uk"
        if script == "ar" and _PERSIAN.search(head):
            return "fa"
        return script

    def _latin(self, words: Iterable[str], head: str) -> str | None:
        """The Latin-script language with most function-word votes; None if nothing votes."""
        tally: dict[str, int] = {}
        seen = frozenset(words) if words else frozenset(_LETTER_RUNS.findall(head.lower()))
        for word in seen & self._vote_words:
            for lang in self._votes[word]:
                tally[lang] = tally.get(lang, 0) + 1
        if not head.isascii():
            present = frozenset(head.lower())
            for lang, chars in self._letters:
                if not present.isdisjoint(chars):
                    tally[lang] = tally.get(lang, 0) + 2
        if len(tally) < 2:
            # One language voted (most prompts), or none.
            return next(iter(tally), None)
        rank = self._rank
        return max(tally.items(), key=lambda item: (item[1], -rank.get(item[0], len(rank))))[0]
