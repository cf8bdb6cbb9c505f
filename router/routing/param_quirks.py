"""Request fields a model's API takes differently, applied per candidate before the call.

The quirks are catalog data (``params:`` under a model, defaults under
``defaults.params`` in router/data/catalog.yaml), not code, so a new model or a
user's config can state them::

    params:
      rename: {max_tokens: max_completion_tokens}   # OpenAI's reasoning models
      drop: [temperature, top_p]                    # refused by the API: dropped, with a warning
      drop_empty: [tools]                           # `tools: []` is refused: dropped
      tool_choice: {required: auto}                 # a tool_choice string it lacks
      response_format: {json_schema: json_object}   # a JSON mode it lacks

A reply budget over the model's ``max_output`` is lowered to it (agents ask for
the most any model gives). Each change the caller could notice (a dropped or
downgraded field, a lowered budget) comes back as a warning, which the proxy
shows in ``x-tierrouter-warnings``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["apply_quirks", "check_quirks", "merged_quirks"]

_KEYS = frozenset({"rename", "drop", "drop_empty", "tool_choice", "response_format"})


def check_quirks(quirks: Mapping[str, Any]) -> None:
    """Raise ValueError naming what is wrong with a ``params:`` mapping."""
    for key, value in quirks.items():
        if key not in _KEYS:
            raise ValueError(f"unknown quirk {key!r}; known: {sorted(_KEYS)}")
        if key in ("drop", "drop_empty"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"{key} must be a list of field names")
        elif not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise ValueError(f"{key} must map names to names")


def merged_quirks(defaults: Mapping[str, Any] | None, model: Mapping[str, Any]) -> dict[str, Any]:
    """The catalog-wide quirks with the model's own on top (lists joined, maps merged)."""
    out: dict[str, Any] = {}
    for source in (defaults or {}, model):
        for key, value in source.items():
            if isinstance(value, list):
                out[key] = [*out.get(key, []), *value]
            elif isinstance(value, Mapping):
                out[key] = {**out.get(key, {}), **value}
    return out


def apply_quirks(
    params: Mapping[str, Any],
    quirks: Mapping[str, Any],
    model_id: str,
    max_output: int | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """``params`` as ``model_id`` takes them, and warnings for what changed visibly."""
    out = dict(params)
    warnings: list[str] = []
    if max_output:
        for name in ("max_tokens", "max_completion_tokens"):
            value = out.get(name)
            if isinstance(value, int) and value > max_output:
                out[name] = max_output
                warnings.append(f"{name} {value} lowered to {model_id}'s limit of {max_output}")
    if not quirks:
        return out, warnings
    for name in quirks.get("drop_empty", ()):
        value = out.get(name)
        if value is not None and not value:
            del out[name]
            if name == "tools":
                out.pop("tool_choice", None)
                out.pop("parallel_tool_calls", None)
    for name in quirks.get("drop", ()):
        if name in out:
            del out[name]
            warnings.append(f"{name} dropped: {model_id} does not take it")
    for old, new in (quirks.get("rename") or {}).items():
        if old in out:
            value = out.pop(old)
            out.setdefault(new, value)
    choice = out.get("tool_choice")
    choice_map = quirks.get("tool_choice") or {}
    if isinstance(choice, str) and choice in choice_map:
        out["tool_choice"] = choice_map[choice]
        warnings.append(f"tool_choice {choice!r} sent as {choice_map[choice]!r} to {model_id}")
    fmt = out.get("response_format")
    fmt_map = quirks.get("response_format") or {}
    if isinstance(fmt, Mapping) and fmt.get("type") in fmt_map:
        new_type = fmt_map[fmt["type"]]
        out["response_format"] = {"type": new_type}
        warnings.append(f"response_format {fmt['type']!r} sent as {new_type!r} to {model_id}")
    return out, warnings
