"""Types of the request fields the proxy forwards, checked before anything is spent.

A provider would refuse ``"max_tokens": "lots"`` too, but only after the
request crossed the network (and through the router's fallback chain, once per
candidate). Each wire format lists its fields here with what they must be; a
field of the wrong type is a 400 naming it. Fields not listed pass through as
the client sent them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from router.proxy.errors import invalid

__all__ = ["ANTHROPIC_PARAMS", "OPENAI_PARAMS", "RESPONSES_PARAMS", "check_params"]

Check = tuple[Callable[[Any], bool], str]


def _int(low: int) -> Check:
    return (
        lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= low,
        f"an integer >= {low}",
    )


_NUMBER: Check = (
    lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "a number",
)
_BOOL: Check = (lambda v: isinstance(v, bool), "true or false")
_STR: Check = (lambda v: isinstance(v, str), "a string")
_OBJECT: Check = (lambda v: isinstance(v, dict), "an object")
_LIST: Check = (lambda v: isinstance(v, list), "a list")
_STRINGS: Check = (
    lambda v: isinstance(v, list) and all(isinstance(s, str) for s in v),
    "a list of strings",
)
_STOP: Check = (
    lambda v: isinstance(v, str) or (isinstance(v, list) and all(isinstance(s, str) for s in v)),
    "a string or a list of strings",
)
_TYPED_OBJECT: Check = (
    lambda v: isinstance(v, dict) and isinstance(v.get("type"), str),
    "an object with a string 'type', such as {'type': 'json_object'}",
)
_TOOL_CHOICE: Check = (
    lambda v: isinstance(v, str) or (isinstance(v, dict) and isinstance(v.get("type"), str)),
    "'auto', 'none', 'required' or an object with a string 'type'",
)

OPENAI_PARAMS: Mapping[str, Check] = {
    "stream": _BOOL,
    "max_tokens": _int(1),
    "max_completion_tokens": _int(1),
    "n": _int(1),
    "temperature": _NUMBER,
    "top_p": _NUMBER,
    "presence_penalty": _NUMBER,
    "frequency_penalty": _NUMBER,
    "seed": _int(-(2**63)),
    "stop": _STOP,
    "tools": _LIST,
    "tool_choice": _TOOL_CHOICE,
    "parallel_tool_calls": _BOOL,
    "response_format": _TYPED_OBJECT,
    "stream_options": _OBJECT,
    "user": _STR,
    "metadata": _OBJECT,
    "logit_bias": _OBJECT,
    "logprobs": _BOOL,
    "top_logprobs": _int(0),
}

RESPONSES_PARAMS: Mapping[str, Check] = {
    "stream": _BOOL,
    "instructions": _STR,
    "max_output_tokens": _int(1),
    "temperature": _NUMBER,
    "top_p": _NUMBER,
    "tools": _LIST,
    "tool_choice": _TOOL_CHOICE,
    "parallel_tool_calls": _BOOL,
    "text": _OBJECT,
    "reasoning": _OBJECT,
    "metadata": _OBJECT,
    "user": _STR,
}

ANTHROPIC_PARAMS: Mapping[str, Check] = {
    "stream": _BOOL,
    "max_tokens": _int(1),
    "temperature": _NUMBER,
    "top_p": _NUMBER,
    "top_k": _int(0),
    "stop_sequences": _STRINGS,
    "metadata": _OBJECT,
    "tools": _LIST,
    "tool_choice": _TYPED_OBJECT,
}


def check_params(body: Mapping[str, Any], spec: Mapping[str, Check]) -> None:
    """Raise a 400 naming the first field of ``body`` that ``spec`` says is the wrong type.

    ``null`` counts as absent, as both APIs treat it.
    """
    for name in _RESERVED.intersection(body):
        # The call engine reads these as the proxy's own notes (session affinity,
        # the request to classify, a native body); a client must not set them.
        raise invalid(name, "unknown field: this name is reserved by the router")
    # A body holds a few of the listed fields: check those it has. When one is
    # wrong, the spec's order picks which to name, as it always has.
    for name, value in body.items():
        check = spec.get(name)
        if check is not None and value is not None and not check[0](value):
            break
    else:
        return
    for name, (ok, what) in spec.items():
        value = body.get(name)
        if value is not None and not ok(value):
            raise invalid(name, f"expected {what}, got {_shown(value)}")


_RESERVED = frozenset({"route_messages", "prefer", "native_request"})


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"a {type(value).__name__}"
