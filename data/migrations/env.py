"""Alembic environment: migrates the store through a given connection or the configured URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from data.models import Base
from data.store import make_engine, resolve_url

config = context.config
target_metadata = Base.metadata


def _configure_and_run(connection: Connection) -> None:
    if connection.dialect.name == "sqlite" and not connection.in_transaction():
        # SQLite rebuilds a table to alter it (batch mode), dropping the old one; with
        # foreign keys enforced it refuses to drop a table others reference once the
        # store holds data. Its own advice: enforcement off for the rebuild (the pragma
        # only takes outside a transaction), then check every key before going on.
        raw = connection.connection.driver_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys = OFF")
        try:
            _migrate(connection)
        finally:
            raw.execute("PRAGMA foreign_keys = ON")
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(
                f"the migration left rows whose foreign keys point nowhere: {broken}"
            )
        return
    _migrate(connection)


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run through the caller's connection when one is given (tests, `shipfloor db`)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or None
    engine = make_engine(resolve_url(url))
    try:
        with engine.connect() as conn:
            _configure_and_run(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
