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
from data.store import READ_ONLY


def alembic_config() -> Config:
    """An Alembic configuration pointing at the migrations shipped inside `data`."""
    config = Config()
    config.set_main_option("script_location", str(files("data") / "migrations"))
    return config


class MigrationRefused(RuntimeError):
    """A migration found data it cannot carry forward; the message says what to fix. The
    store is left as it was."""


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the store to `revision` (the newest by default).

    Raises StoreTooNew, changing nothing, when a newer program has migrated the store.
    """
    current = current_revision(engine)
    if current is not None and not known_revision(current):
        raise StoreTooNew(current, head_revision())
    config = alembic_config()
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        conn.commit()


def current_revision(engine: Engine) -> str | None:
    """The revision the store is at, or None for an empty database.

    Only reads: on SQLite it takes no write lock, so many processes starting together
    never queue on (or fail with "database is locked" at) this check.
    """
    with engine.connect().execution_options(**{READ_ONLY: True}) as conn:
        return MigrationContext.configure(conn).get_current_revision()


def known_revision(revision: str) -> bool:
    """True when this program's migrations include `revision`; a store at an unknown one
    was migrated by a newer Shipfloor."""
    script = ScriptDirectory.from_config(alembic_config())
    return any(rev.revision == revision for rev in script.walk_revisions())


class StoreTooNew(RuntimeError):
    """The store is at a schema this program does not know: a newer Shipfloor migrated it."""

    def __init__(self, revision: str, head: str | None) -> None:
        super().__init__(
            f"the store is at schema {revision}, which this program does not know (it knows "
            f"up to {head}): a newer Shipfloor has migrated it. Upgrade this program to that "
            "version; do not run an older one against it"
        )
        self.revision = revision


def head_revision() -> str | None:
    """The newest revision the code knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def schema_differences(engine: Engine) -> list[object]:
    """What differs between the migrated store and the models; empty when in step."""
    with engine.connect().execution_options(**{READ_ONLY: True}) as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))
