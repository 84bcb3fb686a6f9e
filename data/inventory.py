"""Stock rows: receiving, the per-node positions, conditional reservations and availability."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, case, func, literal, select, update
from sqlalchemy.orm import Session

from data.models import (
    InventoryPosition,
    MovementReason,
    Node,
    NodeKind,
    Product,
    Reservation,
    ReservationKind,
    Stock,
    StockMovement,
)
from data.upsert import insert_on_conflict


@dataclass(frozen=True)
class Who:
    """The actor columns every history row carries."""

    actor: str
    user_id: int | None = None
    station_id: int | None = None


@dataclass(frozen=True)
class NodeAvailability:
    """One node's stock of one SKU and what of it can still be promised."""

    node_code: str
    node_name: str
    node_kind: NodeKind
    on_hand: int
    reserved: int
    safety_stock: int

    @property
    def atp(self) -> int:
        """Available to promise: on hand − reserved − safety stock, never below zero."""
        return max(0, self.on_hand - self.reserved - self.safety_stock)


def receive(
    session: Session,
    *,
    node_id: int,
    location_id: int,
    product_id: int,
    quantity: int,
    who: Who,
    at: datetime,
    lot: str = "",
    expiry: date | None = None,
    reason: MovementReason = MovementReason.RECEIPT,
    note: str = "",
) -> None:
    """Add stock to a location and to the node's position, and record the movement."""
    if quantity <= 0:
        raise ValueError(f"a receipt adds stock; {quantity} is not a positive quantity")
    stock = insert_on_conflict(session, Stock).values(
        node_id=node_id,
        location_id=location_id,
        product_id=product_id,
        lot=lot,
        expiry=expiry,
        on_hand=quantity,
    )
    session.execute(
        stock.on_conflict_do_update(
            index_elements=["location_id", "product_id", "lot"],
            set_={"on_hand": Stock.on_hand + stock.excluded.on_hand},
        )
    )
    position = insert_on_conflict(session, InventoryPosition).values(
        node_id=node_id, product_id=product_id, on_hand=quantity, reserved=0
    )
    session.execute(
        position.on_conflict_do_update(
            index_elements=["node_id", "product_id"],
            set_={"on_hand": InventoryPosition.on_hand + position.excluded.on_hand},
        )
    )
    session.add(
        StockMovement(
            node_id=node_id,
            location_id=location_id,
            product_id=product_id,
            lot=lot,
            quantity=quantity,
            reason=reason,
            at=at,
            actor=who.actor,
            user_id=who.user_id,
            station_id=who.station_id,
            note=note,
        )
    )
    session.flush()


def _safety(node_id: object) -> object:
    node_safety = select(Node.safety_stock).where(Node.id == node_id).scalar_subquery()
    return func.coalesce(InventoryPosition.safety_stock, node_safety)


def reserve(
    session: Session,
    *,
    node_id: int,
    product_id: int,
    quantity: int,
    who: Who,
    at: datetime,
    order_line_id: int | None = None,
    note: str = "",
) -> bool:
    """Reserve stock if that much is available to promise; False (and nothing written) if not.

    One conditional UPDATE: there is no read-then-write window for a concurrent router.
    """
    if quantity <= 0:
        raise ValueError(f"{quantity} is not a positive quantity to reserve")
    atp = InventoryPosition.on_hand - InventoryPosition.reserved - _safety(node_id)
    result = session.execute(
        update(InventoryPosition)
        .where(
            InventoryPosition.node_id == node_id,
            InventoryPosition.product_id == product_id,
            atp >= quantity,
        )
        .values(reserved=InventoryPosition.reserved + quantity)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    _ledger(
        session,
        node_id,
        product_id,
        order_line_id,
        ReservationKind.RESERVE,
        quantity,
        who,
        at,
        note,
    )
    return True


def release(
    session: Session,
    *,
    node_id: int,
    product_id: int,
    quantity: int,
    who: Who,
    at: datetime,
    order_line_id: int | None = None,
    note: str = "",
) -> bool:
    """Give reserved stock back to ATP; False if less than `quantity` is reserved."""
    if quantity <= 0:
        raise ValueError(f"{quantity} is not a positive quantity to release")
    result = session.execute(
        update(InventoryPosition)
        .where(
            InventoryPosition.node_id == node_id,
            InventoryPosition.product_id == product_id,
            InventoryPosition.reserved >= quantity,
        )
        .values(reserved=InventoryPosition.reserved - quantity)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    _ledger(
        session,
        node_id,
        product_id,
        order_line_id,
        ReservationKind.RELEASE,
        -quantity,
        who,
        at,
        note,
    )
    return True


def _ledger(
    session: Session,
    node_id: int,
    product_id: int,
    order_line_id: int | None,
    kind: ReservationKind,
    quantity: int,
    who: Who,
    at: datetime,
    note: str,
) -> None:
    session.add(
        Reservation(
            node_id=node_id,
            product_id=product_id,
            order_line_id=order_line_id,
            kind=kind,
            quantity=quantity,
            at=at,
            actor=who.actor,
            user_id=who.user_id,
            station_id=who.station_id,
            note=note,
        )
    )
    session.flush()


def availability(
    session: Session, sku: str, node_code: str | None = None
) -> list[NodeAvailability] | None:
    """Per-node availability of a SKU (active nodes holding or having held it).

    None if the SKU is unknown. With `node_code`, only that node (a zero row if the node
    has never stocked the SKU).
    """
    product_id = session.scalar(select(Product.id).where(Product.sku == sku))
    if product_id is None:
        return None
    safety = func.coalesce(InventoryPosition.safety_stock, Node.safety_stock)
    stmt = (
        select(
            Node.code,
            Node.name,
            Node.kind,
            func.coalesce(InventoryPosition.on_hand, 0),
            func.coalesce(InventoryPosition.reserved, 0),
            case((InventoryPosition.node_id.is_(None), Node.safety_stock), else_=safety),
        )
        .select_from(Node)
        .outerjoin(
            InventoryPosition,
            and_(
                InventoryPosition.node_id == Node.id,
                InventoryPosition.product_id == literal(product_id),
            ),
        )
        .where(Node.active.is_(True))
        .order_by(Node.code)
    )
    if node_code is not None:
        stmt = stmt.where(Node.code == node_code)
    else:
        stmt = stmt.where(InventoryPosition.node_id.is_not(None))
    return [NodeAvailability(*row) for row in session.execute(stmt)]


def node_exists(session: Session, code: str) -> bool:
    """True if a node has this code."""
    return session.scalar(select(func.count()).select_from(Node).where(Node.code == code)) == 1
