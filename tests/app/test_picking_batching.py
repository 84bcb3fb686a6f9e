"""Order batching: feasibility and partition on random waves, and cases worked out by hand."""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.walks.bench import layout_cells
from app.walks.layout import Layout, Spot
from app.walks.paths import estimate_length
from app.waves import bench_batching as bench
from app.waves.batching import (
    METHODS,
    Batch,
    BatchingError,
    BatchOrder,
    Cart,
    make_batches,
    total_length,
)

# The single-block layout of the batching literature: 10 aisles 5 m apart, cross aisles at
# y = 0 and y = 47, depot at the front of the first aisle.
LAYOUT = Layout(tuple(5.0 * i for i in range(10)), (0.0, 47.0), (0.0, 0.0))


def shortest_tour(spots: Sequence[Spot]) -> float:
    """The exact shortest tour by trying every visiting order (small sets only)."""
    distinct = sorted(set(spots))
    assert len(distinct) <= 7, "brute force is for small sets"
    if not distinct:
        return 0.0
    return min(LAYOUT.tour_length(p) for p in itertools.permutations(distinct))


def estimate(spots: Sequence[Spot]) -> float:
    return estimate_length(LAYOUT, spots)


def order(
    key: int, *spots: tuple[int, float], items: int = 1, arrival: int | None = None
) -> BatchOrder:
    return BatchOrder(
        key=key,
        spots=tuple(Spot(a, y) for a, y in spots),
        items=items,
        volume_cm3=100 * items,
        weight_g=50 * items,
        arrival=key if arrival is None else arrival,
    )


ROOMY = Cart(totes=2, items=100, volume_cm3=100_000, weight_g=100_000)


def union_spots(orders: Sequence[BatchOrder], keys: Sequence[int]) -> tuple[Spot, ...]:
    by_key = {o.key: o for o in orders}
    return tuple(sorted({s for k in keys for s in by_key[k].spots}))


def exceeds(o: BatchOrder, cart: Cart) -> bool:
    return o.items > cart.items or o.volume_cm3 > cart.volume_cm3 or o.weight_g > cart.weight_g


# -- cases worked out by hand ------------------------------------------------------------------


def test_a_hand_case_pairs_orders_that_share_an_aisle() -> None:
    # Two orders deep in the last aisle (x = 45) and two near the front of the first aisle.
    # Alone: 2·(45 + 10) = 110, 10, 2·(45 + 20) = 130, 16 → 266 m.
    # FCFS (two totes) pairs them by arrival: {1, 2} = 10 + 45 + 20 + 45 = 120 and
    # {3, 4} = 16 + 45 + 40 + 45 = 146 → 266 m, no better than one order per trip.
    # Pairing the far orders and the near orders: {1, 3} = 2·(45 + 20) = 130, {2, 4} = 16.
    orders = [order(1, (9, 10.0)), order(2, (0, 5.0)), order(3, (9, 20.0)), order(4, (0, 8.0))]
    for route_length in (shortest_tour, estimate):
        single = make_batches(orders, ROOMY, route_length, "single_order")
        assert [b.length for b in single] == [110, 10, 130, 16]
        fcfs = make_batches(orders, ROOMY, route_length, "fcfs")
        assert [(b.keys, b.length) for b in fcfs] == [((1, 2), 120), ((3, 4), 146)]
        # Savings: s(1,3) = 110 + 130 − 130 = 110 is the largest, then s(2,4) = 10 + 16 − 16.
        for method in ("clarke_wright", "local_search"):
            got = make_batches(orders, ROOMY, route_length, method)
            assert [(b.keys, b.length) for b in got] == [((1, 3), 130), ((2, 4), 16)]


def test_local_search_fixes_a_greedy_savings_mistake() -> None:
    # Orders 1 (3, 20), 2 (3, 40) and 3 (3, 21) are in aisle 3 (x = 15); order 4 is deep in
    # aisle 0. Alone: 2·(15 + 20) = 70, 2·(15 + 40) = 110, 2·(15 + 21) = 72, 2·40 = 80.
    # Order 4 with anything in aisle 3 walks up aisle 0, along the back and down aisle 3:
    # 47 + 15 + 47 + 15 = 124. Savings: s(2,3) = 72 + 110 − 110 = 72 is the largest
    # (s(1,2) = 70, s(1,3) = 70, s(2,4) = 110 + 80 − 124 = 66), so Clarke–Wright merges
    # {2, 3} and is left with {1, 4}: 110 + 124 = 234 m. Best: {1, 3} = 72 and
    # {2, 4} = 124, 196 m (the third pairing, {1, 2} + {3, 4}, is 110 + 124 again).
    orders = [order(1, (3, 20.0)), order(2, (3, 40.0)), order(3, (3, 21.0)), order(4, (0, 40.0))]
    cw = make_batches(orders, ROOMY, shortest_tour, "clarke_wright")
    assert [(b.keys, b.length) for b in cw] == [((1, 4), 124), ((2, 3), 110)]
    ours = make_batches(orders, ROOMY, shortest_tour, "local_search")
    assert [(b.keys, b.length) for b in ours] == [((1, 3), 72), ((2, 4), 124)]


def test_every_cart_limit_splits_batches() -> None:
    orders = [order(k, (0, 1.5 + k), items=2) for k in range(1, 7)]
    for cart, sizes in (
        (Cart(totes=3, items=100, volume_cm3=10_000, weight_g=10_000), [3, 3]),
        (Cart(totes=10, items=4, volume_cm3=10_000, weight_g=10_000), [2, 2, 2]),
        (Cart(totes=10, items=100, volume_cm3=1000, weight_g=10_000), [5, 1]),
        (Cart(totes=10, items=100, volume_cm3=10_000, weight_g=100), [1] * 6),
    ):
        got = make_batches(orders, cart, estimate, "fcfs")
        assert [len(b.keys) for b in got] == sizes


def test_batches_come_in_arrival_order_with_keys_in_arrival_order() -> None:
    orders = [
        order(10, (5, 30.0), arrival=3),
        order(20, (5, 31.0), arrival=0),
        order(30, (0, 2.0), arrival=1),
        order(40, (0, 3.0), arrival=2),
    ]
    got = make_batches(orders, ROOMY, estimate, "local_search")
    assert [b.keys for b in got] == [(20, 10), (30, 40)]


# -- errors ------------------------------------------------------------------------------------


def test_an_order_larger_than_the_cart_is_refused_with_its_numbers() -> None:
    orders = [order(1, (0, 5.0)), order(7, (1, 5.0), items=70)]
    cart = Cart(totes=12, items=60, volume_cm3=300_000, weight_g=150_000)
    for method in METHODS:
        with pytest.raises(BatchingError, match=r"order 7 .*items limit 70 > 60"):
            make_batches(orders, cart, estimate, method)


def test_an_oversize_order_travels_alone_when_allowed() -> None:
    orders = [order(1, (0, 5.0)), order(7, (1, 5.0), items=70), order(3, (0, 6.0))]
    cart = Cart(totes=12, items=60, volume_cm3=300_000, weight_g=150_000)
    for method in METHODS:
        got = make_batches(orders, cart, estimate, method, allow_oversize=True)
        # Batches come by first arrival, and an order's arrival is its key here.
        if method == "single_order":
            assert [(b.keys, b.oversize) for b in got] == [
                ((1,), False),
                ((3,), False),
                ((7,), True),
            ]
        else:
            assert [(b.keys, b.oversize) for b in got] == [((1, 3), False), ((7,), True)]
        assert got[-1].length == estimate((Spot(1, 5.0),))


def test_unknown_method_names_the_choices() -> None:
    with pytest.raises(BatchingError, match="single_order, fcfs, clarke_wright, local_search"):
        make_batches([order(1, (0, 5.0))], ROOMY, estimate, "savings")


def test_bad_input_is_refused() -> None:
    with pytest.raises(BatchingError, match="order 1 appears more than once"):
        make_batches([order(1, (0, 5.0)), order(1, (0, 6.0))], ROOMY, estimate)
    with pytest.raises(BatchingError, match="at least one tote"):
        make_batches([order(1, (0, 5.0))], Cart(0, 10, 10, 10), estimate)
    with pytest.raises(BatchingError, match="negative items"):
        make_batches([order(1, (0, 5.0), items=-1)], ROOMY, estimate)


def test_no_orders_no_batches() -> None:
    for method in METHODS:
        assert make_batches([], ROOMY, estimate, method) == []


# -- random waves ------------------------------------------------------------------------------

SPOTS = st.builds(Spot, st.integers(0, 9), st.sampled_from([1.5, 8.5, 23.5, 40.5, 45.5]))


@st.composite
def waves(draw: st.DrawFn) -> tuple[list[BatchOrder], Cart]:
    count = draw(st.integers(0, 10))
    keys = draw(st.lists(st.integers(0, 10_000), min_size=count, max_size=count, unique=True))
    orders = [
        BatchOrder(
            key=key,
            spots=tuple(draw(st.lists(SPOTS, min_size=0, max_size=3))),
            items=draw(st.integers(0, 12)),
            volume_cm3=draw(st.integers(0, 4000)),
            weight_g=draw(st.integers(0, 3000)),
            arrival=draw(st.integers(0, 4)),
        )
        for key in keys
    ]
    cart = Cart(
        totes=draw(st.integers(1, 4)),
        items=draw(st.integers(4, 25)),
        volume_cm3=draw(st.integers(1000, 9000)),
        weight_g=draw(st.integers(500, 7000)),
    )
    return orders, cart


def check_batches(orders: Sequence[BatchOrder], cart: Cart, batches: Sequence[Batch]) -> None:
    by_key = {o.key: o for o in orders}
    assert sorted(k for b in batches for k in b.keys) == sorted(by_key)
    rank = {o.key: (o.arrival, o.key) for o in orders}
    assert [rank[b.keys[0]] for b in batches] == sorted(rank[b.keys[0]] for b in batches)
    for b in batches:
        members = [by_key[k] for k in b.keys]
        assert [rank[k] for k in b.keys] == sorted(rank[k] for k in b.keys)
        assert b.length == estimate(union_spots(orders, b.keys))
        if b.oversize:
            assert len(members) == 1
            assert exceeds(members[0], cart)
            continue
        assert len(members) <= cart.totes
        assert sum(o.items for o in members) <= cart.items
        assert sum(o.volume_cm3 for o in members) <= cart.volume_cm3
        assert sum(o.weight_g for o in members) <= cart.weight_g


@settings(max_examples=40, deadline=None)
@given(waves(), st.integers(0, 3))
def test_every_method_partitions_the_wave_within_the_cart(
    wave: tuple[list[BatchOrder], Cart], seed: int
) -> None:
    orders, cart = wave
    totals = {}
    for method in METHODS:
        got = make_batches(orders, cart, estimate, method, seed=seed, allow_oversize=True)
        check_batches(orders, cart, got)
        totals[method] = total_length(got)
        if any(exceeds(o, cart) for o in orders):
            with pytest.raises(BatchingError, match="alone exceeds the cart"):
                make_batches(orders, cart, estimate, method, seed=seed)
        else:
            assert not any(b.oversize for b in got)
    # Clarke–Wright merges only on a saving ≥ 0, so it never walks more than one order per
    # trip; `local_search` starts from the better of FCFS and Clarke–Wright (the wave fits in one
    # window) and local search and set partitioning only accept improvements.
    assert totals["clarke_wright"] <= totals["single_order"] + 1e-6
    assert totals["local_search"] <= totals["clarke_wright"] + 1e-6
    assert totals["local_search"] <= totals["fcfs"] + 1e-6
    again = make_batches(orders, cart, estimate, "local_search", seed=seed, allow_oversize=True)
    assert again == make_batches(
        orders, cart, estimate, "local_search", seed=seed, allow_oversize=True
    )


def small_wave(count: int, seed: int) -> list[BatchOrder]:
    """Orders of 1–3 units, mostly at one spot, as a busy e-commerce wave."""
    rng = random.Random(seed)
    cells = layout_cells(LAYOUT)
    orders = []
    for k in range(count):
        units = rng.choice((1, 1, 2, 3))
        spots = tuple(rng.choice(cells) for _ in range(1 if rng.random() < 0.8 else 2))
        orders.append(BatchOrder(k + 1, spots, units, 800 * units, 400 * units, k))
    return orders


def test_a_large_wave_keeps_to_the_time_limit_and_beats_fcfs() -> None:
    orders = small_wave(1500, seed=3)
    cart = Cart(totes=12, items=60, volume_cm3=300_000, weight_g=150_000)
    fcfs = make_batches(orders, cart, estimate, "fcfs")
    started = time.perf_counter()
    ours = make_batches(orders, cart, estimate, "local_search", time_limit_s=0.5)
    assert time.perf_counter() - started < 1.5
    by_key = {o.key: o for o in orders}
    assert sorted(k for b in ours for k in b.keys) == sorted(by_key)
    for b in ours:
        assert len(b.keys) <= cart.totes
        assert sum(by_key[k].items for k in b.keys) <= cart.items
    assert total_length(ours) < 0.75 * total_length(fcfs)
    instant = make_batches(orders, cart, estimate, "local_search", time_limit_s=0)
    assert total_length(instant) <= total_length(fcfs)


# -- benchmark ---------------------------------------------------------------------------------


def test_benchmark_cells_and_orders_follow_the_literature() -> None:
    cells = layout_cells(LAYOUT)
    assert len(cells) == 450
    assert {c.y for c in cells} == {1.5 + i for i in range(45)}
    orders = bench.make_orders(random.Random(1), cells, 50)
    assert all(5 <= o.items <= 25 and len(set(o.spots)) == o.items for o in orders)


def test_benchmark_reports_every_method_per_instance(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench, "ORDER_COUNTS", (8,))
    monkeypatch.setattr(bench, "CAPACITIES", (30, 45))
    seen: list[int] = []
    got = bench.bench_batching(LAYOUT, estimate, progress=lambda _n, done, _t: seen.append(done))
    assert list(got) == ["8_orders_cap_30", "8_orders_cap_45"]
    assert seen == list(range(1, 9))
    for row in got.values():
        assert list(row) == list(METHODS)
        assert row["local_search"] <= row["clarke_wright"] <= row["single_order"]
        assert row["local_search"] <= row["fcfs"]
