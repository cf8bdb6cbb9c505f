"""Shared fixtures. Plugins of other test areas register themselves here."""

from __future__ import annotations

import os
import tempfile

import pytest

from router import Router

# A model promoted, or a decision log switched on, on the developer's machine
# must not change what the tests' routers decide or where they write.
os.environ["TIERROUTER_MODEL_DIR"] = tempfile.mkdtemp(prefix="tierrouter-test-models-")
os.environ.pop("TIERROUTER_LOG", None)

# The local fake provider server (tests/fake_providers.py) and its `fake` fixture.
pytest_plugins = ["conftest_providers", "conftest_fleet"]


@pytest.fixture(scope="session")
def rules_router() -> Router:
    """A router that decides with the hand-weighted rules only."""
    return Router(model=False)


@pytest.fixture(scope="session")
def default_router() -> Router:
    """A router as a user gets it: the bundled model, rules as fallback."""
    return Router()


@pytest.fixture(scope="session", params=["rules", "model"])
def any_router(
    request: pytest.FixtureRequest, rules_router: Router, default_router: Router
) -> Router:
    """Each decision source in turn, for behaviour both must show."""
    return rules_router if request.param == "rules" else default_router
