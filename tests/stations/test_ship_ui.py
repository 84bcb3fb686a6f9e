"""The station app's ship mode under Pilot at 80x24, on a seeded store whose picker filled
totes and whose packer packed them: a dock door and its carrier (a number not on the list
asked again, Esc back to the dock), a package of another carrier refused, a load left
open, a package loaded and scanned twice, a door and a shelf scanned while loading, a
close-out that ships the order and writes its messages to the outbox, an empty load
cancelled, and a text snapshot of the loading screen.

Scans are bursts of key events as a wedge scanner sends them; the tests wait on the
terminal worker by polling a condition, never with fixed sleeps.
``SHIPFLOOR_UPDATE_SNAPSHOTS=1`` rewrites the snapshots under ``tests/stations/snapshots/``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from textual.pilot import Pilot

from app.hardware.config import StationDevices, load
from app.loading import station as ship
from app.loading.flow import Step
from app.packing.demo import pack_demo_totes
from app.picking.demo import fill_demo_totes
from app.scanning import ScanFeed
from app.terminal import Terminal
from data import ship_station as rows
from data.models import (
    Load,
    LoadStatus,
    Node,
    Order,
    OrderStatus,
    OutboxMessage,
    Package,
    PrintJob,
    Station,
)
from data.uow import UnitOfWork
from stations.app import StationApp
from stations.ship import CarrierModal, ShipScreen, load_lines
from tests.factories import PLAN_AT
from tests.stations.helpers import (
    check_snapshot,
    keyboard,
    login,
    render_text,
    send_burst,
    text_of,
    until,
)

FROZEN = 1000.0
BADGE, PIN = "BADGE-U3001", "3333"


# --- the floor: packages the packer packed ---------------------------------------------------


def packed_floor(engine: Engine) -> list[rows.WaitingPackage]:
    """The demo's picker fills totes and its packer packs them: the EXPRESS packages on
    the floor at WH1 (the demo's orders all go EXPRESS), earliest cut-off first."""
    assert fill_demo_totes(engine) > 0
    assert pack_demo_totes(engine) > 0
    with UnitOfWork(engine, read_only=True) as uow:
        node = uow.session.scalar(select(Node.id).where(Node.code == "WH1"))
        assert node is not None
        found = rows.unloaded_of_carrier(uow.session, node, "EXPRESS", 20)
    assert len(found) >= 2, "the demo packer packed too few EXPRESS packages"
    return found


def devices_file(tmp_path: Path, station: str = "SHIP-01") -> StationDevices:
    """A wedge whose keys count as a scan however slowly Pilot types them; no printers."""
    path = tmp_path / f"{station}-devices.toml"
    path.write_text(
        f'[stations.{station}.scanners.hand]\nkind = "wedge"\nmax_gap_ms = 10000\nmin_length = 1\n'
    )
    return load(path).station(station)


def make_app(
    engine: Engine, devices: StationDevices, *, feed: ScanFeed | None = None, **kw: Any
) -> StationApp:
    terminal = Terminal(engine, devices.station, "ship", devices)
    return StationApp(terminal, feed or ScanFeed.for_station(devices), **kw)


def ship_screen(app: StationApp) -> ShipScreen:
    """The ship screen, under any dialog open over it."""
    screen = next((s for s in app.screen_stack if isinstance(s, ShipScreen)), None)
    assert screen is not None, app.screen_stack
    return screen


def step_of(screen: ShipScreen) -> Step:
    """The step shown now (a call, so a type checker keeps no earlier narrowing)."""
    return screen.shown.step


def loaded_of(screen: ShipScreen) -> int:
    load = screen.shown.load
    assert load is not None, screen.shown.message
    return load.loaded


async def shipper_in(pilot: Pilot[Any], app: StationApp) -> ShipScreen:
    await login(pilot, app, BADGE, PIN)
    await until(pilot, lambda: isinstance(app.screen, ShipScreen), "the ship screen")
    screen = ship_screen(app)
    await until(pilot, lambda: screen.shown.dock is not None and not app.busy, "the dock")
    return screen


async def scan(pilot: Pilot[Any], app: StationApp, text: str) -> None:
    """Scan ``text`` and wait for the ship screen to show the worker's answer."""
    screen = ship_screen(app)
    before = screen.shown
    send_burst(app, text)
    await until(pilot, lambda: screen.shown is not before and not app.busy, f"scan {text!r}")


async def act(pilot: Pilot[Any], app: StationApp, *presses: str) -> None:
    """Press keys (a binding, or an answer in its dialog) and wait for the worker's answer."""
    screen = ship_screen(app)
    before = screen.shown
    await pilot.press(*presses)
    await until(pilot, lambda: screen.shown is not before and not app.busy, f"keys {presses}")


async def door_and_carrier(pilot: Pilot[Any], app: StationApp, door: str, number: str) -> None:
    """Scan the door, wait for the carrier question and answer it with ``number``."""
    await scan(pilot, app, door)
    await until(pilot, lambda: isinstance(app.screen, CarrierModal), "the carrier question")
    await act(pilot, app, number, "enter")
    assert step_of(ship_screen(app)) is Step.LOADING, ship_screen(app).shown.message


def keys_shown(screen: ShipScreen) -> set[str]:
    """The ship keys the footer and help show now (Textual asks ``check_action``)."""
    return {
        active.binding.id
        for active in screen.active_bindings.values()
        if active.binding.id and active.binding.id.startswith("ship.") and active.enabled
    }


def loads(engine: Engine) -> list[tuple[str, str, LoadStatus, int | None]]:
    """(door, carrier, status, manifest) of every load, oldest first."""
    with UnitOfWork(engine, read_only=True) as uow:
        found = uow.session.execute(
            select(Load.door, Load.carrier, Load.status, Load.manifest_id).order_by(Load.id)
        ).all()
    return [(r.door, r.carrier, r.status, r.manifest_id) for r in found]


# --- a load from the door to its close-out -------------------------------------------------


@pytest.mark.asyncio
async def test_a_door_its_carrier_a_package_and_the_close_out(
    floor: Engine, tmp_path: Path
) -> None:
    engine = floor
    first, second = packed_floor(engine)[:2]
    app = make_app(engine, devices_file(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await shipper_in(pilot, app)
        assert step_of(screen) is Step.DOCK
        assert "Scan a dock door's barcode to load a carrier there" in text_of(app, "#step")
        assert "No load chosen" in text_of(app, "#load")
        work = text_of(app, "#work")
        assert "DOCK-1: free · DOCK-2: free · DOCK-3: free · DOCK-4: free" in work
        assert "EXPRESS" in work
        assert keys_shown(screen) == {"ship.print", "ship.refresh"}

        # A package before its door: refused, naming it, with the bell and the flash.
        bells = app.bells
        await scan(pilot, app, first.sscc)
        message = text_of(app, "#message")
        assert f"expected a dock door, scanned package '{first.sscc}'" in message
        assert "scan the door the vehicle is at first" in message
        assert app.bells == bells + 1
        assert screen.has_class("refused")
        assert step_of(screen) is Step.DOCK

        # The door: no load is open there, so its carrier is asked.
        await scan(pilot, app, "LOC-DOCK-1")
        await until(pilot, lambda: isinstance(app.screen, CarrierModal), "the carrier question")
        assert step_of(screen) is Step.CARRIER
        shown = render_text(app)
        assert "Which carrier loads at DOCK-1?" in shown
        assert "1  Ground Parcel (GROUND)" in shown
        assert "2  Express Courier (EXPRESS)" in shown
        question = app.screen

        # A number not on the list keeps the question open and says so.
        await pilot.press("7", "enter")
        await until(
            pilot, lambda: "7 is not on the list" in render_text(app), "the wrong number said"
        )
        assert "7 is not on the list: type 1 to 3 and Enter" in render_text(app)
        assert app.screen is question
        assert step_of(screen) is Step.CARRIER
        assert loads(engine) == []

        # Esc: no carrier for this door after all; back to the dock, nothing opened.
        await act(pilot, app, "escape")
        await until(pilot, lambda: step_of(screen) is Step.DOCK, "back to the dock")
        assert app.screen is screen
        assert "Scan a dock door's barcode to load a carrier there" in text_of(app, "#step")
        assert "DOCK-1: free · DOCK-2: free" in text_of(app, "#work")
        assert keys_shown(screen) == {"ship.print", "ship.refresh"}
        assert loads(engine) == []

        # The door again: the question again.
        await scan(pilot, app, "LOC-DOCK-1")
        await until(pilot, lambda: isinstance(app.screen, CarrierModal), "the carrier question")
        assert step_of(screen) is Step.CARRIER

        # 1: GROUND. The demo's packages go EXPRESS: one scanned onto it is refused.
        await act(pilot, app, "1", "enter")
        assert app.screen is screen
        assert step_of(screen) is Step.LOADING, screen.shown.message
        assert "Ground Parcel load open at DOCK-1" in text_of(app, "#message")
        assert "Ground Parcel (GROUND) at DOCK-1 · opened by" in text_of(app, "#load")
        assert "0 loaded" in text_of(app, "#work")
        assert keys_shown(screen) == {"ship.close", "ship.leave", "ship.refresh"}
        await scan(pilot, app, f"00{first.sscc}")
        message = text_of(app, "#message")
        assert f"package {first.sscc} ({first.order_ref}, box 1)" in message
        assert "goes with Express Courier (EXPRESS)" in message
        assert loaded_of(screen) == 0

        # F7: back to the dock, the GROUND load stays open at DOCK-1.
        await act(pilot, app, "f7")
        assert step_of(screen) is Step.DOCK
        work = text_of(app, "#work")
        assert "The Ground Parcel load at DOCK-1 stays open with 0 package(s)" in work
        assert "DOCK-1: GROUND loading · DOCK-2: free" in work

        # DOCK-2 for EXPRESS (2), and a package onto it.
        await door_and_carrier(pilot, app, "LOC-DOCK-2", "2")
        assert "Express Courier (EXPRESS) at DOCK-2" in text_of(app, "#load")
        await scan(pilot, app, f"00{first.sscc}")
        assert screen.shown.level == "ok", screen.shown.message
        assert f"Loaded {first.order_ref} box 1 of 1 · {first.tracking_number}" in text_of(
            app, "#message"
        )
        assert loaded_of(screen) == 1
        work = text_of(app, "#work")
        assert "1 loaded ·" in work
        assert "Loaded, last first: order, box, service, tracking number" in work
        assert "Still on the floor: order, box, service, SSCC, cut-off" in work
        assert first.tracking_number in work
        assert "(1 loaded," in text_of(app, "#step")
        assert keys_shown(screen) == {"ship.unload", "ship.close", "ship.leave", "ship.refresh"}

        # The same package again: refused, still one on the load.
        bells = app.bells
        await scan(pilot, app, first.sscc)
        message = text_of(app, "#message")
        assert f"package {first.sscc} ({first.order_ref}, box 1) is on this load already" in (
            message
        )
        assert app.bells == bells + 1
        assert loaded_of(screen) == 1

        # Another door while loading: refused, saying how to load there; the load stays.
        await scan(pilot, app, "LOC-DOCK-3")
        message = text_of(app, "#message")
        assert "expected a package for Express Courier, scanned door 'LOC-DOCK-3'" in message
        assert "leave this load with F7 first (it stays open)" in message
        assert step_of(screen) is Step.LOADING
        assert loaded_of(screen) == 1

        # A shelf's label while loading: refused as no package's label.
        await scan(pilot, app, "LOC-PROBLEM")
        message = text_of(app, "#message")
        assert "expected a package for Express Courier, scanned 'LOC-PROBLEM'" in message
        assert "that is a shelf's barcode, not a package's label" in message
        assert step_of(screen) is Step.LOADING
        assert loaded_of(screen) == 1

        # F5 asks, F6 closes out.
        await act(pilot, app, "f5")
        assert step_of(screen) is Step.CONFIRM
        assert "Close out 1 package(s) for Express Courier at DOCK-2? F6 confirms, F9" in (
            text_of(app, "#step")
        )
        assert keys_shown(screen) == {"ship.confirm", "ship.back"}
        await act(pilot, app, "f6")
        await until(pilot, lambda: step_of(screen) is Step.DOCK, "the close-out")
        message = text_of(app, "#message")
        assert "Give the driver manifest M-" in message
        assert "to sign; scan the next door to load" in message
        work = text_of(app, "#work")
        assert "Express Courier at DOCK-2 closed out: manifest M-" in work
        assert "1 package(s), 1 order(s) shipped" in work
        assert "DOCK-1: GROUND loading · DOCK-2: free" in work

    with UnitOfWork(engine, read_only=True) as uow:
        s = uow.session
        manifest = s.scalar(select(Package.manifest_id).where(Package.sscc == first.sscc))
        other = s.scalar(select(Package.manifest_id).where(Package.sscc == second.sscc))
        order_id = rows.find_packages(s, sscc=first.sscc)[0].order_id
        status = s.scalar(select(Order.status).where(Order.id == order_id))
        outbox = s.execute(
            select(OutboxMessage.topic, OutboxMessage.payload).where(
                OutboxMessage.order_id == order_id
            )
        ).all()
        manifests = s.execute(
            select(PrintJob.document, PrintJob.reference)
            .join(Station, Station.id == PrintJob.station_id)
            .where(Station.code == "SHIP-01")
        ).all()
    assert manifest is not None
    assert f"manifest M-{manifest} to sign" in message
    assert other is None  # only what was loaded left
    assert status is OrderStatus.SHIPPED
    shipped = [json.loads(payload) for topic, payload in outbox if topic == "channel.shipped"]
    assert len(shipped) == 1, outbox
    assert shipped[0]["manifest"] == f"M-{manifest}"
    assert shipped[0]["order"] == first.order_ref
    assert shipped[0]["packages"] == [
        {"sscc": first.sscc, "tracking_number": first.tracking_number}
    ]
    assert [tuple(m) for m in manifests] == [("manifest", f"M-{manifest}")]
    assert loads(engine) == [
        ("DOCK-1", "GROUND", LoadStatus.OPEN, None),
        ("DOCK-2", "EXPRESS", LoadStatus.CLOSED, manifest),
    ]


@pytest.mark.asyncio
async def test_taking_a_package_off_the_load(sqlite_floor: Engine, tmp_path: Path) -> None:
    engine = sqlite_floor
    first, second = packed_floor(engine)[:2]
    app = make_app(engine, devices_file(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await shipper_in(pilot, app)
        await door_and_carrier(pilot, app, "LOC-DOCK-3", "2")
        await scan(pilot, app, first.sscc)
        await scan(pilot, app, second.sscc)
        assert loaded_of(screen) == 2
        await act(pilot, app, "f4")
        assert step_of(screen) is Step.UNLOAD
        assert "Scan the package to take off DOCK-3" in text_of(app, "#step")
        assert keys_shown(screen) == {"ship.back", "ship.refresh"}
        await scan(pilot, app, first.sscc)
        assert step_of(screen) is Step.LOADING
        assert f"Taken off: {first.order_ref} box 1 of 1 ({first.sscc})" in text_of(app, "#message")
        assert loaded_of(screen) == 1
    with UnitOfWork(engine, read_only=True) as uow:
        on = uow.session.execute(
            select(Package.sscc, Package.load_id).where(Package.sscc.in_([first.sscc, second.sscc]))
        ).all()
    assert {sscc: load_id is not None for sscc, load_id in on} == {
        first.sscc: False,
        second.sscc: True,
    }


@pytest.mark.asyncio
async def test_cancelling_an_empty_load(sqlite_floor: Engine, tmp_path: Path) -> None:
    engine = sqlite_floor
    packed_floor(engine)
    app = make_app(engine, devices_file(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await shipper_in(pilot, app)
        await door_and_carrier(pilot, app, "LOC-DOCK-4", "2")
        assert loaded_of(screen) == 0
        assert keys_shown(screen) == {"ship.close", "ship.leave", "ship.refresh"}
        await act(pilot, app, "f5")
        assert step_of(screen) is Step.CONFIRM
        assert (
            "Nothing is loaded on the Express Courier load at DOCK-4: F6 cancels it (the door "
            "is free again), F9 goes on loading"
        ) in text_of(app, "#message")
        assert keys_shown(screen) == {"ship.confirm", "ship.back"}
        await act(pilot, app, "f6")
        await until(pilot, lambda: step_of(screen) is Step.DOCK, "the cancel")
        assert "The empty Express Courier load at DOCK-4 is cancelled" in text_of(app, "#message")
        assert "DOCK-4: free" in text_of(app, "#work")
    assert loads(engine) == [("DOCK-4", "EXPRESS", LoadStatus.CANCELLED, None)]


# --- the load's lists --------------------------------------------------------------------------


def waiting(n: int, order_ref: str, cutoff: datetime, load_id: int | None) -> rows.WaitingPackage:
    return rows.WaitingPackage(
        id=n,
        sscc=f"0501234500000000{n:02d}",
        tracking_number=f"EX{n:011d}",
        carrier="EXPRESS",
        order_ref=order_ref,
        shipment_id=n,
        number=1,
        cutoff_at=cutoff,
        load_id=load_id,
        service="2DAY",
    )


def test_the_load_lists_cut_long_order_refs_and_name_the_day_of_a_later_cut_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = datetime(2026, 12, 3, 11, 0, tzinfo=UTC)  # a Thursday
    monkeypatch.setattr(ship, "utcnow", lambda: now)
    today, friday = now.replace(hour=17), now.replace(day=4, hour=16, minute=30)
    long_ref = "marketplace/ORDER-123456789"  # 27 characters
    view = ship.LoadView(
        id=1,
        carrier="EXPRESS",
        carrier_name="Express Courier",
        door="DOCK-1",
        status=LoadStatus.OPEN,
        opened_by="U3001",
        packages=(waiting(1, long_ref, today, 1),),
        to_load=2,
        floor=(waiting(2, "web/WEB-2", today, None), waiting(3, long_ref, friday, None)),
        counts=(),
        past_cutoff=0,
    )
    lines = load_lines(view, "UTC")
    cut = "marketplace/ORDER-123…"  # 22 wide, cut visibly
    assert len(cut) == 22
    assert lines[1:] == [
        "Loaded, last first: order, box, service, tracking number",
        f"  {cut}  1 2DAY      EX00000000001",
        "Still on the floor: order, box, service, SSCC, cut-off",
        f"  {'web/WEB-2':<22}  1 2DAY      050123450000000002 17:00",
        f"  {cut}  1 2DAY      050123450000000003 Fri 16:30",
    ]


# --- the snapshot at 80x24 ---------------------------------------------------------------------


@pytest.mark.asyncio
async def test_snapshot(
    sqlite_floor: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loading screen at 11:00 at the node, before the demo's 17:00 cut-off (the count
    past cut-off depends on the time the station reads the load at)."""
    engine = sqlite_floor
    monkeypatch.setattr(ship, "utcnow", lambda: PLAN_AT + timedelta(hours=2))
    first = packed_floor(engine)[0]
    app = make_app(engine, devices_file(tmp_path), feed=keyboard(), clock=lambda: FROZEN)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await shipper_in(pilot, app)
        await door_and_carrier(pilot, app, "LOC-DOCK-1", "2")
        await scan(pilot, app, first.sscc)
        assert loaded_of(screen) == 1, screen.shown.message
        await until(pilot, lambda: not screen.has_class("refused"), "the flash to end")
        check_snapshot(app, "ship-loading")
