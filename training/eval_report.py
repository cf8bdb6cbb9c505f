"""What ``tierrouter eval`` shows and writes: terminal tables, Markdown, JSON, PNG.

Everything here reads the report dictionary of :func:`training.evaluate.evaluate` and
nothing else, so the JSON keeps every number the tables and the figure show. Held-out
outcome sets and the outcome sets the model trained on ("seen in training") are
always printed in separate tables, so a training-set number is never read as a
held-out one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.table import Table

__all__ = [
    "DECIDERS",
    "markdown",
    "plot",
    "routing_sets",
    "terminal_tables",
    "write_report",
]

DECIDERS = ("model", "rules", "length", "random")
# Column headers short enough for eight recall columns in 80 terminal columns.
TASK_ABBR = {
    "coding": "code",
    "math": "math",
    "reasoning": "reas",
    "translation": "tran",
    "summarization": "summ",
    "extraction": "extr",
    "creative_writing": "crea",
    "general": "gen",
}
CPT_NOTE = (
    "each cell: APGR, then CPT(50%) = share of calls to the strong model that "
    "recovers half the weak-to-strong gap (lower is cheaper); chance 90% = APGR "
    "band of 100 random scorers (oracle APGR in the JSON/Markdown)"
)


FITTED_NOTE = (
    "* = this model's training data holds the set (or its prompts); the others are "
    "train sets this model has not fitted yet"
)


def _seen_name(name: str, entry: dict[str, Any]) -> str:
    return f"{name}*" if entry.get("seen_in_training") and entry.get("in_model_training") else name


def _f(x: Any, digits: int = 3) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _pct(x: Any) -> str:
    return "—" if x is None else f"{round(100 * x)}%"


def routing_sets(report: dict[str, Any], *, seen: bool) -> list[tuple[str, dict[str, Any]]]:
    """The routed outcome sets, held-out ones (``seen=False``) or seen in training."""
    return [
        (name, e)
        for name, e in report.get("routing", {}).items()
        if bool(e.get("seen_in_training")) == seen
    ]


def _band(entry: dict[str, Any]) -> str:
    band = entry.get("random_apgr_90")
    return "—" if not band else f"{band[0]:.2f}–{band[1]:.2f}"


def _short_model(name: str) -> str:
    return name.split("/")[-1]


# ---------------------------------------------------------------------------- terminal


def terminal_tables(report: dict[str, Any]) -> list[Table]:
    """The tables ``tierrouter eval`` prints; each fits an 80-column terminal."""
    from rich import box
    from rich.table import Table

    from training.evaluate import REAL_PROMPT_SETS

    def table(title: str, caption: str | None = None) -> Table:
        return Table(
            title=title,
            caption=caption,
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            show_edge=False,
            padding=(0, 1, 0, 0),
            title_justify="left",
            caption_justify="left",
        )

    tables = []
    cls = report.get("classification", {})
    by_set = {d: cls.get(d, {}).get("by_set", {}) for d in ("model", "rules")}
    if by_set["model"]:
        t = table(
            "Classification on the eval sets",
            "task accuracy and tier within-one; — = the set has no such labels",
        )
        for col in ("set", "task n", "task model", "task rules", "tier n", "w/1 model", "rules"):
            t.add_column(col, justify="left" if col == "set" else "right", no_wrap=True)
        for name, rep in by_set["model"].items():
            other = by_set["rules"].get(name, {})
            t.add_row(
                name,
                str(rep.get("task", {}).get("rows", 0)),
                _f(rep.get("task", {}).get("accuracy")),
                _f(other.get("task", {}).get("accuracy")),
                str(rep.get("tier", {}).get("rows", 0)),
                _f(rep.get("tier", {}).get("within_one")),
                _f(other.get("tier", {}).get("within_one")),
            )
        overall = {d: cls.get(d, {}).get("all", {}) for d in ("model", "rules")}
        t.add_section()
        t.add_row(
            "all",
            str(overall["model"].get("task", {}).get("rows", 0)),
            _f(overall["model"].get("task", {}).get("accuracy")),
            _f(overall["rules"].get("task", {}).get("accuracy")),
            str(overall["model"].get("tier", {}).get("rows", 0)),
            _f(overall["model"].get("tier", {}).get("within_one")),
            _f(overall["rules"].get("tier", {}).get("within_one")),
        )
        real = {d: cls.get(d, {}).get("real_prompts") for d in ("model", "rules")}
        if real["model"]:
            t.add_row(
                "real prompts",
                str(real["model"].get("task", {}).get("rows", 0)),
                _f(real["model"].get("task", {}).get("accuracy")),
                _f((real["rules"] or {}).get("task", {}).get("accuracy")),
                str(real["model"].get("tier", {}).get("rows", 0)),
                _f(real["model"].get("tier", {}).get("within_one")),
                _f((real["rules"] or {}).get("tier", {}).get("within_one")),
            )
        tables.append(t)

        t = table(
            "Task recall per class (model)",
            "— = no row of that class in the set; real prompts = "
            + ", ".join(sorted(REAL_PROMPT_SETS)),
        )
        t.add_column("set", no_wrap=True)
        for abbr in TASK_ABBR.values():
            t.add_column(abbr, justify="right")
        rows = [*by_set["model"].items(), ("all", overall["model"])]
        if real["model"]:
            rows.append(("real prompts", real["model"]))
        for name, rep in rows:
            recall = rep.get("task", {}).get("recall")
            if recall is None:
                continue
            if name == "all":
                t.add_section()
            t.add_row(name, *(_f(recall.get(task), 2) for task in TASK_ABBR))
        tables.append(t)

    for seen, title in (
        (False, "Routing on held-out outcome sets: APGR  CPT(50%)"),
        (True, "Seen in training (train sets, NOT held out): APGR  CPT(50%)"),
    ):
        sets = routing_sets(report, seen=seen)
        if not sets:
            continue
        t = table(title, CPT_NOTE + (f"\n{FITTED_NOTE}" if seen else ""))
        t.add_column("set", no_wrap=True)
        t.add_column("n", justify="right", no_wrap=True)
        for d in DECIDERS:
            t.add_column(d, justify="right", no_wrap=True)
        t.add_column("chance 90%", justify="right", no_wrap=True)
        for name, e in sets:
            cells = []
            for d in DECIDERS:
                s = e["deciders"].get(d)
                cells.append("—" if s is None else f"{s['apgr']:.2f} {_pct(s['cpt']['50%']):>4}")
            t.add_row(_seen_name(name, e), str(e["rows"]), *cells, _band(e))
        tables.append(t)
    return tables


# ---------------------------------------------------------------------------- markdown


def _routing_markdown(sets: list[tuple[str, dict[str, Any]]]) -> list[str]:
    lines = [
        "| set | strong vs weak | rows | weak-only | strong-only | oracle APGR | chance APGR 90% "
        "| decider | APGR | CPT(20%) | CPT(50%) | CPT(80%) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, e in sets:
        pair = e.get("pair", {})
        vs = f"{_short_model(pair.get('strong', '?'))} vs {_short_model(pair.get('weak', '?'))}"
        for d, s in e["deciders"].items():
            cpt = s["cpt"]
            lines.append(
                f"| {_seen_name(name, e)} | {vs} | {e['rows']} | {_f(e['weak_only'])} | "
                f"{_f(e['strong_only'])} | {_f(e['oracle']['apgr'])} | {_band(e)} | {d} | "
                f"{_f(s['apgr'])} | "
                f"{_f(cpt['20%'], 2)} | {_f(cpt['50%'], 2)} | {_f(cpt['80%'], 2)} |"
            )
    return lines


def _summary_markdown(report: dict[str, Any]) -> list[str]:
    held = routing_sets(report, seen=False)
    header = ["decider", "task acc", "task macro-F1", "tier within-one", "tier ECE"]
    header += [f"APGR {name}" for name, _ in held]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for d in DECIDERS:
        cls = report.get("classification", {}).get(d, {}).get("all", {})
        row = [
            d,
            _f(cls.get("task", {}).get("accuracy")),
            _f(cls.get("task", {}).get("macro_f1")),
            _f(cls.get("tier", {}).get("within_one")),
            _f(cls.get("tier", {}).get("ece")),
        ]
        row += [_f(e["deciders"].get(d, {}).get("apgr")) for _, e in held]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def _classification_markdown(report: dict[str, Any], decider: str) -> list[str]:
    by_set = report.get("classification", {}).get(decider, {}).get("by_set", {})
    if not by_set:
        return []
    lines = [
        f"## Classification by eval set ({decider})",
        "",
        "| set | task rows | task acc | task macro-F1 | tier rows | tier acc | within-one |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, rep in by_set.items():
        t, r = rep.get("task", {}), rep.get("tier", {})
        lines.append(
            f"| {name} | {t.get('rows', 0)} | {_f(t.get('accuracy'))} | {_f(t.get('macro_f1'))} "
            f"| {r.get('rows', 0)} | {_f(r.get('accuracy'))} | {_f(r.get('within_one'))} |"
        )
    lines += [
        "",
        f"Task recall per class ({decider}; rows of the class in brackets):",
        "",
        "| set | " + " | ".join(TASK_ABBR) + " |",
        "|---|" + "---|" * len(TASK_ABBR),
    ]
    overall = report["classification"][decider].get("all", {})
    for name, rep in [*by_set.items(), ("all", overall)]:
        task = rep.get("task", {})
        if "recall" not in task:
            continue
        cells = [
            f"{_f(task['recall'][c], 2)} ({task['support'][c]})" if c in task["recall"] else "—"
            for c in TASK_ABBR
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# tierrouter evaluation",
        "",
        f"Model `{report['model']['version']}` on {report['rows']} held-out rows "
        f"(sets: {', '.join(report.get('sets', {})) or 'none'}); "
        f"{report.get('seen_rows', 0)} rows of the *train* outcome sets are routed "
        "separately below.",
        "",
    ]
    lines += _summary_markdown(report)
    held, seen = routing_sets(report, seen=False), routing_sets(report, seen=True)
    if held:
        lines += ["", "## Routing on held-out outcome sets", ""]
        lines += _routing_markdown(held)
    if seen:
        lines += [
            "",
            "## Routing on outcome sets seen in training (not held-out numbers)",
            "",
            "The model may have fitted these rows; read them as training fit, never as "
            f"held-out quality. {FITTED_NOTE}.",
            "",
        ]
        lines += _routing_markdown(seen)
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
    lines.append("")
    for d in ("model", "rules"):
        lines += _classification_markdown(report, d)
    missing = report.get("missing") or {}
    if missing:
        lines += ["## Sets not present", ""]
        lines += [f"- {name}: {why}" for name, why in missing.items()]
        lines.append("")
    held_src = report.get("held_out_sources")
    if held_src:
        lines += ["## Held-out training sources (from the artifact)", ""]
        lines.append(
            f"task macro-F1 {_f(held_src.get('task', {}).get('macro_f1'))}, "
            f"tier accuracy {_f(held_src.get('tier', {}).get('accuracy'))}, "
            f"within-one {_f(held_src.get('tier', {}).get('within_one'))}"
        )
    return "\n".join(lines).rstrip("\n") + "\n"


# ---------------------------------------------------------------------------- figure

_STYLE = {
    "model": {"color": "tab:blue", "linestyle": "-"},
    "rules": {"color": "tab:orange", "linestyle": "-"},
    "length": {"color": "tab:green", "linestyle": "-."},
    "random": {"color": "grey", "linestyle": "--"},
}


def plot(report: dict[str, Any], path: Path) -> bool:
    """One cost-quality panel per outcome set present; ``False`` (no file) when there is none.

    Held-out sets come first, then the sets seen in training, whose titles say so. The
    RouterBench multi-model view gets its own panel when its costs are present.
    """
    sets = routing_sets(report, seen=False) + routing_sets(report, seen=True)
    mm = report.get("multi_model") or {}
    panels = len(sets) + (1 if mm else 0)
    if not panels:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ncols = min(4, panels)
    nrows = -(-panels // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(4.3 * ncols, 3.9 * nrows), squeeze=False, constrained_layout=True
    )
    flat = [ax for row in axes for ax in row]
    for ax, (name, e) in zip(flat, sets, strict=False):
        for d, s in e["deciders"].items():
            c = s["curve"]
            ax.plot(
                [100 * x for x in c["strong_share"]],
                c["quality"],
                label=f"{d} (APGR {s['apgr']:.2f})",
                **_STYLE.get(d, {}),
            )
        ax.axhline(e["weak_only"], color="grey", linewidth=0.8, linestyle=":")
        ax.axhline(e["strong_only"], color="black", linewidth=0.8, linestyle=":")
        pair = e.get("pair", {})
        where = "held out"
        if e.get("seen_in_training"):
            where = "seen in training" if e.get("in_model_training") else "train set, not fitted"
        ax.set_title(
            f"{name} (n={e['rows']}, {where})\n"
            f"{_short_model(pair.get('strong', '?'))} vs {_short_model(pair.get('weak', '?'))}",
            fontsize=8,
        )
        ax.set_xlabel("% of calls to the strong model", fontsize=8)
        ax.set_ylabel("share answered correctly", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6, loc="lower right")
    if mm:
        ax = flat[len(sets)]
        for name, r in mm["single_models"].items():
            ax.scatter(r["cost_per_1k"], r["accuracy"], color="grey", s=12)
            ax.annotate(_short_model(name), (r["cost_per_1k"], r["accuracy"]), fontsize=5)
        for name, r in mm["routed"].items():
            ax.scatter(r["cost_per_1k"], r["accuracy"], s=40, label=name, **_marker(name))
        ax.set_xscale("log")
        ax.set_xlabel("$ per 1k prompts (log)", fontsize=8)
        ax.set_ylabel("accuracy", fontsize=8)
        ax.set_title(f"RouterBench: tier ladder vs single models (n={mm['rows']})", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6)
    for ax in flat[panels:]:
        fig.delaxes(ax)
    fig.suptitle(
        "Cost–quality curves: quality as more calls go to the strong model "
        "(dotted: weak-only, strong-only)",
        fontsize=10,
    )
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _marker(decider: str) -> dict[str, str]:
    return {"color": _STYLE[decider]["color"]} if decider in _STYLE else {}


# ---------------------------------------------------------------------------- files


def write_report(report: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """``eval.json``, ``eval.md`` and, when an outcome set is present, ``eval.png``.

    A stale ``eval.png`` from an earlier run is removed when this run has no curve to
    draw, so the folder never shows a figure of other data.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "eval.json", "md": out_dir / "eval.md"}
    paths["json"].write_text(
        json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    paths["md"].write_text(markdown(report), encoding="utf-8")
    png = out_dir / "eval.png"
    if plot(report, png):
        paths["png"] = png
    else:
        png.unlink(missing_ok=True)
    return paths
