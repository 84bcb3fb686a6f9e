"""Cancelling an order: its reservations go back to stock, its open picks end, and units
already picked into a tote are named so the picker can put them aside."""

from __future__ import annotations

from dataclasses import dataclass

from app.actor import Actor
from app.orders import lifecycle
from app.picking import station
from data import dom as store
from data import inventory
from data import pack_station as pack_rows
from data import pick_station as pick_rows
from data.inventory import Who
from data.models import AllocationStatus, OrderStatus
from data.store import StoreEngine
from data.types import utcnow
from data.uow import UnitOfWork, run_in_transaction

CANCELLABLE = frozenset(
    {
        OrderStatus.RECEIVED,
        OrderStatus.VERIFIED,
        OrderStatus.HELD,
        OrderStatus.ROUTED,
        OrderStatus.RELEASED,
        OrderStatus.PICKING,
    }
)


class CancelRefused(ValueError):
    """The order cannot be cancelled; the message says why."""


@dataclass(frozen=True)
class Cancelled:
    reference: str
    released_units: int
    in_totes: tuple[pick_rows.ToteContent, ...]


def cancel_order(engine: StoreEngine, reference: str, reason: str, actor: Actor) -> Cancelled:
    """Cancel an order that has not been picked whole yet."""
    if not reason.strip():
        raise CancelRefused("say why the order is cancelled (--reason)")
    now = utcnow()
    who = Who(actor.name, actor.user_id, actor.station_id)

    def work(uow: UnitOfWork) -> Cancelled:
        found = store.find_order_id(uow.session, reference)
        if len(found) != 1:
            raise CancelRefused(
                f"no order {reference!r}" if not found else f"{reference!r} names several orders"
            )
        order_id = found[0]
        store.lock_order(uow.session, order_id)
        order = store.order_to_route(uow.session, order_id)
        assert order is not None
        if order.status not in CANCELLABLE:
            raise CancelRefused(
                f"order {order.reference} is {order.status.value}: only an order not yet "
                "picked whole can be cancelled (a picked or shipped one goes through returns)"
            )
        boxed = pack_rows.packages_of_order(uow.session, order_id)
        if boxed:
            raise CancelRefused(
                f"order {order.reference} has {boxed} package(s) packed (units of it found "
                "damaged at packing went back to routing): what is packed goes through returns"
            )
        released = 0
        held = [
            a
            for a in store.allocations_for_order(uow.session, order_id)
            if a.status is AllocationStatus.RESERVED
        ]
        for a in held:
            # Close first: an allocation a pick took meanwhile is no longer reserved, and
            # its units must not be released a second time.
            if not store.close_allocation(uow.session, a.id, AllocationStatus.RELEASED):
                continue
            if not inventory.release(
                uow.session,
                node_id=a.node_id,
                product_id=a.product_id,
                quantity=a.quantity,
                who=who,
                at=now,
                order_line_id=a.order_line_id,
                note=f"{order.reference} cancelled: {reason}",
            ):
                raise CancelRefused(f"{order.reference}: its reservations changed; try again")
            released += a.quantity
        for node_id in {a.node_id for a in held}:
            store.return_capacity(uow.session, node_id, now.date())
        lists = pick_rows.active_lists_of_order(uow.session, order_id)
        in_totes = pick_rows.cancel_shipments(uow.session, order_id)
        lifecycle.transition(uow.session, order_id, OrderStatus.CANCELLED, actor, note=reason)
        # A pick list left with nothing to pick is done (its other totes go to packing).
        for list_id, wave_id in lists:
            station.finish_if_done(uow, list_id, wave_id, who, now)
        uow.commit()
        return Cancelled(order.reference, released, tuple(in_totes))

    # A deadlock with a pick list finishing (it locks this order's shipment) is retried
    # whole.
    return run_in_transaction(engine, work)
