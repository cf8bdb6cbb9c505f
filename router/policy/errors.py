"""The policy layer's errors; defined with every other one in :mod:`router.errors`.

    APIError
    └── FirewallBlocked      status 422, type "firewall_blocked": a firewall rule
                             stopped a prompt (before any provider was called)
                             or withheld a response
    PolicyNotFound           no routing or firewall rule has that id

Invalid rules raise :class:`router.errors.ConfigError` naming the rule and field.
"""

from __future__ import annotations

from router.errors import FirewallBlocked, PolicyNotFound

__all__ = ["FirewallBlocked", "PolicyNotFound"]
