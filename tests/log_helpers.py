"""Shared builders for the decision-log tests: tiered catalogs and synthetic logs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fake_providers import FakeProviders

from router.log.sqlite import SQLiteDecisionLog
from router.log.store import DecisionRecord, Feedback
from router.routing.catalog import Catalog, ModelSpec, ProviderSpec

K8S = (
    "Write a Kubernetes deployment manifest for the {x} service with {n} replicas, "
    "a readiness probe and resource limits."
)
SERVICES = ["billing", "search", "auth", "payments", "inventory", "orders", "mailer", "reports"]


def k8s_prompts(count: int) -> list[str]:
    out = []
    for i in range(count):
        out.append(K8S.format(x=SERVICES[i % len(SERVICES)], n=2 + i // len(SERVICES)))
    return out


def tiered_catalog(fake: FakeProviders) -> Catalog:
    """A cheap model good only for SIMPLE, a mid one up to MEDIUM, an expensive one for all."""
    providers = {
        "oa": ProviderSpec("oa", "openai", fake.url("openai"), "OA_KEY", enabled=True),
        "an": ProviderSpec("an", "anthropic", fake.url("anthropic"), "AN_KEY", enabled=True),
        "gg": ProviderSpec("gg", "gemini", fake.url("gemini"), "GG_KEY", enabled=True),
    }
    caps = frozenset({"tools", "vision", "json"})

    def model(mid: str, price: float, quality: tuple[float, ...]) -> ModelSpec:
        provider, name = mid.split("/")
        return ModelSpec(
            id=mid, provider=provider, api_model=name, input_price=price,
            output_price=price * 4, context_window=100_000, capabilities=caps,
            tier_quality=quality,
        )  # fmt: skip

    models = [
        model("oa/fast-1", 0.1, (0.95, 0.5, 0.3, 0.2)),
        model("an/claude-x", 1.0, (0.95, 0.95, 0.6, 0.5)),
        model("gg/gem-x", 5.0, (0.99, 0.99, 0.99, 0.99)),
    ]
    return Catalog(providers, models, {"baseline_model": "gg/gem-x", "output_tokens": {}})


def synthetic_log(
    path: Path,
    rows: list[dict[str, Any]],
    *,
    start: float | None = None,
) -> SQLiteDecisionLog:
    """A log with one record per row: {prompt, tier, task, verdict?, tier_fix?, ...}."""
    from router.router import Router

    log = SQLiteDecisionLog(path)
    router = Router()
    t0 = start if start is not None else time.time() - len(rows) * 60
    for i, row in enumerate(rows):
        d = router.classify(row["prompt"])
        rec = DecisionRecord(
            id=row.get("id", f"rt-syn-{i:05d}"),
            ts=t0 + i * 60,
            prompt_hash=f"h{i}",
            task=row.get("task", d.task.value),
            tier=row.get("tier", d.tier.value),
            language=d.language,
            source=d.source,
            model_version=d.model_version,
            model_used=row.get("model", "oa/fast-1"),
            attempts=[{"model": row.get("model", "oa/fast-1"), "ok": True}],
            cost=row.get("cost", 0.001),
            baseline_cost=row.get("baseline_cost", 0.01),
            prompt=row["prompt"],
            response=row.get("response", "ok"),
        )
        log.record(rec)
    log.flush()
    for i, row in enumerate(rows):
        if any(k in row for k in ("verdict", "tier_fix", "task_fix", "rating")):
            log.attach_feedback(
                Feedback(
                    row.get("id", f"rt-syn-{i:05d}"),
                    verdict=row.get("verdict"),
                    tier=row.get("tier_fix"),
                    task=row.get("task_fix"),
                    rating=row.get("rating"),
                    ts=t0 + i * 60 + 1,
                )
            )
    return log
