"""Pick-path routing against exact oracles: optimal routes are optimal, every walk stays on
aisles and cross aisles, every heuristic is a real walk no shorter than the optimum."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.walks.bench import henn_layout, multi_block_layout, random_pick_lists
from app.walks.layout import EPSILON, Layout, Point, Spot, path_length
from app.walks.oracle import exact_length, held_karp, milp_length
from app.walks.paths import POLICIES, RoutingError, estimate_length, plan_route, route_length


@st.composite
def instances(draw: st.DrawFn, max_blocks: int = 1) -> tuple[Layout, list[Spot]]:
    """A random layout (1–8 aisles, 1–max_blocks blocks, depot anywhere on the front cross
    aisle) and up to 9 spots on it, repeats included."""
    aisles = draw(st.integers(1, 8))
    pitch = draw(st.sampled_from([3.0, 5.0, 6.5]))
    blocks = draw(st.integers(1, max_blocks))
    depths = [draw(st.sampled_from([4.0, 7.0, 10.0])) for _ in range(blocks)]
    cross = [0.0]
    for depth in depths:
        cross.append(cross[-1] + depth)
    xs = tuple(pitch * i for i in range(aisles))
    depot_x = draw(st.floats(0.0, xs[-1])) if aisles > 1 else 0.0
    layout = Layout(xs, tuple(cross), (round(depot_x, 2), 0.0))
    spots: list[Spot] = []
    for _ in range(draw(st.integers(0, 9))):
        aisle = draw(st.integers(0, aisles - 1))
        b = draw(st.integers(0, blocks - 1))
        y = draw(st.floats(cross[b] + 0.5, cross[b + 1] - 0.5))
        spots.append(Spot(aisle, round(y, 1)))
    repeat = draw(st.booleans())
    if spots and repeat:
        spots.append(spots[0])  # two picks at one place
    return layout, spots


def brute_force(layout: Layout, spots: list[Spot]) -> float:
    """Every visiting order of the distinct spots (≤ 7), by shortest walks."""
    distinct = sorted(set(spots))
    return min(
        (layout.tour_length(list(order)) for order in itertools.permutations(distinct)),
        default=0.0,
    )


def assert_real_walk(layout: Layout, spots: list[Spot], policy: str) -> float:
    route = plan_route(layout, spots, policy)
    assert sorted(route.sequence) == list(range(len(spots)))
    path = list(route.path)
    assert path[0] == layout.depot
    assert path[-1] == layout.depot
    # Every leg runs along an aisle or a cross aisle: no route crosses a rack.
    for a, b in itertools.pairwise(path):
        assert layout.on_walkway(a, b), f"{policy}: leg {a} -> {b} leaves the walkways"
    assert path_length(path) == pytest.approx(route.length, abs=1e-6)
    # The walk passes every spot, in the order the sequence gives.
    cursor = 0
    for index in route.sequence:
        point = layout.point(spots[index])
        while cursor < len(path) - 1 and not _on_leg(path[cursor], path[cursor + 1], point):
            cursor += 1
        assert cursor < len(path) - 1 or _near(path[-1], point), (
            f"{policy}: spot {spots[index]} is not on the walk after its predecessors"
        )
    return route.length


def _near(a: Point, b: Point) -> bool:
    return abs(a[0] - b[0]) <= 1e-6 and abs(a[1] - b[1]) <= 1e-6


def _on_leg(a: Point, b: Point, p: Point) -> bool:
    lo_x, hi_x = sorted((a[0], b[0]))
    lo_y, hi_y = sorted((a[1], b[1]))
    return (
        lo_x - 1e-6 <= p[0] <= hi_x + 1e-6
        and lo_y - 1e-6 <= p[1] <= hi_y + 1e-6
        and (abs(a[0] - b[0]) <= EPSILON or abs(a[1] - b[1]) <= EPSILON)
    )


@settings(max_examples=150, deadline=None)
@given(instances(max_blocks=1))
def test_single_block_optimal_equals_held_karp(case: tuple[Layout, list[Spot]]) -> None:
    layout, spots = case
    best = held_karp(layout, spots)
    assert route_length(layout, spots) == pytest.approx(best, abs=1e-6)
    assert estimate_length(layout, spots) == pytest.approx(best, abs=1e-6)
    assert assert_real_walk(layout, spots, "optimal") == pytest.approx(best, abs=1e-6)


@settings(max_examples=120, deadline=None)
@given(instances(max_blocks=3))
def test_multi_block_optimal_equals_held_karp(case: tuple[Layout, list[Spot]]) -> None:
    layout, spots = case
    best = held_karp(layout, spots)
    assert assert_real_walk(layout, spots, "optimal") == pytest.approx(best, abs=1e-6)
    # The batching estimate never promises less than the walk can do.
    assert estimate_length(layout, spots) >= best - 1e-6


@settings(max_examples=60, deadline=None)
@given(instances(max_blocks=2))
def test_held_karp_is_the_brute_force_optimum(case: tuple[Layout, list[Spot]]) -> None:
    layout, spots = case
    if len(set(spots)) > 7:
        spots = sorted(set(spots))[:7]
    assert held_karp(layout, spots) == pytest.approx(brute_force(layout, spots), abs=1e-6)


@settings(max_examples=80, deadline=None)
@given(instances(max_blocks=3), st.sampled_from([p for p in POLICIES if p != "optimal"]))
def test_every_heuristic_is_a_real_walk_no_shorter_than_optimal(
    case: tuple[Layout, list[Spot]], policy: str
) -> None:
    layout, spots = case
    length = assert_real_walk(layout, spots, policy)
    assert length >= route_length(layout, spots) - 1e-6


@pytest.mark.parametrize("layout", [henn_layout(), multi_block_layout()], ids=["single", "multi"])
def test_optimal_on_benchmark_layouts_against_the_integer_program(layout: Layout) -> None:
    rng = random.Random(7)
    for spots in random_pick_lists(layout, 20, 3, rng):
        best = milp_length(layout, spots)
        assert assert_real_walk(layout, spots, "optimal") == pytest.approx(best, abs=1e-6)
        assert exact_length(layout, spots) == pytest.approx(best, abs=1e-6)
    for spots in random_pick_lists(layout, 10, 3, rng):
        # Where both apply, the integer program and Held–Karp agree.
        assert milp_length(layout, spots) == pytest.approx(held_karp(layout, spots), abs=1e-6)


def test_hand_computed_routes() -> None:
    one_aisle = Layout((0.0,), (0.0, 20.0), (0.0, 0.0))
    spots = [Spot(0, 4.0), Spot(0, 12.0), Spot(0, 7.0)]
    route = plan_route(one_aisle, spots)
    assert route.length == pytest.approx(24.0)  # up to the farthest pick and back
    assert [spots[i].y for i in route.sequence] == [4.0, 7.0, 12.0]
    # Two aisles 5 m apart, picks deep in both: through the first, across the back, down.
    two = Layout((0.0, 5.0), (0.0, 20.0), (0.0, 0.0))
    assert route_length(two, [Spot(0, 18.0), Spot(1, 18.0)]) == pytest.approx(50.0)
    # Shallow picks: in and back out of each aisle beats crossing the back.
    assert route_length(two, [Spot(0, 2.0), Spot(1, 2.0)]) == pytest.approx(18.0)
    assert route_length(two, []) == 0.0
    assert plan_route(two, []).path == (two.depot,)


def test_bad_requests_are_explained() -> None:
    layout = henn_layout()
    with pytest.raises(RoutingError, match="unknown routing policy 'zigzag'; choose one of"):
        plan_route(layout, [Spot(0, 2.0)], "zigzag")
    with pytest.raises(RoutingError, match=r"aisle index 10 is not in 0..9"):
        plan_route(layout, [Spot(10, 2.0)])
    with pytest.raises(RoutingError, match=r"y = 60.0 is not between 0.0 and 47.0"):
        plan_route(layout, [Spot(0, 60.0)])


@st.composite
def awkward_instances(draw: st.DrawFn) -> tuple[Layout, list[Spot]]:
    """Up to three blocks of uneven depth, aisles at uneven spacing, the depot on an aisle or
    between two, and spots on cross aisles (crossings), at the depot and repeated."""
    aisles = draw(st.integers(1, 6))
    xs = [0.0]
    for _ in range(aisles - 1):
        xs.append(xs[-1] + draw(st.sampled_from([1.0, 2.5, 5.0])))
    cross = [0.0]
    for _ in range(draw(st.integers(1, 3))):
        cross.append(cross[-1] + draw(st.sampled_from([2.0, 4.0, 7.5])))
    depot_x = draw(st.sampled_from(xs)) if draw(st.booleans()) else draw(st.floats(0, xs[-1]))
    layout = Layout(tuple(xs), tuple(cross), (depot_x, 0.0))
    spots: list[Spot] = []
    for _ in range(draw(st.integers(0, 8))):
        aisle = draw(st.integers(0, aisles - 1))
        on_cross_aisle = draw(st.booleans())
        y = draw(st.sampled_from(cross)) if on_cross_aisle else draw(st.floats(0, cross[-1]))
        spots.append(Spot(aisle, round(y, 1)))
    repeat = draw(st.booleans())
    if spots and repeat:
        spots.insert(draw(st.integers(0, len(spots))), draw(st.sampled_from(spots)))
    return layout, spots


@settings(max_examples=150, deadline=None)
@given(awkward_instances())
def test_crossings_depot_spots_and_repeats(case: tuple[Layout, list[Spot]]) -> None:
    layout, spots = case
    best = held_karp(layout, spots)
    # The program is exact on every layout, so the batching estimate is too.
    assert estimate_length(layout, spots) == pytest.approx(best, abs=1e-6)
    for policy in POLICIES:
        length = assert_real_walk(layout, spots, policy)
        assert route_length(layout, spots, policy) == pytest.approx(length, abs=1e-6)
        if policy == "optimal":
            assert length == pytest.approx(best, abs=1e-6)
        else:
            assert length >= best - 1e-6
    # Picks at one place are made one after the other.
    places = [spots[i] for i in plan_route(layout, spots).sequence]
    runs = [place for place, _ in itertools.groupby(places)]
    assert len(runs) == len(set(places))


@settings(max_examples=40, deadline=None)
@given(awkward_instances())
def test_integer_program_equals_held_karp(case: tuple[Layout, list[Spot]]) -> None:
    layout, spots = case
    assert milp_length(layout, spots) == pytest.approx(held_karp(layout, spots), abs=1e-6)


def test_integer_program_on_larger_lists_equals_the_dynamic_program() -> None:
    rng = random.Random(3)
    for layout in (henn_layout(), multi_block_layout()):
        for spots in random_pick_lists(layout, 40, 2, rng):
            assert exact_length(layout, spots) == pytest.approx(
                route_length(layout, spots), abs=1e-6
            )


def test_spots_at_the_depot_and_on_the_front_cross_aisle() -> None:
    layout = Layout((0.0, 5.0, 10.0), (0.0, 10.0, 20.0), (2.5, 0.0))
    # Only the depot's own place: nothing to walk, but the spot is still in the sequence.
    between = Layout((0.0, 5.0), (0.0, 10.0), (0.0, 0.0))
    route = plan_route(between, [Spot(0, 0.0), Spot(0, 0.0)])
    assert route.length == 0.0
    assert route.sequence == (0, 1)
    assert route.path == (between.depot,)
    # A spot on the front cross aisle at aisle 2: along the front and back (2 x 7.5 m).
    assert route_length(layout, [Spot(2, 0.0)]) == pytest.approx(15.0)
    # The depot between aisles 0 and 1; one spot on the middle cross aisle at aisle 1:
    # 2.5 m across and 10 m up, and back.
    assert route_length(layout, [Spot(1, 10.0)]) == pytest.approx(25.0)
    for policy in POLICIES:
        assert assert_real_walk(layout, [Spot(1, 10.0), Spot(0, 15.0)], policy) >= 0.0
