"""AlpacaEval's 805 instructions + per-prompt outcomes — *eval* (CC BY-NC 4.0).

Reads ``alpaca_eval_instructions.jsonl`` (``{idx, dataset, instruction}``) and, when
present, ``../alpaca_eval_matrix/alpaca_eval_preferences_long.csv`` (or ``matrix=``).

Overlap with training data: the ``vicuna`` (80) and ``selfinstruct`` (252) subsets *are*
the ``vicuna_bench`` and ``self_instruct`` train sources, so they are dropped by default
(``include_train_overlap=True`` keeps them); 473 real-user prompts remain
(oasst 188, koala 156, helpful_base 129).

Task: hand labels for the 473 eval prompts (idx 0–472: helpful_base, koala, oasst),
written for issue 14 by reading each prompt against the guide in ``data/README.md``
before looking at any model's prediction: ``_LABELS`` lists the prompts that are not
``general`` (47 creative_writing, 32 coding, 23 math, 8 reasoning, 3 extraction,
1 translation); the other 359 are ``general``. The source labels only the origin subset;
until issue 14 the task was the keyword guess, which called a TV-show "script"
coding, "summarise the book X" (no text given) summarization, a tweet and a patent
creative_writing, and missed riddles, word problems and code requests without code
words. Calls the guide leaves open: essays and speeches (a eulogy, a ministerial
speech) are creative_writing, as in the other loaders; questions about programming
concepts (duck typing, interpreted vs compiled, sets vs lists) are coding; "summarise
the book …" without the text is general (the guide's summarization condenses *given*
text); rating or ranking given items and yes/no on a given email are extraction; a
root-cause approach to falling restaurant sales is reasoning (the guide names
root-cause analysis). Rows outside 0–472 (the train-overlap subsets, loaded only with
``include_train_overlap``) keep the keyword guess.

Outcome: AlpacaEval 1 (annotator ``alpaca_eval_gpt4``, reference text-davinci-003) gives
a strong/weak pair in the RouteLLM format: strong = ``gpt4_1106_preview``, weak =
``gpt-3.5-turbo-1106`` (the pair SOURCE.md suggests); "correct" = preference >= 1.5,
i.e. judged at least as good as the reference. Preferences 0/empty (undocumented) give
no outcome for that prompt. Tier then follows ``_common.tier_from_outcome`` (weak
right -> SIMPLE, only strong -> MEDIUM, neither -> COMPLEX/REASONING), with the same
0.5 weight on rows where the strong model lost; without the matrix, ``tier=None``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from training.examples import Example
from training.sources._common import (
    field,
    guess_task,
    iter_csv,
    read_jsonl,
    require_file,
    tier_from_outcome,
    weight_from_outcome,
)

NAME = "alpaca_eval"
USE = "eval"
TRAIN_OVERLAP = frozenset({"vicuna", "selfinstruct"})
ANNOTATOR = "alpaca_eval_gpt4"
STRONG = "gpt4_1106_preview"
WEAK = "gpt-3.5-turbo-1106"
MATRIX_FILE = "alpaca_eval_preferences_long.csv"
HAND_LABELLED = range(473)

_LABELS: dict[str, tuple[int, ...]] = {
    "creative_writing": (
        110, 130, 134, 136, 138, 146, 147, 148, 162, 171, 177, 182, 201, 203, 206, 217, 219, 220,
        237, 250, 274, 275, 276, 279, 282, 291, 298, 303, 305, 315, 319, 336, 339, 342, 348, 349,
        363, 366, 390, 399, 412, 414, 426, 427, 435, 436, 439,
    ),
    "math": (
        106, 133, 142, 149, 150, 172, 181, 185, 224, 235, 268, 269, 272, 288, 316, 341, 353, 359,
        365, 402, 443, 444, 448,
    ),
    "reasoning": (
        159, 168, 169, 195, 333, 362, 450, 457,
    ),
    "coding": (
        211, 213, 238, 252, 271, 290, 294, 297, 300, 313, 320, 324, 347, 358, 361, 381, 391, 401,
        405, 406, 410, 417, 419, 429, 434, 440, 441, 451, 460, 464, 466, 470,
    ),
    "extraction": (
        143, 262, 277,
    ),
    "translation": (
        386,
    ),
}  # fmt: skip
TASK: dict[int, str] = {idx: task for task, ids in _LABELS.items() for idx in ids}


def task_of(idx: str, text: str) -> str:
    """The hand label for the 473 eval prompts, else the keyword guess (default general)."""
    if idx.isdigit() and int(idx) in HAND_LABELLED:
        return TASK.get(int(idx), "general")
    return guess_task(text) or "general"


def _wins(matrix: Path) -> dict[tuple[str, str], bool]:
    """(idx, model) -> at least as good as the reference, for the strong/weak models."""
    out: dict[tuple[str, str], bool] = {}
    for row in iter_csv(matrix):
        if row.get("annotator") != ANNOTATOR or row.get("model") not in (STRONG, WEAK):
            continue
        try:
            preference = float(row.get("preference") or "nan")
        except ValueError:
            continue
        if preference >= 1.0:  # 0 and empty are undocumented codes: no verdict
            out[(row["idx"], row["model"])] = preference >= 1.5
    return out


def _outcome(idx: str, wins: dict[tuple[str, str], bool]) -> dict[str, Any] | None:
    strong, weak = wins.get((idx, STRONG)), wins.get((idx, WEAK))
    if strong is None or weak is None:
        return None
    return {
        "strong_correct": strong,
        "weak_correct": weak,
        "strong_model": STRONG,
        "weak_model": WEAK,
    }


def _row(row: dict[str, Any], file: Path, n: int, wins: dict[tuple[str, str], bool]) -> Example:
    text = str(field(row, "instruction", file, n))
    idx = str(row.get("idx", n - 1))
    task = task_of(idx, text)
    outcome = _outcome(idx, wins)
    strong, weak = (outcome["strong_correct"], outcome["weak_correct"]) if outcome else (True, True)
    return Example(
        id=f"{NAME}/{idx}",
        text=text,
        messages=None,
        task=task,
        tier=tier_from_outcome(strong, weak, task) if outcome else None,
        language="en",
        source=f"{NAME}/{row.get('dataset', 'unknown')}",
        use=USE,
        group=NAME,
        outcome=outcome,
        weight=weight_from_outcome(strong, weak),
    )


def load(
    path: Path, *, matrix: Path | None = None, include_train_overlap: bool = False
) -> list[Example]:
    folder = Path(path)
    file = require_file(folder, "alpaca_eval_instructions.jsonl")
    matrix_file = matrix or folder.parent / "alpaca_eval_matrix" / MATRIX_FILE
    wins = _wins(matrix_file) if matrix_file.is_file() else {}
    return [
        _row(row, file, n, wins)
        for n, row in enumerate(read_jsonl(file), 1)
        if include_train_overlap or row.get("dataset") not in TRAIN_OVERLAP
    ]
