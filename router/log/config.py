"""``Router(log=...)`` and the ``log:`` config section -> an open decision log.

Accepted values: ``None``/``False`` (off, unless ``$TIERROUTER_LOG`` is set: ``1``
for the default path or a file path), ``True`` (the default path), a path, a
mapping ``{enabled, path, store_prompts, retry_window, max_age_days, max_bytes,
shadow_rate}``,
a :class:`LogConfig`, or any object implementing
:class:`~router.log.store.DecisionLog` (used as is).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from router.errors import ConfigError

__all__ = ["LogConfig", "default_redact", "open_log"]

_FIELDS = (
    "enabled", "path", "store_prompts", "retry_window", "max_age_days", "max_bytes",
    "shadow_rate",
)  # fmt: skip
# Secrets pasted into prompts: provider keys, bearer tokens, AWS key ids, private keys.
_SECRET = re.compile(
    r"(sk-(?:ant-)?[A-Za-z0-9_\-]{16,}|AIza[0-9A-Za-z_\-]{20,}|AKIA[0-9A-Z]{16}"
    r"|(?i:bearer)\s+[A-Za-z0-9._\-]{20,}|gh[pousr]_[A-Za-z0-9]{20,}"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----)"
)


def _is_url(value: Any) -> bool:
    from router.db.urls import is_postgres

    return is_postgres(value)


def default_redact(text: str) -> str:
    """Mask key-shaped strings; always applied before any text is stored."""
    return _SECRET.sub("[REDACTED]", text)


@dataclass(frozen=True)
class LogConfig:
    enabled: bool = True
    path: Path | None = None
    # Prompt and reply text are stored only when this is on (needed to retrain or judge).
    store_prompts: bool = False
    # The same prompt again within this many seconds counts as a retry of the first call.
    retry_window: float = 120.0
    max_age_days: float | None = None
    max_bytes: int | None = None
    # The share of logged calls `tierrouter label --shadow` compares with a stronger model
    # when no rate is given on the command line (0: only on request).
    shadow_rate: float = 0.0
    # A postgresql:// store instead of the SQLite file (fleet mode, docs/fleet.md).
    url: str | None = None

    @classmethod
    def parse(cls, value: Any, where: str = "log") -> LogConfig | None:
        if value is None:
            env = os.environ.get("TIERROUTER_LOG", "").strip()
            if not env or env.lower() in ("0", "false", "off", "no"):
                return None
            on = env.lower() in ("1", "true", "on", "yes")
            return cls(path=None if on else Path(env))
        if value is False:
            return None
        if value is True:
            return cls()
        if isinstance(value, LogConfig):
            return value if value.enabled else None
        if _is_url(value):
            return cls(url=str(value))
        if isinstance(value, (str, os.PathLike)):
            if not str(value).strip():
                raise ConfigError(f"{where}: empty path; give a file path, or true for the default")
            return cls(path=Path(value))
        if isinstance(value, Mapping):
            unknown = sorted(set(value) - set(_FIELDS))
            if unknown:
                raise ConfigError(
                    f"{where}.{unknown[0]}: unknown setting; known: {', '.join(_FIELDS)}"
                )
            kwargs: dict[str, Any] = {}
            for f in fields(cls):
                if f.name not in value or value[f.name] is None:
                    continue
                raw = value[f.name]
                if f.name in ("enabled", "store_prompts"):
                    if not isinstance(raw, bool):
                        raise ConfigError(f"{where}.{f.name}: must be true or false, got {raw!r}")
                elif f.name == "path":
                    if not isinstance(raw, (str, os.PathLike)):
                        raise ConfigError(f"{where}.path: must be a file path, got {raw!r}")
                    if _is_url(raw):
                        kwargs["url"] = str(raw)
                        continue
                    raw = Path(raw)
                elif isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw < 0:
                    raise ConfigError(
                        f"{where}.{f.name}: must be a non-negative number, got {raw!r}"
                    )
                if f.name == "shadow_rate" and raw > 1:
                    raise ConfigError(f"{where}.shadow_rate: must be within 0..1, got {raw!r}")
                kwargs[f.name] = raw
            config = cls(**kwargs)
            return config if config.enabled else None
        raise ConfigError(
            f"{where}: expected true/false, a path, a mapping or a DecisionLog, "
            f"got {type(value).__name__}"
        )


def open_log(
    value: Any, redact: Callable[[str], str] | None = None
) -> tuple[Any, LogConfig] | None:
    """The decision log and its settings for ``Router(log=value)``, or None when off."""
    if value is not None and callable(getattr(value, "record", None)):
        # Any DecisionLog implementation (duck-typed: a Protocol isinstance check
        # would probe every attribute).
        return value, LogConfig(path=getattr(value, "path", None))
    config = LogConfig.parse(value)
    if config is None:
        return None
    if config.url is not None:
        from router.log.postgres import PostgresDecisionLog

        return PostgresDecisionLog(config.url), config
    from router.log.sqlite import SQLiteDecisionLog

    log = SQLiteDecisionLog(
        config.path, max_age_days=config.max_age_days, max_bytes=config.max_bytes
    )
    return log, config
