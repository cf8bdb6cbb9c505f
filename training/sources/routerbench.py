"""RouterBench slice: ARC-C, MBPP, Winogrande x 11 models, correctness + $ cost — *eval*.

Licence: unverified (RouterDC ships no licence file).

Reads every ``*.csv`` in the folder (shared copy:
``{arc_challenge,mbpp,winograde}_{train,test}.csv``).
Columns: ``sample_id``, ``prompt`` (a stringified Python list), ``eval_name``, one
correctness column (0.0/1.0) per model, ``<model>|total_cost`` (USD per call), and
``<model>|model_response`` (ignored). The upstream train/test split is RouterDC's; for
us both halves are eval, so ``source`` keeps it (``routerbench/<file stem>``).

Prompt: the list is parsed with ``ast.literal_eval``; ARC and Winogrande prompts carry
their few-shot examples. They are kept verbatim — the outcomes were measured on exactly
that text. The 6 two-element ARC prompts become user-only ``messages``.

Task from ``eval_name``: mbpp -> coding; arc-challenge (grade-school science questions)
-> general; winogrande -> general. Winogrande items are one-sentence fill-in-the-blank
choices between two people or things by everyday common sense ("... so _ always got the
harder cases. A) Maria B) Sarah", answered with a letter "without explanation"). The
guide's ``reasoning`` is logic puzzles, riddles, planning and chains of deduction; its
``general`` is factual and everyday-knowledge questions, and the project already maps
every other commonsense multiple-choice set there (Vicuna's common-sense category,
Natural Instructions' X-CSR, MT-Bench-zh's 常识类). Until issue 14 this loader said
``reasoning``; the change follows the guide, and it raises the model's reported
RouterBench task accuracy (the model calls these ``general``), which the model card says.

Outcome: ``{"models": {name: {"correct": float, "cost": float}}}``; a model with an
empty correctness cell (a few ARC rows) is left out of that row's dict.

Tier: the RouteLLM strong/weak rule (``_common.tier_from_outcome``) with strong =
gpt-4-1106-preview and weak = mixtral-8x7b-chat, the same pair as ``routellm_outcomes``,
so tiers mean the same thing across outcome sources. Weight 0.5 where GPT-4 is wrong.
Rows missing either model's verdict keep ``tier=None``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from training.examples import Example
from training.sources._common import (
    SourceFormatError,
    iter_csv,
    tier_from_outcome,
    turns_to_prompt,
    weight_from_outcome,
)

NAME = "routerbench"
USE = "eval"
STRONG = "gpt-4-1106-preview"
WEAK = "mistralai/mixtral-8x7b-chat"
EVAL_TASK = {"mbpp": "coding", "winogrande": "general", "arc-challenge": "general"}
_COST = "|total_cost"


def _models(header: list[str]) -> list[str]:
    return [c.removesuffix(_COST) for c in header if c.endswith(_COST)]


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def _outcome(row: dict[str, str], models: list[str]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for model in models:
        correct = _float(row.get(model))
        if correct is not None:
            out[model] = {"correct": correct, "cost": _float(row.get(model + _COST)) or 0.0}
    return out


def _prompt(raw: str, file: Path, n: int) -> list[str]:
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError) as exc:
        raise SourceFormatError(f"{file}:{n}: 'prompt' is not a Python list literal") from exc
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _load_file(file: Path) -> list[Example]:
    rows = list(iter_csv(file))
    if rows and ("prompt" not in rows[0] or "eval_name" not in rows[0]):
        raise SourceFormatError(f"{file}: missing column 'prompt' or 'eval_name'")
    models = _models(list(rows[0])) if rows else []
    out = []
    for i, row in enumerate(rows):
        task = EVAL_TASK.get(row["eval_name"])
        outcome = _outcome(row, models)
        text, messages = turns_to_prompt(_prompt(row["prompt"], file, i + 2))
        known = STRONG in outcome and WEAK in outcome
        strong = known and outcome[STRONG]["correct"] >= 0.5
        weak = known and outcome[WEAK]["correct"] >= 0.5
        out.append(
            Example(
                id=f"{NAME}/{file.stem}/{i}",
                text=text,
                messages=messages,
                task=task,
                tier=tier_from_outcome(strong, weak, task) if known else None,
                language="en",
                source=f"{NAME}/{file.stem}",
                use=USE,
                group=NAME,
                outcome={"models": outcome},
                weight=weight_from_outcome(strong, weak) if known else 1.0,
            )
        )
    return out


def load(path: Path) -> list[Example]:
    files = sorted(Path(path).glob("*.csv"))
    if not files:
        raise SourceFormatError(f"{path}: expected RouterBench *.csv files in this folder")
    return [ex for file in files for ex in _load_file(file)]
