"""What the pick station reads and writes: claims, totes, confirmed picks, short picks,
skips, pauses, and the end of a pick list.

Reads return what the rules (``app.picking.station``) need; writes carry out what the rules
decided, each conditional on the rows being as they were read (else ``StaleRead``: the
transaction runs again and the rules look afresh). Nothing here decides whether a pick is
allowed or when a list, an order or a wave is finished."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    BindParameter,
    ColumnElement,
    Date,
    Select,
    String,
    TextClause,
    any_,
    bindparam,
    case,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from data.inventory import Who
from data.models import (
    ACTIVE_SHIPMENTS,
    AllocationStatus,
    Channel,
    InventoryPosition,
    LineAllocation,
    Location,
    LoginEvent,
    MovementReason,
    Node,
    Order,
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
from data.orders import (
    StatusChange,
    change_statuses,
    status_change_binds,
    status_change_ctes,
    status_change_params,
)
from data.types import UTCDateTime
from data.uow import StaleRead
from data.waves import ORDER_REF


def _last_claimer() -> Any:
    """The user who claimed the pick list last (a correlated subquery on ``PickList``)."""
    return (
        select(PickEvent.user_id)
        .where(PickEvent.pick_list_id == PickList.id, PickEvent.kind == "claim")
        .order_by(PickEvent.id.desc())
        .limit(1)
        .correlate(PickList)
        .scalar_subquery()
    )


def _takeable(user_id: int, station_id: int, stale_before: datetime) -> ColumnElement[bool]:
    """Free for this picker: released, paused, claimed but gone stale, or claimed by this
    very picker at this station before they last logged in there (the station stopped, or
    restarted, under them: the list is still on their cart)."""
    logged_in = (
        select(func.max(LoginEvent.at))
        .where(
            LoginEvent.user_id == user_id,
            LoginEvent.station_id == station_id,
            LoginEvent.outcome == "ok",
        )
        .scalar_subquery()
    )
    return or_(
        PickList.status.in_((PickListStatus.RELEASED, PickListStatus.PAUSED)),
        (PickList.status == PickListStatus.CLAIMED)
        & (
            (PickList.heartbeat_at < stale_before)
            | (
                (PickList.claimed_by == user_id)
                & (PickList.claimed_station_id == station_id)
                & (PickList.claimed_at < logged_in)
            )
        ),
    )


def claim_next(
    session: Session,
    node_id: int,
    zone: str | None,
    user_id: int,
    station_id: int,
    at: datetime,
    stale_before: datetime,
) -> int | None:
    """Claim the first pick list this picker may take: their own first (one they still
    hold after a restart, or the last to claim a paused or stale one), then a paused one or
    one whose claim went stale (its terminal stopped sending heartbeats), then the next
    released one by wave priority and cut-off. ``FOR UPDATE SKIP LOCKED`` on PostgreSQL:
    two pickers never wait on, or get, the same list; on SQLite the write transaction
    holds the store."""
    own = (PickList.claimed_by == user_id) | (
        (PickList.status != PickListStatus.RELEASED) & (_last_claimer() == user_id)
    )
    stmt = (
        select(PickList.id)
        .join(Wave, Wave.id == PickList.wave_id)
        .where(PickList.node_id == node_id, _takeable(user_id, station_id, stale_before))
        .order_by(
            case((own, 0), else_=1),
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
    """Take one pick list if it is free for this picker (released, paused, claimed but gone
    stale, or still theirs at this station)."""
    moved = session.execute(
        update(PickList)
        .where(PickList.id == list_id, _takeable(user_id, station_id, stale_before))
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


def last_hands(session: Session, list_id: int) -> tuple[str, int | None] | None:
    """The list's last claim or take-back, as (kind, user id); None if it had neither."""
    row = session.execute(
        select(PickEvent.kind, PickEvent.user_id)
        .where(PickEvent.pick_list_id == list_id, PickEvent.kind.in_(("claim", "take_back")))
        .order_by(PickEvent.id.desc())
        .limit(1)
    ).one_or_none()
    return (row[0], row[1]) if row else None


def unbind_totes(session: Session, list_id: int) -> int:
    """Take the totes off the list's shipments still being picked (the cart they were on is
    not the next picker's); the units already picked stay recorded against their totes in
    the pick history. The number of shipments whose tote was taken off."""
    moved = session.execute(
        update(Shipment)
        .where(
            Shipment.pick_list_id == list_id,
            Shipment.status == ShipmentStatus.PICKING,
            Shipment.tote.is_not(None),
        )
        .values(tote=None)
        .execution_options(synchronize_session=False)
    )
    return int(moved.rowcount or 0)  # type: ignore[attr-defined]


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
    started_at: datetime | None
    """When the list was first claimed (its elapsed time runs from there)."""


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
            select(func.min(PickEvent.at))
            .where(PickEvent.pick_list_id == PickList.id, PickEvent.kind.in_(("claim", "pick")))
            .correlate(PickList)
            .scalar_subquery(),
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
    earlier: tuple[str, ...] = ()
    """Other totes units of this shipment were picked into (before the list changed
    hands): they stay there, recorded against those totes, for the packer."""


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
    slots = [ToteSlot(*row) for row in rows]
    picked_into: dict[int, list[str]] = {}
    for shipment_id, tote in session.execute(
        select(PickTask.shipment_id, PickEvent.tote)
        .join(PickTask, PickTask.id == PickEvent.task_id)
        .where(PickEvent.pick_list_id == list_id, PickEvent.kind == "pick", PickEvent.tote != "")
        .group_by(PickTask.shipment_id, PickEvent.tote)
        .order_by(PickTask.shipment_id, func.min(PickEvent.id))
    ):
        picked_into.setdefault(shipment_id, []).append(tote)
    return [
        ToteSlot(
            *(s.shipment_id, s.slot, s.tote, s.status, s.order_id, s.order_ref),
            earlier=tuple(t for t in picked_into.get(s.shipment_id, ()) if t != s.tote),
        )
        for s in slots
    ]


@dataclass(frozen=True)
class ToteInUse:
    """An active shipment (picking or picked) whose units are in a tote."""

    shipment_id: int
    order_ref: str


def tote_holder(session: Session, tote: str, *, beside: int | None = None) -> ToteInUse | None:
    """The active shipment (picking or picked) other than ``beside`` already in this tote:
    bound to it now, or with units picked into it before its list changed hands."""
    bound = (
        select(Shipment.id, ORDER_REF)
        .join(Order, Order.id == Shipment.order_id)
        .join(Channel, Channel.id == Order.channel_id)
        .where(Shipment.tote == tote, Shipment.status.in_(ACTIVE_SHIPMENTS))
    )
    earlier = (
        select(Shipment.id, ORDER_REF)
        .join(PickTask, PickTask.shipment_id == Shipment.id)
        .join(
            PickEvent,
            (PickEvent.pick_list_id == Shipment.pick_list_id) & (PickEvent.task_id == PickTask.id),
        )
        .join(Order, Order.id == Shipment.order_id)
        .join(Channel, Channel.id == Order.channel_id)
        .where(
            PickEvent.kind == "pick",
            PickEvent.tote == tote,
            Shipment.status.in_(ACTIVE_SHIPMENTS),
        )
    )
    if beside is not None:
        bound = bound.where(Shipment.id != beside)
        earlier = earlier.where(Shipment.id != beside)
    for stmt in (bound, earlier):
        row = session.execute(stmt.limit(1)).one_or_none()
        if row is not None:
            return ToteInUse(row[0], row[1])
    return None


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


def _units_in(shipment: Any) -> Any:
    return (
        select(func.coalesce(func.sum(PickTask.picked), 0))
        .where(PickTask.shipment_id == shipment.id)
        .correlate(shipment)
        .scalar_subquery()
    )


def _picking_elsewhere(this_list: Any) -> Any:
    """Whether the order (``Order``, correlated) has a shipment being picked on a list
    other than ``this_list``."""
    other = aliased(Shipment)
    return (
        select(other.id)
        .where(
            other.order_id == Order.id,
            other.pick_list_id != this_list,
            other.status == ShipmentStatus.PICKING,
        )
        .correlate_except(other)
        .exists()
    )


def _still_reserved(*, leaving: Any = None) -> Any:
    """Whether units of the order (``Order``, correlated) are still reserved, the allocation
    ``leaving`` (all of it about to be picked) not counted."""
    wanted = [OrderLine.order_id == Order.id, LineAllocation.status == AllocationStatus.RESERVED]
    if leaving is not None:
        wanted.append(LineAllocation.id != leaving)
    return (
        select(LineAllocation.id)
        .join(OrderLine, OrderLine.id == LineAllocation.order_line_id)
        .where(*wanted)
        .correlate_except(LineAllocation, OrderLine)
        .exists()
    )


_ORDERS_OF_LIST = (
    select(
        Shipment.id,
        Shipment.order_id,
        _units_in(Shipment),
        Wave.status,
        select(func.count())
        .where(
            PickList.wave_id == Wave.id,
            PickList.id != Shipment.pick_list_id,
            PickList.status.not_in((PickListStatus.DONE, PickListStatus.CANCELLED)),
        )
        .correlate(Wave, Shipment)
        .scalar_subquery(),
        Order.status,
        _picking_elsewhere(Shipment.pick_list_id),
        _still_reserved(leaving=bindparam("b_leaving")),
    )
    .join(Order, Order.id == Shipment.order_id)
    .join(Wave, Wave.id == bindparam("b_wave"))
    .where(
        Shipment.pick_list_id == bindparam("b_list"),
        Shipment.status == ShipmentStatus.PICKING,
    )
    .order_by(Order.id, Shipment.id)
    .with_for_update(of=[Order, Wave])
)


@dataclass(frozen=True)
class HeldList:
    """A list's shipments still being picked, with the units in their totes, and where
    its orders and its wave stand besides it, as read while taking their locks."""

    shipments: tuple[ShipmentOnList, ...]
    wave: WaveProgress | None
    orders: tuple[OrderProgress, ...] = ()
    """Read by the statement that took the locks: if it waited for another list of the
    wave or of an order, that list may still count as open here (a later read counts it
    closed), so a decision made on these is checked against a later read."""


def lock_orders_of_list(
    session: Session, list_id: int, wave_id: int, *, leaving: int | None = None
) -> HeldList:
    """Hold the orders of the list's shipments still being picked, and its wave, as
    ``lock_orders_and_wave`` does (one statement on PostgreSQL); those shipments and the
    units in their totes (picks on the list wait for its lock, which the caller holds),
    and where the orders stand, the allocation ``leaving`` counted as no longer reserved
    (the pick about to be written takes all of it)."""
    rows = session.execute(
        _ORDERS_OF_LIST, {"b_list": list_id, "b_wave": wave_id, "b_leaving": leaving or 0}
    ).all()
    if not rows:
        if _row_locks(session):
            session.execute(select(Wave.id).where(Wave.id == wave_id).with_for_update())
        return HeldList((), None)
    orders = {r[1]: OrderProgress(r[1], r[5], bool(r[6]), bool(r[7])) for r in rows}
    return HeldList(
        tuple(ShipmentOnList(r[0], r[1], int(r[2])) for r in rows),
        WaveProgress(rows[0][3], int(rows[0][4])),
        tuple(orders.values()),
    )


def lock_list(session: Session, list_id: int) -> None:
    if _row_locks(session):
        session.execute(select(PickList.id).where(PickList.id == list_id).with_for_update())


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


# --- a pick ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PickFacts:
    """Everything the pick rules (app.picking.station) look at, read in one statement that
    holds the order's lock and then the list's."""

    list_id: int
    list_status: PickListStatus
    claimed_by: int | None
    claimed_station_id: int | None
    node_id: int
    wave_id: int
    task_id: int
    task_status: PickTaskStatus
    quantity: int
    picked: int
    lot: str
    location_id: int
    product_id: int
    shipment_id: int
    tote: str | None
    order_line_id: int
    allocation_id: int
    allocation_quantity: int
    allocation_status: AllocationStatus
    order_id: int
    order_status: OrderStatus
    order_ref: str
    on_hand: int | None
    """Units of the scanned lot the books hold at the task's location (None: none at all)."""
    others_open: int
    """Open tasks of the list besides this one."""
    seen_serials: frozenset[str]
    """Which of the scanned serial numbers of the product were picked before."""


_STOCK_OF_LOT = (
    select(Stock.on_hand)
    .where(
        Stock.location_id == PickTask.location_id,
        Stock.product_id == PickTask.product_id,
        Stock.lot == bindparam("lot"),
    )
    .correlate(PickTask)
    .scalar_subquery()
)
_OTHERS_OPEN = (
    select(func.count())
    .select_from(_OTHER_TASK := aliased(PickTask))
    .where(
        _OTHER_TASK.pick_list_id == PickTask.pick_list_id,
        _OTHER_TASK.id != PickTask.id,
        _OTHER_TASK.status == PickTaskStatus.OPEN,
    )
    .correlate(PickTask)
    .scalar_subquery()
)
_SEEN_SERIALS = (
    select(func.aggregate_strings(PickedSerial.serial, "\n"))
    .where(
        PickedSerial.product_id == PickTask.product_id,
        PickedSerial.serial.in_(bindparam("serials", expanding=True)),
    )
    .correlate(PickTask)
    .scalar_subquery()
)


def _facts_statement(serials: bool) -> Select[Any]:
    return (
        select(
            PickList.id,
            PickList.status,
            PickList.claimed_by,
            PickList.claimed_station_id,
            PickList.node_id,
            PickList.wave_id,
            PickTask.id,
            PickTask.status,
            PickTask.quantity,
            PickTask.picked,
            PickTask.lot,
            PickTask.location_id,
            PickTask.product_id,
            Shipment.id,
            Shipment.tote,
            PickTask.order_line_id,
            PickTask.allocation_id,
            LineAllocation.quantity,
            LineAllocation.status,
            Order.id,
            Order.status,
            ORDER_REF,
            _STOCK_OF_LOT,
            _OTHERS_OPEN,
            _SEEN_SERIALS if serials else literal(None, String()),
        )
        # Only what every pick needs: each table a statement touches costs its locks and
        # planning on every pick (the names a refusal shows are read when it is made).
        .select_from(PickTask)
        .join(PickList, PickList.id == PickTask.pick_list_id)
        .join(Shipment, Shipment.id == PickTask.shipment_id)
        .join(Order, Order.id == Shipment.order_id)
        .join(Channel, Channel.id == Order.channel_id)
        .join(LineAllocation, LineAllocation.id == PickTask.allocation_id)
        .where(PickTask.id == bindparam("task_id"))
        # The order first, as cancelling it takes it (then the list): a pick and a
        # cancellation of its order never hold one lock each while waiting for the other.
        .with_for_update(of=[Order, PickList])
    )


_PICK_FACTS = _facts_statement(serials=False)
_PICK_FACTS_SERIALS = _facts_statement(serials=True)


def pick_facts(
    session: Session, task_id: int, *, lot: str = "", serials: Sequence[str] = ()
) -> PickFacts | None:
    """The task, its list, order, allocation and the stock of ``lot`` at its location, and
    which of ``serials`` were picked before; the order and the list locked (on PostgreSQL).
    None when there is no such task."""
    params: dict[str, object] = {"task_id": task_id, "lot": lot}
    if serials:
        params["serials"] = list(serials)
    row = session.execute(_PICK_FACTS_SERIALS if serials else _PICK_FACTS, params).one_or_none()
    if row is None:
        return None
    columns = list(row)
    seen = columns[-1]
    columns[-1] = frozenset(seen.split("\n") if seen else ())
    return PickFacts(*columns)


@dataclass(frozen=True)
class TaskNames:
    """How a refusal names a task's location and product."""

    location: str
    sku: str


def task_names(session: Session, task_id: int) -> TaskNames:
    row = session.execute(
        select(Location.code, Product.sku)
        .select_from(PickTask)
        .join(Location, Location.id == PickTask.location_id)
        .join(Product, Product.id == PickTask.product_id)
        .where(PickTask.id == task_id)
    ).one()
    return TaskNames(row[0], row[1])


@dataclass(frozen=True)
class ListClose:
    """The end of a list as decided: the status it was read in, the shipments with units
    in their totes (to packing) and those left empty (cancelled), and its wave when the
    wave is done with it."""

    status_before: PickListStatus
    picked: tuple[int, ...]
    emptied: tuple[int, ...]
    wave_id: int | None = None


def _closing_params(close: ListClose) -> dict[str, object]:
    return {
        "list_done": PickListStatus.DONE.value,
        "list_status_before": close.status_before.value,
        "picked_ids": sorted(close.picked),
        "shipment_ids": sorted({*close.picked, *close.emptied}),
        "shipment_picked": ShipmentStatus.PICKED.value,
        "shipment_cancelled": ShipmentStatus.CANCELLED.value,
        "wave_to_close": close.wave_id,
        "wave_done": WaveStatus.DONE.value,
        "wave_released": WaveStatus.RELEASED.value,
    }


@dataclass(frozen=True)
class PickWrite:
    """A pick the rules allowed, as the rows it changes; ``*_before`` are the values the
    rules saw, which the writes are conditional on."""

    list_id: int
    wave_id: int
    task_id: int
    node_id: int
    location_id: int
    product_id: int
    order_line_id: int
    allocation_id: int
    quantity: int
    lot: str
    tote: str
    serials: tuple[str, ...]
    expiry: date | None
    note: str
    """The stock movement's and reservation's note."""
    task_status_before: PickTaskStatus
    picked_before: int
    task_status: PickTaskStatus
    """The task's status once these units are in."""
    allocation_status_before: AllocationStatus
    allocation_quantity_before: int
    allocation_left: int
    """Units of the allocation that stay reserved (the rest become a picked allocation);
    0 when all of it is picked."""


# The end of a list as decided: the list done, its shipments to packing (or cancelled),
# and its history row (after the pick's own, when it is written with a pick).
_CLOSE_LIST_WRITES = """
lst AS (
    UPDATE pick_lists AS l
    SET status = :list_done, done_at = :at
    WHERE l.id = :list_id AND l.status = :list_status_before
    RETURNING l.id
),
shp AS (
    UPDATE shipments AS s
    SET status = CASE WHEN s.id = ANY(CAST(:picked_ids AS BIGINT[]))
                      THEN :shipment_picked ELSE :shipment_cancelled END
    WHERE s.id = ANY(CAST(:shipment_ids AS BIGINT[])) AND s.status = :picking
    RETURNING s.id
),
done AS (
    INSERT INTO pick_events
        (pick_list_id, task_id, kind, quantity, lot, serials, expiry, tote, detail,
         at, actor, user_id, station_id)
    SELECT :list_id, NULL, 'done', 0, '', '', NULL, '', '', :at, :actor, :user_id, :station_id
    FROM {after}
    RETURNING id
),
wav AS (
    UPDATE waves AS w
    SET status = :wave_done
    WHERE w.id = CAST(:wave_to_close AS BIGINT) AND w.status = :wave_released
    RETURNING w.id
)"""
_CLOSED = """
    (SELECT count(*) FROM lst) AS lists,
    (SELECT count(*) FROM shp) AS closed_shipments,
    (SELECT count(*) FROM wav) AS closed_waves
"""

# On PostgreSQL the writes of a pick are one statement of data-modifying CTEs. None of them
# decides anything: each is conditional on what the rules saw (or, for stock and the
# node's position, on there being enough, which constraints also hold), and the closing
# SELECT says which took effect.
_PICK_WRITES = f"""
WITH tsk AS (
    UPDATE pick_tasks AS t
    SET picked = :picked_after, status = :task_status
    WHERE t.id = :task_id AND t.status = :task_status_before AND t.picked = :picked_before
    RETURNING t.id
),
stk AS (
    UPDATE stock AS k
    SET on_hand = k.on_hand - :q
    WHERE k.location_id = :location_id AND k.product_id = :product_id AND k.lot = :lot
      AND k.on_hand >= :q
    RETURNING k.id
),
pos AS (
    UPDATE inventory_positions AS p
    SET on_hand = p.on_hand - :q, reserved = p.reserved - :q
    WHERE p.node_id = :node_id AND p.product_id = :product_id AND p.reserved >= :q
    RETURNING p.node_id
),
mov AS (
    INSERT INTO stock_movements
        (node_id, location_id, product_id, lot, quantity, reason,
         at, actor, user_id, station_id, note)
    VALUES (:node_id, :location_id, :product_id, :lot, -:q, '{MovementReason.PICK.value}',
            :at, :actor, :user_id, :station_id, :note)
    RETURNING id
),
res AS (
    INSERT INTO reservations
        (node_id, product_id, order_line_id, kind, quantity,
         at, actor, user_id, station_id, note)
    VALUES (:node_id, :product_id, :order_line_id, '{ReservationKind.CONSUME.value}', -:q,
            :at, :actor, :user_id, :station_id, :note)
    RETURNING id
),
alc AS (
    UPDATE line_allocations AS a
    SET quantity = CASE WHEN :allocation_left > 0 THEN :allocation_left ELSE a.quantity END,
        status = CASE WHEN :allocation_left > 0 THEN a.status ELSE :picked END
    WHERE a.id = :allocation_id AND a.status = :allocation_status_before
      AND a.quantity = :allocation_quantity_before
    RETURNING a.id
),
alc_new AS (
    INSERT INTO line_allocations (order_line_id, node_id, quantity, status, created_at)
    SELECT :order_line_id, :node_id, :q, :picked, :at
    WHERE :allocation_left > 0
    RETURNING id
),
ser AS (
    INSERT INTO picked_serials (product_id, serial, task_id, at)
    SELECT :product_id, u.serial, :task_id, :at
    FROM unnest(CAST(:serial_list AS TEXT[])) AS u(serial)
    ON CONFLICT DO NOTHING
    RETURNING id
),
evt AS (
    INSERT INTO pick_events
        (pick_list_id, task_id, kind, quantity, lot, serials, expiry, tote, detail,
         at, actor, user_id, station_id)
    VALUES (:list_id, :task_id, 'pick', :q, :lot, :serials, :expiry, :tote, '',
            :at, :actor, :user_id, :station_id)
    RETURNING id
)
"""
_PICK_LEAVES = """
SELECT
    (SELECT count(*) FROM tsk) AS tasks,
    (SELECT count(*) FROM stk) AS stock,
    (SELECT count(*) FROM pos) AS positions,
    (SELECT count(*) FROM alc) AS allocations,
    (SELECT count(*) FROM ser) AS serials,
    (SELECT l.status FROM pick_lists AS l WHERE l.id = :list_id) AS list_status,
    (SELECT count(*) FROM pick_tasks AS t
     WHERE t.pick_list_id = :list_id
       AND CASE WHEN t.id = :task_id THEN :task_status ELSE t.status END = :open) AS open_tasks,
    (SELECT json_agg(json_build_array(s.id, s.order_id, (
         SELECT coalesce(sum(CASE WHEN t.id = :task_id THEN :picked_after ELSE t.picked END), 0)
         FROM pick_tasks AS t WHERE t.shipment_id = s.id)) ORDER BY s.id)
     FROM shipments AS s
     WHERE s.pick_list_id = :list_id AND s.status = :picking) AS shipments
"""
# Only at the end of a list (its orders and wave held since before this statement): where
# the list's orders and its wave stand besides this list, the pick's own allocation counted
# as it leaves it.
_PICK_LEAVES_AT_END = """,
    (SELECT w.status FROM waves AS w WHERE w.id = :wave_id) AS wave_status,
    (SELECT count(*) FROM pick_lists AS l
     WHERE l.wave_id = :wave_id AND l.id <> :list_id AND l.status NOT IN (:done, :cancelled))
        AS lists_open,
    (SELECT json_agg(json_build_array(
         o.id,
         o.status,
         EXISTS (SELECT 1 FROM shipments AS s
                 WHERE s.order_id = o.id AND s.status = :picking AND s.pick_list_id <> :list_id),
         EXISTS (SELECT 1 FROM line_allocations AS a
                 JOIN order_lines AS ol ON ol.id = a.order_line_id
                 WHERE ol.order_id = o.id AND a.status = :reserved
                   AND NOT (a.id = :allocation_id AND :allocation_left = 0))) ORDER BY o.id)
     FROM orders AS o
     WHERE o.id IN (SELECT s.order_id FROM shipments AS s
                    WHERE s.pick_list_id = :list_id AND s.status = :picking)) AS orders
"""
_PICK_TYPES = (
    bindparam("at", type_=UTCDateTime()),
    bindparam("expiry", type_=Date()),
    bindparam("station_id", type_=BigInteger()),
    bindparam("user_id", type_=BigInteger()),
)
_CLOSED_WITH_PICK = "," + _CLOSED
_MOVED = "orders_moved"
"""The name of the order status change a pick's statement writes with it."""


def _write_pick_statement(*, closing: bool, moving: bool) -> TextClause:
    """The statement of a pick; the last pick of a list also closes it and reads where its
    orders and wave stand; a pick may also write an order status change (planned by the
    lifecycle)."""
    writes = _PICK_WRITES.rstrip()
    leaves = _PICK_LEAVES.rstrip()
    binds: tuple[BindParameter[Any], ...] = _PICK_TYPES
    if moving:
        writes += "," + status_change_ctes(_MOVED)
        leaves += f",\n    (SELECT count(*) FROM {_MOVED}) AS {_MOVED}"
        binds += status_change_binds(_MOVED)
    if closing:
        writes += "," + _CLOSE_LIST_WRITES.format(after="evt")
        leaves += _PICK_LEAVES_AT_END.rstrip() + _CLOSED_WITH_PICK
    return text(writes + "\n" + leaves).bindparams(*binds)


_WRITE_PICK = {
    (closing, moving): _write_pick_statement(closing=closing, moving=moving)
    for closing in (False, True)
    for moving in (False, True)
}

_TAKE_TASK_UNITS = (
    update(PickTask)
    .where(
        PickTask.id == bindparam("b_task"),
        PickTask.status == bindparam("b_task_status_before"),
        PickTask.picked == bindparam("b_picked_before"),
    )
    .values(picked=bindparam("b_picked_after"), status=bindparam("b_task_status"))
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
_ALLOCATION_GUARD = (
    LineAllocation.id == bindparam("b_allocation"),
    LineAllocation.status == bindparam("b_allocation_status_before"),
    LineAllocation.quantity == bindparam("b_allocation_quantity_before"),
)
_ALLOCATION_ALL_PICKED = (
    update(LineAllocation).where(*_ALLOCATION_GUARD).values(status=AllocationStatus.PICKED)
)
_ALLOCATION_LESS = (
    update(LineAllocation).where(*_ALLOCATION_GUARD).values(quantity=bindparam("b_allocation_left"))
)
_MOVEMENTS = insert(StockMovement)
_RESERVATIONS = insert(Reservation)
_ALLOCATIONS = insert(LineAllocation)


@dataclass(frozen=True)
class PickLeaves:
    """The list as a pick leaves it and, at the end of a list, where its orders and its
    wave stand besides it (for the caller to decide what is finished)."""

    end: ListEnd
    progress: tuple[list[OrderProgress], WaveProgress] | None = None


def write_pick(
    session: Session,
    pick: PickWrite,
    who: Who,
    at: datetime,
    *,
    closing: ListClose | None = None,
    orders: StatusChange | None = None,
) -> PickLeaves:
    """Write a pick the rules allowed: the task, the location's stock, the node's position,
    the allocation (split when part of it stays reserved), the serials, and the history.
    One statement on PostgreSQL; on SQLite, whose write transaction holds the store, one
    statement each. Raises StaleRead (nothing is to stay) when a row was not as the rules
    saw it. Statements are built once: this is the hot path of every pick.

    Returns the list as the pick leaves it, for deciding whether the list is finished. On
    PostgreSQL it is read by the same statement, after this transaction took the order's
    and the list's locks (so every pick, short pick and cancellation on the list is either
    in it or waits for this one); a give-back from the back office committed while the
    statement waited for stock is not, and leaves the list for the station to close.
    With ``closing`` (the pick was the list's last open task, and the caller holds the
    list's orders and wave: ``lock_orders_of_list``) it also writes the end of the list as
    decided, and reads where the orders and the wave stand besides the list (as they were
    before ``orders``). With ``orders`` it also writes that status change (planned by the
    lifecycle), all of whose orders must move."""
    who_columns = {
        "at": at,
        "actor": who.actor,
        "user_id": who.user_id,
        "station_id": who.station_id,
    }
    picked_after = pick.picked_before + pick.quantity
    if _row_locks(session):
        row = (
            session.connection()
            .execute(
                _WRITE_PICK[closing is not None, orders is not None],
                {
                    "list_id": pick.list_id,
                    "task_id": pick.task_id,
                    "node_id": pick.node_id,
                    "location_id": pick.location_id,
                    "product_id": pick.product_id,
                    "order_line_id": pick.order_line_id,
                    "allocation_id": pick.allocation_id,
                    "q": pick.quantity,
                    "lot": pick.lot,
                    "tote": pick.tote,
                    "serials": "\n".join(pick.serials),
                    "serial_list": list(pick.serials),
                    "expiry": pick.expiry,
                    "note": pick.note,
                    "task_status_before": pick.task_status_before.value,
                    "picked_before": pick.picked_before,
                    "picked_after": picked_after,
                    "task_status": pick.task_status.value,
                    "allocation_status_before": pick.allocation_status_before.value,
                    "allocation_quantity_before": pick.allocation_quantity_before,
                    "allocation_left": pick.allocation_left,
                    "picked": AllocationStatus.PICKED.value,
                    "open": PickTaskStatus.OPEN.value,
                    "picking": ShipmentStatus.PICKING.value,
                    **(
                        {}
                        if closing is None
                        else {
                            "wave_id": pick.wave_id,
                            "done": PickListStatus.DONE.value,
                            "cancelled": PickListStatus.CANCELLED.value,
                            "reserved": AllocationStatus.RESERVED.value,
                            **_closing_params(closing),
                        }
                    ),
                    **who_columns,
                    **({} if orders is None else status_change_params(orders, _MOVED)),
                },
            )
            .one()
        )
        took = (row.tasks, row.stock, row.positions, row.allocations, row.serials)
        moved = len(orders.order_ids) if orders is not None else 0
        if took != (1, 1, 1, 1, len(pick.serials)) or (
            orders is not None and row.orders_moved != moved
        ):
            raise StaleRead(f"pick of task {pick.task_id}: rows changed since they were read")
        end = ListEnd(
            PickListStatus(row.list_status),
            int(row.open_tasks),
            tuple(ShipmentOnList(int(i), int(o), int(u)) for i, o, u in row.shipments or ()),
        )
        if closing is None:
            return PickLeaves(end)
        _check_closed(pick.list_id, closing, row)
        read = [
            OrderProgress(int(i), OrderStatus(st), bool(p), bool(r))
            for i, st, p, r in row.orders or ()
        ]
        wave = WaveProgress(WaveStatus(row.wave_status), row.lists_open)
        return PickLeaves(end, (read, wave))
    conn = session.connection()
    params = {
        "b_task": pick.task_id,
        "b_task_status_before": pick.task_status_before,
        "b_picked_before": pick.picked_before,
        "b_picked_after": picked_after,
        "b_task_status": pick.task_status,
        "b_location": pick.location_id,
        "b_product": pick.product_id,
        "b_lot": pick.lot,
        "b_quantity": pick.quantity,
        "b_node": pick.node_id,
        "b_allocation": pick.allocation_id,
        "b_allocation_status_before": pick.allocation_status_before,
        "b_allocation_quantity_before": pick.allocation_quantity_before,
        "b_allocation_left": pick.allocation_left,
    }
    for statement in (
        _TAKE_TASK_UNITS,
        _TAKE_STOCK,
        _TAKE_POSITION,
        _ALLOCATION_LESS if pick.allocation_left else _ALLOCATION_ALL_PICKED,
    ):
        if conn.execute(statement, params).rowcount != 1:
            raise StaleRead(f"pick of task {pick.task_id}: rows changed since they were read")
    if pick.allocation_left:
        conn.execute(
            _ALLOCATIONS,
            {
                "order_line_id": pick.order_line_id,
                "node_id": pick.node_id,
                "quantity": pick.quantity,
                "status": AllocationStatus.PICKED.value,
                "created_at": at,
            },
        )
    history = {**who_columns, "note": pick.note}
    conn.execute(
        _MOVEMENTS,
        {
            "node_id": pick.node_id,
            "location_id": pick.location_id,
            "product_id": pick.product_id,
            "lot": pick.lot,
            "quantity": -pick.quantity,
            "reason": MovementReason.PICK.value,
            **history,
        },
    )
    conn.execute(
        _RESERVATIONS,
        {
            "node_id": pick.node_id,
            "product_id": pick.product_id,
            "order_line_id": pick.order_line_id,
            "kind": ReservationKind.CONSUME.value,
            "quantity": -pick.quantity,
            **history,
        },
    )
    add_picked_serials(session, pick.product_id, pick.task_id, pick.serials, at)
    add_event(
        session,
        pick.list_id,
        "pick",
        who,
        at,
        task_id=pick.task_id,
        quantity=pick.quantity,
        lot=pick.lot,
        serials=pick.serials,
        expiry=pick.expiry,
        tote=pick.tote,
    )
    leaves = list_end(session, pick.list_id)
    assert leaves is not None
    standing = None
    if closing is not None:
        order_ids = sorted({s.order_id for s in leaves.shipments})
        standing = progress(session, order_ids, pick.wave_id, beside=pick.list_id)
        close_list(session, pick.list_id, closing, who, at)
    # Last, as on PostgreSQL, whose statement reads the orders as they were before it.
    if orders is not None and len(change_statuses(session, orders)) != len(orders.order_ids):
        raise StaleRead(f"pick of task {pick.task_id}: its orders changed since they were read")
    return PickLeaves(leaves, standing)


# --- the end of a pick list -----------------------------------------------------------------


@dataclass(frozen=True)
class ShipmentOnList:
    """A shipment of a list still being picked, and the units picked into its tote."""

    id: int
    order_id: int
    picked_units: int


@dataclass(frozen=True)
class ListEnd:
    """What deciding whether a list is finished looks at."""

    status: PickListStatus
    open_tasks: int
    shipments: tuple[ShipmentOnList, ...]
    """Its shipments still being picked."""


def list_end(session: Session, list_id: int) -> ListEnd | None:
    """The list's status, its open tasks, and its shipments still being picked (one
    statement); None when there is no such list."""
    rows = session.execute(_LIST_END, {"b_list": list_id}).all()
    if not rows:
        return None
    shipments = tuple(ShipmentOnList(r[2], r[3], int(r[4])) for r in rows if r[2] is not None)
    return ListEnd(rows[0][0], int(rows[0][1]), shipments)


_LIST_END = (
    select(
        PickList.status,
        select(func.count())
        .where(PickTask.pick_list_id == PickList.id, PickTask.status == PickTaskStatus.OPEN)
        .correlate(PickList)
        .scalar_subquery(),
        Shipment.id,
        Shipment.order_id,
        select(func.coalesce(func.sum(PickTask.picked), 0))
        .where(PickTask.shipment_id == Shipment.id)
        .correlate(Shipment)
        .scalar_subquery(),
    )
    .select_from(PickList)
    .outerjoin(
        Shipment,
        (Shipment.pick_list_id == PickList.id) & (Shipment.status == ShipmentStatus.PICKING),
    )
    .where(PickList.id == bindparam("b_list"))
    .order_by(Shipment.id)
)


_CLOSE_LIST = text(
    "WITH" + _CLOSE_LIST_WRITES.format(after="(VALUES (1)) AS one") + "\nSELECT" + _CLOSED
).bindparams(
    bindparam("at", type_=UTCDateTime()),
    bindparam("station_id", type_=BigInteger()),
    bindparam("user_id", type_=BigInteger()),
)


def close_list(session: Session, list_id: int, close: ListClose, who: Who, at: datetime) -> None:
    """Write the end of a list as decided: the list done, the ``picked`` shipments to
    packing, the ``emptied`` ones (nothing was picked for them) cancelled, its history
    row, and its wave done when it was the wave's last list. One statement on PostgreSQL.
    Raises StaleRead when the list, a shipment or the wave was no longer as read."""
    if _row_locks(session):
        row = (
            session.connection()
            .execute(
                _CLOSE_LIST,
                {
                    "list_id": list_id,
                    **_closing_params(close),
                    "picking": ShipmentStatus.PICKING.value,
                    "at": at,
                    "actor": who.actor,
                    "user_id": who.user_id,
                    "station_id": who.station_id,
                },
            )
            .one()
        )
        _check_closed(list_id, close, row)
        return
    moved = session.execute(
        update(PickList)
        .where(PickList.id == list_id, PickList.status == close.status_before)
        .values(status=PickListStatus.DONE, done_at=at)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    for ids, status in (
        (close.picked, ShipmentStatus.PICKED),
        (close.emptied, ShipmentStatus.CANCELLED),
    ):
        if ids:
            moved += session.execute(
                update(Shipment)
                .where(Shipment.id.in_(ids), Shipment.status == ShipmentStatus.PICKING)
                .values(status=status)
                .execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
    if close.wave_id is not None:
        finish_wave(session, close.wave_id)
    if moved != 1 + len(close.picked) + len(close.emptied):
        raise StaleRead(f"pick list {list_id} changed since it was read")
    add_event(session, list_id, "done", who, at)


def _check_closed(list_id: int, close: ListClose, row: Any) -> None:
    wanted = (1, len(close.picked) + len(close.emptied), 0 if close.wave_id is None else 1)
    if (row.lists, row.closed_shipments, row.closed_waves) != wanted:
        raise StaleRead(f"pick list {list_id} changed since it was read")


@dataclass(frozen=True)
class OrderProgress:
    """How far an order of a finished list has come."""

    id: int
    status: OrderStatus
    picking: bool
    """A shipment of it is still being picked (on another list)."""
    reserved: bool
    """Units of it are still reserved: not picked yet, on a list or waiting for a wave."""


@dataclass(frozen=True)
class WaveProgress:
    status: WaveStatus
    lists_open: int
    """Its pick lists neither done nor cancelled, besides the one asked about."""


def progress(
    session: Session, order_ids: Sequence[int], wave_id: int, *, beside: int
) -> tuple[list[OrderProgress], WaveProgress]:
    """Where these orders and their wave stand besides the pick list ``beside`` (one
    statement; read them under ``lock_orders_and_wave``, in a statement of their own, to
    see what another list of theirs that finished meanwhile did)."""
    statement = _PROGRESS_PG if _row_locks(session) else _PROGRESS
    rows = session.execute(
        statement, {"b_orders": list(order_ids), "b_wave": wave_id, "b_beside": beside}
    ).all()
    wave = WaveProgress(rows[0][0], int(rows[0][1]))
    orders = [OrderProgress(r[2], r[3], bool(r[4]), bool(r[5])) for r in rows if r[2] is not None]
    return orders, wave


def _progress_statement(orders: ColumnElement[bool]) -> Select[Any]:
    beside = bindparam("b_beside", type_=BigInteger())
    return (
        select(
            Wave.status,
            select(func.count())
            .where(
                PickList.wave_id == Wave.id,
                PickList.id != beside,
                PickList.status.not_in((PickListStatus.DONE, PickListStatus.CANCELLED)),
            )
            .correlate(Wave)
            .scalar_subquery(),
            Order.id,
            Order.status,
            _picking_elsewhere(beside),
            _still_reserved(),
        )
        .select_from(Wave)
        .outerjoin(Order, orders)
        .where(Wave.id == bindparam("b_wave"))
        .order_by(Order.id)
    )


_PROGRESS = _progress_statement(Order.id.in_(bindparam("b_orders", expanding=True)))
# One statement text whatever the number of orders, so that PostgreSQL keeps its plan.
_PROGRESS_PG = _progress_statement(
    Order.id == any_(bindparam("b_orders", type_=ARRAY(BigInteger())))
)


def finish_wave(session: Session, wave_id: int) -> None:
    """The wave is done (its last list was): raises StaleRead if it was no longer
    released."""
    moved = session.execute(
        update(Wave)
        .where(Wave.id == wave_id, Wave.status == WaveStatus.RELEASED)
        .values(status=WaveStatus.DONE)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleRead(f"wave {wave_id} changed since it was read")


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
