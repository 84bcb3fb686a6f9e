"""Pick-path routing: the order a picker walks to the spots of a pick list, and the walk itself.

Policies (`POLICIES`):

* ``"optimal"`` - the shortest tour, exactly. The aisles are swept left to right by a dynamic
  program over *partial tour subgraphs* (Ratliff & Rosenthal 1983). Between two neighbouring
  aisles the program keeps, for every cross-aisle vertex of the current aisle, whether the
  partial tour touches it, the parity of its degree, and which vertices the partial tour already
  connects (a "frontier" state). Inside an aisle each stretch between two cross aisles takes one
  of six configurations (none, one pass, two passes, in and back from the front, in and back
  from the back, in and back from both ends leaving out the largest gap) and each cross-aisle
  stretch between two aisles carries 0, 1 or 2 edges. On a single-block layout the frontier has
  two vertices and the states are exactly Ratliff & Rosenthal's seven equivalence classes (six
  open ones and the finished tour), so the method is their algorithm, linear in the number of
  aisles. On a layout with more blocks the same program runs with one frontier vertex per cross
  aisle; it stays exact (it is the multi-block generalisation of Roodbergen & de Koster 2001's
  two-block algorithm), and its state count depends only on the number of blocks (112 for three
  blocks), not on the number of picks. A depot between two aisles is a required vertex on an
  extra aisle-less column at its x. The tour graph is rebuilt from the program's choices and an
  Euler tour of it gives the walk and the visiting order. The single-block program runs over
  dictionaries of reachable states in plain Python (fastest for six states); with more blocks
  it runs over dense numpy cost vectors, one transition table per step kind, and recovers its
  choices afterwards from the stored vectors.
* ``"s_shape"``, ``"return"``, ``"midpoint"``, ``"largest_gap"``, ``"combined"`` - the classic
  walking patterns, as the picker follows them (their length is that of the pattern, not of
  shortest walks between consecutive picks). For several blocks S-shape, largest gap and
  combined follow Roodbergen & de Koster (2001, "Routing methods for warehouses with multiple
  cross aisles"); midpoint is largest gap with every sub-aisle split at its middle instead of at
  its largest gap, and return is the block-by-block extension described in `_return_policy`.
  All five start with the pick aisle on the depot's side: the leftmost pick aisle, or the
  rightmost when that one is nearer the depot (the pattern is then mirrored).
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from app.walks.layout import EPSILON, Layout, Point, Spot

POLICIES = ("optimal", "s_shape", "return", "midpoint", "largest_gap", "combined")

INF = math.inf


class RoutingError(ValueError):
    """A routing request that cannot be planned (unknown policy, spot outside the layout)."""


@dataclass(frozen=True)
class Route:
    """One picker's tour from the depot through every spot and back.

    `sequence` holds indices into the spots the route was planned for, in visiting order, each
    exactly once (spots at one place are consecutive). `path` holds the walk's waypoints; it
    starts and ends at the depot, passes through every spot's point, and every leg runs along an
    aisle or a cross aisle. `length` is the metres walked along `path`.
    """

    policy: str
    sequence: tuple[int, ...]
    length: float
    path: tuple[Point, ...]


def plan_route(layout: Layout, spots: Sequence[Spot], policy: str = "optimal") -> Route:
    """The route a picker takes through `spots` under `policy` (see the module docstring)."""
    _check_policy(policy)
    picks = _Picks.of(layout, spots)
    if not picks.away:
        return Route(policy, tuple(range(len(spots))), 0.0, (layout.depot,))
    if policy == "optimal":
        length, path = _optimal(layout, picks)
    else:
        length, path = _HEURISTICS[policy](layout, picks)
    return Route(policy, picks.sequence(path), length, path)


def route_length(layout: Layout, spots: Sequence[Spot], policy: str = "optimal") -> float:
    """The metres walked by `plan_route(layout, spots, policy)`."""
    _check_policy(policy)
    picks = _Picks.of(layout, spots)
    if not picks.away:
        return 0.0
    if policy == "optimal":
        return _optimal_length(layout, picks)
    return _HEURISTICS[policy](layout, picks)[0]


def estimate_length(layout: Layout, spots: Sequence[Spot]) -> float:
    """The shortest tour's length, fast, for batching's inner loops.

    The dynamic program's optimum without rebuilding the walk: exact on every layout (about
    0.1 ms for 30 spots on a single block and 0.4 ms on three blocks).
    """
    picks = _Picks.of(layout, spots)
    if not picks.away:
        return 0.0
    return _optimal_length(layout, picks)


def _check_policy(policy: str) -> None:
    if policy not in POLICIES:
        raise RoutingError(
            f"unknown routing policy {policy!r}; choose one of {', '.join(POLICIES)}"
        )


# --- the pick list, located on the layout ------------------------------------------------------


class _Picks:
    """Where a pick list's spots lie: inside aisle stretches, or on cross-aisle vertices."""

    __slots__ = ("at", "away", "interior", "nodes", "spots_count")

    def __init__(self) -> None:
        # point -> indices of the spots there, in input order
        self.at: dict[Point, list[int]] = {}
        # (aisle, stretch) -> distinct y strictly inside the stretch (unsorted)
        self.interior: dict[tuple[int, int], set[float]] = {}
        # (aisle, cross aisle) vertices with a spot on them
        self.nodes: set[tuple[int, int]] = set()
        # True when some spot is not at the depot (else the tour is empty)
        self.away = False
        self.spots_count = 0

    @classmethod
    def of(cls, layout: Layout, spots: Sequence[Spot]) -> _Picks:
        self = cls()
        xs = layout.aisle_x
        cy = layout.cross_y
        n = len(xs)
        last = len(cy) - 1
        lo = cy[0] - EPSILON
        hi = cy[-1] + EPSILON
        dx = layout.depot[0]
        at = self.at
        self.spots_count = len(spots)
        for i, spot in enumerate(spots):
            a = spot.aisle
            y = spot.y
            if not 0 <= a < n:
                raise RoutingError(
                    f"spot {i} ({spot}) is outside the layout: aisle index {a} is not in 0..{n - 1}"
                )
            if not lo <= y <= hi:
                raise RoutingError(
                    f"spot {i} ({spot}) is outside the layout: "
                    f"y = {y} is not between {cy[0]} and {cy[-1]}"
                )
            k = bisect_left(cy, y)
            if k <= last and cy[k] - y <= EPSILON:
                node = k
            elif k > 0 and y - cy[k - 1] <= EPSILON:
                node = k - 1
            else:
                node = -1
            if node >= 0:
                point = (xs[a], cy[node])
                self.nodes.add((a, node))
                if node == 0 and abs(xs[a] - dx) <= EPSILON:
                    point = layout.depot  # where every walk starts
                else:
                    self.away = True
            else:
                point = (xs[a], y)
                key = (a, k - 1)
                bucket = self.interior.get(key)
                if bucket is None:
                    self.interior[key] = {y}
                else:
                    bucket.add(y)
                self.away = True
            here = at.get(point)
            if here is None:
                at[point] = [i]
            else:
                here.append(i)
        return self

    def by_block(self, layout: Layout) -> dict[tuple[int, int], list[float]]:
        """(block, aisle) -> ascending distinct pick y, a spot on a cross aisle counted in the
        block in front of it (as `Layout.block_of` does), the front cross aisle in block 0.
        Spots at the depot are left out: the picker has them before setting off."""
        cy = layout.cross_y
        xs = layout.aisle_x
        dx = layout.depot[0]
        out: dict[tuple[int, int], list[float]] = {}
        for (a, s), ys in self.interior.items():
            out.setdefault((s, a), []).extend(ys)
        for a, k in self.nodes:
            if k == 0 and abs(xs[a] - dx) <= EPSILON:
                continue
            out.setdefault((max(k - 1, 0), a), []).append(cy[k])
        for column in out.values():
            column.sort()
        return out

    def sequence(self, path: Sequence[Point]) -> tuple[int, ...]:
        """Spot indices in the order the walk first reaches their points."""
        at = self.at
        seen: set[Point] = set()
        order: list[int] = []
        for p in path:
            if p in at and p not in seen:
                seen.add(p)
                order.extend(at[p])
        if len(order) != self.spots_count:
            # A waypoint can stand for a spot a rounding error away (a depot within EPSILON
            # of an aisle, say): match the spots still missing with that tolerance.
            missing = [q for q in at if q not in seen]
            order = []
            seen = set()
            for p in path:
                for q in missing:
                    if (
                        q not in seen
                        and abs(p[0] - q[0]) <= EPSILON
                        and abs(p[1] - q[1]) <= EPSILON
                    ):
                        seen.add(q)
                        order.extend(at[q])
                if p in at and p not in seen:
                    seen.add(p)
                    order.extend(at[p])
        if len(order) != self.spots_count:  # pragma: no cover - every walk passes every spot
            raise RuntimeError("internal routing error: the walk misses a spot")
        return tuple(order)


def _finish_path(
    layout: Layout, points: list[Point], keep: dict[Point, list[int]]
) -> tuple[Point, ...]:
    """Drop repeated points and straight-through corners that are not pick points; start and
    end exactly at the depot."""
    out: list[Point] = []
    for p in points:
        if out and out[-1] == p:
            continue
        if len(out) >= 2 and out[-1] not in keep:
            ax, ay = out[-2]
            bx, by = out[-1]
            cx, cy_ = p
            if (ax == bx == cx and (by - ay) * (cy_ - by) > 0) or (
                ay == by == cy_ and (bx - ax) * (cx - bx) > 0
            ):
                out[-1] = p
                continue
        out.append(p)
    out[0] = layout.depot
    out[-1] = layout.depot
    return tuple(out)


# --- the exact dynamic program -----------------------------------------------------------------

# Configurations of one aisle stretch between two cross aisles: (degree added at its front
# vertex, degree added at its back vertex, whether it joins the two vertices).
_NONE, _PASS, _TWICE, _FRONT, _BACK, _GAP = range(6)
_OPTIONS = ((0, 0, False), (1, 1, True), (2, 2, True), (2, 0, False), (0, 2, False), (2, 2, False))


@dataclass(frozen=True)
class _Machine:
    """The frontier states and transitions for layouts with `k` cross aisles.

    A state is a tuple with one code per cross-aisle vertex of the current column: 0 when the
    partial tour does not touch it, else ``2 * component + parity`` with components numbered
    from 1 in order of first appearance. State 0 is the empty partial tour.
    """

    k: int
    states: tuple[tuple[int, ...], ...]
    # per state: (next state, edges added, touched mask, spur mask, edges per cross aisle)
    across: tuple[tuple[tuple[int, int, int, int, tuple[int, ...]], ...], ...]
    # per stretch, per state: (option, next state) for every option but _NONE
    along: tuple[tuple[tuple[tuple[int, int], ...], ...], ...]
    # per state: mask of touched vertices when the state is a finished tour, else -1
    final: tuple[int, ...]


def _normalise(codes: Sequence[int]) -> tuple[int, ...]:
    names: dict[int, int] = {}
    out: list[int] = []
    for c in codes:
        if c == 0:
            out.append(0)
            continue
        label = names.setdefault(c >> 1, len(names) + 1)
        out.append(label * 2 + (c & 1))
    return tuple(out)


def _across(state: tuple[int, ...]) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Cross-aisle edge counts from the current column to the next, with the next state.

    Odd vertices take one edge, others zero or two; every component must continue (a component
    left behind is a finished tour, which only the terminal check accepts).
    """
    k = len(state)
    choices = [(1,) if c & 1 else (0, 2) for c in state]
    labels = {c >> 1 for c in state if c}
    out = []
    for edges in itertools.product(*choices):
        if {state[i] >> 1 for i in range(k) if state[i] and edges[i]} != labels:
            continue
        nxt: list[int] = []
        fresh = 1000
        for i in range(k):
            if edges[i] == 0:
                nxt.append(0)
            elif state[i]:
                nxt.append((state[i] >> 1) * 2 + (edges[i] & 1))
            else:
                fresh += 1
                nxt.append(fresh * 2)
        out.append((edges, _normalise(nxt)))
    return out


def _along(state: tuple[int, ...], stretch: int, option: int) -> tuple[int, ...]:
    front_deg, back_deg, joins = _OPTIONS[option]
    codes = list(state)
    fresh = 1000
    for i, d in ((stretch, front_deg), (stretch + 1, back_deg)):
        if d:
            if codes[i]:
                codes[i] = (codes[i] >> 1) * 2 + ((codes[i] & 1) ^ (d & 1))
            else:
                fresh += 1
                codes[i] = fresh * 2 + (d & 1)
    if joins:
        keep = codes[stretch] >> 1
        gone = codes[stretch + 1] >> 1
        codes = [keep * 2 + (c & 1) if c and c >> 1 == gone else c for c in codes]
    return _normalise(codes)


@lru_cache(maxsize=8)
def _machine(k: int) -> _Machine:
    start = (0,) * k
    index = {start: 0}
    states = [start]
    across: list[list[tuple[int, int, int, int, tuple[int, ...]]]] = []
    along: list[list[tuple[tuple[int, int], ...]]] = [[] for _ in range(k - 1)]

    def idx(s: tuple[int, ...]) -> int:
        if s not in index:
            index[s] = len(states)
            states.append(s)
        return index[s]

    i = 0
    while i < len(states):
        s = states[i]
        row = []
        for edges, nxt in _across(s):
            touched = sum(1 << v for v in range(k) if s[v] or edges[v])
            spur = sum(1 << v for v in range(k) if not s[v] and edges[v])
            row.append((idx(nxt), sum(edges), touched, spur, edges))
        across.append(row)
        for stretch in range(k - 1):
            along[stretch].append(
                tuple((o, idx(_along(s, stretch, o))) for o in range(1, len(_OPTIONS)))
            )
        i += 1
    final = []
    for s in states:
        labels = {c >> 1 for c in s if c}
        ok = len(labels) == 1 and all(not c & 1 for c in s)
        final.append(sum(1 << v for v in range(k) if s[v]) if ok else -1)
    return _Machine(
        k,
        tuple(states),
        tuple(tuple(r) for r in across),
        tuple(tuple(r) for r in along),
        tuple(final),
    )


@dataclass
class _Columns:
    """The layout's columns (aisles, plus an aisle-less one at a depot between aisles) that a
    tour may use, with what each requires and what each stretch configuration costs."""

    x: list[float]
    aisle: list[int]  # aisle index, -1 for the depot's aisle-less column
    required: list[int]  # mask of cross-aisle vertices that must be on the tour
    costs: list[list[tuple[float, ...]]]  # per stretch, cost of each configuration
    ys: list[list[list[float]]]  # per stretch, ascending pick y inside it
    last_required: int


def _columns(layout: Layout, picks: _Picks) -> _Columns:
    xs = layout.aisle_x
    cy = layout.cross_y
    dx = layout.depot[0]
    stretches = len(cy) - 1
    depot_aisle = next((a for a, x in enumerate(xs) if abs(x - dx) <= EPSILON), -1)
    used = {a for a, _ in picks.interior} | {a for a, _ in picks.nodes}
    if depot_aisle >= 0:
        used.add(depot_aisle)
        lo_x = min(xs[a] for a in used)
        hi_x = max(xs[a] for a in used)
    else:
        left = max(x for x in xs if x < dx)
        right = min(x for x in xs if x > dx)
        lo_x = min(min(xs[a] for a in used), left)
        hi_x = max(max(xs[a] for a in used), right)
    cols = _Columns([], [], [], [], [], -1)
    node_mask: dict[int, int] = {}
    for a, k in picks.nodes:
        node_mask[a] = node_mask.get(a, 0) | (1 << k)

    def add_aisle(a: int) -> None:
        x = xs[a]
        if not lo_x - EPSILON <= x <= hi_x + EPSILON:
            return
        cols.x.append(x)
        cols.aisle.append(a)
        cols.required.append(node_mask.get(a, 0) | (1 if a == depot_aisle else 0))
        costs: list[tuple[float, ...]] = []
        ys_all: list[list[float]] = []
        for s in range(stretches):
            length = cy[s + 1] - cy[s]
            bucket = picks.interior.get((a, s))
            if not bucket:
                costs.append((0.0, length, 2 * length, INF, INF, INF))
                ys_all.append([])
                continue
            ys = sorted(bucket)
            gap = INF
            if len(ys) > 1:
                gap = 2 * (length - max(b - a_ for a_, b in zip(ys, ys[1:], strict=False)))
            costs.append(
                (INF, length, 2 * length, 2 * (ys[-1] - cy[s]), 2 * (cy[s + 1] - ys[0]), gap)
            )
            ys_all.append(ys)
        cols.costs.append(costs)
        cols.ys.append(ys_all)

    for a in range(len(xs)):
        if depot_aisle < 0 and (a == 0 or xs[a - 1] < dx) and xs[a] > dx:
            cols.x.append(dx)
            cols.aisle.append(-1)
            cols.required.append(1)
            cols.costs.append([(0.0, INF, INF, INF, INF, INF)] * stretches)
            cols.ys.append([[] for _ in range(stretches)])
        add_aisle(a)
    cols.last_required = max(j for j, r in enumerate(cols.required) if r or _has_picks(cols, j))
    return cols


def _has_picks(cols: _Columns, j: int) -> bool:
    return any(cols.ys[j])


# A step of the program's back-pointers: next state -> (previous state, choice).
_Back = dict[int, tuple[int, int]]

# The tour the program chose: its last column, then per column the configuration of each
# stretch and the cross-aisle edge counts to the column on its left.
_Choices = tuple[int, list[list[int]], list[tuple[int, ...]]]


def _optimal_length(layout: Layout, picks: _Picks) -> float:
    cols = _columns(layout, picks)
    if len(layout.cross_y) == 2:
        return _run(layout, cols, track=False)[0]
    return _run_np(layout, cols, keep=False)[0]


def _choose(layout: Layout, cols: _Columns) -> tuple[float, _Choices]:
    """The optimum and the tour that reaches it (pure Python for a single block, whose few
    states make numpy's overhead dominate; numpy for more blocks)."""
    if len(layout.cross_y) == 2:
        best, end, state, steps = _run(layout, cols, track=True)
        return best, _back_py(layout, end, state, steps)
    best, end, state, history = _run_np(layout, cols, keep=True)
    return best, _back_np(layout, cols, end, state, history)


def _run(layout: Layout, cols: _Columns, track: bool) -> tuple[float, int, int, list[_Back]]:
    """The dynamic program over sparse dictionaries of reachable states. Returns the
    optimum, the column and state it ends in and, when `track`, the back-pointers of every
    step (one across step per column after the first, then one step per stretch)."""
    m = _machine(len(layout.cross_y))
    across = m.across
    along = m.along
    final = m.final
    stretches = m.k - 1
    cost: dict[int, float] = {0: 0.0}
    steps: list[_Back] = []
    best = INF
    best_at = (-1, -1)
    n = len(cols.x)
    for j in range(n):
        if j:
            width = cols.x[j] - cols.x[j - 1]
            req = cols.required[j - 1]
            nxt: dict[int, float] = {}
            back: _Back = {}
            for s, c in cost.items():
                for t, (d, count, touched, spur, _) in enumerate(across[s]):
                    if touched & req != req or spur & ~req:
                        continue
                    v = c + width * count
                    if v < nxt.get(d, INF):
                        nxt[d] = v
                        if track:
                            back[d] = (s, t)
            cost = nxt
            if track:
                steps.append(back)
        costs_j = cols.costs[j]
        for st in range(stretches):
            oc = costs_j[st]
            allowed = [(o, oc[o]) for o in range(1, len(_OPTIONS)) if oc[o] < INF]
            table = along[st]
            none_ok = oc[_NONE] == 0.0
            nxt = {}
            back = {}
            for s, c in cost.items():
                if none_ok and c < nxt.get(s, INF):
                    nxt[s] = c
                    if track:
                        back[s] = (s, _NONE)
                row = table[s]
                for o, w in allowed:
                    d = row[o - 1][1]
                    v = c + w
                    if v < nxt.get(d, INF):
                        nxt[d] = v
                        if track:
                            back[d] = (s, o)
            cost = nxt
            if track:
                steps.append(back)
        if j >= cols.last_required:
            req = cols.required[j]
            for s, c in cost.items():
                f = final[s]
                if f > 0 and f & req == req and c < best:
                    best = c
                    best_at = (j, s)
    if best_at[0] < 0:  # pragma: no cover - a tour always exists
        raise RuntimeError("internal routing error: no tour found")
    return best, best_at[0], best_at[1], steps


def _back_py(layout: Layout, end: int, state: int, steps: list[_Back]) -> _Choices:
    m = _machine(len(layout.cross_y))
    stretches = m.k - 1
    options: list[list[int]] = [[_NONE] * stretches for _ in range(end + 1)]
    edges_left: list[tuple[int, ...]] = [(0,) * m.k for _ in range(end + 1)]
    # Steps past the end column are not part of the tour.
    pos = end * (stretches + 1) + stretches - 1
    for j in range(end, -1, -1):
        for st in range(stretches - 1, -1, -1):
            state, o = steps[pos][state]
            options[j][st] = o
            pos -= 1
        if j:
            prev, t = steps[pos][state]
            edges_left[j] = m.across[prev][t][4]
            state = prev
            pos -= 1
    return end, options, edges_left


@dataclass(frozen=True)
class _Across:
    """The across transitions allowed with one required mask, as contiguous columns: source,
    edges added, the targets they reach, and where each target's rows start."""

    source: np.ndarray
    edges: np.ndarray
    targets: np.ndarray
    starts: np.ndarray


@dataclass(frozen=True)
class _Arrays:
    """A `_Machine` as numpy arrays, each transition table sorted by its target state."""

    states: int
    # across: columns source, target, edges added, touched mask, spur mask, index in the
    # source's row of `_Machine.across`
    across: np.ndarray
    across_start: np.ndarray  # across rows with target d: across_start[d]:across_start[d + 1]
    # along, per stretch: columns source, option, target
    along: tuple[np.ndarray, ...]
    along_start: tuple[np.ndarray, ...]
    along_source: tuple[np.ndarray, ...]  # contiguous copies of the along columns
    along_option: tuple[np.ndarray, ...]
    final: np.ndarray
    usable: dict[int, _Across]  # required mask -> across rows allowed with it


@lru_cache(maxsize=8)
def _arrays(k: int) -> _Arrays:
    m = _machine(k)
    count = len(m.states)
    rows = [
        (s, d, edges, touched, spur, t)
        for s, row in enumerate(m.across)
        for t, (d, edges, touched, spur, _) in enumerate(row)
    ]
    across = np.array(sorted(rows, key=lambda r: (r[1], r[0], r[5])), dtype=np.int64)
    along = []
    for table in m.along:
        moves = [(s, _NONE, s) for s in range(count)]
        moves += [(s, o, d) for s in range(count) for o, d in table[s]]
        along.append(np.array(sorted(moves, key=lambda r: (r[2], r[0], r[1])), dtype=np.int64))
    bins = np.arange(count + 1)
    return _Arrays(
        count,
        across,
        np.searchsorted(across[:, 1], bins),
        tuple(along),
        tuple(np.searchsorted(t[:, 2], bins) for t in along),
        tuple(np.ascontiguousarray(t[:, 0]) for t in along),
        tuple(np.ascontiguousarray(t[:, 1]) for t in along),
        np.array(m.final, dtype=np.int64),
        {},
    )


def _usable(arr: _Arrays, req: int) -> _Across:
    got = arr.usable.get(req)
    if got is None:
        a = arr.across
        rows = a[((a[:, 3] & req) == req) & ((a[:, 4] & ~req) == 0)]
        # rows stay sorted by target; each target's run starts where the target changes
        starts = np.flatnonzero(np.diff(rows[:, 1], prepend=-1))
        got = arr.usable[req] = _Across(
            np.ascontiguousarray(rows[:, 0]),
            np.ascontiguousarray(rows[:, 2]).astype(float),
            np.ascontiguousarray(rows[starts, 1]),
            starts,
        )
    return got


def _run_np(layout: Layout, cols: _Columns, keep: bool) -> tuple[float, int, int, list[np.ndarray]]:
    """The dynamic program over dense cost vectors (one entry per state). Returns the
    optimum, the column and state it ends in and, when `keep`, the cost vector before every
    step (in `_run`'s step order) followed by the last one."""
    arr = _arrays(len(layout.cross_y))
    size = arr.states
    option_costs = np.array(cols.costs)  # column, stretch, option
    finished = arr.final > 0
    cost = np.full(size, INF)
    cost[0] = 0.0
    history: list[np.ndarray] = []
    best = INF
    best_at = (-1, -1)
    for j in range(len(cols.x)):
        if j:
            moves = _usable(arr, cols.required[j - 1])
            if keep:
                history.append(cost)
            vals = cost[moves.source] + (cols.x[j] - cols.x[j - 1]) * moves.edges
            cost = np.full(size, INF)
            cost[moves.targets] = np.minimum.reduceat(vals, moves.starts)
        for st in range(len(arr.along)):
            if keep:
                history.append(cost)
            # every state keeps a _NONE row, so each target's run is non-empty
            vals = cost[arr.along_source[st]] + option_costs[j, st][arr.along_option[st]]
            cost = np.minimum.reduceat(vals, arr.along_start[st][:-1])
        if j >= cols.last_required:
            req = cols.required[j]
            done = np.where(finished & ((arr.final & req) == req), cost, INF)
            s = int(np.argmin(done))
            if done[s] < best:
                best = float(done[s])
                best_at = (j, s)
    if best_at[0] < 0:  # pragma: no cover - a tour always exists
        raise RuntimeError("internal routing error: no tour found")
    if keep:
        history.append(cost)
    return best, best_at[0], best_at[1], history


def _back_np(
    layout: Layout, cols: _Columns, end: int, state: int, history: list[np.ndarray]
) -> _Choices:
    """Recover the choices of `_run_np` from its cost vectors: at each step back, a
    transition into the current state whose source cost plus step cost gives its cost."""
    arr = _arrays(len(layout.cross_y))
    m = _machine(len(layout.cross_y))
    stretches = m.k - 1
    options: list[list[int]] = [[_NONE] * stretches for _ in range(end + 1)]
    edges_left: list[tuple[int, ...]] = [(0,) * m.k for _ in range(end + 1)]
    pos = end * (stretches + 1) + stretches - 1
    target = float(history[pos + 1][state])

    def matches(got: float) -> bool:
        return abs(got - target) <= 1e-9 * max(1.0, abs(target))

    for j in range(end, -1, -1):
        for st in range(stretches - 1, -1, -1):
            before = history[pos]
            oc = cols.costs[j][st]
            table = arr.along[st]
            for s, o, _ in table[arr.along_start[st][state] : arr.along_start[st][state + 1]]:
                if matches(float(before[s]) + oc[o]):
                    state, target = int(s), float(before[s])
                    options[j][st] = int(o)
                    break
            else:  # pragma: no cover - the optimum came from some transition
                raise RuntimeError("internal routing error: lost the optimal tour")
            pos -= 1
        if j:
            before = history[pos]
            width = cols.x[j] - cols.x[j - 1]
            req = cols.required[j - 1]
            rows = arr.across[arr.across_start[state] : arr.across_start[state + 1]]
            for s, _, edges, touched, spur, t in rows:
                if touched & req != req or spur & ~req:
                    continue
                if matches(float(before[s]) + width * edges):
                    edges_left[j] = m.across[s][t][4]
                    state, target = int(s), float(before[s])
                    break
            else:  # pragma: no cover - the optimum came from some transition
                raise RuntimeError("internal routing error: lost the optimal tour")
            pos -= 1
    return end, options, edges_left


def _optimal(layout: Layout, picks: _Picks) -> tuple[float, tuple[Point, ...]]:
    cols = _columns(layout, picks)
    best, (end, options, edges_left) = _choose(layout, cols)
    cy = layout.cross_y
    # The tour graph, as a multigraph on points.
    vid: dict[Point, int] = {}
    ends: list[tuple[int, int]] = []

    def v(p: Point) -> int:
        i = vid.get(p)
        if i is None:
            i = vid[p] = len(vid)
        return i

    def add(p: Point, q: Point, times: int) -> None:
        if times:
            e = (v(p), v(q))
            ends.extend([e] * times)

    for j in range(end + 1):
        x = cols.x[j]
        if j:
            px = cols.x[j - 1]
            for k, times in enumerate(edges_left[j]):
                add((px, cy[k]), (x, cy[k]), times)
        for st, o in enumerate(options[j]):
            if o == _NONE:
                continue
            chain = [(x, cy[st]), *((x, y) for y in cols.ys[j][st]), (x, cy[st + 1])]
            links = list(zip(chain, chain[1:], strict=False))
            if o in (_PASS, _TWICE):
                for p, q in links:
                    add(p, q, o)  # _PASS == 1, _TWICE == 2
            elif o == _FRONT:
                for p, q in links[:-1]:
                    add(p, q, 2)
            elif o == _BACK:
                for p, q in links[1:]:
                    add(p, q, 2)
            else:
                ys = cols.ys[j][st]
                cut = max(range(len(ys) - 1), key=lambda i: ys[i + 1] - ys[i]) + 1
                for i, (p, q) in enumerate(links):
                    if i != cut:
                        add(p, q, 2)
    start = _depot_vertex(layout, vid)
    order = _euler(len(vid), ends, start)
    points = list(vid)
    path = _finish_path(layout, [points[i] for i in order], picks.at)
    return best, path


def _depot_vertex(layout: Layout, vid: dict[Point, int]) -> int:
    dx, dy = layout.depot
    for p, i in vid.items():
        if abs(p[0] - dx) <= EPSILON and abs(p[1] - dy) <= EPSILON:
            return i
    raise RuntimeError("internal routing error: the tour misses the depot")  # pragma: no cover


def _euler(count: int, ends: list[tuple[int, int]], start: int) -> list[int]:
    """An Euler circuit (Hierholzer) of a connected multigraph with even degrees."""
    adj: list[list[tuple[int, int]]] = [[] for _ in range(count)]
    for e, (a, b) in enumerate(ends):
        adj[a].append((b, e))
        adj[b].append((a, e))
    used = [False] * len(ends)
    ptr = [0] * count
    stack = [start]
    circuit: list[int] = []
    while stack:
        a = stack[-1]
        row = adj[a]
        i = ptr[a]
        while i < len(row) and used[row[i][1]]:
            i += 1
        if i == len(row):
            ptr[a] = i
            circuit.append(stack.pop())
        else:
            b, e = row[i]
            used[e] = True
            ptr[a] = i + 1
            stack.append(b)
    if len(circuit) != len(ends) + 1:  # pragma: no cover - the program builds one tour
        raise RuntimeError("internal routing error: the tour graph is not connected")
    circuit.reverse()
    return circuit


# --- the classic walking patterns --------------------------------------------------------------


class _Pattern:
    """A picker following a walking pattern: position, metres walked, waypoints.

    Patterns are written for a picker who starts with the leftmost pick aisle. When the
    rightmost pick aisle is nearer the depot the layout is mirrored (x -> -x, aisle a -> n-1-a)
    while the pattern runs, and the walk is mirrored back at the end.
    """

    def __init__(self, layout: Layout, picks: _Picks, walk: bool) -> None:
        xs = layout.aisle_x
        n = len(xs)
        pb = picks.by_block(layout)
        used = [a for _, a in pb]
        left = min(used)
        right = max(used)
        dx = layout.depot[0]
        self.mirror = abs(xs[right] - dx) < abs(xs[left] - dx)
        if self.mirror:
            xs = tuple(-x for x in reversed(xs))
            pb = {(b, n - 1 - a): ys for (b, a), ys in pb.items()}
            dx = -dx
            left = n - 1 - right
        self.layout = layout
        self.picks = picks
        self.xs = xs
        self.cy = layout.cross_y
        self.pb = pb
        self.dx = dx
        self.x = dx
        self.y = self.cy[0]
        self.length = 0.0
        self.points: list[Point] | None = [(dx, self.y)] if walk else None
        self.left = left
        self.far = max(b for b, _ in pb)

    def to(self, x: float, y: float) -> None:
        """Walk straight to (x, y); patterns only ask for moves along one aisle or cross aisle."""
        if x == self.x and y == self.y:
            return
        self.length += abs(x - self.x) + abs(y - self.y)
        self.x = x
        self.y = y
        if self.points is not None:
            self.points.append((x, y))

    def up(self, a: int, ys: Sequence[float]) -> None:
        x = self.xs[a]
        for y in ys:
            self.to(x, y)

    def down(self, a: int, ys: Sequence[float]) -> None:
        x = self.xs[a]
        for y in reversed(ys):
            self.to(x, y)

    def aisles_in(self, b: int) -> list[int]:
        return sorted(a for bb, a in self.pb if bb == b)

    def nearer_first(self, aisles: list[int]) -> list[int]:
        """`aisles` (ascending) ordered from the end nearer the picker."""
        if abs(self.xs[aisles[-1]] - self.x) < abs(self.xs[aisles[0]] - self.x):
            return aisles[::-1]
        return aisles

    def start(self) -> None:
        """Walk to the front of the first pick aisle and up it to the farthest block's front
        cross aisle, picking on the way."""
        a = self.left
        x = self.xs[a]
        self.to(x, self.cy[0])
        for b in range(self.far):
            ys = self.pb.pop((b, a), None)
            if ys:
                self.up(a, ys)
        self.to(x, self.cy[self.far])

    def finish(self) -> tuple[float, tuple[Point, ...]]:
        self.to(self.dx, self.cy[0])
        if self.pb:  # pragma: no cover - every pattern visits every pick aisle
            raise RuntimeError("internal routing error: a pattern left picks behind")
        if self.points is None:
            return self.length, ()
        points = self.points
        if self.mirror:
            points = [(-x, y) for x, y in points]
        return self.length, _finish_path(self.layout, points, self.picks.at)


def _s_shape(layout: Layout, picks: _Picks, walk: bool = True) -> tuple[float, tuple[Point, ...]]:
    """S-shape (traversal). Single block: every pick aisle is walked end to end, alternately
    up and down, except that with an odd count the last one is entered from the front and left
    the same way. Several blocks (Roodbergen & de Koster 2001): up the first pick aisle to the
    farthest block with picks; there the first pick sub-aisle is traversed (or, when it is the
    block's only one, entered and left from the front); then block by block towards the front,
    the block's pick sub-aisles are traversed in S-shape starting with the end (leftmost or
    rightmost) nearer the picker, the last one traversed or, when the picker is at the block's
    front, entered and left from the front, so that the picker always leaves a block at its
    front cross aisle; a block without picks is crossed along the current aisle."""
    p = _Pattern(layout, picks, walk)
    p.start()
    cy = p.cy
    for b in range(p.far, -1, -1):
        rem = p.aisles_in(b)
        if not rem:
            p.to(p.x, cy[b])
            continue
        at_back = b != p.far
        while rem:
            a = p.nearer_first(rem)[0]
            rem.remove(a)
            ys = p.pb.pop((b, a))
            x = p.xs[a]
            if at_back:
                p.to(x, cy[b + 1])
                p.down(a, ys)
                p.to(x, cy[b])
                at_back = False
            else:
                p.to(x, cy[b])
                p.up(a, ys)
                if rem:
                    p.to(x, cy[b + 1])
                    at_back = True
                else:
                    p.to(x, cy[b])
    return p.finish()


_Split = Callable[[list[float], float, float], tuple[list[float], list[float]]]


def _largest_gap_split(
    ys: list[float], front: float, back: float
) -> tuple[list[float], list[float]]:
    """The picks in front of and behind the largest gap (between the front cross aisle, the
    picks and the back cross aisle); ties go to the gap nearest the back."""
    pts = [front, *ys, back]
    cut = len(ys)
    widest = pts[-1] - pts[-2]
    for i in range(len(ys) - 1, -1, -1):
        if pts[i + 1] - pts[i] > widest:
            widest = pts[i + 1] - pts[i]
            cut = i
    return ys[:cut], ys[cut:]


def _midpoint_split(ys: list[float], front: float, back: float) -> tuple[list[float], list[float]]:
    """The picks in the front half of the sub-aisle and those in the back half."""
    mid = (front + back) / 2
    cut = bisect_left(ys, mid)
    while cut < len(ys) and ys[cut] <= mid:
        cut += 1
    return ys[:cut], ys[cut:]


def _gap_policy(
    layout: Layout, picks: _Picks, split: _Split, walk: bool = True
) -> tuple[float, tuple[Point, ...]]:
    """Largest gap (Roodbergen & de Koster 2001) and, with a midpoint split, midpoint.

    Up the first pick aisle to the farthest block with picks; there the first pick sub-aisle
    is traversed (or, when it is the block's only one, entered and left from the front). In
    each block, from the farthest towards the front, with the picker on the block's back cross
    aisle: the pick sub-aisle at the end farther from the picker is the block's *last*; walking
    the back cross aisle towards it, every other pick sub-aisle is entered from the back as far
    as its split (largest gap or midpoint) and left the same way; the last is traversed to the
    front; walking back along the front cross aisle, every sub-aisle with picks left is entered
    from the front as far as its split. A block without picks is crossed along the current
    aisle. On a single block this is the classic pattern: the first and last pick aisles
    traversed, the others entered from both cross aisles up to the split.
    """
    p = _Pattern(layout, picks, walk)
    p.start()
    cy = p.cy
    for b in range(p.far, -1, -1):
        rem = p.aisles_in(b)
        front, back = cy[b], cy[b + 1]
        if b == p.far:
            a = p.nearer_first(rem)[0]
            rem.remove(a)
            ys = p.pb.pop((b, a))
            x = p.xs[a]
            p.to(x, front)
            p.up(a, ys)
            if not rem:
                p.to(x, front)
                continue
            p.to(x, back)
        if not rem:
            p.to(p.x, front)
            continue
        last = p.nearer_first(rem)[-1]
        rem.remove(last)
        if rem and rem[0] > last:
            rem.reverse()  # walk right to left, towards the last sub-aisle on the left
        rest: dict[int, list[float]] = {}
        for a in rem:
            x = p.xs[a]
            near, far = split(p.pb.pop((b, a)), front, back)
            if far:
                p.to(x, back)
                p.down(a, far)
                p.to(x, back)
            rest[a] = near
        x = p.xs[last]
        p.to(x, back)
        p.down(last, p.pb.pop((b, last)))
        p.to(x, front)
        for a in reversed(rem):
            if rest[a]:
                x = p.xs[a]
                p.to(x, front)
                p.up(a, rest[a])
                p.to(x, front)
    return p.finish()


def _combined(layout: Layout, picks: _Picks, walk: bool = True) -> tuple[float, tuple[Point, ...]]:
    """Combined (Roodbergen & de Koster 2001). Up the first pick aisle to the farthest block
    with picks; then block by block towards the front, the block's pick sub-aisles are visited
    once each, in order from the end nearer the picker, each either traversed or entered and
    left from the side the picker is on; a small dynamic program makes these choices so that
    the block's vertical walking is shortest and the picker ends on its front cross aisle. A
    block without picks is crossed along the current aisle."""
    p = _Pattern(layout, picks, walk)
    p.start()
    cy = p.cy
    for b in range(p.far, -1, -1):
        rem = p.aisles_in(b)
        if not rem:
            p.to(p.x, cy[b])
            continue
        front, back = cy[b], cy[b + 1]
        depth = back - front
        order = p.nearer_first(rem)
        # cost[side], side 0 = front cross aisle, 1 = back; choice[i][side] = previous side
        cost = [INF, 0.0] if b != p.far else [0.0, INF]
        choice: list[tuple[int, int]] = []
        for a in order:
            ys = p.pb[(b, a)]
            stay_front = cost[0] + 2 * (ys[-1] - front)
            cross_down = cost[1] + depth
            stay_back = cost[1] + 2 * (back - ys[0])
            cross_up = cost[0] + depth
            c_front, from_front = (stay_front, 0) if stay_front <= cross_down else (cross_down, 1)
            c_back, from_back = (stay_back, 1) if stay_back <= cross_up else (cross_up, 0)
            cost = [c_front, c_back]
            choice.append((from_front, from_back))
        sides = [0]
        for i in range(len(order) - 1, 0, -1):
            sides.append(choice[i][sides[-1]])
        sides.reverse()  # side the picker leaves each sub-aisle on
        came = 1 if b != p.far else 0
        for a, leave in zip(order, sides, strict=True):
            x = p.xs[a]
            ys = p.pb.pop((b, a))
            if came == 0:
                p.to(x, front)
                p.up(a, ys)
            else:
                p.to(x, back)
                p.down(a, ys)
            p.to(x, front if leave == 0 else back)
            came = leave
    return p.finish()


def _return_policy(
    layout: Layout, picks: _Picks, walk: bool = True
) -> tuple[float, tuple[Point, ...]]:
    """Return. Single block: every pick aisle is entered from the front cross aisle as far as
    its farthest pick and left the same way, sweeping away from the depot. Several blocks
    (block by block): up the first pick aisle to the farthest block with picks, whose pick
    sub-aisles are entered and left from its front cross aisle; in each block nearer the front,
    the picker (on the block's back cross aisle) walks down the pick sub-aisle at the nearer end
    to the block's front cross aisle, and enters and leaves the others from there, sweeping away
    from it. A block without picks is crossed along the current aisle."""
    p = _Pattern(layout, picks, walk)
    p.start()
    cy = p.cy
    for b in range(p.far, -1, -1):
        rem = p.aisles_in(b)
        front, back = cy[b], cy[b + 1]
        if not rem:
            p.to(p.x, front)
            continue
        order = p.nearer_first(rem)
        if b != p.far:
            a = order.pop(0)
            x = p.xs[a]
            p.to(x, back)
            p.down(a, p.pb.pop((b, a)))
            p.to(x, front)
        for a in order:
            x = p.xs[a]
            p.to(x, front)
            p.up(a, p.pb.pop((b, a)))
            p.to(x, front)
    return p.finish()


def _midpoint(layout: Layout, picks: _Picks, walk: bool = True) -> tuple[float, tuple[Point, ...]]:
    return _gap_policy(layout, picks, _midpoint_split, walk)


def _largest_gap(
    layout: Layout, picks: _Picks, walk: bool = True
) -> tuple[float, tuple[Point, ...]]:
    return _gap_policy(layout, picks, _largest_gap_split, walk)


_HEURISTICS: dict[str, Callable[[Layout, _Picks], tuple[float, tuple[Point, ...]]]] = {
    "s_shape": _s_shape,
    "return": _return_policy,
    "midpoint": _midpoint,
    "largest_gap": _largest_gap,
    "combined": _combined,
}
