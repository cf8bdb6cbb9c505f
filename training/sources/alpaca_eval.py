"""AlpacaEval's 805 instructions + per-prompt outcomes — *eval* (CC BY-NC 4.0).

Reads ``alpaca_eval_instructions.jsonl`` (``{idx, dataset, instruction}``) and, when
present, ``../alpaca_eval_matrix/alpaca_eval_preferences_long.csv`` (or ``matrix=``).

Overlap with training data: the ``vicuna`` (80) and ``selfinstruct`` (252) subsets *are*
the ``vicuna_bench`` and ``self_instruct`` train sources, so they are dropped by default
(``include_train_overlap=True`` keeps them); 473 real-user prompts remain
(oasst 188, koala 156, helpful_base 129).

Task: the source labels only the origin subset, so the task is the shared keyword guess
(``_common.guess_task``), defaulting to ``general`` (most are questions and advice).

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
    task = guess_task(text) or "general"
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
