"""Order batching benchmark: every method's total walking on random waves.

The instances follow Henn et al. (2010) and de Koster et al. (1999): 40 and 100 orders, each
of 5–25 units (uniform) picked one unit per spot at distinct cells drawn uniformly over the
layout; cart capacities of 30, 45, 60 and 75 units. Totes, volume and weight do not bind (only
the unit capacity does, as in the literature). Every method is measured with the same
`route_length`.

The single-block benchmark layout of the literature is 10 aisles 5 m apart with 45 cells of
1 m per side, cross aisles at y = 0 and 47 and the depot at (0, 0):
`Layout(tuple(5.0 * i for i in range(10)), (0.0, 47.0), (0.0, 0.0))`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from app.walks.bench import layout_cells
from app.walks.layout import Layout, Spot
from app.waves.batching import (
    METHODS,
    BatchOrder,
    Cart,
    RouteLength,
    make_batches,
    total_length,
)

ORDER_COUNTS = (40, 100)
CAPACITIES = (30, 45, 60, 75)
UNITS = (5, 25)
# A unit's volume and weight; the cart's limits on them are set so they never bind.
UNIT_VOLUME_CM3 = 1_000
UNIT_WEIGHT_G = 500

Progress = Callable[[str, int, int], None]


def make_orders(rng: random.Random, cells: Sequence[Spot], count: int) -> list[BatchOrder]:
    """`count` orders of 5–25 units, one unit at each of as many distinct random cells."""
    orders = []
    for k in range(count):
        units = rng.randint(*UNITS)
        spots = tuple(sorted(rng.sample(list(cells), min(units, len(cells)))))
        orders.append(
            BatchOrder(
                key=k + 1,
                spots=spots,
                items=units,
                volume_cm3=units * UNIT_VOLUME_CM3,
                weight_g=units * UNIT_WEIGHT_G,
                arrival=k,
            )
        )
    return orders


def unit_cart(orders: Sequence[BatchOrder], capacity: int) -> Cart:
    """A cart whose only binding limit is `capacity` units."""
    return Cart(
        totes=max(1, len(orders)),
        items=capacity,
        volume_cm3=sum(o.volume_cm3 for o in orders) + 1,
        weight_g=sum(o.weight_g for o in orders) + 1,
    )


def bench_batching(
    layout: Layout,
    route_length: RouteLength,
    seed: int = 1,
    progress: Progress | None = None,
    *,
    cells: Sequence[Spot] | None = None,
) -> dict[str, dict[str, float]]:
    """Total metres walked per instance and method, e.g. `{"40_orders_cap_30": {...}}`.

    `cells` are the pick positions orders draw from (by default `layout_cells(layout)`).
    Each instance's orders come from its own generator seeded by `seed`, the order count
    and the capacity, so an instance does not change when others are added.
    """
    pool = list(cells) if cells is not None else layout_cells(layout)
    if not pool:
        raise ValueError("the benchmark needs at least one cell to pick from")
    results: dict[str, dict[str, float]] = {}
    runs = len(ORDER_COUNTS) * len(CAPACITIES) * len(METHODS)
    done = 0
    for count in ORDER_COUNTS:
        for capacity in CAPACITIES:
            rng = random.Random(f"{seed}:{count}:{capacity}")
            orders = make_orders(rng, pool, count)
            cart = unit_cart(orders, capacity)
            row: dict[str, float] = {}
            for method in METHODS:
                batches = make_batches(orders, cart, route_length, method, seed=seed)
                row[method] = round(total_length(batches), 2)
                done += 1
                if progress:
                    progress(f"{count}_orders_cap_{capacity}", done, runs)
            results[f"{count}_orders_cap_{capacity}"] = row
    return results
