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

The decision (:class:`GramColumns`) finds the same columns without building most gram
strings, and sums their weight rows in ascending column order: the order of a set of
strings changes with ``PYTHONHASHSEED``, and with it a logit's last bits, so two
processes would score one prompt differently.
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

__all__ = [
    "ANALYZER",
    "GramColumns",
    "HashSpec",
    "bucket",
    "columns",
    "grams",
    "hashed",
    "unit_value",
]

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


def grams(lowered: str, head: int, tail: int, tokens: Sequence[str] | None = None) -> set[str]:
    """The distinct grams of already lower-cased text.

    Prefixes keep the kinds apart: ``w`` word, ``b`` word pair, ``c`` CJK character,
    ``d`` CJK character pair (a pair never spans two runs, as a bigram never spans
    a change of script). ``tokens``: ``tokenize(lowered)`` when the caller has it.
    This is the definition training hashes; :class:`GramColumns` is the decision's
    faster path to the same buckets.
    """
    if tokens is None:
        tokens = tokenize(lowered)
    window = _window(tokens if isinstance(tokens, list) else list(tokens), head, tail)
    words = list(filter(None, map(_word_form, window)))
    out = {"w " + w for w in words}
    out.update([f"b {a} {b}" for a, b in pairwise(words)])
    for run in _cjk_runs(lowered, head, tail):
        out.update(["c " + ch for ch in run])
        out.update(["d " + run[i : i + 2] for i in range(len(run) - 1)])
    return out


def _cjk_runs(lowered: str, head: int, tail: int) -> list[str]:
    """The CJK runs the grams read: cut to the first ``2 * head`` and last ``2 * tail``
    characters, as words are cut to a window."""
    if lowered.isascii() or not _HAS_CJK.search(lowered):
        return []
    runs: list[str] = _RUN_RE.findall(lowered)
    budget_head, budget_tail = 2 * head, 2 * tail
    if sum(map(len, runs)) <= budget_head + budget_tail:
        return runs
    kept: list[str] = []
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
    return kept


class GramColumns:
    """The decision's path from a prompt to its n-gram columns, with caches kept between
    prompts.

    It makes the columns of ``columns(grams(...))`` without building most gram strings:
    distinct words, word pairs, CJK characters and character pairs are looked up in
    caches keyed by what the gram is made of (a word, a pair of words as a tuple, a
    character or a two-character string), so a gram's string is built and hashed only
    the first time. Distinctness is decided on those keys, which stand one-to-one for
    the gram strings. The columns come back sorted: the weight rows are then summed in
    an order that depends on the prompt alone, not on string hashing.

    Each cache starts over past ``limit`` entries (about 100 MB at worst at the default).
    """

    __slots__ = (
        *("_chars", "_forms", "_head", "_limit", "_n", "_offset", "_pairs", "_runs", "_tail"),
        "_words",
    )

    def __init__(self, spec: HashSpec, offset: int = 0, limit: int = _CACHE_LIMIT) -> None:
        self._n = spec.n_features
        self._head = spec.head
        self._tail = spec.tail
        self._offset = offset
        self._limit = limit
        self._forms: dict[str, str] = {}  # token -> word form ("" when too long)
        self._words: dict[str, int] = {}  # word form -> column of "w form"
        self._pairs: dict[tuple[str, str], int] = {}  # (form, form) -> column of "b a b"
        self._chars: dict[str, int] = {}  # CJK character -> column of "c ch"
        self._runs: dict[str, int] = {}  # two CJK characters -> column of "d ab"

    def __call__(self, lowered: str, tokens: Sequence[str]) -> list[int]:
        """Sorted columns (``offset`` + bucket; colliding grams repeat a column) of the
        distinct grams of already lower-cased text; ``tokens`` is ``tokenize(lowered)``."""
        head, tail = self._head, self._tail
        window = _window(tokens if isinstance(tokens, list) else list(tokens), head, tail)
        forms = self._forms
        if len(forms) > self._limit:
            forms.clear()
        try:
            words = list(filter(None, map(forms.__getitem__, window)))
        except KeyError:
            for token in set(window).difference(forms):
                forms[token] = _word_form(token)
            words = list(filter(None, map(forms.__getitem__, window)))
        distinct = set(words)
        pairs = set(pairwise(words))
        # Indexing raises on the first gram not seen before, so the usual case, every
        # gram known, pays no per-column check.
        try:
            cols = list(map(self._words.__getitem__, distinct))
            cols += map(self._pairs.__getitem__, pairs)
        except KeyError:
            cols = self._lookup(self._words, distinct, "w {}")
            cols += self._lookup(self._pairs, pairs, "b {} {}")
        runs = _cjk_runs(lowered, head, tail)
        if runs:
            cols += self._lookup(self._chars, set("".join(runs)), "c {}")
            cjk_pairs = {run[i : i + 2] for run in runs for i in range(len(run) - 1)}
            cols += self._lookup(self._runs, cjk_pairs, "d {}")
        cols.sort()
        return cols

    def _lookup(self, cache: dict[Any, int], keys: set[Any], form: str) -> list[int]:
        try:
            return list(map(cache.__getitem__, keys))
        except KeyError:
            pass
        if len(cache) > self._limit:
            cache.clear()
        n, offset = self._n, self._offset
        for key in keys.difference(cache):
            gram = form.format(*key) if isinstance(key, tuple) else form.format(key)
            cache[key] = bucket(gram, n) + offset
        return list(map(cache.__getitem__, keys))


def unit_value(cols: Sequence[int]) -> float:
    """The value each occurrence of a column adds so that the vector has unit length."""
    if not cols:
        return 0.0
    if len(set(cols)) == len(cols):
        return 1.0 / math.sqrt(len(cols))
    # Counter counts in C; the sum of squares is the same integer either way.
    return 1.0 / math.sqrt(sum([v * v for v in Counter(cols).values()]))


def bucket(gram: str, n_features: int) -> int:
    """scikit-learn's FeatureHasher index of ``gram`` (it special-cases -2**31 the same way)."""
    h = mmh3.hash(gram, 0)
    if h == _INT_MIN:
        return (2147483647 - (n_features - 1)) % n_features
    return abs(h) % n_features


def columns(grams_: Iterable[str], n_features: int, offset: int = 0) -> tuple[list[int], float]:
    """One column per gram (``offset`` + its bucket; grams that collide repeat a column),
    in ascending order, and the value each occurrence adds, so that summing them gives
    :func:`hashed`. The plain form of what :class:`GramColumns` computes with caches."""
    cols = sorted([bucket(g, n_features) + offset for g in grams_])
    return cols, unit_value(cols)


def hashed(grams_: Iterable[str], n_features: int) -> dict[int, float]:
    """Bucket -> value of one prompt: distinct-gram counts per bucket, scaled to unit length,
    buckets ascending (batch scoring sums rows in this order)."""
    cols, value = columns(grams_, n_features)
    out: dict[int, float] = {}
    for c in cols:
        out[c] = out.get(c, 0.0) + value
    return out
