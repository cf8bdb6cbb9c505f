"""RouteLLM strong/weak outcomes (GPT-4-1106 vs Mixtral-8x7B) on GSM8K and MMLU — Apache-2.0.

Layout: ``gsm8k/gsm8k_responses.csv`` and ``mmlu/responses/mmlu_<subject>.csv`` with
columns ``prompt``, ``mistralai/Mixtral-8x7B-Instruct-v0.1``, ``gpt-4-1106-preview``
("True"/"False" = answer judged correct), plus ``{gsm8k,mmlu}/contaminated_prompts.jsonl``.
Either half may be missing; at least one must be present.

Use (licence/hold-out rule in the shared README):

* GSM8K rows are always *eval* — GSM8K routing numbers must describe unseen prompts.
* MMLU: subjects in ``EVAL_SUBJECTS`` are *eval*, all others *train*. The fixed list
  (16 of 57 subjects, ~3,000 of 14,042 rows) covers each MMLU area — STEM (high-school
  maths, college physics, astronomy, anatomy, machine learning), logic (formal_logic),
  humanities, social sciences and "other" — so held-out numbers are not one area's.

Contamination: prompts in ``contaminated_prompts.jsonl`` overlapped RouteLLM's own router
training data, and RouteLLM's published numbers exclude them; they are dropped here
(matched on whitespace-normalised ``eval_prompt``) so our numbers stay comparable.

Task: GSM8K -> ``math``. MMLU by subject (``MMLU_TASK``): algebra/mathematics/statistics
and physics subjects -> ``math`` (their questions are calculations), formal_logic and
logical_fallacies -> ``reasoning``, everything else -> ``general`` (knowledge questions;
CS subjects too — they ask about theory, not for code).

Tier from the outcome pair (``_common.tier_from_outcome``): weak right -> SIMPLE, only
strong right -> MEDIUM (today's mid models match GPT-4-1106), both wrong -> COMPLEX, or
REASONING for math/reasoning items. Rows where the strong model is wrong get weight 0.5
(answer-key and answer-extraction noise concentrates there).

Surprise: in ``high_school_mathematics`` GPT-4 is "correct" on 8/270 vs Mixtral 86/270 —
an answer-extraction failure, not difficulty. That subject is eval-only and its rows
keep ``tier=None`` (outcome kept as-is, for comparability with RouteLLM's numbers).

``outcome = {"strong_correct", "weak_correct", "strong_model", "weak_model"}``.
"""

from __future__ import annotations

import json
from pathlib import Path

from training.examples import Example
from training.sources._common import (
    SourceFormatError,
    iter_csv,
    tier_from_outcome,
    weight_from_outcome,
)

NAME = "routellm_outcomes"
USE = "mixed"
STRONG = "gpt-4-1106-preview"
WEAK = "mistralai/Mixtral-8x7B-Instruct-v0.1"

EVAL_SUBJECTS: frozenset[str] = frozenset(
    {
        "high_school_mathematics",
        "college_physics",
        "astronomy",
        "anatomy",
        "machine_learning",
        "formal_logic",
        "high_school_us_history",
        "philosophy",
        "international_law",
        "econometrics",
        "high_school_macroeconomics",
        "sociology",
        "professional_medicine",
        "marketing",
        "global_facts",
        "virology",
    }
)
# Subjects whose strong-model column is broken (see docstring): no tier from them.
UNRELIABLE_OUTCOME: frozenset[str] = frozenset({"high_school_mathematics"})

MMLU_TASK: dict[str, str] = {
    **dict.fromkeys(
        [
            "abstract_algebra",
            "college_mathematics",
            "elementary_mathematics",
            "high_school_mathematics",
            "high_school_statistics",
            "college_physics",
            "high_school_physics",
        ],
        "math",
    ),
    **dict.fromkeys(["formal_logic", "logical_fallacies"], "reasoning"),
}


def _norm(text: str) -> str:
    return " ".join(text.split())


def _contaminated(file: Path) -> set[str]:
    if not file.is_file():
        return set()
    with file.open(encoding="utf-8") as fh:
        return {_norm(json.loads(line)["eval_prompt"]) for line in fh if line.strip()}


def _bool(value: str | None, file: Path, n: int, column: str) -> bool:
    if value in ("True", "true", "1", "1.0"):
        return True
    if value in ("False", "false", "0", "0.0"):
        return False
    raise SourceFormatError(f"{file}:{n}: column {column!r} must be True/False, got {value!r}")


def _load_csv(
    file: Path, *, source: str, task: str, use: str, reliable: bool, drop: set[str]
) -> list[Example]:
    out: list[Example] = []
    for n, row in enumerate(iter_csv(file), 2):  # line 1 is the header
        prompt = row.get("prompt")
        if prompt is None:
            raise SourceFormatError(f"{file}: missing column 'prompt'")
        if _norm(prompt) in drop:
            continue
        strong = _bool(row.get(STRONG), file, n, STRONG)
        weak = _bool(row.get(WEAK), file, n, WEAK)
        out.append(
            Example(
                id=f"{source}/{n - 2}",
                text=prompt,
                messages=None,
                task=task,
                tier=tier_from_outcome(strong, weak, task) if reliable else None,
                language="en",
                source=source,
                use=use,
                group=NAME,
                outcome={
                    "strong_correct": strong,
                    "weak_correct": weak,
                    "strong_model": STRONG,
                    "weak_model": WEAK,
                },
                weight=weight_from_outcome(strong, weak) if reliable else 1.0,
            )
        )
    return out


def load_gsm8k(folder: Path) -> list[Example]:
    file = folder / "gsm8k_responses.csv"
    if not file.is_file():
        return []
    return _load_csv(
        file,
        source=f"{NAME}/gsm8k",
        task="math",
        use="eval",
        reliable=True,
        drop=_contaminated(folder / "contaminated_prompts.jsonl"),
    )


def load_mmlu(folder: Path) -> list[Example]:
    drop = _contaminated(folder / "contaminated_prompts.jsonl")
    out: list[Example] = []
    for file in sorted((folder / "responses").glob("mmlu_*.csv")):
        subject = file.stem.removeprefix("mmlu_")
        out += _load_csv(
            file,
            source=f"{NAME}/mmlu/{subject}",
            task=MMLU_TASK.get(subject, "general"),
            use="eval" if subject in EVAL_SUBJECTS else "train",
            reliable=subject not in UNRELIABLE_OUTCOME,
            drop=drop,
        )
    return out


def load(path: Path) -> list[Example]:
    path = Path(path)
    rows = load_gsm8k(path / "gsm8k") + load_mmlu(path / "mmlu")
    if not rows:
        raise SourceFormatError(
            f"{path}: expected gsm8k/gsm8k_responses.csv or mmlu/responses/mmlu_*.csv"
        )
    return rows
