"""`import router` stays light: no scikit-learn, no numpy, no typer until needed."""

from __future__ import annotations

import subprocess
import sys

import router


def _modules_after(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    ).stdout
    return set(out.split())


def test_import_router_loads_nothing_heavy() -> None:
    """Importing the package pulls in none of the heavy or optional libraries."""
    loaded = _modules_after("import router")
    heavy_ones = ("sklearn", "joblib", "numpy", "typer", "rich", "httpx", "yaml", "starlette")
    for heavy in (*heavy_ones, "aiohttp", "httpx_aiohttp"):
        assert heavy not in loaded, heavy


def test_classifying_does_not_import_scikit_learn() -> None:
    """A full decision never imports scikit-learn or joblib."""
    loaded = _modules_after("from router import Router\nRouter().classify('hello')")
    assert "sklearn" not in loaded
    assert "joblib" not in loaded


def test_public_names_match_all() -> None:
    """Every name in __all__ resolves, and dir() lists exactly them."""
    for name in router.__all__:
        assert getattr(router, name) is not None
    assert sorted(dir(router)) == sorted(router.__all__)


def test_lazy_exports_match_the_table() -> None:
    """__all__ names exactly the lazily exported names plus __version__."""
    assert sorted(router.__all__) == sorted([*router._EXPORTS, "__version__"])
