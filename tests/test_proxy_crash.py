"""``kill -9`` under load: every decision the proxy answered is in the decision log.

A real ``tierrouter serve`` process, a fake upstream, four clients sending
requests; the server is killed with SIGKILL mid-traffic, then the log file is
read. An answered decision id missing from the log would be a record that was
acknowledged before it was durable.

CI kills 3 servers; ``TIERROUTER_CRASH_TRIES=10`` (or more) for a longer run.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from fake_providers import FakeProviders
from test_proxy_harness import PROVIDER_KEYS

from router.log.sqlite import SQLiteDecisionLog

ROOT = Path(__file__).parents[1]
TRIES = int(os.environ.get("TIERROUTER_CRASH_TRIES", "3"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_server(
    tmp_path: Path, fake: FakeProviders, log: Path
) -> tuple[subprocess.Popen[str], str]:
    config = tmp_path / "serve.yaml"
    config.write_text(
        f"log:\n  path: {log}\n"
        "providers:\n"
        f"  openai: {{base_url: '{fake.url('openai')}'}}\n"
        f"  anthropic: {{base_url: '{fake.url('anthropic')}'}}\n"
        f"  google: {{base_url: '{fake.url('gemini')}'}}\n"
        "proxy:\n  log_format: 'off'\n",
        encoding="utf-8",
    )
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "OPENAI_API_KEY": PROVIDER_KEYS["openai"],
        "ANTHROPIC_API_KEY": PROVIDER_KEYS["anthropic"],
        "GEMINI_API_KEY": PROVIDER_KEYS["google"],
        "HOME": str(tmp_path),
    }
    process = subprocess.Popen(
        [sys.executable, "-c", "from router.cli import main; main()", "serve",
         "--config", str(config), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited: {process.stderr.read() if process.stderr else ''}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("serve did not start")


@pytest.mark.slow
@pytest.mark.parametrize("attempt", range(TRIES))
def test_kill_9_under_load_loses_no_answered_decision(
    tmp_path: Path, fake: FakeProviders, attempt: int
) -> None:
    log_path = tmp_path / "decisions.db"
    process, url = _start_server(tmp_path, fake, log_path)
    answered: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client() -> None:
        with httpx.Client(timeout=10) as http:
            for i in range(2000):  # bounded; stops at the kill long before
                if stop.is_set():
                    return
                body = {"model": "auto", "messages": [{"role": "user", "content": f"hi {i}"}]}
                try:
                    response = http.post(f"{url}/v1/chat/completions", json=body)
                except httpx.HTTPError:
                    return  # the server is gone
                if response.status_code == 200:
                    with lock:
                        answered.append(response.headers["x-tierrouter-decision-id"])

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with lock:
            if len(answered) >= 150 + 50 * attempt:
                break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    stop.set()
    for thread in threads:
        thread.join(20)
    assert len(answered) >= 100, "the load never got going"
    log = SQLiteDecisionLog(log_path)
    try:
        missing = [d for d in answered if log.get(d) is None]
    finally:
        log.close()
    assert missing == [], f"{len(missing)} of {len(answered)} answered decisions were lost"
