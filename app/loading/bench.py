"""`shipfloor bench ship`: rate shopping a box, and closing out a load of 1,000 packages.

On each database the medium demo site is seeded into a throwaway store, orders are routed
to the warehouse and released, the demo's pickers pick them and its packer packs them
(every box rate-shopped) until at least ``packages`` boxes of one carrier wait at the dock.

- ``rate_shop_ms_p95``: the 95th percentile of one rate shop (every service of the demo's
  rate tables quoted for a packed box's weight, outer size and distance, and the choice
  made), over every packed box.
- ``load_scan_ms_p95``: one package scanned onto a load (its check and the conditional
  update, one transaction), over the ``packages`` scans.
- ``close_out_1000_packages_s``: the close-out of the load that holds ``packages`` packages
  (1,000 unless told otherwise): the manifest, every order shipped through the lifecycle,
  the allocations, the outbox messages and the manifest's print job, in one transaction.
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
from zoneinfo import ZoneInfo

from app.actor import Actor
from app.carriers import rates
from app.demo import seed
from app.dom.routing import RoutingSettings, route_backlog
from app.loading import station as ship
from app.packing.demo import pack_demo_totes
from app.packing.station import PrinterSpec
from app.picking.demo import fill_demo_totes
from app.shipping.settings import load as load_shipping
from app.users import login
from app.waves import planning as waves
from app.waves.settings import WaveSettings
from data import ship_station as rows
from data import waves as wave_rows
from data.migrate import upgrade
from data.store import StoreEngine, make_engine, scratch_postgres
from data.types import utcnow
from data.uow import UnitOfWork

Progress = Callable[[str, int, int], None]


class BenchError(RuntimeError):
    """The benchmark could not build what it measures."""


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 3)


def _prepare(engine: StoreEngine, packages: int, progress: Progress | None) -> None:
    upgrade(engine)
    actor = Actor.system("bench-ship")
    seed(engine, "medium", 1)
    # Routed and planned as at 09:00 UTC today (which node makes today's collection
    # depends on the hour), every order of the backlog, for enough work at WH1.
    morning = datetime.combine(utcnow().date(), clock_time(9, 0), tzinfo=UTC)
    if progress is not None:
        progress("routing the backlog", 0, 1)
    route_backlog(engine, actor, RoutingSettings(), now=morning)
    fast = WaveSettings(batching_seconds=0.2)
    for wave in waves.plan(engine, "WH1", fast, actor, now=morning).waves:
        waves.release(engine, wave.id, fast, actor)
    while (have := _largest(engine)[1]) < packages:
        if progress is not None:
            progress("picking and packing", have, packages)
        picked = fill_demo_totes(engine, lists=10)
        packed = pack_demo_totes(engine, limit=10_000)
        if picked == 0 and packed == 0:
            raise BenchError(
                f"the demo floor ran out of work with {have} packages of one carrier packed, "
                f"fewer than the {packages} to close out: ask for fewer with --ship-packages"
            )


def _largest(engine: StoreEngine) -> tuple[str, int]:
    """The carrier with the most packed packages waiting at WH1, and how many."""
    with UnitOfWork(engine, read_only=True) as uow:
        node = wave_rows.node(uow.session, "WH1")
        assert node is not None
        counts = rows.carrier_counts(uow.session, node.id)
    if not counts:
        return "", 0
    best = max(counts, key=lambda c: c.expected - c.loaded)
    return best.carrier, best.expected - best.loaded


def _parcels(engine: StoreEngine) -> list[rates.Parcel]:
    """Every packed box as a carrier rates it."""
    with UnitOfWork(engine, read_only=True) as uow:
        found = rows.box_sizes(uow.session)
    out = []
    for weight, length, width, height, nlat, nlon, alat, alon in found:
        distance = None
        if alat is not None and alon is not None:
            distance = rates.distance_km(nlat, nlon, alat, alon)
        out.append(rates.Parcel(weight, length, width, height, distance))
    return out


def _measure(engine: StoreEngine, packages: int, progress: Progress | None) -> dict[str, Any]:
    settings = load_shipping(engine)
    now = utcnow().astimezone(ZoneInfo("America/New_York"))
    promised = rates.promised_by("standard", now.date())
    shop_ms = []
    for parcel in _parcels(engine):
        start = time.perf_counter()
        rates.shop(settings, parcel, now, "standard", promised)
        shop_ms.append((time.perf_counter() - start) * 1000)
    carrier, waiting = _largest(engine)
    who = login(engine, "SHIP-01", "ship", "BADGE-U3001", "3333")
    view = ship.open_load(engine, who, "DOCK-1", carrier, settings)
    with UnitOfWork(engine, read_only=True) as uow:
        ready = rows.unloaded_of_carrier(uow.session, who.node_id, carrier, waiting)
    # Whole shipments only, as a close-out takes them.
    by_shipment: dict[int, list[rows.WaitingPackage]] = {}
    for p in ready:
        by_shipment.setdefault(p.shipment_id, []).append(p)
    chosen: list[rows.WaitingPackage] = []
    for group in by_shipment.values():
        if len(chosen) + len(group) <= packages:
            chosen += group
    if len(chosen) < packages:
        raise BenchError(f"only {len(chosen)} whole shipments' packages could be loaded")
    scan_ms = []
    for n, p in enumerate(chosen):
        start = time.perf_counter()
        ship.load_package(engine, who, view.id, p.sscc, settings)
        scan_ms.append((time.perf_counter() - start) * 1000)
        if progress is not None and n % 50 == 0:
            progress("loading", n, len(chosen))
    start = time.perf_counter()
    closed = ship.close_out(engine, who, view.id, settings, PrinterSpec("documents", "pdf"))
    close_s = time.perf_counter() - start
    return {
        "rate_shop_ms_p95": _p95(shop_ms),
        "rate_shops": len(shop_ms),
        "load_scan_ms_p95": _p95(scan_ms),
        "load_scan_ms_p50": round(statistics.median(scan_ms), 3),
        "close_out_1000_packages_s": round(close_s, 3),
        "packages_closed_out": closed.packages,
        "orders_shipped": len(closed.shipped) + len(closed.partly),
    }


def run(
    postgresql: str | None, packages: int = 1000, progress: Progress | None = None
) -> dict[str, Any]:
    """The figures on SQLite, and on PostgreSQL where a server is given."""
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="shipfloor-bench-") as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        try:
            _prepare(engine, packages, progress)
            report["sqlite"] = _measure(engine, packages, progress)
        finally:
            engine.dispose()
    if postgresql is None:
        report["postgresql"] = {
            "skipped": "give --postgresql URL (a server where a scratch database may be made)"
        }
    else:
        with scratch_postgres(postgresql) as url:
            engine = make_engine(url)
            try:
                _prepare(engine, packages, progress)
                report["postgresql"] = _measure(engine, packages, progress)
            finally:
                engine.dispose()
    # The two figures at the top level: SQLite's (one host), the rest by store.
    return {
        "rate_shop_ms_p95": report["sqlite"]["rate_shop_ms_p95"],
        "close_out_1000_packages_s": report["sqlite"]["close_out_1000_packages_s"],
        "stores": report,
    }
