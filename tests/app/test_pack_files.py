"""The order and catalogue files of `shipfloor pack suggest`: read as documented, and every
mistake named by file, entry and field with what is expected."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.packing.cartonize import Item
from app.packing.catalogue import DEFAULT_MATERIALS, DEFAULT_RATES
from app.packing.files import (
    DEFAULT_CATALOGUE,
    MAX_UNITS,
    PackFileError,
    catalogue_json,
    parse_catalogue,
    parse_items,
    read_catalogue,
    read_items,
)

MUG = {"sku": "MUG", "length": 125, "width": 95, "height": 105, "weight": 380}
BOX = {
    "code": "S",
    "inner_length": 250,
    "inner_width": 200,
    "inner_height": 150,
    "outer_length": 256,
    "outer_width": 206,
    "outer_height": 158,
    "tare": 180,
    "max_weight": 10000,
    "cost": "0.45",
}


def test_items_are_one_per_unit_with_their_rules() -> None:
    units = parse_items(
        [
            {**MUG, "quantity": 2, "upright": True, "fragile": True, "max_stack_weight": 2000},
            {
                "sku": "AEROSOL",
                "length": 50,
                "width": 50,
                "height": 170,
                "weight": 200,
                "hazmat": "2.1",
                "liquid": False,
                "own_container": False,
                "max_stack_weight": None,
            },
        ],
        "order.json",
    )
    mug = Item("MUG", 125, 95, 105, 380, upright=True, fragile=True, max_stack_weight=2000)
    assert units == [mug, mug, Item("AEROSOL", 50, 50, 170, 200, hazmat="2.1")]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {**MUG, "length": 12.5},
            "order.json: item 1 (MUG), length: expected a whole number of millimetres above 0, "
            "got 12.5",
        ),
        (
            {**MUG, "width": 0},
            "order.json: item 1 (MUG), width: expected a whole number of millimetres above 0, "
            "got 0",
        ),
        (
            {k: v for k, v in MUG.items() if k != "weight"},
            "order.json: item 1 (MUG), weight: missing; expected a whole number of grams, "
            "0 or more",
        ),
        (
            {**MUG, "fragile": "yes"},
            'order.json: item 1 (MUG), fragile: expected true or false, got "yes"',
        ),
        (
            {**MUG, "quantity": 0},
            "order.json: item 1 (MUG), quantity: expected a whole number of units, 1 or more, "
            "got 0",
        ),
        (
            {**MUG, "fragle": True},
            "order.json: item 1 (MUG): unknown field 'fragle'; the fields are sku, length, "
            "width, height, weight, quantity, upright, fragile, liquid, own_container, hazmat, "
            "max_stack_weight",
        ),
        (
            {**MUG, "sku": ""},
            'order.json: item 1, sku: expected the product\'s SKU as text, got ""',
        ),
        ("MUG", 'order.json: item 1: expected an object {...}, got "MUG"'),
        (
            {**MUG, "max_stack_weight": -1},
            "order.json: item 1 (MUG), max_stack_weight: expected grams (0 or more) that may "
            "rest on it, or null for no limit, got -1",
        ),
    ],
)
def test_a_wrong_item_names_the_entry_and_the_field(entry: object, message: str) -> None:
    with pytest.raises(PackFileError) as raised:
        parse_items([entry], "order.json")
    assert str(raised.value) == message


def test_one_sku_given_twice_differently_and_too_many_units_are_refused() -> None:
    with pytest.raises(PackFileError) as raised:
        parse_items([MUG, {**MUG, "weight": 400}], "order.json")
    assert str(raised.value) == (
        "order.json: item 2 (MUG), sku: differs from item 1, which has the same SKU; give one "
        "product once, with its quantity"
    )
    assert len(parse_items([MUG, {**MUG, "quantity": 2}], "order.json")) == 3
    with pytest.raises(PackFileError, match=f"past {MAX_UNITS} units; split it"):
        parse_items([{**MUG, "quantity": MAX_UNITS + 1}], "order.json")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"sku": "X"}, "order.json: expected a list of items [{...}, ...], got an object"),
        ([], "order.json: the list of items is empty; give at least one"),
    ],
)
def test_an_items_file_that_is_not_a_list_of_items(data: object, message: str) -> None:
    with pytest.raises(PackFileError) as raised:
        parse_items(data, "order.json")
    assert str(raised.value) == message


def test_files_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(PackFileError, match="there is no such file"):
        read_items(tmp_path / "none.json")
    with pytest.raises(PackFileError, match="it is a folder, not a file"):
        read_items(tmp_path)
    broken = tmp_path / "broken.json"
    broken.write_text('[{"sku": "A",}]', encoding="utf-8")
    with pytest.raises(PackFileError) as raised:
        read_items(broken)
    assert str(raised.value) == (
        f"{broken} is not valid JSON: Expecting property name enclosed in double quotes at "
        "line 1, column 14"
    )


def test_a_catalogue_reads_money_exactly_and_defaults_materials_and_carriers() -> None:
    found = parse_catalogue({"boxes": [{**BOX, "cost": 0.45}]}, "boxes.json")
    assert found.boxes[0].cost == Decimal("0.45")
    assert found.boxes[0].name == "S"
    assert found.materials == DEFAULT_MATERIALS
    assert found.rates == DEFAULT_RATES
    assert found.rate(None) is DEFAULT_RATES[0]
    with pytest.raises(PackFileError) as raised:
        found.rate("OWL")
    assert str(raised.value) == (
        "carrier 'OWL' is not in the catalogue (carriers: GROUND, EXPRESS, POSTAL)"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "boxes.json: the catalogue, boxes: missing; expected a list of boxes [{...}, ...]"),
        ({"boxes": []}, "boxes.json: the catalogue, boxes: is empty; give at least one box"),
        (
            {"boxes": [{**BOX, "outer_width": 190}]},
            "boxes.json: box 1 (S), outer_width: 190 mm is less than inner_width (200 mm); "
            "outer sizes include the walls",
        ),
        (
            {"boxes": [{**BOX, "max_weight": 100}]},
            "boxes.json: box 1 (S), max_weight: 100 g leaves no room above the tare (180 g)",
        ),
        (
            {"boxes": [{**BOX, "cost": "cheap"}]},
            "boxes.json: box 1 (S), cost: expected an amount of money, 0 or more (a number or "
            'a string such as "0.45"), got "cheap"',
        ),
        (
            {"boxes": [BOX, BOX]},
            "boxes.json: box S is given twice; codes are unique",
        ),
        (
            {"boxes": [BOX], "materials": [{"code": "FOAM", "kind": "foam", "unit_cost": 1}]},
            "boxes.json: material 1 (FOAM), kind: expected one of void_fill, bubble_wrap, bag, "
            'divider, got "foam"',
        ),
        (
            {
                "boxes": [BOX],
                "carriers": [{"carrier": "G", "dim_divisor": 0, "base": 1, "per_kg": 1}],
            },
            "boxes.json: carrier 1 (G), dim_divisor: expected outer mm³ per gram of dimensional "
            "weight (5000 is 5,000 cm³/kg), got 0",
        ),
        (
            {"boxes": [BOX], "carriers": []},
            "boxes.json: the catalogue, carriers: is empty; give at least one carrier, or "
            "leave it out",
        ),
        (
            {"boxes": [BOX], "crates": []},
            "boxes.json: the catalogue: unknown field 'crates'; the fields are boxes, "
            "materials, carriers",
        ),
    ],
)
def test_a_wrong_catalogue_names_the_entry_and_the_field(data: object, message: str) -> None:
    with pytest.raises(PackFileError) as raised:
        parse_catalogue(data, "boxes.json")
    assert str(raised.value) == message


def test_the_built_in_catalogue_written_out_reads_back_the_same(tmp_path: Path) -> None:
    path = tmp_path / "boxes.json"
    written: dict[str, Any] = catalogue_json(DEFAULT_CATALOGUE)
    path.write_text(json.dumps(written), encoding="utf-8")
    assert read_catalogue(path) == DEFAULT_CATALOGUE
