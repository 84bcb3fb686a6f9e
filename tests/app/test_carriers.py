"""Carriers' tracking numbers with their check digits, the site's own rate tables, and rate
shopping (pure: no store)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.carriers import rates, tracking
from app.shipping.settings import ShippingSettingsError, from_dict

# Published examples: UPS's documentation number and the FedEx API's test number.
UPS_EXAMPLE = "1Z999AA10123456784"
FEDEX_EXAMPLE = "123456789012"


def test_published_numbers_check() -> None:
    assert tracking.check("ups", UPS_EXAMPLE) == ""
    assert tracking.check("fedex", FEDEX_EXAMPLE) == ""
    assert tracking.check("ups", "1Z999AA10123456785") == "its check digit is 5, it should be 4"
    assert tracking.check("fedex", "123456789013") == "its check digit is 3, it should be 2"
    assert "1Z and 16" in tracking.check("ups", "1Z999")
    assert "22 digits starting 92" in tracking.check("usps", "9400111")
    assert tracking.check("site", "GP00000000017") == ""
    assert tracking.check("site", "GP00000000018") == "its check digit is 8, it should be 7"


def test_made_numbers_have_the_carriers_shape() -> None:
    assert tracking.make("ups", 1234567, account="999AA1", service="express") == (
        "1Z999AA101" + "1234567" + str(tracking.ups_check("999AA1011234567"))
    )
    assert tracking.make("ups", 123456, account="999AA1", service="ground")[:10] == "1Z999AA103"
    usps = tracking.make("usps", 42, account="123456789")
    assert len(usps) == 22
    assert usps.startswith("92001123456789")
    assert tracking.make("fedex", 12345678901) == FEDEX_EXAMPLE
    assert tracking.make("site", 1, prefix="GP") == "GP00000000017"


@given(st.sampled_from(["ups", "usps", "fedex", "site"]), st.integers(1, 9_999_999))
def test_every_made_number_checks_and_one_changed_digit_does_not(fmt: str, serial: int) -> None:
    number = tracking.make(
        fmt, serial, prefix="GP", account="123456789"[: 9 if fmt == "usps" else 6]
    )
    assert tracking.check(fmt, number) == ""
    last = number[-1]
    wrong = number[:-1] + str((int(last) + 1) % 10)
    assert tracking.check(fmt, wrong) != ""


def test_a_number_cannot_be_made_without_what_the_format_needs() -> None:
    with pytest.raises(tracking.TrackingError, match="6-character UPS shipper number"):
        tracking.make("ups", 1, account="SF-GP-0001")
    with pytest.raises(tracking.TrackingError, match="9-digit mailer id"):
        tracking.make("usps", 1, account="12")
    with pytest.raises(tracking.TrackingError, match="more than 7 digits"):
        tracking.make("ups", 10**7, account="999AA1")
    with pytest.raises(tracking.TrackingError, match="unknown tracking format"):
        tracking.make("dhl", 1)


TABLES: dict[str, Any] = {
    "carriers": {
        "GROUND": {
            "name": "Ground Parcel",
            "tracking_prefix": "GP",
            "dim_divisor": 5000,
            "services": {
                "GROUND": {
                    "name": "Ground",
                    "levels": ["standard"],
                    "cutoff": "17:00",
                    "fuel_pct": "0.10",
                    "residential": "1.00",
                    "oversize_mm": 1000,
                    "oversize": "20.00",
                    "bands": [
                        {"up_to_km": 300, "days": 1, "base": "4.00", "per_kg": "0.50"},
                        {"up_to_km": 1500, "days": 3, "base": "6.00", "per_kg": "0.80"},
                        {"up_to_km": None, "days": 5, "base": "9.00", "per_kg": "1.00"},
                    ],
                }
            },
        },
        "EXPRESS": {
            "name": "Express Courier",
            "tracking_prefix": "EX",
            "account": "999AA1",
            "tracking_format": "ups",
            "services": {
                "AIR": {
                    "name": "Air",
                    "levels": ["standard", "express", "next_day"],
                    "cutoff": "18:30",
                    "bands": [{"up_to_km": None, "days": 1, "base": "12.00", "per_kg": "2.00"}],
                }
            },
        },
    }
}


def parcel(**changes: Any) -> rates.Parcel:
    base: dict[str, Any] = {
        "weight_g": 2300,
        "length_mm": 300,
        "width_mm": 200,
        "height_mm": 150,
        "distance_km": 120.0,
    }
    return rates.Parcel(**{**base, **changes})


NODE = ZoneInfo("America/New_York")
MORNING = datetime(2026, 6, 1, 9, 0, tzinfo=NODE)
EVENING = datetime(2026, 6, 1, 17, 30, tzinfo=NODE)


def test_a_quote_follows_its_band_weight_and_surcharges() -> None:
    settings = from_dict(TABLES)
    ground = settings.carrier("GROUND")
    service = ground.services[0]
    near = rates.quote(ground, service, parcel(), MORNING, "standard", date(2026, 6, 6))
    # 3 started kg (2.3 kg; 9,000 cm³ / 5000 = 1.8 kg) × 0.50 + 4.00 + 1.00 residential, +10 %.
    assert near.billable_g == 2300
    assert near.price == Decimal("7.15")
    assert (near.ship_date, near.arrives) == (date(2026, 6, 1), date(2026, 6, 2))
    assert near.meets
    # A light, bulky box is billed by its volume; an oversize side pays the surcharge.
    bulky = rates.quote(
        ground, service, parcel(weight_g=500, length_mm=1100), MORNING, "standard", date(2026, 6, 6)
    )
    assert bulky.billable_g == 1100 * 200 * 150 // 5000
    assert bulky.price == Decimal("31.35")  # (4 + 7 × 0.5 + 1 + 20) × 1.1
    # After the cut-off it leaves tomorrow; far away it takes the far band.
    late = rates.quote(
        ground, service, parcel(distance_km=2000.0), EVENING, "standard", date(2026, 6, 6)
    )
    assert (late.ship_date, late.arrives, late.days) == (date(2026, 6, 2), date(2026, 6, 7), 5)
    assert not late.meets
    assert late.why == "arrives Sun 07 Jun, after Sat 06 Jun"
    # No coordinates: the farthest band (never a promise made on a guess).
    unknown = rates.quote(
        ground, service, parcel(distance_km=None), MORNING, "standard", date(2026, 6, 6)
    )
    assert unknown.days == 5


def test_rate_shopping_takes_the_cheapest_that_arrives_in_time() -> None:
    settings = from_dict(TABLES)
    shopped = rates.shop(settings, parcel(), MORNING, "standard", date(2026, 6, 6))
    assert shopped.choice is not None
    assert (shopped.choice.carrier, shopped.choice.service) == ("GROUND", "GROUND")
    assert [q.carrier for q in shopped.quotes] == ["GROUND", "EXPRESS"]
    assert "cheapest of 2 that arrive by Sat 06 Jun" in shopped.reason()
    # Next day: ground does not carry it; air does.
    fast = rates.shop(settings, parcel(), MORNING, "next_day", date(2026, 6, 2))
    assert fast.choice is not None
    assert fast.choice.carrier == "EXPRESS"
    assert fast.quotes[-1].why == "does not carry next_day orders"
    # Promised for a day no service can make (the order is late): the cheapest that carries
    # its level, said so; the soonest where the site expedites late orders.
    late = rates.shop(settings, parcel(distance_km=5000.0), EVENING, "standard", date(2026, 6, 1))
    assert late.choice is not None
    assert late.late
    assert (late.choice.carrier, late.choice.arrives) == ("GROUND", date(2026, 6, 7))
    assert "arrives Sun 07 Jun: LATE, promised by Mon 01 Jun" in late.reason()
    hurry = from_dict({**TABLES, "expedite_late": True})
    fast_late = rates.shop(hurry, parcel(distance_km=5000.0), EVENING, "standard", date(2026, 6, 1))
    assert fast_late.choice is not None
    assert (fast_late.choice.carrier, fast_late.choice.arrives) == ("EXPRESS", date(2026, 6, 2))
    # A level no rate table carries: no choice (the wave's carrier takes it).
    no_pickup = rates.shop(settings, parcel(), MORNING, "pickup", date(2026, 6, 6))
    assert no_pickup.choice is None
    assert no_pickup.reason() == "no service in the rate tables carries pickup orders"
    assert rates.promised_by("express", date(2026, 6, 1)) == date(2026, 6, 3)


def test_rate_tables_are_checked_when_set() -> None:
    def bad(service: dict[str, Any]) -> str:
        with pytest.raises(ShippingSettingsError) as caught:
            from_dict(
                {
                    "carriers": {
                        "X": {"name": "X", "tracking_prefix": "X", "services": {"S": service}}
                    }
                }
            )
        return str(caught.value)

    band = {"up_to_km": 100, "days": 1, "base": "1", "per_kg": "1"}
    assert "levels: expected a list" in bad({"levels": ["fast"], "bands": [band]})
    assert "bands: expected a list of distance bands" in bad({"levels": ["standard"]})
    assert "only the last band may be open-ended" in bad(
        {"levels": ["standard"], "bands": [{**band, "up_to_km": None}, band]}
    )
    assert "above the band before (100)" in bad({"levels": ["standard"], "bands": [band, band]})
    assert 'cutoff: expected the time at the node as "HH:MM"' in bad(
        {"levels": ["standard"], "bands": [band], "cutoff": "5pm"}
    )
    assert "fuel_pct: expected a fraction below 1" in bad(
        {"levels": ["standard"], "bands": [band], "fuel_pct": "12"}
    )
    with pytest.raises(ShippingSettingsError, match="6-character UPS shipper number"):
        from_dict(
            {"carriers": {"U": {"name": "U", "tracking_prefix": "U", "tracking_format": "ups"}}}
        )
    # What is saved reads back the same.
    settings = from_dict(TABLES)
    assert from_dict(settings.to_dict()) == settings
    assert rates.rate_shopping(settings)
    assert not rates.rate_shopping(from_dict({}))
