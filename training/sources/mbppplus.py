"""MBPP+ problem statements as shipped by WizardCoder — *eval* (CC BY-NC 4.0 as shipped).

Reads ``mbppplus.json``: one JSON object ``{"Mbpp/<id>": "<statement + one assert>"}``.

Task: ``coding`` (provenance). Tier: ``SIMPLE`` for all — MBPP items are
one-function beginner exercises ("write a function to find the shared elements of two
lists") that current small models solve; the source has no difficulty field to split on.
No outcome data (RouterBench carries per-model MBPP outcomes, see ``routerbench``).
"""

from __future__ import annotations

import json
from pathlib import Path

from training.examples import Example
from training.sources._common import SourceFormatError, require_file

NAME = "mbppplus"
USE = "eval"


def load(path: Path) -> list[Example]:
    file = require_file(Path(path), "mbppplus.json")
    data = json.loads(file.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise SourceFormatError(f"{file}: expected a JSON object of task id -> statement")
    return [
        Example(
            id=f"{NAME}/{key}",
            text=str(statement),
            messages=None,
            task="coding",
            tier="SIMPLE",
            language="en",
            source=NAME,
            use=USE,
            group=NAME,
        )
        for key, statement in data.items()
    ]
