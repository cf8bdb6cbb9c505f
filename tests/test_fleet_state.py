"""Shared state on a real Redis: cooldowns, rate limits and spend counters, and Redis going away."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from fleet_servers import RedisServer

from router.state.cooldowns import RedisCooldownStore
from router.state.link import RedisLink
from router.state.ratelimit import RateLimit, RedisRateLimiter
from router.state.spend import RedisSpendLedger, periods


def wait_for(condition: Callable[[], Any], within: float, what: str) -> Any:
    deadline = time.monotonic() + within
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"not within {within} s: {what}")
        time.sleep(0.002)


def instances(url: str, n: int) -> list[RedisLink]:
    """``n`` links as ``n`` instances would hold them (each its own clients and health)."""
    return [RedisLink(url) for _ in range(n)]


def test_a_cooldown_seen_by_one_instance_stops_the_others_within_100_ms(redis_url: str) -> None:
    a, b, c = (RedisCooldownStore(link) for link in instances(redis_url, 3))
    for store in (a, b, c):
        wait_for(store.subscribed.is_set, 5, "subscribed")
    a.cool("oa/fast-1", 30)
    wait_for(lambda: b.remaining("oa/fast-1") > 25 and c.remaining("oa/fast-1") > 25, 0.1,
             "b and c see a's cooldown")  # fmt: skip
    # A model answering on b clears it everywhere.
    b.clear("oa/fast-1")
    wait_for(lambda: a.remaining("oa/fast-1") == 0 and c.remaining("oa/fast-1") == 0, 0.1,
             "a and c see the clear")  # fmt: skip


def test_an_instance_started_later_loads_the_cooldowns_in_force(redis_url: str) -> None:
    a = RedisCooldownStore(RedisLink(redis_url))
    wait_for(a.subscribed.is_set, 5, "subscribed")
    a.cool("an/claude-x", 20)
    wait_for(lambda: a.link.sync.exists(a.link.key("cooldown", "an/claude-x")), 1, "stored")
    late = RedisCooldownStore(RedisLink(redis_url))
    wait_for(lambda: late.remaining("an/claude-x") > 15, 1, "the late instance knows it")


def test_a_global_rate_limit_holds_across_instances(redis_url: str) -> None:
    limiters = [RedisRateLimiter(link) for link in instances(redis_url, 3)]
    limit = RateLimit(requests=25, window=3600)

    async def burst() -> list[bool]:
        hits = [limiters[i % 3].hit("key-a", limit) for i in range(60)]
        return [v.allowed for v in await asyncio.gather(*hits)]

    allowed = asyncio.run(burst())
    assert sum(allowed) == 25
    # Another key has its own budget.
    other = asyncio.run(limiters[0].hit("key-b", limit))
    assert other.allowed and other.count == 1


def test_spend_counters_add_up_across_instances(redis_url: str) -> None:
    ledgers = [RedisSpendLedger(link) for link in instances(redis_url, 2)]
    for i in range(10):
        ledgers[i % 2].add(["key:k1", "user:alice"], 0.25)
    for ledger in ledgers:
        assert ledger.flush()
    day, month = periods()
    keys = [("key:k1", day), ("user:alice", month), ("tag:x", day)]
    totals = asyncio.run(ledgers[0].totals(keys))
    assert totals == pytest.approx([2.5, 2.5, 0.0])
    rows = {(r["scope"], r["period"]): r for r in ledgers[1].rows()}
    assert rows[("user:alice", day)]["requests"] == 10


def test_redis_down_falls_back_to_local_state_and_recovers(
    redis_server: RedisServer, redis_url: str
) -> None:
    a_link, b_link = instances(redis_url, 2)
    a, b = RedisCooldownStore(a_link), RedisCooldownStore(b_link)
    spend = RedisSpendLedger(a_link)
    limiter = RedisRateLimiter(a_link)
    for store in (a, b):
        wait_for(store.subscribed.is_set, 5, "subscribed")
    redis_server.stop()
    wait_for(lambda: not a_link.ok, 2, "a's subscriber notices Redis is gone")
    # Everything still answers, from local state.
    a.cool("gg/gem-x", 30)
    assert a.remaining("gg/gem-x") > 25
    spend.add(["key:k1"], 1.0)
    day, _ = periods()
    assert asyncio.run(spend.totals([("key:k1", day)])) == [1.0]
    verdict = asyncio.run(limiter.hit("key-a", RateLimit(5, 60)))
    assert verdict.allowed
    redis_server.start()
    wait_for(lambda: a_link.ok and b_link.ok, 5, "both links recover")
    # What a learned while Redis was away reaches b, and the spend reaches Redis.
    wait_for(lambda: b.remaining("gg/gem-x") > 20, 2, "a's outage cooldown reaches b")
    assert spend.flush()
    fresh = RedisSpendLedger(RedisLink(redis_url))
    assert asyncio.run(fresh.totals([("key:k1", day)])) == [1.0]
    assert a_link.outages == 1


def test_conversations_reach_an_instance_started_later_and_survive_redis_going_away(
    redis_server: RedisServer, redis_url: str
) -> None:
    from router.state.sessions import RedisSessionStore

    a_link, b_link, c_link = instances(redis_url, 3)
    a = RedisSessionStore(a_link, idle_seconds=600)
    wait_for(a.subscribed.is_set, 5, "subscribed")
    assert a.settle("conv-1", "oa/fast-1", 2) == "new"
    assert a.settle("conv-1", "oa/big-1", 3) == "escalated"
    b = RedisSessionStore(b_link, idle_seconds=600)  # started after both turns
    wait_for(b.subscribed.is_set, 5, "subscribed")
    assert b.prefer("conv-1") == ("oa/big-1", 3)
    assert b.settle("conv-1", "oa/big-1", 1) == "kept"  # the tier it was chosen for stays
    c = RedisSessionStore(c_link, idle_seconds=600)
    wait_for(c.subscribed.is_set, 5, "subscribed")
    redis_server.stop()
    # Redis away: each instance keeps what it knows and goes on with its own turns.
    assert c.prefer("conv-1") == ("oa/big-1", 3)
    assert c.settle("conv-2", "oa/fast-1", 1) == "new"
    assert c.prefer("conv-2") == ("oa/fast-1", 1)
    redis_server.start()
    for store in (a, b, c):
        store.close()
