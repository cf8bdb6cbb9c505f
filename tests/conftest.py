"""Shared fixtures. Plugins of other test areas register themselves here."""

from __future__ import annotations

import pytest

from router import Router


@pytest.fixture(scope="session")
def rules_router() -> Router:
    """A router that decides with the hand-weighted rules only."""
    return Router()
