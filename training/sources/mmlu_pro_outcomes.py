"""MMLU-Pro (non-MMLU questions): per-question correctness of 18 models — *train*.

Licence: Apache-2.0 (repo); questions MIT per the Hugging Face card (SOURCE.md).

Reads ``mmlu_pro_non_mmlu.jsonl``: ``{id, question_id, question, options: [10 str],
category, src, text_revised, correct: {model: bool | null}}`` (null = the run has no
row for that question). The MMLU test items were removed upstream (every ``ori_mmlu``
source), so nothing here is a ``routellm_outcomes`` MMLU question.

Prompt: the question, then the options lettered A–J, one a line, then "Answer:" — the
shape of the MMLU prompts in ``routellm_outcomes``. The runs were 5-shot chain of
thought; the shots are not in the data and are not what a user sends.

Outcome: pair = SOURCE.md's first same-family pair, weak ``gemini-1.5-flash-002`` (the
guide's SIMPLE class), strong ``gemini-1.5-pro-002``; ``outcome["models"]`` keeps all
18 verdicts (gpt-4o vs Llama-3.1-8B is the other pair SOURCE.md names). A null verdict of
either model gives ``outcome=None`` (17 rows), not a failure. Tier from the pair
(``_common.tier_from_outcome``): flash right -> SIMPLE, only pro -> MEDIUM, neither ->
REASONING for math items, else COMPLEX; weight 0.5 where pro is wrong.

Task from ``category`` (``CATEGORY_TASK``), by the guide's "math: calculation, …,
finance arithmetic": math, physics, chemistry, engineering and business -> ``math``
(96–99 % of their questions carry quantities to compute with: stoichiometry, circuit
and beam calculations, markups and interest); computer science -> ``math`` (the 136
are computations — two's complements, channel bandwidth, shortest paths in a given
graph — none asks for code); economics, psychology, biology -> ``general`` (mostly
"define/discuss/differentiate" knowledge questions; the ~30 % of economics items with
numbers are textbook one-step calculations, left general rather than guessed per item).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from training.examples import Example
from training.sources._common import (
    SourceFormatError,
    field,
    pair_outcome,
    read_jsonl,
    require_file,
    tier_from_outcome,
    weight_from_outcome,
)

NAME = "mmlu_pro_outcomes"
USE = "train"
FILE = "mmlu_pro_non_mmlu.jsonl"
STRONG = "gemini-1.5-pro-002"
WEAK = "gemini-1.5-flash-002"
LETTERS = "ABCDEFGHIJ"

CATEGORY_TASK: dict[str, str] = {
    **dict.fromkeys(
        ["math", "physics", "chemistry", "engineering", "business", "computer science"], "math"
    ),
    **dict.fromkeys(["economics", "psychology", "biology"], "general"),
}


def prompt(question: str, options: list[str]) -> str:
    lines = [question.strip()]
    lines += [f"{letter}. {option}" for letter, option in zip(LETTERS, options, strict=False)]
    return "\n".join([*lines, "Answer:"])


def _row(row: dict[str, Any], file: Path, n: int) -> Example:
    category = str(field(row, "category", file, n))
    if category not in CATEGORY_TASK:
        raise SourceFormatError(f"{file}:{n}: unknown category {category!r}")
    options = field(row, "options", file, n)
    if not isinstance(options, list) or not 2 <= len(options) <= len(LETTERS):
        raise SourceFormatError(f"{file}:{n}: field 'options' must be a list of 2-10 strings")
    correct = field(row, "correct", file, n)
    if not isinstance(correct, dict):
        raise SourceFormatError(f"{file}:{n}: field 'correct' must be an object")
    task = CATEGORY_TASK[category]
    outcome = pair_outcome(correct, STRONG, WEAK)
    strong = bool(outcome and outcome["strong_correct"])
    weak = bool(outcome and outcome["weak_correct"])
    return Example(
        id=f"{NAME}/{field(row, 'id', file, n)}",
        text=prompt(str(field(row, "question", file, n)), [str(o) for o in options]),
        messages=None,
        task=task,
        tier=tier_from_outcome(strong, weak, task) if outcome else None,
        language="en",
        source=f"{NAME}/{category.replace(' ', '_')}",
        use=USE,
        group=NAME,
        outcome=outcome,
        weight=weight_from_outcome(strong, weak) if outcome else 1.0,
    )


def load(path: Path) -> list[Example]:
    file = require_file(Path(path), FILE)
    return [_row(row, file, n) for n, row in enumerate(read_jsonl(file), 1)]
