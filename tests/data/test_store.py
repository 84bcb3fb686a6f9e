"""The store's rules: durability settings, write locks, rollback, append-only history,
constraints that make an oversell impossible, exact money and UTC time."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError

from data.models import (
    Channel,
    ChannelKind,
    InventoryPosition,
    Location,
    LocationKind,
    Node,
    NodeKind,
    Product,
    Reservation,
    ReservationKind,
)
from data.store import StoreURLError, make_engine, normalize_url
from data.uow import UnitOfWork, is_retryable, run_in_transaction


def add_node_and_product(engine: Engine) -> tuple[int, int]:
    with UnitOfWork(engine) as uow:
        node = Node(
            code="N1",
            name="Node 1",
            kind=NodeKind.DC,
            latitude=40.0,
            longitude=-80.0,
            cutoff_time=time(17, 0),
            safety_stock=0,
        )
        product = Product(
            sku="S1",
            gtin="5012345000018",
            name="Pen",
            length_mm=150,
            width_mm=15,
            height_mm=15,
            weight_g=20,
            list_price=Decimal("1.99"),
        )
        uow.session.add_all([node, product])
        uow.session.flush()
        uow.commit()
        return node.id, product.id


def test_sqlite_connections_are_durable_and_strict(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 's.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
    engine.dispose()


def test_sqlite_write_transaction_takes_the_lock_at_begin(sqlite_store: Engine) -> None:
    store = sqlite_store
    path = store.url.database
    assert path is not None
    with UnitOfWork(store):
        # Our unit of work has not written anything yet, but holds the write lock already:
        # another writer is refused at once instead of both reading then fighting.
        other = sqlite3.connect(path, timeout=0.05, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()
    with UnitOfWork(store, read_only=True):
        other = sqlite3.connect(path, timeout=0.05, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # a reader does not block writers
        other.execute("ROLLBACK")
        other.close()


def test_unit_of_work_rolls_back_unless_committed(store: Engine) -> None:
    with UnitOfWork(store) as uow:
        uow.session.add(Channel(code="web", name="Web", kind=ChannelKind.WEB))
        uow.session.flush()
    with UnitOfWork(store) as uow:
        uow.session.add(Channel(code="app", name="App", kind=ChannelKind.MOBILE))
        uow.commit()
    with pytest.raises(RuntimeError), UnitOfWork(store) as uow:
        uow.session.add(Channel(code="pos", name="POS", kind=ChannelKind.STORE))
        uow.session.flush()
        raise RuntimeError("a failure half-way through")
    with UnitOfWork(store, read_only=True) as uow:
        assert list(uow.session.scalars(select(Channel.code))) == ["app"]


def test_history_rows_cannot_be_rewritten_or_deleted(store: Engine) -> None:
    node_id, product_id = add_node_and_product(store)
    with UnitOfWork(store) as uow:
        uow.session.add(
            Reservation(
                node_id=node_id,
                product_id=product_id,
                kind=ReservationKind.RESERVE,
                quantity=1,
                actor="test",
            )
        )
        uow.commit()
    with pytest.raises(DBAPIError, match="append-only"), UnitOfWork(store) as uow:
        uow.session.execute(update(Reservation).values(quantity=5))
    with pytest.raises(DBAPIError, match="append-only"), UnitOfWork(store) as uow:
        uow.session.execute(text("DELETE FROM reservations"))
    if store.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), UnitOfWork(store) as uow:
            uow.session.execute(text("TRUNCATE reservations"))


@pytest.mark.parametrize(
    ("on_hand", "reserved"),
    [(5, 6), (-1, 0), (3, -1)],
)
def test_check_constraints_make_an_oversell_impossible(
    store: Engine, on_hand: int, reserved: int
) -> None:
    node_id, product_id = add_node_and_product(store)
    with pytest.raises(IntegrityError), UnitOfWork(store) as uow:
        uow.session.add(
            InventoryPosition(
                node_id=node_id, product_id=product_id, on_hand=on_hand, reserved=reserved
            )
        )
        uow.session.flush()


def test_stock_location_must_belong_to_the_stock_node(store: Engine) -> None:
    from data.models import Stock

    node_id, product_id = add_node_and_product(store)
    with UnitOfWork(store) as uow:
        other = Node(
            code="N2",
            name="Node 2",
            kind=NodeKind.DC,
            latitude=1.0,
            longitude=1.0,
            cutoff_time=time(17, 0),
        )
        uow.session.add(other)
        uow.session.flush()
        loc = Location(node_id=other.id, code="A", barcode="LOC-A", kind=LocationKind.BULK)
        uow.session.add(loc)
        uow.commit()
        other_location = loc.id
    with pytest.raises(IntegrityError), UnitOfWork(store) as uow:
        uow.session.add(
            Stock(node_id=node_id, location_id=other_location, product_id=product_id, on_hand=1)
        )
        uow.session.flush()


def test_money_is_exact_and_time_is_utc(store: Engine) -> None:
    price = Decimal("1234567.89")
    with UnitOfWork(store) as uow:
        uow.session.add(
            Product(
                sku="S9",
                name="Expensive",
                length_mm=1,
                width_mm=1,
                height_mm=1,
                weight_g=1,
                list_price=price,
            )
        )
        uow.commit()
    with UnitOfWork(store, read_only=True) as uow:
        got = uow.session.scalar(select(Product.list_price))
        assert got == price
        assert isinstance(got, Decimal)
        assert str(got) == "1234567.89"
    with (
        pytest.raises(StatementError, match="more than two decimal places"),
        UnitOfWork(store) as uow,
    ):
        uow.session.add(
            Product(
                sku="S10",
                name="Bad",
                length_mm=1,
                width_mm=1,
                height_mm=1,
                weight_g=1,
                list_price=Decimal("0.001"),
            )
        )
        uow.session.flush()
    # A non-UTC offset is stored as the same instant and read back as UTC.
    from data.models import PromoCode, PromoKind

    local = timezone(timedelta(hours=-5))
    with UnitOfWork(store) as uow:
        uow.session.add(
            PromoCode(
                code="P",
                kind=PromoKind.PERCENT,
                percent_bp=100,
                valid_from=datetime(2026, 1, 1, 19, 0, tzinfo=local),
                valid_until=datetime(2026, 2, 1, tzinfo=UTC),
            )
        )
        uow.commit()
    with UnitOfWork(store, read_only=True) as uow:
        got_time = uow.session.scalar(select(PromoCode.valid_from))
        assert got_time == datetime(2026, 1, 2, 0, 0, tzinfo=UTC)
        assert got_time is not None
        assert got_time.tzinfo is not None


def test_run_in_transaction_retries_busy_then_gives_up(store: Engine) -> None:
    attempts: list[int] = []

    class Busy(DBAPIError):
        pass

    def work(_uow: UnitOfWork) -> None:
        attempts.append(1)
        raise DBAPIError.instance(
            "BEGIN", {}, sqlite3.OperationalError("database is locked"), sqlite3.Error
        )

    with pytest.raises(DBAPIError):
        run_in_transaction(store, work, attempts=3, base_delay=0.0)
    assert len(attempts) == 3

    calls: list[int] = []

    def not_retryable(_uow: UnitOfWork) -> None:
        calls.append(1)
        raise DBAPIError.instance(
            "INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed"), sqlite3.Error
        )

    with pytest.raises(DBAPIError):
        run_in_transaction(store, not_retryable, attempts=3, base_delay=0.0)
    assert len(calls) == 1
    assert not is_retryable(ValueError("x"))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", None),
        ("sqlite:///x.db", "sqlite+pysqlite:///x.db"),
    ],
)
def test_urls_are_normalised_to_the_drivers_used(given: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(StoreURLError):
            normalize_url(given)
    else:
        assert normalize_url(given) == expected


def test_in_memory_sqlite_is_refused() -> None:
    with pytest.raises(StoreURLError, match="must be a file"):
        normalize_url("sqlite://")
