"""`tierrouter classify` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from router.cli.app import app

runner = CliRunner()


def test_classify_prints_the_decision_as_json() -> None:
    """--json prints the decision as JSON with tier, task and language."""
    result = runner.invoke(
        app, ["classify", "--json", "Prove that the square root of 2 is irrational"]
    )
    assert result.exit_code == 0, result.output
    decision = json.loads(result.output)
    assert decision["tier"] == "REASONING"
    assert decision["task"] == "math"
    assert decision["language"] == "en"
    assert set(decision["tier_probabilities"]) == {"SIMPLE", "MEDIUM", "COMPLEX", "REASONING"}


def test_classify_reads_stdin() -> None:
    """'-' reads the prompt from standard input."""
    result = runner.invoke(app, ["classify", "--json", "-"], input="请用Python写一个快速排序函数。")
    assert result.exit_code == 0, result.output
    decision = json.loads(result.output)
    assert (decision["task"], decision["language"]) == ("coding", "zh")


def test_the_default_is_a_short_summary() -> None:
    """Without --json a person gets a few lines, not the whole decision."""
    result = runner.invoke(app, ["classify", "Prove that the square root of 2 is irrational"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "REASONING  math  (language en)"
    assert lines[1].startswith("score ") and "confidence " in lines[1]
    assert "source model" in lines[1]
    assert lines[2].startswith("tiers: SIMPLE ")
    assert len(lines) <= 8


def test_explain_prints_a_feature_table() -> None:
    """--explain lists every feature with its contribution."""
    result = runner.invoke(app, ["classify", "--explain", "Write a poem about the sea"])
    assert result.exit_code == 0, result.output
    assert "creative_markers" in result.output
    assert "negation_complexity" in result.output
    assert "creative_writing" in result.output


def test_empty_prompt_is_a_clear_error() -> None:
    """An empty prompt exits non-zero with the reason, not a traceback."""
    result = runner.invoke(app, ["classify", "   "])
    assert result.exit_code == 2
    assert "prompt is empty" in result.output
    assert "Traceback" not in result.output


def test_batch_writes_one_record_per_line_and_keeps_bad_lines(tmp_path: Path) -> None:
    """--batch classifies each line; bad lines become error records, none are lost."""
    source = tmp_path / "in.jsonl"
    source.write_text(
        "\n".join(
            [
                json.dumps({"id": "a", "prompt": "hello"}),
                json.dumps({"id": "b", "messages": [{"role": "user", "content": "solve 2x=4"}]}),
                "{not json",
                json.dumps({"id": "d", "prompt": ""}),
                json.dumps("a bare string prompt"),
                json.dumps({"id": "f", "text": "wrong field"}),
            ]
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["classify", "--batch", str(source), "--out", str(out)])
    assert result.exit_code == 1
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 6
    assert records[0]["id"] == "a" and records[0]["decision"]["tier"] == "SIMPLE"
    assert records[1]["decision"]["task"] == "math"
    assert "invalid JSON" in records[2]["error"]
    assert records[3]["id"] == "d" and "prompt is empty" in records[3]["error"]
    assert "decision" in records[4]
    assert records[5]["line"].endswith(":6") and "no 'prompt'" in records[5]["error"]
    assert "'messages'" in records[5]["error"]
    assert "3 of 6 lines" in result.output


def test_batch_and_prompt_together_is_refused() -> None:
    """Giving both a prompt and --batch names the conflict."""
    result = runner.invoke(app, ["classify", "hi", "--batch", "x.jsonl"])
    assert result.exit_code != 0
    assert "not both" in result.output


def test_version() -> None:
    """--version prints the package version."""
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("tierrouter ")
