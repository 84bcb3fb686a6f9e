"""Bid prices: the opportunity cost of a unit of stock at a node, from an LP over expected
demand (Acimovic & Graves 2015).

For each SKU, a transportation LP sends the expected demand of every region to the nodes
holding stock at the lowest cost, or leaves it unserved at a penalty. The dual value of a
node's inventory constraint is what one more unit there would save: the bid price. Stock
that is plentiful has a bid price of zero; the last units near heavy demand are dear, so
the per-order optimiser spends them only when it gains more than they are worth.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import lil_matrix

from app.dom.costs import ShippingCost
from app.dom.geo import haversine_miles


@dataclass(frozen=True)
class Place:
    """A node or a demand region, where it is."""

    code: str
    latitude: float
    longitude: float


def unit_cost(cost: ShippingCost, miles: float, units_per_package: float) -> float:
    """A unit's share of shipping: its own cost plus its part of the package cost."""
    return cost.unit(miles) + cost.package(miles) / units_per_package


def bid_prices(
    nodes: Sequence[Place],
    regions: Sequence[Place],
    inventory: Mapping[tuple[str, str], float],
    demand: Mapping[tuple[str, str], float],
    cost: ShippingCost,
    *,
    unserved_penalty: float,
    units_per_package: float = 1.0,
) -> dict[tuple[str, str], float]:
    """Bid price by (node, SKU) for every SKU with expected demand; zeros are left out."""
    if units_per_package <= 0:
        raise ValueError("units per package must be positive")
    miles = {
        (r.code, n.code): haversine_miles(r.latitude, r.longitude, n.latitude, n.longitude)
        for r in regions
        for n in nodes
    }
    skus = sorted({sku for (_, sku), qty in demand.items() if qty > 0})
    prices: dict[tuple[str, str], float] = {}
    for sku in skus:
        stocked = [n for n in nodes if inventory.get((n.code, sku), 0) > 0]
        wanting = [r for r in regions if demand.get((r.code, sku), 0) > 0]
        if not stocked:
            continue
        prices.update(
            _sku_bid_prices(
                sku,
                stocked,
                wanting,
                inventory,
                demand,
                cost,
                miles,
                unserved_penalty,
                units_per_package,
            )
        )
    return prices


def _sku_bid_prices(
    sku: str,
    stocked: Sequence[Place],
    wanting: Sequence[Place],
    inventory: Mapping[tuple[str, str], float],
    demand: Mapping[tuple[str, str], float],
    cost: ShippingCost,
    miles: Mapping[tuple[str, str], float],
    penalty: float,
    units_per_package: float,
) -> dict[tuple[str, str], float]:
    n_r, n_n = len(wanting), len(stocked)
    n_flow = n_r * n_n
    size = n_flow + n_r  # flows, then unserved per region
    c = np.empty(size)
    for ri, region in enumerate(wanting):
        for ni, node in enumerate(stocked):
            c[ri * n_n + ni] = unit_cost(cost, miles[(region.code, node.code)], units_per_package)
    c[n_flow:] = penalty

    a_eq = lil_matrix((n_r, size))
    b_eq = np.empty(n_r)
    for ri, region in enumerate(wanting):
        for ni in range(n_n):
            a_eq[ri, ri * n_n + ni] = 1.0
        a_eq[ri, n_flow + ri] = 1.0
        b_eq[ri] = demand[(region.code, sku)]
    a_ub = lil_matrix((n_n, size))
    b_ub = np.empty(n_n)
    for ni, node in enumerate(stocked):
        for ri in range(n_r):
            a_ub[ni, ri * n_n + ni] = 1.0
        b_ub[ni] = inventory[(node.code, sku)]

    result = linprog(
        c,
        A_ub=a_ub.tocsr(),
        b_ub=b_ub,
        A_eq=a_eq.tocsr(),
        b_eq=b_eq,
        bounds=(0, None),
        method="highs",
    )
    if result.status != 0:
        raise RuntimeError(f"bid-price LP for {sku} failed: {result.message}")
    duals = result.ineqlin.marginals  # ≤ 0 for a minimisation: savings per extra unit
    return {
        (node.code, sku): float(-duals[ni]) for ni, node in enumerate(stocked) if -duals[ni] > 1e-9
    }
