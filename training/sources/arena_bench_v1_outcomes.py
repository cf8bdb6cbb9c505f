"""arena-bench-v1: GPT-4 grades (1–10) of 15 models on 297 Chatbot Arena prompts — *train*.

Licence: Apache-2.0 (repo at that commit); the prompts are Arena prompts, the same basis
as ``arena_hard`` (CC-BY; the LMSYS-Chat-1M agreement was not checked, SOURCE.md).

Reads ``arena_bench_v1_scores.jsonl``: ``{id, prompt, score: {model: int 1-10 | null}}``.
The judge is GPT-4 grading each answer against a GPT-4 reference answer.

Outcome: pair = the RouteLLM pair used by ``routellm_outcomes`` and ``routerbench``,
strong ``gpt-4-1106-preview``, weak ``mistralai/Mixtral-8x7B-Instruct-v0.1``, so tiers
mean the same across the 2023 outcome sets. **A grade of 8 or more counts as correct.**
Why 8: the grades are bimodal (Mixtral: 158 prompts at 8–10, 75 at 1–3, 60 in 4–7), and
on the MT-Bench scale the judge uses, 8+ means "close to the reference, minor issues at
most" while 7 and below come with named errors or omissions. At 8, gpt-4-1106 passes 247
and Mixtral 156 of the 290 prompts both were graded on; at 7, 264 and 183 (the gap, what
routing can win, is 91 vs 81 prompts). A null grade (the judge's output had no rating)
gives ``outcome=None``, not a failure. ``outcome["models"]`` keeps every model's
verdict and raw ``score``.

Tier from the pair (``_common.tier_from_outcome``): Mixtral >= 8 -> SIMPLE; only GPT-4
-> MEDIUM; neither -> REASONING for math/reasoning prompts, else COMPLEX. Weight 0.5
where GPT-4 scored below 8.

Task: the source has none; the shared keyword guess with the default ``general``,
exactly as ``arena_hard`` labels the same prompts, so the two copies agree.

Overlap: all 297 prompts are in ``arena_hard_proto_2023`` (``question_original.jsonl``,
200 of them rated), under the same ``question_id``: ``arena_bench_v1_outcomes/<id>``
is ``arena_hard/<id>``. Every row therefore has ``group="arena_hard"``: a cross-source
hold-out (``Example.group`` is the hold-out unit) holds both copies out together,
while ``source`` stays ``arena_bench_v1_outcomes`` so reports keep the set apart.
SOURCE.md: the 2 Arena-Hard v0.1 prompts and 1 MT-Bench question were removed upstream.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from training.examples import Example
from training.sources._common import (
    SourceFormatError,
    field,
    guess_task,
    pair_outcome,
    read_jsonl,
    require_file,
    tier_from_outcome,
    weight_from_outcome,
)

NAME = "arena_bench_v1_outcomes"
USE = "train"
FILE = "arena_bench_v1_scores.jsonl"
GROUP = "arena_hard"
STRONG = "gpt-4-1106-preview"
WEAK = "mistralai/Mixtral-8x7B-Instruct-v0.1"
CORRECT_FROM = 8


def _grades(value: Any, file: Path, n: int) -> dict[str, float | None]:
    if not isinstance(value, dict):
        raise SourceFormatError(f"{file}:{n}: field 'score' must be an object")
    out: dict[str, float | None] = {}
    for model, grade in value.items():
        if grade is not None and not isinstance(grade, (int, float)):
            raise SourceFormatError(f"{file}:{n}: score of {model!r} must be a number or null")
        out[str(model)] = None if grade is None else float(grade)
    return out


def _row(row: dict[str, Any], file: Path, n: int) -> Example:
    text = str(field(row, "prompt", file, n))
    grades = _grades(field(row, "score", file, n), file, n)
    verdicts = {m: None if g is None else g >= CORRECT_FROM for m, g in grades.items()}
    outcome = pair_outcome(verdicts, STRONG, WEAK, scores=grades)
    strong = bool(outcome and outcome["strong_correct"])
    weak = bool(outcome and outcome["weak_correct"])
    task = guess_task(text) or "general"
    return Example(
        id=f"{NAME}/{field(row, 'id', file, n)}",
        text=text,
        messages=None,
        task=task,
        tier=tier_from_outcome(strong, weak, task) if outcome else None,
        language="en",
        source=NAME,
        use=USE,
        group=GROUP,
        outcome=outcome,
        weight=weight_from_outcome(strong, weak) if outcome else 1.0,
    )


def load(path: Path) -> list[Example]:
    file = require_file(Path(path), FILE)
    return [_row(row, file, n) for n, row in enumerate(read_jsonl(file), 1)]
