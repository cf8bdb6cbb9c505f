"""Proxy keys: who may spend the provider credit behind this server.

Clients present a proxy key the way their SDK sends an API key: OpenAI's
``Authorization: Bearer <key>`` or Anthropic's ``x-api-key``. The key is only
ever compared, in constant time, and never echoed, logged or forwarded:
provider keys live on the server and are unrelated to it.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping

from router.secrets import Secret

__all__ = ["Authenticator", "presented_key"]


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The key a client sent, from either SDK's header; ``None`` when it sent none."""
    auth = headers.get("authorization")
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    key = headers.get("x-api-key")
    return key.strip() if key and key.strip() else None


def _matches(candidate: bytes, keys: Iterable[bytes]) -> bool:
    # Compare against every key, without stopping at the first match, so the
    # time taken says nothing about which key (or how many) exist.
    found = False
    for key in keys:
        found |= hmac.compare_digest(candidate, key)
    return found


class Authenticator:
    """Checks proxy keys for the API routes and the admin key for ``/metrics``.

    With no proxy keys configured the API is open (the server then only listens
    on loopback unless started with ``--insecure``). The admin key, and only
    it, opens the admin endpoints (rules API, ``/metrics``, model reload):
    whoever may spend credit must not thereby switch the firewall off. Without
    an admin key they are open only where everything is, a server with no keys
    on loopback (a developer's own machine); ``--insecure`` does not open them.
    """

    def __init__(self, proxy_keys: Iterable[Secret], admin_key: Secret | None = None) -> None:
        self._keys = tuple(k.reveal().encode() for k in proxy_keys if k)
        self._admin = admin_key.reveal().encode() if admin_key else None

    def __repr__(self) -> str:
        return f"Authenticator(proxy_keys=<{len(self._keys)}>, admin_key={self._admin is not None})"

    @property
    def open(self) -> bool:
        return not self._keys

    def allows(self, headers: Mapping[str, str]) -> bool:
        if not self._keys:
            return True
        key = presented_key(headers)
        return key is not None and _matches(key.encode(), self._keys)

    def allows_admin(self, headers: Mapping[str, str], *, loopback: bool) -> bool:
        """``loopback``: the server listens on a loopback address only."""
        if self._admin is None:
            return self.open and loopback
        key = presented_key(headers)
        return key is not None and _matches(key.encode(), (self._admin,))
