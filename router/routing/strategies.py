"""Ranking strategies and routing profiles.

A strategy orders capable models; a profile is a strategy plus constraints
(a quality floor, required capabilities, free models only). Quality comes from
the catalog's task x tier matrix, price from its per-1M list prices.
"""

from __future__ import annotations

import enum
import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from router._resources import DATA_DIR, load_yaml
from router.errors import ConfigError
from router.routing.catalog import CAPABILITIES, ModelSpec
from router.types import Task, Tier

__all__ = ["Profile", "Strategy", "load_profiles", "rank"]


class Strategy(str, enum.Enum):
    CHEAPEST = "cheapest"
    BALANCED = "balanced"
    BEST = "best"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, value: str | Strategy, field: str = "strategy") -> Strategy:
        try:
            return cls(value)
        except ValueError:
            choices = ", ".join(s.value for s in cls)
            raise ConfigError(f"{field}: {value!r} is not one of {choices}") from None


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    strategy: Strategy
    min_quality: float
    require: frozenset[str] = frozenset()
    only_free: bool = False
    # Rank by this task's row instead of the classified one (agents code).
    task: Task | None = None


@functools.lru_cache(maxsize=1)
def load_profiles() -> Mapping[str, Profile]:
    """The bundled profiles from ``router/data/profiles.yaml``."""
    raw = load_yaml(DATA_DIR / "profiles.yaml")
    return {str(name): _profile(str(name), body) for name, body in raw.items()}


def _profile(name: str, body: Any) -> Profile:
    where = f"router/data/profiles.yaml: {name}"
    if not isinstance(body, Mapping):
        raise ConfigError(f"{where}: expected a mapping")
    require = frozenset(body.get("require", ()))
    if not require <= CAPABILITIES:
        raise ConfigError(f"{where}.require: unknown capability in {sorted(require)}")
    task = body.get("task")
    return Profile(
        name=name,
        strategy=Strategy.parse(body.get("strategy", "balanced"), f"{where}.strategy"),
        min_quality=float(body.get("min_quality", 0.0)),
        require=require,
        only_free=bool(body.get("only_free", False)),
        task=Task(task) if task else None,
    )


def _value(model: ModelSpec, quality: float) -> float:
    # Quality per cost with diminishing returns on price: a 10x cheaper model
    # wins unless it is 0.2 worse. A pure ratio would always pick free models,
    # however bad; the profile's quality floor bounds how far down this goes.
    price = model.blended_price()
    if math.isinf(price):
        return quality - 1.0
    return quality - 0.2 * math.log10(1.0 + price)


def rank(
    models: Iterable[ModelSpec],
    task: Task | str,
    tier: Tier,
    strategy: Strategy,
    min_quality: float = 0.0,
) -> tuple[list[ModelSpec], bool]:
    """Order ``models`` for ``strategy``; the bool says whether any met ``min_quality``.

    Capable models (quality >= floor) always come before the rest, so a
    fallback chain never jumps to a weak model while a capable one is left.
    When none is capable, every model is ranked best-first instead: the
    request still gets the strongest model we have.
    """
    task_key, tier_rank = str(task), tier.rank
    scored = [(m, m.quality_cell(task_key, tier_rank)) for m in models]
    capable = [(m, q) for m, q in scored if q >= min_quality]
    weak = [(m, q) for m, q in scored if q < min_quality]
    weak.sort(key=lambda mq: (-mq[1], mq[0].blended_price(), mq[0].id))
    if not capable:
        return [m for m, _ in weak], False
    if strategy is Strategy.CHEAPEST:
        capable.sort(key=lambda mq: (mq[0].blended_price(), -mq[1], mq[0].id))
    elif strategy is Strategy.BEST:
        capable.sort(key=lambda mq: (-mq[1], mq[0].blended_price(), mq[0].id))
    else:
        capable.sort(key=lambda mq: (-_value(mq[0], mq[1]), mq[0].id))
    return [m for m, _ in capable] + [m for m, _ in weak], True
