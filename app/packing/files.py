"""The order and catalogue files `shipfloor pack suggest` reads: JSON, checked field by
field, each error naming the file, the entry, the field and what is expected.

Items file (millimetres and grams)::

    [{"sku": "MUG-01", "length": 125, "width": 95, "height": 105, "weight": 380,
      "quantity": 2, "upright": true, "fragile": true, "max_stack_weight": 2000}, ...]

Catalogue file::

    {"boxes": [{"code": "BOX-S", "name": "Box S",
                "inner_length": 250, "inner_width": 200, "inner_height": 150,
                "outer_length": 256, "outer_width": 206, "outer_height": 158,
                "tare": 180, "max_weight": 10000, "cost": "0.45",
                "carriers": [], "hazmat_ok": false}, ...],
     "materials": [{"code": "VOID-AIR", "name": "Air pillows", "kind": "void_fill",
                    "unit_cost": "0.015", "weight_per_unit": 2}, ...],
     "carriers": [{"carrier": "GROUND", "dim_divisor": 5000, "base": "4.20",
                   "per_kg": "0.85", "max_weight": 31500}, ...]}

``materials`` and ``carriers`` may be left out: the built-in ones are used. Money is a
number or a string of one (``"0.45"``), read exactly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

from app.packing.cartonize import MATERIAL_KINDS, BoxType, CarrierRate, Item, Material
from app.packing.catalogue import DEFAULT_BOXES, DEFAULT_MATERIALS, DEFAULT_RATES

MAX_UNITS = 200
"""The most units one order file may hold (a packing is searched for in milliseconds up
to a few dozen units; past a few hundred it is no longer a parcel order)."""

T = TypeVar("T")


class PackFileError(ValueError):
    """A file that cannot be used; the message names the file, the entry and the field."""


@dataclass(frozen=True)
class Catalogue:
    boxes: tuple[BoxType, ...]
    materials: tuple[Material, ...]
    rates: tuple[CarrierRate, ...]

    def rate(self, carrier: str | None) -> CarrierRate:
        """The carrier's rate; None: the first in the catalogue."""
        if carrier is None:
            return self.rates[0]
        for rate in self.rates:
            if rate.carrier == carrier:
                return rate
        known = ", ".join(r.carrier for r in self.rates)
        raise PackFileError(f"carrier {carrier!r} is not in the catalogue (carriers: {known})")


DEFAULT_CATALOGUE = Catalogue(DEFAULT_BOXES, DEFAULT_MATERIALS, DEFAULT_RATES)


# ------------------------------------------------------------------ reading


def _load(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PackFileError(f"cannot read {path}: there is no such file") from None
    except IsADirectoryError:
        raise PackFileError(f"cannot read {path}: it is a folder, not a file") from None
    except UnicodeDecodeError:
        raise PackFileError(f"cannot read {path}: it is not UTF-8 text") from None
    except OSError as exc:
        raise PackFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise PackFileError(
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None


def read_items(path: Path) -> list[Item]:
    """An order's units, one :class:`Item` per unit (an entry of quantity 3 gives three)."""
    return parse_items(_load(path), str(path))


def read_catalogue(path: Path) -> Catalogue:
    return parse_catalogue(_load(path), str(path))


# ------------------------------------------------------------------ fields


class _Entry:
    """One JSON object of a file, read field by field."""

    def __init__(self, where: str, name: str, data: object, fields: Sequence[str]) -> None:
        self.where = where
        self.name = name
        if not isinstance(data, dict):
            self.fail(f"expected an object {{...}}, got {_shown(data)}")
        self.data: dict[str, Any] = data  # type: ignore[assignment]
        unknown = sorted(set(self.data) - set(fields))
        if unknown:
            self.fail(
                f"unknown field {unknown[0]!r}; the fields are {', '.join(fields)}",
            )

    def fail(self, message: str, field: str | None = None) -> None:
        what = f"{self.name}, {field}" if field else self.name
        raise PackFileError(f"{self.where}: {what}: {message}")

    def get(
        self, field: str, read: Callable[[object], T | None], expected: str, default: Any = ...
    ) -> T:
        if field not in self.data:
            if default is ...:
                self.fail(f"missing; expected {expected}", field)
            return default  # type: ignore[no-any-return]
        value = self.data[field]
        found = read(value)
        if found is None:
            self.fail(f"expected {expected}, got {_shown(value)}", field)
        return found  # type: ignore[return-value]


def _shown(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(str(value)) if isinstance(value, str) else str(value)


def _whole(least: int) -> Callable[[object], int | None]:
    def read(value: object) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            return None
        return value

    return read


def _text(value: object) -> str | None:
    if isinstance(value, str) and value.strip() == value and value:
        return value
    return None


def _any_text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) else None


def _flag(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _money(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        return None
    try:
        # A float's shortest text is the number as written (the files are read with
        # Decimal for them anyway).
        amount = Decimal(str(value) if isinstance(value, float) else value)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0:
        return None
    return amount


def _optional_whole(least: int) -> Callable[[object], int | None]:
    whole = _whole(least)

    def read(value: object) -> int | None:
        # None is a value here ("no limit"): returned as -1 and turned back by the caller.
        return -1 if value is None else whole(value)

    return read


def _codes(value: object) -> frozenset[str] | None:
    if not isinstance(value, list) or not all(_text(v) for v in value):
        return None
    return frozenset(value)


MM = "a whole number of millimetres above 0"


# ------------------------------------------------------------------ items


ITEM_FIELDS = (
    "sku",
    "length",
    "width",
    "height",
    "weight",
    "quantity",
    "upright",
    "fragile",
    "liquid",
    "own_container",
    "hazmat",
    "max_stack_weight",
)


def parse_items(data: object, where: str) -> list[Item]:
    if not isinstance(data, list):
        raise PackFileError(f"{where}: expected a list of items [{{...}}, ...], got {_shown(data)}")
    if not data:
        raise PackFileError(f"{where}: the list of items is empty; give at least one")
    units: list[Item] = []
    first_seen: dict[str, tuple[int, Item]] = {}
    for n, raw in enumerate(data, 1):
        sku = raw.get("sku") if isinstance(raw, dict) else None
        name = f"item {n} ({sku})" if isinstance(sku, str) and sku else f"item {n}"
        entry = _Entry(where, name, raw, ITEM_FIELDS)
        limit = entry.get(
            "max_stack_weight",
            _optional_whole(0),
            "grams (0 or more) that may rest on it, or null for no limit",
            -1,
        )
        item = Item(
            sku=entry.get("sku", _text, "the product's SKU as text"),
            length=entry.get("length", _whole(1), MM),
            width=entry.get("width", _whole(1), MM),
            height=entry.get("height", _whole(1), MM),
            weight=entry.get("weight", _whole(0), "a whole number of grams, 0 or more"),
            upright=entry.get("upright", _flag, "true or false", False),
            fragile=entry.get("fragile", _flag, "true or false", False),
            liquid=entry.get("liquid", _flag, "true or false", False),
            own_container=entry.get("own_container", _flag, "true or false", False),
            hazmat=entry.get("hazmat", _any_text, 'the hazmat class as text ("" for none)', ""),
            max_stack_weight=None if limit == -1 else limit,
        )
        quantity = entry.get("quantity", _whole(1), "a whole number of units, 1 or more", 1)
        earlier = first_seen.setdefault(item.sku, (n, item))
        if earlier[1] != item:
            entry.fail(
                f"differs from item {earlier[0]}, which has the same SKU; give one product "
                "once, with its quantity",
                "sku",
            )
        if len(units) + quantity > MAX_UNITS:
            entry.fail(
                f"takes the order past {MAX_UNITS} units; split it into several orders",
                "quantity",
            )
        units.extend([item] * quantity)
    return units


# ------------------------------------------------------------------ catalogue


BOX_FIELDS = (
    "code",
    "name",
    "inner_length",
    "inner_width",
    "inner_height",
    "outer_length",
    "outer_width",
    "outer_height",
    "tare",
    "max_weight",
    "cost",
    "carriers",
    "hazmat_ok",
)
MATERIAL_FIELDS = ("code", "name", "kind", "unit_cost", "weight_per_unit")
RATE_FIELDS = ("carrier", "dim_divisor", "base", "per_kg", "max_weight")
MONEY = 'an amount of money, 0 or more (a number or a string such as "0.45")'


def parse_catalogue(data: object, where: str) -> Catalogue:
    top = _Entry(where, "the catalogue", data, ("boxes", "materials", "carriers"))
    raw_boxes = top.get("boxes", _list, "a list of boxes [{...}, ...]")
    if not raw_boxes:
        top.fail("is empty; give at least one box", "boxes")
    boxes = tuple(_unique(where, "box", [_box(where, n, b) for n, b in enumerate(raw_boxes, 1)]))
    materials: tuple[Material, ...] = DEFAULT_MATERIALS
    if "materials" in top.data:
        raw = top.get("materials", _list, "a list of materials [{...}, ...]")
        materials = tuple(
            _unique(where, "material", [_material(where, n, m) for n, m in enumerate(raw, 1)])
        )
    rates: tuple[CarrierRate, ...] = DEFAULT_RATES
    if "carriers" in top.data:
        raw = top.get("carriers", _list, "a list of carriers [{...}, ...]")
        if not raw:
            top.fail("is empty; give at least one carrier, or leave it out", "carriers")
        rates = tuple(_rate(where, n, r) for n, r in enumerate(raw, 1))
        seen: set[str] = set()
        for rate in rates:
            if rate.carrier in seen:
                raise PackFileError(f"{where}: carrier {rate.carrier} is given twice")
            seen.add(rate.carrier)
    return Catalogue(boxes, materials, rates)


def _list(value: object) -> list[Any] | None:
    return value if isinstance(value, list) else None


def _label(kind: str, n: int, raw: object, key: str) -> str:
    code = raw.get(key) if isinstance(raw, dict) else None
    return f"{kind} {n} ({code})" if isinstance(code, str) and code else f"{kind} {n}"


def _box(where: str, n: int, raw: object) -> BoxType:
    entry = _Entry(where, _label("box", n, raw, "code"), raw, BOX_FIELDS)
    code = entry.get("code", _text, "the box's code as text")
    sides = {
        field: entry.get(field, _whole(1), MM)
        for field in BOX_FIELDS
        if field.startswith(("inner_", "outer_"))
    }
    for side in ("length", "width", "height"):
        if sides[f"outer_{side}"] < sides[f"inner_{side}"]:
            entry.fail(
                f"{sides[f'outer_{side}']} mm is less than inner_{side} "
                f"({sides[f'inner_{side}']} mm); outer sizes include the walls",
                f"outer_{side}",
            )
    tare = entry.get("tare", _whole(0), "the empty box's weight in whole grams")
    max_weight = entry.get("max_weight", _whole(1), "the heaviest it may be packed, in grams")
    if max_weight <= tare:
        entry.fail(f"{max_weight} g leaves no room above the tare ({tare} g)", "max_weight")
    return BoxType(
        code=code,
        name=entry.get("name", _text, "the box's name as text", code),
        inner_length=sides["inner_length"],
        inner_width=sides["inner_width"],
        inner_height=sides["inner_height"],
        outer_length=sides["outer_length"],
        outer_width=sides["outer_width"],
        outer_height=sides["outer_height"],
        tare=tare,
        max_weight=max_weight,
        cost=entry.get("cost", _money, MONEY),
        carriers=entry.get("carriers", _codes, "a list of carrier codes ([] for any)", frozenset()),
        hazmat_ok=entry.get("hazmat_ok", _flag, "true or false", False),
    )


def _kind(value: object) -> str | None:
    return value if value in MATERIAL_KINDS else None


def _material(where: str, n: int, raw: object) -> Material:
    entry = _Entry(where, _label("material", n, raw, "code"), raw, MATERIAL_FIELDS)
    code = entry.get("code", _text, "the material's code as text")
    return Material(
        code=code,
        name=entry.get("name", _text, "the material's name as text", code),
        kind=entry.get("kind", _kind, f"one of {', '.join(MATERIAL_KINDS)}"),
        unit_cost=entry.get("unit_cost", _money, MONEY),
        weight_per_unit=entry.get(
            "weight_per_unit", _whole(0), "whole grams per litre or per unit", 0
        ),
    )


def _rate(where: str, n: int, raw: object) -> CarrierRate:
    entry = _Entry(where, _label("carrier", n, raw, "carrier"), raw, RATE_FIELDS)
    limit = entry.get(
        "max_weight", _optional_whole(1), "the heaviest package in grams, or null", -1
    )
    return CarrierRate(
        carrier=entry.get("carrier", _text, "the carrier's code as text"),
        dim_divisor=entry.get(
            "dim_divisor",
            _whole(1),
            "outer mm³ per gram of dimensional weight (5000 is 5,000 cm³/kg)",
        ),
        base=entry.get("base", _money, MONEY),
        per_kg=entry.get("per_kg", _money, MONEY),
        max_weight=None if limit == -1 else limit,
    )


def _unique(where: str, kind: str, found: list[T]) -> list[T]:
    seen: set[str] = set()
    for thing in found:
        code: str = thing.code  # type: ignore[attr-defined]
        if code in seen:
            raise PackFileError(f"{where}: {kind} {code} is given twice; codes are unique")
        seen.add(code)
    return found


# ------------------------------------------------------------------ writing


def catalogue_json(catalogue: Catalogue) -> dict[str, Any]:
    """The catalogue as a catalogue file holds it (a starting point for a site's own)."""
    return {
        "boxes": [
            {
                "code": b.code,
                "name": b.name,
                "inner_length": b.inner_length,
                "inner_width": b.inner_width,
                "inner_height": b.inner_height,
                "outer_length": b.outer_length,
                "outer_width": b.outer_width,
                "outer_height": b.outer_height,
                "tare": b.tare,
                "max_weight": b.max_weight,
                "cost": str(b.cost),
                "carriers": sorted(b.carriers),
                "hazmat_ok": b.hazmat_ok,
            }
            for b in catalogue.boxes
        ],
        "materials": [
            {
                "code": m.code,
                "name": m.name,
                "kind": m.kind,
                "unit_cost": str(m.unit_cost),
                "weight_per_unit": m.weight_per_unit,
            }
            for m in catalogue.materials
        ],
        "carriers": [_rate_json(r) for r in catalogue.rates],
    }


def _rate_json(rate: CarrierRate) -> Mapping[str, Any]:
    return {
        "carrier": rate.carrier,
        "dim_divisor": rate.dim_divisor,
        "base": str(rate.base),
        "per_kg": str(rate.per_kg),
        "max_weight": rate.max_weight,
    }


# ------------------------------------------------------------------ packing rules


RULE_FIELDS = ("sku", "upright", "fragile", "liquid", "own_container", "hazmat", "max_stack_weight")


def read_rules(path: Path) -> dict[str, dict[str, Any]]:
    """Products' packing rules by SKU, from a file like an order file without sizes: every
    rule not given is off (``max_stack_weight`` absent or null: no limit)."""
    return parse_rules(_load(path), str(path))


def parse_rules(data: object, where: str) -> dict[str, dict[str, Any]]:
    if not isinstance(data, list) or not data:
        raise PackFileError(
            f'{where}: expected a list of products\' rules [{{"sku": ..., ...}}, ...], got '
            f"{_shown(data)}"
        )
    rules: dict[str, dict[str, Any]] = {}
    for n, raw in enumerate(data, 1):
        sku = raw.get("sku") if isinstance(raw, dict) else None
        name = f"product {n} ({sku})" if isinstance(sku, str) and sku else f"product {n}"
        entry = _Entry(where, name, raw, RULE_FIELDS)
        code = entry.get("sku", _text, "the product's SKU as text")
        if code in rules:
            entry.fail("is given twice; give each product once", "sku")
        limit = entry.get(
            "max_stack_weight",
            _optional_whole(0),
            "grams (0 or more) that may rest on it, or null for no limit",
            -1,
        )
        rules[code] = {
            "upright": entry.get("upright", _flag, "true or false", False),
            "fragile": entry.get("fragile", _flag, "true or false", False),
            "liquid": entry.get("liquid", _flag, "true or false", False),
            "own_container": entry.get("own_container", _flag, "true or false", False),
            "hazmat_class": entry.get(
                "hazmat", _any_text, 'the hazmat class as text ("" for none)', ""
            ),
            "max_stack_g": None if limit == -1 else limit,
        }
    return rules
