"""The bundled catalog: complete, priced with sources, and overridable."""

from __future__ import annotations

import datetime as dt

import pytest

from router.errors import ConfigError
from router.routing.catalog import API_STYLES, Catalog, FieldError, default_catalog
from router.secrets import Secret
from router.types import TASKS, TIERS, Tier

REQUIRED_PROVIDERS = {
    "openai",
    "anthropic",
    "google",
    "deepseek",
    "moonshot",
    "qwen",
    "zhipu",
    "openrouter",
    "groq",
    "together",
    "vllm",
    "ollama",
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return default_catalog()


def test_every_required_provider_is_present(catalog: Catalog) -> None:
    assert set(catalog.providers) >= REQUIRED_PROVIDERS
    assert {p.api for p in catalog.providers.values()} == API_STYLES
    for name in ("deepseek", "moonshot", "qwen", "zhipu", "openrouter", "groq", "together"):
        assert catalog.providers[name].api == "openai"
    assert catalog.providers["anthropic"].api == "anthropic"
    assert catalog.providers["google"].api == "gemini"


def test_every_model_is_priced_with_source_and_date(catalog: Catalog) -> None:
    providers_with_models = {m.provider for m in catalog}
    assert providers_with_models >= REQUIRED_PROVIDERS - {"vllm"}  # vLLM models are the user's
    for model in catalog:
        assert model.input_price is not None and model.input_price >= 0, model.id
        assert model.output_price is not None and model.output_price >= model.input_price * 0.5
        assert model.price_source, model.id
        assert dt.date.fromisoformat(str(model.price_date)) >= dt.date(2024, 1, 1), model.id
        assert model.context_window >= 8000, model.id


def test_quality_matrix_is_bounded_and_monotone_in_tier(catalog: Catalog) -> None:
    for model in catalog:
        for task in TASKS:
            row = [model.quality(task, tier) for tier in TIERS]
            assert all(0 <= q <= 1 for q in row), model.id
            assert row == sorted(row, reverse=True), (model.id, task)


def test_frontier_beats_small_models_on_reasoning(catalog: Catalog) -> None:
    hard = Tier.REASONING
    assert catalog.get("gpt-5").quality("math", hard) > catalog.get("gpt-4o-mini").quality(
        "math", hard
    )
    assert catalog.get("claude-sonnet-4-5").quality("coding", Tier.COMPLEX) > 0.9


def test_lookup_by_bare_name_id_and_glob(catalog: Catalog) -> None:
    assert catalog.get("gpt-4o").id == "openai/gpt-4o"
    assert catalog.get("openai/gpt-4o").api_model == "gpt-4o"
    assert catalog.get("claude-3-5-haiku").api_model == "claude-3-5-haiku-20241022"
    model = catalog.get("gpt-4o")
    assert catalog.matches(model, "openai/*") and not catalog.matches(model, "anthropic/*")
    with pytest.raises(ConfigError, match="not in the catalog"):
        catalog.get("gpt-99")


def test_pins_of_unlisted_models_are_synthesised(catalog: Catalog) -> None:
    model = catalog.resolve_pin("ollama", "mistral:7b")
    assert model.id == "ollama/mistral:7b" and model.input_price is None
    assert model.cost(1000, 1000) is None
    with pytest.raises(ConfigError, match="unknown provider 'nope'"):
        catalog.resolve_pin("nope", "x")


def test_overrides_add_and_patch(catalog: Catalog) -> None:
    patched = catalog.with_overrides(
        providers={"vllm": {"base_url": "http://gpu:8000/v1"}},
        models={
            "gpt-4o": {"input_price": 1.0},
            "vllm/llama-3.1-70b": {
                "input_price": 0,
                "output_price": 0,
                "context_window": 65536,
                "capabilities": ["tools"],
                "quality": [0.9, 0.8, 0.6, 0.4],
            },
        },
    )
    assert patched.get("gpt-4o").input_price == 1.0
    assert patched.get("gpt-4o").output_price == 10.0  # untouched fields stay
    assert catalog.get("gpt-4o").input_price == 2.5  # the original is not mutated
    assert patched.providers["vllm"].enabled and patched.providers["vllm"].base_url.startswith(
        "http://gpu"
    )
    assert patched.get("vllm/llama-3.1-70b").free


@pytest.mark.parametrize(
    ("models", "field"),
    [
        ({"x/m": {"input_price": 1, "output_price": 1, "context_window": 10}}, "models.x/m"),
        (
            {"openai/m": {"input_price": -1, "output_price": 1, "context_window": 10}},
            "models.openai/m.input_price",
        ),
        ({"openai/m": {"input_price": 1, "output_price": 1}}, "models.openai/m.context_window"),
        ({"gpt-4o": {"quality": [2, 0, 0, 0]}}, "models.gpt-4o.quality"),
        ({"gpt-4o": {"capabilities": ["telepathy"]}}, "models.gpt-4o.capabilities"),
        ({"gpt-4o": {"colour": "red"}}, "models.gpt-4o.colour"),
    ],
)
def test_bad_overrides_name_the_field(catalog: Catalog, models: dict, field: str) -> None:
    with pytest.raises(FieldError) as info:
        catalog.with_overrides(models=models)
    assert str(info.value).startswith(field)


def test_secret_is_masked_everywhere() -> None:
    secret = Secret("sk-live-abcdef")
    for text in (repr(secret), str(secret), f"{secret}", repr({"k": secret})):
        assert "abcdef" not in text
    assert secret.reveal() == "sk-live-abcdef"
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(secret)
