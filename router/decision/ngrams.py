"""Hashed n-grams: what the prompt says, beyond the keyword tables.

The fourteen extractors see only the words in the keyword tables, and the vocabulary
only the 3,000 most frequent training words. These features see every word: word
unigrams and bigrams in space-delimited scripts, and character unigrams and bigrams
in scripts written without spaces (han, kana, hangul), each hashed with MurmurHash3
(x86, 32-bit, seed 0) into ``n_features`` buckets.

Training hashes :func:`grams` with scikit-learn's ``FeatureHasher`` (``alternate_sign=False``,
which uses the same MurmurHash3 and the same bucket rule) and run time with :mod:`mmh3`
in :func:`hashed`; :func:`grams` is the one analyzer both call, so a bucket means the
same thing in both places (``tests/test_ngrams.py`` checks them against each other).

A prompt's vector is the presence of its distinct grams, scaled to unit length, so a
2,000-word document and a one-line question weigh their grams alike; length itself is
the ``token_count`` signal's job. Only the first ``head`` and last ``tail`` words (and
as many characters of CJK runs, twice as many since a character carries about half a
word) are read: the instruction sits at the start or the end, and the cost stays flat
in the prompt's length.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise
from typing import Any

import mmh3

from router.decision.text import tokenize

__all__ = ["ANALYZER", "HashSpec", "WordForms", "bucket", "columns", "grams", "hashed"]

# Bumped whenever grams() changes what it emits: an artifact trained on another
# analyzer would read different buckets, so the loader refuses it.
ANALYZER = "words12-cjk12-v1"
_CJK = (
    "\u3040-\u30ff\u31f0-\u31ff"  # kana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # han
    "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"  # hangul
    "\uff66-\uff9f"  # half-width katakana
)
_RUN_RE = re.compile(f"[{_CJK}]+")
_HAS_CJK = re.compile(f"[{_CJK}]")
# Digits carry no topic and churn between datasets; one symbol keeps "a number here".
_DIGITS = str.maketrans("0123456789", "0000000000")
# Longer "words" are hashes, base64 and minified code: noise, not vocabulary.
_MAX_WORD = 30
_INT_MIN = -2147483648  # scikit-learn's FeatureHasher maps this one hash specially
# Grams kept per column cache: about 100 MB at worst, then it starts over.
_CACHE_LIMIT = 1_000_000
# Words kept in the word-form cache: about 30 MB at worst, then it starts over.
_FORMS_LIMIT = 200_000


class HashSpec:
    """How many buckets and how much of the prompt: stored in the artifact."""

    __slots__ = ("head", "n_features", "tail")

    def __init__(self, n_features: int, head: int = 256, tail: int = 64) -> None:
        if n_features < 2 or head < 1 or tail < 0:
            raise ValueError(
                "n_features must be >= 2, head >= 1 and tail >= 0, "
                f"got {n_features}, {head}, {tail}"
            )
        self.n_features = n_features
        self.head = head
        self.tail = tail

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HashSpec) and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash((self.n_features, self.head, self.tail))

    def __repr__(self) -> str:
        return f"HashSpec(n_features={self.n_features}, head={self.head}, tail={self.tail})"

    def to_json(self) -> dict[str, Any]:
        return {
            "analyzer": ANALYZER,
            "n_features": self.n_features,
            "head": self.head,
            "tail": self.tail,
            "hash": "murmurhash3_x86_32, seed 0, bucket = abs(h) % n_features",
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HashSpec:
        if data.get("analyzer") != ANALYZER:
            raise ValueError(
                f"n-gram analyzer {data.get('analyzer')!r} is not this tierrouter's {ANALYZER!r}"
            )
        return cls(int(data["n_features"]), int(data["head"]), int(data["tail"]))


def _window(items: list[str], head: int, tail: int) -> list[str]:
    if len(items) <= head + tail:
        return items
    return items[:head] + items[len(items) - tail :]


def _word_form(token: str) -> str:
    """The word a token stands for among the grams; empty when it is too long to count."""
    if len(token) > _MAX_WORD:
        return ""
    return token if token.isalpha() else token.translate(_DIGITS)


class WordForms:
    """Token -> its word form and its ``w`` gram, kept between prompts by the decision.

    Most words of a prompt were seen before: a lookup replaces the length check, the
    digit folding and the ``"w " + word`` copy, and the cached gram string keeps its
    hash, so adding it to the set and finding its column do not hash it again.
    Starts over past ``limit`` tokens (about 30 MB at the default).
    """

    __slots__ = ("forms", "limit", "unigrams")

    def __init__(self, limit: int = _FORMS_LIMIT) -> None:
        self.forms: dict[str, str] = {}
        self.unigrams: dict[str, str] = {}
        self.limit = limit

    def words_and_unigrams(self, window: list[str]) -> tuple[list[str], list[str]]:
        """The window's word forms and ``w`` grams, in order, too-long tokens left out."""
        forms, unigrams = self.forms, self.unigrams
        if len(forms) > self.limit:
            forms.clear()
            unigrams.clear()
        try:
            words = list(filter(None, map(forms.__getitem__, window)))
        except KeyError:
            for token in set(window).difference(forms):
                form = forms[token] = _word_form(token)
                unigrams[token] = "w " + form if form else ""
            words = list(filter(None, map(forms.__getitem__, window)))
        return words, list(filter(None, map(unigrams.__getitem__, window)))


def grams(
    lowered: str,
    head: int,
    tail: int,
    tokens: Sequence[str] | None = None,
    forms: WordForms | None = None,
) -> set[str]:
    """The distinct grams of already lower-cased text.

    Prefixes keep the kinds apart: ``w`` word, ``b`` word pair, ``c`` CJK character,
    ``d`` CJK character pair (a pair never spans two runs, as a bigram never spans
    a change of script). ``tokens``: ``tokenize(lowered)`` when the caller has it.
    ``forms``: a :class:`WordForms` cache the caller keeps between prompts.

    The set is built in the same order whichever path fills it: the decision sums
    weight rows in the set's order, so the order fixes a logit's last bits.
    """
    if tokens is None:
        tokens = tokenize(lowered)
    window = _window(tokens if isinstance(tokens, list) else list(tokens), head, tail)
    if forms is None:
        words = list(filter(None, map(_word_form, window)))
        out = {"w " + w for w in words}
    else:
        words, unigrams = forms.words_and_unigrams(window)
        out = set(unigrams)
    # An f-string costs half of "b {} {}".format and makes the same strings, added in
    # the same order.
    out.update([f"b {a} {b}" for a, b in pairwise(words)])
    if not lowered.isascii() and _HAS_CJK.search(lowered):
        runs = _RUN_RE.findall(lowered)
        budget_head, budget_tail = 2 * head, 2 * tail
        kept: list[str] = []
        total = sum(map(len, runs))
        if total <= budget_head + budget_tail:
            kept = runs
        else:
            # Cut runs to the first and last characters, as words are cut above.
            used = 0
            for run in runs:
                if used >= budget_head:
                    break
                kept.append(run[: budget_head - used])
                used += len(kept[-1])
            tail_runs: list[str] = []
            used = 0
            for run in reversed(runs):
                if used >= budget_tail:
                    break
                piece = run[max(0, len(run) - (budget_tail - used)) :]
                tail_runs.append(piece)
                used += len(piece)
            kept += reversed(tail_runs)
        for run in kept:
            out.update(["c " + ch for ch in run])
            out.update(["d " + run[i : i + 2] for i in range(len(run) - 1)])
    return out


def bucket(gram: str, n_features: int) -> int:
    """scikit-learn's FeatureHasher index of ``gram`` (it special-cases -2**31 the same way)."""
    h = mmh3.hash(gram, 0)
    if h == _INT_MIN:
        return (2147483647 - (n_features - 1)) % n_features
    return abs(h) % n_features


def columns(
    grams_: Iterable[str],
    n_features: int,
    offset: int = 0,
    cache: dict[str, int] | None = None,
) -> tuple[list[int], float]:
    """One column per gram (``offset`` + its bucket; grams that collide repeat a column)
    and the value each occurrence adds, so that summing them gives :func:`hashed`.

    This is the decision's form: the scorer gathers weight rows by column and a repeated
    column adds its row again, so no per-bucket dictionary is built. ``cache`` maps
    grams to columns (for this ``n_features`` and ``offset`` only): most grams of a
    prompt were seen before, and a lookup costs a third of hashing. (Hashing every gram
    in C, ``map`` over ``mmh3.hash``, was measured slower even with the cache's lookups
    missing the CPU caches.)
    """
    if cache is None:
        cache = {}
    grams_ = list(grams_)
    found = list(map(cache.get, grams_))
    if None in found:
        if len(cache) > _CACHE_LIMIT:
            cache.clear()
        for i, col in enumerate(found):
            if col is None:
                col = found[i] = bucket(grams_[i], n_features) + offset
                cache[grams_[i]] = col
    cols: list[int] = found  # type: ignore[assignment]  # every None was filled above
    if not cols:
        return cols, 0.0
    distinct = len(set(cols))
    if distinct == len(cols):
        return cols, 1.0 / math.sqrt(len(cols))
    # Counter counts in C; the sum of squares is the same integer either way.
    return cols, 1.0 / math.sqrt(sum([v * v for v in Counter(cols).values()]))


def hashed(grams_: Iterable[str], n_features: int) -> dict[int, float]:
    """Bucket -> value of one prompt: distinct-gram counts per bucket, scaled to unit length."""
    cols, value = columns(grams_, n_features)
    out: dict[int, float] = {}
    for c in cols:
        out[c] = out.get(c, 0.0) + value
    return out
