"""Champion vs challenger on the user's held-out calls: APGR with a paired bootstrap.

Both models score the same held-out logged prompts; each prompt's outcome target
(:mod:`training.outcomes`) says whether a cheap model fell short on it. Routing the
highest-scoring prompts to the strong model and sweeping the share gives RouteLLM's
APGR and CPT(50 %) (:mod:`training.metrics`) with the strong model counted as
sufficing everywhere (the log only knows about the cheap side).

The rule, in order:

1. **broken** (``guard``): a challenger whose task accuracy on a sample of bundled rows
   falls more than ``max_task_drop`` below the champion's, or whose scores are not
   finite numbers in [0, 1], is refused whatever the logs say. This is a sanity check
   for broken models, not a veto on fitting the user's traffic: it never looks at tiers.
2. **better**: with at least ``min_rows`` held-out calls holding both outcomes, the
   challenger is promoted when the lower end of the 95 % paired-bootstrap interval of
   APGR(challenger) - APGR(champion) is above 0. Resampling the same calls for both
   models is what makes the interval tight enough to act on a few hundred calls.
3. **no outcomes**: held-out calls whose signals are all one way (say, only
   ``cheaper_ok``) give no APGR; then weighted tier accuracy on the held-out rows
   decides, as before this rule existed, and the reason says so.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from training.metrics import routing_curve

__all__ = ["Comparison", "compare", "held_out", "routing_numbers"]

FloatArray = npt.NDArray[np.float64]


def held_out(key: str, share: float, seed: int) -> bool:
    """Whether a row (by id) is held out: a seeded hash, stable as the log grows.

    The same hash as :func:`training.log_labels.split`, so a full retrain and a user
    layer hold out the same calls.
    """
    h = int.from_bytes(hashlib.sha256(f"{seed}:{key}".encode()).digest()[:8], "big") / 2**64
    return h < share


def routing_numbers(score: FloatArray, fell_short: FloatArray) -> tuple[float, float]:
    """(APGR, CPT(50 %)) of a score on calls whose cheap model fell short (1) or not (0)."""
    weak = 1.0 - fell_short
    share, quality = routing_curve(score, np.ones_like(weak), weak)
    q_weak = float(weak.mean())
    gap = 1.0 - q_weak
    if gap <= 0:
        return float("nan"), float("nan")
    pgr = (quality - q_weak) / gap
    reached = np.nonzero(pgr >= 0.5 - 1e-12)[0]
    return float(np.trapezoid(pgr, share)), float(share[reached[0]])


@dataclass(frozen=True)
class Comparison:
    rows: int
    fell_short: int
    champion_apgr: float
    challenger_apgr: float
    champion_cpt50: float
    challenger_cpt50: float
    apgr_gain: float
    ci_low: float
    ci_high: float
    cpt50_gain: float  # champion's CPT minus the challenger's: > 0 = the challenger is cheaper
    resamples: int
    level: float

    @property
    def better(self) -> bool:
        return self.ci_low > 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def words(self) -> str:
        pct = round(self.level * 100)
        return (
            f"APGR {self.challenger_apgr:.3f} vs {self.champion_apgr:.3f} "
            f"({self.apgr_gain:+.3f}, {pct}% CI {self.ci_low:+.3f}..{self.ci_high:+.3f}) "
            f"and CPT(50%) {self.challenger_cpt50:.2f} vs {self.champion_cpt50:.2f} "
            f"on {self.rows} held-out calls ({self.fell_short} where the cheap model fell short)"
        )


def compare(
    champion: npt.ArrayLike,
    challenger: npt.ArrayLike,
    fell_short: npt.ArrayLike,
    *,
    resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> Comparison | None:
    """Paired bootstrap of the APGR gain; None when the calls do not hold both outcomes."""
    a = np.asarray(champion, dtype=np.float64)
    b = np.asarray(challenger, dtype=np.float64)
    y = np.asarray(fell_short, dtype=np.float64)
    if len(y) == 0 or y.min() == y.max():
        return None
    a_apgr, a_cpt = routing_numbers(a, y)
    b_apgr, b_cpt = routing_numbers(b, y)
    rng = np.random.default_rng(seed)
    gains: list[float] = []
    for _ in range(resamples):
        idx = rng.integers(0, len(y), len(y))
        yy = y[idx]
        if yy.min() == yy.max():
            continue  # no gap to recover in this resample
        gains.append(routing_numbers(b[idx], yy)[0] - routing_numbers(a[idx], yy)[0])
    tail = (1.0 - level) / 2
    lo, hi = np.quantile(gains, [tail, 1.0 - tail]) if gains else (np.nan, np.nan)
    return Comparison(
        rows=len(y),
        fell_short=int(y.sum()),
        champion_apgr=a_apgr,
        challenger_apgr=b_apgr,
        champion_cpt50=a_cpt,
        challenger_cpt50=b_cpt,
        apgr_gain=b_apgr - a_apgr,
        ci_low=float(lo),
        ci_high=float(hi),
        cpt50_gain=a_cpt - b_cpt,
        resamples=len(gains),
        level=level,
    )


def scores_valid(scores: npt.ArrayLike) -> bool:
    s = np.asarray(scores, dtype=np.float64)
    return bool(np.all(np.isfinite(s)) and np.all((s >= 0) & (s <= 1)))


@dataclass(frozen=True)
class Verdict:
    promoted: bool
    reason: str
    rule: str  # "forced", "broken", "apgr", "tier accuracy", "too few"


def decide(
    comparison: Comparison | None,
    *,
    outcome_rows: int,
    min_rows: int,
    guard: dict[str, Any] | None,
    max_task_drop: float,
    challenger_scores_valid: bool,
    tier: tuple[float | None, float | None, int] = (None, None, 0),
    force: bool = False,
) -> Verdict:
    """Apply the module's rule; ``tier`` = (challenger, champion, rows) tier accuracy."""
    if force:
        return Verdict(True, "forced (--force): promoted without comparing", "forced")
    if not challenger_scores_valid:
        return Verdict(False, "refused as broken: its scores are not numbers in [0, 1]", "broken")
    if guard and guard.get("challenger") is not None and guard.get("champion") is not None:
        drop = guard["champion"] - guard["challenger"]
        if drop > max_task_drop:
            return Verdict(
                False,
                f"refused as broken: task accuracy on {guard['rows']} bundled rows fell from "
                f"{guard['champion']:.3f} to {guard['challenger']:.3f} (more than "
                f"{max_task_drop:g}), whatever it does on your calls",
                "broken",
            )
    if comparison is not None and comparison.rows >= min_rows:
        if comparison.better:
            return Verdict(
                True, f"promoted: better on your held-out calls, {comparison.words()}", "apgr"
            )
        return Verdict(
            False,
            "not promoted: not clearly better on your held-out calls (the interval must be "
            f"above 0), {comparison.words()}",
            "apgr",
        )
    c_tier, k_tier, n_tier = tier
    few = (
        f"{outcome_rows} held-out calls with outcomes"
        + (" (all one way)" if comparison is None and outcome_rows else "")
        + f", need {min_rows} with both outcomes"
    )
    if c_tier is not None and k_tier is not None and n_tier:
        if c_tier > k_tier:
            return Verdict(
                True,
                f"promoted: {few}, so tier accuracy decided: {c_tier:.3f} > {k_tier:.3f} "
                f"on {n_tier} held-out rows",
                "tier accuracy",
            )
        return Verdict(
            False,
            f"not promoted: {few}, so tier accuracy decided: {c_tier:.3f} <= {k_tier:.3f} "
            f"on {n_tier} held-out rows",
            "tier accuracy",
        )
    return Verdict(False, f"not promoted: too little evidence ({few})", "too few")
