"""WizardLM human-eval test set (218; 29 skills, difficulty 1-10) — *eval* (CC BY-NC 4.0).

Reads ``WizardLM_testset.jsonl`` (``{idx, Skill, Difficulty, Instruction}``).

Task from ``Skill`` (``SKILL_TASK``): Code Generation / Code Debug -> coding; Math -> math;
Reasoning and Common-Sense (here: trick questions such as "you pass the person in second
place...") -> reasoning; Writting (sic) / Academic Writing / Roleplay -> creative_writing;
Multilingual (mostly "translate X into French, Russian...") -> translation;
Counterfactual and every domain skill (Biology, Law, TruthfulQA, ...) -> general.
Computer Science and Complex Format mix code requests with explanations and arithmetic,
so they take the shared keyword guess (``_common.guess_task``), defaulting to general.

Tier from ``Difficulty`` — the source's own scale, mapped as its SOURCE.md suggests:
1-3 SIMPLE, 4-6 MEDIUM, 7-8 COMPLEX, 9-10 REASONING for math/reasoning items (where a
reasoning model is the lever) and COMPLEX otherwise. Caveat: the scale rates
open-endedness as much as difficulty ("should I store passwords as plain text?" is a 10).
No outcome data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from training.examples import Example
from training.sources._common import SourceFormatError, field, guess_task, read_jsonl, require_file

NAME = "wizardlm"
USE = "eval"

SKILL_TASK: dict[str, str] = {
    "Code Generation": "coding",
    "Code Debug": "coding",
    "Math": "math",
    "Reasoning": "reasoning",
    "Common-Sense": "reasoning",
    "Writting": "creative_writing",
    "Writing": "creative_writing",
    "Academic Writing": "creative_writing",
    "Roleplay": "creative_writing",
    "Multilingual": "translation",
}
KEYWORD_SKILLS = frozenset({"Computer Science", "Complex Format"})


def tier_from_difficulty(difficulty: int, task: str) -> str | None:
    if not 1 <= difficulty <= 10:
        return None
    if difficulty <= 3:
        return "SIMPLE"
    if difficulty <= 6:
        return "MEDIUM"
    if difficulty <= 8 or task not in ("math", "reasoning"):
        return "COMPLEX"
    return "REASONING"


def _task(skill: str, instruction: str) -> str:
    if skill in KEYWORD_SKILLS:
        return guess_task(instruction) or "general"
    return SKILL_TASK.get(skill, "general")


def _row(row: dict[str, Any], file: Path, n: int) -> Example:
    instruction = str(field(row, "Instruction", file, n))
    task = _task(str(field(row, "Skill", file, n)), instruction)
    try:
        difficulty = int(field(row, "Difficulty", file, n))
    except (TypeError, ValueError) as exc:
        raise SourceFormatError(f"{file}:{n}: 'Difficulty' must be an integer") from exc
    return Example(
        id=f"{NAME}/{row.get('idx', n)}",
        text=instruction,
        messages=None,
        task=task,
        tier=tier_from_difficulty(difficulty, task),
        language="en",
        source=NAME,
        use=USE,
        group=NAME,
    )


def load(path: Path) -> list[Example]:
    file = require_file(Path(path), "WizardLM_testset.jsonl")
    return [_row(row, file, n) for n, row in enumerate(read_jsonl(file), 1)]
