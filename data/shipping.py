"""What labels, slips, invoices and manifests are made from: shipments, their packages and
contents, the order behind them, the sending node; and named sequences for SSCC serials,
tracking numbers and invoice numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, case, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from data.models import (
    Address,
    Channel,
    Customer,
    LabelRequest,
    Manifest,
    Node,
    Order,
    OrderLine,
    Package,
    PickTask,
    PickTaskStatus,
    Product,
    Shipment,
    ShipmentStatus,
)
from data.models import Invoice as InvoiceModel
from data.models import Sequence as SequenceRow
from data.upsert import insert_on_conflict


def take_numbers(session: Session, name: str, count: int = 1) -> int:
    """The first of ``count`` consecutive numbers from sequence ``name`` (starting at 1).

    One conditional UPDATE holds the sequence's row until commit, so two transactions
    never get the same number; a number handed out in a transaction that rolls back is
    given out again (nothing printed it).
    """
    if count < 1:
        raise ValueError(f"take at least one number, not {count}")
    session.execute(
        insert_on_conflict(session, SequenceRow)
        .values(name=name, next_value=1)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    first: int = session.execute(
        update(SequenceRow)
        .where(SequenceRow.name == name)
        .values(next_value=SequenceRow.next_value + count)
        .returning(SequenceRow.next_value - count)
    ).scalar_one()
    return first


@dataclass(frozen=True)
class Place:
    """A name and postal address."""

    name: str
    company: str
    lines: tuple[str, ...]
    city: str
    region: str
    postal_code: str
    country: str
    phone: str
    email: str


def _node_place(
    name: str, line1: str, city: str, region: str, postal_code: str, country: str
) -> Place:
    """A node's name and address (from its columns, in this order) as a Place."""
    return Place(
        name=name,
        company="",
        lines=(line1,) if line1 else (),
        city=city,
        region=region,
        postal_code=postal_code,
        country=country,
        phone="",
        email="",
    )


@dataclass(frozen=True)
class PackageRow:
    id: int
    number: int
    sscc: str
    carrier: str
    tracking_number: str
    weight_g: int | None
    box: str | None
    manifest_id: int | None
    service: str | None = None
    """The service rate shopping chose for it (None: the shipment's)."""


@dataclass(frozen=True)
class ContentLine:
    """One order line's units in a shipment."""

    line_no: int
    sku: str
    name: str
    quantity: int
    ordered: int
    unit_price: Decimal
    discount: Decimal
    """The order line's whole discount (for all ``ordered`` units)."""
    weight_g: int
    earlier: int
    """Units of the line in the order's earlier shipments (for its share of the discount)."""


@dataclass(frozen=True)
class ShipmentDoc:
    """Everything a shipment's documents print."""

    shipment_id: int
    order_id: int
    order_ref: str
    placed_at: datetime
    promo_code: str | None
    currency: str
    status: ShipmentStatus
    carrier: str
    service: str
    node_code: str
    ship_from: Place
    ship_to: Place
    contents: tuple[ContentLine, ...]
    packages: tuple[PackageRow, ...]


_PACKAGE_COLUMNS = (
    Package.id,
    Package.number,
    Package.sscc,
    Package.carrier,
    Package.tracking_number,
    Package.weight_g,
    Package.box,
    Package.manifest_id,
    Package.service,
)


def packages(session: Session, shipment_id: int) -> list[PackageRow]:
    rows = session.execute(
        select(*_PACKAGE_COLUMNS).where(Package.shipment_id == shipment_id).order_by(Package.number)
    )
    return [PackageRow(*row) for row in rows]


def shipment_doc(session: Session, shipment_id: int) -> ShipmentDoc | None:
    head = session.execute(
        select(
            Shipment.id,
            Shipment.order_id,
            Channel.code,
            Order.external_id,
            Order.placed_at,
            Order.promo_code,
            Order.currency,
            Shipment.status,
            Shipment.carrier,
            Shipment.service,
            Node.code,
            Node.name,
            Node.address_line1,
            Node.city,
            Node.region,
            Node.postal_code,
            Node.country,
            Customer.email,
        )
        .join(Order, Order.id == Shipment.order_id)
        .join(Channel, Channel.id == Order.channel_id)
        .join(Customer, Customer.id == Order.customer_id)
        .join(Node, Node.id == Shipment.node_id)
        .where(Shipment.id == shipment_id)
    ).one_or_none()
    if head is None:
        return None
    lead = session.scalar(select(Shipment.packed_with).where(Shipment.id == shipment_id))
    if lead is not None:
        raise LookupError(
            f"shipment {shipment_id} was packed with shipment {lead} (one order, several "
            f"totes): its packages and documents are shipment {lead}'s"
        )
    address = session.execute(
        select(
            Address.name,
            Address.company,
            Address.line1,
            Address.line2,
            Address.city,
            Address.region,
            Address.postal_code,
            Address.country,
            Address.phone,
        ).where(Address.order_id == head[1], Address.role == "ship_to")
    ).first()
    if address is None:
        raise LookupError(f"order {head[2]}/{head[3]} has no ship-to address")
    ship_to = Place(
        name=address.name,
        company=address.company,
        lines=tuple(line for line in (address.line1, address.line2) if line),
        city=address.city,
        region=address.region,
        postal_code=address.postal_code,
        country=address.country,
        phone=address.phone or "",
        email=head[17] or "",
    )
    ship_from = _node_place(*head[11:17])
    # Units in the shipment: what was picked, or what is still to pick on open tasks.
    # Units taken out at the pack bench (damaged) are not in it.
    units = case(
        (PickTask.status == PickTaskStatus.OPEN, PickTask.quantity),
        else_=PickTask.picked - PickTask.removed,
    )
    other = aliased(PickTask)
    other_units = case(
        (other.status == PickTaskStatus.OPEN, other.quantity), else_=other.picked - other.removed
    )
    earlier = (
        select(func.coalesce(func.sum(other_units), 0))
        .join(Shipment, Shipment.id == other.shipment_id)
        .where(
            other.order_line_id == OrderLine.id,
            other.status != PickTaskStatus.CANCELLED,
            other.shipment_id < shipment_id,
            Shipment.status != ShipmentStatus.CANCELLED,
        )
        .scalar_subquery()
    )
    contents = session.execute(
        select(
            OrderLine.line_no,
            Product.sku,
            Product.name,
            func.sum(units),
            OrderLine.quantity,
            OrderLine.unit_price,
            OrderLine.discount,
            Product.weight_g,
            earlier,
        )
        .join(OrderLine, OrderLine.id == PickTask.order_line_id)
        .join(Product, Product.id == PickTask.product_id)
        .where(
            # Its own units, and those of the order's other totes packed with it.
            PickTask.shipment_id.in_(
                select(Shipment.id).where(
                    or_(Shipment.id == shipment_id, Shipment.packed_with == shipment_id)
                )
            ),
            PickTask.status != PickTaskStatus.CANCELLED,
        )
        .group_by(
            OrderLine.id,
            OrderLine.line_no,
            Product.sku,
            Product.name,
            OrderLine.quantity,
            OrderLine.unit_price,
            OrderLine.discount,
            Product.weight_g,
        )
        .order_by(OrderLine.line_no)
    )
    return ShipmentDoc(
        shipment_id=head[0],
        order_id=head[1],
        order_ref=f"{head[2]}/{head[3]}",
        placed_at=head[4],
        promo_code=head[5],
        currency=head[6],
        status=head[7],
        carrier=head[8],
        service=head[9],
        node_code=head[10],
        ship_from=ship_from,
        ship_to=ship_to,
        contents=tuple(ContentLine(*row) for row in contents if row[3]),
        packages=tuple(packages(session, shipment_id)),
    )


def add_package(
    session: Session,
    *,
    shipment_id: int,
    sscc: str,
    carrier: str,
    tracking_number: str,
    weight_g: int | None,
    box: str | None,
    actor: str,
    at: datetime,
) -> PackageRow:
    """The shipment's next package (numbers run 1, 2, …)."""
    number = (
        session.scalar(
            select(func.coalesce(func.max(Package.number), 0)).where(
                Package.shipment_id == shipment_id
            )
        )
        or 0
    ) + 1
    package_id: int = session.execute(
        insert(Package)
        .values(
            shipment_id=shipment_id,
            number=number,
            sscc=sscc,
            carrier=carrier,
            tracking_number=tracking_number,
            weight_g=weight_g,
            box=box,
            created_at=at,
            created_by=actor,
        )
        .returning(Package.id)
    ).scalar_one()
    return PackageRow(package_id, number, sscc, carrier, tracking_number, weight_g, box, None)


def lock_shipment(session: Session, shipment_id: int) -> bool:
    """Hold the shipment row (package numbers are given out under it); False if missing."""
    found = session.execute(
        select(Shipment.id).where(Shipment.id == shipment_id).with_for_update()
    ).first()
    return found is not None


@dataclass(frozen=True)
class ManifestLine:
    package: PackageRow
    order_ref: str
    ship_to_name: str
    postal_code: str
    country: str


def ready_to_leave(node_id: int) -> tuple[ColumnElement[bool], ...]:
    """Packages at the node ready to leave: their shipment packed, not yet on a manifest."""
    return (
        Shipment.node_id == node_id,
        Shipment.status == ShipmentStatus.PACKED,
        Package.manifest_id.is_(None),
    )


def unmanifested(session: Session, node_id: int, carrier: str) -> list[int]:
    """Packed packages of ``carrier`` leaving ``node_id`` not yet on a manifest, of
    shipments none of whose packages is on a load at a dock door (oldest first)."""
    on_loads = select(Package.shipment_id).where(
        Package.load_id.is_not(None), Package.manifest_id.is_(None)
    )
    return list(
        session.scalars(
            select(Package.id)
            .join(Shipment, Shipment.id == Package.shipment_id)
            .where(
                *ready_to_leave(node_id),
                Package.carrier == carrier,
                Shipment.id.not_in(on_loads),
            )
            .order_by(Package.id)
            .with_for_update(of=Package)
        )
    )


def close_manifest(
    session: Session, node_id: int, carrier: str, package_ids: list[int], actor: str, at: datetime
) -> int:
    manifest_id: int = session.execute(
        insert(Manifest)
        .values(node_id=node_id, carrier=carrier, closed_at=at, closed_by=actor)
        .returning(Manifest.id)
    ).scalar_one()
    session.execute(
        update(Package)
        .where(Package.id.in_(package_ids), Package.manifest_id.is_(None))
        .values(manifest_id=manifest_id)
    )
    return manifest_id


@dataclass(frozen=True)
class ManifestHead:
    id: int
    carrier: str
    closed_at: datetime
    closed_by: str
    node_code: str
    node: Place


def manifest(session: Session, manifest_id: int) -> tuple[ManifestHead, list[ManifestLine]] | None:
    found = session.execute(
        select(
            Manifest.id,
            Manifest.carrier,
            Manifest.closed_at,
            Manifest.closed_by,
            Node.code,
            Node.name,
            Node.address_line1,
            Node.city,
            Node.region,
            Node.postal_code,
            Node.country,
        )
        .join(Node, Node.id == Manifest.node_id)
        .where(Manifest.id == manifest_id)
    ).one_or_none()
    if found is None:
        return None
    node = _node_place(*found[5:11])
    head = ManifestHead(found[0], found[1], found[2], found[3], found[4], node)
    rows = session.execute(
        select(
            *_PACKAGE_COLUMNS,
            Channel.code,
            Order.external_id,
            Address.name,
            Address.postal_code,
            Address.country,
        )
        .join(Shipment, Shipment.id == Package.shipment_id)
        .join(Order, Order.id == Shipment.order_id)
        .join(Channel, Channel.id == Order.channel_id)
        .join(Address, (Address.order_id == Order.id) & (Address.role == "ship_to"))
        .where(Package.manifest_id == manifest_id)
        .order_by(Package.id)
    )
    lines = [
        ManifestLine(
            package=PackageRow(*row[:9]),
            order_ref=f"{row[9]}/{row[10]}",
            ship_to_name=row[11],
            postal_code=row[12],
            country=row[13],
        )
        for row in rows
    ]
    return head, lines


@dataclass(frozen=True)
class InvoiceRow:
    number: str
    issued: date
    content: bytes


def invoice(session: Session, shipment_id: int) -> InvoiceRow | None:
    row = session.execute(
        select(InvoiceModel.number, InvoiceModel.issued, InvoiceModel.content).where(
            InvoiceModel.shipment_id == shipment_id
        )
    ).one_or_none()
    return InvoiceRow(*row) if row else None


def add_invoice(
    session: Session,
    *,
    shipment_id: int,
    number: str,
    issued: date,
    currency: str,
    total: Decimal,
    content: bytes,
    actor: str,
    at: datetime,
) -> None:
    session.execute(
        insert(InvoiceModel).values(
            shipment_id=shipment_id,
            number=number,
            issued=issued,
            currency=currency,
            total=total,
            content=content,
            created_at=at,
            created_by=actor,
        )
    )


def manifested(session: Session, shipment_id: int) -> int | None:
    """The manifest a package of the shipment was handed over on, if any."""
    return session.scalar(
        select(Package.manifest_id).where(
            Package.shipment_id == shipment_id, Package.manifest_id.is_not(None)
        )
    )


def carrier_labels(session: Session, shipment_id: int) -> dict[int, tuple[str, bytes]]:
    """Package number → (format, content) of the labels carriers' APIs returned."""
    rows = session.execute(
        select(Package.number, Package.carrier_label_format, Package.carrier_label).where(
            Package.shipment_id == shipment_id, Package.carrier_label.is_not(None)
        )
    )
    return {number: (fmt or "", content) for number, fmt, content in rows}


@dataclass(frozen=True)
class LabelRequestRow:
    id: int
    shipment_id: int
    box_number: int
    carrier: str
    key: str
    status: str
    tracking_number: str | None
    detail: str
    created_at: datetime
    updated_at: datetime


def label_requests(session: Session, status: str | None, limit: int) -> list[LabelRequestRow]:
    """Shipments asked of carriers' APIs, newest first (of one status, or all)."""
    query = select(
        LabelRequest.id,
        LabelRequest.shipment_id,
        LabelRequest.box_number,
        LabelRequest.carrier,
        LabelRequest.key,
        LabelRequest.status,
        LabelRequest.tracking_number,
        LabelRequest.detail,
        LabelRequest.created_at,
        LabelRequest.updated_at,
    )
    if status is not None:
        query = query.where(LabelRequest.status == status)
    rows = session.execute(query.order_by(LabelRequest.id.desc()).limit(limit))
    return [LabelRequestRow(*row) for row in rows]
