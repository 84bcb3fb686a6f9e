"""Small, explicit reference data for tests: channels, products, promos and nodes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select

from app.users import LoggedIn
from data.demo import DEMO_EPOCH
from data.models import (
    Base,
    Channel,
    ChannelKind,
    Location,
    LocationKind,
    Node,
    NodeKind,
    Product,
    PromoCode,
    PromoCodeChannel,
    PromoKind,
    Role,
    Stock,
)
from data.uow import UnitOfWork

SKUS = ("PEN-1", "PAD-1", "MUG-1")


def add_reference(engine: Engine) -> dict[str, int]:
    """Channels web/mobile/amazon, three products (one discontinued), four promo codes,
    a warehouse and two stores (one offering pickup). Returns ids by code."""
    with UnitOfWork(engine) as uow:
        s = uow.session
        channels = [
            Channel(code="web", name="Web", kind=ChannelKind.WEB),
            Channel(code="mobile", name="App", kind=ChannelKind.MOBILE),
            Channel(code="amazon", name="Amazon", kind=ChannelKind.MARKETPLACE),
            Channel(code="closed", name="Closed", kind=ChannelKind.WEB, active=False),
        ]
        products = [
            Product(
                sku="PEN-1",
                gtin="5012345000018",
                name="Stabilo pen",
                length_mm=150,
                width_mm=15,
                height_mm=15,
                weight_g=20,
                list_price=Decimal("1.99"),
            ),
            Product(
                sku="PAD-1",
                gtin="5012345000025",
                name="A4 pad",
                length_mm=297,
                width_mm=210,
                height_mm=10,
                weight_g=300,
                list_price=Decimal("3.49"),
            ),
            Product(
                sku="MUG-1",
                gtin="5012345000032",
                name="Mug",
                length_mm=120,
                width_mm=90,
                height_mm=100,
                weight_g=350,
                list_price=Decimal("7.00"),
            ),
            Product(
                sku="OLD-1",
                gtin="5012345000049",
                name="Fax roll",
                length_mm=210,
                width_mm=50,
                height_mm=50,
                weight_g=200,
                list_price=Decimal("2.00"),
                active=False,
            ),
        ]
        nodes = [
            Node(
                code="WH1",
                name="Warehouse",
                kind=NodeKind.WAREHOUSE,
                latitude=39.96,
                longitude=-83.0,
                cutoff_time=time(17),
                safety_stock=2,
                can_ship=True,
            ),
            Node(
                code="S001",
                name="Store 1",
                kind=NodeKind.STORE,
                latitude=40.7,
                longitude=-74.0,
                cutoff_time=time(15),
                safety_stock=1,
                can_pickup=True,
                ship_from_store=True,
            ),
            Node(
                code="S002",
                name="Store 2",
                kind=NodeKind.STORE,
                latitude=41.9,
                longitude=-87.6,
                cutoff_time=time(15),
                can_pickup=False,
            ),
        ]
        s.add_all([*channels, *products, *nodes])
        s.flush()
        year = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))
        promos = [
            PromoCode(
                code="TEN",
                kind=PromoKind.PERCENT,
                percent_bp=1000,
                valid_from=year[0],
                valid_until=year[1],
            ),
            PromoCode(
                code="FIVEOFF",
                kind=PromoKind.AMOUNT,
                amount_off=Decimal("5.00"),
                valid_from=year[0],
                valid_until=year[1],
            ),
            PromoCode(
                code="OLDSALE",
                kind=PromoKind.PERCENT,
                percent_bp=2500,
                valid_from=datetime(2025, 1, 1, tzinfo=UTC),
                valid_until=datetime(2025, 2, 1, tzinfo=UTC),
            ),
            PromoCode(
                code="APPONLY",
                kind=PromoKind.PERCENT,
                percent_bp=1500,
                valid_from=year[0],
                valid_until=year[1],
            ),
        ]
        s.add_all(promos)
        s.flush()
        s.add(PromoCodeChannel(promo_code_id=promos[3].id, channel_id=channels[1].id))
        locations = [
            Location(node_id=n.id, code="BIN-1", barcode="LOC-BIN-1", kind=LocationKind.PICK)
            for n in nodes
        ]
        s.add_all(locations)
        s.flush()
        ids = {c.code: c.id for c in channels}
        ids.update({p.sku: p.id for p in products})
        ids.update({n.code: n.id for n in nodes})
        ids.update({f"loc:{n.code}": loc.id for n, loc in zip(nodes, locations, strict=True)})
        uow.commit()
        return ids


def order(external_id: str = "W-1", **overrides: Any) -> dict[str, Any]:
    """A good JSON order record; keyword arguments replace top-level fields."""
    record: dict[str, Any] = {
        "channel": "web",
        "external_id": external_id,
        "placed_at": "2026-11-20T10:15:00Z",
        "customer": {"name": "Ann Smith", "email": "ann@example.com", "phone": "+1 415 555 0123"},
        "ship_to": {
            "name": "Ann Smith",
            "line1": "1 Main St",
            "city": "Columbus",
            "region": "OH",
            "postal_code": "43215",
            "country": "US",
        },
        "service_level": "standard",
        "payment_status": "paid",
        "currency": "USD",
        "lines": [
            {"sku": "PEN-1", "quantity": 2, "unit_price": "1.99"},
            {"sku": "PAD-1", "quantity": 1, "unit_price": "3.49"},
        ],
    }
    record.update(overrides)
    return record


def jsonl(*records: dict[str, Any] | str | bytes) -> bytes:
    """A JSON Lines file: dicts are encoded, str and bytes are written as they are."""
    lines = []
    for r in records:
        if isinstance(r, bytes):
            lines.append(r)
        elif isinstance(r, str):
            lines.append(r.encode())
        else:
            lines.append(json.dumps(r, ensure_ascii=False).encode())
    return b"\n".join(lines) + b"\n"


PLAN_AT = datetime.combine(datetime.now(UTC).date(), time(9, 0), tzinfo=UTC)
"""When test floors plan their waves: a morning, so every carrier collection of the day
is still ahead and the waves (and the order pickers get them in) do not depend on the hour
the tests run at."""


def age_demo_stock(engine: Engine) -> None:
    """Move the demo stock's expiry dates on by the days since the demo's epoch, so a
    seeded floor has as much shelf life left today as it had then: the lots the waves
    leave out as expired, and so the pick lists, do not change with the date."""
    shift = PLAN_AT.date() - DEMO_EPOCH.date()
    with UnitOfWork(engine) as uow:
        for row in uow.session.scalars(select(Stock).where(Stock.expiry.is_not(None))):
            assert row.expiry is not None
            row.expiry = row.expiry + shift
        uow.commit()


# A picker logged in at PICK-01, for flow tests that need no store.
PAT = LoggedIn(
    user_id=1,
    badge="U1001",
    name="Pat Picker",
    roles=frozenset({Role.PICKER}),
    station_id=1,
    station_code="PICK-01",
    station_role="pick",
    node_id=1,
    node_code="WH1",
    node_timezone="Europe/London",
)


UNRECORDED = {"login_events"}
"""The security history: a refused try is recorded there on purpose."""


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the login history."""
    seen: dict[str, list[tuple[Any, ...]]] = {}
    with UnitOfWork(engine, read_only=True) as uow:
        for table in Base.metadata.sorted_tables:
            if table.name in UNRECORDED:
                continue
            rows = uow.session.execute(select(table)).all()
            seen[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return seen
