"""The order state machine: allowed moves only, each recorded with who, where and when."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from app.actor import Actor
from app.intake.importer import import_file
from app.orders.lifecycle import (
    TRANSITIONS,
    OrderNotFound,
    TransitionRefused,
    can_transition,
    transition,
    transition_many,
)
from data import orders
from data.models import Node, Order, OrderEvent, OrderStatus, Station, StationRole, User
from data.types import utcnow
from data.uow import UnitOfWork
from tests.factories import add_reference, jsonl, order

S = OrderStatus


def test_every_status_is_in_the_table_and_final_states_are_final() -> None:
    assert set(TRANSITIONS) == set(OrderStatus)
    assert TRANSITIONS[S.CANCELLED] == frozenset()
    assert TRANSITIONS[S.RETURNED] == frozenset()
    # The happy path, in order.
    path = [
        S.RECEIVED,
        S.VERIFIED,
        S.ROUTED,
        S.RELEASED,
        S.PICKING,
        S.PICKED,
        S.PACKED,
        S.SHIPPED,
        S.DELIVERED,
        S.RETURNED,
    ]
    for current, wanted in zip(path, path[1:], strict=False):
        assert can_transition(current, wanted), (current, wanted)
    assert not can_transition(S.PACKED, S.CANCELLED)
    assert not can_transition(S.SHIPPED, S.PICKING)
    assert not can_transition(S.HELD, S.ROUTED)


def _one_order(engine: Engine, tmp_path: Path) -> int:
    add_reference(engine)
    path = tmp_path / "one.jsonl"
    path.write_bytes(jsonl(order("W-1")))
    import_file(engine, path, Actor.system("test"))
    with UnitOfWork(engine, read_only=True) as uow:
        return int(uow.session.scalars(select(Order.id)).one())


def test_transition_records_who_where_and_when(store: Engine, tmp_path: Path) -> None:
    order_id = _one_order(store, tmp_path)
    with UnitOfWork(store) as uow:
        user = User(badge="U1", name="Sue", pin_hash="x")
        uow.session.add(user)
        uow.session.flush()
        node_id = uow.session.scalars(select(Node.id)).first()
        station = Station(code="SUP-01", name="Desk", node_id=node_id, role=StationRole.SUPERVISOR)
        uow.session.add(station)
        uow.session.flush()
        actor = Actor(name="U1", user_id=user.id, station_id=station.id)
        previous = transition(uow.session, order_id, S.HELD, actor, note="customer called")
        uow.commit()
    assert previous is S.VERIFIED
    with UnitOfWork(store, read_only=True) as uow:
        last = uow.session.scalars(select(OrderEvent).order_by(OrderEvent.id.desc())).first()
        assert last is not None
        assert (last.from_status, last.to_status) == (S.VERIFIED, S.HELD)
        assert (last.actor, last.user_id, last.station_id) == (
            "U1",
            actor.user_id,
            actor.station_id,
        )
        assert last.note == "customer called"
        assert last.at.tzinfo is not None


def test_a_refused_transition_writes_nothing(store: Engine, tmp_path: Path) -> None:
    order_id = _one_order(store, tmp_path)
    with UnitOfWork(store) as uow:
        with pytest.raises(TransitionRefused, match="is verified; it cannot become shipped"):
            transition(uow.session, order_id, S.SHIPPED, Actor.system("test"))
        uow.commit()
    with UnitOfWork(store) as uow, pytest.raises(OrderNotFound):
        transition(uow.session, 999_999, S.HELD, Actor.system("test"))
    with UnitOfWork(store, read_only=True) as uow:
        assert len(list(uow.session.scalars(select(OrderEvent)))) == 2


def test_two_sessions_racing_cannot_both_move_the_order(store: Engine, tmp_path: Path) -> None:
    order_id = _one_order(store, tmp_path)
    with UnitOfWork(store) as first:
        transition(first.session, order_id, S.CANCELLED, Actor.system("one"))
        first.commit()
    # The second station read "verified" before the first committed; its conditional
    # update finds the order cancelled and refuses.
    with UnitOfWork(store) as second:
        moved = orders.change_status(
            second.session,
            orders.StatusChange((order_id,), S.VERIFIED, S.HELD, "two", None, None, utcnow()),
        )
        assert moved is False
        with pytest.raises(TransitionRefused, match="is cancelled"):
            transition(second.session, order_id, S.HELD, Actor.system("two"))


def test_a_move_decided_on_an_old_status_is_refused(store: Engine, tmp_path: Path) -> None:
    order_id = _one_order(store, tmp_path)
    with UnitOfWork(store) as uow:
        transition(uow.session, order_id, S.ROUTED, Actor.system("router-a"))
        uow.commit()
    # Router B planned while the order was still verified: routed -> held is allowed by
    # the table, but B's decision was about a verified order, so it must not land.
    with UnitOfWork(store) as uow, pytest.raises(TransitionRefused, match="is routed"):
        transition(uow.session, order_id, S.HELD, Actor.system("router-b"), expected=S.VERIFIED)


def test_a_bulk_move_takes_the_orders_still_where_it_was_decided_and_records_each(
    store: Engine, tmp_path: Path
) -> None:
    add_reference(store)
    path = tmp_path / "three.jsonl"
    path.write_bytes(jsonl(order("W-1"), order("W-2"), order("W-3")))
    import_file(store, path, Actor.system("test"))
    with UnitOfWork(store, read_only=True) as uow:
        ids = list(uow.session.scalars(select(Order.id).order_by(Order.id)))
    with UnitOfWork(store) as uow:
        transition(uow.session, ids[1], S.HELD, Actor.system("desk"))
        uow.commit()
    wave = Actor("U7", None, None)
    with UnitOfWork(store) as uow:
        moved = transition_many(uow.session, ids, S.ROUTED, wave, expected=S.VERIFIED, note="n")
        uow.commit()
    # The held one stays held: it moved on before the bulk move was made.
    assert moved == [ids[0], ids[2]]
    with UnitOfWork(store, read_only=True) as uow:
        statuses = dict(uow.session.execute(select(Order.id, Order.status)).tuples().all())
        events = uow.session.execute(
            select(OrderEvent.order_id, OrderEvent.from_status, OrderEvent.to_status)
            .where(OrderEvent.actor == "U7", OrderEvent.note == "n")
            .order_by(OrderEvent.order_id)
        ).all()
    assert statuses == {ids[0]: S.ROUTED, ids[1]: S.HELD, ids[2]: S.ROUTED}
    assert [tuple(e) for e in events] == [(o, S.VERIFIED, S.ROUTED) for o in moved]


def test_a_bulk_move_the_table_does_not_allow_writes_nothing(store: Engine, tmp_path: Path) -> None:
    order_id = _one_order(store, tmp_path)
    with UnitOfWork(store) as uow:
        with pytest.raises(
            TransitionRefused, match="an order that is verified cannot become shipped"
        ):
            transition_many(
                uow.session, [order_id], S.SHIPPED, Actor.system("x"), expected=S.VERIFIED
            )
        assert (
            transition_many(uow.session, [], S.HELD, Actor.system("x"), expected=S.VERIFIED) == []
        )
        uow.commit()
    with UnitOfWork(store, read_only=True) as uow:
        assert len(list(uow.session.scalars(select(OrderEvent)))) == 2
        assert uow.session.scalar(select(Order.status)) is S.VERIFIED
