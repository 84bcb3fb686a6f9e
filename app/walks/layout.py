"""A warehouse's walking geometry: blocks of parallel aisles between cross aisles.

Coordinates are metres. Aisles run along y at fixed x (`aisle_x`, the same in every block);
cross aisles run along x at fixed y (`cross_y`, ascending; there is one more cross aisle than
there are blocks, the first at the front and the last at the back). Block `b` is the strip
between `cross_y[b]` and `cross_y[b + 1]`. Racks stand between neighbouring aisles inside a
block, so a picker walks only along aisle and cross-aisle centrelines and picks from both
sides of an aisle without crossing it. The depot (where every route starts and ends) stands
on the front cross aisle.

A pick position is a `Spot`: an aisle index and a y inside one block. Walking distance between
two spots follows the aisles: within one aisle it is the difference in y; otherwise the picker
leaves its aisle by the nearer useful end of its block, walks along cross aisles and aisles
(a Manhattan walk on the grid the aisles and cross aisles form) and enters the other aisle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

EPSILON = 1e-9


class LayoutError(ValueError):
    """A layout or a position in it that cannot be walked, with what is wrong."""


@dataclass(frozen=True, order=True)
class Spot:
    """Where a picker stands to pick: on aisle `aisle` (0-based index) at depth `y` metres."""

    aisle: int
    y: float


Point = tuple[float, float]


@dataclass(frozen=True)
class Layout:
    """The walkable geometry of one warehouse."""

    aisle_x: tuple[float, ...]
    cross_y: tuple[float, ...]
    depot: Point

    def __post_init__(self) -> None:
        if not self.aisle_x:
            raise LayoutError("a layout needs at least one aisle")
        if len(self.cross_y) < 2:
            raise LayoutError("a layout needs a front and a back cross aisle (two y values)")
        if any(b <= a for a, b in zip(self.aisle_x, self.aisle_x[1:], strict=False)):
            raise LayoutError(f"aisle x positions must ascend: {list(self.aisle_x)}")
        if any(b <= a for a, b in zip(self.cross_y, self.cross_y[1:], strict=False)):
            raise LayoutError(f"cross aisle y positions must ascend: {list(self.cross_y)}")
        x, y = self.depot
        if abs(y - self.cross_y[0]) > EPSILON:
            raise LayoutError(
                f"the depot must stand on the front cross aisle (y = {self.cross_y[0]}), "
                f"not at y = {y}"
            )
        if not self.aisle_x[0] - EPSILON <= x <= self.aisle_x[-1] + EPSILON:
            raise LayoutError(
                f"the depot x = {x} lies outside the aisles "
                f"({self.aisle_x[0]} to {self.aisle_x[-1]})"
            )

    @property
    def blocks(self) -> int:
        """How many blocks of aisles (one fewer than cross aisles)."""
        return len(self.cross_y) - 1

    @property
    def aisles(self) -> int:
        """How many aisles each block has."""
        return len(self.aisle_x)

    def block_of(self, spot: Spot) -> int:
        """The block (0-based, from the front) a spot lies in."""
        self.check(spot)
        for b in range(self.blocks):
            if spot.y <= self.cross_y[b + 1] + EPSILON:
                return b
        return self.blocks - 1  # pragma: no cover - check() rules this out

    def check(self, spot: Spot) -> None:
        """Raise LayoutError when a spot is not on an aisle of this layout."""
        if not 0 <= spot.aisle < self.aisles:
            raise LayoutError(f"aisle index {spot.aisle} is not in 0..{self.aisles - 1}")
        if not self.cross_y[0] - EPSILON <= spot.y <= self.cross_y[-1] + EPSILON:
            raise LayoutError(
                f"y = {spot.y} lies outside the aisles ({self.cross_y[0]} to {self.cross_y[-1]})"
            )

    def point(self, spot: Spot) -> Point:
        """The spot's (x, y)."""
        return (self.aisle_x[spot.aisle], spot.y)

    def block_ends(self, spot: Spot) -> tuple[float, float]:
        """The y of the cross aisles before and behind the spot's block."""
        b = self.block_of(spot)
        return self.cross_y[b], self.cross_y[b + 1]

    def distance(self, a: Spot, b: Spot) -> float:
        """The shortest walk between two spots along aisles and cross aisles."""
        if a.aisle == b.aisle:
            return abs(a.y - b.y)
        dx = abs(self.aisle_x[a.aisle] - self.aisle_x[b.aisle])
        a_ends = self.block_ends(a)
        b_ends = self.block_ends(b)
        return dx + min(
            abs(a.y - ea) + abs(ea - eb) + abs(eb - b.y) for ea in a_ends for eb in b_ends
        )

    def depot_distance(self, spot: Spot) -> float:
        """The shortest walk from the depot to a spot (the same back)."""
        x, y = self.depot
        # The depot is on the front cross aisle: walk along it, then up the spot's aisle.
        return abs(self.aisle_x[spot.aisle] - x) + abs(spot.y - y)

    def tour_length(self, sequence: Sequence[Spot]) -> float:
        """Depot, each spot in turn by its shortest walk, and back to the depot."""
        if not sequence:
            return 0.0
        total = self.depot_distance(sequence[0]) + self.depot_distance(sequence[-1])
        for a, b in zip(sequence, sequence[1:], strict=False):
            total += self.distance(a, b)
        return total

    def walk(self, a: Point, b: Point) -> list[Point]:
        """Waypoints of a shortest walk between two points on aisles or cross aisles.

        Every leg runs along an aisle centreline (constant x) or a cross aisle (constant y),
        so a walk never goes through a rack.
        """
        if _same(a, b):
            return [a]
        ax, ay = a
        bx, by = b
        if abs(ax - bx) <= EPSILON and self._on_aisle(ax):
            return [a, b]
        if abs(ay - by) <= EPSILON and self._on_cross_aisle(ay):
            return [a, b]
        a_ends = self._ends_at(a)
        b_ends = self._ends_at(b)
        ea, eb = min(
            ((ea, eb) for ea in a_ends for eb in b_ends),
            key=lambda e: abs(ay - e[0]) + abs(e[0] - e[1]) + abs(e[1] - by),
        )
        # Out of a's aisle to a cross aisle, along it to b's aisle, along b's aisle (crossing
        # any cross aisles between), to b's cross aisle end, and into b.
        points = [a, (ax, ea), (bx, ea), (bx, eb), b]
        return _dedupe(points)

    def route_walk(self, sequence: Sequence[Spot]) -> list[Point]:
        """Waypoints from the depot through every spot in order and back to the depot."""
        points = [self.depot, *(self.point(s) for s in sequence), self.depot]
        path: list[Point] = [self.depot]
        for a, b in zip(points, points[1:], strict=False):
            path.extend(self.walk(a, b)[1:])
        return _dedupe(path)

    def _on_aisle(self, x: float) -> bool:
        return any(abs(x - ax) <= EPSILON for ax in self.aisle_x)

    def _on_cross_aisle(self, y: float) -> bool:
        return any(abs(y - cy) <= EPSILON for cy in self.cross_y)

    def _ends_at(self, p: Point) -> tuple[float, ...]:
        """The cross aisles a point can reach without passing a rack."""
        x, y = p
        if self._on_cross_aisle(y):
            return (y,)
        if not self._on_aisle(x):
            raise LayoutError(f"point ({x}, {y}) is neither on an aisle nor on a cross aisle")
        for b in range(self.blocks):
            if self.cross_y[b] <= y <= self.cross_y[b + 1]:
                return (self.cross_y[b], self.cross_y[b + 1])
        raise LayoutError(f"point ({x}, {y}) lies outside the aisles")

    def on_walkway(self, a: Point, b: Point) -> bool:
        """True when the straight leg a→b runs along one aisle or one cross aisle."""
        ax, ay = a
        bx, by = b
        if abs(ax - bx) <= EPSILON and self._on_aisle(ax):
            lo, hi = sorted((ay, by))
            return self.cross_y[0] - EPSILON <= lo and hi <= self.cross_y[-1] + EPSILON
        if abs(ay - by) <= EPSILON and self._on_cross_aisle(ay):
            lo, hi = sorted((ax, bx))
            return self.aisle_x[0] - EPSILON <= lo and hi <= self.aisle_x[-1] + EPSILON
        return False


def path_length(path: Sequence[Point]) -> float:
    """The length of a walk given by its waypoints (legs are axis-parallel)."""
    return sum(abs(a[0] - b[0]) + abs(a[1] - b[1]) for a, b in zip(path, path[1:], strict=False))


def _same(a: Point, b: Point) -> bool:
    return abs(a[0] - b[0]) <= EPSILON and abs(a[1] - b[1]) <= EPSILON


def _dedupe(points: Sequence[Point]) -> list[Point]:
    out: list[Point] = []
    for p in points:
        if not out or not _same(out[-1], p):
            out.append(p)
    return out
