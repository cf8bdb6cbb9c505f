"""``ProxySettings``: where and how the proxy listens, and how much it lets through.

Settings come from the ``proxy:`` section of the router's YAML config file,
then from ``TIERROUTER_PROXY_KEYS`` / ``TIERROUTER_ADMIN_KEY`` in the
environment, then from command-line flags (each later source wins).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from router.errors import ConfigError
from router.secrets import Secret, as_secret

if TYPE_CHECKING:
    from router.settings import RouterSettings

__all__ = [
    "LOG_FORMATS",
    "ProxySettings",
    "check_bind",
    "is_loopback",
    "load_proxy_config",
    "settings_from_env",
    "settings_from_mapping",
]

LOG_FORMATS = ("text", "json", "off")
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


@dataclass(frozen=True)
class ProxySettings:
    """Everything ``tierrouter serve`` needs besides the router itself.

    ``max_concurrency`` and the metrics are per worker process: each uvicorn
    worker has its own event loop, gate and counters.
    """

    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    proxy_keys: tuple[Secret, ...] = ()
    admin_key: Secret | None = None
    max_body_bytes: int = 32 * 1024 * 1024
    max_concurrency: int = 256
    # Non-streaming: the whole upstream call. Streaming: the wait for the first
    # chunk and for each later one (a long answer may legitimately take minutes).
    upstream_timeout: float = 300.0
    # What a 429 for "over capacity" tells the client to wait, in seconds.
    retry_after: float = 1.0
    log_format: str = "text"
    insecure: bool = False
    # Bounds on what one client can make a worker hold or do (docs/proxy.md, "Bounds").
    # The request line and headers: past this the connection gets a 431 and is closed.
    max_header_bytes: int = 64 * 1024
    # JSON nesting of a request body; past it a 400 (Python's parser and the
    # code that walks a body would otherwise recurse without end).
    max_json_depth: int = 128
    # Messages in one request (Claude Code sessions reach a few thousand).
    max_messages: int = 20_000
    # Fleet-wide requests per window per proxy key, {requests, window} (router/proxy/admission.py).
    rate_limit: dict[str, Any] | None = None
    # Spend caps per key, user and tag (router/state/budgets.py).
    budgets: dict[str, Any] | None = None
    # From a connection's first byte to the end of the request's headers, and
    # from there to the end of its body: slow or silent clients are cut off.
    header_timeout: float = 15.0
    body_timeout: float = 60.0
    # An idle keep-alive connection is closed after this many seconds.
    keepalive_timeout: float = 5.0
    # Open connections per worker; past it new requests get a 503.
    max_connections: int = 2048

    def __post_init__(self) -> None:
        if self.log_format not in LOG_FORMATS:
            raise ConfigError(f"proxy.log_format: {self.log_format!r} is not one of {LOG_FORMATS}")
        for name in (
            "port",
            "workers",
            "max_body_bytes",
            "max_concurrency",
            "max_header_bytes",
            "max_json_depth",
            "max_messages",
            "max_connections",
        ):
            value = getattr(self, name)
            low = 0 if name == "port" else 1
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"proxy.{name}: must be an integer >= {low}, got {value!r}")
        for name in (
            "upstream_timeout",
            "retry_after",
            "header_timeout",
            "body_timeout",
            "keepalive_timeout",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ConfigError(f"proxy.{name}: must be a positive number, got {value!r}")

    def __repr__(self) -> str:
        # Keys never print, not even masked one by one: only how many there are.
        shown = [f"{k}={v!r}" for k, v in self.public_dict().items()]
        shown.append(f"proxy_keys=<{len(self.proxy_keys)}>")
        shown.append(f"admin_key={'<set>' if self.admin_key else None}")
        return f"ProxySettings({', '.join(shown)})"

    def replace(self, **changes: Any) -> ProxySettings:
        """A copy with ``changes`` applied; ``None`` values are ignored (unset CLI flags)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def public_dict(self) -> dict[str, Any]:
        """The non-secret settings, for handing to worker processes."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        del out["proxy_keys"], out["admin_key"]
        return out


def is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(settings: ProxySettings) -> None:
    """Refuse to expose the user's provider keys to a network without a proxy key."""
    if is_loopback(settings.host) or settings.proxy_keys or settings.insecure:
        return
    raise ConfigError(
        f"refusing to listen on {settings.host} without proxy keys: anyone who can reach it "
        "could spend your provider credit. Set proxy.proxy_keys in the config (or "
        "TIERROUTER_PROXY_KEYS), bind to 127.0.0.1, or pass --insecure if you really mean it."
    )


_FIELDS = {
    "host": str,
    "port": int,
    "workers": int,
    "proxy_keys": list,
    "admin_key": str,
    "max_body_bytes": int,
    "max_concurrency": int,
    "upstream_timeout": float,
    "retry_after": float,
    "log_format": str,
    "insecure": bool,
    "max_header_bytes": int,
    "max_json_depth": int,
    "max_messages": int,
    "header_timeout": float,
    "body_timeout": float,
    "keepalive_timeout": float,
    "max_connections": int,
    "rate_limit": dict,
    "budgets": dict,
}


def settings_from_mapping(
    raw: Mapping[str, Any], where: Any = None, base: ProxySettings | None = None
) -> ProxySettings:
    """Validate a ``proxy:`` section. ``where(field) -> str`` adds file and line to errors."""

    def error(name: str, problem: str) -> ConfigError:
        place = where(name) if where else f"proxy.{name}"
        return ConfigError(f"{place}: {problem}")

    values: dict[str, Any] = {}
    for name, value in raw.items():
        kind = _FIELDS.get(str(name))
        if kind is None:
            raise error(str(name), f"unknown proxy setting; known: {', '.join(sorted(_FIELDS))}")
        if name == "proxy_keys":
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
                raise error(name, "expected a list of key strings")
            values[name] = tuple(s for s in (as_secret(k.strip()) for k in value) if s)
        elif name == "admin_key":
            if value is not None and not isinstance(value, str):
                raise error(name, "expected a string")
            values[name] = as_secret(value)
        elif name in ("rate_limit", "budgets"):
            values[name] = _checked_section(name, value, error)
        elif kind is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise error(name, f"must be a number, got {value!r}")
            values[name] = float(value)
        elif kind is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise error(name, f"must be an integer, got {value!r}")
            values[name] = value
        elif not isinstance(value, kind):
            raise error(name, f"must be a {kind.__name__}, got {value!r}")
        else:
            values[name] = value
    try:
        return dataclasses.replace(base or ProxySettings(), **values)
    except ConfigError as exc:
        name = str(exc).split(":", 1)[0].removeprefix("proxy.")
        raise error(name, str(exc).split(": ", 1)[-1]) from None


def _checked_section(name: str, value: Any, error: Any) -> dict[str, Any] | None:
    """Validate ``rate_limit`` / ``budgets`` now, so a typo fails with the file's line."""
    if value is None:
        return None
    try:
        if name == "rate_limit":
            from router.proxy.admission import parse_rate_limit

            parse_rate_limit(value, "")
        else:
            from router.state.budgets import BudgetConfig

            BudgetConfig.parse(value, "")
    except ConfigError as exc:
        raise error(name, str(exc).lstrip(".: ")) from None
    return dict(value)


def settings_from_env(base: ProxySettings, env: Mapping[str, str] | None = None) -> ProxySettings:
    """Keys from the environment, so containers need not write them into a file."""
    env = os.environ if env is None else env
    changes: dict[str, Any] = {}
    keys = env.get("TIERROUTER_PROXY_KEYS")
    if keys:
        changes["proxy_keys"] = tuple(
            s for s in (as_secret(k.strip()) for k in keys.split(",")) if s
        )
    admin = as_secret(env.get("TIERROUTER_ADMIN_KEY"))
    if admin:
        changes["admin_key"] = admin
    return dataclasses.replace(base, **changes) if changes else base


def load_proxy_config(
    path: str | Path | None, env: Mapping[str, str] | None = None
) -> tuple[RouterSettings | None, ProxySettings]:
    """The router config and the proxy settings from one YAML file (or defaults)."""
    if path is None:
        return None, settings_from_env(ProxySettings(), env)
    from router.proxy._config_file import load_with_proxy_section

    router_config, proxy_raw, where = load_with_proxy_section(path, env)
    settings = settings_from_mapping(proxy_raw, where) if proxy_raw else ProxySettings()
    return router_config, settings_from_env(settings, env)
