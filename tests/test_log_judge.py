"""Judge labelling against the fake provider server: estimate, confirm, resume."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fake_providers import FakeProviders
from typer.testing import CliRunner

from router import Router
from training.judge import parse_grade, plan_judging, run_judging

MakeRouter = Callable[..., Router]


def logged(make_router: MakeRouter, db: Path, n: int) -> None:
    router = make_router(log={"path": str(db), "store_prompts": True})
    for i in range(n):
        router.chat(f"Give me fact number {i} about owls")
    router.close()


def test_judging_labels_estimates_and_resumes(
    fake: FakeProviders, make_router: MakeRouter, tmp_path: Path
) -> None:
    db = tmp_path / "d.db"
    logged(make_router, db, 5)
    judge = make_router()
    fake.reply("gem-x", "4")
    from router.log.sqlite import SQLiteDecisionLog

    log = SQLiteDecisionLog(db)
    plan = plan_judging(log, judge, "gg/gem-x", limit=2)
    assert len(plan.records) == 2 and plan.cost is not None and plan.cost > 0
    assert "2 answers to judge" in plan.describe()
    before = len(fake.requests)
    first = run_judging(plan, log, judge)
    assert first.labelled == 2 and set(first.grades.values()) == {4}
    # Resumes: the two graded records are not asked about again.
    rest = plan_judging(log, judge, "gg/gem-x")
    assert len(rest.records) == 3
    fake.reply("gem-x", "Grade: 2")
    second = run_judging(rest, log, judge)
    assert second.labelled == 3 and len(fake.requests) - before == 5
    judged = [f for f in log.feedback() if f.source == "judge:gg/gem-x"]
    assert sorted(f.verdict or "" for f in judged).count("needed_stronger") == 3
    assert plan_judging(log, judge, "gg/gem-x").records == []
    sent = fake.requests[-1].body
    assert "Give me fact number" in str(sent) and "Hello from fast-1" in str(sent)


def test_cli_asks_before_spending(
    fake: FakeProviders, make_router: MakeRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from router.cli import label as label_cli
    from router.cli.app import app

    db = tmp_path / "d.db"
    logged(make_router, db, 2)
    monkeypatch.setattr(label_cli, "_make_router", lambda config: make_router())
    fake.reply("gem-x", "5")
    args = ["label", "--judge", "gg/gem-x", "--log", str(db)]
    no = CliRunner().invoke(app, args, input="n\n")
    assert no.exit_code == 1 and "nothing spent" in no.output and "about $" in no.output
    assert not any(r.model == "gem-x" for r in fake.requests)
    yes = CliRunner().invoke(app, [*args, "--yes"])
    assert yes.exit_code == 0 and "labelled 2 (2 good enough" in yes.output
    assert "label: [" in yes.stderr and "judged: 2 of 2 (100%)" in yes.stderr
    again = CliRunner().invoke(app, [*args, "--yes"])
    assert "nothing to judge" in again.output


def test_grades_are_parsed_leniently() -> None:
    assert parse_grade("5") == 5 and parse_grade("Grade: 3/5") == 3 and parse_grade("n/a") is None
