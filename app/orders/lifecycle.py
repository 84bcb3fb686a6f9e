"""The order state machine: every allowed status change is listed here and nowhere else,
and every change of an order's status, one order or many, is made or planned here (a
planned change is written by the statement of the action it belongs to)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.actor import Actor
from data import orders as order_rows
from data.models import OrderStatus
from data.orders import StatusChange
from data.types import utcnow
from data.uow import StoreSession as Session

S = OrderStatus

# From each status, where an order may go next. An order can be cancelled until it is
# packed; after shipping it can only be delivered or come back. Going back from routed,
# released, picking or picked to an earlier status is DOM re-routing a line (a picked
# unit found damaged at the pack bench goes back to DOM as a short pick does). An order
# split over nodes is partially shipped when one node's part leaves while another's is
# still on its way through routing, picking or packing; it is shipped when the last leaves.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.RECEIVED: frozenset({S.VERIFIED, S.HELD, S.CANCELLED}),
    S.HELD: frozenset({S.VERIFIED, S.CANCELLED}),
    S.VERIFIED: frozenset({S.ROUTED, S.HELD, S.CANCELLED}),
    S.ROUTED: frozenset({S.RELEASED, S.VERIFIED, S.HELD, S.CANCELLED, S.PARTIALLY_SHIPPED}),
    S.RELEASED: frozenset({S.PICKING, S.ROUTED, S.CANCELLED, S.PARTIALLY_SHIPPED}),
    S.PICKING: frozenset({S.PICKED, S.ROUTED, S.CANCELLED, S.PARTIALLY_SHIPPED}),
    S.PICKED: frozenset({S.PACKED, S.ROUTED, S.CANCELLED, S.PARTIALLY_SHIPPED}),
    S.PACKED: frozenset({S.SHIPPED, S.PARTIALLY_SHIPPED}),
    S.PARTIALLY_SHIPPED: frozenset({S.SHIPPED}),
    S.SHIPPED: frozenset({S.DELIVERED, S.RETURNED}),
    S.DELIVERED: frozenset({S.RETURNED}),
    S.CANCELLED: frozenset(),
    S.RETURNED: frozenset(),
}


class TransitionRefused(Exception):
    """The order cannot move to the requested status from where it is."""

    def __init__(self, order_ref: str | None, current: OrderStatus, wanted: OrderStatus) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing (it is final)"
        said = (
            f"order {order_ref} is {current}; it cannot become {wanted}"
            if order_ref is not None
            else f"an order that is {current} cannot become {wanted}"
        )
        super().__init__(f"{said}. From {current} it may become: {allowed}")
        self.current = current
        self.wanted = wanted


class OrderNotFound(LookupError):
    """No order has that id."""


def can_transition(current: OrderStatus, wanted: OrderStatus) -> bool:
    """True when the state machine allows `current` → `wanted`."""
    return wanted in TRANSITIONS[current]


def intake_path(verified: bool) -> tuple[tuple[OrderStatus | None, OrderStatus, str], ...]:
    """The history of a newly imported order: received, then verified or held."""
    final = S.VERIFIED if verified else S.HELD
    assert can_transition(S.RECEIVED, final)
    return ((None, S.RECEIVED, ""), (S.RECEIVED, final, ""))


def planned(
    order_ids: Sequence[int],
    wanted: OrderStatus,
    actor: Actor,
    *,
    expected: OrderStatus,
    note: str = "",
) -> StatusChange:
    """A move of these orders from `expected` to `wanted` the table allows, for a station
    whose own statement writes it with the rest of an action (a pick and its order's first
    move); the writer applies it only to orders still `expected`. A move the table does not
    allow is refused here, before anything is written."""
    if not can_transition(expected, wanted):
        raise TransitionRefused(None, expected, wanted)
    return StatusChange(
        tuple(sorted(set(order_ids))),
        expected,
        wanted,
        actor=actor.name,
        user_id=actor.user_id,
        station_id=actor.station_id,
        at=utcnow(),
        note=note,
    )


def transition(
    session: Session,
    order_id: int,
    wanted: OrderStatus,
    actor: Actor,
    *,
    note: str = "",
    expected: OrderStatus | None = None,
) -> OrderStatus:
    """Move an order to `wanted`, recording who, where and when; returns the old status.

    The store update is conditional on the status just read, so two stations racing to
    move the same order cannot both succeed: the loser gets TransitionRefused. A caller
    that decided on the order as it was gives `expected`: if the order has moved since
    (another station got there first), the move is refused even where the new status
    would allow it. With `expected` the order is not read first: the conditional update
    is the check, and the order is read only to say why a move was refused.
    """
    current = expected
    if current is None:
        row = _status(session, order_id)
        current = row.status
        if not can_transition(current, wanted):
            raise TransitionRefused(row.reference, current, wanted)
    elif not can_transition(current, wanted):
        now = _status(session, order_id)
        raise TransitionRefused(now.reference, now.status, wanted)
    change = planned((order_id,), wanted, actor, expected=current, note=note)
    if not order_rows.change_status(session, change):
        now = _status(session, order_id)
        raise TransitionRefused(now.reference, now.status, wanted)
    return current


def transition_many(
    session: Session,
    order_ids: Sequence[int],
    wanted: OrderStatus,
    actor: Actor,
    *,
    expected: OrderStatus,
    note: str = "",
) -> list[int]:
    """Move every one of these orders that is `expected` to `wanted`, each with its history
    row (who, where, when); returns the ids that moved, sorted.

    A bulk move is decided on a set of orders (a wave's, a pick list's): one that has moved
    on meanwhile (another node's part was released first, the order was cancelled) stays as
    it is. A move the table does not allow is refused whole, and nothing is written.
    """
    change = planned(order_ids, wanted, actor, expected=expected, note=note)
    return order_rows.change_statuses(session, change)


@dataclass(frozen=True)
class _Found:
    reference: str
    status: OrderStatus


def _status(session: Session, order_id: int) -> _Found:
    row = order_rows.order_status(session, order_id)
    if row is None:
        raise OrderNotFound(f"no order with id {order_id}")
    return _Found(f"{row.channel}/{row.external_id}", row.status)
