"""Turn what the caller handed over (a string or OpenAI-style messages) into the text we score.

Only the user's turns are scored: the last one above all, earlier ones as context.
System prompts, assistant turns and tool results are not the user's request, and
agent harnesses fill them with keywords that would make every request look alike.
The system prompt is kept only to notice a request for structured output.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from router.errors import RouterInputError

__all__ = ["Prompt", "read_prompt"]

_USER_ROLES = frozenset({"user", "human"})
_SYSTEM_ROLES = frozenset({"system", "developer"})
_SKIPPED_ROLES = frozenset({"assistant", "tool", "function", "model", "ai"})
_TEXT_PARTS = frozenset({"text", "input_text"})
_IMAGE_PARTS = frozenset({"image_url", "input_image", "image"})
_AUDIO_PARTS = frozenset({"input_audio", "audio"})
# Tool output is data the agent fetched, not something the user asked.
_SKIPPED_PARTS = frozenset({"tool_result", "tool_use", "function_call_output", "refusal"})
# Earlier user turns beyond this many add cost, not signal.
_MAX_CONTEXT_TURNS = 3


# Not frozen: this record is built on every decision, and a frozen
# dataclass pays for object.__setattr__ on each field.
@dataclass(slots=True)
class Prompt:
    """The scoring view of one request."""

    text: str
    context: str = ""
    system: str = ""
    has_images: bool = False
    has_audio: bool = False
    has_tools: bool = False
    wants_structured: bool = False
    turns: int = 1


def read_prompt(
    value: object,
    *,
    tools: object = None,
    response_format: object = None,
) -> Prompt:
    """Validate ``value`` and extract the user's text.

    Raises:
        RouterInputError: naming the problem (and the message index) when the
            input is not a non-empty string or a list of chat messages.
    """
    has_tools = bool(tools)
    wants_structured = _wants_structured(response_format)
    if isinstance(value, str):
        if _blank(value):
            raise RouterInputError("prompt is empty: pass a non-empty string or a list of messages")
        return Prompt(text=value, has_tools=has_tools, wants_structured=wants_structured)
    if value is None:
        raise RouterInputError("prompt is None: pass a non-empty string or a list of messages")
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise RouterInputError("prompt is bytes: decode it to str before classifying")
    if isinstance(value, Mapping):
        raise RouterInputError(
            "prompt is a single message dict: wrap it in a list, e.g. [{'role': 'user', ...}]"
        )
    if not isinstance(value, Sequence):
        raise RouterInputError(
            f"prompt must be a string or a list of messages, got {type(value).__name__}"
        )
    return _read_messages(value, has_tools=has_tools, wants_structured=wants_structured)


def _read_messages(messages: Sequence[Any], *, has_tools: bool, wants_structured: bool) -> Prompt:
    if len(messages) == 0:
        raise RouterInputError("messages is an empty list: at least one user message is needed")
    user_texts: list[str] = []
    system_parts: list[str] = []
    has_images = has_audio = False
    for index, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise RouterInputError(
                f"messages[{index}] must be a dict with 'role' and 'content', "
                f"got {type(message).__name__}"
            )
        role = message.get("role")
        if not isinstance(role, str):
            raise RouterInputError(f"messages[{index}] has no string 'role'")
        role = role.lower()
        if role in _SKIPPED_ROLES:
            continue
        if role not in _USER_ROLES and role not in _SYSTEM_ROLES:
            raise RouterInputError(
                f"messages[{index}].role {role!r} is not one of "
                "'system', 'developer', 'user', 'assistant', 'tool'"
            )
        if "content" not in message:
            raise RouterInputError(f"messages[{index}] ({role}) has no 'content'")
        text, images, audio = _read_content(message["content"], f"messages[{index}].content")
        has_images = has_images or images
        has_audio = has_audio or audio
        if role in _SYSTEM_ROLES:
            system_parts.append(text)
        elif not _blank(text) or images or audio:
            user_texts.append(text)
    if not user_texts:
        raise RouterInputError(
            "messages contain no user turn with text, image or audio to classify"
        )
    system = "\n".join(system_parts)
    return Prompt(
        text=user_texts[-1],
        context="\n".join(user_texts[-1 - _MAX_CONTEXT_TURNS : -1]),
        system=system,
        has_images=has_images,
        has_audio=has_audio,
        has_tools=has_tools,
        wants_structured=wants_structured or _system_wants_structured(system),
        turns=len(user_texts),
    )


def _read_content(content: object, where: str) -> tuple[str, bool, bool]:
    """Return (text, has_images, has_audio) of one message's content."""
    if isinstance(content, str):
        return content, False, False
    if content is None:
        return "", False, False
    if isinstance(content, (bytes, bytearray)):
        raise RouterInputError(f"{where} is bytes: decode it to str")
    if not isinstance(content, Sequence):
        raise RouterInputError(
            f"{where} must be a string or a list of content parts, got {type(content).__name__}"
        )
    texts: list[str] = []
    has_images = has_audio = False
    for i, part in enumerate(content):
        path = f"{where}[{i}]"
        if isinstance(part, str):
            texts.append(part)
            continue
        if not isinstance(part, Mapping):
            raise RouterInputError(
                f"{path} must be a content part dict like {{'type': 'text', 'text': ...}}, "
                f"got {type(part).__name__}"
            )
        kind = part.get("type")
        if kind in _TEXT_PARTS:
            text = part.get("text")
            if not isinstance(text, str):
                raise RouterInputError(f"{path}.text must be a string, got {type(text).__name__}")
            texts.append(text)
        elif kind in _IMAGE_PARTS:
            has_images = True
        elif kind in _AUDIO_PARTS:
            has_audio = True
        elif kind in _SKIPPED_PARTS:
            continue
        elif not isinstance(kind, str):
            raise RouterInputError(f"{path} has no string 'type'")
        # Unknown part types (files, documents, future kinds) carry no text we can score.
    return "\n".join(texts), has_images, has_audio


def _blank(text: str) -> bool:
    # isspace() stops at the first visible character; strip() would copy a
    # 10 MB prompt just to find it is not empty.
    return not text or text.isspace()


def _wants_structured(response_format: object) -> bool:
    if response_format is None:
        return False
    if isinstance(response_format, Mapping):
        return response_format.get("type") in {"json_object", "json_schema"}
    return bool(response_format)


_STRUCTURED_HINTS = ("json", "yaml", "xml", "schema", "csv")


def _system_wants_structured(system: str) -> bool:
    # Only the head matters: harnesses put their output contract first, and a
    # 100 kB system prompt must not be lowered whole on every request.
    head = system[:4096].lower()
    return any(hint in head for hint in _STRUCTURED_HINTS) and (
        "respond" in head or "output" in head or "return" in head or "answer" in head
    )
