"""The rules a pick is committed under live in one place, ``station.check_pick``: tried
here as a pure function in milliseconds, then through ``confirm_pick`` on both stores (the
PostgreSQL path writes in one statement, SQLite step by step), where every refusal says
the same words and writes nothing; a write whose read went stale is run again whole, and
the new read names the reason."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, update

from app.orders.cancel import cancel_order
from app.picking import station
from app.picking.station import ItemScan, StationError, check_pick
from app.users import LoggedIn, login
from data import pick_station as pick_rows
from data.models import (
    AllocationStatus,
    OrderStatus,
    PickListStatus,
    PickTaskStatus,
    Stock,
)
from data.types import utcnow
from data.uow import UnitOfWork
from tests.pickfloor import (
    ACTOR,
    books,
    claim_with,
    expiry_at,
    pick_task,
    picker,
    product_of,
)


def facts(**changes: Any) -> pick_rows.PickFacts:
    fields: dict[str, Any] = {
        "list_id": 7,
        "list_status": PickListStatus.CLAIMED,
        "claimed_by": 1,
        "claimed_station_id": 1,
        "node_id": 1,
        "wave_id": 1,
        "task_id": 70,
        "task_status": PickTaskStatus.OPEN,
        "quantity": 3,
        "picked": 1,
        "lot": "",
        "location_id": 5,
        "product_id": 9,
        "shipment_id": 8,
        "tote": "TOTE-1",
        "order_line_id": 11,
        "allocation_id": 12,
        "allocation_quantity": 2,
        "allocation_status": AllocationStatus.RESERVED,
        "order_id": 13,
        "order_status": OrderStatus.PICKING,
        "order_ref": "web/W-13",
        "on_hand": 10,
        "others_open": 2,
        "seen_serials": frozenset(),
    }
    fields.update(changes)
    return pick_rows.PickFacts(**fields)


def check(found: pick_rows.PickFacts, **scan: Any) -> pick_rows.PickWrite:
    given: dict[str, Any] = {
        "quantity": 1,
        "lot": found.lot,
        "tote": "TOTE-1",
        "serials": (),
        "expiry": None,
        "names": lambda: pick_rows.TaskNames("A-01-01-1", "SKU-9"),
    }
    given.update(scan)
    return check_pick(found, **given)


@pytest.mark.parametrize(
    ("changes", "scan", "message"),
    [
        ({"task_status": PickTaskStatus.DONE}, {}, "this pick is no longer open"),
        ({"task_status": PickTaskStatus.CANCELLED}, {}, "its order may have been cancelled"),
        ({}, {"quantity": 3}, "over-pick: 2 left to pick here, 3 scanned"),
        ({}, {"tote": "TOTE-2"}, "wrong tote: expected TOTE-1, scanned TOTE-2"),
        ({"lot": "L1"}, {"lot": "L2"}, "wrong lot: expected lot L1, scanned lot L2"),
        ({"lot": "L1"}, {"lot": ""}, "wrong lot: expected lot L1, scanned lot none"),
        (
            {"seen_serials": frozenset({"S2"})},
            {"quantity": 2, "serials": ("S1", "S2")},
            "serial S2 has been picked before: scanned SKU-9 serial S2",
        ),
        ({}, {"quantity": 2, "serials": ("S1", "S1")}, "the same serial was scanned twice"),
        ({"on_hand": 0}, {}, "the books say A-01-01-1 holds fewer than 1 of SKU-9: count"),
        ({"on_hand": None, "lot": "L1"}, {"lot": "L1"}, "holds fewer than 1 of SKU-9 lot L1"),
    ],
)
def test_each_rule_refuses_with_what_was_expected_and_what_was_scanned(
    changes: dict[str, Any], scan: dict[str, Any], message: str
) -> None:
    with pytest.raises(StationError, match=message):
        check(facts(**changes), **scan)


def test_an_allowed_pick_is_written_as_the_rules_saw_it() -> None:
    found = facts()
    part = check(found)
    assert (part.picked_before, part.task_status, part.allocation_left) == (
        1,
        PickTaskStatus.OPEN,
        1,
    )
    assert part.note == "pick list 7 task 70 for web/W-13"
    whole = check(found, quantity=2)
    assert (whole.task_status, whole.allocation_left) == (PickTaskStatus.DONE, 0)
    # An allocation that no longer holds the units is the store contradicting itself.
    with pytest.raises(RuntimeError, match="allocation 12 holds 1"):
        check(replace(found, allocation_quantity=1), quantity=2)


def test_every_refusal_is_the_same_on_both_stores_and_writes_nothing(floor: Engine) -> None:
    who = picker(floor)
    view, task = claim_with(floor, who, lambda t: t.track_lot and not t.track_serial)
    assert task.tote is not None
    assert task.lot
    expiry = expiry_at(floor, task)
    unit = ItemScan(task.lot, "", expiry, 1)
    before = books(floor)

    def refused(
        message: str,
        items: list[ItemScan],
        *,
        by: LoggedIn = who,
        list_id: int = view.id,
        tote: str = task.tote,
    ) -> None:
        with pytest.raises(StationError) as caught:
            station.confirm_pick(floor, by, list_id, task.id, items, tote)
        assert str(caught.value) == message
        assert books(floor) == before

    refused("nothing was scanned to pick", [])
    refused(
        f"over-pick: {task.left} left to pick here, {task.left + 1} scanned",
        [ItemScan(task.lot, "", expiry, task.left + 1)],
    )
    refused(
        f"wrong tote: expected {task.tote}, scanned TOTE-ELSEWHERE", [unit], tote="TOTE-ELSEWHERE"
    )
    refused(
        f"wrong lot: expected lot {task.lot}, scanned lot OTHERLOT",
        [ItemScan("OTHERLOT", "", expiry, 1)],
    )
    refused(
        f"one lot per pick: expected units of lot {task.lot}, scanned lots "
        f"{', '.join(sorted({task.lot, 'OTHERLOT'}))}; put the other lot back",
        [unit, ItemScan("OTHERLOT", "", expiry, 1)],
    )
    refused(
        "expired: a scanned unit expired on 2020-01-31; leave it and scan a good one",
        [ItemScan(task.lot, "", date(2020, 1, 31), 1)],
    )
    # Another picker's list, and a task of another list.
    other = login(floor, "PICK-02", "pick", "BADGE-U1002", "1112")
    refused(
        f"pick list {view.id} is no longer yours: it was taken back; claim the next one",
        [unit],
        by=other,
    )
    elsewhere = station.claim_next(floor, who)
    assert elsewhere is not None
    before = books(floor)
    refused("this pick is not on your pick list any more", [unit], list_id=elsewhere.id)
    # The books say the location is empty.
    with UnitOfWork(floor) as uow:
        uow.session.execute(
            update(Stock)
            .where(Stock.location_id == task.location_id, Stock.lot == task.lot)
            .values(on_hand=0)
        )
        uow.commit()
    before = books(floor)
    refused(
        f"the books say {task.location} holds fewer than 1 of {task.sku} lot {task.lot}: "
        "count the location, or short-pick",
        [unit],
    )
    # The order is cancelled: its picks are no longer open.
    cancel_order(floor, task.order_ref, "customer called", ACTOR)
    before = books(floor)
    refused("this pick is no longer open (its order may have been cancelled)", [unit])
    # Taken back by a supervisor.
    station.take_back(floor, ACTOR, view.id)
    before = books(floor)
    refused(
        f"pick list {view.id} is no longer yours: it was taken back; claim the next one", [unit]
    )


def test_a_done_task_and_serials_are_refused_the_same_on_both_stores(floor: Engine) -> None:
    who = picker(floor)
    view, task = claim_with(floor, who, lambda t: t.track_serial)
    assert task.tote is not None
    product = product_of(floor, task.id)
    expiry = expiry_at(floor, task)
    with UnitOfWork(floor) as uow:
        pick_rows.add_picked_serials(uow.session, product, task.id, ("SN-GONE",), utcnow())
        uow.commit()
    before = books(floor)

    def refused(message: str, items: list[ItemScan]) -> None:
        with pytest.raises(StationError) as caught:
            station.confirm_pick(floor, who, view.id, task.id, items, task.tote or "")
        assert str(caught.value) == message
        assert books(floor) == before

    refused(
        f"serial SN-GONE has been picked before: scanned {task.sku} serial SN-GONE; put that "
        "unit aside and scan another",
        [ItemScan(task.lot, "SN-GONE", expiry, 1)],
    )
    if task.left >= 2:
        refused(
            "the same serial was scanned twice for this pick",
            [ItemScan(task.lot, "SN-TWICE", expiry, 1)] * 2,
        )
    view = pick_task(floor, who, station.view(floor, view.id))
    before = books(floor)
    refused(
        "this pick is no longer open (its order may have been cancelled)",
        [ItemScan(task.lot, "SN-AGAIN", expiry, 1)],
    )


def test_a_write_whose_read_went_stale_runs_again_and_the_new_read_names_the_reason(
    floor: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    who = picker(floor)
    view, task = claim_with(
        floor, who, lambda t: not (t.track_lot or t.track_serial or t.track_expiry)
    )
    assert task.tote is not None
    # Another station took the location's units: this pick's first read is shown them
    # still there (as if it read before they went), so its rules pass and the stock
    # write's guard does not hold.
    with UnitOfWork(floor) as uow:
        uow.session.execute(
            update(Stock)
            .where(Stock.location_id == task.location_id, Stock.lot == task.lot)
            .values(on_hand=0)
        )
        uow.commit()
    real = pick_rows.pick_facts
    reads: list[pick_rows.PickFacts | None] = []
    stale = {"first": True}

    def stale_first(session: Any, task_id: int, **kwargs: Any) -> Any:
        found = real(session, task_id, **kwargs)
        reads.append(found)
        if stale.pop("first", False) and found is not None:
            return replace(found, on_hand=found.quantity)
        return found

    monkeypatch.setattr(pick_rows, "pick_facts", stale_first)
    before = books(floor)
    with pytest.raises(StationError) as caught:
        station.confirm_pick(floor, who, view.id, task.id, [ItemScan("", "", None, 1)], task.tote)
    assert str(caught.value) == (
        f"the books say {task.location} holds fewer than 1 of {task.sku}: count the location, "
        "or short-pick"
    )
    assert len(reads) == 2, "the pick ran again whole after its guarded write failed"
    assert books(floor) == before


def test_the_last_pick_closes_its_list_even_when_its_read_counted_a_task_still_open(
    floor: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    who = picker(floor)
    view, _task = claim_with(floor, who, lambda t: not t.track_serial)
    while len([t for t in view.tasks if t.status is PickTaskStatus.OPEN]) > 1:
        view = pick_task(floor, who, view)
    # The read before the last pick saw another task open (one a cancellation had just
    # closed, as a read that waited for its locks can): the pick's own statement, which
    # counts the list as it leaves it, still finds the list finished.
    real = pick_rows.pick_facts

    def one_more_open(session: Any, task_id: int, **kwargs: Any) -> Any:
        found = real(session, task_id, **kwargs)
        return None if found is None else replace(found, others_open=found.others_open + 1)

    monkeypatch.setattr(pick_rows, "pick_facts", one_more_open)
    view = pick_task(floor, who, view)
    assert view.status is PickListStatus.DONE
    with UnitOfWork(floor, read_only=True) as uow:
        kinds = [e[0] for e in pick_rows.events(uow.session, view.id)]
    assert kinds[-2:] == ["pick", "done"]
    assert all(t.status == "picked" for t in view.totes)
