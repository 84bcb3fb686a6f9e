"""Migrations build the whole schema from nothing, match the models, and go back down."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from data.migrate import current_revision, head_revision, schema_differences, upgrade
from data.models import Base
from data.store import make_engine

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


@pytest.mark.parametrize("empty_database", BACKENDS, indirect=True)
def test_upgrade_from_empty_builds_every_table_and_check_is_clean(empty_database: str) -> None:
    engine = make_engine(empty_database)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        assert schema_differences(engine) == []
    finally:
        engine.dispose()


@pytest.mark.parametrize("empty_database", BACKENDS, indirect=True)
def test_downgrade_to_base_and_up_again(empty_database: str) -> None:
    engine = make_engine(empty_database)
    try:
        upgrade(engine)
        upgrade_down(engine)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        assert schema_differences(engine) == []
    finally:
        engine.dispose()


def upgrade_down(engine: object) -> None:
    from alembic import command

    from data.migrate import alembic_config

    config = alembic_config()
    with engine.connect() as conn:  # type: ignore[attr-defined]
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
        conn.commit()
