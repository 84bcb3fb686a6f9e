"""The per-order optimiser on cases whose best answer is known by hand."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.dom.assign import (
    ALLOW_SPLITS,
    SHIP_COMPLETE,
    Criterion,
    LineDemand,
    NodeOption,
    Plan,
    SplitPolicy,
    plan_order,
    prune,
)
from app.dom.costs import LinearShippingCost, RateBand, RateTable
from app.dom.geo import haversine_miles

COST = LinearShippingCost(per_package=8.759, per_unit=0.423, per_mile=0.000541)
PENALTY = 100.0
LINES = [LineDemand(1, "PEN", 2), LineDemand(2, "PAD", 1)]


def test_haversine_matches_known_distances() -> None:
    # New York to Los Angeles is about 2,446 statute miles along the great circle.
    assert haversine_miles(40.7128, -74.0060, 34.0522, -118.2437) == pytest.approx(2445.6, abs=2)
    assert haversine_miles(10, 20, 10, 20) == 0


def test_one_package_from_a_far_node_beats_two_from_near_ones() -> None:
    near_pen = NodeOption("NEAR1", 50, {"PEN": 5})
    near_pad = NodeOption("NEAR2", 60, {"PAD": 5})
    far_both = NodeOption("FAR", 2000, {"PEN": 5, "PAD": 5})
    plan = plan_order(LINES, [near_pen, near_pad, far_both], COST, unfilled_penalty=PENALTY)
    assert plan.packages == ("FAR",)
    assert plan.complete
    assert plan.shipping_cost == pytest.approx(8.759 + 0.000541 * 2000 + 3 * 0.423)


def test_splitting_wins_when_packages_are_cheap_and_miles_dear() -> None:
    cost = LinearShippingCost(per_package=1.0, per_unit=0.1, per_mile=0.01)
    options = [
        NodeOption("NEAR1", 50, {"PEN": 5}),
        NodeOption("NEAR2", 60, {"PAD": 5}),
        NodeOption("FAR", 2000, {"PEN": 5, "PAD": 5}),
    ]
    plan = plan_order(LINES, options, cost, unfilled_penalty=PENALTY)
    assert plan.packages == ("NEAR1", "NEAR2")
    # The same order under ship-complete goes to the one node that has everything.
    complete = plan_order(LINES, options, cost, policy=SHIP_COMPLETE, unfilled_penalty=PENALTY)
    assert complete.packages == ("FAR",)


def test_a_line_is_split_across_nodes_only_when_no_node_has_enough() -> None:
    lines = [LineDemand(1, "PEN", 5)]
    options = [NodeOption("A", 10, {"PEN": 3}), NodeOption("B", 20, {"PEN": 3})]
    plan = plan_order(lines, options, COST, unfilled_penalty=PENALTY)
    assert sorted((a.node, a.quantity) for a in plan.allocations) in (
        [("A", 3), ("B", 2)],
        [("A", 2), ("B", 3)],
    )
    limited = plan_order(lines, options, COST, policy=SplitPolicy(1), unfilled_penalty=PENALTY)
    assert limited.unfilled == {1: 2}
    assert len(limited.packages) == 1


def test_lines_of_the_same_sku_share_the_node_atp() -> None:
    lines = [LineDemand(1, "PEN", 2), LineDemand(2, "PEN", 2)]
    plan = plan_order(lines, [NodeOption("A", 10, {"PEN": 3})], COST, unfilled_penalty=PENALTY)
    assert sum(a.quantity for a in plan.allocations) == 3
    assert sum(plan.unfilled.values()) == 1


def test_nothing_in_stock_leaves_everything_unfilled() -> None:
    plan = plan_order(LINES, [NodeOption("A", 10, {"MUG": 9})], COST, unfilled_penalty=PENALTY)
    assert plan.allocations == ()
    assert plan.unfilled == {1: 2, 2: 1}


def test_bid_prices_keep_scarce_stock_for_orders_that_need_it() -> None:
    options = [
        NodeOption("NEAR", 100, {"PEN": 1, "PAD": 1}),
        NodeOption("FAR", 400, {"PEN": 9, "PAD": 9}),
    ]
    lines = [LineDemand(1, "PEN", 1), LineDemand(2, "PAD", 1)]
    plain = plan_order(lines, options, COST, unfilled_penalty=PENALTY)
    assert plain.packages == ("NEAR",)
    bids = {("NEAR", "PEN"): 0.5, ("NEAR", "PAD"): 0.5}
    kept = plan_order(lines, options, COST, bid_prices=bids, unfilled_penalty=PENALTY)
    assert kept.packages == ("FAR",)
    assert kept.opportunity_cost == 0


def test_ties_are_broken_by_proximity_then_priority_or_as_the_site_orders_them() -> None:
    cost = RateTable([RateBand(10_000, per_package=5.0, per_unit=0.5)])
    lines = [LineDemand(1, "PEN", 1)]
    options = [
        NodeOption("FAR-FIRST", 900, {"PEN": 1}, priority=1),
        NodeOption("NEAR-LAST", 100, {"PEN": 1}, priority=9),
    ]
    assert plan_order(lines, options, cost, unfilled_penalty=PENALTY).packages == ("NEAR-LAST",)
    by_priority = plan_order(
        lines,
        options,
        cost,
        unfilled_penalty=PENALTY,
        ranking=(Criterion.COST, Criterion.PRIORITY, Criterion.PROXIMITY),
    )
    assert by_priority.packages == ("FAR-FIRST",)


def test_rate_tables_are_checked() -> None:
    with pytest.raises(ValueError, match="increasing"):
        RateTable([RateBand(500, 5, 0.1), RateBand(100, 4, 0.1)])
    table = RateTable([RateBand(150, 6.0, 0.2), RateBand(600, 8.0, 0.3)])
    assert (table.package(150), table.unit(151)) == (6.0, 0.3)
    with pytest.raises(ValueError, match="beyond the rate table"):
        table.package(601)
    assert ALLOW_SPLITS.max_packages is None


def _objective(plan: Plan, penalty: float) -> float:
    return plan.shipping_cost + plan.opportunity_cost + penalty * sum(plan.unfilled.values())


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("ABC"), st.integers(1, 4)), min_size=1, max_size=4),
    st.lists(
        st.tuples(
            st.floats(0, 3000),
            st.dictionaries(st.sampled_from("ABC"), st.integers(0, 5)),
            st.booleans(),
        ),
        min_size=1,
        max_size=5,
    ),
    st.sampled_from([None, 1, 2]),
)
def test_enumeration_and_the_milp_agree(
    raw_lines: list[tuple[str, int]],
    raw_nodes: list[tuple[float, dict[str, int], bool]],
    max_packages: int | None,
) -> None:
    lines = [LineDemand(i, sku, qty) for i, (sku, qty) in enumerate(raw_lines)]
    nodes = [
        NodeOption(f"N{i}", miles, atp, package_paid=paid)
        for i, (miles, atp, paid) in enumerate(raw_nodes)
    ]
    policy = SplitPolicy(max_packages)
    fast = plan_order(lines, nodes, COST, policy=policy, unfilled_penalty=PENALTY)
    exact = plan_order(
        lines, nodes, COST, policy=policy, unfilled_penalty=PENALTY, exact_solver=True
    )
    assert _objective(fast, PENALTY) == pytest.approx(_objective(exact, PENALTY), abs=1e-3)
    if max_packages is not None:
        paid = {n.code for n in nodes if n.package_paid}
        assert len(set(fast.packages) - paid) <= max_packages


def test_a_large_network_is_pruned_to_a_few_candidates() -> None:
    lines = [LineDemand(i, f"S{i}", 1) for i in range(10)]
    nodes = [NodeOption(f"N{n:03d}", 10.0 + n, {f"S{i}": 5 for i in range(10)}) for n in range(400)]
    kept = prune(lines, nodes, COST, {})
    assert len(kept) <= 10 * 2 + 3
    plan = plan_order(lines, nodes, COST, unfilled_penalty=PENALTY)
    assert plan.packages == ("N000",)


def test_a_criterion_ranked_above_cost_outweighs_it() -> None:
    lines = [LineDemand(1, "PEN", 1)]
    options = [
        NodeOption("CHEAP-FAR", 1500, {"PEN": 1}, priority=9),
        NodeOption("DEAR-NEAR", 10, {"PEN": 1}, priority=1),
    ]
    cost = RateTable([RateBand(1000, 5.0, 0.5), RateBand(5000, 4.0, 0.5)])
    assert plan_order(lines, options, cost, unfilled_penalty=PENALTY).packages == ("CHEAP-FAR",)
    first = plan_order(
        lines,
        options,
        cost,
        unfilled_penalty=PENALTY,
        ranking=(Criterion.PROXIMITY, Criterion.COST, Criterion.PRIORITY),
    )
    assert first.packages == ("DEAR-NEAR",)
    with pytest.raises(ValueError, match="must include cost"):
        plan_order(lines, options, cost, unfilled_penalty=PENALTY, ranking=(Criterion.PROXIMITY,))


def test_pruning_never_leaves_a_unit_the_network_could_ship() -> None:
    lines = [LineDemand(1, "PEN", 3), LineDemand(2, "PAD", 1)]
    near = [NodeOption(f"N{i}", 10.0 + i, {"PAD": 5}) for i in range(7)]
    far = [NodeOption(f"F{i}", 900.0 + i, {"PEN": 1}) for i in range(3)]
    kept = prune(lines, near + far, COST, {})
    assert sum(n.atp.get("PEN", 0) for n in kept) < 3  # pruning alone would fall short
    plan = plan_order(lines, near + far, COST, unfilled_penalty=PENALTY)
    assert plan.complete
    assert {"F0", "F1", "F2"} <= set(plan.packages)


def test_a_package_already_paid_for_is_filled_first() -> None:
    lines = [LineDemand(1, "PEN", 2)]
    options = [
        NodeOption("USED", 900, {"PEN": 5}, package_paid=True),
        NodeOption("NEAR", 10, {"PEN": 5}),
    ]
    plan = plan_order(lines, options, COST, policy=SplitPolicy(0 + 1), unfilled_penalty=PENALTY)
    assert plan.packages == ("USED",)
    assert plan.shipping_cost == pytest.approx(2 * 0.423)
