"""Every exception the router raises.

    RouterError                      base of everything below
    ├── RouterInputError (ValueError)   the prompt or messages cannot be read
    ├── ConfigError (ValueError)        a config file, argument or data file is wrong
    ├── ModelArtifactError (ValueError) a trained-model artifact cannot be used
    └── APIError                        a provider call failed (status, type, provider, ...)
        └── NoCandidateError            no model in the catalog can serve the request

Input and config errors subclass ``ValueError`` so callers that already catch
``ValueError`` keep working.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIError",
    "ConfigError",
    "ModelArtifactError",
    "NoCandidateError",
    "RouterError",
    "RouterInputError",
]


class RouterError(Exception):
    """Base class of every error raised by tierrouter."""


class RouterInputError(RouterError, ValueError):
    """The prompt or message list given to the router cannot be read."""


class ConfigError(RouterError, ValueError):
    """A config file, constructor argument or bundled data file is invalid."""


class ModelArtifactError(RouterError, ValueError):
    """A trained-model artifact is missing, corrupt or incompatible."""


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
