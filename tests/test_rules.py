"""The rule scorer: the misroutes public routers make, overrides, and each English extractor."""

from __future__ import annotations

import pytest

from router import Router, Task, Tier
from router.decision.features import FEATURE_NAMES


@pytest.mark.parametrize(
    ("prompt", "tier", "task"),
    [
        ("Prove that the square root of 2 is irrational", Tier.REASONING, Task.MATH),
        (
            "Implement a lock-free multi-producer multi-consumer queue in Rust using atomics, "
            "with a bounded ring buffer and proper memory ordering.",
            Tier.COMPLEX,
            Task.CODING,
        ),
        ("Pythonでフィボナッチ数列を計算する関数を書いてください。", None, Task.CODING),
        ("请用Python写一个快速排序函数。", None, Task.CODING),
        ("What is the capital of France?", Tier.SIMPLE, Task.GENERAL),
        ("hello!", Tier.SIMPLE, Task.GENERAL),
    ],
)
def test_known_misroutes_are_fixed(
    any_router: Router, prompt: str, tier: Tier | None, task: Task
) -> None:
    """The examples public routers get wrong are routed sensibly, by rules and model alike."""
    decision = any_router.classify(prompt)
    assert decision.task is task
    if tier is not None:
        assert decision.tier is tier


def test_code_languages_are_detected_in_cjk(rules_router: Router) -> None:
    """Japanese with kanji is Japanese; Chinese is Chinese; neither loses 'coding'."""
    ja = rules_router.classify("Pythonでフィボナッチ数列を計算する関数を書いてください。")
    zh = rules_router.classify("请用Python写一个快速排序函数。")
    assert (ja.language, zh.language) == ("ja", "zh")
    assert ja.tier is not Tier.REASONING
    assert zh.features["code_presence"].value > 0


@pytest.mark.parametrize(
    ("prompt", "feature"),
    [
        ("I definitely agree with you", "code_presence"),
        ("Our manager will approve the budget", "reasoning_markers"),
        ("Classify these fruits by colour", "code_presence"),
        ("Why is my /var/log directory so big?", "code_presence"),
    ],
)
def test_no_substring_false_positives(rules_router: Router, prompt: str, feature: str) -> None:
    """'definitely' is not 'def', 'approve' is not 'prove', 'Classify' is not 'class'."""
    assert rules_router.classify(prompt).features[feature].value == 0.0


def test_two_reasoning_markers_force_reasoning(rules_router: Router) -> None:
    """Two distinct reasoning markers make the prompt REASONING."""
    decision = rules_router.classify("Think step by step and deduce who owns the fish.")
    assert decision.tier is Tier.REASONING
    assert any("reasoning markers" in r for r in decision.reasons)


def test_structured_output_lifts_to_medium(rules_router: Router) -> None:
    """A JSON response_format makes even a trivial prompt at least MEDIUM."""
    plain = rules_router.classify("hi there")
    structured = rules_router.classify("hi there", response_format={"type": "json_object"})
    assert plain.tier is Tier.SIMPLE
    assert structured.tier is Tier.MEDIUM


def test_tools_lift_to_medium_and_mark_agentic(rules_router: Router) -> None:
    """Tools in the request set the agentic signal and lift the tier."""
    tools = [{"type": "function", "function": {"name": "search", "parameters": {}}}]
    decision = rules_router.classify("hi there", tools=tools)
    assert decision.has_tools
    assert decision.features["agentic_task"].value == 1.0
    assert decision.tier.rank >= Tier.MEDIUM.rank


def test_very_long_context_is_at_least_complex(rules_router: Router) -> None:
    """Over 100k estimated tokens is at least COMPLEX."""
    decision = rules_router.classify("Summarize this. " + "word " * 120_000)
    assert decision.estimated_tokens > 100_000
    assert decision.tier.rank >= Tier.COMPLEX.rank


def test_system_prompt_keywords_do_not_move_the_decision(rules_router: Router) -> None:
    """An agent system prompt full of keywords leaves a simple user turn simple."""
    system = (
        "You are a senior engineer. Prove theorems rigorously, step by step. Implement "
        "distributed lock-free algorithms in Rust. Analyze legal contracts. " * 20
    )
    alone = rules_router.classify("thanks, that works!")
    with_system = rules_router.classify(
        [{"role": "system", "content": system}, {"role": "user", "content": "thanks, that works!"}]
    )
    assert with_system.tier is alone.tier is Tier.SIMPLE
    assert with_system.score == alone.score


def test_harness_boilerplate_is_stripped(rules_router: Router) -> None:
    """<system-reminder> blocks injected by harnesses do not count."""
    reminder = "<system-reminder>Prove it step by step. Deduce. Use tools.</system-reminder>"
    assert rules_router.classify(f"{reminder}\nthanks!").tier is Tier.SIMPLE


def test_boilerplate_blocks_of_every_tag_go_and_nothing_else() -> None:
    from router.decision.text import strip_boilerplate

    tags = ("system-reminder", "command-name", "command-args")
    text = (
        "<command-name>/review</command-name>look at <b>this</b>"
        "<system-reminder>x</system-reminder> please<command-args>--all"
    )
    assert strip_boilerplate(text, tags) == "look at <b>this</b> please"
    # Taking a block out does not make the text around it a tag of its own.
    joined = "<system-<command-name>x</command-name>reminder>keep"
    assert strip_boilerplate(joined, tags) == "<system-reminder>keep"
    assert strip_boilerplate("a < b > c", tags) == "a < b > c"


def test_prompt_length_counts_what_the_user_wrote(rules_router: Router) -> None:
    """A 6 kB harness block in front of "say hi" adds nothing to the length, even when
    the block is longer than the scanned sample and its end falls outside it."""
    block = "<system-reminder>" + "Context about the repository. " * 1000 + "</system-reminder>"
    alone = rules_router.classify("say hi")
    for prompt in (f"{block}\nsay hi", f"{block}{block}say hi", f"say hi{block}"):
        decided = rules_router.classify(prompt)
        assert decided.estimated_tokens == alone.estimated_tokens
        assert decided.tier is Tier.SIMPLE


def test_earlier_turns_count_as_context(rules_router: Router) -> None:
    """An earlier technical turn raises a terse follow-up above the same text alone."""
    alone = rules_router.classify("and now make it faster")
    followed = rules_router.classify(
        [
            {
                "role": "user",
                "content": "Implement a distributed consensus protocol with Raft in Go, "
                "with log replication and leader election.",
            },
            {"role": "assistant", "content": "..."},
            {"role": "user", "content": "and now make it faster"},
        ]
    )
    assert followed.score > alone.score


ENGLISH_TRIGGERS = {
    "token_count": "word " * 400,
    "code_presence": "```python\ndef f(x):\n    return x\n```",
    "reasoning_markers": "think step by step",
    "technical_terms": "reduce latency in the distributed cache",
    "creative_markers": "a poem about the sea",
    "simple_indicators": "what is a cat",
    "multi_step_patterns": "first install it, then configure it, finally run it",
    "question_complexity": "why does ice float? how does it freeze?",
    "imperative_verbs": "implement and optimize the parser",
    "constraint_count": "must be under 100 words and at least 3 points",
    "output_format": "answer as a markdown table",
    "reference_complexity": "see the following document",
    "domain_specificity": "the plaintiff's liability under the statute",
    "negation_complexity": "never use globals, not even once, unless needed",
    "agentic_task": "run the tests and open a pull request",
}


def test_every_feature_has_an_english_trigger() -> None:
    """The trigger table covers all fourteen extractors and the agentic signal."""
    assert set(ENGLISH_TRIGGERS) == set(FEATURE_NAMES)


@pytest.mark.parametrize(("feature", "prompt"), sorted(ENGLISH_TRIGGERS.items()))
def test_each_extractor_fires_on_its_trigger(
    rules_router: Router, feature: str, prompt: str
) -> None:
    """Each extractor returns a positive bounded value on text made for it."""
    decision = rules_router.classify(prompt)
    value = decision.features[feature].value
    assert 0.0 < value <= 1.0
    baseline = rules_router.classify("ok")
    assert baseline.features[feature].value < value


@pytest.mark.parametrize(
    ("prompt", "task"),
    [
        ("Translate 'good morning, how are you' into French", Task.TRANSLATION),
        (
            "Summarize the following article in three bullet points: the economy grew",
            Task.SUMMARIZATION,
        ),
        ("Extract all dates and names from this email and return them as JSON", Task.EXTRACTION),
        ("Write a haiku about autumn rain", Task.CREATIVE_WRITING),
        ("Solve the equation 3x + 5 = 20 for x", Task.MATH),
        (
            "A logic puzzle: three boxes are mislabeled; deduce which label is correct",
            Task.REASONING,
        ),
        (
            "Fix this bug: TypeError: 'NoneType' object is not subscriptable in my Python script",
            Task.CODING,
        ),
        ("What are some good tips for sleeping better?", Task.GENERAL),
    ],
)
def test_task_scorer(rules_router: Router, prompt: str, task: Task) -> None:
    """The rule task scorer separates the eight tasks on plain examples."""
    assert rules_router.classify(prompt).task is task


@pytest.mark.parametrize(
    "prompt",
    [
        "SELECT name FROM users WHERE id = 3",
        "why does def f(x): return x fail",
        "```\nls -la\n```",
        "fix this:\n    for i in range(3):\n        print(i)",
    ],
)
def test_code_presence_sees_code_itself(rules_router: Router, prompt: str) -> None:
    """Fences, indentation, `def f(` and SELECT … FROM count as code, not only words about code."""
    assert rules_router.classify(prompt).features["code_presence"].value > 0
