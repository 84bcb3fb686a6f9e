"""A carrier's rates in the shipping settings: what the packaging suggestion prices boxes
with, read and refused field by field."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.packing import station as pack
from app.shipping.settings import ShippingSettingsError, from_dict


def test_a_carriers_rates_are_read_and_become_its_carriage() -> None:
    settings = from_dict(
        {"carriers": {"GROUND": {"dim_divisor": 6000, "base_charge": "3.10", "per_kg": 1}}}
    )
    ground = settings.carrier("GROUND")
    assert (ground.dim_divisor, ground.base_charge, ground.per_kg) == (
        6000,
        Decimal("3.10"),
        Decimal("1"),
    )
    rate = pack.carrier_rate(settings, "GROUND")
    assert (rate.dim_divisor, rate.base, rate.per_kg, rate.max_weight) == (
        6000,
        Decimal("3.10"),
        Decimal("1"),
        70_000,
    )
    assert from_dict(settings.to_dict()) == settings
    with pytest.raises(pack.PackError, match="carrier 'NOPE' is not in the shipping settings"):
        pack.carrier_rate(settings, "NOPE")


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("dim_divisor", 50, "carriers.GROUND.dim_divisor: expected mm³ per gram from 1000"),
        ("dim_divisor", True, "carriers.GROUND.dim_divisor: expected mm³ per gram from 1000"),
        ("base_charge", "-1", "carriers.GROUND.base_charge: expected an amount of money"),
        ("per_kg", "lots", "carriers.GROUND.per_kg: expected an amount of money"),
        ("per_kg", 1.5, "carriers.GROUND.per_kg: expected an amount of money"),
    ],
)
def test_a_bad_rate_says_which_field_and_what_is_expected(
    field: str, value: object, error: str
) -> None:
    with pytest.raises(ShippingSettingsError, match=error):
        from_dict({"carriers": {"GROUND": {field: value}}})
