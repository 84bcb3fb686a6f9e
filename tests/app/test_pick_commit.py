"""Committing a pick on both stores: PostgreSQL writes a pick as one statement and falls
back to the step-by-step confirmation (which names the reason) when anything does not
hold; SQLite confirms step by step. Either way a refusal writes nothing, a partial pick
splits the allocation, serial numbers leave once, and the books reconcile."""

from __future__ import annotations

import multiprocessing
import re
import threading
from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, event, func, select, text, update
from sqlalchemy.exc import IntegrityError

from app.orders.cancel import CancelRefused, cancel_order
from app.picking import station
from app.picking.station import ItemScan, StationError
from app.users import LoggedIn, login
from data import dom as routing_rows
from data import inventory
from data import pick_station as pick_rows
from data.migrate import alembic_config, current_revision, head_revision, upgrade
from data.models import (
    AllocationStatus,
    LineAllocation,
    PickedSerial,
    PickList,
    PickListStatus,
    PickTask,
    PickTaskStatus,
    Shipment,
    ShipmentStatus,
    Stock,
    StockMovement,
)
from data.store import make_engine
from data.types import utcnow
from data.uow import UnitOfWork
from tests.cli import main
from tests.pickfloor import (
    ACTOR,
    books,
    claim_with,
    expiry_at,
    load_totes,
    pick_whole,
    picker,
    product_of,
    waiting_locks,
)


def test_every_refusal_at_the_commit_names_both_sides_and_writes_nothing(floor: Engine) -> None:
    who = picker(floor)
    view, task = claim_with(floor, who, lambda t: t.track_lot and not t.track_serial)
    assert task.tote is not None
    assert task.lot
    expiry = expiry_at(floor, task)
    unit = ItemScan(task.lot, "", expiry, 1)
    before = books(floor)

    def refused(pattern: str, items: list[ItemScan], tote: str = task.tote or "") -> None:
        with pytest.raises(StationError, match=pattern):
            station.confirm_pick(floor, who, view.id, task.id, items, tote)
        assert books(floor) == before

    refused(f"wrong tote: expected {task.tote}, scanned TOTE-ELSEWHERE", [unit], "TOTE-ELSEWHERE")
    refused(
        f"over-pick: {task.left} left to pick here, {task.left + 1} scanned",
        [ItemScan(task.lot, "", expiry, task.left + 1)],
    )
    refused(
        f"wrong lot: expected lot {task.lot}, scanned lot OTHERLOT",
        [ItemScan("OTHERLOT", "", expiry, 1)],
    )
    refused(
        f"one lot per pick: expected units of lot {task.lot}, scanned lots",
        [unit, ItemScan("OTHERLOT", "", expiry, 1)],
    )
    refused(
        "expired: a scanned unit expired on 2020-01-31",
        [ItemScan(task.lot, "", date(2020, 1, 31), 1)],
    )
    refused("nothing was scanned", [])
    # The books say the location is empty: refused, nothing written beyond that count.
    with UnitOfWork(floor) as uow:
        uow.session.execute(
            update(Stock)
            .where(Stock.location_id == task.location_id, Stock.lot == task.lot)
            .values(on_hand=0)
        )
        uow.commit()
    before = books(floor)
    refused(
        f"the books say {task.location} holds fewer than 1 of {task.sku} lot {task.lot}", [unit]
    )
    # Taken back by a supervisor: the picker is told, nothing is written.
    station.take_back(floor, ACTOR, view.id)
    before = books(floor)
    refused(f"pick list {view.id} is no longer yours", [unit])


def test_a_partial_pick_splits_the_allocation_and_the_rest_finishes_the_task(
    floor: Engine,
) -> None:
    who = picker(floor)
    view, task = claim_with(
        floor, who, lambda t: t.left >= 2 and not (t.track_lot or t.track_serial or t.track_expiry)
    )
    assert task.tote is not None
    with UnitOfWork(floor, read_only=True) as uow:
        allocation_id = uow.session.scalar(
            select(PickTask.allocation_id).where(PickTask.id == task.id)
        )
        reserved_before = uow.session.scalar(
            select(LineAllocation.quantity).where(LineAllocation.id == allocation_id)
        )
    assert reserved_before is not None
    statements: list[str] = []

    def seen(*args: Any) -> None:
        statements.append(args[2])

    event.listen(floor, "before_cursor_execute", seen)
    first = station.confirm_pick(
        floor, who, view.id, task.id, [ItemScan("", "", None, 1)], task.tote
    )
    event.remove(floor, "before_cursor_execute", seen)
    assert not first.list_done
    if floor.dialect.name == "postgresql":
        # One locking read for the rules, then the pick's writes with the order's first
        # move (to picking, planned by the lifecycle) in one statement that also says how
        # the list stands afterwards.
        assert len(statements) == 2, statements
        assert "FOR UPDATE OF orders, pick_lists" in statements[0]
        assert "INSERT INTO order_events" in statements[1]
        assert "INSERT INTO pick_events" in statements[1]
    with UnitOfWork(floor, read_only=True) as uow:
        s = uow.session
        row = s.execute(
            select(PickTask.picked, PickTask.status).where(PickTask.id == task.id)
        ).one()
        assert tuple(row) == (1, PickTaskStatus.OPEN)
        left = s.execute(
            select(LineAllocation.quantity, LineAllocation.status).where(
                LineAllocation.id == allocation_id
            )
        ).one()
        assert tuple(left) == (reserved_before - 1, AllocationStatus.RESERVED)
        line = s.scalar(
            select(LineAllocation.order_line_id).where(LineAllocation.id == allocation_id)
        )
        picked = s.scalar(
            select(func.sum(LineAllocation.quantity)).where(
                LineAllocation.order_line_id == line,
                LineAllocation.status == AllocationStatus.PICKED,
            )
        )
        assert picked == 1
        assert inventory.reconcile(s) == []
    rest = station.view(floor, view.id)
    again = next(t for t in rest.tasks if t.id == task.id)
    station.confirm_pick(
        floor, who, view.id, task.id, [ItemScan("", "", None, again.left)], task.tote
    )
    with UnitOfWork(floor, read_only=True) as uow:
        s = uow.session
        row = s.execute(
            select(PickTask.picked, PickTask.status).where(PickTask.id == task.id)
        ).one()
        assert tuple(row) == (task.quantity, PickTaskStatus.DONE)
        notes = s.scalars(
            select(StockMovement.note).where(StockMovement.note.like(f"%task {task.id} for %"))
        ).all()
        assert notes == [f"pick list {view.id} task {task.id} for {task.order_ref}"] * 2
        assert inventory.reconcile(s) == []


def test_a_serial_leaves_once(floor: Engine) -> None:
    who = picker(floor)
    view, task = claim_with(floor, who, lambda t: t.track_serial)
    assert task.tote is not None
    product = product_of(floor, task.id)
    expiry = expiry_at(floor, task)
    with UnitOfWork(floor) as uow:
        pick_rows.add_picked_serials(uow.session, product, task.id, ("SN-GONE",), utcnow())
        uow.commit()
    before = books(floor)
    with pytest.raises(
        StationError,
        match=f"serial SN-GONE has been picked before: scanned {task.sku} serial SN-GONE",
    ):
        station.confirm_pick(
            floor, who, view.id, task.id, [ItemScan(task.lot, "SN-GONE", expiry, 1)], task.tote
        )
    assert books(floor) == before
    units = [ItemScan(task.lot, f"SN-{task.id}-{i}", expiry, 1) for i in range(task.left)]
    station.confirm_pick(floor, who, view.id, task.id, units, task.tote)
    with UnitOfWork(floor, read_only=True) as uow:
        kept = set(
            uow.session.scalars(
                select(PickedSerial.serial).where(PickedSerial.product_id == product)
            )
        )
    assert {u.serial for u in units} | {"SN-GONE"} == kept
    # The store itself refuses a second row for the same unit, whoever writes it.
    with UnitOfWork(floor) as uow, pytest.raises(IntegrityError):
        pick_rows.add_picked_serials(uow.session, product, task.id, (units[0].serial,), utcnow())


def test_serials_already_picked_are_carried_into_the_new_table(floor: Engine) -> None:
    who = picker(floor)
    view, task = claim_with(floor, who, lambda t: t.track_serial)
    assert task.tote is not None
    expiry = expiry_at(floor, task)
    units = [ItemScan(task.lot, f"SN-OLD-{i}", expiry, 1) for i in range(task.left)]
    station.confirm_pick(floor, who, view.id, task.id, units, task.tote)
    config = alembic_config()
    with floor.connect() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0009")
        conn.commit()
    upgrade(floor)
    with UnitOfWork(floor, read_only=True) as uow:
        kept = uow.session.execute(
            select(PickedSerial.serial, PickedSerial.task_id, PickedSerial.product_id)
        ).all()
    product = product_of(floor, task.id)
    assert sorted(kept) == sorted((u.serial, task.id, product) for u in units)


def test_a_tote_in_use_cannot_be_given_to_a_second_order(floor: Engine) -> None:
    who = picker(floor)
    first = station.claim_next(floor, who)
    second = station.claim_next(floor, who)
    assert first is not None
    assert second is not None
    station.set_tote(floor, who, first.id, 1, "TOTE-SHARED")
    with pytest.raises(
        StationError,
        match=re.escape(
            f"expected an empty tote for slot 1, scanned TOTE-SHARED, which still holds order "
            f"{first.totes[0].order_ref}'s items: leave it and scan an empty tote"
        ),
    ):
        station.set_tote(floor, who, second.id, 1, "TOTE-SHARED")
    # Past the check (as a station racing another would be): the store refuses it too.
    shipment = second.totes[0].shipment_id
    with UnitOfWork(floor) as uow:
        assert not pick_rows.set_tote(uow.session, shipment, "TOTE-SHARED")
        assert pick_rows.set_tote(uow.session, shipment, "TOTE-OTHER")
        uow.commit()
    with UnitOfWork(floor, read_only=True) as uow:
        holders = uow.session.scalars(
            select(Shipment.id).where(Shipment.tote.in_(("TOTE-SHARED", "TOTE-OTHER")))
        ).all()
    assert sorted(holders) == sorted([first.totes[0].shipment_id, shipment])


def _load_tote(url: str, badge: str, pin: str, ready: Any, start: Any, out: Any) -> None:
    engine = make_engine(url)
    who = login(engine, "PICK-01", "pick", badge, pin)
    view = station.claim_next(engine, who)
    assert view is not None
    ready.put(badge)
    start.wait(60)
    try:
        station.set_tote(engine, who, view.id, 1, "TOTE-RACE")
        out.put("ok")
    except StationError as exc:
        out.put(str(exc))
    finally:
        engine.dispose()


def test_two_carts_racing_for_one_tote_get_it_once(floor: Engine) -> None:
    url = floor.url.render_as_string(hide_password=False)
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Queue()
    start = ctx.Event()
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_load_tote, args=(url, badge, pin, ready, start, out))
        for badge, pin in (("U1001", "1111"), ("U1002", "1112"))
    ]
    for p in procs:
        p.start()
    # Both log in and claim a list; then both scan the same tote at once.
    assert sorted(ready.get(timeout=120) for _ in procs) == ["U1001", "U1002"]
    start.set()
    answers = sorted(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(30)
    assert answers[-1] == "ok"
    assert "TOTE-RACE" in answers[0]
    assert "scan an empty tote" in answers[0]
    with UnitOfWork(floor, read_only=True) as uow:
        held = uow.session.scalars(select(Shipment.id).where(Shipment.tote == "TOTE-RACE")).all()
    assert len(held) == 1


ON_POSTGRESQL = pytest.mark.parametrize(
    "store_url", [pytest.param("postgresql", marks=pytest.mark.postgresql)], indirect=True
)
"""Row locks that make one transaction wait for another are PostgreSQL's (SQLite runs one
writer at a time)."""


def two_order_list(engine: Engine, who: LoggedIn) -> tuple[station.PickListView, str, str]:
    """A claimed list with totes whose tasks belong to at least two orders, none
    serial-tracked; (list, order A, order B) with B the order of the last task."""
    while (view := station.claim_next(engine, who)) is not None:
        orders = list(dict.fromkeys(t.order_ref for t in view.tasks))
        if len(orders) >= 2 and not any(t.track_serial for t in view.tasks):
            view = load_totes(engine, who, view)
            b = view.tasks[-1].order_ref
            a = next(o for o in orders if o != b)
            return view, a, b
    raise AssertionError("the demo floor has no list with two orders")


def wait_for(condition: Callable[[], bool], what: str) -> None:
    for _ in range(400):
        if condition():
            return
        threading.Event().wait(0.025)
    raise AssertionError(f"timed out waiting for {what}")


def run_into(out: dict[str, Any], name: str, work: Callable[[], Any]) -> None:
    """Run ``work`` (on a thread) and keep its result, or what it raised, under ``name``."""
    try:
        out[name] = work()
    except Exception as exc:  # noqa: BLE001 - reported by the test's assertions
        out[name] = exc


@ON_POSTGRESQL
def test_a_last_pick_and_a_cancellation_of_the_lists_other_order_close_the_list(
    floor: Engine,
) -> None:
    who = picker(floor)
    view, a, b = two_order_list(floor, who)
    a_tasks = [t for t in view.tasks if t.order_ref != b]
    for task in a_tasks[:-1]:
        pick_whole(floor, who, view.id, task)
    last = a_tasks[-1]
    # Another pick of the same product at the node holds its position row: the last pick
    # waits there, holding the order and the list; meanwhile the list's other order is
    # cancelled, and waits for the list.
    hot = floor.connect()
    hot.execute(
        text(
            "SELECT 1 FROM inventory_positions AS p JOIN pick_tasks AS t "
            "ON t.product_id = p.product_id JOIN pick_lists AS l ON l.id = t.pick_list_id "
            "AND l.node_id = p.node_id WHERE t.id = :t FOR UPDATE OF p"
        ),
        {"t": last.id},
    )
    out: dict[str, Any] = {}
    run = partial(run_into, out)

    pick = threading.Thread(
        target=run, args=("pick", lambda: pick_whole(floor, who, view.id, last))
    )
    pick.start()
    wait_for(lambda: waiting_locks(floor) >= 1, "the pick to wait")
    cancel = threading.Thread(
        target=run, args=("cancel", lambda: cancel_order(floor, b, "customer called", ACTOR))
    )
    cancel.start()
    # The cancellation commits, or waits for the list the pick holds.
    wait_for(
        lambda: "cancel" in out or waiting_locks(floor) >= 2, "the cancellation to end or wait"
    )
    hot.rollback()
    hot.close()
    pick.join(30)
    cancel.join(30)
    assert not isinstance(out["pick"], Exception), out["pick"]
    assert not isinstance(out["cancel"], Exception), out["cancel"]
    with UnitOfWork(floor, read_only=True) as uow:
        status = uow.session.scalar(select(PickList.status).where(PickList.id == view.id))
        shipments = set(
            uow.session.scalars(select(Shipment.status).where(Shipment.pick_list_id == view.id))
        )
        assert inventory.reconcile(uow.session) == []
    assert status is PickListStatus.DONE
    assert ShipmentStatus.PICKING not in shipments
    assert a in {t.order_ref for t in view.tasks}


@ON_POSTGRESQL
def test_a_cancellation_and_the_end_of_a_list_waiting_on_each_other_both_get_through(
    floor: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    who = picker(floor)
    view, a, b = two_order_list(floor, who)
    # Order B is wholly picked; A's last pick will end the list.
    b_tasks = [t for t in view.tasks if t.order_ref == b]
    a_tasks = [t for t in view.tasks if t.order_ref != b]
    for task in b_tasks + a_tasks[:-1]:
        pick_whole(floor, who, view.id, task)
    last = a_tasks[-1]
    # The cancellation of B takes B's lock, then waits until the last pick has started:
    # the pick's end of list then wants B (to move it to picked) while the cancellation
    # wants B's shipment, which the end of list has just moved. One of the two is chosen
    # by PostgreSQL to fail, and is run again whole.
    locked, go = threading.Event(), threading.Event()
    real = routing_rows.lock_order

    def lock_then_wait(session: Any, order_id: int) -> Any:
        held = real(session, order_id)
        if threading.current_thread().name == "cancel" and not locked.is_set():
            locked.set()
            go.wait(10)
        return held

    monkeypatch.setattr(routing_rows, "lock_order", lock_then_wait)
    out: dict[str, Any] = {}
    run = partial(run_into, out)

    cancel = threading.Thread(
        name="cancel",
        target=run,
        args=("cancel", lambda: cancel_order(floor, b, "customer called", ACTOR)),
    )
    cancel.start()
    assert locked.wait(10)
    pick = threading.Thread(
        target=run, args=("pick", lambda: pick_whole(floor, who, view.id, last))
    )
    pick.start()
    wait_for(lambda: waiting_locks(floor) >= 1, "the pick to wait for the cancellation")
    go.set()
    cancel.join(60)
    pick.join(60)
    assert not isinstance(out["pick"], Exception), out["pick"]
    assert out["pick"].list_done
    # The cancellation either got through, or found B already picked whole (refused with
    # a reason): never a raw deadlock.
    if isinstance(out["cancel"], Exception):
        assert isinstance(out["cancel"], CancelRefused), out["cancel"]
    with UnitOfWork(floor, read_only=True) as uow:
        assert inventory.reconcile(uow.session) == []
        status = uow.session.scalar(select(PickList.status).where(PickList.id == view.id))
    assert status is PickListStatus.DONE
    assert a != b


def test_an_upgrade_stops_on_a_tote_two_orders_share_and_says_what_to_fix(
    floor: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    who = picker(floor)
    first = station.claim_next(floor, who)
    second = station.claim_next(floor, who)
    assert first is not None
    assert second is not None
    config = alembic_config()
    with floor.connect() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0009")
        conn.commit()
    # What the old read-then-write check let through when two carts raced.
    clash = (first.totes[0].shipment_id, second.totes[0].shipment_id)
    with UnitOfWork(floor) as uow:
        uow.session.execute(update(Shipment).where(Shipment.id.in_(clash)).values(tote="TOTE-BOTH"))
        uow.commit()
    url = floor.url.render_as_string(hide_password=False)
    assert main(["db", "upgrade", "--db", url]) == 2
    said = capsys.readouterr().err
    assert "the store stays at 0009" in said
    assert f"TOTE-BOTH: shipment {min(clash)}" in said
    assert current_revision(floor) == "0009"
    with UnitOfWork(floor) as uow:
        uow.session.execute(update(Shipment).where(Shipment.id == max(clash)).values(tote=None))
        uow.commit()
    assert main(["db", "upgrade", "--db", url]) == 0
    assert current_revision(floor) == head_revision()
