"""ELYZA-tasks-100 (Japanese): per-task 1–5 grades of 8 models by gpt-4o-mini — *eval only*.

Licence: the prompts are ELYZA-tasks-100, CC BY-SA 4.0 (share-alike), so they may be
measured on, never fitted (the shipped model would have to be share-alike too).

Reads ``elyza_tasks_100_scores.jsonl``: ``{id, task_no, prompt, score: {model: int 1-5}}``.
The grades are ELYZA's rubric applied by gpt-4o-mini with the reference answer.

Outcome: strong ``gpt-4o``, weak ``Llama-3.1-8B-Instruct-Q8_0`` (both named in SOURCE.md).
Not gpt-4o-mini as the weak model, though it is the guide's SIMPLE class: it is also the
judge, so its own answers may be favoured, and it is within 0.25 points of gpt-4o (at
the threshold below only 16 of 100 tasks separate them, too few for a routing curve);
its grades stay in ``outcome["models"]`` with every other model's.
**A grade of 4 or more counts as correct.** On ELYZA's rubric 5 is a full answer, 4 one
with minor flaws a user would accept, 3 only partly meets the task (wrong facts or a
missed instruction) and 1–2 fail it. At 4, gpt-4o passes 82 and Llama-3.1-8B 42 tasks.

Tier from the pair (``_common.tier_from_outcome``): Llama-8B >= 4 -> SIMPLE, only gpt-4o
-> MEDIUM, neither -> COMPLEX (REASONING if the task is math/reasoning). Weight 0.5
where gpt-4o scored below 4.

Task: hand labels by ``task_no`` (``TASK``; labels only, no text), written for issue 14
by reading each task against the guide in ``data/README.md`` before looking at any
model's prediction. The file carries no category, and the keyword guess cannot read
Japanese. 49 general, 16 creative_writing, 14 extraction, 14 reasoning, 4 math,
2 summarization, 1 translation. Calls the guide does not settle outright:

* rating, sorting, tagging or matching given items (an anger scale, a number list,
  question-word tags, senses of "mouse", word-meaning pairs) and reading-comprehension
  questions answered from the given text -> extraction (the guide: "classify and tag
  given items"); the fictional-language decipherment (52) -> translation (the guide
  names linguistics-olympiad problems);
* spatial tracking, who-did-it from timings, unanswerable-from-the-clues, speaker
  attribution, sentence reordering, a riddle, bracket completion and the longest common
  substring by hand -> reasoning; pronoun reference (48) and commonsense choices ->
  general, as Winogrande is (``routerbench``);
* rewrites and paraphrases, fixing an ASR transcript or a stiff translation (same
  language), the IME-style romaji conversion (13), pragmatics ("大丈夫です" = yes or no)
  -> general; persona and role-play set-ups, ad copy, a game concept, quiz distractors,
  a coined word's meaning, a sentence built from given words -> creative_writing.
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

NAME = "elyza_outcomes"
USE = "eval"
FILE = "elyza_tasks_100_scores.jsonl"
STRONG = "gpt-4o"
WEAK = "Llama-3.1-8B-Instruct-Q8_0"
CORRECT_FROM = 4

_LABELS: dict[str, tuple[int, ...]] = {
    "general": (
        1, 3, 4, 5, 7, 13, 15, 16, 19, 20, 21, 22, 23, 24, 28, 29, 30, 31, 32, 34, 35, 36, 37,
        38, 39, 40, 43, 48, 51, 53, 54, 60, 62, 64, 67, 70, 71, 73, 75, 77, 78, 79, 82, 84, 87,
        88, 91, 96, 97,
    ),
    "creative_writing": (2, 11, 12, 14, 17, 33, 44, 57, 69, 72, 76, 85, 92, 93, 94, 99),
    "extraction": (6, 8, 9, 10, 46, 56, 65, 66, 80, 81, 83, 89, 95, 98),
    "reasoning": (18, 41, 42, 45, 49, 55, 58, 59, 61, 63, 68, 86, 90, 100),
    "math": (26, 27, 47, 50),
    "summarization": (25, 74),
    "translation": (52,),
}  # fmt: skip
# task_no -> task, by the guide (see the docstring).
TASK: dict[int, str] = {no: task for task, nos in _LABELS.items() for no in nos}


def _row(row: dict[str, Any], file: Path, n: int) -> Example:
    raw = field(row, "score", file, n)
    if not isinstance(raw, dict):
        raise SourceFormatError(f"{file}:{n}: field 'score' must be an object")
    grades: dict[str, float | None] = {}
    for model, grade in raw.items():
        if grade is not None and not isinstance(grade, (int, float)):
            raise SourceFormatError(f"{file}:{n}: score of {model!r} must be a number or null")
        # 0 is the source's "judge output not parsed": no verdict, not a failure.
        grades[str(model)] = float(grade) if grade else None
    verdicts = {m: None if g is None else g >= CORRECT_FROM for m, g in grades.items()}
    outcome = pair_outcome(verdicts, STRONG, WEAK, scores=grades)
    strong = bool(outcome and outcome["strong_correct"])
    weak = bool(outcome and outcome["weak_correct"])
    task = TASK.get(row["task_no"]) if isinstance(row.get("task_no"), int) else None
    return Example(
        id=f"{NAME}/{field(row, 'id', file, n)}",
        text=str(field(row, "prompt", file, n)),
        messages=None,
        task=task,
        tier=tier_from_outcome(strong, weak, task) if outcome else None,
        language="ja",
        source=NAME,
        use=USE,
        group=NAME,
        outcome=outcome,
        weight=weight_from_outcome(strong, weak) if outcome else 1.0,
    )


def load(path: Path) -> list[Example]:
    file = require_file(Path(path), FILE)
    return [_row(row, file, n) for n, row in enumerate(read_jsonl(file), 1)]
