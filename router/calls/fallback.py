"""Fallback chains: try candidates in order, retry the same model when told when,
cool down models that fail, and turn the last failure into one APIError.

Cooldowns sit behind the small :class:`CooldownStore` protocol so a shared store
(Redis, say) can replace the in-process default when several workers route.

Tests need neither real sleeps nor the real clock (stamina's pattern): inside
``with instant_waits() as waits:`` a Retry-After wait returns at once and its
length is appended to ``waits``; ``InMemoryCooldownStore(clock=...)`` takes a
clock to move by hand, such as :class:`ManualClock`.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from router.errors import APIError
from router.providers.base import ProviderError
from router.routing.catalog import ModelSpec

__all__ = [
    "Attempt",
    "CooldownStore",
    "FallbackPolicy",
    "InMemoryCooldownStore",
    "ManualClock",
    "StreamState",
    "instant_waits",
    "run_chain",
    "stream_chain",
]

T = TypeVar("T")

# The waits of the innermost ``instant_waits()`` block, or None outside one. Module-wide
# on purpose: the sync API runs the chain on its own thread's event loop.
_test_waits: list[float] | None = None


@contextlib.contextmanager
def instant_waits() -> Iterator[list[float]]:
    """Test mode: Retry-After waits do not sleep; the list collects their lengths."""
    global _test_waits
    outer, _test_waits = _test_waits, []
    try:
        yield _test_waits
    finally:
        _test_waits = outer


async def _wait(seconds: float) -> None:
    waits = _test_waits
    if waits is not None:
        waits.append(seconds)
        return
    await asyncio.sleep(seconds)


class ManualClock:
    """A clock that moves only when told: ``InMemoryCooldownStore(clock=ManualClock())``."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@runtime_checkable
class CooldownStore(Protocol):
    """Where failing models wait out their cooldown. Keys are catalog model ids."""

    def remaining(self, model_id: str) -> float:
        """Seconds of cooldown left; 0 when the model may be called."""
        ...

    def cool(self, model_id: str, seconds: float) -> None:
        """Keep ``model_id`` out of routing for ``seconds``."""
        ...

    def clear(self, model_id: str) -> None:
        """Forget a cooldown (the model just answered)."""
        ...


class InMemoryCooldownStore:
    """The default store: a dict of deadlines on the monotonic clock, thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def remaining(self, model_id: str) -> float:
        with self._lock:
            until = self._until.get(model_id)
            if until is None:
                return 0.0
            left = until - self._clock()
            if left <= 0:
                del self._until[model_id]
                return 0.0
            return left

    def cool(self, model_id: str, seconds: float) -> None:
        with self._lock:
            until = self._clock() + max(0.0, seconds)
            # A shorter cooldown never cuts a longer one short.
            self._until[model_id] = max(until, self._until.get(model_id, 0.0))

    def clear(self, model_id: str) -> None:
        with self._lock:
            self._until.pop(model_id, None)


@dataclass(frozen=True, slots=True)
class FallbackPolicy:
    """How hard to try. Defaults suit interactive calls."""

    # Retries of the same model when it says when to come back (Retry-After).
    same_model_retries: int = 1
    # Longer waits than this go to the next candidate instead.
    max_retry_after: float = 5.0
    cooldown_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try of one model, as recorded on responses and errors."""

    model: str
    provider: str
    ok: bool
    latency_ms: float
    status: int | None = None
    type: str | None = None
    error: str | None = None
    retry_after: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "provider": self.provider,
            "ok": self.ok,
            "latency_ms": round(self.latency_ms, 2),
            "status": self.status,
            "type": self.type,
            "error": self.error,
            "retry_after": self.retry_after,
        }


def order_by_cooldown(chain: Sequence[ModelSpec], store: CooldownStore) -> list[ModelSpec]:
    """Ready models in chain order, then cooling ones soonest-ready first.

    Cooling models stay at the end rather than being dropped: when every
    provider is struggling, the request still gets a try instead of an
    instant "all cooling down" loop.
    """
    ready, cooling = [], []
    for model in chain:
        left = store.remaining(model.id)
        if left > 0:
            cooling.append((left, model))
        else:
            ready.append(model)
    cooling.sort(key=lambda lm: lm[0])
    return ready + [m for _, m in cooling]


def _failure(model: ModelSpec, exc: ProviderError, started: float) -> Attempt:
    return Attempt(
        model=model.id,
        provider=model.provider,
        ok=False,
        latency_ms=(time.perf_counter() - started) * 1000,
        status=exc.status,
        type=exc.kind,
        error=exc.message,
        retry_after=exc.retry_after,
    )


def _api_error(
    exc: ProviderError, model: ModelSpec, attempts: list[Attempt], message: str
) -> APIError:
    return APIError(
        message,
        status=exc.status,
        type=exc.kind,
        provider=model.provider,
        model=model.id,
        attempts=[a.to_dict() for a in attempts],
    )


def _exhausted(exc: ProviderError, model: ModelSpec, attempts: list[Attempt]) -> APIError:
    tried = ", ".join(dict.fromkeys(a.model for a in attempts))
    return _api_error(
        exc,
        model,
        attempts,
        f"all {len({a.model for a in attempts})} candidate model(s) failed ({tried}); "
        f"last: {exc.message}",
    )


def _should_wait(exc: ProviderError, tries: int, policy: FallbackPolicy) -> bool:
    return (
        exc.retry_after is not None
        and exc.retry_after <= policy.max_retry_after
        and tries < policy.same_model_retries
    )


async def _retry_same_model(
    exc: ProviderError,
    model: ModelSpec,
    tries: int,
    policy: FallbackPolicy,
    cooldowns: CooldownStore,
    attempts: list[Attempt],
) -> bool:
    """After a failed try: True once a short Retry-After was waited out (try it again);
    False when the chain should move on (the model is cooled down); raises when no
    other model would do better (400, 401, 403, 404)."""
    if not exc.retryable:
        raise _api_error(exc, model, attempts, exc.message) from exc
    if _should_wait(exc, tries, policy):
        await _wait(exc.retry_after or 0.0)
        return True
    cooldowns.cool(model.id, max(exc.retry_after or 0.0, policy.cooldown_seconds))
    return False


def _succeeded(
    model: ModelSpec, started: float, cooldowns: CooldownStore, attempts: list[Attempt]
) -> None:
    attempts.append(Attempt(model.id, model.provider, True, (time.perf_counter() - started) * 1000))
    cooldowns.clear(model.id)


async def run_chain(
    chain: Sequence[ModelSpec],
    call: Callable[[ModelSpec], Awaitable[T]],
    *,
    policy: FallbackPolicy,
    cooldowns: CooldownStore,
    attempts: list[Attempt],
) -> tuple[T, ModelSpec]:
    """Call models in order until one answers; ``attempts`` is filled as we go.

    Raises APIError at once for errors that another model would hit too (400,
    401, 403, 404), and after the last candidate for the retryable ones.
    """
    last: tuple[ProviderError, ModelSpec] | None = None
    for model in order_by_cooldown(chain, cooldowns):
        tries = 0
        while True:
            started = time.perf_counter()
            try:
                result = await call(model)
            except ProviderError as exc:
                attempts.append(_failure(model, exc, started))
                if await _retry_same_model(exc, model, tries, policy, cooldowns, attempts):
                    tries += 1
                    continue
                last = (exc, model)
                break
            _succeeded(model, started, cooldowns, attempts)
            return result, model
    assert last is not None, "run_chain needs at least one candidate"
    raise _exhausted(last[0], last[1], attempts) from last[0]


@dataclass(slots=True)
class StreamState:
    """What a streaming call learned, readable while and after it streams."""

    attempts: list[Attempt] = field(default_factory=list)
    model: ModelSpec | None = None


def _has_content(chunk: dict[str, Any]) -> bool:
    for choice in chunk.get("choices") or ():
        delta = choice.get("delta") or {}
        if delta.get("content") or delta.get("tool_calls") or delta.get("refusal"):
            return True
    return False


async def stream_chain(
    chain: Sequence[ModelSpec],
    open_stream: Callable[[ModelSpec], AsyncGenerator[dict[str, Any], None]],
    *,
    policy: FallbackPolicy,
    cooldowns: CooldownStore,
    state: StreamState,
) -> AsyncGenerator[dict[str, Any], None]:
    """Stream from the first model that works, failing over until content is sent.

    Chunks before the first content (the role announcement) are held back, so
    a failover never shows the caller two beginnings. Once content has gone
    out, a failure raises APIError type ``stream_interrupted``: switching
    models mid-answer would splice two different replies.
    """
    last: tuple[ProviderError, ModelSpec] | None = None
    for model in order_by_cooldown(chain, cooldowns):
        tries = 0
        while True:
            started = time.perf_counter()
            held: list[dict[str, Any]] = []
            sent = False
            try:
                async with aclosing(open_stream(model)) as chunks:
                    async for piece in chunks:
                        if not sent:
                            if not _has_content(piece) and piece.get("choices"):
                                held.append(piece)
                                continue
                            sent = True
                            state.model = model
                            for early in held:
                                yield early
                        yield piece
            except ProviderError as exc:
                state.attempts.append(_failure(model, exc, started))
                if sent:
                    cooldowns.cool(model.id, policy.cooldown_seconds)
                    raise _api_error(
                        ProviderError("stream_interrupted", exc.message, status=exc.status),
                        model,
                        state.attempts,
                        f"{model.id} failed after the reply had started streaming, so it was "
                        f"not retried on another model: {exc.message}",
                    ) from exc
                if await _retry_same_model(exc, model, tries, policy, cooldowns, state.attempts):
                    tries += 1
                    continue
                last = (exc, model)
                break
            if not sent:  # an empty but complete reply is still a reply
                state.model = model
                for early in held:
                    yield early
            _succeeded(model, started, cooldowns, state.attempts)
            return
    assert last is not None, "stream_chain needs at least one candidate"
    raise _exhausted(last[0], last[1], state.attempts) from last[0]
