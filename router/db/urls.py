"""What a ``store:`` or ``state:`` value names: a PostgreSQL or Redis URL, or a local file.

The secret part of a URL (its password) never reaches a message: :func:`redacted`
is what errors and ``/health`` print.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from router.errors import ConfigError

__all__ = ["is_postgres", "is_redis", "redacted", "require_postgres", "require_redis"]

_PG = ("postgresql://", "postgres://")
_REDIS = ("redis://", "rediss://", "unix://")


def is_postgres(value: object) -> bool:
    return isinstance(value, str) and value.lower().startswith(_PG)


def is_redis(value: object) -> bool:
    return isinstance(value, str) and value.lower().startswith(_REDIS)


def redacted(url: str) -> str:
    """The URL with any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username or ''}:***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def require_postgres(value: object, field: str) -> str:
    if not is_postgres(value):
        raise ConfigError(f"{field}: expected a postgresql:// URL, got {_shown(value)!r}")
    assert isinstance(value, str)
    return value


def require_redis(value: object, field: str) -> str:
    if not is_redis(value):
        raise ConfigError(f"{field}: expected a redis:// (or rediss://) URL, got {_shown(value)!r}")
    assert isinstance(value, str)
    return value


def _shown(value: object) -> object:
    # A URL with a password in the wrong field must not print the password.
    return redacted(value) if isinstance(value, str) else value
