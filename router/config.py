"""``Router.from_config("config.yaml")``: a YAML file -> :class:`~router.settings.RouterSettings`.

Errors name the file, the line and the dotted field (``config.yaml:14:
rules[1].task: ...``): the YAML node tree keeps each value's position, which
we index by path before turning the document into plain data. ``${VAR}`` and
``${VAR:-default}`` in strings read the environment; a missing variable with no
default is an error naming the variable, never a silent empty key.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from router.calls.fallback import FallbackPolicy
from router.decision.l2 import L2Config
from router.errors import ConfigError, FieldError
from router.routing.planning import Rule
from router.routing.strategies import Strategy, load_profiles
from router.secrets import Secret, as_secret
from router.settings import OPTION_NAMES, RouterSettings

__all__ = ["load_config", "load_config_with_section"]

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
# The settings a file may hold: objects (catalog, stores, HTTP clients) and the
# decision's own files are given in code only.
_TOP = frozenset({
    "keys", "providers", "models", "profile", "strategy", "rules", "exclude_models",
    "baseline_model", "timeout", "context_margin", "max_candidates", "fallback", "l2",
    "log", "policy_db", "routing_rules", "firewall_rules",
    "store", "state",  # fleet mode (docs/fleet.md)
})  # fmt: skip
assert set(OPTION_NAMES) >= _TOP
Path_ = tuple[str | int, ...]


def __getattr__(name: str) -> Any:
    if name == "RouterConfig":  # renamed in issue 13; remove after one release
        warnings.warn(
            "router.config.RouterConfig is now router.RouterSettings; "
            "the old name will be removed in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        return RouterSettings
    raise AttributeError(f"module 'router.config' has no attribute {name!r}")


class _Located:
    """Turns a field path into ``file:line: field``."""

    def __init__(self, source: str, lines: Mapping[Path_, int]) -> None:
        self.source = source
        self.lines = lines

    def where(self, path: Path_) -> str:
        line = None
        probe = path
        while probe and line is None:
            line = self.lines.get(probe)
            probe = probe[:-1]
        name = _dotted(path) or "(top level)"
        return f"{self.source}:{line}: {name}" if line else f"{self.source}: {name}"

    def error(self, path: Path_, problem: str) -> ConfigError:
        return ConfigError(f"{self.where(path)}: {problem}")


def _dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _index_lines(node: Any, path: Path_, lines: dict[Path_, int]) -> None:
    import yaml

    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, str(key_node.value))
            _index_lines(value_node, child, lines)
            # A field's errors point at its key, even when its value starts on a later line.
            lines[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, (*path, i), lines)


def _interpolate(value: Any, path: Path_, loc: _Located, env: Mapping[str, str]) -> Any:
    if isinstance(value, str):

        def sub(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            raise loc.error(
                path,
                f"environment variable {name} is not set (write ${{{name}:-}} to make it optional)",
            )

        return _ENV.sub(sub, value)
    if isinstance(value, dict):
        return {k: _interpolate(v, (*path, str(k)), loc, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, (*path, i), loc, env) for i, v in enumerate(value)]
    return value


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> RouterSettings:
    """Read and validate a router config file."""
    data, loc = _read_document(path, env)
    return _build(data, loc)


def load_config_with_section(
    path: str | Path, section: str, env: Mapping[str, str] | None = None
) -> tuple[RouterSettings, dict[str, Any], Callable[[str], str]]:
    """The router config plus one more top-level section another component owns.

    Returns ``(config, section mapping, where)``; ``where(field)`` gives the
    ``file:line: section.field`` prefix for that component's own error messages.
    The proxy keeps its ``proxy:`` settings in the router's file this way.
    """
    data, loc = _read_document(path, env)
    extra = data.pop(section, None) or {}
    if not isinstance(extra, dict):
        raise loc.error((section,), f"expected a mapping of {section} settings")
    return _build(data, loc), extra, lambda name: loc.where((section, name))


def _read_document(
    path: str | Path, env: Mapping[str, str] | None
) -> tuple[dict[str, Any], _Located]:
    """Parse, index lines for error messages, and interpolate ``${ENV}``."""
    import yaml

    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {file}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {file}: {exc.strerror}") from None
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else {}
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{file}{line}: invalid YAML: {exc.problem}") from None
    lines: dict[Path_, int] = {}
    if node is not None:
        _index_lines(node, (), lines)
    loc = _Located(str(file), lines)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise loc.error((), "the top level must be a mapping of settings")
    return _interpolate(data, (), loc, os.environ if env is None else env), loc


def config_from_mapping(data: Mapping[str, Any], source: str = "<config>") -> RouterSettings:
    """Validate an already-parsed config (no line numbers available)."""
    return _build(dict(data), _Located(source, {}))


def _build(data: dict[str, Any], loc: _Located) -> RouterSettings:
    for key in data:
        if key not in _TOP:
            raise loc.error((str(key),), f"unknown setting; known: {', '.join(sorted(_TOP))}")
    keys: dict[str, Secret] = {}
    providers: dict[str, dict[str, Any]] = {}
    for name, raw in _mapping(data, "keys", loc).items():
        if raw is not None and not isinstance(raw, str):
            raise loc.error(("keys", name), "an API key must be a string")
        secret = as_secret(raw)
        if secret:
            keys[str(name)] = secret
    for name, raw in _mapping(data, "providers", loc).items():
        if not isinstance(raw, dict):
            raise loc.error(("providers", name), "expected a mapping of provider settings")
        raw = dict(raw)
        if "key" in raw:  # a key may sit with its provider; it never enters the catalog
            secret = as_secret(raw.pop("key"))
            if secret:
                keys[str(name)] = secret
        providers[str(name)] = raw
    models = {str(k): v for k, v in _mapping(data, "models", loc).items()}
    profile = data.get("profile", "auto")
    if not isinstance(profile, str) or profile not in load_profiles():
        raise loc.error(("profile",), f"{profile!r} is not one of {', '.join(load_profiles())}")
    strategy = None
    if data.get("strategy") is not None:
        try:
            strategy = Strategy.parse(data["strategy"])
        except ConfigError:
            raise loc.error(
                ("strategy",), f"{data['strategy']!r} is not one of cheapest, balanced, best"
            ) from None
    rules_raw = data.get("rules") or []
    if not isinstance(rules_raw, list):
        raise loc.error(("rules",), "expected a list of rules")
    rules = []
    for i, raw in enumerate(rules_raw):
        if not isinstance(raw, dict):
            raise loc.error(("rules", i), "a rule is a mapping like {task: coding, model: ...}")
        try:
            rules.append(Rule.from_mapping(raw, where=f"rules[{i}]"))
        except ConfigError as exc:
            field_name = _rule_field(str(exc))
            path: Path_ = ("rules", i, field_name) if field_name else ("rules", i)
            raise loc.error(path, str(exc).split(": ", 1)[-1]) from None
    exclude = data.get("exclude_models") or []
    if not isinstance(exclude, list) or not all(isinstance(x, str) for x in exclude):
        raise loc.error(("exclude_models",), "expected a list of model ids or globs")
    fallback = None
    if data.get("fallback") is not None:
        fb = _mapping(data, "fallback", loc)
        try:
            values = {k: _number(fb, k, loc, ("fallback",)) for k in fb}
            if "same_model_retries" in values:
                values["same_model_retries"] = int(values["same_model_retries"])
            fallback = FallbackPolicy(**values)  # type: ignore[arg-type]
        except TypeError:
            raise loc.error(
                ("fallback",), "known fields: same_model_retries, max_retry_after, cooldown_seconds"
            ) from None
    l2 = None
    if data.get("l2") is not None:
        raw_l2 = _mapping(data, "l2", loc)
        if not isinstance(raw_l2.get("model"), str):
            raise loc.error(("l2", "model"), "L2 needs the model to ask, e.g. openai/gpt-4o-mini")
        numbers = {k: _number(raw_l2, k, loc, ("l2",)) for k in raw_l2 if k != "model"}
        try:
            l2 = L2Config(model=raw_l2["model"], **numbers)  # type: ignore[arg-type]
        except TypeError:
            raise loc.error(
                ("l2",), "known fields: model, threshold, timeout, cache_size"
            ) from None
    log = data.get("log")
    if log is not None:  # validated here so that errors carry the line
        from router.log.config import LogConfig

        try:
            LogConfig.parse(log)
        except ConfigError as exc:
            raise loc.error(("log",), str(exc).removeprefix("log: ").removeprefix("log.")) from None
    from router.policy.config import parse_policy_settings

    policy = parse_policy_settings(data, loc)
    settings = RouterSettings(
        keys=keys,
        providers=providers,
        models=models,
        profile=str(profile),
        strategy=strategy,
        rules=tuple(rules),
        exclude_models=tuple(exclude),
        baseline_model=_opt_str(data, "baseline_model", loc),
        timeout=float(_number(data, "timeout", loc, (), default=60.0)),
        context_margin=_opt_number(data, "context_margin", loc),
        max_candidates=_opt_int(data, "max_candidates", loc),
        fallback=fallback,
        l2=l2,
        log=log,
        policy_db=policy.policy_db,
        routing_rules=policy.routing_rules,
        firewall_rules=policy.firewall_rules,
        store=_url(data, "store", loc, "postgresql://user:password@host:5432/db"),
        state=_url(data, "state", loc, "redis://host:6379/0"),
    )
    _check_catalog(settings, loc)
    return settings


def _url(data: Mapping[str, Any], key: str, loc: _Located, example: str) -> str | None:
    from router.db.urls import is_postgres, is_redis, redacted

    value = data.get(key)
    if value is None:
        return None
    check = is_postgres if key == "store" else is_redis
    if not check(value):
        shown = redacted(value) if isinstance(value, str) else value
        raise loc.error((key,), f"expected a URL like {example}, got {shown!r}")
    return str(value)


def _check_catalog(config: RouterSettings, loc: _Located) -> None:
    """Validate providers/models now, so their errors carry a line number."""
    from router.routing.catalog import default_catalog

    try:
        default_catalog().with_overrides(config.providers, config.models)
    except FieldError as exc:
        raise loc.error(exc.field, exc.problem) from None


def _rule_field(message: str) -> str | None:
    match = re.match(r"rules\[\d+\]\.(\w+)", message)
    return match.group(1) if match else None


def _mapping(data: Mapping[str, Any], key: str, loc: _Located) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise loc.error((key,), "expected a mapping")
    return value


def _number(
    data: Mapping[str, Any], key: str, loc: _Located, path: Path_, default: float | None = None
) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise loc.error((*path, key), f"must be a non-negative number, got {value!r}")
    return value


def _opt_number(data: Mapping[str, Any], key: str, loc: _Located) -> float | None:
    return None if data.get(key) is None else float(_number(data, key, loc, ()))


def _opt_int(data: Mapping[str, Any], key: str, loc: _Located) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise loc.error((key,), f"must be a positive integer, got {value!r}")
    return value


def _opt_str(data: Mapping[str, Any], key: str, loc: _Located) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise loc.error((key,), f"must be a string, got {value!r}")
    return value
