"""Order intake against a real store: good orders land whole, bad ones are reported by line,
field and reason, duplicates change nothing, and two importers never store an order twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from app.actor import Actor
from app.intake.importer import ImportSummary, import_file
from app.intake.parse import FileFormatError
from data.models import Address, Customer, Order, OrderEvent, OrderHold, OrderLine, OrderStatus
from data.uow import UnitOfWork
from tests.cli import as_admin
from tests.factories import add_reference, jsonl, order

IMPORTER = Actor.system("test-import")


def run(
    engine: Engine, tmp_path: Path, content: bytes, name: str = "orders.jsonl"
) -> ImportSummary:
    path = tmp_path / name
    path.write_bytes(content)
    return import_file(engine, path, IMPORTER)


def counts(engine: Engine) -> dict[str, int]:
    with UnitOfWork(engine, read_only=True) as uow:
        s = uow.session
        return {
            model.__tablename__: int(s.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Order, OrderLine, Address, OrderHold, OrderEvent, Customer)
        }


def reasons(summary: ImportSummary) -> dict[int, str]:
    return {r.line: f"{r.field}: {r.reason}" for r in summary.rejected}


def test_a_good_order_is_stored_whole_with_its_history(store: Engine, tmp_path: Path) -> None:
    add_reference(store)
    summary = run(store, tmp_path, jsonl(order("W-1", promo_code="ten")))
    assert (summary.imported, summary.held, summary.duplicates, summary.rejected) == (1, 0, 0, [])
    with UnitOfWork(store, read_only=True) as uow:
        stored = uow.session.scalars(select(Order)).one()
        assert stored.status is OrderStatus.VERIFIED
        assert stored.subtotal == Decimal("7.47")
        assert stored.discount_total == Decimal("0.75")  # 10 % of 7.47, rounded half up
        assert [(ln.quantity, ln.unit_price, ln.discount) for ln in stored.lines] == [
            (2, Decimal("3.98") / 2, Decimal("0.40")),
            (1, Decimal("3.49"), Decimal("0.35")),
        ]
        assert stored.promo_code == "TEN"
        assert stored.customer.phone == "+14155550123"
        assert stored.ship_to.city == "Columbus"
        events = uow.session.execute(
            select(OrderEvent.from_status, OrderEvent.to_status, OrderEvent.actor).order_by(
                OrderEvent.id
            )
        ).all()
        assert [tuple(e) for e in events] == [
            (None, OrderStatus.RECEIVED, "test-import"),
            (OrderStatus.RECEIVED, OrderStatus.VERIFIED, "test-import"),
        ]


def test_a_file_full_of_bad_records(store: Engine, tmp_path: Path) -> None:
    add_reference(store)
    huge = order("W-HUGE")
    huge["lines"] = [{"sku": "PEN-1", "quantity": 10**30, "unit_price": "1.00"}]
    content = jsonl(
        order("W-GOOD-1"),  # 1
        '{"channel": "web", "external_id": "W-BROKEN", ',  # 2 malformed JSON
        {k: v for k, v in order("W-NOLINES").items() if k != "lines"},  # 3 missing lines
        order("W-TYPE", customer={"name": 42}),  # 4 mistyped field
        order("W-SKU", lines=[{"sku": "NOPE", "quantity": 1, "unit_price": "1"}]),  # 5
        order("W-ZERO", lines=[{"sku": "PEN-1", "quantity": 0, "unit_price": "1"}]),  # 6
        order("W-NEG", lines=[{"sku": "PEN-1", "quantity": -3, "unit_price": "1"}]),  # 7
        huge,  # 8 huge quantity
        order("W-PRICE", lines=[{"sku": "PEN-1", "quantity": 1, "unit_price": "-1"}]),  # 9
        b'{"channel": "web", "external_id": "W-LATIN1", "name": "Jos\xe9"}',  # 10 not UTF-8
        order("W-GOOD-2"),  # 11
        order("W-GOOD-1"),  # 12 duplicate in file
        "[1, 2, 3]",  # 13 not an object
        order("W-FLOAT", lines=[{"sku": "PEN-1", "quantity": 1.5, "unit_price": "1"}]),  # 14
        order("W-CHAN", channel="fax"),  # 15 unknown channel
        order(
            "W-NUL",
            ship_to={"line1": "1 Main\u0000St", "city": "X", "postal_code": "1", "country": "US"},
        ),  # 16 control char
        order("W-CENTS", lines=[{"sku": "PEN-1", "quantity": 1, "unit_price": "1.001"}]),  # 17
        order("W-PAY", payment_status="maybe"),  # 18 bad enum
        order("W-LONG" + "X" * 100),  # 19 id too long
    )
    summary = run(store, tmp_path, content)
    assert summary.imported == 2
    assert summary.duplicates == 1
    got = reasons(summary)
    assert sorted(got) == [2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 14, 15, 16, 17, 18, 19]
    assert "not valid JSON" in got[2]
    assert got[3].startswith("lines: is missing")
    assert got[4].startswith("customer.name: expected text, got the number 42")
    assert got[5] == "lines[1].sku: 'NOPE' is not a known SKU"
    assert "0 is not a positive quantity" in got[6]
    assert "-3 is not a positive quantity" in got[7]
    assert "more than the 100000 units" in got[8]
    assert "negative" in got[9]
    assert "not valid UTF-8 (byte 0xe9" in got[10]
    assert "expected a JSON object, got a list" in got[13]
    assert got[14].startswith(
        "lines[1].quantity: expected a whole number of units, got the number 1.5"
    )
    assert "'fax' is not a known channel" in got[15]
    assert "control character U+0000" in got[16]
    assert "more than two decimal places" in got[17]
    assert "'maybe' is not one of" in got[18]
    assert "at most 64" in got[19]
    by_line = {r.line: r for r in summary.rejected}
    assert by_line[10].external_id == "W-LATIN1"  # recovered for the message
    assert by_line[5].external_id == "W-SKU"
    assert str(by_line[5]) == "line 5 (order W-SKU): lines[1].sku: 'NOPE' is not a known SKU"
    # Nothing partial: exactly the two good orders and their rows exist.
    assert counts(store) == {
        "orders": 2,
        "order_lines": 4,
        "addresses": 2,
        "order_holds": 0,
        "order_events": 4,
        "customers": 1,
    }


def test_business_problems_hold_the_order_with_every_reason(store: Engine, tmp_path: Path) -> None:
    add_reference(store)
    content = jsonl(
        order("W-PHONE", customer={"name": "Ann", "email": "ann@example.com", "phone": "12345"}),
        order("W-EMAIL", customer={"name": "Bob", "email": "bob@@example", "phone": ""}),
        order(
            "W-ADDR",
            ship_to={"line1": "", "city": "Columbus", "postal_code": "43215", "country": "US"},
        ),
        order("W-PROMO", promo_code="NOSUCH"),
        order("W-EXPIRED", promo_code="OLDSALE"),
        order("W-APP", promo_code="APPONLY"),
        order("W-PICKUP", service_level="pickup", pickup_store="S002"),
        order("W-PAY", payment_status="failed"),
        order(
            "W-MANY",
            customer={"name": "", "email": "x", "phone": "+1 999"},
            ship_to={"country": "USA"},
        ),
        order("W-DISC", lines=[{"sku": "OLD-1", "quantity": 1, "unit_price": "2.00"}]),
        order("M-APP", channel="mobile", promo_code="APPONLY"),
        order("W-PICKOK", service_level="pickup", pickup_store="S001"),
    )
    summary = run(store, tmp_path, content)
    assert summary.rejected == []
    assert (summary.imported, summary.held) == (2, 10)
    with UnitOfWork(store, read_only=True) as uow:
        rows = uow.session.execute(
            select(Order.external_id, OrderHold.code, OrderHold.field)
            .join(OrderHold, OrderHold.order_id == Order.id)
            .order_by(OrderHold.id)
        ).all()
        statuses = dict(uow.session.execute(select(Order.external_id, Order.status)).tuples().all())
    holds: dict[str, set[str]] = {}
    for ext, code, _field in rows:
        holds.setdefault(ext, set()).add(code)
    assert holds["W-PHONE"] == {"invalid_phone"}
    assert holds["W-EMAIL"] == {"invalid_email"}
    assert holds["W-ADDR"] == {"incomplete_address"}
    assert holds["W-PROMO"] == {"unknown_promo"}
    assert holds["W-EXPIRED"] == {"promo_not_valid"}
    assert holds["W-APP"] == {"promo_wrong_channel"}
    assert holds["W-PICKUP"] == {"pickup_not_offered"}
    assert holds["W-PAY"] == {"payment_failed"}
    assert holds["W-MANY"] == {
        "missing_name",
        "invalid_email",
        "invalid_phone",
        "incomplete_address",
        "unknown_country",
    }
    assert holds["W-DISC"] == {"inactive_product"}
    assert statuses["M-APP"] is OrderStatus.VERIFIED
    assert statuses["W-PICKOK"] is OrderStatus.VERIFIED
    assert all(statuses[k] is OrderStatus.HELD for k in holds)


def test_importing_again_changes_nothing(store: Engine, tmp_path: Path) -> None:
    add_reference(store)
    content = jsonl(order("W-1"), order("W-2"), order("W-3", promo_code="NOSUCH"))
    first = run(store, tmp_path, content)
    before = counts(store)
    changed = jsonl(order("W-1", currency="EUR"), order("W-2"), order("W-3"), order("W-4"))
    second = run(store, tmp_path, changed, "again.jsonl")
    assert (first.imported, first.held, first.duplicates) == (2, 1, 0)
    assert (second.imported, second.held, second.duplicates) == (1, 0, 3)
    after = counts(store)
    assert after["orders"] == before["orders"] + 1
    with UnitOfWork(store, read_only=True) as uow:
        assert uow.session.scalar(select(Order.currency).where(Order.external_id == "W-1")) == "USD"


def test_empty_and_blank_files_import_nothing(store: Engine, tmp_path: Path) -> None:
    add_reference(store)
    assert run(store, tmp_path, b"").records == 0
    assert run(store, tmp_path, b"\n\n  \n", "blank.jsonl").records == 0
    assert run(store, tmp_path, b"", "empty.csv").records == 0
    assert counts(store)["orders"] == 0


def test_unknown_file_type_is_refused(store: Engine, tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="use .jsonl"):
        run(store, tmp_path, b"x", "orders.xlsx")


CSV_HEADER = (
    "channel,order_id,placed_at,customer_name,email,phone,ship_name,company,line1,line2,city,"
    "region,postal_code,country,service_level,pickup_store,promo_code,payment_status,currency,"
    "sku,quantity,unit_price\n"
)


def csv_row(order_id: str, sku: str, qty: str, price: str = "1.99", **cells: str) -> str:
    values = {
        "channel": "web",
        "order_id": order_id,
        "placed_at": "2026-11-20T10:00:00Z",
        "customer_name": "Ann Smith",
        "email": "ann@example.com",
        "phone": "+1 415 555 0123",
        "ship_name": "",
        "company": "",
        "line1": "1 Main St",
        "line2": "",
        "city": "Columbus",
        "region": "OH",
        "postal_code": "43215",
        "country": "US",
        "service_level": "standard",
        "pickup_store": "",
        "promo_code": "",
        "payment_status": "paid",
        "currency": "USD",
        "sku": sku,
        "quantity": qty,
        "unit_price": price,
    }
    values.update(cells)
    return ",".join(f'"{v}"' if "," in v else v for v in values.values()) + "\n"


def test_csv_rows_are_grouped_into_orders(store: Engine, tmp_path: Path) -> None:
    add_reference(store)
    content = (
        CSV_HEADER
        + csv_row("C-1", "PEN-1", "2")
        + csv_row("C-1", "PAD-1", "1", "3.49", payment_status="PAID")  # case does not matter
        + csv_row("C-2", "MUG-1", "1", "7.00")
        + csv_row("C-3", "PEN-1", "1")
        + csv_row("C-3", "PEN-1", "x")  # bad quantity: C-3 rejected whole
        + csv_row("C-4", "PEN-1", "1")
        + csv_row("C-4", "PAD-1", "1", city="Dayton")  # disagrees with its first row
        + csv_row("C-5", "PEN-1", "1", line1="5, Elm St")  # quoted comma
    ).encode()
    summary = run(store, tmp_path, content, "orders.csv")
    assert (summary.imported, summary.held, summary.duplicates) == (3, 0, 0)
    got = reasons(summary)
    assert got[6] == "lines[2].quantity: 'x' is not a whole number of units"  # its own line
    assert got[8].startswith("ship_to.city: 'Dayton' differs from 'Columbus' given on line 7")
    with UnitOfWork(store, read_only=True) as uow:
        lines = uow.session.execute(
            select(Order.external_id, func.count(OrderLine.id))
            .join(OrderLine, OrderLine.order_id == Order.id)
            .group_by(Order.external_id)
            .order_by(Order.external_id)
        ).all()
        assert [tuple(row) for row in lines] == [("C-1", 2), ("C-2", 1), ("C-5", 1)]


def test_a_bad_row_rejects_its_whole_order_and_a_repeat_is_a_duplicate(
    store: Engine, tmp_path: Path
) -> None:
    add_reference(store)
    content = (
        CSV_HEADER
        + csv_row("B-1", "PEN-1", "1")
        + csv_row("B-1", "PAD-1", "1").rstrip("\n")
        + ",extra\n"  # a cell too many
        + csv_row("B-1", "MUG-1", "1")
        + csv_row("B-2", "PEN-1", "1")
        + 'web,B-2,,,,,,,,,,,,,,,,paid,,MUG-1,1,"3.9"9\n'  # broken quoting
        + csv_row("B-3", "PEN-1", "1")
        + csv_row("B-3", "PAD-1", "2")
        + csv_row("B-4", "PEN-1", "1")
        + csv_row("B-3", "PEN-1", "1")  # B-3 again: a second copy
        + csv_row("B-3", "PAD-1", "2")
    ).encode()
    summary = run(store, tmp_path, content, "rows.csv")
    assert (summary.imported, summary.duplicates) == (2, 1)
    got = {(r.line, r.external_id): f"{r.field}: {r.reason}" for r in summary.rejected}
    assert got[(3, "B-1")] == "record: has 23 cells; the header has 22"
    assert got[(6, "B-2")].startswith("record: is not valid CSV")
    with UnitOfWork(store, read_only=True) as uow:
        stored = dict(
            uow.session.execute(
                select(Order.external_id, func.count(OrderLine.id))
                .join(OrderLine, OrderLine.order_id == Order.id)
                .group_by(Order.external_id)
            )
            .tuples()
            .all()
        )
    assert stored == {"B-3": 2, "B-4": 1}


def test_text_numbers_in_json_and_odd_digits_are_rejected(store: Engine, tmp_path: Path) -> None:
    add_reference(store)
    content = jsonl(
        order("J-1", lines=[{"sku": "PEN-1", "quantity": "2", "unit_price": "1.00"}]),
        order("J-2", lines=[{"sku": "PEN-1", "quantity": 1, "unit_price": "\u0661\u0662"}]),
        json.dumps(order("J-3")).replace('"quantity": 2', '"quantity": ' + "9" * 4000),
        order("J-4", placed_at="0001-01-01T00:00:00+05:00"),
        json.dumps(order("J-5", customer={"name": "\ud800", "email": "a@example.com"})),
        {**order("J-6"), "external_id": 12345},
        order("J-7"),
    )
    summary = run(store, tmp_path, content)
    assert summary.imported == 1
    got = {r.line: (r.external_id, f"{r.field}: {r.reason}") for r in summary.rejected}
    assert got[1][1] == "lines[1].quantity: expected a whole number of units, got text '2'"
    assert "is not a decimal amount" in got[2][1]
    assert "a 4000-digit number is more than" in got[3][1]
    assert "not a plausible order time" in got[4][1]
    assert "unpaired surrogate U+D800" in got[5][1]
    assert got[6] == ("12345", "external_id: expected text, got the number 12345")


def test_csv_without_required_columns_or_with_bad_bytes(store: Engine, tmp_path: Path) -> None:
    add_reference(store)
    with pytest.raises(FileFormatError, match="lacks sku, quantity"):
        run(
            store,
            tmp_path,
            b"channel,order_id,payment_status,unit_price\nweb,1,paid,1\n",
            "short.csv",
        )
    content = (
        CSV_HEADER.encode()
        + csv_row("C-1", "PEN-1", "1").encode()
        + csv_row("C-2", "PEN-1", "1", customer_name="Jos\udce9").encode("utf-8", "surrogateescape")
        + b"web,C-3,too,few\n"
    )
    summary = run(store, tmp_path, content, "bytes.csv")
    assert summary.imported == 1
    got = reasons(summary)
    assert "customer.name: is not valid UTF-8 (byte 0xe9" in got[3]
    assert got[4] == "record: has 4 cells; the header has 22"  # no order id to be read


def _import_in_subprocess(url: str, path: Path) -> subprocess.Popen[str]:
    argv = as_admin(["--db", url, "orders", "import", str(path), "--json"])
    env = dict(os.environ)
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_two_processes_importing_the_same_file_store_each_order_once(
    store: Engine, store_url: str, tmp_path: Path
) -> None:
    add_reference(store)
    records = [order(f"W-{i:05d}") for i in range(3000)]
    path = tmp_path / "same.jsonl"
    path.write_bytes(jsonl(*records))
    procs = [_import_in_subprocess(store_url, path) for _ in range(2)]
    results = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr
        results.append(json.loads(stdout))
    assert sum(r["imported"] for r in results) == 3000
    assert sum(r["duplicates"] for r in results) == 3000
    totals = counts(store)
    assert totals["orders"] == 3000
    assert totals["order_lines"] == 6000
    assert totals["order_events"] == 6000
    assert totals["addresses"] == 3000


def test_a_large_import_in_worker_processes_is_the_same_import(
    store: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.intake import importer

    add_reference(store)
    monkeypatch.setattr(importer, "BATCH_SIZE", 40)
    monkeypatch.setattr(importer, "PARALLEL_FROM", 100)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    records: list[dict[str, object] | str] = [order(f"W-{i:04d}") for i in range(300)]
    records += [
        order("W-0005"),
        order("W-0250"),
        "{broken",
        order("X-1", channel="fax"),
        order("H-1", promo_code="NOSUCH"),
    ]
    summary = run(store, tmp_path, jsonl(*records))
    assert (summary.imported, summary.held, summary.duplicates) == (300, 1, 2)
    assert [r.line for r in summary.rejected] == [303, 304]
    assert counts(store)["orders"] == 301


def test_max_packages_is_read_from_both_formats(store: Engine, tmp_path: Path) -> None:
    add_reference(store)
    summary = run(
        store,
        tmp_path,
        jsonl(
            order("J-1", max_packages=1),
            order("J-2", max_packages="1"),
            order("J-3", max_packages=0),
        ),
    )
    got = {r.external_id: f"{r.field}: {r.reason}" for r in summary.rejected}
    assert summary.imported == 1
    assert got["J-2"] == "max_packages: expected a whole number of packages, got text '1'"
    assert "0 is not a positive quantity" in got["J-3"]
    content = (
        CSV_HEADER.replace("currency,", "currency,max_packages,")
        + csv_row("C-1", "PEN-1", "1").replace(",USD,", ",USD,2,")
    ).encode()
    assert run(store, tmp_path, content, "o.csv").imported == 1
    with UnitOfWork(store, read_only=True) as uow:
        limits = dict(
            uow.session.execute(select(Order.external_id, Order.max_packages)).tuples().all()
        )
    assert limits == {"J-1": 1, "C-1": 2}
