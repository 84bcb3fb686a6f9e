"""The application tests' shared fixtures: a pick floor on each store."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.pickfloor import build_floor


@pytest.fixture
def floor(store: Engine) -> Engine:
    """The small demo site with released waves at WH1: pick lists to claim."""
    return build_floor(store)
