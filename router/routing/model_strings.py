"""Parse the ``model=`` string a caller passes into a typed routing request.

auto                         route with the router's profile and strategy
auto:cheapest|balanced|best  route with that strategy
auto:cost|balance|quality    the same, in the hosted TokenRouter SDK's words
auto:eco|premium|free|...    route with that profile
<model>:quality|balance(d)|cost  route among models no pricier than <model>
<provider>/<model>, <model>  pin: call exactly that model, no routing

A request's *mode* (what routing rules match with ``mode:``) is its strategy in
the hosted SDK's words: cheapest -> cost, balanced -> balance, best -> quality.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass

from router.errors import ConfigError
from router.routing.strategies import Strategy, load_profiles

__all__ = [
    "MODES",
    "ModelRequest",
    "RequestKind",
    "mode_of",
    "parse_model_string",
    "strategy_of_mode",
]


class RequestKind(str, enum.Enum):
    AUTO = "auto"
    ANCHORED = "anchored"
    PIN = "pin"


# The hosted SDK's mode names, and the spellings of this project that mean the same.
MODES = ("cost", "balance", "quality")
_MODE_STRATEGY = {
    "cost": Strategy.CHEAPEST,
    "balance": Strategy.BALANCED,
    "balanced": Strategy.BALANCED,
    "quality": Strategy.BEST,
}


def strategy_of_mode(mode: str) -> Strategy | None:
    """``cost``/``balance``/``quality`` (or ``balanced``) -> the strategy; None otherwise."""
    return _MODE_STRATEGY.get(mode)


def mode_of(strategy: Strategy) -> str:
    """Hosted SDK's word for a strategy: cheapest -> cost, balanced -> balance, best -> quality."""
    return {Strategy.CHEAPEST: "cost", Strategy.BALANCED: "balance", Strategy.BEST: "quality"}[
        strategy
    ]


@dataclass(frozen=True, slots=True)
class ModelRequest:
    kind: RequestKind
    strategy: Strategy | None = None
    profile: str | None = None
    # The anchor of ANCHORED, or the pinned model of PIN (bare name or provider/model).
    model: str | None = None


def parse_model_string(value: str | None) -> ModelRequest:
    """Raises ConfigError naming the string when it cannot be read."""
    if value is None:
        return _AUTO
    if not isinstance(value, str):
        raise ConfigError(f"model must be a string, got {type(value).__name__}")
    return _parse(value)


_AUTO = ModelRequest(RequestKind.AUTO)


# A proxied request parses its model string three to four times (checks, session
# affinity, planning); a process sees few distinct strings, and the result is a
# frozen value of the string alone (the profiles are the bundled ones). Strings
# that fail raise each time: exceptions are not cached.
@functools.lru_cache(maxsize=1024)
def _parse(value: str) -> ModelRequest:
    text = value.strip()
    if not text or text == "auto":
        return ModelRequest(RequestKind.AUTO)
    head, sep, tail = text.rpartition(":")
    if sep and head == "auto":
        if tail in {s.value for s in Strategy}:
            return ModelRequest(RequestKind.AUTO, strategy=Strategy(tail))
        if tail in _MODE_STRATEGY:
            return ModelRequest(RequestKind.AUTO, strategy=_MODE_STRATEGY[tail])
        if tail in load_profiles():
            return ModelRequest(RequestKind.AUTO, profile=tail)
        options = sorted({s.value for s in Strategy} | set(MODES) | set(load_profiles()))
        raise ConfigError(f"model {value!r}: after 'auto:' expected one of {', '.join(options)}")
    if sep and head and tail in _MODE_STRATEGY:
        return ModelRequest(RequestKind.ANCHORED, strategy=_MODE_STRATEGY[tail], model=head)
    # Anything else is a pin; a colon that is not a mode belongs to the name
    # (Ollama tags such as qwen2.5-coder:7b).
    return ModelRequest(RequestKind.PIN, model=text)
