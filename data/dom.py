"""What DOM reads and writes: orders to route, where they go, node loads, allocations and
the decisions with their reasons."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from data.models import (
    Address,
    AllocationStatus,
    Channel,
    DecisionOutcome,
    DomDecision,
    InventoryPosition,
    LineAllocation,
    Node,
    NodeDayLoad,
    NodeKind,
    Order,
    OrderHold,
    OrderLine,
    OrderStatus,
    PickTask,
    PickTaskStatus,
    PostalArea,
    Product,
    ServiceLevel,
)
from data.upsert import insert_on_conflict


@dataclass(frozen=True)
class LineToRoute:
    """An order line as DOM needs it."""

    line_id: int
    product_id: int
    sku: str
    quantity: int
    line_no: int


@dataclass(frozen=True)
class OrderToRoute:
    """An order as DOM needs it."""

    id: int
    reference: str
    """channel/external id, for messages."""
    status: OrderStatus
    service_level: ServiceLevel
    pickup_node_id: int | None
    max_packages: int | None
    country: str
    postal_code: str
    lines: tuple[LineToRoute, ...]


@dataclass(frozen=True)
class NodeRow:
    """A node as DOM needs it."""

    id: int
    code: str
    kind: NodeKind
    latitude: float
    longitude: float
    can_ship: bool
    can_pickup: bool
    ship_from_store: bool
    daily_capacity: int
    cutoff_time: time
    timezone: str
    priority: int
    active: bool


def order_to_route(session: Session, order_id: int) -> OrderToRoute | None:
    """The order with its lines and ship-to, or None if there is no such order."""
    row = session.execute(
        select(
            Order.id,
            Channel.code,
            Order.external_id,
            Order.status,
            Order.service_level,
            Order.pickup_node_id,
            func.coalesce(Order.max_packages, Channel.max_packages),
            Address.country,
            Address.postal_code,
        )
        .join(Channel, Channel.id == Order.channel_id)
        .join(Address, and_(Address.order_id == Order.id, Address.role == "ship_to"))
        .where(Order.id == order_id)
    ).one_or_none()
    if row is None:
        return None
    lines = tuple(
        LineToRoute(*r)
        for r in session.execute(
            select(
                OrderLine.id,
                OrderLine.product_id,
                Product.sku,
                OrderLine.quantity,
                OrderLine.line_no,
            )
            .join(Product, Product.id == OrderLine.product_id)
            .where(OrderLine.order_id == order_id)
            .order_by(OrderLine.line_no)
        )
    )
    return OrderToRoute(
        id=row[0],
        reference=f"{row[1]}/{row[2]}",
        status=row[3],
        service_level=row[4],
        pickup_node_id=row[5],
        max_packages=row[6],
        country=row[7],
        postal_code=row[8],
        lines=lines,
    )


def find_order_id(session: Session, reference: str) -> list[int]:
    """Order ids matching `channel/external_id`, an external id, or a numeric id."""
    if "/" in reference:
        channel, external = reference.split("/", 1)
        stmt = (
            select(Order.id)
            .join(Channel, Channel.id == Order.channel_id)
            .where(Channel.code == channel, Order.external_id == external)
        )
    else:
        stmt = select(Order.id).where(Order.external_id == reference)
        if reference.isdigit():
            stmt = select(Order.id).where(
                (Order.external_id == reference) | (Order.id == int(reference))
            )
    return list(session.scalars(stmt.order_by(Order.id)))


def locate(session: Session, country: str, postal_code: str) -> tuple[float, float, str] | None:
    """(latitude, longitude, matched prefix) of a postal code: the longest known prefix of
    at least three characters, or None."""
    code = postal_code.replace(" ", "").upper()
    candidates = [code[:n] for n in range(len(code), 2, -1)]
    if not candidates:
        return None
    rows = {
        r.prefix: (r.latitude, r.longitude)
        for r in session.execute(
            select(PostalArea.prefix, PostalArea.latitude, PostalArea.longitude).where(
                PostalArea.country == country.upper(), PostalArea.prefix.in_(candidates)
            )
        )
    }
    for prefix in candidates:
        if prefix in rows:
            return (*rows[prefix], prefix)
    return None


def nodes(session: Session) -> list[NodeRow]:
    """Every node."""
    return [
        NodeRow(*r)
        for r in session.execute(
            select(
                Node.id,
                Node.code,
                Node.kind,
                Node.latitude,
                Node.longitude,
                Node.can_ship,
                Node.can_pickup,
                Node.ship_from_store,
                Node.daily_capacity,
                Node.cutoff_time,
                Node.timezone,
                Node.priority,
                Node.active,
            ).order_by(Node.code)
        )
    ]


def atp(
    session: Session, node_ids: list[int], product_ids: list[int]
) -> dict[tuple[int, int], int]:
    """ATP (never below zero) by (node id, product id) for these nodes and products."""
    safety = func.coalesce(InventoryPosition.safety_stock, Node.safety_stock)
    rows = session.execute(
        select(
            InventoryPosition.node_id,
            InventoryPosition.product_id,
            InventoryPosition.on_hand - InventoryPosition.reserved - safety,
        )
        .join(Node, Node.id == InventoryPosition.node_id)
        .where(
            InventoryPosition.node_id.in_(node_ids),
            InventoryPosition.product_id.in_(product_ids),
        )
    )
    return {(n, p): max(0, int(a)) for n, p, a in rows}


def loads(session: Session, day: date) -> dict[int, int]:
    """Packages given to each node for `day`."""
    return dict(
        session.execute(
            select(NodeDayLoad.node_id, NodeDayLoad.packages).where(NodeDayLoad.day == day)
        )
        .tuples()
        .all()
    )


def take_capacity(session: Session, node_id: int, day: date, capacity: int) -> bool:
    """Count one more package for the node's day if it stays within capacity."""
    session.execute(
        insert_on_conflict(session, NodeDayLoad)
        .values(node_id=node_id, day=day, packages=0)
        .on_conflict_do_nothing(index_elements=["node_id", "day"])
    )
    result = session.execute(
        update(NodeDayLoad)
        .where(
            NodeDayLoad.node_id == node_id,
            NodeDayLoad.day == day,
            NodeDayLoad.packages + 1 <= capacity,
        )
        .values(packages=NodeDayLoad.packages + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def add_allocation(
    session: Session, order_line_id: int, node_id: int, quantity: int, at: datetime
) -> None:
    """Record units of a line promised by a node (their reservation is written alongside)."""
    session.add(
        LineAllocation(
            order_line_id=order_line_id,
            node_id=node_id,
            quantity=quantity,
            status=AllocationStatus.RESERVED,
            created_at=at,
        )
    )


def add_hold(
    session: Session, order_id: int, code: str, field: str, message: str, at: datetime
) -> None:
    """A reason the order waits for a person."""
    session.add(
        OrderHold(order_id=order_id, code=code, field=field, message=message, created_at=at)
    )


def add_decision(
    session: Session,
    order_id: int,
    *,
    at: datetime,
    actor: str,
    outcome: DecisionOutcome,
    rule: str,
    summary: str,
    detail: Mapping[str, object],
) -> None:
    """Store why DOM did what it did (`detail` is kept as JSON)."""
    session.add(
        DomDecision(
            order_id=order_id,
            at=at,
            actor=actor,
            outcome=outcome,
            rule=rule,
            summary=summary,
            detail=json.dumps(detail, sort_keys=True),
        )
    )
    session.flush()


@dataclass(frozen=True)
class DecisionRow:
    """A stored decision, for `route explain`."""

    at: datetime
    actor: str
    outcome: DecisionOutcome
    rule: str
    summary: str
    detail: str


def decisions(session: Session, order_id: int) -> list[DecisionRow]:
    """The order's DOM decisions, oldest first."""
    return [
        DecisionRow(*r)
        for r in session.execute(
            select(
                DomDecision.at,
                DomDecision.actor,
                DomDecision.outcome,
                DomDecision.rule,
                DomDecision.summary,
                DomDecision.detail,
            )
            .where(DomDecision.order_id == order_id)
            .order_by(DomDecision.id)
        )
    ]


def orders_waiting(session: Session, limit: int | None = None) -> list[int]:
    """Verified orders, oldest placed first: the routing backlog."""
    stmt = (
        select(Order.id)
        .where(Order.status == OrderStatus.VERIFIED)
        .order_by(Order.placed_at, Order.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def add_postal_areas(session: Session, rows: list[dict[str, object]]) -> None:
    """Add postal areas; ones already known (same country and prefix) are kept as they are."""
    if rows:
        session.execute(
            insert_on_conflict(session, PostalArea).on_conflict_do_nothing(
                index_elements=["country", "prefix"]
            ),
            rows,
        )


def backlog_demand(session: Session) -> list[tuple[str, str, int, str, int]]:
    """Units wanted by verified orders that ship: (country, postal code, product id, SKU,
    quantity) rows, one per order line."""
    rows = session.execute(
        select(
            Address.country,
            Address.postal_code,
            OrderLine.product_id,
            Product.sku,
            OrderLine.quantity,
        )
        .join(Order, Order.id == OrderLine.order_id)
        .join(Address, and_(Address.order_id == Order.id, Address.role == "ship_to"))
        .join(Product, Product.id == OrderLine.product_id)
        .where(Order.status == OrderStatus.VERIFIED, Order.service_level != ServiceLevel.PICKUP)
    )
    return [tuple(r) for r in rows]


@dataclass(frozen=True)
class AllocationRow:
    """An allocation with what DOM needs to undo or redo it."""

    id: int
    order_line_id: int
    line_no: int
    node_id: int
    node_code: str
    product_id: int
    sku: str
    quantity: int
    status: AllocationStatus


def allocations_for_order(session: Session, order_id: int) -> list[AllocationRow]:
    """The order's allocations, by line then node."""
    return [
        AllocationRow(*r)
        for r in session.execute(
            select(
                LineAllocation.id,
                LineAllocation.order_line_id,
                OrderLine.line_no,
                LineAllocation.node_id,
                Node.code,
                OrderLine.product_id,
                Product.sku,
                LineAllocation.quantity,
                LineAllocation.status,
            )
            .join(OrderLine, OrderLine.id == LineAllocation.order_line_id)
            .join(Node, Node.id == LineAllocation.node_id)
            .join(Product, Product.id == OrderLine.product_id)
            .where(OrderLine.order_id == order_id)
            .order_by(OrderLine.line_no, LineAllocation.id)
        )
    ]


def give_back_picked(session: Session, order_line_id: int, node_id: int, quantity: int) -> bool:
    """``quantity`` picked units of the order line at the node are given back (damaged at
    the pack bench): they become a rejected allocation of their own, the rest stays picked.
    False if the node holds no picked allocation of the line with that many units."""
    row = session.execute(
        select(
            LineAllocation.id,
            LineAllocation.order_line_id,
            LineAllocation.node_id,
            LineAllocation.quantity,
        )
        .where(
            LineAllocation.order_line_id == order_line_id,
            LineAllocation.node_id == node_id,
            LineAllocation.status == AllocationStatus.PICKED,
            LineAllocation.quantity >= quantity,
        )
        .order_by(LineAllocation.id)
        .limit(1)
        .with_for_update()
    ).first()
    if row is None:
        return False
    allocation_id = row.id
    if row.quantity == quantity:
        session.execute(
            update(LineAllocation)
            .where(LineAllocation.id == allocation_id)
            .values(status=AllocationStatus.REJECTED)
            .execution_options(synchronize_session=False)
        )
        return True
    session.execute(
        update(LineAllocation)
        .where(LineAllocation.id == allocation_id)
        .values(quantity=row.quantity - quantity)
        .execution_options(synchronize_session=False)
    )
    session.add(
        LineAllocation(
            order_line_id=row.order_line_id,
            node_id=row.node_id,
            quantity=quantity,
            status=AllocationStatus.REJECTED,
        )
    )
    session.flush()
    return True


def close_allocation(
    session: Session,
    allocation_id: int,
    to: AllocationStatus,
    keep: int = 0,
    *,
    keep_tasks: bool = False,
) -> bool:
    """End a reserved allocation (rejected or released); `keep` units of it may stay
    reserved as a new allocation. False if it was no longer reserved. With `keep_tasks`
    (a short pick at one of its locations) its other open pick tasks carry on under the
    kept allocation instead of ending."""
    row = session.execute(
        select(LineAllocation.order_line_id, LineAllocation.node_id, LineAllocation.quantity).where(
            LineAllocation.id == allocation_id
        )
    ).one()
    result = session.execute(
        update(LineAllocation)
        .where(
            LineAllocation.id == allocation_id, LineAllocation.status == AllocationStatus.RESERVED
        )
        .values(status=to)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    kept = None
    if keep:
        kept = LineAllocation(
            order_line_id=row.order_line_id,
            node_id=row.node_id,
            quantity=keep,
            status=AllocationStatus.RESERVED,
        )
        session.add(kept)
        session.flush()
    open_tasks = update(PickTask).where(
        PickTask.allocation_id == allocation_id, PickTask.status == PickTaskStatus.OPEN
    )
    if keep_tasks and kept is not None:
        session.execute(
            open_tasks.values(allocation_id=kept.id).execution_options(synchronize_session=False)
        )
    else:
        # Its units are no longer this node's to pick: open pick tasks for them end here
        # (the units kept, if any, become new work for the next wave).
        session.execute(
            open_tasks.values(status=PickTaskStatus.CANCELLED).execution_options(
                synchronize_session=False
            )
        )
    session.flush()
    return True


def count_postal_areas(session: Session) -> int:
    """How many postal areas the store knows."""
    return int(session.scalar(select(func.count()).select_from(PostalArea)) or 0)


def lock_order(session: Session, order_id: int) -> None:
    """Hold the order's row until the transaction ends (PostgreSQL; an SQLite write
    transaction already holds the whole store), so two changes to it run one after the
    other."""
    session.execute(select(Order.id).where(Order.id == order_id).with_for_update())


def return_capacity(session: Session, node_id: int, day: date) -> None:
    """Give back one package of a node's day (an order released before shipping)."""
    session.execute(
        update(NodeDayLoad)
        .where(NodeDayLoad.node_id == node_id, NodeDayLoad.day == day, NodeDayLoad.packages > 0)
        .values(packages=NodeDayLoad.packages - 1)
        .execution_options(synchronize_session=False)
    )


def rejected_nodes(session: Session, order_line_id: int) -> list[str]:
    """Codes of the nodes that have given this line back."""
    return list(
        session.scalars(
            select(Node.code)
            .join(LineAllocation, LineAllocation.node_id == Node.id)
            .where(
                LineAllocation.order_line_id == order_line_id,
                LineAllocation.status == AllocationStatus.REJECTED,
            )
            .distinct()
        )
    )


def set_active_nodes(session: Session, codes: set[str]) -> None:
    """Make exactly these nodes take orders; every other node stops (DOM skips it)."""
    session.execute(
        update(Node)
        .values(active=Node.code.in_(codes))
        .execution_options(synchronize_session=False)
    )
