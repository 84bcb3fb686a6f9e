"""Every write a station makes runs in the same retrying unit of work: a busy store (SQLite's
"database is locked"), a deadlock or a serialization failure runs the whole action again,
once, and nothing of the failed attempt stays; any other error is not retried. The unit of
work is the use case's parameter, so a test hands in one that meets such an error."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from app import supervisor
from app.picking import station
from app.users import LoggedIn, login, logout
from data import uow as uow_module
from data.models import LoginEvent, PickEvent, PickListStatus
from data.store import make_engine
from data.uow import UnitOfWork, is_retryable, run_in_transaction, session_factory
from tests.pickfloor import picker


class PgError(Exception):
    """What psycopg raises, as far as the retry looks at it: its SQLSTATE."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


def busy() -> OperationalError:
    return OperationalError("COMMIT", {}, sqlite3.OperationalError("database is locked"))


class MeetsAnError(UnitOfWork):
    """A unit of work whose first ``fails`` commits raise ``error`` instead."""

    def __init__(
        self, engine: Engine, error: Callable[[], Exception] = busy, fails: int = 1
    ) -> None:
        super().__init__(engine)
        self.error = error
        self.fails = fails
        self.runs = 0

    def __enter__(self) -> UnitOfWork:
        self.runs += 1
        return super().__enter__()

    def commit(self) -> None:
        if self.fails:
            self.fails -= 1
            raise self.error()
        super().commit()


def pick_events(engine: Engine, kind: str) -> int:
    with UnitOfWork(engine, read_only=True) as uow:
        return int(
            uow.session.scalar(
                select(func.count()).select_from(PickEvent).where(PickEvent.kind == kind)
            )
            or 0
        )


def logins(engine: Engine, outcome: str) -> int:
    with UnitOfWork(engine, read_only=True) as uow:
        return int(
            uow.session.scalar(
                select(func.count()).select_from(LoginEvent).where(LoginEvent.outcome == outcome)
            )
            or 0
        )


def test_claim_set_tote_skip_pause_and_take_back_run_again_when_the_store_was_busy(
    floor: Engine,
) -> None:
    who = picker(floor)

    def once(action: Callable[[UnitOfWork], Any], kind: str) -> Any:
        uow = MeetsAnError(floor)
        before = pick_events(floor, kind)
        done = action(uow)
        assert uow.runs == 2, f"{kind} was not run again"
        assert pick_events(floor, kind) == before + 1, f"{kind} written twice, or never"
        return done

    view = once(lambda uow: station.claim_next(floor, who, uow=uow), "claim")
    assert view is not None
    assert view.status is PickListStatus.CLAIMED
    list_id = view.id
    for slot in view.totes:

        def load(uow: UnitOfWork, slot: int = slot.slot) -> station.PickListView:
            return station.set_tote(floor, who, list_id, slot, f"TOTE-R{slot:02d}", uow=uow)

        view = once(load, "tote")
    assert view.totes_ready
    if view.lines_left > 1:
        first = view.current
        assert first is not None
        view = once(lambda uow: station.skip(floor, who, view.id, first.id, uow=uow), "skip")
        assert view.tasks[-1].id == first.id
    once(lambda uow: station.pause(floor, who, view.id, uow=uow), "pause")
    assert station.view(floor, view.id).status is PickListStatus.PAUSED
    boss = login(floor, "SUP-01", "supervisor", "BADGE-U5001", "5555")
    once(lambda uow: supervisor.take_back(floor, boss, view.id, uow=uow), "take_back")
    assert station.view(floor, view.id).status is PickListStatus.RELEASED


def test_a_heartbeat_a_login_and_a_logout_run_again_when_the_store_was_busy(
    floor: Engine,
) -> None:
    uow = MeetsAnError(floor)
    who = login(floor, "PICK-01", "pick", "BADGE-U1001", "1111", uow=uow)
    assert uow.runs == 2
    assert logins(floor, "ok") == 1
    # A refused login is recorded once too (its commit met the busy store first).
    uow = MeetsAnError(floor)
    with pytest.raises(Exception, match="wrong PIN for U1002: 4 tries left"):
        login(floor, "PICK-01", "pick", "BADGE-U1002", "0000", uow=uow)
    assert uow.runs == 2
    assert logins(floor, "wrong_pin") == 1
    view = station.claim_next(floor, who)
    assert view is not None
    uow = MeetsAnError(floor)
    assert station.heartbeat(floor, who, view.id, uow=uow).ours
    assert uow.runs == 2
    uow = MeetsAnError(floor)
    logout(floor, who, uow=uow)
    assert uow.runs == 2
    assert logins(floor, "logout") == 1


def test_deadlocks_and_serialization_failures_are_retried_other_errors_are_not(
    floor: Engine,
) -> None:
    who = picker(floor)
    view = station.claim_next(floor, who)
    assert view is not None
    for sqlstate in ("40001", "40P01", "55P03"):

        def contended(sqlstate: str = sqlstate) -> Exception:
            return OperationalError("COMMIT", {}, PgError(sqlstate))

        uow = MeetsAnError(floor, contended)
        station.pause(floor, who, view.id, uow=uow)
        assert uow.runs == 2
        view = station.claim_next(floor, who)
        assert view is not None
    # A constraint broken, a bug: not retried, and nothing of it stays.
    before = pick_events(floor, "pause")
    uow = MeetsAnError(floor, lambda: OperationalError("x", {}, PgError("23505")))
    with pytest.raises(OperationalError):
        station.pause(floor, who, view.id, uow=uow)
    assert uow.runs == 1
    assert pick_events(floor, "pause") == before
    # Contention that does not go away gives up after a bounded number of tries.
    uow = MeetsAnError(floor, fails=99)
    with pytest.raises(OperationalError, match="database is locked"):
        station.pause(floor, who, view.id, uow=uow)
    assert uow.runs == 5
    assert pick_events(floor, "pause") == before


def test_what_is_retried() -> None:
    assert is_retryable(busy())
    assert is_retryable(OperationalError("x", {}, PgError("40P01")))
    assert not is_retryable(OperationalError("x", {}, sqlite3.OperationalError("no such table")))
    assert not is_retryable(ValueError("database is locked"))


def test_an_engine_has_one_session_factory(
    sqlite_store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[object] = []
    real = sessionmaker

    def counting(*args: Any, **kwargs: Any) -> Any:
        made.append(kwargs.get("bind"))
        return real(*args, **kwargs)

    monkeypatch.setattr(uow_module, "sessionmaker", counting)
    engine = make_engine(sqlite_store.url.render_as_string(hide_password=False))
    try:
        for _ in range(3):
            with UnitOfWork(engine) as uow:
                uow.commit()
            with UnitOfWork(engine, read_only=True):
                pass
            run_in_transaction(engine, lambda uow: uow.commit())
        assert made == [engine]
        assert session_factory(engine) is session_factory(engine)
        assert session_factory(sqlite_store) is not session_factory(engine)
        assert made == [engine, sqlite_store]
    finally:
        engine.dispose()


def test_a_logged_in_person_is_what_the_retry_sees(floor: Engine) -> None:
    # The retried login gives the same person back as one that met no busy store.
    plain = login(floor, "PICK-02", "pick", "BADGE-U1002", "1112")
    retried = login(floor, "PICK-02", "pick", "BADGE-U1002", "1112", uow=MeetsAnError(floor))
    assert isinstance(retried, LoggedIn)
    assert retried == plain
