"""The decision's fast paths make exactly what the plain code makes."""

from __future__ import annotations

import dataclasses
import json
import pickle
from pathlib import Path

import pytest

from router import Router
from router.decision.features import EXTRACTORS, Evidence, FeatureExtractor
from router.types import Decision, Task, Tier, new_decision

_ROOT = Path(__file__).resolve().parent.parent
_CATEGORIES = (
    *("code", "proof", "reasoning", "technical", "creative", "simple", "multistep"),
    *("question_deep", "imperative", "constraint", "format", "reference", "domain"),
    *("negation", "agentic", "math", "translation", "summarization", "extraction"),
)


def _prompts() -> list[str]:
    out = []
    for line in (_ROOT / "benchmarks" / "prompts.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if "prompt" in row:
            out.append(row["prompt"])
        else:
            out += [m["content"] for m in row["messages"] if m["role"] == "user"]
    return out


def test_fused_values_equal_the_extractor_functions() -> None:
    extractor = Router().classifier.extractor
    assert extractor._fused
    for text in _prompts():
        ev, _, _ = extractor.evidence(text)
        fused = extractor._values(ev)
        plain = extractor._values_by_function(ev)
        # Same keys in the same order, same floats bit for bit, same types.
        assert list(fused) == list(plain)
        for name in plain:
            assert type(fused[name]) is type(plain[name])
            assert fused[name].hex() == float(plain[name]).hex(), name


def test_extreme_evidence_saturates_alike() -> None:
    extractor = Router().classifier.extractor
    scan = extractor._index.scan("x")
    for n in (0, 1, 2, 5, 100):
        ev = Evidence(
            scan=scan,
            counts=dict.fromkeys(_CATEGORIES, n),
            tokens=n * 1000,
            code_syntax=n,
            math_syntax=n,
            numbers=n,
            list_lines=n,
            questions=n,
        )
        assert extractor._values(ev) == extractor._values_by_function(ev)


def test_replaced_extractor_turns_the_fused_form_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(EXTRACTORS, "agentic_task", lambda ev, p: 0.5)
    extractor = Router().classifier.extractor
    assert isinstance(extractor, FeatureExtractor) and not extractor._fused
    ev, _, _ = extractor.evidence("run the tests and open a PR")
    assert extractor._values(ev)["agentic_task"] == 0.5


def test_new_decision_is_the_dataclass_decision() -> None:
    fields = {
        "task": Task.CODING,
        "task_scores": {"coding": 0.9, "general": 0.1},
        "tier": Tier.MEDIUM,
        "tier_probabilities": {"SIMPLE": 0.2, "MEDIUM": 0.8},
        "score": 0.4,
        "confidence": 0.8,
        "language": "en",
        "source": "model",
        "features": {},
        "reasons": ("r",),
        "warnings": ("w",),
        "estimated_tokens": 12,
        "has_tools": True,
        "has_images": False,
        "model_version": "v1",
    }
    fast = new_decision(**fields)
    plain = Decision(**fields)  # type: ignore[arg-type]
    assert fast == plain and repr(fast) == repr(plain) and hash(fast.tier) == hash(plain.tier)
    assert dataclasses.asdict(fast) == dataclasses.asdict(plain)
    assert pickle.loads(pickle.dumps(fast)) == plain
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.score = 1.0  # type: ignore[misc]


def test_a_routed_decision_keeps_its_explanation() -> None:
    d = Router().classify("Prove that the square root of 2 is irrational")
    assert d.reasons and d.features
    assert d.to_dict()["features"] == {
        name: {"value": f.value, "weight": f.weight, "contribution": f.contribution}
        for name, f in d.features.items()
    }
    assert pickle.loads(pickle.dumps(d)) == d


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain words only",
        "if (a <= b && c != d) { x = y; } # done \\ `code` | $var > 0",
        "用Python写 {x} = 1; ｛全角｝＝ ＜ ＞ ＃ ＄ ｜",
        "emoji 🎉 & lone surrogate \ud800 ; end",
        "ÀÉÎ ç ñ \u00a0 = \u2028 < \u0085 >",
        "def f():\n    return {1; 2}",
    ],
)
def test_code_punctuation_counted_as_bytes_equals_the_regex(text: str) -> None:
    from router.decision.features import _CODE_MARKS, _CODE_PUNCT, _code_syntax

    punct = len(_CODE_PUNCT.findall(text))
    if punct == 0 and "\n" not in text and "def " not in text:
        expected = 0
    else:
        expected = punct // 2 + sum(text.count(mark) for mark in _CODE_MARKS)
    assert _code_syntax(text) == expected


def test_ascii_tokenizer_equals_the_str_translate_form() -> None:
    import string

    from router.decision.text import tokenize

    table = str.maketrans({c: " " for c in string.punctuation if c not in "+#_"})
    samples = [*_prompts(), string.printable, "c++ c# snake_case a.b,c;d\x1c\x1fe\x0bf"]
    for text in samples:
        lowered = text.lower()
        if lowered.isascii():
            assert tokenize(lowered) == lowered.translate(table).split()
