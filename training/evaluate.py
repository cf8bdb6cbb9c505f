"""The evaluation harness: classification quality and routing cost-quality, one report.

Measured only on rows the shipped model never fits on: the *eval* sets of
``training.sources`` (or user files given with ``--data``), plus the held-out-source
numbers that training recorded in the artifact. Four deciders are compared:

* ``model``: ``Router(model=<artifact>)``, i.e. exactly what users get (low-confidence
  policy and capability floors included);
* ``rules``: ``Router(model=False)``;
* ``length``: the estimated token count alone (longer -> stronger model);
* ``random``: a seeded uniform score (its expectation is the diagonal, APGR 0.5).

Routing follows RouteLLM: on each outcome benchmark the strong-model share is swept
over ``Decision.score``; references are weak-only, strong-only and the oracle (the
strong model exactly where it is right and the weak one wrong).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from training.examples import TASK_NAMES, TIER_NAMES, Example
from training.metrics import classification_report, routing_summary

__all__ = ["BENCHMARKS", "evaluate", "write_report"]

DECIDERS = ("model", "rules", "length", "random")
# Outcome benchmarks: name -> row filter. MMLU is reported with and without the
# subject whose GPT-4 column is an answer-extraction failure (see routellm_outcomes).
BENCHMARKS: dict[str, Any] = {
    "gsm8k": lambda ex: ex.source == "routellm_outcomes/gsm8k",
    "mmlu": lambda ex: ex.source.startswith("routellm_outcomes/mmlu/"),
    "mmlu_reliable": lambda ex: (
        ex.source.startswith("routellm_outcomes/mmlu/") and ex.tier is not None
    ),
    "routerbench": lambda ex: ex.source.startswith("routerbench/"),
}
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


def _routing(rows: Sequence[Example], scores: dict[str, np.ndarray[Any, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for bench, keep in BENCHMARKS.items():
        idx = [i for i, ex in enumerate(rows) if keep(ex) and _strong_weak(ex) is not None]
        if not idx:
            continue
        pairs = np.asarray([_strong_weak(rows[i]) for i in idx])
        strong, weak = pairs[:, 0], pairs[:, 1]
        entry: dict[str, Any] = {
            "rows": len(idx),
            "weak_only": float(weak.mean()),
            "strong_only": float(strong.mean()),
            "deciders": {name: routing_summary(s[idx], strong, weak) for name, s in scores.items()},
        }
        oracle = routing_summary(strong - weak, strong, weak)
        entry["oracle"] = {"apgr": oracle["apgr"], "quality": max(oracle["curve"]["quality"])}
        out[bench] = entry
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
    rows: Sequence[Example], model: str | Path | None = None, *, seed: int = 0
) -> dict[str, Any]:
    """Run every decider over ``rows`` and build the report dictionary."""
    from router.router import Router

    model_router = Router(model=model) if model is not None else Router()
    artifact = model_router.classifier.model
    rules_router = Router(model=False)
    decided = {"model": _decide(model_router, rows), "rules": _decide(rules_router, rows)}
    extractor = rules_router.extractor
    from router.decision.inputs import read_prompt

    tokens = [
        extractor.extract(read_prompt(ex.messages if ex.messages is not None else ex.text)).tokens
        for ex in rows
    ]
    rng = np.random.default_rng(seed)
    scores = {
        "model": decided["model"].score,
        "rules": decided["rules"].score,
        "length": np.asarray(tokens, dtype=np.float64),
        "random": rng.random(len(rows)),
    }
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
        classification[name] = {"all": _classify(rows, d, list(range(len(rows)))), "by_set": by_set}
        classification[name]["sources_used"] = (
            dict(zip(*np.unique(d.source, return_counts=True), strict=True)) if d.source else {}
        )
        classification[name]["sources_used"] = {
            str(k): int(v) for k, v in classification[name]["sources_used"].items()
        }
    tiers = {"model": decided["model"].tier, "rules": decided["rules"].tier}
    meta = artifact.meta if artifact is not None else {}
    return {
        "model": {
            "path": str(artifact.path) if artifact is not None else None,
            "version": meta.get("version"),
            "warning": model_router.classifier.model_warning,
        },
        "rows": len(rows),
        "sets": dict(sorted(_count(ex.source.split("/")[0] for ex in rows).items())),
        "classification": classification,
        "routing": _routing(rows, scores),
        "multi_model": _multi_model(rows, tiers),
        "catalog_costs": _catalog_costs(rows, tiers, tokens),
        "held_out_sources": meta.get("metrics", {}).get("held_out_sources", {}).get("all"),
    }


def _count(items: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return out


def _classify(rows: Sequence[Example], d: Decided, ix: list[int]) -> dict[str, Any]:
    return classification_report(
        [ex.task for ex in rows],
        [d.task[i] for i in ix],
        [ex.tier for ex in rows],
        [d.tier[i] for i in ix],
        [d.tier_confidence[i] for i in ix],
        TASK_NAMES,
        TIER_NAMES,
    )


# ---------------------------------------------------------------------------- output


def write_report(report: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """``eval.json``, ``eval.md`` and ``eval.png`` in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "eval.json", "md": out_dir / "eval.md", "png": out_dir / "eval.png"}
    paths["json"].write_text(
        json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    paths["md"].write_text(markdown(report), encoding="utf-8")
    plot(report, paths["png"])
    return paths


def _f(x: Any, digits: int = 3) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def summary_table(report: dict[str, Any]) -> list[list[str]]:
    """The headline rows: one per decider."""
    routing = report["routing"]
    rows = []
    for name in DECIDERS:
        cls = report["classification"].get(name, {}).get("all", {})
        row = [
            name,
            _f(cls.get("task", {}).get("macro_f1")),
            _f(cls.get("tier", {}).get("within_one")),
            _f(cls.get("tier", {}).get("ece")),
        ]
        for bench in ("gsm8k", "mmlu", "mmlu_reliable", "routerbench"):
            row.append(_f(routing.get(bench, {}).get("deciders", {}).get(name, {}).get("apgr")))
        rows.append(row)
    return rows


SUMMARY_HEADER = [
    "decider",
    "task macro-F1",
    "tier within-one",
    "tier ECE",
    "APGR GSM8K",
    "APGR MMLU",
    "APGR MMLU (reliable)",
    "APGR RouterBench",
]


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# tierrouter evaluation",
        "",
        f"Model `{report['model']['version']}` on {report['rows']} rows "
        "the model never trained on.",
        "",
        "| " + " | ".join(SUMMARY_HEADER) + " |",
        "|" + "---|" * len(SUMMARY_HEADER),
    ]
    lines += ["| " + " | ".join(r) + " |" for r in summary_table(report)]
    lines += ["", "## Routing (strong = GPT-4-1106, weak = Mixtral-8x7B)", ""]
    lines += [
        "| benchmark | rows | weak-only | strong-only | oracle APGR | decider | APGR "
        "| CPT(20%) | CPT(50%) | CPT(80%) |"
    ]
    lines += ["|---|---|---|---|---|---|---|---|---|---|"]
    for bench, e in report["routing"].items():
        for name, s in e["deciders"].items():
            cpt = s["cpt"]
            lines.append(
                f"| {bench} | {e['rows']} | {_f(e['weak_only'])} | {_f(e['strong_only'])} | "
                f"{_f(e['oracle']['apgr'])} | {name} | {_f(s['apgr'])} | {_f(cpt['20%'], 2)} | "
                f"{_f(cpt['50%'], 2)} | {_f(cpt['80%'], 2)} |"
            )
    mm = report.get("multi_model") or {}
    if mm:
        lines += ["", "## RouterBench multi-model (tier -> model ladder, measured cost)", ""]
        lines += [f"Ladder: {', '.join(f'{t} → {m}' for t, m in mm['ladder'].items())}", ""]
        lines += ["| decider / model | accuracy | $ per 1k prompts |", "|---|---|---|"]
        for name, r in mm["routed"].items():
            lines.append(f"| **{name}** | {_f(r['accuracy'])} | {_f(r['cost_per_1k'], 3)} |")
        for name, r in sorted(mm["single_models"].items(), key=lambda kv: kv[1]["cost_per_1k"]):
            lines.append(f"| {name} | {_f(r['accuracy'])} | {_f(r['cost_per_1k'], 3)} |")
    cat = report.get("catalog_costs") or {}
    if "deciders" in cat:
        lines += ["", "## Estimated spend at catalog prices", ""]
        lines += [f"Per tier: {', '.join(f'{t} → {m}' for t, m in cat['models'].items())}", ""]
        for name, r in cat["deciders"].items():
            lines.append(f"- {name}: ${r['usd_per_1k_prompts']:.3f} per 1k prompts")
    elif cat:
        lines += ["", f"Catalog prices: {cat.get('skipped')}"]
    lines += ["", "## Classification by eval set (model)", ""]
    lines += ["| set | task rows | task acc | task macro-F1 | tier rows | tier acc | within-one |"]
    lines += ["|---|---|---|---|---|---|---|"]
    for name, rep in report["classification"]["model"]["by_set"].items():
        t, r = rep.get("task", {}), rep.get("tier", {})
        lines.append(
            f"| {name} | {t.get('rows', 0)} | {_f(t.get('accuracy'))} | {_f(t.get('macro_f1'))} | "
            f"{r.get('rows', 0)} | {_f(r.get('accuracy'))} | {_f(r.get('within_one'))} |"
        )
    held = report.get("held_out_sources")
    if held:
        lines += ["", "## Held-out training sources (from the artifact)", ""]
        lines.append(
            f"task macro-F1 {_f(held.get('task', {}).get('macro_f1'))}, "
            f"tier accuracy {_f(held.get('tier', {}).get('accuracy'))}, "
            f"within-one {_f(held.get('tier', {}).get('within_one'))}"
        )
    return "\n".join(lines) + "\n"


def plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    benches = list(report["routing"])
    panels = len(benches) + (1 if report.get("multi_model") else 0)
    fig, axes = plt.subplots(1, max(panels, 1), figsize=(4.2 * max(panels, 1), 4), squeeze=False)
    for ax, bench in zip(axes[0], benches, strict=False):
        e = report["routing"][bench]
        for name, s in e["deciders"].items():
            c = s["curve"]
            ax.plot(
                [100 * x for x in c["strong_share"]],
                c["quality"],
                label=f"{name} ({s['apgr']:.2f})",
                linestyle="--" if name == "random" else "-",
            )
        ax.axhline(e["weak_only"], color="grey", linewidth=0.8, linestyle=":")
        ax.axhline(e["strong_only"], color="black", linewidth=0.8, linestyle=":")
        ax.set_title(f"{bench} (n={e['rows']})")
        ax.set_xlabel("% calls to strong model")
        ax.set_ylabel("accuracy")
        ax.legend(fontsize=7)
    mm = report.get("multi_model")
    if mm:
        ax = axes[0][len(benches)]
        for name, r in mm["single_models"].items():
            ax.scatter(r["cost_per_1k"], r["accuracy"], color="grey", s=12)
            ax.annotate(name.split("/")[-1], (r["cost_per_1k"], r["accuracy"]), fontsize=5)
        for name, r in mm["routed"].items():
            ax.scatter(r["cost_per_1k"], r["accuracy"], s=40, label=name)
        ax.set_xscale("log")
        ax.set_xlabel("$ per 1k prompts")
        ax.set_title("RouterBench: routed vs single models")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
