"""One prompt, one decision, bit for bit, whichever process makes it.

Python salts string hashes per process (PYTHONHASHSEED), so anything that sums in the
iteration order of a set of strings gives two proxy workers two slightly different
scores for the same prompt. This runs the decision in two interpreters with different
seeds and compares every field of ``to_dict()`` as exact float text.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parent.parent

_SCRIPT = """
import json, sys
from router import Router
payloads = json.loads(sys.stdin.read())
router = Router()
out = []
for payload in payloads:
    d = router.classify(payload).to_dict()
    d.pop("id")  # a fresh identifier per decision, by design
    out.append(d)
# json writes floats with repr: the exact bits round-trip as text.
print(json.dumps(out, sort_keys=False))
"""


def _payloads() -> list[object]:
    lines = (_ROOT / "benchmarks" / "prompts.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    # Every fifth prompt: English, CJK, other scripts, code and multi-turn chats alike.
    picked: list[object] = [r["prompt"] if "prompt" in r else r["messages"] for r in rows[::5]]
    picked.append("请写一篇关于春天的作文，不少于800字。" * 40)  # CJK cut to head and tail
    picked.append(" ".join(f"word{i} number {i}" for i in range(600)))  # words cut likewise
    return picked


def _decide(seed: str, payloads: list[object], data_dir: Path) -> list[dict[str, object]]:
    env = {**os.environ, "PYTHONHASHSEED": seed, "TIERROUTER_DATA_DIR": str(data_dir)}
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        input=json.dumps(payloads),
        capture_output=True,
        text=True,
        cwd=_ROOT,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    decisions: list[dict[str, object]] = json.loads(done.stdout)
    return decisions


@pytest.mark.parametrize("seeds", [("0", "1"), ("12345", "random")])
def test_decision_is_the_same_in_processes_with_different_string_hashing(
    seeds: tuple[str, str], tmp_path: Path
) -> None:
    payloads = _payloads()
    assert len(payloads) >= 40
    first = _decide(seeds[0], payloads, tmp_path / "a")
    second = _decide(seeds[1], payloads, tmp_path / "b")
    assert len(first) == len(second) == len(payloads)
    assert any(d["source"] == "model" for d in first), "the bundled model did not decide"
    for payload, a, b in zip(payloads, first, second, strict=True):
        for field in ("tier_probabilities", "task_scores", "score", "confidence", "tier", "task"):
            assert json.dumps(a[field]) == json.dumps(b[field]), (field, str(payload)[:80])
        assert a == b, str(payload)[:80]
