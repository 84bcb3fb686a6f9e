"""`shipfloor pack suggest`, `pack catalogue` and `bench pack`: the JSON they print, the
examples the Packing page shows, and bad input answered in one sentence with exit 1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.packing.cartonize import Item, Placement
from app.packing.files import DEFAULT_CATALOGUE, read_catalogue, read_items
from tests.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "admin" / "examples"
ORDER = EXAMPLES / "order.json"


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> Any:
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return json.loads(captured.out)


def test_suggest_prints_the_documented_json(capsys: pytest.CaptureFixture[str]) -> None:
    found = run_json(["pack", "suggest", "--items", str(ORDER), "--json"], capsys)
    assert set(found) == {"carrier", "boxes", "total_cost"}
    for packed in found["boxes"]:
        assert {"box", "cost", "items", "materials", "gross_weight_g", "reason"} <= set(packed)
        for spot in packed["items"]:
            assert set(spot) == {"sku", "x", "y", "z", "dx", "dy", "dz"}
            assert all(isinstance(spot[k], int) for k in ("x", "y", "z", "dx", "dy", "dz"))
        assert isinstance(packed["cost"], float)
    assert found["total_cost"] == pytest.approx(sum(b["cost"] for b in found["boxes"]))
    # The Packing page shows this very output.
    shown = json.loads((EXAMPLES / "suggestion.json").read_text(encoding="utf-8"))
    assert found == shown, "run the command on the Packing page and update suggestion.json"
    # Every unit of the order file is placed once.
    skus = sorted(spot["sku"] for packed in found["boxes"] for spot in packed["items"])
    assert skus == sorted(item.sku for item in read_items(ORDER))


def test_the_placements_printed_check_out_independently(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """What anyone can do with the JSON: no two units overlap, each inside its box."""
    found = run_json(["pack", "suggest", "--items", str(ORDER), "--json"], capsys)
    inner = {
        b.code: (b.inner_length, b.inner_width, b.inner_height) for b in DEFAULT_CATALOGUE.boxes
    }
    specs: dict[str, Item] = {item.sku: item for item in read_items(ORDER)}
    for packed in found["boxes"]:
        spots = [Placement(**spot) for spot in packed["items"]]
        size = inner[packed["box"]]
        for n, a in enumerate(spots):
            assert sorted((a.dx, a.dy, a.dz)) == sorted(
                (specs[a.sku].length, specs[a.sku].width, specs[a.sku].height)
            )
            ends = (a.x + a.dx, a.y + a.dy, a.z + a.dz)
            assert all(end <= side for end, side in zip(ends, size, strict=True)), a
            for b in spots[n + 1 :]:
                apart = (
                    a.x + a.dx <= b.x
                    or b.x + b.dx <= a.x
                    or a.y + a.dy <= b.y
                    or b.y + b.dy <= a.y
                    or a.z + a.dz <= b.z
                    or b.z + b.dz <= a.z
                )
                assert apart, (a, b)


def test_suggest_with_a_site_catalogue_and_carrier(capsys: pytest.CaptureFixture[str]) -> None:
    boxes = EXAMPLES / "boxes.json"
    found = run_json(
        [
            "pack",
            "suggest",
            "--items",
            str(ORDER),
            "--boxes",
            str(boxes),
            "--carrier",
            "ROADLINE",
            "--json",
        ],
        capsys,
    )
    assert found["carrier"] == "ROADLINE"
    assert {b["box"] for b in found["boxes"]} <= {b.code for b in read_catalogue(boxes).boxes}
    assert "UN-4G" in {b["box"] for b in found["boxes"]}


def test_suggest_shows_a_table_without_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pack", "suggest", "--items", str(ORDER)]) == 0
    shown = capsys.readouterr().out
    assert "Package 1 of 2: BOX-TALL" in shown
    assert "WINE-RIOJA" in shown
    assert "Total 21.96 with GROUND" in shown


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "none.json", "cannot read {d}/none.json: there is no such file"),
        (
            lambda d: _write(d / "bad.json", '[{"sku": "A", "length": 1}]'),
            "{d}/bad.json: item 1 (A), width: missing; expected a whole number of "
            "millimetres above 0",
        ),
        (
            lambda d: _write(
                d / "sofa.json",
                '[{"sku": "SOFA", "length": 2000, "width": 900, "height": 800, "weight": 40000}]',
            ),
            "SOFA (2000×900×800 mm, 40000 g) is heavier than GROUND takes (31500 g)",
        ),
        (
            lambda d: _write(
                d / "cabinet.json",
                '[{"sku": "CAB", "length": 2000, "width": 900, "height": 800, "weight": 9000}]',
            ),
            "CAB (2000×900×800 mm, 9000 g) fits no box that may go with GROUND: the largest is "
            "BOX-XXL (600×400×400 mm inside, up to 30000 g packed)",
        ),
    ],
)
def test_bad_input_is_one_sentence_and_exit_1(
    make: Any, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make(tmp_path)
    assert main(["pack", "suggest", "--items", str(path), "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == "shipfloor: " + message.format(d=tmp_path)


def test_an_unknown_carrier_and_a_bad_catalogue_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pack", "suggest", "--items", str(ORDER), "--carrier", "OWL"]) == 1
    assert "carrier 'OWL' is not in the catalogue (carriers: GROUND, EXPRESS, POSTAL)" in (
        capsys.readouterr().err
    )
    boxes = _write(tmp_path / "boxes.json", '{"boxes": []}')
    assert main(["pack", "catalogue", "--boxes", str(boxes)]) == 1
    assert "boxes: is empty; give at least one box" in capsys.readouterr().err


def test_catalogue_json_is_a_catalogue_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written = run_json(["pack", "catalogue", "--json"], capsys)
    path = _write(tmp_path / "boxes.json", json.dumps(written))
    assert read_catalogue(path) == DEFAULT_CATALOGUE
    assert main(["pack", "catalogue"]) == 0
    assert "HAZ-4G" in capsys.readouterr().out


def test_bench_pack_prints_its_figures(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json(
        ["bench", "pack", "--json", "--pack-pairs", "40", "--pack-orders", "12"], capsys
    )
    assert set(report) == {"two_item", "mixed", "valid_packings", "py3dbp_valid_packings"}
    assert {"orders", "best_box_rate", "ms_p95"} <= set(report["two_item"])
    assert report["two_item"]["orders"] == 40
    assert {"orders", "ours_cost", "py3dbp_cost", "ours_boxes", "py3dbp_boxes", "ms_p95"} <= set(
        report["mixed"]
    )
    assert report["mixed"]["orders"] == 12
    assert report["valid_packings"] == 1.0
    assert report["two_item"]["best_box_rate"] == 1.0


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
