"""The station tests' floors: the small demo site with released waves at WH1."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.stations.helpers import build_floor


@pytest.fixture
def floor(store: Engine) -> Engine:
    """On each store (SQLite, and PostgreSQL when configured)."""
    return build_floor(store)


@pytest.fixture
def sqlite_floor(sqlite_store: Engine) -> Engine:
    return build_floor(sqlite_store)
