"""Cartonization: the boxes an order goes in, where each unit sits in its box, and the
packing materials, at the least total cost of boxes, materials and carriage.

Pure: no store, no I/O. Lengths are millimetres, weights grams, money ``Decimal``.

The rules every suggestion keeps (and :func:`valid` checks on its own):

* each unit lies inside its box's inner space, touching no other (boxes are axis-aligned);
* a unit turns any way, except a *keep upright* one, which only turns about the vertical
  axis (its height stays its height);
* at least 70 % of a unit's base rests on the box floor or on the tops of units below it;
* the weight resting on a unit is at most its ``max_stack_weight``. Resting on it counts
  every unit above whose footprint overlaps its own, and everything above those, whole
  (no share of a load is assumed to go elsewhere). A *fragile* unit without a
  ``max_stack_weight`` carries nothing;
* a box's gross weight (units, tare and materials) is at most its ``max_weight`` and the
  carrier's; a box restricted to some carriers goes with those only;
* hazmat units travel only in boxes approved for dangerous goods, never with units of
  another hazmat class or with non-hazmat units; a unit that ships in its own container is
  a package on its own, in no box.

Cost of a package: the box, the materials (void fill by the litre of space the units leave
empty, bubble wrap per fragile unit, a sealed bag per liquid unit, a divider per fragile
unit beyond the first in a box), and the carrier's charge: a base per package plus a
price per started kilogram of billable weight, the greater of the gross weight and the
dimensional weight (outer volume over the carrier's divisor). A bigger box costs more
carriage even when it weighs the same.

The search: boxes are tried cheapest first (a single box's cost does not depend on where
the units sit, so the first box a packing is found for is the best single box); a packing
is built by placing units at *extreme points* (Crainic, Perboli and Tadei, 2008), lowest
first, in every allowed orientation, for a few unit orders. Several boxes are considered
when no single box holds the order, or when one box could cost more than two: boxes are
then filled greedily, each time the one that carries the most volume per unit of cost,
and the split is kept only when it is cheaper.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
LITRE = 1_000_000
"""Cubic millimetres in a litre."""
SUPPORT_PERCENT = 70
"""The share of a unit's base that must rest on the floor or on units below it."""
MATERIAL_KINDS = ("void_fill", "bubble_wrap", "bag", "divider")
"""void_fill: per litre of empty space; bubble_wrap: per fragile unit; bag: per liquid
unit; divider: per fragile unit beyond the first in a box."""

Spot = tuple[int, int, int, int, int, int]
"""(x, y, z, dx, dy, dz) of a placed unit."""
_Attempt = tuple[list[int], tuple[int, int, int] | None, bool]


class CartonizeError(ValueError):
    """An order that cannot be packed as asked; the message says which unit and why."""


@dataclass(frozen=True)
class Item:
    """One unit of a product (an order line of quantity 3 is three items with its SKU)."""

    sku: str
    length: int
    width: int
    height: int
    """Millimetres; ``height`` is the side that stays vertical when ``upright``."""
    weight: int
    """Grams."""
    upright: bool = False
    """Keep this side up: it only turns about the vertical axis."""
    fragile: bool = False
    """Gets bubble wrap; carries no more than ``max_stack_weight`` (None: nothing)."""
    liquid: bool = False
    """Goes in a sealed bag."""
    own_container: bool = False
    """Ships in its own packaging: a package of its own, no box, no materials."""
    hazmat: str = ""
    """Its dangerous goods class ("" for none)."""
    max_stack_weight: int | None = None
    """Grams that may rest on it; None: no limit, unless it is fragile (then none)."""

    @property
    def stack_limit(self) -> int | None:
        """Grams that may rest on this unit, or None for no limit."""
        if self.max_stack_weight is not None:
            return self.max_stack_weight
        return 0 if self.fragile else None

    @property
    def volume(self) -> int:
        return self.length * self.width * self.height

    @property
    def size(self) -> str:
        return f"{self.length}×{self.width}×{self.height} mm, {self.weight} g"

    def orientations(self) -> tuple[tuple[int, int, int], ...]:
        """The (dx, dy, dz) extents it may be placed with, flattest first."""
        a, b, c = self.length, self.width, self.height
        if self.upright:
            found = [(a, b, c), (b, a, c)]
        else:
            found = [(a, b, c), (b, a, c), (a, c, b), (c, a, b), (b, c, a), (c, b, a)]
        unique = list(dict.fromkeys(found))
        unique.sort(key=lambda r: (r[2], -r[0]))
        return tuple(unique)


@dataclass(frozen=True)
class BoxType:
    """A box (or mailer) in the catalogue."""

    code: str
    name: str
    inner_length: int
    inner_width: int
    inner_height: int
    outer_length: int
    outer_width: int
    outer_height: int
    tare: int
    """Grams, empty."""
    max_weight: int
    """The heaviest it may be when packed (units, tare and materials), grams."""
    cost: Decimal
    carriers: frozenset[str] = frozenset()
    """The carriers it may go with; empty: any."""
    hazmat_ok: bool = False
    """Approved for dangerous goods."""

    @property
    def inner_volume(self) -> int:
        return self.inner_length * self.inner_width * self.inner_height

    @property
    def outer_volume(self) -> int:
        return self.outer_length * self.outer_width * self.outer_height

    @property
    def inner_size(self) -> str:
        return f"{self.inner_length}×{self.inner_width}×{self.inner_height} mm"

    def allows(self, carrier: str) -> bool:
        return not self.carriers or carrier in self.carriers


@dataclass(frozen=True)
class Material:
    """A packing material in the catalogue."""

    code: str
    name: str
    kind: str
    """One of :data:`MATERIAL_KINDS`."""
    unit_cost: Decimal
    """Per litre (void fill) or per unit (the others)."""
    weight_per_unit: int = 0
    """Grams per litre or per unit."""


@dataclass(frozen=True)
class CarrierRate:
    """What a carrier charges for one package."""

    carrier: str
    dim_divisor: int
    """Outer mm³ per gram of dimensional weight: 5,000 cm³/kg is 5000, 139 in³/lb is
    about 5022."""
    base: Decimal
    """Per package."""
    per_kg: Decimal
    """Per started kilogram of billable weight."""
    max_weight: int | None = None
    """The heaviest package it takes, grams; None: no limit here."""

    def billable_kg(self, gross: int, outer: tuple[int, int, int]) -> tuple[int, bool]:
        """Whole kilograms billed, and whether dimensional weight set them."""
        dims = math.ceil(outer[0] * outer[1] * outer[2] / self.dim_divisor)
        grams = max(gross, dims, 1)
        return math.ceil(grams / 1000), dims > gross

    def charge(self, gross: int, outer: tuple[int, int, int]) -> Decimal:
        kg, _ = self.billable_kg(gross, outer)
        return _cents(self.base + self.per_kg * kg)


@dataclass(frozen=True)
class Placement:
    """Where a unit sits: its corner nearest the box's bottom-left-back corner (the origin)
    and its extents once turned, in the box's inner space."""

    sku: str
    x: int
    y: int
    z: int
    dx: int
    dy: int
    dz: int


@dataclass(frozen=True)
class MaterialUse:
    code: str
    name: str
    quantity: int
    """Litres of void fill, or units."""
    cost: Decimal
    reason: str


@dataclass(frozen=True)
class PackedBox:
    """One package: its box (None for a unit in its own container), the units in the order
    to put them in, the materials and what it costs."""

    box: BoxType | None
    placements: tuple[Placement, ...]
    materials: tuple[MaterialUse, ...]
    gross_weight: int
    """Units, tare and materials in grams: what the scale should read."""
    box_cost: Decimal
    materials_cost: Decimal
    carrier_charge: Decimal
    cost: Decimal
    """The three above summed."""
    billable_kg: int
    reason: str
    """One sentence for the packer: why this box."""


@dataclass(frozen=True)
class Suggestion:
    boxes: tuple[PackedBox, ...]
    total_cost: Decimal
    carrier: str


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _money(value: Decimal) -> str:
    return f"{_cents(value)}"


# ------------------------------------------------------------------ costs


def cheapest_materials(materials: Sequence[Material]) -> dict[str, Material]:
    """The material used for each kind: the cheapest (then the first code)."""
    chosen: dict[str, Material] = {}
    for material in sorted(materials, key=lambda m: (m.unit_cost, m.code)):
        chosen.setdefault(material.kind, material)
    return chosen


def material_uses(
    box: BoxType, items: Sequence[Item], chosen: dict[str, Material]
) -> tuple[MaterialUse, ...]:
    """The materials a box of these units takes (a kind missing from the catalogue is
    left out)."""
    uses: list[MaterialUse] = []
    empty = box.inner_volume - sum(item.volume for item in items)
    fragile = sum(1 for item in items if item.fragile)
    liquid = sum(1 for item in items if item.liquid)
    wanted = (
        ("void_fill", math.ceil(max(empty, 0) / LITRE), "to fill the empty space"),
        ("bubble_wrap", fragile, "one per fragile unit"),
        ("bag", liquid, "a sealed bag per liquid unit"),
        ("divider", max(fragile - 1, 0), "between fragile units"),
    )
    for kind, quantity, reason in wanted:
        material = chosen.get(kind)
        if material is None or quantity <= 0:
            continue
        uses.append(
            MaterialUse(
                material.code,
                material.name,
                quantity,
                _cents(material.unit_cost * quantity),
                reason,
            )
        )
    return tuple(uses)


def _material_weight(uses: Sequence[MaterialUse], chosen: dict[str, Material]) -> int:
    by_code = {m.code: m for m in chosen.values()}
    return sum(by_code[use.code].weight_per_unit * use.quantity for use in uses)


def package(
    box: BoxType | None,
    items: Sequence[Item],
    placements: Sequence[Placement],
    materials: Sequence[Material] | dict[str, Material],
    rate: CarrierRate,
    reason: str = "",
) -> PackedBox:
    """A package of ``items`` in ``box`` placed as given, with its materials, weight and
    cost: the one way every package's cost is counted."""
    chosen = materials if isinstance(materials, dict) else cheapest_materials(materials)
    weight = sum(item.weight for item in items)
    if box is None:
        (only,) = items
        outer = (only.length, only.width, only.height)
        uses: tuple[MaterialUse, ...] = ()
        gross, box_cost = weight, Decimal("0.00")
    else:
        outer = (box.outer_length, box.outer_width, box.outer_height)
        uses = material_uses(box, items, chosen)
        gross = weight + box.tare + _material_weight(uses, chosen)
        box_cost = _cents(box.cost)
    materials_cost = sum((use.cost for use in uses), Decimal("0.00"))
    charge = rate.charge(gross, outer)
    kg, _ = rate.billable_kg(gross, outer)
    return PackedBox(
        box=box,
        placements=tuple(placements),
        materials=uses,
        gross_weight=gross,
        box_cost=box_cost,
        materials_cost=materials_cost,
        carrier_charge=charge,
        cost=box_cost + materials_cost + charge,
        billable_kg=kg,
        reason=reason,
    )


# ------------------------------------------------------------------ one box


@dataclass(frozen=True)
class _Unit:
    item: Item
    rots: tuple[tuple[int, int, int], ...]
    kind: int
    """Units of one kind are interchangeable (same SKU and attributes)."""


def _fits_alone(unit: _Unit, box: BoxType) -> bool:
    return any(
        dx <= box.inner_length and dy <= box.inner_width and dz <= box.inner_height
        for dx, dy, dz in unit.rots
    )


def _place(
    box: BoxType,
    units: Sequence[_Unit],
    order: Sequence[int],
    first: tuple[int, int, int] | None = None,
    skip: bool = False,
    weight_room: int | None = None,
    across: bool = False,
) -> list[tuple[int, Spot]] | None:
    """Place ``units`` (by index, in ``order``) at extreme points; the spots in loading
    order, or None when one does not fit (with ``skip``, those that do not fit are left
    out, as are those that would take the units' weight past ``weight_room``). Rows run
    along the box's length, or with ``across`` along its width."""
    if across:
        turned = box.inner_width, box.inner_length, box.inner_height
        spots = _place_in(turned, units, order, first, skip, weight_room)
        if spots is None:
            return None
        return [(i, (y, x, z, dy, dx, dz)) for i, (x, y, z, dx, dy, dz) in spots]
    size = box.inner_length, box.inner_width, box.inner_height
    return _place_in(size, units, order, first, skip, weight_room)


def _place_in(
    size: tuple[int, int, int],
    units: Sequence[_Unit],
    order: Sequence[int],
    first: tuple[int, int, int] | None,
    skip: bool,
    weight_room: int | None,
) -> list[tuple[int, Spot]] | None:
    length, width, height = size
    placed: list[Spot] = []
    tops: list[tuple[int, int, int, int, int, int]] = []  # x, y, z, X, Y, Z
    room: list[int | None] = []
    under: list[frozenset[int]] = []
    track = any(units[i].item.stack_limit is not None for i in order)
    points: list[tuple[int, int, int]] = [(0, 0, 0)]
    out: list[tuple[int, Spot]] = []
    carried = 0
    for n, index in enumerate(order):
        unit = units[index]
        weight = unit.item.weight
        if weight_room is not None and carried + weight > weight_room:
            continue
        rots = (first,) if (n == 0 and first is not None) else unit.rots
        found: Spot | None = None
        found_under: frozenset[int] = frozenset()
        for px, py, pz in points:
            for dx, dy, dz in rots:
                x2, y2, z2 = px + dx, py + dy, pz + dz
                if x2 > length or y2 > width or z2 > height:
                    continue
                ok = True
                support = 0
                below: list[int] = []
                for k, (ax, ay, _az, ax2, ay2, az2) in enumerate(tops):
                    if px < ax2 and ax < x2 and py < ay2 and ay < y2:
                        if az2 > pz:  # overlaps it, or would sit under it
                            ok = False
                            break
                        if track:
                            below.append(k)
                        if az2 == pz:
                            support += (min(x2, ax2) - max(px, ax)) * (min(y2, ay2) - max(py, ay))
                if not ok:
                    continue
                if pz and support * 100 < SUPPORT_PERCENT * dx * dy:
                    continue
                beneath: frozenset[int] = frozenset()
                if below:
                    beneath = frozenset(below).union(*(under[k] for k in below))
                    if any((r := room[k]) is not None and r < weight for k in beneath):
                        continue
                found, found_under = (px, py, pz, dx, dy, dz), beneath
                break
            if found is not None:
                break
        if found is None:
            if skip:
                continue
            return None
        px, py, pz, dx, dy, dz = found
        x2, y2, z2 = px + dx, py + dy, pz + dz
        for k in found_under:
            r = room[k]
            if r is not None:
                room[k] = r - weight
        placed.append(found)
        tops.append((px, py, pz, x2, y2, z2))
        room.append(unit.item.stack_limit)
        under.append(found_under)
        out.append((index, found))
        carried += weight
        points = _new_points(points, tops, length, width, height)
    return out


def _new_points(
    points: list[tuple[int, int, int]],
    tops: list[tuple[int, int, int, int, int, int]],
    length: int,
    width: int,
    height: int,
) -> list[tuple[int, int, int]]:
    """The extreme points once the last unit in ``tops`` is placed, lowest first."""
    px, py, pz, x2, y2, z2 = tops[-1]

    def down(x: int, y: int, z: int) -> int:
        best = 0
        for ax, ay, _az, ax2, ay2, az2 in tops:
            if ax <= x < ax2 and ay <= y < ay2 and best < az2 <= z:
                best = az2
        return best

    def back(x: int, y: int, z: int) -> int:
        best = 0
        for ax, _ay, az, ax2, ay2, az2 in tops:
            if ax <= x < ax2 and az <= z < az2 and best < ay2 <= y:
                best = ay2
        return best

    def left(x: int, y: int, z: int) -> int:
        best = 0
        for _ax, ay, az, ax2, ay2, az2 in tops:
            if ay <= y < ay2 and az <= z < az2 and best < ax2 <= x:
                best = ax2
        return best

    fresh = [
        (x2, back(x2, py, pz), pz),
        (x2, py, down(x2, py, pz)),
        (left(px, y2, pz), y2, pz),
        (px, y2, down(px, y2, pz)),
        (left(px, py, z2), py, z2),
        (px, back(px, py, z2), z2),
    ]
    # The points kept so far lie in no earlier unit: only the new one may cover them.
    result = [
        (x, y, z) for x, y, z in points if not (px <= x < x2 and py <= y < y2 and pz <= z < z2)
    ]
    known = set(result)
    for point in fresh:
        x, y, z = point
        if point in known or x >= length or y >= width or z >= height:
            continue
        if any(
            ax <= x < ax2 and ay <= y < ay2 and az <= z < az2 for ax, ay, az, ax2, ay2, az2 in tops
        ):
            continue
        known.add(point)
        result.append(point)
    result.sort(key=lambda p: (p[2], p[1], p[0]))
    return result


def _orders(units: Sequence[_Unit], chosen: Sequence[int]) -> list[list[int]]:
    """The unit orders tried: biggest first, longest first, widest base first, and those
    that may carry least last; duplicates (as kinds) dropped."""

    def longest(i: int) -> int:
        item = units[i].item
        return max(item.length, item.width, item.height)

    def base(i: int) -> int:
        return sorted_dims_product(units[i].item)

    keys = [
        lambda i: (-units[i].item.volume, -longest(i), units[i].kind, i),
        lambda i: (-longest(i), -units[i].item.volume, units[i].kind, i),
        lambda i: (-base(i), -units[i].item.volume, units[i].kind, i),
        lambda i: (
            units[i].item.stack_limit is not None,
            -(units[i].item.stack_limit or 0),
            -units[i].item.volume,
            units[i].kind,
            i,
        ),
    ]
    seen: set[tuple[int, ...]] = set()
    found: list[list[int]] = []
    for key in keys:
        order = sorted(chosen, key=key)
        signature = tuple(units[i].kind for i in order)
        if signature not in seen:
            seen.add(signature)
            found.append(order)
    return found


def sorted_dims_product(item: Item) -> int:
    """The area of the unit's largest face."""
    _, b, c = sorted((item.length, item.width, item.height))
    return b * c


SHUFFLES = 8
"""Seeded random unit orders tried after the reasoned ones, when those find no packing
(on the benchmark's mixed orders they find a cheaper box for one order in twenty)."""


def _attempts(units: Sequence[_Unit], chosen: Sequence[int]) -> Iterator[_Attempt]:
    """The ways one box is tried, until one packs: (unit order, how the first unit lies
    or None for any way, rows across the box)."""
    orders = _orders(units, chosen)
    if len(chosen) == 2:
        a, b = chosen
        orders = [[a, b], [b, a]] if units[a].kind != units[b].kind else [[a, b]]
    for order in orders:
        yield order, None, False
        yield order, None, True
    if len(chosen) <= 4:
        # Small orders: every way the first unit may lie, which makes two units exact.
        for order in orders:
            for rot in units[order[0]].rots[1:]:
                yield order, rot, False
    if len(chosen) > 2:
        shuffler = random.Random(len(chosen))
        for _ in range(SHUFFLES):
            order = list(chosen)
            shuffler.shuffle(order)
            yield order, None, False
            yield order, None, True


# ------------------------------------------------------------------ the search


@dataclass
class _Plan:
    box: BoxType | None
    spots: list[tuple[int, Spot]]
    cost: Decimal
    packed: PackedBox


class _Search:
    """One order's search, with what it has learnt cached."""

    def __init__(
        self,
        units: Sequence[_Unit],
        boxes: Sequence[BoxType],
        chosen: dict[str, Material],
        rate: CarrierRate,
    ) -> None:
        self.units = units
        self.boxes = boxes
        self.chosen = chosen
        self.rate = rate
        self.singles: dict[tuple[int, ...], _Plan | None] = {}

    def cost_in(self, box: BoxType, members: Sequence[int]) -> PackedBox | None:
        """The package of ``members`` in ``box`` (placements left empty), or None when
        the box may not take them for their weight or rules."""
        items = [self.units[i].item for i in members]
        if sum(item.volume for item in items) > box.inner_volume:
            return None
        if any(item.hazmat for item in items) and not box.hazmat_ok:
            return None
        packed = package(box, items, (), self.chosen, self.rate)
        if packed.gross_weight > box.max_weight:
            return None
        if self.rate.max_weight is not None and packed.gross_weight > self.rate.max_weight:
            return None
        return packed

    def single(self, members: Sequence[int]) -> _Plan | None:
        """The cheapest one box holding all ``members``, packed; None if none is found."""
        key = tuple(sorted(members))
        if key in self.singles:
            return self.singles[key]
        priced: list[tuple[Decimal, int, BoxType, PackedBox]] = []
        for n, box in enumerate(self.boxes):
            if not all(_fits_alone(self.units[i], box) for i in key):
                continue
            packed = self.cost_in(box, key)
            if packed is not None:
                priced.append((packed.cost, n, box, packed))
        priced.sort(key=lambda p: (p[0], p[1]))
        found: _Plan | None = None
        for cost, _, box, packed in priced:
            for order, first, across in _attempts(self.units, key):
                spots = _place(box, self.units, order, first, across=across)
                if spots is not None:
                    found = _Plan(box, spots, cost, packed)
                    break
            if found is not None:
                break
        self.singles[key] = found
        return found

    def lower_bound(self, members: Sequence[int], packages: int) -> Decimal:
        """No way of sending ``members`` in ``packages`` boxes costs less than this."""
        cheapest_box = min((b.cost for b in self.boxes), default=Decimal(0))
        weight = sum(self.units[i].item.weight for i in members)
        kg = max(packages, math.ceil(weight / 1000))
        fixed = Decimal(0)
        for kind in ("bubble_wrap", "bag"):
            material = self.chosen.get(kind)
            if material is not None:
                flag = "fragile" if kind == "bubble_wrap" else "liquid"
                count = sum(1 for i in members if getattr(self.units[i].item, flag))
                fixed += material.unit_cost * count
        return packages * (self.rate.base + cheapest_box) + self.rate.per_kg * kg + fixed

    def fill(self, box: BoxType, members: Sequence[int]) -> list[int]:
        """The members that go in one ``box`` filled greedily, biggest first."""
        order = sorted(members, key=lambda i: (-self.units[i].item.volume, self.units[i].kind, i))
        order = [i for i in order if _fits_alone(self.units[i], box)]
        if any(self.units[i].item.hazmat for i in order) and not box.hazmat_ok:
            return []
        limit = box.max_weight - box.tare
        if self.rate.max_weight is not None:
            limit = min(limit, self.rate.max_weight - box.tare)
        spots = _place(box, self.units, order, skip=True, weight_room=limit)
        taken = [i for i, _ in spots or []]
        # Materials weigh too: give back the smallest units until the package may go.
        while taken and self.cost_in(box, taken) is None:
            taken.pop()
        return taken

    def split(self, members: Sequence[int]) -> list[_Plan] | None:
        """Boxes filled one after another, each time the one that carries most volume per
        unit of cost, closing with the best single box for what is left when that is
        cheaper than going on."""
        remaining = list(members)
        done: list[_Plan] = []
        spent = Decimal(0)
        best: list[_Plan] | None = None
        best_cost: Decimal | None = None
        while remaining:
            close = self.single(remaining)
            if close is not None and (best_cost is None or spent + close.cost < best_cost):
                best, best_cost = [*done, close], spent + close.cost
            if len(remaining) < 2:
                break
            if best_cost is not None and spent + self.lower_bound(remaining, 2) >= best_cost:
                break
            step = self._best_fill(remaining)
            if step is None:
                if best is None:  # each unit fits a box alone
                    alone = [self.single([i]) for i in remaining]
                    best = [*done, *(plan for plan in alone if plan is not None)]
                break
            done.append(step)
            spent += step.cost
            taken = {i for i, _ in step.spots}
            remaining = [i for i in remaining if i not in taken]
        return self.merged(best) if best is not None else None

    def merged(self, plans: list[_Plan]) -> list[_Plan]:
        """``plans`` with any two boxes that are cheaper as one box made one, while any are."""
        plans = list(plans)
        while len(plans) > 1:
            best: tuple[Decimal, int, int, _Plan] | None = None
            for a in range(len(plans)):
                for b in range(a + 1, len(plans)):
                    both = [i for i, _ in plans[a].spots] + [i for i, _ in plans[b].spots]
                    saving = plans[a].cost + plans[b].cost
                    if self.lower_bound(both, 1) >= saving:
                        continue
                    one = self.single(both)
                    if one is not None and one.cost < saving:
                        gain = saving - one.cost
                        if best is None or gain > best[0]:
                            best = (gain, a, b, one)
            if best is None:
                break
            _, a, b, one = best
            plans = [p for n, p in enumerate(plans) if n not in (a, b)] + [one]
        return plans

    def _best_fill(self, remaining: Sequence[int]) -> _Plan | None:
        volume = sum(self.units[i].item.volume for i in remaining)
        ranked: list[tuple[Decimal, int, BoxType]] = []
        for n, box in enumerate(self.boxes):
            if not any(_fits_alone(self.units[i], box) for i in remaining):
                continue
            carried = min(box.inner_volume, volume)
            outer = (box.outer_length, box.outer_width, box.outer_height)
            estimate = box.cost + self.rate.charge(0, outer)
            ranked.append((estimate / carried, n, box))
        ranked.sort(key=lambda r: (r[0], r[1]))
        best: _Plan | None = None
        best_ratio: Decimal | None = None
        for _, _, box in ranked[:FILL_CANDIDATES]:
            taken = self.fill(box, remaining)
            if not taken or len(taken) == len(remaining):
                continue
            plan = self.single(taken)
            if plan is None:
                continue
            ratio = plan.cost / sum(self.units[i].item.volume for i in taken)
            if best_ratio is None or ratio < best_ratio:
                best, best_ratio = plan, ratio
        return best


FILL_CANDIDATES = 5
"""Boxes filled and compared at each step of a split (those promising the cheapest
carriage per litre)."""


def suggest(
    items: Sequence[Item],
    boxes: Sequence[BoxType],
    materials: Sequence[Material],
    rate: CarrierRate,
) -> Suggestion:
    """The cheapest packing found for ``items`` shipped with ``rate``'s carrier."""
    if not items:
        raise CartonizeError("the order has no items to pack")
    _check_items(items)
    chosen = cheapest_materials(materials)
    allowed = [box for box in boxes if box.allows(rate.carrier)]
    kinds: dict[Item, int] = {}
    units = [_Unit(item, item.orientations(), kinds.setdefault(item, len(kinds))) for item in items]
    search = _Search(units, allowed, chosen, rate)
    plans: list[tuple[_Plan, str]] = []
    groups: dict[str, list[int]] = {}
    for index, unit in enumerate(units):
        item = unit.item
        if item.own_container:
            if rate.max_weight is not None and item.weight > rate.max_weight:
                raise CartonizeError(
                    f"{item.sku} ({item.size}) ships in its own container but is heavier "
                    f"than {rate.carrier} takes ({rate.max_weight} g)"
                )
            own = package(None, [item], [], chosen, rate)
            spot = (0, 0, 0, item.length, item.width, item.height)
            plans.append(
                (
                    _Plan(None, [(index, spot)], own.cost, own),
                    f"{item.sku} ships in its own packaging: label it as it is, no box.",
                )
            )
            continue
        groups.setdefault(item.hazmat, []).append(index)
    for hazmat, members in sorted(groups.items()):
        for index in members:
            if search.single([index]) is None:
                raise _no_box(units[index].item, allowed, boxes, rate)
        plans.extend(_solve_group(search, members, hazmat))
    built = []
    for plan, reason in plans:
        items_in = [units[i].item for i, _ in plan.spots]
        placements = [Placement(units[i].item.sku, *spot) for i, spot in plan.spots]
        built.append(package(plan.box, items_in, placements, chosen, rate, reason))
    return Suggestion(
        boxes=tuple(built),
        total_cost=sum((b.cost for b in built), Decimal("0.00")),
        carrier=rate.carrier,
    )


def _solve_group(search: _Search, members: list[int], hazmat: str) -> list[tuple[_Plan, str]]:
    single = search.single(members)
    split: list[_Plan] | None = None
    if len(members) == 2:  # two units: apart is the only split, and it is cheap to price
        alone = [search.single([i]) for i in members]
        split = [plan for plan in alone if plan is not None]
    elif len(members) > 1 and (single is None or search.lower_bound(members, 2) < single.cost):
        split = search.split(members)
    apart = f"hazmat class {hazmat} travels apart from other goods" if hazmat else ""
    if (
        split is not None
        and len(split) > 1
        and (single is None or sum(p.cost for p in split) < single.cost)
    ):
        total = sum((p.cost for p in split), Decimal(0))
        if single is None:
            why = f"no single box holds all {len(members)} units"
        else:
            why = (
                f"{len(split)} boxes cost {_money(total)} against {_money(single.cost)} "
                f"for everything in one {single.box.name if single.box else 'box'}"
            )
        return [
            (
                plan,
                _sentence(f"Box {n} of {len(split)} ({_box_words(plan)}): {why}", apart),
            )
            for n, plan in enumerate(split, 1)
        ]
    assert single is not None  # every unit fits a box alone, so a split always exists
    units = len(members)
    kg = single.packed.billable_kg
    dim = search.rate.billable_kg(single.packed.gross_weight, _outer(single.box))[1]
    billed = f"billed as {kg} kg" + (" of dimensional weight" if dim else "")
    held = "holds the unit" if units == 1 else f"holds all {units} units"
    return [
        (
            single,
            _sentence(
                f"{_box_words(single)} is the cheapest box that {held}: "
                f"{_money(single.cost)} with carriage {billed}",
                apart,
            ),
        )
    ]


def _outer(box: BoxType | None) -> tuple[int, int, int]:
    assert box is not None
    return box.outer_length, box.outer_width, box.outer_height


def _box_words(plan: _Plan) -> str:
    box = plan.box
    assert box is not None
    return f"{box.code} ({box.name}, {box.inner_size} inside)"


def _sentence(text: str, extra: str) -> str:
    return f"{text}; {extra}." if extra else f"{text}."


def _check_items(items: Sequence[Item]) -> None:
    seen: dict[str, Item] = {}
    for item in items:
        if min(item.length, item.width, item.height) <= 0:
            raise CartonizeError(f"{item.sku} has a side of no length ({item.size})")
        if item.weight < 0:
            raise CartonizeError(f"{item.sku} weighs less than nothing ({item.size})")
        other = seen.setdefault(item.sku, item)
        if other != item:
            raise CartonizeError(
                f"{item.sku} is given twice with different sizes or rules; one SKU is one product"
            )


def _no_box(
    item: Item, allowed: Sequence[BoxType], boxes: Sequence[BoxType], rate: CarrierRate
) -> CartonizeError:
    if not boxes:
        return CartonizeError("the catalogue has no boxes")
    if not allowed:
        return CartonizeError(f"no box in the catalogue may go with {rate.carrier}")
    if item.hazmat and not any(box.hazmat_ok for box in allowed):
        return CartonizeError(
            f"{item.sku} is hazmat class {item.hazmat}, and no box that may go with "
            f"{rate.carrier} is approved for dangerous goods"
        )
    largest = max(allowed, key=lambda b: (b.inner_volume, b.code))
    if rate.max_weight is not None and item.weight > rate.max_weight:
        return CartonizeError(
            f"{item.sku} ({item.size}) is heavier than {rate.carrier} takes ({rate.max_weight} g)"
        )
    upright = ", kept upright," if item.upright else ""
    return CartonizeError(
        f"{item.sku} ({item.size}){upright} fits no box that may go with {rate.carrier}: "
        f"the largest is {largest.code} ({largest.inner_size} inside, up to "
        f"{largest.max_weight} g packed)"
    )


# ------------------------------------------------------------------ the checker


def valid(packed: PackedBox, items: Sequence[Item], carrier: str | None = None) -> list[str]:
    """What is wrong with ``packed`` as a package of exactly ``items`` (empty: nothing),
    checked from the placements alone, independently of how they were found."""
    problems: list[str] = []
    specs = {item.sku: item for item in items}
    wanted = Counter(item.sku for item in items)
    shown = Counter(p.sku for p in packed.placements)
    if wanted != shown:
        problems.append(f"holds {dict(shown)} where the units are {dict(wanted)}")
    box = packed.box
    if box is None:
        if len(packed.placements) != 1 or len(items) != 1 or not items[0].own_container:
            problems.append("only a unit in its own container ships without a box")
        else:
            p, item = packed.placements[0], items[0]
            if (p.x, p.y, p.z) != (0, 0, 0) or sorted((p.dx, p.dy, p.dz)) != sorted(
                (item.length, item.width, item.height)
            ):
                problems.append(f"{p.sku} in its own container is not placed as it is")
        return problems
    if carrier is not None and not box.allows(carrier):
        problems.append(f"{box.code} may not go with {carrier}")
    for item in items:
        if item.own_container:
            problems.append(f"{item.sku} ships in its own container, not in {box.code}")
    classes = {item.hazmat for item in items}
    if len(classes) > 1:
        shown_classes = ", ".join(sorted(c or "none" for c in classes))
        problems.append(f"hazmat classes mixed in one box: {shown_classes}")
    if any(classes) and not box.hazmat_ok:
        problems.append(f"{box.code} is not approved for dangerous goods")
    spots = list(packed.placements)
    for p in spots:
        spec = specs.get(p.sku)
        if spec is None:
            continue
        if (p.dx, p.dy, p.dz) not in spec.orientations():
            how = "kept upright" if spec.upright else "turned"
            problems.append(f"{p.sku} is {p.dx}×{p.dy}×{p.dz}, not {spec.size} {how}")
        if min(p.x, p.y, p.z) < 0 or (
            p.x + p.dx > box.inner_length
            or p.y + p.dy > box.inner_width
            or p.z + p.dz > box.inner_height
        ):
            problems.append(f"{p.sku} at ({p.x}, {p.y}, {p.z}) sticks out of {box.code}")
    for n, a in enumerate(spots):
        for b in spots[n + 1 :]:
            if _footprints_meet(a, b) and a.z < b.z + b.dz and b.z < a.z + a.dz:
                problems.append(
                    f"{a.sku} at ({a.x}, {a.y}, {a.z}) and {b.sku} at ({b.x}, {b.y}, {b.z}) overlap"
                )
    for a in spots:
        if a.z == 0:
            continue
        support = sum(_shared_area(a, b) for b in spots if b is not a and b.z + b.dz == a.z)
        if support * 100 < SUPPORT_PERCENT * a.dx * a.dy:
            problems.append(
                f"{a.sku} at ({a.x}, {a.y}, {a.z}) rests on {support * 100 // (a.dx * a.dy)} % "
                f"of its base, less than {SUPPORT_PERCENT} %"
            )
    for n, a in enumerate(spots):
        spec = specs.get(a.sku)
        limit = spec.stack_limit if spec else None
        if limit is None:
            continue
        load = sum(specs[spots[k].sku].weight for k in _above(spots, n) if spots[k].sku in specs)
        if load > limit:
            problems.append(f"{a.sku} carries {load} g, more than its {limit} g")
    weight = sum(specs[p.sku].weight for p in spots if p.sku in specs)
    if packed.gross_weight < weight + box.tare:
        problems.append(
            f"gross weight {packed.gross_weight} g is less than the units and the box "
            f"({weight + box.tare} g)"
        )
    if packed.gross_weight > box.max_weight:
        problems.append(
            f"{box.code} weighs {packed.gross_weight} g packed, more than its {box.max_weight} g"
        )
    if packed.cost != packed.box_cost + packed.materials_cost + packed.carrier_charge:
        problems.append("the cost is not the box, the materials and the carriage summed")
    return problems


def valid_suggestion(suggestion: Suggestion, items: Sequence[Item]) -> list[str]:
    """What is wrong with a whole suggestion for ``items``: every unit in exactly one
    package, and every package valid."""
    problems: list[str] = []
    specs = {item.sku: item for item in items}
    wanted = Counter(item.sku for item in items)
    shown: Counter[str] = Counter()
    for n, packed in enumerate(suggestion.boxes, 1):
        shown.update(p.sku for p in packed.placements)
        inside = [specs[p.sku] for p in packed.placements if p.sku in specs]
        problems.extend(
            f"package {n}: {text}" for text in valid(packed, inside, suggestion.carrier)
        )
    if shown != wanted:
        problems.append(f"the packages hold {dict(shown)} where the order is {dict(wanted)}")
    total = sum((b.cost for b in suggestion.boxes), Decimal("0.00"))
    if total != suggestion.total_cost:
        problems.append(f"total cost {suggestion.total_cost} is not the packages' {total}")
    return problems


def _footprints_meet(a: Placement, b: Placement) -> bool:
    return a.x < b.x + b.dx and b.x < a.x + a.dx and a.y < b.y + b.dy and b.y < a.y + a.dy


def _shared_area(a: Placement, b: Placement) -> int:
    if not _footprints_meet(a, b):
        return 0
    wide = min(a.x + a.dx, b.x + b.dx) - max(a.x, b.x)
    deep = min(a.y + a.dy, b.y + b.dy) - max(a.y, b.y)
    return wide * deep


def _above(spots: Sequence[Placement], n: int) -> set[int]:
    """Every unit resting on unit ``n``, directly or through others."""
    found: set[int] = set()
    frontier = [n]
    while frontier:
        k = frontier.pop()
        low = spots[k]
        for m, high in enumerate(spots):
            if (
                m not in found
                and m != n
                and high.z >= low.z + low.dz
                and _footprints_meet(low, high)
            ):
                found.add(m)
                frontier.append(m)
    return found
