"""The bundled model on the fixed probes the project is judged by.

Proofs, hard code, coding asked in Japanese, greetings in several languages: prompts whose
right decision nobody disputes. A retrain that sends a proof to SIMPLE (as one did, for
the Chinese proof, before data/short_hard.jsonl) fails here before it ships.
"""

from __future__ import annotations

import pytest

from router import Router, Task, Tier

PROBES = [
    # prompt, task, lowest acceptable tier, language
    ("Prove that the square root of 2 is irrational", Task.MATH, Tier.REASONING, "en"),
    ("证明根号2是无理数。", Task.MATH, Tier.REASONING, "zh"),
    ("√2が無理数であることを証明してください。", Task.MATH, Tier.REASONING, "ja"),
    ("Implement a lock-free MPMC queue in Rust using atomics", Task.CODING, Tier.COMPLEX, "en"),
    ("Pythonでクイックソートを実装してください。", Task.CODING, Tier.SIMPLE, "ja"),
]
GREETINGS = [("hi there", "en"), ("Guten Morgen!", "de"), ("Buenos días", "es"), ("Bonjour", "fr")]


@pytest.fixture(scope="module")
def router() -> Router:
    return Router()


@pytest.mark.parametrize(("prompt", "task", "tier", "language"), PROBES)
def test_probe(router: Router, prompt: str, task: Task, tier: Tier, language: str) -> None:
    decision = router.classify(prompt)
    assert decision.source == "model"
    assert decision.task is task, decision.reasons
    assert decision.tier.rank >= tier.rank, (decision.tier, decision.tier_probabilities)
    assert decision.language == language


@pytest.mark.parametrize(("prompt", "language"), GREETINGS)
def test_greetings_are_simple_in_their_language(router: Router, prompt: str, language: str) -> None:
    decision = router.classify(prompt)
    assert decision.task is Task.GENERAL
    assert decision.tier is Tier.SIMPLE
    assert decision.language == language
