"""Run the proxy under uvicorn: one process, or several workers sharing the port.

Workers are separate processes, so each rebuilds the router from the config
file (named in an environment variable, never with keys on a command line)
and keeps its own metrics and concurrency limit.
"""

from __future__ import annotations

import copy
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from router.errors import ConfigError
from router.proxy.settings import ProxySettings, check_bind, load_proxy_config
from router.settings import RouterSettings

__all__ = ["build_router", "default_policy_db", "serve", "server_options", "worker_app"]

_ENV_CONFIG = "TIERROUTER_PROXY_CONFIG"
_ENV_SETTINGS = "TIERROUTER_PROXY_SETTINGS"
_ENV_POLICY_DB = "TIERROUTER_PROXY_POLICY_DB"
_log = logging.getLogger("tierrouter.proxy")


def server_options(settings: ProxySettings) -> dict[str, Any]:
    """uvicorn options of every server of this proxy (serve, and the tests' harness)."""
    options: dict[str, Any] = {
        "access_log": False,  # ours is one line per request without prompts
        "server_header": False,
        # Nothing here reads the client's address or scheme, so uvicorn's rewriting
        # of them from X-Forwarded-* headers would only cost time on every request.
        "proxy_headers": False,
        "timeout_graceful_shutdown": 10,
        "timeout_keep_alive": settings.keepalive_timeout,
        "limit_concurrency": settings.max_connections,
        # h11's own bound on a request head, for when httptools is missing.
        "h11_max_incomplete_event_size": settings.max_header_bytes,
    }
    try:
        from router.proxy.protocol import GuardedHttpProtocol
    except ImportError:  # no httptools: uvicorn's h11 protocol, bounded as above
        return options
    options["http"] = GuardedHttpProtocol
    return options


def build_router(
    config_path: str | Path | None, overrides: Mapping[str, Any] | None = None
) -> tuple[Any, ProxySettings]:
    """The router and the file's proxy settings (defaults when there is no file).

    ``overrides`` replace proxy settings (the parent's command line, for workers).
    """
    router_settings, settings = load_proxy_config(config_path)
    if overrides:
        try:
            settings = settings.replace(**overrides)
        except TypeError as exc:  # a name ProxySettings does not have
            raise ConfigError(f"{_ENV_SETTINGS} is not valid: {exc}") from exc
    router_settings = router_settings or RouterSettings()
    shared_db = os.environ.get(_ENV_POLICY_DB)
    router_settings = _fleet_from_env(router_settings)
    if shared_db and router_settings.policy_db is None and router_settings.store is None:
        router_settings = router_settings.replace(policy_db=shared_db)
    return _server_router(router_settings, settings), settings


def _server_router(router_settings: RouterSettings | None, settings: ProxySettings) -> Any:
    """The router a server process runs, calling upstream through the proxy's pool.

    Its provider keys come from a copy of the environment taken now: nothing
    outside a running process can change its environment, and each os.environ
    lookup encodes the name and raises on a miss. Planning looks up every
    provider's key once per request: about 3 % of the proxy's CPU.
    """
    from router.proxy.upstream import client_factory
    from router.router import Router

    base = _fleet_from_env(router_settings or RouterSettings())
    return Router.from_settings(
        base.replace(
            env=dict(os.environ) if base.env is None else base.env,
            client_factory=client_factory(settings.max_concurrency),
        )
    )


def _fleet_from_env(router_settings: RouterSettings) -> RouterSettings:
    """`serve --store/--state` reach every worker process through the environment."""
    changes = {
        name: os.environ[var]
        for name, var in (("store", "TIERROUTER_STORE"), ("state", "TIERROUTER_STATE"))
        if os.environ.get(var) and getattr(router_settings, name) is None
    }
    return router_settings.replace(**changes) if changes else router_settings


def default_policy_db(config_path: str | Path | None) -> Path:
    """Where several workers share rules when the config names no ``policy_db``.

    Next to the config file, so two servers with different configs do not share
    rules by accident; the user data directory when there is no config.
    """
    if config_path is not None:
        return Path(config_path).resolve().parent / "tierrouter-policy.sqlite"
    from router.log.paths import data_dir

    return data_dir() / "policy.sqlite"


def _log_config(level: str) -> dict[str, Any]:
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["tierrouter"] = {"format": "%(asctime)s %(levelname)s %(message)s"}
    config["handlers"]["tierrouter"] = {
        "class": "logging.StreamHandler",
        "formatter": "tierrouter",
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["tierrouter"] = {
        "handlers": ["tierrouter"],
        "level": level.upper(),
        "propagate": False,
    }
    return dict(config)


def serve(
    config_path: str | Path | None,
    *,
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
    insecure: bool | None = None,
    log_level: str = "info",
) -> None:
    """Start the server and block until it stops. Raises ConfigError before binding."""
    import uvicorn

    router_config, settings = load_proxy_config(config_path)
    settings = settings.replace(host=host, port=port, workers=workers, insecure=insecure or None)
    check_bind(settings)  # before anything else: an unsafe bind must not even start
    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_config": _log_config(log_level),
        **server_options(settings),
    }
    auth = f"{len(settings.proxy_keys)} proxy key(s)" if settings.proxy_keys else "no proxy keys"
    print(
        f"tierrouter proxy on http://{settings.host}:{settings.port} "
        f"({settings.workers} worker(s), {auth})",
        flush=True,
    )
    if settings.workers == 1:
        from router.proxy.app import create_app

        router = _server_router(router_config, settings)
        uvicorn.run(create_app(router, settings, own_process=True), **common)
        return
    if config_path is not None:
        os.environ[_ENV_CONFIG] = str(Path(config_path).resolve())
    fleet_store = (router_config and router_config.store) or os.environ.get("TIERROUTER_STORE")
    if not (router_config and router_config.policy_db) and not fleet_store:
        # Each worker is its own process: rules kept in memory would differ per
        # worker, and an admin API edit would reach only the one that took it.
        policy_db = default_policy_db(config_path)
        os.environ[_ENV_POLICY_DB] = str(policy_db)
        print(f"rules shared by the workers in {policy_db}", flush=True)
    os.environ[_ENV_SETTINGS] = json.dumps(settings.public_dict())
    uvicorn.run("router.proxy.server:worker_app", factory=True, workers=settings.workers, **common)


def worker_app() -> Any:
    """The app factory each worker process calls."""
    from router.proxy.app import create_app

    raw = os.environ.get(_ENV_SETTINGS)
    try:
        overrides = json.loads(raw) if raw else None
    except ValueError as exc:
        raise ConfigError(f"{_ENV_SETTINGS} is not valid: {exc}") from exc
    router, settings = build_router(os.environ.get(_ENV_CONFIG), overrides)
    return create_app(router, settings, own_process=True)
