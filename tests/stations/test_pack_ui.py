"""The station app's pack mode under Pilot at 80x24, on a seeded store whose pickers have
filled totes: a whole order with every wrong scan, a weight out of tolerance twice let go
by a supervisor, a missing unit, setting an order aside, two benches after one
order, a bench that loses its order, printers that print, refuse and print again, and
text snapshots of the main states.

Scans are bursts of key events as a wedge scanner sends them; the tests wait on the
terminal worker by polling a condition, never with fixed sleeps.
``SHIPFLOOR_UPDATE_SNAPSHOTS=1`` rewrites the snapshots under ``tests/stations/snapshots/``.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from textual.pilot import Pilot

from app.hardware.config import StationDevices, load
from app.packing import cartonize
from app.packing import station as pack
from app.packing.flow import PACK_STEPS, Step, suggested_box
from app.packing.station import Bench, PackLine
from app.scanning import ScanFeed
from app.terminal import Terminal
from data.demo import DEMO_EPOCH
from data.models import (
    Order,
    OrderStatus,
    Package,
    PackEvent,
    PrintJob,
    PrintJobStatus,
    Shipment,
    ShipmentStatus,
    Station,
)
from data.uow import UnitOfWork
from devices.sim_printer import PrinterSimulator
from stations.app import StationApp
from stations.help import HelpScreen
from stations.login import LoginScreen
from stations.pack import LINE_ROWS, OverrideModal, PackScreen, WeightModal, _line_rows
from tests import packfloor
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


# --- the floor: totes the pickers filled ---------------------------------------------------


def orders_in_totes(engine: Engine, lists: int = 2) -> list[Bench]:
    """The orders that came in one tote each from ``lists`` whole pick lists picked, as a
    pack bench sees them (each put back for anyone to pack)."""
    views = packfloor.pick_lists(engine, lists)
    who = packfloor.packer(engine)
    cat, ship = packfloor.setup(engine)
    found = []
    for tote in packfloor.single_tote_orders(engine, views):
        bench = pack.open_tote(engine, who, tote, cat, ship)
        pack.release(engine, who, bench, "looked")
        found.append(bench)
    assert len(found) >= 3, "the demo floor has too few orders in totes"
    return found


def box_barcode(engine: Engine, bench: Bench) -> str:
    code = suggested_box(bench)
    assert code is not None
    assert code != "own container"
    barcodes = {box: barcode for barcode, box in pack.catalogue(engine).barcodes.items()}
    return barcodes[code]


def devices_file(tmp_path: Path, station: str = "PACK-01", printers: str = "") -> StationDevices:
    """A device file as a site writes it: a wedge whose keys count as a scan however slowly
    Pilot types them, and the given printer tables."""
    path = tmp_path / f"{station}-devices.toml"
    path.write_text(
        f'[stations.{station}.scanners.hand]\nkind = "wedge"\nmax_gap_ms = 10000\n'
        f"min_length = 1\n{printers}"
    )
    return load(path).station(station)


def make_app(
    engine: Engine,
    devices: StationDevices,
    *,
    feed: ScanFeed | None = None,
    **kw: Any,
) -> StationApp:
    terminal = Terminal(engine, devices.station, "pack", devices)
    return StationApp(terminal, feed or ScanFeed.for_station(devices), **kw)


def pack_screen(app: StationApp) -> PackScreen:
    """The pack screen, under any dialog open over it."""
    screen = next((s for s in app.screen_stack if isinstance(s, PackScreen)), None)
    assert screen is not None, app.screen_stack
    return screen


def step_of(screen: PackScreen) -> Step:
    """The step shown now (a call, so a type checker keeps no earlier narrowing)."""
    return screen.shown.step


def level_of(screen: PackScreen) -> str:
    return screen.shown.level


async def packer_in(
    pilot: Pilot[Any], app: StationApp, badge: str = "BADGE-U2001", pin: str = "2222"
) -> PackScreen:
    await login(pilot, app, badge, pin)
    await until(pilot, lambda: isinstance(app.screen, PackScreen), "the pack screen")
    return pack_screen(app)


async def scan(pilot: Pilot[Any], app: StationApp, text: str) -> None:
    """Scan ``text`` and wait for the pack screen to show the worker's answer."""
    screen = pack_screen(app)
    before = screen.shown
    send_burst(app, text)
    await until(pilot, lambda: screen.shown is not before and not app.busy, f"scan {text!r}")


async def act(pilot: Pilot[Any], app: StationApp, *presses: str) -> None:
    """Press keys (a binding, and answers in its dialog) and wait for the worker's answer."""
    screen = pack_screen(app)
    before = screen.shown
    await pilot.press(*presses)
    await until(pilot, lambda: screen.shown is not before and not app.busy, f"keys {presses}")


async def key_weight(pilot: Pilot[Any], app: StationApp, grams: int) -> None:
    """F7, the grams and Enter, as a packer at a bench without a scale keys them."""
    screen = pack_screen(app)
    await pilot.press("f7")
    await until(pilot, lambda: isinstance(app.screen, WeightModal), "the weight field")
    await act(pilot, app, *str(grams), "enter")
    assert app.screen is screen


async def box_with_every_unit(
    pilot: Pilot[Any], app: StationApp, engine: Engine, bench: Bench
) -> None:
    """From the tote's scan: the suggested box, every unit into it, closed (F5)."""
    screen = pack_screen(app)
    await scan(pilot, app, box_barcode(engine, bench))
    assert step_of(screen) is Step.ITEMS, screen.shown.message
    for text in packfloor.unit_scans(bench):
        await scan(pilot, app, text)
        assert level_of(screen) == "ok", screen.shown.message
    await act(pilot, app, "f5")
    assert step_of(screen) is Step.WEIGH, screen.shown.message


async def pack_order(pilot: Pilot[Any], app: StationApp, engine: Engine, bench: Bench) -> None:
    """The whole order, weighed as it should weigh."""
    screen = pack_screen(app)
    await scan(pilot, app, bench.totes[0])
    await box_with_every_unit(pilot, app, engine, bench)
    await key_weight(pilot, app, screen.shown.expected_g)
    assert step_of(screen) is Step.NO_TOTE, screen.shown.message


def keys_shown(screen: PackScreen) -> set[str]:
    """The pack keys the footer and help show now (Textual asks ``check_action``)."""
    return {
        active.binding.id
        for active in screen.active_bindings.values()
        if active.binding.id and active.binding.id.startswith("pack.") and active.enabled
    }


def shipments(engine: Engine, bench: Bench) -> list[Shipment]:
    with UnitOfWork(engine, read_only=True) as uow:
        found = uow.session.scalars(
            select(Shipment).where(Shipment.id.in_(bench.shipment_ids)).order_by(Shipment.id)
        ).all()
        uow.session.expunge_all()
    return list(found)


def events(engine: Engine, bench: Bench) -> list[str]:
    with UnitOfWork(engine, read_only=True) as uow:
        return list(
            uow.session.scalars(
                select(PackEvent.kind)
                .where(PackEvent.shipment_id == bench.lead)
                .order_by(PackEvent.id)
            )
        )


def print_jobs(engine: Engine, station: str = "PACK-01") -> list[tuple[str, str, PrintJobStatus]]:
    """(document, printer, status) of the station's print jobs, oldest first."""
    with UnitOfWork(engine, read_only=True) as uow:
        rows = uow.session.execute(
            select(PrintJob.document, PrintJob.printer, PrintJob.status)
            .join(Station, Station.id == PrintJob.station_id)
            .where(Station.code == station)
            .order_by(PrintJob.id)
        ).all()
    return [(r.document, r.printer, r.status) for r in rows]


# --- a whole order -------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_whole_order_with_every_wrong_scan(floor: Engine, tmp_path: Path) -> None:
    engine = floor
    found = orders_in_totes(engine)
    # The order with the most lines, a lot-tracked one among them if any.
    bench = max(found, key=lambda b: (any(ln.track_lot for ln in b.lines), len(b.lines)))
    other = next(
        ln.gtin
        for b in found
        for ln in b.lines
        if ln.gtin and ln.gtin not in {mine.gtin for mine in bench.lines}
    )
    tote = bench.totes[0]
    box = suggested_box(bench)
    app = make_app(engine, devices_file(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await packer_in(pilot, app)
        assert step_of(screen) is Step.NO_TOTE
        assert "Scan a tote to start packing" in text_of(app, "#headline")
        assert keys_shown(screen) == {"pack.print"}

        # A tote with nothing picked in it: refused, with the bell and the flash.
        bells = app.bells
        await scan(pilot, app, "TOTE-99999")
        assert "expected a tote with picked items, scanned TOTE-99999" in text_of(app, "#message")
        assert app.bells == bells + 1
        assert screen.has_class("refused")
        assert step_of(screen) is Step.NO_TOTE

        await scan(pilot, app, tote)
        assert step_of(screen) is Step.BOX, screen.shown.message
        order_line = text_of(app, "#order")
        assert bench.order_ref in order_line
        assert tote in order_line
        lines = text_of(app, "#lines")
        for ln in bench.lines:
            assert ln.sku in lines
        assert f"Suggested: {box} for {bench.units_left} unit(s)" in text_of(app, "#suggestion")
        assert f"Scan a box: {box} suggested" in text_of(app, "#step")
        assert keys_shown(screen) == {"pack.problem", "pack.aside"}

        # No such box; an item before its box.
        await scan(pilot, app, "BOX-ZZ")
        assert "expected a box's barcode" in text_of(app, "#message")
        assert "scanned 'BOX-ZZ'" in text_of(app, "#message")
        units = packfloor.unit_scans(bench)
        await scan(pilot, app, units[0])
        assert "expected a box's barcode first" in text_of(app, "#message")
        assert step_of(screen) is Step.BOX

        await scan(pilot, app, box_barcode(engine, bench))
        assert step_of(screen) is Step.ITEMS
        assert f"Scan each unit into {box} (0 in it, {bench.units_left} left)" in text_of(
            app, "#step"
        )
        # A shelf's label, an item of another order, a unit of another lot: each refused.
        await scan(pilot, app, "LOC-A01-01-1")
        assert f"expected an item of {bench.order_ref}" in text_of(app, "#message")
        assert "scanned a shelf label" in text_of(app, "#message")
        await scan(pilot, app, other)
        assert f"is not in order {bench.order_ref}" in text_of(app, "#message")
        lot_line = next((ln for ln in bench.lines if ln.track_lot and ln.lots), None)
        if lot_line is not None:
            assert lot_line.gtin is not None
            await scan(pilot, app, f"01{lot_line.gtin.zfill(14)}10NOTPICKED")
            assert "wrong lot: expected lot" in text_of(app, "#message")
        assert screen.shown.counted == 0

        for n, text in enumerate(units, 1):
            await scan(pilot, app, text)
            assert screen.shown.counted == n, screen.shown.message
        assert keys_shown(screen) == {"pack.close", "pack.problem", "pack.aside"}
        assert "every unit is in: F5 closes the box" in text_of(app, "#message")
        assert text_of(app, "#lines").count("✓") == len(bench.lines)
        # One unit too many.
        await scan(pilot, app, units[0])
        assert "too many" in text_of(app, "#message")
        assert screen.shown.counted == len(units)

        await act(pilot, app, "f5")
        assert step_of(screen) is Step.WEIGH
        expected = screen.shown.expected_g
        assert expected > 0
        assert f"expected {expected:,} g" in text_of(app, "#weight")
        assert f"Close {box} and put it on the scale: F7 keys its weight" in text_of(app, "#step")
        assert keys_shown(screen) == {"pack.keyweight", "pack.back", "pack.problem"}
        assert "open" in events(engine, bench)
        assert "box" not in events(engine, bench)

        await key_weight(pilot, app, expected)
        assert step_of(screen) is Step.NO_TOTE
        assert f"Order {bench.order_ref} packed — scan the next tote" in text_of(app, "#headline")
        message = text_of(app, "#message")
        assert f"Box 1 closed: {expected:,} g" in message
        assert f"Order packed; tote(s) {tote} free for picking" in message
        assert "has no printers in its device file: the documents wait in its print queue" in (
            text_of(app, "#prints")
        )
        assert keys_shown(screen) == {"pack.print"}

        # The tote is free: scanned again, nothing is in it for packing.
        await scan(pilot, app, tote)
        assert f"expected a tote with picked items, scanned {tote}" in text_of(app, "#message")

    assert all(s.status is ShipmentStatus.PACKED for s in shipments(engine, bench))
    assert all(s.packing_by is None for s in shipments(engine, bench))
    with UnitOfWork(engine, read_only=True) as uow:
        status = uow.session.scalar(select(Order.status).where(Order.id == bench.order_id))
        package = uow.session.execute(
            select(
                Package.box,
                Package.suggested_box,
                Package.weight_g,
                Package.expected_weight_g,
                Package.weight_override_by,
            ).where(Package.shipment_id == bench.lead)
        ).one()
    assert status is OrderStatus.PACKED
    assert tuple(package) == (box, box, expected, expected, None)
    assert print_jobs(engine) == [
        ("label", "label", PrintJobStatus.QUEUED),
        ("packing_slip", "documents", PrintJobStatus.QUEUED),
        ("invoice", "documents", PrintJobStatus.QUEUED),
    ]
    assert events(engine, bench)[-2:] == ["box", "packed"]


# --- weighing ------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_out_of_tolerance_twice_then_a_supervisor_lets_it_go(
    sqlite_floor: Engine, tmp_path: Path
) -> None:
    engine = sqlite_floor
    bench = orders_in_totes(engine)[0]
    app = make_app(engine, devices_file(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await packer_in(pilot, app)
        await scan(pilot, app, bench.totes[0])
        await box_with_every_unit(pilot, app, engine, bench)
        expected = screen.shown.expected_g
        heavy = expected * 2 + 500

        await key_weight(pilot, app, heavy)
        assert step_of(screen) is Step.WEIGH
        assert "Out of tolerance: the scale reads" in text_of(app, "#message")
        assert "then weigh it again" in text_of(app, "#message")
        assert f"scale {heavy:,} g" in text_of(app, "#weight")
        # No override before the box is weighed again: F8 does nothing.
        assert "pack.override" not in keys_shown(screen)
        await pilot.press("f8")
        await pilot.pause()
        assert app.screen is screen

        await key_weight(pilot, app, heavy)
        assert "Still out of tolerance" in text_of(app, "#message")
        assert "a supervisor may let it go with F8" in text_of(app, "#message")
        assert "pack.override" in keys_shown(screen)

        # The packer's own badge is no supervisor's.
        await pilot.press("f8")
        await until(pilot, lambda: isinstance(app.screen, OverrideModal), "the override")
        await act(pilot, app, *"BADGE-U2001", "enter", *"2222", "enter")
        assert "is not a supervisor" in text_of(app, "#message")
        assert step_of(screen) is Step.WEIGH
        # Esc leaves the box on the scale.
        await pilot.press("f8")
        await until(pilot, lambda: isinstance(app.screen, OverrideModal), "the override")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "back to the box")
        assert step_of(screen) is Step.WEIGH

        await pilot.press("f8")
        await until(pilot, lambda: isinstance(app.screen, OverrideModal), "the override")
        await act(pilot, app, *"BADGE-U5001", "enter", *"5555", "enter")
        assert step_of(screen) is Step.NO_TOTE, screen.shown.message
        assert f"{heavy:,} g, let go by Sue Supervisor" in text_of(app, "#message")

    with UnitOfWork(engine, read_only=True) as uow:
        package = uow.session.execute(
            select(Package.weight_g, Package.expected_weight_g, Package.weight_override_by).where(
                Package.shipment_id == bench.lead
            )
        ).one()
    assert package.weight_g == heavy
    assert package.expected_weight_g == expected
    assert package.weight_override_by is not None
    assert "override" in events(engine, bench)


# --- problems, aside, two benches, a bench that loses its order -----------------------------


@pytest.mark.asyncio
async def test_a_missing_unit_sends_the_order_to_the_problem_shelf(
    sqlite_floor: Engine, tmp_path: Path
) -> None:
    engine = sqlite_floor
    bench = next(b for b in orders_in_totes(engine) if len(b.lines) > 1)
    second = bench.lines[1]
    app = make_app(engine, devices_file(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await packer_in(pilot, app)
        await scan(pilot, app, bench.totes[0])
        await scan(pilot, app, box_barcode(engine, bench))
        await scan(pilot, app, packfloor.unit_scans(bench)[0])
        await pilot.press("f4")
        await until(pilot, lambda: app.screen is not screen, "missing or damaged?")
        await pilot.press("1", "enter")
        await until(
            pilot, lambda: "Which item is missing?" in render_text(app), "which item is missing?"
        )
        await act(pilot, app, "2", "enter")
        assert step_of(screen) is Step.NO_TOTE
        assert f"Order {bench.order_ref} is on the problem shelf" in text_of(app, "#headline")
        message = text_of(app, "#message")
        assert f"{second.sku} missing: take every tote of {bench.order_ref}" in message
        assert "the supervisor is told" in message
        assert "Put the 1 unit(s) of the open box back in the tote." in message

        await scan(pilot, app, bench.totes[0])
        assert f"order {bench.order_ref} is on the problem shelf" in text_of(app, "#message")
        assert step_of(screen) is Step.NO_TOTE

    (shipment,) = shipments(engine, bench)
    assert shipment.problem is not None
    assert f"a unit is missing from the tote: {second.sku}" in shipment.problem
    assert shipment.packing_by is None
    assert events(engine, bench)[-1] == "missing"


@pytest.mark.asyncio
async def test_two_benches_never_pack_the_same_order(floor: Engine, tmp_path: Path) -> None:
    engine = floor
    bench = orders_in_totes(engine)[0]
    tote = bench.totes[0]
    one = make_app(engine, devices_file(tmp_path, "PACK-01"))
    two = make_app(engine, devices_file(tmp_path, "PACK-02"))
    async with one.run_test(size=(80, 24)) as p1, two.run_test(size=(80, 24)) as p2:
        first, second = await asyncio.gather(
            packer_in(p1, one), packer_in(p2, two, "BADGE-U5001", "5555")
        )
        await scan(p1, one, tote)
        assert step_of(first) is Step.BOX
        await scan(p2, two, tote)
        assert step_of(second) is Step.NO_TOTE
        assert (
            f"order {bench.order_ref} is being packed by Pam Packer at PACK-01: leave tote "
            f"{tote} there"
        ) in text_of(two, "#message")

        # Set aside (F3) with a unit in the box: anyone can go on with it.
        await scan(p1, one, box_barcode(engine, bench))
        await scan(p1, one, packfloor.unit_scans(bench)[0])
        await act(p1, one, "f3")
        assert step_of(first) is Step.NO_TOTE
        assert f"Order {bench.order_ref} set aside" in text_of(one, "#headline")
        assert "Put the 1 unit(s) of the open box back in the tote." in text_of(one, "#message")

        await scan(p2, two, tote)
        assert step_of(second) is Step.BOX, second.shown.message
        await scan(p1, one, tote)
        assert "is being packed by Sue Supervisor at PACK-02" in text_of(one, "#message")
    assert events(engine, bench)[-3:] == ["open", "release", "open"]


@pytest.mark.asyncio
async def test_a_bench_that_loses_its_order_says_so_and_logging_out_lets_one_go(
    sqlite_floor: Engine, tmp_path: Path
) -> None:
    engine = sqlite_floor
    bench, later = orders_in_totes(engine)[:2]
    app = make_app(engine, devices_file(tmp_path), heartbeat_every=0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await packer_in(pilot, app)
        await scan(pilot, app, bench.totes[0])
        await scan(pilot, app, box_barcode(engine, bench))
        await scan(pilot, app, packfloor.unit_scans(bench)[0])
        bells = app.bells
        # Taken off the bench in the store (as a supervisor's take-back does).
        with UnitOfWork(engine) as uow:
            uow.session.execute(
                update(Shipment)
                .where(Shipment.id.in_(bench.shipment_ids))
                .values(packing_by=None, packing_station_id=None, packing_seen_at=None)
            )
            uow.commit()
        await until(
            pilot,
            lambda: "was taken off this bench" in text_of(app, "#headline"),
            "the bench to hear of it",
        )
        assert step_of(screen) is Step.NO_TOTE
        assert "nothing more is recorded on it here" in text_of(app, "#message")
        assert "Put the 1 unit(s) of the open box back in the tote." in text_of(app, "#message")
        assert app.bells > bells

        # Logging out (F10) with an order on the bench lets it go for the next packer.
        await scan(pilot, app, later.totes[0])
        assert step_of(screen) is Step.BOX
        assert shipments(engine, later)[0].packing_by is not None
        await pilot.press("f10")
        await until(pilot, lambda: isinstance(app.screen, LoginScreen), "the login screen")
        await until(pilot, lambda: not app.busy, "the log-out")
    assert shipments(engine, later)[0].packing_by is None
    assert events(engine, later)[-1] == "release"


# --- printers ------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_printers_print_refuse_and_print_again(floor: Engine, tmp_path: Path) -> None:
    engine = floor
    first, second = orders_in_totes(engine)[:2]
    (tmp_path / "documents").mkdir()
    with PrinterSimulator() as printer:
        devices = devices_file(
            tmp_path,
            printers=(
                '[stations.PACK-01.printers.label]\nkind = "tcp"\nhost = "127.0.0.1"\n'
                f'port = {printer.port}\ntimeout_s = 2.0\nlanguage = "zpl"\n'
                '[stations.PACK-01.printers.documents]\nkind = "folder"\n'
                f'folder = "{tmp_path / "documents"}"\nlanguage = "pdf"\n'
            ),
        )
        app = make_app(engine, devices)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await packer_in(pilot, app)
            await pack_order(pilot, app, engine, first)
            assert level_of(screen) == "ok", screen.shown.prints
            shown = text_of(app, "#prints")
            assert "→ label: printed" in shown
            assert "→ documents: printed" in shown
            (label,) = printer.wait_for_jobs(1)
            assert label.lstrip().startswith(b"^XA")
            assert len(list((tmp_path / "documents").iterdir())) == 2
            assert [s for _, _, s in print_jobs(engine)] == [PrintJobStatus.PRINTED] * 3

            # The label printer refuses connections: the fault shows, the job stays.
            printer.refuse()
            bells = app.bells
            await pack_order(pilot, app, engine, second)
            assert f"Order {second.order_ref} packed" in text_of(app, "#headline")
            assert level_of(screen) == "warn"
            assert app.bells > bells
            shown = text_of(app, "#prints")
            assert "→ label: not printed" in shown
            assert "it is kept: fix the printer and press F2" in shown
            assert "→ documents: printed" in shown
            assert print_jobs(engine)[3:] == [
                ("label", "label", PrintJobStatus.FAILED),
                ("packing_slip", "documents", PrintJobStatus.PRINTED),
                ("invoice", "documents", PrintJobStatus.PRINTED),
            ]

            # Printer back: F2 sends the label again.
            printer.accept()
            await act(pilot, app, "f2")
            assert "Print jobs sent again" in text_of(app, "#message")
            assert "→ label: printed" in text_of(app, "#prints")
            assert len(printer.wait_for_jobs(2)) == 2
            assert print_jobs(engine)[3][2] is PrintJobStatus.PRINTED
            # Nothing left to send: F2 says so.
            await act(pilot, app, "f2")
            assert "No print job of this station is waiting or failed" in text_of(app, "#message")
    assert len(printer.jobs) == 2


# --- keys, help and snapshots at 80x24 -----------------------------------------------------


@pytest.mark.asyncio
async def test_the_footer_and_help_show_the_keys_the_step_table_enables(
    sqlite_floor: Engine, tmp_path: Path
) -> None:
    engine = sqlite_floor
    bench = orders_in_totes(engine)[0]
    app = make_app(engine, devices_file(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await packer_in(pilot, app)
        seen = set()

        def check() -> None:
            step = screen.shown.step
            seen.add(step)
            assert keys_shown(screen) == screen.shown.keys
            assert screen.shown.keys <= set(PACK_STEPS[step].keys)

        check()
        # A key its step does not enable does nothing (F5 with no box open).
        await pilot.press("f5")
        await pilot.pause()
        assert step_of(screen) is Step.NO_TOTE
        await scan(pilot, app, bench.totes[0])
        check()
        await scan(pilot, app, box_barcode(engine, bench))
        check()
        for text in packfloor.unit_scans(bench):
            await scan(pilot, app, text)
        check()
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        table = text_of(app, "#table")
        rows = {tuple(line.split()[:2]) for line in table.splitlines()}
        assert ("F5", "pack.close") in rows, table
        assert ("F3", "pack.aside") in rows, table
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "help closed")
        await act(pilot, app, "f5")
        check()
        # F9 opens the box again, F5 closes it again.
        await act(pilot, app, "f9")
        assert step_of(screen) is Step.ITEMS
        await act(pilot, app, "f5")
        assert step_of(screen) is Step.WEIGH
        assert seen == set(Step) - {Step.TOTES}


@pytest.mark.asyncio
async def test_snapshots(
    sqlite_floor: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = sqlite_floor
    # Rate shopping dates the box's delivery from the clock: a fixed day, the demo's.
    monkeypatch.setattr(pack, "utcnow", lambda: DEMO_EPOCH + timedelta(hours=11))
    bench = orders_in_totes(engine)[0]
    app = make_app(engine, devices_file(tmp_path), feed=keyboard(), clock=lambda: FROZEN)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await packer_in(pilot, app)
        await scan(pilot, app, bench.totes[0])
        check_snapshot(app, "pack-tote")
        await box_with_every_unit(pilot, app, engine, bench)
        check_snapshot(app, "pack-weigh")
        await key_weight(pilot, app, screen.shown.expected_g)
        await until(pilot, lambda: not screen.has_class("refused"), "the flash to end")
        check_snapshot(app, "pack-packed")


def test_an_order_of_many_lines_shows_those_left_to_pack_first() -> None:
    """More lines than the screen has rows: those still to pack first, the rest summed up."""
    lines = tuple(
        PackLine(
            line_id=n,
            line_no=n,
            product_id=n,
            sku=f"SKU-{n:06d}",
            name=f"Product {n}",
            gtin=None,
            track_lot=False,
            track_serial=False,
            track_expiry=False,
            quantity=2,
            packed=2 if n <= 3 else 0,
            lots=(),
            serials=(),
            packed_serials=(),
            unit=cartonize.Item(sku=f"SKU-{n:06d}", length=10, width=10, height=10, weight=10),
        )
        for n in range(1, LINE_ROWS + 4)
    )
    rows = _line_rows(lines, {4: 1})
    assert len(rows) == LINE_ROWS
    assert [row[1:11] for row in rows[:2]] == ["SKU-000004", "SKU-000005"]
    assert rows[0].split()[-2:] == ["1", "1"]
    assert rows[-1] == " … 4 more line(s), 2 unit(s) of them to pack"
    assert _line_rows(lines[:LINE_ROWS], {})[0].startswith("✓SKU-000001")


@pytest.mark.asyncio
async def test_a_weight_or_a_choice_keyed_wrong_is_asked_again_and_logging_out_says_what_to_do(
    sqlite_floor: Engine, tmp_path: Path
) -> None:
    engine = sqlite_floor
    bench = orders_in_totes(engine)[0]
    app = make_app(engine, devices_file(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await packer_in(pilot, app)
        await scan(pilot, app, bench.totes[0])
        await box_with_every_unit(pilot, app, engine, bench)
        await pilot.press("f7")
        await until(pilot, lambda: isinstance(app.screen, WeightModal), "the weight field")
        await pilot.press(*"1.78 lb", "enter")
        await until(pilot, lambda: "1.78 kg" in text_of(app, "#weight-error"), "the refusal")
        assert "expected a weight such as 1780 or 1.78 kg, keyed '1.78 lb'" in text_of(
            app, "#weight-error"
        )
        assert isinstance(app.screen, WeightModal)
        await pilot.press("enter")
        assert "Key the weight first" in text_of(app, "#weight-error")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "back to the bench")

        await pilot.press("f4")
        await until(pilot, lambda: app.screen is not screen, "missing or damaged?")
        question = app.screen
        await pilot.press("7", "enter")
        await until(
            pilot, lambda: "7 is not on the list" in render_text(app), "the wrong number said"
        )
        assert app.screen is question
        assert step_of(screen) is Step.WEIGH
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "back to the bench")

        await pilot.press("f10")
        await until(pilot, lambda: isinstance(app.screen, LoginScreen), "the login screen")
        await until(pilot, lambda: not app.busy, "the logout")
        shown = text_of(app, "#message")
        assert f"Order {bench.order_ref} is set aside: anyone can scan its tote to go on." in shown
        units = sum(line.quantity for line in bench.lines)
        assert (
            f"Take the {units} unit(s) out of the closed box and put them back in tote "
            f"{bench.totes[0]}."
        ) in shown
