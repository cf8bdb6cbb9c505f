"""ZeroEval: per-item correctness of 41–51 models on CRUXEval-O and MATH Level 5 — *train*.

Licence: Apache-2.0 (repo); CRUXEval and MATH are MIT.

Reads ``crux.jsonl`` (800 rows) and ``math_l5.jsonl`` (704 rows), either alone also
works: ``{id, task, source_id, prompt, matched: {model: bool}}``. ``matched`` is
ZeroEval's own matcher; "no answer extracted" is False, as in the repo's accuracy.

Pair, as SOURCE.md's own example: weak = ``gpt-4o-mini-2024-07-18`` (the guide's SIMPLE
class), strong = ``gpt-4o-2024-08-06``. ``outcome["models"]`` keeps every model's verdict
(o1-mini/o1-preview included, for a reasoning-model view).

=========  ======  ======================================================================
part       task    tier (weak right SIMPLE, only strong right MEDIUM, neither: ...)
=========  ======  ======================================================================
crux       coding  REASONING: "given this function and input, state the output" is
                   tracing code by hand, which the guide's rule 2 calls coding /
                   REASONING when it is subtle; the items 4o gets wrong are those
math_l5    math    REASONING: competition math (guide, REASONING examples)
=========  ======  ======================================================================

Weight 0.5 where gpt-4o is wrong (answer-extraction failures concentrate there).

Overlap: all 704 MATH-L5 problems are also in ``math_hendrycks`` (train, same licence).
Their ``group`` is ``math_hendrycks`` so a cross-source hold-out holds both copies out
together (``Example.group`` is the hold-out unit); ``source`` stays
``zeroeval_outcomes/math_l5`` so reports keep the set apart. SOURCE.md: no GSM8K item is
here (``result_dirs/gsm`` was not read) and the 17 MATH-L5 problems that are MMLU test
questions were removed upstream.
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
    tier_from_outcome,
    weight_from_outcome,
)

NAME = "zeroeval_outcomes"
USE = "train"
STRONG = "gpt-4o-2024-08-06"
WEAK = "gpt-4o-mini-2024-07-18"
# file stem -> (task, tier when neither model is right, hold-out group)
PARTS: dict[str, tuple[str, str, str]] = {
    "crux": ("coding", "REASONING", NAME),
    "math_l5": ("math", "REASONING", "math_hendrycks"),
}


def _row(row: dict[str, Any], file: Path, n: int, part: str) -> Example:
    task, unsolved, group = PARTS[part]
    matched = field(row, "matched", file, n)
    if not isinstance(matched, dict):
        raise SourceFormatError(f"{file}:{n}: field 'matched' must be an object")
    outcome = pair_outcome(matched, STRONG, WEAK)
    strong = bool(outcome and outcome["strong_correct"])
    weak = bool(outcome and outcome["weak_correct"])
    return Example(
        id=f"{NAME}/{field(row, 'id', file, n)}",
        text=str(field(row, "prompt", file, n)),
        messages=None,
        task=task,
        tier=tier_from_outcome(strong, weak, task, unsolved=unsolved) if outcome else None,
        language="en",
        source=f"{NAME}/{part}",
        use=USE,
        group=group,
        outcome=outcome,
        weight=weight_from_outcome(strong, weak) if outcome else 1.0,
    )


def load(path: Path) -> list[Example]:
    folder = Path(path)
    out: list[Example] = []
    for part in PARTS:
        file = folder / f"{part}.jsonl"
        if file.is_file():
            out += [_row(row, file, n, part) for n, row in enumerate(read_jsonl(file), 1)]
    if not out and not any((folder / f"{p}.jsonl").is_file() for p in PARTS):
        raise SourceFormatError(f"{folder}: expected crux.jsonl or math_l5.jsonl in this folder")
    return out
