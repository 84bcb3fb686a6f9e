"""The supervisor station, Pilot-driven on a seeded file store: the live pick-list queue
with quiet terminals and paused lists marked, taking a list back (typed, never by a
scanner burst) while the picker's own station is running, and the refusals."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from textual.pilot import Pilot
from textual.widgets import DataTable

from app import supervisor
from app.packing import station as pack
from app.picking import station
from app.picking.station import StationError
from app.terminal import Terminal
from app.users import LoggedIn, LoginError
from app.users import login as service_login
from data.models import PickList, PickListStatus, Role
from data.types import utcnow
from data.uow import UnitOfWork
from stations.app import StationApp
from stations.help import HelpScreen
from stations.login import LoginScreen
from stations.supervisor import SupervisorScreen, TakeBackModal, UnlockModal
from tests.packfloor import packer as pack_login
from tests.packfloor import pick_lists, setup, single_tote_orders
from tests.stations.helpers import (
    SNAPSHOTS,
    UPDATE,
    keyboard,
    list_events,
    list_status,
    logged_in_with_list,
    login,
    make_app,
    pick_screen,
    render_text,
    scanner,
    send_burst,
    text_of,
    until,
)


def supervisor_app(engine: Engine, **kw: Any) -> StationApp:
    return StationApp(Terminal(engine, "SUP-01", "supervisor"), keyboard(), **kw)


def floor_with_work(engine: Engine) -> dict[str, int]:
    """Three lists in three states: held at PICK-01, paused, and held by a terminal that
    went quiet five minutes ago."""
    pat = service_login(engine, "PICK-01", "pick", "BADGE-U1001", "1111")
    quinn = service_login(engine, "PICK-02", "pick", "BADGE-U1002", "1112")
    held = station.claim_next(engine, pat)
    quiet = station.claim_next(engine, quinn)
    paused = station.claim_next(engine, quinn)
    assert held is not None
    assert quiet is not None
    assert paused is not None
    station.pause(engine, quinn, paused.id)
    with UnitOfWork(engine) as uow:
        uow.session.execute(
            update(PickList)
            .where(PickList.id == quiet.id)
            .values(heartbeat_at=utcnow() - timedelta(minutes=5))
        )
        uow.commit()
    return {"held": held.id, "paused": paused.id, "quiet": quiet.id}


def rows_of(app: StationApp) -> list[list[str]]:
    table = app.screen.query_one(DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def logged_in_supervisor(pilot: Pilot[Any], app: StationApp) -> SupervisorScreen:
    await login(pilot, app, "BADGE-U5001", "5555")
    await until(pilot, lambda: isinstance(app.screen, SupervisorScreen), "the supervisor screen")
    screen = app.screen
    assert isinstance(screen, SupervisorScreen)
    await until(pilot, lambda: screen.queue is not None and not app.busy, "the queue")
    return screen


async def answered(pilot: Pilot[Any], app: StationApp) -> None:
    await pilot.pause()
    await until(pilot, lambda: not app.busy, "the answer")


def check_masked_snapshot(app: StationApp, name: str) -> None:
    """Like the pick station's snapshots, with clock readings masked (they move)."""
    got = re.sub(r"\b\d{1,2}:\d{2}(:\d{2})?\b", "##:##", render_text(app))
    path = SNAPSHOTS / f"{name}.txt"
    if UPDATE or not path.exists():
        path.write_text(got, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"snapshot {path.name} was missing and is now written: check it by eye")
    assert got == path.read_text(encoding="utf-8"), f"snapshot {name} differs"


@pytest.mark.asyncio
async def test_the_queue_marks_quiet_and_paused_lists_and_takes_one_back(
    sqlite_floor: Engine,
) -> None:
    engine = sqlite_floor
    lists = floor_with_work(engine)
    app = supervisor_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await logged_in_supervisor(pilot, app)
        rows = rows_of(app)
        by_id = {int(r[0]): r for r in rows}
        assert by_id[lists["held"]][2:5] == ["claimed", "Pat Picker (U1001)", "PICK-01"]
        assert by_id[lists["quiet"]][2:5] == ["QUIET", "Quinn Picker (U1002)", "PICK-02"]
        assert by_id[lists["paused"]][2:5] == ["paused", "", ""]
        # Claimed lists first, then the paused one, then the released ones.
        assert [r[2] for r in rows[:3]] in (
            ["claimed", "QUIET", "paused"],
            ["QUIET", "claimed", "paused"],
        )
        assert all(r[2] == "released" for r in rows[3:])
        assert "2 claimed (1 quiet) · 1 paused" in text_of(app, "#summary")
        check_masked_snapshot(app, "supervisor")
        # F1 lists the screen's keys by binding id, as on every station.
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        shown = render_text(app)
        for binding_id in ("supervisor.refresh", "supervisor.take_back", "supervisor.attention"):
            assert binding_id in shown
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SupervisorScreen), "help closed")
        # Only what needs attention.
        await pilot.press("f7")
        assert sorted(int(r[0]) for r in rows_of(app)) == sorted([lists["quiet"], lists["paused"]])
        await pilot.press("f7")
        # A scanner burst over the question never confirms it.
        table = app.screen.query_one(DataTable)
        table.move_cursor(row=table.get_row_index(str(lists["held"])))
        await pilot.press("f6")
        await until(pilot, lambda: isinstance(app.screen, TakeBackModal), "the question")
        check_masked_snapshot(app, "supervisor-take-back")
        send_burst(app, "TOTE-0001")
        await until(pilot, lambda: isinstance(app.screen, SupervisorScreen), "the question gone")
        assert "nothing is scanned here, scanned 'TOTE-0001'" in text_of(app, "#message")
        assert list_status(engine, lists["held"]) is PickListStatus.CLAIMED
        # Escape leaves it too.
        await pilot.press("f6")
        await until(pilot, lambda: isinstance(app.screen, TakeBackModal), "the question")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SupervisorScreen), "the question gone")
        assert list_status(engine, lists["held"]) is PickListStatus.CLAIMED
        # Y and Enter take it back.
        await pilot.press("f6")
        await until(pilot, lambda: isinstance(app.screen, TakeBackModal), "the question")
        await pilot.press("y", "enter")
        await until(pilot, lambda: "taken back" in text_of(app, "#message"), "the take-back")
        assert (
            f"Pick list {lists['held']} taken back from Pat Picker (U1001): anyone can claim it"
            in text_of(app, "#message")
        )
        row = next(r for r in rows_of(app) if int(r[0]) == lists["held"])
        assert row[2:5] == ["released", "", ""]
        # A released list has nobody to take it from.
        table.move_cursor(row=table.get_row_index(str(lists["held"])))
        await pilot.press("f6")
        await answered(pilot, app)
        assert f"pick list {lists['held']} is released, nobody holds it" in text_of(app, "#message")
    assert list_status(engine, lists["held"]) is PickListStatus.RELEASED
    assert list_events(engine, lists["held"])[-1] == "take_back"


@pytest.mark.asyncio
async def test_the_picker_is_told_within_a_heartbeat(sqlite_floor: Engine, tmp_path: Path) -> None:
    engine = sqlite_floor
    picker = make_app(engine, scanner(tmp_path), heartbeat_every=0.2)
    boss = supervisor_app(engine, heartbeat_every=0.2)
    async with picker.run_test(size=(80, 24)) as p1, boss.run_test(size=(80, 24)) as p2:
        await logged_in_with_list(p1, picker, "U1001", "1111")
        held = pick_screen(picker).shown.view
        assert held is not None
        screen = await logged_in_supervisor(p2, boss)
        await until(
            p2,
            lambda: any(x.id == held.id and x.status == "claimed" for x in screen.shown_lists()),
            "the picker's list in the queue",
        )
        table = screen.query_one(DataTable)
        table.move_cursor(row=table.get_row_index(str(held.id)))
        await p2.press("f6")
        await until(p2, lambda: isinstance(boss.screen, TakeBackModal), "the question")
        await p2.press("y", "enter")
        await until(p2, lambda: "taken back" in text_of(boss, "#message"), "the take-back")
        await until(
            p1,
            lambda: "taken back by a supervisor" in text_of(picker, "#headline"),
            "the picker told",
        )
    with UnitOfWork(engine, read_only=True) as uow:
        status = uow.session.scalar(select(PickList.status).where(PickList.id == held.id))
    assert status is PickListStatus.RELEASED


@pytest.mark.asyncio
async def test_only_supervisors_open_it(sqlite_floor: Engine) -> None:
    app = supervisor_app(sqlite_floor)
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot, app, "BADGE-U1001", "1111")
        assert isinstance(app.screen, LoginScreen)
        assert "may not use a supervisor station" in text_of(app, "#message")


def test_take_back_is_for_a_supervisor_of_the_lists_node(sqlite_floor: Engine) -> None:
    engine = sqlite_floor
    lists = floor_with_work(engine)
    boss = service_login(engine, "SUP-01", "supervisor", "BADGE-U5001", "5555")
    elsewhere = LoggedIn(**{**boss.__dict__, "node_id": -1, "node_code": "DC9"})
    with pytest.raises(StationError, match=r"is at WH1, not DC9"):
        supervisor.take_back(engine, elsewhere, lists["held"])
    picker = LoggedIn(**{**boss.__dict__, "roles": frozenset({Role.PICKER})})
    with pytest.raises(StationError, match="is not a supervisor"):
        supervisor.take_back(engine, picker, lists["held"])
    with pytest.raises(StationError, match="there is no pick list 999999"):
        supervisor.take_back(engine, boss, 999999)
    assert list_status(engine, lists["held"]) is PickListStatus.CLAIMED
    supervisor.take_back(engine, boss, lists["held"])
    assert list_status(engine, lists["held"]) is PickListStatus.RELEASED
    queue = supervisor.pick_queue(engine, boss.node_id)
    assert queue.count("claimed") == 1
    assert queue.stale == 1
    assert queue.count("paused") == 1


@pytest.mark.asyncio
async def test_the_queue_read_under_the_question_leaves_the_keys_beneath(
    sqlite_floor: Engine,
) -> None:
    """The question is the flow's CONFIRM step; the queue screen beneath it still shows its
    own keys, however often the queue is read meanwhile."""
    engine = sqlite_floor
    lists = floor_with_work(engine)
    app = supervisor_app(engine, heartbeat_every=0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await logged_in_supervisor(pilot, app)
        table = screen.query_one(DataTable)
        table.move_cursor(row=table.get_row_index(str(lists["held"])))
        await pilot.press("f6")
        await until(pilot, lambda: isinstance(app.screen, TakeBackModal), "the question")
        before = screen.queue
        await until(pilot, lambda: screen.queue is not before and not app.busy, "a read")
        await pilot.pause()
        assert "F5 Refresh  F6 Take back  F7 Attention  F8 Unlock badge  F1 Help" in render_text(
            app
        )
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "the question gone")
    assert list_status(engine, lists["held"]) is PickListStatus.CLAIMED


def _locked_out(engine: Engine, badge: str) -> None:
    """Five wrong PINs at a pick station: the badge is locked."""
    for _ in range(5):
        with pytest.raises(LoginError):
            service_login(engine, "PICK-01", "pick", f"BADGE-{badge}", "0000")
    with pytest.raises(LoginError, match="is locked"):
        service_login(engine, "PICK-01", "pick", f"BADGE-{badge}", "1111")


@pytest.mark.asyncio
async def test_a_supervisor_unlocks_a_badge_scanned_or_typed(sqlite_floor: Engine) -> None:
    engine = sqlite_floor
    _locked_out(engine, "U1001")
    _locked_out(engine, "U1002")
    app = supervisor_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await logged_in_supervisor(pilot, app)
        assert "F8 Unlock badge" in render_text(app).replace("  ", " ")
        # Typed, then Enter.
        await pilot.press("f8")
        await until(pilot, lambda: isinstance(app.screen, UnlockModal), "the question")
        assert "Scan the badge to unlock, or type it and Enter" in render_text(app)
        await pilot.press(*"U1001", "enter")
        await until(pilot, lambda: "unlocked" in text_of(app, "#message"), "the unlock")
        assert "Badge U1001 (Pat Picker) is unlocked: they can log in again" in text_of(
            app, "#message"
        )
        # Scanned.
        await pilot.press("f8")
        await until(pilot, lambda: isinstance(app.screen, UnlockModal), "the question")
        send_burst(app, "BADGE-U1002")
        await until(pilot, lambda: "U1002" in text_of(app, "#message"), "the unlock")
        assert "Badge U1002 (Quinn Picker) is unlocked" in text_of(app, "#message")
        # A badge nobody has: said, nothing changed. Escape leaves the question.
        await pilot.press("f8")
        await until(pilot, lambda: isinstance(app.screen, UnlockModal), "the question")
        send_burst(app, "BADGE-NOPE")
        await until(pilot, lambda: "NOPE" in text_of(app, "#message"), "the refusal")
        assert "there is no user with badge NOPE" in text_of(app, "#message")
        await pilot.press("f8")
        await until(pilot, lambda: isinstance(app.screen, UnlockModal), "the question")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SupervisorScreen), "the question gone")
    assert service_login(engine, "PICK-01", "pick", "BADGE-U1001", "1111").badge == "U1001"
    assert service_login(engine, "PICK-02", "pick", "BADGE-U1002", "1112").badge == "U1002"


@pytest.mark.asyncio
async def test_an_order_on_the_problem_shelf_shows_under_the_queue(sqlite_floor: Engine) -> None:

    totes = single_tote_orders(sqlite_floor, pick_lists(sqlite_floor, 1))
    cat, ship = setup(sqlite_floor)
    who = pack_login(sqlite_floor)
    bench = pack.open_tote(sqlite_floor, who, totes[0], cat, ship)
    pack.problem(sqlite_floor, who, bench, "missing", bench.lines[0].line_id, pack.PackSettings())
    app = supervisor_app(sqlite_floor)
    async with app.run_test(size=(80, 24)) as pilot:
        await logged_in_supervisor(pilot, app)
        shelf = text_of(app, "#problems")
        assert f"Problem shelf: {bench.order_ref} (tote {totes[0]}) at PROBLEM" in render_text(app)
        assert "a unit is missing" in shelf
