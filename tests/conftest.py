"""Shared fixtures. Plugins of other test areas register themselves here."""

from __future__ import annotations

import pytest

from router import Router

# The local fake provider server (tests/fake_providers.py) and its `fake` fixture.
pytest_plugins = ["conftest_providers"]


@pytest.fixture(scope="session")
def rules_router() -> Router:
    """A router that decides with the hand-weighted rules only."""
    return Router()
