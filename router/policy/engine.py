"""Apply the policy to a request: routing rules before planning, the firewall around the call.

It is the call engine's :class:`~router.calls.observers.CallGuard`
(``router/calls/engine.py``), which calls in at four points:

* :meth:`PolicyEngine.screen_prompt` first, before anything can leave
  (L2 included): block raises :class:`FirewallBlocked`, mask rewrites the
  messages, warn collects rule names;
* :meth:`PolicyEngine.plan` instead of planning directly: the first matching
  routing rule rewrites the model string, strategy, exclusions or provider;
* :meth:`PolicyEngine.screen_choices` on a finished reply;
* :meth:`PolicyEngine.guard_stream` around a streamed reply.

Rules are read from the store on the request that follows a change (the
store's ``version()`` is polled per request, compiled rules are cached by
version), so edits made through any process apply without a restart.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import AsyncGenerator, Callable, Hashable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from router.errors import NoCandidateError
from router.policy.firewall import CompiledFirewallRule, FirewallRule, StreamGuard, compile_rule
from router.policy.rules import RoutingRule, RuleContext, order_key
from router.policy.store import PolicyStore

if TYPE_CHECKING:
    from router.routing.catalog import Catalog, ModelSpec
    from router.routing.planning import RoutePlan, RoutingPolicy
    from router.settings import RouterSettings
    from router.types import Decision

__all__ = ["PlanFn", "PolicyEngine", "Snapshot", "build_policy", "with_warnings"]

# plan(model string, routing policy, extra model filter) -> RoutePlan
PlanFn = Callable[[str | None, "RoutingPolicy", Callable[["ModelSpec"], bool] | None], "RoutePlan"]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The enabled rules of one store version, ordered and compiled."""

    version: Hashable
    routing: tuple[RoutingRule, ...] = ()
    prompt: tuple[CompiledFirewallRule, ...] = ()
    response: tuple[CompiledFirewallRule, ...] = ()
    needs_text: bool = False  # some rule matches on ``contains``


class _Skip(Exception):
    """This rule's model or provider cannot serve the request; try the next rule."""


def with_warnings(decision: Decision, warnings: Sequence[str]) -> Decision:
    """The decision with ``warnings`` appended (once each)."""
    return decision.with_warnings(warnings)


class PolicyEngine:
    def __init__(self, store: PolicyStore, catalog: Catalog | None = None) -> None:
        self.store = store
        self.catalog = catalog
        self._snapshot: Snapshot | None = None
        self._compiled: dict[tuple[str, float], CompiledFirewallRule] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PolicyEngine({self.store!r})"

    # ---- loading ---------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        version = self.store.version()
        snap = self._snapshot
        if snap is not None and snap.version == version:
            return snap
        with self._lock:
            snap = self._load(version)
            self._snapshot = snap
        return snap

    def _load(self, version: Hashable) -> Snapshot:
        from router.routing.strategies import load_profiles

        profiles = tuple(load_profiles())
        routing = sorted(
            (
                RoutingRule.from_dict(r, profiles=profiles)
                for r in self.store.list("routing_rule")
                if r.get("is_enabled", True)
            ),
            key=order_key,
        )
        compiled: dict[tuple[str, float], CompiledFirewallRule] = {}
        firewall: list[CompiledFirewallRule] = []
        for record in self.store.list("firewall_rule"):
            if not record.get("is_enabled", True):
                continue
            key = (str(record["id"]), float(record.get("updated_at") or 0.0))
            found = self._compiled.get(key)
            if found is None:
                # Patterns were validated on the way in; recompiling is only
                # needed for rules that changed since the last load.
                found = compile_rule(FirewallRule.from_dict(record))
            compiled[key] = found
            firewall.append(found)
        self._compiled = compiled
        firewall.sort(key=lambda c: order_key(c.rule))
        return Snapshot(
            version=version,
            routing=tuple(routing),
            prompt=tuple(c for c in firewall if c.rule.applies_to("prompt")),
            response=tuple(c for c in firewall if c.rule.applies_to("response")),
            needs_text=any(r.match.contains for r in routing),
        )

    # ---- routing rules ---------------------------------------------------------

    def plan(
        self,
        decision: Decision,
        messages: Any,
        model: str | None,
        params: Mapping[str, Any],
        policy: RoutingPolicy,
        plan: PlanFn,
    ) -> RoutePlan:
        """Plan with the first matching rule applied; ``decision.rule`` names it."""
        snap = self.snapshot()
        if not snap.routing:
            return plan(model, policy, None)
        ctx = _context(decision, messages, model, params, policy, snap.needs_text)
        skipped: list[str] = []
        for rule in snap.routing:
            if not rule.match.matches(ctx):
                continue
            try:
                result = self._apply(rule, model, policy, plan)
            except _Skip as why:
                skipped.append(f"routing rule {rule.name!r} skipped: {why}")
                continue
            extra = [*skipped, *([rule.action.add_warning] if rule.action.add_warning else [])]
            routed = dataclasses.replace(with_warnings(result.decision, extra), rule=rule.name)
            return dataclasses.replace(result, decision=routed)
        result = plan(model, policy, None)
        return dataclasses.replace(result, decision=with_warnings(result.decision, skipped))

    def _apply(
        self, rule: RoutingRule, model: str | None, policy: RoutingPolicy, plan: PlanFn
    ) -> RoutePlan:
        from router.routing.model_strings import RequestKind, parse_model_string, strategy_of_mode
        from router.routing.planning import Rule
        from router.routing.strategies import Strategy

        action = rule.action
        request = parse_model_string(model)
        strategy = strategy_of_mode(action.set_mode) if action.set_mode else None
        profile = None
        if action.set_strategy in {s.value for s in Strategy}:
            strategy = Strategy(action.set_strategy)  # set_strategy wins over set_mode
        elif action.set_strategy:
            profile = action.set_strategy
        changes: dict[str, Any] = {}
        if action.exclude_models:
            changes["exclude_models"] = (*policy.exclude_models, *action.exclude_models)
        pinned = request.model if request.kind is RequestKind.PIN else None
        if action.set_model and request.kind is RequestKind.PIN:
            pinned = action.set_model  # a pin is replaced, not ranked
        elif action.set_model:
            changes["rules"] = (Rule(model=action.set_model),)  # first in the chain
        if pinned is not None:
            model = f"{pinned}:{_mode_word(strategy)}" if strategy else pinned
        elif request.kind is RequestKind.ANCHORED:
            model = f"{request.model}:{_mode_word(strategy or request.strategy)}"
        else:  # auto: the rule's profile/strategy replace what the string asked for
            wanted = profile or request.profile
            model = f"auto:{wanted}" if wanted else "auto"
            if strategy is not None:
                changes["strategy"] = strategy
            elif request.strategy is not None:
                changes["strategy"] = request.strategy
            if profile is not None:
                changes["profile"] = profile
        provider = action.set_provider
        allow = (lambda m: m.provider == provider) if provider else None
        try:
            result = plan(model, dataclasses.replace(policy, **changes), allow)
        except NoCandidateError as exc:
            if provider:
                raise _Skip(f"no model of provider {provider!r} can serve it") from None
            exc.message = f"{exc.message} (after routing rule {rule.name!r})"
            exc.args = (exc.message,)
            raise
        if action.set_model and pinned is None:
            target = self.catalog.find(action.set_model) if self.catalog else None
            if target is None or result.chain[0].id != target.id:
                raise _Skip(
                    f"model {action.set_model!r} cannot serve this request "
                    "(no key, excluded, or it lacks the context, tools, vision or JSON needed)"
                )
        return result

    # ---- firewall ----------------------------------------------------------------

    def screen_prompt(self, messages: Any) -> tuple[Any, list[str]]:
        """(messages with masks applied, warn rule names); raises FirewallBlocked."""
        rules = self.snapshot().prompt
        if not rules:
            return messages, []
        warnings: list[str] = []

        def screen(text: str) -> str:
            for compiled in rules:
                text = compiled.apply(text, "prompt", warnings)
            return text

        return _map_text(messages, screen), warnings

    def screen_choices(
        self, choices: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """A finished reply's choices masked; raises FirewallBlocked to withhold it."""
        rules = self.snapshot().response
        if not rules:
            return choices, []
        warnings: list[str] = []
        out = []
        for choice in choices:
            message = choice.get("message") or {}
            text = message.get("content")
            if isinstance(text, str) and text:
                for compiled in rules:
                    text = compiled.apply(text, "response", warnings)
                choice = {**choice, "message": {**message, "content": text}}
            out.append(choice)
        return out, warnings

    def annotate(self, plan: RoutePlan, warnings: Sequence[str]) -> RoutePlan:
        """The plan with firewall warnings on its decision."""
        if not warnings:
            return plan
        return dataclasses.replace(plan, decision=with_warnings(plan.decision, warnings))

    def finish(
        self, body: dict[str, Any], plan: RoutePlan, prompt_warnings: Sequence[str]
    ) -> tuple[dict[str, Any], RoutePlan]:
        """A provider's reply after the response firewall, and the plan carrying all warnings."""
        choices, warnings = self.screen_choices(list(body.get("choices") or ()))
        if self.snapshot().response:
            body = {**body, "choices": choices}
        return body, self.annotate(plan, [*prompt_warnings, *warnings])

    def guard_stream(
        self,
        chunks: AsyncGenerator[dict[str, Any], None],
        on_warnings: Callable[[list[str]], None],
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Mask, cut off or watch streamed content; ``chunks`` unchanged when no rule applies."""
        rules = list(self.snapshot().response)
        if not rules:
            return chunks
        return _guarded(chunks, rules, on_warnings)


def _mode_word(strategy: Any) -> str:
    from router.routing.model_strings import mode_of

    return mode_of(strategy)


def _map_text(messages: Any, fn: Callable[[str], str]) -> Any:
    """Apply ``fn`` to every piece of message text: string content and text parts."""
    if isinstance(messages, str):
        return fn(messages)
    if not isinstance(messages, (list, tuple)):
        return messages  # the input reader reports what is wrong with it
    out: list[Any] = []
    for message in messages:
        if isinstance(message, Mapping):
            content = message.get("content")
            if isinstance(content, str):
                message = {**message, "content": fn(content)}
            elif isinstance(content, list):
                parts = [
                    {**p, "text": fn(p["text"])}
                    if isinstance(p, Mapping) and isinstance(p.get("text"), str)
                    else p
                    for p in content
                ]
                message = {**message, "content": parts}
        out.append(message)
    return out


def _user_text(messages: Any) -> str:
    if isinstance(messages, str):
        return messages.lower()
    pieces: list[str] = []
    for message in messages if isinstance(messages, (list, tuple)) else ():
        if not isinstance(message, Mapping) or message.get("role", "user") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            pieces.append(content)
        elif isinstance(content, list):
            pieces.extend(
                p["text"]
                for p in content
                if isinstance(p, Mapping) and isinstance(p.get("text"), str)
            )
    return "\n".join(pieces).lower()


def _context(
    decision: Decision,
    messages: Any,
    model: str | None,
    params: Mapping[str, Any],
    policy: RoutingPolicy,
    needs_text: bool,
) -> RuleContext:
    from router.routing.model_strings import mode_of, parse_model_string
    from router.routing.strategies import load_profiles

    request = parse_model_string(model)
    strategy = request.strategy or policy.strategy
    if strategy is None:
        name = request.profile or policy.profile
        if request.profile is None and policy.profile == "auto" and params.get("tools"):
            name = "agentic"
        profile = load_profiles().get(name)
        strategy = profile.strategy if profile else None
    metadata = params.get("metadata")
    return RuleContext(
        task=decision.task.value,
        tier=decision.tier.value,
        language=decision.language.lower(),
        text=_user_text(messages) if needs_text else "",
        metadata=metadata if isinstance(metadata, Mapping) else {},
        mode=mode_of(strategy) if strategy is not None else "balance",
        model_requested=(model or "auto").strip(),
    )


async def _guarded(
    chunks: AsyncGenerator[dict[str, Any], None],
    rules: list[CompiledFirewallRule],
    on_warnings: Callable[[list[str]], None],
) -> AsyncGenerator[dict[str, Any], None]:
    guards: dict[int, StreamGuard] = {}
    finished: set[int] = set()
    last: dict[str, Any] | None = None
    async with aclosing(chunks):
        async for chunk in chunks:
            last = chunk
            choices = chunk.get("choices")
            if not choices:
                yield chunk
                continue
            out = []
            for choice in choices:
                index = int(choice.get("index", 0))
                guard = guards.get(index)
                if guard is None:
                    guard = guards[index] = StreamGuard(rules)
                delta = choice.get("delta") or {}
                content = delta.get("content")
                text = guard.feed(content) if isinstance(content, str) else ""
                if choice.get("finish_reason") is not None and index not in finished:
                    finished.add(index)
                    text += guard.flush()
                if isinstance(content, str) or text:
                    choice = {**choice, "delta": {**delta, "content": text}}
                out.append(choice)
            if _holds_nothing(chunk, out):
                continue  # everything in it is held back for now
            yield {**chunk, "choices": out}
    tail = []
    for index, guard in guards.items():
        if index not in finished:
            text = guard.flush()
            if text:
                tail.append({"index": index, "delta": {"content": text}, "finish_reason": None})
    if tail and last is not None:
        yield {**{k: v for k, v in last.items() if k != "usage"}, "choices": tail}
    on_warnings([w for g in guards.values() for w in g.warnings()])


def _holds_nothing(chunk: Mapping[str, Any], choices: list[dict[str, Any]]) -> bool:
    if chunk.get("usage"):
        return False
    for choice in choices:
        if choice.get("finish_reason") is not None:
            return False
        delta = choice.get("delta") or {}
        if delta.get("content") or any(v for k, v in delta.items() if k != "content"):
            return False
    return True


def build_policy(settings: RouterSettings, catalog: Catalog) -> PolicyEngine:
    """The rules a router runs: a store (memory or SQLite) seeded from its settings.

    The settings' simple ``rules`` become routing rules (same order, same meaning).
    Config wins for the rules it declares: on every start they overwrite the
    stored rules with the same id (``rules-N``, ``routing_rules-N``,
    ``firewall_rules-N`` unless the rule names its own ``id``); rules created
    through the API or CLI are kept as they are.
    """
    from router.policy.api import FirewallRules, RoutingRules, catalog_validator
    from router.policy.rules import from_legacy
    from router.policy.store import open_store
    from router.routing.strategies import load_profiles

    store = open_store(settings.policy_db, settings.policy_store)
    profiles = tuple(load_profiles())
    routing = [from_legacy(rule, i) for i, rule in enumerate(settings.simple_rules)]
    for i, raw in enumerate(settings.routing_rules):
        if not isinstance(raw, RoutingRule):
            seeded = {"id": f"routing_rules-{i}", **raw}
            raw = RoutingRule.from_dict(seeded, f"routing_rules[{i}]", profiles)
        routing.append(raw)
    firewall = []
    for i, raw_fw in enumerate(settings.firewall_rules):
        if not isinstance(raw_fw, FirewallRule):
            seeded = {"id": f"firewall_rules-{i}", **raw_fw}
            raw_fw = FirewallRule.from_dict(seeded, f"firewall_rules[{i}]")
        firewall.append(raw_fw)
    RoutingRules(store, catalog_validator(catalog)).seed(routing)
    FirewallRules(store).seed(firewall)
    return PolicyEngine(store, catalog)
