"""The pick station's work: claim a pick list, set up the cart's totes, and confirm every
pick, short pick, skip and pause, each in one transaction attributed to user and station.

The screen checks each scan against the task with the pure ``check_*`` functions (a
refusal says what was expected and what was scanned, and nothing is written); the tote
scan that completes a pick calls :func:`confirm_pick`, which checks everything again under
the order's and the pick list's locks (:func:`check_pick`, the one place the rules of a
committed pick live, on both databases) and commits the pick.

Every action that writes runs as one whole transaction, retried whole when another
transaction got in the way; each takes the unit of work to run in as ``uow`` (a test hands
in its own), else one on ``engine``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.actor import Actor
from app.barcodes import Barcode, BarcodeError, gtin14, resolve, show
from app.dom.reroute import reject_line
from app.dom.routing import NotRoutable, ReservationLost
from app.dom.settings import load as load_routing_settings
from app.orders import lifecycle
from app.users import LoggedIn
from data import pick_station as rows
from data.inventory import Who
from data.models import (
    AllocationStatus,
    DecisionOutcome,
    OrderStatus,
    PickListStatus,
    PickTaskStatus,
    WaveStatus,
)
from data.store import StoreEngine
from data.types import utcnow
from data.uow import StaleRead, UnitOfWork, run_in_transaction

STALE_AFTER = timedelta(minutes=2)
"""A claim whose terminal has not sent a heartbeat for this long can be taken over."""
HEARTBEAT_EVERY = 3.0
"""Seconds between a station's heartbeats."""

SHORT_REASONS = {"empty": "no_stock", "damaged": "damaged", "not_found": "not_found"}
"""A picker's short-pick reasons and the DOM reason each gives the units back with."""


class StationError(ValueError):
    """A refusal for the picker: what was expected and what was scanned or asked."""


@dataclass(frozen=True)
class Task:
    id: int
    seq: int
    location_id: int
    location: str
    location_barcode: str
    x_mm: int
    y_mm: int
    sku: str
    product: str
    gtin: str | None
    track_lot: bool
    track_serial: bool
    track_expiry: bool
    lot: str
    quantity: int
    picked: int
    status: PickTaskStatus
    tote_slot: int
    tote: str | None
    order_ref: str

    @property
    def left(self) -> int:
        return self.quantity - self.picked


@dataclass(frozen=True)
class Tote:
    shipment_id: int
    slot: int
    tote: str | None
    order_ref: str
    status: str
    earlier: tuple[str, ...] = ()
    """Totes this order's units were picked into before the list changed hands (they stay
    there for the packer)."""


@dataclass(frozen=True)
class PickListView:
    """A pick list as the picker sees it."""

    id: int
    wave_id: int
    node: str
    status: PickListStatus
    zone: str
    claimed_by: int | None
    claimed_station: int | None
    totes: tuple[Tote, ...]
    tasks: tuple[Task, ...]
    distance_m: float | None
    est_seconds: float
    path: tuple[tuple[float, float], ...]
    elapsed_seconds: float = 0.0
    """How long the list had been on the floor when read: since its first claim, through
    pauses and changes of hands."""
    resumed: bool = False
    """The claim that gave it was not the list's first (it was paused, taken back or left)."""
    handed_over: bool = False
    """The claim gave it to a new picker and took its totes off (they were on another
    cart): they are to be set up again."""

    @property
    def current(self) -> Task | None:
        """The next open task along the route."""
        return next((t for t in self.tasks if t.status is PickTaskStatus.OPEN), None)

    @property
    def totes_ready(self) -> bool:
        return all(t.tote for t in self.totes if t.status == "picking")

    @property
    def lines_done(self) -> int:
        return sum(t.status is not PickTaskStatus.OPEN for t in self.tasks)

    @property
    def lines_left(self) -> int:
        return sum(t.status is PickTaskStatus.OPEN for t in self.tasks)

    @property
    def units_left(self) -> int:
        return sum(t.left for t in self.tasks if t.status is PickTaskStatus.OPEN)

    def with_picked(self, task_id: int, units: int) -> PickListView:
        """The list as a committed pick of ``units`` on the task leaves it, worked out here
        (for a screen that could not read the list back from the store)."""

        def after(task: Task) -> Task:
            if task.id != task_id:
                return task
            picked = task.picked + units
            status = PickTaskStatus.DONE if picked >= task.quantity else task.status
            return replace(task, picked=picked, status=status)

        return replace(self, tasks=tuple(after(t) for t in self.tasks))

    def distance_left_m(self) -> float | None:
        """Along the stored walk, from the current task's spot back to the depot."""
        if self.distance_m is None or not self.path:
            return None
        current = self.current
        if current is None:
            return 0.0
        spot = (current.x_mm / 1000, current.y_mm / 1000)
        legs = list(zip(self.path, self.path[1:], strict=False))
        # The walk passes the current task's location: measure from the leg nearest it.
        best = min(range(len(legs)), key=lambda i: _point_leg(spot, *legs[i]), default=0)
        rest = sum(_dist(a, b) for a, b in legs[best + 1 :])
        return rest + _dist(_closest(spot, *legs[best]), legs[best][1]) if legs else 0.0


def _dist(a: tuple[float, float], b: tuple[float, float]) -> float:
    return abs(a[0] - b[0]) + abs(a[1] - b[1])


def _closest(
    p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]
) -> tuple[float, float]:
    # Walk legs are axis-parallel (aisles and cross aisles).
    return (
        min(max(p[0], min(a[0], b[0])), max(a[0], b[0])),
        min(max(p[1], min(a[1], b[1])), max(a[1], b[1])),
    )


def _point_leg(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    return _dist(p, _closest(p, a, b))


def _who(session: LoggedIn) -> Who:
    return Who(session.badge, session.user_id, session.station_id)


def view(engine: StoreEngine, list_id: int) -> PickListView:
    with UnitOfWork(engine, read_only=True) as uow:
        found = _view(uow, list_id)
    if found is None:
        raise StationError(f"there is no pick list {list_id}")
    return found


def _view(uow: UnitOfWork, list_id: int, *, lock: bool = False) -> PickListView | None:
    head = rows.head(uow.session, list_id, lock=lock)
    if head is None:
        return None
    tasks = tuple(
        Task(
            id=t.id,
            seq=t.seq,
            location_id=t.location_id,
            location=t.location_code,
            location_barcode=t.location_barcode,
            x_mm=t.x_mm,
            y_mm=t.y_mm,
            sku=t.sku,
            product=t.product_name,
            gtin=t.gtin,
            track_lot=t.track_lot,
            track_serial=t.track_serial,
            track_expiry=t.track_expiry,
            lot=t.lot,
            quantity=t.quantity,
            picked=t.picked,
            status=t.status,
            tote_slot=t.tote_slot,
            tote=t.tote,
            order_ref=t.order_ref,
        )
        for t in rows.task_lines(uow.session, list_id)
    )
    totes = tuple(
        Tote(s.shipment_id, s.slot, s.tote, s.order_ref, s.status.value, s.earlier)
        for s in rows.tote_slots(uow.session, list_id)
    )
    path = tuple((float(x), float(y)) for x, y in json.loads(head.path or "[]"))
    started = head.started_at
    elapsed = (utcnow() - started).total_seconds() if started is not None else 0.0
    return PickListView(
        id=head.id,
        wave_id=head.wave_id,
        node=head.node_code,
        status=head.status,
        zone=head.zone,
        claimed_by=head.claimed_by,
        claimed_station=head.claimed_station_id,
        totes=totes,
        tasks=tasks,
        distance_m=head.distance_m,
        est_seconds=head.est_seconds,
        path=path,
        elapsed_seconds=max(0.0, elapsed),
    )


def claim_next(
    engine: StoreEngine,
    who: LoggedIn,
    zone: str | None = None,
    *,
    uow: UnitOfWork | None = None,
) -> PickListView | None:
    """Claim the next pick list of the station's node (and zone): the picker's own first
    (the one they held when their station restarted, or last had), then paused or
    abandoned lists, then released ones by priority. None when there is no work.

    A list that changes hands (another picker had it, or a supervisor took it back) has
    its totes taken off: they are on a cart this picker does not have, so the cart is set
    up again; the units already picked stay recorded against the totes they went into."""

    def work(uow: UnitOfWork) -> PickListView | None:
        now = utcnow()
        list_id = rows.claim_next(
            uow.session, who.node_id, zone, who.user_id, who.station_id, now, now - STALE_AFTER
        )
        if list_id is None:
            return None
        return _taken(uow, who, list_id, now)

    return run_in_transaction(uow or engine, work)


def _taken(uow: UnitOfWork, who: LoggedIn, list_id: int, now: datetime) -> PickListView | None:
    """A list this picker has just claimed, recorded; its totes taken off if it changed
    hands (see :func:`claim_next`)."""
    hands = rows.last_hands(uow.session, list_id)
    handed = hands is not None and (hands[0] == "take_back" or hands[1] != who.user_id)
    unbound = rows.unbind_totes(uow.session, list_id) if handed else 0
    if unbound:
        rows.add_event(uow.session, list_id, "totes_off", _who(who), now, detail="changed hands")
    rows.add_event(uow.session, list_id, "claim", _who(who), now)
    found = _view(uow, list_id)
    uow.commit()
    if found is None:
        return None
    return replace(found, resumed=hands is not None, handed_over=unbound > 0)


def claim_list(
    engine: StoreEngine, who: LoggedIn, list_id: int, *, uow: UnitOfWork | None = None
) -> PickListView:
    """Claim the pick list whose barcode the picker scanned (``LIST-12``, as `shipfloor
    picklist show` gives it), if it is free for them: released, paused, gone quiet, or
    already theirs. Refused with the reason (none such, another node's, done, being picked
    by someone else) otherwise."""

    def work(uow: UnitOfWork) -> PickListView:
        now = utcnow()
        head = rows.head(uow.session, list_id)
        said = f"scanned LIST-{list_id}: "
        if head is None:
            raise StationError(f"{said}there is no pick list {list_id}; scan another list")
        if head.node_id != who.node_id:
            raise StationError(
                f"{said}pick list {list_id} is {head.node_code}'s, this station is at "
                f"{who.node_code}: scan one of {who.node_code}'s lists"
            )
        if head.status in (PickListStatus.DONE, PickListStatus.CANCELLED):
            raise StationError(f"{said}pick list {list_id} is {head.status}: nothing to pick")
        if not rows.claim(
            uow.session, list_id, who.user_id, who.station_id, now, now - STALE_AFTER
        ):
            raise StationError(
                f"{said}pick list {list_id} is being picked at another station: claim "
                "another, or ask a supervisor to take it back"
            )
        found = _taken(uow, who, list_id, now)
        assert found is not None
        return found

    return run_in_transaction(uow or engine, work)


def _holds(who: LoggedIn, status: PickListStatus, user_id: int | None, station: int | None) -> bool:
    """Whether this user, at this station, holds a list in that state."""
    return status is PickListStatus.CLAIMED and user_id == who.user_id and station == who.station_id


def _owned(uow: UnitOfWork, who: LoggedIn, list_id: int) -> PickListView:
    """The list, locked, if this user holds it; a refusal saying who does otherwise."""
    found = _view(uow, list_id, lock=True)
    if found is None:
        raise StationError(f"there is no pick list {list_id}")
    if not _holds(who, found.status, found.claimed_by, found.claimed_station):
        state = found.status.value
        raise StationError(
            f"pick list {list_id} is no longer yours (it is {state}): it was taken back; "
            "claim the next one"
        )
    return found


def set_tote(
    engine: StoreEngine,
    who: LoggedIn,
    list_id: int,
    slot: int,
    scan: str,
    *,
    uow: UnitOfWork | None = None,
) -> PickListView:
    """Put a tote on the cart at ``slot``; it must be a tote barcode no other order uses."""
    tote = _site_code(scan, "tote", f"a tote barcode (TOTE-…) for slot {slot}")

    def work(uow: UnitOfWork) -> PickListView | None:
        found = _owned(uow, who, list_id)
        slot_row = next((t for t in found.totes if t.slot == slot), None)
        if slot_row is None:
            raise StationError(f"this cart has no slot {slot} (slots 1 to {len(found.totes)})")
        if any(t.tote == tote and t.slot != slot for t in found.totes):
            raise StationError(f"{tote} is already on this cart; scan another tote")
        holder = rows.tote_holder(uow.session, tote, beside=slot_row.shipment_id)
        if holder is not None:
            raise StationError(
                f"expected an empty tote for slot {slot}, scanned {tote}, which still holds "
                f"order {holder.order_ref}'s items: leave it and scan an empty tote"
            )
        if not rows.set_tote(uow.session, slot_row.shipment_id, tote):
            raise StationError(
                f"{tote} was just taken for another order on another cart: scan an empty tote"
            )
        rows.add_event(
            uow.session, list_id, "tote", _who(who), utcnow(), tote=tote, detail=f"slot {slot}"
        )
        updated = _view(uow, list_id)
        uow.commit()
        return updated

    updated = run_in_transaction(uow or engine, work)
    assert updated is not None
    return updated


@dataclass(frozen=True)
class ItemScan:
    """One scanned unit (or a case of ``count`` units) of the task's product."""

    lot: str
    serial: str
    expiry: date | None
    count: int


def _site_code(scan: str, kind: str, expected: str) -> str:
    """The site code a scan of a ``kind`` barcode carries, or a refusal naming what was
    expected and what was scanned."""
    try:
        code = resolve(scan)
    except BarcodeError as exc:
        raise StationError(f"expected {expected}: {exc}") from None
    if code.kind != kind:
        raise StationError(f"expected {expected}, scanned a {code.kind}: {scan}")
    return code.site_code


def _joined(code: str) -> str:
    """A location code without the dash between a letter and a digit: ``LOC-A-01-01-1``
    and ``LOC-A01-01-1`` name the same shelf (labels and documents spell it both ways)."""
    return re.sub(r"(?<=[A-Z])-(?=[0-9])|(?<=[0-9])-(?=[A-Z])", "", code.upper())


def check_location(task: Task, scan: str) -> None:
    """The picker is at the task's location, or a refusal naming both. The location code
    in the store decides; a dash between a letter and a digit may be there or not."""
    site_code = _site_code(scan, "location", f"location {task.location} ({task.location_barcode})")
    if _joined(site_code) != _joined(task.location_barcode):
        raise StationError(
            f"wrong location: expected {task.location} ({task.location_barcode}), "
            f"scanned {site_code}"
        )


def check_item(task: Task, scan: str, today: date, counted: Sequence[ItemScan] = ()) -> ItemScan:
    """One unit of the task's product, with lot, serial and expiry where tracked; refuses
    another product, a lot other than the one to pick, an expired unit, a serial scanned
    twice, and a unit over the quantity."""
    try:
        code = resolve(scan)
    except BarcodeError as exc:
        raise StationError(f"expected {task.sku} {task.product}: {exc}") from None
    if code.kind not in ("gtin", "gs1") or code.gtin is None:
        raise StationError(
            f"expected the product {task.sku} ({task.product}), scanned a {code.kind}: {scan}"
        )
    if task.gtin is None or gtin14(task.gtin) != code.gtin:
        raise StationError(
            f"wrong item: expected {task.sku} (GTIN {task.gtin or 'none on file'}), "
            f"scanned GTIN {code.gtin}"
        )
    item = _item(task, code, today, scan)
    already = sum(i.count for i in counted)
    if already + item.count > task.left:
        raise StationError(
            f"over-pick: {task.left} to pick here, {already} scanned; this scan would make "
            f"{already + item.count}"
        )
    if item.serial and any(i.serial == item.serial for i in counted):
        raise StationError(f"serial {item.serial} was already scanned for this pick")
    return item


def _item(task: Task, code: Barcode, today: date, scan: str) -> ItemScan:
    scanned = f"scanned {show(scan)}"
    lot = code.lot or ""
    if task.track_lot:
        if not lot:
            raise StationError(
                f"{task.sku} is lot-tracked: expected the GS1 barcode with the lot (10), "
                f"lot {task.lot or 'any'}; {scanned}"
            )
        if task.lot and lot != task.lot:
            raise StationError(f"wrong lot: expected lot {task.lot}, scanned lot {lot}")
    if task.track_serial and not code.serial:
        raise StationError(
            f"{task.sku} is serial-tracked: expected the barcode with its serial (21); {scanned}"
        )
    expiry = code.expiry
    if task.track_expiry and expiry is None:
        raise StationError(
            f"{task.sku} has an expiry date: expected the barcode with it (17); {scanned}"
        )
    if expiry is not None and expiry < today:
        raise StationError(
            f"expired: expected a unit in date, scanned one that expired on "
            f"{expiry.isoformat()}; leave it and scan a good one"
        )
    count = code.count or 1
    if task.track_serial and count != 1:
        raise StationError(
            f"{task.sku} is serial-tracked: expected one unit, scanned a case of {count}; "
            "scan each unit"
        )
    return ItemScan(
        lot=lot if task.track_lot else task.lot,
        serial=code.serial or "",
        expiry=expiry,
        count=count,
    )


def check_tote(task: Task, scan: str) -> str:
    site_code = _site_code(scan, "tote", f"tote {task.tote} (slot {task.tote_slot})")
    if site_code != task.tote:
        raise StationError(
            f"wrong tote: expected {task.tote} (slot {task.tote_slot}), scanned {site_code}"
        )
    return site_code


def lot_expiry(engine: StoreEngine, task: Task) -> date | None:
    """The expiry date of the task's lot at its location (None when it has none)."""
    with UnitOfWork(engine, read_only=True) as uow:
        return rows.stock_expiry(uow.session, task.location_id, task.lot)


def local_today(node_timezone: str) -> date:
    try:
        return utcnow().astimezone(ZoneInfo(node_timezone)).date()
    except (KeyError, ValueError):
        return utcnow().date()


def confirm_pick(
    engine: StoreEngine,
    who: LoggedIn,
    list_id: int,
    task_id: int,
    items: Sequence[ItemScan],
    tote: str,
    *,
    uow: UnitOfWork | None = None,
) -> PickDone:
    """Record the units scanned for a task as picked into ``tote``: stock, reservation,
    allocation, task, order status and history in one transaction. Everything is checked
    again here, under the order's lock and the pick list's, by :func:`check_pick`."""
    quantity = sum(i.count for i in items)
    if quantity <= 0:
        raise StationError("nothing was scanned to pick")
    now = utcnow()
    lot = items[0].lot
    lots = sorted({i.lot for i in items})
    if len(lots) > 1:
        raise StationError(
            f"one lot per pick: expected units of lot {lot}, scanned lots {', '.join(lots)}; "
            "put the other lot back"
        )
    today = local_today(who.node_timezone)
    expired = [i.expiry for i in items if i.expiry is not None and i.expiry < today]
    if expired:
        raise StationError(
            f"expired: a scanned unit expired on {expired[0].isoformat()}; leave it and "
            "scan a good one"
        )
    serials = tuple(i.serial for i in items if i.serial)

    def work(uow: UnitOfWork) -> PickDone:
        # One read holds the order (as cancelling it does, first) and then the list, and
        # brings everything the rules look at; the rules are checked here; then one write.
        facts = rows.pick_facts(uow.session, task_id, lot=lot, serials=serials)
        _claimed_task(uow, who, list_id, facts)
        assert facts is not None
        pick = check_pick(
            facts,
            quantity=quantity,
            lot=lot,
            tote=tote,
            serials=serials,
            expiry=items[0].expiry,
            names=lambda: rows.task_names(uow.session, task_id),
        )
        last = pick.task_status is PickTaskStatus.DONE and facts.others_open == 0
        orders = None
        if facts.order_status is OrderStatus.RELEASED and last:
            # The order's first pick also ends the list: the order moves to picking first,
            # as the end of the list may move it on to picked.
            lifecycle.transition(
                uow.session,
                facts.order_id,
                OrderStatus.PICKING,
                _actor(who),
                note=pick.note,
                expected=OrderStatus.RELEASED,
            )
        elif facts.order_status is OrderStatus.RELEASED:
            # The order's first pick: the pick's own statement moves it to picking.
            orders = lifecycle.planned(
                (facts.order_id,),
                OrderStatus.PICKING,
                _actor(who),
                expected=OrderStatus.RELEASED,
                note=pick.note,
            )
        closing = None
        finished: list[int] = []
        if last:
            # The list's last open task: its orders and wave are taken now, so that the
            # pick's statement also closes the list, moves the orders it finishes, and
            # reads where they stand.
            held = rows.lock_orders_of_list(
                uow.session,
                list_id,
                facts.wave_id,
                leaving=pick.allocation_id if pick.allocation_left == 0 else None,
            )
            # A wave whose other lists all count as closed under its lock is done with
            # this one (a list counted open that a wait let close is seen after the write).
            done_wave = held.wave is not None and _wave_done(held.wave)
            closing = _closing(
                facts.list_status,
                held.shipments,
                facts.shipment_id,
                wave_id=facts.wave_id if done_wave else None,
            )
            finished = _finished(held.orders)
            if finished:
                orders = lifecycle.planned(
                    finished,
                    OrderStatus.PICKED,
                    _actor(who),
                    expected=OrderStatus.PICKING,
                    note=f"pick list {list_id}",
                )
        after = rows.write_pick(uow.session, pick, _who(who), now, closing=closing, orders=orders)
        if closing is not None and after.progress is not None:
            others, wave = after.progress
            if _finished(others) != finished:
                # The locks waited for another list of these orders, whose end the
                # statement that took them did not see: decide again on what is there.
                raise StaleRead(f"pick list {list_id}: its orders changed since they were read")
            if closing.wave_id is None and _wave_done(wave):
                rows.finish_wave(uow.session, facts.wave_id)
            done = True
        else:
            done = finish_if_done(
                uow, list_id, facts.wave_id, _who(who), now, list_locked=True, end=after.end
            )
        uow.commit()
        return PickDone(list_id, task_id, quantity, done)

    # A deadlock with a cancellation (the end of a list locks other orders' shipments), or
    # a row changed between the read and the write, runs the whole pick again: nothing of
    # the failed attempt stays, and the new one checks what is there now.
    return run_in_transaction(uow or engine, work)


def _claimed_task(
    uow: UnitOfWork, who: LoggedIn, list_id: int, facts: rows.PickFacts | None
) -> None:
    """Refuse unless the task is on the list and this user holds the list here."""
    if facts is not None and facts.list_id == list_id:
        held = _holds(who, facts.list_status, facts.claimed_by, facts.claimed_station_id)
    else:
        head = rows.head(uow.session, list_id, lock=True)
        held = head is not None and _holds(
            who, head.status, head.claimed_by, head.claimed_station_id
        )
        if held:
            raise StationError("this pick is not on your pick list any more")
    if not held:
        raise StationError(
            f"pick list {list_id} is no longer yours: it was taken back; claim the next one"
        )


def check_pick(
    facts: rows.PickFacts,
    *,
    quantity: int,
    lot: str,
    tote: str,
    serials: tuple[str, ...],
    expiry: date | None,
    names: Callable[[], rows.TaskNames],
) -> rows.PickWrite:
    """The rules a pick is committed under, checked against the store as it is now (the
    task still open and short of these units, its tote and lot, serials never picked
    before, the units on the books at the location); the writes that carry it out, or
    the refusal that names what was expected and what was scanned (``names`` gives the
    task's location and product, read only for a refusal that shows them)."""
    if facts.task_status is not PickTaskStatus.OPEN:
        raise StationError("this pick is no longer open (its order may have been cancelled)")
    left = facts.quantity - facts.picked
    if quantity > left:
        raise StationError(f"over-pick: {left} left to pick here, {quantity} scanned")
    if tote != facts.tote:
        raise StationError(f"wrong tote: expected {facts.tote}, scanned {tote}")
    if facts.lot and lot != facts.lot:
        raise StationError(f"wrong lot: expected lot {facts.lot}, scanned lot {lot or 'none'}")
    if serials:
        reused = [s for s in serials if s in facts.seen_serials]
        if reused:
            raise StationError(
                f"serial {reused[0]} has been picked before: scanned {names().sku} serial "
                f"{reused[0]}; put that unit aside and scan another"
            )
        if len(set(serials)) != len(serials):
            raise StationError("the same serial was scanned twice for this pick")
    if facts.on_hand is None or facts.on_hand < quantity:
        shown = names()
        raise StationError(
            f"the books say {shown.location} holds fewer than {quantity} of {shown.sku}"
            f"{' lot ' + lot if lot else ''}: count the location, or short-pick"
        )
    if (
        facts.allocation_status is not AllocationStatus.RESERVED
        or facts.allocation_quantity < quantity
    ):
        raise RuntimeError(
            f"allocation {facts.allocation_id} holds {facts.allocation_quantity} "
            f"{facts.allocation_status}, not {quantity} reserved"
        )
    done = facts.picked + quantity == facts.quantity
    return rows.PickWrite(
        list_id=facts.list_id,
        wave_id=facts.wave_id,
        task_id=facts.task_id,
        node_id=facts.node_id,
        location_id=facts.location_id,
        product_id=facts.product_id,
        order_line_id=facts.order_line_id,
        allocation_id=facts.allocation_id,
        quantity=quantity,
        lot=lot,
        tote=tote,
        serials=serials,
        expiry=expiry,
        note=f"pick list {facts.list_id} task {facts.task_id} for {facts.order_ref}",
        task_status_before=facts.task_status,
        picked_before=facts.picked,
        task_status=PickTaskStatus.DONE if done else facts.task_status,
        allocation_status_before=facts.allocation_status,
        allocation_quantity_before=facts.allocation_quantity,
        allocation_left=facts.allocation_quantity - quantity,
    )


@dataclass(frozen=True)
class PickDone:
    """A committed pick: ``list_done`` when it was the pick list's last."""

    list_id: int
    task_id: int
    quantity: int
    list_done: bool


def _actor(who: LoggedIn) -> Actor:
    return Actor(name=who.badge, user_id=who.user_id, station_id=who.station_id)


def finish_if_done(
    uow: UnitOfWork,
    list_id: int,
    wave_id: int,
    who: Who,
    now: datetime,
    *,
    list_locked: bool = False,
    end: rows.ListEnd | None = None,
) -> bool:
    """Close the list when no task is open: shipments with units in their totes go to
    packing (the others, emptied by cancellations and short picks, are cancelled), orders
    with nothing left to pick or waiting for a wave are picked, and the wave is done when
    this was its last open list. Called after a pick, a short pick or a cancellation.

    The list is locked before its tasks are counted (unless the caller holds it), in a
    statement of its own: a pick and a cancellation of another order on the list, each
    waiting for the other's commit, then count what the other did. A pick gives the list
    as its writes left it (``end``), read after it took the list's lock."""
    if not list_locked:
        rows.lock_list(uow.session, list_id)
    if end is None:
        end = rows.list_end(uow.session, list_id)
    if (
        end is None
        or end.open_tasks
        or end.status in (PickListStatus.DONE, PickListStatus.CANCELLED)
    ):
        return False
    # Another list of the same order, or of the same wave, may be finishing at this very
    # moment: under these locks, and read in a statement of its own, the later of the two
    # sees the earlier's work.
    orders = sorted({s.order_id for s in end.shipments})
    rows.lock_orders_and_wave(uow.session, orders, wave_id)
    others, wave = rows.progress(uow.session, orders, wave_id, beside=list_id)
    closing = _closing(end.status, end.shipments, wave_id=wave_id if _wave_done(wave) else None)
    rows.close_list(uow.session, list_id, closing, who, now)
    _orders_picked(uow, list_id, others, who)
    return True


def _closing(
    status: PickListStatus,
    shipments: Sequence[rows.ShipmentOnList],
    picking_into: int | None = None,
    *,
    wave_id: int | None,
) -> rows.ListClose:
    """A finished list's shipments: to packing with units in their totes (or the one a
    pick is putting units into now), cancelled when nothing was picked for them; and its
    wave, when done with it."""
    picked = tuple(s.id for s in shipments if s.picked_units > 0 or s.id == picking_into)
    emptied = tuple(s.id for s in shipments if s.id not in picked)
    return rows.ListClose(status, picked, emptied, wave_id)


def _wave_done(wave: rows.WaveProgress) -> bool:
    """A released wave is done when no other list of it is still open."""
    return wave.status is WaveStatus.RELEASED and wave.lists_open == 0


def _finished(orders: Sequence[rows.OrderProgress]) -> list[int]:
    """Orders of a finished list that are picked now: being picked, with nothing left on
    another list and nothing waiting for a wave (sorted ids)."""
    return sorted(
        o.id for o in orders if o.status is OrderStatus.PICKING and not o.picking and not o.reserved
    )


def _orders_picked(
    uow: UnitOfWork, list_id: int, orders: Sequence[rows.OrderProgress], who: Who
) -> None:
    """The orders a finished list finishes are picked."""
    picked = _finished(orders)
    if picked:
        lifecycle.transition_many(
            uow.session,
            picked,
            OrderStatus.PICKED,
            Actor(who.actor, who.user_id, who.station_id),
            expected=OrderStatus.PICKING,
            note=f"pick list {list_id}",
        )


def close_if_empty(
    engine: StoreEngine, who: LoggedIn, list_id: int, *, uow: UnitOfWork | None = None
) -> PickListView:
    """A list whose remaining picks were all taken away (orders cancelled, units given
    back) is finished, so its totes go to packing; the list as it then stands."""

    def work(uow: UnitOfWork) -> PickListView | None:
        head = rows.head(uow.session, list_id, lock=True)
        if head is not None and _holds(who, head.status, head.claimed_by, head.claimed_station_id):
            finish_if_done(uow, list_id, head.wave_id, _who(who), utcnow(), list_locked=True)
        found = _view(uow, list_id)
        uow.commit()
        return found

    found = run_in_transaction(uow or engine, work)
    if found is None:
        raise StationError(f"there is no pick list {list_id}")
    return found


@dataclass(frozen=True)
class ShortResult:
    view: PickListView
    rerouted: str
    """What becomes of the missing units, for the picker (who need do nothing about it)."""


def short_pick(
    engine: StoreEngine,
    who: LoggedIn,
    list_id: int,
    task_id: int,
    reason: str,
    *,
    uow: UnitOfWork | None = None,
) -> ShortResult:
    """The rest of the task is not there: in one transaction, close the task with what was
    picked, release the missing units from the task's own allocation (its picks at other
    locations carry on), write them off the location's lot, and have DOM re-route them."""
    if reason not in SHORT_REASONS:
        raise StationError(
            f"a short pick needs a reason: {', '.join(SHORT_REASONS)} (got {reason!r})"
        )
    settings = load_routing_settings(engine)

    def work(uow: UnitOfWork) -> str:
        now = utcnow()
        # The order's lock, then the list's: as a pick and a cancellation take them.
        task = rows.pick_facts(uow.session, task_id)
        if (
            task is None
            or task.list_id != list_id
            or not _holds(who, task.list_status, task.claimed_by, task.claimed_station_id)
        ):
            raise StationError(f"pick list {list_id} is no longer yours, or the pick is gone")
        if task.task_status is not PickTaskStatus.OPEN:
            raise StationError("this pick is no longer open")
        missing = task.quantity - task.picked
        line = next(t for t in rows.task_lines(uow.session, list_id) if t.id == task_id)
        rows.set_task_status(uow.session, task_id, PickTaskStatus.SHORT)
        rows.add_event(
            uow.session,
            list_id,
            "short",
            _who(who),
            now,
            task_id=task_id,
            quantity=missing,
            detail=reason,
        )
        head = rows.head(uow.session, list_id)
        assert head is not None
        try:
            result = reject_line(
                uow.session,
                task.order_id,
                line.line_no,
                head.node_code,
                SHORT_REASONS[reason],
                _actor(who),
                settings,
                quantity=missing,
                location_id=task.location_id,
                allocation_id=task.allocation_id,
                lot=task.lot,
                now=now,
            )
        except NotRoutable as exc:
            raise StationError(f"the short pick was not recorded: {exc}") from None
        finish_if_done(uow, list_id, task.wave_id, _who(who), now, list_locked=True)
        uow.commit()
        if result.outcome is DecisionOutcome.HELD:
            return (
                f"order {result.reference} waits for the office, which finds the "
                f"{missing} missing unit(s)"
            )
        return f"order {result.reference} gets the {missing} missing unit(s) from other stock"

    for _ in range(3):
        try:
            rerouted = run_in_transaction(uow or engine, work)
            break
        except ReservationLost:
            continue  # stock moved while re-routing: everything rolled back; again
    else:
        raise StationError("stock kept changing while re-routing: try the short pick again")
    return ShortResult(view(engine, list_id), rerouted)


def skip(
    engine: StoreEngine,
    who: LoggedIn,
    list_id: int,
    task_id: int,
    *,
    uow: UnitOfWork | None = None,
) -> PickListView:
    """Put a task at the end of the route (the location is blocked, come back later)."""

    def work(uow: UnitOfWork) -> PickListView | None:
        found = _owned(uow, who, list_id)
        task = next((t for t in found.tasks if t.id == task_id), None)
        if task is None or task.status is not PickTaskStatus.OPEN:
            raise StationError("this pick is no longer open")
        if found.lines_left <= 1:
            raise StationError("this is the last pick of the list: there is nothing to skip to")
        rows.move_to_end(uow.session, list_id, task_id)
        rows.add_event(uow.session, list_id, "skip", _who(who), utcnow(), task_id=task_id)
        updated = _view(uow, list_id)
        uow.commit()
        return updated

    updated = run_in_transaction(uow or engine, work)
    assert updated is not None
    return updated


def pause(
    engine: StoreEngine, who: LoggedIn, list_id: int, *, uow: UnitOfWork | None = None
) -> None:
    """Stop for now; this or another picker resumes it later (claim_next takes it first)."""

    def work(uow: UnitOfWork) -> None:
        _owned(uow, who, list_id)
        rows.set_list_status(uow.session, list_id, PickListStatus.PAUSED, utcnow(), release=True)
        rows.add_event(uow.session, list_id, "pause", _who(who), utcnow())
        uow.commit()

    run_in_transaction(uow or engine, work)


@dataclass(frozen=True)
class Pulse:
    """What a heartbeat learns: whether the list is still ours and what changed."""

    ours: bool
    view: PickListView | None


def heartbeat(
    engine: StoreEngine, who: LoggedIn, list_id: int, *, uow: UnitOfWork | None = None
) -> Pulse:
    def work(uow: UnitOfWork) -> bool:
        ours = rows.heartbeat(uow.session, list_id, who.user_id, utcnow(), who.station_id)
        uow.commit()
        return ours

    ours = run_in_transaction(uow or engine, work)
    with UnitOfWork(engine, read_only=True) as read:
        found = _view(read, list_id)
    return Pulse(ours, found)


def take_back(
    engine: StoreEngine,
    actor: Actor,
    list_id: int,
    *,
    node_code: str | None = None,
    uow: UnitOfWork | None = None,
) -> None:
    """A supervisor takes a claimed list back: it is released for anyone to claim. With
    ``node_code``, only a list of that node (the supervisor's own)."""

    def work(uow: UnitOfWork) -> None:
        found = _view(uow, list_id, lock=True)
        if found is None:
            raise StationError(f"there is no pick list {list_id}")
        if node_code is not None and found.node != node_code:
            raise StationError(
                f"pick list {list_id} is at {found.node}, not {node_code}: its own node's "
                "supervisor takes it back"
            )
        if found.status not in (PickListStatus.CLAIMED, PickListStatus.PAUSED):
            raise StationError(f"pick list {list_id} is {found.status.value}: nothing to take back")
        rows.set_list_status(uow.session, list_id, PickListStatus.RELEASED, utcnow(), release=True)
        rows.add_event(
            uow.session,
            list_id,
            "take_back",
            Who(actor.name, actor.user_id, actor.station_id),
            utcnow(),
        )
        uow.commit()

    run_in_transaction(uow or engine, work)
