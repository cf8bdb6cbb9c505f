"""Faults lose nothing and stop nothing: Redis and PostgreSQL killed and restarted mid-load."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fake_providers import FakeProviders
from fleet_servers import PostgresServer, RedisServer
from test_fleet_proxy import ADMIN, chat, proxies, wait_for
from test_proxy_harness import ProxyServer


class Load:
    """Requests in a loop against every proxy, from a thread, until stopped."""

    def __init__(self, servers: list[ProxyServer]) -> None:
        self.servers = servers
        self.statuses: list[int] = []
        self.decisions: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        i = 0
        while not self._stop.is_set():
            reply = chat(self.servers[i % len(self.servers)])
            self.statuses.append(reply.status_code)
            if reply.status_code == 200:
                self.decisions.append(reply.json()["tierrouter"]["decision_id"])
            i += 1

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def wait_more(self, n: int) -> None:
        target = len(self.statuses) + n
        wait_for(lambda: len(self.statuses) >= target, 30, f"{n} more requests served")


def health(server: ProxyServer) -> dict:
    return httpx.get(f"{server.url}/health", timeout=10).json()


def metrics(server: ProxyServer) -> str:
    return httpx.get(f"{server.url}/metrics", headers=ADMIN, timeout=10).text


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("TIERROUTER_DATA_DIR", str(tmp_path))
    yield tmp_path


def test_redis_down_mid_load_fails_no_request_and_recovers(
    fake: FakeProviders, redis_server: RedisServer, redis_url: str, data_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    limits = {"budgets": {"key": {"daily": 1000}}, "rate_limit": {"requests": 10**5}}
    fleet = proxies(fake, 2, {"state": redis_url}, **limits)
    with fleet as servers, Load(servers) as load:
        load.wait_more(10)
        assert health(servers[0])["fleet"]["state"]["ok"] is True
        # Only the admin key sees where the shared state lives.
        assert "url" not in health(servers[0])["fleet"]["state"]
        detailed = httpx.get(f"{servers[0].url}/health", headers=ADMIN, timeout=10).json()
        assert detailed["fleet"]["state"]["url"].startswith("redis://127.0.0.1:")
        redis_server.stop()
        load.wait_more(30)
        for s in servers:
            wait_for(lambda s=s: health(s)["status"] == "degraded", 5, "/health says degraded")
        assert "tierrouter_state_up 0" in metrics(servers[1])
        assert any("unreachable" in r.getMessage() for r in caplog.records)
        redis_server.start()
        for s in servers:
            wait_for(lambda s=s: health(s)["status"] == "ok", 10, "/health recovers")
        load.wait_more(10)
        assert "tierrouter_state_up 1" in metrics(servers[0])
    assert load.statuses and set(load.statuses) == {200}
    assert any("reachable again" in r.getMessage() for r in caplog.records)


def test_postgres_down_mid_load_spools_and_replays_every_record_once(
    fake: FakeProviders, pg_server: PostgresServer, pg_url: str, data_dir: Path
) -> None:
    with proxies(fake, 2, {"store": pg_url}) as servers:
        with Load(servers) as load:
            load.wait_more(10)
            pg_server.stop()
            load.wait_more(30)
            for s in servers:
                wait_for(lambda s=s: health(s)["fleet"]["store"]["ok"] is False, 10,
                         "/health says the log is spooling")  # fmt: skip
            assert "tierrouter_store_up 0" in metrics(servers[0])
            pg_server.start()
            load.wait_more(10)
        for s in servers:
            wait_for(lambda s=s: health(s)["fleet"]["store"]["ok"] is True, 15,
                     "the spool is replayed")  # fmt: skip
        assert set(load.statuses) == {200}
        log = servers[0].router.decision_log
        assert log is not None
        for s in servers:
            assert s.router.decision_log.flush()
        ids = [r.id for r in log.records()]
        assert len(ids) == len(set(ids))  # none twice
        assert sorted(ids) == sorted(load.decisions)  # none lost


def test_a_rule_change_while_postgres_is_down_is_a_503_and_routing_goes_on(
    fake: FakeProviders, pg_server: PostgresServer, pg_url: str, data_dir: Path
) -> None:
    from router.errors import StoreUnavailableError

    rule = {"name": "to the best", "action": {"set_model": "openai/gpt-5"}}
    with proxies(fake, 1, {"store": pg_url}) as (server,):
        made = httpx.post(f"{server.url}/v1/routing_rules", headers=ADMIN, json=rule, timeout=10)
        assert made.status_code == 201, made.text
        pg_server.stop()
        refused = httpx.post(f"{server.url}/v1/routing_rules", headers=ADMIN, timeout=30,
                             json={**rule, "name": "another"})  # fmt: skip
        assert refused.status_code == 503, refused.text
        assert "unreachable" in refused.json()["error"]["message"]
        reply = chat(server)
        assert reply.status_code == 200  # the rules loaded last keep applying
        assert reply.json()["tierrouter"]["model"] == "openai/gpt-5"
        with pytest.raises(StoreUnavailableError, match="the change was not made"):
            server.router.rules.create(name="third", action={"set_model": "openai/gpt-5"})
        pg_server.start()


def test_a_budget_exhausted_before_redis_went_away_stays_exhausted(
    fake: FakeProviders, redis_server: RedisServer, redis_url: str, data_dir: Path
) -> None:
    from test_fleet_proxy import one_call_cost

    cost = one_call_cost(fake, data_dir)
    budgets = {"user": {"daily": cost * 1.5}, "action": "block"}
    with proxies(fake, 2, {"state": redis_url}, budgets=budgets) as (a, b):
        assert chat(a, user="erin").status_code == 200
        assert chat(a, user="erin").status_code == 200
        a.ctx.admission.budgets.ledger.flush()
        assert chat(b, user="erin").status_code == 429
        redis_server.stop()
        called = len(fake.requests)
        # Each instance goes on from the fleet's totals it read last, not from zero.
        assert chat(b, user="erin").status_code == 429
        assert chat(b, user="erin").status_code == 429
        assert len(fake.requests) == called
        assert chat(b, user="frank").status_code == 200  # others are still served
        redis_server.start()
