"""Loaders for the public benchmark sets and the project's own labelled data.

Each public set has one module with ``load(path) -> list[Example]`` that reads the
set's layout from any folder; :data:`SOURCES` records, per set, the loader, the
folder name in the shared layout, the licence and its *use*. The licence rule lives in
``use``: only "train" rows may be fitted on (the bundled model ships), "eval" rows may
only be measured on. ``routellm_outcomes`` is "mixed": its rows carry their own ``use``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from training.examples import Example
from training.sources import (
    alpaca_eval,
    arena_bench_v1_outcomes,
    arena_hard,
    elyza_outcomes,
    gsm8k,
    humaneval,
    math_hendrycks,
    mbppplus,
    mgsm,
    mifeval_outcomes,
    mmlu_pro_outcomes,
    mtbench_zh,
    natural_instructions,
    routellm_outcomes,
    routerbench,
    self_instruct,
    vicuna_bench,
    wizardlm,
    zeroeval_outcomes,
)
from training.sources import labels as hand_labels
from training.sources.location import ENV_VAR, locate

__all__ = [
    "ENV_VAR",
    "SOURCES",
    "SourceSpec",
    "default_shared_root",
    "load_all",
    "load_available",
    "load_source",
]


@dataclass(frozen=True)
class SourceSpec:
    name: str
    loader: Callable[[Path], list[Example]]
    folder: str
    use: str  # "train", "eval" or "mixed" (rows decide)
    licence: str
    # Optional folders the loader joins in when present (their absence loses outcomes).
    companions: tuple[str, ...] = ()


SOURCES: dict[str, SourceSpec] = {
    spec.name: spec
    for spec in (
        SourceSpec("math_hendrycks", math_hendrycks.load, "math_hendrycks", "train", "MIT"),
        SourceSpec("humaneval", humaneval.load, "humaneval", "train", "MIT"),
        SourceSpec(
            "self_instruct",
            self_instruct.load,
            "self_instruct_user_oriented",
            "train",
            "Apache-2.0",
        ),
        SourceSpec("vicuna_bench", vicuna_bench.load, "vicuna_bench", "train", "Apache-2.0"),
        SourceSpec(
            "arena_hard",
            arena_hard.load,
            "arena_hard_proto_2023",
            "train",
            "Apache-2.0 (repo); Arena prompts CC-BY",
        ),
        SourceSpec(
            "routellm_outcomes", routellm_outcomes.load, "routellm_outcomes", "mixed", "Apache-2.0"
        ),
        SourceSpec(
            "mifeval_outcomes",
            mifeval_outcomes.load,
            "mifeval_outcomes",
            "train",
            "Apache-2.0 (en prompts: IFEval, data licence not checked separately)",
        ),
        SourceSpec(
            "zeroeval_outcomes",
            zeroeval_outcomes.load,
            "zeroeval_outcomes",
            "train",
            "Apache-2.0 (repo); CRUXEval, MATH MIT",
        ),
        SourceSpec(
            "arena_bench_v1_outcomes",
            arena_bench_v1_outcomes.load,
            "arena_bench_v1_outcomes",
            "train",
            "Apache-2.0 (repo); Arena prompts, same basis as arena_hard",
        ),
        SourceSpec(
            "mmlu_pro_outcomes",
            mmlu_pro_outcomes.load,
            "mmlu_pro_outcomes",
            "train",
            "Apache-2.0 (repo); questions MIT (HF card)",
        ),
        SourceSpec("gsm8k", gsm8k.load, "gsm8k_test", "eval", "MIT (eval by project rule)"),
        SourceSpec("mgsm", mgsm.load, "mgsm", "eval", "CC-BY-4.0 (GSM8K items: eval)"),
        SourceSpec(
            "natural_instructions",
            natural_instructions.load,
            "natural_instructions_sample",
            "eval",
            "unverified",
        ),
        SourceSpec("mtbench_zh", mtbench_zh.load, "mtbench_zh_ziya", "eval", "unverified"),
        SourceSpec("wizardlm", wizardlm.load, "wizardlm_testset", "eval", "CC-BY-NC-4.0"),
        SourceSpec(
            "alpaca_eval",
            alpaca_eval.load,
            "alpaca_eval_805",
            "eval",
            "CC-BY-NC-4.0",
            companions=("alpaca_eval_matrix",),
        ),
        SourceSpec("mbppplus", mbppplus.load, "mbppplus", "eval", "CC-BY-NC-4.0 (as shipped)"),
        SourceSpec(
            "routerbench",
            routerbench.load,
            "routerbench_subset",
            "eval",
            "unverified (no licence file)",
        ),
        SourceSpec(
            "elyza_outcomes",
            elyza_outcomes.load,
            "elyza_outcomes",
            "eval",
            "CC-BY-SA-4.0 (share-alike: eval only)",
        ),
    )
}


def default_shared_root() -> Path:
    """The datasets folder :func:`training.sources.location.locate` picks; it must exist."""
    where = locate()
    if not where.exists:
        raise FileNotFoundError(where.not_found())
    return where.root


def load_source(name: str, root: Path | str | None = None) -> list[Example]:
    """Load one registered set from ``root`` (default: :func:`default_shared_root`)."""
    if name not in SOURCES:
        raise KeyError(f"unknown source {name!r}; known: {', '.join(SOURCES)}")
    spec = SOURCES[name]
    folder = Path(root) if root is not None else default_shared_root()
    path = folder / spec.folder
    if not path.is_dir():
        raise FileNotFoundError(f"{name}: folder not found: {path} (root from {ENV_VAR}?)")
    return spec.loader(path)


def _labelled(name: str, rows: list[Example], table: hand_labels.Labels | None) -> list[Example]:
    if table is None:
        return rows
    spec = SOURCES[name]
    return hand_labels.join(name, spec.folder, spec.use, rows, table)


def load_all(
    root: Path | str | None = None, use: str | None = None, *, labels: bool = True
) -> list[Example]:
    """Every registered set; with ``use`` only rows of that use (``"train"`` or ``"eval"``).

    Sets whose declared use cannot contribute are not even read, so
    ``load_all(use="train")`` never touches the eval-only files. With ``labels`` (the
    default) the hand labels of ``data/labels/`` are joined on (``training.sources.labels``);
    :func:`load_source` gives the loader's own mapping.
    """
    if use not in (None, "train", "eval"):
        raise ValueError(f"use must be None, 'train' or 'eval', got {use!r}")
    folder = Path(root) if root is not None else default_shared_root()
    table = hand_labels.read_labels() if labels else None
    out: list[Example] = []
    for name, spec in SOURCES.items():
        if use is not None and spec.use not in (use, "mixed"):
            continue
        rows = _labelled(name, load_source(name, folder), table)
        out += [ex for ex in rows if use is None or ex.use == use]
    return out


def load_available(
    root: Path | str | None = None, use: str | None = None, *, labels: bool = True
) -> tuple[list[Example], dict[str, str]]:
    """Like :func:`load_all`, but absent sets are skipped and named instead of failing.

    Returns the rows and ``{folder: why}`` for every registered folder (or companion
    folder, such as the AlpacaEval outcome matrix) that is not there, so a report can
    say what it could not measure. A folder that is present but malformed still raises.
    """
    if use not in (None, "train", "eval"):
        raise ValueError(f"use must be None, 'train' or 'eval', got {use!r}")
    folder = Path(root) if root is not None else default_shared_root()
    table = hand_labels.read_labels() if labels else None
    out: list[Example] = []
    missing: dict[str, str] = {}
    for name, spec in SOURCES.items():
        if use is not None and spec.use not in (use, "mixed"):
            continue
        if not (folder / spec.folder).is_dir():
            missing[spec.folder] = f"folder not found: {folder / spec.folder} ({name} not measured)"
            continue
        for companion in spec.companions:
            if not (folder / companion).is_dir():
                missing[companion] = (
                    f"folder not found: {folder / companion} ({name} has no outcomes)"
                )
        rows = _labelled(name, load_source(name, folder), table)
        out += [ex for ex in rows if use is None or ex.use == use]
    return out, missing
