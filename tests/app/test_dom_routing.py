"""DOM in the store: each routing rule, the reservation that goes with a plan, the stored
explanation, and holds that name what is missing."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from app.actor import Actor
from app.dom.explain import OrderNotFoundError, explain
from app.dom.routing import NotRoutable, RoutingSettings, route_one, route_order
from app.dom.service import give_back
from app.intake.importer import import_file
from app.inventory import available, reconcile
from data import dom as store
from data import inventory
from data.inventory import Who
from data.models import (
    Channel,
    DomDecision,
    LineAllocation,
    Location,
    LocationKind,
    Node,
    Order,
    OrderHold,
    OrderLine,
    OrderStatus,
)
from data.types import utcnow
from data.uow import UnitOfWork
from tests.cli import as_admin
from tests.factories import add_reference, jsonl, order

DOM = Actor.system("dom-test")
SETTINGS = RoutingSettings()


def site(engine: Engine) -> dict[str, int]:
    """Reference data plus a second shipping warehouse in Chicago, postal areas, and
    stock: WH1 (Columbus) PEN 10, PAD 5; WH2 (Chicago) PEN 10, MUG 5; S001 (pickup) PEN 3."""
    ids = add_reference(engine)
    with UnitOfWork(engine) as uow:
        s = uow.session
        s.execute(update(Node).where(Node.code == "WH1").values(daily_capacity=100))
        wh2 = Node(
            code="WH2",
            name="Chicago DC",
            kind="dc",
            latitude=41.88,
            longitude=-87.63,
            cutoff_time=time(16, 0),
            safety_stock=0,
            can_ship=True,
            daily_capacity=100,
            priority=5,
        )
        s.add(wh2)
        s.flush()
        loc = Location(node_id=wh2.id, code="BIN-1", barcode="LOC-BIN-1", kind=LocationKind.PICK)
        s.add(loc)
        s.flush()
        ids["WH2"], ids["loc:WH2"] = wh2.id, loc.id
        store.add_postal_areas(
            s,
            [
                {
                    "country": "US",
                    "prefix": "432",
                    "name": "Columbus",
                    "latitude": 39.96,
                    "longitude": -83.0,
                },
                {
                    "country": "US",
                    "prefix": "606",
                    "name": "Chicago",
                    "latitude": 41.88,
                    "longitude": -87.63,
                },
            ],
        )
        for node, sku, qty in (
            ("WH1", "PEN-1", 12),
            ("WH1", "PAD-1", 7),
            ("WH2", "PEN-1", 10),
            ("WH2", "MUG-1", 5),
            ("S001", "PEN-1", 4),
        ):
            inventory.receive(
                s,
                node_id=ids[node],
                location_id=ids[f"loc:{node}"],
                product_id=ids[sku],
                quantity=qty,
                who=Who("test"),
                at=utcnow(),
            )
        uow.commit()
    return ids


def place(engine: Engine, tmp_path: Path, *records: dict[str, Any]) -> dict[str, int]:
    path = tmp_path / "orders.jsonl"
    path.write_bytes(jsonl(*records))
    summary = import_file(engine, path, Actor.system("test"))
    assert summary.rejected == []
    with UnitOfWork(engine, read_only=True) as uow:
        return dict(uow.session.execute(select(Order.external_id, Order.id)).tuples().all())


def chicago(**overrides: Any) -> dict[str, Any]:
    address = {
        "name": "Ann",
        "line1": "1 State St",
        "city": "Chicago",
        "region": "IL",
        "postal_code": "60601",
        "country": "US",
    }
    return {"ship_to": address, **overrides}


def lines(*items: tuple[str, int]) -> list[dict[str, Any]]:
    return [{"sku": sku, "quantity": qty, "unit_price": "1.00"} for sku, qty in items]


def allocations(engine: Engine, order_id: int) -> list[tuple[str, int]]:
    with UnitOfWork(engine, read_only=True) as uow:
        rows = uow.session.execute(
            select(Node.code, LineAllocation.quantity)
            .join(Node, Node.id == LineAllocation.node_id)
            .join(OrderLine, OrderLine.id == LineAllocation.order_line_id)
            .where(OrderLine.order_id == order_id)
            .order_by(LineAllocation.id)
        )
        return [tuple(r) for r in rows]


def status_and_holds(engine: Engine, order_id: int) -> tuple[OrderStatus, list[str]]:
    with UnitOfWork(engine, read_only=True) as uow:
        status = uow.session.scalar(select(Order.status).where(Order.id == order_id))
        holds = list(
            uow.session.scalars(
                select(OrderHold.message)
                .where(OrderHold.order_id == order_id)
                .order_by(OrderHold.id)
            )
        )
    assert status is not None
    return status, holds


def test_nearest_complete_node_wins_and_the_stock_is_reserved(
    store: Engine, tmp_path: Path
) -> None:
    site(store)
    ids = place(store, tmp_path, order("W-1", lines=lines(("PEN-1", 2)), **chicago()))
    result = route_one(store, ids["W-1"], DOM, SETTINGS)
    assert result is not None
    assert result.outcome == "routed"
    assert allocations(store, ids["W-1"]) == [("WH2", 2)]
    wh2 = {n.node_code: n for n in available(store, "PEN-1").nodes}["WH2"]
    assert (wh2.reserved, wh2.atp) == (2, 8)
    assert reconcile(store) == []
    assert status_and_holds(store, ids["W-1"])[0] is OrderStatus.ROUTED


def test_one_package_beats_two_and_ship_complete_holds_what_needs_two(
    store: Engine, tmp_path: Path
) -> None:
    site(store)
    both = lines(("PEN-1", 1), ("PAD-1", 1))  # only WH1 has both
    split = lines(("PAD-1", 1), ("MUG-1", 1))  # WH1 has PAD, WH2 has MUG
    ids = place(
        store,
        tmp_path,
        order("W-BOTH", lines=both, **chicago()),
        order("W-SPLIT", lines=split, **chicago()),
        order("A-SPLIT", channel="amazon", lines=split, **chicago()),
    )
    with UnitOfWork(store) as uow:
        uow.session.execute(update(Channel).where(Channel.code == "amazon").values(max_packages=1))
        uow.commit()
    assert route_one(store, ids["W-BOTH"], DOM, SETTINGS) is not None
    assert allocations(store, ids["W-BOTH"]) == [("WH1", 1), ("WH1", 1)]
    assert route_one(store, ids["W-SPLIT"], DOM, SETTINGS) is not None
    assert sorted(allocations(store, ids["W-SPLIT"])) == [("WH1", 1), ("WH2", 1)]
    held = route_one(store, ids["A-SPLIT"], DOM, SETTINGS)
    assert held is not None
    assert held.outcome == "held"
    status, holds = status_and_holds(store, ids["A-SPLIT"])
    assert status is OrderStatus.HELD
    assert "at most 1 node(s)" in holds[-1]
    assert allocations(store, ids["A-SPLIT"]) == []


def test_safety_stock_is_never_promised(store: Engine, tmp_path: Path) -> None:
    site(store)  # WH1 PAD 7 with safety stock 2: 5 can be promised
    ids = place(
        store,
        tmp_path,
        order("W-6", lines=lines(("PAD-1", 6)), **chicago()),
        order("W-5", lines=lines(("PAD-1", 5)), **chicago()),
    )
    held = route_one(store, ids["W-6"], DOM, SETTINGS)
    assert held is not None
    assert held.outcome == "held"
    assert "PAD-1 short 1" in held.summary
    assert route_one(store, ids["W-5"], DOM, SETTINGS) is not None
    wh1 = {n.node_code: n for n in available(store, "PAD-1").nodes}["WH1"]
    assert (wh1.on_hand, wh1.reserved, wh1.atp) == (7, 5, 0)


def test_pickup_orders_stay_with_their_store(store: Engine, tmp_path: Path) -> None:
    site(store)
    ids = place(
        store,
        tmp_path,
        order("P-OK", service_level="pickup", pickup_store="S001", lines=lines(("PEN-1", 3))),
        order(
            "P-SHORT",
            service_level="pickup",
            pickup_store="S001",
            lines=lines(("PEN-1", 1), ("PAD-1", 1)),
        ),
    )
    ok = route_one(store, ids["P-OK"], DOM, SETTINGS)
    assert ok is not None
    assert ok.rule == "pickup in store"
    assert allocations(store, ids["P-OK"]) == [("S001", 3)]
    short = route_one(store, ids["P-SHORT"], DOM, SETTINGS)
    assert short is not None
    assert short.outcome == "held"
    assert "PAD-1 short 1" in short.summary
    assert "never shipped from elsewhere" in short.summary
    assert allocations(store, ids["P-SHORT"]) == []  # WH1 has PAD, but it is not used


def test_daily_capacity_and_cut_off(store: Engine, tmp_path: Path) -> None:
    ids_ref = site(store)
    with UnitOfWork(store) as uow:
        uow.session.execute(update(Node).where(Node.code == "WH2").values(daily_capacity=1))
        uow.commit()
    ids = place(
        store,
        tmp_path,
        *(order(f"W-{i}", lines=lines(("PEN-1", 1)), **chicago()) for i in range(2)),
        order("X-1", service_level="express", lines=lines(("PEN-1", 1)), **chicago()),
    )
    first, second = (route_one(store, ids[f"W-{i}"], DOM, SETTINGS) for i in range(2))
    assert first is not None
    assert second is not None
    assert allocations(store, ids["W-0"]) == [("WH2", 1)]
    assert allocations(store, ids["W-1"]) == [("WH1", 1)]  # WH2 is full for the day
    assert "daily capacity used (1/1 packages)" in explain(store, "web/W-1")
    # At 18:00 UTC both warehouses (cut-off 17:00 and 16:00, UTC) are past cut-off.
    # A later day, so WH2's full day does not decide first.
    late = datetime(2099, 11, 27, 18, 0, tzinfo=UTC)
    with UnitOfWork(store) as uow:
        result = route_order(uow.session, ids["X-1"], DOM, SETTINGS, now=late)
        uow.commit()
    assert result.outcome == "held"
    text = explain(store, "X-1")
    assert "past its 17:00 cut-off for express" in text
    assert "past its 16:00 cut-off for express" in text
    assert ids_ref["WH1"] != ids_ref["WH2"]


def test_unknown_postal_area_holds_with_the_fix(store: Engine, tmp_path: Path) -> None:
    site(store)
    ids = place(
        store,
        tmp_path,
        order(
            "W-1",
            lines=lines(("PEN-1", 1)),
            ship_to={
                "name": "A",
                "line1": "1 X St",
                "city": "Boston",
                "postal_code": "02101",
                "country": "US",
            },
        ),
    )
    result = route_one(store, ids["W-1"], DOM, SETTINGS)
    assert result is not None
    assert result.outcome == "held"
    assert "not in the store's postal areas" in result.summary


def test_only_verified_orders_are_routed_and_explain_reads_back(
    store: Engine, tmp_path: Path
) -> None:
    site(store)
    ids = place(
        store,
        tmp_path,
        order("W-1", lines=lines(("PEN-1", 1)), **chicago()),
        order("W-2", promo_code="NOSUCH", lines=lines(("PEN-1", 1)), **chicago()),
    )
    assert route_one(store, ids["W-2"], DOM, SETTINGS) is None  # held at intake
    assert route_one(store, ids["W-1"], DOM, SETTINGS) is not None
    assert route_one(store, ids["W-1"], DOM, SETTINGS) is None  # already routed
    text = explain(store, "web/W-1")
    assert "Order web/W-1" in text
    assert "routed (cheapest plan)" in text
    assert "WH2" in text
    assert "candidates (nearest first)" in text
    assert "ship-to US 60601 (located by 606)" in text
    with pytest.raises(OrderNotFoundError, match="no order answers"):
        explain(store, "nope")


def test_a_rejected_line_is_rerouted_and_the_node_stock_corrected(
    store: Engine, tmp_path: Path
) -> None:
    ids_ref = site(store)
    ids = place(store, tmp_path, order("W-1", lines=lines(("PEN-1", 3)), **chicago()))
    assert route_one(store, ids["W-1"], DOM, SETTINGS) is not None
    assert allocations(store, ids["W-1"]) == [("WH2", 3)]
    result = give_back(store, ids["W-1"], 1, "WH2", "damaged", DOM, SETTINGS, quantity=2)
    assert result.outcome == "routed"
    assert result.written_off == 2
    assert "2 x PEN-1 given back by WH2 (damaged) now from WH1 (2)" in result.summary
    with UnitOfWork(store, read_only=True) as uow:
        rows = uow.session.execute(
            select(Node.code, LineAllocation.quantity, LineAllocation.status)
            .join(Node, Node.id == LineAllocation.node_id)
            .order_by(LineAllocation.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("WH2", 3, "rejected"),
        ("WH2", 1, "reserved"),
        ("WH1", 2, "reserved"),
    ]
    pen = {n.node_code: n for n in available(store, "PEN-1").nodes}
    assert (pen["WH2"].on_hand, pen["WH2"].reserved) == (8, 1)  # 2 written off
    assert (pen["WH1"].on_hand, pen["WH1"].reserved) == (12, 2)
    assert reconcile(store) == []
    text = explain(store, "W-1")
    assert "WH2 gave back 2 x PEN-1 (damaged); 2 written off its stock" in text
    assert ids_ref["WH2"] > 0


def test_a_short_pick_nobody_else_can_fill_holds_the_order_and_frees_its_stock(
    store: Engine, tmp_path: Path
) -> None:
    ids_ref = site(store)
    ids = place(store, tmp_path, order("W-1", lines=lines(("MUG-1", 2), ("PEN-1", 1)), **chicago()))
    assert route_one(store, ids["W-1"], DOM, SETTINGS) is not None
    assert sorted(allocations(store, ids["W-1"])) == [("WH2", 1), ("WH2", 2)]
    result = give_back(
        store,
        ids["W-1"],
        1,
        "WH2",
        "not_found",
        DOM,
        SETTINGS,
        quantity=1,
        location_id=ids_ref["loc:WH2"],
    )
    assert result.outcome == "held"
    status, holds = status_and_holds(store, ids["W-1"])
    assert status is OrderStatus.HELD
    assert "1 x MUG-1 given back by WH2 (not_found)" in holds[-1]
    mug = {n.node_code: n for n in available(store, "MUG-1").nodes}["WH2"]
    assert (mug.on_hand, mug.reserved) == (4, 0)
    pen = {n.node_code: n for n in available(store, "PEN-1").nodes}["WH2"]
    assert pen.reserved == 0
    assert reconcile(store) == []


def test_give_back_refuses_what_is_not_there(store: Engine, tmp_path: Path) -> None:
    site(store)
    ids = place(store, tmp_path, order("W-1", lines=lines(("PEN-1", 1)), **chicago()))
    with pytest.raises(NotRoutable, match="only routed, released or picking"):
        give_back(store, ids["W-1"], 1, "WH2", "damaged", DOM, SETTINGS)
    assert route_one(store, ids["W-1"], DOM, SETTINGS) is not None
    with pytest.raises(NotRoutable, match="nothing reserved at WH1"):
        give_back(store, ids["W-1"], 1, "WH1", "damaged", DOM, SETTINGS)
    with pytest.raises(ValueError, match="holds 1 for line 1; cannot give back 5"):
        give_back(store, ids["W-1"], 1, "WH2", "damaged", DOM, SETTINGS, quantity=5)
    with pytest.raises(ValueError, match="unknown reason"):
        give_back(store, ids["W-1"], 1, "WH2", "lost-it", DOM, SETTINGS)


def test_an_order_can_ask_to_ship_complete(store: Engine, tmp_path: Path) -> None:
    site(store)
    split = lines(("PAD-1", 1), ("MUG-1", 1))  # WH1 has PAD, WH2 has MUG: needs two
    ids = place(
        store,
        tmp_path,
        order("W-ONE", lines=split, max_packages=1, **chicago()),
        order("W-ANY", lines=split, **chicago()),
    )
    held = route_one(store, ids["W-ONE"], DOM, SETTINGS)
    assert held is not None
    assert held.outcome == "held"
    assert "at most 1 node(s)" in held.summary
    routed = route_one(store, ids["W-ANY"], DOM, SETTINGS)
    assert routed is not None
    assert routed.outcome == "routed"


def test_two_routers_at_once_route_each_order_once_within_stock(
    store: Engine, store_url: str, tmp_path: Path
) -> None:
    import json
    import os
    import subprocess
    import sys

    site(store)
    # 40 one-line orders for PEN-1; WH1 can promise 10, WH2 10, (S001 does not ship).
    records = [order(f"W-{i:02d}", lines=lines(("PEN-1", 1)), **chicago()) for i in range(40)]
    place(store, tmp_path, *records)
    cmd = [sys.executable, "-m", "app.cli", *as_admin(["--db", store_url, "route", "--json"])]
    env = dict(os.environ)
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for _ in range(2)
    ]
    results = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr
        results.append(json.loads(stdout))
    routed = sum(r["routed"] for r in results)
    held = sum(r["held"] for r in results)
    assert routed == 20  # every unit that could be promised, and not one more
    assert held == 20  # each decided once: a router never overrides the other's decision
    decided = [o["order"] for r in results for o in r["orders"]]
    assert len(decided) == len(set(decided)) == 40
    assert reconcile(store) == []
    pen = {n.node_code: n for n in available(store, "PEN-1").nodes}
    assert pen["WH1"].reserved == 10
    assert pen["WH2"].reserved == 10


def test_a_pickup_store_giving_back_holds_the_order_never_ships_it(
    store: Engine, tmp_path: Path
) -> None:
    site(store)
    ids = place(
        store,
        tmp_path,
        order("P-1", service_level="pickup", pickup_store="S001", lines=lines(("PEN-1", 2))),
    )
    assert route_one(store, ids["P-1"], DOM, SETTINGS) is not None
    result = give_back(store, ids["P-1"], 1, "S001", "damaged", DOM, SETTINGS, quantity=1)
    assert result.outcome == "held"  # WH1 and WH2 have PEN-1, but a pickup is not shipped
    assert allocations(store, ids["P-1"]) == [("S001", 2), ("S001", 1)]
    assert reconcile(store) == []
    pen = {n.node_code: n for n in available(store, "PEN-1").nodes}
    assert pen["S001"].reserved == 0
    assert pen["WH1"].reserved == pen["WH2"].reserved == 0


def test_capacity_give_back_keeps_stock_and_never_bounces_back(
    store: Engine, tmp_path: Path
) -> None:
    site(store)
    ids = place(store, tmp_path, order("W-1", lines=lines(("PEN-1", 1)), **chicago()))
    assert route_one(store, ids["W-1"], DOM, SETTINGS) is not None
    first = give_back(store, ids["W-1"], 1, "WH2", "capacity", DOM, SETTINGS)
    assert first.outcome == "routed"
    assert first.written_off == 0
    second = give_back(store, ids["W-1"], 1, "WH1", "capacity", DOM, SETTINGS)
    assert second.outcome == "held"  # WH2 already gave it back: not asked again
    pen = {n.node_code: n for n in available(store, "PEN-1").nodes}
    assert (pen["WH1"].on_hand, pen["WH2"].on_hand) == (12, 10)
    assert reconcile(store) == []


def test_rerouting_combines_the_order_s_nodes_with_new_ones_and_counts_capacity(
    store: Engine, tmp_path: Path
) -> None:
    ids_ref = site(store)
    ids = place(store, tmp_path, order("W-1", lines=lines(("PEN-1", 8), ("PAD-1", 1)), **chicago()))
    assert route_one(store, ids["W-1"], DOM, SETTINGS) is not None
    # PAD only at WH1, so WH1 ships; PEN 8: WH1 has 10 ATP, all from WH1 in one package.
    assert sorted(allocations(store, ids["W-1"])) == [("WH1", 1), ("WH1", 8)]
    with UnitOfWork(store, read_only=True) as uow:
        before = store_loads(uow, ids_ref)
    result = give_back(store, ids["W-1"], 1, "WH1", "damaged", DOM, SETTINGS, quantity=6)
    assert result.outcome == "routed"
    assert "WH2 (6)" in result.summary
    with UnitOfWork(store, read_only=True) as uow:
        after = store_loads(uow, ids_ref)
    assert after["WH2"] == before["WH2"] + 1  # a new package counts against WH2's day
    assert after["WH1"] == before["WH1"]
    assert reconcile(store) == []


def store_loads(uow: UnitOfWork, ids: dict[str, int]) -> dict[str, int]:
    loads = store.loads(uow.session, utcnow().date())
    return {code: loads.get(ids[code], 0) for code in ("WH1", "WH2")}


def test_a_short_rate_table_excludes_far_nodes_instead_of_failing(
    store: Engine, tmp_path: Path
) -> None:
    from app.dom.costs import RateBand, RateTable

    site(store)
    ids = place(store, tmp_path, order("W-1", lines=lines(("PAD-1", 1)), **chicago()))
    near_only = RoutingSettings(cost=RateTable([RateBand(100, 5.0, 0.3)]))
    result = route_one(store, ids["W-1"], DOM, near_only)
    assert result is not None
    assert result.outcome == "held"  # only WH1 (Columbus, ~280 mi) has PAD
    text = explain(store, "W-1")
    assert "beyond the rate table's last band" in text


def test_bid_prices_never_hold_an_order_the_stock_could_fill(store: Engine, tmp_path: Path) -> None:
    site(store)
    ids = place(store, tmp_path, order("W-1", lines=lines(("MUG-1", 1)), **chicago()))
    dear = {("WH2", "MUG-1"): 5_000.0}  # worth more than the unfilled penalty
    with UnitOfWork(store) as uow:
        result = route_order(uow.session, ids["W-1"], DOM, SETTINGS, bid_prices=dear)
        uow.commit()
    assert result.outcome == "routed"
    assert "bid prices set aside" in explain(store, "W-1")
    assert "line 1: 1 from WH2" in explain(store, "W-1")


def test_a_ship_complete_order_moves_whole_when_its_node_gives_back(
    store: Engine, tmp_path: Path
) -> None:
    ids_ref = site(store)
    ids = place(
        store, tmp_path, order("W-1", lines=lines(("PEN-1", 3)), max_packages=1, **chicago())
    )
    assert route_one(store, ids["W-1"], DOM, SETTINGS) is not None
    assert allocations(store, ids["W-1"]) == [("WH2", 3)]
    result = give_back(store, ids["W-1"], 1, "WH2", "damaged", DOM, SETTINGS, quantity=1)
    assert result.outcome == "routed"
    assert "all of it now ships from WH1" in result.summary
    with UnitOfWork(store, read_only=True) as uow:
        rows = uow.session.execute(
            select(Node.code, LineAllocation.quantity, LineAllocation.status)
            .join(Node, Node.id == LineAllocation.node_id)
            .order_by(LineAllocation.id)
        ).all()
        loads = store_loads(uow, ids_ref)
    assert [tuple(r) for r in rows] == [
        ("WH2", 3, "rejected"),
        ("WH2", 2, "released"),
        ("WH1", 3, "reserved"),
    ]
    assert loads == {"WH1": 1, "WH2": 0}
    assert reconcile(store) == []


def test_reconcile_sees_allocations_that_disagree_with_the_ledger(
    store: Engine, tmp_path: Path
) -> None:
    site(store)
    ids = place(store, tmp_path, order("W-1", lines=lines(("PEN-1", 2)), **chicago()))
    assert route_one(store, ids["W-1"], DOM, SETTINGS) is not None
    assert reconcile(store) == []
    with UnitOfWork(store) as uow:
        uow.session.execute(update(LineAllocation).values(quantity=5))
        uow.commit()
    drifts = reconcile(store)
    assert [(d.check, d.node_code, d.sku, d.kept, d.from_history) for d in drifts] == [
        ("allocations-vs-ledger", "WH2", "PEN-1", 5, 2)
    ]


@pytest.mark.parametrize(
    "store_url", [pytest.param("postgresql", marks=pytest.mark.postgresql)], indirect=True
)
def test_a_router_that_loses_the_store_mid_order_goes_on_once_it_is_back(
    store: Engine, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import create_engine, event, func, text

    from app.dom import routing
    from app.dom.routing import route_backlog

    monkeypatch.setattr(routing, "STORE_RETRY_EVERY", 0.05)
    site(store)
    ids = place(
        store,
        tmp_path,
        *[order(f"W-{i:02d}", lines=lines(("PEN-1", 1)), **chicago()) for i in range(6)],
    )
    # The server drops the router's connection in the middle of the third order's
    # transaction, as a restart or a network cut would.
    killer = create_engine(store_url, isolation_level="AUTOCOMMIT")
    writes: list[int] = []

    def drop_on_the_third_write(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().upper().startswith("UPDATE"):
            return
        writes.append(1)
        if len(writes) == 3:
            pid = conn.connection.dbapi_connection.info.backend_pid
            with killer.connect() as admin:
                admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    event.listen(store, "before_cursor_execute", drop_on_the_third_write)
    told: list[str] = []
    try:
        summary = route_backlog(store, DOM, SETTINGS, wait_for_store=30, on_store_lost=told.append)
    finally:
        event.remove(store, "before_cursor_execute", drop_on_the_third_write)
        killer.dispose()
    assert len(told) == 1
    assert "terminat" in told[0]  # the server's words, passed on
    assert summary.routed + summary.held == 6
    with UnitOfWork(store, read_only=True) as uow:
        decisions = uow.session.scalar(
            select(func.count())
            .select_from(DomDecision)
            .where(DomDecision.order_id.in_(ids.values()))
        )
    assert decisions == 6  # each order decided once, the interrupted one included
    assert reconcile(store) == []
