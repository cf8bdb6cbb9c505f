"""RouterSettings: one typed list of options behind Router(...), from_config and the proxy."""

from __future__ import annotations

import dataclasses
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from router import (
    ConfigError,
    L2Config,
    Router,
    RouterSettings,
    Secret,
    Strategy,
    UnknownOptionError,
)

REPO = Path(__file__).resolve().parents[1]
# Router's signature says None where the settings keep an empty mapping.
_NONE_FOR_EMPTY = {"providers", "models", "keys"}


def test_router_parameters_are_the_settings_fields_in_order_with_their_defaults() -> None:
    params = inspect.signature(Router.__init__).parameters
    fields = dataclasses.fields(RouterSettings)
    assert [p for p in params if p != "self"] == [f.name for f in fields]
    defaults = RouterSettings()
    for f in fields:
        param = params[f.name]
        assert param.kind is inspect.Parameter.KEYWORD_ONLY, f.name
        expected = None if f.name in _NONE_FOR_EMPTY else getattr(defaults, f.name)
        assert param.default == expected, f.name


def test_a_misspelt_option_names_itself_the_likely_one_and_the_known_ones() -> None:
    with pytest.raises(UnknownOptionError) as info:
        Router(tiemout=5)  # type: ignore[call-arg]
    message = str(info.value)
    assert "'tiemout'" in message and "did you mean 'timeout'" in message
    assert "known options: model, confidence_threshold" in message and "firewall_rules" in message
    assert info.value.names == ("tiemout",)
    # What Python raises for an unknown keyword, and what the router raises for bad config.
    assert isinstance(info.value, TypeError) and isinstance(info.value, ConfigError)


def test_from_config_and_replace_check_names_too(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("profile: auto\n", encoding="utf-8")
    with pytest.raises(UnknownOptionError, match="'strategey'"):
        Router.from_config(path, strategey="best")
    with pytest.raises(UnknownOptionError, match="'polcy_db'"):
        RouterSettings().replace(polcy_db="x.sqlite")


def test_settings_are_frozen_and_normalized() -> None:
    settings = RouterSettings(
        keys={"openai": "sk-test-000111222333", "gemini": None},
        providers={"anthropic": {"key": "sk-ant-000111222333", "timeout": 5}},
        strategy="best",
        l2="openai/gpt-4o-mini",
        exclude_models=["x/*"],
        timeout=5,
    )
    assert isinstance(settings.keys["openai"], Secret) and "gemini" not in settings.keys
    # A provider's key moves to keys and never reaches the catalog overrides.
    assert settings.secret_keys["anthropic"].reveal() == "sk-ant-000111222333"
    assert dict(settings.providers["anthropic"]) == {"timeout": 5}
    assert settings.routing_strategy is Strategy.BEST
    assert settings.l2_config == L2Config(model="openai/gpt-4o-mini")
    assert settings.exclude_models == ("x/*",) and settings.timeout == 5.0
    assert "sk-test" not in repr(settings) and "sk-ant" not in repr(settings)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.timeout = 1  # type: ignore[misc]
    # Normalizing what is already normal changes nothing.
    assert settings.replace() == settings


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"profile": "nope"}, "profile 'nope' is not one of"),
        ({"strategy": "fastest"}, "strategy: 'fastest' is not one of"),
        ({"timeout": -1}, "timeout: must be a non-negative number"),
        ({"keys": {"openai": 42}}, "keys\\['openai'\\] must be a string"),
        ({"rules": [{"task": "coding"}]}, "rules\\[0\\].model"),
        ({"l2": {"model": "m", "treshold": 0.5}}, "l2: known fields"),
    ],
)
def test_bad_values_fail_when_the_settings_are_made(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        RouterSettings(**options)  # type: ignore[arg-type]


def test_a_router_from_settings_uses_them_as_they_are() -> None:
    settings = RouterSettings(
        model=False, strategy="cheapest", keys={"openai": "sk-test-000111222333"}
    )
    router = Router.from_settings(settings)
    assert router.settings is settings
    assert router.route("hi").strategy is Strategy.CHEAPEST
    assert router.classify("hi").source == "rules"


def test_the_old_router_config_name_warns_and_is_the_settings_type() -> None:
    import router.config

    with pytest.warns(DeprecationWarning, match="RouterSettings"):
        assert router.config.RouterConfig is RouterSettings


@pytest.mark.slow
def test_mypy_rejects_a_misspelt_option(tmp_path: Path) -> None:
    """The same typo is a type error before it runs (explicit keyword parameters)."""
    snippet = tmp_path / "typo.py"
    snippet.write_text(
        "from router import Router, RouterSettings\n"
        "Router(tiemout=5)\n"
        "RouterSettings(tiemout=5)\n"
        "Router(timeout=5, profile='auto')\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(snippet)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert [e.split(":")[1] for e in errors] == ["2", "3"], result.stdout
    assert all('Unexpected keyword argument "tiemout"' in e for e in errors), result.stdout
