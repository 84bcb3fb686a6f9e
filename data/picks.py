"""What the pick station reads and writes: claims, totes, confirmed picks, short picks,
skips, pauses, and the end of a pick list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from data.inventory import Who
from data.models import (
    AllocationStatus,
    Channel,
    InventoryPosition,
    LineAllocation,
    Location,
    MovementReason,
    Node,
    Order,
    OrderLine,
    PickEvent,
    PickList,
    PickListStatus,
    PickTask,
    PickTaskStatus,
    Product,
    Reservation,
    ReservationKind,
    Shipment,
    ShipmentStatus,
    Stock,
    StockMovement,
    Wave,
    WaveStatus,
)

ACTIVE_SHIPMENTS = (ShipmentStatus.PICKING, ShipmentStatus.PICKED)


def claim_next(
    session: Session,
    node_id: int,
    zone: str | None,
    user_id: int,
    station_id: int,
    at: datetime,
    stale_before: datetime,
) -> int | None:
    """Claim the first pick list this picker may take: a paused one or one whose claim went
    stale (its terminal stopped sending heartbeats) first, then the next released one by
    wave priority and cut-off. ``FOR UPDATE SKIP LOCKED`` on PostgreSQL: two pickers never
    wait on, or get, the same list; on SQLite the write transaction holds the store."""
    takeable = or_(
        PickList.status.in_((PickListStatus.RELEASED, PickListStatus.PAUSED)),
        (PickList.status == PickListStatus.CLAIMED) & (PickList.heartbeat_at < stale_before),
    )
    stmt = (
        select(PickList.id)
        .join(Wave, Wave.id == PickList.wave_id)
        .where(PickList.node_id == node_id, takeable)
        .order_by(
            (PickList.status == PickListStatus.RELEASED).asc(),
            Wave.priority,
            Wave.cutoff_at,
            PickList.wave_id,
            PickList.seq,
        )
        .limit(1)
        .with_for_update(skip_locked=True, of=PickList)
    )
    if zone:
        stmt = stmt.where(PickList.zone == zone)
    list_id = session.scalar(stmt)
    if list_id is None:
        return None
    return list_id if claim(session, list_id, user_id, station_id, at, stale_before) else None


def claim(
    session: Session,
    list_id: int,
    user_id: int,
    station_id: int,
    at: datetime,
    stale_before: datetime,
) -> bool:
    """Take one pick list if it is free (released, paused, or claimed but gone stale)."""
    moved = session.execute(
        update(PickList)
        .where(
            PickList.id == list_id,
            or_(
                PickList.status.in_((PickListStatus.RELEASED, PickListStatus.PAUSED)),
                (PickList.status == PickListStatus.CLAIMED)
                & (PickList.heartbeat_at < stale_before),
            ),
        )
        .values(
            status=PickListStatus.CLAIMED,
            claimed_by=user_id,
            claimed_station_id=station_id,
            claimed_at=at,
            heartbeat_at=at,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(moved.rowcount == 1)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class ListHead:
    id: int
    wave_id: int
    node_id: int
    node_code: str
    status: PickListStatus
    zone: str
    totes: int
    distance_m: float | None
    est_seconds: float
    path: str
    claimed_by: int | None
    claimed_station_id: int | None
    claimed_at: datetime | None
    heartbeat_at: datetime | None


def head(session: Session, list_id: int, *, lock: bool = False) -> ListHead | None:
    stmt = (
        select(
            PickList.id,
            PickList.wave_id,
            PickList.node_id,
            Node.code,
            PickList.status,
            PickList.zone,
            PickList.totes,
            PickList.distance_m,
            PickList.est_seconds,
            PickList.path,
            PickList.claimed_by,
            PickList.claimed_station_id,
            PickList.claimed_at,
            PickList.heartbeat_at,
        )
        .join(Node, Node.id == PickList.node_id)
        .where(PickList.id == list_id)
    )
    if lock:
        stmt = stmt.with_for_update(of=PickList)
    row = session.execute(stmt).one_or_none()
    return ListHead(*row) if row else None


@dataclass(frozen=True)
class TaskLine:
    id: int
    seq: int
    location_id: int
    location_code: str
    location_barcode: str
    x_mm: int
    y_mm: int
    product_id: int
    sku: str
    product_name: str
    gtin: str | None
    track_lot: bool
    track_serial: bool
    track_expiry: bool
    lot: str
    quantity: int
    picked: int
    status: PickTaskStatus
    shipment_id: int
    tote_slot: int
    tote: str | None
    shipment_status: ShipmentStatus
    order_id: int
    order_ref: str
    line_no: int
    allocation_id: int


def task_lines(session: Session, list_id: int) -> list[TaskLine]:
    rows = session.execute(
        select(
            PickTask.id,
            PickTask.seq,
            Location.id,
            Location.code,
            Location.barcode,
            Location.x_mm,
            Location.y_mm,
            Product.id,
            Product.sku,
            Product.name,
            Product.gtin,
            Product.track_lot,
            Product.track_serial,
            Product.track_expiry,
            PickTask.lot,
            PickTask.quantity,
            PickTask.picked,
            PickTask.status,
            Shipment.id,
            Shipment.tote_slot,
            Shipment.tote,
            Shipment.status,
            Order.id,
            Channel.code + "/" + Order.external_id,
            OrderLine.line_no,
            PickTask.allocation_id,
        )
        .join(Location, Location.id == PickTask.location_id)
        .join(Product, Product.id == PickTask.product_id)
        .join(Shipment, Shipment.id == PickTask.shipment_id)
        .join(Order, Order.id == Shipment.order_id)
        .join(Channel, Channel.id == Order.channel_id)
        .join(OrderLine, OrderLine.id == PickTask.order_line_id)
        .where(PickTask.pick_list_id == list_id)
        .order_by(PickTask.seq)
    )
    return [TaskLine(*row) for row in rows]


@dataclass(frozen=True)
class ToteSlot:
    shipment_id: int
    slot: int
    tote: str | None
    status: ShipmentStatus
    order_id: int
    order_ref: str


def tote_slots(session: Session, list_id: int) -> list[ToteSlot]:
    rows = session.execute(
        select(
            Shipment.id,
            Shipment.tote_slot,
            Shipment.tote,
            Shipment.status,
            Order.id,
            Channel.code + "/" + Order.external_id,
        )
        .join(Order, Order.id == Shipment.order_id)
        .join(Channel, Channel.id == Order.channel_id)
        .where(Shipment.pick_list_id == list_id)
        .order_by(Shipment.tote_slot)
    )
    return [ToteSlot(*row) for row in rows]


def tote_holder(session: Session, tote: str) -> int | None:
    """The active shipment (picking or picked) already in this tote, if any."""
    return session.scalar(
        select(Shipment.id).where(Shipment.tote == tote, Shipment.status.in_(ACTIVE_SHIPMENTS))
    )


def set_tote(session: Session, shipment_id: int, tote: str) -> None:
    session.execute(
        update(Shipment)
        .where(Shipment.id == shipment_id)
        .values(tote=tote)
        .execution_options(synchronize_session=False)
    )


def heartbeat(session: Session, list_id: int, user_id: int, at: datetime) -> bool:
    """Refresh the claim; False when the list is no longer this user's (taken back)."""
    moved = session.execute(
        update(PickList)
        .where(
            PickList.id == list_id,
            PickList.status == PickListStatus.CLAIMED,
            PickList.claimed_by == user_id,
        )
        .values(heartbeat_at=at)
        .execution_options(synchronize_session=False)
    )
    return bool(moved.rowcount == 1)  # type: ignore[attr-defined]


def set_list_status(
    session: Session, list_id: int, status: PickListStatus, at: datetime, *, release: bool
) -> None:
    values: dict[str, object] = {"status": status}
    if release:
        values.update(claimed_by=None, claimed_station_id=None, heartbeat_at=None)
    if status is PickListStatus.DONE:
        values["done_at"] = at
    session.execute(
        update(PickList)
        .where(PickList.id == list_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def consume(
    session: Session,
    *,
    node_id: int,
    location_id: int,
    product_id: int,
    lot: str,
    quantity: int,
    order_line_id: int,
    who: Who,
    at: datetime,
    note: str,
) -> bool:
    """Take picked units off the books: from the location's stock and from the node's
    reservation for the order line, each a conditional UPDATE; False (nothing written) if
    the location does not hold that many."""
    taken = session.execute(
        update(Stock)
        .where(
            Stock.location_id == location_id,
            Stock.product_id == product_id,
            Stock.lot == lot,
            Stock.on_hand >= quantity,
        )
        .values(on_hand=Stock.on_hand - quantity)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return False
    position = session.execute(
        update(InventoryPosition)
        .where(
            InventoryPosition.node_id == node_id,
            InventoryPosition.product_id == product_id,
            InventoryPosition.reserved >= quantity,
        )
        .values(
            on_hand=InventoryPosition.on_hand - quantity,
            reserved=InventoryPosition.reserved - quantity,
        )
        .execution_options(synchronize_session=False)
    )
    if position.rowcount != 1:  # type: ignore[attr-defined]
        raise RuntimeError(f"node {node_id} holds fewer than {quantity} reserved of {product_id}")
    session.execute(
        insert(StockMovement).values(
            node_id=node_id,
            location_id=location_id,
            product_id=product_id,
            lot=lot,
            quantity=-quantity,
            reason=MovementReason.PICK,
            at=at,
            actor=who.actor,
            user_id=who.user_id,
            station_id=who.station_id,
            note=note,
        )
    )
    session.execute(
        insert(Reservation).values(
            node_id=node_id,
            product_id=product_id,
            order_line_id=order_line_id,
            kind=ReservationKind.CONSUME,
            quantity=-quantity,
            at=at,
            actor=who.actor,
            user_id=who.user_id,
            station_id=who.station_id,
            note=note,
        )
    )
    return True


def allocation_picked(session: Session, allocation_id: int, quantity: int) -> None:
    """Move ``quantity`` units of a reserved allocation to a picked one."""
    row = session.execute(
        select(LineAllocation.order_line_id, LineAllocation.node_id, LineAllocation.quantity)
        .where(LineAllocation.id == allocation_id)
        .with_for_update()
    ).one()
    if row.quantity == quantity:
        session.execute(
            update(LineAllocation)
            .where(LineAllocation.id == allocation_id)
            .values(status=AllocationStatus.PICKED)
            .execution_options(synchronize_session=False)
        )
        return
    if row.quantity < quantity:
        raise RuntimeError(f"allocation {allocation_id} holds {row.quantity}, not {quantity}")
    session.execute(
        update(LineAllocation)
        .where(LineAllocation.id == allocation_id)
        .values(quantity=LineAllocation.quantity - quantity)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        insert(LineAllocation).values(
            order_line_id=row.order_line_id,
            node_id=row.node_id,
            quantity=quantity,
            status=AllocationStatus.PICKED,
        )
    )


def task_picked(session: Session, task_id: int, quantity: int) -> bool:
    """Add picked units to an open task (done when it has them all); False if the task was
    no longer open or would go over its quantity."""
    moved = session.execute(
        update(PickTask)
        .where(
            PickTask.id == task_id,
            PickTask.status == PickTaskStatus.OPEN,
            PickTask.picked + quantity <= PickTask.quantity,
        )
        .values(picked=PickTask.picked + quantity)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.execute(
        update(PickTask)
        .where(PickTask.id == task_id, PickTask.picked == PickTask.quantity)
        .values(status=PickTaskStatus.DONE)
        .execution_options(synchronize_session=False)
    )
    return True


def set_task_status(session: Session, task_id: int, status: PickTaskStatus) -> bool:
    moved = session.execute(
        update(PickTask)
        .where(PickTask.id == task_id, PickTask.status == PickTaskStatus.OPEN)
        .values(status=status)
        .execution_options(synchronize_session=False)
    )
    return bool(moved.rowcount == 1)  # type: ignore[attr-defined]


def move_to_end(session: Session, list_id: int, task_id: int) -> None:
    last = session.scalar(select(func.max(PickTask.seq)).where(PickTask.pick_list_id == list_id))
    session.execute(
        update(PickTask)
        .where(PickTask.id == task_id)
        .values(seq=(last or 0) + 1)
        .execution_options(synchronize_session=False)
    )


def open_tasks(session: Session, list_id: int) -> int:
    return int(
        session.scalar(
            select(func.count()).where(
                PickTask.pick_list_id == list_id, PickTask.status == PickTaskStatus.OPEN
            )
        )
        or 0
    )


def finish_shipments(session: Session, list_id: int) -> list[int]:
    """Shipments of the list with no open task left move to picked (their totes go to
    packing); a shipment with nothing picked is cancelled. Returns the order ids."""
    ships = session.execute(
        select(Shipment.id, Shipment.order_id).where(
            Shipment.pick_list_id == list_id, Shipment.status == ShipmentStatus.PICKING
        )
    ).all()
    orders = []
    for shipment_id, order_id in ships:
        picked = session.scalar(
            select(func.coalesce(func.sum(PickTask.picked), 0)).where(
                PickTask.shipment_id == shipment_id
            )
        )
        status = ShipmentStatus.PICKED if picked else ShipmentStatus.CANCELLED
        session.execute(
            update(Shipment)
            .where(Shipment.id == shipment_id)
            .values(status=status)
            .execution_options(synchronize_session=False)
        )
        orders.append(order_id)
    return orders


def order_fully_picked(session: Session, order_id: int) -> bool:
    """No shipment of the order is still being picked and nothing is waiting for a wave."""
    picking = session.scalar(
        select(func.count()).where(
            Shipment.order_id == order_id, Shipment.status == ShipmentStatus.PICKING
        )
    )
    waiting = session.scalar(
        select(func.count())
        .select_from(LineAllocation)
        .join(OrderLine, OrderLine.id == LineAllocation.order_line_id)
        .where(
            OrderLine.order_id == order_id,
            LineAllocation.status.in_((AllocationStatus.RESERVED, AllocationStatus.RELEASED)),
        )
    )
    return not picking and not waiting


def finish_wave(session: Session, wave_id: int) -> bool:
    left = session.scalar(
        select(func.count()).where(
            PickList.wave_id == wave_id,
            PickList.status.not_in((PickListStatus.DONE, PickListStatus.CANCELLED)),
        )
    )
    if left:
        return False
    session.execute(
        update(Wave)
        .where(Wave.id == wave_id, Wave.status == WaveStatus.RELEASED)
        .values(status=WaveStatus.DONE)
        .execution_options(synchronize_session=False)
    )
    return True


def add_event(
    session: Session,
    list_id: int,
    kind: str,
    who: Who,
    at: datetime,
    *,
    task_id: int | None = None,
    quantity: int = 0,
    lot: str = "",
    serials: tuple[str, ...] = (),
    expiry: date | None = None,
    tote: str = "",
    detail: str = "",
) -> None:
    session.execute(
        insert(PickEvent).values(
            pick_list_id=list_id,
            task_id=task_id,
            kind=kind,
            quantity=quantity,
            lot=lot,
            serials="\n".join(serials),
            expiry=expiry,
            tote=tote,
            detail=detail,
            at=at,
            actor=who.actor,
            user_id=who.user_id,
            station_id=who.station_id,
        )
    )


def events(session: Session, list_id: int) -> list[tuple[str, int | None, int, str, str]]:
    """(kind, task, quantity, tote, detail) of a list's history, oldest first."""
    rows = session.execute(
        select(
            PickEvent.kind, PickEvent.task_id, PickEvent.quantity, PickEvent.tote, PickEvent.detail
        )
        .where(PickEvent.pick_list_id == list_id)
        .order_by(PickEvent.id)
    )
    return [tuple(row) for row in rows]


def already_picked_serials(
    session: Session, product_id: int, serials: tuple[str, ...]
) -> list[str]:
    """Serial numbers of the product already picked before (a serial leaves only once)."""
    if not serials:
        return []
    rows = session.scalars(
        select(PickEvent.serials)
        .join(PickTask, PickTask.id == PickEvent.task_id)
        .where(PickTask.product_id == product_id, PickEvent.kind == "pick", PickEvent.serials != "")
    )
    seen = {s for text in rows for s in text.split("\n")}
    return [s for s in serials if s in seen]


def task_order_line(session: Session, task_id: int) -> int:
    line_id: int = session.execute(
        select(PickTask.order_line_id).where(PickTask.id == task_id)
    ).scalar_one()
    return line_id
