"""Exact tour lengths computed independently of `app.walks.paths`, to check it.

Nothing here shares code with the router except `app.walks.layout`. Both solvers work on
the matrix of shortest walking distances between the depot and the distinct spots
(`Layout.depot_distance`, `Layout.distance`):

* `held_karp` - the Held-Karp dynamic program over subsets of the distinct spots. Exact and
  free of any assumption about the layout; time and memory grow as 2^n n^2, so it is meant for
  up to about 16 distinct spots.
* `milp_length` - the travelling-salesman integer program of Dantzig, Fulkerson and Johnson on
  the same matrix, solved by HiGHS (`scipy.optimize`): one binary per pair of nodes, degree
  two at every node, and subtour cuts x(delta(S)) >= 2 added as they are found.

  It also uses one fact about aisle layouts (Ratliff & Rosenthal 1983): inside one aisle
  stretch between two cross aisles, an optimal walk covers the stretch's picks in one of six
  ways (not at all, one or two passes, in and back from either end, or in and back from both
  ends up to one gap), so it first reaches those picks in their order along the aisle, with at
  most one break. The tour that visits the spots in the order an optimal walk first reaches
  them is an optimal tour of the matrix, and in it neighbouring picks of a stretch are
  consecutive except for at most one pair, and no pick is followed by a pick of its stretch
  that is not its neighbour. So the program leaves out pairs of non-neighbouring picks of a
  stretch and asks, per stretch with picks q1 < ... < qm, that at least m - 2 of the pairs
  (qi, qi+1) be used and that every inner pick be tied to one of its neighbours. These rules
  keep one optimal tour and shrink the search a great deal. The solve:

  1. the linear relaxation is solved and subtour cuts are separated from its fractional
     solution (connected components at a few thresholds, then minimum cuts by maximum flow)
     until it violates none; its value is a lower bound LB, and its reduced costs rc say that
     any tour using pair e costs at least LB + rc(e);
  2. the integer program over the pairs with rc <= allowance gives a tour of length L; when
     L <= LB + allowance no tour through a left-out pair can be shorter, and L is the
     optimum; otherwise the allowance becomes L - LB and the program is solved again.

  Each integer solve re-solves with the cuts of every subtour it found until its solution is
  one tour. Every solve must report a proven optimum (no MIP gap, HiGHS status optimal) and
  no tour may come out below the LP bound, else `OracleError`.
* `exact_length` - Held-Karp up to `HELD_KARP_MAX` distinct spots, the integer program beyond.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import coo_matrix, csr_matrix, vstack
from scipy.sparse.csgraph import breadth_first_order, connected_components, maximum_flow

from app.walks.layout import Layout, Spot

HELD_KARP_MAX = 13
_FLOW_SCALE = 1_000_000  # maximum_flow needs integer capacities
_MAX_ROUNDS = 500
_TOL = 1e-6
_ON_CROSS_AISLE = 1e-9
# First candidate pairs: reduced cost within this fraction of the LP bound.
START_ALLOWANCE = 0.015


class OracleError(RuntimeError):
    """The exact solver could not prove an optimum."""


def held_karp(layout: Layout, spots: Sequence[Spot]) -> float:
    """The shortest depot-to-depot tour through `spots`, by Held-Karp over distinct spots."""
    home, dist = _matrix(layout, spots)
    n = len(home)
    if n == 0:
        return 0.0
    if n == 1:
        return float(2 * home[0])
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
    """The shortest depot-to-depot tour through `spots`, by the integer program above."""
    home, dist = _matrix(layout, spots)
    m = len(home)
    if m == 0:
        return 0.0
    if m == 1:
        return float(2 * home[0])
    # Node 0 is the depot, node i + 1 the i-th distinct spot.
    full = np.zeros((m + 1, m + 1))
    full[0, 1:] = full[1:, 0] = home
    full[1:, 1:] = dist
    return _Tsp(full, _stretches(layout, sorted(set(spots)))).solve()


def exact_length(layout: Layout, spots: Sequence[Spot]) -> float:
    """The shortest tour length: Held-Karp for up to `HELD_KARP_MAX` distinct spots, the
    integer program beyond."""
    if len(set(spots)) <= HELD_KARP_MAX:
        return held_karp(layout, spots)
    return milp_length(layout, spots)


def _matrix(layout: Layout, spots: Sequence[Spot]) -> tuple[np.ndarray, np.ndarray]:
    """Depot distances and pairwise distances of the distinct spots."""
    for s in spots:
        layout.check(s)
    distinct = sorted(set(spots))
    home = np.array([layout.depot_distance(s) for s in distinct], dtype=float)
    dist = np.zeros((len(distinct), len(distinct)))
    for i, a in enumerate(distinct):
        for j in range(i + 1, len(distinct)):
            dist[i, j] = dist[j, i] = layout.distance(a, distinct[j])
    return home, dist


def _stretches(layout: Layout, distinct: Sequence[Spot]) -> list[list[int]]:
    """Nodes (spot index + 1) of the picks strictly inside each aisle stretch, along the aisle,
    for stretches with at least two."""
    groups: dict[tuple[int, int], list[tuple[float, int]]] = {}
    for i, s in enumerate(distinct):
        if any(abs(s.y - c) <= _ON_CROSS_AISLE for c in layout.cross_y):
            continue
        groups.setdefault((s.aisle, layout.block_of(s)), []).append((s.y, i + 1))
    return [[node for _, node in sorted(g)] for g in groups.values() if len(g) > 1]


def _labels(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    graph = csr_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    return np.asarray(connected_components(graph, directed=False)[1])


class _Tsp:
    """A symmetric TSP on a distance matrix, with aisle-stretch rules, solved as in the module
    docstring."""

    def __init__(self, dist: np.ndarray, stretches: list[list[int]]) -> None:
        n = len(dist)
        self.n = n
        skip = np.zeros((n, n), dtype=bool)
        for chain in stretches:
            for i, a in enumerate(chain):
                for b in chain[i + 2 :]:
                    skip[a, b] = skip[b, a] = True
        iu, ju = np.triu_indices(n, 1)
        keep = ~skip[iu, ju]
        self.iu = iu[keep]
        self.ju = ju[keep]
        self.cost = dist[self.iu, self.ju]
        pair = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(self.iu, self.ju, strict=True))}
        rows: list[list[int]] = []
        need: list[float] = []
        for chain in stretches:
            links = [pair[(min(a, b), max(a, b))] for a, b in zip(chain, chain[1:], strict=False)]
            rows.append(links)
            need.append(len(links) - 1.0)
            for left, right in zip(links, links[1:], strict=False):
                rows.append([left, right])
                need.append(1.0)
        self.rule_rows = _rows(rows, len(self.cost))
        self.rule_need = np.array(need)
        self.cuts: list[np.ndarray] = []  # node sets S without the depot, as masks
        self._seen: set[bytes] = set()

    def _add(self, inside: np.ndarray) -> bool:
        if inside[0]:
            inside = ~inside
        if not inside.any():
            return False
        key = inside.tobytes()
        if key in self._seen:
            return False
        self._seen.add(key)
        self.cuts.append(inside.copy())
        return True

    def _cut_rows(self, edges: np.ndarray) -> csr_matrix:
        """Each cut's pairs among `edges` that cross it."""
        a = self.iu[edges]
        b = self.ju[edges]
        return _rows([np.flatnonzero(c[a] != c[b]).tolist() for c in self.cuts], len(edges))

    def _degree(self, edges: np.ndarray) -> csr_matrix:
        k = len(edges)
        rows = np.concatenate([self.iu[edges], self.ju[edges]])
        cols = np.concatenate([np.arange(k), np.arange(k)])
        return coo_matrix((np.ones(2 * k), (rows, cols)), shape=(self.n, k)).tocsr()

    def solve(self) -> float:
        lower, reduced = self._relaxation()
        every = np.arange(len(self.cost))
        slack = max(1.0, abs(lower)) * _TOL
        allow = START_ALLOWANCE * abs(lower)
        for _ in range(_MAX_ROUNDS):
            chosen = every[reduced <= allow + slack]
            length = self._integer(chosen, must_solve=len(chosen) == len(every))
            if length is not None and length < lower - slack:
                raise OracleError(
                    f"the routing MILP found a tour ({length}) below its own bound ({lower})"
                )
            if length is not None and length <= lower + allow + slack:
                return length
            allow = (length - lower) if length is not None else max(2 * allow, slack)
        raise OracleError("the routing MILP did not settle its candidate pairs")  # pragma: no cover

    def _relaxation(self) -> tuple[float, np.ndarray]:
        """Lower bound and reduced costs of the LP with every subtour cut it violates."""
        every = np.arange(len(self.cost))
        degree = self._degree(every)
        two = np.full(self.n, 2.0)
        for _ in range(_MAX_ROUNDS):
            upper = vstack([self._cut_rows(every), self.rule_rows]).tocsr()
            need = np.concatenate([np.full(len(self.cuts), 2.0), self.rule_need])
            kwargs = {"A_ub": -upper, "b_ub": -need} if len(need) else {}
            res = linprog(self.cost, A_eq=degree, b_eq=two, bounds=(0, 1), method="highs", **kwargs)
            if res.status != 0:
                raise OracleError(f"the routing LP relaxation did not solve: {res.message}")
            if not self._separate(np.asarray(res.x)):
                reduced = np.asarray(res.lower.marginals) + np.asarray(res.upper.marginals)
                return float(res.fun), reduced
        raise OracleError(f"the routing LP still violated subtour cuts after {_MAX_ROUNDS} rounds")

    def _separate(self, x: np.ndarray) -> bool:
        """Add subtour cuts the fractional solution `x` violates; True when any were new."""
        n, iu, ju = self.n, self.iu, self.ju
        for threshold in (_TOL, 0.3, 0.7):
            keep = x > threshold
            labels = _labels(n, iu[keep], ju[keep])
            added = False
            for label in np.unique(labels):
                inside = labels == label
                if x[inside[iu] != inside[ju]].sum() < 2 - _TOL:
                    added |= self._add(inside)
            if added:
                return True
        cap = np.round(x * _FLOW_SCALE).astype(np.int32)
        keep = cap > 0
        graph = csr_matrix(
            (
                np.concatenate([cap[keep], cap[keep]]),
                (np.concatenate([iu[keep], ju[keep]]), np.concatenate([ju[keep], iu[keep]])),
            ),
            shape=(n, n),
        )
        added = False
        cut_off = np.zeros(n, dtype=bool)
        for target in range(1, n):
            if cut_off[target]:
                continue
            flow = maximum_flow(graph, 0, target)
            if flow.flow_value >= 2 * _FLOW_SCALE * (1 - _TOL):
                continue
            residual = (graph - flow.flow).tocoo()
            open_ = residual.data > 0
            reach = csr_matrix(
                (np.ones(int(open_.sum())), (residual.row[open_], residual.col[open_])),
                shape=(n, n),
            )
            side = np.zeros(n, dtype=bool)
            side[breadth_first_order(reach, 0, directed=True, return_predecessors=False)] = True
            added |= self._add(~side)
            cut_off |= ~side
        return added

    def _integer(self, edges: np.ndarray, must_solve: bool) -> float | None:
        """The shortest tour using only `edges` (None when there is none and not
        `must_solve`)."""
        cost = self.cost[edges]
        fixed = [
            LinearConstraint(self._degree(edges), 2.0, 2.0),
            LinearConstraint(self.rule_rows[:, edges], self.rule_need, np.inf),
        ]
        ones = np.ones(len(edges))
        for _ in range(_MAX_ROUNDS):
            constraints = list(fixed)
            if self.cuts:
                constraints.append(LinearConstraint(self._cut_rows(edges), 2.0, np.inf))
            res = milp(
                cost,
                constraints=constraints,
                integrality=ones,
                bounds=Bounds(0, 1),
                options={"mip_rel_gap": 0.0},
            )
            if res.status == 2 and not must_solve:
                return None
            if res.status != 0 or res.x is None:
                raise OracleError(f"the routing MILP did not solve to optimality: {res.message}")
            used = np.round(res.x) > 0.5
            labels = _labels(self.n, self.iu[edges][used], self.ju[edges][used])
            if labels.max() == 0:
                return float(cost[used].sum())
            for label in np.unique(labels):
                self._add(labels == label)
        raise OracleError(f"the routing MILP did not close one tour in {_MAX_ROUNDS} rounds")


def _rows(members: Sequence[Sequence[int]], width: int) -> csr_matrix:
    """A 0/1 matrix with a one in row r at each column of members[r]."""
    r = np.repeat(np.arange(len(members)), [len(m) for m in members])
    c = np.asarray([k for m in members for k in m], dtype=np.int64)
    return csr_matrix((np.ones(len(r)), (r, c)), shape=(len(members), width))
