"""Every exception that reaches a user of the router.

    RouterError                      base of everything below
    ├── RouterInputError (ValueError)   the prompt or messages cannot be read
    ├── ConfigError (ValueError)        a config file, argument or data file is wrong
    │   ├── FieldError                  ... at a dotted field path (callers add file:line)
    │   └── UnknownOptionError (TypeError)  a misspelt Router/RouterSettings option
    ├── ModelArtifactError (ValueError) a trained-model artifact cannot be used
    ├── DecisionLogError                the decision log cannot be used
    ├── PolicyNotFound (LookupError)    no routing or firewall rule has that id
    ├── StoreUnavailableError           the fleet's PostgreSQL store cannot be reached now
    └── APIError                        a provider call failed (status, type, provider, ...)
        ├── NoCandidateError            no model in the catalog can serve the request
        └── FirewallBlocked             a firewall rule stopped a prompt or withheld a reply

:func:`transport_failure` is the one place an httpx transport error gets its
``type`` and message: provider calls make a retryable failure of it, the client
for ``tierrouter serve`` an :class:`APIError`.

Input and config errors subclass ``ValueError`` so callers that already catch
``ValueError`` keep working. The modules that raise them (``router.policy.errors``,
``router.log.store``, ``router.routing.catalog``) re-export them from here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

__all__ = [
    "APIError",
    "ConfigError",
    "DecisionLogError",
    "FieldError",
    "FirewallBlocked",
    "ModelArtifactError",
    "NoCandidateError",
    "PolicyNotFound",
    "RouterError",
    "RouterInputError",
    "StoreUnavailableError",
    "UnknownOptionError",
    "transport_failure",
]


class RouterError(Exception):
    """Base class of every error raised by tierrouter."""


class RouterInputError(RouterError, ValueError):
    """The prompt or message list given to the router cannot be read."""


class ConfigError(RouterError, ValueError):
    """A config file, constructor argument or bundled data file is invalid."""


class FieldError(ConfigError):
    """A config value is wrong; ``field`` is its dotted path so callers can add file and line."""

    def __init__(self, field: tuple[str, ...], problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{'.'.join(field)}: {problem}")


class UnknownOptionError(ConfigError, TypeError):
    """An option name ``Router`` or ``RouterSettings`` does not know; ``names`` lists them.

    Also a ``TypeError``, which is what Python raises for an unexpected keyword.
    """

    def __init__(self, message: str, *, names: tuple[str, ...]) -> None:
        super().__init__(message)
        self.names = names


class ModelArtifactError(RouterError, ValueError):
    """A trained-model artifact is missing, corrupt or incompatible."""


class DecisionLogError(RouterError):
    """The decision log cannot be used: a corrupted or foreign file, a bad argument."""


class PolicyNotFound(RouterError, LookupError):
    """No rule with the given id exists in the policy store."""

    def __init__(self, kind: str, rule_id: str) -> None:
        super().__init__(f"no {kind} with id {rule_id!r}")
        self.kind = kind
        self.rule_id = rule_id


class StoreUnavailableError(RouterError):
    """The fleet's PostgreSQL store cannot be reached now: a rule change or read was not made.

    Routing goes on with the rules loaded last; retry the change once the store is back.
    """


class APIError(RouterError):
    """A provider call failed.

    Carries the HTTP ``status`` (``None`` for timeouts and connection errors),
    a short ``type`` such as ``"rate_limit"`` or ``"authentication"``, the
    ``provider`` and ``model`` of the last attempt, and every ``attempts``
    record made before giving up. Never carries an API key.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        type: str = "api_error",
        provider: str | None = None,
        model: str | None = None,
        attempts: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.provider = provider
        self.model = model
        self.attempts = list(attempts or [])

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, type={self.type!r}, "
            f"provider={self.provider!r}, model={self.model!r}, message={self.message!r})"
        )


class NoCandidateError(APIError):
    """No model in the catalog satisfies the request's needs and the user's filters."""


class FirewallBlocked(APIError):
    """A firewall rule with ``action="block"`` matched (status 422, type ``firewall_blocked``).

    The message names the rule and the side (prompt or response), never the
    matched text: echoing it would leak exactly what the rule protects.
    """

    def __init__(self, rule_name: str, rule_id: str, scope: str, detail: str = "") -> None:
        what = "the prompt was blocked" if scope == "prompt" else "the response was withheld"
        super().__init__(
            f"{what} by firewall rule {rule_name!r}{detail}",
            status=422,
            type="firewall_blocked",
        )
        self.rule_name = rule_name
        self.rule_id = rule_id
        self.scope = scope


def transport_failure(
    exc: httpx.TransportError,
    target: str,
    *,
    timeout: float | None = None,
    redact: Callable[[str], str] = str,
) -> tuple[str, str]:
    """``(type, message)`` for a failed call to ``target`` (a provider name or a URL).

    ``type`` is ``"timeout"`` or ``"connection_error"``. ``redact`` scrubs the
    exception's own text, which may echo a URL with a key in it. Callers raise
    their error ``from exc`` so the socket error stays in the traceback.
    """
    import httpx

    name = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        after = f" after {timeout}s" if timeout is not None else ""
        return "timeout", f"{target} timed out{after} ({name})"
    return "connection_error", f"{target} connection failed: {name}: {redact(str(exc))}"
