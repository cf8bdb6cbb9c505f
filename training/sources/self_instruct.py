"""Self-Instruct user-oriented instructions (252, expert-written) — *train* (Apache-2.0).

Reads ``user_oriented_instructions.jsonl``
(``{id, motivation_app, instruction, instances: [{input, output}]}``).
Prompt = ``instruction`` + blank line + ``instances[0].input`` (when non-empty), i.e. what
a user of the motivating app would actually send.

Task: the source labels the *app* (Gmail, Leetcode, ...), not a task. The instruction's
own verbs are the better signal ("Summarize a meeting" comes from Google Meet), so the
shared keyword rules (``_common.guess_task``) run first on the instruction; when none
fires the app decides via ``APP_TASK`` (e.g. Grammarly -> creative_writing as
writing/editing, Leetcode -> coding, Wolfram alpha -> math, Sudoku -> reasoning);
anything else is ``general``.

Tier: no difficulty field. These are everyday single-step app requests that current
small models handle well, so ``SIMPLE``; coding, math and reasoning items (Leetcode
solutions, proofs, Sudoku) get ``MEDIUM`` because small models are visibly less
reliable there. A prior, not a measurement — documented so it can be revisited.
No outcome data. Overlap: these 252 are also AlpacaEval's ``selfinstruct`` subset;
``alpaca_eval`` drops them so eval never contains train prompts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from training.examples import Example
from training.sources._common import field, guess_task, read_jsonl, require_file

NAME = "self_instruct"
USE = "train"

APP_TASK: dict[str, str] = {
    **dict.fromkeys(
        [
            "Leetcode",
            "GeeksforGeeks",
            "StackOverflow",
            "Github",
            "w3schools",
            "Jira",
            "Markdown",
            "Google Sheets",
            "Overleaf",
        ],
        "coding",
    ),
    **dict.fromkeys(["Wolfram alpha", "(Wolfram alpha)?", "MS Excel"], "math"),
    **dict.fromkeys(["Sudoku", "Wordle"], "reasoning"),
    **dict.fromkeys(["Google Meet", "Explainpaper", "https://cohere.ai/"], "summarization"),
    **dict.fromkeys(["Airbnb", "Scribd", "CNN News", "Redfin", "Play Store"], "extraction"),
    **dict.fromkeys(
        [
            "Gmail",
            "Blogger",
            "Facebook",
            "Instagram",
            "Twitter",
            "LinkedIn",
            "YouTube",
            "Grammarly",
            "ludwig.guru",
            "you.com (YouWrite)",
            "sth related to real estate?",
            "https://abcnotation.com/",
            "Messenger",
            "Yelp",
            "yelp",
            "Indeed",
        ],
        "creative_writing",
    ),
}
_HARDER_TASKS = frozenset({"coding", "math", "reasoning"})


def _prompt(row: dict[str, Any], path: Path, n: int) -> str:
    instruction = str(field(row, "instruction", path, n)).strip()
    instances = row.get("instances") or []
    first = str(instances[0].get("input", "")).strip() if instances else ""
    return f"{instruction}\n\n{first}" if first else instruction


def _task(row: dict[str, Any]) -> str:
    guessed = guess_task(str(row.get("instruction", "")))
    return guessed or APP_TASK.get(str(row.get("motivation_app", "")), "general")


def _row(row: dict[str, Any], path: Path, n: int) -> Example:
    task = _task(row)
    return Example(
        id=f"{NAME}/{row.get('id', n - 1)}",
        text=_prompt(row, path, n),
        messages=None,
        task=task,
        tier="MEDIUM" if task in _HARDER_TASKS else "SIMPLE",
        language="en",
        source=NAME,
        use=USE,
        group=NAME,
    )


def load(path: Path) -> list[Example]:
    file = require_file(Path(path), "user_oriented_instructions.jsonl")
    return [_row(row, file, n) for n, row in enumerate(read_jsonl(file), 1)]
