"""Waves: plan a node's routed work into waves, and release a wave as pick lists.

`plan` takes every unit DOM reserved at the node that no pick list holds yet, finds the stock
to pick it from (first expiry first, pick faces before other stock, never an expired lot),
groups the orders by carrier cut-off, priority and zone (as the site's wave settings say) and
proposes waves with their estimated walking and time. Proposals replace the node's earlier
unreleased ones.

`release` turns one proposed wave into pick lists: the orders are batched onto carts (each
order gets a tote: cluster picking), each pick list's tasks are ordered along its route, and
the orders become released. Releasing is idempotent: a wave already released returns what
its release made, and two releases of one wave at once create its pick lists once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.actor import Actor
from app.orders import lifecycle
from app.walks.layout import Spot
from app.walks.paths import estimate_length, plan_route
from app.walks.site import LayoutFileError, SiteLayout, parse
from app.waves.batching import BatchOrder, make_batches
from app.waves.settings import WaveSettings
from data import pick_station as pick_rows
from data import waves as rows
from data.models import LocationKind, OrderStatus, ServiceLevel, WaveStatus
from data.store import StoreEngine
from data.types import utcnow
from data.uow import StoreSession as Session
from data.uow import UnitOfWork, run_in_transaction


class WaveError(Exception):
    """A wave request that cannot be carried out, with what to do instead."""


@dataclass(frozen=True)
class Pick:
    """Units of one allocation to take from one stock slot."""

    allocation_id: int
    order_line_id: int
    product_id: int
    location_id: int
    location_code: str
    zone: str
    lot: str
    quantity: int
    spot: Spot | None


@dataclass
class OrderWork:
    """An order's work at the node, located in its stock."""

    order_id: int
    order_ref: str
    service_level: ServiceLevel
    placed_at: datetime
    picks: list[Pick] = field(default_factory=list)
    lines: int = 0
    units: int = 0
    volume_cm3: int = 0
    weight_g: int = 0

    @property
    def zone(self) -> str:
        """The one zone all its picks lie in, or ''."""
        zones = {p.zone for p in self.picks}
        return zones.pop() if len(zones) == 1 else ""


@dataclass(frozen=True)
class WavePlanRow:
    """A proposed wave as `wave plan` shows it."""

    id: int
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


@dataclass(frozen=True)
class WavePlan:
    """What `wave plan` proposed for a node, and what it could not plan."""

    node: str
    has_layout: bool
    waves: list[WavePlanRow]
    unpickable: dict[str, str]
    """Order reference → why its units cannot be picked now."""


@dataclass(frozen=True)
class ReleasedPickList:
    """A pick list a release made."""

    id: int
    seq: int
    zone: str
    totes: int
    lines: int
    units: int
    distance_m: float | None
    est_seconds: float
    oversize: bool


@dataclass(frozen=True)
class ReleaseResult:
    """What releasing a wave did."""

    wave_id: int
    node: str
    already_released: bool
    pick_lists: list[ReleasedPickList]
    orders: int
    dropped: dict[str, str]
    """Order reference → why the release left it out (it stays for a later wave)."""


# --- locating stock -------------------------------------------------------------------------


@dataclass
class _Free:
    """A stock slot and the units of it this plan has not used yet."""

    slot: rows.StockSlot
    free: int


def locate(
    work: Sequence[rows.WorkLine],
    slots: Sequence[rows.StockSlot],
    site: SiteLayout | None,
    today: date,
) -> tuple[dict[int, OrderWork], dict[str, str]]:
    """Find stock for every order's units, first come first served.

    Returns the located orders by id, and order reference → reason for those that cannot be
    picked whole (not enough unexpired stock on the layout). An order is located whole or
    not at all."""
    by_product: dict[int, list[_Free]] = {}
    for s in sorted(
        slots,
        key=lambda s: (
            s.expiry or date.max,
            s.kind != LocationKind.PICK,
            s.location_code,
            s.lot,
        ),
    ):
        by_product.setdefault(s.product_id, []).append(_Free(s, s.free))
    spots: dict[int, Spot | None] = {}
    orders: dict[int, OrderWork] = {}
    unpickable: dict[str, str] = {}
    current: list[rows.WorkLine] = []

    def flush() -> None:
        if not current:
            return
        first = current[0]
        order = OrderWork(first.order_id, first.order_ref, first.service_level, first.placed_at)
        taken: list[tuple[_Free, int]] = []
        problem = ""
        for line in current:
            need = line.quantity
            expired = off_layout = 0
            for entry in by_product.get(line.product_id, []):
                slot, free = entry.slot, entry.free
                if need == 0:
                    break
                if free <= 0:
                    continue
                if slot.expiry is not None and slot.expiry < today:
                    expired += free
                    continue
                if slot.location_id not in spots:
                    spots[slot.location_id] = (
                        site.spot(slot.x_mm, slot.y_mm) if site is not None else None
                    )
                spot = spots[slot.location_id]
                if site is not None and spot is None:
                    off_layout += free
                    continue
                qty = min(need, free)
                entry.free = free - qty
                taken.append((entry, qty))
                need -= qty
                order.picks.append(
                    Pick(
                        line.allocation_id,
                        line.order_line_id,
                        line.product_id,
                        slot.location_id,
                        slot.location_code,
                        slot.zone,
                        slot.lot,
                        qty,
                        spot,
                    )
                )
            if need:
                extra = []
                if expired:
                    extra.append(f"{expired} expired")
                if off_layout:
                    extra.append(f"{off_layout} in locations off the layout")
                problem = (
                    f"line {line.line_no} needs {need} more of {line.sku} than the node's "
                    "pickable stock holds"
                    + (f" ({', '.join(extra)})" if extra else "")
                    + "; count the stock or re-route the line"
                )
                break
            order.units += line.quantity
            order.volume_cm3 += line.quantity * line.unit_volume_cm3
            order.weight_g += line.quantity * line.unit_weight_g
        order.lines = len({line.order_line_id for line in current})
        if problem:
            for entry, qty in taken:
                entry.free += qty
            unpickable[first.order_ref] = problem
        else:
            orders[first.order_id] = order
        current.clear()

    for line in work:
        if current and current[0].order_id != line.order_id:
            flush()
        current.append(line)
    flush()
    return orders, unpickable


# --- planning -------------------------------------------------------------------------------


def cutoff_at(now: datetime, local_cutoff: time, timezone: str) -> datetime:
    """The next carrier collection at or after `now` (UTC), for a local cut-off time."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    today = datetime.combine(local.date(), local_cutoff, tzinfo=zone)
    at = (
        today
        if local <= today
        else datetime.combine(local.date() + timedelta(days=1), local_cutoff, tzinfo=zone)
    )
    return at.astimezone(ZoneInfo("UTC"))


def _site(session: Session, node: rows.NodeRef) -> SiteLayout | None:
    text = rows.layout_spec(session, node.id)
    if not text:
        return None
    try:
        return parse(text, where=f"{node.code}'s stored layout")
    except LayoutFileError as exc:
        raise WaveError(f"{exc}; load a corrected file with `shipfloor layout load FILE`") from None


def _local_date(now: datetime, node: rows.NodeRef) -> date:
    """Today where the node is: a lot is expired from the node's local midnight."""
    return now.astimezone(_zone(node)).date()


def _zone(node: rows.NodeRef) -> ZoneInfo:
    try:
        return ZoneInfo(node.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise WaveError(
            f"node {node.code} has time zone {node.timezone!r}, which is not an IANA zone name "
            "(such as America/New_York); correct the node"
        ) from None


class _GroupKey(NamedTuple):
    """What separates waves: carrier service and cut-off, priority, zone (as configured)."""

    service: tuple[str, str, datetime] | None
    priority: int
    zone: str


def _batch_orders(orders: Sequence[OrderWork]) -> list[BatchOrder]:
    return [
        BatchOrder(
            key=o.order_id,
            spots=tuple(p.spot for p in o.picks if p.spot is not None),
            items=o.units,
            volume_cm3=o.volume_cm3,
            weight_g=o.weight_g,
            arrival=rank,
        )
        for rank, o in enumerate(orders)
    ]


def _length_function(site: SiteLayout | None) -> Callable[[Sequence[Spot]], float]:
    if site is None:
        return lambda _spots: 0.0
    layout = site.layout
    return lambda spots: estimate_length(layout, spots)


def _estimate(
    orders: Sequence[OrderWork],
    site: SiteLayout | None,
    settings: WaveSettings,
) -> tuple[int, float | None, float]:
    """(pick lists, metres, seconds) a wave of these orders would take."""
    batches = make_batches(
        _batch_orders(orders),
        settings.cart,
        _length_function(site),
        method="local_search" if site is not None else "fcfs",
        time_limit_s=settings.batching_seconds / 3,
        allow_oversize=True,
    )
    distance = sum(b.length for b in batches) if site is not None else None
    stops = sum(len({p.location_id for p in o.picks}) for o in orders)
    units = sum(o.units for o in orders)
    seconds = settings.estimate_seconds(distance, stops, units)
    return len(batches), distance, seconds


def plan(
    engine: StoreEngine,
    node_code: str,
    settings: WaveSettings,
    actor: Actor,
    *,
    now: datetime | None = None,
) -> WavePlan:
    """Propose waves for the node's open work, replacing its earlier proposals. ``now``
    (default: the clock) decides which carrier collection each order makes."""
    planned_at = now or utcnow()

    def work(uow: UnitOfWork) -> WavePlan:
        session = uow.session
        node = rows.node(session, node_code)
        if node is None:
            known = ", ".join(rows.node_codes(session)) or "none"
            raise WaveError(f"there is no node {node_code!r}; nodes: {known}")
        rows.lock_node(session, node.id)
        site = _site(session, node)
        now = planned_at
        lines = rows.open_work(session, node.id)
        slots = rows.pickable_stock(session, node.id, (w.product_id for w in lines))
        located, unpickable = locate(lines, slots, site, _local_date(now, node))
        rows.drop_planned_waves(session, node.id)
        by_cutoff = "cutoff" in settings.group_by
        groups: dict[_GroupKey, list[tuple[OrderWork, datetime]]] = {}
        for order in located.values():
            rule = settings.services[order.service_level]
            cutoff = cutoff_at(now, rule.cutoff or node.cutoff_time, _zone(node).key)
            key = _GroupKey(
                (rule.carrier, rule.service, cutoff) if by_cutoff else None,
                rule.priority if "priority" in settings.group_by else 0,
                order.zone if "zone" in settings.group_by else "",
            )
            groups.setdefault(key, []).append((order, cutoff))
        heads: dict[_GroupKey, tuple[str, str, datetime, int, str]] = {}
        for key, tagged in groups.items():
            services = {
                (
                    settings.services[o.service_level].carrier,
                    settings.services[o.service_level].service,
                )
                for o, _ in tagged
            }
            carrier, service = services.pop() if len(services) == 1 else ("*", "*")
            earliest = min(c for _, c in tagged)
            heads[key] = (carrier, service, earliest, key.priority, key.zone)
        planned: list[WavePlanRow] = []
        ordered = sorted(
            groups, key=lambda k: (heads[k][2], heads[k][3], heads[k][4], heads[k][0], heads[k][1])
        )
        for group in ordered:
            carrier, service, cutoff, priority, zone = heads[group]
            members = [o for o, _ in groups[group]]
            for start in range(0, len(members), settings.max_orders_per_wave):
                chunk = members[start : start + settings.max_orders_per_wave]
                lists, distance, seconds = _estimate(chunk, site, settings)
                lines_in = sum(o.lines for o in chunk)
                units_in = sum(o.units for o in chunk)
                values = {
                    "node_id": node.id,
                    "status": WaveStatus.PLANNED,
                    "carrier": carrier,
                    "service": service,
                    "cutoff_at": cutoff,
                    "priority": priority,
                    "zone": zone,
                    "orders": len(chunk),
                    "lines": lines_in,
                    "units": units_in,
                    "pick_lists": lists,
                    "est_distance_m": distance,
                    "est_seconds": seconds,
                    "created_at": now,
                    "created_by": actor.name,
                }
                wave_id = rows.add_wave(session, values, [o.order_id for o in chunk])
                planned.append(
                    WavePlanRow(
                        wave_id,
                        carrier,
                        service,
                        cutoff,
                        priority,
                        zone,
                        len(chunk),
                        lines_in,
                        units_in,
                        lists,
                        distance,
                        seconds,
                    )
                )
        uow.commit()
        return WavePlan(node.code, site is not None, planned, unpickable)

    return run_in_transaction(engine, work)


# --- release --------------------------------------------------------------------------------


def _build_pick_list(
    seq: int,
    members: Sequence[OrderWork],
    site: SiteLayout | None,
    settings: WaveSettings,
    oversize: bool,
) -> rows.NewPickList:
    """One cart: a tote per order, tasks in route order."""
    tagged = [(slot, p) for slot, o in enumerate(members, start=1) for p in o.picks]
    path: list[list[float]] = []
    distance: float | None = None
    if site is not None:
        spots = [p.spot for _, p in tagged]
        if any(s is None for s in spots):
            raise WaveError("a pick off the layout reached routing; re-run `shipfloor wave plan`")
        route = plan_route(site.layout, [s for s in spots if s is not None], settings.routing)
        rank = {index: position for position, index in enumerate(route.sequence)}
        order = sorted(
            range(len(tagged)),
            key=lambda i: (rank[i], tagged[i][1].location_code, tagged[i][0]),
        )
        # Stops at one spot are consecutive: keep them in location then tote order.
        by_spot: dict[Spot | None, int] = {}
        for i in order:
            by_spot.setdefault(tagged[i][1].spot, len(by_spot))
        order.sort(
            key=lambda i: (by_spot[tagged[i][1].spot], tagged[i][1].location_code, tagged[i][0])
        )
        distance = route.length
        path = [[round(x, 3), round(y, 3)] for x, y in route.path]
    else:
        order = sorted(range(len(tagged)), key=lambda i: (tagged[i][1].location_code, tagged[i][0]))
    tasks = [
        rows.NewTask(
            seq=n,
            location_id=tagged[i][1].location_id,
            product_id=tagged[i][1].product_id,
            lot=tagged[i][1].lot,
            quantity=tagged[i][1].quantity,
            tote_slot=tagged[i][0],
            order_line_id=tagged[i][1].order_line_id,
            allocation_id=tagged[i][1].allocation_id,
        )
        for n, i in enumerate(order, start=1)
    ]
    zones = {p.zone for _, p in tagged}
    units = sum(o.units for o in members)
    stops = len({p.location_id for _, p in tagged})
    seconds = settings.estimate_seconds(distance, stops, units)
    rule_of = settings.services
    return rows.NewPickList(
        values={
            "seq": seq,
            "zone": zones.pop() if len(zones) == 1 else "",
            "totes": len(members),
            "lines": sum(o.lines for o in members),
            "units": units,
            "volume_cm3": sum(o.volume_cm3 for o in members),
            "weight_g": sum(o.weight_g for o in members),
            "oversize": oversize,
            "routing": settings.routing if site is not None else "location_code",
            "distance_m": distance,
            "est_seconds": seconds,
            "path": json.dumps(path),
        },
        shipments=[
            rows.NewShipment(
                o.order_id,
                slot,
                rule_of[o.service_level].carrier,
                rule_of[o.service_level].service,
            )
            for slot, o in enumerate(members, start=1)
        ],
        tasks=tasks,
    )


def _existing(session: Session, wave: rows.WaveRow) -> ReleaseResult:
    return ReleaseResult(
        wave_id=wave.id,
        node=wave.node_code,
        already_released=True,
        pick_lists=[
            ReleasedPickList(
                p.id,
                p.seq,
                p.zone,
                p.totes,
                p.lines,
                p.units,
                p.distance_m,
                p.est_seconds,
                p.oversize,
            )
            for p in rows.pick_lists(session, wave.id)
        ],
        orders=wave.orders,
        dropped={},
    )


def release(
    engine: StoreEngine, wave_id: int, settings: WaveSettings, actor: Actor
) -> ReleaseResult:
    """Create the wave's pick lists (once), or return those an earlier release made."""

    def work(uow: UnitOfWork) -> ReleaseResult:
        session = uow.session
        wave = rows.wave(session, wave_id)
        if wave is None:
            raise WaveError(f"there is no wave {wave_id}; `shipfloor wave list` shows them")
        if wave.status == WaveStatus.CANCELLED:
            raise WaveError(f"wave {wave_id} was cancelled; plan again with `shipfloor wave plan`")
        if wave.status != WaveStatus.PLANNED:
            return _existing(session, wave)
        rows.lock_node(session, wave.node_id)
        now = utcnow()
        if not rows.start_release(session, wave_id, actor=actor.name, at=now):
            # Another release (or a re-plan) got there first; report what stands now.
            fresh = rows.wave(session, wave_id)
            if fresh is None:
                raise WaveError(
                    f"wave {wave_id} was replaced by a newer plan; `shipfloor wave list` "
                    "shows the current waves"
                )
            return _existing(session, fresh)
        node = rows.node(session, wave.node_code)
        if node is None:  # nodes are never deleted; a wave's node is there
            raise WaveError(f"wave {wave_id}'s node {wave.node_code} is gone")
        site = _site(session, node)
        order_ids = rows.wave_order_ids(session, wave_id)
        # DOM re-routes or cancels an order only while holding its row: holding them all
        # here means the work read next stays this node's until the tasks are written.
        rows.lock_orders(session, order_ids)
        lines = rows.open_work(session, node.id, order_ids)
        slots = rows.pickable_stock(session, node.id, (w.product_id for w in lines))
        located, dropped = locate(lines, slots, site, _local_date(now, node))
        with_work = {w.order_id for w in lines}
        gone = [o for o in order_ids if o not in with_work]
        for ref in rows.order_refs(session, gone):
            dropped[ref] = "no units left to pick here (re-routed or cancelled since the plan)"
        keep = [located[o] for o in order_ids if o in located]
        keep.sort(key=lambda o: (o.placed_at, o.order_id))
        rows.drop_wave_orders(session, wave_id, [o for o in order_ids if o not in located])
        if not keep:
            rows.cancel_wave(session, wave_id)
            uow.commit()
            return ReleaseResult(wave_id, node.code, False, [], 0, dropped)
        batches = make_batches(
            _batch_orders(keep),
            settings.cart,
            _length_function(site),
            method="local_search" if site is not None else "fcfs",
            time_limit_s=settings.batching_seconds,
            allow_oversize=True,
        )
        by_id = {o.order_id: o for o in keep}
        new_lists = [
            _build_pick_list(seq, [by_id[k] for k in batch.keys], site, settings, batch.oversize)
            for seq, batch in enumerate(batches, start=1)
        ]
        ids = rows.add_pick_lists(session, wave_id, node.id, new_lists, now)
        # Orders already released (another node's part went first) or picking stay so.
        lifecycle.transition_many(
            session,
            [o.order_id for o in keep],
            OrderStatus.RELEASED,
            actor,
            expected=OrderStatus.ROUTED,
            note=f"wave {wave_id}",
        )
        distances = [p.values["distance_m"] for p in new_lists]
        rows.finish_release(
            session,
            wave_id,
            {
                "orders": len(keep),
                "lines": sum(o.lines for o in keep),
                "units": sum(o.units for o in keep),
                "pick_lists": len(new_lists),
                "est_distance_m": sum(distances) if site is not None else None,
                "est_seconds": sum(p.values["est_seconds"] for p in new_lists),
            },
        )
        uow.commit()
        return ReleaseResult(
            wave_id=wave_id,
            node=node.code,
            already_released=False,
            pick_lists=[
                ReleasedPickList(
                    list_id,
                    p.values["seq"],
                    p.values["zone"],
                    p.values["totes"],
                    p.values["lines"],
                    p.values["units"],
                    p.values["distance_m"],
                    p.values["est_seconds"],
                    p.values["oversize"],
                )
                for list_id, p in zip(ids, new_lists, strict=True)
            ],
            orders=len(keep),
            dropped=dropped,
        )

    return run_in_transaction(engine, work)


# --- reading --------------------------------------------------------------------------------


def waves(
    engine: StoreEngine, node_code: str | None, statuses: Sequence[WaveStatus] | None
) -> list[rows.WaveRow]:
    """Waves, optionally of one node and in some statuses."""
    with UnitOfWork(engine, read_only=True) as uow:
        node_id = None
        if node_code is not None:
            node = rows.node(uow.session, node_code)
            if node is None:
                raise WaveError(f"there is no node {node_code!r}")
            node_id = node.id
        return rows.waves(uow.session, node_id, statuses)


@dataclass(frozen=True)
class PickListSheet:
    """A pick list with its route: what `shipfloor picklist show` prints."""

    header: rows.PickListRow
    tasks: list[pick_rows.TaskLine]
    path: list[tuple[float, float]]


def pick_list(engine: StoreEngine, pick_list_id: int) -> PickListSheet:
    """One pick list with its tasks in route order."""
    with UnitOfWork(engine, read_only=True) as uow:
        header = rows.pick_list(uow.session, pick_list_id)
        if header is None:
            raise WaveError(
                f"there is no pick list {pick_list_id}; `shipfloor wave show WAVE` lists them"
            )
        task_rows = pick_rows.task_lines(uow.session, pick_list_id)
    path = [(float(x), float(y)) for x, y in json.loads(header.path)]
    return PickListSheet(header, task_rows, path)


def wave_pick_lists(
    engine: StoreEngine, wave_id: int
) -> tuple[rows.WaveRow, list[rows.PickListRow]]:
    """A wave and its pick lists."""
    with UnitOfWork(engine, read_only=True) as uow:
        wave = rows.wave(uow.session, wave_id)
        if wave is None:
            raise WaveError(f"there is no wave {wave_id}; `shipfloor wave list` shows them")
        return wave, rows.pick_lists(uow.session, wave_id)
