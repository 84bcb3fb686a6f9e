"""Seed the demo site: the network and warehouse first, then orders through the real intake."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from app.actor import Actor
from app.intake.importer import ImportSummary, import_records
from app.intake.parse import FieldError, build_order
from app.intake.records import ParsedOrder, Rejection
from app.shipping import settings as ship_settings
from app.users import hash_pin
from app.walks import site as layouts
from data import demo, settings
from data import waves as picking_rows
from data.demo import SCALES, WAREHOUSE_CODE, Scale, SiteSummary
from data.store import StoreEngine
from data.types import utcnow
from data.uow import UnitOfWork

Progress = Callable[[str, int, int], None]
"""(stage, done, total)."""


DEMO_SHIPPING = {
    "gs1_company_prefix": demo.GS1_COMPANY_PREFIX,
    "sscc_extension_digit": 0,
    "carriers": {
        "GROUND": {
            "name": "Ground Parcel",
            "tracking_prefix": "GP",
            "account": "SF-GP-0001",
            "services": {
                "GROUND": {
                    "name": "Ground",
                    "levels": ["standard"],
                    "cutoff": "17:00",
                    "fuel_pct": "0.08",
                    "residential": "1.10",
                    "oversize_mm": 1200,
                    "oversize": "18.00",
                    "bands": [
                        {"up_to_km": 300, "days": 1, "base": "5.10", "per_kg": "0.45"},
                        {"up_to_km": 1000, "days": 2, "base": "6.40", "per_kg": "0.60"},
                        {"up_to_km": 2000, "days": 4, "base": "7.90", "per_kg": "0.80"},
                        {"up_to_km": None, "days": 5, "base": "9.80", "per_kg": "1.05"},
                    ],
                }
            },
        },
        "EXPRESS": {
            "name": "Express Courier",
            "tracking_prefix": "EX",
            "account": "SF-EX-0001",
            "services": {
                "2DAY": {
                    "name": "2-Day",
                    "levels": ["standard", "express"],
                    "cutoff": "18:00",
                    "fuel_pct": "0.10",
                    "residential": "2.00",
                    "bands": [{"up_to_km": None, "days": 2, "base": "11.50", "per_kg": "1.40"}],
                },
                "OVERNIGHT": {
                    "name": "Overnight",
                    "levels": ["standard", "express", "next_day"],
                    "cutoff": "19:00",
                    "fuel_pct": "0.10",
                    "residential": "2.00",
                    "bands": [{"up_to_km": None, "days": 1, "base": "19.00", "per_kg": "2.10"}],
                },
            },
        },
        "PICKUP": {"name": "Store Pickup", "tracking_prefix": "PU", "account": ""},
    },
    "seller": {
        "name": "Shipfloor Demo Co.",
        "lines": ["100 Commerce Way"],
        "city": "Columbus",
        "region": "OH",
        "postal_code": "43215",
        "country": "US",
        "email": "orders@shipfloor.example",
        "tax_id": "US-00-0000000",
    },
    "tax_rates": {"default": "0", "US-OH": "0.0575", "US-CA": "0.0725", "US-NY": "0.04"},
    "invoice_prefix": "INV-",
}
"""The demo site's shipping settings: its GS1 prefix, carriers with their rate tables (so
packing rate-shops), seller and tax rates."""

SEEDED_KEY = "demo.seeded"
"""Written when a demo seed has finished, orders included."""


class StoreNotEmpty(Exception):
    """The store already holds a site; seeding would mix two sites."""


@dataclass(frozen=True)
class SeedReport:
    """What seeding did and how long it took."""

    scale: str
    seed: int
    seconds: float
    orders: ImportSummary


def is_empty(engine: StoreEngine) -> bool:
    """True when the store holds no site yet."""
    with UnitOfWork(engine, read_only=True) as uow:
        return demo.is_empty(uow.session)


def seed(
    engine: StoreEngine,
    scale: str = "small",
    seed: int = 1,
    progress: Progress | None = None,
    *,
    orders: int | None = None,
) -> SeedReport:
    """Build the demo site into an empty, migrated store. Same scale and seed, same site.

    `orders` replaces the scale's number of orders (a busier day on the same site)."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    spec = SCALES[scale] if orders is None else replace(SCALES[scale], orders=orders)
    started = time.perf_counter()
    rng = random.Random(seed)
    # PINs get a salt drawn from the seeded generator, so a seed always gives the same store.
    with UnitOfWork(engine) as uow:
        if not demo.is_empty(uow.session):
            raise StoreNotEmpty(
                "the store already holds a site; seed into an empty store (a new --db)"
            )
        layout = layouts.from_dict(demo_layout(spec), where="demo layout")
        demo.seed_site(
            uow.session,
            spec,
            rng,
            lambda pin: hash_pin(pin, salt=rng.randbytes(16)),
            list(layout.location_rows()),
            progress,
        )
        warehouse = picking_rows.node(uow.session, WAREHOUSE_CODE)
        assert warehouse is not None
        picking_rows.put_layout(
            uow.session, warehouse.id, layout.to_json(), actor="demo-seed", at=utcnow()
        )
        uow.commit()
    if progress:
        # The bar appears while the order records are generated, before intake reports.
        progress("orders", 0, spec.orders)
    with UnitOfWork(engine, read_only=True) as uow:
        raw = list(demo.order_records(uow.session, spec, rng))
    records: list[ParsedOrder | Rejection] = []
    for line_no, record in enumerate(raw, start=1):
        lines = record.pop("_lines")
        try:
            records.append(build_order(line_no, record, lines))
        except FieldError as exc:  # the generator made a record intake cannot read
            raise RuntimeError(f"demo order {record['external_id']}: {exc}") from exc

    def order_progress(done: int, total: int) -> None:
        if progress:
            progress("orders", done, total)

    # One process: worker batches would commit in whatever order they finish, and the
    # same seed must give the same order ids.
    imported = import_records(
        engine, records, Actor.system("demo-seed"), order_progress, parallel=False
    )
    if imported.rejected:
        raise RuntimeError(f"demo orders were rejected: {imported.rejected[0]}")
    ship_settings.save(engine, DEMO_SHIPPING, Actor.system("demo-seed"))
    with UnitOfWork(engine) as uow:
        settings.put(
            uow.session,
            SEEDED_KEY,
            json.dumps({"scale": scale, "seed": seed}),
            actor="demo-seed",
            at=utcnow(),
        )
        uow.commit()
    return SeedReport(scale, seed, time.perf_counter() - started, imported)


def demo_layout(scale: Scale) -> dict[str, object]:
    """The demo warehouse's layout file: blocks of parallel aisles 5 m apart with 3 m cross
    aisles, 1 m cells on both sides, the depot in front of the leftmost aisle."""
    depth = scale.bays_per_side * 1.0
    ends = [3.0 * (b + 1) + (b + 1) * depth for b in range(scale.blocks)]
    return {
        "node": WAREHOUSE_CODE,
        "depot_m": [2.5, 1.5],
        "aisles": {"first_x_m": 2.5, "pitch_m": 5.0, "count": scale.aisles},
        "cross_aisles_y_m": [1.5, *(end + 1.5 for end in ends)],
        "cell_m": 1.0,
        "levels": scale.levels,
        "blocks": [
            {
                "zone": chr(ord("A") + b),
                "first_cell_y_m": 3.0 * (b + 1) + b * depth + 0.5,
                "cells_per_side": scale.bays_per_side,
            }
            for b in range(scale.blocks)
        ],
        "location_code": layouts.DEFAULT_CODE,
    }


def unfinished_seed(engine: StoreEngine) -> bool:
    """True when a demo seed began (the site is there) but did not finish (no mark)."""
    with UnitOfWork(engine, read_only=True) as uow:
        if demo.is_empty(uow.session):
            return False
        if settings.get(uow.session, SEEDED_KEY) is not None:
            return False
        return demo.summary(uow.session).orders_by_status == {}


def site_summary(engine: StoreEngine) -> SiteSummary:
    """Counts describing the site in the store."""
    with UnitOfWork(engine, read_only=True) as uow:
        return demo.summary(uow.session)


DEMO_ROUTED = 60
"""Orders the demo routes and releases at the warehouse, so a picker has work at once."""


def release_demo_work(engine: StoreEngine, progress: Progress | None = None) -> int:
    """Route the oldest demo orders and release the warehouse's waves; returns the number
    of pick lists made."""
    from app.dom.routing import RoutingSettings, route_backlog
    from app.waves import planning as waves
    from app.waves.settings import load as load_wave_settings

    actor = Actor.system("demo-seed")
    if progress:
        progress("routing", 0, DEMO_ROUTED)
    route_backlog(engine, actor, RoutingSettings(), limit=DEMO_ROUTED)
    settings = load_wave_settings(engine)
    made = 0
    plan = waves.plan(engine, WAREHOUSE_CODE, settings, actor)
    for done, wave in enumerate(plan.waves, start=1):
        made += len(waves.release(engine, wave.id, settings, actor).pick_lists)
        if progress:
            progress("waves", done, len(plan.waves))
    return made


def totes_waiting(engine: StoreEngine) -> int:
    """Totes of picked orders waiting at the warehouse's pack benches."""
    from data.pack_station import totes_to_pack

    with UnitOfWork(engine, read_only=True) as uow:
        return totes_to_pack(uow.session, WAREHOUSE_CODE)


def packages_waiting(engine: StoreEngine) -> int:
    """Packed packages at the warehouse not yet on a manifest."""
    from data.ship_station import carrier_counts
    from data.waves import node

    with UnitOfWork(engine, read_only=True) as uow:
        found = node(uow.session, WAREHOUSE_CODE)
        if found is None:
            return 0
        return sum(c.expected for c in carrier_counts(uow.session, found.id))
