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
    package_paid: bool = False
    """The order already ships a package from here (re-routing): adding units to it costs
    no new package and does not count against the split policy."""


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


# Up to this many candidate nodes, trying every subset of nodes is faster than the MILP
# and just as exact.
ENUMERATE_UP_TO = 6
# Candidate pruning on large networks: per line, the nodes cheapest for it alone; and the
# nodes that can cover the most lines (so consolidation stays possible).
CHEAPEST_PER_LINE = 2
BEST_COVERING = 3


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
    exact_solver: bool = False,
) -> Plan:
    """The minimum-cost plan for one order (see the module docstring).

    `exact_solver` forces the MILP even where enumeration would do (for tests).
    """
    if not lines:
        raise ValueError("an order with no lines has nothing to plan")
    bids = bid_prices or {}
    stocked = [n for n in options if any(n.atp.get(ln.sku, 0) > 0 for ln in lines)]
    if not stocked:
        return Plan((), {ln.line_id: ln.quantity for ln in lines}, 0.0, 0.0, ())
    nodes = prune(lines, stocked, cost, bids)
    plan = _solve(
        lines, nodes, cost, bids, policy, unfilled_penalty, ranking, time_limit_s, exact_solver
    )
    if not plan.complete and len(nodes) < len(stocked):
        # Pruning kept the cheap nodes but not enough stock: look at every node holding
        # any of the order before leaving a unit unfilled.
        plan = _solve(
            lines, stocked, cost, bids, policy, unfilled_penalty, ranking, time_limit_s, True
        )
    return plan


def _solve(
    lines: Sequence[LineDemand],
    nodes: Sequence[NodeOption],
    cost: ShippingCost,
    bids: Mapping[tuple[str, str], float],
    policy: SplitPolicy,
    penalty: float,
    ranking: Sequence[Criterion],
    time_limit_s: float,
    exact_solver: bool,
) -> Plan:
    package_cost = _package_costs(nodes, cost, ranking)
    if len(nodes) <= ENUMERATE_UP_TO and not exact_solver:
        allocations = _enumerate(lines, nodes, cost, bids, package_cost, policy, penalty)
        status = "optimal"
    else:
        allocations, status = _solve_milp(
            lines, nodes, cost, bids, package_cost, policy, penalty, time_limit_s
        )
    return _plan(lines, nodes, cost, bids, allocations, status)


def prune(
    lines: Sequence[LineDemand],
    nodes: Sequence[NodeOption],
    cost: ShippingCost,
    bids: Mapping[tuple[str, str], float],
) -> list[NodeOption]:
    """The nodes worth considering: for each line the few cheapest for it alone, plus the
    few that can serve the most lines. Small sets are returned whole."""
    if len(nodes) <= ENUMERATE_UP_TO:
        return list(nodes)
    keep: dict[str, NodeOption] = {}
    for ln in lines:
        holding = [n for n in nodes if n.atp.get(ln.sku, 0) > 0]
        holding.sort(
            key=lambda n: (
                cost.package(n.miles)
                + min(ln.quantity, n.atp[ln.sku])
                * (cost.unit(n.miles) + bids.get((n.code, ln.sku), 0.0))
                + max(0, ln.quantity - n.atp[ln.sku]) * 1e6,
                n.code,
            )
        )
        for n in holding[:CHEAPEST_PER_LINE]:
            keep[n.code] = n
    covering = sorted(
        nodes,
        key=lambda n: (
            -sum(min(ln.quantity, n.atp.get(ln.sku, 0)) for ln in lines),
            cost.package(n.miles),
            n.code,
        ),
    )
    for n in covering[:BEST_COVERING]:
        keep[n.code] = n
    return [n for n in nodes if n.code in keep]


# A criterion ranked above cost adds up to this much per package (scaled 0..1 over the
# candidates), which outweighs any ordinary cost difference; one ranked below cost only
# breaks ties (far below a cent).
ABOVE_COST_WEIGHT = 100.0
BELOW_COST_WEIGHT = 1e-4


def _package_costs(
    nodes: Sequence[NodeOption], cost: ShippingCost, ranking: Sequence[Criterion]
) -> list[float]:
    """Each node's package cost plus the ranking criteria's terms, in the site's order."""
    if Criterion.COST not in ranking:
        raise ValueError("the ranking must include cost")
    max_miles = max(n.miles for n in nodes) or 1.0
    max_priority = max(n.priority for n in nodes) or 1
    weight: dict[Criterion, float] = {}
    cost_at = list(ranking).index(Criterion.COST)
    for position, criterion in enumerate(ranking):
        if position < cost_at:
            weight[criterion] = ABOVE_COST_WEIGHT / 100**position
        elif position > cost_at:
            weight[criterion] = BELOW_COST_WEIGHT / 100 ** (position - cost_at - 1)
    return [
        (0.0 if n.package_paid else cost.package(n.miles))
        + weight.get(Criterion.PROXIMITY, 0.0) * n.miles / max_miles
        + weight.get(Criterion.PRIORITY, 0.0) * n.priority / max_priority
        for n in nodes
    ]


def _enumerate(
    lines: Sequence[LineDemand],
    nodes: Sequence[NodeOption],
    cost: ShippingCost,
    bids: Mapping[tuple[str, str], float],
    package_cost: Sequence[float],
    policy: SplitPolicy,
    penalty: float,
) -> list[tuple[int, int, int]]:
    """Exact search over the sets of nodes a package leaves from.

    For a fixed set, each SKU's units go to its cheapest nodes in the set first (unit
    costs do not depend on what else ships), so trying every set finds the optimum. A set
    with a node that ships nothing is skipped: the same set without it is cheaper.
    """
    demand: dict[str, int] = {}
    for ln in lines:
        demand[ln.sku] = demand.get(ln.sku, 0) + ln.quantity
    # Equal unit costs go to the node that wins on the package terms (proximity, priority),
    # as the MILP would, so a line is not split between equals for no reason.
    ranked = {
        sku: [
            (unit, i)
            for unit, _tie, i in sorted(
                (cost.unit(n.miles) + bids.get((n.code, sku), 0.0), package_cost[i], i)
                for i, n in enumerate(nodes)
                if n.atp.get(sku, 0) > 0
            )
        ]
        for sku in demand
    }
    limit = policy.max_packages
    paid_mask = sum(1 << i for i, n in enumerate(nodes) if n.package_paid)
    best: tuple[float, int, dict[str, list[tuple[int, int]]]] | None = None
    for mask in range(0, 1 << len(nodes)):
        members = (mask & ~paid_mask).bit_count()
        if limit is not None and members > limit:
            continue
        total = sum(package_cost[i] for i in range(len(nodes)) if mask >> i & 1)
        used = 0
        fills: dict[str, list[tuple[int, int]]] = {}
        for sku, wanted in demand.items():
            left = wanted
            fill: list[tuple[int, int]] = []
            for unit, i in ranked[sku]:
                if left == 0 or unit >= penalty:  # dearer than leaving it unfilled
                    break
                if mask >> i & 1:
                    take = min(left, nodes[i].atp[sku])
                    fill.append((i, take))
                    total += unit * take
                    left -= take
                    used |= 1 << i
            total += left * penalty
            fills[sku] = fill
        if used != mask:
            continue
        if best is None or total < best[0] - 1e-12:
            best = (total, mask, fills)
    allocations: list[tuple[int, int, int]] = []
    if best is None:  # cannot happen: the empty set is always a candidate
        return allocations
    remaining = {sku: list(fill) for sku, fill in best[2].items()}
    for li, ln in enumerate(lines):
        need = ln.quantity
        queue = remaining[ln.sku]
        while need and queue:
            i, available = queue[0]
            take = min(need, available)
            allocations.append((li, i, take))
            need -= take
            if take == available:
                queue.pop(0)
            else:
                queue[0] = (i, available - take)
    return allocations


def _solve_milp(
    lines: Sequence[LineDemand],
    nodes: Sequence[NodeOption],
    cost: ShippingCost,
    bids: Mapping[tuple[str, str], float],
    package_cost: Sequence[float],
    policy: SplitPolicy,
    penalty: float,
    time_limit_s: float,
) -> tuple[list[tuple[int, int, int]], str]:
    pairs = [
        (li, ni)
        for li, ln in enumerate(lines)
        for ni, node in enumerate(nodes)
        if node.atp.get(ln.sku, 0) > 0
    ]
    n_x, n_y, n_u = len(pairs), len(nodes), len(lines)
    size = n_x + n_y + n_u
    y0, u0 = n_x, n_x + n_y

    c = np.zeros(size)
    for k, (li, ni) in enumerate(pairs):
        node, ln = nodes[ni], lines[li]
        c[k] = cost.unit(node.miles) + bids.get((node.code, ln.sku), 0.0)
    c[y0:u0] = package_cost
    c[u0:] = penalty
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
        unpaid = {y0 + ni: 1.0 for ni in range(n_y) if not nodes[ni].package_paid}
        if unpaid:
            rows.append((unpaid, -np.inf, policy.max_packages))

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
    allocations = [(li, ni, int(x[k])) for k, (li, ni) in enumerate(pairs) if x[k] > 0]
    return allocations, "optimal" if result.status == 0 else str(result.message)


def _plan(
    lines: Sequence[LineDemand],
    nodes: Sequence[NodeOption],
    cost: ShippingCost,
    bids: Mapping[tuple[str, str], float],
    raw: Sequence[tuple[int, int, int]],
    status: str,
) -> Plan:
    allocations = tuple(
        Allocation(lines[li].line_id, nodes[ni].code, qty) for li, ni, qty in raw if qty > 0
    )
    shipped: dict[int, int] = {}
    for a in allocations:
        shipped[a.line_id] = shipped.get(a.line_id, 0) + a.quantity
    unfilled = {
        ln.line_id: ln.quantity - shipped.get(ln.line_id, 0)
        for ln in lines
        if ln.quantity > shipped.get(ln.line_id, 0)
    }
    used = sorted({a.node for a in allocations})
    by_code = {n.code: n for n in nodes}
    shipping = sum(
        cost.package(by_code[code].miles) for code in used if not by_code[code].package_paid
    ) + sum(cost.unit(by_code[a.node].miles) * a.quantity for a in allocations)
    sku_of = {ln.line_id: ln.sku for ln in lines}
    opportunity = sum(bids.get((a.node, sku_of[a.line_id]), 0.0) * a.quantity for a in allocations)
    return Plan(allocations, unfilled, shipping, opportunity, tuple(used), status)
