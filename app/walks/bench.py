"""Routing benchmark: every policy's gap to an independent exact optimum, and its speed.

Layouts (metres):

* `henn_layout` - one block, as in Henn et al. (2010): 10 aisles with 45 one-metre cells on
  each side, aisle centrelines 5 m apart (x = 0, 5, ..., 45), the front cross aisle at y = 0,
  cell centres at y = 1.5 + i (i = 0..44), the back cross aisle at y = 47 and the depot at
  (0, 0), in front of the leftmost aisle.
* `multi_block_layout` - the same aisles cut into three blocks of 15 cells per side, with
  cross aisles at y = 0, 17, 34 and 51 (cells at 1.5 m and more from a cross aisle's
  centreline, as in the single block) and the same depot.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Sequence

from app.walks.layout import Layout, Spot
from app.walks.oracle import exact_length
from app.walks.paths import POLICIES, plan_route

Progress = Callable[[str, int, int], None]

SIZES = (5, 10, 20, 30, 45, 60)
AISLE_X = tuple(5.0 * i for i in range(10))
# Policy names in the report: the optimal router is "ours".
REPORTED = {p: ("ours" if p == "optimal" else p) for p in POLICIES}


def layout_cells(layout: Layout, pitch: float = 1.0, margin: float = 1.5) -> list[Spot]:
    """Cell centres `pitch` apart along every aisle, `margin` clear of each cross aisle."""
    cells: list[Spot] = []
    for front, back in zip(layout.cross_y, layout.cross_y[1:], strict=False):
        count = int((back - front - 2 * margin) / pitch + 1e-9) + 1
        ys = [front + margin + pitch * k for k in range(max(0, count))]
        cells.extend(Spot(a, y) for a in range(layout.aisles) for y in ys)
    return cells


def henn_layout() -> Layout:
    """The single-block benchmark layout."""
    return Layout(AISLE_X, (0.0, 47.0), (0.0, 0.0))


def multi_block_layout() -> Layout:
    """The three-block benchmark layout."""
    return Layout(AISLE_X, (0.0, 17.0, 34.0, 51.0), (0.0, 0.0))


def random_pick_lists(
    layout: Layout, picks: int, count: int, rng: random.Random
) -> list[list[Spot]]:
    """`count` pick lists of `picks` distinct cells drawn uniformly."""
    pool = layout_cells(layout)
    return [rng.sample(pool, picks) for _ in range(count)]


def bench_routing(
    lists: int = 200,
    sizes: Sequence[int] = SIZES,
    seed: int = 1,
    progress: Progress | None = None,
) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
    """{"single_block": R, "multi_block": R}; R maps each pick count (as text) to
    {policy: {"mean_gap_pct", "max_gap_pct", "ms_per_route"}}."""
    report: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    for name, layout in (("single_block", henn_layout()), ("multi_block", multi_block_layout())):
        rng = random.Random(f"{seed}:{name}")
        by_size: dict[str, dict[str, dict[str, float]]] = {}
        total = lists * len(sizes)
        done = 0
        for size in sizes:
            gaps: dict[str, list[float]] = {p: [] for p in POLICIES}
            times: dict[str, list[float]] = {p: [] for p in POLICIES}
            for spots in random_pick_lists(layout, size, lists, rng):
                best = exact_length(layout, spots)
                for policy in POLICIES:
                    started = time.perf_counter()
                    route = plan_route(layout, spots, policy)
                    times[policy].append(time.perf_counter() - started)
                    # Exact ties differ from zero only by floating-point rounding; a real
                    # negative gap (a route shorter than the oracle's optimum) stays visible.
                    gap = 100.0 * (route.length - best) / best
                    gaps[policy].append(0.0 if abs(gap) < 1e-9 else gap)
                done += 1
                if progress:
                    progress(f"routing {name.split('_')[0]}", done, total)
            by_size[str(size)] = {
                REPORTED[p]: {
                    "mean_gap_pct": round(statistics.fmean(gaps[p]), 4),
                    "max_gap_pct": round(max(gaps[p]), 4),
                    "ms_per_route": round(1000.0 * statistics.fmean(times[p]), 4),
                }
                for p in POLICIES
            }
        report[name] = by_size
    return report
