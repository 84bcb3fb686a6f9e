"""Baseline sourcing policies, for comparison with the optimiser.

Both take each line on its own and walk a fixed order of nodes, taking what each has
until the line is filled, the way Magento MSI's source selection algorithms do:
*nearest* sorts the nodes by distance to the ship-to address (MSI's distance-based
algorithm), *priority* by a fixed node priority (MSI's source-priority algorithm, OFBiz's
facility sequence).
"""

from __future__ import annotations

from collections.abc import Sequence

from app.dom.assign import Allocation, LineDemand, NodeOption, Plan
from app.dom.costs import ShippingCost


def _waterfall(
    lines: Sequence[LineDemand], ordered: Sequence[NodeOption], cost: ShippingCost
) -> Plan:
    remaining = {(n.code, sku): qty for n in ordered for sku, qty in n.atp.items()}
    allocations: list[Allocation] = []
    unfilled: dict[int, int] = {}
    for line in lines:
        needed = line.quantity
        for node in ordered:
            if needed == 0:
                break
            take = min(needed, remaining.get((node.code, line.sku), 0))
            if take > 0:
                allocations.append(Allocation(line.line_id, node.code, take))
                remaining[(node.code, line.sku)] -= take
                needed -= take
        if needed:
            unfilled[line.line_id] = needed
    by_code = {n.code: n for n in ordered}
    used = sorted({a.node for a in allocations})
    shipping = sum(cost.package(by_code[c].miles) for c in used) + sum(
        cost.unit(by_code[a.node].miles) * a.quantity for a in allocations
    )
    return Plan(tuple(allocations), unfilled, shipping, 0.0, tuple(used), "baseline")


def nearest(lines: Sequence[LineDemand], options: Sequence[NodeOption], cost: ShippingCost) -> Plan:
    """Each line from the nearest node with stock, then the next nearest, and so on."""
    return _waterfall(lines, sorted(options, key=lambda n: (n.miles, n.code)), cost)


def priority(
    lines: Sequence[LineDemand], options: Sequence[NodeOption], cost: ShippingCost
) -> Plan:
    """Each line from the highest-priority node with stock (lowest number first)."""
    return _waterfall(lines, sorted(options, key=lambda n: (n.priority, n.code)), cost)
