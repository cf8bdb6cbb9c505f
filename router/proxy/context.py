"""What every handler shares: the router, settings, auth, the gate, metrics and the access log."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from router.proxy.auth import Authenticator
from router.proxy.errors import ProxyError
from router.proxy.json_bytes import dumps
from router.proxy.limits import Gate
from router.proxy.metrics import Metrics
from router.proxy.sessions import SessionStore
from router.proxy.settings import ProxySettings, is_loopback

if TYPE_CHECKING:
    from router.proxy.admission import Admission
    from router.router import Router

__all__ = ["ACCESS_LOGGER", "ProxyContext"]

ACCESS_LOGGER = "tierrouter.proxy.access"


@dataclass
class ProxyContext:
    router: Router
    settings: ProxySettings
    auth: Authenticator = field(init=False)
    gate: Gate = field(init=False)
    metrics: Metrics = field(default_factory=Metrics)
    # model string -> None when valid; checked once, then served from here.
    known_models: dict[str, None] = field(default_factory=dict)
    # Which model serves each agent conversation (session affinity).
    sessions: SessionStore = field(default_factory=SessionStore)

    def __post_init__(self) -> None:
        self.auth = Authenticator(self.settings.proxy_keys, self.settings.admin_key)
        self.gate = Gate(self.settings.max_concurrency)
        # Rate limit and budgets (router/proxy/admission.py); None when neither is set.
        self.admission: Admission | None = None
        if self.settings.rate_limit or self.settings.budgets:
            from router.proxy.admission import Admission

            self.admission = Admission(self.settings, self.router)
        state = (getattr(self.router, "fleet", None) or {}).get("state")
        if state and type(self.sessions) is SessionStore:
            # Fleet mode: a conversation keeps its model whichever instance a turn reaches.
            from router.state.link import link_for
            from router.state.sessions import RedisSessionStore

            self.sessions = RedisSessionStore(link_for(state))
        self._log = logging.getLogger(ACCESS_LOGGER)

    def close(self) -> None:
        """Shutdown: spend counted but not yet stored is written; shared tables stop."""
        if self.admission is not None:
            self.admission.close()
        close = getattr(self.sessions, "close", None)
        if close is not None:
            close()

    def require_admin(self, headers: Any, what: str) -> None:
        """Raise the 401 every admin endpoint answers without the admin key."""
        if self.auth.allows_admin(headers, loopback=is_loopback(self.settings.host)):
            return
        self.metrics.rejected.inc("unauthorized")
        if self.settings.admin_key is None:
            raise ProxyError(
                "authentication",
                f"{what} needs an admin key: set proxy.admin_key in the config "
                "(or TIERROUTER_ADMIN_KEY); proxy keys are not accepted here",
            )
        raise ProxyError(
            "authentication",
            f"{what} needs the admin key: send it as 'Authorization: Bearer <admin key>' "
            "or 'x-api-key: <admin key>' (proxy keys are not accepted here)",
        )

    def log_request(self, fields: dict[str, Any]) -> None:
        """One line per request: method, path, status, timing and the routing outcome.

        Never the prompt, the reply or any key: only values the proxy produced.
        """
        fmt = self.settings.log_format
        if fmt == "off" or not self._log.isEnabledFor(logging.INFO):
            return
        if fmt == "json":
            self._log.info(dumps(fields).decode())
            return
        line = _line(fields)
        # One check of the whole line instead of one per field: when it is all
        # printable, so is every field, and escaping would change nothing.
        if not line.isprintable():
            line = _line({k: v if k == "method" else _printable(v) for k, v in fields.items()})
        self._log.info(line)


def _line(fields: dict[str, Any]) -> str:
    head = f"{fields['method']} {fields['path']} {fields['status']} {fields['ms']:.1f}ms"
    rest = " ".join(
        f"{k}={v}"
        for k, v in fields.items()
        if k not in ("method", "path", "status", "ms") and v is not None
    )
    return f"{head} {rest}" if rest else head


def _printable(value: Any) -> Any:
    """A log field that cannot forge a line: control characters escaped, as repr does."""
    if isinstance(value, str) and not value.isprintable():
        return repr(value)[1:-1]
    return value
