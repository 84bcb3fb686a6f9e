"""`shipfloor pack problems`, `pack clear` and `pack settings` against a store where a
pack bench sent an order to the problem shelf."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.packing import station as pack
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
