"""Pathological records cost themselves only: the rest of the file still imports whole."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, func, select

from app.actor import Actor
from app.intake.importer import import_file
from app.intake.parse import MAX_NUMBER_DIGITS, read_jsonl
from data.models import Order
from data.uow import UnitOfWork
from tests.factories import add_reference, order

IMPORTER = Actor.system("test-import")


def stored_ids(engine: Engine) -> list[str]:
    with UnitOfWork(engine, read_only=True) as uow:
        return sorted(uow.session.scalars(select(Order.external_id)))


def test_pathological_lines_are_one_rejection_each(store: Engine, tmp_path: Path) -> None:
    add_reference(store)
    deep = "[" * 200_000 + "]" * 200_000
    deep_inside = json.dumps(order("W-DEEP")).replace(
        '"lines": [', '"lines": [' + "[" * 100_000 + "]" * 100_000 + ", ", 1
    )
    duplicate = json.dumps(order("W-DUP"))[:-1] + ', "channel": "store"}'
    long_number = json.dumps(order("W-LONG")).replace('"quantity": 2', '"quantity": ' + "9" * 5000)
    lines = [
        json.dumps(order("W-1")),
        deep,
        deep_inside,
        duplicate,
        long_number,
        json.dumps(order("W-2")),
    ]
    path = tmp_path / "orders.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = import_file(store, path, IMPORTER)
    got = {r.line: (r.external_id, r.field, r.reason) for r in summary.rejected}
    assert summary.imported == 2
    assert stored_ids(store) == ["W-1", "W-2"]
    assert got[2][1] == "record"
    assert "nests lists or objects too deeply" in got[2][2]
    assert "nests lists or objects too deeply" in got[3][2]
    assert got[4] == (
        "W-DUP",
        "channel",
        "appears twice in one object; keep one value and import the record again",
    )
    assert got[5][1] == "record"
    assert f"no quantity or price comes near {MAX_NUMBER_DIGITS:,} digits" in got[5][2]
    assert "sys.set_int_max_str_digits" not in got[5][2]
    assert sorted(got) == [2, 3, 4, 5]


def test_a_duplicate_key_deep_inside_is_named() -> None:
    record = json.dumps(order("W-DUP2")).replace('"city": ', '"city": "York", "city": ', 1)
    (rejection,) = list(read_jsonl(record.encode()))
    assert getattr(rejection, "field", None) == "city"
    assert getattr(rejection, "external_id", None) == "W-DUP2"


def test_every_order_of_a_clean_file_still_imports(store: Engine, tmp_path: Path) -> None:
    add_reference(store)
    path = tmp_path / "orders.jsonl"
    path.write_text("\n".join(json.dumps(order(f"W-{n}")) for n in range(5)), encoding="utf-8")
    assert import_file(store, path, IMPORTER).imported == 5
    with UnitOfWork(store, read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Order)) == 5
