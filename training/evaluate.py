"""The evaluation harness: classification quality and routing cost-quality, one report.

Measured only on rows the shipped model never fits on: the *eval* sets of
``training.sources`` (or user files given with ``--data``), plus the held-out-source
numbers that training recorded in the artifact. Four deciders are compared:

* ``model``: ``Router(model=<artifact>)``, i.e. exactly what users get (low-confidence
  policy and capability floors included);
* ``rules``: ``Router(model=False)``;
* ``length``: the estimated token count alone (longer -> stronger model);
* ``random``: a seeded uniform score (its expectation is the diagonal, APGR 0.5).

Task accuracy accepts every task a hand label lists (``Example.also``: a prompt that
fits two), scored against the one predicted; per-class recall follows from that.

Routing follows RouteLLM: on each outcome set the strong-model share is swept over
``Decision.score``; references are weak-only, strong-only and the oracle (the strong
model exactly where it is right and the weak one wrong). Every outcome set present is
routed, each on its own cheap/frontier pair (``training.sources``): the *eval* sets are
held-out numbers; outcome sets the model trained on (passed as ``seen``) are routed too
but marked ``seen_in_training`` and never mixed into the held-out tables.

Output (terminal tables, Markdown, JSON, PNG) lives in ``training.eval_report``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from training.examples import TASK_NAMES, TIER_NAMES, Example
from training.metrics import classification_report, routing_summary

__all__ = ["OUTCOME_SET_ORDER", "evaluate", "outcome_set", "write_report"]

DECIDERS = ("model", "rules", "length", "random")
# Display order of the outcome sets; any other set follows in name order. GSM8K and the
# MMLU eval subjects are RouteLLM's; "mmlu_train" is its 41 train subjects.
OUTCOME_SET_ORDER = (
    "gsm8k",
    "mmlu",
    "mmlu_reliable",
    "routerbench",
    "alpaca_eval",
    "elyza",
    "mmlu_train",
    "mmlu_pro",
    "mifeval",
    "zeroeval_crux",
    "zeroeval_math_l5",
    "arena_bench_v1",
)
_SHORT = {
    "arena_bench_v1_outcomes": "arena_bench_v1",
    "elyza_outcomes": "elyza",
    "mifeval_outcomes": "mifeval",
    "mmlu_pro_outcomes": "mmlu_pro",
}
# Extra views of a set: MMLU without the subject whose GPT-4 column is an
# answer-extraction failure (see routellm_outcomes), which keeps tier=None.
VIEWS: dict[str, tuple[str, Callable[[Example], bool]]] = {
    "mmlu_reliable": ("mmlu", lambda ex: ex.tier is not None),
}
# Eval sets of real user prompts whose tasks were labelled by hand to the guide
# (data/labels/eval/ and the loaders' per-item tables): the issue's classification bar
# (task accuracy >= 0.85, every class recall >= 0.70) is measured on these together.
REAL_PROMPT_SETS = frozenset({"alpaca_eval", "elyza_outcomes", "mtbench_zh", "wizardlm"})
ROUTERBENCH_PAIR = ("gpt-4-1106-preview", "mistralai/mixtral-8x7b-chat")
# Tier -> RouterBench model for the multi-model view: a cheap open model, a mid
# closed model, and the frontier model of 2023 for both upper tiers.
ROUTERBENCH_LADDER = {
    "SIMPLE": "mistralai/mixtral-8x7b-chat",
    "MEDIUM": "gpt-3.5-turbo-1106",
    "COMPLEX": "gpt-4-1106-preview",
    "REASONING": "gpt-4-1106-preview",
}


@dataclass
class Decided:
    """What one decider said about every row."""

    task: list[str]
    tier: list[str]
    tier_confidence: list[float]
    score: np.ndarray[Any, Any]
    source: list[str]


def _decide(router: Any, rows: Sequence[Example]) -> Decided:
    task, tier, conf, score, source = [], [], [], [], []
    for ex in rows:
        d = router.classify(ex.messages if ex.messages is not None else ex.text)
        task.append(d.task.value)
        tier.append(d.tier.value)
        conf.append(max(d.tier_probabilities.values()))
        score.append(d.score)
        source.append(d.source)
    return Decided(task, tier, conf, np.asarray(score), source)


def _strong_weak(ex: Example) -> tuple[float, float] | None:
    out = ex.outcome or {}
    if "strong_correct" in out:
        return float(out["strong_correct"]), float(out["weak_correct"])
    models = out.get("models", {})
    strong, weak = ROUTERBENCH_PAIR
    if strong in models and weak in models:
        return float(models[strong]["correct"]), float(models[weak]["correct"])
    return None


def _pair(ex: Example) -> dict[str, str]:
    out = ex.outcome or {}
    if "strong_model" in out:
        return {"strong": str(out["strong_model"]), "weak": str(out["weak_model"])}
    return {"strong": ROUTERBENCH_PAIR[0], "weak": ROUTERBENCH_PAIR[1]}


def outcome_set(ex: Example) -> str | None:
    """The outcome set a row is routed in, or ``None`` for rows without a pair outcome."""
    if _strong_weak(ex) is None:
        return None
    parts = ex.source.split("/")
    if parts[0] == "routellm_outcomes":
        if parts[1:2] == ["gsm8k"]:
            return "gsm8k"
        return "mmlu" if ex.use == "eval" else "mmlu_train"
    if parts[0] == "zeroeval_outcomes" and len(parts) > 1:
        return f"zeroeval_{parts[1]}"
    return _SHORT.get(parts[0], parts[0])


def _set_order(name: str) -> tuple[int, str]:
    return (OUTCOME_SET_ORDER.index(name), "") if name in OUTCOME_SET_ORDER else (99, name)


RANDOM_DRAWS = 100


def _random_band(
    strong: np.ndarray[Any, Any], weak: np.ndarray[Any, Any], seed: int
) -> list[float]:
    """5th and 95th percentile of APGR over seeded random scores: what chance alone reaches.

    One seeded draw (the ``random`` decider) is a single sample; on a 100-prompt set it
    lands anywhere from about 0.4 to 0.6, so a decider "above random" must clear this
    band, not that draw.
    """
    rng = np.random.default_rng(seed)
    draws = [
        routing_summary(rng.random(len(strong)), strong, weak)["apgr"] for _ in range(RANDOM_DRAWS)
    ]
    return [float(np.percentile(draws, 5)), float(np.percentile(draws, 95))]


def _routing(
    rows: Sequence[Example],
    scores: dict[str, np.ndarray[Any, Any]],
    n_eval: int,
    trained_on: frozenset[str] = frozenset(),
    seed: int = 0,
) -> dict[str, Any]:
    """One entry per outcome set present; rows at index >= ``n_eval`` were seen in training.

    ``in_model_training`` says whether the evaluated model's manifest lists the set, or
    the set whose prompts it repeats (its ``group``): a *train* set the model has not
    fitted yet is still not a held-out set, but its numbers mean something else.
    """
    members: dict[str, list[int]] = {}
    for i, ex in enumerate(rows):
        name = outcome_set(ex)
        if name is not None:
            members.setdefault(name, []).append(i)
    for view, (base, keep) in VIEWS.items():
        if base in members:
            members[view] = [i for i in members[base] if keep(rows[i])]
    out: dict[str, Any] = {}
    for name in sorted(members, key=_set_order):
        idx = members[name]
        if not idx:
            continue
        pairs = np.asarray([_strong_weak(rows[i]) for i in idx])
        strong, weak = pairs[:, 0], pairs[:, 1]
        entry: dict[str, Any] = {
            "rows": len(idx),
            "seen_in_training": any(i >= n_eval for i in idx),
            "in_model_training": any(
                {rows[i].source.split("/")[0], rows[i].group} & trained_on for i in idx
            ),
            "pair": _pair(rows[idx[0]]),
            "weak_only": float(weak.mean()),
            "strong_only": float(strong.mean()),
            "deciders": {d: routing_summary(s[idx], strong, weak) for d, s in scores.items()},
        }
        oracle = routing_summary(strong - weak, strong, weak)
        entry["oracle"] = {"apgr": oracle["apgr"], "quality": max(oracle["curve"]["quality"])}
        entry["random_apgr_90"] = _random_band(strong, weak, seed)
        out[name] = entry
    return out


def _multi_model(rows: Sequence[Example], tiers: dict[str, list[str]]) -> dict[str, Any]:
    """RouterBench: each decider's tier picks a model from the ladder; measured $ and accuracy."""
    idx = [
        i
        for i, ex in enumerate(rows)
        if ex.source.startswith("routerbench/")
        and all(m in (ex.outcome or {}).get("models", {}) for m in set(ROUTERBENCH_LADDER.values()))
    ]
    if not idx:
        return {}
    models = sorted({m for i in idx for m in rows[i].outcome["models"]})  # type: ignore[index]
    single = {}
    for m in models:
        have = [rows[i].outcome["models"][m] for i in idx if m in rows[i].outcome["models"]]  # type: ignore[index]
        single[m] = {
            "accuracy": float(np.mean([h["correct"] for h in have])),
            "cost_per_1k": 1000 * float(np.mean([h["cost"] for h in have])),
            "rows": len(have),
        }
    routed = {}
    for name, tier in tiers.items():
        picks = [rows[i].outcome["models"][ROUTERBENCH_LADDER[tier[i]]] for i in idx]  # type: ignore[index]
        routed[name] = {
            "accuracy": float(np.mean([p["correct"] for p in picks])),
            "cost_per_1k": 1000 * float(np.mean([p["cost"] for p in picks])),
            "tier_share": {t: float(np.mean([tier[i] == t for i in idx])) for t in TIER_NAMES},
        }
    return {
        "rows": len(idx),
        "ladder": ROUTERBENCH_LADDER,
        "single_models": single,
        "routed": routed,
    }


def _catalog_costs(
    rows: Sequence[Example], tiers: dict[str, list[str]], tokens: list[int]
) -> dict[str, Any]:
    """Estimated $ per 1k prompts at today's catalog prices, if the catalog is there.

    Each tier is priced at the cheapest catalog model whose editorial quality for that
    tier is at least 0.85, with the catalog's default reply length for the tier. An
    estimate of spend, not of quality: quality comes from the outcome benchmarks.
    """
    try:
        import yaml

        from router._resources import DATA_DIR

        catalog = yaml.safe_load((Path(DATA_DIR) / "catalog.yaml").read_text(encoding="utf-8"))
        models = catalog["models"]
        reply = catalog["defaults"]["output_tokens"]
    except Exception as exc:  # the catalog is optional here; say why it was skipped
        return {"skipped": f"catalog not usable: {exc.__class__.__name__}: {exc}"}
    pick: dict[str, tuple[str, float, float]] = {}
    for k, tier in enumerate(TIER_NAMES):
        fits = [
            (float(m["input_price"]) + float(m["output_price"]), name, m)
            for name, m in models.items()
            if isinstance(m, dict) and "quality" in m and float(m["quality"][k]) >= 0.85
        ]
        if not fits:
            return {"skipped": f"no catalog model reaches quality 0.85 on {tier}"}
        _, name, m = min(fits, key=lambda f: (f[0], f[1]))
        pick[tier] = (name, float(m["input_price"]), float(m["output_price"]))
    out: dict[str, Any] = {"models": {t: p[0] for t, p in pick.items()}, "deciders": {}}
    for decider, decided in tiers.items():
        dollars = [
            (tokens[i] * pick[t][1] + float(reply[t]) * pick[t][2]) / 1e6
            for i, t in enumerate(decided)
        ]
        out["deciders"][decider] = {"usd_per_1k_prompts": 1000 * float(np.mean(dollars))}
    return out


def evaluate(
    rows: Sequence[Example],
    model: str | Path | None = None,
    *,
    seed: int = 0,
    seen: Sequence[Example] = (),
    on_stage: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Run every decider over ``rows`` and build the report dictionary.

    ``rows`` are the held-out rows: classification is measured on them, and their
    outcome sets are the held-out routing numbers. ``seen`` are outcome rows the model
    may have trained on (the *train* outcome sets): they are only routed, and their
    sets carry ``seen_in_training: true``. ``on_stage`` is called as each stage starts.
    """
    from router.router import Router

    held_out = list(rows)
    every = held_out + [ex for ex in seen if _strong_weak(ex) is not None]
    model_router = Router(model=model) if model is not None else Router()
    artifact = model_router.classifier.model
    rules_router = Router(model=False)
    on_stage(f"classifying {len(every):,} rows with the model")
    decided = {"model": _decide(model_router, every)}
    on_stage(f"classifying {len(every):,} rows with the rules")
    decided["rules"] = _decide(rules_router, every)
    on_stage("measuring prompt lengths")
    extractor = rules_router.extractor
    from router.decision.inputs import read_prompt

    tokens = [
        extractor.extract(read_prompt(ex.messages if ex.messages is not None else ex.text)).tokens
        for ex in every
    ]
    rng = np.random.default_rng(seed)
    scores = {
        "model": decided["model"].score,
        "rules": decided["rules"].score,
        "length": np.asarray(tokens, dtype=np.float64),
        "random": rng.random(len(every)),
    }
    n = len(held_out)
    rows = held_out
    classification = {}
    for name, d in decided.items():
        by_set: dict[str, Any] = {}
        groups: dict[str, list[int]] = {}
        for i, ex in enumerate(rows):
            groups.setdefault(ex.source.split("/")[0], []).append(i)
        for set_name, ix in sorted(groups.items()):
            rep = _classify([rows[i] for i in ix], d, ix)
            for head in rep.values():
                head.pop("confusion", None)
                head.pop("labels", None)
            by_set[set_name] = rep
        classification[name] = {"all": _classify(rows, d, list(range(n))), "by_set": by_set}
        real = [i for i, ex in enumerate(rows) if ex.source.split("/")[0] in REAL_PROMPT_SETS]
        if real:
            rep = _classify([rows[i] for i in real], d, real)
            for head in rep.values():
                head.pop("confusion", None)
                head.pop("labels", None)
            classification[name]["real_prompts"] = rep
        classification[name]["sources_used"] = (
            dict(zip(*np.unique(d.source, return_counts=True), strict=True)) if d.source else {}
        )
        classification[name]["sources_used"] = {
            str(k): int(v) for k, v in classification[name]["sources_used"].items()
        }
    tiers = {"model": decided["model"].tier[:n], "rules": decided["rules"].tier[:n]}
    on_stage("routing: cost and quality of each decider")
    meta = artifact.meta if artifact is not None else {}
    manifest = meta.get("training", {}).get("manifest", {}).get("sets", [])
    trained_on = frozenset(str(s.get("name")) for s in manifest if isinstance(s, dict))
    return {
        "model": {
            "path": str(artifact.path) if artifact is not None else None,
            "version": meta.get("version"),
            "warning": model_router.classifier.model_warning,
        },
        "rows": n,
        "seen_rows": len(every) - n,
        "sets": dict(sorted(_count(ex.source.split("/")[0] for ex in rows).items())),
        "seen_sets": dict(sorted(_count(ex.source.split("/")[0] for ex in every[n:]).items())),
        "classification": classification,
        "routing": _routing(every, scores, n, trained_on, seed),
        "multi_model": _multi_model(rows, tiers),
        "catalog_costs": _catalog_costs(rows, tiers, tokens[:n]),
        "held_out_sources": meta.get("metrics", {}).get("held_out_sources", {}).get("all"),
    }


def _count(items: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return out


def _accepted_task(ex: Example, predicted: str) -> str | None:
    """The label a prediction is scored against: ``predicted`` itself when the hand label
    lists it in ``also`` (a prompt that fits two tasks), else the row's task."""
    return predicted if predicted in ex.also else ex.task


def _classify(rows: Sequence[Example], d: Decided, ix: list[int]) -> dict[str, Any]:
    report = classification_report(
        [_accepted_task(ex, d.task[i]) for ex, i in zip(rows, ix, strict=True)],
        [d.task[i] for i in ix],
        [ex.tier for ex in rows],
        [d.tier[i] for i in ix],
        [d.tier_confidence[i] for i in ix],
        TASK_NAMES,
        TIER_NAMES,
    )
    for head in report.values():
        head["recall"], head["support"] = _recall(head["confusion"], head["labels"])
    return report


def _recall(
    confusion: list[list[int]], labels: list[str]
) -> tuple[dict[str, float], dict[str, int]]:
    """Per-class recall and row count, for the classes that occur (no 0/0 entries)."""
    recall, support = {}, {}
    for k, label in enumerate(labels):
        total = sum(confusion[k])
        if total:
            recall[label] = confusion[k][k] / total
            support[label] = total
    return recall, support


# ---------------------------------------------------------------------------- output


def write_report(report: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """``eval.json``, ``eval.md`` and, when an outcome set is present, ``eval.png``."""
    from training.eval_report import write_report as write

    return write(report, out_dir)
