"""Run Alembic from code: upgrade the store, and compare it with the models (`alembic check`)."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from data.models import Base


def alembic_config() -> Config:
    """An Alembic configuration pointing at the migrations shipped inside `data`."""
    config = Config()
    config.set_main_option("script_location", str(files("data") / "migrations"))
    return config


class MigrationRefused(RuntimeError):
    """A migration found data it cannot carry forward; the message says what to fix. The
    store is left as it was."""


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the store to `revision` (the newest by default)."""
    config = alembic_config()
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        conn.commit()


def current_revision(engine: Engine) -> str | None:
    """The revision the store is at, or None for an empty database."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """The newest revision the code knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def schema_differences(engine: Engine) -> list[object]:
    """What differs between the migrated store and the models; empty when in step."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))
