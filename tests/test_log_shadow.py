"""Shadow comparison against the fake providers: priced, confirmed, stored, resumable."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fake_providers import FakeProviders
from typer.testing import CliRunner

from router import Router
from router.errors import RouterInputError
from router.log.sqlite import SQLiteDecisionLog
from training.outcomes import targets_from_log
from training.shadow import parse_choice, plan_shadow, run_shadow, sampled, strong_first

MakeRouter = Callable[..., Router]


def logged(make_router: MakeRouter, db: Path, n: int) -> None:
    router = make_router(log={"path": str(db), "store_prompts": True})
    for i in range(n):
        router.chat(f"Give me fact number {i} about owls")
    router.close()


def test_shadow_compares_a_sample_and_stores_outcomes(
    fake: FakeProviders, make_router: MakeRouter, tmp_path: Path
) -> None:
    db = tmp_path / "d.db"
    logged(make_router, db, 40)
    log = SQLiteDecisionLog(db)
    ids = [r.id for r in log.records()]
    router = make_router()
    plan = plan_shadow(log, router, "an/claude-x", "gg/gem-x", 0.5)
    expected = [i for i in ids if sampled(i, 0.5)]
    assert [r.id for r in plan.records] == expected and 10 < len(expected) < 30
    assert plan.cost is not None and plan.cost > 0 and "50% sample" in plan.describe()
    assert not any(r.model in ("claude-x", "gem-x") for r in fake.requests[-1:])
    # The judge always picks answer A: the strong answer wins where it was shown first.
    fake.reply("gem-x", "A")
    before = len(fake.requests)
    result = run_shadow(plan, log, router)
    assert result.compared == len(expected) and result.failed == 0
    assert len(fake.requests) - before == 2 * len(expected)
    for rid, verdict in result.verdicts.items():
        assert verdict == ("needed_stronger" if strong_first(rid) else "cheaper_ok")
    # Both answers reached the judge.
    judged = [r for r in fake.requests if r.model == "gem-x"]
    assert "Hello from claude-x" in str(judged[-1].body) and "Hello from fast-1" in str(
        judged[-1].body
    )
    report = targets_from_log(log)
    assert report.signals["shadow comparison"] == len(expected)
    assert report.fell_short == result.fell_short
    # Resumes: the compared calls are not sent again; a higher rate adds new ones only.
    assert plan_shadow(log, router, "an/claude-x", "gg/gem-x", 0.5).records == []
    more = plan_shadow(log, router, "an/claude-x", "gg/gem-x", 1.0)
    assert {r.id for r in more.records} == set(ids) - set(expected)
    with pytest.raises(RouterInputError, match="shadow rate"):
        plan_shadow(log, router, "an/claude-x", "gg/gem-x", 0.0)


def test_unparseable_judge_replies_fail_and_are_retried(
    fake: FakeProviders, make_router: MakeRouter, tmp_path: Path
) -> None:
    db = tmp_path / "d.db"
    logged(make_router, db, 6)
    log = SQLiteDecisionLog(db)
    router = make_router()
    fake.reply("gem-x", "hard to say")
    plan = plan_shadow(log, router, "an/claude-x", "gg/gem-x", 1.0)
    result = run_shadow(plan, log, router)
    assert result.compared == 0 and result.failed == 6 and "no A/B/T" in result.errors[0]
    assert len(plan_shadow(log, router, "an/claude-x", "gg/gem-x", 1.0).records) == 6
    assert parse_choice("b") == "B" and parse_choice("Answer T.") == "T"


def test_cli_prices_asks_and_reads_the_rate_from_the_config(
    fake: FakeProviders, make_router: MakeRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from router.cli import label as label_cli
    from router.cli.app import app

    db = tmp_path / "d.db"
    logged(make_router, db, 8)
    monkeypatch.setattr(label_cli, "_make_router", lambda config: make_router())
    fake.reply("gem-x", "T")
    args = ["label", "--judge", "gg/gem-x", "--strong", "an/claude-x", "--log", str(db)]
    no = CliRunner().invoke(app, [*args, "--shadow", "1"], input="n\n")
    assert no.exit_code == 1 and "nothing spent" in no.output and "about $" in no.output
    assert "8 logged calls (100% sample)" in no.output
    assert not any(r.model in ("claude-x", "gem-x") for r in fake.requests)
    config = tmp_path / "c.yaml"
    config.write_text("log:\n  shadow_rate: 1.0\n")
    yes = CliRunner().invoke(app, [*args, "--config", str(config), "--yes"])
    assert yes.exit_code == 0, yes.output
    assert "compared 8: the cheaper answer sufficed on 8" in yes.output
    again = CliRunner().invoke(app, [*args, "--shadow", "1", "--yes"])
    assert "nothing to compare" in again.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("log:\n  shadow_rate: 2\n")
    out = CliRunner().invoke(app, [*args, "--config", str(bad), "--yes"])
    assert out.exit_code != 0 and "shadow_rate" in (out.output + str(out.exception))
