"""Every listing command at 80 columns in a pipe: each id or model name it prints is whole.

An id printed by one command is typed into the next (``rules delete ID``, ``models
promote NAME``, ``--set-model MODEL``): cut with an ellipsis or folded over two lines,
it cannot be copied. Each listing also takes ``--json``, and what the text shows is
checked against the ids that JSON holds, so the test cannot pass by printing nothing.
CliRunner's output is not a terminal, so this is the pipe case too.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from log_helpers import synthetic_log
from typer.testing import CliRunner

from router.cli.app import app

LONG_MODEL = "together/meta-llama/Llama-3.3-70B-Instruct-Turbo"
LONG_NAME = "send hard coding prompts to the strongest model we pay for, all day long"
MODEL_NAME = "20261207-111200-20261206-dbf1a04b216a"


def run(*args: str, env: dict[str, str]) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "80", **env})
    assert result.exit_code == 0, result.output
    return result.output


def assert_whole(text: str, ids: list[str]) -> None:
    assert ids, "nothing to look for: the listing is empty"
    lines = text.splitlines()
    for value in ids:
        assert any(value in line for line in lines), f"{value!r} not whole in:\n{text}"
    assert "…" not in text, text
    # Tables fit the width; plain block lines may run on (the terminal wraps them softly).
    assert all(len(line.rstrip()) <= 80 for line in lines if "│" in line or "─" in line)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A policy store with long names, a model registry, a decision log and a spend ledger."""
    root = tmp_path_factory.mktemp("listings")
    env = {
        "XDG_DATA_HOME": str(root / "xdg"),
        "TIERROUTER_MODEL_DIR": str(root / "models"),
        "TIERROUTER_DATASETS": str(root / "datasets"),
    }
    db = str(root / "policy.db")
    run("rules", "add", "--name", LONG_NAME, "--task", "coding", "--tier", "COMPLEX",
        "--set-model", LONG_MODEL, "--exclude", "openai/*", "--db", db, env=env)  # fmt: skip
    run("firewall", "add", "--name", "mask e-mail addresses in prompts and in replies",
        "--detector", "email", "--action", "mask", "--db", db, env=env)  # fmt: skip
    run("firewall", "add", "--name", "block AWS keys", "--type", "regex",
        "--pattern", r"AKIA[0-9A-Z]{16}", "--db", db, env=env)  # fmt: skip

    registry = root / "models"
    for name, promoted in ((MODEL_NAME, False), (MODEL_NAME.replace("1112", "1213"), True)):
        folder = registry / name
        folder.mkdir(parents=True)
        (folder / "model.json").write_text("{}")
        reason = "forced" if promoted else "only 12 held-out log rows (need 50)"
        metrics = {
            "created": 1796641920.0,
            "log_rows": {"train": 400, "held_out": 12},
            "held_out": {"challenger": {"score": 0.8}, "champion": {"score": 0.7}},
            "decision": {"promoted": promoted, "reason": reason},
        }
        (folder / "metrics.json").write_text(json.dumps(metrics))
    (registry / "promoted").write_text(MODEL_NAME.replace("1112", "1213") + "\n")

    log = root / "decisions.db"
    rows = [
        {"prompt": "Write a Rust lock-free queue", "model": LONG_MODEL},
        {"prompt": "What is 2 + 2?", "model": "groq/llama-3.3-70b-versatile"},
        {"prompt": "Summarise this memo", "model": "openrouter/meta-llama/llama-3.3-70b-instruct"},
    ]
    synthetic_log(log, rows).close()

    from router.state.spend import SQLiteSpendLedger

    ledger = SQLiteSpendLedger(log)
    ledger.add(["key:sk-proxy-team-search-backend-0123456789", "user:ann.example"], 0.25)
    assert ledger.flush()
    return {"env": env, "db": db, "log": str(log), "root": root}


def _rules(w: dict[str, Any]) -> tuple[list[str], list[str]]:
    args = ["rules", "list", "--db", w["db"]]
    listed = json.loads(run(*args, "--json", env=w["env"]))
    return args, [r["id"] for r in listed] + [LONG_NAME, LONG_MODEL]


def _firewall(w: dict[str, Any]) -> tuple[list[str], list[str]]:
    args = ["firewall", "list", "--db", w["db"]]
    listed = json.loads(run(*args, "--json", env=w["env"]))
    return args, [r["id"] for r in listed] + [r["name"] for r in listed]


def _catalog(w: dict[str, Any]) -> tuple[list[str], list[str]]:
    args = ["catalog", "--profile", "premium"]
    cells = json.loads(run(*args, "--json", env=w["env"]))["cells"]
    return args, sorted({c["model"] for c in cells if c["model"]})


def _models(w: dict[str, Any]) -> tuple[list[str], list[str]]:
    args = ["models", "list"]
    listed = json.loads(run(*args, "--json", env=w["env"]))
    return args, [m["name"] for m in listed]


def _stats(w: dict[str, Any]) -> tuple[list[str], list[str]]:
    args = ["stats", "--log", w["log"]]
    summary = json.loads(run(*args, "--json", env=w["env"]))
    return args, list(summary["by_model"])


def _spend(w: dict[str, Any]) -> tuple[list[str], list[str]]:
    args = ["spend", "--log", w["log"]]
    listed = json.loads(run(*args, "--json", env=w["env"]))
    return args, sorted({r["scope"] for r in listed})


def _datasets(w: dict[str, Any]) -> tuple[list[str], list[str]]:
    args = ["datasets", "list"]
    listed = json.loads(run(*args, "--json", env=w["env"]))
    return args, [s["name"] for s in listed["sets"]] + [s["origin"] for s in listed["sets"]]


def _route(w: dict[str, Any]) -> tuple[list[str], list[str]]:
    args = ["route", "Write a haiku", "--model", LONG_MODEL]
    plan = json.loads(run(*args, "--json", env=env_for("route", w)))
    return args, plan["chain"]


def env_for(name: str, w: dict[str, Any]) -> dict[str, str]:
    """The registry above promotes a stand-in artifact no router can load: commands that
    decide use the bundled model (an empty registry)."""
    if name != "route":
        return dict(w["env"])
    return {**w["env"], "TIERROUTER_MODEL_DIR": str(w["root"] / "no-models")}


LISTINGS = {
    "rules list": _rules,
    "firewall list": _firewall,
    "catalog": _catalog,
    "models list": _models,
    "stats": _stats,
    "spend": _spend,
    "datasets list": _datasets,
    "route": _route,
}


@pytest.mark.parametrize("name", LISTINGS)
def test_a_listing_prints_every_id_whole_at_80_columns(name: str, world: dict[str, Any]) -> None:
    args, ids = LISTINGS[name](world)
    assert_whole(run(*args, env=env_for(name, world)), ids)


@pytest.mark.parametrize("name", LISTINGS)
def test_every_listing_offers_json(name: str) -> None:
    help_text = run(*name.split(), "--help", env={})
    assert "--json" in help_text


def test_models_list_says_what_retraining_decided(world: dict[str, Any]) -> None:
    out = run("models", "list", env=world["env"])
    assert "promoted by" not in out
    assert "kept the champion: only 12 held-out log rows (need 50)" in out
    served = [line for line in out.splitlines() if "served" in line]
    assert served == [f"{MODEL_NAME.replace('1112', '1213')}  * served (promoted)"]


def test_rules_list_shows_each_rule_as_a_block_headed_by_its_id(world: dict[str, Any]) -> None:
    out = run("rules", "list", "--db", world["db"], env=world["env"])
    rule = json.loads(run("rules", "list", "--db", world["db"], "--json", env=world["env"]))[0]
    assert out.splitlines()[0].startswith(f"{rule['id']}  #1, priority 0, enabled")
    assert f'"set_model": "{LONG_MODEL}"' in out
