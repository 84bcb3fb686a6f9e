"""What wave planning and release read and write: layouts, a node's open work, the stock
to pick it from, waves, pick lists, shipments and pick tasks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import BigInteger, and_, cast, delete, exists, func, insert, select, update
from sqlalchemy.orm import Session

from data.models import (
    AllocationStatus,
    Channel,
    LineAllocation,
    Location,
    LocationKind,
    Node,
    Order,
    OrderLine,
    OrderStatus,
    PickList,
    PickListStatus,
    PickTask,
    PickTaskStatus,
    Product,
    ServiceLevel,
    Shipment,
    ShipmentStatus,
    Stock,
    WarehouseLayout,
    Wave,
    WaveOrder,
    WaveStatus,
)
from data.upsert import insert_on_conflict

# An order in one of these has work a wave may pick.
PICKABLE_ORDER_STATUSES = (OrderStatus.ROUTED, OrderStatus.RELEASED, OrderStatus.PICKING)
# Stock is picked from storage; staging and dock stock is on its way somewhere already.
PICKABLE_KINDS = (LocationKind.PICK, LocationKind.BULK, LocationKind.BACKROOM)
# Pick lists whose open tasks still claim their stock.
ACTIVE_PICK_LISTS = (PickListStatus.RELEASED, PickListStatus.CLAIMED, PickListStatus.PAUSED)


@dataclass(frozen=True)
class NodeRef:
    """A node as wave planning needs it."""

    id: int
    code: str
    cutoff_time: time
    timezone: str


def node(session: Session, code: str) -> NodeRef | None:
    """The node with this code, or None."""
    row = session.execute(
        select(Node.id, Node.code, Node.cutoff_time, Node.timezone).where(Node.code == code)
    ).one_or_none()
    return NodeRef(*row) if row else None


def node_codes(session: Session) -> list[str]:
    """Every node's code."""
    return list(session.scalars(select(Node.code).order_by(Node.code)))


def lock_node(session: Session, node_id: int) -> None:
    """Hold the node's row until the transaction ends, so one wave plan or release runs at a
    time per node (PostgreSQL; an SQLite write transaction already holds the whole store).

    FOR NO KEY UPDATE: rows that only refer to the node (DOM's allocations, stock) can still
    be written meanwhile."""
    session.execute(select(Node.id).where(Node.id == node_id).with_for_update(key_share=True))


def lock_orders(session: Session, order_ids: Sequence[int]) -> None:
    """Hold these orders' rows (in id order, as DOM takes them one at a time) until the
    transaction ends, so DOM cannot re-route or cancel them while their tasks are written."""
    for chunk in _chunks(sorted(order_ids), 500):
        session.execute(
            select(Order.id).where(Order.id.in_(chunk)).order_by(Order.id).with_for_update()
        )


# How people name an order: `channel/external-id` (external ids repeat across channels).
ORDER_REF = Channel.code + "/" + Order.external_id


# --- layouts ------------------------------------------------------------------------------


def layout_spec(session: Session, node_id: int) -> str | None:
    """The node's layout file (JSON text), or None when it has none."""
    return session.scalar(select(WarehouseLayout.spec).where(WarehouseLayout.node_id == node_id))


def put_layout(session: Session, node_id: int, spec: str, *, actor: str, at: datetime) -> None:
    """Store (or replace) the node's layout."""
    stmt = insert_on_conflict(session, WarehouseLayout).values(
        node_id=node_id, spec=spec, updated_at=at, updated_by=actor
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["node_id"], set_={"spec": spec, "updated_at": at, "updated_by": actor}
        )
    )


def upsert_locations(session: Session, node_id: int, rows: Sequence[dict[str, Any]]) -> int:
    """Create the node's locations or move existing ones (same code) to their new place.

    Returns how many rows were new."""
    existing = set(session.scalars(select(Location.code).where(Location.node_id == node_id)))
    fresh = [r for r in rows if r["code"] not in existing]
    if fresh:
        session.execute(insert(Location), [{"node_id": node_id, **r} for r in fresh])
    placed = [r for r in rows if r["code"] in existing]
    for row in placed:
        session.execute(
            update(Location)
            .where(Location.node_id == node_id, Location.code == row["code"])
            .values(**{k: v for k, v in row.items() if k != "code"})
            .execution_options(synchronize_session=False)
        )
    return len(fresh)


@dataclass(frozen=True)
class LocationRow:
    """A location's place."""

    id: int
    code: str
    kind: LocationKind
    zone: str
    x_mm: int
    y_mm: int


def locations(session: Session, node_id: int) -> list[LocationRow]:
    """The node's locations, by code."""
    return [
        LocationRow(*r)
        for r in session.execute(
            select(
                Location.id,
                Location.code,
                Location.kind,
                Location.zone,
                Location.x_mm,
                Location.y_mm,
            )
            .where(Location.node_id == node_id)
            .order_by(Location.code)
        )
    ]


# --- open work ----------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkLine:
    """Units DOM reserved at the node that no pick list holds yet."""

    allocation_id: int
    order_id: int
    order_ref: str
    order_line_id: int
    line_no: int
    product_id: int
    sku: str
    quantity: int
    service_level: ServiceLevel
    placed_at: datetime
    unit_volume_cm3: int
    unit_weight_g: int


def _not_on_a_pick_list() -> Any:
    return ~exists().where(
        PickTask.allocation_id == LineAllocation.id,
        PickTask.status != PickTaskStatus.CANCELLED,
    )


def open_work(
    session: Session, node_id: int, order_ids: Sequence[int] | None = None
) -> list[WorkLine]:
    """The node's reserved allocations not yet on a pick list (of these orders, if given),
    by order placement then line."""
    query = (
        select(
            LineAllocation.id,
            Order.id,
            ORDER_REF,
            OrderLine.id,
            OrderLine.line_no,
            Product.id,
            Product.sku,
            LineAllocation.quantity,
            Order.service_level,
            Order.placed_at,
            # Whole cubic centimetres, rounded up so a cart is never overfilled (64-bit:
            # a pallet-sized product overflows a 32-bit product of millimetres).
            (cast(Product.length_mm, BigInteger) * Product.width_mm * Product.height_mm + 999)
            // 1000,
            Product.weight_g,
        )
        .join(OrderLine, OrderLine.id == LineAllocation.order_line_id)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Channel, Channel.id == Order.channel_id)
        .join(Product, Product.id == OrderLine.product_id)
        .where(
            LineAllocation.node_id == node_id,
            LineAllocation.status == AllocationStatus.RESERVED,
            Order.status.in_(PICKABLE_ORDER_STATUSES),
            _not_on_a_pick_list(),
        )
        .order_by(Order.placed_at, Order.id, OrderLine.line_no, LineAllocation.id)
    )
    if order_ids is not None:
        query = query.where(Order.id.in_(order_ids))
    return [
        WorkLine(
            allocation_id=r[0],
            order_id=r[1],
            order_ref=r[2],
            order_line_id=r[3],
            line_no=r[4],
            product_id=r[5],
            sku=r[6],
            quantity=r[7],
            service_level=r[8],
            placed_at=r[9],
            unit_volume_cm3=int(r[10]),
            unit_weight_g=r[11],
        )
        for r in session.execute(query)
    ]


@dataclass(frozen=True)
class StockSlot:
    """Stock of one product and lot in one location, less what open pick tasks will take."""

    location_id: int
    location_code: str
    kind: LocationKind
    zone: str
    x_mm: int
    y_mm: int
    product_id: int
    lot: str
    expiry: date | None
    free: int


def pickable_stock(session: Session, node_id: int, product_ids: Iterable[int]) -> list[StockSlot]:
    """Stock of these products at the node that no open pick task has claimed yet."""
    ids = sorted(set(product_ids))
    if not ids:
        return []
    claimed = (
        select(
            PickTask.location_id,
            PickTask.product_id,
            PickTask.lot,
            func.sum(PickTask.quantity - PickTask.picked).label("open"),
        )
        .join(PickList, PickList.id == PickTask.pick_list_id)
        .where(
            PickList.node_id == node_id,
            PickList.status.in_(ACTIVE_PICK_LISTS),
            PickTask.status == PickTaskStatus.OPEN,
        )
        .group_by(PickTask.location_id, PickTask.product_id, PickTask.lot)
        .subquery()
    )
    slots: list[StockSlot] = []
    for chunk in _chunks(ids, 500):
        rows = session.execute(
            select(
                Location.id,
                Location.code,
                Location.kind,
                Location.zone,
                Location.x_mm,
                Location.y_mm,
                Stock.product_id,
                Stock.lot,
                Stock.expiry,
                Stock.on_hand - func.coalesce(claimed.c.open, 0),
            )
            .join(Location, Location.id == Stock.location_id)
            .outerjoin(
                claimed,
                and_(
                    claimed.c.location_id == Stock.location_id,
                    claimed.c.product_id == Stock.product_id,
                    claimed.c.lot == Stock.lot,
                ),
            )
            .where(
                Stock.node_id == node_id,
                Stock.product_id.in_(chunk),
                Location.kind.in_(PICKABLE_KINDS),
            )
        )
        slots.extend(
            StockSlot(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], int(r[9])) for r in rows
        )
    return slots


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- waves --------------------------------------------------------------------------------


@dataclass(frozen=True)
class WaveRow:
    """A wave as `wave plan` shows it."""

    id: int
    node_id: int
    node_code: str
    status: WaveStatus
    carrier: str
    service: str
    cutoff_at: datetime | None
    priority: int
    zone: str
    orders: int
    lines: int
    units: int
    pick_lists: int
    est_distance_m: float | None
    est_seconds: float
    created_at: datetime
    created_by: str
    released_at: datetime | None
    released_by: str | None


_WAVE_COLUMNS = (
    Wave.id,
    Wave.node_id,
    Node.code,
    Wave.status,
    Wave.carrier,
    Wave.service,
    Wave.cutoff_at,
    Wave.priority,
    Wave.zone,
    Wave.orders,
    Wave.lines,
    Wave.units,
    Wave.pick_lists,
    Wave.est_distance_m,
    Wave.est_seconds,
    Wave.created_at,
    Wave.created_by,
    Wave.released_at,
    Wave.released_by,
)


def wave(session: Session, wave_id: int) -> WaveRow | None:
    """One wave, or None."""
    row = session.execute(
        select(*_WAVE_COLUMNS).join(Node, Node.id == Wave.node_id).where(Wave.id == wave_id)
    ).one_or_none()
    return WaveRow(*row) if row else None


def waves(
    session: Session, node_id: int | None = None, statuses: Sequence[WaveStatus] | None = None
) -> list[WaveRow]:
    """Waves (of a node, in these statuses), by cut-off, priority and id."""
    query = select(*_WAVE_COLUMNS).join(Node, Node.id == Wave.node_id)
    if node_id is not None:
        query = query.where(Wave.node_id == node_id)
    if statuses is not None:
        query = query.where(Wave.status.in_(statuses))
    query = query.order_by(Wave.cutoff_at, Wave.priority, Wave.id)
    return [WaveRow(*r) for r in session.execute(query)]


def drop_planned_waves(session: Session, node_id: int) -> int:
    """Delete the node's proposed (unreleased) waves; returns how many."""
    planned = select(Wave.id).where(Wave.node_id == node_id, Wave.status == WaveStatus.PLANNED)
    ids = list(session.scalars(planned))
    if ids:
        session.execute(delete(WaveOrder).where(WaveOrder.wave_id.in_(ids)))
        session.execute(delete(Wave).where(Wave.id.in_(ids)))
    return len(ids)


def add_wave(session: Session, values: dict[str, Any], order_ids: Sequence[int]) -> int:
    """Store a proposed wave and its orders; returns its id."""
    wave_id = int(session.execute(insert(Wave).values(**values).returning(Wave.id)).scalar_one())
    if order_ids:
        session.execute(insert(WaveOrder), [{"wave_id": wave_id, "order_id": o} for o in order_ids])
    return wave_id


def order_refs(session: Session, order_ids: Sequence[int]) -> list[str]:
    """`channel/external-id` of these orders."""
    refs: list[str] = []
    for chunk in _chunks(sorted(order_ids), 500):
        refs.extend(
            session.scalars(
                select(ORDER_REF)
                .select_from(Order)
                .join(Channel, Channel.id == Order.channel_id)
                .where(Order.id.in_(chunk))
            )
        )
    return refs


def wave_order_ids(session: Session, wave_id: int) -> list[int]:
    """The wave's orders."""
    return list(
        session.scalars(
            select(WaveOrder.order_id)
            .where(WaveOrder.wave_id == wave_id)
            .order_by(WaveOrder.order_id)
        )
    )


def start_release(session: Session, wave_id: int, *, actor: str, at: datetime) -> bool:
    """Mark a planned wave released; False if it was not planned (already released, or gone)."""
    result = session.execute(
        update(Wave)
        .where(Wave.id == wave_id, Wave.status == WaveStatus.PLANNED)
        .values(status=WaveStatus.RELEASED, released_at=at, released_by=actor)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def finish_release(session: Session, wave_id: int, values: dict[str, Any]) -> None:
    """Record what the release actually made (orders, pick lists, distance)."""
    session.execute(
        update(Wave)
        .where(Wave.id == wave_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def cancel_wave(session: Session, wave_id: int) -> None:
    """A release found nothing left to pick: the wave ends as cancelled."""
    session.execute(
        update(Wave)
        .where(Wave.id == wave_id)
        .values(status=WaveStatus.CANCELLED, orders=0, lines=0, units=0, pick_lists=0)
        .execution_options(synchronize_session=False)
    )


def drop_wave_orders(session: Session, wave_id: int, order_ids: Sequence[int]) -> None:
    """Take orders a release could not pick out of the wave, so a later plan takes them."""
    if order_ids:
        session.execute(
            delete(WaveOrder).where(WaveOrder.wave_id == wave_id, WaveOrder.order_id.in_(order_ids))
        )


@dataclass(frozen=True)
class NewShipment:
    """An order's part of a pick list: one tote."""

    order_id: int
    tote_slot: int
    carrier: str
    service: str


@dataclass(frozen=True)
class NewTask:
    """One stop of a pick list, for the shipment in tote `tote_slot`."""

    seq: int
    location_id: int
    product_id: int
    lot: str
    quantity: int
    tote_slot: int
    order_line_id: int
    allocation_id: int


@dataclass(frozen=True)
class NewPickList:
    """A pick list with its totes and tasks in route order."""

    values: dict[str, Any]
    shipments: Sequence[NewShipment]
    tasks: Sequence[NewTask]


def add_pick_lists(
    session: Session, wave_id: int, node_id: int, pick_lists: Sequence[NewPickList], at: datetime
) -> list[int]:
    """Write the pick lists with their shipments and tasks; returns the pick list ids."""
    if not pick_lists:
        return []
    list_ids = list(
        session.scalars(
            insert(PickList).returning(PickList.id, sort_by_parameter_order=True),
            [
                {
                    **p.values,
                    "wave_id": wave_id,
                    "node_id": node_id,
                    "status": PickListStatus.RELEASED,
                    "created_at": at,
                }
                for p in pick_lists
            ],
        )
    )
    shipment_rows = [
        {
            "order_id": s.order_id,
            "node_id": node_id,
            "wave_id": wave_id,
            "pick_list_id": list_id,
            "tote_slot": s.tote_slot,
            "status": ShipmentStatus.PICKING,
            "carrier": s.carrier,
            "service": s.service,
            "created_at": at,
        }
        for list_id, p in zip(list_ids, pick_lists, strict=True)
        for s in p.shipments
    ]
    shipment_ids = list(
        session.scalars(
            insert(Shipment).returning(Shipment.id, sort_by_parameter_order=True), shipment_rows
        )
    )
    by_slot = {
        (row["pick_list_id"], row["tote_slot"]): sid
        for row, sid in zip(shipment_rows, shipment_ids, strict=True)
    }
    task_rows = [
        {
            "pick_list_id": list_id,
            "seq": t.seq,
            "location_id": t.location_id,
            "product_id": t.product_id,
            "lot": t.lot,
            "quantity": t.quantity,
            "picked": 0,
            "status": PickTaskStatus.OPEN,
            "shipment_id": by_slot[(list_id, t.tote_slot)],
            "order_line_id": t.order_line_id,
            "allocation_id": t.allocation_id,
        }
        for list_id, p in zip(list_ids, pick_lists, strict=True)
        for t in p.tasks
    ]
    if task_rows:
        session.execute(insert(PickTask), task_rows)
    return list_ids


# --- pick lists ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PickListRow:
    """A pick list's header."""

    id: int
    wave_id: int
    seq: int
    node_code: str
    status: PickListStatus
    zone: str
    totes: int
    lines: int
    units: int
    volume_cm3: int
    weight_g: int
    oversize: bool
    routing: str
    distance_m: float | None
    est_seconds: float
    path: str


_PICK_LIST_COLUMNS = (
    PickList.id,
    PickList.wave_id,
    PickList.seq,
    Node.code,
    PickList.status,
    PickList.zone,
    PickList.totes,
    PickList.lines,
    PickList.units,
    PickList.volume_cm3,
    PickList.weight_g,
    PickList.oversize,
    PickList.routing,
    PickList.distance_m,
    PickList.est_seconds,
    PickList.path,
)


def pick_list(session: Session, pick_list_id: int) -> PickListRow | None:
    """One pick list, or None."""
    row = session.execute(
        select(*_PICK_LIST_COLUMNS)
        .join(Node, Node.id == PickList.node_id)
        .where(PickList.id == pick_list_id)
    ).one_or_none()
    return PickListRow(*row) if row else None


def pick_lists(session: Session, wave_id: int) -> list[PickListRow]:
    """The wave's pick lists in release order."""
    return [
        PickListRow(*r)
        for r in session.execute(
            select(*_PICK_LIST_COLUMNS)
            .join(Node, Node.id == PickList.node_id)
            .where(PickList.wave_id == wave_id)
            .order_by(PickList.seq)
        )
    ]


def counts(session: Session, wave_id: int) -> tuple[int, int, int]:
    """(pick lists, shipments, tasks) a wave holds: what a release made."""
    lists = session.scalar(select(func.count()).where(PickList.wave_id == wave_id)) or 0
    ships = session.scalar(select(func.count()).where(Shipment.wave_id == wave_id)) or 0
    task_count = (
        session.scalar(
            select(func.count())
            .select_from(PickTask)
            .join(PickList, PickList.id == PickTask.pick_list_id)
            .where(PickList.wave_id == wave_id)
        )
        or 0
    )
    return int(lists), int(ships), int(task_count)


def stocked_products(session: Session, node_id: int) -> list[int]:
    """Products the node holds stock of."""
    return list(
        session.scalars(
            select(Stock.product_id)
            .where(Stock.node_id == node_id)
            .distinct()
            .order_by(Stock.product_id)
        )
    )
