"""Firewall: block, mask and warn on prompts and responses, plain and streamed; detectors; ReDoS."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from fake_providers import FakeProviders
from hypothesis import given, settings
from hypothesis import strategies as st

from router import Router
from router.errors import APIError, ConfigError
from router.policy.detectors import DETECTORS, iban_ok, luhn_ok
from router.policy.errors import FirewallBlocked
from router.policy.firewall import FirewallRule, StreamGuard, compile_rule
from router.policy.safe_regex import compile_user_pattern

MakeRouter = Callable[..., Router]


def rule(**kw: Any) -> FirewallRule:
    return FirewallRule.from_dict({"name": kw.pop("name", "r"), **kw})


def whole(rules: list[FirewallRule], text: str) -> str:
    warnings: list[str] = []
    for r in rules:
        text = compile_rule(r).apply(text, "response", warnings)
    return text


def streamed(rules: list[FirewallRule], pieces: list[str]) -> str:
    guard = StreamGuard([compile_rule(r) for r in rules])
    return "".join(guard.feed(p) for p in pieces) + guard.flush()


# ---- prompt side, through a real router and the fake provider ------------------------


def test_prompt_block_rejects_before_any_provider_call(
    fake: FakeProviders, make_router: MakeRouter
) -> None:
    router = make_router()
    router.firewall.create(name="no project names", pattern="Project Falcon", scope="prompt")
    with pytest.raises(FirewallBlocked) as caught:
        router.chat("Tell me about project FALCON's launch date")
    err = caught.value
    assert isinstance(err, APIError) and err.status == 422 and err.type == "firewall_blocked"
    assert "no project names" in err.message and "falcon" not in err.message.lower()
    with pytest.raises(FirewallBlocked):
        list(router.chat_stream("project falcon"))
    assert fake.requests == []  # nothing left the router


def test_prompt_mask_rewrites_what_the_provider_sees(
    fake: FakeProviders, make_router: MakeRouter
) -> None:
    router = make_router()
    router.firewall.create(name="cards", type="detector", pattern="credit_card",
                           action="mask", replacement="<card>", scope="prompt")  # fmt: skip
    messages = [
        {"role": "system", "content": "card on file 4111-1111-1111-1111"},
        {"role": "user", "content": [{"type": "text", "text": "charge 4111 1111 1111 1111"}]},
    ]
    router.chat(messages)
    sent = json.dumps(fake.requests[0].body)
    assert "4111" not in sent and sent.count("<card>") == 2
    assert messages[0]["content"].startswith("card on file 4111")  # the caller's list untouched


def test_warn_lets_the_call_through(fake: FakeProviders, make_router: MakeRouter) -> None:
    router = make_router()
    router.firewall.create(name="mentions-salary", pattern="salary", action="warn")
    reply = router.chat("What is a typical salary?")
    assert reply.content and "mentions-salary" in reply.decision.warnings
    assert "mentions-salary" not in router.chat("hello").decision.warnings


def test_scope_decides_the_side(fake: FakeProviders, make_router: MakeRouter) -> None:
    router = make_router()
    router.firewall.create(name="resp-only", pattern="hello", scope="response")
    fake.reply("fast-1", "fine")
    assert router.chat("hello").content == "fine"  # a response rule ignores the prompt


# ---- response side -----------------------------------------------------------------------


def test_response_mask_and_block(fake: FakeProviders, make_router: MakeRouter) -> None:
    router = make_router()
    router.firewall.create(name="emails", type="detector", pattern="email", action="mask",
                           scope="response")  # fmt: skip
    fake.reply("fast-1", "Write to ann.lee@example.com or bob@corp.example.org today")
    reply = router.chat("who do I contact?")
    assert reply.content == "Write to [REDACTED] or [REDACTED] today"
    router.firewall.create(name="internal", pattern="codename", scope="response")
    fake.reply("fast-1", "The codename is Falcon")
    with pytest.raises(FirewallBlocked, match="withheld by firewall rule 'internal'") as caught:
        router.chat("what is it called?")
    assert "Falcon" not in str(caught.value)


def test_streamed_response_is_masked_across_chunks(
    fake: FakeProviders, make_router: MakeRouter
) -> None:
    router = make_router()
    router.firewall.create(name="key", type="detector", pattern="openai_key", action="mask",
                           scope="response")  # fmt: skip
    router.firewall.create(name="ssn", type="detector", pattern="us_ssn", action="warn")
    secret = "sk-proj-" + "A1b2C3d4" * 5
    # The fake streams word by word, so the key and the SSN arrive in their own chunks.
    fake.reply("fast-1", f"your key is {secret} and ssn 123-45-6789 ok")
    stream = router.chat_stream("give me the key")
    text = "".join(
        c["choices"][0]["delta"].get("content") or "" for c in stream if c.get("choices")
    )
    assert text == "your key is [REDACTED] and ssn 123-45-6789 ok"
    assert "ssn" in stream.decision.warnings


def test_streamed_response_block_stops_before_the_match(
    fake: FakeProviders, make_router: MakeRouter
) -> None:
    async def main() -> str:
        async with make_router() as router:
            router.firewall.create(name="stop", pattern="forbidden words", scope="response")
            fake.reply("fast-1", "safe start then forbidden words at the end")
            stream = await router.achat_stream("go")
            seen = ""
            with pytest.raises(FirewallBlocked):
                async for c in stream:
                    for choice in c.get("choices") or ():
                        seen += choice["delta"].get("content") or ""
            return seen

    seen = asyncio.run(main())
    assert "forbidden" not in seen


def test_responses_api_stream_masks(fake: FakeProviders, make_router: MakeRouter) -> None:
    router = make_router()
    router.firewall.create(name="pw", type="regex", pattern=r"pass(word)?: \S+", action="mask",
                           scope="response")  # fmt: skip
    fake.reply("fast-1", "login with password: hunter2 please")
    events = list(router.responses.create(input="login?", stream=True))
    deltas = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert deltas == "login with [REDACTED] please"


# ---- the stream scanner against every way of splitting -------------------------------------

MASKS = [
    rule(name="cc", type="detector", pattern="credit_card", action="mask"),
    rule(name="word", pattern="SeCrEt", action="mask", replacement="#"),
    rule(name="re", type="regex", pattern=r"\bid-[0-9]{2,6}\b", action="mask", replacement="<id>"),
    rule(name="mail", type="detector", pattern="email", action="mask"),
]
TEXT = (
    "secret: card 4111 1111 1111 1111, id-1234 and id-12345678 (too long), "
    "xid-99 no, mail a.b@ex.com, SECRETsecret, 4111 1111 1111 1112 stays"
)


def test_every_single_split_point() -> None:
    expected = whole(MASKS, TEXT)
    assert "4111 1111 1111 1111" not in expected and "id-12345678" in expected
    for cut in range(len(TEXT) + 1):
        assert streamed(MASKS, [TEXT[:cut], TEXT[cut:]]) == expected, cut


def test_every_pair_of_split_points_for_one_match() -> None:
    text = "pay 4111-1111-1111-1111 now"
    expected = whole(MASKS, text)
    for i in range(len(text) + 1):
        for j in range(i, len(text) + 1):
            assert streamed(MASKS, [text[:i], text[i:j], text[j:]]) == expected, (i, j)


def test_character_by_character() -> None:
    assert streamed(MASKS, list(TEXT)) == whole(MASKS, TEXT)


PIECES = ["secret", "SECRET", "4111 1111 1111 1111", " ", "id-42", "x", "@", "a@b.co", "4", "-"]
PIECES += ["\n", "é", "id-", "se", "cret"]


PIECES = ["secret", "SECRET", "4111 1111 1111 1111", " ", "id-42", "x", "@", "a@b.co", "4"]
PIECES += ["-", "\n", "é", "id-", "se", "cret"]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(PIECES), max_size=25),
    st.lists(st.integers(min_value=0, max_value=400), max_size=8),
)
def test_streaming_equals_whole_text(parts: list[str], cuts: list[int]) -> None:
    text = "".join(parts)
    points = sorted({min(c, len(text)) for c in cuts})
    pieces = [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]
    assert streamed(MASKS, pieces) == whole(MASKS, text)


# ---- detectors ---------------------------------------------------------------------------


def found(name: str, text: str) -> list[str]:
    return [text[s:e] for s, e in DETECTORS[name].finditer(text)]


@pytest.mark.parametrize(
    ("name", "positive", "negative"),
    [
        ("credit_card", "visa 4111 1111 1111 1111.", "visa 4111 1111 1111 1112."),
        ("credit_card", "amex 378282246310005", "order 1234567890123"),
        ("email", "mail ann.lee+x@mail.example.co.uk", "not an email: ann@ or @example"),
        ("phone", "call +1 (415) 555-2671", "version 1.2.3"),
        ("us_ssn", "ssn 123-45-6789", "ssn 666-45-6789 or 123-00-6789"),
        ("iban", "IBAN GB82 WEST 1234 5698 7654 32", "IBAN GB82 WEST 1234 5698 7654 33"),
        ("ip_address", "host 192.168.10.254 up", "version 1.2.3.999 or 300.1.1.1"),
        ("ip_address", "v6 2001:db8::8a2e:370:7334 up", "time 12:30:45"),
        ("openai_key", "key sk-proj-" + "Ab3" * 10, "sk-short"),
        ("anthropic_key", "key sk-ant-api03-" + "x" * 40, "sk-ant-"),
        ("aws_access_key", "id AKIAIOSFODNN7EXAMPLE", "AKIA-not-a-key"),
        ("github_token", "tok ghp_" + "a1B2" * 9, "ghp_short"),
    ],
)
def test_detector_true_and_false_positives(name: str, positive: str, negative: str) -> None:
    assert found(name, positive), positive
    assert not found(name, negative), negative


def test_anthropic_keys_are_not_openai_keys() -> None:
    assert not found("openai_key", "key sk-ant-api03-" + "x" * 40)


def test_checksums() -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("DE89 3704 0044 0532 0130 00") and not iban_ok("DE89 3704 0044 0532 0130 01")


def test_unknown_detector_is_rejected() -> None:
    with pytest.raises(ConfigError, match=r"firewall rule 'x'.*'passport' is not a detector"):
        rule(name="x", type="detector", pattern="passport")


# ---- safe patterns -------------------------------------------------------------------------


def finishes(fn: Callable[[], object], seconds: float = 5.0) -> bool:
    """Run ``fn`` in a thread; True when it returned or raised within ``seconds``."""
    done = threading.Event()

    def run() -> None:
        try:
            fn()
        except Exception:
            pass
        finally:
            done.set()

    threading.Thread(target=run, daemon=True).start()
    return done.wait(seconds)


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(a|aa)+$", r"(a*)*b", r"(\w+\s?)+$"])
def test_catastrophic_patterns_are_bounded(pattern: str) -> None:
    evil = "a" * 100_000 + "!"

    def scan() -> None:
        compiled = compile_rule(rule(name="evil", type="regex", pattern=pattern))
        compiled.apply(evil, "prompt", [])

    assert finishes(scan), f"{pattern} stalled on 100 kB"


def test_backreference_pattern_runs_with_a_time_limit_or_is_rejected() -> None:
    def create() -> None:
        try:
            compiled = compile_user_pattern(r"(a+)+\1$", "evil-backref")
        except ConfigError as exc:
            assert "evil-backref" in str(exc)
            return
        assert compiled.engine == "regex"
        try:
            list(compiled.finditer("a" * 100_000 + "!"))
        except Exception as exc:  # PatternTimeout
            assert type(exc).__name__ == "PatternTimeout"

    assert finishes(create)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [("(", "invalid regex"), ("a*", "matches empty text"), ("x" * 5000, "limit")],
)
def test_bad_patterns_rejected_naming_the_rule(pattern: str, message: str) -> None:
    with pytest.raises(ConfigError, match=rf"firewall rule 'mine'.*{message}"):
        rule(name="mine", type="regex", pattern=pattern)


def test_regex_time_limit_blocks_fail_closed() -> None:
    from router.policy.firewall import CompiledFirewallRule
    from router.policy.safe_regex import PatternTimeout

    class Slow:
        window = 3

        def finditer(self, text: str, pos: int = 0) -> Any:
            raise PatternTimeout("abc")

        candidates = finditer

    for action in ("mask", "block"):
        compiled = CompiledFirewallRule(rule(name="slow", pattern="abc", action=action), Slow())
        with pytest.raises(FirewallBlocked, match="'slow' \\(its pattern timed out\\)"):
            compiled.apply("xabcx", "prompt", [])
    warned: list[str] = []
    compiled = CompiledFirewallRule(rule(name="slow", pattern="abc", action="warn"), Slow())
    assert compiled.apply("xabcx", "prompt", warned) == "xabcx" and warned == ["slow"]


# ---- the prompt firewall's time budget -------------------------------------------------


def test_a_large_prompt_is_screened_off_the_event_loop(
    fake: FakeProviders, make_router: MakeRouter
) -> None:
    router = make_router()
    router.firewall.create(name="a-run", type="regex", pattern=r"(.*a){20}", scope="prompt")
    engine = router._engine().guard
    seen: list[str] = []
    original = engine.screen_prompt

    def recording(messages: Any) -> Any:
        seen.append(threading.current_thread().name)
        return original(messages)

    engine.screen_prompt = recording
    router.chat("b" * 40_000)  # large: screened on a firewall thread
    router.chat("b" * 100)  # small: inline, on the loop's own thread
    assert seen[0].startswith("firewall") and not seen[1].startswith("firewall")


def test_a_prompt_not_screened_within_the_budget_is_blocked(
    fake: FakeProviders, make_router: MakeRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    from router.policy import engine as policy_engine

    monkeypatch.setattr(policy_engine, "FIREWALL_BUDGET", 0.001)
    router = make_router()
    router.firewall.create(name="a-run", type="regex", pattern=r"(.*a){20}", scope="prompt")
    with pytest.raises(FirewallBlocked, match="could not screen the prompt"):
        router.chat("ab" * 500_000)
    assert fake.requests == []  # failed closed: nothing left the router
