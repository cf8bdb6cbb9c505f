"""A client for a running ``tierrouter serve``, in the hosted TokenRouter SDK's shape.

::

    from router.client import Client

    client = Client(api_key="tr-proxy-key", base_url="http://127.0.0.1:8080")
    reply = client.responses.create(model="auto:balance", input="Say hi")
    reply.output_text, reply.router.model, reply.usage.total_tokens

    for event in client.responses.create(model="auto", input="Tell a story", stream=True):
        if event.event == "content.delta":
            print(event.delta.text, end="")

    admin = Client(api_key="tr-admin-key")        # the rules API wants the admin key
    rule = admin.routing_rules.create(name="code", match={"task": "coding"},
                                      action={"set_model": "anthropic/claude-sonnet-4-5"})
    admin.firewall_rules.create(name="cards", type="detector", pattern="credit_card")

:class:`AsyncClient` is the same with ``await`` and ``async for``. Every
failure raises :class:`router.errors.APIError` with ``status``, ``type`` and
``message`` (a firewall block: 422, ``type == "firewall_blocked"``). Only
httpx is needed: the client never imports the router's models or the proxy.
"""

from __future__ import annotations

from router.client._async import (
    AsyncClient,
    AsyncFirewallRulesEndpoint,
    AsyncResponsesEndpoint,
    AsyncRoutingRulesEndpoint,
    AsyncStream,
)
from router.client._sync import (
    Client,
    FirewallRulesEndpoint,
    ResponsesEndpoint,
    RoutingRulesEndpoint,
    Stream,
)
from router.client._wire import (
    DEFAULT_BASE_URL,
    Delta,
    FirewallRuleFields,
    Response,
    RouterInfo,
    RoutingRuleFields,
    StreamEvent,
    Usage,
)
from router.policy.firewall import FirewallRule
from router.policy.rules import RoutingRule

__all__ = [
    "DEFAULT_BASE_URL",
    "AsyncClient",
    "AsyncFirewallRulesEndpoint",
    "AsyncResponsesEndpoint",
    "AsyncRoutingRulesEndpoint",
    "AsyncStream",
    "Client",
    "Delta",
    "FirewallRule",
    "FirewallRuleFields",
    "FirewallRulesEndpoint",
    "Response",
    "ResponsesEndpoint",
    "RouterInfo",
    "RoutingRule",
    "RoutingRuleFields",
    "RoutingRulesEndpoint",
    "Stream",
    "StreamEvent",
    "Usage",
]
