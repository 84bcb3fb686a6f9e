"""What the pick station reads and writes: claims, totes, confirmed picks, short picks,
skips, pauses, and the end of a pick list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, bindparam, case, func, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from data.inventory import Who
from data.models import (
    ACTIVE_SHIPMENTS,
    AllocationStatus,
    Channel,
    InventoryPosition,
    LineAllocation,
    Location,
    MovementReason,
    Node,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    PickedSerial,
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
    Station,
    Stock,
    StockMovement,
    User,
    Wave,
    WaveStatus,
)
from data.types import UTCDateTime, utcnow
from data.waves import ORDER_REF


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
            ORDER_REF,
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
            ORDER_REF,
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


def set_tote(session: Session, shipment_id: int, tote: str) -> bool:
    """Put the shipment in ``tote``; False (nothing written) when the tote was taken by
    another active shipment meanwhile (the unique index on totes in use says so)."""
    try:
        with session.begin_nested():
            session.execute(
                update(Shipment)
                .where(Shipment.id == shipment_id)
                .values(tote=tote)
                .execution_options(synchronize_session=False)
            )
    except IntegrityError:
        return False
    return True


def heartbeat(
    session: Session, list_id: int, user_id: int, at: datetime, station_id: int | None = None
) -> bool:
    """Refresh the claim; False when the list is no longer this user's at this station
    (taken back, or taken over on another terminal after this one went quiet)."""
    held = [PickList.claimed_by == user_id]
    if station_id is not None:
        held.append(PickList.claimed_station_id == station_id)
    moved = session.execute(
        update(PickList)
        .where(
            PickList.id == list_id,
            PickList.status == PickListStatus.CLAIMED,
            *held,
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


_TAKE_STOCK = (
    update(Stock)
    .where(
        Stock.location_id == bindparam("b_location"),
        Stock.product_id == bindparam("b_product"),
        Stock.lot == bindparam("b_lot"),
        Stock.on_hand >= bindparam("b_quantity"),
    )
    .values(on_hand=Stock.on_hand - bindparam("b_quantity"))
)
_TAKE_POSITION = (
    update(InventoryPosition)
    .where(
        InventoryPosition.node_id == bindparam("b_node"),
        InventoryPosition.product_id == bindparam("b_product"),
        InventoryPosition.reserved >= bindparam("b_quantity"),
    )
    .values(
        on_hand=InventoryPosition.on_hand - bindparam("b_quantity"),
        reserved=InventoryPosition.reserved - bindparam("b_quantity"),
    )
)
_MOVEMENTS = insert(StockMovement)
_RESERVATIONS = insert(Reservation)


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
    the location does not hold that many. Statements are built once: this is the hot path
    of every pick."""
    conn = session.connection()
    params = {
        "b_location": location_id,
        "b_product": product_id,
        "b_lot": lot,
        "b_quantity": quantity,
        "b_node": node_id,
    }
    if conn.execute(_TAKE_STOCK, params).rowcount != 1:
        return False
    if conn.execute(_TAKE_POSITION, params).rowcount != 1:
        raise RuntimeError(f"node {node_id} holds fewer than {quantity} reserved of {product_id}")
    who_columns = {
        "at": at,
        "actor": who.actor,
        "user_id": who.user_id,
        "station_id": who.station_id,
        "note": note,
    }
    conn.execute(
        _MOVEMENTS,
        {
            "node_id": node_id,
            "location_id": location_id,
            "product_id": product_id,
            "lot": lot,
            "quantity": -quantity,
            "reason": MovementReason.PICK.value,
            **who_columns,
        },
    )
    conn.execute(
        _RESERVATIONS,
        {
            "node_id": node_id,
            "product_id": product_id,
            "order_line_id": order_line_id,
            "kind": ReservationKind.CONSUME.value,
            "quantity": -quantity,
            **who_columns,
        },
    )
    return True


_ALLOCATION = (
    select(LineAllocation.order_line_id, LineAllocation.node_id, LineAllocation.quantity)
    .where(LineAllocation.id == bindparam("b_id"))
    .with_for_update()
)
_ALLOCATION_ALL_PICKED = (
    update(LineAllocation)
    .where(
        LineAllocation.id == bindparam("b_id"),
        LineAllocation.quantity == bindparam("b_quantity"),
        LineAllocation.status == AllocationStatus.RESERVED,
    )
    .values(status=AllocationStatus.PICKED)
)
_ALLOCATION_LESS = (
    update(LineAllocation)
    .where(LineAllocation.id == bindparam("b_id"))
    .values(quantity=LineAllocation.quantity - bindparam("b_quantity"))
)
_ALLOCATIONS = insert(LineAllocation)


def allocation_picked(session: Session, allocation_id: int, quantity: int) -> None:
    """Move ``quantity`` units of a reserved allocation to a picked one (the usual case,
    the whole allocation, is one statement)."""
    conn = session.connection()
    if (
        conn.execute(
            _ALLOCATION_ALL_PICKED, {"b_id": allocation_id, "b_quantity": quantity}
        ).rowcount
        == 1
    ):
        return
    row = conn.execute(_ALLOCATION, {"b_id": allocation_id}).one()
    if row.quantity < quantity:
        raise RuntimeError(f"allocation {allocation_id} holds {row.quantity}, not {quantity}")
    conn.execute(_ALLOCATION_LESS, {"b_id": allocation_id, "b_quantity": quantity})
    conn.execute(
        _ALLOCATIONS,
        {
            "order_line_id": row.order_line_id,
            "node_id": row.node_id,
            "quantity": quantity,
            "status": AllocationStatus.PICKED.value,
            "created_at": utcnow(),
        },
    )


def task_picked(session: Session, task_id: int, quantity: int) -> bool:
    """Add picked units to an open task (done when it has them all); False if the task was
    no longer open or would go over its quantity."""
    moved = session.execute(_TASK_PICKED, {"task_id": task_id, "add": quantity})
    return bool(moved.rowcount == 1)  # type: ignore[attr-defined]


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


_OPEN_TASKS = select(func.count()).where(
    PickTask.pick_list_id == bindparam("b_list"), PickTask.status == PickTaskStatus.OPEN
)


def open_tasks(session: Session, list_id: int) -> int:
    return int(session.connection().execute(_OPEN_TASKS, {"b_list": list_id}).scalar() or 0)


def finish_shipments(session: Session, list_id: int) -> list[int]:
    """Shipments of the finished list move to picked (their totes go to packing), or to
    cancelled when nothing was picked for them: two set-based UPDATEs. Returns the ids of
    the orders they belong to."""
    picked_units = (
        select(func.coalesce(func.sum(PickTask.picked), 0))
        .where(PickTask.shipment_id == Shipment.id)
        .scalar_subquery()
    )
    orders: set[int] = set()
    for status, condition in (
        (ShipmentStatus.PICKED, picked_units > 0),
        (ShipmentStatus.CANCELLED, picked_units == 0),
    ):
        orders.update(
            session.scalars(
                update(Shipment)
                .where(
                    Shipment.pick_list_id == list_id,
                    Shipment.status == ShipmentStatus.PICKING,
                    condition,
                )
                .values(status=status)
                .returning(Shipment.order_id)
                .execution_options(synchronize_session=False)
            )
        )
    return sorted(orders)


def orders_picked(
    session: Session,
    order_ids: Sequence[int],
    *,
    actor: str,
    user_id: int | None,
    station_id: int | None,
    at: datetime,
    note: str,
) -> list[int]:
    """Orders now wholly picked (no shipment still picking, nothing waiting for a wave)
    move from picking to picked, with an event each; returns those that moved."""
    if not order_ids:
        return []
    picking = (
        select(Shipment.id)
        .where(Shipment.order_id == Order.id, Shipment.status == ShipmentStatus.PICKING)
        .exists()
    )
    waiting = (
        select(LineAllocation.id)
        .join(OrderLine, OrderLine.id == LineAllocation.order_line_id)
        .where(
            OrderLine.order_id == Order.id,
            LineAllocation.status == AllocationStatus.RESERVED,
        )
        .exists()
    )
    moved = list(
        session.scalars(
            update(Order)
            .where(
                Order.id.in_(order_ids),
                Order.status == OrderStatus.PICKING,
                ~picking,
                ~waiting,
            )
            .values(status=OrderStatus.PICKED)
            .returning(Order.id)
            .execution_options(synchronize_session=False)
        )
    )
    if moved:
        session.execute(
            insert(OrderEvent),
            [
                {
                    "order_id": o,
                    "from_status": OrderStatus.PICKING,
                    "to_status": OrderStatus.PICKED,
                    "at": at,
                    "actor": actor,
                    "user_id": user_id,
                    "station_id": station_id,
                    "note": note,
                }
                for o in moved
            ],
        )
    return moved


def _row_locks(session: Session) -> bool:
    """PostgreSQL: rows are locked one by one and the one-statement paths apply. SQLite's
    write transaction holds the whole store already; its calls are in-process."""
    return session.get_bind().dialect.name == "postgresql"


_LOCK_ORDERS_AND_WAVE = text(
    "SELECT o.id FROM orders AS o CROSS JOIN waves AS w "
    "WHERE o.id = ANY(CAST(:orders AS BIGINT[])) AND w.id = :wave_id "
    "ORDER BY o.id FOR UPDATE"
)


def lock_orders_and_wave(session: Session, order_ids: Sequence[int], wave_id: int) -> None:
    """Hold these orders and their wave (one statement on PostgreSQL)."""
    if not _row_locks(session):
        return
    if order_ids:
        session.execute(_LOCK_ORDERS_AND_WAVE, {"orders": list(order_ids), "wave_id": wave_id})
    else:
        session.execute(select(Wave.id).where(Wave.id == wave_id).with_for_update())


def lock_list(session: Session, list_id: int) -> None:
    if _row_locks(session):
        session.execute(select(PickList.id).where(PickList.id == list_id).with_for_update())


_CLOSE_ORDERS_AND_WAVE = text(
    f"""
WITH ord AS (
    UPDATE orders AS o
    SET status = '{OrderStatus.PICKED.value}'
    WHERE o.id = ANY(CAST(:orders AS BIGINT[]))
      AND o.status = '{OrderStatus.PICKING.value}'
      AND NOT EXISTS (
          SELECT 1 FROM shipments AS s
          WHERE s.order_id = o.id AND s.status = '{ShipmentStatus.PICKING.value}'
      )
      AND NOT EXISTS (
          SELECT 1 FROM line_allocations AS a
          JOIN order_lines AS ol ON ol.id = a.order_line_id
          WHERE ol.order_id = o.id AND a.status = '{AllocationStatus.RESERVED.value}'
      )
    RETURNING o.id
),
oev AS (
    INSERT INTO order_events
        (order_id, from_status, to_status, at, actor, user_id, station_id, note)
    SELECT id, '{OrderStatus.PICKING.value}', '{OrderStatus.PICKED.value}',
           :at, :actor, :user_id, :station_id, :note
    FROM ord
    RETURNING id
),
wav AS (
    UPDATE waves AS w
    SET status = '{WaveStatus.DONE.value}'
    WHERE w.id = :wave_id
      AND w.status = '{WaveStatus.RELEASED.value}'
      AND NOT EXISTS (
          SELECT 1 FROM pick_lists AS l
          WHERE l.wave_id = w.id
            AND l.status NOT IN ('{PickListStatus.DONE.value}', '{PickListStatus.CANCELLED.value}')
      )
    RETURNING w.id
)
SELECT (SELECT count(*) FROM ord) AS orders, (SELECT count(*) FROM wav) AS waves
"""
).bindparams(
    bindparam("at", type_=UTCDateTime()),
    bindparam("station_id", type_=BigInteger()),
    bindparam("user_id", type_=BigInteger()),
)


def close_orders_and_wave(
    session: Session,
    order_ids: Sequence[int],
    wave_id: int,
    who: Who,
    at: datetime,
    note: str,
) -> bool:
    """After a list is done, on PostgreSQL and under ``lock_orders_and_wave``: its orders
    with nothing else being picked or waiting for a wave go to picked (with an event
    each), and the wave is done with its last list, in one statement. False on other
    databases (the caller does it step by step)."""
    if not _row_locks(session):
        return False
    session.connection().execute(
        _CLOSE_ORDERS_AND_WAVE,
        {
            "orders": list(order_ids),
            "wave_id": wave_id,
            "at": at,
            "actor": who.actor,
            "user_id": who.user_id,
            "station_id": who.station_id,
            "note": note,
        },
    )
    return True


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


_EVENTS = insert(PickEvent)


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
    session.connection().execute(
        _EVENTS,
        {
            "pick_list_id": list_id,
            "task_id": task_id,
            "kind": kind,
            "quantity": quantity,
            "lot": lot,
            "serials": "\n".join(serials),
            "expiry": expiry,
            "tote": tote,
            "detail": detail,
            "at": at,
            "actor": who.actor,
            "user_id": who.user_id,
            "station_id": who.station_id,
        },
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
    """Serial numbers of the product that have been picked before (a unit leaves once)."""
    if not serials:
        return []
    seen = set(
        session.scalars(
            select(PickedSerial.serial).where(
                PickedSerial.product_id == product_id, PickedSerial.serial.in_(serials)
            )
        )
    )
    return [s for s in serials if s in seen]


def add_picked_serials(
    session: Session, product_id: int, task_id: int, serials: tuple[str, ...], at: datetime
) -> None:
    """Record serial-numbered units as picked; the unique (product, serial) index refuses a
    unit picked twice even when two stations race."""
    if serials:
        session.execute(
            insert(PickedSerial),
            [
                {"product_id": product_id, "serial": s, "task_id": task_id, "at": at}
                for s in serials
            ],
        )


def stock_expiry(session: Session, location_id: int, lot: str) -> date | None:
    """The expiry date of a lot at a location (None when it has none)."""
    return session.scalar(
        select(Stock.expiry).where(Stock.location_id == location_id, Stock.lot == lot).limit(1)
    )


def lock_claim(
    session: Session, list_id: int, user_id: int, station_id: int | None = None
) -> tuple[int, int, str] | None:
    """(node id, wave id, node code) of a list this user holds (at this station, when
    given), locked; None otherwise."""
    row = session.execute(
        _LOCK_CLAIM, {"list_id": list_id, "user_id": user_id, "station_id": station_id}
    ).one_or_none()
    return (row[0], row[1], row[2]) if row else None


_LOCK_CLAIM = (
    select(PickList.node_id, PickList.wave_id, Node.code)
    .join(Node, Node.id == PickList.node_id)
    .where(
        PickList.id == bindparam("list_id"),
        PickList.status == PickListStatus.CLAIMED,
        PickList.claimed_by == bindparam("user_id"),
        or_(
            bindparam("station_id", type_=BigInteger).is_(None),
            PickList.claimed_station_id == bindparam("station_id", type_=BigInteger),
        ),
    )
    .with_for_update(of=PickList)
)


@dataclass(frozen=True)
class PickTarget:
    """What confirming a pick needs to know about its task."""

    location_id: int
    location_code: str
    product_id: int
    sku: str
    lot: str
    quantity: int
    picked: int
    status: PickTaskStatus
    tote: str | None
    allocation_id: int
    order_line_id: int
    order_id: int
    order_status: OrderStatus
    order_ref: str


_TARGET_COLUMNS = (
    PickTask.location_id,
    Location.code,
    PickTask.product_id,
    Product.sku,
    PickTask.lot,
    PickTask.quantity,
    PickTask.picked,
    PickTask.status,
    Shipment.tote,
    PickTask.allocation_id,
    PickTask.order_line_id,
    Order.id,
    Order.status,
    ORDER_REF,
)


_CLAIMED_TARGET = (
    select(PickList.node_id, PickList.wave_id, *_TARGET_COLUMNS)
    .select_from(PickTask)
    .join(PickList, PickList.id == PickTask.pick_list_id)
    .join(Location, Location.id == PickTask.location_id)
    .join(Product, Product.id == PickTask.product_id)
    .join(Shipment, Shipment.id == PickTask.shipment_id)
    .join(Order, Order.id == Shipment.order_id)
    .join(Channel, Channel.id == Order.channel_id)
    .where(
        PickTask.id == bindparam("task_id"),
        PickList.id == bindparam("list_id"),
        PickList.status == PickListStatus.CLAIMED,
        PickList.claimed_by == bindparam("user_id"),
        or_(
            bindparam("station_id", type_=BigInteger).is_(None),
            PickList.claimed_station_id == bindparam("station_id", type_=BigInteger),
        ),
    )
    .with_for_update(of=PickList)
)


def claimed_target(
    session: Session, list_id: int, task_id: int, user_id: int, station_id: int | None = None
) -> tuple[int, int, PickTarget] | None:
    """(node id, wave id, task) when this user holds the list (locked) and the task is on
    it; None otherwise. One round trip: the lock and the read a pick starts with."""
    row = session.execute(
        _CLAIMED_TARGET,
        {"task_id": task_id, "list_id": list_id, "user_id": user_id, "station_id": station_id},
    ).one_or_none()
    if row is None:
        return None
    return row[0], row[1], PickTarget(*row[2:])


_TASK_PICKED = (
    update(PickTask)
    .where(
        PickTask.id == bindparam("task_id"),
        PickTask.status == PickTaskStatus.OPEN,
        PickTask.picked + bindparam("add") <= PickTask.quantity,
    )
    .values(
        picked=PickTask.picked + bindparam("add"),
        status=case(
            (PickTask.picked + bindparam("add") == PickTask.quantity, PickTaskStatus.DONE),
            else_=PickTask.status,
        ),
    )
    .execution_options(synchronize_session=False)
)


@dataclass(frozen=True)
class ToteContent:
    """Units of an order already picked into a tote."""

    tote: str | None
    pick_list_id: int
    sku: str
    quantity: int


def cancel_shipments(session: Session, order_id: int) -> list[ToteContent]:
    """An order is cancelled: its shipments still being picked are cancelled (their open
    tasks were cancelled with the reservations); returns what is already in totes."""
    inside = session.execute(
        select(Shipment.tote, Shipment.pick_list_id, Product.sku, func.sum(PickTask.picked))
        .join(PickTask, PickTask.shipment_id == Shipment.id)
        .join(Product, Product.id == PickTask.product_id)
        .where(
            Shipment.order_id == order_id,
            Shipment.status.in_(ACTIVE_SHIPMENTS),
            PickTask.picked > 0,
        )
        .group_by(Shipment.tote, Shipment.pick_list_id, Product.sku)
    ).all()
    session.execute(
        update(Shipment)
        .where(Shipment.order_id == order_id, Shipment.status.in_(ACTIVE_SHIPMENTS))
        .values(status=ShipmentStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(PickTask)
        .where(
            PickTask.shipment_id.in_(select(Shipment.id).where(Shipment.order_id == order_id)),
            PickTask.status == PickTaskStatus.OPEN,
        )
        .values(status=PickTaskStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    return [ToteContent(*row) for row in inside]


def active_lists_of_order(session: Session, order_id: int) -> list[tuple[int, int]]:
    """(pick list, wave) of the order's shipments still being picked."""
    rows = session.execute(
        select(PickList.id, PickList.wave_id)
        .join(Shipment, Shipment.pick_list_id == PickList.id)
        .where(
            Shipment.order_id == order_id,
            Shipment.status == ShipmentStatus.PICKING,
            PickList.status.in_(
                (PickListStatus.RELEASED, PickListStatus.CLAIMED, PickListStatus.PAUSED)
            ),
        )
        .distinct()
    )
    return [(row[0], row[1]) for row in rows]


_LOCK_ORDER_OF_TASK = (
    select(Order.id)
    .where(
        Order.id
        == select(Shipment.order_id)
        .join(PickTask, PickTask.shipment_id == Shipment.id)
        .where(PickTask.id == bindparam("task_id"))
        .scalar_subquery()
    )
    .with_for_update()
)


def lock_order_of_task(session: Session, task_id: int) -> None:
    """Hold the order a task picks for (one round trip), as cancelling the order does."""
    session.execute(_LOCK_ORDER_OF_TASK, {"task_id": task_id})


# On PostgreSQL a pick is one statement after the order's lock: data-modifying CTEs take
# the list's lock and write the task, the location's stock, the node's position, the
# allocation, the history and the order's first move to picking, each conditional on what
# it needs, and the closing SELECT says which of them took effect. A pick where any did not
# is rolled back by the caller and confirmed again step by step, which then names the
# reason. Every status below is one of the models' enum values.
_PICK_IN_ONE = text(
    f"""
WITH lst AS (
    SELECT l.id, l.node_id, l.wave_id
    FROM pick_lists AS l
    WHERE l.id = :list_id
      AND l.status = '{PickListStatus.CLAIMED.value}'
      AND l.claimed_by = :user_id
      AND (CAST(:station_id AS BIGINT) IS NULL OR l.claimed_station_id = :station_id)
    FOR UPDATE
),
tsk AS (
    UPDATE pick_tasks AS t
    SET picked = t.picked + :q,
        status = CASE WHEN t.picked + :q = t.quantity
                      THEN '{PickTaskStatus.DONE.value}' ELSE t.status END
    FROM lst, shipments AS s
    WHERE t.id = :task_id
      AND t.pick_list_id = lst.id
      AND t.status = '{PickTaskStatus.OPEN.value}'
      AND t.picked + :q <= t.quantity
      AND (t.lot = '' OR t.lot = :lot)
      AND s.id = t.shipment_id
      AND s.tote = :tote
    RETURNING t.location_id, t.product_id, t.order_line_id, t.allocation_id,
              lst.node_id, lst.wave_id, s.order_id
),
why AS (
    SELECT :note || c.code || '/' || o.external_id AS note
    FROM tsk
    JOIN orders AS o ON o.id = tsk.order_id
    JOIN channels AS c ON c.id = o.channel_id
),
stk AS (
    UPDATE stock AS k
    SET on_hand = k.on_hand - :q
    FROM tsk
    WHERE k.location_id = tsk.location_id
      AND k.product_id = tsk.product_id
      AND k.lot = :lot
      AND k.on_hand >= :q
    RETURNING k.id
),
pos AS (
    UPDATE inventory_positions AS p
    SET on_hand = p.on_hand - :q, reserved = p.reserved - :q
    FROM tsk
    WHERE p.node_id = tsk.node_id AND p.product_id = tsk.product_id AND p.reserved >= :q
    RETURNING p.node_id
),
mov AS (
    INSERT INTO stock_movements
        (node_id, location_id, product_id, lot, quantity, reason,
         at, actor, user_id, station_id, note)
    SELECT tsk.node_id, tsk.location_id, tsk.product_id, :lot, -:q,
           '{MovementReason.PICK.value}', :at, :actor, :user_id, :station_id, why.note
    FROM tsk, why
    RETURNING id
),
res AS (
    INSERT INTO reservations
        (node_id, product_id, order_line_id, kind, quantity,
         at, actor, user_id, station_id, note)
    SELECT tsk.node_id, tsk.product_id, tsk.order_line_id,
           '{ReservationKind.CONSUME.value}', -:q, :at, :actor, :user_id, :station_id, why.note
    FROM tsk, why
    RETURNING id
),
alc_all AS (
    UPDATE line_allocations AS a
    SET status = '{AllocationStatus.PICKED.value}'
    FROM tsk
    WHERE a.id = tsk.allocation_id
      AND a.quantity = :q
      AND a.status = '{AllocationStatus.RESERVED.value}'
    RETURNING a.id
),
alc_less AS (
    UPDATE line_allocations AS a
    SET quantity = a.quantity - :q
    FROM tsk
    WHERE a.id = tsk.allocation_id
      AND a.quantity > :q
      AND a.status = '{AllocationStatus.RESERVED.value}'
    RETURNING a.order_line_id, a.node_id
),
alc_new AS (
    INSERT INTO line_allocations (order_line_id, node_id, quantity, status, created_at)
    SELECT order_line_id, node_id, :q, '{AllocationStatus.PICKED.value}', :at
    FROM alc_less
    RETURNING id
),
ord AS (
    UPDATE orders AS o
    SET status = '{OrderStatus.PICKING.value}'
    FROM tsk
    WHERE o.id = tsk.order_id AND o.status = '{OrderStatus.RELEASED.value}'
    RETURNING o.id
),
oev AS (
    INSERT INTO order_events
        (order_id, from_status, to_status, at, actor, user_id, station_id, note)
    SELECT id, '{OrderStatus.RELEASED.value}', '{OrderStatus.PICKING.value}',
           :at, :actor, :user_id, :station_id, why.note
    FROM ord, why
    RETURNING id
),
ser AS (
    INSERT INTO picked_serials (product_id, serial, task_id, at)
    SELECT tsk.product_id, u.serial, :task_id, :at
    FROM tsk, unnest(CAST(:serial_list AS TEXT[])) AS u(serial)
    ON CONFLICT DO NOTHING
    RETURNING id
),
evt AS (
    INSERT INTO pick_events
        (pick_list_id, task_id, kind, quantity, lot, serials, expiry, tote, detail,
         at, actor, user_id, station_id)
    SELECT :list_id, :task_id, 'pick', :q, :lot, :serials, :expiry, :tote, '',
           :at, :actor, :user_id, :station_id
    FROM tsk
    RETURNING id
)
SELECT
    (SELECT count(*) FROM tsk) AS tasks,
    (SELECT count(*) FROM stk) AS stock,
    (SELECT count(*) FROM pos) AS positions,
    (SELECT count(*) FROM alc_all) + (SELECT count(*) FROM alc_new) AS allocations,
    (SELECT count(*) FROM ser) AS serials,
    (SELECT wave_id FROM tsk) AS wave_id
"""
).bindparams(
    bindparam("at", type_=UTCDateTime()),
    bindparam("expiry", type_=Date()),
    bindparam("station_id", type_=BigInteger()),
    bindparam("user_id", type_=BigInteger()),
)


@dataclass(frozen=True)
class OneStatementPick:
    """What the one-statement pick did: the list's ``wave_id`` when every write took
    effect, else None."""

    wave_id: int | None


def pick_in_one_statement(
    session: Session,
    *,
    list_id: int,
    task_id: int,
    quantity: int,
    lot: str,
    tote: str,
    serials: tuple[str, ...],
    expiry: date | None,
    who: Who,
    at: datetime,
    note: str,
) -> OneStatementPick | None:
    """The whole of a pick as one statement, on PostgreSQL (None elsewhere: the caller
    confirms step by step). The caller must hold the order's lock first and roll back when
    the result's ``wave_id`` is None. History rows get ``note`` followed by the order's
    reference."""
    if not _row_locks(session):
        return None
    row = (
        session.connection()
        .execute(
            _PICK_IN_ONE,
            {
                "list_id": list_id,
                "task_id": task_id,
                "user_id": who.user_id,
                "station_id": who.station_id,
                "q": quantity,
                "lot": lot,
                "tote": tote,
                "serials": "\n".join(serials),
                "serial_list": list(serials),
                "expiry": expiry,
                "at": at,
                "actor": who.actor,
                "note": note,
            },
        )
        .one()
    )
    writes = (row.tasks, row.stock, row.positions, row.allocations, row.serials)
    if writes != (1, 1, 1, 1, len(serials)):
        return OneStatementPick(None)
    return OneStatementPick(int(row.wave_id))


# The end of a pick list on PostgreSQL, as one statement: the list is done when no task
# is open, its shipments go to picked (or cancelled, when nothing was picked for them),
# and the orders they belong to come back for the caller to move on (under their locks,
# in statements of their own, so two lists of one order finishing at once see each
# other's work).
_FINISH_IN_ONE = text(
    f"""
WITH lst AS (
    UPDATE pick_lists AS l
    SET status = '{PickListStatus.DONE.value}', done_at = :at
    WHERE l.id = :list_id
      AND l.status NOT IN ('{PickListStatus.DONE.value}', '{PickListStatus.CANCELLED.value}')
      AND NOT EXISTS (
          SELECT 1 FROM pick_tasks AS t
          WHERE t.pick_list_id = l.id AND t.status = '{PickTaskStatus.OPEN.value}'
      )
    RETURNING l.id, l.wave_id
),
shp AS (
    UPDATE shipments AS s
    SET status = CASE
        WHEN EXISTS (SELECT 1 FROM pick_tasks AS t WHERE t.shipment_id = s.id AND t.picked > 0)
        THEN '{ShipmentStatus.PICKED.value}' ELSE '{ShipmentStatus.CANCELLED.value}' END
    FROM lst
    WHERE s.pick_list_id = lst.id AND s.status = '{ShipmentStatus.PICKING.value}'
    RETURNING s.id, s.order_id
),
evt AS (
    INSERT INTO pick_events
        (pick_list_id, task_id, kind, quantity, lot, serials, expiry, tote, detail,
         at, actor, user_id, station_id)
    SELECT lst.id, NULL, 'done', 0, '', '', NULL, '', '', :at, :actor, :user_id, :station_id
    FROM lst
    RETURNING id
)
SELECT
    (SELECT count(*) FROM lst) AS finished,
    ARRAY(SELECT DISTINCT order_id FROM shp ORDER BY order_id) AS orders
"""
).bindparams(
    bindparam("at", type_=UTCDateTime()),
    bindparam("station_id", type_=BigInteger()),
    bindparam("user_id", type_=BigInteger()),
)


def finish_list_in_one_statement(
    session: Session, list_id: int, who: Who, at: datetime
) -> tuple[bool, list[int]] | None:
    """Close a list with no open task, as one statement on PostgreSQL: (True, the orders
    of its shipments) when it was closed now, (False, []) when it still has open tasks (or
    was closed already), None on other databases (the caller closes it step by step)."""
    if not _row_locks(session):
        return None
    row = (
        session.connection()
        .execute(
            _FINISH_IN_ONE,
            {
                "list_id": list_id,
                "at": at,
                "actor": who.actor,
                "user_id": who.user_id,
                "station_id": who.station_id,
            },
        )
        .one()
    )
    return bool(row.finished), [int(o) for o in row.orders or ()]


@dataclass(frozen=True)
class FloorList:
    """A pick list still on the floor (released, claimed or paused), as a supervisor
    watches it."""

    id: int
    wave_id: int
    zone: str
    status: PickListStatus
    lines: int
    lines_open: int
    totes: int
    picker: str | None
    badge: str | None
    station: str | None
    claimed_at: datetime | None
    heartbeat_at: datetime | None


def floor_lists(session: Session, node_id: int) -> list[FloorList]:
    """The node's pick lists not yet done: claimed ones first, then paused, then released,
    each by wave priority and cut-off (the order pickers get them in)."""
    lines = (
        select(func.count())
        .where(PickTask.pick_list_id == PickList.id)
        .correlate(PickList)
        .scalar_subquery()
    )
    open_lines = (
        select(func.count())
        .where(PickTask.pick_list_id == PickList.id, PickTask.status == PickTaskStatus.OPEN)
        .correlate(PickList)
        .scalar_subquery()
    )
    order = case(
        (PickList.status == PickListStatus.CLAIMED, 0),
        (PickList.status == PickListStatus.PAUSED, 1),
        else_=2,
    )
    rows = session.execute(
        select(
            PickList.id,
            PickList.wave_id,
            PickList.zone,
            PickList.status,
            lines,
            open_lines,
            PickList.totes,
            User.name,
            User.badge,
            Station.code,
            PickList.claimed_at,
            PickList.heartbeat_at,
        )
        .join(Wave, Wave.id == PickList.wave_id)
        .outerjoin(User, User.id == PickList.claimed_by)
        .outerjoin(Station, Station.id == PickList.claimed_station_id)
        .where(
            PickList.node_id == node_id,
            PickList.status.in_(
                (PickListStatus.CLAIMED, PickListStatus.PAUSED, PickListStatus.RELEASED)
            ),
        )
        .order_by(order, Wave.priority, Wave.cutoff_at, PickList.wave_id, PickList.seq)
    )
    return [FloorList(*row) for row in rows]
