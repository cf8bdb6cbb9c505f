"""`tierrouter stats`: table, JSON and PNG from a synthetic log."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from log_helpers import synthetic_log
from typer.testing import CliRunner

from router.cli.app import app
from router.log.stats import parse_since


@pytest.fixture
def db(tmp_path: Path) -> Path:
    rows = [
        {"prompt": "hi there", "verdict": "cheaper_ok", "cost": 0.001, "baseline_cost": 0.01},
        {"prompt": "Prove Fermat's little theorem", "model": "gg/gem-x", "cost": 0.02,
         "baseline_cost": 0.02, "rating": 5},
        {"prompt": "Bonjour, comment ça va ?", "cost": 0.001, "baseline_cost": 0.004},
    ]  # fmt: skip
    synthetic_log(tmp_path / "d.db", rows, start=time.time() - 3 * 86400).close()
    return tmp_path / "d.db"


def test_stats_json(db: Path) -> None:
    out = CliRunner().invoke(app, ["stats", "--json", "--log", str(db)])
    assert out.exit_code == 0, out.output
    s = json.loads(out.output)
    assert s["calls"] == 3 and s["spend"] == pytest.approx(0.022)
    assert s["baseline_spend"] == pytest.approx(0.034) and s["savings"] == pytest.approx(0.012)
    assert s["by_model"] == {"oa/fast-1": 2, "gg/gem-x": 1} and "fr" in s["by_language"]
    assert s["feedback"]["count"] == 2 and s["feedback"]["mean_rating"] == 5.0
    assert len(s["days"]) >= 1


def test_stats_table_and_plot(db: Path, tmp_path: Path) -> None:
    png = tmp_path / "s.png"
    out = CliRunner().invoke(app, ["stats", "--log", str(db), "--plot", str(png)])
    assert out.exit_code == 0, out.output
    for text in ("calls", "savings", "by tier", "by model", "oa/fast-1", "feedback"):
        assert text in out.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_stats_since(db: Path) -> None:
    out = CliRunner().invoke(app, ["stats", "--json", "--since", "1h", "--log", str(db)])
    assert json.loads(out.output)["calls"] == 0
    bad = CliRunner().invoke(app, ["stats", "--since", "last tuesday", "--log", str(db)])
    assert bad.exit_code == 2 and "expected a span like 7d" in bad.output
    assert parse_since("2d", now=1_000_000.0) == 1_000_000.0 - 2 * 86400
