"""The async call engine: classify -> plan -> providers with fallback -> normalized response."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
import weakref
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from router.calls.fallback import (
    Attempt,
    CooldownStore,
    FallbackPolicy,
    InMemoryCooldownStore,
    StreamState,
    run_chain,
    stream_chain,
)
from router.decision.l2 import L2Classifier
from router.errors import APIError
from router.providers import get_adapter
from router.providers.base import ChatRequest, Endpoint, NativeRequest, open_stream, send
from router.routing.catalog import Catalog, ModelSpec
from router.routing.param_quirks import apply_quirks, merged_quirks
from router.routing.planning import Needs, RoutePlan, RoutingPolicy, estimate_tokens, plan_route
from router.secrets import Secret
from router.types import Decision

if TYPE_CHECKING:
    import httpx

    from router.calls.observers import CallGuard, CallRecorder
    from router.settings import ClientFactory

__all__ = ["CallEngine", "ChatResponse", "ChatStream"]

Classify = Callable[..., Decision]


@dataclass(slots=True)
class ChatResponse:
    """An OpenAI ``chat.completion`` plus what the router did to get it."""

    id: str
    created: int
    model: str
    choices: list[dict[str, Any]]
    usage: dict[str, int] | None
    model_used: str
    provider: str
    decision: Decision
    attempts: list[dict[str, Any]] = field(default_factory=list)
    cost: float | None = None
    object: str = "chat.completion"
    # The provider's own reply body, when the request carried a ``native_request``
    # in that provider's format (the proxy passes it through unchanged).
    native: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def message(self) -> dict[str, Any]:
        return dict(self.choices[0]["message"]) if self.choices else {}

    @property
    def content(self) -> str | None:
        """The first choice's text."""
        return self.message.get("content")

    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": self.object,
            "created": self.created,
            "model": self.model,
            "choices": self.choices,
            "usage": self.usage,
            "model_used": self.model_used,
            "provider": self.provider,
            "decision": self.decision.to_dict(),
            "attempts": self.attempts,
            "cost": self.cost,
        }


class ChatStream:
    """OpenAI ``chat.completion.chunk`` dicts, with routing facts filled in as they are known.

    ``decision`` is set before the first chunk; ``model_used``, ``usage``,
    ``cost`` and ``attempts`` once the stream has finished.
    """

    def __init__(
        self,
        plan: RoutePlan,
        chunks: AsyncGenerator[dict[str, Any], None],
        state: StreamState,
        on_end: Callable[[ChatStream, BaseException | None], None] | None = None,
        warned: Mapping[str, list[str]] | None = None,
    ) -> None:
        self._state = state
        self._decision = plan.decision
        # Parameter quirks applied per candidate: their warnings join the decision
        # once the model that answers is known.
        self._warned = warned or {}
        self._chunks = chunks
        self._state = state
        self.usage: dict[str, int] | None = None
        # Called once when the stream ends or fails (the decision log records it then).
        self._on_end = on_end
        self.finish_reason: str | None = None
        self._text: list[str] = []

    def __aiter__(self) -> ChatStream:
        return self

    async def __anext__(self) -> dict[str, Any]:
        try:
            piece = await self._chunks.__anext__()
        except StopAsyncIteration:
            self._end(None)
            raise
        except Exception as exc:
            self._end(exc)
            raise
        if piece.get("usage"):
            self.usage = piece["usage"]
        if self._on_end is not None:
            for choice in piece.get("choices") or ():
                self.finish_reason = choice.get("finish_reason") or self.finish_reason
                content = (choice.get("delta") or {}).get("content")
                if isinstance(content, str):
                    self._text.append(content)
        return piece

    async def aclose(self) -> None:
        await self._chunks.aclose()
        self._end(None)

    def _end(self, error: BaseException | None) -> None:
        on_end, self._on_end = self._on_end, None
        if on_end is not None:
            on_end(self, error)

    def add_warnings(self, warnings: list[str]) -> None:
        """Firewall ``warn`` rules that matched the streamed reply (see CallGuard)."""
        self.decision = self.decision.with_warnings(warnings)

    @property
    def text(self) -> str:
        """The streamed reply so far (collected only while a decision log is on)."""
        return "".join(self._text)

    @property
    def decision(self) -> Decision:
        model = self._state.model
        if model is not None and self._warned.get(model.id):
            return _warned(self._decision, self._warned[model.id])
        return self._decision

    @decision.setter
    def decision(self, decision: Decision) -> None:
        self._decision = decision

    @property
    def model_used(self) -> str | None:
        return self._state.model.id if self._state.model else None

    @property
    def provider(self) -> str | None:
        return self._state.model.provider if self._state.model else None

    @property
    def attempts(self) -> list[dict[str, Any]]:
        return [a.to_dict() for a in self._state.attempts]

    @property
    def cost(self) -> float | None:
        model = self._state.model
        if model is None or not self.usage:
            return None
        return model.usage_cost(self.usage)


_CALL_PARAMS = frozenset({"model", "messages", "stream"})


class CallEngine:
    """Everything a routed call needs, shared by the sync and async APIs.

    ``guard`` (routing rules, firewall) and ``recorder`` (decision log) see every
    call; ``client_factory`` makes each event loop's HTTP client when neither
    ``http_client`` nor ``transport`` is given (the proxy passes its pool's).
    """

    def __init__(
        self,
        *,
        classify: Classify,
        catalog: Catalog,
        policy: RoutingPolicy,
        keys: Mapping[str, Secret],
        fallback: FallbackPolicy | None = None,
        cooldowns: CooldownStore | None = None,
        timeout: float = 60.0,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        l2: L2Classifier | None = None,
        env: Mapping[str, str] | None = None,
        guard: CallGuard | None = None,
        recorder: CallRecorder | None = None,
        client_factory: ClientFactory | None = None,
    ) -> None:
        self.classify = classify
        self.catalog = catalog
        self.policy = policy
        self._keys = dict(keys)
        self.fallback = fallback or FallbackPolicy(
            cooldown_seconds=float(catalog.defaults.get("cooldown_seconds", 30))
        )
        self.cooldowns: CooldownStore = cooldowns or InMemoryCooldownStore()
        self.timeout = timeout
        self.l2 = l2
        self._env = os.environ if env is None else env
        self.guard = guard
        self.recorder = recorder
        self._shared_client = http_client
        self._transport = transport
        self.client_factory = client_factory
        # model id -> (its params, the catalog's, the two merged): see _quirks.
        self._merged_quirks: dict[str, tuple[Any, Any, Mapping[str, Any]]] = {}
        # (the catalog they are of, available providers -> their models): see _available_models.
        self._pools: tuple[Catalog | None, dict[tuple[str, ...], tuple[ModelSpec, ...]]] = (
            None,
            {},
        )
        # httpx async clients are bound to the loop that first used them.
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:
        return f"CallEngine(providers_with_keys={sorted(self.providers_with_keys())})"

    # ---- keys and endpoints ----------------------------------------------------

    def key_for(self, provider: str) -> Secret | None:
        if provider in self._keys:
            return self._keys[provider]
        spec = self.catalog.providers.get(provider)
        if spec and spec.key_env:
            value = self._env.get(spec.key_env)
            if value:
                return Secret(value)
        return None

    def providers_with_keys(self) -> list[str]:
        return [name for name in self.catalog.providers if self.key_for(name)]

    def is_available(self, model: ModelSpec) -> bool:
        return self._provider_available(model.provider)

    def _provider_available(self, provider: str) -> bool:
        spec = self.catalog.providers[provider]
        if not spec.enabled and provider not in self._keys:
            return False
        return not spec.requires_key or self.key_for(provider) is not None

    def _available_models(self) -> tuple[dict[str, bool], tuple[ModelSpec, ...]]:
        """Each provider's availability (asked afresh: keys may come from a live
        environment) and the catalog's models on the available ones, in catalog
        order; the latter is kept per set of available providers, not rebuilt."""
        ok = {name: self._provider_available(name) for name in self.catalog.providers}
        if self._pools[0] is not self.catalog:
            self._pools = (self.catalog, {})
        key = tuple(name for name, yes in ok.items() if yes)
        pool = self._pools[1].get(key)
        if pool is None:
            pool = self._pools[1][key] = tuple(m for m in self.catalog if ok[m.provider])
        return ok, pool

    def endpoint(self, model: ModelSpec) -> Endpoint:
        spec = self.catalog.providers[model.provider]
        key = self.key_for(model.provider)
        if key is None and spec.requires_key:
            where = f"set {spec.key_env} or " if spec.key_env else ""
            raise APIError(
                f"no API key for provider {model.provider!r}: {where}pass "
                f"keys={{'{model.provider}': ...}}",
                type="authentication",
                provider=model.provider,
                model=model.id,
            )
        return Endpoint(
            provider=model.provider,
            base_url=spec.base_url,
            key=key,
            key_env=spec.key_env,
            headers=spec.headers,
            stream_usage=spec.stream_usage,
        )

    def client(self) -> httpx.AsyncClient:
        if self._shared_client is not None:
            return self._shared_client
        import httpx

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None or client.is_closed:
            if self.client_factory is not None and self._transport is None:
                client = self.client_factory(self.timeout)
            else:
                client = httpx.AsyncClient(
                    transport=self._transport,
                    timeout=self.timeout,
                    limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
                )
            self._clients[loop] = client
        return client

    async def aclose(self) -> None:
        """Close the HTTP client of the running loop (an injected client stays open)."""
        loop = asyncio.get_running_loop()
        client = self._clients.pop(loop, None)
        if client is not None:
            await client.aclose()

    # ---- routing -----------------------------------------------------------------

    def needs(self, messages: Any, decision: Decision, params: Mapping[str, Any]) -> Needs:
        fmt = params.get("response_format")
        out = params.get("max_completion_tokens") or params.get("max_tokens")
        if not out:
            out = int(self.catalog.defaults.get("output_tokens", {}).get(decision.tier.value, 1000))
        return Needs(
            input_tokens=max(
                decision.estimated_tokens, estimate_tokens(messages, params.get("tools"))
            ),
            output_tokens=int(out),
            tools=bool(params.get("tools")),
            vision=decision.has_images,
            json=isinstance(fmt, Mapping) and fmt.get("type") in ("json_object", "json_schema"),
        )

    def route(self, messages: Any, model: str | None = None, **params: Any) -> RoutePlan:
        """Classify and plan without calling anything (no L2: that needs a call).

        ``route_messages``: what to classify instead of ``messages`` (an agent's
        latest human request rather than its whole transcript); ``messages``
        still sizes the request. ``prefer``: ``(model id, tier rank)`` of the
        model a conversation already uses (see :meth:`_keep`).
        """
        decision = self.classify(
            params.get("route_messages") or messages,
            tools=params.get("tools"),
            response_format=params.get("response_format"),
        )
        return self._plan(messages, decision, model, params)

    async def aroute(self, messages: Any, model: str | None = None, **params: Any) -> RoutePlan:
        """Like :meth:`route`, refining unsure decisions with L2 when configured."""
        asked = params.get("route_messages") or messages
        decision = self.classify(
            asked, tools=params.get("tools"), response_format=params.get("response_format")
        )
        if self.l2 is not None and _routes(model) and self.l2.wanted(decision):
            if self.guard is not None:  # L2 is a call too: the firewall screens it first
                asked = (await self.guard.ascreen_prompt(asked))[0]
            decision = await self.l2.refine(decision, asked, self._ask)
        return self._plan(messages, decision, model, params)

    def _plan(
        self, messages: Any, decision: Decision, model: str | None, params: Mapping[str, Any]
    ) -> RoutePlan:
        needs = self.needs(messages, decision, params)
        # Availability depends on the provider alone: look each one's key up once per
        # request, not once per catalog model (a few percent of the proxy's CPU).
        by_provider, pool = self._available_models()

        def available(m: ModelSpec) -> bool:
            return by_provider[m.provider]

        def plan(model: str | None, policy: RoutingPolicy, allow: Any = None) -> RoutePlan:
            return plan_route(
                decision,
                catalog=self.catalog,
                policy=policy,
                is_available=(
                    available if allow is None else lambda m: bool(allow(m)) and available(m)
                ),
                model=model,
                needs=needs,
                pool=pool if allow is None else None,
            )

        if self.guard is not None:
            routed = self.guard.plan(decision, messages, model, params, self.policy, plan)
        else:
            routed = plan(model, self.policy)
        prefer = params.get("prefer")
        if prefer and _routes(model):
            return self._keep(routed, prefer, available)
        return routed

    def _keep(
        self, plan: RoutePlan, prefer: Any, available: Callable[[ModelSpec], bool]
    ) -> RoutePlan:
        """Session affinity: the conversation's model first, unless this turn needs a
        higher tier than the one it was chosen for (escalate, never sideways), or
        it cannot serve the turn (no key, cooling down, too small, no tools)."""
        ref, tier_rank = prefer
        if plan.decision.tier.rank > int(tier_rank):
            return plan
        kept = self.catalog.find(str(ref))
        needs = plan.needs
        if (
            kept is None
            or not available(kept)
            or self.cooldowns.remaining(kept.id) > 0
            or (needs.tools and "tools" not in kept.capabilities)
            or (needs.vision and "vision" not in kept.capabilities)
            or (kept.context_window and kept.context_window < needs.input_tokens)
        ):
            return plan
        chain = (kept, *(m for m in plan.chain if m.id != kept.id))
        return dataclasses.replace(plan, chain=chain)

    async def _ask(
        self, ref: str, messages: list[dict[str, Any]], params: dict[str, Any], timeout: float
    ) -> str:
        model = self.catalog.find(ref)
        if model is None:
            provider, _, name = ref.partition("/")
            model = self.catalog.resolve_pin(provider, name)
        adapter = get_adapter(self.catalog.providers[model.provider].api)
        body = await send(
            self.client(),
            adapter,
            self.endpoint(model),
            model.api_model,
            ChatRequest(messages, params),
            timeout=timeout,
        )
        return str(body["choices"][0]["message"].get("content") or "")

    # ---- calls ---------------------------------------------------------------------

    async def achat(self, messages: Any, model: str | None = None, **params: Any) -> ChatResponse:
        params = _clean(params)
        guard, screened = self.guard, list[str]()
        if guard is not None:  # blocks or masks the prompt before anything leaves
            messages, screened = await guard.ascreen_prompt(messages)
        plan = await self.aroute(messages, model, **params)
        request = self._request(messages, params)
        attempts: list[Attempt] = []
        warned: dict[str, list[str]] = {}

        async def call(candidate: ModelSpec) -> dict[str, Any]:
            adapter = get_adapter(self.catalog.providers[candidate.provider].api)
            endpoint = self.endpoint(candidate)
            return await send(
                self.client(),
                adapter,
                endpoint,
                candidate.api_model,
                self._for_model(request, candidate, warned),
                timeout=self.timeout,
            )

        started = time.perf_counter()
        try:
            body, used = await run_chain(
                plan.chain, call, policy=self.fallback, cooldowns=self.cooldowns, attempts=attempts
            )
        except Exception as exc:
            # Failed calls are logged too: they count towards error rates.
            if self.recorder is not None:
                self.recorder.completed(
                    messages, plan, body=None, used=None, usage=None, cost=None,
                    attempts=[a.to_dict() for a in attempts], started=started, error=exc,
                    requested=model,
                )  # fmt: skip
            raise
        if guard is not None:  # masks, withholds or warns on the reply
            body, plan = guard.finish(body, plan, screened)
        usage = body.get("usage") or None
        cost = used.usage_cost(usage) if usage else None
        if warned.get(used.id):
            plan = dataclasses.replace(plan, decision=_warned(plan.decision, warned[used.id]))
        response = ChatResponse(
            id=str(body["id"]),
            created=int(body.get("created") or 0),
            model=str(body.get("model") or used.api_model),
            choices=list(body["choices"]),
            usage=usage,
            model_used=used.id,
            provider=used.provider,
            decision=plan.decision,
            attempts=[a.to_dict() for a in attempts],
            cost=cost,
            native=body.get("native"),
        )
        if self.recorder is not None:  # queues, never raises
            self.recorder.completed(
                messages, plan, body=body, used=used, attempts=response.attempts,
                usage=usage, cost=cost, started=started, requested=model,
            )  # fmt: skip
        return response

    async def achat_stream(
        self, messages: Any, model: str | None = None, **params: Any
    ) -> ChatStream:
        params = _clean(params)
        guard = self.guard
        if guard is not None:  # blocks or masks the prompt before anything leaves
            messages, screened = await guard.ascreen_prompt(messages)
        plan = await self.aroute(messages, model, **params)
        if guard is not None:
            plan = guard.annotate(plan, screened)
        request = self._request(messages, params)
        state = StreamState()
        warned: dict[str, list[str]] = {}

        def opener(candidate: ModelSpec) -> AsyncGenerator[dict[str, Any], None]:
            adapter = get_adapter(self.catalog.providers[candidate.provider].api)
            return open_stream(
                self.client(),
                adapter,
                self.endpoint(candidate),
                candidate.api_model,
                self._for_model(request, candidate, warned),
                timeout=self.timeout,
            )

        chunks = stream_chain(
            plan.chain, opener, policy=self.fallback, cooldowns=self.cooldowns, state=state
        )
        on_end = None
        recorder = self.recorder
        if recorder is not None:  # recorded once the stream has ended
            started = time.perf_counter()

            def on_end(stream: ChatStream, error: BaseException | None) -> None:
                recorder.completed(
                    messages, plan, body=None, used=state.model, attempts=stream.attempts,
                    usage=stream.usage, cost=stream.cost, started=started, stream=True,
                    finish_reason=stream.finish_reason, text=stream.text, error=error,
                    requested=model,
                )  # fmt: skip

        if guard is not None:  # masks streamed text, even across chunk boundaries
            chunks = guard.guard_stream(chunks, lambda warned: stream.add_warnings(warned))
        stream = ChatStream(plan, chunks, state, on_end, warned)
        return stream

    def _request(self, messages: Any, params: dict[str, Any]) -> ChatRequest:
        native = params.get("native_request")
        guard = self.guard
        if native is not None and (
            not isinstance(native, NativeRequest) or (guard is not None and guard.has_rules())
        ):
            # Firewall rules read and mask the translated messages only: a native
            # body would carry the unmasked text past them.
            native = None
        return ChatRequest(_as_messages(messages), _for_provider(params), native)

    def _for_model(
        self, request: ChatRequest, model: ModelSpec, warned: dict[str, list[str]]
    ) -> ChatRequest:
        """The request with ``model``'s parameter quirks (catalog data) applied."""
        if not request.params:
            return request  # every quirk rewrites a field the request has: nothing to do
        if request.native_for(self.catalog.providers[model.provider].api) is not None:
            return request
        params, warnings = apply_quirks(
            request.params, self._quirks(model), model.id, model.max_output
        )
        if warnings:
            warned[model.id] = warnings
        return ChatRequest(request.messages, params, request.native)

    def _quirks(self, model: ModelSpec) -> Mapping[str, Any]:
        """``model``'s quirks merged with the catalog's, merged once per catalog model
        rather than on every call. Models outside the catalog (pins of names it does
        not list, as many as clients make up) are merged each time, so this stays small."""
        defaults = self.catalog.defaults.get("params")
        cached = self._merged_quirks.get(model.id)
        if cached is not None and cached[0] is model.params and cached[1] is defaults:
            return cached[2]
        quirks = merged_quirks(defaults, model.params)
        if self.catalog.models.get(model.id) is model:
            self._merged_quirks[model.id] = (model.params, defaults, quirks)
        return quirks


def _routes(model: str | None) -> bool:
    """Whether this model string routes (pins skip L2: the model is already chosen)."""
    from router.routing.model_strings import RequestKind, parse_model_string

    return parse_model_string(model).kind is not RequestKind.PIN


# Parameters addressed to the router itself: routing rules match on them, and
# providers (several reject unknown fields) never see them.
_ROUTER_ONLY = frozenset({"metadata", "route_messages", "prefer", "native_request"})


def _warned(decision: Decision, warnings: list[str]) -> Decision:
    new = [w for w in warnings if w not in decision.warnings]
    return dataclasses.replace(decision, warnings=(*decision.warnings, *new)) if new else decision


def _for_provider(params: dict[str, Any]) -> dict[str, Any]:
    if _ROUTER_ONLY.isdisjoint(params):
        return params
    return {k: v for k, v in params.items() if k not in _ROUTER_ONLY}


def _clean(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None and k not in _CALL_PARAMS}


def _as_messages(messages: Any) -> list[dict[str, Any]]:
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}]
    return [dict(m) for m in messages]
