"""Claude Code itself, through ``tierrouter serve``, against the local fake upstream.

``claude -p`` runs non-interactively with telemetry, updates and error reports
off; the fake answers its first turn with a ``Read`` tool call and the turn
after the tool's result with text, so each run is a full tool round-trip. Runs
with Claude Code's default model, ``ANTHROPIC_MODEL=auto`` and a pinned Claude.

.ci/run installs the pinned Claude Code from npm before the tests. Elsewhere
the test skips when ``claude`` is not installed; in CI (``CI`` set) it fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fake_providers import FakeProviders, Recorded
from test_proxy_harness import PROVIDER_KEYS

pytestmark = pytest.mark.slow

CLAUDE = shutil.which("claude")
if CLAUDE is None:
    if os.environ.get("CI"):
        pytest.fail("CI is set but Claude Code is not installed (.ci/run installs it)")
    pytest.skip("Claude Code (`claude`) is not installed", allow_module_level=True)

PROXY_KEY = "tr-claude-code-key"
MARKER = "tierrouter-marker-7f3a"
# No telemetry, no update checks, no error reports, no other traffic: CI reaches
# package registries only, and the test must not depend on anything but the proxy.
QUIET = {
    "DISABLE_TELEMETRY": "1",
    "DISABLE_AUTOUPDATER": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_ERROR_REPORTING": "1",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve(fake: FakeProviders, tmp: Path) -> Iterator[str]:
    """``tierrouter serve`` in its own process, its providers pointed at the fake."""
    config = {
        "keys": PROVIDER_KEYS,
        "providers": {
            "openai": {"base_url": fake.url("openai")},
            "anthropic": {"base_url": fake.url("anthropic")},
            "google": {"base_url": fake.url("gemini")},
        },
        "proxy": {"proxy_keys": [PROXY_KEY], "log_format": "json"},
    }
    path = tmp / "config.yaml"
    path.write_text(json.dumps(config))  # JSON is YAML
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    log = (tmp / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-c", "from router.cli import main; main()", "serve",
         "--config", str(path), "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp / "serve.log").read_text())
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def run_claude(url: str, workdir: Path, home: Path, model: str | None) -> dict[str, Any]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), **QUIET}
    env |= {"ANTHROPIC_BASE_URL": url, "ANTHROPIC_AUTH_TOKEN": PROXY_KEY}
    if model is not None:
        env["ANTHROPIC_MODEL"] = model
    assert CLAUDE is not None
    done = subprocess.run(
        [CLAUDE, "-p", "Read marker.txt and tell me what it says.", "--output-format", "json"],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, f"claude exited {done.returncode}: {done.stderr[-2000:]}"
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _tool_results(request: Recorded) -> list[str]:
    """The tool results a request carries back, in either wire format."""
    out = []
    for message in request.body.get("messages") or ():
        if message.get("role") == "tool":
            out.append(str(message.get("content")))
        content = message.get("content")
        if isinstance(content, list):
            out += [json.dumps(b) for b in content if b.get("type") == "tool_result"]
    return out


@pytest.mark.parametrize(
    "model", [None, "auto", "claude-sonnet-4-5"], ids=["default", "auto", "pinned"]
)
def test_claude_code_completes_a_tool_round_trip(
    model: str | None, fake: FakeProviders, tmp_path: Path
) -> None:
    workdir, home = tmp_path / "work", tmp_path / "home"
    workdir.mkdir()
    home.mkdir()
    (workdir / "marker.txt").write_text(MARKER + "\n")
    fake.use_tool("Read", {"file_path": str(workdir / "marker.txt")})
    with serve(fake, tmp_path) as url:
        result = run_claude(url, workdir, home, model)
    assert result["is_error"] is False, result
    assert result["num_turns"] >= 2  # the tool call, then the answer after its result
    agent = [r for r in fake.requests if r.body.get("tools")]
    answered = [r for r in agent if any(MARKER in t for t in _tool_results(r))]
    assert answered, "no upstream request carried the Read tool's result back"
    assert "Hello from" in result["result"]  # the fake's text reply ended the loop
    # One conversation, one model: every turn of the agent loop went to the same one.
    assert len({(r.api, r.model) for r in agent}) == 1, [(r.api, r.model) for r in agent]
    if agent[0].api == "anthropic":
        # Full fidelity: the prompt-caching hints arrived, as did Claude Code's betas.
        assert "cache_control" in json.dumps(agent[0].body)
        assert "anthropic-beta" in agent[0].headers
    if model == "claude-sonnet-4-5":
        assert agent[0].model == "claude-sonnet-4-5"
