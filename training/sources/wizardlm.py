"""WizardLM human-eval test set (218; 29 skills, difficulty 1-10) — *eval* (CC BY-NC 4.0).

Reads ``WizardLM_testset.jsonl`` (``{idx, Skill, Difficulty, Instruction}``).

Task from ``Skill`` (``SKILL_TASK``): Code Generation / Code Debug -> coding; Math -> math;
Reasoning and Common-Sense (here: trick questions such as "you pass the person in second
place...") -> reasoning; Writting (sic) / Academic Writing / Roleplay -> creative_writing;
Multilingual (mostly "translate X into French, Russian...") -> translation;
Counterfactual and every domain skill (Biology, Law, TruthfulQA, ...) -> general.
Computer Science and Complex Format mix code requests with explanations and arithmetic;
their 27 items in the shared copy are labelled one by one in ``ITEM_TASK`` (programs,
algorithm exercises and programming-concept questions -> coding; networks, virtualization
architectures, AI sentience and RLHF questions -> general; a triangle -> math), and items
of those skills not listed (another copy of the set) take the keyword guess
(``_common.guess_task``), defaulting to general. Physics items that ask for a number
(work done, force) are ``math`` by the guide's "calculation"; explanations stay general.

Per item (``ITEM_TASK``, by ``idx``), where a skill's items disagree with the guide (issue
14; the skill tables alone had these wrong): Writting items that ask for non-fiction —
questions framed "as a writer/student/coder" (38–40), a personal statement, a product
review, a birthday card, a school report, publishing advice, an investigative report, a
lesson plan, a thank-you note, two business plans — are ``general`` (rule 12: functional
writing); the story, the two essays, an opinion piece (50), a title and opening hook for
a short story (45) and ideas for a fantasy novel's magic system are creative_writing
(rule 12 as clarified for issue 14: essays and composed prose). The eval hand labels
(``data/labels/eval/``) override the task per item where present. Common-Sense items that
are plain everyday questions (thirst, an unknown word, a red light, a boiled egg, a
moral-obligation opinion) are ``general``; the four trick questions stay reasoning.
Reasoning 72 ("what are the main types of reasoning") is an explanation: ``general``.
Multilingual 123 (write a haiku, then translate it) is composing: creative_writing; 129
(multilingual teaching) is ``general``. Academic Writing: reviewer questions on a paper, advice on a
method section and on transitions are ``general``; a LaTeX table is ``coding``.

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
# Items whose skill's table entry contradicts the guide (see the docstring).
ITEM_TASK: dict[int, str] = {
    **dict.fromkeys(
        [38, 39, 40, 41, 42, 43, 44, 49, 51, 52, 53, 55], "general"
    ),  # Writting: non-fiction
    **dict.fromkeys([106, 107, 108, 109, 110], "general"),  # Common-Sense: plain questions
    72: "general",  # Reasoning: an explanation of kinds of reasoning
    123: "creative_writing",  # Multilingual: compose a haiku, then translate it
    129: "general",  # Multilingual: a question about teaching
    **dict.fromkeys([212, 213, 215], "general"),  # Academic Writing: advice, review
    214: "coding",  # Academic Writing: LaTeX table code
    # Computer Science and Complex Format, read one by one (the keyword guess called a
    # compiler-vs-interpreter question translation and LeetCode tasks math or general).
    **dict.fromkeys([57, 58, 59, 60, 61, 62, 63, 64, 65, 66], "coding"),
    **dict.fromkeys([56, 67, 68, 69, 70], "general"),
    **dict.fromkeys([84, 85, 86, 88, 89, 90, 91, 92, 93, 94, 95], "coding"),
    87: "math",  # Complex Format: a right triangle's legs
    **dict.fromkeys([203, 205, 207], "math"),  # Physics: work and force calculations
}


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


def _task(skill: str, instruction: str, idx: object = None) -> str:
    if isinstance(idx, int) and idx in ITEM_TASK:
        return ITEM_TASK[idx]
    if skill in KEYWORD_SKILLS:
        return guess_task(instruction) or "general"
    return SKILL_TASK.get(skill, "general")


def _row(row: dict[str, Any], file: Path, n: int) -> Example:
    instruction = str(field(row, "Instruction", file, n))
    task = _task(str(field(row, "Skill", file, n)), instruction, row.get("idx"))
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
