"""Helpers shared by the dataset loaders: file access, keyword task guess, outcome tiers."""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "SourceFormatError",
    "guess_task",
    "iter_csv",
    "pair_outcome",
    "read_jsonl",
    "require_file",
    "tier_from_outcome",
    "turns_to_prompt",
    "weight_from_outcome",
]

# RouterBench/RouteLLM CSVs hold whole model answers in single cells.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


class SourceFormatError(ValueError):
    """A dataset file is missing or does not have the documented layout."""


def require_file(folder: Path, *names: str) -> Path:
    """The first of ``names`` that exists in ``folder``, or an error naming what was expected."""
    for name in names:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    wanted = " or ".join(names)
    raise SourceFormatError(f"{folder}: expected {wanted} in this folder")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SourceFormatError(f"{path}:{lineno}: invalid JSON ({exc.msg})") from exc
            if not isinstance(row, dict):
                raise SourceFormatError(f"{path}:{lineno}: expected a JSON object")
            rows.append(row)
    return rows


def iter_csv(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        yield from csv.DictReader(fh)


def field(row: dict[str, Any], name: str, path: Path, where: object) -> Any:
    """``row[name]``, or an error naming file and row so a malformed user copy is easy to fix."""
    if name not in row:
        raise SourceFormatError(f"{path}:{where}: missing field {name!r}")
    return row[name]


# Ordered: the first matching rule wins. Specific intents (translate, summarise,
# extract) come first; creative requests precede code words because "write a story
# about a programmer" is a story; riddles precede math because "solve this riddle"
# is logic. Bare "code"/"react" are not code signals ("HS code", "the others react").
_TASK_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("translation", re.compile(r"\btranslat\w*|翻译|翻譯|übersetz", re.I)),
    ("summarization", re.compile(r"\bsummar(y|ies|i[sz]e\w*)\b|\btl;?dr\b|总结|摘要", re.I)),
    (
        "extraction",
        re.compile(
            r"\b(extract|classify|categori[sz]e|label the|sentiment of|parse the|"
            r"named entit\w+|pull out)\b",
            re.I,
        ),
    ),
    (
        "creative_writing",
        re.compile(
            r"\b(story|stories|poem|poetry|haiku|limerick|lyrics|essay|screenplay|"
            r"blog post|fiction|novel|role-?play)\b|"
            r"\b(write|compose|draft)\b.{0,40}\b(letter|email|speech|tweet|slogan|song)\b",
            re.I,
        ),
    ),
    (
        "coding",
        re.compile(
            r"```|\b(python|javascript|typescript|java|c\+\+|c#|golang|rust|sql|t-sql|html|"
            r"css|bash|powershell|regex|programming|script|function in|compiler|debug|"
            r"api|json|docker|kubernetes|django|pandas|numpy|source code|code snippet|"
            r"(this|the|my|python|sample|example) code|code (that|to|for|which))\b",
            re.I,
        ),
    ),
    (
        "reasoning",
        re.compile(r"\b(riddle|puzzle|logic(al)?|deduce|syllogism|paradox|brain ?teaser)\b", re.I),
    ),
    (
        "math",
        re.compile(
            r"\$[^$]+\$|\b(solve|equation|integral|derivative|probability|calculate|"
            r"compute|prove that|theorem|polynomial|algebra|geometry|arithmetic)\b|"
            r"\d\s*[+*/^×÷=]\s*\d",  # no "-": it would hit dates and ranges
            re.I,
        ),
    ),
)


def guess_task(text: str) -> str | None:
    """A keyword guess at the task for sources that carry no task label.

    Deliberately small and transparent: these labels only fill in the task head for
    sources without one, and every rule is visible here. ``None`` when nothing fires,
    so the caller decides whether "general" is a safe default for its source.
    """
    head = text[:2000]
    for task, pattern in _TASK_RULES:
        if pattern.search(head):
            return task
    return None


def tier_from_outcome(
    strong_correct: bool, weak_correct: bool, task: str | None, *, unsolved: str | None = None
) -> str:
    """Map a strong/weak correctness pair to the cheapest tier that would have sufficed.

    The pairs here are 2023 models (GPT-4-1106 vs Mixtral-8x7B). Today's small, cheap
    models match or beat Mixtral, and today's mid models match GPT-4-1106, so:
    weak right -> SIMPLE; only strong right -> MEDIUM; both wrong -> a frontier model is
    the next lever (COMPLEX), or a reasoning model when the item is math/logic, where
    reasoning models are what moves accuracy past GPT-4-class models. ``unsolved``
    overrides that last choice for sets whose items the guide places by kind (CRUXEval's
    "trace this code by hand" is REASONING by the guide's rule 2, though its task is coding).
    """
    if weak_correct:
        return "SIMPLE"
    if strong_correct:
        return "MEDIUM"
    if unsolved is not None:
        return unsolved
    return "REASONING" if task in ("math", "reasoning") else "COMPLEX"


def weight_from_outcome(strong_correct: bool, weak_correct: bool) -> float:
    """Down-weight the outcome patterns that are mostly grader or answer-key noise.

    "Weak right, strong wrong" and "both wrong" are where mislabelled answer keys and
    answer-extraction failures concentrate, so they count half.
    """
    return 1.0 if strong_correct else 0.5


def pair_outcome(
    verdicts: Mapping[str, bool | None],
    strong: str,
    weak: str,
    *,
    scores: Mapping[str, float | None] | None = None,
) -> dict[str, Any] | None:
    """The RouteLLM-style outcome of one prompt, plus every model's verdict.

    ``strong_correct``/``weak_correct`` are what ``training.evaluate`` routes on (the
    same keys as ``routellm_outcomes``); ``models`` keeps each model's verdict (and grade,
    for graded sets) so a trainer can pick another cheap/frontier pair without
    re-reading the files. ``None`` when either model of the pair has no verdict: a
    missing grade is not a failure.
    """
    s_ok, w_ok = verdicts.get(strong), verdicts.get(weak)
    if s_ok is None or w_ok is None:
        return None
    models: dict[str, dict[str, float]] = {}
    for name, ok in verdicts.items():
        if ok is None:
            continue
        models[name] = {"correct": float(ok)}
        grade = scores.get(name) if scores is not None else None
        if grade is not None:
            models[name]["score"] = float(grade)
    return {
        "strong_correct": bool(s_ok),
        "weak_correct": bool(w_ok),
        "strong_model": strong,
        "weak_model": weak,
        "models": models,
    }


def turns_to_prompt(turns: list[str]) -> tuple[str | None, list[dict[str, str]] | None]:
    """One turn -> plain text; several -> user-only messages (the answers are not in the data)."""
    if len(turns) == 1:
        return turns[0], None
    return None, [{"role": "user", "content": t} for t in turns]
