"""Re-routing: a node rejects a line, or a picker finds less than promised.

The units the node cannot give are released and written off its books (so its ATP for
that SKU is right again), and DOM finds them elsewhere: first at nodes the order already
ships from, then, within the order's split policy, at others. The rejecting node is not
asked again for that SKU. If no node can serve them, the order is held with the reason
and all its reservations are released for a person to decide (cancel, wait, substitute).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from app.actor import Actor
from app.dom.assign import LineDemand, NodeOption, Plan, SplitPolicy, plan_order
from app.dom.routing import (
    NotRoutable,
    RoutingSettings,
    candidates_detail,
    plan_detail,
    reserve_plan,
    shipping_options,
)
from app.orders.lifecycle import transition
from data import dom as store
from data import inventory
from data.dom import AllocationRow, NodeRow, OrderToRoute
from data.inventory import Who
from data.models import (
    AllocationStatus,
    DecisionOutcome,
    MovementReason,
    OrderStatus,
    ServiceLevel,
)
from data.types import utcnow
from data.uow import StoreSession

# Why a node gives a line back (the codes a node or a picker reports).
REJECTION_REASONS = {
    "no_stock": "the node does not have it",
    "damaged": "the units are damaged",
    "not_found": "the units cannot be found",
    "capacity": "the node cannot ship more today",
}
# Reasons that mean the stock is not what the books say; "capacity" only means the node
# cannot ship it today, so its stock is left alone.
STOCK_IS_WRONG = frozenset({"no_stock", "damaged", "not_found"})
REROUTABLE = frozenset({OrderStatus.ROUTED, OrderStatus.RELEASED, OrderStatus.PICKING})


@dataclass(frozen=True)
class RerouteResult:
    """What happened to the units a node gave back."""

    reference: str
    outcome: DecisionOutcome
    summary: str
    written_off: int
    """Units taken off the rejecting node's books."""


def reject_line(
    session: StoreSession,
    order_id: int,
    line_no: int,
    node_code: str,
    reason: str,
    actor: Actor,
    settings: RoutingSettings,
    *,
    quantity: int | None = None,
    location_id: int | None = None,
    now: datetime | None = None,
    allocation_id: int | None = None,
    lot: str | None = None,
) -> RerouteResult:
    """The node gives back `quantity` units of the line (default: all it holds for it),
    for `reason`; re-route them in the caller's transaction. A short pick names its
    task's allocation (its other locations' picks carry on) and the lot to write off."""
    now = now or utcnow()
    if reason not in REJECTION_REASONS:
        raise ValueError(
            f"unknown reason {reason!r}; use one of: {', '.join(sorted(REJECTION_REASONS))}"
        )
    store.lock_order(session, order_id)
    order = store.order_to_route(session, order_id)
    if order is None:
        raise NotRoutable(f"no order with id {order_id}")
    if order.status not in REROUTABLE:
        raise NotRoutable(
            f"order {order.reference} is {order.status}; only routed, released "
            "or picking orders can have a line given back"
        )
    held = [
        a
        for a in store.allocations_for_order(session, order_id)
        if a.line_no == line_no
        and a.node_code == node_code
        and a.status is AllocationStatus.RESERVED
        and (allocation_id is None or a.id == allocation_id)
    ]
    total = sum(a.quantity for a in held)
    if not held:
        raise NotRoutable(
            f"line {line_no} of {order.reference} has nothing reserved at {node_code}"
        )
    missing = total if quantity is None else quantity
    if not 0 < missing <= total:
        raise ValueError(
            f"{node_code} holds {total} for line {line_no}; cannot give back {missing}"
        )
    who = Who(actor.name, actor.user_id, actor.station_id)
    note = f"{order.reference} line {line_no}: {REJECTION_REASONS[reason]}"
    left = missing
    for a in held:
        take = min(left, a.quantity)
        if take == 0:
            break
        if not inventory.release(
            session,
            node_id=a.node_id,
            product_id=a.product_id,
            quantity=take,
            who=who,
            at=now,
            order_line_id=a.order_line_id,
            note=f"given back: {note}",
        ):
            raise RuntimeError(f"the reservation for {note} was not there to release")
        if not store.close_allocation(
            session,
            a.id,
            AllocationStatus.REJECTED,
            keep=a.quantity - take,
            keep_tasks=allocation_id is not None,
        ):
            raise NotRoutable(f"{note}: those units were given back meanwhile")
        left -= take
    written = 0
    if reason in STOCK_IS_WRONG:
        kind = MovementReason.SHORT_PICK if location_id is not None else MovementReason.ADJUSTMENT
        written = inventory.write_off(
            session,
            node_id=held[0].node_id,
            product_id=held[0].product_id,
            quantity=missing,
            reason=kind,
            who=who,
            at=now,
            location_id=location_id,
            lot=lot,
            note=note,
        )
    line = next(ln for ln in order.lines if ln.line_id == held[0].order_line_id)
    given = GivenBack(line.line_id, line.line_no, line.sku, missing, node_code, reason, written)
    return _reroute(session, order, given, actor, settings, now)


def reroute_damaged(
    session: StoreSession,
    order_id: int,
    line_id: int,
    node_id: int,
    node_code: str,
    actor: Actor,
    settings: RoutingSettings,
    *,
    quantity: int = 1,
    now: datetime | None = None,
) -> RerouteResult:
    """Picked units found damaged at the pack bench: the node gives them back (they
    leave its picked allocation as rejected ones, so it is not asked for that SKU again)
    and DOM finds them elsewhere, in the caller's transaction, as for a short pick. The
    units themselves were off the node's stock since they were picked; the caller takes
    them out of the shipment."""
    now = now or utcnow()
    store.lock_order(session, order_id)
    order = store.order_to_route(session, order_id)
    if order is None:
        raise NotRoutable(f"no order with id {order_id}")
    if order.status not in (*REROUTABLE, OrderStatus.PICKED, OrderStatus.HELD):
        raise NotRoutable(
            f"order {order.reference} is {order.status}; only an order not packed yet can "
            "have units given back"
        )
    line = next((ln for ln in order.lines if ln.line_id == line_id), None)
    if line is None:
        raise NotRoutable(f"order {order.reference} has no line {line_id}")
    if not store.give_back_picked(session, line_id, node_id, quantity):
        raise NotRoutable(
            f"{order.reference} line {line.line_no}: {node_code} holds no {quantity} picked "
            "unit(s) of it to give back"
        )
    given = GivenBack(line.line_id, line.line_no, line.sku, quantity, node_code, "damaged", 0)
    if order.status is OrderStatus.HELD:
        # Already waiting for the office, which decides for this unit with the rest.
        return RerouteResult(
            order.reference,
            DecisionOutcome.HELD,
            f"{given}; the order is held: the office decides for it with the rest",
            0,
        )
    return _reroute(session, order, given, actor, settings, now)


@dataclass(frozen=True)
class GivenBack:
    """Units of one line a node gave back, and what became of its stock."""

    line_id: int
    line_no: int
    sku: str
    quantity: int
    node: str
    reason: str
    written_off: int

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku} given back by {self.node} ({self.reason})"

    def detail(self) -> dict[str, object]:
        return {
            "node": self.node,
            "sku": self.sku,
            "quantity": self.quantity,
            "reason": self.reason,
            "written_off": self.written_off,
        }


def _decide(
    session: StoreSession,
    order: OrderToRoute,
    given: GivenBack,
    actor: Actor,
    now: datetime,
    outcome: DecisionOutcome,
    rule: str,
    summary: str,
    detail: dict[str, object],
) -> RerouteResult:
    store.add_decision(
        session,
        order.id,
        at=now,
        actor=actor.name,
        outcome=outcome,
        rule=rule,
        summary=summary,
        detail={"given_back": given.detail(), **detail},
    )
    return RerouteResult(order.reference, outcome, summary, given.written_off)


def _reroute(
    session: StoreSession,
    order: OrderToRoute,
    given: GivenBack,
    actor: Actor,
    settings: RoutingSettings,
    now: datetime,
) -> RerouteResult:
    if order.status is not OrderStatus.ROUTED:
        transition(
            session,
            order.id,
            OrderStatus.ROUTED,
            actor,
            note=f"re-routing {given}",
            expected=order.status,
        )
    allocations = store.allocations_for_order(session, order.id)
    remaining = [a for a in allocations if a.status is AllocationStatus.RESERVED]
    # Nodes already sending the order a package: those still to pick it, and those that
    # picked it (a unit found damaged at packing leaves the rest packed there).
    used = sorted(
        {
            a.node_code
            for a in allocations
            if a.status in (AllocationStatus.RESERVED, AllocationStatus.PICKED)
        }
    )
    refused = set(store.rejected_nodes(session, given.line_id)) | {given.node}
    withheld = frozenset((node, given.sku) for node in refused)
    all_nodes = store.nodes(session)
    # A pickup order is only ever served by its store: nobody else is asked.
    located = (
        None
        if order.service_level is ServiceLevel.PICKUP
        else store.locate(session, order.country, order.postal_code)
    )
    plan: Plan | None = None
    options: list[NodeOption] = []
    excluded: dict[str, str] = {}
    if located is not None:
        ship_to = (located[0], located[1])
        options, excluded = shipping_options(
            session, order, all_nodes, ship_to, now, settings.cost, withheld=withheld
        )
        options = [replace(o, package_paid=o.code in used) for o in options]
        demand = [LineDemand(given.line_id, given.sku, given.quantity)]
        plan = _plan_missing(demand, options, used, order.max_packages, settings)
        whole_may_move = order.max_packages is not None and order.status is OrderStatus.ROUTED
        if (plan is None or not plan.complete) and whole_may_move:
            moved = _move_whole_order(
                session,
                order,
                given,
                remaining,
                all_nodes,
                ship_to,
                withheld,
                actor,
                settings,
                now,
            )
            if moved is not None:
                return moved
            remaining = []  # released by the attempt; holding only has to say so
    if plan is None or not plan.complete:
        return _hold_all(session, order, given, remaining, actor, now, options, excluded, settings)
    reserve_plan(
        session,
        order,
        plan,
        all_nodes,
        actor,
        now,
        f"re-routed from {given.node} for {order.reference}",
        new_packages=[code for code in plan.packages if code not in used],
    )
    summary = (
        f"{order.reference}: {given} now from "
        f"{', '.join(f'{a.node} ({a.quantity})' for a in plan.allocations)}"
    )
    return _decide(
        session,
        order,
        given,
        actor,
        now,
        DecisionOutcome.ROUTED,
        f"re-routed ({given.reason})",
        summary,
        {
            "candidates": candidates_detail(options, settings.cost),
            "excluded": excluded,
            "plan": plan_detail(plan, {given.line_id: given.line_no}),
        },
    )


def _plan_missing(
    demand: list[LineDemand],
    options: list[NodeOption],
    used: list[str],
    max_packages: int | None,
    settings: RoutingSettings,
) -> Plan | None:
    """One plan over every eligible node: those the order already ships from add no
    package (and do not count against its split policy); others open new packages while
    the policy allows."""
    slots = None if max_packages is None else max_packages - len(used)
    if slots is not None and slots <= 0:
        options = [o for o in options if o.package_paid]
        slots = None
    if not options:
        return None
    return plan_order(
        demand,
        options,
        settings.cost,
        policy=SplitPolicy(slots),
        unfilled_penalty=settings.unfilled_penalty,
        ranking=settings.ranking,
    )


def _hold_all(
    session: StoreSession,
    order: OrderToRoute,
    given: GivenBack,
    remaining: list[AllocationRow],
    actor: Actor,
    now: datetime,
    options: list[NodeOption],
    excluded: dict[str, str],
    settings: RoutingSettings,
) -> RerouteResult:
    _release_all(session, order, remaining, actor, now, f"{given.sku} cannot be re-routed")
    message = (
        f"{given} and no other eligible node can ship them within the order's split "
        "policy; its other reservations are released"
    )
    # The order row is locked (reject_line), so it is still routed: nobody moved it.
    transition(
        session, order.id, OrderStatus.HELD, actor, note=message, expected=OrderStatus.ROUTED
    )
    store.add_hold(session, order.id, "reroute_failed", "lines", message, now)
    return _decide(
        session,
        order,
        given,
        actor,
        now,
        DecisionOutcome.HELD,
        "reroute_failed",
        f"{order.reference}: held — {message}",
        {"candidates": candidates_detail(options, settings.cost), "excluded": excluded},
    )


def _release_all(
    session: StoreSession,
    order: OrderToRoute,
    remaining: list[AllocationRow],
    actor: Actor,
    now: datetime,
    why: str,
) -> None:
    """Release every reserved allocation of the order and the capacity its packages took."""
    who = Who(actor.name, actor.user_id, actor.station_id)
    for node_id in {a.node_id for a in remaining}:
        store.return_capacity(session, node_id, now.date())
    for a in remaining:
        released = inventory.release(
            session,
            node_id=a.node_id,
            product_id=a.product_id,
            quantity=a.quantity,
            who=who,
            at=now,
            order_line_id=a.order_line_id,
            note=f"{order.reference}: {why}",
        )
        if not released or not store.close_allocation(session, a.id, AllocationStatus.RELEASED):
            raise NotRoutable(f"{order.reference}: its reservations changed meanwhile; try again")


def _move_whole_order(
    session: StoreSession,
    order: OrderToRoute,
    given: GivenBack,
    remaining: list[AllocationRow],
    all_nodes: list[NodeRow],
    ship_to: tuple[float, float],
    withheld: frozenset[tuple[str, str]],
    actor: Actor,
    settings: RoutingSettings,
    now: datetime,
) -> RerouteResult | None:
    """For an order with a package limit: release it and plan it whole again elsewhere.
    None (with its reservations released) if no plan fills it."""
    _release_all(session, order, remaining, actor, now, f"moving whole: {given.sku} given back")
    options, _excluded = shipping_options(
        session, order, all_nodes, ship_to, now, settings.cost, withheld=withheld
    )
    plan = plan_order(
        [LineDemand(ln.line_id, ln.sku, ln.quantity) for ln in order.lines],
        options,
        settings.cost,
        policy=SplitPolicy(order.max_packages),
        unfilled_penalty=settings.unfilled_penalty,
        ranking=settings.ranking,
    )
    if not plan.complete:
        return None
    reserve_plan(
        session,
        order,
        plan,
        all_nodes,
        actor,
        now,
        f"moved whole from {given.node} for {order.reference}",
    )
    summary = (
        f"{order.reference}: {given}; the order may ship from at most {order.max_packages} "
        f"node(s), so all of it now ships from {', '.join(plan.packages)}"
    )
    line_no = {ln.line_id: ln.line_no for ln in order.lines}
    return _decide(
        session,
        order,
        given,
        actor,
        now,
        DecisionOutcome.ROUTED,
        f"moved whole ({given.reason})",
        summary,
        {"plan": plan_detail(plan, line_no)},
    )
