"""What the pick station's service tests share: the floor they pick on (the small demo
site with released waves at WH1), logging a picker in, scanning and loading totes, and the
books a refused pick must leave as they were."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import Engine, func, select, text

from app.actor import Actor
from app.demo import seed
from app.dom.routing import RoutingSettings, route_backlog
from app.picking import station
from app.picking.station import ItemScan, PickDone
from app.users import LoggedIn, login
from app.waves import planning as waves
from app.waves.settings import WaveSettings
from data import pick_station as pick_rows
from data.models import (
    LineAllocation,
    Order,
    OrderEvent,
    PickedSerial,
    PickEvent,
    PickTask,
    PickTaskStatus,
    Reservation,
    Stock,
    StockMovement,
)
from data.types import utcnow
from data.uow import UnitOfWork
from tests.factories import PLAN_AT, age_demo_stock

ACTOR = Actor.system("test")
FAST = WaveSettings(batching_seconds=0.2)


def build_floor(engine: Engine) -> Engine:
    """Seed the small demo site, route the backlog and release WH1's waves."""
    seed(engine, "small", 1)
    age_demo_stock(engine)
    route_backlog(engine, ACTOR, RoutingSettings(), limit=40, now=PLAN_AT)
    for wave in waves.plan(engine, "WH1", FAST, ACTOR, now=PLAN_AT).waves:
        waves.release(engine, wave.id, FAST, ACTOR)
    return engine


def picker(engine: Engine, badge: str = "U1001", pin: str = "1111") -> LoggedIn:
    return login(engine, "PICK-01", "pick", f"BADGE-{badge}", pin)


def item_scan(engine: Engine, task: station.Task) -> str:
    """The barcode on a unit of the task's product at its location, as a scanner reads it."""
    assert task.gtin is not None
    gtin = task.gtin.zfill(14)
    if not (task.track_lot or task.track_expiry or task.track_serial):
        return task.gtin
    with UnitOfWork(engine, read_only=True) as uow:
        expiry = uow.session.scalar(
            select(Stock.expiry).where(Stock.location_id == task.location_id, Stock.lot == task.lot)
        )
    text = f"01{gtin}"
    if expiry is not None:
        text += f"17{expiry:%y%m%d}"
    if task.track_serial:
        text += f"21SN{task.id}X{utcnow().timestamp():.0f}\x1d"
    if task.lot:
        text += f"10{task.lot}"
    return text


def pick_task(engine: Engine, who: LoggedIn, view: station.PickListView) -> station.PickListView:
    """Scan and confirm the list's current task whole; the list afterwards."""
    task = view.current
    assert task is not None
    station.check_location(task, task.location_barcode)
    today = station.local_today("UTC")
    items: list[ItemScan] = []
    while sum(i.count for i in items) < task.left:
        scan = item_scan(engine, task)
        if task.track_serial:
            scan = scan.replace("X", f"X{len(items)}", 1)
        items.append(station.check_item(task, scan, today, items))
    assert task.tote is not None
    tote = station.check_tote(task, task.tote)
    station.confirm_pick(engine, who, view.id, task.id, items, tote)
    return station.view(engine, view.id)


def load_totes(engine: Engine, who: LoggedIn, view: station.PickListView) -> station.PickListView:
    """A tote on every slot of the cart."""
    for slot in view.totes:
        view = station.set_tote(
            engine, who, view.id, slot.slot, f"TOTE-{view.id:03d}{slot.slot:02d}"
        )
    return view


def claim_with(
    engine: Engine, who: LoggedIn, wanted: Callable[[station.Task], bool]
) -> tuple[station.PickListView, station.Task]:
    """Claim lists until one has an open task the test wants; its totes loaded."""
    while (view := station.claim_next(engine, who)) is not None:
        task = next((t for t in view.tasks if t.status is PickTaskStatus.OPEN and wanted(t)), None)
        if task is not None:
            view = load_totes(engine, who, view)
            return view, next(t for t in view.tasks if t.id == task.id)
    raise AssertionError("the demo floor has no open task of that kind")


def expiry_at(engine: Engine, task: station.Task) -> date | None:
    """The expiry of the task's lot at its location."""
    with UnitOfWork(engine, read_only=True) as uow:
        return pick_rows.stock_expiry(uow.session, task.location_id, task.lot)


def product_of(engine: Engine, task_id: int) -> int:
    with UnitOfWork(engine, read_only=True) as uow:
        found = uow.session.scalar(select(PickTask.product_id).where(PickTask.id == task_id))
    assert found is not None
    return found


def books(engine: Engine) -> dict[str, Any]:
    """Everything a pick writes, to compare before and after a refusal."""
    with UnitOfWork(engine, read_only=True) as uow:
        s = uow.session

        def count(model: type[object]) -> int:
            return int(s.scalar(select(func.count()).select_from(model)) or 0)

        return {
            "on_hand": s.scalar(select(func.sum(Stock.on_hand))),
            "movements": count(StockMovement),
            "reservations": count(Reservation),
            "events": count(PickEvent),
            "serials": count(PickedSerial),
            "order_events": count(OrderEvent),
            "allocations": s.execute(
                select(LineAllocation.id, LineAllocation.quantity, LineAllocation.status).order_by(
                    LineAllocation.id
                )
            ).all(),
            "tasks": s.execute(
                select(PickTask.id, PickTask.picked, PickTask.status).order_by(PickTask.id)
            ).all(),
            "orders": s.execute(select(Order.id, Order.status).order_by(Order.id)).all(),
        }


def pick_whole(engine: Engine, who: LoggedIn, list_id: int, task: station.Task) -> PickDone:
    """Confirm all that is left of a task (not serial-tracked) into its tote."""
    assert task.tote is not None
    units = [ItemScan(task.lot, "", expiry_at(engine, task), task.left)]
    return station.confirm_pick(engine, who, list_id, task.id, units, task.tote)


def waiting_locks(engine: Engine) -> int:
    """Lock requests waiting on PostgreSQL: another transaction is being waited for."""
    with engine.connect() as conn:
        return int(
            conn.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar_one()
        )
