"""The `shipfloor` command: exit codes, summaries, JSON on stdout, and clear set-up errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.cli import main
from tests.factories import add_reference, jsonl, order


def test_import_prints_a_summary_and_exits_1_on_rejections(
    store: Engine, store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_reference(store)
    good = tmp_path / "good.jsonl"
    good.write_bytes(jsonl(order("W-1"), order("W-2", promo_code="NOSUCH")))
    assert main(["--db", store_url, "orders", "import", str(good)]) == 0
    out = capsys.readouterr().out
    assert "good.jsonl: imported 1, duplicates 0, held 1, rejected 0" in out

    mixed = tmp_path / "mixed.jsonl"
    mixed.write_bytes(jsonl(order("W-1"), order("W-3"), "{oops"))
    assert main(["orders", "import", str(mixed), "--db", store_url]) == 1
    captured = capsys.readouterr()
    assert "imported 1, duplicates 1, held 0, rejected 1" in captured.out
    assert "mixed.jsonl: line 3 (order id unknown): record: is not valid JSON" in captured.err


def test_import_json_output_is_one_object(
    store: Engine, store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_reference(store)
    path = tmp_path / "o.jsonl"
    path.write_bytes(jsonl(order("W-1"), order("W-2", channel="fax")))
    assert main(["--db", store_url, "orders", "import", str(path), "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["imported"] == 1
    assert result["rejected"] == [
        {
            "line": 2,
            "external_id": "W-2",
            "field": "channel",
            "reason": "'fax' is not a known channel (amazon, closed, mobile, web)",
        }
    ]


def test_inventory_available(
    store: Engine, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from data import inventory
    from data.inventory import Who
    from data.types import utcnow
    from data.uow import UnitOfWork

    ids = add_reference(store)
    with UnitOfWork(store) as uow:
        inventory.receive(
            uow.session,
            node_id=ids["WH1"],
            location_id=ids["loc:WH1"],
            product_id=ids["PEN-1"],
            quantity=7,
            who=Who("t"),
            at=utcnow(),
        )
        uow.commit()
    assert main(["--db", store_url, "inventory", "available", "PEN-1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["network"] == {"on_hand": 7, "reserved": 0, "atp": 5}
    assert main(["--db", store_url, "inventory", "available", "PEN-1", "--node", "WH1"]) == 0
    assert "WH1" in capsys.readouterr().out
    assert main(["--db", store_url, "inventory", "available", "NOPE"]) == 1
    assert "no product has the SKU 'NOPE'" in capsys.readouterr().err


def test_an_unmigrated_store_is_named_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert main(["--db", url, "inventory", "available", "X"]) == 2
    assert "there is no store at" in capsys.readouterr().err
    assert not (tmp_path / "new.db").exists()  # nothing left behind
    (tmp_path / "new.db").touch()
    assert main(["--db", url, "inventory", "available", "X"]) == 2
    assert "run `shipfloor db upgrade` first" in capsys.readouterr().err
    assert main(["--db", url, "db", "upgrade"]) == 0
    assert "migrated from empty to" in capsys.readouterr().out
    assert main(["--db", url, "db", "upgrade"]) == 0
    assert "already at the newest schema" in capsys.readouterr().out
    assert main(["--db", url, "db", "check"]) == 0
    assert "matches the models" in capsys.readouterr().out


def test_bad_urls_and_missing_files_are_explained(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", "mysql://x/y", "db", "upgrade"]) == 2
    assert "SQLite or PostgreSQL only" in capsys.readouterr().err
    assert main(["--db", f"sqlite:///{tmp_path}/no/such/dir/x.db", "db", "upgrade"]) == 2
    assert "does not exist" in capsys.readouterr().err
    # Who runs a command that changes the floor is checked first, so on a store.
    assert main(["--db", f"sqlite:///{tmp_path}/x.db", "orders", "import", "nope.jsonl"]) == 2
    assert "there is no store at" in capsys.readouterr().err
    assert not (tmp_path / "x.db").exists()
    assert main(["--db", f"sqlite:///{tmp_path}/x.db", "db", "upgrade"]) == 0
    assert main(["--db", f"sqlite:///{tmp_path}/x.db", "orders", "import", "nope.jsonl"]) == 2
    assert "nope.jsonl is not a file" in capsys.readouterr().err


def test_an_unreachable_server_is_a_set_up_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", "postgresql://postgres@127.0.0.1:1/x", "db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert "cannot reach the store at postgresql+psycopg://postgres@127.0.0.1:1/x" in err
    assert "Check that the server is running" in err


def test_customer_text_is_never_read_as_markup(
    store: Engine, store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_reference(store)
    path = tmp_path / "m.jsonl"
    path.write_bytes(
        jsonl(
            order("[/bold]", lines=[{"sku": "[red]X[/red]", "quantity": 1, "unit_price": "1"}]),
            order("W-1"),
        )
    )
    assert main(["--db", store_url, "orders", "import", str(path)]) == 1
    captured = capsys.readouterr()
    assert "line 1 (order [/bold]): lines[1].sku: '[red]X[/red]' is not a known SKU" in (
        captured.err
    )
    assert "imported 1, duplicates 0, held 0, rejected 1" in captured.out
