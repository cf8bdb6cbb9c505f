"""The module paths that moved in issue 13 still import for one release, with a warning."""

from __future__ import annotations

import importlib
import sys

import pytest


@pytest.mark.parametrize(
    ("old", "new", "name"),
    [
        ("router.fallback", "router.calls.fallback", "FallbackPolicy"),
        ("router.strategies", "router.routing.strategies", "Strategy"),
        ("router.catalog", "router.routing.catalog", "Catalog"),
        ("router.l2", "router.decision.l2", "L2Config"),
        ("router.model", "router.decision.artifact", "load_artifact"),
    ],
)
def test_old_module_path_warns_and_forwards(
    old: str, new: str, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, old, raising=False)
    with pytest.warns(DeprecationWarning, match=rf"{old} moved to {new}"):
        shim = importlib.import_module(old)
    assert getattr(shim, name) is getattr(importlib.import_module(new), name)
    with pytest.raises(AttributeError):
        _ = shim.no_such_name


def test_old_calls_names_warn_and_forward() -> None:
    import router.calls
    from router.calls.engine import ChatResponse

    with pytest.warns(DeprecationWarning, match="router.calls.engine.ChatResponse"):
        assert router.calls.ChatResponse is ChatResponse
    with pytest.raises(AttributeError):
        _ = router.calls.Nope  # type: ignore[attr-defined]


def test_unmoved_paths_are_not_aliased() -> None:
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("router.no_such_module")
