"""Load-out and close-out at the ship station: packages scanned onto a carrier's load at a
dock door, and the load closed out as the carrier's manifest, which ships its orders.

A **load** is one carrier's pickup, trailer or van at a dock door (a location of kind
``dock``). One load fills at a door at a time; two shippers may load it together.

Loading a package (its SSCC, its ``PKG-`` barcode or its tracking number) is one
conditional update under the load's row lock: a package already on a load, on a manifest,
not packed yet, of another carrier or another node is refused, naming why and what
to do; a voided label's tracking number is refused naming the label that replaced it.
Closing out takes the same lock, so a scan and a close-out never interleave: a
package is on the manifest or refused, never on a closed load without one.

**Close-out** is one transaction: the manifest with the loaded packages only, the load
closed, every shipment on it shipped (the order's totes packed with it too), the
allocations behind them shipped, each order moved through the lifecycle to shipped, or
partially shipped while another part of it is still to come, the messages that tell the
sales channel and the customer (outbox rows, delivered by the outbox worker), and the
manifest's print job. A shipment partly loaded is refused whole, naming the package left:
a customer never gets half a shipment labelled "1 of 2" with no second box coming.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from app.actor import Actor
from app.barcodes import BarcodeError, resolve, show
from app.orders import lifecycle
from app.packing.station import CONTENT_TYPES, PrinterSpec, Queued
from app.shipping import service as shipping
from app.shipping.settings import ShippingSettings, ShippingSettingsError
from app.users import LoggedIn
from data import printjobs
from data import ship_station as rows
from data import shipping as ship_rows
from data import waves as wave_rows
from data.models import LoadStatus, OrderStatus, ShipmentStatus
from data.store import StoreEngine
from data.types import utcnow
from data.uow import StoreSession, UnitOfWork, run_in_transaction
from printing import documents

OpenLoad = rows.LoadRow
"""A load as the store has it (its door, carrier, status, who opened it)."""

FLOOR_ROWS = 20
"""How many waiting packages a view lists (the screen shows fewer; counts are whole)."""

MOVING = frozenset(
    {
        OrderStatus.ROUTED,
        OrderStatus.RELEASED,
        OrderStatus.PICKING,
        OrderStatus.PICKED,
        OrderStatus.PACKED,
        OrderStatus.PARTIALLY_SHIPPED,
    }
)
"""Order statuses a close-out moves on; an order held or cancelled meanwhile is not moved
(its shipped part is recorded on its shipments and messages, and a person decides)."""


class ShipError(ValueError):
    """A ship station request refused; the message says what was wrong and what to do."""


@dataclass(frozen=True)
class LoadView:
    """A load as the ship station shows it."""

    id: int
    carrier: str
    carrier_name: str
    door: str
    status: LoadStatus
    opened_by: str
    packages: tuple[rows.WaitingPackage, ...]
    """On the load, the last loaded first."""
    to_load: int
    """The carrier's packed packages at the node on no load yet."""
    floor: tuple[rows.WaitingPackage, ...]
    """The first of those (earliest cut-off first)."""
    counts: tuple[rows.CarrierCount, ...]
    """Expected and loaded by carrier at the node."""
    past_cutoff: int
    """Packages of any carrier on the floor past their cut-off."""
    on_load: int | None = None
    """Packages on the load (``packages`` lists the last few); None: all are listed."""

    @property
    def loaded(self) -> int:
        return self.on_load if self.on_load is not None else len(self.packages)


@dataclass(frozen=True)
class Dock:
    """The node's dock as the ship station shows it with no load chosen."""

    doors: tuple[rows.Door, ...]
    loads: tuple[rows.LoadRow, ...]
    counts: tuple[rows.CarrierCount, ...]
    past_cutoff: tuple[rows.WaitingPackage, ...]
    past_cutoff_count: int


@dataclass(frozen=True)
class Loaded:
    package: rows.FoundPackage
    count: int
    """Packages of its shipment (``number`` of ``count``)."""
    view: LoadView


@dataclass(frozen=True)
class ClosedOut:
    manifest_id: int
    packages: int
    shipped: tuple[str, ...]
    """Orders now shipped."""
    partly: tuple[str, ...]
    """Orders partially shipped (another part still to come)."""
    held: tuple[str, ...]
    """Orders whose part left while they are held or cancelled (a person decides)."""
    queued: tuple[Queued, ...]

    @property
    def number(self) -> str:
        return f"M-{self.manifest_id}"


def _actor(who: LoggedIn) -> Actor:
    return who.actor


def _carrier_name(ship: ShippingSettings, code: str) -> str:
    try:
        return ship.carrier(code).name
    except ShippingSettingsError:
        return code


# --- reading ---------------------------------------------------------------------------


def dock(engine: StoreEngine, who: LoggedIn, now: datetime | None = None) -> Dock:
    when = now or utcnow()
    with UnitOfWork(engine, read_only=True) as uow:
        s = uow.session
        return Dock(
            doors=tuple(rows.doors(s, who.node_id)),
            loads=tuple(rows.open_loads(s, who.node_id)),
            counts=tuple(rows.carrier_counts(s, who.node_id)),
            past_cutoff=tuple(rows.past_cutoff(s, who.node_id, when, FLOOR_ROWS)),
            past_cutoff_count=rows.count_past_cutoff(s, who.node_id, when),
        )


def view(engine: StoreEngine, who: LoggedIn, load_id: int, ship: ShippingSettings) -> LoadView:
    with UnitOfWork(engine, read_only=True) as uow:
        return _view(uow.session, who, load_id, ship, utcnow())


def _view(
    s: StoreSession, who: LoggedIn, load_id: int, ship: ShippingSettings, now: datetime
) -> LoadView:
    found = rows.load(s, load_id)
    if found is None or found.node_id != who.node_id:
        raise ShipError(f"there is no load {load_id} at {who.node_code}")
    floor = rows.unloaded_of_carrier(s, who.node_id, found.carrier, FLOOR_ROWS)
    counts = tuple(rows.carrier_counts(s, who.node_id))
    mine = next((c for c in counts if c.carrier == found.carrier), None)
    return LoadView(
        id=found.id,
        carrier=found.carrier,
        carrier_name=_carrier_name(ship, found.carrier),
        door=found.door,
        status=found.status,
        opened_by=found.opened_by,
        packages=tuple(rows.on_load(s, load_id, FLOOR_ROWS)),
        to_load=(mine.expected - mine.loaded) if mine else 0,
        floor=tuple(floor),
        counts=counts,
        past_cutoff=rows.count_past_cutoff(s, who.node_id, now),
        on_load=rows.count_on_load(s, load_id),
    )


# --- doors and loads -------------------------------------------------------------------


def door_of(engine: StoreEngine, who: LoggedIn, scan: str) -> tuple[str, rows.LoadRow | None]:
    """The dock door a scan names (``LOC-DOCK-1``, or its code typed), and the load open
    there, if any."""
    text = scan.strip()
    try:
        code = resolve(text)
        name = code.value if code.kind == "location" else None
    except BarcodeError:
        name = None
    with UnitOfWork(engine, read_only=True) as uow:
        doors = rows.doors(uow.session, who.node_id)
        wanted = (name or text).upper()
        door = next((d for d in doors if d.code.upper() == wanted), None)
        if door is None:
            known = ", ".join(d.barcode for d in doors[:6]) or "none set up"
            raise ShipError(
                f"expected a dock door's barcode, scanned {show(scan)}: it is no dock door at "
                f"{who.node_code} (its doors: {known}). Scan the barcode on the door post"
            )
        return door.code, rows.open_load_at(uow.session, who.node_id, door.code)


def open_load(
    engine: StoreEngine, who: LoggedIn, door: str, carrier: str, ship: ShippingSettings
) -> LoadView:
    """Start a load of ``carrier`` at ``door`` (a shipper joins the one open there if it is
    the same carrier's)."""
    try:
        ship.carrier(carrier)
    except ShippingSettingsError as exc:
        raise ShipError(str(exc)) from None

    def work(uow: UnitOfWork) -> int:
        s = uow.session
        if door not in {d.code for d in rows.doors(s, who.node_id)}:
            raise ShipError(f"{door} is no dock door at {who.node_code}")
        now = utcnow()
        load_id = rows.add_load(
            s,
            node_id=who.node_id,
            carrier=carrier,
            door=door,
            actor=who.badge,
            user_id=who.user_id,
            station_id=who.station_id,
            at=now,
        )
        if load_id is None:
            there = rows.open_load_at(s, who.node_id, door)
            assert there is not None
            if there.carrier != carrier:
                raise ShipError(
                    f"a {there.carrier} load is open at {door} (opened by {there.opened_by}): "
                    f"close it out first, or load {carrier} at another door"
                )
            return there.id
        _event(s, who, load_id, None, "opened", "", f"{carrier} at {door}", now)
        uow.commit()
        return load_id

    load_id = run_in_transaction(engine, work)
    return view(engine, who, load_id, ship)


def _event(
    s: StoreSession,
    who: LoggedIn,
    load_id: int | None,
    package_id: int | None,
    kind: str,
    scan: str,
    detail: str,
    at: datetime,
) -> None:
    rows.add_event(
        s,
        load_id=load_id,
        package_id=package_id,
        kind=kind,
        scan=scan,
        detail=detail,
        actor=who.badge,
        user_id=who.user_id,
        station_id=who.station_id,
        at=at,
    )


# --- packages --------------------------------------------------------------------------


def find_package(s: StoreSession, node_id: int, node_code: str, scan: str) -> rows.FoundPackage:
    """The package a scan names: its label's SSCC (GS1-128, AI 00), its ``PKG-`` barcode
    (the package's number) or its tracking number (any carrier's: a 12-digit FedEx or
    22-digit USPS number may also read as a GTIN or a GS1 string, so a number that is not an
    SSCC is looked up as a tracking number first)."""
    text = scan.strip()
    try:
        code = resolve(text)
    except BarcodeError:
        code = None
    if code is not None and code.kind == "package":
        if not code.value.isdigit():
            raise ShipError(
                f"expected a package label, scanned {show(scan)}: a PKG- barcode carries the "
                "package's number (PKG-000123)"
            )
        found = rows.find_packages(s, package_id=int(code.value))
    elif code is not None and code.kind == "sscc":
        found = rows.find_packages(s, sscc=code.value)
    else:
        found = rows.find_packages(s, tracking=text)
        if not found:
            dead = rows.voided_label(s, text)
            if dead is not None:
                raise ShipError(
                    f"tracking number {dead.tracking_number} was voided ({dead.reason}; by "
                    f"{dead.actor}): the package has a new label, {dead.replaced_by}. Take the "
                    "old label off and scan the new one"
                )
        if not found and code is not None:
            raise ShipError(
                f"expected a package label (its SSCC or tracking number), scanned {code.kind} "
                f"{show(scan)}: scan the SSCC (the big barcode) or the tracking barcode"
            )
    if not found:
        what = (
            f"{show(scan)}: no package has it as its SSCC or tracking number"
            if code is None
            else f"SSCC {code.value}: no package has it"
            if code.kind == "sscc"
            else f"package number {code.value}: no package has it"
        )
        raise ShipError(
            f"expected a package label, scanned {what}. Check the label is this site's; a "
            "label that will not scan needs a reprint at a pack bench"
        )
    here = [p for p in found if p.node_id == node_id]
    if not here:
        other = found[0]
        raise ShipError(
            f"package {other.sscc} ({other.order_ref}) leaves from {other.node_code}, not "
            f"{node_code}: set it aside for a supervisor"
        )
    if len(here) > 1:
        carriers = ", ".join(p.carrier for p in here)
        raise ShipError(
            f"tracking number {show(scan)} belongs to packages of {carriers}: scan the SSCC instead"
        )
    return here[0]


def local_when(at: datetime | None, timezone: str) -> str:
    """A moment as the node reads it: ``HH:MM`` today, else with its weekday."""
    if at is None:
        return "--:--"
    try:
        zone = ZoneInfo(timezone)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    local = at.astimezone(zone)
    if local.date() == utcnow().astimezone(zone).date():
        return local.strftime("%H:%M")
    return local.strftime("%a %H:%M")


def why_not_loadable(
    p: rows.FoundPackage, load: rows.LoadRow, ship: ShippingSettings, timezone: str = "UTC"
) -> str:
    """Why a package cannot go on this load, or "" when it can."""
    label = f"package {p.sscc} ({p.order_ref}, box {p.number})"
    if p.manifest_id is not None:
        return f"{label} has left already on manifest M-{p.manifest_id}: it cannot be loaded"
    if p.load_id == load.id:
        when = local_when(p.loaded_at, timezone)
        return f"{label} is on this load already (loaded by {p.loaded_by or '?'} at {when})"
    if p.load_id is not None:
        return (
            f"{label} is on load {p.load_id} at another door already: take it off there "
            "first if it is in the wrong vehicle"
        )
    if p.shipment_status is ShipmentStatus.CANCELLED:
        return f"{label}: its order was cancelled. Do not ship it; give it to a supervisor"
    if p.shipment_status is ShipmentStatus.SHIPPED:
        return f"{label} is shipped already"
    if p.shipment_status is not ShipmentStatus.PACKED:
        bench = f" (open at bench {p.packing_station})" if p.packing_station else ""
        return (
            f"{label} is not packed yet: the order's last box is not closed{bench}. Leave it "
            "at packing until the order is packed"
        )
    if p.carrier != load.carrier:
        return (
            f"{label} goes with {_carrier_name(ship, p.carrier)} ({p.carrier}), this load is "
            f"{_carrier_name(ship, load.carrier)} at {load.door}: put it with the "
            f"{p.carrier} packages"
        )
    return ""


def load_package(
    engine: StoreEngine, who: LoggedIn, load_id: int, scan: str, ship: ShippingSettings
) -> Loaded:
    def work(uow: UnitOfWork) -> tuple[rows.FoundPackage | None, int, str]:
        s = uow.session
        load = _open_load(s, who, load_id)
        now = utcnow()
        try:
            p = find_package(s, who.node_id, who.node_code, scan)
        except ShipError as exc:
            # No package of this node has it: refused, and recorded with the scan.
            _event(s, who, load_id, None, "refused", scan, str(exc), now)
            uow.commit()
            return None, 0, str(exc)
        why = why_not_loadable(p, load, ship, who.node_timezone)
        if not why and not rows.set_loaded(s, p.id, load_id, who.user_id, now):
            # Changed since it was read (the row lock of the load does not cover another
            # load): read it again to say what happened.
            again = find_package(s, who.node_id, who.node_code, scan)
            why = (
                why_not_loadable(again, load, ship, who.node_timezone)
                or f"package {p.sscc} changed: scan it again"
            )
        if why:
            _event(s, who, load_id, p.id, "refused", scan, why, now)
            uow.commit()
            return p, 0, why
        _event(s, who, load_id, p.id, "loaded", scan, "", now)
        count = rows.package_count(s, p.shipment_id)
        uow.commit()
        return p, count, ""

    package, count, why = run_in_transaction(engine, work)
    if why or package is None:
        raise ShipError(why)
    return Loaded(package, count, view(engine, who, load_id, ship))


def unload_package(
    engine: StoreEngine, who: LoggedIn, load_id: int, scan: str, ship: ShippingSettings
) -> Loaded:
    """Take a package off the load (it was put in the wrong vehicle, or will not go today)."""

    def work(uow: UnitOfWork) -> tuple[rows.FoundPackage, int]:
        s = uow.session
        load = _open_load(s, who, load_id)
        p = find_package(s, who.node_id, who.node_code, scan)
        if p.load_id != load.id or not rows.set_unloaded(s, p.id, load_id):
            raise ShipError(
                f"package {p.sscc} ({p.order_ref}) is not on this load: nothing to take off"
            )
        _event(s, who, load_id, p.id, "unloaded", scan, "", utcnow())
        count = rows.package_count(s, p.shipment_id)
        uow.commit()
        return p, count

    package, count = run_in_transaction(engine, work)
    return Loaded(package, count, view(engine, who, load_id, ship))


def _open_load(s: StoreSession, who: LoggedIn, load_id: int) -> rows.LoadRow:
    load = rows.load(s, load_id, lock=True)
    if load is None or load.node_id != who.node_id:
        raise ShipError(f"there is no load {load_id} at {who.node_code}")
    if load.status is not LoadStatus.OPEN:
        raise ShipError(
            f"the {load.carrier} load at {load.door} was closed out (manifest "
            f"M-{load.manifest_id}): open a new load at the door to go on"
        )
    return load


# --- close-out -------------------------------------------------------------------------


def cancel_load(engine: StoreEngine, who: LoggedIn, load_id: int) -> None:
    """Cancel an empty load (opened at the wrong door, or the vehicle left without
    anything): the door is free again. A load with packages on it is closed out instead."""

    def work(uow: UnitOfWork) -> None:
        s = uow.session
        load = _open_load(s, who, load_id)
        if rows.load_package_ids(s, load_id):
            raise ShipError(
                f"the {load.carrier} load at {load.door} holds packages: take them off first, "
                "or close it out"
            )
        now = utcnow()
        rows.cancel_load(s, load_id, who.badge, now)
        _event(s, who, load_id, None, "cancelled", "", f"{load.carrier} at {load.door}", now)
        uow.commit()

    run_in_transaction(engine, work)


def close_out(
    engine: StoreEngine,
    who: LoggedIn,
    load_id: int,
    ship: ShippingSettings,
    printer: PrinterSpec,
) -> ClosedOut:
    """Close the load out: see the module's description. Refused whole (nothing written)
    when the load is empty or holds part of a shipment."""

    def work(uow: UnitOfWork) -> ClosedOut:
        s = uow.session
        load = _open_load(s, who, load_id)
        ids = rows.load_package_ids(s, load_id)
        if not ids:
            raise ShipError(
                f"nothing is loaded on the {load.carrier} load at {load.door}: scan the "
                "packages onto it before closing it out"
            )
        split = rows.split_across(s, load_id)
        if split:
            missing = [b for b in split if not b.on_load]
            first = missing[0]
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            raise ShipError(
                f"{first.order_ref} is only partly loaded: its box {first.number} "
                f"(SSCC {first.sscc}) is not on this load{more}. Load it, or take the "
                "order's other boxes off, before closing out"
            )
        now = utcnow()
        result = ship_packages(s, _actor(who), load.node_id, load.carrier, ids, now)
        rows.close_load(s, load_id, result.manifest_id, who.badge, now)
        _event(s, who, load_id, None, "closed", "", f"manifest M-{result.manifest_id}", now)
        manifest = shipping.manifest_document_in(s, ship, result.manifest_id)
        queued = queue_manifest(s, who, printer, manifest)
        uow.commit()
        return ClosedOut(
            result.manifest_id,
            len(ids),
            result.shipped,
            result.partly,
            result.held,
            (queued,),
        )

    return run_in_transaction(engine, work)


@dataclass(frozen=True)
class Shipped:
    manifest_id: int
    shipped: tuple[str, ...]
    partly: tuple[str, ...]
    held: tuple[str, ...]


def ship_packages(
    s: StoreSession,
    actor: Actor,
    node_id: int,
    carrier: str,
    package_ids: Sequence[int],
    now: datetime,
) -> Shipped:
    """In the caller's transaction: the packages go on a new manifest and everything they
    carry is shipped (see the module's description). The caller has checked that whole
    shipments are in ``package_ids``."""
    manifest_id = ship_rows.close_manifest(s, node_id, carrier, list(package_ids), actor.name, now)
    parts = rows.shipped_parts(s, manifest_id)
    leads = [p.shipment_id for p in parts]
    rows.ship_shipments(s, leads)
    rows.ship_allocations(s, leads)
    by_order: dict[int, list[rows.ShippedPart]] = {}
    for part in parts:
        by_order.setdefault(part.order_id, []).append(part)
    shipped: list[str] = []
    partly: list[str] = []
    held: list[str] = []
    messages: list[tuple[str, str, int | None, str]] = []
    # Each order moves through the lifecycle, in one statement for all those going from
    # the same status to the same one.
    moves: dict[tuple[OrderStatus, OrderStatus], list[int]] = {}
    rows.lock_orders(s, list(by_order))
    left = rows.orders_left(s, list(by_order))
    for order_id, mine in by_order.items():
        ref = mine[0].order_ref
        now_left = left[order_id]
        whole = (
            now_left.open_shipments == 0
            and now_left.open_allocations == 0
            and now_left.shipped >= now_left.ordered
        )
        wanted = OrderStatus.SHIPPED if whole else OrderStatus.PARTIALLY_SHIPPED
        status = OrderStatus(now_left.status_now)
        if status is not wanted:
            if status in MOVING and lifecycle.can_transition(status, wanted):
                moves.setdefault((status, wanted), []).append(order_id)
            else:
                held.append(ref)
        (shipped if whole else partly).append(ref)
        for part in mine:
            messages += _messages(part, ship_status=wanted, manifest_id=manifest_id, at=now)
    for (before, after), ids in moves.items():
        lifecycle.transition_many(
            s, ids, after, actor, expected=before, note=f"manifest M-{manifest_id}"
        )
    rows.add_outbox(s, messages, now)
    return Shipped(manifest_id, tuple(shipped), tuple(partly), tuple(held))


def _messages(
    part: rows.ShippedPart, *, ship_status: OrderStatus, manifest_id: int, at: datetime
) -> list[tuple[str, str, int | None, str]]:
    """The sales channel told the shipment left, and the customer's email with tracking;
    each keyed by the shipment, so a message is never written twice."""
    body = {
        "order": part.order_ref,
        "channel": part.channel,
        "external_id": part.external_id,
        "order_status": ship_status.value,
        "shipment": shipping.shipment_ref(part.shipment_id),
        "carrier": part.carrier,
        "service": part.service,
        "shipped_from": part.node_code,
        "shipped_at": at.isoformat(),
        "manifest": f"M-{manifest_id}",
        "packages": [{"sscc": sscc, "tracking_number": t} for sscc, t in part.packages],
        "lines": [{"line": n, "sku": sku, "quantity": q} for n, sku, q in part.lines],
    }
    out: list[tuple[str, str, int | None, str]] = [
        (
            "channel.shipped",
            f"channel.shipped:{part.shipment_id}",
            part.order_id,
            json.dumps(body, sort_keys=True),
        )
    ]
    if part.customer_email:
        email = {**body, "to": part.customer_email, "name": part.customer_name}
        out.append(
            (
                "email.shipped",
                f"email.shipped:{part.shipment_id}",
                part.order_id,
                json.dumps(email, sort_keys=True),
            )
        )
    return out


def queue_manifest(
    s: StoreSession, who: LoggedIn, printer: PrinterSpec, manifest: documents.Manifest
) -> Queued:
    """The manifest's print job for the station's documents printer."""
    pdf = documents.manifest_pdf(manifest)
    title = f"Manifest {manifest.number} {manifest.carrier} ({len(manifest.packages)} packages)"
    job_id = printjobs.add_job(
        s,
        station_id=who.station_id,
        printer=printer.name,
        document="manifest",
        title=title,
        content_type=CONTENT_TYPES["pdf"],
        content=pdf,
        reference=manifest.number,
        who=printjobs.Who(who.badge, who.user_id, who.station_id, utcnow()),
    )
    return Queued(job_id, printer.name, title)


@dataclass(frozen=True)
class Relabelled:
    sscc: str
    order_ref: str
    shipment_id: int
    number: int
    """The package's number in its shipment (``label print --package``)."""
    old: str
    new: str
    carrier: str
    service: str | None


def relabel(
    engine: StoreEngine,
    ship: ShippingSettings,
    node_code: str,
    scan: str,
    reason: str,
    actor: Actor,
    carrier: str | None = None,
) -> Relabelled:
    """Void a package's label (its tracking number is dead for good) and give it a new one,
    of ``carrier`` if given (a wrong carrier) or of the same (a damaged label). The package
    keeps its SSCC and contents; its new label is printed with ``label print``."""
    if not reason.strip():
        raise ShipError("say why the label is voided (--reason): a damaged label, a wrong carrier…")

    def work(uow: UnitOfWork) -> Relabelled:
        s = uow.session
        node = wave_rows.node(s, node_code)
        if node is None:
            raise ShipError(f"there is no node {node_code!r}")
        p = find_package(s, node.id, node.code, scan)
        ship_rows.lock_shipment(s, p.shipment_id)
        p = find_package(s, node.id, node.code, scan)
        if p.manifest_id is not None:
            raise ShipError(
                f"package {p.sscc} left on manifest M-{p.manifest_id}: its label can only be "
                "voided with the carrier now"
            )
        if p.load_id is not None:
            raise ShipError(
                f"package {p.sscc} is on load {p.load_id}: take it off the load first (F4 at "
                "the ship station), then relabel it"
            )
        code = carrier or p.carrier
        try:
            chosen = ship.carrier(code)
        except ShippingSettingsError as exc:
            raise ShipError(str(exc)) from None
        level = rows.service_level(s, p.order_id)
        service = next(
            (sv.code for sv in chosen.services if level in sv.levels),
            p.service if code == p.carrier else None,
        )
        try:
            number = shipping.tracking_number(
                chosen, ship_rows.take_numbers(s, f"tracking:{chosen.code}"), service or ""
            )
        except shipping.ShippingError as exc:
            raise ShipError(str(exc)) from None
        rows.replace_label(
            s,
            p.id,
            old=(p.carrier, p.service, p.tracking_number),
            carrier=chosen.code,
            service=service,
            tracking_number=number,
            reason=reason.strip(),
            actor=actor.name,
            user_id=actor.user_id,
            station_id=actor.station_id,
            at=utcnow(),
        )
        uow.commit()
        return Relabelled(
            p.sscc, p.order_ref, p.shipment_id, p.number, p.tracking_number, number, code, service
        )

    return run_in_transaction(engine, work)


def close_manifest(
    engine: StoreEngine, ship: ShippingSettings, node_code: str, carrier: str, actor: Actor
) -> tuple[Shipped, documents.Manifest]:
    """Close out every packed ``carrier`` package at ``node_code`` on no load (a site that
    hands parcels over without scanning them onto loads): the same close-out as a load's."""

    def work(uow: UnitOfWork) -> tuple[Shipped, documents.Manifest]:
        s = uow.session
        node = wave_rows.node(s, node_code)
        if node is None:
            raise ShipError(f"there is no node {node_code!r}")
        ids = ship_rows.unmanifested(s, node.id, carrier)
        if not ids:
            raise ShipError(
                f"no packed {carrier} packages at {node_code} are waiting for a manifest "
                "(packages on a load at a dock door go with the load's close-out)"
            )
        done = ship_packages(s, actor, node.id, carrier, ids, utcnow())
        manifest = shipping.manifest_document_in(s, ship, done.manifest_id)
        uow.commit()
        return done, manifest

    return run_in_transaction(engine, work)
