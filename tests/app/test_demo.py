"""The demo site: deterministic, complete (every role, channel and node kind), and valid."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from app import demo
from app.users import verify_pin
from data.demo import USERS, gs1_check_digit, gtin13
from data.migrate import upgrade
from data.models import (
    Box,
    Location,
    LocationKind,
    Node,
    NodeKind,
    Order,
    OrderStatus,
    Product,
    Role,
    Station,
    StationRole,
    User,
)
from data.store import make_engine
from data.uow import UnitOfWork


def snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with UnitOfWork(engine, read_only=True) as uow:
        s = uow.session
        return {
            "products": [
                tuple(r)
                for r in s.execute(
                    select(
                        Product.sku,
                        Product.gtin,
                        Product.name,
                        Product.weight_g,
                        Product.list_price,
                    ).order_by(Product.sku)
                )
            ],
            "orders": [
                tuple(r)
                for r in s.execute(
                    select(
                        Order.external_id,
                        Order.status,
                        Order.subtotal,
                        Order.discount_total,
                        Order.placed_at,
                    ).order_by(Order.external_id)
                )
            ],
            "users": [
                tuple(r) for r in s.execute(select(User.badge, User.pin_hash).order_by(User.badge))
            ],
            "nodes": [
                tuple(r)
                for r in s.execute(
                    select(Node.code, Node.latitude, Node.longitude).order_by(Node.code)
                )
            ],
        }


def test_same_seed_same_site_other_seed_other_site(tmp_path: Path) -> None:
    engines = []
    for name in ("a", "b", "c"):
        engine = make_engine(f"sqlite:///{tmp_path / name}.db")
        upgrade(engine)
        engines.append(engine)
    demo.seed(engines[0], "small", 7)
    demo.seed(engines[1], "small", 7)
    demo.seed(engines[2], "small", 8)
    a, b, c = (snapshot(e) for e in engines)
    assert a == b
    assert a["products"] != c["products"]
    assert a["orders"] != c["orders"]


def test_small_site_is_complete_and_valid(store: Engine) -> None:
    report = demo.seed(store, "small", 1)
    assert report.orders.rejected == []
    assert report.orders.imported + report.orders.held == 1000
    assert 0 < report.orders.held < 60
    site = demo.site_summary(store)
    assert set(site.nodes) == {"warehouse", "dc", "store"}
    assert set(site.orders_by_channel) == {"web", "mobile", "callcenter", "store", "amazon", "ebay"}
    with UnitOfWork(store, read_only=True) as uow:
        s = uow.session
        gtins = list(s.scalars(select(Product.gtin)))
        assert len(gtins) == 500
        assert all(
            g is not None and len(g) == 13 and int(g[-1]) == gs1_check_digit(g[:-1]) for g in gtins
        )
        assert s.scalar(select(Box.id).limit(1)) is not None
        roles = {r.role for u in s.scalars(select(User)) for r in u.roles}
        assert roles == set(Role)
        stations = {st.role for st in s.scalars(select(Station))}
        assert stations == set(StationRole)
        warehouse_locations = list(
            s.scalars(
                select(Location)
                .join(Node, Node.id == Location.node_id)
                .where(Node.kind == NodeKind.WAREHOUSE)
            )
        )
        assert len({loc.barcode for loc in warehouse_locations}) == len(warehouse_locations)
        # Every location is a shelf of the layout, but the problem shelf by the pack benches
        # and the dock doors.
        shelf = [
            loc
            for loc in warehouse_locations
            if loc.kind in (LocationKind.STAGING, LocationKind.DOCK)
        ]
        assert sorted(loc.code for loc in shelf) == [
            "DOCK-1",
            "DOCK-2",
            "DOCK-3",
            "DOCK-4",
            "PROBLEM",
        ]
        warehouse_locations = [loc for loc in warehouse_locations if loc not in shelf]
        assert {loc.block for loc in warehouse_locations} == {1, 2}
        assert {loc.side for loc in warehouse_locations} == {"L", "R"}
        # Locations in one aisle share its x; bays run along y; blocks are apart.
        aisle_one = {loc.x_mm for loc in warehouse_locations if loc.aisle == 1}
        assert len(aisle_one) == 1
        held = s.scalar(select(Order.id).where(Order.status == OrderStatus.HELD).limit(1))
        assert held is not None
        hashes = {u.badge: u.pin_hash for u in s.scalars(select(User))}
    for badge, _name, pin, _roles in USERS:
        assert verify_pin(pin, hashes[badge])
        assert not verify_pin("0000", hashes[badge])


def test_seeding_a_store_that_holds_a_site_is_refused(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'twice.db'}")
    upgrade(engine)
    demo.seed(engine, "small", 1)
    with pytest.raises(demo.StoreNotEmpty):
        demo.seed(engine, "small", 1)


def test_gtin13_check_digits() -> None:
    assert gtin13(67890) == "5012345678900"  # the GS1 UK example number
    assert gs1_check_digit("400638133393") == 1


def test_shipfloor_demo_seeds_the_default_store_once(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SHIPFLOOR_DATABASE_URL"}
    cmd = [sys.executable, "-m", "app.cli", "demo"]
    first = subprocess.run(
        cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert first.returncode == 0, first.stderr
    assert "Seeded the small demo site" in first.stdout
    assert "orders" in first.stdout
    assert (tmp_path / "shipfloor.db").exists()
    second = subprocess.run(
        cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert second.returncode == 0, second.stderr
    assert "Seeded" not in second.stdout
    assert "1 warehouse" in second.stdout


def test_an_unfinished_seed_is_named_not_silently_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import random

    from app.demo import demo_layout
    from app.users import hash_pin
    from app.walks import site as layouts
    from data import demo as site
    from tests.cli import main

    url = f"sqlite:///{tmp_path / 'half.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with UnitOfWork(engine) as uow:  # the site, as an interrupted seed leaves it
        layout = layouts.from_dict(demo_layout(site.SCALES["small"]))
        site.seed_site(
            uow.session,
            site.SCALES["small"],
            random.Random(1),
            hash_pin,
            list(layout.location_rows()),
        )
        uow.commit()
    engine.dispose()
    assert main(["--db", url, "demo"]) == 2
    assert "did not finish" in capsys.readouterr().err
