"""The PostgreSQL role the Security page gives station PCs (docs/admin/station-role.sql,
run as the docs say): stations work under it, whole pick lists and a supervisor's
take-back and unlock included, and it cannot add people, change a PIN or a role, issue a
token or change settings. An office command run under it is refused with a sentence, and
nothing is written."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from app import admin
from app.access import Caller
from app.actor import Actor
from app.packing import station as pack
from app.picking import station
from app.users import LoginError
from data.models import Role
from data.store import make_engine
from data.uow import UnitOfWork
from tests.factories import snapshot
from tests.packfloor import packer, setup, single_tote_orders, unit_scans
from tests.pickfloor import load_totes, pick_task, picker

GRANTS = Path(__file__).resolve().parents[2] / "docs" / "admin" / "station-role.sql"
ON_POSTGRESQL = pytest.mark.parametrize(
    "store_url", [pytest.param("postgresql", marks=pytest.mark.postgresql)], indirect=True
)


@pytest.fixture
def station_url(store_url: str) -> Iterator[str]:
    """The store reached as the station role, made by the docs' SQL (its name made unique
    to this run: roles belong to the whole server)."""
    role = f"shipfloor_station_{os.getpid()}"
    sql = GRANTS.read_text(encoding="utf-8").replace("shipfloor_station", role)
    owner = create_engine(store_url, isolation_level="AUTOCOMMIT")
    with owner.connect() as conn:
        conn.execute(text(sql))
    try:
        yield (
            make_url(store_url)
            .set(username=role, password="change-me")
            .render_as_string(hide_password=False)
        )
    finally:
        with owner.connect() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))
        owner.dispose()


@ON_POSTGRESQL
def test_stations_work_under_the_station_role_and_cannot_change_who_may_do_what(
    floor: Engine, station_url: str
) -> None:
    at_station = make_engine(station_url)
    try:
        with pytest.raises(LoginError, match="wrong PIN"):
            picker(at_station, "U1001", "0000")  # counted, under the station role
        who = picker(at_station)
        view = station.claim_next(at_station, who)
        assert view is not None
        view = load_totes(at_station, who, view)
        while view.current is not None:
            view = pick_task(at_station, who, view)
        assert view.status.value == "done"
        # A packer packs one of its totes whole: package, units, documents queued.
        tote = single_tote_orders(at_station, [view])[0]
        cat, ship = setup(at_station)
        bench = pack.open_tote(at_station, packer(at_station), tote, cat, ship)
        units: list[pack.Unit] = []
        for scan in unit_scans(bench):
            units.append(pack.check_unit(bench, scan, date(2026, 6, 1), units))
        box = cat.boxes[-1]
        grams = pack.expected_weight(bench, box, units, cat)
        closed = pack.close_box(
            at_station,
            packer(at_station),
            bench,
            box,
            units,
            grams,
            grams,
            override_by=None,
            printers=pack.Printers.default(),
            ship=ship,
            today=lambda: date(2026, 6, 1),
        )
        assert closed.last
        assert len(closed.queued) == 3
        other = station.claim_next(at_station, who)
        assert other is not None
        station.take_back(at_station, Actor("U5001"), other.id)
        with UnitOfWork(at_station, read_only=True) as uow:
            supervisor_id = uow.session.execute(
                text("SELECT id FROM users WHERE badge = 'U5001'")
            ).scalar_one()
        supervisor = Caller(supervisor_id, "U5001", "Sue Supervisor", frozenset({Role.SUPERVISOR}))
        assert admin.unlock_badge(at_station, supervisor, "U1001") == "Pat Picker"

        before = snapshot(floor)
        boss = Caller(supervisor_id, "U9001", "Alex Admin", frozenset({Role.ADMIN}))
        with pytest.raises(ProgrammingError, match="permission denied"):
            admin.create_user(at_station, boss, "NEW-1", "New", [Role.ADMIN], "1234")
        with pytest.raises(ProgrammingError, match="permission denied"):
            admin.reset_pin(at_station, boss, "U1001", "4321")
        for statement in (
            "UPDATE users SET pin_hash = 'x'",
            "INSERT INTO user_roles (user_id, role) VALUES (1, 'admin')",
            "UPDATE site_settings SET value = value",
            "DELETE FROM order_events",
            "CREATE TABLE mine (id int)",
        ):
            with UnitOfWork(at_station) as uow, pytest.raises(ProgrammingError):
                uow.session.execute(text(statement))
        assert snapshot(floor) == before
    finally:
        at_station.dispose()


@ON_POSTGRESQL
def test_an_office_command_under_the_station_role_is_refused_in_a_sentence(
    floor: Engine, station_url: str
) -> None:
    before = snapshot(floor)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli",
            "--db",
            station_url,
            "users",
            "reset-pin",
            "U1001",
            "--user",
            "U9001",
            "--pin-env",
            "ADMIN_PIN",
            "--new-pin-env",
            "NEW_PIN",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "ADMIN_PIN": "9999", "NEW_PIN": "4321"},
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "the database refused (permission denied for table users)" in done.stderr
    assert "Nothing was written" in done.stderr
    assert "change-me" not in done.stderr
    assert "Traceback" not in done.stderr
    assert snapshot(floor) == before
