"""The one record every data loader produces.

Loaders differ wildly in what their sources give (a MATH level, a Mixtral/GPT-4
outcome pair, a category name); they all normalise to :class:`Example` so the
trainer and the evaluation code never see a source's own schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from router.types import TASKS, TIERS

__all__ = ["TASK_NAMES", "TIER_NAMES", "USES", "Example"]

TASK_NAMES: tuple[str, ...] = tuple(t.value for t in TASKS)
TIER_NAMES: tuple[str, ...] = tuple(t.value for t in TIERS)
USES: tuple[str, ...] = ("train", "eval")


@dataclass(frozen=True)
class Example:
    """One labelled prompt.

    ``task``/``tier`` are ``None`` when the source gives no usable signal; the
    trainer skips such rows for that head instead of guessing. ``use`` is the
    licence/hold-out verdict ("train" may be fitted on, "eval" may only be
    measured on); ``group`` names the unit held out together in cross-source
    validation. ``outcome`` carries per-model correctness where a source has it.
    ``also`` and ``hand_labelled`` come from the hand labels in ``data/labels/``
    (``training.sources.labels``).
    """

    id: str
    text: str | None
    messages: list[dict[str, Any]] | None
    task: str | None
    tier: str | None
    language: str
    source: str
    use: str
    group: str
    outcome: dict[str, Any] | None = None
    weight: float = 1.0
    # Other tasks a careful labeller would equally accept (a prompt that fits two):
    # evaluation counts a prediction of any of them as right; training fits ``task``.
    also: tuple[str, ...] = ()
    # Task and tier were written by hand to data/README.md's guide (data/labels/),
    # not mapped from the source's own fields, so training weighs the row like data/.
    hand_labelled: bool = False

    def __post_init__(self) -> None:
        # Fail at construction so a bad mapping in one loader cannot leak
        # mislabelled rows into a training run.
        if (self.text is None) == (self.messages is None):
            raise ValueError(f"{self.id}: exactly one of text/messages must be set")
        if self.task is not None and self.task not in TASK_NAMES:
            raise ValueError(f"{self.id}: unknown task {self.task!r}")
        if self.tier is not None and self.tier not in TIER_NAMES:
            raise ValueError(f"{self.id}: unknown tier {self.tier!r}")
        unknown_also = [t for t in self.also if t not in TASK_NAMES]
        if unknown_also:
            raise ValueError(f"{self.id}: unknown task(s) in also: {unknown_also!r}")
        if self.use not in USES:
            raise ValueError(f"{self.id}: use must be 'train' or 'eval', got {self.use!r}")
        if not self.weight > 0:
            raise ValueError(f"{self.id}: weight must be positive, got {self.weight!r}")

    def prompt_text(self) -> str:
        """The text a router would classify: ``text``, or the user turns joined."""
        if self.text is not None:
            return self.text
        assert self.messages is not None
        return "\n\n".join(
            str(m.get("content", "")) for m in self.messages if m.get("role") == "user"
        )
