"""``tierrouter spend --plot``: today's and this month's spend per budget scope, with caps.

Rows are those of :meth:`router.state.budgets.Budgets.table` (``scope``, ``period``,
``usd``, ``cap``, ``share``). matplotlib comes with the ``train`` extra; it is
imported here only, so ``tierrouter spend`` without ``--plot`` needs nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from router.errors import ConfigError
from router.state.spend import periods

__all__ = ["plot_spend"]


def plot_spend(rows: Sequence[dict[str, Any]], path: str, now: float | None = None) -> None:
    """Write a PNG: one panel for today, one for this month; a bar per scope, caps marked."""
    try:
        import matplotlib
    except ImportError:
        raise ConfigError("--plot needs matplotlib: pip install 'tierrouter[train]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    day, month = periods(now)
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.6 + 0.35 * max(4, _scopes(rows))))
    for ax, period, title in ((axes[0], day, f"today ({day[2:]})"),
                              (axes[1], month, f"this month ({month[2:]})")):  # fmt: skip
        chosen = sorted((r for r in rows if r["period"] == period), key=lambda r: r["usd"])
        ax.set_title(f"Spend {title}, USD", fontsize=10)
        if not chosen:
            ax.text(0.5, 0.5, "no spend counted", ha="center", va="center",
                    transform=ax.transAxes)  # fmt: skip
            ax.set_yticks([])
            continue
        y = list(range(len(chosen)))
        over = [r["share"] is not None and r["share"] >= 1 for r in chosen]
        ax.barh(y, [r["usd"] for r in chosen],
                color=["tab:red" if o else "tab:blue" for o in over])  # fmt: skip
        capped = [(i, r["cap"]) for i, r in enumerate(chosen) if r["cap"] is not None]
        if capped:
            ax.scatter([c for _, c in capped], [i for i, _ in capped], marker="|", s=300,
                       color="black", label="cap", zorder=3)  # fmt: skip
            ax.legend(fontsize=8, loc="lower right")
        ax.set_yticks(y, [r["scope"] for r in chosen], fontsize=7)
        ax.set_xlim(left=0)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _scopes(rows: Sequence[dict[str, Any]]) -> int:
    return len({r["scope"] for r in rows})
