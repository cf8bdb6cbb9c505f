"""Hashed n-grams: scikit-learn at training time and mmh3 at run time give the same vector."""

from __future__ import annotations

import numpy as np
import pytest

from router.decision.ngrams import (
    ANALYZER,
    GramColumns,
    HashSpec,
    bucket,
    columns,
    grams,
    hashed,
)

PROMPTS = [
    "hi",
    "Write a function to find the majority element using Boyer-Moore voting.",
    "请写一篇关于春天的作文，不少于800字。",
    "あなたは親切なアシスタントです。次の文章を要約してください：今日は晴れでした。",
    "너는 친절한 선생님이야. 이 문제를 풀어줘: 3 + 5 = ?",
    "用Python写一个快速排序, and explain it in English 2 ways",
    "Résume ce texte en trois phrases : la réunion a porté sur le budget 2025.",
    "ملخص هذا النص من فضلك",
    "word " * 500 + "final instruction: translate to German",
    "长" * 1000 + "请总结",
    "",
]


@pytest.mark.parametrize("n_features", [2**4, 2**14])
def test_mmh3_vector_equals_feature_hasher(n_features: int) -> None:
    from sklearn.feature_extraction import FeatureHasher
    from sklearn.preprocessing import normalize

    spec = HashSpec(n_features, head=64, tail=16)
    docs = [sorted(grams(p.lower(), spec.head, spec.tail)) for p in PROMPTS]
    hasher = FeatureHasher(n_features=n_features, input_type="string", alternate_sign=False)
    expected = normalize(hasher.transform(docs), norm="l2").toarray()
    for row, doc in zip(expected, docs, strict=True):
        got = np.zeros(n_features)
        for b, v in hashed(doc, n_features).items():
            got[b] = v
        np.testing.assert_allclose(got, row, rtol=0, atol=1e-12)
        assert all(bucket(g, n_features) in hashed(doc, n_features) for g in doc)


def test_training_block_equals_run_time_buckets() -> None:
    from training.examples import Example
    from training.featurize import default_extractor, extract, hash_ngrams

    spec = HashSpec(2**12)
    rows = [Example(str(i), p or "?", None, None, None, "en", "t", "eval", "t")
            for i, p in enumerate(PROMPTS)]  # fmt: skip
    extractions = extract(rows, default_extractor())
    block = hash_ngrams(extractions, spec).toarray()
    for row, ex in zip(block, extractions, strict=True):
        got = np.zeros(spec.n_features)
        for b, v in hashed(grams(ex.text, spec.head, spec.tail), spec.n_features).items():
            got[b] = v
        np.testing.assert_allclose(got, row, rtol=0, atol=1e-12)


def test_grams_kinds_and_windows() -> None:
    out = grams("write 2 poems 用python写诗", head=256, tail=64)
    assert {"w write", "w 0", "b write 0", "b 0 poems", "w python"} <= out
    assert {"c 用", "c 写", "d 写诗"} <= out
    assert "d 用写" not in out  # a pair never spans two runs

    def word(i: int) -> str:  # digits would all read as "0"
        return "w" + "".join(chr(97 + int(d)) for d in str(i))

    long = grams(" ".join(word(i) for i in range(1000)), head=3, tail=2)
    kept = {g for g in long if g.startswith("w ")}
    assert kept == {"w " + word(i) for i in (0, 1, 2, 998, 999)}
    cjk = grams("甲" * 50 + "乙" * 50, head=2, tail=1)  # 4 head and 2 tail characters
    assert {g for g in cjk if g.startswith("c ")} == {"c 甲", "c 乙"}


def test_spec_round_trips_and_refuses_another_analyzer() -> None:
    spec = HashSpec(1024, head=10, tail=5)
    assert HashSpec.from_json(spec.to_json()) == spec
    with pytest.raises(ValueError, match="analyzer"):
        HashSpec.from_json({**spec.to_json(), "analyzer": ANALYZER + "-other"})
    with pytest.raises(ValueError, match="n_features"):
        HashSpec(1)


@pytest.mark.parametrize("n_features", [2**4, 2**10, 2**14])
def test_cached_gram_columns_equal_the_plain_columns(n_features: int) -> None:
    # The decision's cached path must give exactly the columns of the grams training
    # hashes, colliding ones repeated, in ascending order; through a cold cache, a warm
    # one and a cache that starts over mid-way.
    from router.decision.text import tokenize

    spec = HashSpec(n_features, head=8, tail=4)
    edge_cases = [
        "x" * 31 + " short words " + "y" * 30 + " tail",  # too-long tokens drop out of pairs
        "year 1999 and 2024 and 1999 again, 7 7 7",  # digits fold to one word form
        "a b a b a b 甲乙甲乙 甲乙",  # repeated pairs, a pair inside two runs
        "长" * 30 + " middle " + "短" * 30,  # CJK cut to head and tail characters
    ]
    for limit in (10**6, 5):
        cached = GramColumns(spec, offset=7, limit=limit)
        for _ in range(2):
            for prompt in [*PROMPTS, *edge_cases]:
                lowered = prompt.lower()
                plain, _ = columns(grams(lowered, spec.head, spec.tail), n_features, 7)
                assert cached(lowered, tokenize(lowered)) == plain, prompt


def test_columns_are_the_buckets_plus_offset_ascending() -> None:
    for prompt in PROMPTS:
        doc = grams(prompt.lower(), 64, 16)
        cols, value = columns(doc, 2**10, 7)
        assert cols == sorted(7 + bucket(g, 2**10) for g in doc)
        if cols:
            assert value == pytest.approx(1.0 / np.sqrt(sum(
                v * v for v in np.bincount(cols).tolist())))  # fmt: skip


@pytest.mark.parametrize("n_features", [2, 3, 2**10, 2**14, 10**6 + 3])
def test_abs_modulo_is_scikit_learns_bucket_for_int_min(n_features: int) -> None:
    # FeatureHasher maps h = -2**31 to (2**31 - 1 - (n - 1)) % n; abs(h) % n is the same.
    assert abs(-(2**31)) % n_features == (2147483647 - (n_features - 1)) % n_features
