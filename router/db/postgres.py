"""PostgreSQL connections for the fleet store: a small pool per URL, schema checked once.

psycopg is imported here only, so a router without ``store: postgresql://...``
never loads it; a missing client is a ConfigError naming the extra.
"""

from __future__ import annotations

import threading
from typing import Any

from router.db.urls import redacted
from router.errors import ConfigError

__all__ = ["connect", "psycopg_module", "shared_pool"]

_POOLS: dict[str, Any] = {}
_LOCK = threading.Lock()
# Connect fast and give up fast: a dead server must cost the caller a short wait,
# and the writers spool instead of blocking.
CONNECT_TIMEOUT = 2


def psycopg_module() -> Any:
    try:
        import psycopg
    except ImportError:
        raise ConfigError(
            "store: postgresql:// needs the 'fleet' extra: pip install 'tierrouter[fleet]'"
        ) from None
    return psycopg


def connect(url: str, *, autocommit: bool = True) -> Any:
    """One new connection (the log writer keeps its own); raises psycopg.OperationalError."""
    psycopg = psycopg_module()
    return psycopg.connect(url, autocommit=autocommit, connect_timeout=CONNECT_TIMEOUT)


def shared_pool(url: str) -> Any:
    """The process's pool for ``url``: the rules, registry and feedback share it.

    The schema is checked (and an empty database initialised) on the first
    connection, so a wrong version fails at start-up with the way out.
    """
    with _LOCK:
        pool = _POOLS.get(url)
        if pool is not None:
            return pool
        psycopg_module()
        from psycopg_pool import ConnectionPool

        from router.db.migrations import check_postgres

        def configure(conn: Any) -> None:
            conn.autocommit = True

        pool = ConnectionPool(
            url,
            min_size=1,
            max_size=4,
            open=False,
            timeout=CONNECT_TIMEOUT * 2,
            configure=configure,
            # A server restart leaves dead connections in the pool: test each on checkout.
            check=ConnectionPool.check_connection,
            kwargs={"connect_timeout": CONNECT_TIMEOUT},
            name=f"tierrouter:{redacted(url)}",
        )
        try:
            with connect(url) as conn:
                check_postgres(conn, f"store {redacted(url)}")
        except ConfigError:
            raise
        except Exception as exc:
            raise ConfigError(f"store {redacted(url)}: cannot connect: {exc}") from None
        pool.open(wait=False)
        _POOLS[url] = pool
        return pool


def close_pools() -> None:
    with _LOCK:
        for pool in _POOLS.values():
            pool.close()
        _POOLS.clear()
