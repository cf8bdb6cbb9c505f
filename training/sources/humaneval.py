"""OpenAI HumanEval — *train* (MIT).

Reads ``HumanEval.jsonl`` (``{task_id, prompt, entry_point, canonical_solution, test}``).

Task: ``coding`` (provenance). The prompt is a bare signature + docstring, so it is
wrapped as a chat request ("Complete the following Python function: ...") — the form in
which such stubs reach a router.

Tier: HumanEval has no difficulty field; the length of the canonical solution is the
proxy. Solutions of at most 6 non-blank lines (one loop or a comprehension) are
``SIMPLE`` — current small models pass these almost always; longer ones, which need
several cases or a helper, are ``MEDIUM``. None are beyond a mid model.
No outcome data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from training.examples import Example
from training.sources._common import field, read_jsonl, require_file

NAME = "humaneval"
USE = "train"
SIMPLE_MAX_LINES = 6


def _tier(solution: str) -> str:
    lines = [line for line in solution.splitlines() if line.strip()]
    return "SIMPLE" if len(lines) <= SIMPLE_MAX_LINES else "MEDIUM"


def _row(row: dict[str, Any], path: Path, n: int) -> Example:
    stub = str(field(row, "prompt", path, n)).rstrip()
    return Example(
        id=f"{NAME}/{field(row, 'task_id', path, n)}",
        text=f"Complete the following Python function.\n\n```python\n{stub}\n```",
        messages=None,
        task="coding",
        tier=_tier(str(row.get("canonical_solution", ""))),
        language="en",
        source=NAME,
        use=USE,
        group=NAME,
    )


def load(path: Path) -> list[Example]:
    file = require_file(Path(path), "HumanEval.jsonl")
    return [_row(row, file, n) for n, row in enumerate(read_jsonl(file), 1)]
