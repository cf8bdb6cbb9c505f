"""One decision everywhere: the library, `classify`, `route`, `rules test` and the proxy's
`/v1/classify` give every prompt of a set the same task, tier, score, confidence and source.

`route` and `rules test` used to build their router with `model=False` and so decided by
the rules alone (the lock-free queue prompt: coding/MEDIUM there, coding/COMPLEX elsewhere).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from router import Router
from router.cli.app import app
from router.proxy import create_app
from router.proxy.server import build_router

runner = CliRunner()

PROMPTS = [
    "Implement a lock-free MPMC queue in Rust using atomics",
    "Prove that the square root of 2 is irrational",
    "Write a haiku about autumn",
    "What is the capital of France?",
    "Summarize the following: The meeting covered budget, hiring and the Q3 roadmap.",
    "Translate 'good morning, how are you?' into German",
    "请用Python写一个快速排序函数。",
    "東京から大阪までの距離はどのくらいですか？",
    "Extract every e-mail address from this text: write to ann@example.com or bob@example.org",
    "Plan a three-day trip to Lisbon on a budget, with reasons for each choice",
    "If all bloops are razzies and all razzies are lazzies, are all bloops lazzies? Explain.",
    "Объясни разницу между TCP и UDP",
]
FIELDS = ("task", "tier", "language", "score", "confidence", "source")


def _core(decision: dict[str, Any]) -> dict[str, Any]:
    return {k: decision[k] for k in FIELDS}


def _cli(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    out: dict[str, Any] = json.loads(result.output)
    return out


@pytest.fixture(scope="module")
def proxy() -> Any:
    router, settings = build_router(None)
    with TestClient(create_app(router, settings)) as client:
        yield client


@pytest.mark.parametrize("prompt", PROMPTS)
def test_every_entry_point_decides_alike(prompt: str, proxy: Any) -> None:
    expected = _core(Router().classify(prompt).to_dict())
    assert _core(_cli("classify", "--json", prompt)) == expected, "classify"
    assert _core(_cli("route", "--json", prompt)["decision"]) == expected, "route"
    assert _core(_cli("rules", "test", "--json", prompt)["decision"]) == expected, "rules test"
    reply = proxy.post("/v1/classify", json={"messages": [{"role": "user", "content": prompt}]})
    assert reply.status_code == 200, reply.text
    assert _core(reply.json()["decision"]) == expected, "proxy /v1/classify"


def test_the_model_decides_in_route() -> None:
    """The issue's example: the model says COMPLEX, the rules alone said MEDIUM."""
    plan = _cli("route", "--json", PROMPTS[0])
    assert (plan["decision"]["task"], plan["decision"]["tier"]) == ("coding", "COMPLEX")
    assert plan["decision"]["source"] == "model"
