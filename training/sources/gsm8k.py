"""GSM8K test split (1,319 grade-school word problems) — *eval only*.

MIT-licensed, but the shared README makes it eval whatever its licence, so that
GSM8K routing numbers always describe prompts the model never saw (MGSM and RouteLLM's
GSM8K outcomes are the same items and are eval too).

Reads ``test.jsonl`` (``{question, answer}``; ``answer`` = worked steps then ``#### N``).

Task: ``math`` (provenance).

Tier from the number of solution steps (lines before ``#### N``; 1-10), the only
difficulty proxy the source has: up to ``SIMPLE_MAX_STEPS`` (4) steps -> SIMPLE — short
arithmetic chains current small models get right ~95% of the time; longer chains ->
MEDIUM, where small models start dropping a step. No item needs more than a mid model.
No outcome data here; ``routellm_outcomes`` has GPT-4/Mixtral outcomes for the same items.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from training.examples import Example
from training.sources._common import field, read_jsonl, require_file

NAME = "gsm8k"
USE = "eval"
SIMPLE_MAX_STEPS = 4


def solution_steps(answer: str) -> int:
    lines = [line for line in answer.splitlines() if line.strip()]
    return sum(1 for line in lines if not line.lstrip().startswith("####"))


def tier_from_steps(steps: int) -> str:
    return "SIMPLE" if steps <= SIMPLE_MAX_STEPS else "MEDIUM"


def read(path: Path) -> list[dict[str, Any]]:
    """The raw rows, for loaders (MGSM) that inherit GSM8K's difficulty proxy."""
    return read_jsonl(require_file(Path(path), "test.jsonl"))


def load(path: Path) -> list[Example]:
    file = require_file(Path(path), "test.jsonl")
    return [
        Example(
            id=f"{NAME}/{n - 1}",
            text=str(field(row, "question", file, n)),
            messages=None,
            task="math",
            tier=tier_from_steps(solution_steps(str(field(row, "answer", file, n)))),
            language="en",
            source=NAME,
            use=USE,
            group=NAME,
        )
        for n, row in enumerate(read_jsonl(file), 1)
    ]
