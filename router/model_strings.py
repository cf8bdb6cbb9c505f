"""Parse the ``model=`` string a caller passes into a typed routing request.

auto                         route with the router's profile and strategy
auto:cheapest|balanced|best  route with that strategy
auto:eco|premium|free|...    route with that profile
<model>:quality|balanced|cost  route among models no pricier than <model>
<provider>/<model>, <model>  pin: call exactly that model, no routing
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from router.errors import ConfigError
from router.strategies import Strategy, load_profiles

__all__ = ["Mode", "ModelRequest", "RequestKind", "parse_model_string"]


class RequestKind(str, enum.Enum):
    AUTO = "auto"
    ANCHORED = "anchored"
    PIN = "pin"


class Mode(str, enum.Enum):
    """The suffix of ``<model>:<mode>``, and the strategy it routes with."""

    QUALITY = "quality"
    BALANCED = "balanced"
    COST = "cost"

    @property
    def strategy(self) -> Strategy:
        return {
            Mode.QUALITY: Strategy.BEST,
            Mode.BALANCED: Strategy.BALANCED,
            Mode.COST: Strategy.CHEAPEST,
        }[self]


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
        return ModelRequest(RequestKind.AUTO)
    if not isinstance(value, str):
        raise ConfigError(f"model must be a string, got {type(value).__name__}")
    text = value.strip()
    if not text or text == "auto":
        return ModelRequest(RequestKind.AUTO)
    head, sep, tail = text.rpartition(":")
    if sep and head == "auto":
        if tail in {s.value for s in Strategy}:
            return ModelRequest(RequestKind.AUTO, strategy=Strategy(tail))
        if tail in load_profiles():
            return ModelRequest(RequestKind.AUTO, profile=tail)
        options = sorted({s.value for s in Strategy} | set(load_profiles()))
        raise ConfigError(f"model {value!r}: after 'auto:' expected one of {', '.join(options)}")
    if sep and head and tail in {m.value for m in Mode}:
        mode = Mode(tail)
        return ModelRequest(RequestKind.ANCHORED, strategy=mode.strategy, model=head)
    # Anything else is a pin; a colon that is not a mode belongs to the name
    # (Ollama tags such as qwen2.5-coder:7b).
    return ModelRequest(RequestKind.PIN, model=text)
