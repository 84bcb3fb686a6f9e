"""The baseline policies behave as the systems they imitate."""

from __future__ import annotations

from app.dom.assign import LineDemand, NodeOption
from app.dom.baselines import nearest, priority
from app.dom.costs import LinearShippingCost

COST = LinearShippingCost()
OPTIONS = [
    NodeOption("NEAR", 10, {"PEN": 1, "PAD": 0}, priority=3),
    NodeOption("MID", 200, {"PEN": 5, "PAD": 5}, priority=2),
    NodeOption("FAR", 900, {"PEN": 9, "PAD": 9}, priority=1),
]


def test_nearest_takes_each_line_from_the_closest_node_with_stock() -> None:
    plan = nearest([LineDemand(1, "PEN", 3), LineDemand(2, "PAD", 1)], OPTIONS, COST)
    assert [(a.line_id, a.node, a.quantity) for a in plan.allocations] == [
        (1, "NEAR", 1),
        (1, "MID", 2),
        (2, "MID", 1),
    ]
    assert plan.packages == ("MID", "NEAR")
    assert plan.complete


def test_priority_walks_the_fixed_sequence_and_reports_what_is_missing() -> None:
    plan = priority([LineDemand(1, "PEN", 20)], OPTIONS, COST)
    assert [(a.node, a.quantity) for a in plan.allocations] == [("FAR", 9), ("MID", 5), ("NEAR", 1)]
    assert plan.unfilled == {1: 5}


def test_two_lines_of_one_sku_do_not_take_the_same_units_twice() -> None:
    plan = nearest([LineDemand(1, "PEN", 1), LineDemand(2, "PEN", 1)], OPTIONS, COST)
    assert [(a.line_id, a.node) for a in plan.allocations] == [(1, "NEAR"), (2, "MID")]
