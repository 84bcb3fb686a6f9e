"""The end of a pick list while another list of one of its orders ends (PostgreSQL, whose
row locks let the two overlap).

The last pick of a list decides which of its orders are finished on what the statement
that takes their locks read, and its own statement moves them. When that statement waited
for another transaction holding one of the orders, it read the order's other list as it
was before that transaction committed; the pick's statement, which reads again, finds the
decision stale and the whole pick runs again. The order then ends picked, once."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from app.picking import station
from data import pick_station as pick_rows
from data.models import Order, OrderEvent, OrderStatus, PickListStatus
from data.uow import UnitOfWork
from tests.pickfloor import load_totes, pick_whole, picker, waiting_locks
from tests.waiting import wait_until

ON_POSTGRESQL = pytest.mark.parametrize(
    "store_url", [pytest.param("postgresql", marks=pytest.mark.postgresql)], indirect=True
)


@ON_POSTGRESQL
def test_an_order_whose_other_list_ends_meanwhile_is_picked_once(
    floor: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    who = picker(floor)
    while (view := station.claim_next(floor, who)) is not None:
        refs = list(dict.fromkeys(t.order_ref for t in view.tasks))
        if len(refs) >= 2 and not any(t.track_serial for t in view.tasks):
            break
    assert view is not None, "the demo floor has no list with two orders"
    view = load_totes(floor, who, view)
    last = view.tasks[-1]
    x_task = next(t for t in view.tasks if t.order_ref != last.order_ref)
    for task in view.tasks[:-1]:
        pick_whole(floor, who, view.id, task)
    with UnitOfWork(floor, read_only=True) as uow:
        x_shipment, x_id = uow.session.execute(
            text(
                "SELECT shipment_id, s.order_id FROM pick_tasks AS t JOIN shipments AS s "
                "ON s.id = t.shipment_id WHERE t.id = :t"
            ),
            {"t": x_task.id},
        ).one()
        other_list = uow.session.execute(
            text("SELECT id FROM pick_lists WHERE id <> :l ORDER BY id LIMIT 1"), {"l": view.id}
        ).scalar_one()
    # Order X has a second shipment still being picked on another list...
    with floor.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO shipments (order_id, node_id, wave_id, status, pick_list_id,"
                " tote_slot, carrier, service, created_at) "
                "SELECT order_id, node_id, wave_id, 'picking', :other, 99, carrier, service,"
                " created_at FROM shipments WHERE id = :s"
            ),
            {"other": other_list, "s": x_shipment},
        )
    # ...whose end is being written, holding X, when this list's last pick comes.
    holder = floor.connect()
    holder.execute(text("SELECT id FROM orders WHERE id = :x FOR UPDATE"), {"x": x_id})
    holder.execute(
        text("UPDATE shipments SET status = 'picked' WHERE order_id = :x AND pick_list_id = :o"),
        {"x": x_id, "o": other_list},
    )
    calls = {"lock": 0}
    real = pick_rows.lock_orders_of_list

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls["lock"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(pick_rows, "lock_orders_of_list", counted)
    out: dict[str, Any] = {}

    def last_pick() -> None:
        try:
            out["done"] = pick_whole(floor, who, view.id, last)
        except Exception as exc:  # noqa: BLE001 - the assertions say what it was
            out["done"] = exc

    picking = threading.Thread(target=last_pick)
    picking.start()
    wait_until(lambda: waiting_locks(floor) >= 1, timeout=10, what="the last pick to wait for X")
    holder.commit()
    holder.close()
    picking.join(60)
    assert not isinstance(out["done"], Exception), out["done"]
    assert out["done"].list_done
    # Decided once on the stale read (X still picking elsewhere), then again.
    assert calls["lock"] >= 2
    with UnitOfWork(floor, read_only=True) as uow:
        s = uow.session
        assert s.scalar(select(Order.status).where(Order.id == x_id)) is OrderStatus.PICKED
        moved = s.scalar(
            select(func.count())
            .select_from(OrderEvent)
            .where(OrderEvent.order_id == x_id, OrderEvent.to_status == OrderStatus.PICKED)
        )
        assert moved == 1
    assert station.view(floor, view.id).status is PickListStatus.DONE
