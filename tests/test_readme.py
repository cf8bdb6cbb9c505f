"""The README's offline examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks(section: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {section}")
    end = text.find("\n## ", start + 1)
    body = text[start : end if end > 0 else None]
    return re.findall(r"```python\n(.*?)```", body, flags=re.S)


@pytest.mark.parametrize("section", ["Quick start", "Routing rules and firewall"])
def test_readme_examples_run(section: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each offline Python example of the README runs without error."""
    monkeypatch.chdir(tmp_path)
    blocks = _python_blocks(section)
    assert blocks, section
    for block in blocks:
        exec(compile(block, f"README:{section}", "exec"), {})


def test_quick_start_claims_hold() -> None:
    """What the quick start says about its example is what the bundled router decides."""
    from router import Router, Task, Tier

    decision = Router().classify("Implement a lock-free MPMC queue in Rust using atomics")
    assert decision.task is Task.CODING
    assert decision.tier is Tier.COMPLEX
    assert decision.source == "model"
