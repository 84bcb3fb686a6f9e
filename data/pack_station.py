"""The pack station's queries and writes: the totes on a bench, what they hold, the
packer's claim on them, packages and what went into each, and the pack history.

No rule lives here: ``app.packing.station`` decides, this module reads and writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from data.inventory import Who
from data.models import (
    Address,
    Box,
    Channel,
    LabelRequest,
    Location,
    Node,
    Order,
    OrderLine,
    Package,
    PackageItem,
    PackageRate,
    PackEvent,
    PackingMaterial,
    PickedSerial,
    PickEvent,
    PickList,
    PickTask,
    PickTaskStatus,
    Product,
    Shipment,
    ShipmentStatus,
    Station,
    User,
)


@dataclass(frozen=True)
class ShipmentAtBench:
    """One of an order's shipments at a node, as the pack bench sees it."""

    id: int
    order_id: int
    order_ref: str
    status: ShipmentStatus
    tote: str | None
    pick_list_id: int
    carrier: str
    service: str
    packing_by: int | None
    packing_by_name: str | None
    packing_station: str | None
    packing_seen_at: datetime | None
    problem: str | None
    packed_with: int | None


def _bench_query() -> Select[Any]:
    packer = aliased(User)
    return (
        select(
            Shipment.id,
            Shipment.order_id,
            Channel.code + "/" + Order.external_id,
            Shipment.status,
            Shipment.tote,
            Shipment.pick_list_id,
            Shipment.carrier,
            Shipment.service,
            Shipment.packing_by,
            packer.name,
            Station.code,
            Shipment.packing_seen_at,
            Shipment.problem,
            Shipment.packed_with,
        )
        .join(Order, Order.id == Shipment.order_id)
        .join(Channel, Channel.id == Order.channel_id)
        .outerjoin(packer, packer.id == Shipment.packing_by)
        .outerjoin(Station, Station.id == Shipment.packing_station_id)
    )


def tote_shipment(session: Session, node_id: int, tote: str) -> ShipmentAtBench | None:
    """The shipment whose units are in this tote now (a tote in use holds one order)."""
    row = session.execute(
        _bench_query()
        .where(
            Shipment.node_id == node_id,
            func.upper(Shipment.tote) == tote.upper(),
            Shipment.status.in_((ShipmentStatus.PICKING, ShipmentStatus.PICKED)),
        )
        .order_by(Shipment.id.desc())
        .limit(1)
    ).first()
    return ShipmentAtBench(*row) if row is not None else None


def order_shipments(session: Session, order_id: int, node_id: int) -> list[ShipmentAtBench]:
    """Every shipment of the order at the node, cancelled ones left out."""
    rows = session.execute(
        _bench_query()
        .where(
            Shipment.order_id == order_id,
            Shipment.node_id == node_id,
            Shipment.status != ShipmentStatus.CANCELLED,
        )
        .order_by(Shipment.id)
    )
    return [ShipmentAtBench(*row) for row in rows]


def order_shipments_by_id(session: Session, shipment_ids: list[int]) -> list[ShipmentAtBench]:
    rows = session.execute(
        _bench_query().where(Shipment.id.in_(shipment_ids)).order_by(Shipment.id)
    )
    return [ShipmentAtBench(*row) for row in rows]


def node_id(session: Session, code: str) -> int | None:
    return session.scalar(select(Node.id).where(Node.code == code))


def totes_to_pack(session: Session, node_code: str) -> int:
    """Totes at the node holding picked units not packed yet."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Shipment)
            .join(Node, Node.id == Shipment.node_id)
            .where(
                Node.code == node_code,
                Shipment.status == ShipmentStatus.PICKED,
                Shipment.tote.is_not(None),
            )
        )
        or 0
    )


def totes_at(session: Session, node_code: str) -> list[str]:
    """The totes :func:`totes_to_pack` counts, oldest shipment first."""
    return list(
        session.scalars(
            select(Shipment.tote)
            .join(Node, Node.id == Shipment.node_id)
            .where(
                Node.code == node_code,
                Shipment.status == ShipmentStatus.PICKED,
                Shipment.tote.is_not(None),
            )
            .order_by(Shipment.id)
        )
    )


def order_by_reference(session: Session, reference: str) -> int | None:
    """An order's id from ``CHANNEL/EXTERNAL-ID``, or None."""
    channel, _, external = reference.partition("/")
    return session.scalar(
        select(Order.id)
        .join(Channel, Channel.id == Order.channel_id)
        .where(func.upper(Channel.code) == channel.upper(), Order.external_id == external)
    )


def list_orders(session: Session, pick_list_id: int) -> list[int]:
    """The orders a pick list's totes hold."""
    return list(
        session.scalars(
            select(Shipment.order_id)
            .where(
                Shipment.pick_list_id == pick_list_id,
                Shipment.status != ShipmentStatus.CANCELLED,
            )
            .distinct()
        )
    )


def earlier_totes(session: Session, shipment_ids: list[int]) -> list[tuple[int, str]]:
    """Totes other than the shipment's own that hold some of its units (picked before its
    list changed hands), as (shipment id, tote)."""
    rows = session.execute(
        select(PickTask.shipment_id, PickEvent.tote)
        .join(PickTask, PickTask.id == PickEvent.task_id)
        .join(Shipment, Shipment.id == PickTask.shipment_id)
        .where(
            PickTask.shipment_id.in_(shipment_ids),
            PickEvent.kind == "pick",
            PickEvent.tote != "",
            or_(Shipment.tote.is_(None), func.upper(PickEvent.tote) != func.upper(Shipment.tote)),
        )
        .distinct()
    )
    return [(row[0], row[1]) for row in rows]


def pick_list_status(session: Session, pick_list_id: int) -> str | None:
    status = session.scalar(select(PickList.status).where(PickList.id == pick_list_id))
    return status.value if status is not None else None


def claim(
    session: Session, shipment_ids: list[int], who: Who, now: datetime, stale_before: datetime
) -> int:
    """Put the shipments on this packer's bench where nobody else has them (or their claim
    went quiet before ``stale_before``); how many were taken."""
    result = session.execute(
        update(Shipment)
        .where(
            Shipment.id.in_(shipment_ids),
            Shipment.status == ShipmentStatus.PICKED,
            Shipment.problem.is_(None),
            or_(
                Shipment.packing_by.is_(None),
                and_(
                    Shipment.packing_by == who.user_id,
                    Shipment.packing_station_id == who.station_id,
                ),
                Shipment.packing_seen_at < stale_before,
            ),
        )
        .values(packing_by=who.user_id, packing_station_id=who.station_id, packing_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def held_by(session: Session, shipment_ids: list[int], who: Who, now: datetime | None) -> int:
    """How many of the shipments this packer still holds (and, with ``now``, say so)."""
    held = (
        Shipment.id.in_(shipment_ids),
        Shipment.status == ShipmentStatus.PICKED,
        Shipment.packing_by == who.user_id,
        Shipment.packing_station_id == who.station_id,
    )
    if now is None:
        return int(session.scalar(select(func.count()).where(*held)) or 0)
    result = session.execute(
        update(Shipment)
        .where(*held)
        .values(packing_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def lock_shipments(session: Session, shipment_ids: list[int]) -> None:
    """Hold the shipments' rows, lowest id first (as every writer takes them)."""
    session.execute(
        select(Shipment.id)
        .where(Shipment.id.in_(shipment_ids))
        .order_by(Shipment.id)
        .with_for_update()
    ).all()


def release(session: Session, shipment_ids: list[int]) -> None:
    session.execute(
        update(Shipment)
        .where(Shipment.id.in_(shipment_ids))
        .values(packing_by=None, packing_station_id=None, packing_seen_at=None)
        .execution_options(synchronize_session=False)
    )


def set_problem(
    session: Session, shipment_ids: list[int], problem: str, location_id: int | None
) -> None:
    session.execute(
        update(Shipment)
        .where(Shipment.id.in_(shipment_ids))
        .values(
            problem=problem,
            problem_location_id=location_id,
            packing_by=None,
            packing_station_id=None,
            packing_seen_at=None,
        )
        .execution_options(synchronize_session=False)
    )


def set_packed(session: Session, shipment_ids: list[int], lead: int) -> None:
    """The shipments are packed (their totes are free again); the others' units went into
    the lead's packages."""
    session.execute(
        update(Shipment)
        .where(Shipment.id.in_(shipment_ids))
        .values(
            status=ShipmentStatus.PACKED,
            packed_with=None,
            packing_by=None,
            packing_station_id=None,
            packing_seen_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    others = [i for i in shipment_ids if i != lead]
    if others:
        session.execute(
            update(Shipment)
            .where(Shipment.id.in_(others))
            .values(packed_with=lead)
            .execution_options(synchronize_session=False)
        )


def unpacked_shipments(session: Session, order_id: int) -> int:
    """The order's shipments (any node) not packed yet and not cancelled."""
    return int(
        session.scalar(
            select(func.count()).where(
                Shipment.order_id == order_id,
                Shipment.status.in_((ShipmentStatus.PICKING, ShipmentStatus.PICKED)),
            )
        )
        or 0
    )


def location_id(session: Session, node_id: int, code: str) -> int | None:
    return session.scalar(
        select(Location.id).where(Location.node_id == node_id, Location.code == code)
    )


@dataclass(frozen=True)
class LineInTotes:
    """One order line's units in the totes on the bench."""

    order_line_id: int
    line_no: int
    product_id: int
    sku: str
    name: str
    gtin: str | None
    track_lot: bool
    track_serial: bool
    track_expiry: bool
    length_mm: int
    width_mm: int
    height_mm: int
    weight_g: int
    fragile: bool
    liquid: bool
    upright: bool
    own_container: bool
    hazmat_class: str
    max_stack_g: int | None
    picked: int
    lots: tuple[str, ...]
    serials: tuple[str, ...]


def lines_in_totes(session: Session, shipment_ids: list[int]) -> list[LineInTotes]:
    rows = session.execute(
        select(
            OrderLine.id,
            OrderLine.line_no,
            Product.id,
            Product.sku,
            Product.name,
            Product.gtin,
            Product.track_lot,
            Product.track_serial,
            Product.track_expiry,
            Product.length_mm,
            Product.width_mm,
            Product.height_mm,
            Product.weight_g,
            Product.fragile,
            Product.liquid,
            Product.upright,
            Product.own_container,
            Product.hazmat_class,
            Product.max_stack_g,
            func.sum(PickTask.picked - PickTask.removed),
        )
        .join(OrderLine, OrderLine.id == PickTask.order_line_id)
        .join(Product, Product.id == PickTask.product_id)
        .where(
            PickTask.shipment_id.in_(shipment_ids),
            PickTask.status != PickTaskStatus.CANCELLED,
            PickTask.picked > PickTask.removed,
        )
        .group_by(OrderLine.id, OrderLine.line_no, Product.id)
        .order_by(OrderLine.line_no)
    ).all()
    lots: dict[int, set[str]] = {}
    for line_id, lot in session.execute(
        select(PickTask.order_line_id, PickTask.lot).where(
            PickTask.shipment_id.in_(shipment_ids), PickTask.picked > 0
        )
    ):
        lots.setdefault(line_id, set()).add(lot)
    serials: dict[int, list[str]] = {}
    for line_id, serial in session.execute(
        select(PickTask.order_line_id, PickedSerial.serial)
        .join(PickTask, PickTask.id == PickedSerial.task_id)
        .where(PickTask.shipment_id.in_(shipment_ids))
        .order_by(PickedSerial.id)
    ):
        serials.setdefault(line_id, []).append(serial)
    found = []
    for row in rows:
        values: list[Any] = [*row[:19], int(row[19])]
        values.append(tuple(sorted(lots.get(row[0], ()))))
        values.append(tuple(serials.get(row[0], ())))
        found.append(LineInTotes(*values))
    return found


@dataclass(frozen=True)
class PackedUnits:
    order_line_id: int
    quantity: int
    serials: tuple[str, ...]


def packed_units(session: Session, lead: int) -> list[PackedUnits]:
    """What the lead shipment's closed packages already hold, per order line."""
    found: dict[int, tuple[int, list[str]]] = {}
    for line_id, quantity, serial in session.execute(
        select(PackageItem.order_line_id, PackageItem.quantity, PackageItem.serial)
        .join(Package, Package.id == PackageItem.package_id)
        .where(Package.shipment_id == lead)
        .order_by(PackageItem.id)
    ):
        total, serials = found.get(line_id, (0, []))
        if serial:
            serials.append(serial)
        found[line_id] = (total + quantity, serials)
    return [PackedUnits(k, v[0], tuple(v[1])) for k, v in found.items()]


def lot_units(session: Session, shipment_ids: list[int], lead: int) -> dict[int, dict[str, int]]:
    """Per order line, per lot: units in the totes not yet in a closed box."""
    found: dict[int, dict[str, int]] = {}
    for line_id, lot, units in session.execute(
        select(PickTask.order_line_id, PickTask.lot, func.sum(PickTask.picked - PickTask.removed))
        .where(
            PickTask.shipment_id.in_(shipment_ids),
            PickTask.status != PickTaskStatus.CANCELLED,
        )
        .group_by(PickTask.order_line_id, PickTask.lot)
    ):
        found.setdefault(line_id, {})[lot] = int(units or 0)
    for line_id, lot, units in session.execute(
        select(PackageItem.order_line_id, PackageItem.lot, func.sum(PackageItem.quantity))
        .join(Package, Package.id == PackageItem.package_id)
        .where(Package.shipment_id == lead)
        .group_by(PackageItem.order_line_id, PackageItem.lot)
    ):
        lots = found.setdefault(line_id, {})
        lots[lot] = lots.get(lot, 0) - int(units or 0)
    return found


@dataclass(frozen=True)
class ClosedBox:
    id: int
    number: int
    box: str | None
    weight_g: int | None
    sscc: str
    tracking_number: str


def closed_boxes(session: Session, lead: int) -> list[ClosedBox]:
    rows = session.execute(
        select(
            Package.id,
            Package.number,
            Package.box,
            Package.weight_g,
            Package.sscc,
            Package.tracking_number,
        )
        .where(Package.shipment_id == lead)
        .order_by(Package.number)
    )
    return [ClosedBox(*row) for row in rows]


def record_package(
    session: Session,
    package_id: int,
    *,
    suggested_box: str | None,
    expected_weight_g: int | None,
    override_by: int | None,
    who: Who,
) -> None:
    session.execute(
        update(Package)
        .where(Package.id == package_id)
        .values(
            suggested_box=suggested_box,
            expected_weight_g=expected_weight_g,
            weight_override_by=override_by,
            user_id=who.user_id,
            station_id=who.station_id,
        )
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class RatingFacts:
    """What a carrier rates a package of the shipment by, besides the box."""

    node_latitude: float
    node_longitude: float
    node_timezone: str
    ship_latitude: float | None
    ship_longitude: float | None
    company: str
    """The ship-to's company ("" for a person: a residential delivery)."""
    service_level: str
    placed_at: datetime


def rating_facts(session: Session, shipment_id: int) -> RatingFacts | None:
    row = session.execute(
        select(
            Node.latitude,
            Node.longitude,
            Node.timezone,
            Address.latitude,
            Address.longitude,
            Address.company,
            Order.service_level,
            Order.placed_at,
        )
        .select_from(Shipment)
        .join(Node, Node.id == Shipment.node_id)
        .join(Order, Order.id == Shipment.order_id)
        .outerjoin(Address, (Address.order_id == Order.id) & (Address.role == "ship_to"))
        .where(Shipment.id == shipment_id)
    ).first()
    if row is None:
        return None
    return RatingFacts(row[0], row[1], row[2], row[3], row[4], row[5] or "", str(row[6]), row[7])


@dataclass(frozen=True)
class RateIn:
    carrier: str
    service: str
    price: Decimal
    days: int
    arrives: date
    chosen: bool
    why: str


def record_rates(
    session: Session,
    package_id: int,
    *,
    service: str,
    charge: Decimal,
    arrives: date,
    quotes: Sequence[RateIn],
    at: datetime,
) -> None:
    """The service rate shopping chose for the package, and every quote it weighed."""
    session.execute(
        update(Package)
        .where(Package.id == package_id)
        .values(service=service, charge=charge, arrives=arrives)
        .execution_options(synchronize_session=False)
    )
    if quotes:
        session.execute(
            insert(PackageRate),
            [
                {
                    "package_id": package_id,
                    "carrier": q.carrier,
                    "service": q.service,
                    "price": q.price,
                    "days": q.days,
                    "arrives": q.arrives,
                    "chosen": q.chosen,
                    "why": q.why,
                    "at": at,
                }
                for q in quotes
            ],
        )


@dataclass(frozen=True)
class LabelAsked:
    id: int
    key: str
    status: str
    tracking_number: str | None


def next_box_number(session: Session, shipment_id: int) -> int:
    return (
        int(
            session.scalar(
                select(func.coalesce(func.max(Package.number), 0)).where(
                    Package.shipment_id == shipment_id
                )
            )
            or 0
        )
        + 1
    )


def pending_label_request(
    session: Session, shipment_id: int, box_number: int, carrier: str
) -> LabelAsked | None:
    """The box's request to the carrier whose answer never came, if one is pending."""
    row = session.execute(
        select(LabelRequest.id, LabelRequest.key, LabelRequest.status, LabelRequest.tracking_number)
        .where(
            LabelRequest.shipment_id == shipment_id,
            LabelRequest.box_number == box_number,
            LabelRequest.carrier == carrier,
            LabelRequest.status == "pending",
        )
        .order_by(LabelRequest.id.desc())
        .limit(1)
    ).first()
    return LabelAsked(*row) if row is not None else None


def add_label_request(
    session: Session, shipment_id: int, box_number: int, carrier: str, serial: int, at: datetime
) -> LabelAsked:
    """A new pending request, keyed by the box and ``serial`` (a number never given twice)."""
    key = f"S{shipment_id}-B{box_number}-R{serial}"
    request_id: int = session.execute(
        insert(LabelRequest)
        .values(
            shipment_id=shipment_id,
            box_number=box_number,
            carrier=carrier,
            key=key,
            status="pending",
            detail="",
            created_at=at,
            updated_at=at,
        )
        .returning(LabelRequest.id)
    ).scalar_one()
    return LabelAsked(request_id, key, "pending", None)


def set_label_request(
    session: Session,
    request_id: int,
    status: str,
    at: datetime,
    *,
    tracking_number: str | None = None,
    package_id: int | None = None,
    detail: str = "",
) -> None:
    values: dict[str, Any] = {"status": status, "updated_at": at, "detail": detail}
    if tracking_number is not None:
        values["tracking_number"] = tracking_number
    if package_id is not None:
        values["package_id"] = package_id
    session.execute(
        update(LabelRequest)
        .where(LabelRequest.id == request_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def set_carrier_label(session: Session, package_id: int, fmt: str, content: bytes) -> None:
    session.execute(
        update(Package)
        .where(Package.id == package_id)
        .values(carrier_label=content, carrier_label_format=fmt)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class ItemIn:
    order_line_id: int
    product_id: int
    quantity: int
    lot: str = ""
    serial: str = ""


def add_items(session: Session, package_id: int, items: list[ItemIn]) -> None:
    if items:
        session.execute(
            insert(PackageItem),
            [
                {
                    "package_id": package_id,
                    "order_line_id": i.order_line_id,
                    "product_id": i.product_id,
                    "quantity": i.quantity,
                    "lot": i.lot,
                    "serial": i.serial,
                }
                for i in items
            ],
        )


def add_event(
    session: Session,
    shipment_id: int,
    kind: str,
    who: Who,
    at: datetime,
    *,
    package_id: int | None = None,
    sku: str = "",
    quantity: int = 0,
    detail: str = "",
) -> None:
    session.execute(
        insert(PackEvent).values(
            shipment_id=shipment_id,
            package_id=package_id,
            kind=kind,
            sku=sku,
            quantity=quantity,
            detail=detail,
            at=at,
            actor=who.actor,
            user_id=who.user_id,
            station_id=who.station_id,
        )
    )


@dataclass(frozen=True)
class BoxRow:
    code: str
    name: str
    barcode: str | None
    inner_length_mm: int
    inner_width_mm: int
    inner_height_mm: int
    outer_length_mm: int
    outer_width_mm: int
    outer_height_mm: int
    tare_g: int
    max_weight_g: int
    cost: Decimal
    carriers: str
    hazmat_ok: bool


def boxes(session: Session) -> list[BoxRow]:
    rows = session.execute(
        select(
            Box.code,
            Box.name,
            Box.barcode,
            Box.inner_length_mm,
            Box.inner_width_mm,
            Box.inner_height_mm,
            Box.outer_length_mm,
            Box.outer_width_mm,
            Box.outer_height_mm,
            Box.tare_g,
            Box.max_weight_g,
            Box.cost,
            Box.carriers,
            Box.hazmat_ok,
        )
        .where(Box.active)
        .order_by(Box.code)
    )
    return [BoxRow(*row) for row in rows]


@dataclass(frozen=True)
class MaterialRow:
    code: str
    name: str
    kind: str
    unit_cost: Decimal
    unit_weight_g: int


def materials(session: Session) -> list[MaterialRow]:
    rows = session.execute(
        select(
            PackingMaterial.code,
            PackingMaterial.name,
            PackingMaterial.kind,
            PackingMaterial.unit_cost,
            PackingMaterial.unit_weight_g,
        )
        .where(PackingMaterial.active)
        .order_by(PackingMaterial.code)
    )
    return [MaterialRow(*row) for row in rows]


def events(session: Session, shipment_id: int) -> list[tuple[str, str, int, str, str]]:
    """The shipment's pack history: (kind, sku, quantity, detail, actor), oldest first."""
    rows = session.execute(
        select(PackEvent.kind, PackEvent.sku, PackEvent.quantity, PackEvent.detail, PackEvent.actor)
        .where(PackEvent.shipment_id == shipment_id)
        .order_by(PackEvent.id)
    )
    return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]


@dataclass(frozen=True)
class ProblemRow:
    shipment_id: int
    order_id: int
    order_ref: str
    tote: str | None
    problem: str
    shelf: str | None
    since: datetime | None


def problems(session: Session, node_id: int) -> list[ProblemRow]:
    """Shipments at the node waiting on the problem shelf, oldest first."""
    since = (
        select(func.max(PackEvent.at))
        .where(PackEvent.shipment_id == Shipment.id, PackEvent.kind.in_(("missing", "damaged")))
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            Shipment.id,
            Shipment.order_id,
            Channel.code + "/" + Order.external_id,
            Shipment.tote,
            Shipment.problem,
            Location.code,
            since,
        )
        .join(Order, Order.id == Shipment.order_id)
        .join(Channel, Channel.id == Order.channel_id)
        .outerjoin(Location, Location.id == Shipment.problem_location_id)
        .where(
            Shipment.node_id == node_id,
            Shipment.problem.is_not(None),
            Shipment.status == ShipmentStatus.PICKED,
        )
        .order_by(Shipment.id)
    )
    return [ProblemRow(*row) for row in rows]


def clear_problem(session: Session, shipment_ids: list[int]) -> int:
    result = session.execute(
        update(Shipment)
        .where(Shipment.id.in_(shipment_ids), Shipment.problem.is_not(None))
        .values(problem=None, problem_location_id=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def save_catalogue(
    session: Session, model: type[Box] | type[PackingMaterial], entries: list[dict[str, Any]]
) -> tuple[int, int]:
    """Make these the catalogue's boxes (or materials), by code: new ones added, known ones
    changed and made active, every other one made inactive. (added, changed)."""
    table: Any = model
    known = set(session.scalars(select(table.code)))
    added = changed = 0
    for row in entries:
        if row["code"] in known:
            session.execute(
                update(table)
                .where(table.code == row["code"])
                .values(**row, active=True)
                .execution_options(synchronize_session=False)
            )
            changed += 1
        else:
            session.execute(insert(table).values(**row, active=True))
            added += 1
    session.execute(
        update(table)
        .where(table.code.not_in([row["code"] for row in entries]))
        .values(active=False)
        .execution_options(synchronize_session=False)
    )
    return added, changed


def set_packing_rules(session: Session, rules: dict[str, dict[str, Any]]) -> list[str]:
    """Set products' packing rules by SKU; the SKUs not in the catalogue (nothing written
    for them)."""
    known = set(session.scalars(select(Product.sku).where(Product.sku.in_(list(rules)))))
    for sku, values in rules.items():
        if sku in known:
            session.execute(
                update(Product)
                .where(Product.sku == sku)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
    return sorted(set(rules) - known)


def remove_unit(session: Session, shipment_ids: list[int], line_id: int) -> int | None:
    """Take one picked unit of the order line out of the shipments (damaged at the bench):
    its pick task, or None if none is left to take."""
    found = session.scalar(
        select(PickTask.id)
        .where(
            PickTask.shipment_id.in_(shipment_ids),
            PickTask.order_line_id == line_id,
            PickTask.status != PickTaskStatus.CANCELLED,
            PickTask.picked > PickTask.removed,
        )
        .order_by(PickTask.id.desc())
        .limit(1)
    )
    if found is None:
        return None
    session.execute(
        update(PickTask)
        .where(PickTask.id == found)
        .values(removed=PickTask.removed + 1)
        .execution_options(synchronize_session=False)
    )
    return found


def cancel_shipments(session: Session, shipment_ids: list[int]) -> None:
    """Shipments left with nothing to send (their only units were damaged): cancelled,
    their totes free."""
    session.execute(
        update(Shipment)
        .where(Shipment.id.in_(shipment_ids))
        .values(
            status=ShipmentStatus.CANCELLED,
            packing_by=None,
            packing_station_id=None,
            packing_seen_at=None,
        )
        .execution_options(synchronize_session=False)
    )


def packages_of_order(session: Session, order_id: int) -> int:
    """Packages closed for the order's shipments (packed, or still on a bench)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Package)
            .join(Shipment, Shipment.id == Package.shipment_id)
            .where(Shipment.order_id == order_id, Shipment.status != ShipmentStatus.CANCELLED)
        )
        or 0
    )
