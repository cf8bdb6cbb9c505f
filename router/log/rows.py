"""A decision record as a table row and back, shared by the SQLite and PostgreSQL logs.

Both keep the nested fields (probabilities, attempts, messages) as JSON text, so a
row moves between the two (spool replay, migration) without conversion.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from router.log.store import DecisionRecord

__all__ = ["COLUMNS", "JSON_FIELDS", "record_from_row", "row_values"]

JSON_FIELDS = ("tier_probabilities", "task_scores", "features", "attempts", "messages")
COLUMNS = tuple(DecisionRecord.__dataclass_fields__)


def row_values(record: DecisionRecord) -> tuple[Any, ...]:
    """The values of ``COLUMNS`` then ``n_attempts``, ready for an INSERT."""
    values = []
    for name in COLUMNS:
        value = getattr(record, name)
        if name in JSON_FIELDS:
            value = None if value is None else json.dumps(value, ensure_ascii=False, default=str)
        elif name == "stream":
            value = int(bool(value))
        values.append(value)
    return (*values, len(record.attempts))


def record_from_row(row: Mapping[str, Any]) -> DecisionRecord:
    data = {name: row[name] for name in COLUMNS}
    for name in JSON_FIELDS:
        data[name] = json.loads(data[name]) if data[name] is not None else None
    for name in ("tier_probabilities", "task_scores", "features"):
        data[name] = data[name] or {}
    data["attempts"] = data["attempts"] or []
    data["stream"] = bool(data["stream"])
    return DecisionRecord(**data)
