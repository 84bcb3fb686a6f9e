"""DOM actions in their own transactions, for the command line and the stations."""

from __future__ import annotations

from app.actor import Actor
from app.dom.reroute import RerouteResult, reject_line
from app.dom.routing import NotRoutable, ReservationLost, RoutingSettings
from data.store import StoreEngine
from data.uow import UnitOfWork, run_in_transaction


def give_back(
    engine: StoreEngine,
    order_id: int,
    line_no: int,
    node_code: str,
    reason: str,
    actor: Actor,
    settings: RoutingSettings,
    *,
    quantity: int | None = None,
    location_id: int | None = None,
) -> RerouteResult:
    """A node gives back units of a line (rejection or short pick); re-route them."""

    def work(uow: UnitOfWork) -> RerouteResult:
        result = reject_line(
            uow.session,
            order_id,
            line_no,
            node_code,
            reason,
            actor,
            settings,
            quantity=quantity,
            location_id=location_id,
        )
        uow.commit()
        return result

    for _ in range(3):
        try:
            return run_in_transaction(engine, work)
        except ReservationLost:
            continue  # stock or capacity went elsewhere: everything rolled back; again
    raise NotRoutable("stock kept changing while re-routing; try again")
