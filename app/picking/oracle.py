"""Exact tour lengths computed independently of `app.picking.routing`, to check it.

Nothing here shares code with the router except `app.picking.layout`:

* `held_karp` - the Held-Karp dynamic program over subsets of the distinct spots, with the
  depot as start and end and `Layout.distance` / `Layout.depot_distance` as the metric. Exact;
  memory and time grow as 2^n n^2, so it is meant for up to about 16 distinct spots.
* `milp_length` - a Steiner travelling-salesman integer program on the walking graph (HiGHS
  through `scipy.optimize.milp`): vertices are the depot, the pick points and every
  aisle/cross-aisle crossing; edges are the aisle and cross-aisle stretches between
  neighbouring vertices, each walked 0, 1 or 2 times; every vertex has even degree, every
  required vertex (depot and picks) degree at least 2; connectivity comes from cut constraints
  x(delta(S)) >= 2 added for every component of the current solution that holds picks but not
  the depot, re-solving until the solution is one tour. Each solve must report proven
  optimality (no MIP gap), else `OracleError`.
* `exact_length` - Held-Karp up to `HELD_KARP_MAX` distinct spots, the integer program beyond.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from app.picking.layout import Layout, Spot

HELD_KARP_MAX = 13
_SNAP = 1e-9
_MAX_ROUNDS = 500


class OracleError(RuntimeError):
    """The exact solver could not prove an optimum."""


def held_karp(layout: Layout, spots: Sequence[Spot]) -> float:
    """The shortest depot-to-depot tour through `spots`, by Held-Karp over distinct spots."""
    for s in spots:
        layout.check(s)
    distinct = sorted(set(spots))
    n = len(distinct)
    if n == 0:
        return 0.0
    home = np.array([layout.depot_distance(s) for s in distinct])
    if n == 1:
        return float(2 * home[0])
    dist = np.array([[layout.distance(a, b) for b in distinct] for a in distinct])
    full = 1 << n
    best = np.full((full, n), np.inf)
    for j in range(n):
        best[1 << j, j] = home[j]
    masks = np.arange(full)
    sizes = np.zeros(full, dtype=np.int64)
    for j in range(n):
        sizes += (masks >> j) & 1
    for size in range(2, n + 1):
        layer = masks[sizes == size]
        for j in range(n):
            ending = layer[(layer >> j) & 1 == 1]
            before = ending ^ (1 << j)
            best[ending, j] = np.min(best[before] + dist[:, j], axis=1)
    return float(np.min(best[full - 1] + home))


def milp_length(layout: Layout, spots: Sequence[Spot]) -> float:
    """The shortest depot-to-depot tour through `spots`, by the Steiner-TSP integer program."""
    for s in spots:
        layout.check(s)
    xs = layout.aisle_x
    cys = layout.cross_y
    dx, dy = layout.depot

    def snap_y(y: float) -> float:
        for c in cys:
            if abs(y - c) <= _SNAP:
                return c
        return y

    vertex: dict[tuple[float, float], int] = {}

    def vid(p: tuple[float, float]) -> int:
        if p not in vertex:
            vertex[p] = len(vertex)
        return vertex[p]

    depot_x = next((x for x in xs if abs(x - dx) <= _SNAP), dx)
    depot = vid((depot_x, cys[0]))
    required = {depot}
    on_aisle: dict[int, set[float]] = {a: set(cys) for a in range(len(xs))}
    for s in spots:
        y = snap_y(s.y)
        on_aisle[s.aisle].add(y)
        required.add(vid((xs[s.aisle], y)))
    if required == {depot}:
        return 0.0
    tails: list[int] = []
    heads: list[int] = []
    lengths: list[float] = []

    def link(p: tuple[float, float], q: tuple[float, float]) -> None:
        tails.append(vid(p))
        heads.append(vid(q))
        lengths.append(abs(p[0] - q[0]) + abs(p[1] - q[1]))

    for a, ys in on_aisle.items():
        col = sorted(ys)
        for lo, hi in zip(col, col[1:], strict=False):
            link((xs[a], lo), (xs[a], hi))
    for k, c in enumerate(cys):
        row = sorted(set(xs) | ({depot_x} if k == 0 else set()))
        for lo, hi in zip(row, row[1:], strict=False):
            link((lo, c), (hi, c))
    n_v = len(vertex)
    n_e = len(lengths)
    # Variables: edge uses x_e in 0..2, then half-degrees z_v (deg(v) = 2 z_v).
    cost = np.concatenate([np.array(lengths), np.zeros(n_v)])
    rows = np.concatenate([tails, heads, np.arange(n_v)])
    cols = np.concatenate([np.arange(n_e), np.arange(n_e), n_e + np.arange(n_v)])
    vals = np.concatenate([np.ones(2 * n_e), np.full(n_v, -2.0)])
    parity = LinearConstraint(
        coo_matrix((vals, (rows, cols)), shape=(n_v, n_e + n_v)).tocsr(), 0.0, 0.0
    )
    lower = np.zeros(n_e + n_v)
    for v in required:
        lower[n_e + v] = 1.0
    upper = np.concatenate([np.full(n_e, 2.0), np.full(n_v, 4.0)])
    bounds = Bounds(lower, upper)
    integrality = np.ones(n_e + n_v)
    cuts: list[np.ndarray] = []
    tail_arr = np.array(tails)
    head_arr = np.array(heads)
    for _ in range(_MAX_ROUNDS):
        constraints = [parity]
        if cuts:
            constraints.append(LinearConstraint(np.array(cuts), 2.0, np.inf))
        res = milp(
            cost,
            constraints=constraints,
            integrality=integrality,
            bounds=bounds,
            options={"mip_rel_gap": 0.0},
        )
        if res.status != 0 or res.x is None:
            raise OracleError(f"the routing MILP did not solve to optimality: {res.message}")
        used = np.round(res.x[:n_e]).astype(np.int64)
        comp = _components(n_v, tail_arr[used > 0], head_arr[used > 0])
        stray = {int(comp[v]) for v in required if comp[v] != comp[depot]}
        if not stray:
            return float(np.dot(used, lengths))
        for label in sorted(stray):
            inside = comp == label
            crossing = inside[tail_arr] != inside[head_arr]
            row = np.zeros(n_e + n_v)
            row[:n_e][crossing] = 1.0
            cuts.append(row)
    raise OracleError(f"the routing MILP did not connect the tour in {_MAX_ROUNDS} rounds")


def exact_length(layout: Layout, spots: Sequence[Spot]) -> float:
    """The shortest tour length: Held-Karp for up to `HELD_KARP_MAX` distinct spots, the
    integer program beyond."""
    if len(set(spots)) <= HELD_KARP_MAX:
        return held_karp(layout, spots)
    return milp_length(layout, spots)


def _components(count: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected-component labels (union-find) of a graph given by its edge ends."""
    parent = list(range(count))

    def find(v: int) -> int:
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    for u, v in zip(a.tolist(), b.tolist(), strict=True):
        ru, rv = find(u), find(v)
        if ru != rv:
            parent[ru] = rv
    return np.array([find(v) for v in range(count)])
