"""Where rules live: library CRUD, SQLite shared by routers, config seeding, the CLI."""

from __future__ import annotations

import enum
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fake_providers import FakeProviders
from typer.testing import CliRunner

from router import Router
from router.cli.app import app
from router.errors import ConfigError
from router.policy.errors import FirewallBlocked, PolicyNotFound
from router.policy.firewall import FirewallRule
from router.policy.rules import RoutingRule
from router.policy.store import InMemoryPolicyStore, SqlitePolicyStore

MakeRouter = Callable[..., Router]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_crud_returns_typed_objects(
    kind: str, tmp_path: Path, fake: FakeProviders, make_router: MakeRouter
) -> None:
    extra = {"policy_db": tmp_path / "p.db"} if kind == "sqlite" else {}
    router = make_router(**extra)
    created = router.rules.create(name="a", match={"task": ["coding", "math"]},
                                  action={"set_mode": "quality"}, priority=3)  # fmt: skip
    assert isinstance(created, RoutingRule) and created.id.startswith("rr_")
    assert router.rules.retrieve(created.id) == created
    updated = router.rules.update(created.id, name="b", is_enabled=False)
    assert (updated.name, updated.is_enabled, updated.priority) == ("b", False, 3)
    assert updated.created_at == created.created_at and updated.updated_at >= created.updated_at
    assert [r.id for r in router.rules.list()] == [created.id]
    with pytest.raises(ConfigError, match="'id' cannot be changed"):
        router.rules.update(created.id, id="other")
    router.rules.delete(created.id)
    with pytest.raises(PolicyNotFound, match=created.id):
        router.rules.retrieve(created.id)
    with pytest.raises(PolicyNotFound):
        router.rules.delete(created.id)

    fw = router.firewall.create(name="cards", type="detector", pattern="credit_card")
    assert isinstance(fw, FirewallRule) and fw.action == "block" and fw.scope == "both"
    assert router.firewall.update(fw.id, action="mask").action == "mask"
    with pytest.raises(ConfigError, match=r"firewall rule 'cards'\.action"):
        router.firewall.update(fw.id, action="explode")
    assert router.firewall.retrieve(fw.id).action == "mask"  # a failed update changes nothing
    router.firewall.delete(fw.id)
    assert router.firewall.list() == []


def test_sqlite_is_shared_by_routers_and_seen_on_the_next_request(
    tmp_path: Path, fake: FakeProviders, make_router: MakeRouter
) -> None:
    db = tmp_path / "policy.sqlite"
    admin = make_router(policy_db=db)
    worker = make_router(policy_db=db)  # as a second proxy worker would
    assert worker.route("hi").decision.rule is None
    rule = admin.rules.create(name="to gem", action={"set_model": "gg/gem-x"})
    assert worker.route("hi").decision.rule == "to gem"
    admin.rules.disable(rule.id)
    assert worker.route("hi").decision.rule is None
    admin.firewall.create(name="no secrets", pattern="topsecret", scope="prompt")
    with pytest.raises(FirewallBlocked):
        worker.chat("this is TOPSECRET")
    # And the file outlives both: a fresh router reads the same rules.
    third = Router(model=False, policy_db=db, keys={"oa": "k"}, catalog=worker.catalog)
    assert [r.name for r in third.firewall.list()] == ["no secrets"]
    assert third.rules.retrieve(rule.id).is_enabled is False


def test_sqlite_changes_from_another_process(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    store = SqlitePolicyStore(db)
    before = store.version()
    code = (
        "import sys; from router.policy.store import SqlitePolicyStore; "
        "SqlitePolicyStore(sys.argv[1]).create('firewall_rule', "
        "{'id': 'fw_1', 'name': 'x', 'pattern': 'y'})"
    )
    subprocess.run([sys.executable, "-c", code, str(db)], check=True, timeout=60)
    assert store.version() != before
    assert [r["id"] for r in store.list("firewall_rule")] == ["fw_1"]


def test_created_at_strictly_increases() -> None:
    store = InMemoryPolicyStore()
    stamps = [
        store.create("routing_rule", {"id": f"r{i}", "name": "n"})["created_at"] for i in range(50)
    ]
    assert stamps == sorted(stamps) and len(set(stamps)) == 50


def test_config_seeds_and_wins_for_its_own_ids(
    tmp_path: Path, fake: FakeProviders, make_router: MakeRouter
) -> None:
    db = tmp_path / "p.db"
    seeds = {
        "policy_db": db,
        "rules": [{"task": "coding", "model": "an/claude-x"}],
        "routing_rules": [{"id": "quality", "name": "quality", "match": {"mode": "quality"},
                           "action": {"set_model": "gg/gem-x"}}],
        "firewall_rules": [{"name": "ssn", "type": "detector", "pattern": "us_ssn"}],
    }  # fmt: skip
    first = make_router(**seeds)
    assert [r.id for r in first.rules.list()] == ["rules-0", "quality"]
    assert [r.id for r in first.firewall.list()] == ["firewall_rules-0"]
    first.rules.update("quality", name="edited")
    mine = first.rules.create(name="mine", action={"set_mode": "cost"})
    again = make_router(**seeds)  # a restart
    assert again.rules.retrieve("quality").name == "quality"  # config wins for its ids
    assert again.rules.retrieve(mine.id).name == "mine"  # API-made rules are kept


def test_yaml_config(tmp_path: Path) -> None:
    config = tmp_path / "router.yaml"
    config.write_text(
        "keys: {openai: sk-test}\n"
        "policy_db: rules.sqlite\n"
        "routing_rules:\n"
        "  - name: coding\n"
        "    match: {task: coding}\n"
        "    action: {set_mode: quality}\n"
        "firewall_rules:\n"
        "  - {name: cards, type: detector, pattern: credit_card, action: mask}\n"
        "  - name: bad\n"
        "    type: regex\n"
        "    pattern: '(unclosed'\n"
    )
    with pytest.raises(ConfigError, match=r"router\.yaml:9: firewall_rules\[1\].*'bad'"):
        Router.from_config(config, model=False)
    config.write_text(config.read_text().rsplit("  - name: bad", 1)[0])
    router = Router.from_config(config, model=False)
    assert (tmp_path / "rules.sqlite").exists()  # relative to the config file
    assert [r.name for r in router.rules.list()] == ["coding"]
    assert router.firewall.test("card 4111 1111 1111 1111")[0] == "card [REDACTED]"


# ---- CLI -----------------------------------------------------------------------------------


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_cli_rules_crud_and_test(tmp_path: Path) -> None:
    db = str(tmp_path / "p.db")
    code, out = cli("rules", "add", "--name", "code", "--task", "coding", "--priority", "4",
                    "--set-model", "anthropic/claude-sonnet-4-5", "--db", db)  # fmt: skip
    assert code == 0, out
    rule_id = out.strip()
    code, out = cli("rules", "list", "--db", db, "--json")
    assert code == 0 and json.loads(out)[0]["action"] == {
        "set_model": "anthropic/claude-sonnet-4-5"
    }
    code, out = cli("rules", "test", "Write a Python function to sort a list", "--db", db)
    assert code == 0 and "rule: code" in out and "anthropic/claude-sonnet-4-5" in out
    assert cli("rules", "disable", rule_id, "--db", db)[0] == 0
    code, out = cli("rules", "test", "Write a Python function to sort a list", "--db", db)
    assert "rule: (none fired)" in out
    code, out = cli("rules", "update", rule_id, "--set-mode", "cost", "--db", db)
    assert code == 0
    assert cli("rules", "enable", rule_id, "--db", db)[0] == 0
    rule = json.loads(cli("rules", "list", "--db", db, "--json")[1])[0]
    assert rule["is_enabled"] and rule["action"]["set_mode"] == "cost"
    code, out = cli("rules", "add", "--name", "x", "--set-mode", "fast", "--db", db)
    words = " ".join(out.replace("│", " ").split())  # the error box wraps lines
    assert code == 2 and "'fast' is not one of 'cost', 'balance', 'quality'" in words
    code, out = cli("rules", "add", "--name", "x", "--set-strategy", "fastest", "--db", db)
    assert code == 2 and "'x'.action.set_strategy" in out  # open set: the library names it
    assert cli("rules", "delete", rule_id, "--db", db)[0] == 0
    code, out = cli("rules", "delete", rule_id, "--db", db)
    assert code == 2 and rule_id in out
    code, out = cli("rules", "list", "--db", db)
    assert code == 0 and "code" not in out


def test_cli_firewall_crud_and_test(tmp_path: Path) -> None:
    db = str(tmp_path / "p.db")
    code, out = cli("firewall", "add", "--name", "cards", "--detector", "credit_card",
                    "--action", "mask", "--db", db)  # fmt: skip
    assert code == 0, out
    fw_id = out.strip()
    code, out = cli("firewall", "test", "pay 4111 1111 1111 1111", "--db", db)
    assert code == 0 and "pay [REDACTED]" in out
    assert cli("firewall", "update", fw_id, "--action", "block", "--db", db)[0] == 0
    code, out = cli("firewall", "test", "pay 4111 1111 1111 1111", "--db", db)
    assert code == 1 and "blocked by firewall rule 'cards'" in out and "4111" not in out
    assert cli("firewall", "disable", fw_id, "--db", db)[0] == 0
    assert cli("firewall", "test", "pay 4111 1111 1111 1111", "--db", db)[0] == 0
    code, out = cli("firewall", "add", "--name", "evil", "--type", "regex", "--pattern", "(",
                    "--db", db)  # fmt: skip
    assert code == 2 and "firewall rule 'evil'" in out
    code, out = cli("firewall", "list", "--db", db)
    assert code == 0 and "cards" in out
    assert cli("firewall", "delete", fw_id, "--db", db)[0] == 0


def test_cli_route_and_catalog() -> None:
    code, out = cli("route", "Prove that there are infinitely many primes", "--strategy", "best")
    assert code == 0, out
    assert "estimated cost" in out and "savings vs baseline" in out and "rule:" in out
    code, out = cli("catalog", "--profile", "eco")
    assert code == 0 and "coding" in out and "REASONING" in out


def test_cli_closed_option_sets_are_the_librarys() -> None:
    from router.cli import _policy_common as opts
    from router.policy import firewall
    from router.routing import model_strings
    from router.routing.strategies import Strategy

    def values(choice: type[enum.Enum]) -> tuple[str, ...]:
        return tuple(c.value for c in choice)

    assert values(opts.Mode) == model_strings.MODES
    assert values(opts.Strategy) == values(Strategy)
    assert values(opts.FirewallType) == firewall.TYPES
    assert values(opts.Scope) == firewall.SCOPES
    assert values(opts.FirewallAction) == firewall.ACTIONS
    assert set(values(opts.Side)) == set(firewall.SCOPES) - {"both"}
