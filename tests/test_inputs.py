"""Reading strings and OpenAI-style messages into the text that is scored."""

from __future__ import annotations

import pytest

from router.decision.inputs import read_prompt
from router.errors import RouterInputError


def test_plain_string_is_the_text() -> None:
    """A string is the user's turn."""
    prompt = read_prompt("hello")
    assert prompt.text == "hello"
    assert prompt.context == ""


def test_only_user_turns_are_scored() -> None:
    """System prompts, assistant turns and tool results are not the user's request."""
    prompt = read_prompt(
        [
            {"role": "system", "content": "You are an agent. Prove theorems, write Rust."},
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": "an answer with step by step reasoning"},
            {"role": "tool", "content": "tool output"},
            {"role": "user", "content": [{"type": "text", "text": "second question"}]},
        ]
    )
    assert prompt.text == "second question"
    assert prompt.context == "first question"
    assert "Prove" in prompt.system
    assert prompt.turns == 2


def test_image_parts_are_noted_not_scored() -> None:
    """An image part sets has_images and adds no text."""
    prompt = read_prompt(
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                ],
            }
        ]
    )
    assert prompt.has_images
    assert prompt.text == "what is this?"


def test_anthropic_tool_results_are_skipped() -> None:
    """A user turn made of tool_result blocks is not a new request."""
    prompt = read_prompt(
        [
            {"role": "user", "content": "refactor the parser"},
            {"role": "user", "content": [{"type": "tool_result", "content": "file listing"}]},
        ]
    )
    assert prompt.text == "refactor the parser"


def test_structured_output_from_response_format_and_system() -> None:
    """response_format or a system prompt demanding JSON marks the request structured."""
    assert read_prompt("hi", response_format={"type": "json_object"}).wants_structured
    assert not read_prompt("hi", response_format={"type": "text"}).wants_structured
    messages = [
        {"role": "system", "content": "Always respond with valid JSON matching the schema."},
        {"role": "user", "content": "hi"},
    ]
    assert read_prompt(messages).wants_structured


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "prompt is None"),
        ("", "prompt is empty"),
        ("   \n", "prompt is empty"),
        (b"bytes", "prompt is bytes"),
        ([], "messages is an empty list"),
        ({"role": "user", "content": "x"}, "single message dict"),
        (42, "got int"),
        ([42], r"messages\[0\] must be a dict"),
        ([{"content": "x"}], r"messages\[0\] has no string 'role'"),
        ([{"role": "user"}], r"messages\[0\] \(user\) has no 'content'"),
        ([{"role": "user", "content": 5}], r"messages\[0\].content must be a string"),
        ([{"role": "user", "content": b"x"}], r"messages\[0\].content is bytes"),
        ([{"role": "user", "content": [[["deep"]]]}], r"messages\[0\].content\[0\] must be"),
        (
            [{"role": "user", "content": [{"type": "text", "text": {"type": "text"}}]}],
            r"messages\[0\].content\[0\].text must be a string",
        ),
        ([{"role": "wizard", "content": "x"}], "'wizard' is not one of"),
        ([{"role": "system", "content": "only a system prompt"}], "no user turn"),
        ([{"role": "user", "content": "  "}], "no user turn"),
    ],
)
def test_bad_input_names_the_problem(value: object, message: str) -> None:
    """Every unreadable input raises RouterInputError, a ValueError, naming what is wrong."""
    with pytest.raises(RouterInputError, match=message) as info:
        read_prompt(value)
    assert isinstance(info.value, ValueError)
