"""The installed package, not the source tree: what `pip install .` gives a user."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def _installed_cli() -> str | None:
    beside = Path(sys.executable).with_name("tierrouter")
    return str(beside) if beside.exists() else shutil.which("tierrouter")


def test_installed_cli_answers_with_the_bundled_model(tmp_path: Path) -> None:
    """Run from outside the checkout, the console script decides with the model in the wheel."""
    cli = _installed_cli()
    if cli is None:
        pytest.skip("tierrouter is not installed in this environment")
    result = subprocess.run(
        [cli, "classify", "--json", "Prove that the square root of 2 is irrational"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    decision = json.loads(result.stdout)
    assert decision["source"] == "model", decision["warnings"]
    assert decision["tier"] == "REASONING"
