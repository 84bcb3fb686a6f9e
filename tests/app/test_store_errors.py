"""What a person sees when the store goes away or is newer than the program."""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from app.cli import route as route_commands
from app.cli.parser import UNEXPECTED
from data.migrate import StoreTooNew, upgrade
from data.store import lost_connection, make_engine, masked
from tests.cli import main


@pytest.mark.postgresql
def test_a_dropped_connection_is_a_sentence_and_exit_2(
    postgres_migrated: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    engine = make_engine(postgres_migrated)
    killer = make_engine(postgres_migrated)

    def route_that_loses_its_store(_args: argparse.Namespace) -> int:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with killer.begin() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            conn.execute(text("SELECT 1"))
        return 0

    monkeypatch.setattr(route_commands, "cmd_route", route_that_loses_its_store)
    code = main(["--db", postgres_migrated, "route"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "lost the store in the middle of the command" in err
    assert "nothing is half-written" in err
    assert "Traceback" not in err
    assert UNEXPECTED not in err
    engine.dispose()
    killer.dispose()


@pytest.mark.postgresql
def test_lost_connection_knows_a_terminated_backend(postgres_migrated: str) -> None:
    engine = make_engine(postgres_migrated)
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with make_engine(postgres_migrated).begin() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(DBAPIError) as caught:
            conn.execute(text("SELECT 1"))
    assert lost_connection(caught.value)
    engine.dispose()


def test_an_ordinary_error_is_not_a_lost_connection(sqlite_store: Engine) -> None:
    with sqlite_store.connect() as conn, pytest.raises(DBAPIError) as caught:
        conn.execute(text("SELECT * FROM no_such_table"))
    assert lost_connection(caught.value) is None


def test_a_store_from_a_newer_program_says_upgrade_the_program(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099_future'")
    for argv in (["db", "upgrade"], ["route"]):
        assert main(["--db", f"sqlite:///{path}", *argv]) == 2
        err = capsys.readouterr().err
        assert "a newer Shipfloor has migrated it" in err
        assert "Upgrade this program" in err
        assert "run `shipfloor db upgrade`" not in err
    with pytest.raises(StoreTooNew):
        upgrade(make_engine(f"sqlite:///{path}"))


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://clerk:s3cret@db/x",
        "mysql://clerk:s3cret@db/x",
        "oracle+cx://clerk:s3cret@db:1521/x",
        "not a url://clerk:s3cret@db",
    ],
)
def test_a_password_is_masked_whatever_the_scheme(url: str) -> None:
    assert "s3cret" not in masked(url)
    assert main(["--db", url, "route"]) == 2
