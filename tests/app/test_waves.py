"""Layout files, wave planning and release against a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import multiprocessing
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update

from app.actor import Actor
from app.demo import demo_layout, seed
from app.dom.routing import RoutingSettings, route_backlog
from app.walks import site as layouts
from app.waves import planning as waves
from app.waves.batching import Cart
from app.waves.settings import WaveSettings
from data import waves as rows
from data.demo import SCALES
from data.models import (
    AllocationStatus,
    Channel,
    LineAllocation,
    Location,
    Node,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    PickList,
    PickTask,
    PickTaskStatus,
    ServiceLevel,
    Shipment,
    Stock,
    Wave,
    WaveOrder,
    WaveStatus,
)
from data.store import make_engine
from data.uow import UnitOfWork
from tests.factories import PLAN_AT, age_demo_stock

ACTOR = Actor.system("test")
ROUTED = 120
# Batching stops improving after this long; the tests check what it makes, not how good.
FAST = WaveSettings(batching_seconds=0.2)


@pytest.fixture
def routed_site(store: Engine) -> Engine:
    """The small demo site with its oldest orders routed."""
    seed(store, "small", 1)
    age_demo_stock(store)
    route_backlog(store, ACTOR, RoutingSettings(), limit=ROUTED, now=PLAN_AT)
    return store


def _plan(engine: Engine, settings: WaveSettings | None = None) -> waves.WavePlan:
    return waves.plan(engine, "WH1", settings or FAST, ACTOR, now=PLAN_AT)


# --- layout files -----------------------------------------------------------------------


def test_demo_layout_defines_the_demo_locations(sqlite_store: Engine) -> None:
    seed(sqlite_store, "small", 1)
    layout = layouts.from_dict(demo_layout(SCALES["small"]))
    with UnitOfWork(sqlite_store, read_only=True) as uow:
        node = rows.node(uow.session, "WH1")
        assert node is not None
        stored = layouts.parse(rows.layout_spec(uow.session, node.id) or "")
        every = rows.locations(uow.session, node.id)
    # Every storage location is the layout's; the problem shelf by the pack benches and the
    # dock doors are not.
    assert [loc.code for loc in every if loc.kind.value == "staging"] == ["PROBLEM"]
    assert [loc.code for loc in every if loc.kind.value == "dock"] == [
        "DOCK-1",
        "DOCK-2",
        "DOCK-3",
        "DOCK-4",
    ]
    located = {
        (loc.code, loc.x_mm, loc.y_mm) for loc in every if loc.kind.value not in ("staging", "dock")
    }
    assert stored == layout
    expected = {(r["code"], r["x_mm"], r["y_mm"]) for r in layout.location_rows()}
    assert expected == located
    # Every location lies on an aisle, inside its block, never on a cross aisle.
    geometry = layout.layout
    for _code, x_mm, y_mm in located:
        spot = layout.spot(x_mm, y_mm)
        assert spot is not None
        assert all(abs(spot.y - c) > 0.4 for c in geometry.cross_y)


def _layout_dict() -> dict[str, object]:
    return {
        "node": "WH1",
        "depot_m": [0.0, 0.0],
        "aisles": {"first_x_m": 0.0, "pitch_m": 5.0, "count": 3},
        "cross_aisles_y_m": [0.0, 6.0],
        "cell_m": 1.0,
        "levels": 2,
        "blocks": [{"zone": "A", "first_cell_y_m": 1.0, "cells_per_side": 4}],
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"aisles": {"first_x_m": 0, "pitch_m": 0, "count": 3}},
            "aisles.pitch_m: expected a positive",
        ),
        ({"aisles": {"first_x_m": 0, "pitch_m": 5, "count": 0}}, "aisles.count: expected a whole"),
        ({"cross_aisles_y_m": [0.0]}, "cross_aisles_y_m: expected at least two"),
        ({"cross_aisles_y_m": [0.0, 6.0, 9.0]}, "blocks: expected a list of 2 block(s)"),
        (
            {"blocks": [{"zone": "A", "first_cell_y_m": 1.0, "cells_per_side": 9}]},
            "cells run from y = 1 to 9 m; they must lie between cross aisles 0 and 6 m",
        ),
        ({"depot_m": [0.0, 2.0]}, "the depot must stand on the front cross aisle"),
        ({"depot_m": "front"}, "depot_m: expected [x, y]"),
        ({"location_code": "{zone}{aisle}"}, "gives 'A1' twice"),
        ({"location_code": "{row}"}, "cannot be filled"),
        ({"colour": "red"}, "unknown field(s) colour"),
        ({"levels": True}, "levels: expected a whole number"),
    ],
)
def test_layout_file_errors_name_the_field(change: dict[str, object], message: str) -> None:
    raw = {**_layout_dict(), **change}
    with pytest.raises(layouts.LayoutFileError) as caught:
        layouts.from_dict(raw, where="site.json")
    assert message in str(caught.value)
    assert str(caught.value).startswith("site.json: ")


def test_layout_file_not_json() -> None:
    with pytest.raises(layouts.LayoutFileError, match=r"not valid JSON \(line 1, column 2"):
        layouts.parse("{oops", where="x.json")


def test_layout_file_rows_and_spots() -> None:
    layout = layouts.from_dict(_layout_dict())
    codes = [r["code"] for r in layout.location_rows()]
    assert len(codes) == 3 * 4 * 2 * 2
    assert codes[:4] == ["A01-01-1", "A01-01-2", "A01-02-1", "A01-02-2"]
    row = next(r for r in layout.location_rows() if r["code"] == "A03-08-2")
    assert (row["x_mm"], row["y_mm"], row["side"], row["aisle"]) == (10_000, 4_000, "R", 3)
    spot = layout.spot(10_000, 4_000)
    assert spot is not None
    assert (spot.aisle, spot.y) == (2, 4.0)
    assert layout.spot(2_500, 4_000) is None  # between aisles: inside a rack


# --- planning -----------------------------------------------------------------------------


def test_plan_groups_open_work_and_estimates(routed_site: Engine) -> None:
    plan = _plan(routed_site)
    assert plan.has_layout
    assert plan.waves
    with UnitOfWork(routed_site, read_only=True) as uow:
        s = uow.session
        wh1 = s.scalar(select(Node.id).where(Node.code == "WH1"))
        reserved_orders = set(
            s.scalars(
                select(OrderLine.order_id)
                .join(LineAllocation, LineAllocation.order_line_id == OrderLine.id)
                .where(
                    LineAllocation.node_id == wh1,
                    LineAllocation.status == AllocationStatus.RESERVED,
                )
            )
        )
        members = list(
            s.execute(
                select(Wave.id, Order.id, Order.service_level)
                .select_from(Wave)
                .join(WaveOrder, WaveOrder.wave_id == Wave.id)
                .join(Order, Order.id == WaveOrder.order_id)
            )
        )
    in_waves = [order_id for _, order_id, _ in members]
    # Every order with reserved units at WH1 is in exactly one wave, or reported unpickable.
    assert len(in_waves) == len(set(in_waves))
    assert set(in_waves) <= reserved_orders
    assert len(in_waves) + len(plan.unpickable) == len(reserved_orders)
    # One carrier service per wave when grouping by cut-off.
    services = defaultdict(set)
    for wave_id, _, level in members:
        services[wave_id].add(level)
    assert all(len(levels) == 1 for levels in services.values())
    for w in plan.waves:
        assert w.orders > 0
        assert w.units >= w.lines >= w.orders
        assert w.pick_lists >= 1
        assert w.est_distance_m is not None
        assert w.est_distance_m > 0
        assert w.est_seconds > w.est_distance_m  # walking at 1 m/s plus stops
    # Waves come earliest cut-off first, then by priority.
    keys = [(w.cutoff_at, w.priority) for w in plan.waves]
    assert keys == sorted(keys)


def test_replanning_replaces_proposals_and_skips_released_work(routed_site: Engine) -> None:
    first = _plan(routed_site)
    second = _plan(routed_site)
    assert {w.id for w in first.waves}.isdisjoint({w.id for w in second.waves})
    assert [w.orders for w in first.waves] == [w.orders for w in second.waves]
    with UnitOfWork(routed_site, read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Wave)) == len(second.waves)
    released = waves.release(routed_site, second.waves[0].id, FAST, ACTOR)
    third = _plan(routed_site)
    assert (
        sum(w.orders for w in third.waves) == sum(w.orders for w in second.waves) - released.orders
    )


def test_grouping_by_zone_and_wave_size(routed_site: Engine) -> None:
    settings = replace(FAST, group_by=("zone",), max_orders_per_wave=7)
    plan = _plan(routed_site, settings)
    assert all(w.orders <= 7 for w in plan.waves)
    assert {w.carrier for w in plan.waves} <= {"*", "GROUND", "EXPRESS"}
    by_zone = Counter(w.zone for w in plan.waves)
    assert set(by_zone) <= {"A", "B", ""}
    assert len(by_zone) >= 2


def test_unknown_node_is_refused(routed_site: Engine) -> None:
    with pytest.raises(waves.WaveError, match=r"there is no node 'WH9'; nodes: .*WH1"):
        waves.plan(routed_site, "WH9", FAST, ACTOR)


# --- release ------------------------------------------------------------------------------


def _release_all(engine: Engine, settings: WaveSettings) -> list[waves.ReleaseResult]:
    plan = _plan(engine, settings)
    return [waves.release(engine, w.id, settings, ACTOR) for w in plan.waves]


def test_release_makes_pick_lists_that_cover_the_wave(routed_site: Engine) -> None:
    cart = Cart(totes=6, items=20, volume_cm3=120_000, weight_g=40_000)
    settings = replace(FAST, cart=cart)
    results = _release_all(routed_site, settings)
    assert results
    assert not any(r.already_released for r in results)
    with UnitOfWork(routed_site, read_only=True) as uow:
        s = uow.session
        layout = layouts.parse(
            rows.layout_spec(s, s.scalar(select(Node.id).where(Node.code == "WH1")) or 0) or ""
        )
        # Every reserved unit at WH1 of a released wave is on exactly one open task.
        allocations = dict(
            s.execute(
                select(LineAllocation.id, LineAllocation.quantity).where(
                    LineAllocation.status == AllocationStatus.RESERVED,
                    LineAllocation.id.in_(select(PickTask.allocation_id)),
                )
            )
            .tuples()
            .all()
        )
        tasked: Counter[int] = Counter()
        for allocation_id, quantity in s.execute(select(PickTask.allocation_id, PickTask.quantity)):
            tasked[allocation_id] += quantity
        assert dict(tasked) == allocations
        # Each order has one shipment (one tote) and its tasks all go to that tote.
        shipments = list(s.scalars(select(Shipment)))
        assert len({sh.order_id for sh in shipments}) == len(shipments)
        task_orders = {
            (
                t.shipment_id,
                s.scalar(select(OrderLine.order_id).where(OrderLine.id == t.order_line_id)),
            )
            for t in s.scalars(select(PickTask))
        }
        by_shipment = {sh.id: sh.order_id for sh in shipments}
        assert all(by_shipment[sid] == oid for sid, oid in task_orders)
        # Released orders moved to released, with an event.
        order_ids = [sh.order_id for sh in shipments]
        statuses = set(s.scalars(select(Order.status).where(Order.id.in_(order_ids))))
        assert statuses == {OrderStatus.RELEASED}
        events = s.scalar(
            select(func.count()).where(
                OrderEvent.order_id.in_(order_ids), OrderEvent.to_status == OrderStatus.RELEASED
            )
        )
        assert events == len(order_ids)
        lists = list(s.scalars(select(PickList)))
        for p in lists:
            assert p.totes <= cart.totes
            if not p.oversize:
                assert p.units <= cart.items
                assert p.volume_cm3 <= cart.volume_cm3
                assert p.weight_g <= cart.weight_g
            else:
                assert p.totes == 1
            slots = sorted(sh.tote_slot for sh in shipments if sh.pick_list_id == p.id)
            assert slots == list(range(1, p.totes + 1))
            # Tasks follow the stored walk: each task's location is reached in path order,
            # and the walk's length is the pick list's distance.
            path = [tuple(pt) for pt in json.loads(p.path)]
            assert path[0] == path[-1] == layout.depot_m
            length = sum(
                abs(a[0] - b[0]) + abs(a[1] - b[1]) for a, b in zip(path, path[1:], strict=False)
            )
            assert p.distance_m == pytest.approx(length, abs=0.01)
            geometry = layout.layout
            assert all(geometry.on_walkway(a, b) for a, b in zip(path, path[1:], strict=False))
            points = [
                (x / 1000, y / 1000)
                for x, y in s.execute(
                    select(Location.x_mm, Location.y_mm)
                    .join(PickTask, PickTask.location_id == Location.id)
                    .where(PickTask.pick_list_id == p.id)
                    .order_by(PickTask.seq)
                )
            ]
            cursor = 0
            for point in points:
                while cursor < len(path) and not _on_leg(path, cursor, point):
                    cursor += 1
                assert cursor < len(path), (
                    f"pick list {p.id}: {point} is off its walk or out of order"
                )


def _on_leg(path: list[tuple[float, ...]], index: int, point: tuple[float, float]) -> bool:
    """True when `point` lies on the leg path[index] → path[index + 1] (or is the last point)."""
    a = path[index]
    b = path[index + 1] if index + 1 < len(path) else a
    lo_x, hi_x = sorted((a[0], b[0]))
    lo_y, hi_y = sorted((a[1], b[1]))
    return lo_x - 1e-6 <= point[0] <= hi_x + 1e-6 and lo_y - 1e-6 <= point[1] <= hi_y + 1e-6


def test_release_is_idempotent(routed_site: Engine) -> None:
    plan = _plan(routed_site)
    first = waves.release(routed_site, plan.waves[0].id, FAST, ACTOR)
    again = waves.release(routed_site, plan.waves[0].id, FAST, ACTOR)
    assert again.already_released
    assert [p.id for p in again.pick_lists] == [p.id for p in first.pick_lists]
    with UnitOfWork(routed_site, read_only=True) as uow:
        made = rows.counts(uow.session, plan.waves[0].id)
    assert made[0] == len(first.pick_lists)


def test_released_wave_is_not_planned_again(routed_site: Engine) -> None:
    results = _release_all(routed_site, FAST)
    assert results
    assert _plan(routed_site).waves == []


def test_missing_wave(routed_site: Engine) -> None:
    with pytest.raises(waves.WaveError, match="there is no wave 9999"):
        waves.release(routed_site, 9999, FAST, ACTOR)


def test_expired_and_missing_stock_is_reported_not_picked(routed_site: Engine) -> None:
    plan = _plan(routed_site)
    wave_id = plan.waves[0].id
    with UnitOfWork(routed_site) as uow:
        s = uow.session
        order_id = s.scalar(select(WaveOrder.order_id).where(WaveOrder.wave_id == wave_id).limit(1))
        product_id = s.scalar(
            select(OrderLine.product_id).where(OrderLine.order_id == order_id).limit(1)
        )
        # All of that product's stock expired yesterday.
        s.execute(
            update(Stock)
            .where(Stock.product_id == product_id)
            .values(expiry=datetime.now(UTC).date() - timedelta(days=1))
        )
        ref = s.scalar(
            select(Channel.code + "/" + Order.external_id)
            .select_from(Order)
            .join(Channel, Channel.id == Order.channel_id)
            .where(Order.id == order_id)
        )
        uow.commit()
    result = waves.release(routed_site, wave_id, FAST, ACTOR)
    assert ref in result.dropped
    assert "expired" in result.dropped[ref]
    with UnitOfWork(routed_site, read_only=True) as uow:
        s = uow.session
        assert s.scalar(select(func.count()).where(Shipment.order_id == order_id)) == 0
        assert s.scalar(select(Order.status).where(Order.id == order_id)) == OrderStatus.ROUTED
    # It waits for the next plan, still reported.
    later = _plan(routed_site)
    assert ref in later.unpickable


def test_node_without_layout_follows_location_codes(store: Engine) -> None:
    seed(store, "small", 1)
    age_demo_stock(store)
    route_backlog(store, ACTOR, RoutingSettings(), limit=ROUTED, now=PLAN_AT)
    with UnitOfWork(store, read_only=True) as uow:
        s = uow.session
        busiest = s.execute(
            select(Node.code, func.count())
            .join(LineAllocation, LineAllocation.node_id == Node.id)
            .where(Node.code != "WH1", LineAllocation.status == AllocationStatus.RESERVED)
            .group_by(Node.code)
            .order_by(func.count().desc())
            .limit(1)
        ).one()
    plan = waves.plan(store, busiest[0], FAST, ACTOR)
    assert not plan.has_layout
    assert plan.waves
    assert all(w.est_distance_m is None for w in plan.waves)
    result = waves.release(store, plan.waves[0].id, FAST, ACTOR)
    view = waves.pick_list(store, result.pick_lists[0].id)
    assert view.header.routing == "location_code"
    assert view.header.distance_m is None
    codes = [t.location_code for t in view.tasks]
    assert codes == sorted(codes)


def test_cutoff_rolls_to_the_next_day() -> None:
    before = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    after = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)
    assert waves.cutoff_at(before, time(17, 0), "UTC") == datetime(2026, 11, 26, 17, 0, tzinfo=UTC)
    assert waves.cutoff_at(after, time(17, 0), "UTC") == datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
    # A New York cut-off at 17:00 local is 22:00 UTC in winter.
    assert waves.cutoff_at(before, time(17, 0), "America/New_York") == datetime(
        2026, 11, 26, 22, 0, tzinfo=UTC
    )


# --- concurrency --------------------------------------------------------------------------


def _release_in_process(
    url: str,
    wave_id: int,
    queue: multiprocessing.Queue,  # type: ignore[type-arg]
    start: Any,
) -> None:
    engine = make_engine(url)
    try:
        # Both processes are ready (imports done): start the releases together.
        start.wait(timeout=60)
        result = waves.release(engine, wave_id, FAST, Actor.system("racer"))
        queue.put((result.already_released, sorted(p.id for p in result.pick_lists)))
    except Exception as exc:  # reported to the test, which fails on it
        queue.put(("error", repr(exc)))
    finally:
        engine.dispose()


def test_two_concurrent_releases_create_the_pick_lists_once(
    routed_site: Engine, store_url: str
) -> None:
    plan = _plan(routed_site)
    wave_id = max(plan.waves, key=lambda w: w.orders).id
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    start = ctx.Barrier(2)
    procs = [
        ctx.Process(target=_release_in_process, args=(store_url, wave_id, queue, start))
        for _ in range(2)
    ]
    for p in procs:
        p.start()
    outcomes = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert all(o[0] != "error" for o in outcomes), outcomes
    assert sorted(o[0] for o in outcomes) == [False, True]
    assert outcomes[0][1] == outcomes[1][1]
    with UnitOfWork(routed_site, read_only=True) as uow:
        lists, shipments, _ = rows.counts(uow.session, wave_id)
        assert lists == len(outcomes[0][1])
        assert shipments == uow.session.scalar(select(Wave.orders).where(Wave.id == wave_id))
        status = uow.session.scalar(select(Wave.status).where(Wave.id == wave_id))
    assert status == WaveStatus.RELEASED


# --- the commands -------------------------------------------------------------------------


def test_commands_end_to_end(
    sqlite_store: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.cli import main

    url = sqlite_store.url.render_as_string(hide_password=False)
    seed(sqlite_store, "small", 1)
    age_demo_stock(sqlite_store)
    route_backlog(sqlite_store, ACTOR, RoutingSettings(), limit=60, now=PLAN_AT)
    fast = tmp_path / "fast.json"
    fast.write_text(json.dumps({"batching_seconds": 0.2, "cart": {"totes": 4}}))
    assert main(["--db", url, "wave", "settings", "--file", str(fast)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["cart"]["totes"] == 4
    assert shown["batching_seconds"] == 0.2

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"cart": {"totes": 0}}))
    assert main(["--db", url, "wave", "settings", "--file", str(bad)]) == 1
    assert "cart.totes: expected a whole number of at least 1, got 0" in capsys.readouterr().err

    assert main(["--db", url, "wave", "plan", "--node", "WH1", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["node"] == "WH1"
    assert plan["waves"]
    wave_id = plan["waves"][0]["id"]
    assert main(["--db", url, "wave", "plan"]) == 0
    table = capsys.readouterr().out
    assert "Proposed waves for WH1" in table
    assert "Release one with `shipfloor wave release WAVE`" in table

    # The table's waves replaced the JSON run's: the old id is gone, with the fix named.
    assert main(["--db", url, "wave", "release", str(wave_id)]) == 1
    assert (
        f"there is no wave {wave_id}; `shipfloor wave list` shows them" in capsys.readouterr().err
    )
    assert main(["--db", url, "wave", "list", "--status", "planned", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["waves"]
    wave_id = listed[0]["id"]
    assert main(["--db", url, "wave", "release", str(wave_id), "--json"]) == 0
    released = json.loads(capsys.readouterr().out)
    assert released["already_released"] is False
    assert all(p["totes"] <= 4 for p in released["pick_lists"])
    assert main(["--db", url, "wave", "release", str(wave_id)]) == 0
    assert f"Wave {wave_id} at WH1 was already released" in capsys.readouterr().out

    assert main(["--db", url, "wave", "show", str(wave_id)]) == 0
    assert f"Wave {wave_id}" in capsys.readouterr().out
    first = released["pick_lists"][0]["id"]
    assert main(["--db", url, "picklist", "show", str(first), "--json"]) == 0
    view = json.loads(capsys.readouterr().out)
    assert view["route"] == [t["location"] for t in view["tasks"]]
    assert view["distance_m"] == pytest.approx(
        sum(
            abs(a[0] - b[0]) + abs(a[1] - b[1])
            for a, b in zip(view["path"], view["path"][1:], strict=False)
        ),
        abs=0.01,
    )
    assert main(["--db", url, "picklist", "show", str(first)]) == 0
    text = capsys.readouterr().out
    assert f"Pick list {first}" in text
    assert "Walk (" in text
    assert main(["--db", url, "picklist", "show", "99999"]) == 1
    assert "there is no pick list 99999" in capsys.readouterr().err

    assert main(["--db", url, "layout", "show", "--node", "WH1"]) == 0
    assert "cross aisles  3 at y = 1.5, 14.5, 27.5 m" in capsys.readouterr().out
    assert main(["--db", url, "layout", "show", "--node", "DC1"]) == 1
    assert "DC1 has no layout; load one with `shipfloor layout load FILE`" in (
        capsys.readouterr().err
    )


def test_layout_load_creates_and_moves_locations(
    sqlite_store: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.cli import main
    from tests.factories import add_reference

    url = sqlite_store.url.render_as_string(hide_password=False)
    add_reference(sqlite_store)
    path = tmp_path / "wh1.json"
    path.write_text(json.dumps(_layout_dict()))
    assert main(["--db", url, "layout", "load", str(path)]) == 0
    out = capsys.readouterr().out
    assert "48 locations (48 new, 0 placed anew)" in out
    # Wider aisles: the same locations move; nothing is duplicated.
    wider = {**_layout_dict(), "aisles": {"first_x_m": 0.0, "pitch_m": 6.0, "count": 3}}
    path.write_text(json.dumps(wider))
    assert main(["--db", url, "layout", "load", str(path)]) == 0
    assert "(0 new, 48 placed anew)" in capsys.readouterr().out
    with UnitOfWork(sqlite_store, read_only=True) as uow:
        xs = set(uow.session.scalars(select(Location.x_mm)))
    assert xs == {0, 6000, 12000}
    path.write_text(json.dumps({**_layout_dict(), "node": "NOPE"}))
    assert main(["--db", url, "layout", "load", str(path)]) == 1
    assert "node 'NOPE' does not exist; nodes: S001, S002, WH1" in capsys.readouterr().err


# --- wave settings ------------------------------------------------------------------------


def test_wave_settings_round_trip_and_partial_changes() -> None:
    from app.waves.settings import from_dict

    base = WaveSettings()
    assert from_dict(base.to_dict()) == base
    changed = from_dict(
        {"services": {"express": {"cutoff": "15:30", "carrier": "UPS"}}, "routing": "s_shape"},
        base,
    )
    assert changed.services[ServiceLevel.EXPRESS].cutoff == time(15, 30)
    assert changed.services[ServiceLevel.EXPRESS].carrier == "UPS"
    assert changed.services[ServiceLevel.STANDARD] == base.services[ServiceLevel.STANDARD]
    assert changed.routing == "s_shape"
    assert from_dict(changed.to_dict()) == changed


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"group_by": ["colour"]}, "group_by: expected a list drawn from cutoff, priority, zone"),
        ({"services": {"drone": {}}}, "services: unknown service level 'drone'"),
        ({"services": {"express": {"cutoff": "5pm"}}}, 'services.express.cutoff: expected "HH:MM"'),
        ({"services": {"express": {"priority": 0}}}, "services.express.priority: expected a whole"),
        ({"routing": "fastest"}, "routing: expected one of optimal, s_shape"),
        ({"cart": {"weight_kg": -1}}, "cart.weight_kg: expected a positive number, got -1"),
        ({"cart": {"wheels": 4}}, "cart: unknown field(s) wheels"),
        ({"walk_m_per_s": 0}, "walk_m_per_s: expected a positive number, got 0"),
        ({"max_orders_per_wave": "all"}, "max_orders_per_wave: expected a whole number"),
        ({"speed": 1}, "unknown wave setting(s) speed"),
    ],
)
def test_wave_settings_errors_name_the_setting(raw: dict[str, object], message: str) -> None:
    from app.waves.settings import WaveSettingsError, from_dict

    with pytest.raises(WaveSettingsError) as caught:
        from_dict(raw)
    assert message in str(caught.value)


# --- stock is never promised twice; DOM taking work back ---------------------------------


def _one_order_waves(engine: Engine) -> list[waves.WavePlanRow]:
    return _plan(engine, replace(FAST, group_by=(), max_orders_per_wave=1)).waves


def _wave_products(engine: Engine, wave_id: int) -> set[int]:
    with UnitOfWork(engine, read_only=True) as uow:
        return set(
            uow.session.scalars(
                select(OrderLine.product_id)
                .join(WaveOrder, WaveOrder.order_id == OrderLine.order_id)
                .where(WaveOrder.wave_id == wave_id)
            )
        )


def test_two_waves_never_claim_the_same_units(routed_site: Engine) -> None:
    planned = _one_order_waves(routed_site)
    pair = next(
        (a, b)
        for i, a in enumerate(planned)
        for b in planned[i + 1 :]
        if _wave_products(routed_site, a.id) & _wave_products(routed_site, b.id)
    )
    shared = sorted(
        _wave_products(routed_site, pair[0].id) & _wave_products(routed_site, pair[1].id)
    )[0]
    with UnitOfWork(routed_site) as uow:
        s = uow.session
        wh1 = s.scalar(select(Node.id).where(Node.code == "WH1"))
        first_needs = s.scalar(
            select(func.sum(LineAllocation.quantity))
            .join(OrderLine, OrderLine.id == LineAllocation.order_line_id)
            .join(WaveOrder, WaveOrder.order_id == OrderLine.order_id)
            .where(
                WaveOrder.wave_id == pair[0].id,
                OrderLine.product_id == shared,
                LineAllocation.node_id == wh1,
            )
        )
        # A count found only enough of the shared product for the first wave's order.
        rows_of = list(
            s.scalars(select(Stock).where(Stock.node_id == wh1, Stock.product_id == shared))
        )
        for index, row in enumerate(rows_of):
            row.on_hand = int(first_needs or 0) if index == 0 else 0
        s.flush()
        ref = s.scalar(
            select(Channel.code + "/" + Order.external_id)
            .select_from(Order)
            .join(Channel, Channel.id == Order.channel_id)
            .join(WaveOrder, WaveOrder.order_id == Order.id)
            .where(WaveOrder.wave_id == pair[1].id)
        )
        uow.commit()
    first = waves.release(routed_site, pair[0].id, FAST, ACTOR)
    assert first.orders == 1
    second = waves.release(routed_site, pair[1].id, FAST, ACTOR)
    assert second.orders == 0
    assert second.pick_lists == []
    assert ref is not None
    assert "than the node's pickable stock holds" in second.dropped[ref]
    with UnitOfWork(routed_site, read_only=True) as uow:
        s = uow.session
        assert s.scalar(select(Wave.status).where(Wave.id == pair[1].id)) == WaveStatus.CANCELLED
        # Open tasks never claim more of a location's lot than it holds.
        claimed = s.execute(
            select(
                PickTask.location_id, PickTask.product_id, PickTask.lot, func.sum(PickTask.quantity)
            )
            .where(PickTask.status == PickTaskStatus.OPEN)
            .group_by(PickTask.location_id, PickTask.product_id, PickTask.lot)
        ).all()
        for location_id, product_id, lot, quantity in claimed:
            on_hand = s.scalar(
                select(Stock.on_hand).where(
                    Stock.location_id == location_id,
                    Stock.product_id == product_id,
                    Stock.lot == lot,
                )
            )
            assert quantity <= on_hand
    # The dropped order waits for stock: the next plan reports it again.
    assert ref in _plan(routed_site).unpickable


def test_a_line_given_back_cancels_its_open_tasks(routed_site: Engine) -> None:
    from app.dom.reroute import reject_line

    planned = _one_order_waves(routed_site)
    result = waves.release(routed_site, planned[0].id, FAST, ACTOR)
    view = waves.pick_list(routed_site, result.pick_lists[0].id)
    task = view.tasks[0]
    with UnitOfWork(routed_site) as uow:
        s = uow.session
        order_id, line_no = s.execute(
            select(OrderLine.order_id, OrderLine.line_no)
            .join(PickTask, PickTask.order_line_id == OrderLine.id)
            .where(PickTask.id == task.id)
        ).one()
        reject_line(s, order_id, line_no, "WH1", "damaged", ACTOR, RoutingSettings())
        uow.commit()
    after = {t.id: t.status for t in waves.pick_list(routed_site, view.header.id).tasks}
    assert after[task.id] == PickTaskStatus.CANCELLED


def test_a_wave_with_nothing_left_is_cancelled(routed_site: Engine) -> None:
    from app.dom.reroute import reject_line

    planned = _one_order_waves(routed_site)
    wave_id = planned[0].id
    with UnitOfWork(routed_site) as uow:
        s = uow.session
        order_id = s.scalar(select(WaveOrder.order_id).where(WaveOrder.wave_id == wave_id))
        assert order_id is not None
        at_wh1 = s.scalars(
            select(OrderLine.line_no)
            .join(LineAllocation, LineAllocation.order_line_id == OrderLine.id)
            .join(Node, Node.id == LineAllocation.node_id)
            .where(
                OrderLine.order_id == order_id,
                Node.code == "WH1",
                LineAllocation.status == AllocationStatus.RESERVED,
            )
            .distinct()
        ).all()
        assert at_wh1
        for line_no in at_wh1:
            reject_line(s, order_id, line_no, "WH1", "no_stock", ACTOR, RoutingSettings())
        uow.commit()
    result = waves.release(routed_site, wave_id, FAST, ACTOR)
    assert result.pick_lists == []
    assert list(result.dropped.values()) == [
        "no units left to pick here (re-routed or cancelled since the plan)"
    ]
    with pytest.raises(waves.WaveError, match=f"wave {wave_id} was cancelled; plan again"):
        waves.release(routed_site, wave_id, FAST, ACTOR)
