"""Vicuna benchmark questions (80) — *train* (Apache-2.0).

Reads ``question.jsonl`` (``{question_id, category, turns: [str]}``; all single-turn).

Task and tier from the author-assigned ``category`` (``CATEGORY``):

==============  ================  ======  ==============================================
category        task              tier    why
==============  ================  ======  ==============================================
generic         general           SIMPLE  advice questions ("improve time management")
knowledge       general           SIMPLE  explanations of well-known facts
common-sense    general           SIMPLE  social/everyday judgement, not deduction
counterfactual  general           SIMPLE  open "what if" history speculation
roleplay        creative_writing  SIMPLE  persona pieces
writing         creative_writing  SIMPLE  emails, letters, blog posts
coding          coding            SIMPLE  textbook exercises (binary search, LCS, regex)
math            math              SIMPLE  one-step algebra (evaluate f(2), solve 3x+10=...)
fermi           reasoning         MEDIUM  step-by-step estimation chains; small models
                                          drift on the assumptions
==============  ================  ======  ==============================================

The benchmark is saturated by current small models, hence mostly SIMPLE.
No outcome data. Overlap: these 80 are AlpacaEval's ``vicuna`` subset, which the
``alpaca_eval`` loader drops.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from training.examples import Example
from training.sources._common import (
    SourceFormatError,
    field,
    read_jsonl,
    require_file,
    turns_to_prompt,
)

NAME = "vicuna_bench"
USE = "train"

CATEGORY: dict[str, tuple[str, str]] = {
    "generic": ("general", "SIMPLE"),
    "knowledge": ("general", "SIMPLE"),
    "common-sense": ("general", "SIMPLE"),
    "counterfactual": ("general", "SIMPLE"),
    "roleplay": ("creative_writing", "SIMPLE"),
    "writing": ("creative_writing", "SIMPLE"),
    "coding": ("coding", "SIMPLE"),
    "math": ("math", "SIMPLE"),
    "fermi": ("reasoning", "MEDIUM"),
}


def _row(row: dict[str, Any], path: Path, n: int) -> Example:
    category = str(field(row, "category", path, n))
    if category not in CATEGORY:
        raise SourceFormatError(f"{path}:{n}: unknown category {category!r}")
    task, tier = CATEGORY[category]
    text, messages = turns_to_prompt(list(field(row, "turns", path, n)))
    return Example(
        id=f"{NAME}/{row.get('question_id', n)}",
        text=text,
        messages=messages,
        task=task,
        tier=tier,
        language="en",
        source=NAME,
        use=USE,
        group=NAME,
    )


def load(path: Path) -> list[Example]:
    file = require_file(Path(path), "question.jsonl")
    return [_row(row, file, n) for n, row in enumerate(read_jsonl(file), 1)]
