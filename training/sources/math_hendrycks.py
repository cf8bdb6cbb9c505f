"""MATH (Hendrycks et al.) competition problems — *train* (MIT).

Reads ``math_test_5000.jsonl`` (``{problem, level: "Level N", type, solution, idx}``) or,
if only the MATH-500 subset is present, ``math500_test.jsonl``
(``{problem, subject, level: int, unique_id, ...}``). MATH-500 is a subset of the
5,000, so only one file is loaded to avoid duplicates.

Task: ``math`` for every row (provenance).

Tier, from the official difficulty ``level``:

=====  =========  ==========================================================
level  tier       why
=====  =========  ==========================================================
1      SIMPLE     one-idea textbook exercises; small current models solve ~90%
2-3    MEDIUM     standard multi-step problems; small models slip, mid models don't
4      COMPLEX    hard competition problems; frontier models clearly ahead
5      REASONING  AMC/AIME-style; only reasoning models are reliably right
=====  =========  ==========================================================

Rows whose level is not 1-5 (upstream MATH has a few "Level ?") keep ``tier=None``.
No outcome data.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from training.examples import Example
from training.sources._common import SourceFormatError, read_jsonl, require_file

NAME = "math_hendrycks"
USE = "train"
_LEVEL_TIER = {1: "SIMPLE", 2: "MEDIUM", 3: "MEDIUM", 4: "COMPLEX", 5: "REASONING"}


def _level(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    match = re.search(r"\d+", str(value))
    return int(match.group()) if match else None


def _row(row: dict[str, Any], path: Path, n: int) -> Example:
    if "problem" not in row:
        raise SourceFormatError(f"{path}:{n}: missing field 'problem'")
    key = row.get("idx", row.get("unique_id", n - 1))
    return Example(
        id=f"{NAME}/{key}",
        text=row["problem"],
        messages=None,
        task="math",
        tier=_LEVEL_TIER.get(_level(row.get("level")) or 0),
        language="en",
        source=NAME,
        use=USE,
        group=NAME,
    )


def load(path: Path) -> list[Example]:
    file = require_file(Path(path), "math_test_5000.jsonl", "math500_test.jsonl")
    return [_row(row, file, n) for n, row in enumerate(read_jsonl(file), 1)]
