"""The decision-log commands on a missing or empty log, and help that matches validation."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from router.cli.app import app
from router.log.sqlite import SQLiteDecisionLog
from router.log.store import FEEDBACK_VERDICTS


def test_train_logs_on_a_missing_file_names_it_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    result = CliRunner().invoke(app, ["train", "--no-public", "--logs", str(missing)])
    assert result.exit_code == 2
    assert f"no decision log at {missing}" in result.stderr and "--logs" in result.stderr
    assert not missing.exists()


def test_stats_on_an_empty_log_says_there_are_no_calls(tmp_path: Path) -> None:
    log = tmp_path / "d.db"
    SQLiteDecisionLog(log).close()
    result = CliRunner().invoke(app, ["stats", "--log", str(log)])
    assert result.exit_code == 0 and "no calls logged yet" in result.stdout
    assert "by task" not in result.stdout


def test_feedback_help_lists_every_verdict_it_accepts() -> None:
    result = CliRunner().invoke(app, ["feedback", "--help"], env={"COLUMNS": "200"})
    words = " ".join(result.output.replace("│", " ").split())
    assert all(v in words for v in FEEDBACK_VERDICTS), words
