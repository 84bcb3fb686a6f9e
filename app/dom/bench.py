"""`shipfloor bench dom`: the optimiser against the baselines and the DLP lower bound.

The instance family follows Jasin & Sinha (2015) and Ma's warm-up experiments: 10 US
cities weighted by population, 5 fulfilment centres at five of those cities (drawn per
instance), 20 items, order types of 1–5 distinct items, each item stocked at each centre
with probability 0.75, and starting inventory T·λ + 0.5·√(T·λ(1−λ)) where λ is the
per-order probability of the item's demand whose closest stocking centre that is. Cost:
$8.759 per package + $0.423 per unit + $0.000541 per package-mile; an unfilled unit costs
twice the worst per-unit cost (a one-unit package over the longest distance).

The deterministic LP (DLP) chooses, for every (city, order type), a mix of fulfilment
methods (each item to a stocking centre or unfilled) meeting expected demand within the
inventory; its optimum is a lower bound on any policy's expected cost. Its inventory
duals are the bid prices the optimiser uses, re-solved on the remaining inventory and
horizon every `refresh` orders.
"""

from __future__ import annotations

import itertools
import random
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from math import sqrt

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from app.dom.assign import LineDemand, NodeOption, Plan, plan_order
from app.dom.baselines import nearest, priority
from app.dom.costs import LinearShippingCost
from app.dom.geo import haversine_miles

COST = LinearShippingCost(per_package=8.759, per_unit=0.423, per_mile=0.000541)

# The ten largest US cities and their populations (millions), as in the literature.
CITIES: tuple[tuple[str, float, float, float], ...] = (
    ("New York", 40.7128, -74.0060, 8.34),
    ("Los Angeles", 34.0522, -118.2437, 3.82),
    ("Chicago", 41.8781, -87.6298, 2.67),
    ("Houston", 29.7604, -95.3698, 2.30),
    ("Phoenix", 33.4484, -112.0740, 1.64),
    ("Philadelphia", 39.9526, -75.1652, 1.57),
    ("San Antonio", 29.4241, -98.4936, 1.47),
    ("San Diego", 32.7157, -117.1611, 1.38),
    ("Dallas", 32.7767, -96.7970, 1.30),
    ("San Jose", 37.3382, -121.8863, 0.97),
)
ITEMS = 20
CENTRES = 5
STOCK_PROBABILITY = 0.75
TYPES_PER_SIZE = 4
SIZE_WEIGHTS = (0.35, 0.25, 0.18, 0.12, 0.10)

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Instance:
    """One member of the family: where things are, what is ordered, what is stocked."""

    seed: int
    centres: tuple[int, ...]
    """Indices into CITIES where the fulfilment centres stand."""
    types: tuple[tuple[int, ...], ...]
    """Order types: sets of item indices."""
    arrival: tuple[tuple[int, int, float], ...]
    """(city, type, probability per order)."""
    inventory: Mapping[tuple[int, int], int]
    """(centre, item) → units at the start."""
    horizon: int

    def miles(self, city: int, centre: int) -> float:
        c, f = CITIES[city], CITIES[self.centres[centre]]
        return haversine_miles(c[1], c[2], f[1], f[2])

    @property
    def penalty(self) -> float:
        """An unfilled unit: twice the worst per-unit cost."""
        worst = max(self.miles(c, k) for c in range(len(CITIES)) for k in range(CENTRES))
        return 2 * (COST.package(worst) + COST.unit(worst))


def make_instance(seed: int, horizon: int = 10_000) -> Instance:
    """A deterministic instance of the family for `seed`."""
    rng = random.Random(seed)
    centres = tuple(sorted(rng.sample(range(len(CITIES)), CENTRES)))
    types: list[tuple[int, ...]] = []
    type_weights: list[float] = []
    for size, weight in enumerate(SIZE_WEIGHTS, start=1):
        for _ in range(TYPES_PER_SIZE):
            types.append(tuple(sorted(rng.sample(range(ITEMS), size))))
            type_weights.append(weight * rng.uniform(0.5, 1.5))
    total_type = sum(type_weights)
    population = sum(c[3] for c in CITIES)
    arrival = tuple(
        (city, t, CITIES[city][3] / population * type_weights[t] / total_type)
        for city in range(len(CITIES))
        for t in range(len(types))
    )
    stocked = {
        (k, i) for k in range(CENTRES) for i in range(ITEMS) if rng.random() < STOCK_PROBABILITY
    }
    for i in range(ITEMS):  # every item is stocked somewhere
        if not any((k, i) in stocked for k in range(CENTRES)):
            stocked.add((rng.randrange(CENTRES), i))
    partial = Instance(seed, centres, tuple(types), arrival, {}, horizon)
    # λ(k, i): probability an order holds item i and comes from a city whose closest
    # centre stocking i is k.
    lam: dict[tuple[int, int], float] = {}
    for city, t, p in arrival:
        for i in types[t]:
            holders = [k for k in range(CENTRES) if (k, i) in stocked]
            closest = min(holders, key=lambda k: partial.miles(city, k))
            lam[(closest, i)] = lam.get((closest, i), 0.0) + p
    inventory = {
        key: round(
            horizon * lam.get(key, 0.0)
            + 0.5 * sqrt(horizon * lam.get(key, 0.0) * (1 - lam.get(key, 0.0)))
        )
        for key in stocked
    }
    return Instance(seed, centres, tuple(types), arrival, inventory, horizon)


@dataclass(frozen=True)
class DLPResult:
    """The DLP's optimum and the inventory duals (bid prices) by (centre, item)."""

    cost: float
    bid_prices: Mapping[tuple[int, int], float]


def _methods(instance: Instance, items: Sequence[int]) -> list[tuple[int | None, ...]]:
    choices = [
        [k for k in range(CENTRES) if instance.inventory.get((k, i), 0) > 0] + [None] for i in items
    ]
    return list(itertools.product(*choices))


def _method_cost(instance: Instance, city: int, method: Sequence[int | None]) -> float:
    used = {k for k in method if k is not None}
    return (
        sum(COST.package(instance.miles(city, k)) for k in used)
        + sum(COST.unit(instance.miles(city, k)) for k in method if k is not None)
        + instance.penalty * sum(1 for k in method if k is None)
    )


class DLP:
    """The DLP of one instance, built once; re-solved for any inventory and horizon."""

    def __init__(self, instance: Instance) -> None:
        self.keys = sorted(instance.inventory)
        stock_index = {key: r for r, key in enumerate(self.keys)}
        n_stock = len(self.keys)
        self.probabilities = np.array([p for _, _, p in instance.arrival])
        # Per order type: its methods as a matrix of centres (-1: unfilled), and the
        # stock rows each method draws on; the same for every city.
        shapes: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for t, items in enumerate(instance.types):
            methods = np.array(
                [[-1 if k is None else k for k in m] for m in _methods(instance, items)],
                dtype=int,
            ).reshape(-1, len(items))
            m_idx, pos = np.nonzero(methods >= 0)
            stock_rows = np.array(
                [
                    stock_index[(int(methods[m, j]), items[j])]
                    for m, j in zip(m_idx, pos, strict=True)
                ],
                dtype=int,
            )
            shapes[t] = (methods, m_idx, stock_rows)
        costs: list[np.ndarray] = []
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        column = 0
        for q, (city, t, _p) in enumerate(instance.arrival):
            methods, m_idx, stock_rows = shapes[t]
            miles = np.array([instance.miles(city, k) for k in range(CENTRES)])
            package = COST.per_package + COST.per_mile * miles
            used = np.stack([(methods == k).any(axis=1) for k in range(CENTRES)], axis=1)
            filled = (methods >= 0).sum(axis=1)
            unfilled = methods.shape[1] - filled
            costs.append(used @ package + COST.per_unit * filled + instance.penalty * unfilled)
            count = methods.shape[0]
            rows.append(np.full(count, n_stock + q))
            cols.append(np.arange(column, column + count))
            rows.append(stock_rows)
            cols.append(column + m_idx)
            column += count
        all_rows, all_cols = np.concatenate(rows), np.concatenate(cols)
        matrix = coo_matrix(
            (np.ones(len(all_rows)), (all_rows, all_cols)),
            shape=(n_stock + len(instance.arrival), column),
        ).tocsr()
        self.stock_rows = matrix[:n_stock]
        self.demand_rows = matrix[n_stock:]
        self.costs = np.concatenate(costs)

    def solve(self, inventory: Mapping[tuple[int, int], int], horizon: float) -> DLPResult:
        """The DLP over `horizon` expected orders with `inventory` (HiGHS)."""
        result = linprog(
            self.costs,
            A_ub=self.stock_rows,
            b_ub=np.array([float(inventory.get(key, 0)) for key in self.keys]),
            A_eq=self.demand_rows,
            b_eq=horizon * self.probabilities,
            bounds=(0, None),
            method="highs",
        )
        if result.status != 0:
            raise RuntimeError(f"the DLP failed: {result.message}")
        duals = -result.ineqlin.marginals
        return DLPResult(
            cost=float(result.fun),
            bid_prices={key: float(duals[r]) for r, key in enumerate(self.keys) if duals[r] > 1e-9},
        )


def solve_dlp(
    instance: Instance, inventory: Mapping[tuple[int, int], int], horizon: float
) -> DLPResult:
    """The DLP over `horizon` expected orders with `inventory`."""
    return DLP(instance).solve(inventory, horizon)


@dataclass
class Outcome:
    """What one policy did over one arrival sequence."""

    cost: float = 0.0
    orders: int = 0
    multi_item_orders: int = 0
    split_orders: int = 0
    packages: int = 0
    units: int = 0
    filled: int = 0
    latencies_ms: list[float] | None = None


Policy = Callable[
    [Instance, int, Sequence[LineDemand], list[NodeOption], Mapping[tuple[str, str], float]], Plan
]


def _ours(
    instance: Instance,
    _city: int,
    lines: Sequence[LineDemand],
    options: list[NodeOption],
    bids: Mapping[tuple[str, str], float],
) -> Plan:
    return plan_order(lines, options, COST, bid_prices=bids, unfilled_penalty=instance.penalty)


def _nearest(
    _i: Instance,
    _c: int,
    lines: Sequence[LineDemand],
    options: list[NodeOption],
    _b: Mapping[tuple[str, str], float],
) -> Plan:
    return nearest(lines, options, COST)


def _priority(
    _i: Instance,
    _c: int,
    lines: Sequence[LineDemand],
    options: list[NodeOption],
    _b: Mapping[tuple[str, str], float],
) -> Plan:
    return priority(lines, options, COST)


POLICIES: dict[str, Policy] = {"ours": _ours, "nearest": _nearest, "priority": _priority}


def simulate(
    instance: Instance,
    sequence_seed: int,
    policy: str,
    refresh: int = 1000,
    dlp: DLP | None = None,
) -> Outcome:
    """Run one policy over one arrival sequence of the instance."""
    model = dlp if dlp is not None or policy != "ours" else DLP(instance)
    rng = random.Random(sequence_seed)
    weights = [p for _, _, p in instance.arrival]
    arrivals = rng.choices(range(len(instance.arrival)), weights=weights, k=instance.horizon)
    stock = dict(instance.inventory)
    outcome = Outcome(latencies_ms=[])
    decide = POLICIES[policy]
    bids: dict[tuple[str, str], float] = {}
    # Centre priority for the waterfall: a fixed sequence, the order they were opened.
    for n, q in enumerate(arrivals):
        if model is not None and policy == "ours" and n % refresh == 0:
            prices = model.solve(stock, instance.horizon - n).bid_prices
            bids = {(f"C{k}", f"I{i}"): v for (k, i), v in prices.items()}
        city, t, _ = instance.arrival[q]
        items = instance.types[t]
        lines = [LineDemand(j, f"I{i}", 1) for j, i in enumerate(items)]
        options = [
            NodeOption(
                f"C{k}",
                instance.miles(city, k),
                {f"I{i}": stock.get((k, i), 0) for i in items},
                priority=k,
            )
            for k in range(CENTRES)
        ]
        started = time.perf_counter()
        plan = decide(instance, city, lines, options, bids)
        assert outcome.latencies_ms is not None
        outcome.latencies_ms.append((time.perf_counter() - started) * 1000)
        for a in plan.allocations:
            key = (int(a.node[1:]), items[a.line_id])
            if stock.get(key, 0) < a.quantity:
                raise AssertionError(f"{policy} used stock it did not have at {a.node}")
            stock[key] -= a.quantity
        unfilled = sum(plan.unfilled.values())
        outcome.cost += plan.shipping_cost + unfilled * instance.penalty
        outcome.orders += 1
        outcome.packages += len(plan.packages)
        outcome.units += len(items)
        outcome.filled += len(items) - unfilled
        if len(items) > 1:
            outcome.multi_item_orders += 1
            outcome.split_orders += len(plan.packages) > 1
    return outcome


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(
    instances: int = 10,
    sequences: int = 3,
    horizon: int = 10_000,
    large_orders: int = 200,
    progress: Progress | None = None,
) -> dict[str, object]:
    """The benchmark as `shipfloor bench dom --json` prints it."""
    totals: dict[str, list[Outcome]] = {name: [] for name in POLICIES}
    ratios: dict[str, list[float]] = {name: [] for name in POLICIES}
    runs = instances * sequences * len(POLICIES)
    done = 0
    for i in range(instances):
        instance = make_instance(1000 + i, horizon)
        dlp = DLP(instance)
        bound = dlp.solve(instance.inventory, horizon).cost
        for s in range(sequences):
            for name in POLICIES:
                outcome = simulate(instance, 7919 * (i + 1) + s, name, dlp=dlp)
                totals[name].append(outcome)
                ratios[name].append(outcome.cost / bound)
                done += 1
                if progress:
                    progress("dom", done, runs)
    policies: dict[str, object] = {}
    for name, outcomes in totals.items():
        latencies = [ms for o in outcomes for ms in (o.latencies_ms or [])]
        multi = sum(o.multi_item_orders for o in outcomes)
        policies[name] = {
            "cost_ratio": round(statistics.fmean(ratios[name]), 4),
            "split_rate": round(sum(o.split_orders for o in outcomes) / multi, 4) if multi else 0.0,
            "packages_per_order": round(
                sum(o.packages for o in outcomes) / sum(o.orders for o in outcomes), 4
            ),
            "unit_fill": round(sum(o.filled for o in outcomes) / sum(o.units for o in outcomes), 4),
            "latency_ms_p50": round(_percentile(latencies, 0.50), 3),
            "latency_ms_p95": round(_percentile(latencies, 0.95), 3),
        }
    return {"policies": policies, "large_network": large_network(orders=large_orders)}


def large_network(
    nodes: int = 400, lines_per_order: int = 10, orders: int = 200, seed: int = 42
) -> dict[str, object]:
    """Decision latency for 10-line orders on a 400-node network across the US."""
    rng = random.Random(seed)
    skus = [f"S{i}" for i in range(500)]
    network = [
        (
            f"N{n:03d}",
            rng.uniform(25.5, 48.5),
            rng.uniform(-123.0, -70.0),
            {sku: rng.randint(1, 20) for sku in skus if rng.random() < 0.3},
        )
        for n in range(nodes)
    ]
    latencies = []
    penalty = 2 * (COST.package(3000) + COST.unit(3000))
    for _ in range(orders):
        city = rng.choice(CITIES)
        lines = [
            LineDemand(j, sku, rng.randint(1, 3))
            for j, sku in enumerate(rng.sample(skus, lines_per_order))
        ]
        started = time.perf_counter()
        options = [
            NodeOption(code, haversine_miles(city[1], city[2], lat, lon), atp)
            for code, lat, lon, atp in network
        ]
        plan_order(lines, options, COST, unfilled_penalty=penalty)
        latencies.append((time.perf_counter() - started) * 1000)
    return {
        "nodes": nodes,
        "lines_per_order": lines_per_order,
        "latency_ms_p50": round(_percentile(latencies, 0.50), 3),
        "latency_ms_p95": round(_percentile(latencies, 0.95), 3),
    }
