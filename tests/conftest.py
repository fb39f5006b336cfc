"""Shared fixtures: databases (SQLite and a real PostgreSQL), the app, enrolled phones.

Hypothesis profiles: `ci` (the default, bounded for a CI run) and `deep` (NUANXIN_HYPOTHESIS=deep).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from tests.support.databases import postgres_database, sqlite_url
from tests.support.world import World

settings.register_profile(
    "ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "deep", max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("NUANXIN_HYPOTHESIS", "ci"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        with postgres_database() as url:
            yield url


@pytest.fixture
def sqlite_database(tmp_path) -> str:
    return sqlite_url(tmp_path)


@pytest.fixture
def world(database_url: str):
    """The app on a fresh database with the demo sites and people, through Litestar's client."""
    with World.start(database_url) as world:
        yield world


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: they are the slowest, and their session fixtures end the run."""
    items.sort(key=lambda item: "tests/browser/" in str(item.fspath))
