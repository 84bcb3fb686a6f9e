"""A picker claims a particular pick list by scanning its barcode (LIST- and its number):
a free one is theirs; one that is done, someone else's, or not there is refused with the
reason, and nothing changes."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from app.picking import station
from app.picking.station import StationError
from data.models import PickListStatus
from tests.pickfloor import load_totes, pick_task, picker


def test_a_scanned_list_is_claimed_and_refusals_say_why(floor: Engine) -> None:
    pat = picker(floor)
    quinn = picker(floor, "U1002", "1112")
    held = station.claim_next(floor, quinn)
    assert held is not None
    free = station.claim_next(floor, pat)
    assert free is not None
    station.pause(floor, pat, free.id)
    # Quinn's list is being picked at another station.
    with pytest.raises(StationError) as refused:
        station.claim_list(floor, pat, held.id)
    assert str(refused.value) == (
        f"scanned LIST-{held.id}: pick list {held.id} is being picked at another station: "
        "claim another, or ask a supervisor to take it back"
    )
    assert station.view(floor, held.id).claimed_by == quinn.user_id
    with pytest.raises(StationError, match="there is no pick list 99999; scan another list"):
        station.claim_list(floor, pat, 99999)
    # Pat's paused list, by its barcode.
    view = station.claim_list(floor, pat, free.id)
    assert (view.id, view.status, view.claimed_by) == (free.id, PickListStatus.CLAIMED, pat.user_id)
    assert view.resumed
    view = load_totes(floor, pat, view)
    while view.current is not None:
        view = pick_task(floor, pat, view)
    with pytest.raises(StationError, match=f"pick list {free.id} is done: nothing to pick"):
        station.claim_list(floor, pat, free.id)
