"""`shipfloor pack problems`, `pack clear` and `pack settings` against a store where a
pack bench sent an order to the problem shelf."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from app.packing import station as pack
from data.models import Product
from data.uow import UnitOfWork
from tests.cli import main
from tests.packfloor import packer, pick_lists, setup, single_tote_orders


def test_the_problem_shelf_is_listed_and_an_order_on_it_cleared(
    floor: Engine, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tote = single_tote_orders(floor, pick_lists(floor, 1))[0]
    cat, ship = setup(floor)
    who = packer(floor)
    bench = pack.open_tote(floor, who, tote, cat, ship)
    pack.problem(floor, who, bench, "missing", bench.lines[0].line_id, pack.PackSettings())
    capsys.readouterr()
    assert main(["pack", "problems", "--db", store_url, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["problems"]
    assert [(p["order"], p["tote"], p["shelf"]) for p in listed] == [
        (bench.order_ref, tote, "PROBLEM")
    ]
    assert main(["pack", "clear", "web/NOPE", "--db", store_url]) == 1
    assert "is not on the problem shelf" in capsys.readouterr().err
    assert main(["pack", "clear", bench.order_ref, "--note", "found it", "--db", store_url]) == 0
    assert "can be packed again" in capsys.readouterr().out
    assert main(["pack", "problems", "--db", store_url]) == 0
    assert "The problem shelf at WH1 is empty." in capsys.readouterr().out
    assert main(["pack", "problems", "--node", "XX9", "--db", store_url]) == 1
    assert "there is no node 'XX9'" in capsys.readouterr().err


def test_pack_settings_are_shown_and_changed_with_reasons_for_bad_ones(
    store: Engine, store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pack", "settings", "--db", store_url]) == 0
    assert json.loads(capsys.readouterr().out)["weight_tolerance_g"] == 50
    good = tmp_path / "pack.json"
    good.write_text('{"weight_tolerance_g": 80, "problem_location": "SHELF-X"}')
    assert main(["pack", "settings", "--file", str(good), "--db", store_url]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown == {
        "weight_tolerance_g": 80,
        "weight_tolerance_pct": "5",
        "problem_location": "SHELF-X",
    }
    assert pack.load_settings(store).weight_tolerance_g == 80
    bad = tmp_path / "bad.json"
    bad.write_text('{"weight_tolerance_pct": 90}')
    assert main(["pack", "settings", "--file", str(bad), "--db", store_url]) == 1
    assert "weight_tolerance_pct: expected a percentage from 0 to 50" in capsys.readouterr().err
    assert pack.load_settings(store).weight_tolerance_g == 80


EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "admin" / "examples"


def test_a_catalogue_file_becomes_the_benches_boxes_and_rules_mark_products(
    floor: Engine, store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    boxes = str(EXAMPLES / "boxes.json")
    assert main(["pack", "load-catalogue", boxes, "--db", store_url]) == 0
    assert "now offer 4 box(es) (4 new, 0 changed)" in capsys.readouterr().out
    cat = pack.catalogue(floor)
    assert sorted(b.code for b in cat.boxes) == ["CUBE-30", "MAILER", "TALL-36", "UN-4G"]
    assert pack.check_box(cat, "BOX-CUBE-30").code == "CUBE-30"
    with pytest.raises(pack.PackError, match="expected a box's barcode"):
        pack.check_box(cat, "BOX-M")  # the demo's box is no longer offered
    assert main(["pack", "load-catalogue", boxes, "--db", store_url]) == 0
    assert "(0 new, 4 changed)" in capsys.readouterr().out

    assert main(["pack", "rules", str(EXAMPLES / "rules.json"), "--db", store_url]) == 0
    assert "Packing rules set for 3 product(s)." in capsys.readouterr().out
    rules = tmp_path / "rules.json"
    rules.write_text(
        '[{"sku": "SKU-000001", "fragile": true, "max_stack_weight": 200},'
        ' {"sku": "SKU-000002", "upright": true, "hazmat": "9"}]'
    )
    assert main(["pack", "rules", str(rules), "--db", store_url]) == 0
    assert "Packing rules set for 2 product(s)." in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    bad.write_text('[{"sku": "SKU-000001"}, {"sku": "NOPE-1", "liquid": true}]')
    assert main(["pack", "rules", str(bad), "--db", store_url]) == 1
    assert "1 SKU(s) are not in the catalogue: NOPE-1; nothing was changed" in (
        capsys.readouterr().err
    )
    typo = tmp_path / "typo.json"
    typo.write_text('[{"sku": "SKU-000001", "fragil": true}]')
    assert main(["pack", "rules", str(typo), "--db", store_url]) == 1
    assert "product 1 (SKU-000001): unknown field 'fragil'" in capsys.readouterr().err
    with UnitOfWork(floor, read_only=True) as uow:
        found = uow.session.execute(
            select(
                Product.sku,
                Product.fragile,
                Product.max_stack_g,
                Product.upright,
                Product.hazmat_class,
            )
            .where(Product.sku.in_(["SKU-000001", "SKU-000002"]))
            .order_by(Product.sku)
        ).all()
    assert [tuple(r) for r in found] == [
        ("SKU-000001", True, 200, False, ""),
        ("SKU-000002", False, None, True, "9"),
    ]
