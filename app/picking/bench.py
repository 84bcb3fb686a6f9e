"""`shipfloor bench scan`: from the tote scan that completes a pick to the committed pick.

On each database the demo site is seeded into a throwaway store, orders are routed and
released, and a picker works through every pick list: the timed part is the tote scan's
check and the service call that commits the pick (stock, reservation, allocation, task,
history). Next to it: a bare one-row insert and commit on the same store (a login
history row), with the same durability (SQLite: WAL, ``synchronous=FULL``).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from app.actor import Actor
from app.demo import seed
from app.dom.routing import RoutingSettings, route_backlog
from app.picking import station
from app.picking.station import ItemScan
from app.users import login
from app.waves import planning as waves
from app.waves.settings import WaveSettings
from data import pick_station as pick_rows
from data import users as user_rows
from data.migrate import upgrade
from data.store import StoreEngine, make_engine, scratch_postgres
from data.types import utcnow
from data.uow import UnitOfWork

Progress = Callable[[str, int, int], None]


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return round(statistics.median(ordered), 3), round(p99, 3)


def _prepare(engine: StoreEngine, orders: int) -> None:
    upgrade(engine)
    actor = Actor.system("bench-scan")
    seed(engine, "small", 1)
    # Routed and planned as at 09:00 UTC today: which node makes today's collection
    # depends on the hour, and the work picked must not change with it.
    morning = datetime.combine(utcnow().date(), clock_time(9, 0), tzinfo=UTC)
    route_backlog(engine, actor, RoutingSettings(), limit=orders, now=morning)
    fast = WaveSettings(batching_seconds=0.2)
    for wave in waves.plan(engine, "WH1", fast, actor, now=morning).waves:
        waves.release(engine, wave.id, fast, actor)


def _items(engine: StoreEngine, task: station.Task) -> list[ItemScan]:
    expiry = None
    if task.track_expiry:
        with UnitOfWork(engine, read_only=True) as uow:
            expiry = pick_rows.stock_expiry(uow.session, task.location_id, task.lot)
    if task.track_serial:
        stamp = time.time_ns()
        return [ItemScan(task.lot, f"B{task.id}-{stamp}-{i}", expiry, 1) for i in range(task.left)]
    return [ItemScan(task.lot, "", expiry, task.left)]


def _measure(engine: StoreEngine, progress: Progress | None, label: str) -> dict[str, float]:
    who = login(engine, "PICK-01", "pick", "BADGE-U1001", "1111")
    scans: list[float] = []
    while (view := station.claim_next(engine, who)) is not None:
        for slot in view.totes:
            view = station.set_tote(
                engine, who, view.id, slot.slot, f"TOTE-B{view.id:05d}{slot.slot:02d}"
            )
        while (task := view.current) is not None:
            items = _items(engine, task)
            assert task.tote is not None
            started = time.perf_counter()
            tote = station.check_tote(task, task.tote)
            station.confirm_pick(engine, who, view.id, task.id, items, tote)
            scans.append((time.perf_counter() - started) * 1000)
            view = station.view(engine, view.id)
            if progress:
                progress(f"scan {label}", len(scans), 0)
    commits: list[float] = []
    for _ in range(max(200, len(scans))):
        started = time.perf_counter()
        with UnitOfWork(engine) as uow:
            user_rows.add_login_event(
                uow.session,
                badge="BENCH",
                user_id=None,
                station_id=None,
                outcome="bench",
                at=utcnow(),
            )
            uow.commit()
        commits.append((time.perf_counter() - started) * 1000)
    scan_p50, scan_p99 = _percentiles(scans)
    bare_p50, bare_p99 = _percentiles(commits)
    return {
        "scan_ms_p50": scan_p50,
        "scan_ms_p99": scan_p99,
        "bare_commit_ms_p50": bare_p50,
        "bare_commit_ms_p99": bare_p99,
        "picks": len(scans),
    }


def run(
    postgresql: str | None, orders: int = 150, progress: Progress | None = None
) -> dict[str, Any]:
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="shipfloor-bench-") as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        try:
            _prepare(engine, orders)
            report["sqlite"] = _measure(engine, progress, "sqlite")
        finally:
            engine.dispose()
    if postgresql is None:
        report["postgresql"] = {
            "skipped": "give --postgresql URL (a server where a scratch database may be made)"
        }
        return report
    with scratch_postgres(postgresql) as url:
        engine = make_engine(url)
        try:
            _prepare(engine, orders)
            report["postgresql"] = _measure(engine, progress, "postgresql")
        finally:
            engine.dispose()
    return report
