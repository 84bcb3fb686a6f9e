"""Bid prices: zero for plentiful stock, the saving of one more unit for scarce stock."""

from __future__ import annotations

import pytest

from app.dom.bidprices import Place, bid_prices, unit_cost
from app.dom.costs import LinearShippingCost
from app.dom.geo import haversine_miles

COST = LinearShippingCost(per_package=1.0, per_unit=0.0, per_mile=0.01)
EAST = Place("EAST", 40.71, -74.0)
WEST = Place("WEST", 34.05, -118.24)
NYC = Place("NYC", 40.71, -74.0)


def test_plentiful_stock_has_no_bid_price() -> None:
    prices = bid_prices(
        [EAST, WEST],
        [NYC],
        {("EAST", "PEN"): 100, ("WEST", "PEN"): 100},
        {("NYC", "PEN"): 10},
        COST,
        unserved_penalty=1000,
    )
    assert prices == {}


def test_scarce_stock_near_demand_is_worth_the_detour_it_saves() -> None:
    prices = bid_prices(
        [EAST, WEST],
        [NYC],
        {("EAST", "PEN"): 5, ("WEST", "PEN"): 100},
        {("NYC", "PEN"): 10},
        COST,
        unserved_penalty=1000,
    )
    far = unit_cost(COST, haversine_miles(40.71, -74.0, 34.05, -118.24), 1.0)
    near = unit_cost(COST, 0.0, 1.0)
    assert prices == {("EAST", "PEN"): pytest.approx(far - near)}


def test_when_demand_exceeds_all_stock_every_unit_is_worth_the_lost_sale() -> None:
    prices = bid_prices(
        [EAST], [NYC], {("EAST", "PEN"): 5}, {("NYC", "PEN"): 10}, COST, unserved_penalty=50
    )
    assert prices[("EAST", "PEN")] == pytest.approx(50 - unit_cost(COST, 0.0, 1.0))


def test_units_per_package_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        bid_prices([EAST], [NYC], {}, {}, COST, unserved_penalty=1, units_per_package=0)
