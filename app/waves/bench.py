"""`shipfloor bench picking`: routing against an exact oracle, batching against the classic
methods, and a 5,000-order wave planned and released on the demo site."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from app.actor import Actor
from app.demo import seed
from app.dom.routing import RoutingSettings, route_backlog
from app.walks.bench import bench_routing, henn_layout
from app.walks.paths import route_length
from app.waves import planning as waves
from app.waves.bench_batching import bench_batching
from app.waves.settings import WaveSettings
from data import dom as dom_rows
from data import inventory
from data import waves as rows
from data.migrate import upgrade
from data.store import StoreEngine, make_engine
from data.types import utcnow
from data.uow import UnitOfWork

Progress = Callable[[str, int, int], None]


def _open_orders(engine: StoreEngine, node: str) -> int:
    with UnitOfWork(engine, read_only=True) as uow:
        ref = rows.node(uow.session, node)
        assert ref is not None
        return len({w.order_id for w in rows.open_work(uow.session, ref.id)})


def _busy_day_at(engine: StoreEngine, node: str, extra: int = 400) -> None:
    """Make `node` the only node taking orders and receive `extra` more units into each of
    its stocked locations, so that a busy day's orders can all be picked there."""
    with UnitOfWork(engine) as uow:
        session = uow.session
        dom_rows.set_active_nodes(session, {node})
        ref = rows.node(session, node)
        assert ref is not None
        now = utcnow()
        who = inventory.Who("bench")
        for slot in rows.pickable_stock(session, ref.id, rows.stocked_products(session, ref.id)):
            inventory.receive(
                session,
                node_id=ref.id,
                location_id=slot.location_id,
                product_id=slot.product_id,
                quantity=extra,
                who=who,
                at=now,
                lot=slot.lot,
                expiry=slot.expiry,
                note="busy day for the picking benchmark",
            )
        uow.commit()


def bench_wave(
    orders: int = 5000,
    scale: str = "small",
    day_orders: int = 6_800,
    progress: Progress | None = None,
) -> dict[str, float | int]:
    """Seed the demo site with a busy day (`day_orders`) into a fresh SQLite file, route
    orders through DOM with the warehouse as the only active node (stocked for the day)
    until it holds `orders` of them, then time planning and releasing one wave of exactly
    that many (fewer if the day runs out first)."""
    actor = Actor.system("bench")
    with tempfile.TemporaryDirectory(prefix="shipfloor-bench-") as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        try:
            upgrade(engine)
            seed(engine, scale, 1, progress, orders=day_orders)
            _busy_day_at(engine, "WH1")
            step = 500
            while _open_orders(engine, "WH1") < orders:
                summary = route_backlog(engine, actor, RoutingSettings(), limit=step)
                if progress:
                    progress("route", min(_open_orders(engine, "WH1"), orders), orders)
                if summary.routed + summary.held == 0:
                    break
            available = _open_orders(engine, "WH1")
            settings = replace(WaveSettings(), group_by=(), max_orders_per_wave=orders)
            started = time.perf_counter()
            plan = waves.plan(engine, "WH1", settings, actor)
            planned = time.perf_counter()
            result = waves.release(engine, plan.waves[0].id, settings, actor)
            done = time.perf_counter()
        finally:
            engine.dispose()
    return {
        "orders": result.orders,
        "seconds": round(done - started, 3),
        "plan_seconds": round(planned - started, 3),
        "release_seconds": round(done - planned, 3),
        "pick_lists": len(result.pick_lists),
        "open_orders_at_node": available,
    }


def run(
    lists: int = 200, wave_orders: int = 5000, progress: Progress | None = None
) -> dict[str, object]:
    """The whole picking benchmark as one JSON-ready object."""
    layout = henn_layout()
    return {
        "routing": bench_routing(lists=lists, progress=progress),
        "batching": bench_batching(
            layout, lambda spots: route_length(layout, spots), progress=progress
        ),
        "wave": bench_wave(wave_orders, progress=progress),
    }
