"""YAML config: env interpolation, validation errors with file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_providers import FakeProviders

from router import ConfigError, Router
from router.config import load_config
from router.routing.strategies import Strategy

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "config.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_loads() -> None:
    config = load_config(EXAMPLE, env={"OPENAI_API_KEY": "sk-example-123456"})
    assert config.keys["openai"].reveal() == "sk-example-123456"
    assert "anthropic" not in config.keys  # ${ANTHROPIC_API_KEY:-} with nothing set
    assert config.strategy is Strategy.BALANCED and config.profile == "auto"
    assert [r.model for r in config.rules] == ["anthropic/claude-sonnet-4-5", "qwen/qwen-max"]
    assert config.l2 is not None and config.l2.model == "openai/gpt-4o-mini"
    assert config.fallback is not None and config.fallback.same_model_retries == 1
    assert "sk-example" not in repr(config)
    router = Router.from_config(EXAMPLE, env={"OPENAI_API_KEY": "sk-example-123456"})
    assert router.catalog.providers["ollama"].enabled
    assert router.catalog.get("ollama/llama3.1:8b").free
    router.close()


def test_missing_env_var_names_file_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, "profile: auto\nkeys:\n  openai: ${NOPE_KEY}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    message = str(info.value)
    assert message.startswith(f"{path}:3: keys.openai:")
    assert "NOPE_KEY is not set" in message


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        ("strategy: fastest\n", ":1: strategy", "cheapest, balanced, best"),
        ("profile: auto\nprofil: eco\n", ":2: profil", "unknown setting"),
        (
            "rules:\n  - {task: coding, model: a/b}\n  - {task: poetry, model: a/b}\n",
            ":3: rules[1].task",
            "'poetry' is not one of",
        ),
        (
            "models:\n  openai/new:\n    input_price: 1\n    output_price: cheap\n"
            "    context_window: 1000\n",
            ":4: models.openai/new.output_price",
            "non-negative",
        ),
        (
            "providers:\n  mine:\n    api: grpc\n    base_url: http://x\n",
            ":3: providers.mine.api",
            "not one of",
        ),
        ("timeout: soon\n", ":1: timeout", "non-negative number"),
        ("l2:\n  threshold: 0.5\n", ":1: l2.model", "L2 needs the model"),
        ("keys: [a, b]\n", ":1: keys", "expected a mapping"),
    ],
)
def test_errors_name_line_and_field(tmp_path: Path, text: str, where: str, problem: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert str(info.value).startswith(f"{path}{where}:"), str(info.value)
    assert problem in str(info.value)


def test_invalid_yaml_and_missing_file(tmp_path: Path) -> None:
    path = write(tmp_path, "keys:\n  openai: [unclosed\n")
    with pytest.raises(ConfigError, match=r"config\.yaml:\d+: invalid YAML"):
        load_config(path)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")


def test_provider_key_field_and_routing_from_config(tmp_path: Path, fake: FakeProviders) -> None:
    path = write(
        tmp_path,
        f"""
providers:
  openai:
    base_url: {fake.url("openai")}
    key: ${{MY_OPENAI}}
exclude_models: ["openai/gpt-5*", "openai/o*"]
strategy: cheapest
""",
    )
    router = Router.from_config(path, env={"MY_OPENAI": "sk-from-env-0123456789"}, model=False)
    try:
        reply = router.chat("Say hello")
        assert reply.provider == "openai" and not reply.model_used.startswith("openai/gpt-5")
        assert fake.requests[-1].headers["authorization"] == "Bearer sk-from-env-0123456789"
    finally:
        router.close()
