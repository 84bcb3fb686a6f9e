"""`shipfloor bench pack`: the packaging suggestion against an exact answer and against
py3dbp, and how long it takes.

* **two_item**: seeded random two-unit orders (sizes 20-450 mm, a quarter kept upright,
  some fragile) on the built-in catalogue and the default carrier. The exact optimum is
  found here without the packer: for each box, a pair fits if, for some orientations of
  the two, their extents along one axis sum to at most the box's and along the other two
  each fits (two boxes inside a box either side of a plane perpendicular to an axis: the
  separating-axis argument), with the packer's rules (keep upright; one on top of the
  other only when the lower one may carry it and 70 % of the upper one's base rests on
  it). The best of: the cheapest box the pair fits, and each unit in its own cheapest box.
  ``best_box_rate`` is the share of orders whose suggestion costs no more than that;
  ``py3dbp_best_box_rate`` the same for py3dbp, run as on the mixed orders.
* **mixed**: seeded orders of 1-20 units of a web shop's products (books, phones, shoes,
  clothes, bottles kept upright and bagged, glassware, hazmat aerosols and batteries, a
  microwave in its own box), packed by the suggestion and by py3dbp on the same
  catalogue, every package's cost counted by :func:`app.packing.cartonize.package`.
  py3dbp gets the rules it cannot express from outside, as the suggestion applies them:
  a unit in its own container alone, hazmat classes apart in approved boxes; keep-upright
  is given to it by refusing the turns that tip a unit over. It knows nothing of stacking
  limits and support. Per order it takes the cheapest box it fits everything into, trying
  them in order of cost; when none holds everything it fills the largest box that takes
  anything, and again for what is left.
* **valid_packings**: the share of the suggestions, both sets, that
  :func:`app.packing.cartonize.valid_suggestion` finds nothing wrong with;
  ``py3dbp_valid_packings`` the share of py3dbp's mixed orders whose every package
  :func:`app.packing.cartonize.valid` accepts.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from itertools import product
from typing import Any

from py3dbp import Bin, Packer
from py3dbp import Item as PyItem

from app.packing.cartonize import (
    SUPPORT_PERCENT,
    BoxType,
    CarrierRate,
    Item,
    Material,
    PackedBox,
    Placement,
    package,
    suggest,
    valid,
    valid_suggestion,
)
from app.packing.catalogue import DEFAULT_BOXES, DEFAULT_MATERIALS, DEFAULT_RATES

Progress = Callable[[str, int, int], None]

PRODUCTS: tuple[tuple[Item, float], ...] = (
    # (unit, how often it is ordered, relative)
    (Item("BOOK-PB", 178, 111, 25, 250), 10),
    (Item("BOOK-HB", 240, 160, 35, 750), 6),
    (Item("PHONE", 170, 90, 55, 480, max_stack_weight=8000), 4),
    (Item("CHARGER", 110, 80, 40, 150), 5),
    (Item("TABLET", 260, 180, 40, 700, max_stack_weight=8000), 2),
    (Item("LAPTOP", 400, 290, 75, 2600, max_stack_weight=10000), 1),
    (Item("HEADPHONES", 220, 190, 90, 600), 3),
    (Item("SHOES", 330, 200, 120, 1100), 5),
    (Item("BOOTS", 360, 250, 130, 1800), 2),
    (Item("TSHIRT", 250, 200, 20, 180), 10),
    (Item("JEANS", 300, 250, 40, 650), 6),
    (Item("HOODIE", 320, 260, 60, 700), 4),
    (Item("WINE", 80, 80, 330, 1400, upright=True, liquid=True, fragile=True), 3),
    (Item("OLIVE-OIL", 70, 70, 280, 1000, upright=True, liquid=True, fragile=True), 2),
    (Item("SHAMPOO", 70, 45, 200, 450, upright=True, liquid=True), 5),
    (Item("GLASSES-2", 220, 110, 230, 800, fragile=True, max_stack_weight=1500), 2),
    (Item("MUG", 125, 95, 105, 380, upright=True, fragile=True, max_stack_weight=2000), 4),
    (Item("VASE", 160, 160, 300, 1200, upright=True, fragile=True), 1),
    (Item("CANDLE", 90, 90, 110, 450, upright=True, fragile=True, max_stack_weight=1000), 3),
    (Item("BOARD-GAME", 300, 300, 75, 1300), 2),
    (Item("BRICKS", 380, 260, 70, 900), 2),
    (Item("TOY-CAR", 200, 100, 80, 250), 3),
    (Item("KETTLE", 240, 180, 250, 1400, upright=True), 1),
    (Item("PAN", 480, 290, 80, 1500), 1),
    (Item("UMBRELLA", 600, 80, 80, 450), 1),
    (Item("YOGA-MAT", 620, 150, 150, 1200), 1),
    (Item("COFFEE", 190, 120, 75, 1020), 4),
    (Item("TEA", 130, 80, 80, 250), 4),
    (Item("VITAMINS", 60, 60, 110, 200, upright=True), 4),
    (Item("CEREAL", 300, 200, 70, 500), 2),
    (Item("PERFUME", 110, 60, 150, 300, upright=True, liquid=True, fragile=True, hazmat="3"), 2),
    (Item("DEODORANT", 50, 50, 170, 200, upright=True, hazmat="2.1"), 2),
    (Item("POWER-BANK", 150, 75, 25, 300, hazmat="9"), 2),
    (Item("MICROWAVE", 490, 390, 300, 11000, upright=True, own_container=True), 0.3),
)
"""A web shop's catalogue: boxed or folded as it leaves the shelf (mm, g)."""


LARGE = 15
"""Orders of this many units or more are timed apart too (``large_ms_p95``)."""
MAX_PAIR_UNIT_WEIGHT = 15_000
"""Grams; a heavier random unit is drawn again (the ground carrier takes 31.5 kg)."""


def _p(samples: Sequence[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


# ------------------------------------------------------------------ orders


def two_item_orders(count: int, seed: int, boxes: Sequence[BoxType]) -> list[list[Item]]:
    """Random pairs of units, each of which fits some box alone."""
    rnd = random.Random(seed)
    largest = max(boxes, key=lambda b: b.inner_volume)
    orders: list[list[Item]] = []
    made = 0
    while len(orders) < count:
        pair: list[Item] = []
        while len(pair) < 2:
            made += 1
            sides = sorted(round(math.exp(rnd.uniform(math.log(20), math.log(450)))) for _ in "abc")
            rnd.shuffle(sides)
            density = rnd.uniform(0.1, 1.2)  # g per cm³
            weight = max(20, round(sides[0] * sides[1] * sides[2] / 1000 * density))
            fragile = rnd.random() < 0.15
            item = Item(
                f"R{made}",
                sides[0],
                sides[1],
                sides[2],
                weight,
                upright=rnd.random() < 0.25,
                fragile=fragile,
                max_stack_weight=rnd.choice((None, 1000, 3000)) if fragile else None,
            )
            if weight <= MAX_PAIR_UNIT_WEIGHT and any(
                dx <= largest.inner_length and dy <= largest.inner_width
                for dx, dy, dz in item.orientations()
                if dz <= largest.inner_height
            ):
                pair.append(item)
        orders.append(pair)
    return orders


def mixed_orders(count: int, seed: int) -> list[list[Item]]:
    """Orders of 1-20 units: a few lines, small ones most often, quantities of 1-3."""
    rnd = random.Random(seed)
    products = [p for p, _ in PRODUCTS]
    weights = [w for _, w in PRODUCTS]
    sizes = list(range(1, 21))
    size_weights = [1 / n**0.8 for n in sizes]
    orders: list[list[Item]] = []
    for _ in range(count):
        units = rnd.choices(sizes, size_weights)[0]
        order: list[Item] = []
        while len(order) < units:
            item = rnd.choices(products, weights)[0]
            order.extend([item] * min(units - len(order), rnd.choice((1, 1, 1, 2, 3))))
        orders.append(order)
    return orders


# ------------------------------------------------------------------ exact two-unit answer


def pair_fits(a: Item, b: Item, box: BoxType) -> bool:
    """Whether units ``a`` and ``b`` go in ``box`` together under the packer's rules."""
    size = (box.inner_length, box.inner_width, box.inner_height)
    for ra, rb in product(a.orientations(), b.orientations()):
        if any(max(ra[j], rb[j]) > size[j] for j in range(3)):
            continue
        for axis in range(3):
            if ra[axis] + rb[axis] > size[axis]:
                continue
            if axis < 2:
                return True
            for low, high, rlow, rhigh in ((a, b, ra, rb), (b, a, rb, ra)):
                limit = low.stack_limit
                if limit is not None and high.weight > limit:
                    continue
                shared = min(rlow[0], rhigh[0]) * min(rlow[1], rhigh[1])
                if shared * 100 >= SUPPORT_PERCENT * rhigh[0] * rhigh[1]:
                    return True
    return False


def exact_best(
    pair: Sequence[Item],
    boxes: Sequence[BoxType],
    materials: Sequence[Material],
    rate: CarrierRate,
) -> Decimal:
    """The least a two-unit order can cost: together in one box, or each in its own."""

    def cheapest(units: Sequence[Item]) -> Decimal | None:
        found: Decimal | None = None
        for box in boxes:
            if not box.allows(rate.carrier):
                continue
            if len(units) == 2 and not pair_fits(units[0], units[1], box):
                continue
            if len(units) == 1 and not any(
                dx <= box.inner_length and dy <= box.inner_width and dz <= box.inner_height
                for dx, dy, dz in units[0].orientations()
            ):
                continue
            packed = package(box, units, (), materials, rate)
            if packed.gross_weight > box.max_weight or (
                rate.max_weight is not None and packed.gross_weight > rate.max_weight
            ):
                continue
            if found is None or packed.cost < found:
                found = packed.cost
        return found

    together = cheapest(pair)
    first, second = cheapest(pair[:1]), cheapest(pair[1:])
    assert first is not None  # each unit fits a box alone
    assert second is not None
    apart = first + second
    return apart if together is None else min(together, apart)


# ------------------------------------------------------------------ py3dbp


class _PyUnit(PyItem):  # type: ignore[misc]
    """A py3dbp item that refuses to be tipped over when it must stay upright.

    py3dbp's axes are width, height, depth; its height is the vertical, as ours is.
    """

    def __init__(self, name: str, item: Item) -> None:
        super().__init__(name, item.length, item.height, item.width, item.weight)
        self.upright = item.upright

    def get_dimension(self) -> list[Any]:
        dims: list[Any] = super().get_dimension()
        if self.upright and dims and dims[1] != self.height:
            # Larger than any box: py3dbp goes on to its next turn.
            return [Decimal("Infinity")] * 3
        return dims


def _py3dbp_pack(box: BoxType, items: Sequence[Item]) -> dict[int, Placement]:
    """Where py3dbp places which of ``items`` (by index) in one ``box``."""
    packer = Packer()
    holder = Bin(
        box.code, box.inner_length, box.inner_height, box.inner_width, box.max_weight - box.tare
    )
    packer.add_bin(holder)
    for n, item in enumerate(items):
        packer.add_item(_PyUnit(str(n), item))
    packer.pack(bigger_first=True)
    found: dict[int, Placement] = {}
    for unit in holder.items:
        n = int(unit.name)
        x, z, y = (int(v) for v in unit.position)
        dx, dz, dy = (int(v) for v in unit.get_dimension())
        found[n] = Placement(items[n].sku, x, y, z, dx, dy, dz)
    return found


def py3dbp_packages(
    order: Sequence[Item],
    boxes: Sequence[BoxType],
    materials: Sequence[Material],
    rate: CarrierRate,
) -> list[tuple[PackedBox, list[Item]]]:
    """py3dbp's packages for ``order`` (costed as the suggestion's are), with the rules it
    cannot express applied around it, each with the units in it."""
    allowed = [b for b in boxes if b.allows(rate.carrier)]
    packages: list[tuple[PackedBox, list[Item]]] = []
    groups: dict[str, list[Item]] = {}
    for item in order:
        if item.own_container:
            spot = Placement(item.sku, 0, 0, 0, item.length, item.width, item.height)
            packages.append((package(None, [item], [spot], materials, rate), [item]))
        else:
            groups.setdefault(item.hazmat, []).append(item)
    for hazmat, items in sorted(groups.items()):
        usable = [b for b in allowed if b.hazmat_ok or not hazmat]
        remaining = list(items)
        while remaining:
            ranked = sorted(
                usable, key=lambda b: (package(b, remaining, (), materials, rate).cost, b.code)
            )
            for box in ranked:
                placed = _py3dbp_pack(box, remaining)
                if len(placed) == len(remaining):
                    break
            else:
                # The largest box that takes anything, filled.
                for box in sorted(usable, key=lambda b: (-b.inner_volume, b.code)):
                    placed = _py3dbp_pack(box, remaining)
                    if placed:
                        break
                else:
                    raise RuntimeError(f"py3dbp places none of {[i.sku for i in remaining]}")
            inside = [remaining[n] for n in sorted(placed)]
            spots = [placed[n] for n in sorted(placed)]
            packages.append((package(box, inside, spots, materials, rate), inside))
            remaining = [u for n, u in enumerate(remaining) if n not in placed]
    return packages


# ------------------------------------------------------------------ the run


def run(
    pairs: int = 2000, orders: int = 500, seed: int = 1, progress: Progress | None = None
) -> dict[str, Any]:
    """The benchmark's figures, as `shipfloor bench pack --json` prints them."""
    report = progress or (lambda _stage, _done, _total: None)
    boxes, materials, rate = DEFAULT_BOXES, DEFAULT_MATERIALS, DEFAULT_RATES[0]
    checked = valid_count = 0

    best = theirs_best = 0
    pair_ms: list[float] = []
    two = two_item_orders(pairs, seed, boxes)
    for n, pair in enumerate(two, 1):
        start = time.perf_counter()
        found = suggest(pair, boxes, materials, rate)
        pair_ms.append((time.perf_counter() - start) * 1000)
        optimum = exact_best(pair, boxes, materials, rate)
        if found.total_cost <= optimum:
            best += 1
        theirs = sum(
            (packed.cost for packed, _ in py3dbp_packages(pair, boxes, materials, rate)),
            Decimal(0),
        )
        if theirs <= optimum:
            theirs_best += 1
        checked += 1
        valid_count += not valid_suggestion(found, pair)
        if n % 100 == 0 or n == len(two):
            report("two-item", n, len(two))

    ours_cost = theirs_cost = Decimal(0)
    ours_boxes = theirs_boxes = theirs_valid = 0
    mixed_ms: list[float] = []
    large_ms: list[float] = []
    mixed = mixed_orders(orders, seed)
    for n, order in enumerate(mixed, 1):
        start = time.perf_counter()
        found = suggest(order, boxes, materials, rate)
        mixed_ms.append((time.perf_counter() - start) * 1000)
        if len(order) >= LARGE:
            large_ms.append(mixed_ms[-1])
        checked += 1
        valid_count += not valid_suggestion(found, order)
        ours_cost += found.total_cost
        ours_boxes += len(found.boxes)
        theirs_packages = py3dbp_packages(order, boxes, materials, rate)
        for packed, _ in theirs_packages:
            theirs_cost += packed.cost
            theirs_boxes += 1
        theirs_valid += all(
            not valid(packed, items, rate.carrier) for packed, items in theirs_packages
        )
        if n % 20 == 0 or n == len(mixed):
            report("mixed", n, len(mixed))

    return {
        "two_item": {
            "orders": len(two),
            "best_box_rate": round(best / len(two), 4),
            "py3dbp_best_box_rate": round(theirs_best / len(two), 4),
            "ms_p95": round(_p(pair_ms, 0.95), 3),
        },
        "mixed": {
            "orders": len(mixed),
            "ours_cost": float(ours_cost),
            "py3dbp_cost": float(theirs_cost),
            "ours_boxes": ours_boxes,
            "py3dbp_boxes": theirs_boxes,
            "ms_p95": round(_p(mixed_ms, 0.95), 3),
            "ms_p50": round(statistics.median(mixed_ms), 3),
            "large_orders": len(large_ms),
            "large_ms_p95": round(_p(large_ms, 0.95), 3) if large_ms else None,
        },
        "valid_packings": round(valid_count / checked, 4),
        "py3dbp_valid_packings": round(theirs_valid / len(mixed), 4),
    }
