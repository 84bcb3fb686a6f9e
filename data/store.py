"""Engine set-up for SQLite and PostgreSQL with the durability and locking rules of the store."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import ConnectionPoolEntry

DEFAULT_URL = "sqlite:///shipfloor.db"
URL_ENV = "SHIPFLOOR_DATABASE_URL"
SQLITE_BUSY_TIMEOUT_MS = 10_000

# A connection execution option: the transaction will only read, so on SQLite it may
# begin DEFERRED and not hold the write lock.
READ_ONLY = "shipfloor_read_only"


class StoreUnavailable(Exception):
    """The store cannot be reached (server down, database missing, file unreadable)."""


class StoreURLError(ValueError):
    """The database URL cannot be used as a Shipfloor store."""


_URL_PASSWORD = re.compile(r"\b([a-z][a-z0-9+.-]*://[^:/@\s]+):[^@\s]+@", re.IGNORECASE)


def masked(text: str) -> str:
    """`text` with the password of every URL in it replaced by ***, whatever the scheme:
    fit to show a person or to keep in a log, even when it is not a URL SQLAlchemy reads."""
    return _URL_PASSWORD.sub(r"\1:***@", text)


def resolve_url(url: str | None = None) -> str:
    """The store URL: the one given, else $SHIPFLOOR_DATABASE_URL, else ./shipfloor.db."""
    return normalize_url(url or os.environ.get(URL_ENV) or DEFAULT_URL)


def normalize_url(url: str) -> str:
    """Map the URL forms people type onto the drivers Shipfloor uses (psycopg 3, pysqlite)."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # SQLAlchemy raises ArgumentError with a terse message
        raise StoreURLError(
            f"{masked(url)!r} is not a database URL; use sqlite:///PATH or "
            "postgresql://USER@HOST:PORT/DATABASE"
        ) from exc
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise StoreURLError(
                f"{masked(url)!r}: the SQLite store must be a file (sqlite:///PATH); "
                "station processes share it"
            )
        parsed = parsed.set(drivername="sqlite+pysqlite")
    else:
        raise StoreURLError(
            f"{masked(url)!r}: Shipfloor stores orders in SQLite or PostgreSQL only"
        )
    return parsed.render_as_string(hide_password=False)


def sqlite_path(url: str) -> Path | None:
    """The file behind an SQLite URL, or None for PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database is None:
        return None
    return Path(parsed.database)


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for the store, configured as DESIGN.md's store rules say."""
    resolved = resolve_url(url)
    if make_url(resolved).get_backend_name() == "sqlite":
        return _sqlite_engine(resolved, **kwargs)
    return create_engine(resolved, pool_pre_ping=True, **kwargs)


def ping(engine: Engine) -> None:
    """Connect once; raise StoreUnavailable with the reason and the fix if that fails."""
    where = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise StoreUnavailable(
            f"cannot reach the store at {where}: {reason}. Check that the server is running "
            "and the database exists (createdb), or choose another --db"
        ) from None


def lost_connection(exc: BaseException) -> str | None:
    """The reason, when `exc` means the store went away mid-work (server down, connection
    dropped, file gone); None for any other error. The transaction it was in is lost whole:
    a database never keeps half of one."""
    if not isinstance(exc, DBAPIError):
        return None
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    reason = str(orig).strip().splitlines()[0] if orig is not None else ""
    driver = type(orig).__module__.split(".")[0]
    gone = (
        exc.connection_invalidated
        # Class 08: connection exceptions; 57P01-57P03: the server is shutting down.
        or (sqlstate or "").startswith("08")
        or sqlstate in {"57P01", "57P02", "57P03"}
        # psycopg gives every error the server sent a SQLSTATE; one without is the link.
        or (driver == "psycopg" and sqlstate is None and isinstance(exc, OperationalError))
        or (driver == "sqlite3" and ("unable to open" in reason or "disk I/O" in reason))
    )
    if not gone:
        return None
    return reason or "the connection was closed"


def permission_denied(exc: BaseException) -> str | None:
    """The database's words, when the role the store is reached as may not do what was
    asked (a station's role running an office command); None for any other error."""
    if not isinstance(exc, DBAPIError) or getattr(exc.orig, "sqlstate", None) != "42501":
        return None
    return str(exc.orig).strip().splitlines()[0]


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # Take transaction control away from the sqlite3 module so BEGIN is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        # FULL: a scan confirmed to a picker survives a power cut.
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the lock up front: a read-then-write transaction that tried to
        # upgrade its lock later could fail with SQLITE_BUSY despite busy_timeout.
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN DEFERRED")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


StoreEngine = Engine
"""The engine type, for the application core's annotations (it never imports SQLAlchemy)."""


@contextmanager
def scratch_postgres(url: str) -> Iterator[str]:
    """A new, empty database on the server ``url`` points at, dropped afterwards (for
    benchmarks that must not touch a real store)."""
    base = make_url(normalize_url(url))
    name = f"shipfloor_scratch_{os.getpid()}_{time.time_ns() % 10**9}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
