"""Order batching: group a wave's orders into pick lists for one cart of totes each.

Each order takes one tote of the cart (cluster picking), so a batch is feasible when it has at
most `Cart.totes` orders and stays within the cart's items, volume and weight. A batch is walked
as one route through the distinct spots of all its orders; its length is whatever the caller's
`RouteLength` says (pass `lambda spots: routing.estimate_length(layout, spots)`: exact on
single-block layouts). The objective is the total length over all batches.

Methods (`METHODS`):

* `single_order` — one batch per order (the no-batching reference).
* `fcfs` — first come, first served: carts filled in arrival order, a new cart opened when the
  next order does not fit.
* `clarke_wright` — the savings algorithm C&W(ii) of de Koster, van der Poort & Wolters (1999):
  start from single-order batches; the saving of two batches is d(i) + d(j) − d(i ∪ j); merge the
  feasible pair with the largest saving (ties: the earliest-arriving pair), compute the merged
  batch's savings with every other batch, repeat while a feasible pair saves something (a saving
  ≥ 0; with an optimal router every saving is). All pairs are evaluated, so it costs O(n²) route
  lengths: a baseline for waves of a few hundred orders, not for thousands.
* `local_search` — a matheuristic after Henn et al. (2010) and Henn & Wäscher (2012): start from the
  best of FCFS, a sweep construction (below) and Clarke–Wright; descend with two
  neighbourhoods (shift one order to another batch; swap two orders between batches, the best
  move per order); then iterated local search: perturb with random feasible swaps and shifts
  between two random batches, descend again (only moves touching a changed batch), keep the
  result when it walks less. Every batch evaluated along the way is a column of a
  set-partitioning model, solved with HiGHS over the most promising columns (see
  `_set_partition`); when that finds a better batching, local search continues from it. It
  never returns more walking than `fcfs`, and never more than `clarke_wright` when the wave
  fits one window (`WINDOW` orders) and no time limit cut its start short. Deterministic for a
  `seed` unless `time_limit_s` (or HiGHS's own time cap) stops it.

Large waves. Clarke–Wright and full neighbourhoods cost O(n²) route lengths, too slow in Python
beyond a few hundred orders (a route length costs 50–150 µs). Above `WINDOW` orders, or when
the time limit cannot afford Clarke–Wright on the whole wave, `local_search` partitions:

1. Sweep construction: orders sorted along a serpentine sweep (by the aisle nearest their
   spots' mean aisle index, then by mean depth, up even aisles and down odd ones) and put onto
   carts in that order (next fit), so a batch stays in one or two neighbouring aisles. This
   costs one route length per batch.
2. Seam pass: shift and swap moves between batches at most two apart in sweep order (swaps
   only among the three orders of each batch nearest the other), repeated until nothing
   improves: linear in the number of batches.
3. Windows: the batches, in sweep order, cut into windows of about `WINDOW` orders (under a
   time limit: as many as Clarke–Wright can afford in half the time left, at least three
   carts' worth), each improved on its own as above with an equal share of the time left.
4. A last seam pass across window borders.

On 5,000 one-to-three-unit orders with a 12-tote cart and `time_limit_s=3`, steps 1–2 take
about a second and the windows use the rest.

Route lengths are cached twice: by batch composition (which orders) and by the set of
distinct spots, so re-evaluating a batch never calls `route_length` again. `route_length`
is called with the batch's distinct spots as a tuple sorted by `(aisle, y)`. The swap move
assumes (only to skip evaluations that cannot pay) that more spots never make a shorter
route, as holds for an optimal router.
"""

from __future__ import annotations

import heapq
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import csc_matrix

from app.walks.layout import Spot

RouteLength = Callable[[Sequence[Spot]], float]

METHODS = ("single_order", "fcfs", "clarke_wright", "local_search")

# Orders per window when `local_search` partitions a large wave (see the module docstring).
WINDOW = 120
# Iterated local search: perturbation rounds per cycle, rounds without an improvement after
# which a cycle stops early, and cycles of local search and set partitioning per window.
ILS_ROUNDS = 300
ILS_PATIENCE = 120
CYCLES = 3
# Perturbation rounds per cycle in each window of a wave too large for one window.
WINDOW_ILS_ROUNDS = 60
# A perturbation makes 1 to PERTURB_MOVES random moves between two random batches.
PERTURB_MOVES = 16
# Set partitioning over the evaluated batches: LP pricing rounds, columns entering per round,
# the most columns the integer program gets, and its node and time limits.
SP_PRICING_ROUNDS = 30
SP_ENTERING = 2_000
SP_COLUMNS = 400
SP_NODES = 500
SP_SECONDS = 2.0
# Improvements smaller than this (metres) are treated as ties.
EPS = 1e-9
# Route-length caches are dropped when they grow beyond this many entries.
CACHE_LIMIT = 200_000


class BatchingError(ValueError):
    """Orders or a cart that cannot be batched, or an unknown method, with what is wrong."""


@dataclass(frozen=True)
class BatchOrder:
    """One order to batch: where it is picked and what it takes of the cart."""

    key: int
    spots: tuple[Spot, ...]
    items: int
    volume_cm3: int
    weight_g: int
    arrival: int


@dataclass(frozen=True)
class Cart:
    """A pick cart: `totes` totes (one per order) and limits on units, volume and weight."""

    totes: int
    items: int
    volume_cm3: int
    weight_g: int


@dataclass(frozen=True)
class Batch:
    """The orders on one cart trip, in arrival order, and the length of its route."""

    keys: tuple[int, ...]
    length: float
    oversize: bool = False


def make_batches(
    orders: Sequence[BatchOrder],
    cart: Cart,
    route_length: RouteLength,
    method: str = "local_search",
    *,
    seed: int = 0,
    time_limit_s: float | None = None,
    allow_oversize: bool = False,
) -> list[Batch]:
    """Group `orders` into cart batches by `method`; batches come in order of first arrival.

    `route_length` measures a batch's route (it is called with the batch's distinct spots).
    `time_limit_s` bounds `local_search` (it returns the best batches found when the time is
    up); the other methods ignore it. An order that alone exceeds the cart raises
    `BatchingError`, unless `allow_oversize`, when it travels alone in a batch marked
    `oversize`.
    """
    if method not in METHODS:
        raise BatchingError(
            f"unknown batching method {method!r}; choose one of {', '.join(METHODS)}"
        )
    _check_cart(cart)
    if time_limit_s is not None and time_limit_s < 0:
        raise BatchingError(f"time_limit_s must not be negative, not {time_limit_s}")
    _check_orders(orders)
    if not orders:
        return []
    deadline = None if time_limit_s is None else time.perf_counter() + time_limit_s
    normal: list[BatchOrder] = []
    alone: list[BatchOrder] = []
    for order in orders:
        excess = _excess(order, cart)
        if not excess:
            normal.append(order)
        elif allow_oversize:
            alone.append(order)
        else:
            raise BatchingError(f"order {order.key} alone exceeds the cart: {'; '.join(excess)}")
    problem = _Problem(normal + alone, cart, route_length)
    idx = list(range(len(normal)))
    if method == "single_order":
        groups = [[i] for i in idx]
    elif method == "fcfs":
        groups = _fill(problem, problem.by_arrival(idx))
    elif method == "clarke_wright":
        groups = _clarke_wright(problem, idx, None) or []
    else:
        groups = _local_search(problem, idx, random.Random(seed), deadline)
    batches = [problem.batch(g) for g in groups]
    batches += [problem.batch([len(normal) + j], oversize=True) for j in range(len(alone))]
    first = {o.key: (o.arrival, o.key) for o in orders}
    batches.sort(key=lambda b: first[b.keys[0]])
    return batches


def total_length(batches: Iterable[Batch]) -> float:
    """The walking of a set of batches: the sum of their route lengths."""
    return sum(b.length for b in batches)


def _check_cart(cart: Cart) -> None:
    if cart.totes < 1:
        raise BatchingError(f"a cart needs at least one tote, not {cart.totes}")
    for name, value in (
        ("items", cart.items),
        ("volume_cm3", cart.volume_cm3),
        ("weight_g", cart.weight_g),
    ):
        if value < 0:
            raise BatchingError(f"the cart's {name} limit must not be negative, not {value}")


def _check_orders(orders: Sequence[BatchOrder]) -> None:
    seen: set[int] = set()
    for order in orders:
        if order.key in seen:
            raise BatchingError(f"order {order.key} appears more than once")
        seen.add(order.key)
        for name, value in (
            ("items", order.items),
            ("volume_cm3", order.volume_cm3),
            ("weight_g", order.weight_g),
        ):
            if value < 0:
                raise BatchingError(f"order {order.key} has negative {name}: {value}")


def _excess(order: BatchOrder, cart: Cart) -> list[str]:
    """What of the cart's limits one order alone exceeds, as readable phrases."""
    out = []
    if order.items > cart.items:
        out.append(f"items limit {order.items} > {cart.items}")
    if order.volume_cm3 > cart.volume_cm3:
        out.append(f"volume limit {order.volume_cm3} cm3 > {cart.volume_cm3} cm3")
    if order.weight_g > cart.weight_g:
        out.append(f"weight limit {order.weight_g} g > {cart.weight_g} g")
    return out


class _Problem:
    """Orders by index, their loads and spots, the cart, and cached route lengths."""

    def __init__(self, orders: Sequence[BatchOrder], cart: Cart, route_length: RouteLength):
        self.orders = orders
        self.cart = cart
        self.route_length = route_length
        self.spot_list: list[Spot] = sorted({s for o in orders for s in o.spots})
        rank = {s: r for r, s in enumerate(self.spot_list)}
        # An order's distinct spots as a bit mask of their ranks in `spot_list`.
        self.spot_masks = [sum(1 << rank[s] for s in set(o.spots)) for o in orders]
        self.items = [o.items for o in orders]
        self.volume = [o.volume_cm3 for o in orders]
        self.weight = [o.weight_g for o in orders]
        self._by_members: dict[frozenset[int], float] = {}
        self._by_spots: dict[int, float] = {}
        self.calls = 0
        self.call_seconds = 0.0

    def length(self, members: frozenset[int]) -> float:
        """The route length of a batch of these order indices (0 for no orders)."""
        if not members:
            return 0.0
        got = self._by_members.get(members)
        if got is not None:
            return got
        spots = 0
        for i in members:
            spots |= self.spot_masks[i]
        got = self._by_spots.get(spots)
        if got is None:
            started = time.perf_counter()
            got = float(self.route_length(self.spots(spots)))
            self.call_seconds += time.perf_counter() - started
            self.calls += 1
            if len(self._by_spots) >= CACHE_LIMIT:
                self._by_spots.clear()
            self._by_spots[spots] = got
        if len(self._by_members) >= CACHE_LIMIT:
            self._by_members.clear()
        self._by_members[members] = got
        return got

    def spots(self, mask: int) -> tuple[Spot, ...]:
        """The spots of a bit mask of spot ranks, in ascending order."""
        out = []
        while mask:
            low = mask & -mask
            out.append(self.spot_list[low.bit_length() - 1])
            mask ^= low
        return tuple(out)

    def columns(self, inside: set[int]) -> list[tuple[frozenset[int], float]]:
        """Every batch of orders in `inside` whose length is cached."""
        return [(m, d) for m, d in self._by_members.items() if m and m <= inside]

    def seconds_per_call(self) -> float:
        """The mean time of one route-length call so far (a guess before the first)."""
        return self.call_seconds / self.calls if self.calls else 5e-4

    def fits(self, count: int, items: int, volume: int, weight: int) -> bool:
        cart = self.cart
        return (
            count <= cart.totes
            and items <= cart.items
            and volume <= cart.volume_cm3
            and weight <= cart.weight_g
        )

    def group_fits(self, group: Iterable[int]) -> bool:
        members = list(group)
        return self.fits(
            len(members),
            sum(self.items[i] for i in members),
            sum(self.volume[i] for i in members),
            sum(self.weight[i] for i in members),
        )

    def total(self, groups: Iterable[Iterable[int]]) -> float:
        return sum(self.length(frozenset(g)) for g in groups)

    def by_arrival(self, idx: Iterable[int]) -> list[int]:
        return sorted(idx, key=lambda i: (self.orders[i].arrival, self.orders[i].key))

    def by_sweep(self, idx: Iterable[int]) -> list[int]:
        """Orders along a serpentine sweep: by mean aisle, up even aisles and down odd ones."""

        def key(i: int) -> tuple[int, float, int, int]:
            order = self.orders[i]
            spots = set(order.spots)
            if not spots:
                return (-1, 0.0, order.arrival, order.key)
            aisle = round(sum(s.aisle for s in spots) / len(spots))
            depth = sum(s.y for s in spots) / len(spots)
            return (aisle, depth if aisle % 2 == 0 else -depth, order.arrival, order.key)

        return sorted(idx, key=key)

    def batch(self, group: Sequence[int], *, oversize: bool = False) -> Batch:
        members = self.by_arrival(group)
        return Batch(
            keys=tuple(self.orders[i].key for i in members),
            length=self.length(frozenset(members)),
            oversize=oversize,
        )


def _fill(problem: _Problem, sequence: Sequence[int]) -> list[list[int]]:
    """Next fit: orders in this sequence onto the current cart until the next does not fit."""
    groups: list[list[int]] = []
    current: list[int] = []
    count = items = volume = weight = 0
    for i in sequence:
        fits = problem.fits(
            count + 1,
            items + problem.items[i],
            volume + problem.volume[i],
            weight + problem.weight[i],
        )
        if current and not fits:
            groups.append(current)
            current, count, items, volume, weight = [], 0, 0, 0, 0
        current.append(i)
        count += 1
        items += problem.items[i]
        volume += problem.volume[i]
        weight += problem.weight[i]
    if current:
        groups.append(current)
    return groups


class _OutOfTime(Exception):
    """The deadline passed inside a search step."""


def _clarke_wright(
    problem: _Problem, idx: Sequence[int], deadline: float | None
) -> list[list[int]] | None:
    """C&W(ii) savings batching of these orders; None when the deadline passes first."""
    members: dict[int, frozenset[int]] = {}
    loads: dict[int, tuple[int, int, int, int]] = {}
    lengths: dict[int, float] = {}
    for bid, i in enumerate(problem.by_arrival(idx)):
        members[bid] = frozenset((i,))
        loads[bid] = (1, problem.items[i], problem.volume[i], problem.weight[i])
        lengths[bid] = problem.length(members[bid])
    heap: list[tuple[float, int, int]] = []

    def push(a: int, b: int) -> None:
        la, lb = loads[a], loads[b]
        if problem.fits(la[0] + lb[0], la[1] + lb[1], la[2] + lb[2], la[3] + lb[3]):
            saving = lengths[a] + lengths[b] - problem.length(members[a] | members[b])
            heapq.heappush(heap, (-saving, a, b))

    ids = sorted(members)
    for pos, a in enumerate(ids):
        if deadline is not None and time.perf_counter() > deadline:
            return None
        for b in ids[pos + 1 :]:
            push(a, b)
    next_id = len(ids)
    while heap:
        neg_saving, a, b = heapq.heappop(heap)
        if a not in members or b not in members:
            continue
        if -neg_saving < -EPS:
            break
        if deadline is not None and time.perf_counter() > deadline:
            return None
        c = next_id
        next_id += 1
        members[c] = members.pop(a) | members.pop(b)
        la, lb = loads.pop(a), loads.pop(b)
        loads[c] = (la[0] + lb[0], la[1] + lb[1], la[2] + lb[2], la[3] + lb[3])
        del lengths[a], lengths[b]
        lengths[c] = problem.length(members[c])
        for d in sorted(members):
            if d != c:
                push(d, c)
    return [sorted(m) for m in members.values()]


class _Search:
    """A mutable batching of some orders with shift and swap moves (local search state)."""

    def __init__(self, problem: _Problem, groups: Sequence[Sequence[int]]):
        self.p = problem
        self.restore(groups)

    def restore(self, groups: Sequence[Sequence[int]]) -> None:
        """Make `groups` the current batching."""
        problem = self.p
        self.members: list[list[int]] = [list(g) for g in groups]
        self.batch_of: dict[int, int] = {i: b for b, g in enumerate(groups) for i in g}
        self.count = [len(g) for g in groups]
        self.items = [sum(problem.items[i] for i in g) for g in groups]
        self.volume = [sum(problem.volume[i] for i in g) for g in groups]
        self.weight = [sum(problem.weight[i] for i in g) for g in groups]
        self.length = [problem.length(frozenset(g)) for g in groups]

    def total(self) -> float:
        return sum(self.length)

    def groups(self) -> list[list[int]]:
        return [sorted(m) for m in self.members if m]

    def _without(self, b: int, i: int) -> frozenset[int]:
        return frozenset(x for x in self.members[b] if x != i)

    def can_shift(self, i: int, b: int) -> bool:
        p = self.p
        return p.fits(
            self.count[b] + 1,
            self.items[b] + p.items[i],
            self.volume[b] + p.volume[i],
            self.weight[b] + p.weight[i],
        )

    def shift_delta(self, i: int, b: int) -> tuple[float, float, float]:
        """Change in total length when order i moves to batch b, and the two new lengths."""
        a = self.batch_of[i]
        rest = self._without(a, i)
        new_a = self.p.length(rest) if rest else 0.0
        new_b = self.p.length(frozenset(self.members[b]) | {i})
        return new_a + new_b - self.length[a] - self.length[b], new_a, new_b

    def can_swap(self, i: int, j: int) -> bool:
        p = self.p
        a, b = self.batch_of[i], self.batch_of[j]
        di, dv, dw = p.items[j] - p.items[i], p.volume[j] - p.volume[i], p.weight[j] - p.weight[i]
        return p.fits(
            self.count[a], self.items[a] + di, self.volume[a] + dv, self.weight[a] + dw
        ) and p.fits(self.count[b], self.items[b] - di, self.volume[b] - dv, self.weight[b] - dw)

    def swap_delta(
        self, i: int, j: int, beat: float = float("inf")
    ) -> tuple[float, float, float] | None:
        """Change in total length when orders i and j trade batches, and the two new lengths.

        None when the change cannot be below `beat`, judged after the first new length: with
        a router that never shortens a tour for more spots, b without j and with i is at
        least as long as b without j, so the change is at least
        d(a − i + j) − d(a) − (d(b) − d(b − j)). That saves the second route length for most
        swaps that do not pay.
        """
        a, b = self.batch_of[i], self.batch_of[j]
        new_a = self.p.length(self._without(a, i) | {j})
        rest_b = self._without(b, j)
        freed_b = self.length[b] - (self.p.length(rest_b) if rest_b else 0.0)
        if new_a - self.length[a] - freed_b >= beat:
            return None
        new_b = self.p.length(rest_b | {i})
        return new_a + new_b - self.length[a] - self.length[b], new_a, new_b

    def _move(self, i: int, src: int, dst: int) -> None:
        p = self.p
        self.members[src].remove(i)
        self.members[dst].append(i)
        self.batch_of[i] = dst
        self.count[src] -= 1
        self.count[dst] += 1
        self.items[src] -= p.items[i]
        self.items[dst] += p.items[i]
        self.volume[src] -= p.volume[i]
        self.volume[dst] += p.volume[i]
        self.weight[src] -= p.weight[i]
        self.weight[dst] += p.weight[i]

    def shift(self, i: int, b: int, new_a: float, new_b: float) -> None:
        a = self.batch_of[i]
        self._move(i, a, b)
        self.length[a], self.length[b] = new_a, new_b

    def swap(self, i: int, j: int, new_a: float, new_b: float) -> None:
        a, b = self.batch_of[i], self.batch_of[j]
        self._move(i, a, b)
        self._move(j, b, a)
        self.length[a], self.length[b] = new_a, new_b

    def snapshot(self) -> list[list[int]]:
        return [list(m) for m in self.members]


def _check_time(deadline: float | None) -> None:
    if deadline is not None and time.perf_counter() > deadline:
        raise _OutOfTime


def _descend(
    search: _Search,
    orders: Sequence[int],
    dirty: set[int] | None,
    rng: random.Random,
    deadline: float | None,
) -> None:
    """Shift and swap moves (best per order, first improving order) to a local optimum.

    With `dirty`, the search starts from a solution that was a local optimum before the
    batches in `dirty` changed, so only moves touching a dirty batch are evaluated; every
    batch a move changes becomes dirty. Raises _OutOfTime at the deadline, leaving `search`
    at a feasible solution no worse than where it started.
    """
    everything = dirty is None
    touched: set[int] = set() if dirty is None else dirty
    sequence = list(orders)
    batches = range(len(search.members))
    while True:
        rng.shuffle(sequence)
        improved = False
        for i in sequence:
            _check_time(deadline)
            a = search.batch_of[i]
            best: tuple[float, int, float, float] | None = None
            for b in batches:
                if b == a or not search.members[b]:
                    continue
                if not everything and a not in touched and b not in touched:
                    continue
                if not search.can_shift(i, b):
                    continue
                delta, new_a, new_b = search.shift_delta(i, b)
                if delta < -EPS and (best is None or delta < best[0]):
                    best = (delta, b, new_a, new_b)
            if best is not None:
                search.shift(i, best[1], best[2], best[3])
                touched.update((a, best[1]))
                improved = True
        if improved:
            continue
        for i in sequence:
            _check_time(deadline)
            a = search.batch_of[i]
            best = None
            for j in orders:
                b = search.batch_of[j]
                if b == a or (not everything and a not in touched and b not in touched):
                    continue
                if not search.can_swap(i, j):
                    continue
                found = search.swap_delta(i, j, -EPS if best is None else best[0])
                if found is not None and found[0] < -EPS and (best is None or found[0] < best[0]):
                    best = (found[0], j, found[1], found[2])
            if best is not None:
                b = search.batch_of[best[1]]
                search.swap(i, best[1], best[2], best[3])
                touched.update((a, b))
                improved = True
        if not improved:
            return


def _perturb(search: _Search, orders: Sequence[int], rng: random.Random) -> set[int]:
    """1 to PERTURB_MOVES random feasible swaps and shifts between the batches of two random
    orders; the batches changed (none when the two orders share a batch)."""
    i, j = rng.sample(list(orders), 2)
    a, b = search.batch_of[i], search.batch_of[j]
    if a == b:
        return set()
    for _ in range(rng.randint(1, PERTURB_MOVES)):
        i = rng.choice(search.members[a]) if search.members[a] else -1
        j = rng.choice(search.members[b]) if search.members[b] else -1
        if i >= 0 and j >= 0 and rng.random() < 0.5 and search.can_swap(i, j):
            found = search.swap_delta(i, j)
            assert found is not None  # an infinite bound never prunes
            search.swap(i, j, found[1], found[2])
        elif i >= 0 and len(search.members[a]) > 1 and search.can_shift(i, b):
            _, new_a, new_b = search.shift_delta(i, b)
            search.shift(i, b, new_a, new_b)
        elif j >= 0 and len(search.members[b]) > 1 and search.can_shift(j, a):
            _, new_b, new_a = search.shift_delta(j, a)
            search.shift(j, a, new_b, new_a)
    return {a, b}


def _iterated_local_search(
    problem: _Problem,
    start: Sequence[Sequence[int]],
    rng: random.Random,
    deadline: float | None,
    rounds: int,
) -> list[list[int]]:
    """Descend from `start`, then perturb-and-descend `rounds` times; the best batches seen."""
    search = _Search(problem, start)
    orders = sorted(i for g in start for i in g)
    best = search.snapshot()
    best_total = search.total()
    try:
        _descend(search, orders, None, rng, deadline)
        best, best_total = search.snapshot(), search.total()
        stale = 0
        for _ in range(rounds):
            if len(orders) < 2 or stale >= ILS_PATIENCE:
                break
            changed = _perturb(search, orders, rng)
            _descend(search, orders, changed, rng, deadline)
            total = search.total()
            if total < best_total - EPS:
                best, best_total, stale = search.snapshot(), total, 0
            else:
                search.restore(best)
                stale += 1
    except _OutOfTime:
        if search.total() < best_total - EPS:
            best = search.snapshot()
    return [sorted(m) for m in best if m]


def _set_partition(
    problem: _Problem,
    incumbent: list[list[int]],
    deadline: float | None,
) -> list[list[int]]:
    """The best batching made of evaluated batches, if it beats `incumbent`.

    Every batch the search evaluated is a feasible column; choosing columns that cover each
    order once at least total length is a set-partitioning problem. Its LP relaxation is
    solved over a growing subset of the pool (columns with negative reduced cost are added
    until none is left), which gives a lower bound and every column's reduced cost. A
    column whose reduced cost exceeds the gap between the incumbent and that bound cannot
    be in a better solution, so the integer program (HiGHS) runs on the rest, capped at
    `SP_COLUMNS` by reduced cost. With a time limit hit inside HiGHS the answer can depend
    on the machine's speed; the node limit keeps ordinary runs deterministic.
    """
    idx = sorted(i for g in incumbent for i in g)
    row = {i: r for r, i in enumerate(idx)}
    for g in incumbent:
        problem.length(frozenset(g))
    pool, cost, matrix = _pool(problem, idx, row)
    index = {m: k for k, (m, _) in enumerate(pool)}
    if any(frozenset(g) not in index for g in incumbent):
        return incumbent  # the cache was dropped while the incumbent was being added
    chosen = np.array(sorted(index[frozenset(g)] for g in incumbent))
    solved = _price(cost, matrix, chosen, deadline)
    if solved is None:
        return incumbent
    bound, reduced = solved
    incumbent_total = float(cost[chosen].sum())
    gap = incumbent_total - bound
    if gap <= EPS:
        return incumbent
    candidates = np.flatnonzero(reduced <= gap + 1e-6)
    if candidates.size > SP_COLUMNS:
        order = np.argsort(reduced[candidates], kind="stable")
        candidates = np.union1d(candidates[order[:SP_COLUMNS]], chosen)
    seconds = SP_SECONDS
    if deadline is not None:
        seconds = min(seconds, deadline - time.perf_counter())
        if seconds <= 0:
            raise _OutOfTime
    ones = np.ones(len(idx))
    result = milp(
        cost[candidates],
        constraints=LinearConstraint(matrix[:, candidates], ones, ones),
        integrality=np.ones(candidates.size),
        bounds=Bounds(0, 1),
        options={"time_limit": seconds, "node_limit": SP_NODES},
    )
    if result.x is None or float(result.fun) >= incumbent_total - EPS:
        return incumbent
    groups = [sorted(pool[candidates[k]][0]) for k in np.flatnonzero(result.x > 0.5)]
    covered = sorted(i for g in groups for i in g)
    if covered != idx or not all(problem.group_fits(g) for g in groups):
        return incumbent  # pragma: no cover - HiGHS returned an infeasible point
    return groups


Pool = list[tuple[frozenset[int], float]]


def _pool(
    problem: _Problem, idx: list[int], row: dict[int, int]
) -> tuple[Pool, np.ndarray, csc_matrix]:
    """The evaluated batches of these orders that fit the cart: columns, costs, matrix."""
    pool = problem.columns(set(idx))
    cost = np.array([d for _, d in pool])
    sizes = np.array([len(m) for m, _ in pool])
    rows = np.fromiter((row[i] for m, _ in pool for i in m), dtype=np.int64, count=sizes.sum())
    cols = np.repeat(np.arange(len(pool)), sizes)
    matrix = csc_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(idx), len(pool)))
    # Every batch the search evaluates fits the cart; this filter keeps it that way.
    cart = problem.cart
    fits = sizes <= cart.totes
    for limit, load in (
        (cart.items, problem.items),
        (cart.volume_cm3, problem.volume),
        (cart.weight_g, problem.weight),
    ):
        fits &= matrix.T @ np.array([float(load[i]) for i in idx]) <= limit + 0.5
    keep = np.flatnonzero(fits)
    return [pool[k] for k in keep], cost[keep], matrix[:, keep]


def _price(
    cost: np.ndarray, matrix: csc_matrix, chosen: np.ndarray, deadline: float | None
) -> tuple[float, np.ndarray] | None:
    """The LP relaxation over the whole pool by pricing: its value and every column's
    reduced cost (None when HiGHS fails). Starts from the incumbent's and the single-order
    columns and adds the most negative reduced-cost columns until none is left."""
    active = np.zeros(cost.size, dtype=bool)
    active[chosen] = True
    active[np.asarray(matrix.sum(axis=0)).ravel() == 1] = True
    ones = np.ones(matrix.shape[0])
    for _ in range(SP_PRICING_ROUNDS):
        _check_time(deadline)
        subset = np.flatnonzero(active)
        lp = linprog(
            cost[subset], A_eq=matrix[:, subset], b_eq=ones, bounds=(0, None), method="highs"
        )
        if lp.status != 0:
            return None
        duals = np.asarray(lp.eqlin.marginals)
        reduced = cost - matrix.T @ duals
        entering = np.flatnonzero((reduced < -1e-7) & ~active)
        if entering.size == 0:
            break
        active[entering[np.argsort(reduced[entering], kind="stable")[:SP_ENTERING]]] = True
    return float(lp.fun), reduced


def _improve_window(
    problem: _Problem,
    start: list[list[int]],
    rng: random.Random,
    deadline: float | None,
    rounds: int = ILS_ROUNDS,
) -> list[list[int]]:
    """The better of `start` and Clarke–Wright on these orders (when there is time for it),
    then improved.

    Up to `CYCLES` times: iterated local search from the best batching so far, then set
    partitioning over every batch evaluated so far; another cycle only when the set
    partitioning found something better (local search then starts from its answer).
    """
    idx = sorted(i for g in start for i in g)
    best = start
    best_total = problem.total(start)
    pairs = len(idx) * (len(idx) - 1) / 2

    def keep(found: list[list[int]]) -> bool:
        nonlocal best, best_total
        total = problem.total(found)
        if total < best_total - EPS:
            best, best_total = found, total
            return True
        return False

    # Clarke–Wright evaluates every pair; skip it when that would take most of the time.
    if (
        deadline is None
        or pairs * problem.seconds_per_call() < (deadline - time.perf_counter()) / 2
    ):
        cw = _clarke_wright(problem, idx, deadline)
        if cw is not None:
            keep(cw)
    try:
        for _ in range(CYCLES):
            keep(_iterated_local_search(problem, best, rng, deadline, rounds))
            _check_time(deadline)
            if not keep(_set_partition(problem, best, deadline)):
                break
    except _OutOfTime:
        pass
    return best


def _seam_pass(
    problem: _Problem,
    groups: list[list[int]],
    deadline: float | None,
    reach: int = 2,
) -> list[list[int]]:
    """Shift and swap moves between batches at most `reach` apart in sweep order.

    Swaps are tried only between the three orders of each batch that lie nearest the other
    batch in sweep order, which keeps a pass linear in the number of batches.
    """
    position = {i: k for k, i in enumerate(problem.by_sweep(i for g in groups for i in g))}
    groups = sorted(groups, key=lambda g: sum(position[i] for i in g) / len(g))
    search = _Search(problem, groups)
    try:
        improved = True
        while improved:
            improved = False
            for a in range(len(search.members)):
                for b in range(a + 1, min(a + reach + 1, len(search.members))):
                    if _improve_pair(search, a, b, position, deadline):
                        improved = True
    except _OutOfTime:
        pass
    return search.groups()


def _improve_pair(
    search: _Search, a: int, b: int, position: dict[int, int], deadline: float | None
) -> bool:
    """Apply improving shifts and swaps between batches a and b; whether any applied."""
    improved = False
    for src, dst in ((a, b), (b, a)):
        for i in list(search.members[src]):
            _check_time(deadline)
            if search.can_shift(i, dst):
                delta, new_src, new_dst = search.shift_delta(i, dst)
                if delta < -EPS:
                    search.shift(i, dst, new_src, new_dst)
                    improved = True
    left = sorted(search.members[a], key=lambda i: -position[i])[:3]
    right = sorted(search.members[b], key=lambda i: position[i])[:3]
    for i in left:
        for j in right:
            _check_time(deadline)
            if search.batch_of[i] != a or search.batch_of[j] != b or not search.can_swap(i, j):
                continue
            found = search.swap_delta(i, j, -EPS)
            if found is not None and found[0] < -EPS:
                search.swap(i, j, found[1], found[2])
                improved = True
    return improved


def _local_search(
    problem: _Problem, idx: Sequence[int], rng: random.Random, deadline: float | None
) -> list[list[int]]:
    """Sweep batches improved by windows of local search; see the module docstring."""
    if not idx:
        return []
    fcfs = _fill(problem, problem.by_arrival(idx))
    fcfs_total = problem.total(fcfs)
    sweep = problem.by_sweep(idx)
    groups = _fill(problem, sweep)
    if len(idx) <= WINDOW and _window_size(problem, len(idx), deadline) >= len(idx):
        start = groups if problem.total(groups) <= fcfs_total else fcfs
        groups = _improve_window(problem, start, rng, deadline)
    else:
        groups = _seam_pass(problem, groups, deadline)
        per_cart = len(idx) / len(groups)
        size = max(_window_size(problem, len(idx), deadline), round(3 * per_cart))
        if deadline is None or time.perf_counter() < deadline:
            windows = _windows(problem, groups, size)
            groups = []
            for w, window in enumerate(windows):
                window_deadline = deadline
                if deadline is not None:
                    now = time.perf_counter()
                    window_deadline = now + (deadline - now) / (len(windows) - w)
                groups += _improve_window(problem, window, rng, window_deadline, WINDOW_ILS_ROUNDS)
            groups = _seam_pass(problem, groups, deadline)
    return groups if problem.total(groups) <= fcfs_total else fcfs


def _window_size(problem: _Problem, count: int, deadline: float | None) -> int:
    """Orders per window: WINDOW, or under a deadline what Clarke–Wright can afford.

    Clarke–Wright on windows of w orders costs about count·w/2 route lengths in all; under a
    deadline w is chosen so that this takes half of the time left (the rest goes to local
    search and set partitioning).
    """
    if deadline is None:
        return WINDOW
    remaining = deadline - time.perf_counter()
    return min(WINDOW, max(0, int(remaining / (count * problem.seconds_per_call()))))


def _windows(problem: _Problem, groups: list[list[int]], size: int) -> list[list[list[int]]]:
    """Batches in sweep order, cut into runs of about `size` orders."""
    position = {i: k for k, i in enumerate(problem.by_sweep(i for g in groups for i in g))}
    ordered = sorted(groups, key=lambda g: sum(position[i] for i in g) / len(g))
    windows: list[list[list[int]]] = [[]]
    count = 0
    for g in ordered:
        if count >= size:
            windows.append([])
            count = 0
        windows[-1].append(g)
        count += len(g)
    return windows
