"""Session fixtures for the fleet tests: real Redis and PostgreSQL (tests/fleet_servers.py).

Outside CI the tests that need a server skip, naming what is missing; with
``CI=true`` a missing server is a failure, because CI must run them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from fleet_servers import PostgresServer, RedisServer, find_postgres_bin, find_redis


def _missing(what: str) -> None:
    message = (
        f"{what} is not installed (apt-get install -y redis-server postgresql; .ci/run does it)"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must run the fleet tests: {message}")
    pytest.skip(message)


def _client_missing() -> bool:
    try:
        import psycopg  # noqa: F401
        import redis  # noqa: F401
    except ImportError:
        return True
    return False


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    binary = find_redis()
    if binary is None or _client_missing():
        _missing("redis-server" if binary is None else "the 'fleet' extra")
    assert binary is not None
    server = RedisServer(binary).start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    bindir = find_postgres_bin()
    if bindir is None or _client_missing():
        _missing("PostgreSQL" if bindir is None else "the 'fleet' extra")
    assert bindir is not None
    server = PostgresServer(bindir).init().start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """The session's Redis, emptied for this test (and restarted if a test killed it)."""
    import redis

    from router.state.link import forget_links

    if redis_server.proc is None:
        redis_server.start()
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    yield redis_server.url
    forget_links()


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> Iterator[str]:
    """A fresh database on the session's PostgreSQL (restarted if a test stopped it)."""
    from router.db.postgres import close_pools

    if not pg_server.running():
        pg_server.start()
    yield pg_server.database()
    close_pools()
