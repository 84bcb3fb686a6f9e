"""Route orders in the store: choose nodes by the site's rules and the optimiser, reserve
the stock, and keep the reasons — all in one transaction per order.

Rules, in the order they apply:

1. Only verified orders are routed.
2. Pickup in store: the order goes to its pickup store, whole, or is held with the
   shortage named; it is never shipped from elsewhere instead.
3. Shipping needs the ship-to's place: a postal area known to the store (`postal_areas`),
   else the order is held.
4. A node may ship if it is active, can ship, is not a store unless ship-from-store is on,
   has daily capacity left (packages per day; 0 means it ships nothing), and, for express
   and next-day orders, has not passed its cut-off time today (node's own time zone).
5. ATP already keeps each node's safety stock back.
6. The channel's split policy caps the packages (1 = ship complete from one node).
7. Among the plans that satisfy all of that, the cheapest wins (cost model plus bid prices);
   ties go by the site's ranking criteria in order (default: proximity, then priority).
8. If no plan fills every unit, the order is held with the shortage per SKU.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from app.actor import Actor
from app.dom.assign import (
    DEFAULT_RANKING,
    Allocation,
    Criterion,
    LineDemand,
    NodeOption,
    Plan,
    SplitPolicy,
    plan_order,
)
from app.dom.bidprices import Place, bid_prices
from app.dom.costs import LinearShippingCost, ShippingCost
from app.dom.geo import haversine_miles
from app.orders.lifecycle import OrderNotFound, TransitionRefused, transition
from data import dom as store
from data import inventory
from data.dom import NodeRow, OrderToRoute
from data.inventory import Who
from data.models import DecisionOutcome, OrderStatus, ServiceLevel
from data.store import StoreEngine, lost_connection
from data.types import utcnow
from data.uow import StoreSession, UnitOfWork, run_in_transaction

EXPEDITED = frozenset({ServiceLevel.EXPRESS, ServiceLevel.NEXT_DAY})


@dataclass(frozen=True)
class RoutingSettings:
    """A site's DOM settings."""

    cost: ShippingCost = field(default_factory=LinearShippingCost)
    ranking: tuple[Criterion, ...] = DEFAULT_RANKING
    unfilled_penalty: float = 1_000.0
    """Per unit left unfilled: high, so a plan fills every unit it can."""


class NotRoutable(Exception):
    """The order is not in a state DOM may route."""


class ReservationLost(Exception):
    """Stock or capacity went to another order between planning and reserving; the
    whole transaction is rolled back and the order planned again."""


@dataclass(frozen=True)
class RouteResult:
    """What DOM did with one order."""

    order_id: int
    reference: str
    outcome: DecisionOutcome
    rule: str
    summary: str
    allocations: tuple[Allocation, ...] = ()


def _eligible(node: NodeRow, order: OrderToRoute, load: int, now: datetime) -> str | None:
    """Why the node may not ship this order, or None if it may."""
    if not node.active:
        return "node is not active"
    if not node.can_ship:
        return "node does not ship to customers"
    if node.kind == "store" and not node.ship_from_store:
        return "store without ship-from-store"
    if node.daily_capacity <= 0:
        return "no daily shipping capacity"
    if load >= node.daily_capacity:
        return f"daily capacity used ({load}/{node.daily_capacity} packages)"
    if order.service_level in EXPEDITED:
        local = now.astimezone(ZoneInfo(node.timezone))
        if local.time() > node.cutoff_time:
            return (
                f"past its {node.cutoff_time:%H:%M} cut-off for {order.service_level} "
                f"(local time {local:%H:%M})"
            )
    return None


def shipping_options(
    session: StoreSession,
    order: OrderToRoute,
    all_nodes: list[NodeRow],
    ship_to: tuple[float, float],
    now: datetime,
    cost: ShippingCost,
    *,
    withheld: frozenset[tuple[str, str]] = frozenset(),
) -> tuple[list[NodeOption], dict[str, str]]:
    """The nodes that may ship the order now, with distance and ATP per SKU, and the
    reason each other node may not. `withheld` (node, SKU) pairs offer nothing: a node
    that has just rejected a line is not asked again for it."""
    loads = store.loads(session, now.date())
    excluded: dict[str, str] = {}
    eligible: list[NodeRow] = []
    for node in all_nodes:
        why = _eligible(node, order, loads.get(node.id, 0), now)
        if why is None:
            eligible.append(node)
        else:
            excluded[node.code] = why
    product_ids = sorted({ln.product_id for ln in order.lines})
    atp = store.atp(session, [n.id for n in eligible], product_ids)
    sku_of = {ln.product_id: ln.sku for ln in order.lines}
    options = []
    for node in eligible:
        miles = haversine_miles(ship_to[0], ship_to[1], node.latitude, node.longitude)
        try:
            cost.package(miles)
        except ValueError as exc:  # e.g. beyond the rate table's last band
            excluded[node.code] = f"no shipping cost: {exc}"
            continue
        options.append(
            NodeOption(
                code=node.code,
                miles=miles,
                atp={
                    sku_of[p]: 0 if (node.code, sku_of[p]) in withheld else atp.get((node.id, p), 0)
                    for p in product_ids
                },
                priority=node.priority,
            )
        )
    return options, excluded


def candidates_detail(options: list[NodeOption], cost: ShippingCost) -> list[dict[str, object]]:
    """The candidates holding any of the order, nearest first, as a decision stores them."""
    return [
        {
            "node": o.code,
            "miles": round(o.miles, 1),
            "atp": dict(o.atp),
            "package_cost": round(cost.package(o.miles), 4),
            "unit_cost": round(cost.unit(o.miles), 4),
            "priority": o.priority,
        }
        for o in sorted(options, key=lambda o: o.miles)
        if any(o.atp.values())
    ]


def plan_detail(plan: Plan, line_no: Mapping[int, int]) -> dict[str, object]:
    """A plan as a decision stores it (order line numbers, not ids, for people)."""
    return {
        "packages": list(plan.packages),
        "allocations": [
            {
                "line_id": a.line_id,
                "line_no": line_no[a.line_id],
                "node": a.node,
                "quantity": a.quantity,
            }
            for a in plan.allocations
        ],
        "unfilled": {str(line_no[k]): v for k, v in plan.unfilled.items()},
        "shipping_cost": round(plan.shipping_cost, 4),
        "opportunity_cost": round(plan.opportunity_cost, 4),
    }


def reserve_plan(
    session: StoreSession,
    order: OrderToRoute,
    plan: Plan,
    all_nodes: Sequence[NodeRow],
    actor: Actor,
    now: datetime,
    note: str,
    *,
    new_packages: Sequence[str] | None = None,
) -> None:
    """Count the plan's new packages against their nodes' day, reserve every allocation
    and record it; ReservationLost if stock or capacity went elsewhere meanwhile."""
    who = Who(actor.name, actor.user_id, actor.station_id)
    node_id = {n.code: n.id for n in all_nodes}
    capacity = {n.code: n.daily_capacity for n in all_nodes}
    for code in plan.packages if new_packages is None else new_packages:
        if not store.take_capacity(session, node_id[code], now.date(), capacity[code]):
            raise ReservationLost(f"{code} reached its daily capacity meanwhile")
    product_of = {ln.line_id: ln.product_id for ln in order.lines}
    for a in plan.allocations:
        if not inventory.reserve(
            session,
            node_id=node_id[a.node],
            product_id=product_of[a.line_id],
            quantity=a.quantity,
            who=who,
            at=now,
            order_line_id=a.line_id,
            note=note,
        ):
            raise ReservationLost(f"{a.node} no longer has {a.quantity} to promise")
        store.add_allocation(session, a.line_id, node_id[a.node], a.quantity, now)


def route_order(
    session: StoreSession,
    order_id: int,
    actor: Actor,
    settings: RoutingSettings,
    *,
    now: datetime | None = None,
    bid_prices: Mapping[tuple[str, str], float] | None = None,
) -> RouteResult:
    """Route one verified order inside the caller's transaction (see the module rules)."""
    now = now or utcnow()
    order = store.order_to_route(session, order_id)
    if order is None:
        raise OrderNotFound(f"no order with id {order_id}")
    if order.status is not OrderStatus.VERIFIED:
        raise NotRoutable(f"order {order.reference} is {order.status}; DOM routes verified orders")
    all_nodes = store.nodes(session)
    product_ids = sorted({ln.product_id for ln in order.lines})
    if order.service_level is ServiceLevel.PICKUP:
        return _route_pickup(session, order, all_nodes, product_ids, actor, now)

    located = store.locate(session, order.country, order.postal_code)
    if located is None:
        return _hold(
            session,
            order,
            actor,
            now,
            "unknown_location",
            "ship_to.postal_code",
            f"postal code {order.postal_code!r} ({order.country}) is not in the store's postal "
            "areas, so no distance can be worked out; add the area and route again",
            {"ship_to": {"country": order.country, "postal_code": order.postal_code}},
        )
    lat, lon, prefix = located
    options, excluded = shipping_options(session, order, all_nodes, (lat, lon), now, settings.cost)
    sku_of = {ln.product_id: ln.sku for ln in order.lines}
    policy = SplitPolicy(order.max_packages)
    plan = plan_order(
        [LineDemand(ln.line_id, ln.sku, ln.quantity) for ln in order.lines],
        options,
        settings.cost,
        policy=policy,
        bid_prices=bid_prices,
        unfilled_penalty=settings.unfilled_penalty,
        ranking=settings.ranking,
    )
    line_no = {ln.line_id: ln.line_no for ln in order.lines}
    bids_set_aside = False
    if not plan.complete and bid_prices:
        # Bid prices keep scarce stock for other demand, but never at the price of holding
        # an order the stock could fill now.
        unpriced = plan_order(
            [LineDemand(ln.line_id, ln.sku, ln.quantity) for ln in order.lines],
            options,
            settings.cost,
            policy=policy,
            unfilled_penalty=settings.unfilled_penalty,
            ranking=settings.ranking,
        )
        if unpriced.complete:
            plan, bids_set_aside = unpriced, True
    bids_used = {
        f"{node}/{sku}": price
        for (node, sku), price in (bid_prices or {}).items()
        if any(o.code == node for o in options) and sku in sku_of.values()
    }
    detail = {
        "ship_to": {
            "country": order.country,
            "postal_code": order.postal_code,
            "located_by": prefix,
            "latitude": lat,
            "longitude": lon,
        },
        "policy": {
            "max_packages": policy.max_packages,
            "ranking": [str(c) for c in settings.ranking],
        },
        "candidates": candidates_detail(options, settings.cost),
        "excluded": excluded,
        "bid_prices": bids_used,
        "bid_prices_set_aside": bids_set_aside,
        "plan": plan_detail(plan, line_no),
    }
    if not plan.complete and not any(any(o.atp.values()) for o in options) and excluded:
        reasons = "; ".join(f"{code}: {why}" for code, why in sorted(excluded.items()))
        return _hold(
            session,
            order,
            actor,
            now,
            "no_eligible_node",
            "lines",
            f"no node may ship this order now ({reasons})",
            detail,
        )
    if not plan.complete:
        line_sku = {ln.line_id: ln.sku for ln in order.lines}
        short = ", ".join(f"{line_sku[k]} short {v}" for k, v in sorted(plan.unfilled.items()))
        limit = (
            f" when shipping from at most {policy.max_packages} node(s)"
            if policy.max_packages
            else ""
        )
        return _hold(
            session,
            order,
            actor,
            now,
            "no_stock",
            "lines",
            f"no eligible node can fill the order{limit}: {short}",
            detail,
        )

    transition(
        session,
        order.id,
        OrderStatus.ROUTED,
        actor,
        note="routed by DOM",
        expected=OrderStatus.VERIFIED,
    )
    reserve_plan(session, order, plan, all_nodes, actor, now, f"DOM for {order.reference}")
    rule = "cheapest plan" + ("" if len(options) > 1 else " (only eligible node)")
    summary = (
        f"{order.reference}: {len(plan.packages)} package(s) from {', '.join(plan.packages)}, "
        f"shipping {plan.shipping_cost:.2f}"
        + (f" + opportunity {plan.opportunity_cost:.2f}" if plan.opportunity_cost else "")
    )
    store.add_decision(
        session,
        order.id,
        at=now,
        actor=actor.name,
        outcome=DecisionOutcome.ROUTED,
        rule=rule,
        summary=summary,
        detail=detail,
    )
    return RouteResult(
        order.id, order.reference, DecisionOutcome.ROUTED, rule, summary, plan.allocations
    )


def _route_pickup(
    session: StoreSession,
    order: OrderToRoute,
    all_nodes: list[NodeRow],
    product_ids: list[int],
    actor: Actor,
    now: datetime,
) -> RouteResult:
    node = next((n for n in all_nodes if n.id == order.pickup_node_id), None)
    if node is None or not node.active or not node.can_pickup:
        name = node.code if node else "the pickup store"
        return _hold(
            session,
            order,
            actor,
            now,
            "pickup_unavailable",
            "pickup_store",
            f"{name} does not offer pickup now; the order is never shipped from "
            "elsewhere without the customer agreeing",
            {"pickup_store": name},
        )
    atp = store.atp(session, [node.id], product_ids)
    needed: dict[int, int] = {}
    for ln in order.lines:
        needed[ln.product_id] = needed.get(ln.product_id, 0) + ln.quantity
    sku_of = {ln.product_id: ln.sku for ln in order.lines}
    short = {
        p: q - atp.get((node.id, p), 0) for p, q in needed.items() if atp.get((node.id, p), 0) < q
    }
    detail = {
        "pickup_store": node.code,
        "atp": {sku_of[p]: atp.get((node.id, p), 0) for p in product_ids},
    }
    if short:
        text = ", ".join(f"{sku_of[p]} short {q}" for p, q in sorted(short.items()))
        return _hold(
            session,
            order,
            actor,
            now,
            "pickup_short",
            "lines",
            f"pickup store {node.code} cannot fill the order ({text}); it is "
            "never shipped from elsewhere without the customer agreeing",
            detail,
        )
    transition(
        session,
        order.id,
        OrderStatus.ROUTED,
        actor,
        note=f"pickup at {node.code}",
        expected=OrderStatus.VERIFIED,
    )
    allocations = tuple(Allocation(ln.line_id, node.code, ln.quantity) for ln in order.lines)
    pickup = Plan(allocations, {}, 0.0, 0.0, (node.code,))
    # A pickup takes no shipping capacity: nothing leaves the store by carrier.
    reserve_plan(
        session, order, pickup, all_nodes, actor, now, f"pickup {order.reference}", new_packages=()
    )
    summary = f"{order.reference}: pickup in store at {node.code}"
    store.add_decision(
        session,
        order.id,
        at=now,
        actor=actor.name,
        outcome=DecisionOutcome.ROUTED,
        rule="pickup in store",
        summary=summary,
        detail=detail,
    )
    return RouteResult(
        order.id,
        order.reference,
        DecisionOutcome.ROUTED,
        "pickup in store",
        summary,
        tuple(allocations),
    )


def _hold(
    session: StoreSession,
    order: OrderToRoute,
    actor: Actor,
    now: datetime,
    code: str,
    field_name: str,
    message: str,
    detail: Mapping[str, object],
) -> RouteResult:
    transition(
        session, order.id, OrderStatus.HELD, actor, note=message, expected=OrderStatus.VERIFIED
    )
    store.add_hold(session, order.id, code, field_name, message, now)
    summary = f"{order.reference}: held — {message}"
    store.add_decision(
        session,
        order.id,
        at=now,
        actor=actor.name,
        outcome=DecisionOutcome.HELD,
        rule=code,
        summary=summary,
        detail=detail,
    )
    return RouteResult(order.id, order.reference, DecisionOutcome.HELD, code, summary)


@dataclass
class BacklogSummary:
    """What routing a backlog did."""

    routed: int = 0
    held: int = 0
    skipped: int = 0
    """Orders another router took first."""
    results: list[RouteResult] = field(default_factory=list)


def route_backlog(
    engine: StoreEngine,
    actor: Actor,
    settings: RoutingSettings,
    *,
    limit: int | None = None,
    bid_prices: Mapping[tuple[str, str], float] | None = None,
    progress: Callable[[int, int], None] | None = None,
    now: datetime | None = None,
    wait_for_store: float = 0.0,
    on_store_lost: Callable[[str], None] | None = None,
) -> BacklogSummary:
    """Route every verified order, oldest first, each in its own transaction (``now``,
    default the clock, decides which carrier collections a node can still make).

    With ``wait_for_store`` seconds, a store lost in the middle (server restarted,
    connection dropped) is waited for, ``on_store_lost`` told each time, and the order it
    was routing routed again once it is back (its transaction was rolled back whole, or
    committed: then it is no longer waiting and is counted as taken by another router);
    the store still gone after that long ends the run with the error."""
    with UnitOfWork(engine, read_only=True) as uow:
        waiting = store.orders_waiting(uow.session, limit)
    summary = BacklogSummary()
    for done, order_id in enumerate(waiting, start=1):
        result = _route_through_outages(
            partial(route_one, engine, order_id, actor, settings, bid_prices=bid_prices, now=now),
            wait_for_store,
            on_store_lost,
        )
        if result is None:
            summary.skipped += 1
        else:
            summary.results.append(result)
            if result.outcome is DecisionOutcome.ROUTED:
                summary.routed += 1
            else:
                summary.held += 1
        if progress:
            progress(done, len(waiting))
    return summary


STORE_RETRY_EVERY = 2.0
"""Seconds between tries to reach a lost store."""


def _route_through_outages(
    work: Callable[[], RouteResult | None],
    wait_for_store: float,
    on_store_lost: Callable[[str], None] | None,
) -> RouteResult | None:
    deadline: float | None = None
    while True:
        try:
            return work()
        except Exception as exc:
            reason = lost_connection(exc)
            if reason is None:
                raise
            deadline = deadline if deadline is not None else time.monotonic() + wait_for_store
            if time.monotonic() >= deadline:
                raise
            if on_store_lost is not None:
                on_store_lost(reason)
            time.sleep(STORE_RETRY_EVERY)


def route_one(
    engine: StoreEngine,
    order_id: int,
    actor: Actor,
    settings: RoutingSettings,
    *,
    bid_prices: Mapping[tuple[str, str], float] | None = None,
    attempts: int = 5,
    now: datetime | None = None,
) -> RouteResult | None:
    """Route one order in its own transaction; None if another router moved it first."""
    for _ in range(attempts):

        def work(uow: UnitOfWork) -> RouteResult:
            result = route_order(
                uow.session, order_id, actor, settings, now=now, bid_prices=bid_prices
            )
            uow.commit()
            return result

        try:
            return run_in_transaction(engine, work)
        except ReservationLost:
            continue  # rolled back whole; plan again on what is left now
        except (TransitionRefused, NotRoutable):
            return None
    raise RuntimeError(
        f"order {order_id}: stock kept changing under it; gave up after {attempts} attempts"
    )


def backlog_bid_prices(
    engine: StoreEngine, settings: RoutingSettings
) -> dict[tuple[str, str], float]:
    """Bid prices for routing the current backlog as a batch: the LP over the backlog's
    demand by ship-to area and SKU against today's ATP at the nodes that may ship."""
    with UnitOfWork(engine, read_only=True) as uow:
        session = uow.session
        demand_rows = store.backlog_demand(session)
        all_nodes = [
            n
            for n in store.nodes(session)
            if n.active
            and n.can_ship
            and n.daily_capacity > 0
            and (n.kind != "store" or n.ship_from_store)
        ]
        places: dict[tuple[str, str], tuple[float, float, str] | None] = {}
        demand: dict[tuple[str, str], float] = {}
        product_ids: dict[str, int] = {}
        for country, postal, product_id, sku, quantity in demand_rows:
            key = (country, postal)
            if key not in places:
                places[key] = store.locate(session, country, postal)
            located = places[key]
            if located is None:
                continue  # such orders are held when routed; they have no place to weigh
            region = f"{country}:{located[2]}"
            demand[(region, sku)] = demand.get((region, sku), 0.0) + quantity
            product_ids[sku] = product_id
        atp = store.atp(session, [n.id for n in all_nodes], sorted(product_ids.values()))
    regions = {
        f"{c}:{loc[2]}": Place(f"{c}:{loc[2]}", loc[0], loc[1])
        for (c, _p), loc in places.items()
        if loc is not None
    }
    sku_of = {pid: sku for sku, pid in product_ids.items()}
    code_of = {n.id: n.code for n in all_nodes}
    inventory_by_code = {
        (code_of[node_id], sku_of[p]): float(q) for (node_id, p), q in atp.items() if q > 0
    }
    return bid_prices(
        [Place(n.code, n.latitude, n.longitude) for n in all_nodes],
        list(regions.values()),
        inventory_by_code,
        demand,
        settings.cost,
        unserved_penalty=settings.unfilled_penalty,
    )
