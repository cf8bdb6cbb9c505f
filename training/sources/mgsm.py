"""MGSM: 250 GSM8K test problems in 11 languages — *eval only* (CC-BY-4.0; GSM8K items).

Reads ``mgsm_<lang>.tsv`` (no header; ``question<TAB>numeric answer``), language from the
file name (bn de en es fr ja ru sw te th zh). Any subset of languages is accepted.

Task: ``math`` (provenance) — useful for checking math detection across languages.

Tier: inherited from GSM8K's solution-step proxy (see ``gsm8k``). Line *i* of every
language file is the same problem; ``mgsm_en.tsv`` line *i* is matched verbatim to a
GSM8K question, whose step count gives the tier. The GSM8K file is looked up at
``<path>/../gsm8k_test/test.jsonl`` (the shared layout) or passed as ``gsm8k=``;
without it, or for an item that does not match, ``tier=None``.

Leakage: parallel items share an index; ``id`` = ``mgsm/<index>/<lang>`` so splits can be
made by item index. Group is ``mgsm`` (and all of it is eval anyway).
"""

from __future__ import annotations

import csv
from pathlib import Path

from training.examples import Example
from training.sources import gsm8k as gsm8k_source
from training.sources._common import SourceFormatError

NAME = "mgsm"
USE = "eval"


def _read_tsv(file: Path) -> list[str]:
    with file.open(encoding="utf-8", newline="") as fh:
        # MGSM questions contain quote characters; the file does not use CSV quoting.
        return [row[0] for row in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE) if row]


def _tiers_by_index(folder: Path, gsm8k: Path | None) -> dict[int, str]:
    english = folder / "mgsm_en.tsv"
    gsm_dir = gsm8k if gsm8k is not None else folder.parent / "gsm8k_test"
    if not english.is_file() or not (gsm_dir / "test.jsonl").is_file():
        return {}
    steps = {
        " ".join(str(r["question"]).split()): gsm8k_source.solution_steps(str(r["answer"]))
        for r in gsm8k_source.read(gsm_dir)
    }
    out: dict[int, str] = {}
    for i, question in enumerate(_read_tsv(english)):
        n = steps.get(" ".join(question.split()))
        if n is not None:
            out[i] = gsm8k_source.tier_from_steps(n)
    return out


def load(path: Path, *, gsm8k: Path | None = None) -> list[Example]:
    folder = Path(path)
    files = sorted(folder.glob("mgsm_*.tsv"))
    if not files:
        raise SourceFormatError(f"{folder}: expected mgsm_<lang>.tsv files in this folder")
    tiers = _tiers_by_index(folder, gsm8k)
    out: list[Example] = []
    for file in files:
        lang = file.stem.removeprefix("mgsm_")
        out += [
            Example(
                id=f"{NAME}/{i}/{lang}",
                text=question,
                messages=None,
                task="math",
                tier=tiers.get(i),
                language=lang,
                source=f"{NAME}/{lang}",
                use=USE,
                group=NAME,
            )
            for i, question in enumerate(_read_tsv(file))
        ]
    return out
