"""The policy layer's errors, all under :class:`router.errors.RouterError`.

    APIError
    └── FirewallBlocked      status 422, type "firewall_blocked": a firewall rule
                             stopped a prompt (before any provider was called)
                             or withheld a response
    PolicyNotFound           no routing or firewall rule has that id

Invalid rules raise :class:`router.errors.ConfigError` naming the rule and field.
"""

from __future__ import annotations

from router.errors import APIError, RouterError

__all__ = ["FirewallBlocked", "PolicyNotFound"]


class FirewallBlocked(APIError):
    """A firewall rule with ``action="block"`` matched.

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


class PolicyNotFound(RouterError, LookupError):
    """No rule with the given id exists in the policy store."""

    def __init__(self, kind: str, rule_id: str) -> None:
        super().__init__(f"no {kind} with id {rule_id!r}")
        self.kind = kind
        self.rule_id = rule_id
