"""Long commands report a line per stage on stderr, with or without a terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from log_helpers import synthetic_log
from typer.testing import CliRunner

from router.cli._progress import Stages
from router.cli.app import app


def test_a_stage_gets_one_line_and_counts_one_per_tenth(
    capsys: pytest.CaptureFixture[str],
) -> None:
    now = iter(float(t) for t in range(100))
    stages = Stages("demo", clock=lambda: next(now))
    stages("loading")
    stages("loading")  # the same stage again: no second line
    for done in range(1, 201):
        stages.count("rows", done, 200)
    stages("writing")
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "demo: [    1.0 s] loading"
    counts = [line for line in err if "rows:" in line]
    # One line as counting starts (so a slow first tenth shows), then one per tenth.
    assert len(counts) == 11
    assert counts[-1].endswith("rows: 200 of 200 (100%)")
    assert err[-1].endswith("] writing") and len(err) == 13


def test_stats_over_a_big_log_reports_progress_and_keeps_stdout_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from router.cli import stats as stats_cli

    log = tmp_path / "d.db"
    synthetic_log(log, [{"prompt": f"question {i}"} for i in range(30)]).close()
    # A "big" log of 30 records, read 5 at a time, stands for 20,000 read 10,000 at a time.
    monkeypatch.setattr(stats_cli, "BIG_LOG", 20)
    monkeypatch.setattr(stats_cli, "STEP", 5)
    result = CliRunner().invoke(app, ["stats", "--json", "--log", str(log)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["calls"] == 30
    lines = result.stderr.splitlines()
    assert lines[0].startswith("stats: [") and lines[0].endswith(f"reading {log}")
    assert lines[-1].endswith("records read: 30 of 30 (100%)")


def test_stats_over_a_small_log_is_quiet(tmp_path: Path) -> None:
    log = tmp_path / "d.db"
    synthetic_log(log, [{"prompt": "hello"}]).close()
    result = CliRunner().invoke(app, ["stats", "--json", "--log", str(log)])
    assert result.exit_code == 0 and result.stderr == ""


def test_a_big_classify_batch_reports_progress_on_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from router.cli import classify as classify_cli

    batch = tmp_path / "in.jsonl"
    batch.write_text(
        "".join(json.dumps({"prompt": f"what is {i} + {i}?"}) + "\n" for i in range(20))
    )
    monkeypatch.setattr(classify_cli, "BIG_BATCH", 10)  # 20 lines stand for a big batch
    result = CliRunner().invoke(app, ["classify", "--batch", str(batch)])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 20  # the records alone on stdout
    lines = result.stderr.splitlines()
    assert lines[-1].startswith("classify: [") and lines[-1].endswith("lines: 20 of 20 (100%)")
    assert len(lines) == 11
