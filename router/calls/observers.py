"""What the call engine is given at construction besides the catalog and keys.

Two small protocols: a :class:`CallGuard` (the policy layer: routing rules and the
firewall, ``router/policy/engine.py``) and a :class:`CallRecorder` (the decision
log, ``router/log/recorder.py``). The engine knows them only through these
signatures, so neither package is imported on the call path unless it is used.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from router.routing.catalog import ModelSpec
    from router.routing.planning import RoutePlan, RoutingPolicy
    from router.types import Decision

__all__ = ["CallGuard", "CallRecorder", "PlanFn"]

# plan(model string, routing policy, extra model filter) -> RoutePlan
PlanFn = Callable[[str | None, "RoutingPolicy", Callable[["ModelSpec"], bool] | None], "RoutePlan"]


class CallGuard(Protocol):
    """Routing rules and firewall around each call."""

    def has_rules(self) -> bool:
        """Whether any firewall rule reads prompts or replies (a native body then
        cannot pass through untranslated: the rules read the translated messages)."""
        ...

    async def ascreen_prompt(self, messages: Any) -> tuple[Any, list[str]]:
        """The messages with masks applied and the names of warn rules; raises to block.

        Async so that screening a large prompt can leave the event loop (and give
        up, blocking, when it runs past its time budget)."""
        ...

    def plan(
        self,
        decision: Decision,
        messages: Any,
        model: str | None,
        params: Mapping[str, Any],
        policy: RoutingPolicy,
        plan: PlanFn,
    ) -> RoutePlan:
        """The route with the first matching routing rule applied."""
        ...

    def annotate(self, plan: RoutePlan, warnings: Sequence[str]) -> RoutePlan:
        """The plan with ``warnings`` on its decision."""
        ...

    def finish(
        self, body: dict[str, Any], plan: RoutePlan, prompt_warnings: Sequence[str]
    ) -> tuple[dict[str, Any], RoutePlan]:
        """A finished reply after the response rules; raises to withhold it."""
        ...

    def guard_stream(
        self,
        chunks: AsyncGenerator[dict[str, Any], None],
        on_warnings: Callable[[list[str]], None],
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Streamed chunks after the response rules."""
        ...


class CallRecorder(Protocol):
    """Told once about every routed call, when it has finished or failed. Must not raise."""

    def completed(
        self,
        messages: Any,
        plan: RoutePlan,
        *,
        body: Mapping[str, Any] | None,
        used: ModelSpec | None,
        attempts: Sequence[Mapping[str, Any]],
        usage: Mapping[str, Any] | None,
        cost: float | None,
        started: float,
        stream: bool = False,
        finish_reason: str | None = None,
        text: str | None = None,
        error: BaseException | None = None,
        requested: str | None = None,
    ) -> None: ...
