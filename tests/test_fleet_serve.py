"""Two real `tierrouter serve` processes sharing one Redis and one PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fake_providers import FakeProviders, Fault
from fleet_servers import free_port
from test_fleet_store import challenger, wait_for
from test_proxy_harness import ADMIN_KEY, HI, PROVIDER_KEYS, PROXY_KEY

AUTH = {"authorization": f"Bearer {PROXY_KEY}"}
ADMIN = {"authorization": f"Bearer {ADMIN_KEY}"}
TIERROUTER = str(Path(sys.executable).parent / "tierrouter")


@contextlib.contextmanager
def serve(config: Path, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [TIERROUTER, "serve", "--config", str(config), "--port", str(port),
         "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read().decode() if proc.stderr else ""
                pytest.fail(f"tierrouter serve exited with {proc.returncode}: {err[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail("tierrouter serve did not answer /health within 60 s")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def chat(url: str, model: str = "auto") -> dict[str, Any]:
    reply = httpx.post(f"{url}/v1/chat/completions", headers=AUTH, timeout=10,
                       json={"model": model, "messages": HI})  # fmt: skip
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def test_two_serve_processes_share_rules_feedback_cooldowns_and_the_champion(
    fake: FakeProviders, redis_url: str, pg_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "fleet.yaml"
    config.write_text(yaml.safe_dump({
        "keys": PROVIDER_KEYS,
        "providers": {"openai": {"base_url": fake.url("openai")},
                      "anthropic": {"base_url": fake.url("anthropic")},
                      "google": {"base_url": fake.url("gemini")}},
        "store": pg_url,
        "state": redis_url,
        "proxy": {"proxy_keys": [PROXY_KEY], "admin_key": ADMIN_KEY, "log_format": "off"},
    }))  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env["TIERROUTER_DATA_DIR"] = str(tmp_path / "data")
    with serve(config, env) as a, serve(config, env) as b:
        assert httpx.get(f"{a}/health", timeout=5).json()["fleet"]["state"]["ok"] is True
        # A rule made through a's admin API routes b's next requests within 1 s.
        usual = chat(b)["tierrouter"]["model"]
        best = chat(b, "auto:best")["tierrouter"]["model"]
        assert usual != best
        made = httpx.post(f"{a}/v1/routing_rules", headers=ADMIN, timeout=10,
                          json={"name": "best", "action": {"set_model": best}})  # fmt: skip
        assert made.status_code == 201, made.text
        wait_for(lambda: chat(b)["tierrouter"]["model"] == best, 1.0, "rule on b")
        assert httpx.delete(f"{b}/v1/routing_rules/{made.json()['id']}", headers=ADMIN,
                            timeout=10).status_code == 200  # fmt: skip
        wait_for(lambda: chat(a)["tierrouter"]["model"] == usual, 1.0, "deletion on a")
        # Feedback to b attaches to the decision a logged.
        decision = chat(a)["tierrouter"]["decision_id"]
        fb = httpx.post(f"{b}/v1/feedback", headers=AUTH, timeout=10,
                        json={"decision_id": decision, "verdict": "needed_stronger"})  # fmt: skip
        assert fb.status_code == 200, fb.text
        # A 429 a sees rests the model on b: after the 100 ms bound, b does not call it.
        api_model = usual.split("/", 1)[1]
        fake.fail(api_model, Fault(status=429), Fault(status=429))
        assert chat(a)["tierrouter"]["model"] != usual
        time.sleep(0.1)
        fake.reset()
        assert chat(b)["tierrouter"]["model"] != usual
        assert api_model not in fake.models_called()
        # `models promote --store` on this machine: both serve the champion within 5 s.
        from router.log.pg_registry import PgRegistry

        folder = challenger(tmp_path, "fleet-champion")
        PgRegistry(pg_url).publish(folder)
        done = subprocess.run([TIERROUTER, "models", "promote", folder.name, "--store", pg_url],
                              env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
        assert done.returncode == 0, done.stderr

        def version(url: str) -> str:
            reply = httpx.post(f"{url}/v1/classify", headers=AUTH, timeout=10,
                               json={"messages": HI})  # fmt: skip
            return str(reply.json()["decision"]["model_version"])

        for url in (a, b):
            wait_for(lambda url=url: version(url) == "fleet-champion", 5.0, "champion served")
    import psycopg

    with psycopg.connect(pg_url) as conn:
        row = conn.execute("SELECT verdict FROM feedback WHERE decision_id = %s", (decision,))
        assert row.fetchone() == ("needed_stronger",)
