"""Stock rows: receiving, the per-node positions, conditional reservations and availability."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, case, func, literal, select, update
from sqlalchemy.orm import Session

from data.models import (
    AllocationStatus,
    InventoryPosition,
    LineAllocation,
    Location,
    MovementReason,
    Node,
    NodeKind,
    OrderLine,
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


@dataclass(frozen=True)
class Drift:
    """A place where a kept total disagrees with the history it should sum."""

    check: str
    """reserved-vs-ledger, on-hand-vs-locations or location-vs-movements."""
    node_code: str
    sku: str
    kept: int
    """The total the store keeps (position or stock row)."""
    from_history: int
    """What the ledger, the locations or the movements add up to."""
    location: str = ""
    lot: str = ""


def reconcile(session: Session) -> list[Drift]:
    """Every disagreement between the kept totals and their history, in three checks:
    a position's `reserved` against the reservation ledger, its `on_hand` against the
    stock in its node's locations, and each stock row against its movements."""
    drifts: list[Drift] = []
    node_code = select(Node.code).where(Node.id == InventoryPosition.node_id).scalar_subquery()
    sku = select(Product.sku).where(Product.id == InventoryPosition.product_id).scalar_subquery()

    ledger = (
        select(
            Reservation.node_id,
            Reservation.product_id,
            func.sum(Reservation.quantity).label("total"),
        )
        .group_by(Reservation.node_id, Reservation.product_id)
        .subquery()
    )
    located = (
        select(Stock.node_id, Stock.product_id, func.sum(Stock.on_hand).label("total"))
        .group_by(Stock.node_id, Stock.product_id)
        .subquery()
    )
    for check, kept_column, history in (
        ("reserved-vs-ledger", InventoryPosition.reserved, ledger),
        ("on-hand-vs-locations", InventoryPosition.on_hand, located),
    ):
        summed = func.coalesce(history.c.total, 0)
        rows = session.execute(
            select(node_code, sku, kept_column, summed)
            .select_from(InventoryPosition)
            .outerjoin(
                history,
                and_(
                    history.c.node_id == InventoryPosition.node_id,
                    history.c.product_id == InventoryPosition.product_id,
                ),
            )
            .where(kept_column != summed)
        )
        drifts += [Drift(check, n, s, kept, hist) for n, s, kept, hist in rows]
    # Stock with no position at all: the position is missing, not zero.
    orphan_rows = session.execute(
        select(Node.code, Product.sku, located.c.total)
        .select_from(located)
        .join(Node, Node.id == located.c.node_id)
        .join(Product, Product.id == located.c.product_id)
        .outerjoin(
            InventoryPosition,
            and_(
                InventoryPosition.node_id == located.c.node_id,
                InventoryPosition.product_id == located.c.product_id,
            ),
        )
        .where(InventoryPosition.node_id.is_(None), located.c.total != 0)
    )
    drifts += [Drift("on-hand-vs-locations", n, s, 0, total) for n, s, total in orphan_rows]

    moved = (
        select(
            StockMovement.location_id,
            StockMovement.product_id,
            StockMovement.lot,
            func.sum(StockMovement.quantity).label("total"),
        )
        .group_by(StockMovement.location_id, StockMovement.product_id, StockMovement.lot)
        .subquery()
    )
    rows = session.execute(
        select(
            Node.code,
            Product.sku,
            Location.code,
            Stock.lot,
            Stock.on_hand,
            func.coalesce(moved.c.total, 0),
        )
        .select_from(Stock)
        .join(Node, Node.id == Stock.node_id)
        .join(Product, Product.id == Stock.product_id)
        .join(Location, Location.id == Stock.location_id)
        .outerjoin(
            moved,
            and_(
                moved.c.location_id == Stock.location_id,
                moved.c.product_id == Stock.product_id,
                moved.c.lot == Stock.lot,
            ),
        )
        .where(Stock.on_hand != func.coalesce(moved.c.total, 0))
    )
    drifts += [
        Drift("location-vs-movements", n, s, kept, hist, location=loc, lot=lot)
        for n, s, loc, lot, kept, hist in rows
    ]
    drifts += _allocations_against_ledger(session)
    return sorted(drifts, key=lambda d: (d.check, d.node_code, d.sku, d.location, d.lot))


def _allocations_against_ledger(session: Session) -> list[Drift]:
    """Units DOM holds for order lines (reserved allocations) against the ledger's
    reservations for order lines, per node and SKU (both ways round)."""
    held = (
        select(
            LineAllocation.node_id,
            OrderLine.product_id,
            func.sum(LineAllocation.quantity).label("total"),
        )
        .join(OrderLine, OrderLine.id == LineAllocation.order_line_id)
        .where(LineAllocation.status == AllocationStatus.RESERVED)
        .group_by(LineAllocation.node_id, OrderLine.product_id)
        .subquery()
    )
    ledger = (
        select(
            Reservation.node_id,
            Reservation.product_id,
            func.sum(Reservation.quantity).label("total"),
        )
        .where(Reservation.order_line_id.is_not(None))
        .group_by(Reservation.node_id, Reservation.product_id)
        .subquery()
    )
    rows = session.execute(
        select(Node.code, Product.sku, func.coalesce(held.c.total, 0), ledger.c.total)
        .select_from(ledger)
        .join(Node, Node.id == ledger.c.node_id)
        .join(Product, Product.id == ledger.c.product_id)
        .outerjoin(
            held,
            and_(held.c.node_id == ledger.c.node_id, held.c.product_id == ledger.c.product_id),
        )
        .where(func.coalesce(held.c.total, 0) != ledger.c.total)
    )
    drifts = [
        Drift("allocations-vs-ledger", n, s, int(kept), int(hist)) for n, s, kept, hist in rows
    ]
    orphans = session.execute(
        select(Node.code, Product.sku, held.c.total)
        .select_from(held)
        .join(Node, Node.id == held.c.node_id)
        .join(Product, Product.id == held.c.product_id)
        .outerjoin(
            ledger,
            and_(held.c.node_id == ledger.c.node_id, held.c.product_id == ledger.c.product_id),
        )
        .where(ledger.c.node_id.is_(None))
    )
    drifts += [Drift("allocations-vs-ledger", n, s, int(total), 0) for n, s, total in orphans]
    return drifts


def write_off(
    session: Session,
    *,
    node_id: int,
    product_id: int,
    quantity: int,
    reason: MovementReason,
    who: Who,
    at: datetime,
    location_id: int | None = None,
    lot: str | None = None,
    note: str = "",
) -> int:
    """Take stock that is not there off the books: from the given location (and lot), else from the
    node's locations holding most first. Never below what other orders hold reserved
    (the CHECK would refuse it); returns the units written off."""
    position = session.execute(
        select(InventoryPosition.on_hand, InventoryPosition.reserved)
        .where(InventoryPosition.node_id == node_id, InventoryPosition.product_id == product_id)
        .with_for_update()
    ).one_or_none()
    if position is None:
        return 0
    room = min(quantity, position.on_hand - position.reserved)
    stmt = select(Stock).where(
        Stock.node_id == node_id, Stock.product_id == product_id, Stock.on_hand > 0
    )
    if location_id is not None:
        stmt = stmt.where(Stock.location_id == location_id)
    if lot is not None:
        stmt = stmt.where(Stock.lot == lot)
    rows = list(session.scalars(stmt.order_by(Stock.on_hand.desc(), Stock.id).with_for_update()))
    left = room
    for row in rows:
        if left == 0:
            break
        take = min(left, row.on_hand)
        result = session.execute(
            update(Stock)
            .where(Stock.id == row.id, Stock.on_hand >= take)
            .values(on_hand=Stock.on_hand - take)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            continue
        session.add(
            StockMovement(
                node_id=node_id,
                location_id=row.location_id,
                product_id=product_id,
                lot=row.lot,
                quantity=-take,
                reason=reason,
                at=at,
                actor=who.actor,
                user_id=who.user_id,
                station_id=who.station_id,
                note=note,
            )
        )
        left -= take
    taken = int(room - left)
    if taken:
        session.execute(
            update(InventoryPosition)
            .where(InventoryPosition.node_id == node_id, InventoryPosition.product_id == product_id)
            .values(on_hand=InventoryPosition.on_hand - taken)
            .execution_options(synchronize_session=False)
        )
    session.flush()
    return taken
