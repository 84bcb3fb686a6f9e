"""The packaging suggestion: its rules kept, its cost counted as documented, its answers
checked by the independent checker (which is shown to fail on bad packings) and, for two
units, against the exact optimum."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.packing import bench
from app.packing.cartonize import (
    BoxType,
    CarrierRate,
    CartonizeError,
    Item,
    Material,
    PackedBox,
    Placement,
    Suggestion,
    package,
    suggest,
    valid,
    valid_suggestion,
)
from app.packing.catalogue import DEFAULT_BOXES, DEFAULT_MATERIALS, DEFAULT_RATES

GROUND = CarrierRate("GROUND", 5000, Decimal("4.00"), Decimal("1.00"), 31_500)
NO_DIM = CarrierRate("GROUND", 10**9, Decimal("4.00"), Decimal("1.00"))
MATERIALS = (
    Material("FILL", "Air pillows", "void_fill", Decimal("0.01"), 2),
    Material("WRAP", "Bubble wrap", "bubble_wrap", Decimal("0.20"), 10),
    Material("BAG", "Poly bag", "bag", Decimal("0.05"), 5),
    Material("DIV", "Divider", "divider", Decimal("0.10"), 30),
)


def box(
    code: str,
    inner: tuple[int, int, int],
    cost: str = "1.00",
    *,
    tare: int = 100,
    max_weight: int = 20_000,
    carriers: frozenset[str] = frozenset(),
    hazmat_ok: bool = False,
) -> BoxType:
    return BoxType(
        code,
        f"Box {code}",
        *inner,
        inner[0] + 6,
        inner[1] + 6,
        inner[2] + 8,
        tare=tare,
        max_weight=max_weight,
        cost=Decimal(cost),
        carriers=carriers,
        hazmat_ok=hazmat_ok,
    )


def checked(
    items: list[Item],
    boxes: tuple[BoxType, ...],
    rate: CarrierRate = GROUND,
    materials: tuple[Material, ...] = MATERIALS,
) -> Suggestion:
    found = suggest(items, boxes, materials, rate)
    assert valid_suggestion(found, items) == []
    return found


def codes(found: Suggestion) -> list[str | None]:
    return [b.box.code if b.box else None for b in found.boxes]


BOOK = Item("BOOK", 240, 160, 35, 750)
BOTTLE = Item("WINE", 80, 80, 330, 1400, upright=True, liquid=True, fragile=True)


def test_an_upright_unit_is_never_laid_down() -> None:
    flat = box("FLAT", (400, 300, 100), "0.50")
    tall = box("TALL", (100, 100, 350), "2.00")
    upright = checked([BOTTLE], (flat, tall))
    assert codes(upright) == ["TALL"]
    assert upright.boxes[0].placements[0].dz == 330
    lying = Item("ROD", 80, 80, 330, 1400)
    assert codes(checked([lying], (flat, tall))) == ["FLAT"]


def test_a_unit_in_its_own_container_is_a_package_alone_without_a_box() -> None:
    microwave = Item("MICRO", 490, 390, 300, 11_000, upright=True, own_container=True)
    found = checked([BOOK, microwave], (box("M", (300, 200, 100)), box("XL", (600, 500, 400))))
    own = next(b for b in found.boxes if b.box is None)
    assert own.placements == (Placement("MICRO", 0, 0, 0, 490, 390, 300),)
    assert own.materials == ()
    assert own.box_cost == 0
    # Carriage on its own size: 490×390×300 / 5000 = 11,466 g, billed as 12 kg.
    assert own.billable_kg == 12
    assert own.cost == Decimal("16.00")
    assert codes(found).count("M") == 1


def test_hazmat_classes_travel_apart_in_approved_boxes() -> None:
    perfume = Item("PERFUME", 110, 60, 150, 300, upright=True, liquid=True, hazmat="3")
    battery = Item("BATTERY", 150, 75, 25, 300, hazmat="9")
    plain = box("M", (300, 200, 200))
    un = box("UN", (300, 250, 250), "3.00", hazmat_ok=True)
    found = checked([perfume, BOOK, battery, perfume], (plain, un))
    by_sku = {frozenset(p.sku for p in b.placements): b for b in found.boxes}
    assert set(by_sku) == {frozenset({"PERFUME"}), frozenset({"BOOK"}), frozenset({"BATTERY"})}
    assert codes(found).count("UN") == 2
    assert "hazmat class 3 travels apart" in by_sku[frozenset({"PERFUME"})].reason


def test_hazmat_without_an_approved_box_for_the_carrier_is_refused() -> None:
    battery = Item("BATTERY", 150, 75, 25, 300, hazmat="9")
    road_only = box("UN", (300, 250, 250), hazmat_ok=True, carriers=frozenset({"ROAD"}))
    with pytest.raises(CartonizeError, match="BATTERY is hazmat class 9, and no box that may go"):
        suggest([battery], (box("M", (300, 200, 200)), road_only), MATERIALS, GROUND)


def test_a_box_restricted_to_other_carriers_is_not_used() -> None:
    cheap_express_only = box("EXP", (300, 200, 100), "0.10", carriers=frozenset({"EXPRESS"}))
    found = checked([BOOK], (cheap_express_only, box("ANY", (300, 200, 100), "0.90")))
    assert codes(found) == ["ANY"]


def test_a_box_never_weighs_more_than_it_may() -> None:
    weights = Item("WEIGHT", 100, 100, 100, 4_000)
    light = box("LIGHT", (400, 400, 400), "0.50", max_weight=9_000)
    found = checked([weights] * 5, (light,))
    assert len(found.boxes) >= 3
    for packed in found.boxes:
        assert packed.gross_weight <= 9_000


def test_several_boxes_when_one_is_not_enough() -> None:
    shoes = Item("SHOES", 330, 200, 120, 1100)
    found = checked([shoes] * 7, (box("S", (340, 210, 130)), box("M", (340, 210, 250))))
    assert len(found.boxes) == 4
    assert sum(len(b.placements) for b in found.boxes) == 7


def test_dimensional_weight_makes_a_cheaper_but_bigger_box_lose() -> None:
    small = box("SMALL", (250, 200, 50), "1.00")
    big = box("BIG", (600, 400, 400), "0.50")
    # Billed by size, the big box is 103 litres / 5000 = 20.7 kg: 21 kg of carriage.
    assert codes(checked([BOOK], (small, big), GROUND)) == ["SMALL"]
    # A carrier that bills weight alone makes the cheaper box the better one (with no void
    # fill to pay for).
    assert codes(checked([BOOK], (small, big), NO_DIM, materials=())) == ["BIG"]
    reason = checked([BOOK], (small, big), GROUND).boxes[0].reason
    assert reason.startswith("SMALL (Box SMALL, 250×200×50 mm inside) is the cheapest box")


def test_two_boxes_when_they_cost_less_than_one_big_one() -> None:
    rod = Item("ROD", 650, 60, 60, 500)
    brick = Item("BRICK", 200, 200, 200, 3000)
    long = box("LONG", (700, 100, 100), "0.90")
    cube = box("CUBE", (220, 220, 220), "0.60")
    huge = box("HUGE", (700, 500, 400), "1.50")
    found = checked([rod, brick], (long, cube, huge))
    assert sorted(codes(found)) == ["CUBE", "LONG"]  # type: ignore[type-var]
    single = package(huge, [rod, brick], (), MATERIALS, GROUND)
    assert found.total_cost < single.cost
    assert "2 boxes cost" in found.boxes[0].reason


def test_a_unit_too_big_for_every_box_is_named_with_its_size_and_the_largest_box() -> None:
    with pytest.raises(CartonizeError) as raised:
        suggest(
            [BOOK, Item("SOFA", 2000, 900, 800, 40_000)],
            (box("S", (300, 200, 100)), box("L", (600, 400, 400))),
            MATERIALS,
            NO_DIM,
        )
    assert str(raised.value) == (
        "SOFA (2000×900×800 mm, 40000 g) fits no box that may go with GROUND: the largest is "
        "L (600×400×400 mm inside, up to 20000 g packed)"
    )


def test_nothing_heavier_than_a_unit_may_carry_rests_on_it() -> None:
    glass = Item("GLASS", 200, 200, 100, 500, upright=True, fragile=True)
    books = Item("BOOKS", 200, 200, 100, 2000, upright=True)
    found = checked([glass, books], (box("CUBE", (200, 200, 200)),))
    spots = {p.sku: p for p in found.boxes[0].placements}
    assert spots["GLASS"].z == 100
    assert spots["BOOKS"].z == 0
    # Two fragile ones cannot share that box at all: one would carry the other.
    assert codes(checked([glass, glass], (box("CUBE", (200, 200, 200)),))) == ["CUBE", "CUBE"]


def test_materials_and_gross_weight_are_counted_as_documented() -> None:
    mug = Item("MUG", 100, 100, 100, 400, fragile=True, max_stack_weight=5000)
    found = checked([mug, mug, BOTTLE], (box("B", (200, 200, 400), "1.00", tare=300),))
    (packed,) = found.boxes
    uses = {m.code: m for m in packed.materials}
    # 16 litres inside, 2 + 2.112 taken: 11.888 left, counted as 12 started litres.
    assert uses["FILL"].quantity == 12
    assert uses["WRAP"].quantity == 3  # every fragile unit
    assert uses["BAG"].quantity == 1  # the liquid one
    assert uses["DIV"].quantity == 2  # fragile units beyond the first
    assert packed.gross_weight == 400 + 400 + 1400 + 300 + 12 * 2 + 3 * 10 + 5 + 2 * 30
    assert packed.materials_cost == Decimal("0.12") + Decimal("0.60") + Decimal("0.05") + Decimal(
        "0.20"
    )
    assert packed.cost == packed.box_cost + packed.materials_cost + packed.carrier_charge


def test_an_order_without_items_is_refused() -> None:
    with pytest.raises(CartonizeError, match="no items"):
        suggest([], DEFAULT_BOXES, DEFAULT_MATERIALS, DEFAULT_RATES[0])


def test_one_sku_with_two_sizes_is_refused() -> None:
    with pytest.raises(CartonizeError, match="BOOK is given twice with different sizes"):
        suggest([BOOK, Item("BOOK", 1, 1, 1, 1)], DEFAULT_BOXES, MATERIALS, GROUND)


def test_the_same_order_gets_the_same_suggestion() -> None:
    order = bench.mixed_orders(5, 11)[-1]
    first = suggest(order, DEFAULT_BOXES, DEFAULT_MATERIALS, DEFAULT_RATES[0])
    assert suggest(list(order), DEFAULT_BOXES, DEFAULT_MATERIALS, DEFAULT_RATES[0]) == first


# ------------------------------------------------------------------ the checker can fail


def _packed(placements: list[Placement], items: list[Item], target: BoxType) -> PackedBox:
    return package(target, items, placements, MATERIALS, GROUND)


CUBE = box("CUBE", (200, 200, 200))
BLOCK = Item("BLOCK", 100, 100, 100, 500)


def test_the_checker_finds_overlap() -> None:
    packed = _packed(
        [Placement("BLOCK", 0, 0, 0, 100, 100, 100), Placement("BLOCK", 50, 50, 0, 100, 100, 100)],
        [BLOCK, BLOCK],
        CUBE,
    )
    assert valid(packed, [BLOCK, BLOCK]) == ["BLOCK at (0, 0, 0) and BLOCK at (50, 50, 0) overlap"]


def test_the_checker_finds_a_unit_sticking_out() -> None:
    packed = _packed([Placement("BLOCK", 150, 0, 0, 100, 100, 100)], [BLOCK], CUBE)
    assert valid(packed, [BLOCK]) == ["BLOCK at (150, 0, 0) sticks out of CUBE"]


def test_the_checker_finds_an_upright_unit_laid_down_and_a_wrong_size() -> None:
    tall = Item("TALL", 50, 50, 150, 300, upright=True)
    packed = _packed([Placement("TALL", 0, 0, 0, 150, 50, 50)], [tall], CUBE)
    assert valid(packed, [tall]) == ["TALL is 150×50×50, not 50×50×150 mm, 300 g kept upright"]
    packed = _packed([Placement("BLOCK", 0, 0, 0, 100, 100, 90)], [BLOCK], CUBE)
    assert valid(packed, [BLOCK]) == ["BLOCK is 100×100×90, not 100×100×100 mm, 500 g turned"]


def test_the_checker_finds_a_crushed_fragile_unit_a_floating_one_and_missing_ones() -> None:
    glass = Item("GLASS", 100, 100, 100, 200, fragile=True)
    packed = _packed(
        [Placement("GLASS", 0, 0, 0, 100, 100, 100), Placement("BLOCK", 0, 0, 100, 100, 100, 100)],
        [glass, BLOCK],
        CUBE,
    )
    assert valid(packed, [glass, BLOCK]) == ["GLASS carries 500 g, more than its 0 g"]
    floating = _packed([Placement("BLOCK", 0, 0, 50, 100, 100, 100)], [BLOCK], CUBE)
    assert valid(floating, [BLOCK]) == [
        "BLOCK at (0, 0, 50) rests on 0 % of its base, less than 70 %"
    ]
    assert valid(floating, [BLOCK, BLOCK])[0].startswith("holds {'BLOCK': 1} where the units")


def test_the_checker_finds_mixed_hazmat_and_an_overweight_box() -> None:
    battery = Item("BATTERY", 100, 100, 100, 300, hazmat="9")
    packed = _packed(
        [
            Placement("BATTERY", 0, 0, 0, 100, 100, 100),
            Placement("BLOCK", 100, 0, 0, 100, 100, 100),
        ],
        [battery, BLOCK],
        box("LIGHT", (200, 200, 200), max_weight=600),
    )
    problems = valid(packed, [battery, BLOCK])
    assert "hazmat classes mixed in one box: 9, none" in problems
    assert "LIGHT is not approved for dangerous goods" in problems
    assert any(p.startswith("LIGHT weighs") for p in problems)


def test_the_whole_suggestion_check_finds_a_unit_left_out() -> None:
    found = suggest([BOOK, BOOK], DEFAULT_BOXES, DEFAULT_MATERIALS, DEFAULT_RATES[0])
    problems = valid_suggestion(found, [BOOK, BOOK, BOOK])
    assert "the packages hold {'BOOK': 2} where the order is {'BOOK': 3}" in problems


# ------------------------------------------------------------------ properties


PRODUCTS = [item for item, _ in bench.PRODUCTS]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PRODUCTS), min_size=1, max_size=20))
def test_every_suggestion_is_a_valid_packing(order: list[Item]) -> None:
    # Only the ground carrier takes the built-in dangerous goods box.
    hazmat = any(item.hazmat for item in order)
    for rate in DEFAULT_RATES[:1] if hazmat else DEFAULT_RATES:
        found = suggest(order, DEFAULT_BOXES, DEFAULT_MATERIALS, rate)
        assert valid_suggestion(found, order) == []


sides = st.integers(min_value=20, max_value=450)
units = st.builds(
    Item,
    sku=st.sampled_from(["A", "B"]),
    length=sides,
    width=sides,
    height=sides,
    weight=st.integers(min_value=20, max_value=12_000),
    upright=st.booleans(),
    fragile=st.booleans(),
    max_stack_weight=st.sampled_from([None, 500, 3000]),
)


@settings(max_examples=150, deadline=None)
@given(units, units)
def test_two_units_cost_no_more_than_the_exact_optimum(a: Item, b: Item) -> None:
    b = Item(**{**b.__dict__, "sku": "B"})
    a = Item(**{**a.__dict__, "sku": "A"})
    rate = DEFAULT_RATES[0]
    largest = max(DEFAULT_BOXES, key=lambda x: x.inner_volume)
    for unit in (a, b):
        if not any(
            dx <= largest.inner_length and dy <= largest.inner_width and dz <= largest.inner_height
            for dx, dy, dz in unit.orientations()
        ):
            return
    found = suggest([a, b], DEFAULT_BOXES, DEFAULT_MATERIALS, rate)
    assert valid_suggestion(found, [a, b]) == []
    assert found.total_cost <= bench.exact_best([a, b], DEFAULT_BOXES, DEFAULT_MATERIALS, rate)
