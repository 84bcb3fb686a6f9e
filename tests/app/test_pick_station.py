"""The pick station's service on both stores: login, claim, totes, picks with every
refusal, a short pick re-routed by DOM, skip, pause and resume, take-back, and the books
reconciling afterwards."""

from __future__ import annotations

import multiprocessing
from datetime import timedelta
from multiprocessing.queues import Queue

import pytest
from sqlalchemy import Engine, select

from app.actor import Actor
from app.picking import station
from app.picking.station import ItemScan, StationError
from app.users import LoginError, login
from data import inventory
from data import pick_station as pick_rows
from data import users as user_rows
from data.models import (
    Order,
    OrderStatus,
    PickListStatus,
    PickTaskStatus,
    Shipment,
    ShipmentStatus,
)
from data.store import make_engine
from data.types import utcnow
from data.uow import UnitOfWork
from tests.pickfloor import load_totes, pick_task, picker


def test_login_refusals_and_lockout(floor: Engine) -> None:
    with pytest.raises(LoginError, match="wrong PIN for U1001: 4 tries left"):
        picker(floor, pin="9999")
    with pytest.raises(LoginError, match="enter your PIN"):
        picker(floor, pin="")
    with pytest.raises(LoginError, match="not known here"):
        picker(floor, badge="U0000")
    with pytest.raises(LoginError, match="may not use a pick station"):
        picker(floor, badge="U2001", pin="2222")
    for _ in range(3):
        with pytest.raises(LoginError, match="wrong PIN"):
            picker(floor, pin="0000")
    with pytest.raises(LoginError, match="locked for 15 minutes"):
        picker(floor, pin="0000")
    with pytest.raises(LoginError, match="is locked after 5 wrong PINs"):
        picker(floor)  # the right PIN does not open a locked badge
    later = utcnow() + timedelta(minutes=16)
    who = login(floor, "PICK-01", "pick", "BADGE-U1001", "1111", now=later)
    assert (who.name, who.station_code, who.node_code) == ("Pat Picker", "PICK-01", "WH1")
    with UnitOfWork(floor, read_only=True) as uow:
        outcomes = user_rows.login_outcomes(uow.session, "U1001")
    assert outcomes == [
        "wrong_pin",
        "blank_pin",
        "wrong_pin",
        "wrong_pin",
        "wrong_pin",
        "locked",
        "locked",
        "ok",
    ]


def test_the_right_pin_clears_wrong_tries_even_where_the_role_is_refused(floor: Engine) -> None:
    for left in (4, 3):
        with pytest.raises(LoginError, match=f"wrong PIN for U2001: {left} tries left"):
            picker(floor, badge="U2001", pin="0000")
    with pytest.raises(LoginError, match="may not use a pick station"):
        picker(floor, badge="U2001", pin="2222")
    with pytest.raises(LoginError, match="wrong PIN for U2001: 4 tries left"):
        picker(floor, badge="U2001", pin="0000")


def test_a_whole_pick_list_with_refusals_short_skip_pause(floor: Engine) -> None:
    who = picker(floor)
    view = station.claim_next(floor, who)
    # A list with a few different lines (the demo's smallest lists have one or two).
    while view is not None and len({(t.order_ref, t.sku) for t in view.tasks}) < 3:
        view = station.claim_next(floor, who)
    assert view is not None
    assert view.status is PickListStatus.CLAIMED
    with pytest.raises(StationError, match="expected a tote barcode"):
        station.set_tote(floor, who, view.id, 1, "LOC-A-01-01-1")
    view = load_totes(floor, who, view)
    assert view.totes_ready
    task = view.current
    assert task is not None
    # Every refusal names what was expected and what was scanned; nothing is written.
    with pytest.raises(StationError, match=f"wrong location: expected {task.location}"):
        station.check_location(task, "LOC-ZZ-99")
    with pytest.raises(StationError, match="wrong item: expected"):
        station.check_item(task, "5012345999999", station.local_today("UTC"))
    with pytest.raises(StationError, match="wrong tote: expected"):
        station.check_tote(task, "TOTE-9999")
    with pytest.raises(StationError, match="over-pick"):
        station.confirm_pick(
            floor, who, view.id, task.id, [ItemScan("", "", None, task.left + 1)], task.tote or ""
        )
    # Skip the first task to the end of the route.
    if view.lines_left > 1:
        skipped = task.id
        view = station.skip(floor, who, view.id, task.id)
        assert view.current is not None
        assert view.current.id != skipped
        assert view.tasks[-1].id == skipped
    # Pause, and resume on "another terminal": claim_next gives the paused list back first.
    station.pause(floor, who, view.id)
    other = login(floor, "PICK-02", "pick", "BADGE-U1002", "1112")
    resumed = station.claim_next(floor, other)
    assert resumed is not None
    assert resumed.id == view.id
    with pytest.raises(StationError, match="no longer yours"):
        station.skip(floor, who, view.id, resumed.tasks[0].id)
    # Another picker's cart: the list's totes are set up again on it.
    assert (resumed.resumed, resumed.handed_over, resumed.totes_ready) == (True, True, False)
    who, view = other, load_totes(floor, other, resumed)
    view = pick_task(floor, who, view)
    # Short-pick the next open task: DOM re-routes its units, the location is corrected.
    first = view.current
    assert first is not None
    result = station.short_pick(floor, who, view.id, first.id, "not_found")
    # Said in the picker's words: what becomes of the missing units, no node codes.
    assert result.rerouted.startswith(f"order {first.order_ref} ")
    assert "missing unit(s)" in result.rerouted
    view = result.view
    assert next(t for t in view.tasks if t.id == first.id).status is PickTaskStatus.SHORT
    while view.current is not None:
        view = pick_task(floor, who, view)
    assert view.status is PickListStatus.DONE
    with UnitOfWork(floor, read_only=True) as uow:
        assert inventory.reconcile(uow.session) == []
        kinds = [e[0] for e in pick_rows.events(uow.session, view.id)]
        ships = uow.session.execute(
            select(Shipment.status, Order.status)
            .join(Order, Order.id == Shipment.order_id)
            .where(Shipment.pick_list_id == view.id)
        ).all()
    assert kinds[0] == "claim"
    assert kinds[-1] == "done"
    assert {"tote", "skip", "pause", "short", "pick"} <= set(kinds)
    assert all(s in (ShipmentStatus.PICKED, ShipmentStatus.CANCELLED) for s, _ in ships)
    assert any(o in (OrderStatus.PICKED, OrderStatus.PICKING) for _, o in ships)


def test_a_supervisor_takes_a_list_back_and_a_stale_claim_is_taken_over(floor: Engine) -> None:
    who = picker(floor)
    view = station.claim_next(floor, who)
    assert view is not None
    assert station.heartbeat(floor, who, view.id).ours
    station.take_back(floor, Actor("U5001"), view.id)
    assert not station.heartbeat(floor, who, view.id).ours
    again = station.claim_next(floor, who)
    assert again is not None
    # The terminal crashes: no heartbeat; after STALE_AFTER another picker takes it over.
    with UnitOfWork(floor) as uow:
        pick_rows.heartbeat(uow.session, again.id, who.user_id, utcnow() - station.STALE_AFTER * 2)
        uow.commit()
    other = login(floor, "PICK-02", "pick", "BADGE-U1002", "1112")
    taken = station.claim_next(floor, other)
    assert taken is not None
    assert taken.id == again.id


def _claim_all(url: str, badge: str, pin: str, out: Queue[list[int]]) -> None:
    engine = make_engine(url)
    who = login(engine, "PICK-01", "pick", badge, pin)
    got = []
    while (view := station.claim_next(engine, who)) is not None:
        got.append(view.id)
    engine.dispose()
    out.put(got)


def test_two_pickers_never_get_the_same_list(floor: Engine) -> None:
    url = floor.url.render_as_string(hide_password=False)
    ctx = multiprocessing.get_context("spawn")
    out: Queue[list[int]] = ctx.Queue()
    procs = [
        ctx.Process(target=_claim_all, args=(url, badge, pin, out))
        for badge, pin in (("U1001", "1111"), ("U1002", "1112"))
    ]
    for p in procs:
        p.start()
    got = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(30)
    with UnitOfWork(floor, read_only=True) as uow:
        from data.models import PickList

        all_lists = set(uow.session.scalars(select(PickList.id)))
    assert not set(got[0]) & set(got[1])
    assert set(got[0]) | set(got[1]) == all_lists


def test_an_order_cancelled_mid_pick(floor: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.cli import main

    who = picker(floor)
    view = station.claim_next(floor, who)
    assert view is not None
    view = load_totes(floor, who, view)
    first = view.current
    assert first is not None
    view = pick_task(floor, who, view)
    db = ["--db", floor.url.render_as_string(hide_password=False)]
    assert main(["orders", "cancel", first.order_ref, "--reason", "customer called", *db]) == 0
    said = capsys.readouterr().out
    assert f"Cancelled {first.order_ref}" in said
    assert f"already picked into {first.tote}" in said
    view = station.view(floor, view.id)
    of_order = [t for t in view.tasks if t.order_ref == first.order_ref]
    assert all(t.status is not PickTaskStatus.OPEN for t in of_order)
    assert next(t for t in view.totes if t.order_ref == first.order_ref).status == "cancelled"
    with UnitOfWork(floor, read_only=True) as uow:
        assert inventory.reconcile(uow.session) == []
    assert main(["orders", "cancel", first.order_ref, "--reason", "again", *db]) == 1
    assert "is cancelled" in capsys.readouterr().err
    # The rest of the list goes on.
    while view.current is not None:
        view = pick_task(floor, who, view)
    assert view.status is PickListStatus.DONE


def test_login_and_pick_history_are_append_only(floor: Engine) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    who = picker(floor)
    assert station.claim_next(floor, who) is not None
    for table in ("login_events", "pick_events"):
        with pytest.raises(DBAPIError, match="append-only"), UnitOfWork(floor) as uow:
            uow.session.execute(text(f"UPDATE {table} SET at = at"))
        with pytest.raises(DBAPIError, match="append-only"), UnitOfWork(floor) as uow:
            uow.session.execute(text(f"DELETE FROM {table}"))


def test_take_back_command(
    floor: Engine, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.cli import main

    monkeypatch.setenv("SUPERVISOR_PIN", "5555")

    who = picker(floor)
    view = station.claim_next(floor, who)
    assert view is not None
    db = ["--db", floor.url.render_as_string(hide_password=False)]
    assert (
        main(
            [
                "picklist",
                "take-back",
                str(view.id),
                "--user",
                "U5001",
                "--pin-env",
                "SUPERVISOR_PIN",
                *db,
            ]
        )
        == 0
    )
    assert "released again" in capsys.readouterr().out
    assert station.view(floor, view.id).status is PickListStatus.RELEASED
    assert (
        main(
            [
                "picklist",
                "take-back",
                str(view.id),
                "--user",
                "U5001",
                "--pin-env",
                "SUPERVISOR_PIN",
                *db,
            ]
        )
        == 1
    )
    assert "nothing to take back" in capsys.readouterr().err


def test_a_list_taken_over_on_another_terminal_is_no_longer_the_first_ones(floor: Engine) -> None:
    first = picker(floor)
    view = station.claim_next(floor, first)
    assert view is not None
    with UnitOfWork(floor) as uow:  # the first terminal hangs: no heartbeat
        pick_rows.heartbeat(uow.session, view.id, first.user_id, utcnow() - station.STALE_AFTER * 2)
        uow.commit()
    # The same picker logs in at another cart and gets the list back there.
    second = login(floor, "PICK-02", "pick", "BADGE-U1001", "1111")
    taken = station.claim_next(floor, second)
    assert taken is not None
    assert taken.id == view.id
    # The first terminal wakes up: it no longer holds the list.
    assert not station.heartbeat(floor, first, view.id).ours
    with pytest.raises(StationError, match="no longer yours"):
        station.skip(floor, first, view.id, taken.tasks[0].id)
    assert station.heartbeat(floor, second, view.id).ours


def test_picking_every_list_finishes_its_orders_and_waves_through_the_lifecycle(
    floor: Engine,
) -> None:
    from data.models import (
        AllocationStatus,
        LineAllocation,
        OrderEvent,
        OrderLine,
        Wave,
        WaveStatus,
    )

    who = picker(floor)
    lists = 0
    while (view := station.claim_next(floor, who)) is not None:
        lists += 1
        view = load_totes(floor, who, view)
        while view.current is not None:
            view = pick_task(floor, who, view)
        assert view.status is PickListStatus.DONE
    assert lists > 1
    with UnitOfWork(floor, read_only=True) as uow:
        s = uow.session
        waves = set(s.scalars(select(Wave.status)))
        on_lists = set(s.scalars(select(Shipment.order_id)))
        statuses = dict(
            s.execute(select(Order.id, Order.status).where(Order.id.in_(on_lists))).tuples().all()
        )
        waiting = set(
            s.scalars(
                select(OrderLine.order_id)
                .join(LineAllocation, LineAllocation.order_line_id == OrderLine.id)
                .where(
                    OrderLine.order_id.in_(on_lists),
                    LineAllocation.status == AllocationStatus.RESERVED,
                )
            )
        )
        moves = s.execute(
            select(OrderEvent.order_id, OrderEvent.from_status, OrderEvent.actor).where(
                OrderEvent.to_status == OrderStatus.PICKED
            )
        ).all()
        assert inventory.reconcile(s) == []
    assert waves == {WaveStatus.DONE}
    # An order with units still reserved (at another node, or for a later wave) is still
    # being picked; every other one is picked.
    assert {o for o, st in statuses.items() if st is OrderStatus.PICKING} == waiting
    assert {o for o, st in statuses.items() if st is OrderStatus.PICKED} == on_lists - waiting
    assert on_lists - waiting
    # Each order became picked once, from picking, by the picker who finished it.
    assert sorted(o for o, _, _ in moves) == sorted(on_lists - waiting)
    assert {(f, a) for _, f, a in moves} == {(OrderStatus.PICKING, who.badge)}
