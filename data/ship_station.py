"""What the ship station reads and writes: dock doors and the loads at them, packages found
by SSCC or tracking number, loading and taking off, and what a close-out changes (the
manifest, shipments, allocations, the outbox). No rules: app.shipping.loadout decides."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, and_, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from data.models import (
    Address,
    AllocationStatus,
    Box,
    Channel,
    Customer,
    LineAllocation,
    Load,
    LoadStatus,
    Location,
    LocationKind,
    Node,
    Order,
    OrderLine,
    OrderStatus,
    OutboxMessage,
    OutboxStatus,
    Package,
    PickTask,
    PickTaskStatus,
    Product,
    ShipEvent,
    Shipment,
    ShipmentStatus,
    Station,
    User,
    VoidedLabel,
    Wave,
)
from data.shipping import ready_to_leave
from data.upsert import insert_on_conflict


@dataclass(frozen=True)
class Door:
    code: str
    barcode: str


def doors(session: Session, node_id: int) -> list[Door]:
    """The node's dock doors (locations of kind dock), in code order."""
    rows = session.execute(
        select(Location.code, Location.barcode)
        .where(Location.node_id == node_id, Location.kind == LocationKind.DOCK)
        .order_by(Location.code)
    )
    return [Door(*row) for row in rows]


@dataclass(frozen=True)
class LoadRow:
    id: int
    node_id: int
    carrier: str
    door: str
    status: LoadStatus
    opened_at: datetime
    opened_by: str
    closed_at: datetime | None
    manifest_id: int | None


_LOAD_COLUMNS = (
    Load.id,
    Load.node_id,
    Load.carrier,
    Load.door,
    Load.status,
    Load.opened_at,
    Load.opened_by,
    Load.closed_at,
    Load.manifest_id,
)


def load(session: Session, load_id: int, *, lock: bool = False) -> LoadRow | None:
    """A load; with ``lock`` its row is held until commit (loading and closing it out
    take this lock first, so a scan and a close-out never interleave)."""
    query = select(*_LOAD_COLUMNS).where(Load.id == load_id)
    if lock:
        query = query.with_for_update()
    row = session.execute(query).first()
    return LoadRow(*row) if row is not None else None


def open_loads(session: Session, node_id: int) -> list[LoadRow]:
    rows = session.execute(
        select(*_LOAD_COLUMNS)
        .where(Load.node_id == node_id, Load.status == LoadStatus.OPEN)
        .order_by(Load.door)
    )
    return [LoadRow(*row) for row in rows]


def open_load_at(session: Session, node_id: int, door: str) -> LoadRow | None:
    row = session.execute(
        select(*_LOAD_COLUMNS).where(
            Load.node_id == node_id, Load.door == door, Load.status == LoadStatus.OPEN
        )
    ).first()
    return LoadRow(*row) if row is not None else None


def add_load(
    session: Session,
    *,
    node_id: int,
    carrier: str,
    door: str,
    actor: str,
    user_id: int | None,
    station_id: int | None,
    at: datetime,
) -> int | None:
    """A new open load at the door; None when one is open there already (another
    station opened it first: the unique index on open loads decides)."""
    found = session.execute(
        insert_on_conflict(session, Load)
        .values(
            node_id=node_id,
            carrier=carrier,
            door=door,
            status=LoadStatus.OPEN,
            opened_at=at,
            opened_by=actor,
            user_id=user_id,
            station_id=station_id,
        )
        .on_conflict_do_nothing(
            index_elements=["node_id", "door"], index_where=Load.status == LoadStatus.OPEN
        )
        .returning(Load.id)
    ).first()
    return int(found[0]) if found is not None else None


@dataclass(frozen=True)
class FoundPackage:
    """A package as the ship station sees it when it is scanned."""

    id: int
    shipment_id: int
    number: int
    sscc: str
    carrier: str
    tracking_number: str
    load_id: int | None
    loaded_at: datetime | None
    loaded_by: str | None
    manifest_id: int | None
    service: str | None
    shipment_status: ShipmentStatus
    node_id: int
    node_code: str
    order_id: int
    order_ref: str
    packing_station: str | None
    """The pack bench that has the order open, if one does."""


def find_packages(
    session: Session,
    *,
    sscc: str | None = None,
    tracking: str | None = None,
    package_id: int | None = None,
) -> list[FoundPackage]:
    """Packages with this SSCC, this tracking number (any carrier's) or this id."""
    loader = aliased(User)
    bench = aliased(Station)
    query = (
        select(
            Package.id,
            Package.shipment_id,
            Package.number,
            Package.sscc,
            Package.carrier,
            Package.tracking_number,
            Package.load_id,
            Package.loaded_at,
            loader.name,
            Package.manifest_id,
            Package.service,
            Shipment.status,
            Shipment.node_id,
            Node.code,
            Order.id,
            Channel.code,
            Order.external_id,
            bench.code,
        )
        .join(Shipment, Shipment.id == Package.shipment_id)
        .join(Node, Node.id == Shipment.node_id)
        .join(Order, Order.id == Shipment.order_id)
        .join(Channel, Channel.id == Order.channel_id)
        .outerjoin(loader, loader.id == Package.loaded_by)
        .outerjoin(bench, bench.id == Shipment.packing_station_id)
    )
    if package_id is not None:
        query = query.where(Package.id == package_id)
    elif sscc is not None:
        query = query.where(Package.sscc == sscc)
    elif tracking is not None:
        query = query.where(func.upper(Package.tracking_number) == tracking.upper())
    else:
        raise ValueError("give an SSCC, a tracking number or a package id")
    out = []
    for row in session.execute(query.order_by(Package.id)):
        (pid, sid, number, sscc_, carrier, track, load_id, loaded_at, loader_name) = row[:9]
        (manifest_id, service, status, node_id, node_code, order_id) = row[9:15]
        out.append(
            FoundPackage(
                pid,
                sid,
                number,
                sscc_,
                carrier,
                track,
                load_id,
                loaded_at,
                loader_name,
                manifest_id,
                service,
                status,
                node_id,
                node_code,
                order_id,
                f"{row[15]}/{row[16]}",
                row[17],
            )
        )
    return out


def package_count(session: Session, shipment_id: int) -> int:
    """The shipment's packages."""
    return int(session.scalar(select(func.count()).where(Package.shipment_id == shipment_id)) or 0)


def set_loaded(
    session: Session, package_id: int, load_id: int, user_id: int | None, at: datetime
) -> bool:
    """Put the package on the load if it is on none and not manifested."""
    done = session.execute(
        update(Package)
        .where(
            Package.id == package_id,
            Package.load_id.is_(None),
            Package.manifest_id.is_(None),
        )
        .values(load_id=load_id, loaded_at=at, loaded_by=user_id)
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


def set_unloaded(session: Session, package_id: int, load_id: int) -> bool:
    done = session.execute(
        update(Package)
        .where(
            Package.id == package_id,
            Package.load_id == load_id,
            Package.manifest_id.is_(None),
        )
        .values(load_id=None, loaded_at=None, loaded_by=None)
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


def add_event(
    session: Session,
    *,
    load_id: int | None,
    package_id: int | None,
    kind: str,
    scan: str,
    detail: str,
    actor: str,
    user_id: int | None,
    station_id: int | None,
    at: datetime,
) -> None:
    session.execute(
        insert(ShipEvent).values(
            load_id=load_id,
            package_id=package_id,
            kind=kind,
            scan=scan[:200],
            detail=detail,
            at=at,
            actor=actor,
            user_id=user_id,
            station_id=station_id,
        )
    )


@dataclass(frozen=True)
class CarrierCount:
    carrier: str
    expected: int
    """Packed packages of the carrier waiting at the node (loaded or not)."""
    loaded: int
    """Of them, on an open load."""


def carrier_counts(session: Session, node_id: int) -> list[CarrierCount]:
    rows = session.execute(
        select(Package.carrier, func.count(), func.count(Package.load_id))
        .join(Shipment, Shipment.id == Package.shipment_id)
        .where(*ready_to_leave(node_id))
        .group_by(Package.carrier)
        .order_by(Package.carrier)
    )
    return [CarrierCount(carrier, int(total), int(loaded)) for carrier, total, loaded in rows]


@dataclass(frozen=True)
class WaitingPackage:
    """A package on the floor (or on a load), with what the station lists it by."""

    id: int
    sscc: str
    tracking_number: str
    carrier: str
    order_ref: str
    shipment_id: int
    number: int
    cutoff_at: datetime | None
    load_id: int | None
    service: str
    """The service it ships with (rate shopping's choice, else its shipment's)."""


def _waiting_query() -> Select[Any]:
    return (
        select(
            Package.id,
            Package.sscc,
            Package.tracking_number,
            Package.carrier,
            Channel.code,
            Order.external_id,
            Package.shipment_id,
            Package.number,
            Wave.cutoff_at,
            Package.load_id,
            func.coalesce(Package.service, Shipment.service),
        )
        .join(Shipment, Shipment.id == Package.shipment_id)
        .join(Wave, Wave.id == Shipment.wave_id)
        .join(Order, Order.id == Shipment.order_id)
        .join(Channel, Channel.id == Order.channel_id)
    )


def _waiting(rows: Iterable[Row[Any]]) -> list[WaitingPackage]:
    return [
        WaitingPackage(
            id=r[0],
            sscc=r[1],
            tracking_number=r[2],
            carrier=r[3],
            order_ref=f"{r[4]}/{r[5]}",
            shipment_id=r[6],
            number=r[7],
            cutoff_at=r[8],
            load_id=r[9],
            service=str(r[10]),
        )
        for r in rows
    ]


def past_cutoff(session: Session, node_id: int, now: datetime, limit: int) -> list[WaitingPackage]:
    """Packages on the floor (on no load) whose wave's carrier cut-off has passed,
    earliest cut-off first."""
    query = _waiting_query().where(
        *ready_to_leave(node_id), Package.load_id.is_(None), Wave.cutoff_at < now
    )
    return _waiting(session.execute(query.order_by(Wave.cutoff_at, Package.id).limit(limit)))


def count_past_cutoff(session: Session, node_id: int, now: datetime) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Package)
            .join(Shipment, Shipment.id == Package.shipment_id)
            .join(Wave, Wave.id == Shipment.wave_id)
            .where(*ready_to_leave(node_id), Package.load_id.is_(None), Wave.cutoff_at < now)
        )
        or 0
    )


def on_load(session: Session, load_id: int, limit: int) -> list[WaitingPackage]:
    """The last ``limit`` packages loaded, the last first."""
    query = _waiting_query().where(Package.load_id == load_id)
    return _waiting(
        session.execute(query.order_by(Package.loaded_at.desc(), Package.id.desc()).limit(limit))
    )


def count_on_load(session: Session, load_id: int) -> int:
    return int(session.scalar(select(func.count()).where(Package.load_id == load_id)) or 0)


def unloaded_of_carrier(
    session: Session, node_id: int, carrier: str, limit: int
) -> list[WaitingPackage]:
    """The carrier's packed packages at the node on no load yet."""
    query = _waiting_query().where(
        *ready_to_leave(node_id), Package.load_id.is_(None), Package.carrier == carrier
    )
    return _waiting(session.execute(query.order_by(Wave.cutoff_at, Package.id).limit(limit)))


@dataclass(frozen=True)
class LeftBehind:
    """A package of a shipment that is partly on the load."""

    shipment_id: int
    order_ref: str
    number: int
    sscc: str
    on_load: bool


def split_across(session: Session, load_id: int) -> list[LeftBehind]:
    """For every shipment with packages both on and off the load, all its packages, to name
    what is missing."""
    on = select(Package.shipment_id).where(Package.load_id == load_id)
    off = select(Package.shipment_id).where(
        Package.shipment_id.in_(on),
        or_(Package.load_id.is_(None), Package.load_id != load_id),
    )
    rows = session.execute(
        select(
            Package.shipment_id,
            Channel.code,
            Order.external_id,
            Package.number,
            Package.sscc,
            Package.load_id,
        )
        .join(Shipment, Shipment.id == Package.shipment_id)
        .join(Order, Order.id == Shipment.order_id)
        .join(Channel, Channel.id == Order.channel_id)
        .where(Package.shipment_id.in_(off))
        .order_by(Package.shipment_id, Package.number)
    )
    return [
        LeftBehind(sid, f"{ch}/{ext}", number, sscc, lid == load_id)
        for sid, ch, ext, number, sscc, lid in rows
    ]


def load_package_ids(session: Session, load_id: int) -> list[int]:
    return list(
        session.scalars(select(Package.id).where(Package.load_id == load_id).order_by(Package.id))
    )


def close_load(session: Session, load_id: int, manifest_id: int, actor: str, at: datetime) -> None:
    session.execute(
        update(Load)
        .where(Load.id == load_id, Load.status == LoadStatus.OPEN)
        .values(status=LoadStatus.CLOSED, manifest_id=manifest_id, closed_at=at, closed_by=actor)
        .execution_options(synchronize_session=False)
    )


def cancel_load(session: Session, load_id: int, actor: str, at: datetime) -> None:
    session.execute(
        update(Load)
        .where(Load.id == load_id, Load.status == LoadStatus.OPEN)
        .values(status=LoadStatus.CANCELLED, closed_at=at, closed_by=actor)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class ShippedPart:
    """One shipment leaving on a manifest, with what its order's messages say."""

    shipment_id: int
    order_id: int
    order_ref: str
    channel: str
    external_id: str
    customer_name: str
    customer_email: str
    carrier: str
    service: str
    node_id: int
    node_code: str
    packages: tuple[tuple[str, str], ...]
    """(SSCC, tracking number) of each package."""
    lines: tuple[tuple[int, str, int], ...]
    """(line number, SKU, units) leaving in it, its totes packed with it included."""


def shipped_parts(session: Session, manifest_id: int) -> list[ShippedPart]:
    """The shipments whose packages are on the manifest."""
    heads = session.execute(
        select(
            Shipment.id,
            Order.id,
            Channel.code,
            Order.external_id,
            Customer.name,
            Customer.email,
            Shipment.carrier,
            Shipment.service,
            Shipment.node_id,
            Node.code,
        )
        .join(Order, Order.id == Shipment.order_id)
        .join(Channel, Channel.id == Order.channel_id)
        .join(Customer, Customer.id == Order.customer_id)
        .join(Node, Node.id == Shipment.node_id)
        .where(
            Shipment.id.in_(select(Package.shipment_id).where(Package.manifest_id == manifest_id))
        )
        .order_by(Shipment.id)
    ).all()
    ids = [h[0] for h in heads]
    packs: dict[int, list[tuple[str, str]]] = {i: [] for i in ids}
    for sid, sscc, tracking in session.execute(
        select(Package.shipment_id, Package.sscc, Package.tracking_number)
        .where(Package.manifest_id == manifest_id)
        .order_by(Package.shipment_id, Package.number)
    ):
        packs[sid].append((sscc, tracking))
    lines: dict[int, list[tuple[int, str, int]]] = {i: [] for i in ids}
    lead = func.coalesce(Shipment.packed_with, Shipment.id)
    for sid, line_no, sku, units in session.execute(
        select(lead, OrderLine.line_no, Product.sku, func.sum(PickTask.picked - PickTask.removed))
        .join(Shipment, Shipment.id == PickTask.shipment_id)
        .join(OrderLine, OrderLine.id == PickTask.order_line_id)
        .join(Product, Product.id == PickTask.product_id)
        .where(lead.in_(ids), PickTask.status != PickTaskStatus.CANCELLED)
        .group_by(lead, OrderLine.line_no, Product.sku)
        .order_by(lead, OrderLine.line_no)
    ):
        if units:
            lines[sid].append((line_no, sku, int(units)))
    return [
        ShippedPart(
            shipment_id=h[0],
            order_id=h[1],
            order_ref=f"{h[2]}/{h[3]}",
            channel=h[2],
            external_id=h[3],
            customer_name=h[4],
            customer_email=h[5] or "",
            carrier=h[6],
            service=h[7],
            node_id=h[8],
            node_code=h[9],
            packages=tuple(packs[h[0]]),
            lines=tuple(lines[h[0]]),
        )
        for h in heads
    ]


def ship_shipments(session: Session, lead_ids: Sequence[int]) -> None:
    """The shipments, and the order's totes packed with them, are shipped."""
    session.execute(
        update(Shipment)
        .where(
            or_(Shipment.id.in_(lead_ids), Shipment.packed_with.in_(lead_ids)),
            Shipment.status == ShipmentStatus.PACKED,
        )
        .values(status=ShipmentStatus.SHIPPED)
        .execution_options(synchronize_session=False)
    )


def ship_allocations(session: Session, lead_ids: Sequence[int]) -> None:
    """The picked allocations behind the shipments' units are shipped."""
    parts = (
        select(PickTask.order_line_id, Shipment.node_id)
        .join(Shipment, Shipment.id == PickTask.shipment_id)
        .where(or_(Shipment.id.in_(lead_ids), Shipment.packed_with.in_(lead_ids)))
    ).subquery()
    session.execute(
        update(LineAllocation)
        .where(
            LineAllocation.status == AllocationStatus.PICKED,
            select(parts.c.order_line_id)
            .where(
                and_(
                    parts.c.order_line_id == LineAllocation.order_line_id,
                    parts.c.node_id == LineAllocation.node_id,
                )
            )
            .exists(),
        )
        .values(status=AllocationStatus.SHIPPED)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class OrderLeft:
    """What of an order has not left yet."""

    status_now: str
    open_shipments: int
    """Shipments not shipped and not cancelled."""
    open_allocations: int
    """Units promised by a node (reserved or picked) not shipped."""
    ordered: int
    shipped: int


def lock_orders(session: Session, order_ids: Sequence[int]) -> None:
    """Hold the orders' rows until the transaction ends, in id order (as picking, packing,
    cancelling and re-routing take an order's lock), so none changes under a close-out."""
    if order_ids:
        session.execute(
            select(Order.id)
            .where(Order.id.in_(sorted(set(order_ids))))
            .order_by(Order.id)
            .with_for_update()
        )


def orders_left(session: Session, order_ids: Sequence[int]) -> dict[int, OrderLeft]:
    """What of each order has not left yet (four queries, whatever the number of orders)."""
    ids = list(order_ids)
    if not ids:
        return {}
    status: dict[int, OrderStatus] = {
        i: st for i, st in session.execute(select(Order.id, Order.status).where(Order.id.in_(ids)))
    }
    shipments: dict[int, int] = {
        i: int(n)
        for i, n in session.execute(
            select(Shipment.order_id, func.count())
            .where(
                Shipment.order_id.in_(ids),
                Shipment.status.not_in((ShipmentStatus.SHIPPED, ShipmentStatus.CANCELLED)),
            )
            .group_by(Shipment.order_id)
        )
    }
    ordered: dict[int, int] = {
        i: int(n or 0)
        for i, n in session.execute(
            select(OrderLine.order_id, func.sum(OrderLine.quantity))
            .where(OrderLine.order_id.in_(ids))
            .group_by(OrderLine.order_id)
        )
    }
    open_allocs: dict[int, int] = {}
    shipped: dict[int, int] = {}
    for order_id, alloc_status, quantity in session.execute(
        select(OrderLine.order_id, LineAllocation.status, func.sum(LineAllocation.quantity))
        .join(OrderLine, OrderLine.id == LineAllocation.order_line_id)
        .where(
            OrderLine.order_id.in_(ids),
            LineAllocation.status.in_(
                (AllocationStatus.RESERVED, AllocationStatus.PICKED, AllocationStatus.SHIPPED)
            ),
        )
        .group_by(OrderLine.order_id, LineAllocation.status)
    ):
        target = shipped if alloc_status == AllocationStatus.SHIPPED else open_allocs
        target[order_id] = target.get(order_id, 0) + int(quantity or 0)
    return {
        i: OrderLeft(
            str(status.get(i)),
            shipments.get(i, 0),
            open_allocs.get(i, 0),
            ordered.get(i, 0),
            shipped.get(i, 0),
        )
        for i in ids
    }


def add_outbox(
    session: Session, messages: Iterable[tuple[str, str, int | None, str]], at: datetime
) -> None:
    """Messages (topic, idempotency key, order id, JSON payload) for the outbox worker; a
    key written before is not written again."""
    values = [
        {
            "topic": topic,
            "key": key,
            "order_id": order_id,
            "payload": payload,
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "last_error": "",
            "created_at": at,
        }
        for topic, key, order_id, payload in messages
    ]
    if values:
        session.execute(
            insert_on_conflict(session, OutboxMessage)
            .values(values)
            .on_conflict_do_nothing(index_elements=["key"])
        )


@dataclass(frozen=True)
class Voided:
    tracking_number: str
    carrier: str
    replaced_by: str
    reason: str
    at: datetime
    actor: str


def voided_label(session: Session, tracking: str) -> Voided | None:
    """The voided label with this tracking number, if one was."""
    row = session.execute(
        select(
            VoidedLabel.tracking_number,
            VoidedLabel.carrier,
            VoidedLabel.replaced_by,
            VoidedLabel.reason,
            VoidedLabel.at,
            VoidedLabel.actor,
        )
        .where(func.upper(VoidedLabel.tracking_number) == tracking.upper())
        .order_by(VoidedLabel.id.desc())
        .limit(1)
    ).first()
    return Voided(*row) if row is not None else None


def replace_label(
    session: Session,
    package_id: int,
    *,
    old: tuple[str, str | None, str],
    carrier: str,
    service: str | None,
    tracking_number: str,
    reason: str,
    actor: str,
    user_id: int | None,
    station_id: int | None,
    at: datetime,
) -> None:
    """Void the package's label ``old`` (carrier, service, tracking number) and give it the
    new one."""
    session.execute(
        insert(VoidedLabel).values(
            package_id=package_id,
            carrier=old[0],
            service=old[1],
            tracking_number=old[2],
            replaced_by=tracking_number,
            reason=reason,
            at=at,
            actor=actor,
            user_id=user_id,
            station_id=station_id,
        )
    )
    session.execute(
        update(Package)
        .where(Package.id == package_id)
        .values(
            carrier=carrier,
            service=service,
            tracking_number=tracking_number,
            charge=None,
            arrives=None,
        )
        .execution_options(synchronize_session=False)
    )


def service_level(session: Session, order_id: int) -> str:
    return str(session.scalar(select(Order.service_level).where(Order.id == order_id)))


def box_sizes(
    session: Session,
) -> list[tuple[int, int, int, int, float, float, float | None, float | None]]:
    """Every package in a box: weight, the box's outer length, width and height, and the
    coordinates of its node and of its ship-to address (for rating it again)."""
    rows = session.execute(
        select(
            func.coalesce(Package.weight_g, 0),
            Box.outer_length_mm,
            Box.outer_width_mm,
            Box.outer_height_mm,
            Node.latitude,
            Node.longitude,
            Address.latitude,
            Address.longitude,
        )
        .join(Shipment, Shipment.id == Package.shipment_id)
        .join(Node, Node.id == Shipment.node_id)
        .join(Address, (Address.order_id == Shipment.order_id) & (Address.role == "ship_to"))
        .join(Box, Box.code == Package.box)
        .order_by(Package.id)
    ).all()
    return [tuple(r) for r in rows]
