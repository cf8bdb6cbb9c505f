"""The user layer: a small logistic correction of ``Decision.score`` fitted on the user's outcomes.

The bundled (or promoted) model stays the prior; the layer moves its score by what
the user's own logged outcomes say (``training/user_layer.py`` fits it)::

    z = a * logit(score) + b + sum_k w_k * (x_k - mean_k) / scale_k + sum_h v_h
    score' = sigmoid(z)

``x`` are the extractor features (``Decision.features``, by name), ``h`` the hashed
word uni- and bigrams of the user's turn (CRC32 into ``buckets``; the same function
runs at fit time). ``a = 1, b = w = v = 0`` is the identity, which is where fitting
starts and what the prior pulls towards. The tier follows the new score through the
same thresholds that map score to tier (the model's own cut points, ``score_cuts``,
when it has them, else the bands of :func:`router.types.tier_band`), never below a
capability floor.

Saved as one JSON file (``layer.json``): plain numbers, no pickle. A layer records
the version of the model it was fitted on; loaded onto another model it is skipped
with a warning, since its correction was measured against that model's scores.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from router.errors import ModelArtifactError
from router.types import TIERS, Decision, Tier, tier_band

__all__ = ["LAYER_FORMAT", "UserLayer", "hashed_tokens", "load_layer"]

LAYER_FORMAT = "tierrouter-user-layer"
LAYER_VERSION = 1
# Scores are clipped before the logit so a base score of exactly 0 or 1 stays finite.
_EPS = 1e-4
_WORD = re.compile(r"\w+")
# Only the start of a long prompt is hashed: the decision must stay fast on huge inputs.
MAX_WORDS = 400
_TIER_BY_RANK = {t.rank: t for t in TIERS}


def logit(p: float) -> float:
    p = min(1.0 - _EPS, max(_EPS, p))
    return math.log(p / (1.0 - p))


def hashed_tokens(text: str, buckets: int) -> set[int]:
    """Bucket ids of the lower-cased word unigrams and bigrams of ``text`` (presence)."""
    words = _WORD.findall(text.lower())[:MAX_WORDS]
    out = {zlib.crc32(w.encode()) % buckets for w in words}
    out.update(zlib.crc32(f"{a} {b}".encode()) % buckets for a, b in pairwise(words))
    return out


def _thresholds(model: Any) -> tuple[float, ...]:
    # A model whose score is P(cheap model falls short) carries its own cut points
    # between tiers (``score_cuts``); the banded score uses the quarter bands.
    custom = getattr(model, "score_cuts", None) or getattr(model, "tier_thresholds", None)
    if custom:
        return tuple(float(x) for x in custom)
    return tuple(tier_band(t)[0] for t in TIERS[1:])


@dataclass(frozen=True)
class UserLayer:
    name: str
    base_version: str | None
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    a: float = 1.0
    b: float = 0.0
    w: tuple[float, ...] = ()
    buckets: int = 0
    hashed: Mapping[int, float] = field(default_factory=dict)
    info: Mapping[str, Any] = field(default_factory=dict)

    def z(self, score: float, values: Mapping[str, float], text: str) -> float:
        total = self.a * logit(score) + self.b
        for name, w, m, s in zip(self.features, self.w, self.mean, self.scale, strict=True):
            total += w * (float(values.get(name, 0.0)) - m) / s
        if self.buckets and self.hashed:
            get = self.hashed.get
            total += sum(get(h, 0.0) for h in hashed_tokens(text, self.buckets))
        return total

    def score(self, score: float, values: Mapping[str, float], text: str) -> float:
        z = self.z(score, values, text)
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))

    def adjust(self, decision: Decision, values: Mapping[str, float], text: str,
               *, floor: int = 0, model: Any = None) -> Decision:  # fmt: skip
        """``decision`` with its score corrected and its tier read from the new score."""
        new = self.score(decision.score, values, text)
        cuts = _thresholds(model)
        # The base model's score sits in its tier's band, edges included: a score the
        # layer leaves where it was keeps the base tier (a band edge is both tiers' cut).
        moved = abs(new - decision.score) > 1e-9
        rank = max(floor, sum(1 for c in cuts if new >= c) if moved else decision.tier.rank)
        tier = _TIER_BY_RANK[min(rank, len(TIERS) - 1)]
        if moved and rank > sum(1 for c in cuts if new >= c):
            new = max(new, cuts[rank - 1])  # a capability floor lifts the score with the tier
        reason = f"user layer {self.name}: score {decision.score:.2f} -> {new:.2f}"
        if tier is not decision.tier:
            reason += f", {decision.tier.value} -> {tier.value}"
        return dataclasses.replace(
            decision,
            score=new,
            tier=tier,
            reasons=(*decision.reasons, reason),
            model_version=f"{decision.model_version}+{self.name}",
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "format": LAYER_FORMAT,
            "format_version": LAYER_VERSION,
            "name": self.name,
            "base_version": self.base_version,
            "features": list(self.features),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "a": self.a,
            "b": self.b,
            "w": list(self.w),
            "buckets": self.buckets,
            "hashed": {str(k): v for k, v in sorted(self.hashed.items())},
            "info": dict(self.info),
        }

    def save(self, path: str | Path) -> Path:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")
        return target


def _floats(data: Mapping[str, Any], key: str, n: int | None, where: Path) -> tuple[float, ...]:
    raw = data.get(key)
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise ModelArtifactError(f"{where}: {key} must be a list of numbers")
    out = tuple(float(x) for x in raw)
    if n is not None and len(out) != n:
        raise ModelArtifactError(f"{where}: {key} has {len(out)} values, expected {n}")
    if not all(math.isfinite(x) for x in out):
        raise ModelArtifactError(f"{where}: {key} holds a value that is not a finite number")
    return out


def load_layer(path: str | Path) -> UserLayer:
    """Read ``layer.json``; raises :class:`ModelArtifactError` naming the file and the field."""
    where = Path(path)
    try:
        data = json.loads(where.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelArtifactError(f"{where}: cannot read the user layer: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != LAYER_FORMAT:
        raise ModelArtifactError(f"{where}: not a tierrouter user layer (format)")
    if data.get("format_version") != LAYER_VERSION:
        raise ModelArtifactError(
            f"{where}: user layer format_version {data.get('format_version')!r}, "
            f"this router reads {LAYER_VERSION}"
        )
    try:
        features = tuple(str(x) for x in data["features"])
        n = len(features)
        buckets = int(data.get("buckets", 0))
        hashed = {int(k): float(v) for k, v in dict(data.get("hashed", {})).items()}
        a, b = float(data["a"]), float(data["b"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelArtifactError(f"{where}: user layer field missing or invalid: {exc}") from None
    scale = _floats(data, "scale", n, where)
    if any(s <= 0 for s in scale):
        raise ModelArtifactError(f"{where}: scale must be positive")
    if buckets < 0 or any(not 0 <= k < max(buckets, 1) for k in hashed):
        raise ModelArtifactError(f"{where}: hashed bucket outside 0..{buckets - 1}")
    if not (math.isfinite(a) and math.isfinite(b)) or not all(
        math.isfinite(v) for v in hashed.values()
    ):
        raise ModelArtifactError(f"{where}: a coefficient is not a finite number")
    return UserLayer(
        name=str(data.get("name", where.parent.name)),
        base_version=data.get("base_version"),
        features=features,
        mean=_floats(data, "mean", n, where),
        scale=scale,
        a=a,
        b=b,
        w=_floats(data, "w", n, where),
        buckets=buckets,
        hashed=hashed,
        info=dict(data.get("info", {})),
    )


def compatible(layer: UserLayer, model_version: str | None) -> bool:
    """Whether ``layer`` was fitted on the scores of the model with ``model_version``."""
    return layer.base_version is None or layer.base_version == model_version


def tier_of_rank(rank: int) -> Tier:
    return _TIER_BY_RANK[rank]
