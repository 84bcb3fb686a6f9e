"""The DOM benchmark's instance family, DLP and simulation are built as documented."""

from __future__ import annotations

from math import sqrt

import numpy as np
import pytest

from app.dom import bench


def test_instances_follow_the_family_and_are_deterministic() -> None:
    a, b = bench.make_instance(3, 500), bench.make_instance(3, 500)
    assert a == b
    assert len(a.centres) == bench.CENTRES
    assert {len(t) for t in a.types} == {1, 2, 3, 4, 5}
    assert sum(p for _, _, p in a.arrival) == pytest.approx(1.0)
    assert all(any((k, i) in a.inventory for k in range(bench.CENTRES)) for i in range(bench.ITEMS))
    stocked_share = len(a.inventory) / (bench.CENTRES * bench.ITEMS)
    assert 0.5 < stocked_share <= 1.0


def test_starting_inventory_formula() -> None:
    inst = bench.make_instance(5, 10_000)
    key = next(iter(inst.inventory))
    k, i = key
    lam = 0.0
    for city, t, p in inst.arrival:
        if i in inst.types[t]:
            holders = [c for c in range(bench.CENTRES) if (c, i) in inst.inventory]
            if min(holders, key=lambda c: inst.miles(city, c)) == k:
                lam += p
    expected = round(10_000 * lam + 0.5 * sqrt(10_000 * lam * (1 - lam)))
    assert inst.inventory[key] == expected


def test_vectorised_method_costs_match_the_definition() -> None:
    inst = bench.make_instance(7, 1000)
    dlp = bench.DLP(inst)
    column = 0
    for city, t, _ in inst.arrival[:12]:
        for method in bench._methods(inst, inst.types[t]):
            assert dlp.costs[column] == pytest.approx(bench._method_cost(inst, city, method))
            column += 1


def test_the_dlp_meets_expected_demand_within_inventory() -> None:
    inst = bench.make_instance(2, 2000)
    dlp = bench.DLP(inst)
    result = dlp.solve(inst.inventory, inst.horizon)
    assert result.cost > 0
    assert all(v > 0 for v in result.bid_prices.values())
    # Less stock can only cost more.
    halved = {key: qty // 2 for key, qty in inst.inventory.items()}
    assert dlp.solve(halved, inst.horizon).cost > result.cost
    assert np.all(dlp.costs > 0)


@pytest.mark.parametrize("policy", ["ours", "nearest", "priority"])
def test_every_policy_fills_orders_from_stock_it_has(policy: str) -> None:
    inst = bench.make_instance(11, 300)
    outcome = bench.simulate(inst, 1, policy, refresh=100)
    assert outcome.orders == 300
    assert 0.9 <= outcome.filled / outcome.units <= 1.0
    assert outcome.packages >= outcome.orders * (outcome.filled / outcome.units) - 1e-9


def test_run_reports_every_policy_and_the_large_network() -> None:
    report = bench.run(instances=1, sequences=1, horizon=200, large_orders=5)
    policies = report["policies"]
    assert isinstance(policies, dict)
    assert set(policies) == {"ours", "nearest", "priority"}
    for values in policies.values():
        assert set(values) == {
            "cost_ratio",
            "split_rate",
            "packages_per_order",
            "unit_fill",
            "latency_ms_p50",
            "latency_ms_p95",
        }
    large = report["large_network"]
    assert isinstance(large, dict)
    assert (large["nodes"], large["lines_per_order"]) == (400, 10)
