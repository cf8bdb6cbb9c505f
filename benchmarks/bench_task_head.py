"""What the task head can reach on real prompts: its settings against the real-prompt bar.

Fits the task head on the bundled model's training rows (``tierrouter train``'s data,
with ``../shared/datasets`` or ``TIERROUTER_DATASETS``) under a few settings and scores
each on the real-prompt instrument of ``tierrouter eval`` (AlpacaEval, ELYZA, MT-Bench-zh
and WizardLM prompts labelled by hand to the guide; a prediction the label lists in
``also`` counts as right). The shipped settings come first; the others change one thing:

* ``C`` (less or more regularisation);
* the weight of rows written to the guide (``project_weight``);
* class weights ``(mean class weight / class weight) ** alpha``: 0 is the shipped head,
  1 is scikit-learn's "balanced"; in between trades the majority class (general, 62 % of
  the instrument) for the minority classes' recall.

Each line: task accuracy, macro and minimum class recall, recall per class, and the paired
bootstrap interval of the accuracy difference against the shipped settings (95 %, 2,000
resamples of the same prompts). Nothing is saved; the bundled model is not touched.
The head is fitted once per setting on every training row, without the selection,
calibration and held-out steps of ``tierrouter train`` (argmax does not need them), so the
first line reproduces the bundled model's real-prompt accuracy.

    TIERROUTER_DATASETS=/path/to/shared/datasets python benchmarks/bench_task_head.py
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from router.cli.evaluate import _load  # noqa: E402
from training import featurize as F  # noqa: E402
from training.config import CLASSES, HeadChoice, TrainConfig  # noqa: E402
from training.dataset import TrainingData, load_training_data  # noqa: E402
from training.estimators import fit_head, proba  # noqa: E402
from training.evaluate import REAL_PROMPT_SETS, _accepted_task  # noqa: E402
from training.examples import Example  # noqa: E402

Weights = Callable[[TrainingData, np.ndarray[Any, Any]], np.ndarray[Any, Any]]
TASKS: Sequence[str] = CLASSES["task"]


@dataclass(frozen=True)
class Setting:
    label: str
    C: float = 1.0
    cfg: TrainConfig = TrainConfig()
    alpha: float = 0.0


# The shipped head: C = 1 without the language one-hot (models/README.md, protocol step 2).
SHIPPED_GROUPS = F.FeatureGroups(languages=False)
SETTINGS = (
    Setting("shipped (C=1, project weight 2)"),
    Setting("C=0.3", C=0.3),
    Setting("C=3", C=3.0),
    Setting("project weight 1", cfg=TrainConfig(project_weight=1.0)),
    Setting("project weight 4", cfg=TrainConfig(project_weight=4.0)),
    Setting("class weight alpha=0.25", alpha=0.25),
    Setting("class weight alpha=0.5", alpha=0.5),
    Setting("class weight alpha=0.75", alpha=0.75),
    Setting("class weight alpha=1 (balanced)", alpha=1.0),
)


def class_weighted(data: TrainingData, w: np.ndarray[Any, Any], alpha: float) -> Any:
    """Row weights times ``(mean class total / class total) ** alpha``."""
    y = data.labels("task")
    totals: Counter[str] = Counter()
    for label, weight in zip(y, w, strict=True):
        if label:
            totals[label] += weight
    mean = sum(totals.values()) / len(totals)
    factor = np.asarray([(mean / totals[label]) ** alpha if label else 1.0 for label in y])
    return w * factor


def fit_and_score(
    setting: Setting,
    train: tuple[list[Example], list[Any]],
    real: tuple[list[Example], list[Any]],
) -> np.ndarray[Any, Any]:
    """Per real prompt, the predicted task (as a string array)."""
    data = TrainingData(train[0], train[1], setting.cfg)
    index = np.arange(len(train[0]))
    layout = data.layout(index)
    X = F.matrix(data.rows(layout), SHIPPED_GROUPS)
    y = data.labels("task")
    w = data.weights()
    if setting.alpha:
        w = class_weighted(data, w, setting.alpha)
    labelled = index[y != ""]
    choice = HeadChoice(setting.C, SHIPPED_GROUPS, False)
    est = fit_head(X[labelled], y[labelled], w[labelled], choice, setting.cfg)
    spec = data.ngram_spec()
    block = F.hash_ngrams(real[1], spec) if spec is not None else None
    Xr = F.matrix(F.Rows.build(real[1], layout, block), SHIPPED_GROUPS)
    return np.asarray(TASKS)[proba(est, Xr, "task").argmax(axis=1)]


def report(
    label: str, rows: Sequence[Example], predicted: np.ndarray[Any, Any]
) -> np.ndarray[Any, Any]:
    gold = [_accepted_task(ex, p) for ex, p in zip(rows, predicted, strict=True)]
    right = np.asarray([g == p for g, p in zip(gold, predicted, strict=True)], dtype=float)
    recall = {}
    for task in TASKS:
        mine = [i for i, g in enumerate(gold) if g == task]
        if mine:
            recall[task] = float(right[mine].mean())
    per_class = " ".join(f"{t[:5]} {r:.2f}" for t, r in recall.items())
    print(
        f"{label:34s} acc {right.mean():.3f}  macro {np.mean(list(recall.values())):.3f}  "
        f"min {min(recall.values()):.2f}  | {per_class}",
        flush=True,
    )
    return right


def paired_interval(base: np.ndarray[Any, Any], other: np.ndarray[Any, Any], n: int = 2000) -> str:
    rng = np.random.default_rng(0)
    diffs = []
    for _ in range(n):
        idx = rng.integers(0, len(base), len(base))
        diffs.append(other[idx].mean() - base[idx].mean())
    lo, hi = np.quantile(diffs, [0.025, 0.975])
    return f"{other.mean() - base.mean():+.3f} [{lo:+.3f}, {hi:+.3f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--only", default="", help="comma-separated substrings of the settings to run"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    try:
        examples, _ = load_training_data()
    except FileNotFoundError as exc:
        # The bundled model's rows need every public train set, as `tierrouter train` does.
        sys.exit(
            f"{exc}\nthis benchmark refits on the bundled model's training rows: point "
            "TIERROUTER_DATASETS at ../shared/datasets (or run `tierrouter datasets fetch --all`)"
        )
    extractor = F.default_extractor()
    train = (examples, F.extract(examples, extractor))
    rows, _, _, _ = _load(None, False)
    real_rows = [ex for ex in rows if ex.source.split("/")[0] in REAL_PROMPT_SETS]
    if not real_rows:
        sys.exit("no real-prompt eval set found: point TIERROUTER_DATASETS at ../shared/datasets")
    real = (real_rows, F.extract(real_rows, extractor))
    print(
        f"{len(examples)} training rows, {len(real_rows)} real prompts "
        f"({time.perf_counter() - started:.0f} s to read)",
        flush=True,
    )
    wanted = [s for s in args.only.split(",") if s]
    results: dict[str, np.ndarray[Any, Any]] = {}
    for setting in SETTINGS:
        if wanted and setting is not SETTINGS[0] and not any(w in setting.label for w in wanted):
            continue
        results[setting.label] = report(
            setting.label, real_rows, fit_and_score(setting, train, real)
        )
    base = results.pop(SETTINGS[0].label)
    print("\naccuracy against the shipped settings (paired bootstrap, 95 %):")
    for label, right in results.items():
        print(f"  {label:34s} {paired_interval(base, right)}")


if __name__ == "__main__":
    main()
