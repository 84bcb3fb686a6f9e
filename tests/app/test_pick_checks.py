"""The item scan's refusals: each names what was expected and what was scanned."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from app.picking.station import ItemScan, StationError, Task, check_item
from data.models import PickTaskStatus

GTIN = "4006381333931"
TODAY = date(2026, 11, 26)


def task(**changes: Any) -> Task:
    fields: dict[str, Any] = {
        "id": 1,
        "seq": 1,
        "location_id": 1,
        "location": "A-01-01-1",
        "location_barcode": "LOC-A-01-01-1",
        "x_mm": 0,
        "y_mm": 0,
        "sku": "SKU-1",
        "product": "Thing",
        "gtin": GTIN,
        "track_lot": False,
        "track_serial": False,
        "track_expiry": False,
        "lot": "",
        "quantity": 2,
        "picked": 0,
        "status": PickTaskStatus.OPEN,
        "tote_slot": 1,
        "tote": "TOTE-0001",
        "order_ref": "WEB/1",
    }
    fields.update(changes)
    return Task(**fields)


def gs1(*parts: str) -> str:
    return "01" + GTIN.zfill(14) + "".join(parts)


@pytest.mark.parametrize(
    ("changes", "scan", "message"),
    [
        (
            {"track_lot": True, "lot": "L1"},
            GTIN,
            f"SKU-1 is lot-tracked: expected the GS1 barcode with the lot (10), lot L1; "
            f"scanned '{GTIN}'",
        ),
        (
            {"track_lot": True, "lot": "L1"},
            gs1("10L2"),
            "wrong lot: expected lot L1, scanned lot L2",
        ),
        (
            {"track_serial": True},
            gs1("10L1"),
            f"SKU-1 is serial-tracked: expected the barcode with its serial (21); "
            f"scanned '{gs1('10L1')}'",
        ),
        (
            {"track_expiry": True},
            GTIN,
            f"SKU-1 has an expiry date: expected the barcode with it (17); scanned '{GTIN}'",
        ),
        (
            {},
            gs1("17261125"),
            "expired: expected a unit in date, scanned one that expired on 2026-11-25",
        ),
        (
            {"track_serial": True},
            gs1("30", "2\x1d", "21S1"),
            "SKU-1 is serial-tracked: expected one unit, scanned a case of 2",
        ),
        ({}, "4006381333948", "wrong item: expected SKU-1 (GTIN 4006381333931), scanned GTIN"),
    ],
)
def test_item_refusals_name_both_sides(changes: dict[str, Any], scan: str, message: str) -> None:
    with pytest.raises(StationError) as refused:
        check_item(task(**changes), scan, TODAY)
    assert message in str(refused.value)


def test_a_serial_scanned_twice_and_an_over_pick() -> None:
    serial_task = task(track_serial=True, quantity=3)
    first = check_item(serial_task, gs1("21S1"), TODAY)
    assert first == ItemScan("", "S1", None, 1)
    with pytest.raises(StationError, match="serial S1 was already scanned for this pick"):
        check_item(serial_task, gs1("21S1"), TODAY, [first])
    plain = task(quantity=1)
    one = check_item(plain, GTIN, TODAY)
    with pytest.raises(
        StationError, match="over-pick: 1 to pick here, 1 scanned; this scan would make 2"
    ):
        check_item(plain, GTIN, TODAY, [one])


def test_a_unit_expiring_today_is_still_good() -> None:
    item = check_item(task(track_expiry=True), gs1("17261126"), TODAY)
    assert item.expiry == TODAY
