"""Super-NaturalInstructions sample (10 tasks, 139 instances) — *eval* (licence unverified).

Reads ``ni_tasks.jsonl`` (``{task, categories, input_language, definition, ...}``) and
``ni_instances.jsonl`` (``{task, i, input, prompt?}``). The prompt is the instance's
``prompt`` field, or — when a user copy lacks that convenience field — rebuilt the same
way the sample was made: ``definition + "\\n\\nInput: " + input``.

Task from the task file's ``categories`` (first rule that matches, ``CATEGORY_TASK``):
Translation -> translation; Summarization -> summarization; Classification / Sentiment /
Emotion -> extraction (classify given text); Multiple-Choice Question (X-CSR commonsense
QA in ru/zh) -> general (everyday-knowledge questions, not deduction — consistent with
Vicuna's common-sense category).

Tier: ``SIMPLE`` for all — single sentences to translate, a short dialogue to summarise,
a sentence to label: the work a small model does well. No difficulty field exists.

Language: the task's ``input_language`` (ISO 639-1), i.e. the language of the text the
user supplies; the instructions themselves are English. No outcome data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from training.examples import Example
from training.sources._common import SourceFormatError, field, read_jsonl, require_file

NAME = "natural_instructions"
USE = "eval"

CATEGORY_TASK: tuple[tuple[str, str], ...] = (
    ("translation", "translation"),
    ("summar", "summarization"),
    ("classification", "extraction"),
    ("multiple-choice", "general"),
)
LANGUAGE_CODE = {
    "english": "en",
    "chinese": "zh",
    "german": "de",
    "japanese": "ja",
    "russian": "ru",
    "french": "fr",
    "spanish": "es",
    "korean": "ko",
    "portuguese": "pt",
    "arabic": "ar",
}


def _task(categories: list[str]) -> str | None:
    joined = " ".join(categories).lower()
    return next((task for key, task in CATEGORY_TASK if key in joined), None)


def _language(value: Any) -> str:
    first = value[0] if isinstance(value, list) and value else value
    name = str(first or "en").strip().lower()
    return LANGUAGE_CODE.get(name, name)


def _tasks(folder: Path) -> dict[str, dict[str, Any]]:
    file = require_file(folder, "ni_tasks.jsonl")
    return {str(field(r, "task", file, n)): r for n, r in enumerate(read_jsonl(file), 1)}


def _row(row: dict[str, Any], meta: dict[str, Any], file: Path, n: int) -> Example:
    prompt = row.get("prompt") or f"{meta.get('definition', '')}\n\nInput: {row.get('input', '')}"
    return Example(
        id=f"{NAME}/{row['task']}/{row.get('i', n - 1)}",
        text=str(prompt),
        messages=None,
        task=_task(list(meta.get("categories", []))),
        tier="SIMPLE",
        language=_language(meta.get("input_language")),
        source=f"{NAME}/{row['task']}",
        use=USE,
        group=NAME,
    )


def load(path: Path) -> list[Example]:
    folder = Path(path)
    tasks = _tasks(folder)
    file = require_file(folder, "ni_instances.jsonl")
    out = []
    for n, row in enumerate(read_jsonl(file), 1):
        name = str(field(row, "task", file, n))
        if name not in tasks:
            raise SourceFormatError(f"{file}:{n}: task {name!r} is not in ni_tasks.jsonl")
        out.append(_row(row, tasks[name], file, n))
    return out
