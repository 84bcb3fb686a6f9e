"""The pack station's work: open a tote, check every unit into a box, close the box with
its weight, and print its label, packing slip and invoice.

The flow checks each scan with the pure ``check_*`` functions (a refusal says what was
expected and what was scanned, and nothing is written). Closing a box is one transaction:
the package with its SSCC and tracking number, what went into it, the packer's record,
and, when it was the order's last box, the order packed, its totes freed, and its label,
packing slip and invoice queued for the station's printers. Nothing is printed from
inside the transaction: the station sends the queued jobs afterwards, and a job a
printer did not take stays in the queue.

Settings, stored under the site setting ``packing`` (JSON)::

    {"weight_tolerance_g": 50, "weight_tolerance_pct": "5", "problem_location": "PROBLEM"}

A box's weight on the scale may differ from what its items, box and materials should
weigh by the larger of the two tolerances; more asks for a re-weigh, then a supervisor's
override. ``problem_location`` is the shelf (a location code at the node) where a tote
goes when a unit is missing or damaged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from app.access import AccessRefused, authenticate_pin
from app.actor import Actor
from app.barcodes import BarcodeError, gtin14, resolve, show
from app.carriers import api as carrier_api
from app.carriers import rates, registry
from app.dom.reroute import reroute_damaged
from app.dom.routing import NotRoutable, ReservationLost
from app.dom.settings import load as load_routing_settings
from app.orders import lifecycle
from app.packing import cartonize
from app.shipping import labelcheck
from app.shipping import service as shipping
from app.shipping.settings import Carrier, ShippingSettings, ShippingSettingsError
from app.users import LoggedIn
from data import dom as dom_rows
from data import pack_station as rows
from data import printjobs
from data import settings as site_settings
from data import shipping as ship_rows
from data.inventory import Who
from data.models import (
    Box,
    DecisionOutcome,
    OrderStatus,
    PackingMaterial,
    Role,
    ShipmentStatus,
)
from data.store import StoreEngine
from data.types import utcnow
from data.uow import UnitOfWork, run_in_transaction
from printing import documents, label

KEY = "packing"
STALE_AFTER = timedelta(minutes=2)
"""A bench whose station has not been heard from for this long can be taken over."""


class PackError(ValueError):
    """A refusal for the packer: what was expected and what was scanned or asked."""


# --- settings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PackSettings:
    weight_tolerance_g: int = 50
    weight_tolerance_pct: Decimal = Decimal("5")
    problem_location: str = "PROBLEM"

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> PackSettings:
        known = {"weight_tolerance_g", "weight_tolerance_pct", "problem_location"}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise PackError(
                f"packing settings: unknown field(s) {', '.join(unknown)}; known: "
                f"{', '.join(sorted(known))}"
            )
        grams = raw.get("weight_tolerance_g", cls.weight_tolerance_g)
        if not isinstance(grams, int) or isinstance(grams, bool) or not 0 <= grams <= 10_000:
            raise PackError(
                f"weight_tolerance_g: expected whole grams from 0 to 10000, got {grams!r}"
            )
        pct_raw = raw.get("weight_tolerance_pct", str(cls.weight_tolerance_pct))
        try:
            pct = Decimal(str(pct_raw))
        except InvalidOperation:
            pct = Decimal(-1)
        if isinstance(pct_raw, bool) or not pct.is_finite() or not 0 <= pct <= 50:
            raise PackError(
                f'weight_tolerance_pct: expected a percentage from 0 to 50 ("5"), got {pct_raw!r}'
            )
        shelf = raw.get("problem_location", cls.problem_location)
        if not isinstance(shelf, str) or not shelf.strip():
            raise PackError(f"problem_location: expected a location code, got {shelf!r}")
        return cls(grams, pct, shelf.strip())

    def to_dict(self) -> dict[str, Any]:
        return {
            "weight_tolerance_g": self.weight_tolerance_g,
            "weight_tolerance_pct": str(self.weight_tolerance_pct),
            "problem_location": self.problem_location,
        }

    def tolerance(self, expected_g: int) -> int:
        """How far a box's weight may be from ``expected_g``."""
        share = int(Decimal(expected_g) * self.weight_tolerance_pct / 100)
        return max(self.weight_tolerance_g, share)


def load_settings(engine: StoreEngine) -> PackSettings:
    with UnitOfWork(engine, read_only=True) as uow:
        text = site_settings.get(uow.session, KEY)
    return PackSettings.from_dict(json.loads(text)) if text else PackSettings()


def save_settings(engine: StoreEngine, changes: Mapping[str, Any], actor: Actor) -> PackSettings:
    merged = PackSettings.from_dict({**load_settings(engine).to_dict(), **changes})

    def work(uow: UnitOfWork) -> None:
        site_settings.put(
            uow.session, KEY, json.dumps(merged.to_dict()), actor=actor.name, at=utcnow()
        )
        uow.commit()

    run_in_transaction(engine, work)
    return merged


# --- the catalogue ----------------------------------------------------------------------


@dataclass(frozen=True)
class Catalogue:
    """The site's boxes and packing materials, as the packer and the station use them."""

    boxes: tuple[cartonize.BoxType, ...]
    materials: tuple[cartonize.Material, ...]
    barcodes: Mapping[str, str] = field(default_factory=dict)
    """Box barcode (upper case) to box code."""

    def box(self, code: str) -> cartonize.BoxType | None:
        return next((b for b in self.boxes if b.code == code), None)


WALL_MM = 6
"""What a corrugated wall adds to each side when a box's outer size is not on file."""


def catalogue(engine: StoreEngine) -> Catalogue:
    with UnitOfWork(engine, read_only=True) as uow:
        boxes = rows.boxes(uow.session)
        materials = rows.materials(uow.session)
    types = []
    codes: dict[str, str] = {}
    for b in boxes:
        types.append(
            cartonize.BoxType(
                code=b.code,
                name=b.name,
                inner_length=b.inner_length_mm,
                inner_width=b.inner_width_mm,
                inner_height=b.inner_height_mm,
                outer_length=b.outer_length_mm or b.inner_length_mm + WALL_MM,
                outer_width=b.outer_width_mm or b.inner_width_mm + WALL_MM,
                outer_height=b.outer_height_mm or b.inner_height_mm + WALL_MM,
                tare=b.tare_g,
                max_weight=b.max_weight_g,
                cost=b.cost,
                carriers=frozenset(b.carriers.split()),
                hazmat_ok=b.hazmat_ok,
            )
        )
        default = b.code if b.code.upper().startswith("BOX-") else f"BOX-{b.code}"
        codes[(b.barcode or default).upper()] = b.code
    return Catalogue(
        tuple(types),
        tuple(
            cartonize.Material(m.code, m.name, m.kind, m.unit_cost, m.unit_weight_g)
            for m in materials
        ),
        codes,
    )


def carrier_rate(settings: ShippingSettings, carrier: str) -> cartonize.CarrierRate:
    try:
        found = settings.carrier(carrier)
    except ShippingSettingsError as exc:
        raise PackError(str(exc)) from None
    limit, _ = settings.max_weight_g(carrier)
    return cartonize.CarrierRate(
        carrier=carrier,
        dim_divisor=found.dim_divisor,
        base=found.base_charge,
        per_kg=found.per_kg,
        max_weight=limit,
    )


# --- what is on the bench ---------------------------------------------------------------


@dataclass(frozen=True)
class PackLine:
    """One order line's units on the bench."""

    line_id: int
    line_no: int
    product_id: int
    sku: str
    name: str
    gtin: str | None
    track_lot: bool
    track_serial: bool
    track_expiry: bool
    quantity: int
    """Units picked into the totes."""
    packed: int
    """Units already in closed boxes."""
    lots: tuple[str, ...]
    serials: tuple[str, ...]
    """Serials picked (a serial-tracked unit must be one of them)."""
    packed_serials: tuple[str, ...]
    unit: cartonize.Item
    """One unit, as the packer's suggestion sees it."""
    lot_left: tuple[tuple[str, int], ...] = ()
    """Units of each lot picked and not yet in a closed box (a lot-tracked line's units
    go into packages lot by lot, as they were picked, for a recall)."""

    @property
    def left(self) -> int:
        return self.quantity - self.packed


@dataclass(frozen=True)
class Unit:
    """A unit (or a case of ``count``) scanned into the open box."""

    line_id: int
    product_id: int
    sku: str
    lot: str
    serial: str
    count: int = 1


@dataclass(frozen=True)
class Bench:
    """An order on the packer's bench: its totes, what is left to pack, the boxes closed."""

    lead: int
    """The shipment whose packages carry the order's units from every tote."""
    shipment_ids: tuple[int, ...]
    order_id: int
    order_ref: str
    carrier: str
    service: str
    totes: tuple[str, ...]
    """Every tote holding the order's units here (all must be on the bench)."""
    lines: tuple[PackLine, ...]
    closed: tuple[rows.ClosedBox, ...]
    suggestion: cartonize.Suggestion | None
    """The boxes suggested for what is left; None if nothing is."""
    suggestion_note: str = ""
    """Why there is no suggestion (an item fits no box), for the packer."""
    left_open: bool = False
    """The order was on a bench that stopped (or was logged off without setting it aside):
    a box being filled there then was never recorded."""

    @property
    def units_left(self) -> int:
        return sum(line.left for line in self.lines)

    def line(self, line_id: int) -> PackLine:
        return next(line for line in self.lines if line.line_id == line_id)

    def instructions(self) -> list[str]:
        """Handling notes for what is left: fragile, keep upright, liquids, hazmat."""
        notes = []
        for line in self.lines:
            if line.left <= 0:
                continue
            unit = line.unit
            said = [
                what
                for what, on in (
                    ("fragile: wrap it", unit.fragile),
                    ("this side up", unit.upright),
                    ("liquid: bag it", unit.liquid),
                    ("ships in its own box", unit.own_container),
                    (f"hazmat class {unit.hazmat}: its own box", bool(unit.hazmat)),
                )
                if on
            ]
            if said:
                notes.append(f"{line.sku}: {'; '.join(said)}")
        return notes


def _who(who: LoggedIn) -> Who:
    return Who(who.badge, who.user_id, who.station_id)


def _actor(who: LoggedIn) -> Actor:
    return Actor(name=who.badge, user_id=who.user_id, station_id=who.station_id)


def _tote_code(scan: str) -> tuple[str, str]:
    """(kind, site code) of a scan at the tote step: a tote or a pick list."""
    try:
        code = resolve(scan)
    except BarcodeError as exc:
        raise PackError(f"expected a tote (TOTE-…) or a pick list (LIST-…): {exc}") from None
    if code.kind not in ("tote", "pick_list"):
        raise PackError(
            f"expected a tote (TOTE-…) or a pick list's barcode (LIST-…), scanned a "
            f"{code.kind}: {show(scan)}"
        )
    return code.kind, code.site_code if code.kind == "tote" else code.value


def _out_line(s: rows.ShipmentAtBench, list_status: str | None) -> str:
    if s.problem:
        return f"tote {s.tote or '(none)'} is on the problem shelf ({s.problem})"
    state = "being picked" if list_status == "claimed" else f"not picked yet ({list_status})"
    return f"tote {s.tote or '(not set up yet)'} on pick list {s.pick_list_id}, {state}"


def open_tote(
    engine: StoreEngine,
    who: LoggedIn,
    scan: str,
    cat: Catalogue,
    ship: ShippingSettings,
) -> Bench:
    """Put the order in the scanned tote on this packer's bench; refused with the reason
    when another packer has it, when it is not picked yet, or when another of the order's
    totes is still out (which one, and where)."""
    kind, code = _tote_code(scan)
    me = _who(who)

    def work(uow: UnitOfWork) -> tuple[list[int], bool]:
        session = uow.session
        if kind == "tote":
            hit = rows.tote_shipment(session, who.node_id, code)
            if hit is None:
                raise PackError(
                    f"expected a tote with picked items, scanned {code}: no order is in it "
                    "(an empty tote goes back to picking)"
                )
            order_id = hit.order_id
        else:
            orders = rows.list_orders(session, int(code)) if code.isdigit() else []
            if len(orders) != 1:
                raise PackError(
                    f"expected a single-order pick list, scanned LIST-{code}, which holds "
                    f"{len(orders)} orders: scan each tote instead"
                )
            order_id = orders[0]
        shipments = [
            s
            for s in rows.order_shipments(session, order_id, who.node_id)
            if s.status in (ShipmentStatus.PICKING, ShipmentStatus.PICKED)
        ]
        if not shipments:
            raise PackError(f"scanned {code}: its order has nothing left to pack here")
        ref = shipments[0].order_ref
        problems = [s for s in shipments if s.problem]
        if problems:
            raise PackError(
                f"order {ref} is on the problem shelf: {problems[0].problem}. A supervisor "
                "clears it first"
            )
        out = [s for s in shipments if s.status is ShipmentStatus.PICKING]
        if out:
            said = "; ".join(
                _out_line(s, rows.pick_list_status(session, s.pick_list_id)) for s in out
            )
            raise PackError(
                f"order {ref} waits for its other tote(s): {said}. Put {code} on the waiting "
                "shelf and scan it again when they arrive"
            )
        ids = [s.id for s in shipments]
        now = utcnow()
        taken = rows.claim(session, ids, me, now, now - STALE_AFTER)
        if taken != len(ids):
            other = next(
                (s for s in shipments if s.packing_by not in (None, who.user_id)), shipments[0]
            )
            raise PackError(
                f"order {ref} is being packed by {other.packing_by_name or 'another packer'}"
                f" at {other.packing_station or 'another bench'}: leave tote {code} there"
            )
        rows.add_event(session, ids[0], "open", me, now, detail=f"scanned {code}")
        uow.commit()
        # Held when scanned: by this packer at a bench that stopped, or by one gone quiet.
        return ids, any(s.packing_by is not None for s in shipments)

    ids, left_open = run_in_transaction(engine, work)
    return replace(read_bench(engine, ids, cat, ship), left_open=left_open)


def read_bench(
    engine: StoreEngine, shipment_ids: Sequence[int], cat: Catalogue, ship: ShippingSettings
) -> Bench:
    """The order on the bench as the store has it now, with a suggestion for what is left."""
    ids = sorted(shipment_ids)
    with UnitOfWork(engine, read_only=True) as uow:
        session = uow.session
        shipments = [s for s in rows.order_shipments_by_id(session, ids)]
        if not shipments:
            raise PackError("the order on this bench is gone from the store")
        lead = ids[0]
        lines = rows.lines_in_totes(session, ids)
        packed = {p.order_line_id: p for p in rows.packed_units(session, lead)}
        closed = rows.closed_boxes(session, lead)
        earlier = rows.earlier_totes(session, ids)
        by_lot = rows.lot_units(session, ids, lead)
    totes = [s.tote for s in shipments if s.tote]
    totes += [t for _, t in earlier if t not in totes]
    pack_lines = tuple(
        PackLine(
            line_id=ln.order_line_id,
            line_no=ln.line_no,
            product_id=ln.product_id,
            sku=ln.sku,
            name=ln.name,
            gtin=ln.gtin,
            track_lot=ln.track_lot,
            track_serial=ln.track_serial,
            track_expiry=ln.track_expiry,
            quantity=ln.picked,
            packed=packed[ln.order_line_id].quantity if ln.order_line_id in packed else 0,
            lots=ln.lots,
            serials=ln.serials,
            packed_serials=packed[ln.order_line_id].serials if ln.order_line_id in packed else (),
            lot_left=tuple(
                sorted((lot, n) for lot, n in by_lot.get(ln.order_line_id, {}).items() if n > 0)
            ),
            unit=cartonize.Item(
                sku=ln.sku,
                length=ln.length_mm,
                width=ln.width_mm,
                height=ln.height_mm,
                weight=ln.weight_g,
                upright=ln.upright,
                fragile=ln.fragile,
                liquid=ln.liquid,
                own_container=ln.own_container,
                hazmat=ln.hazmat_class,
                max_stack_weight=ln.max_stack_g,
            ),
        )
        for ln in lines
    )
    head = shipments[0]
    suggestion, note = _suggest(pack_lines, cat, ship, head.carrier)
    return Bench(
        lead=lead,
        shipment_ids=tuple(ids),
        order_id=head.order_id,
        order_ref=head.order_ref,
        carrier=head.carrier,
        service=head.service,
        totes=tuple(totes),
        lines=pack_lines,
        closed=tuple(closed),
        suggestion=suggestion,
        suggestion_note=note,
    )


def _suggest(
    lines: Sequence[PackLine], cat: Catalogue, ship: ShippingSettings, carrier: str
) -> tuple[cartonize.Suggestion | None, str]:
    items = [line.unit for line in lines for _ in range(max(0, line.left))]
    if not items:
        return None, ""
    if not cat.boxes:
        return None, "no boxes are in the catalogue: any box will do, scan it"
    try:
        return cartonize.suggest(items, cat.boxes, cat.materials, carrier_rate(ship, carrier)), ""
    except cartonize.CartonizeError as exc:
        return None, str(exc)


# --- scans ------------------------------------------------------------------------------


def check_box(cat: Catalogue, scan: str) -> cartonize.BoxType:
    """The box a scan names (``BOX-`` and its code, or the barcode on file)."""
    text = scan.strip().upper()
    code = cat.barcodes.get(text)
    if code is None:
        known = ", ".join(sorted(cat.barcodes)[:6]) or "none in the catalogue"
        raise PackError(f"expected a box's barcode ({known}…), scanned {show(scan)}")
    found = cat.box(code)
    assert found is not None
    return found


def check_unit(bench: Bench, scan: str, today: date, in_box: Sequence[Unit]) -> Unit:
    """One unit of the order (lot and serial checked against what was picked), or a
    refusal naming what was expected and what was scanned."""
    left = [line for line in bench.lines if line.left - _counted(in_box, line.line_id) > 0]
    if left:
        expected = f"expected an item of {bench.order_ref} ({', '.join(ln.sku for ln in left)})"
    else:
        expected = (
            f"expected nothing more: every unit of {bench.order_ref} is in the box, close it "
            "with {key:pack.close}"
        )
    try:
        code = resolve(scan)
    except BarcodeError as exc:
        raise PackError(f"{expected}: {exc}") from None
    if code.kind not in ("gtin", "gs1") or code.gtin is None:
        raise PackError(f"{expected}, scanned {kind_words(code.kind)}: {show(scan)}")
    matching = [ln for ln in bench.lines if ln.gtin and gtin14(ln.gtin) == code.gtin]
    if not matching:
        skus = ", ".join(ln.sku for ln in left)
        want = f"expected {skus}" if left else "every unit of it is in the box"
        raise PackError(
            f"wrong item: GTIN {code.gtin} is not in order {bench.order_ref}; {want}. Put it "
            "aside for the supervisor"
        )
    if code.serial and any(u.serial == code.serial for u in in_box):
        raise PackError(f"serial {code.serial} is already in this box: scan the next unit")
    if code.serial and any(code.serial in ln.packed_serials for ln in matching):
        raise PackError(f"serial {code.serial} is already packed in a closed box")
    line = next((ln for ln in matching if ln.left - _counted(in_box, ln.line_id) > 0), None)
    if line is None:
        first = matching[0]
        raise PackError(
            f"too many: order {bench.order_ref} has {first.quantity} × {first.sku}, and all "
            f"are packed or in this box; this one is extra. Put it aside for the supervisor"
        )
    count = code.count or 1
    if code.expiry is not None and code.expiry < today:
        raise PackError(
            f"expired: {line.sku} expired on {code.expiry.isoformat()}; expected a unit in "
            "date. Report it damaged with {key:pack.problem}"
        )
    lot = code.lot or ""
    if line.track_lot:
        if not lot:
            raise PackError(
                f"{line.sku} is lot-tracked: expected the GS1 barcode with its lot (10), "
                f"scanned {show(scan)}"
            )
        if line.lots and lot not in line.lots:
            raise PackError(
                f"wrong lot: expected lot {', '.join(line.lots)} (as picked), scanned lot {lot}"
            )
        if line.lot_left:
            have = dict(line.lot_left).get(lot, 0) - sum(
                u.count for u in in_box if u.line_id == line.line_id and u.lot == lot
            )
            if have < (code.count or 1):
                others = ", ".join(f"{n} of lot {x}" for x, n in line.lot_left if x != lot)
                raise PackError(
                    f"wrong lot: every unit of lot {lot} picked for {line.sku} is packed or in "
                    f"this box; expected {others or 'no more'}. Put it aside for the supervisor"
                )
    serial = code.serial or ""
    if line.track_serial:
        if not serial:
            raise PackError(
                f"{line.sku} is serial-tracked: expected the barcode with its serial (21), "
                f"scanned {show(scan)}"
            )
        if line.serials and serial not in line.serials:
            raise PackError(
                f"wrong unit: serial {serial} was not picked for {bench.order_ref}; expected "
                f"{', '.join(s for s in line.serials if s not in line.packed_serials)}"
            )
        if serial in line.packed_serials or any(u.serial == serial for u in in_box):
            raise PackError(f"serial {serial} is already packed: scan the next unit")
        if count != 1:
            raise PackError(f"{line.sku} is serial-tracked: scan each unit, not a case")
    room = line.left - _counted(in_box, line.line_id)
    if count > room:
        raise PackError(
            f"too many: {room} × {line.sku} left to pack, scanned a case of {count}: open it "
            "and scan each unit"
        )
    return Unit(line.line_id, line.product_id, line.sku, lot, serial, count)


KIND_WORDS = {
    "gtin": "a product barcode",
    "gs1": "a GS1 barcode",
    "location": "a shelf label",
    "tote": "a tote",
    "badge": "a badge",
    "package": "a package label",
    "pick_list": "a pick list",
    "box": "a box",
}


def kind_words(kind: str) -> str:
    """What a barcode kind is, in the words on the floor."""
    return KIND_WORDS.get(kind, f"a {kind} barcode")


def _counted(in_box: Sequence[Unit], line_id: int) -> int:
    return sum(u.count for u in in_box if u.line_id == line_id)


NO_CARRIAGE = cartonize.CarrierRate(
    carrier="", dim_divisor=5000, base=Decimal(0), per_kg=Decimal(0)
)
"""For placing units in one given box: the carriage does not choose anything there."""


def check_fit(bench: Bench, box: cartonize.BoxType, units: Sequence[Unit], cat: Catalogue) -> str:
    """Whether these units go in the box: over its weight limit is refused (PackError);
    a set the packaging suggestion cannot place in it is a warning (returned), since the
    packer sees the real box and its real contents."""
    items = [bench.line(u.line_id).unit for u in units for _ in range(u.count)]
    weight = sum(i.weight for i in items) + box.tare
    if weight > box.max_weight:
        raise PackError(
            f"{box.code} takes at most {box.max_weight:,} g packed; with this "
            f"{units[-1].sku} it would weigh {weight:,} g. Close it with {{key:pack.close}} "
            "and put the rest in the next box"
        )
    try:
        placed = cartonize.suggest(items, [box], cat.materials, NO_CARRIAGE)
    except cartonize.CartonizeError:
        placed = None
    if placed is None or len(placed.boxes) != 1 or placed.boxes[0].box is None:
        inside = f"{box.inner_length}×{box.inner_width}×{box.inner_height} mm"
        what = f"these {len(items)} units" if len(items) > 1 else "this unit"
        return (
            f"Check it fits: {box.code} is {inside} inside and {what} may not go in it; if it "
            "does not close, take a bigger box for the rest"
        )
    return ""


# --- weight -----------------------------------------------------------------------------


def expected_weight(
    bench: Bench, box: cartonize.BoxType | None, in_box: Sequence[Unit], cat: Catalogue
) -> int:
    """What the box should weigh: its units, the box, and the materials the suggestion
    puts in it (the suggestion's own figure when the packer took its box with its units)."""
    items = [bench.line(u.line_id).unit for u in in_box for _ in range(u.count)]
    contents = sum(i.weight for i in items)
    if box is None:
        return contents
    try:
        one = cartonize.suggest(
            items,
            [box],
            cat.materials,
            NO_CARRIAGE,
        )
    except cartonize.CartonizeError:
        return contents + box.tare
    if len(one.boxes) == 1:
        return one.boxes[0].gross_weight
    return contents + box.tare


_KEYED = re.compile(r"(?P<number>\d+(?:[.,]\d+)?)\s*(?P<unit>g|kg)?", re.IGNORECASE)


def keyed_grams(text: str) -> int:
    """A weight keyed by a packer: whole grams (``1780``, ``1780 g``) or kilograms with a
    unit (``1.78 kg``); PackError saying what to key for anything else."""
    found = _KEYED.fullmatch(text.strip())
    if found is None:
        raise PackError(
            f"expected a weight such as 1780 or 1.78 kg, keyed {show(text)}: key it again"
        )
    number = Decimal(found["number"].replace(",", "."))
    unit = (found["unit"] or "g").lower()
    if unit == "g" and number != number.to_integral_value():
        raise PackError(
            f"expected whole grams (1780) or kilograms with kg (1.78 kg), keyed {show(text)}"
        )
    grams = int((number * 1000 if unit == "kg" else number).to_integral_value())
    if grams <= 0:
        raise PackError(f"expected the box's weight, keyed {show(text)}: key it again")
    if grams > MAX_KEYED_G:
        raise PackError(
            f"expected the box's weight, keyed {show(text)}: more than "
            f"{MAX_KEYED_G // 1000} kg is a slip (or a barcode), key it again"
        )
    return grams


MAX_KEYED_G = 150_000
"""A keyed weight above this is a typing slip (or a scan into the weight field), not a box."""


@dataclass(frozen=True)
class WeightCheck:
    measured_g: int
    expected_g: int
    tolerance_g: int

    @property
    def ok(self) -> bool:
        return abs(self.measured_g - self.expected_g) <= self.tolerance_g

    def say(self) -> str:
        diff = self.measured_g - self.expected_g
        return (
            f"the scale reads {self.measured_g:,} g, expected {self.expected_g:,} g "
            f"± {self.tolerance_g:,} g ({'+' if diff > 0 else ''}{diff:,} g)"
        )


def check_weight(settings: PackSettings, measured_g: int, expected_g: int) -> WeightCheck:
    return WeightCheck(measured_g, expected_g, settings.tolerance(expected_g))


def supervisor_override(engine: StoreEngine, badge: str, pin: str) -> tuple[int, str]:
    """A supervisor lets a box go out of tolerance: their badge and PIN; (user id, name)."""
    try:
        caller = authenticate_pin(engine, badge, pin)
    except AccessRefused as exc:
        raise PackError(str(exc)) from None
    if not ({Role.SUPERVISOR, Role.ADMIN} & set(caller.roles)):
        raise PackError(
            f"{caller.name} ({caller.badge}) is not a supervisor: a supervisor's badge and PIN "
            "let a box go out of tolerance"
        )
    return caller.user_id, caller.name


# --- closing a box ----------------------------------------------------------------------


@dataclass(frozen=True)
class PrinterSpec:
    """A station printer the pack station queues to: its name and language."""

    name: str
    language: str
    """``zpl`` or ``pdf``."""
    dpi: int = 203


@dataclass(frozen=True)
class Printers:
    label: PrinterSpec
    documents: PrinterSpec

    @classmethod
    def default(cls) -> Printers:
        return cls(PrinterSpec("label", "zpl"), PrinterSpec("documents", "pdf"))


@dataclass(frozen=True)
class Queued:
    job_id: int
    printer: str
    title: str


@dataclass(frozen=True)
class Closed:
    package_number: int
    sscc: str
    tracking_number: str
    carrier: str
    weight_g: int
    last: bool
    """The order's last box: it is packed, its totes are free, its documents are queued."""
    queued: tuple[Queued, ...]
    totes_freed: tuple[str, ...]
    service: str = ""
    rated: str = ""
    """Which service rate shopping chose and why ("" where the site does not rate-shop)."""


CONTENT_TYPES = {"zpl": "application/zpl", "pdf": "application/pdf"}


def close_box(
    engine: StoreEngine,
    who: LoggedIn,
    bench: Bench,
    box: cartonize.BoxType | None,
    in_box: Sequence[Unit],
    weight_g: int,
    expected_g: int,
    *,
    override_by: int | None,
    printers: Printers,
    ship: ShippingSettings,
    today: Callable[[], date],
) -> Closed:
    """Close the box: one transaction writes the package and everything that goes with it
    (see the module's docstring)."""
    if not in_box:
        raise PackError("the box is empty: scan the items into it first")
    if weight_g <= 0:
        raise PackError(
            f"the scale reads {weight_g} g: put the closed box on the scale and weigh it again"
        )
    me = _who(who)
    suggested = (
        bench.suggestion.boxes[0].box.code
        if bench.suggestion and bench.suggestion.boxes and bench.suggestion.boxes[0].box
        else None
    )

    # Which carrier and service (rate shopping), and for a carrier with an API its shipment,
    # made before the transaction: a carrier's answer is never awaited holding locks.
    with UnitOfWork(engine, read_only=True) as uow:
        shopped = _rate_shop(uow.session, bench, box, in_box, weight_g, ship)
    try:
        carrier = ship.carrier(
            shopped.choice.carrier if shopped and shopped.choice else bench.carrier
        )
    except ShippingSettingsError as exc:
        raise PackError(str(exc)) from None
    service = shopped.choice.service if shopped and shopped.choice else bench.service
    limit, setting = ship.max_weight_g(carrier.code)
    if weight_g > limit:
        raise PackError(
            f"the box weighs {weight_g:,} g, more than the {limit:,} g a {carrier.code} "
            f"package may weigh ({setting}): split it into two boxes"
        )
    made = _carrier_label(engine, bench, box, in_box, weight_g, carrier, service, printers)

    def work(uow: UnitOfWork) -> Closed:
        session = uow.session
        ids = list(bench.shipment_ids)
        # The order's lock first, as picking, cancelling and re-routing take it.
        dom_rows.lock_order(session, bench.order_id)
        rows.lock_shipments(session, ids)
        now = utcnow()
        if rows.held_by(session, ids, me, now) != len(ids):
            raise PackError(
                f"order {bench.order_ref} is no longer on your bench (a supervisor took it, or "
                "it was cancelled): nothing was recorded; scan the tote again"
            )
        handed = ship_rows.manifested(session, bench.lead)
        if handed is not None:
            raise PackError(
                f"order {bench.order_ref}'s boxes were handed to the carrier on manifest "
                f"M-{handed}: no box can be added; tell a supervisor"
            )
        lines = {ln.order_line_id: ln for ln in rows.lines_in_totes(session, ids)}
        packed = {p.order_line_id: p for p in rows.packed_units(session, bench.lead)}
        by_lot = rows.lot_units(session, ids, bench.lead)
        for unit in in_box:
            if unit.lot and bench.line(unit.line_id).lot_left:
                boxed = sum(
                    u.count for u in in_box if u.line_id == unit.line_id and u.lot == unit.lot
                )
                if boxed > by_lot.get(unit.line_id, {}).get(unit.lot, 0):
                    raise PackError(
                        f"{unit.sku}: more units of lot {unit.lot} in this box than are left "
                        "of it (the order changed); nothing was recorded, scan the tote again"
                    )
        for unit in in_box:
            line = lines.get(unit.line_id)
            have = packed[unit.line_id].quantity if unit.line_id in packed else 0
            if line is None or have + _counted(in_box, unit.line_id) > line.picked:
                raise PackError(
                    f"{unit.sku}: more units in this box than are left to pack (the order "
                    "changed); nothing was recorded, scan the tote again"
                )
            if (
                unit.serial
                and unit.line_id in packed
                and unit.serial in packed[unit.line_id].serials
            ):
                raise PackError(f"serial {unit.serial} is already packed; nothing was recorded")
        if not ship_rows.lock_shipment(session, bench.lead):
            raise PackError(f"shipment {bench.lead} is gone from the store")
        try:
            sscc = shipping.sscc(ship, ship_rows.take_numbers(session, "sscc"))
            if made is not None:
                tracking = made.label.tracking_number
            else:
                tracking = shipping.tracking_number(
                    carrier,
                    ship_rows.take_numbers(session, f"tracking:{carrier.code}"),
                    service,
                )
        except (ShippingSettingsError, shipping.ShippingError) as exc:
            raise PackError(str(exc)) from None
        package = ship_rows.add_package(
            session,
            shipment_id=bench.lead,
            sscc=sscc,
            carrier=carrier.code,
            tracking_number=tracking,
            weight_g=weight_g,
            box=box.code if box else None,
            actor=me.actor,
            at=now,
        )
        rows.record_package(
            session,
            package.id,
            suggested_box=suggested,
            expected_weight_g=expected_g,
            override_by=override_by,
            who=me,
        )
        if made is not None:
            rows.set_carrier_label(session, package.id, made.label.format, made.label.content)
            rows.set_label_request(session, made.request_id, "used", now, package_id=package.id)
        if shopped is not None and shopped.choice is not None:
            chosen = shopped.choice
            rows.record_rates(
                session,
                package.id,
                service=chosen.service,
                charge=chosen.price,
                arrives=chosen.arrives,
                quotes=[
                    rows.RateIn(
                        q.carrier, q.service, q.price, q.days, q.arrives, q is chosen, q.why
                    )
                    for q in shopped.quotes
                ],
                at=now,
            )
        rows.add_items(
            session,
            package.id,
            [rows.ItemIn(u.line_id, u.product_id, u.count, u.lot, u.serial) for u in in_box],
        )
        took = box.code if box else "its own container"
        was = "the suggested box" if box and box.code == suggested else f"suggested {suggested}"
        rows.add_event(
            session,
            bench.lead,
            "box",
            me,
            now,
            package_id=package.id,
            quantity=sum(u.count for u in in_box),
            detail=f"{took} ({was}); {weight_g} g, expected {expected_g} g",
        )
        if override_by is not None:
            rows.add_event(
                session,
                bench.lead,
                "override",
                me,
                now,
                package_id=package.id,
                detail=f"weight {weight_g} g let go by user {override_by}, expected {expected_g} g",
            )
        left = (
            sum(ln.picked for ln in lines.values())
            - sum(p.quantity for p in packed.values())
            - sum(u.count for u in in_box)
        )
        queued: list[Queued] = []
        freed: tuple[str, ...] = ()
        if left == 0:
            freed = bench.totes
            queued = _finish_order(session, who, bench, printers, ship, today(), me, now)
        uow.commit()
        return Closed(
            package.number,
            sscc,
            tracking,
            carrier.code,
            weight_g,
            left == 0,
            tuple(queued),
            freed,
            service,
            shopped.reason() if shopped is not None else "",
        )

    try:
        return run_in_transaction(engine, work)
    except Exception as exc:
        if made is None:
            raise
        raise PackError(_undo_label(engine, carrier, made, exc)) from exc


WAITING_FOR_UNITS = frozenset(
    {
        OrderStatus.ROUTED,
        OrderStatus.RELEASED,
        OrderStatus.PICKING,
        OrderStatus.HELD,
        OrderStatus.PARTIALLY_SHIPPED,
    }
)
"""Where an order stands whose damaged units went back to DOM, or whose other part has
left another node already: its units here are packed, and the order moves on with the
rest."""


def _finish_order(
    session: Any,
    who: LoggedIn,
    bench: Bench,
    printers: Printers,
    ship: ShippingSettings,
    today: date,
    me: Who,
    now: datetime,
) -> list[Queued]:
    """Everything on the bench is in closed boxes: the shipments are packed (their totes
    free), the order too when nothing of it is left anywhere, and the documents queued."""
    ids = list(bench.shipment_ids)
    rows.set_packed(session, ids, bench.lead)
    if rows.unpacked_shipments(session, bench.order_id) == 0:
        try:
            lifecycle.transition(
                session,
                bench.order_id,
                OrderStatus.PACKED,
                _actor(who),
                note="packed",
                expected=OrderStatus.PICKED,
            )
        except lifecycle.TransitionRefused as exc:
            if exc.current not in WAITING_FOR_UNITS:
                raise PackError(f"the order cannot be packed: {exc}") from None
    rows.add_event(session, bench.lead, "packed", me, now, detail=", ".join(bench.totes))
    return _queue_documents(session, who, bench, printers, ship, today, me)


def _queue_documents(
    session: Any,
    who: LoggedIn,
    bench: Bench,
    printers: Printers,
    ship: ShippingSettings,
    today: date,
    me: Who,
) -> list[Queued]:
    """The order's labels (one per box), packing slip and invoice, queued in the caller's
    transaction for this station's printers."""
    doc = ship_rows.shipment_doc(session, bench.lead)
    assert doc is not None
    ref = f"shipment {bench.lead}"
    jobs: list[tuple[PrinterSpec, str, str, bytes]] = []
    lab = printers.label
    try:
        made = shipping.labels(doc, ship)
    except shipping.ShippingError as exc:
        raise PackError(f"the label cannot be made: {exc}") from None
    output: label.Output = "pdf" if lab.language == "pdf" else "zpl"
    # A box whose carrier's API made its shipment prints the carrier's label as it is.
    theirs = ship_rows.carrier_labels(session, bench.lead)
    for one in made:
        if one.package_number in theirs and theirs[one.package_number][0] == output:
            title = f"Label {one.shipment_ref} box {one.package_number} of {one.package_count}"
            jobs.append((lab, "label", title, theirs[one.package_number][1]))
            continue
        try:
            # A name the printer's font cannot print (Łukasz on ZPL) is transliterated.
            ready = labelcheck.check(one, ship, output).label
            content = label.to_pdf(ready) if output == "pdf" else label.to_zpl(ready, lab.dpi)
        except (label.LabelError, labelcheck.LabelRefused) as exc:
            raise PackError(f"the label cannot be made: {exc}") from None
        title = f"Label {one.shipment_ref} box {one.package_number} of {one.package_count}"
        jobs.append((lab, "label", title, content))
    slip = documents.packing_slip_pdf(shipping.packing_slip(doc, ship, today))
    jobs.append((printers.documents, "packing_slip", f"Packing slip {ship_ref(bench)}", slip))
    try:
        number, pdf = shipping.issue_invoice_in(session, ship, bench.lead, _actor(who), today)
    except shipping.ShippingError as exc:
        raise PackError(f"the invoice cannot be made: {exc}") from None
    jobs.append((printers.documents, "invoice", f"Invoice {number}", pdf))
    out = []
    stamp = printjobs.Who(me.actor, me.user_id, me.station_id, utcnow())
    for printer, kind, title, content in jobs:
        job_id = printjobs.add_job(
            session,
            station_id=who.station_id,
            printer=printer.name,
            document=kind,
            title=title,
            content_type=CONTENT_TYPES[printer.language],
            content=content,
            reference=ref,
            who=stamp,
        )
        out.append(Queued(job_id, printer.name, title))
    return out


@dataclass(frozen=True)
class MadeLabel:
    """A shipment the carrier's API created for a box, under the request that asked it."""

    request_id: int
    label: carrier_api.Label


def _carrier_label(
    engine: StoreEngine,
    bench: Bench,
    box: cartonize.BoxType | None,
    in_box: Sequence[Unit],
    weight_g: int,
    carrier: Carrier,
    service: str,
    printers: Printers,
) -> MadeLabel | None:
    """For a carrier with an API, its shipment for the box (None for the others).

    The request is recorded first, in its own transaction, with its idempotency key; a
    request whose answer never came stays pending, and the same box asks again under the
    same key, so a carrier that honours the key never makes two shipments for one box.
    Refused (PackError) with the carrier's reason; nothing of the box is recorded then."""
    try:
        api = registry.api_of(carrier)
    except carrier_api.CarrierError as exc:
        raise PackError(f"{carrier.name} cannot be reached: {exc}") from None
    if api is None:
        return None

    def ask(uow: UnitOfWork) -> tuple[rows.LabelAsked, ship_rows.ShipmentDoc | None]:
        s = uow.session
        number = rows.next_box_number(s, bench.lead)
        asked = rows.pending_label_request(s, bench.lead, number, carrier.code)
        if asked is None:
            serial = ship_rows.take_numbers(s, "label-request")
            asked = rows.add_label_request(s, bench.lead, number, carrier.code, serial, utcnow())
        doc = ship_rows.shipment_doc(s, bench.lead)
        uow.commit()
        return asked, doc

    asked, doc = run_in_transaction(engine, ask)
    assert doc is not None
    sides = _sides(bench, box, in_box)
    request = carrier_api.Shipment(
        ship_from=_api_address(doc.ship_from),
        ship_to=_api_address(doc.ship_to),
        weight_g=weight_g,
        length_mm=sides[0],
        width_mm=sides[1],
        height_mm=sides[2],
        reference=doc.order_ref,
    )
    fmt = "pdf" if printers.label.language == "pdf" else "zpl"
    try:
        made = api.create(request, registry.service_name(service), asked.key, fmt)
    except carrier_api.CarrierError as exc:
        if exc.outcome_unknown:
            raise PackError(
                f"{carrier.name} did not answer in time ({exc}): it may have made the shipment. "
                "The box is not closed: close it again (the box asks the carrier again under "
                "the same key, so it makes one shipment at most)"
            ) from None
        _mark(engine, asked.id, "refused", detail=str(exc))
        retry = "try again" if exc.retryable else "fix what it says"
        raise PackError(
            f"{carrier.name} refused the label ({exc}): the box is not closed, nothing was "
            f"recorded; {retry}, or tell a supervisor"
        ) from None
    _mark(engine, asked.id, "created", tracking=made.tracking_number)
    return MadeLabel(asked.id, made)


def _mark(
    engine: StoreEngine,
    request_id: int,
    status: str,
    *,
    tracking: str | None = None,
    detail: str = "",
) -> None:
    def work(uow: UnitOfWork) -> None:
        rows.set_label_request(
            uow.session, request_id, status, utcnow(), tracking_number=tracking, detail=detail
        )
        uow.commit()

    run_in_transaction(engine, work)


def _undo_label(engine: StoreEngine, carrier: Carrier, made: MadeLabel, exc: Exception) -> str:
    """The box could not be recorded after the carrier made its shipment: void it."""
    api = registry.api_of(carrier)
    assert api is not None
    first = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
    try:
        api.void(made.label.tracking_number)
    except carrier_api.CarrierError as void_exc:
        _mark(engine, made.request_id, "created", detail=f"not recorded, not voided: {void_exc}")
        return (
            f"the box was not recorded ({first}), and {carrier.name}'s shipment "
            f"{made.label.tracking_number} could not be voided ({void_exc}): tell a "
            "supervisor to void it with the carrier, then close the box again"
        )
    _mark(engine, made.request_id, "voided", detail=f"not recorded: {first}")
    return (
        f"the box was not recorded ({first}); {carrier.name}'s shipment "
        f"{made.label.tracking_number} was voided: close the box again"
    )


def _api_address(place: ship_rows.Place) -> carrier_api.Address:
    return carrier_api.Address(
        name=place.name,
        lines=place.lines,
        city=place.city,
        postal_code=place.postal_code,
        country=place.country,
        region=place.region,
        company=place.company,
        phone=place.phone,
        email=place.email,
    )


def _sides(
    bench: Bench, box: cartonize.BoxType | None, in_box: Sequence[Unit]
) -> tuple[int, int, int]:
    """The parcel's outer size: the box's, or the item's that ships in its own container."""
    if box is not None:
        return box.outer_length, box.outer_width, box.outer_height
    item = bench.line(in_box[0].line_id).unit
    return item.length, item.width, item.height


def _rate_shop(
    session: Any,
    bench: Bench,
    box: cartonize.BoxType | None,
    in_box: Sequence[Unit],
    weight_g: int,
    ship: ShippingSettings,
) -> rates.Shopped | None:
    """The rate shop for the box, where the site has rate tables and one carries the
    order's service level (pickup orders are not shipped by a carrier); None: the box goes
    with the shipment's carrier and service."""
    if not rates.rate_shopping(ship):
        return None
    facts = rows.rating_facts(session, bench.lead)
    if facts is None or facts.service_level == "pickup":
        return None
    sides = _sides(bench, box, in_box)
    distance = None
    if facts.ship_latitude is not None and facts.ship_longitude is not None:
        distance = rates.distance_km(
            facts.node_latitude, facts.node_longitude, facts.ship_latitude, facts.ship_longitude
        )
    parcel = rates.Parcel(weight_g, *sides, distance, residential=not facts.company)
    try:
        zone = ZoneInfo(facts.node_timezone)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    now = utcnow().astimezone(zone)
    promised = rates.promised_by(facts.service_level, facts.placed_at.astimezone(zone).date())
    shopped = rates.shop(ship, parcel, now, facts.service_level, promised)
    if shopped.choice is None:
        # No rate table carries the order's level: it goes with the wave's carrier.
        return None
    return shopped


def ship_ref(bench: Bench) -> str:
    return shipping.shipment_ref(bench.lead)


# --- leaving and problems ---------------------------------------------------------------


def release(engine: StoreEngine, who: LoggedIn, bench: Bench, why: str) -> None:
    """Take the order off this bench (logging out, or setting the totes aside): anyone can
    scan its tote again; boxes already closed stay closed."""
    me = _who(who)

    def work(uow: UnitOfWork) -> None:
        ids = list(bench.shipment_ids)
        rows.lock_shipments(uow.session, ids)
        if rows.held_by(uow.session, ids, me, None):
            rows.release(uow.session, ids)
            rows.add_event(uow.session, bench.lead, "release", me, utcnow(), detail=why)
        uow.commit()

    run_in_transaction(engine, work)


PROBLEMS = {"missing": "a unit is missing from the tote", "damaged": "a unit is damaged"}
"""What a packer may report: a missing unit sends the order to the problem shelf
(:func:`problem`); a damaged one goes back to DOM (:func:`damaged`)."""


@dataclass(frozen=True)
class Damaged:
    """What became of a unit found damaged at the bench."""

    rerouted: str
    """What DOM did with it, for the packer."""
    finished: tuple[Queued, ...] | None
    """It was the last unit left to pack and boxes were closed before: the order is packed
    here now and its documents are queued (None otherwise)."""
    ended: bool
    """It was the only unit on the bench: nothing is left to ship from here, the totes are
    free."""


def damaged(
    engine: StoreEngine,
    who: LoggedIn,
    bench: Bench,
    line_id: int,
    *,
    printers: Printers,
    ship: ShippingSettings,
    today: Callable[[], date],
) -> Damaged:
    """A picked unit of the line is damaged: in one transaction it leaves the shipment, the
    node gives it back, and DOM re-routes it as for a short pick (the order goes back to
    routed, or is held when no node can serve it). The rest of the order is packed on."""
    line = bench.line(line_id)
    me = _who(who)
    routing = load_routing_settings(engine)

    def work(uow: UnitOfWork) -> Damaged:
        session = uow.session
        ids = list(bench.shipment_ids)
        # The order's lock first, as picking and re-routing take it; then the totes.
        dom_rows.lock_order(session, bench.order_id)
        rows.lock_shipments(session, ids)
        now = utcnow()
        if rows.held_by(session, ids, me, now) != len(ids):
            raise PackError(
                f"order {bench.order_ref} is no longer on your bench: nothing was recorded"
            )
        in_totes = next(
            (ln for ln in rows.lines_in_totes(session, ids) if ln.order_line_id == line_id), None
        )
        boxed = next(
            (
                p.quantity
                for p in rows.packed_units(session, bench.lead)
                if p.order_line_id == line_id
            ),
            0,
        )
        if (
            in_totes is None
            or in_totes.picked - boxed <= 0
            or rows.remove_unit(session, ids, line_id) is None
        ):
            raise PackError(
                f"no unit of {line.sku} is left outside the closed boxes: nothing was recorded"
            )
        try:
            result = reroute_damaged(
                session,
                bench.order_id,
                line_id,
                who.node_id,
                who.node_code,
                _actor(who),
                routing,
                now=now,
            )
        except NotRoutable as exc:
            raise PackError(f"the damaged unit was not recorded: {exc}") from None
        rows.add_event(
            session, bench.lead, "damaged", me, now, sku=line.sku, quantity=1, detail=result.summary
        )
        picked = sum(ln.picked for ln in rows.lines_in_totes(session, ids))
        packed = sum(p.quantity for p in rows.packed_units(session, bench.lead))
        finished: tuple[Queued, ...] | None = None
        ended = False
        if picked - packed == 0:
            if rows.closed_boxes(session, bench.lead):
                finished = tuple(
                    _finish_order(session, who, bench, printers, ship, today(), me, now)
                )
            else:
                rows.cancel_shipments(session, ids)
                rows.add_event(session, bench.lead, "ended", me, now, detail="nothing left to ship")
                ended = True
        uow.commit()
        if result.outcome is DecisionOutcome.HELD:
            said = f"order {result.reference} waits for the office, which finds the unit"
        else:
            said = f"order {result.reference} gets the unit from other stock"
        return Damaged(said, finished, ended)

    for _ in range(3):
        try:
            return run_in_transaction(engine, work)
        except ReservationLost:
            continue  # stock moved while re-routing: everything rolled back; again
    raise PackError("stock kept changing while re-routing: report the damaged unit again")


def problem(
    engine: StoreEngine,
    who: LoggedIn,
    bench: Bench,
    kind: str,
    line_id: int,
    settings: PackSettings,
) -> str:
    """A unit missing from the totes: the order goes to the problem shelf for a supervisor
    (the pack history says which unit and who found it); returns the shelf. (A damaged
    unit may be sent there too; :func:`damaged` re-routes it instead.)"""
    if kind not in PROBLEMS:
        raise PackError(f"a problem is {' or '.join(PROBLEMS)}, not {kind!r}")
    line = bench.line(line_id)
    me = _who(who)

    def work(uow: UnitOfWork) -> str:
        session = uow.session
        ids = list(bench.shipment_ids)
        rows.lock_shipments(session, ids)
        now = utcnow()
        if rows.held_by(session, ids, me, now) != len(ids):
            raise PackError(
                f"order {bench.order_ref} is no longer on your bench: nothing was recorded"
            )
        shelf = rows.location_id(session, who.node_id, settings.problem_location)
        where = settings.problem_location if shelf is not None else "the problem shelf"
        text = f"{PROBLEMS[kind]}: {line.sku} (line {line.line_no}), found by {who.badge}"
        rows.set_problem(session, ids, text, shelf)
        rows.add_event(session, bench.lead, kind, me, now, sku=line.sku, quantity=1, detail=text)
        uow.commit()
        return where

    return run_in_transaction(engine, work)


def node_id(engine: StoreEngine, code: str) -> int:
    """A node's id from its code; PackError naming the code if there is none."""
    with UnitOfWork(engine, read_only=True) as uow:
        found = rows.node_id(uow.session, code)
    if found is None:
        raise PackError(f"there is no node {code!r}")
    return found


def problems(engine: StoreEngine, node_id: int) -> list[rows.ProblemRow]:
    """The orders on the node's problem shelf (a supervisor's queue shows them)."""
    with UnitOfWork(engine, read_only=True) as uow:
        return rows.problems(uow.session, node_id)


def clear_problem(
    engine: StoreEngine, actor: Actor, node_id: int, order_ref: str, note: str
) -> str:
    """A supervisor dealt with an order on the problem shelf (found the unit, or had its
    line cancelled): its totes can be packed again. Returns what was cleared."""
    who = Who(actor.name, actor.user_id, actor.station_id)

    def work(uow: UnitOfWork) -> str:
        session = uow.session
        order_id = rows.order_by_reference(session, order_ref)
        on_shelf = [p for p in rows.problems(session, node_id) if p.order_id == order_id]
        if order_id is None or not on_shelf:
            waiting = ", ".join(p.order_ref for p in rows.problems(session, node_id)) or "none"
            raise PackError(
                f"order {order_ref} is not on the problem shelf (orders there: {waiting})"
            )
        ids = [p.shipment_id for p in on_shelf]
        rows.lock_shipments(session, ids)
        rows.clear_problem(session, ids)
        rows.add_event(
            session, ids[0], "cleared", who, utcnow(), detail=note or on_shelf[0].problem
        )
        uow.commit()
        totes = ", ".join(p.tote for p in on_shelf if p.tote)
        return f"order {on_shelf[0].order_ref} (tote {totes}) can be packed again"

    return run_in_transaction(engine, work)


def note_weighing(
    engine: StoreEngine,
    who: LoggedIn,
    bench: Bench,
    box: cartonize.BoxType | None,
    grams: int,
    expected_g: int,
) -> None:
    """A box weighed out of tolerance, kept in the pack history (the packer weighs again,
    or a supervisor lets it go)."""
    me = _who(who)

    def work(uow: UnitOfWork) -> None:
        rows.add_event(
            uow.session,
            bench.lead,
            "weight",
            me,
            utcnow(),
            detail=f"{box.code if box else 'own container'}: {grams} g, expected {expected_g} g",
        )
        uow.commit()

    run_in_transaction(engine, work)


def heartbeat(engine: StoreEngine, who: LoggedIn, bench: Bench) -> bool:
    """Tell the store this bench still has the order; False if it no longer does."""
    me = _who(who)

    def work(uow: UnitOfWork) -> bool:
        ids = list(bench.shipment_ids)
        held = rows.held_by(uow.session, ids, me, utcnow()) == len(ids)
        uow.commit()
        return held

    return run_in_transaction(engine, work)


# --- the catalogue in the store ---------------------------------------------------------


def load_catalogue(
    engine: StoreEngine,
    boxes: Sequence[cartonize.BoxType],
    materials: Sequence[cartonize.Material],
) -> tuple[int, int]:
    """Make these the site's boxes and materials (others are kept but no longer offered);
    (boxes added, boxes changed)."""
    if not boxes:
        raise PackError("the catalogue has no boxes: a pack bench needs at least one")

    def work(uow: UnitOfWork) -> tuple[int, int]:
        counts = rows.save_catalogue(
            uow.session,
            Box,
            [
                {
                    "code": b.code,
                    "name": b.name,
                    "inner_length_mm": b.inner_length,
                    "inner_width_mm": b.inner_width,
                    "inner_height_mm": b.inner_height,
                    "outer_length_mm": b.outer_length,
                    "outer_width_mm": b.outer_width,
                    "outer_height_mm": b.outer_height,
                    "tare_g": b.tare,
                    "max_weight_g": b.max_weight,
                    "cost": b.cost,
                    "carriers": " ".join(sorted(b.carriers)),
                    "hazmat_ok": b.hazmat_ok,
                }
                for b in boxes
            ],
        )
        rows.save_catalogue(
            uow.session,
            PackingMaterial,
            [
                {
                    "code": m.code,
                    "name": m.name,
                    "kind": m.kind,
                    "unit_cost": m.unit_cost,
                    "unit_weight_g": m.weight_per_unit,
                }
                for m in materials
            ],
        )
        uow.commit()
        return counts

    return run_in_transaction(engine, work)


def set_packing_rules(engine: StoreEngine, rules: Mapping[str, Mapping[str, Any]]) -> int:
    """Products' packing rules by SKU (``app.packing.files.read_rules``); sizes and weights
    are the catalogue's and are left alone. All or nothing: an unknown SKU changes none.
    Returns the products changed."""

    def work(uow: UnitOfWork) -> int:
        unknown = rows.set_packing_rules(uow.session, {k: dict(v) for k, v in rules.items()})
        if unknown:
            raise PackError(
                f"{len(unknown)} SKU(s) are not in the catalogue: {', '.join(unknown[:10])}; "
                "nothing was changed"
            )
        uow.commit()
        return len(rules)

    return run_in_transaction(engine, work)
