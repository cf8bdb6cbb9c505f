"""The config file's policy settings: ``policy_db``, ``routing_rules``, ``firewall_rules``.

Validated while the file is read, so an error carries the file, line and field
(``config.yaml:14: routing_rules[1].action.set_mode: ...``). The validated
rules then seed the router's store (config wins for the ids it declares).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from router.errors import ConfigError

__all__ = ["POLICY_KEYS", "parse_policy_settings"]

POLICY_KEYS = ("policy_db", "routing_rules", "firewall_rules")
# "routing rule 'x'.action.set_mode: ..." -> ("action", "set_mode")
_FIELD = re.compile(r"^\w+ rule '[^']*'\.([\w.]+):")


def parse_policy_settings(data: Mapping[str, Any], loc: Any) -> dict[str, Any]:
    """Router keyword arguments from the config's policy keys; ``loc`` adds file:line."""
    from router.policy.firewall import FirewallRule
    from router.policy.rules import RoutingRule
    from router.routing.strategies import load_profiles

    out: dict[str, Any] = {}
    db = data.get("policy_db")
    if db is not None:
        if not isinstance(db, str) or not db:
            raise loc.error(("policy_db",), "expected the path of a SQLite file")
        path = Path(db).expanduser()
        if not path.is_absolute() and loc.source and not loc.source.startswith("<"):
            path = Path(loc.source).resolve().parent / path  # relative to the config file
        out["policy_db"] = str(path)
    profiles = tuple(load_profiles())

    def parse(key: str, raw: dict[str, Any], i: int) -> Any:
        if key == "routing_rules":
            return RoutingRule.from_dict(raw, f"{key}[{i}]", profiles)
        return FirewallRule.from_dict(raw, f"{key}[{i}]")

    for key in ("routing_rules", "firewall_rules"):
        raw_rules = data.get(key)
        if raw_rules is None:
            continue
        if not isinstance(raw_rules, list):
            raise loc.error((key,), "expected a list of rules")
        rules = []
        for i, raw in enumerate(raw_rules):
            if not isinstance(raw, dict):
                raise loc.error((key, i), "a rule is a mapping with a name")
            try:
                rules.append(parse(key, {"id": f"{key}-{i}", **raw}, i))
            except ConfigError as exc:
                found = _FIELD.match(str(exc))
                where: tuple[str | int, ...] = (key, i)
                if found:
                    where += tuple(found.group(1).split("."))
                raise loc.error(where, str(exc)) from None
        out[key] = tuple(rules)
    return out
