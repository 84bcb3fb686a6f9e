"""The station app's pick mode under Pilot, on a seeded store file: login, claim, totes,
every pick with its refusals, a short pick, live take-back and cancellation, idle log-out,
two stations at once, and text snapshots of the main states at 80x24.

Scans are typed as key presses (``pilot.press``, or a burst of key events back to back as
a wedge scanner sends them) and the tests wait on the terminal worker by polling a
condition, never with fixed sleeps. ``SHIPFLOOR_UPDATE_SNAPSHOTS=1`` rewrites the snapshots
under ``tests/stations/snapshots/``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from textual.pilot import Pilot
from textual.widgets import Input

from app.actor import Actor
from app.picking import station
from app.picking.flow import PICK_STEPS, Step
from app.picking.station import ItemScan, PickDone, PickListView, Task
from app.terminal import Terminal
from app.users import login as service_login
from data import inventory
from data import users as user_rows
from data.dom import close_allocation
from data.models import (
    AllocationStatus,
    PickList,
    PickListStatus,
    PickTask,
)
from data.uow import UnitOfWork
from stations.app import StationApp
from stations.help import HelpScreen
from stations.login import LoginScreen
from stations.pick import PickScreen
from tests.stations.helpers import (
    act,
    check_snapshot,
    item_scans,
    keyboard,
    keys,
    list_events,
    list_status,
    logged_in_with_list,
    login,
    make_app,
    pick_current,
    pick_screen,
    render_text,
    scan,
    scanner,
    set_up_totes,
    step_of,
    text_of,
    tote_for,
    until,
)

FROZEN = 1000.0


# --- end to end ---------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_whole_pick_list_with_every_refusal_and_a_short_pick(
    sqlite_floor: Engine, tmp_path: Path
) -> None:
    engine = sqlite_floor
    app = make_app(engine, scanner(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await logged_in_with_list(pilot, app, "U1001", "1111")
        screen = pick_screen(app)
        view = screen.shown.view
        assert view is not None
        list_id = view.id
        assert step_of(screen) is Step.TOTES
        # A location where a tote belongs: refused, nothing recorded, the step stays.
        bells = app.bells
        await scan(pilot, app, "LOC-A01-01-1", typed=True)
        assert step_of(screen) is Step.TOTES
        assert "expected a tote barcode" in text_of(app, "#message")
        assert app.bells == bells + 1
        assert screen.has_class("refused")
        await set_up_totes(pilot, app, typed=True)
        assert list_events(engine, list_id).count("tote") == len(view.totes)

        task = screen.shown.task
        assert task is not None
        assert task.tote is not None
        assert step_of(screen) is Step.LOCATION
        assert "▶ Scan location" in text_of(app, "#step")
        assert task.sku in text_of(app, "#product")
        assert f"Pick {task.left}" in text_of(app, "#qty")
        assert task.tote in text_of(app, "#tote")

        await scan(pilot, app, "LOC-ZZ-99", typed=True)
        assert f"wrong location: expected {task.location}" in text_of(app, "#message")
        assert "LOC-ZZ-99" in text_of(app, "#message")
        assert step_of(screen) is Step.LOCATION
        await scan(pilot, app, task.location_barcode, typed=True)
        assert step_of(screen) is Step.ITEM
        assert f"Scan item (1 of {task.left})" in text_of(app, "#step")

        await scan(pilot, app, "5012345999999", typed=True)
        assert "wrong item: expected" in text_of(app, "#message")
        assert step_of(screen) is Step.ITEM
        assert screen.shown.counted == 0

        if not (task.track_lot or task.track_serial or task.track_expiry):
            # Over-pick, keyed as a quantity (F6 opens the quantity field).
            before = screen.shown
            await pilot.press("f6")
            await until(pilot, lambda: isinstance(app.focused, Input), "the quantity field")
            await pilot.press(*str(task.left + 1), "enter")
            await until(pilot, lambda: screen.shown is not before and not app.busy, "over-pick")
            assert "over-pick" in text_of(app, "#message")
            assert screen.shown.counted == 0
        units = item_scans(engine, task)
        for text in units:
            await scan(pilot, app, text, typed=True)
        assert step_of(screen) is Step.TOTE
        assert screen.shown.counted == task.left
        # One unit more than the task: an over-pick, refused; the count stays.
        await scan(pilot, app, units[0], typed=True)
        assert "over-pick" in text_of(app, "#message")
        assert screen.shown.counted == task.left
        assert step_of(screen) is Step.TOTE

        await scan(pilot, app, "TOTE-99999", typed=True)
        assert f"wrong tote: expected {task.tote}" in text_of(app, "#message")
        assert step_of(screen) is Step.TOTE
        assert "pick" not in list_events(engine, list_id)
        await scan(pilot, app, task.tote, typed=True)
        assert f"Picked {task.left} × {task.sku} into {task.tote}" in text_of(app, "#message")
        assert list_events(engine, list_id).count("pick") == 1

        # Short-pick the next task: F7, then 3 (not found); DOM re-routes the units.
        short = screen.shown.task
        assert short is not None
        assert short.id != task.id
        before = screen.shown
        await pilot.press("f7")
        await until(pilot, lambda: app.screen is not screen, "the short-pick choice")
        # A number not on the list keeps the question open and says so.
        choice = app.screen
        await pilot.press("5", "enter")
        await until(
            pilot,
            lambda: "5 is not on the list: type 1, 2 or 3 and Enter" in render_text(app),
            "the wrong number said",
        )
        assert app.screen is choice
        assert screen.shown is before
        await pilot.press("3", "enter")
        await until(pilot, lambda: screen.shown is not before and not app.busy, "the short pick")
        assert f"Short pick of {short.sku}" in screen.shown.message
        assert "not found" in screen.shown.message

        while step_of(screen) is not Step.NO_LIST:
            await pick_current(pilot, app, engine, typed=True)
        assert f"Pick list {list_id} done — take the totes to packing" in text_of(app, "#headline")
    assert list_status(engine, list_id) is PickListStatus.DONE
    kinds = list_events(engine, list_id)
    assert kinds[0] == "claim"
    assert kinds[-1] == "done"
    assert {"tote", "pick", "short"} <= set(kinds)
    with UnitOfWork(engine, read_only=True) as uow:
        assert inventory.reconcile(uow.session) == []


@pytest.mark.asyncio
async def test_over_pick_by_scan_and_a_list_of_tracked_units(
    sqlite_floor: Engine, tmp_path: Path
) -> None:
    """The second list of the demo has a serial-tracked mouse: one scan too many is an
    over-pick, the same serial twice is refused; a list is finished, then the next claimed."""
    engine = sqlite_floor
    app = make_app(engine, scanner(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await logged_in_with_list(pilot, app, "U1001", "1111")
        screen = pick_screen(app)
        first = screen.shown.view
        assert first is not None
        await set_up_totes(pilot, app)
        while step_of(screen) is not Step.NO_LIST:
            await pick_current(pilot, app, engine)
        assert "done — take the totes to packing" in text_of(app, "#headline")
        await scan(pilot, app, "LOC-A01-01-1")
        assert "no pick list is open" in text_of(app, "#message")
        assert "F5 claims one" in text_of(app, "#message")
        before = screen.shown
        await pilot.press("f5")
        await until(pilot, lambda: screen.shown is not before and not app.busy, "next list")
        second = screen.shown.view
        assert second is not None
        assert second.id != first.id
        await set_up_totes(pilot, app)
        seen_tracked = seen_over = False
        while step_of(screen) is not Step.NO_LIST:
            task = screen.shown.task
            assert task is not None
            assert task.tote is not None
            if task.track_serial and not seen_tracked:
                seen_tracked = True
                await scan(pilot, app, task.location_barcode)
                units = item_scans(engine, task)
                await scan(pilot, app, units[0])
                if task.left > 1:
                    await scan(pilot, app, units[0])
                    assert "was already scanned" in text_of(app, "#message")
                for text in units[1:]:
                    await scan(pilot, app, text)
                assert step_of(screen) is Step.TOTE
                # A short pick with units in hand: they go in the tote first (said at
                # once, before the reason is asked).
                await act(pilot, app, "f7")
                assert app.screen is screen
                assert "not in a tote yet" in text_of(app, "#message")
                await scan(pilot, app, task.tote)
                assert "Picked" in text_of(app, "#message")
            elif not seen_over and not task.track_serial and step_of(screen) is Step.LOCATION:
                seen_over = True
                await scan(pilot, app, task.location_barcode)
                units = item_scans(engine, task)
                for text in units:
                    await scan(pilot, app, text)
                await scan(pilot, app, units[0])
                assert "over-pick" in text_of(app, "#message")
                await scan(pilot, app, task.tote)
                assert "Picked" in text_of(app, "#message")
            else:
                await pick_current(pilot, app, engine)
        assert seen_tracked
    assert list_status(engine, second.id) is PickListStatus.DONE
    with UnitOfWork(engine, read_only=True) as uow:
        assert inventory.reconcile(uow.session) == []


# --- the worker queue -----------------------------------------------------------------


class GatedTerminal(Terminal):
    """A terminal whose first tote is saved only when the test opens the gate."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.gate = threading.Event()
        self.calls: list[str] = []

    def set_tote(self, list_id: int, slot: int, scan: str) -> PickListView:
        self.gate.wait(30)
        self.calls.append(f"tote {slot} {scan}")
        return super().set_tote(list_id, slot, scan)

    def check_location(self, task: Task, scan: str) -> None:
        self.calls.append(f"location {scan}")
        super().check_location(task, scan)

    def check_item(self, task: Task, scan: str, counted: Sequence[ItemScan]) -> ItemScan:
        self.calls.append(f"item {scan}")
        return super().check_item(task, scan, counted)

    def confirm(self, list_id: int, task_id: int, items: Sequence[ItemScan], tote: str) -> PickDone:
        self.calls.append(f"confirm {tote}")
        return super().confirm(list_id, task_id, items, tote)


class ForgetfulTerminal(Terminal):
    """A terminal whose store goes away just after a pick is committed: the list cannot
    be read back once."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.confirms = 0
        self.fail_next_view = False

    def confirm(self, list_id: int, task_id: int, items: Sequence[ItemScan], tote: str) -> PickDone:
        done = super().confirm(list_id, task_id, items, tote)
        self.confirms += 1
        self.fail_next_view = True
        return done

    def view(self, list_id: int) -> PickListView:
        if self.fail_next_view:
            self.fail_next_view = False
            raise ConnectionError("the store did not answer")
        return super().view(list_id)


async def type_totes_and_first_pick(
    pilot: Pilot[Any], engine: Engine, view: PickListView
) -> tuple[Task, str]:
    """Type every tote of the cart, then the first task's location, units and tote, back
    to back (the app may still be busy); the first task and its tote."""
    first = view.current
    assert first is not None
    tote = tote_for(view, first.tote_slot)
    scans = [tote_for(view, t.slot) for t in view.totes]
    scans += [first.location_barcode, *item_scans(engine, first), tote]
    for text in scans:
        await pilot.press(*keys(text), "enter")
    return first, tote


@pytest.mark.asyncio
async def test_scans_wait_in_order_while_the_store_is_busy(
    sqlite_floor: Engine, tmp_path: Path
) -> None:
    engine = sqlite_floor
    terminal = GatedTerminal(engine, "PICK-01", "pick")
    app = StationApp(terminal, scanner(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await logged_in_with_list(pilot, app, "U1001", "1111")
        screen = pick_screen(app)
        view = screen.shown.view
        assert view is not None
        # Predict the whole list's first pick from the store, then scan it all while the
        # first tote's transaction is still waiting.
        slots = [t.slot for t in view.totes]
        first, tote = await type_totes_and_first_pick(pilot, engine, view)
        assert not first.track_serial
        assert app.busy
        assert terminal.calls == []
        terminal.gate.set()
        await until(pilot, lambda: not app.busy, "the queue to drain")
    want = [f"tote {s} {tote_for(view, s)}" for s in slots]
    want += [f"location {first.location_barcode}"]
    want += [f"item {text}" for text in item_scans(engine, first)]
    want += [f"confirm {tote}"]
    assert terminal.calls == want
    assert list_events(engine, view.id).count("pick") == 1


@pytest.mark.asyncio
async def test_scans_made_before_a_logout_are_saved_then_the_list_is_paused(
    sqlite_floor: Engine, tmp_path: Path
) -> None:
    engine = sqlite_floor
    terminal = GatedTerminal(engine, "PICK-01", "pick")
    app = StationApp(terminal, scanner(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await logged_in_with_list(pilot, app, "U1001", "1111")
        view = pick_screen(app).shown.view
        assert view is not None
        first, tote = await type_totes_and_first_pick(pilot, engine, view)
        # The picker logs out while the first tote is still being saved.
        await pilot.press("f10")
        await until(pilot, lambda: isinstance(app.screen, LoginScreen), "the login screen")
        terminal.gate.set()
        await until(pilot, lambda: not app.busy, "the queue to drain")
        assert isinstance(app.screen, LoginScreen)
        assert terminal.calls[-1] == f"confirm {tote}"
    events = list_events(engine, view.id)
    assert events.count("pick") == 1
    assert events[-1] == "pause"
    assert list_status(engine, view.id) is PickListStatus.PAUSED


@pytest.mark.asyncio
async def test_a_pick_saved_when_the_list_cannot_be_read_back_is_not_sent_twice(
    sqlite_floor: Engine, tmp_path: Path
) -> None:
    engine = sqlite_floor
    terminal = ForgetfulTerminal(engine, "PICK-01", "pick")
    app = StationApp(terminal, scanner(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await logged_in_with_list(pilot, app, "U1001", "1111")
        await set_up_totes(pilot, app)
        screen = pick_screen(app)
        view = screen.shown.view
        assert view is not None
        first = view.current
        assert first is not None
        tote = tote_for(view, first.tote_slot)
        for text in [first.location_barcode, *item_scans(engine, first), tote]:
            await scan(pilot, app, text)
        message = text_of(app, "#message")
        assert f"Picked {first.left} × {first.sku} into {tote} — saved" in message
        assert "could not be read again (the store did not answer)" in message
        # The screen went on from the pick as saved: the same tote again is not a pick.
        shown = screen.shown
        assert shown.counted == 0
        assert shown.task is None or shown.task.id != first.id
        await scan(pilot, app, tote)
    assert terminal.confirms == 1
    assert list_events(engine, view.id).count("pick") == 1
    with UnitOfWork(engine, read_only=True) as uow:
        assert inventory.reconcile(uow.session) == []


# --- login ----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_login_refusals(sqlite_floor: Engine) -> None:
    app = make_app(sqlite_floor, keyboard())
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, LoginScreen)
        assert "Scan your badge" in text_of(app, "#prompt")
        # A keyed badge id with the wrong PIN.
        await login(pilot, app, "U1001", "9999")
        assert "wrong PIN for U1001: 4 tries left" in text_of(app, "#message")
        assert app.bells == 1
        assert app.screen.has_class("refused")
        assert "Scan your badge" in text_of(app, "#prompt")
        # A blank PIN is refused by the service.
        await login(pilot, app, "U1001", "")
        assert "enter your PIN" in text_of(app, "#message")
        # Not a badge at all.
        await pilot.press(*"TOTE-0001", "enter")
        await until(pilot, lambda: "not a badge" in text_of(app, "#message"), "refusal")
        # A packer at a pick station.
        await login(pilot, app, "U2001", "2222")
        assert "may not use a pick station" in text_of(app, "#message")
        # Escape clears a badge scanned by mistake.
        await pilot.press(*"U1001", "enter")
        await until(pilot, lambda: isinstance(app.focused, Input), "the PIN field")
        assert "Badge U1001" in text_of(app, "#prompt")
        await pilot.press("escape")
        await until(pilot, lambda: "Scan your badge" in text_of(app, "#prompt"), "cleared")
        # Five wrong PINs in a row lock the badge; the right PIN does not open it.
        for _ in range(3):
            await login(pilot, app, "BADGE-U1001", "0000")
            assert "wrong PIN" in text_of(app, "#message")
        await login(pilot, app, "BADGE-U1001", "0000")
        assert "locked for 15 minutes" in text_of(app, "#message")
        await login(pilot, app, "BADGE-U1001", "1111")
        assert "is locked after 5 wrong PINs" in text_of(app, "#message")
        assert isinstance(app.screen, LoginScreen)
        assert app.user is None
    with UnitOfWork(sqlite_floor, read_only=True) as uow:
        assert user_rows.login_outcomes(uow.session, "U1001")[:2] == ["wrong_pin", "blank_pin"]


@pytest.mark.asyncio
async def test_keyed_entries_work_like_scans_and_logout_pauses_the_list(
    sqlite_floor: Engine,
) -> None:
    """Codes keyed from damaged labels are accepted; F10 logs out and pauses the list."""
    engine = sqlite_floor
    app = make_app(engine, keyboard())
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot, app, "U1001", "1111")
        await until(pilot, lambda: isinstance(app.screen, PickScreen), "the pick screen")
        screen = pick_screen(app)
        await until(pilot, lambda: screen.shown.view is not None and not app.busy, "a claim")
        view = screen.shown.view
        assert view is not None
        await set_up_totes(pilot, app)
        await pick_current(pilot, app, engine)
        await pilot.press("f10")
        await until(pilot, lambda: isinstance(app.screen, LoginScreen), "the login screen")
        await until(pilot, lambda: not app.busy, "the logout")
        assert "Pat Picker logged out" in text_of(app, "#message")
    assert list_status(engine, view.id) is PickListStatus.PAUSED
    with UnitOfWork(engine, read_only=True) as uow:
        assert user_rows.login_outcomes(uow.session, "U1001")[-1] == "logout"


@pytest.mark.asyncio
async def test_idle_log_out(sqlite_floor: Engine, tmp_path: Path) -> None:
    """After the site's idle minutes (10 in the demo) without a key or scan: logged out,
    the list paused for the next picker. The injected clock stands for the wall clock."""
    engine = sqlite_floor
    now = [FROZEN]
    app = make_app(engine, scanner(tmp_path), clock=lambda: now[0])
    assert app.idle_seconds == 600
    async with app.run_test(size=(80, 24)) as pilot:
        await logged_in_with_list(pilot, app, "U1001", "1111")
        view = pick_screen(app).shown.view
        assert view is not None
        now[0] += 599
        await pilot.press("f1")  # a key: the idle time starts again
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        await pilot.press("escape")
        now[0] += 599
        app.check_idle_logout()  # what the app's timer does every second
        assert isinstance(app.screen, PickScreen)
        now[0] += 2
        await until(pilot, lambda: isinstance(app.screen, LoginScreen), "the idle log-out")
        await until(pilot, lambda: not app.busy, "the logout")
        assert "Logged out after 10 minutes without a key or scan" in text_of(app, "#message")
        assert app.user is None
        assert list_status(engine, view.id) is PickListStatus.PAUSED
        # The next login gets a fresh pick screen, and the paused list back first.
        await logged_in_with_list(pilot, app, "U1002", "1112")
        again = pick_screen(app).shown.view
        assert again is not None
        assert again.id == view.id
    with UnitOfWork(engine, read_only=True) as uow:
        assert user_rows.login_outcomes(uow.session, "U1001")[-1] == "idle_logout"


# --- live -----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_supervisor_takes_the_list_back(sqlite_floor: Engine, tmp_path: Path) -> None:
    engine = sqlite_floor
    app = make_app(engine, scanner(tmp_path), heartbeat_every=0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        await logged_in_with_list(pilot, app, "U1001", "1111")
        screen = pick_screen(app)
        await set_up_totes(pilot, app)
        view = screen.shown.view
        assert view is not None
        assert screen.shown.task is not None
        bells = app.bells
        station.take_back(engine, Actor("U5001"), view.id)
        await until(
            pilot,
            lambda: "taken back by a supervisor" in text_of(app, "#headline"),
            "the take-back",
        )
        assert f"Pick list {view.id} was taken back by a supervisor" in text_of(app, "#headline")
        assert step_of(screen) is Step.NO_LIST
        assert app.bells > bells
        # Back to claiming: F5 claims a list (the one given back comes first). Taken back,
        # its cart may be anywhere: its totes are set up again.
        before = screen.shown
        await pilot.press("f5")
        await until(pilot, lambda: screen.shown is not before and not app.busy, "a claim")
        assert screen.shown.view is not None
        assert screen.shown.view.id == view.id
        assert step_of(screen) is Step.TOTES
        assert "Its totes were on another cart: put empty totes on yours" in text_of(
            app, "#message"
        )
        await set_up_totes(pilot, app)
        assert step_of(screen) is Step.LOCATION


def cancel_order(engine: Engine, view: PickListView, order_ref: str) -> None:
    """What cancelling an order does to a pick list: its reserved allocations are
    released, which ends its open pick tasks."""
    open_tasks = [t.id for t in view.tasks if t.order_ref == order_ref and t.status == "open"]
    assert open_tasks
    with UnitOfWork(engine) as uow:
        for task_id in open_tasks:
            allocation = uow.session.scalar(
                select(PickTask.allocation_id).where(PickTask.id == task_id)
            )
            assert allocation is not None
            close_allocation(uow.session, allocation, AllocationStatus.RELEASED)
        uow.commit()


@pytest.mark.asyncio
async def test_orders_cancelled_under_the_picker(sqlite_floor: Engine, tmp_path: Path) -> None:
    engine = sqlite_floor
    # Another picker holds the demo's first list (one order): this one has several.
    other = service_login(engine, "PICK-02", "pick", "BADGE-U1002", "1112")
    assert station.claim_next(engine, other) is not None
    app = make_app(engine, scanner(tmp_path), heartbeat_every=0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        await logged_in_with_list(pilot, app, "U1001", "1111")
        screen = pick_screen(app)
        await set_up_totes(pilot, app)
        view = screen.shown.view
        first = screen.shown.task
        assert view is not None
        assert first is not None
        # An order with nothing picked yet: its picks leave the list, the next task shows.
        bells = app.bells
        cancel_order(engine, view, first.order_ref)
        await until(pilot, lambda: "was cancelled" in text_of(app, "#notice"), "the notice")
        assert f"Order {first.order_ref} was cancelled: its picks are off the list" in text_of(
            app, "#notice"
        )
        assert app.bells > bells
        task = screen.shown.task
        assert task is not None
        assert task.order_ref != first.order_ref
        assert step_of(screen) is Step.LOCATION
        # An order partly picked into its tote: the picker takes the items out again.
        await pick_current(pilot, app, engine)
        assert text_of(app, "#notice") == ""
        view = screen.shown.view
        assert view is not None
        cancel_order(engine, view, task.order_ref)
        await until(pilot, lambda: "was cancelled" in text_of(app, "#notice"), "the notice")
        assert (
            f"Order {task.order_ref} was cancelled: take its items out of tote {task.tote} "
            "and put them on the exceptions shelf"
        ) in text_of(app, "#notice")
        after = screen.shown.task
        assert after is not None
        assert after.order_ref != task.order_ref
        # The picker carries on with the rest of the list.
        await pick_current(pilot, app, engine)


# --- two stations at once ---------------------------------------------------------------


@pytest.mark.asyncio
async def test_two_stations_never_get_the_same_list(floor: Engine, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = make_app(floor, scanner(tmp_path / "a"), "PICK-01")
    two = make_app(floor, scanner(tmp_path / "b"), "PICK-02")
    held: list[tuple[int, int]] = []

    def shown(app: StationApp) -> int:
        view = pick_screen(app).shown.view
        assert view is not None
        return view.id

    async with one.run_test(size=(80, 24)) as p1, two.run_test(size=(80, 24)) as p2:
        await asyncio.gather(
            logged_in_with_list(p1, one, "U1001", "1111"),
            logged_in_with_list(p2, two, "U1002", "1112"),
        )
        held.append((shown(one), shown(two)))
        for _ in range(3):
            # Both pause, then both claim at once: each gets one of the two lists.
            await asyncio.gather(act(p1, one, "f9"), act(p2, two, "f9"))
            await asyncio.gather(act(p1, one, "f5"), act(p2, two, "f5"))
            held.append((shown(one), shown(two)))
    for a, b in held:
        assert a != b
    with UnitOfWork(floor, read_only=True) as uow:
        claimed = uow.session.execute(
            select(PickList.id, PickList.claimed_by).where(
                PickList.status == PickListStatus.CLAIMED
            )
        ).all()
    assert len(claimed) == 2
    assert len({c.claimed_by for c in claimed}) == 2


# --- snapshots at 80x24 ---------------------------------------------------------------


@pytest.mark.asyncio
async def test_snapshots(sqlite_floor: Engine) -> None:
    engine = sqlite_floor
    # Another picker holds the demo's first list (one tote): this station gets one with more.
    other = service_login(engine, "PICK-02", "pick", "BADGE-U1002", "1112")
    assert station.claim_next(engine, other) is not None
    app = make_app(engine, keyboard(), clock=lambda: FROZEN)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LoginScreen), "the login screen")
        check_snapshot(app, "login")
        await logged_in_with_list(pilot, app, "U1001", "1111")
        screen = pick_screen(app)
        view = screen.shown.view
        assert view is not None
        assert len(view.totes) > 1
        await scan(pilot, app, tote_for(view, 1))
        check_snapshot(app, "totes")
        await set_up_totes(pilot, app)
        task = screen.shown.task
        assert task is not None
        check_snapshot(app, "task")
        await pilot.press("f7")
        await until(pilot, lambda: app.screen is not screen, "the short-pick choice")
        check_snapshot(app, "short")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "back to the task")
        await scan(pilot, app, task.location_barcode)
        await scan(pilot, app, "5012345999999")
        await until(pilot, lambda: not screen.has_class("refused"), "the flash to end")
        check_snapshot(app, "refusal")
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        check_snapshot(app, "help")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "help closed")


@pytest.mark.asyncio
async def test_a_site_keymap_moves_keys_by_binding_id(sqlite_floor: Engine) -> None:
    app = make_app(sqlite_floor, keyboard(), keymap={"pick.short": "f4", "app.help": "f2"})
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)
        await logged_in_with_list(pilot, app, "U1001", "1111")
        await set_up_totes(pilot, app)
        screen = pick_screen(app)
        assert step_of(screen) is Step.LOCATION
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help on F2")
        table = text_of(app, "#table")
        rows = {tuple(line.split()[:2]) for line in table.splitlines()}
        assert ("F4", "pick.short") in rows, table
        assert ("F2", "app.help") in rows, table
        assert ("F8", "pick.skip") in rows, table
        assert ("F10", "app.logout") in rows, table
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "help closed")
        await pilot.press("f4")
        await until(pilot, lambda: app.screen is not screen, "the short choice on F4")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "back")
        assert step_of(screen) is Step.LOCATION


# --- the step table drives the footer ---------------------------------------------------


def footer_ids(screen: PickScreen) -> set[str]:
    """The pick keys the footer and help show now (Textual asks ``check_action``)."""
    return {
        active.binding.id
        for active in screen.active_bindings.values()
        if active.binding.id and active.binding.id.startswith("pick.") and active.enabled
    }


@pytest.mark.asyncio
async def test_the_footer_shows_the_keys_the_step_table_enables(sqlite_floor: Engine) -> None:
    engine = sqlite_floor
    app = make_app(engine, keyboard())
    async with app.run_test(size=(80, 24)) as pilot:
        await logged_in_with_list(pilot, app, "U1001", "1111")
        screen = pick_screen(app)
        seen = set()

        def check() -> None:
            step = step_of(screen)
            seen.add(step)
            assert footer_ids(screen) == screen.shown.keys
            assert screen.shown.keys <= set(PICK_STEPS[step].keys)

        check()
        await set_up_totes(pilot, app)
        check()
        task = screen.shown.task
        assert task is not None
        await scan(pilot, app, task.location_barcode)
        check()
        tracked = task.track_serial or task.track_lot or task.track_expiry
        assert ("pick.quantity" in footer_ids(screen)) is not tracked
        for text in item_scans(engine, task):
            await scan(pilot, app, text)
        check()
        await act(pilot, app, "f9")
        check()
        assert seen == set(Step)


@pytest.mark.asyncio
async def test_a_list_is_claimed_by_scanning_its_barcode(
    sqlite_floor: Engine, tmp_path: Path
) -> None:
    engine = sqlite_floor
    app = make_app(engine, scanner(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await logged_in_with_list(pilot, app, "U1001", "1111")
        screen = pick_screen(app)
        first = screen.shown.view
        assert first is not None
        await act(pilot, app, "f9")
        assert step_of(screen) is Step.NO_LIST
        await scan(pilot, app, "LIST-99999")
        assert "scanned LIST-99999: there is no pick list 99999" in text_of(app, "#message")
        await scan(pilot, app, f"LIST-{first.id}")
        assert step_of(screen) is Step.TOTES
        assert f"Pick list {first.id} resumed" in text_of(app, "#message")
        assert list_status(engine, first.id) is PickListStatus.CLAIMED
