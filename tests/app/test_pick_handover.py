"""A pick list changing hands, on both stores: a picker gets their own list back first
(after a restart, or paused), a list taken back or taken over has its totes set up again
while the units already picked stay recorded against their totes, and a resumed list
keeps the time already spent on it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Engine, func, select

from app.actor import Actor
from app.picking import station
from app.picking.station import StationError
from app.users import login
from data import inventory
from data import pick_station as pick_rows
from data.models import PickEvent, PickListStatus, PickTaskStatus
from data.uow import UnitOfWork
from tests.pickfloor import load_totes, pick_task, picker


def test_a_picker_gets_their_own_list_back_first(floor: Engine) -> None:
    other = login(floor, "PICK-02", "pick", "BADGE-U1002", "1112")
    first = station.claim_next(floor, other)
    assert first is not None
    who = picker(floor)
    mine = station.claim_next(floor, who)
    assert mine is not None
    assert not mine.resumed
    mine = load_totes(floor, who, mine)
    # The other picker pauses theirs: a paused list comes before released ones, and this
    # one ranks before mine.
    station.pause(floor, other, first.id)
    # My station restarts while I hold my list (its claim is fresh, not stale) and I log in
    # again: I get my own list back, with its totes, not the other picker's paused one.
    who = picker(floor)
    again = station.claim_next(floor, who)
    assert again is not None
    assert (again.id, again.resumed, again.handed_over) == (mine.id, True, False)
    assert [t.tote for t in again.totes] == [t.tote for t in mine.totes]
    # Paused, my list still comes back to me before the other paused list.
    station.pause(floor, who, mine.id)
    again = station.claim_next(floor, who)
    assert again is not None
    assert (again.id, again.handed_over) == (mine.id, False)
    assert again.totes_ready
    # And the other picker gets theirs.
    theirs = station.claim_next(floor, other)
    assert theirs is not None
    assert theirs.id == first.id
    # Within one login, claiming again is another list (a held one is not given twice);
    # and a list held at another station is never taken while its claim is fresh.
    more = station.claim_next(floor, who)
    assert more is not None
    assert more.id not in (mine.id, first.id)
    third = login(floor, "PICK-02", "pick", "BADGE-U1001", "1111")
    taken = station.claim_next(floor, third)
    assert taken is None or taken.id not in (mine.id, first.id, more.id)


def test_a_list_taken_back_gets_new_totes_and_keeps_the_picked_ones(floor: Engine) -> None:
    who = picker(floor)
    view = station.claim_next(floor, who)
    # A list with more than one line, so that a line is left after the first pick.
    while view is not None and view.lines_left < 2:
        view = station.claim_next(floor, who)
    assert view is not None
    view = load_totes(floor, who, view)
    picked = view.current
    assert picked is not None
    old_tote = picked.tote
    assert old_tote is not None
    view = pick_task(floor, who, view)
    station.take_back(floor, Actor("U5001"), view.id)

    other = login(floor, "PICK-02", "pick", "BADGE-U1002", "1112")
    taken = station.claim_next(floor, other)
    assert taken is not None
    assert (taken.id, taken.resumed, taken.handed_over) == (view.id, True, True)
    # The totes were on the first picker's cart: every slot is set up again.
    assert all(t.tote is None for t in taken.totes if t.status == "picking")
    assert not taken.totes_ready
    slot = next(t for t in taken.totes if t.slot == picked.tote_slot)
    assert slot.earlier == (old_tote,)
    # The tote with units in it is not an empty tote for another order...
    elsewhere = next((t for t in taken.totes if t.slot != slot.slot), None)
    if elsewhere is not None:
        with pytest.raises(
            StationError,
            match=re.escape(
                f"expected an empty tote for slot {elsewhere.slot}, scanned {old_tote}, which "
                f"still holds order {picked.order_ref}'s items: leave it and scan an empty tote"
            ),
        ):
            station.set_tote(floor, other, taken.id, elsewhere.slot, old_tote)
    # ... and the new picker's totes take the rest.
    taken = station.set_tote(floor, other, taken.id, slot.slot, "TOTE-NEW01")
    for i, tote in enumerate(t for t in taken.totes if t.tote is None and t.status == "picking"):
        taken = station.set_tote(floor, other, taken.id, tote.slot, f"TOTE-NEW{i + 2:02d}")
    assert taken.totes_ready
    while taken.current is not None:
        taken = pick_task(floor, other, taken)
    assert taken.status is PickListStatus.DONE
    with UnitOfWork(floor, read_only=True) as uow:
        assert inventory.reconcile(uow.session) == []
        history = pick_rows.events(uow.session, view.id)
    kinds = [e[0] for e in history]
    assert kinds.index("take_back") < kinds.index("totes_off") < kinds.index("claim", 1)
    # The first picker's units stay recorded against the tote they went into.
    assert ("pick", picked.id, picked.left, old_tote) in [e[:4] for e in history]
    later = [e for e in history[kinds.index("totes_off") :] if e[0] == "pick"]
    assert later
    assert all(e[3].startswith("TOTE-NEW") for e in later)


def test_a_paused_list_claimed_by_another_picker_gets_new_totes(floor: Engine) -> None:
    who = picker(floor)
    view = station.claim_next(floor, who)
    assert view is not None
    view = load_totes(floor, who, view)
    station.pause(floor, who, view.id)
    other = login(floor, "PICK-02", "pick", "BADGE-U1002", "1112")
    taken = station.claim_next(floor, other)
    assert taken is not None
    assert (taken.id, taken.handed_over) == (view.id, True)
    assert not taken.totes_ready
    # Nothing was picked: the first picker's totes are empty and free again.
    first_tote = next(t.tote for t in view.totes if t.tote)
    assert first_tote is not None
    taken = station.set_tote(floor, other, taken.id, taken.totes[0].slot, first_tote)
    assert taken.totes[0].tote == first_tote


def test_a_list_with_no_totes_yet_changes_hands_with_nothing_to_set_up_again(
    floor: Engine,
) -> None:
    who = picker(floor)
    view = station.claim_next(floor, who)
    assert view is not None
    station.pause(floor, who, view.id)
    other = login(floor, "PICK-02", "pick", "BADGE-U1002", "1112")
    taken = station.claim_next(floor, other)
    assert taken is not None
    assert (taken.id, taken.resumed, taken.handed_over) == (view.id, True, False)
    with UnitOfWork(floor, read_only=True) as uow:
        assert "totes_off" not in [e[0] for e in pick_rows.events(uow.session, view.id)]


def test_a_resumed_list_keeps_its_time(floor: Engine) -> None:
    who = picker(floor)
    view = station.claim_next(floor, who)
    assert view is not None
    assert view.elapsed_seconds >= 0
    station.pause(floor, who, view.id)
    again = station.claim_next(floor, who)
    assert again is not None
    assert again.id == view.id
    with UnitOfWork(floor, read_only=True) as uow:
        first_claim = uow.session.scalar(
            select(func.min(PickEvent.at)).where(
                PickEvent.pick_list_id == view.id, PickEvent.kind == "claim"
            )
        )
        head = pick_rows.head(uow.session, view.id)
    assert head is not None
    # The time runs from the first claim, not from the claim that resumed it.
    assert head.started_at == first_claim
    assert head.claimed_at is not None
    assert first_claim is not None
    assert head.claimed_at > first_claim
    assert again.elapsed_seconds >= (head.claimed_at - first_claim).total_seconds()


def test_a_short_pick_tells_the_picker_in_their_words(floor: Engine) -> None:
    who = picker(floor)
    view = station.claim_next(floor, who)
    assert view is not None
    view = load_totes(floor, who, view)
    task = view.current
    assert task is not None
    result = station.short_pick(floor, who, view.id, task.id, "empty")
    assert re.fullmatch(
        rf"order {re.escape(task.order_ref)} (gets the {task.left} missing unit\(s\) from "
        rf"other stock|waits for the office, which finds the {task.left} missing unit\(s\))",
        result.rerouted,
    ), result.rerouted
    assert next(t for t in result.view.tasks if t.id == task.id).status is PickTaskStatus.SHORT


def test_a_location_scanned_with_or_without_the_dash_after_its_aisle(floor: Engine) -> None:
    who = picker(floor)
    view = station.claim_next(floor, who)
    assert view is not None
    task = view.current
    assert task is not None
    code = task.location_barcode
    # The demo's codes are A01-01-1; its labels and documents also spell them A-01-01-1.
    dashed = re.sub(r"^LOC-([A-Z]+)(\d)", r"LOC-\1-\2", code)
    assert dashed != code
    station.check_location(task, dashed)
    station.check_location(task, code.lower())
    with pytest.raises(StationError, match="wrong location"):
        station.check_location(task, f"{dashed}9")
