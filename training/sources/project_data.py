"""Loader for the project's own labelled prompts (``data/*.jsonl``) and user files in that format.

One JSON object per line::

    {"id": str, "prompt": str | "messages": [{"role", "content"}, ...],
     "task": <task>, "tier": <tier>, "language": <ISO 639-1>, "source": str}

Exactly one of ``prompt``/``messages``. Every row is ``use="train"`` (the project wrote
it) and ``group`` = its ``source``, so cross-validation can hold out whole batches
written the same way. Problems raise :class:`ProjectDataError` naming file, line and
field, e.g. ``data/en_a.jsonl:17: field 'tier' must be one of SIMPLE, MEDIUM,
COMPLEX, REASONING, got 'HARD'``.

Default location: ``training/_data`` when present (the wheel bundles ``data/`` there),
else ``<repo>/data``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from training.examples import TASK_NAMES, TIER_NAMES, Example

__all__ = ["ProjectDataError", "default_data_dir", "load", "load_file"]

# What Router.classify reads (router/decision/inputs.py) and data/count.py accepts.
ROLES = ("system", "developer", "user", "assistant", "tool")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_PACKAGE_DIR = Path(__file__).resolve().parents[1]


class ProjectDataError(ValueError):
    """A project data file breaks the documented schema."""


def default_data_dir() -> Path:
    bundled = _PACKAGE_DIR / "_data"
    return bundled if bundled.is_dir() else _PACKAGE_DIR.parent / "data"


def _display(path: Path) -> str:
    """The path relative to the working directory when possible: short, clickable errors."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _choice(row: dict[str, Any], name: str, allowed: tuple[str, ...], where: str) -> str:
    value = row.get(name)
    if value not in allowed:
        raise ProjectDataError(
            f"{where}: field {name!r} must be one of {', '.join(allowed)}, got {value!r}"
        )
    return str(value)


def _text(row: dict[str, Any], name: str, where: str) -> str:
    value = row.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ProjectDataError(f"{where}: field {name!r} must be a non-empty string, got {value!r}")
    return value


def _messages(value: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise ProjectDataError(f"{where}: field 'messages' must be a non-empty list")
    for i, message in enumerate(value):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise ProjectDataError(
                f"{where}: field 'messages[{i}].role' must be one of {', '.join(ROLES)}"
            )
        if not isinstance(message.get("content"), str):
            raise ProjectDataError(f"{where}: field 'messages[{i}].content' must be a string")
    if not any(m["role"] == "user" for m in value):
        raise ProjectDataError(f"{where}: field 'messages' needs at least one user turn")
    return value


def _prompt(row: dict[str, Any], where: str) -> tuple[str | None, list[dict[str, Any]] | None]:
    has_prompt, has_messages = "prompt" in row, "messages" in row
    if has_prompt == has_messages:
        raise ProjectDataError(
            f"{where}: exactly one of fields 'prompt' and 'messages' is required"
        )
    if has_prompt:
        return _text(row, "prompt", where), None
    return None, _messages(row["messages"], where)


def _example(row: dict[str, Any], where: str) -> Example:
    text, messages = _prompt(row, where)
    language = _text(row, "language", where)
    if not _LANGUAGE.match(language):
        raise ProjectDataError(
            f"{where}: field 'language' must be an ISO 639-1 code like 'en', got {language!r}"
        )
    source = _text(row, "source", where)
    return Example(
        id=_text(row, "id", where),
        text=text,
        messages=messages,
        task=_choice(row, "task", TASK_NAMES, where),
        tier=_choice(row, "tier", TIER_NAMES, where),
        language=language,
        source=source,
        use="train",
        group=source,
    )


def load_file(path: Path) -> list[Example]:
    path = Path(path)
    shown = _display(path)
    out: list[Example] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{shown}:{lineno}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ProjectDataError(f"{where}: invalid JSON ({exc.msg})") from exc
            if not isinstance(row, dict):
                raise ProjectDataError(f"{where}: expected a JSON object")
            out.append(_example(row, where))
    return out


def _files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(path.glob("*.jsonl"))
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"project data not found: {path}")
    return files


def load(*paths: Path | str) -> list[Example]:
    """Rows from the given ``.jsonl`` files or folders (default: :func:`default_data_dir`).

    Ids must be unique across everything loaded together, since they key splits and
    reports; a repeat names both places.
    """
    roots = [Path(p) for p in paths] or [default_data_dir()]
    out: list[Example] = []
    first_seen: dict[str, str] = {}
    for file in _files(roots):
        for n, example in enumerate(load_file(file), 1):
            here = f"{_display(file)}#{n}"
            if example.id in first_seen:
                raise ProjectDataError(
                    f"{here}: field 'id' {example.id!r} repeats {first_seen[example.id]}"
                )
            first_seen[example.id] = here
            out.append(example)
    return out
