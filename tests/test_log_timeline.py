"""`stats --plot` bins time by the log's span: minutes for an hour, hours for a day, days for
a month; routed, baseline and saved spend are kept apart in every bin."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from log_helpers import synthetic_log
from typer.testing import CliRunner

from router.cli.app import app
from router.log.timeline import Timeline, choose_bin

HOUR, DAY = 3600, 86400


@pytest.mark.parametrize(
    ("span", "name"),
    [(50 * 60, "5 minutes"), (10 * HOUR, "15 minutes"), (DAY, "hour"), (2 * DAY, "hour"),
     (7 * DAY, "6 hours"), (30 * DAY, "day"), (365 * DAY, "week"), (5 * 365 * DAY, "30 days")],
)  # fmt: skip
def test_the_bin_follows_the_span(span: float, name: str) -> None:
    assert choose_bin(span)[1] == name


def _timeline(stamps: list[float]) -> Timeline:
    t = Timeline(offset=0.0)  # UTC, so the expected bin edges are plain arithmetic
    for i, ts in enumerate(stamps):
        t.add(ts, spend=0.001 * (i % 3), baseline=0.002, tier="SIMPLE" if i % 2 else "COMPLEX")
    return t


def test_a_day_gets_hourly_bins_with_quiet_hours_kept_and_spend_kept_apart() -> None:
    start = 1_800_000_000.0 - 1_800_000_000.0 % DAY  # a UTC midnight
    # Calls in hours 0, 1 and 23 only: the hours between must still be there, empty.
    stamps = [start + 60, start + 120, start + HOUR + 5, start + 23 * HOUR + 30]
    out = _timeline(stamps).bins()
    assert out["bin_name"] == "hour" and out["bin_seconds"] == HOUR
    bins = out["bins"]
    assert len(bins) == 24 and bins[0]["start"] == start and bins[-1]["start"] == start + 23 * HOUR
    assert [b["calls"] for b in bins if b["calls"]] == [2, 1, 1]
    assert all(b["calls"] == 0 and b["spend"] == 0 for b in bins[2:23])
    first = bins[0]
    assert first["spend"] == pytest.approx(0.001) and first["baseline"] == pytest.approx(0.004)
    assert first["saved"] == pytest.approx(0.003) and first["tiers"] == {"COMPLEX": 1, "SIMPLE": 1}


def test_a_month_gets_daily_bins_summing_to_the_totals() -> None:
    start = 1_800_000_000.0 - 1_800_000_000.0 % DAY
    stamps = [start + i * 7 * HOUR for i in range(100)]  # 693 hours: days 0 to 28
    out = _timeline(stamps).bins()
    assert out["bin_name"] == "day" and len(out["bins"]) == 29
    assert sum(b["calls"] for b in out["bins"]) == 100
    assert sum(b["baseline"] for b in out["bins"]) == pytest.approx(0.2)


def test_an_hour_gets_five_minute_bins() -> None:
    out = _timeline([1_800_000_000.0 + 60 * i for i in range(50)]).bins()
    assert out["bin_name"] == "5 minutes" and 10 <= len(out["bins"]) <= 11


def test_stats_plot_of_a_days_log(tmp_path: Path) -> None:
    rows = [{"prompt": f"question {i}", "cost": 0.001, "baseline_cost": 0.003} for i in range(30)]
    log = tmp_path / "d.db"
    # synthetic_log spaces records a minute apart: stretch them over a day.
    store = synthetic_log(log, rows, start=time.time() - DAY)
    store.close()
    import sqlite3

    with sqlite3.connect(log) as conn:
        conn.execute("UPDATE decisions SET ts = ? + (ts - ?) * 48", (time.time() - DAY,
                     time.time() - DAY))  # fmt: skip
    png = tmp_path / "s.png"
    result = CliRunner().invoke(app, ["stats", "--json", "--log", str(log), "--plot", str(png)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    timeline = summary["timeline"]
    assert timeline["bin_name"] == "hour" and 23 <= len(timeline["bins"]) <= 25
    assert sum(b["spend"] for b in timeline["bins"]) == pytest.approx(summary["spend"])
    assert sum(b["saved"] for b in timeline["bins"]) == pytest.approx(summary["savings"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_stats_plot_of_no_calls_writes_nothing_and_says_so(tmp_path: Path) -> None:
    log = tmp_path / "d.db"
    synthetic_log(log, [{"prompt": "hello"}], start=time.time() - 3 * DAY).close()
    png = tmp_path / "s.png"
    result = CliRunner().invoke(
        app, ["stats", "--since", "1h", "--log", str(log), "--plot", str(png)]
    )
    assert result.exit_code == 0, result.output
    assert "no plot written" in result.stderr and not png.exists()
