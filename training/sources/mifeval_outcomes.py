"""M-IFEval: strict pass/fail of 17 models on verifiable instructions (en, es, fr, ja) — *train*.

Licence: Apache-2.0 (repo); the es/fr/ja prompts are M-IFEval's own, the en prompts are
Google's IFEval set (its data licence was not checked separately; SOURCE.md).

Reads ``mifeval_outcomes.jsonl``: ``{id, lang, key, prompt, instruction_id_list,
strict: {model: bool}, loose: {model: bool}}``, one row per prompt.

Outcome: the **strict** verdict (every instruction of the prompt followed, checked
literally), the source's headline prompt-level metric; ``loose`` forgives formatting
slips (a trailing markdown marker, a first/last line) that a user would still see.
Pair, as SOURCE.md's own example: weak = ``gpt-4o-mini-2024-07-18`` (the guide's
SIMPLE class), strong = ``gpt-4o-2024-08-06`` (same family). ``outcome["models"]`` keeps
all 17 strict verdicts. Tier from the pair (``_common.tier_from_outcome``): mini passes
-> SIMPLE, only 4o passes -> MEDIUM, neither -> COMPLEX (these are writing tasks with
constraints, not deduction, so never REASONING); weight 0.5 where 4o fails (the checkers
are rule-based and grade the constraint, not the answer).

Task: ``None``. The source labels the *constraints* (``punctuation:no_comma``,
``length_constraints:number_words``), not the task, and the prompts mix essays, letters,
poems, summaries of pages the model must recall, and rewrites. The keyword guess would
follow English words only and call "Write a 300+ word summary of the wikipedia page …"
summarization, which the guide reserves for condensing *given* text. Task labels for
these prompts come from hand labelling to the guide (issue 14), joined on ``source_id``.

Language: the row's ``lang`` (a prompt asking for an answer in another language keeps
the language the user wrote in, as the guide says).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from training.examples import Example
from training.sources._common import (
    SourceFormatError,
    field,
    pair_outcome,
    read_jsonl,
    require_file,
    tier_from_outcome,
    weight_from_outcome,
)

NAME = "mifeval_outcomes"
USE = "train"
FILE = "mifeval_outcomes.jsonl"
STRONG = "gpt-4o-2024-08-06"
WEAK = "gpt-4o-mini-2024-07-18"
VERDICT = "strict"
LANGUAGES = frozenset({"en", "es", "fr", "ja"})


def _row(row: dict[str, Any], file: Path, n: int) -> Example:
    lang = str(field(row, "lang", file, n))
    if lang not in LANGUAGES:
        raise SourceFormatError(f"{file}:{n}: field 'lang' must be one of en, es, fr, ja")
    verdicts = field(row, VERDICT, file, n)
    if not isinstance(verdicts, dict):
        raise SourceFormatError(f"{file}:{n}: field {VERDICT!r} must be an object")
    outcome = pair_outcome(verdicts, STRONG, WEAK)
    strong = bool(outcome and outcome["strong_correct"])
    weak = bool(outcome and outcome["weak_correct"])
    return Example(
        id=f"{NAME}/{field(row, 'id', file, n)}",
        text=str(field(row, "prompt", file, n)),
        messages=None,
        task=None,
        tier=tier_from_outcome(strong, weak, None) if outcome else None,
        language=lang,
        source=f"{NAME}/{lang}",
        use=USE,
        group=NAME,
        outcome=outcome,
        weight=weight_from_outcome(strong, weak) if outcome else 1.0,
    )


def load(path: Path) -> list[Example]:
    file = require_file(Path(path), FILE)
    return [_row(row, file, n) for n, row in enumerate(read_jsonl(file), 1)]
