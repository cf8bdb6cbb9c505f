# matplotlib.dates has no annotations for date2num and its locators: calling them is
# the point of this module, so untyped calls are allowed here alone.
# mypy: disallow-untyped-calls=False
"""The figure behind ``tierrouter stats --plot``: spend per bin, cumulative spend, tier mix.

Routed, baseline and saved spend each get their own colour and style, in bars per
bin and in cumulative lines, so none hides another; the bins come from
:mod:`router.log.timeline` (hours for a day, days for a month). matplotlib is
imported here only (the ``train`` extra), never by the router.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

__all__ = ["plot_summary"]

ROUTED = "tab:blue"
BASELINE = "0.55"
SAVED = "tab:green"


def _usd(value: float) -> str:
    """A total: dollars with as many decimals as small amounts need."""
    if value == 0:
        return "$0"
    digits = 2 if abs(value) >= 1 else 4 if abs(value) >= 0.01 else 6
    return f"${value:,.{digits}f}"


def _tick(value: float, _pos: object = None) -> str:
    """An axis tick: no trailing zeros, so $0.005 does not read $0.005000."""
    text = f"{abs(value):,.6f}".rstrip("0").rstrip(".")
    return f"{'-' if value < 0 else ''}${text}"


def _span(summary: dict[str, Any]) -> str:
    first, last = summary["first"], summary["last"]
    fmt = "%Y-%m-%d %H:%M"
    return f"{dt.datetime.fromtimestamp(first):{fmt}} to {dt.datetime.fromtimestamp(last):{fmt}}"


def _legend(ax: Any, columns: int) -> None:
    """Above the panel on the right, level with its title: never over the data.

    Entries keep the order they were drawn in (matplotlib lists lines before bars).
    """
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: _DRAWN.get(labels[i], i))
    ax.legend([handles[i] for i in order], [labels[i] for i in order], fontsize=8,
              ncol=columns, loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False,
              borderaxespad=0.2)  # fmt: skip


_DRAWN = {
    "baseline: all on the baseline model": 0,
    "routed: what was spent": 1,
    "saved: baseline − routed": 2,
}


def plot_summary(summary: dict[str, Any], path: str) -> None:
    """Write the PNG; ``summary`` is :func:`router.log.stats.summarize`'s, with calls."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    from router.types import TIERS

    timeline = summary["timeline"]
    bins = timeline["bins"]
    if not bins:
        raise ValueError("no calls in the log for this period: nothing to plot")
    width_days = timeline["bin_seconds"] / 86400
    per = f"per {timeline['bin_name']}"
    # Bars sit at the middle of their bin; times are local, like the summary's days.
    starts = [dt.datetime.fromtimestamp(b["start"]) for b in bins]
    x = [mdates.date2num(s) + width_days / 2 for s in starts]

    fig, (ax_bin, ax_cum, ax_mix) = plt.subplots(
        3, 1, figsize=(10, 10), sharex=True, gridspec_kw={"height_ratios": [3, 3, 2]}
    )
    fig.suptitle(
        f"tierrouter: {summary['calls']:,} calls, {_span(summary)}\n"
        f"routed {_usd(summary['spend'])}, baseline {_usd(summary['baseline_spend'])}, "
        f"saved {_usd(summary['savings'])} ({100 * summary['savings_share']:.1f} %)",
        fontsize=12,
    )

    bar = width_days * 0.4
    ax_bin.bar([v - bar / 2 for v in x], [b["baseline"] for b in bins], bar,
               color=BASELINE, label="baseline: all on the baseline model")  # fmt: skip
    ax_bin.bar([v + bar / 2 for v in x], [b["spend"] for b in bins], bar,
               color=ROUTED, label="routed: what was spent")  # fmt: skip
    ax_bin.plot(x, [b["saved"] for b in bins], color=SAVED, marker="o", markersize=3,
                linewidth=1.5, label="saved: baseline − routed")  # fmt: skip
    ax_bin.axhline(0, color="black", linewidth=0.6)
    ax_bin.set_title(f"Spend {per}", loc="left")
    ax_bin.set_ylabel(f"USD {per}")
    ax_bin.yaxis.set_major_formatter(FuncFormatter(_tick))
    _legend(ax_bin, 3)

    cum: dict[str, list[float]] = {"baseline": [], "spend": [], "saved": []}
    for key in cum:
        total = 0.0
        for b in bins:
            total += b[key]
            cum[key].append(total)
    ends = [mdates.date2num(s) + width_days for s in starts]
    for key, colour, style, label in (
        ("baseline", BASELINE, "--", "baseline"),
        ("spend", ROUTED, "-", "routed"),
        ("saved", SAVED, "-", "saved"),
    ):
        # The totals go in the legend: a label at the line's end would run off the axes.
        ax_cum.plot(ends, cum[key], color=colour, linestyle=style, linewidth=2,
                    marker="o" if len(bins) < 3 else None,
                    label=f"{label} {_usd(cum[key][-1])}")  # fmt: skip
    ax_cum.set_title("Cumulative spend (at the end of each bin)", loc="left")
    ax_cum.set_ylabel("USD since the first call")
    ax_cum.yaxis.set_major_formatter(FuncFormatter(_tick))
    _legend(ax_cum, 3)

    bottom = [0.0] * len(bins)
    for tier in TIERS:
        shares = [b["tiers"].get(tier.value, 0) / b["calls"] if b["calls"] else 0.0 for b in bins]
        ax_mix.bar(x, shares, width_days * 0.9, bottom=bottom, label=tier.value)
        bottom = [lo + s for lo, s in zip(bottom, shares, strict=True)]
    ax_mix.set_title(f"Tier mix {per} (empty bins: no calls)", loc="left")
    ax_mix.set_ylabel("share of calls")
    ax_mix.set_ylim(0, 1)
    _legend(ax_mix, len(TIERS))

    locator = mdates.AutoDateLocator()
    ax_mix.xaxis.set_major_locator(locator)
    ax_mix.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    left = mdates.date2num(starts[0])
    ax_mix.set_xlim(left - width_days * 0.1, ends[-1] + width_days * 0.1)
    ax_mix.set_xlabel(f"local time, one bin {per}")
    for ax in (ax_bin, ax_cum, ax_mix):
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
