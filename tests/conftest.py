"""Shared fixtures: a migrated store on an SQLite file and, when configured, on PostgreSQL.

PostgreSQL tests use the database named by SHIPFLOOR_TEST_POSTGRES_URL and wipe it. Without
that variable they skip with a reason; with SHIPFLOOR_REQUIRE_POSTGRES=1 (CI) they fail.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from data.migrate import upgrade
from data.models import Base
from data.store import make_engine, normalize_url

POSTGRES_ENV = "SHIPFLOOR_TEST_POSTGRES_URL"
REQUIRE_ENV = "SHIPFLOOR_REQUIRE_POSTGRES"


def postgres_url() -> str | None:
    """The test PostgreSQL database, or None (after skipping or failing the test)."""
    url = os.environ.get(POSTGRES_ENV)
    if url:
        return normalize_url(url)
    reason = f"PostgreSQL tests need {POSTGRES_ENV}=postgresql://USER@HOST/DB (it is wiped)"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(reason)
    pytest.skip(reason)
    return None


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "store.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    # Closing the last connection checkpoints the WAL into the file, so copying the file
    # alone copies the whole store.
    engine.dispose()
    assert not path.with_name("store.db-wal").exists()
    return path


@pytest.fixture(scope="session")
def postgres_migrated() -> str:
    """The test PostgreSQL database, emptied and migrated once per session."""
    url = postgres_url()
    assert url is not None
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    except Exception as exc:
        pytest.fail(f"cannot prepare the PostgreSQL test database {url}: {exc}")
    engine.dispose()
    store = make_engine(url)
    upgrade(store)
    store.dispose()
    return url


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        # The history tables refuse TRUNCATE; a replica session does not fire triggers,
        # which lets the tests (as superuser) empty the store between tests.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty, migrated store: an SQLite file, or the PostgreSQL test database."""
    if request.param == "sqlite":
        path = tmp_path / "store.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url: str = request.getfixturevalue("postgres_migrated")
    _truncate_all(url)
    yield url


@pytest.fixture
def store(store_url: str) -> Iterator[Engine]:
    """An engine on an empty, migrated store (each data test runs on both databases)."""
    engine = make_engine(store_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_store(sqlite_template: Path, tmp_path: Path) -> Iterator[Engine]:
    """An engine on an empty, migrated SQLite file, for SQLite-only behaviour."""
    path = tmp_path / "sqlite-only.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of a database with no tables at all (for migration tests); see `backend`."""
    backend = request.param
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    base = postgres_url()
    assert base is not None
    parsed = make_url(base)
    name = f"{parsed.database}_empty_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
