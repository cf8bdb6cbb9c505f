"""The README's shell commands, in order, in a fresh clone with nothing beside it.

The repository is cloned (``git clone`` of this checkout's committed HEAD) into a temp dir
with no ``../shared``; ``TIERROUTER_DATASETS`` names an empty folder, ``HOME`` is empty,
no provider key is set, and HTTP(S) goes to a proxy that refuses, so nothing reaches the
internet. Every command of every ```bash block of the clone's README is run with bash in
the clone and must succeed, or exit as :data:`EXPECTED` says with a message the README
itself documents. A command added to the README without an entry here fails the test.

What is not run, and why, is in :data:`EXPECTED` too: the set-up's ``pip install`` (it
downloads; the clone's code runs on this test's interpreter instead, via ``PYTHONPATH``),
the test suite itself, the server (it runs until stopped) and the commands that talk to it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.slow,  # `tierrouter train` on data/ alone: about a minute of CPU
    pytest.mark.skipif(
        shutil.which("git") is None or not (REPO / ".git").exists(),
        reason="needs git and a git checkout to clone",
    ),
]


@dataclass(frozen=True)
class Expect:
    code: int = 0
    says: tuple[str, ...] = ()  # each in the command's stdout + stderr
    run: str | None = None  # run this instead of the README line
    skip: str | None = None  # why the line is not run


NO_LOG = "Error: no decision log at"
SERVER = "needs a running `tierrouter serve`; tests/test_proxy_*.py cover it"
SETUP = (
    'python3 -m venv .venv && . .venv/bin/activate && pip install ".[dev,train,proxy,fleet]" && '
    'tierrouter classify "Prove that the square root of 2 is irrational"'
)

EXPECTED: dict[str, Expect] = {
    SETUP: Expect(
        run='tierrouter classify "Prove that the square root of 2 is irrational"',
        says=("REASONING  math",),
    ),
    "python -m pytest -q": Expect(skip="the test suite this test belongs to"),
    'tierrouter classify "Write a haiku about autumn"': Expect(says=("creative_writing",)),
    'tierrouter classify --json "Write a haiku about autumn"': Expect(says=('"tier": ',)),
    'tierrouter classify --explain "Summarize the following…"': Expect(says=("summarization",)),
    'echo "hello" | tierrouter classify -': Expect(says=("SIMPLE",)),
    "printf '%s\\n' '{\"prompt\": \"Write a haiku\"}' '{\"messages\": [{\"role\": \"user\", "
    "\"content\": \"2+2?\"}]}' > prompts.jsonl": Expect(),
    "tierrouter classify --batch prompts.jsonl --out decisions.jsonl": Expect(),
    "tierrouter train": Expect(says=("training on data/ alone", "tierrouter datasets fetch --all",
                                     "wrote json: models/tierrouter-model.json")),
    "tierrouter train --data data/fr.jsonl --data data/de.jsonl --out my-model.json": Expect(
        says=("wrote json: my-model.json",)
    ),
    "tierrouter datasets list": Expect(
        says=("0 of 20 sets present", "tierrouter datasets fetch --all")
    ),
    "tierrouter datasets fetch --all": Expect(
        skip="downloads from GitHub; tests/test_cli_datasets.py fetches from a local server"
    ),
    "tierrouter datasets verify": Expect(says=("no set present",)),
    "tierrouter eval --out-dir reports/": Expect(
        says=("evaluating on data/ alone", "no outcome set present: no cost-quality figure")
    ),
    "tierrouter serve": Expect(skip="runs until stopped; tests/test_proxy_*.py start it"),
    "tierrouter serve --config config.yaml --host 0.0.0.0 --port 8080 --workers 2": Expect(
        skip=SERVER
    ),
    "export ANTHROPIC_BASE_URL=http://127.0.0.1:8080 ANTHROPIC_AUTH_TOKEN=<proxy key> "
    "ANTHROPIC_MODEL=auto": Expect(skip=SERVER),
    'curl http://127.0.0.1:8080/v1/chat/completions -H "Authorization: Bearer $KEY" '
    '-d \'{"model": "auto", "messages": [{"role": "user", "content": "Hi"}]}\' -i': Expect(
        skip=SERVER
    ),
    'tierrouter route "Implement a lock-free MPMC queue in Rust using atomics"': Expect(
        # After the README's `tierrouter train` on data/ alone (no ../shared here), so the
        # tier is that model's call; the task and the plan are what this line shows.
        says=("coding", "estimated cost")
    ),
    "tierrouter rules list --db policy.sqlite": Expect(says=("no routing rules",)),
    "tierrouter firewall list --db policy.sqlite": Expect(says=("no firewall rules",)),
    "tierrouter catalog --profile eco": Expect(says=("profile eco", "$/1M in")),
    "tierrouter feedback <decision-id> --verdict needed_stronger": Expect(
        code=2, says=(NO_LOG,), run="tierrouter feedback rt-example --verdict needed_stronger"
    ),
    "tierrouter label --judge openai/gpt-4o": Expect(code=2, says=(NO_LOG,)),
    "tierrouter label --shadow 0.05 --strong openai/gpt-4o --judge openai/gpt-4o": Expect(
        code=2, says=(NO_LOG,)
    ),
    "tierrouter db upgrade --store postgresql://...": Expect(
        skip="needs a PostgreSQL server; tests/test_fleet_store.py runs it on a real one"
    ),
    "tierrouter serve --config config.yaml": Expect(skip=SERVER),
    "tierrouter spend --config config.yaml": Expect(
        skip="reads a fleet's Redis state; tests/test_fleet_*.py run it on a real server"
    ),
    "tierrouter train --logs ~/.local/share/tierrouter/decisions.db": Expect(
        code=2, says=(NO_LOG,)
    ),
    "tierrouter models list": Expect(says=("no models in",)),
    "tierrouter stats --since 7d --plot spend.png": Expect(code=2, says=(NO_LOG,)),
}  # fmt: skip


def readme_commands(readme: str) -> list[str]:
    """Each command of each ```bash block: comments dropped, continued lines joined."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", readme, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            # A comment starts at " #" outside quotes; the README's lines keep '#' out of
            # their quoted text, so the first " # " or leading "#" is enough.
            code = re.sub(r"(^|\s+)#(\s.*)?$", "", line).strip()
            code = re.sub(r"\s+", " ", code)
            if code:
                commands.append(code)
    return commands


def test_readme_commands_run_in_a_fresh_clone(tmp_path: Path) -> None:
    clone = tmp_path / "tierrouter"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    assert not (tmp_path / "shared").exists()
    readme = (clone / "README.md").read_text(encoding="utf-8")
    commands = readme_commands(readme)
    assert set(commands) == set(EXPECTED), (
        f"README commands without an entry: {sorted(set(commands) - set(EXPECTED))}; "
        f"entries no longer in the README: {sorted(set(EXPECTED) - set(commands))}"
    )

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "tierrouter"
    shim.write_text(
        f"#!{sys.executable}\nimport sys\nfrom router.cli import main\nsys.exit(main())\n"
    )
    shim.chmod(0o755)
    home = tmp_path / "home"
    home.mkdir()
    datasets = tmp_path / "no-datasets"
    datasets.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith("_API_KEY") and not k.startswith(("TIERROUTER_", "XDG_"))
    }
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=str(clone),  # the clone's router/ and training/, not this checkout's
        HOME=str(home),
        TIERROUTER_DATASETS=str(datasets),
        COLUMNS="80",
        # Any HTTP(S) request fails at once instead of leaving the machine.
        HTTP_PROXY="http://127.0.0.1:9",
        HTTPS_PROXY="http://127.0.0.1:9",
        NO_PROXY="",
    )

    ran = 0
    for command in commands:
        expect = EXPECTED[command]
        if expect.skip:
            continue
        result = subprocess.run(
            ["bash", "-c", expect.run or command],
            cwd=clone,
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        output = result.stdout + result.stderr
        assert result.returncode == expect.code, f"{command}\n{output}"
        folded = " ".join(output.split())  # rich wraps notes at 80 columns
        for text in expect.says:
            assert text in output or text in folded, f"{command}: no {text!r} in\n{output}"
            if expect.code:
                assert text in readme, f"{command}: {text!r} is not documented in the README"
        ran += 1
    assert ran >= 15
    # The clone's own model was retrained on data/ alone, as the README says train does.
    assert (clone / "my-model.json").is_file() and (clone / "reports" / "eval.md").is_file()
