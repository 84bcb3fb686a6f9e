"""The pack station's store work on both databases: a whole order packed, several boxes,
two benches and one tote, a bench that lost its order, documents queued with the package
and printed once after a crash, an order still missing a tote, the problem shelf, and the
scan and weight checks."""

from __future__ import annotations

import multiprocessing
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select, text

from app import supervisor
from app.actor import Actor
from app.hardware import printqueue
from app.hardware.printqueue import Target
from app.orders.cancel import CancelRefused, cancel_order
from app.packing import station as pack
from app.shipping import service
from data import shipping as shipping_rows
from data.models import (
    AllocationStatus,
    Invoice,
    LineAllocation,
    Order,
    OrderStatus,
    Package,
    PackageItem,
    PackEvent,
    PickTask,
    PrintJob,
    PrintJobStatus,
    Shipment,
    ShipmentStatus,
)
from data.store import make_engine
from data.uow import UnitOfWork
from devices.printers import TcpPrinter
from devices.sim_printer import PrinterSimulator
from tests.packfloor import packer, pick_lists, setup, single_tote_orders, unit_scans

TODAY = date(2026, 6, 1)


def units_of(bench: pack.Bench) -> list[pack.Unit]:
    units: list[pack.Unit] = []
    for scan in unit_scans(bench):
        units.append(pack.check_unit(bench, scan, TODAY, units))
    return units


def close(
    engine: Engine,
    bench: pack.Bench,
    units: list[pack.Unit],
    *,
    box: str | None = None,
    weight: int | None = None,
) -> pack.Closed:
    cat, ship = setup(engine)
    chosen = cat.box(box) if box else cat.boxes[-1]
    if box is None and bench.suggestion and bench.suggestion.boxes[0].box:
        chosen = bench.suggestion.boxes[0].box
    expected = pack.expected_weight(bench, chosen, units, cat)
    return pack.close_box(
        engine,
        packer(engine),
        bench,
        chosen,
        units,
        weight if weight is not None else expected,
        expected,
        override_by=None,
        printers=pack.Printers.default(),
        ship=ship,
        today=lambda: TODAY,
    )


@pytest.fixture
def totes(floor: Engine) -> list[str]:
    """Totes of single-tote orders, picked whole at WH1."""
    found = single_tote_orders(floor, pick_lists(floor, 2))
    assert found, "the demo floor gave no single-tote order"
    return found


def _open(engine: Engine, tote: str) -> pack.Bench:
    cat, ship = setup(engine)
    return pack.open_tote(engine, packer(engine), tote, cat, ship)


def test_a_whole_order_packs_into_one_box_and_its_documents_are_queued(
    floor: Engine, totes: list[str]
) -> None:
    bench = _open(floor, totes[0])
    assert bench.totes == (totes[0],)
    assert bench.suggestion is not None
    assert bench.suggestion.boxes
    closed = close(floor, bench, units_of(bench))
    assert closed.last
    assert closed.package_number == 1
    assert closed.totes_freed == (totes[0],)
    assert len(closed.sscc) == 18
    assert closed.tracking_number
    assert [q.printer for q in closed.queued] == ["label", "documents", "documents"]
    with UnitOfWork(floor, read_only=True) as uow:
        s = uow.session
        status, order_id = s.execute(
            select(Shipment.status, Shipment.order_id).where(Shipment.id == bench.lead)
        ).one()
        assert status is ShipmentStatus.PACKED
        packed_units = s.scalar(
            select(func.sum(PackageItem.quantity))
            .join(Package, Package.id == PackageItem.package_id)
            .where(Package.shipment_id == bench.lead)
        )
        assert packed_units == sum(line.quantity for line in bench.lines)
        package = s.execute(
            select(Package.box, Package.suggested_box, Package.weight_g, Package.user_id).where(
                Package.shipment_id == bench.lead
            )
        ).one()
        suggested = bench.suggestion.boxes[0].box
        assert suggested is not None
        assert package.box == package.suggested_box == suggested.code
        assert package.user_id is not None
        jobs = s.execute(
            select(PrintJob.document, PrintJob.content_type, PrintJob.status).order_by(PrintJob.id)
        ).all()
        assert [(j.document, j.content_type) for j in jobs] == [
            ("label", "application/zpl"),
            ("packing_slip", "application/pdf"),
            ("invoice", "application/pdf"),
        ]
        assert all(j.status is PrintJobStatus.QUEUED for j in jobs)
        assert s.scalar(select(func.count()).select_from(Invoice)) == 1
        kinds = s.scalars(
            select(PackEvent.kind).where(PackEvent.shipment_id == bench.lead).order_by(PackEvent.id)
        ).all()
        assert kinds[-3:] == ["open", "box", "packed"]
        # Its only shipment is packed: the order is packed, through the lifecycle.
        others = s.scalar(
            select(func.count()).where(
                Shipment.order_id == order_id,
                Shipment.status.in_((ShipmentStatus.PICKING, ShipmentStatus.PICKED)),
            )
        )
        order_status = s.scalar(select(Order.status).where(Order.id == order_id))
    assert others == 0
    assert order_status is OrderStatus.PACKED
    # The tote is free: scanning it now finds no order.
    with pytest.raises(pack.PackError, match="no order is in it"):
        _open(floor, totes[0])


def test_an_order_in_two_boxes_prints_both_labels_with_the_last(
    floor: Engine, totes: list[str]
) -> None:
    for tote in totes:
        bench = _open(floor, tote)
        if bench.units_left >= 2:
            break
        pack.release(floor, packer(floor), bench, "test")
    else:
        pytest.skip("no single-tote order with two units on the demo floor")
    units = units_of(bench)
    first = close(floor, bench, units[:1])
    assert not first.last
    assert first.queued == ()
    cat, ship = setup(floor)
    bench = pack.read_bench(floor, bench.shipment_ids, cat, ship)
    assert bench.units_left == len(units) - 1
    assert len(bench.closed) == 1
    second = close(floor, bench, units_of(bench))
    assert second.last
    assert second.package_number == 2
    titles = [q.title for q in second.queued if q.printer == "label"]
    assert titles == [f"Label S-{bench.lead} box 1 of 2", f"Label S-{bench.lead} box 2 of 2"]


def test_a_unit_beyond_the_order_or_of_another_product_is_refused(
    floor: Engine, totes: list[str]
) -> None:
    bench = _open(floor, totes[0])
    units = units_of(bench)
    with pytest.raises(pack.PackError, match="too many"):
        pack.check_unit(bench, unit_scans(bench)[0], TODAY, units)
    with pytest.raises(pack.PackError, match="is not in order"):
        pack.check_unit(bench, "4006381333931", TODAY, [])
    with pytest.raises(pack.PackError, match="scanned a tote"):
        pack.check_unit(bench, "TOTE-9999", TODAY, [])
    cat, _ = setup(floor)
    with pytest.raises(pack.PackError, match="expected a box's barcode"):
        pack.check_box(cat, "BOX-NOPE")
    assert pack.check_box(cat, "box-m").code == "BOX-M"


def test_two_benches_cannot_pack_one_tote(floor: Engine, totes: list[str]) -> None:
    bench = _open(floor, totes[0])
    cat, ship = setup(floor)
    other = packer(floor, "PACK-02")
    with pytest.raises(pack.PackError, match="being packed by Pam Packer at PACK-01"):
        pack.open_tote(floor, other, totes[0], cat, ship)
    pack.release(floor, packer(floor), bench, "set aside")
    again = pack.open_tote(floor, other, totes[0], cat, ship)
    assert again.lead == bench.lead


def _race(url: str, tote: str, bench: str, start: multiprocessing.synchronize.Event) -> str:
    engine = make_engine(url)
    who = packer(engine, bench)
    cat, ship = setup(engine)
    start.wait()
    try:
        pack.open_tote(engine, who, tote, cat, ship)
    except pack.PackError as exc:
        return f"refused: {exc}"
    finally:
        engine.dispose()
    return "opened"


def test_two_processes_racing_for_one_tote_open_it_once(store_url: str, totes: list[str]) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        start = manager.Event()
        with ctx.Pool(2) as pool:
            results = [
                pool.apply_async(_race, (store_url, totes[0], bench, start))
                for bench in ("PACK-01", "PACK-02")
            ]
            start.set()
            outcomes = sorted(r.get(timeout=120) for r in results)
    assert outcomes[0] == "opened"
    assert outcomes[1].startswith("refused: order")
    assert "being packed by" in outcomes[1]


def test_a_bench_that_lost_its_order_records_nothing(floor: Engine, totes: list[str]) -> None:
    bench = _open(floor, totes[0])
    units = units_of(bench)
    pack.release(floor, packer(floor), bench, "taken back")
    with pytest.raises(pack.PackError, match="no longer on your bench"):
        close(floor, bench, units)
    with UnitOfWork(floor, read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Package)) == 0
        assert uow.session.scalar(select(func.count()).select_from(PrintJob)) == 0


def test_documents_queued_before_a_crash_print_once_afterwards(
    floor: Engine, totes: list[str]
) -> None:
    bench = _open(floor, totes[0])
    closed = close(floor, bench, units_of(bench))
    # The station died before sending anything: the jobs wait in the queue, committed with
    # the package, and the next delivery sends each exactly once.
    who = packer(floor)
    with PrinterSimulator() as label_printer, PrinterSimulator() as doc_printer:
        targets = {
            "label": Target(
                TcpPrinter("label", "127.0.0.1", label_printer.port),
                "application/zpl",
                f"127.0.0.1:{label_printer.port}",
            ),
            "documents": Target(
                TcpPrinter("documents", "127.0.0.1", doc_printer.port),
                "application/pdf",
                f"127.0.0.1:{doc_printer.port}",
            ),
        }
        report = printqueue.deliver(floor, "PACK-01", targets, who.actor)
        again = printqueue.deliver(floor, "PACK-01", targets, who.actor)
        assert sorted(report.printed) == sorted(q.job_id for q in closed.queued)
        assert again.printed == []
        label_printer.wait_for_jobs(1)
        doc_printer.wait_for_jobs(2)
        assert len(label_printer.jobs) == 1
        assert len(doc_printer.jobs) == 2
        assert closed.tracking_number.encode() in label_printer.jobs[0]


def _split_order(engine: Engine, totes: list[str]) -> tuple[str, int, int]:
    """Move one picked task of a multi-line order in ``totes`` to a second shipment in
    tote TOTE-77777, still being picked on another pick list, as when an order's lines are
    picked in two zones; (first tote, second shipment, its pick list)."""
    for tote in totes:
        bench = _open(engine, tote)
        pack.release(engine, packer(engine), bench, "looked")
        if len(bench.lines) >= 2:
            break
    else:
        raise AssertionError("the demo floor gave no multi-line single-tote order")
    with engine.begin() as conn:
        other_list = conn.execute(
            text(
                "SELECT id FROM pick_lists WHERE id <> (SELECT pick_list_id FROM shipments "
                "WHERE id = :s) ORDER BY id LIMIT 1"
            ),
            {"s": bench.lead},
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO shipments (order_id, node_id, wave_id, status, pick_list_id,"
                " tote_slot, tote, carrier, service, created_at) "
                "SELECT order_id, node_id, wave_id, 'picking', :other, 99, 'TOTE-77777',"
                " carrier, service, created_at FROM shipments WHERE id = :s"
            ),
            {"other": other_list, "s": bench.lead},
        )
        second = conn.execute(
            text("SELECT id FROM shipments WHERE tote = 'TOTE-77777'")
        ).scalar_one()
        conn.execute(
            text(
                "UPDATE pick_tasks SET shipment_id = :second WHERE id = (SELECT min(id) FROM "
                "pick_tasks WHERE shipment_id = :s AND order_line_id = :line)"
            ),
            {"second": second, "s": bench.lead, "line": bench.lines[-1].line_id},
        )
    return tote, second, other_list


def test_an_order_in_two_totes_waits_for_both_then_packs_together(
    floor: Engine, totes: list[str]
) -> None:
    tote, second, other_list = _split_order(floor, totes)
    with pytest.raises(
        pack.PackError, match=f"waits for its other tote.*TOTE-77777 on pick list {other_list}"
    ):
        _open(floor, tote)
    with floor.begin() as conn:
        conn.execute(text("UPDATE shipments SET status = 'picked' WHERE id = :s"), {"s": second})
    bench = _open(floor, "TOTE-77777")
    assert set(bench.totes) == {tote, "TOTE-77777"}
    assert second in bench.shipment_ids
    assert bench.lead != second
    closed = close(floor, bench, units_of(bench))
    assert closed.last
    assert set(closed.totes_freed) == {tote, "TOTE-77777"}
    with UnitOfWork(floor, read_only=True) as uow:
        rows = uow.session.execute(
            select(Shipment.id, Shipment.status, Shipment.packed_with).where(
                Shipment.id.in_(bench.shipment_ids)
            )
        ).all()
    assert all(r.status is ShipmentStatus.PACKED for r in rows)
    assert {r.id: r.packed_with for r in rows} == {bench.lead: None, second: bench.lead}
    doc = service.shipment(floor, bench.lead)
    assert sum(c.quantity for c in doc.contents) == sum(ln.quantity for ln in bench.lines)


def test_a_missing_unit_sends_the_order_to_the_problem_shelf(
    floor: Engine, totes: list[str]
) -> None:
    bench = _open(floor, totes[0])
    who = packer(floor)
    shelf = pack.problem(floor, who, bench, "missing", bench.lines[0].line_id, pack.PackSettings())
    assert shelf == "PROBLEM"
    with UnitOfWork(floor, read_only=True) as uow:
        problem, location, by = uow.session.execute(
            select(Shipment.problem, Shipment.problem_location_id, Shipment.packing_by).where(
                Shipment.id == bench.lead
            )
        ).one()
        kinds = uow.session.scalars(
            select(PackEvent.kind).where(PackEvent.shipment_id == bench.lead)
        ).all()
    assert problem is not None
    assert bench.lines[0].sku in problem
    assert location is not None
    assert by is None
    assert "missing" in kinds
    with pytest.raises(pack.PackError, match="on the problem shelf"):
        _open(floor, totes[0])


def test_weight_tolerance_is_the_larger_of_grams_and_percent() -> None:
    settings = pack.PackSettings(weight_tolerance_g=50, weight_tolerance_pct=Decimal("5"))
    assert settings.tolerance(400) == 50
    assert settings.tolerance(4000) == 200
    assert pack.check_weight(settings, 4190, 4000).ok
    assert not pack.check_weight(settings, 4201, 4000).ok
    assert "expected 4,000 g ± 200 g (+201 g)" in pack.check_weight(settings, 4201, 4000).say()


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ({"weight_tolerance_g": -1}, "weight_tolerance_g: expected whole grams"),
        ({"weight_tolerance_pct": "lots"}, "weight_tolerance_pct: expected a percentage"),
        ({"problem_location": ""}, "problem_location: expected a location code"),
        ({"tolerance": 5}, "unknown field"),
    ],
)
def test_bad_pack_settings_say_what_is_wrong(raw: dict[str, object], error: str) -> None:
    with pytest.raises(pack.PackError, match=error):
        pack.PackSettings.from_dict(raw)


def test_the_supervisor_sees_the_problem_shelf_and_clears_it(
    floor: Engine, totes: list[str]
) -> None:
    bench = _open(floor, totes[0])
    who = packer(floor)
    pack.problem(floor, who, bench, "damaged", bench.lines[0].line_id, pack.PackSettings())
    queue = supervisor.pick_queue(floor, who.node_id)
    assert [(p.order_ref, p.tote, p.shelf) for p in queue.problems] == [
        (bench.order_ref, totes[0], "PROBLEM")
    ]
    assert "a unit is damaged" in queue.problems[0].problem
    boss = Actor(name="U5001")
    with pytest.raises(pack.PackError, match="not on the problem shelf"):
        pack.clear_problem(floor, boss, who.node_id, "web/NOPE", "found it")
    said = pack.clear_problem(floor, boss, who.node_id, bench.order_ref, "found it")
    assert totes[0] in said
    assert supervisor.pick_queue(floor, who.node_id).problems == ()
    again = _open(floor, totes[0])
    assert again.lead == bench.lead


def test_a_damaged_unit_goes_back_to_dom_and_the_rest_is_packed(
    floor: Engine, totes: list[str]
) -> None:
    for tote in totes:
        bench = _open(floor, tote)
        if bench.units_left >= 2:
            break
        pack.release(floor, packer(floor), bench, "test")
    else:
        pytest.skip("no single-tote order with two units on the demo floor")
    line = bench.lines[-1]
    cat, ship = setup(floor)
    done = pack.damaged(
        floor,
        packer(floor),
        bench,
        line.line_id,
        printers=pack.Printers.default(),
        ship=ship,
        today=lambda: TODAY,
    )
    assert done.finished is None
    assert not done.ended
    assert done.rerouted.startswith(f"order {bench.order_ref} ")
    with UnitOfWork(floor, read_only=True) as uow:
        s = uow.session
        removed = s.scalar(
            select(func.sum(PickTask.removed)).where(PickTask.shipment_id.in_(bench.shipment_ids))
        )
        rejected = s.execute(
            select(LineAllocation.quantity).where(
                LineAllocation.order_line_id == line.line_id,
                LineAllocation.status == AllocationStatus.REJECTED,
            )
        ).all()
        order_status = s.scalar(select(Order.status).where(Order.id == bench.order_id))
        kinds = s.scalars(select(PackEvent.kind).where(PackEvent.shipment_id == bench.lead)).all()
    assert removed == 1
    assert [r.quantity for r in rejected] == [1]
    # Back to DOM: re-routed to another node, or held for the office.
    assert order_status in (OrderStatus.ROUTED, OrderStatus.HELD)
    assert kinds[-1] == "damaged"
    fresh = pack.read_bench(floor, bench.shipment_ids, cat, ship)
    assert fresh.units_left == bench.units_left - 1
    closed = close(floor, fresh, units_of(fresh))
    assert closed.last
    with UnitOfWork(floor, read_only=True) as uow:
        still = uow.session.scalar(select(Order.status).where(Order.id == bench.order_id))
        shipment = uow.session.scalar(select(Shipment.status).where(Shipment.id == bench.lead))
    # Packed here; the order itself waits for the re-routed unit.
    assert shipment is ShipmentStatus.PACKED
    assert still is order_status
    doc = service.shipment(floor, bench.lead)
    assert sum(c.quantity for c in doc.contents) == bench.units_left - 1


def test_the_only_unit_damaged_ends_the_shipment_and_frees_the_tote(
    floor: Engine, totes: list[str]
) -> None:
    for tote in totes:
        bench = _open(floor, tote)
        if bench.units_left == 1:
            break
        pack.release(floor, packer(floor), bench, "test")
    else:
        pytest.skip("no single-unit order on the demo floor")
    _, ship = setup(floor)
    done = pack.damaged(
        floor,
        packer(floor),
        bench,
        bench.lines[0].line_id,
        printers=pack.Printers.default(),
        ship=ship,
        today=lambda: TODAY,
    )
    assert done.ended
    with UnitOfWork(floor, read_only=True) as uow:
        status = uow.session.scalar(select(Shipment.status).where(Shipment.id == bench.lead))
    assert status is ShipmentStatus.CANCELLED
    with pytest.raises(pack.PackError, match="no order is in it"):
        _open(floor, bench.totes[0])


def _two_unit_line(engine: Engine, totes: list[str]) -> tuple[pack.Bench, pack.PackLine]:
    for tote in totes:
        bench = _open(engine, tote)
        line = next((ln for ln in bench.lines if ln.quantity >= 2), None)
        if line is not None:
            return bench, line
        pack.release(engine, packer(engine), bench, "test")
    raise AssertionError("the demo floor gave no order line of two units in one tote")


def _damaged(engine: Engine, bench: pack.Bench, line_id: int) -> pack.Damaged:
    _, ship = setup(engine)
    return pack.damaged(
        engine,
        packer(engine),
        bench,
        line_id,
        printers=pack.Printers.default(),
        ship=ship,
        today=lambda: TODAY,
    )


def test_two_units_of_one_line_damaged_are_both_given_back(floor: Engine, totes: list[str]) -> None:
    bench, line = _two_unit_line(floor, totes)
    _damaged(floor, bench, line.line_id)
    _damaged(floor, bench, line.line_id)
    with UnitOfWork(floor, read_only=True) as uow:
        rejected = uow.session.scalar(
            select(func.sum(LineAllocation.quantity)).where(
                LineAllocation.order_line_id == line.line_id,
                LineAllocation.status == AllocationStatus.REJECTED,
            )
        )
    assert rejected == 2
    cat, ship = setup(floor)
    fresh = pack.read_bench(floor, bench.shipment_ids, cat, ship)
    assert next((ln.left for ln in fresh.lines if ln.line_id == line.line_id), 0) == (
        line.quantity - 2
    )


def test_an_order_with_packed_boxes_is_not_cancelled_and_half_packed_boxes_wait_for_the_rest(
    floor: Engine, totes: list[str]
) -> None:
    bench, line = _two_unit_line(floor, totes)
    units = units_of(bench)
    first = close(floor, bench, units[:1])
    assert not first.last
    with UnitOfWork(floor) as uow:
        node = uow.session.scalar(select(Shipment.node_id).where(Shipment.id == bench.lead))
        assert node is not None
        carrier = uow.session.scalar(select(Shipment.carrier).where(Shipment.id == bench.lead))
        # Box 1 of an order still being packed is not handed to the carrier.
        assert carrier is not None
        assert shipping_rows.unmanifested(uow.session, node, carrier) == []
    _damaged(floor, bench, line.line_id)
    with pytest.raises(CancelRefused, match=r"has 1 package\(s\) packed"):
        cancel_order(floor, bench.order_ref, "customer called", Actor(name="U5001"))


def test_a_shipment_packed_with_another_has_no_documents_of_its_own(
    floor: Engine, totes: list[str]
) -> None:
    tote, second, _ = _split_order(floor, totes)
    with floor.begin() as conn:
        conn.execute(text("UPDATE shipments SET status = 'picked' WHERE id = :s"), {"s": second})
    bench = _open(floor, tote)
    close(floor, bench, units_of(bench))
    with pytest.raises(service.ShippingError, match=f"packed with shipment {bench.lead}"):
        service.shipment(floor, second)
