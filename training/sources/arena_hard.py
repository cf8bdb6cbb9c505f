"""LMSYS "arena_hard_1k" prototype (2023 Chatbot Arena prompts) — *train*.

Licence: Apache-2.0 repo; the Arena prompts are CC-BY.

Reads ``question_original.jsonl`` (1,130 rows) and ``rated_question.jsonl`` (475 rows, a
subset that adds ``mean_score``); either file alone also works. Schema of both:
``{question_id, turns: [str], language, winner, ...}``.

Deduplication: Arena users resubmit the same prompt, so the 1,130 rows hold only ~890
distinct conversations (one fruit-arithmetic prompt appears 15 times). An original row
whose ``question_id`` is rated is skipped (the rated copy is what the models answered),
except for the 47 whose rated copy is only the first turn: the whole conversation is
kept too, unrated, with id ``<question_id>:full`` (its last turn is another request,
which the hand labels in ``data/labels/`` label separately). Remaining rows are merged on their
whitespace/case-normalised turns; a merged prompt's ``mean_score`` is the mean
over its rated copies (the 20 rated duplicates disagree by up to 6 points, e.g. {1, 2, 7},
which says how noisy a single score is).

Task: the source has none (every row's ``category`` is "arena_hard_1k"), so it is
guessed with the shared keyword rules (``_common.guess_task``), defaulting to
``general`` — most unmatched Arena prompts are questions or advice.

Tier from ``mean_score`` = mean GPT-4 grade (0-10) of 11 2023 models' answers, including
7B-13B models; lower = the models did worse:

===========  =========  ====================================================
mean_score   tier       why
===========  =========  ====================================================
>= 8.5       SIMPLE     even the 7B models answered well
6.5 - 8.5    MEDIUM     most models fine, the small ones slipped
3.5 - 6.5    COMPLEX    only the strongest 2023 models did well
< 3.5        REASONING  if the guessed task is math/reasoning (puzzles, proofs:
                        reasoning models are the lever), else COMPLEX
===========  =========  ====================================================

Unrated prompts keep ``tier=None`` (task only). Multi-turn rows (~100) become user-only
``messages`` since the assistant turns are not in the data. No outcome data: the
per-model judgments are absent from the snapshot.
"""

from __future__ import annotations

from pathlib import Path
from statistics import mean
from typing import Any

from training.examples import Example
from training.sources._common import (
    SourceFormatError,
    field,
    guess_task,
    read_jsonl,
    turns_to_prompt,
)
from training.sources.labels import FULL_SUFFIX

NAME = "arena_hard"
USE = "train"
FILES = ("rated_question.jsonl", "question_original.jsonl")


def tier_from_score(score: float, task: str | None) -> str:
    if score >= 8.5:
        return "SIMPLE"
    if score >= 6.5:
        return "MEDIUM"
    if score >= 3.5:
        return "COMPLEX"
    return "REASONING" if task in ("math", "reasoning") else "COMPLEX"


def _key(turns: list[str]) -> str:
    return "\x00".join(" ".join(t.split()).lower() for t in turns)


def _read(folder: Path) -> list[tuple[Path, int, dict[str, Any]]]:
    rows = []
    for name in FILES:
        file = folder / name
        if file.is_file():
            rows += [(file, n, row) for n, row in enumerate(read_jsonl(file), 1)]
    if not rows:
        raise SourceFormatError(f"{folder}: expected {' or '.join(FILES)} in this folder")
    return rows


def _merge(rows: list[tuple[Path, int, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Distinct conversations in first-seen order, each with its ``scores`` list.

    The rated file comes first: its rows are what the 11 models answered (47 of them are
    only the first turn of the original conversation), so an original row whose
    ``question_id`` was already rated is the same item and is skipped, unless it has more
    turns than the rated copy (then it is kept as ``<question_id>:full``).
    """
    merged: dict[str, dict[str, Any]] = {}
    rated_turns: dict[str, int] = {}
    for file, n, row in rows:
        qid = str(row.get("question_id", f"{file.stem}-{n}"))
        rated = isinstance(row.get("mean_score"), (int, float))
        turns = [str(t) for t in field(row, "turns", file, n)]
        if qid in rated_turns and not rated:
            if len(turns) <= rated_turns[qid]:
                continue
            # The rated copy was only this conversation's first turn; the whole
            # conversation is another request (its last turn), kept unrated.
            qid += FULL_SUFFIX
        if rated:
            rated_turns.setdefault(qid, len(turns))
        entry = merged.setdefault(_key(turns), {"id": qid, "turns": turns, "scores": []})
        if rated:
            entry["scores"].append(float(row["mean_score"]))
    return merged


def _example(entry: dict[str, Any]) -> Example:
    text, messages = turns_to_prompt(entry["turns"])
    task = guess_task("\n".join(entry["turns"])) or "general"
    scores: list[float] = entry["scores"]
    return Example(
        id=f"{NAME}/{entry['id']}",
        text=text,
        messages=messages,
        task=task,
        tier=tier_from_score(mean(scores), task) if scores else None,
        language="en",
        source=NAME,
        use=USE,
        group=NAME,
    )


def load(path: Path) -> list[Example]:
    return [_example(entry) for entry in _merge(_read(Path(path))).values()]
