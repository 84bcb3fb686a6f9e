"""The per-order optimiser: the cheapest way to ship an order's lines from the nodes offered.

A mixed-integer programme solved by HiGHS (through scipy): integer units per (line, node),
a binary "a package leaves this node" per node, and unfilled units at a penalty. Splitting
costs through the per-package term; bid prices add the opportunity cost of using scarce
stock. Ties are broken by the ranking criteria, in order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_matrix

from app.dom.costs import ShippingCost


@dataclass(frozen=True)
class LineDemand:
    """An order line to place: how many units of which SKU."""

    line_id: int
    sku: str
    quantity: int


@dataclass(frozen=True)
class NodeOption:
    """A node that may serve the order, with what it can promise now."""

    code: str
    miles: float
    """Distance from the node to the ship-to address."""
    atp: Mapping[str, int]
    """Available to promise by SKU (already net of safety stock)."""
    priority: int = 100
    """Lower is preferred when cost and proximity tie."""


@dataclass(frozen=True)
class SplitPolicy:
    """How many packages (nodes) one order may ship from; None means no limit."""

    max_packages: int | None = None

    def __post_init__(self) -> None:
        if self.max_packages is not None and self.max_packages < 1:
            raise ValueError("an order needs at least one package")


SHIP_COMPLETE = SplitPolicy(1)
ALLOW_SPLITS = SplitPolicy(None)


class Criterion(StrEnum):
    """Ways to rank equally good plans, applied in the order a site lists them."""

    COST = "cost"
    PROXIMITY = "proximity"
    PRIORITY = "priority"


DEFAULT_RANKING = (Criterion.COST, Criterion.PROXIMITY, Criterion.PRIORITY)


@dataclass(frozen=True)
class Allocation:
    """Units of one line sent from one node."""

    line_id: int
    node: str
    quantity: int


@dataclass(frozen=True)
class Plan:
    """The chosen assignment and what it costs."""

    allocations: tuple[Allocation, ...]
    unfilled: Mapping[int, int]
    """Units no offered node could (or, under the policy, may) ship, by line id."""
    shipping_cost: float
    opportunity_cost: float
    packages: tuple[str, ...]
    """The nodes a package leaves from."""
    solver_status: str = field(default="optimal")

    @property
    def complete(self) -> bool:
        return not any(self.unfilled.values())


def plan_order(
    lines: Sequence[LineDemand],
    options: Sequence[NodeOption],
    cost: ShippingCost,
    *,
    policy: SplitPolicy = ALLOW_SPLITS,
    bid_prices: Mapping[tuple[str, str], float] | None = None,
    unfilled_penalty: float,
    ranking: Sequence[Criterion] = DEFAULT_RANKING,
    time_limit_s: float = 1.0,
) -> Plan:
    """The minimum-cost plan for one order (see the module docstring)."""
    if not lines:
        raise ValueError("an order with no lines has nothing to plan")
    bids = bid_prices or {}
    nodes = [n for n in options if any(n.atp.get(ln.sku, 0) > 0 for ln in lines)]
    if not nodes:
        return Plan((), {ln.line_id: ln.quantity for ln in lines}, 0.0, 0.0, ())

    pairs = [
        (li, ni)
        for li, ln in enumerate(lines)
        for ni, node in enumerate(nodes)
        if node.atp.get(ln.sku, 0) > 0
    ]
    n_x, n_y, n_u = len(pairs), len(nodes), len(lines)
    size = n_x + n_y + n_u
    y0, u0 = n_x, n_x + n_y

    # Tie-breaks are kept far below a cent so they never outweigh a real cost difference.
    max_miles = max(n.miles for n in nodes) or 1.0
    max_priority = max(n.priority for n in nodes) or 1
    tie = {Criterion.COST: 0.0}
    scale = 1e-4
    for criterion in ranking:
        if criterion is Criterion.COST:
            continue
        tie[criterion] = scale
        scale /= 100

    c = np.zeros(size)
    for k, (li, ni) in enumerate(pairs):
        node, ln = nodes[ni], lines[li]
        c[k] = cost.unit(node.miles) + bids.get((node.code, ln.sku), 0.0)
    for ni, node in enumerate(nodes):
        c[y0 + ni] = (
            cost.package(node.miles)
            + tie.get(Criterion.PROXIMITY, 0.0) * node.miles / max_miles
            + tie.get(Criterion.PRIORITY, 0.0) * node.priority / max_priority
        )
    c[u0:] = unfilled_penalty

    rows: list[tuple[dict[int, float], float, float]] = []
    # Every unit of a line is shipped from somewhere or left unfilled.
    for li, ln in enumerate(lines):
        coeffs = {k: 1.0 for k, (pl, _) in enumerate(pairs) if pl == li}
        coeffs[u0 + li] = 1.0
        rows.append((coeffs, ln.quantity, ln.quantity))
    # A node ships nothing unless its package is opened, and no more than its ATP
    # (summed over lines of the same SKU).
    by_node_sku: dict[tuple[int, str], list[int]] = {}
    for k, (li, ni) in enumerate(pairs):
        by_node_sku.setdefault((ni, lines[li].sku), []).append(k)
    for (ni, sku), ks in by_node_sku.items():
        atp = nodes[ni].atp[sku]
        coeffs = {k: 1.0 for k in ks}
        coeffs[y0 + ni] = -float(atp)
        rows.append((coeffs, -np.inf, 0.0))
    if policy.max_packages is not None:
        rows.append(({y0 + ni: 1.0 for ni in range(n_y)}, -np.inf, policy.max_packages))

    matrix = lil_matrix((len(rows), size))
    lower, upper = np.empty(len(rows)), np.empty(len(rows))
    for r, (coeffs, lo, hi) in enumerate(rows):
        for k, v in coeffs.items():
            matrix[r, k] = v
        lower[r], upper[r] = lo, hi

    ub = np.empty(size)
    for k, (li, _ni) in enumerate(pairs):
        ub[k] = lines[li].quantity
    ub[y0:u0] = 1
    ub[u0:] = [ln.quantity for ln in lines]
    result = milp(
        c,
        constraints=LinearConstraint(matrix.tocsr(), lower, upper),
        integrality=np.ones(size),
        bounds=Bounds(np.zeros(size), ub),
        options={"time_limit": time_limit_s},
    )
    if result.x is None:
        raise RuntimeError(f"the order could not be planned: {result.message}")
    x = np.rint(result.x).astype(int)
    allocations = tuple(
        Allocation(lines[li].line_id, nodes[ni].code, int(x[k]))
        for k, (li, ni) in enumerate(pairs)
        if x[k] > 0
    )
    used = sorted({a.node for a in allocations})
    by_code = {n.code: n for n in nodes}
    shipping = sum(cost.package(by_code[code].miles) for code in used) + sum(
        cost.unit(by_code[a.node].miles) * a.quantity for a in allocations
    )
    sku_of = {ln.line_id: ln.sku for ln in lines}
    opportunity = sum(bids.get((a.node, sku_of[a.line_id]), 0.0) * a.quantity for a in allocations)
    unfilled = {ln.line_id: int(x[u0 + li]) for li, ln in enumerate(lines) if x[u0 + li] > 0}
    return Plan(
        allocations=allocations,
        unfilled=unfilled,
        shipping_cost=shipping,
        opportunity_cost=opportunity,
        packages=tuple(used),
        solver_status="optimal" if result.status == 0 else str(result.message),
    )
