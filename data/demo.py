"""A deterministic demo site: network, warehouse layout, catalog, boxes, people, stock, orders.

Everything is drawn from one `random.Random(seed)`, so the same scale and seed always
build the same site. Orders come out as intake records and go through the real intake.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from data.bulk import insert_rows
from data.models import (
    Box,
    Channel,
    ChannelKind,
    InventoryPosition,
    Location,
    LocationKind,
    MovementReason,
    Node,
    NodeKind,
    Order,
    PackingMaterial,
    PostalArea,
    Product,
    PromoCode,
    PromoCodeChannel,
    PromoKind,
    Role,
    Station,
    StationRole,
    Stock,
    StockMovement,
    User,
    UserRole,
)

GS1_COMPANY_PREFIX = "5012345"
"""The demo site's GS1 company prefix: product GTINs (and later SSCCs) are built from it."""

DEMO_EPOCH = datetime(2026, 11, 20, tzinfo=UTC)
"""Demo orders are placed in the days before this instant, so seeding is reproducible."""

Progress = Callable[[str, int, int], None]
"""(stage, done, total)."""


@dataclass(frozen=True)
class Scale:
    """How big a demo site is."""

    name: str
    dcs: int
    stores: int
    skus: int
    orders: int
    blocks: int
    aisles: int
    bays_per_side: int
    levels: int


SCALES = {
    "small": Scale(
        "small",
        dcs=2,
        stores=6,
        skus=500,
        orders=1_000,
        blocks=2,
        aisles=8,
        bays_per_side=10,
        levels=4,
    ),
    "medium": Scale(
        "medium",
        dcs=4,
        stores=20,
        skus=5_000,
        orders=10_000,
        blocks=3,
        aisles=12,
        bays_per_side=20,
        levels=5,
    ),
    "large": Scale(
        "large",
        dcs=6,
        stores=60,
        skus=20_000,
        orders=100_000,
        blocks=3,
        aisles=20,
        bays_per_side=35,
        levels=5,
    ),
}


@dataclass(frozen=True)
class City:
    """A demo city: where nodes stand and customers live."""

    name: str
    region: str
    latitude: float
    longitude: float
    zip_prefix: str
    area_code: str
    weight: int
    """Relative population, for drawing customers."""


CITIES = (
    City("New York", "NY", 40.7128, -74.0060, "100", "212", 84),
    City("Los Angeles", "CA", 34.0522, -118.2437, "900", "213", 39),
    City("Chicago", "IL", 41.8781, -87.6298, "606", "312", 27),
    City("Houston", "TX", 29.7604, -95.3698, "770", "713", 23),
    City("Phoenix", "AZ", 33.4484, -112.0740, "850", "602", 16),
    City("Philadelphia", "PA", 39.9526, -75.1652, "191", "215", 16),
    City("San Antonio", "TX", 29.4241, -98.4936, "782", "210", 15),
    City("San Diego", "CA", 32.7157, -117.1611, "921", "619", 14),
    City("Dallas", "TX", 32.7767, -96.7970, "752", "214", 13),
    City("San Jose", "CA", 37.3382, -121.8863, "951", "408", 10),
    City("Austin", "TX", 30.2672, -97.7431, "787", "512", 10),
    City("Jacksonville", "FL", 30.3322, -81.6557, "322", "904", 9),
    City("Columbus", "OH", 39.9612, -82.9988, "432", "614", 9),
    City("Charlotte", "NC", 35.2271, -80.8431, "282", "704", 9),
    City("Indianapolis", "IN", 39.7684, -86.1581, "462", "317", 9),
    City("Seattle", "WA", 47.6062, -122.3321, "981", "206", 8),
    City("Denver", "CO", 39.7392, -104.9903, "802", "303", 7),
    City("Boston", "MA", 42.3601, -71.0589, "021", "617", 7),
    City("Nashville", "TN", 36.1627, -86.7816, "372", "615", 7),
    City("Atlanta", "GA", 33.7490, -84.3880, "303", "404", 5),
    City("Minneapolis", "MN", 44.9778, -93.2650, "554", "612", 4),
    City("Kansas City", "MO", 39.0997, -94.5786, "641", "816", 5),
)

FIRST_NAMES = (
    "Ava",
    "Ben",
    "Chloe",
    "Dan",
    "Ella",
    "Finn",
    "Grace",
    "Hugo",
    "Iris",
    "Jack",
    "Kara",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Paul",
    "Rosa",
    "Sam",
    "Tara",
    "Umar",
    "Vera",
    "Will",
    "Yara",
    "Zoe",
    "José",
    "Zoë",
    "Łukasz",
    "Siobhán",
)
LAST_NAMES = (
    "Adams",
    "Baker",
    "Chen",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ito",
    "Jones",
    "Kim",
    "Lopez",
    "Miller",
    "Nguyen",
    "O'Brien",
    "Patel",
    "Quinn",
    "Rossi",
    "Smith",
    "Taylor",
    "Ueda",
    "Vargas",
    "Walsh",
    "Young",
    "Müller",
    "Núñez",
)
STREETS = (
    "Main St",
    "Oak Ave",
    "Pine St",
    "Maple Dr",
    "Cedar Ln",
    "Elm St",
    "Lake Rd",
    "Hill St",
    "Park Ave",
    "River Rd",
    "2nd St",
    "Sunset Blvd",
    "Washington St",
)
PRODUCT_WORDS = (
    ("Stabilo", "pen", 15, 150, 10),
    ("Oxford", "A4 pad", 210, 297, 12),
    ("Leitz", "binder", 320, 290, 50),
    ("Pilot", "marker", 15, 140, 15),
    ("Fiskars", "scissors", 80, 210, 12),
    ("Moleskine", "notebook", 130, 210, 15),
    ("Anker", "USB cable", 100, 120, 20),
    ("Logitech", "mouse", 65, 110, 40),
    ("Philips", "LED bulb", 60, 110, 60),
    ("Duracell", "AA batteries", 60, 100, 15),
    ("Brita", "water filter", 70, 140, 70),
    ("Tefal", "frying pan", 290, 300, 60),
    ("Lego", "brick set", 190, 260, 70),
    ("Nivea", "hand cream", 50, 150, 40),
    ("Colgate", "toothpaste", 45, 190, 35),
    ("Lindt", "chocolate bar", 80, 170, 10),
)
COLOURS = ("black", "blue", "red", "green", "white", "grey", "yellow", "orange", "pink", "navy")

CHANNELS = (
    ("web", "Web shop", ChannelKind.WEB),
    ("mobile", "Mobile app", ChannelKind.MOBILE),
    ("callcenter", "Call center", ChannelKind.CALL_CENTER),
    ("store", "Store (point of sale)", ChannelKind.STORE),
    ("amazon", "Amazon marketplace", ChannelKind.MARKETPLACE),
    ("ebay", "eBay marketplace", ChannelKind.MARKETPLACE),
)
CHANNEL_WEIGHTS = (40, 25, 8, 7, 14, 6)

BOXES = (
    # code, name, L, W, H (inner mm), max weight g, tare g, cost
    ("MAILER-S", "Small mailer", 230, 160, 40, 1_000, 40, "0.35"),
    ("MAILER-L", "Large mailer", 330, 250, 60, 2_000, 70, "0.55"),
    ("BOX-S", "Small box", 200, 150, 100, 5_000, 120, "0.60"),
    ("BOX-M", "Medium box", 300, 220, 150, 10_000, 220, "0.85"),
    ("BOX-L", "Large box", 400, 300, 250, 20_000, 380, "1.25"),
    ("BOX-XL", "Extra large box", 600, 400, 400, 30_000, 650, "2.10"),
    ("TUBE", "Shipping tube", 620, 80, 80, 2_000, 150, "0.95"),
    ("CRATE", "Reinforced crate", 800, 600, 500, 40_000, 1_800, "6.50"),
)

PLAIN_PACKING: dict[str, object] = {
    "fragile": False,
    "liquid": False,
    "upright": False,
    "own_container": False,
    "hazmat_class": "",
    "max_stack_g": None,
}
# How the demo's products are packed (the rest have no special needs).
PACKING: dict[str, dict[str, object]] = {
    "LED bulb": {"fragile": True, "max_stack_g": 500},
    "hand cream": {"liquid": True, "upright": True},
    "toothpaste": {"liquid": True},
    "water filter": {"upright": True},
}

WALL_MM = 6
"""Corrugated board: the outer size of a demo box is its inner size plus two walls."""

MATERIALS = (
    # code, name, kind, cost per unit, grams per unit
    ("AIR", "Air pillows (litre)", "void_fill", "0.02", 2),
    ("BUBBLE", "Bubble wrap sleeve", "bubble_wrap", "0.12", 12),
    ("BAG", "Sealed liquid bag", "bag", "0.05", 6),
    ("DIVIDER", "Cardboard divider", "divider", "0.08", 25),
)

# badge, name, PIN, roles — documented in the README for the demo.
USERS = (
    ("U1001", "Pat Picker", "1111", (Role.PICKER,)),
    ("U1002", "Quinn Picker", "1112", (Role.PICKER,)),
    ("U2001", "Pam Packer", "2222", (Role.PACKER,)),
    ("U3001", "Sam Shipper", "3333", (Role.SHIPPER,)),
    ("U4001", "Rita Returns", "4444", (Role.RETURNS,)),
    (
        "U5001",
        "Sue Supervisor",
        "5555",
        (Role.SUPERVISOR, Role.PICKER, Role.PACKER, Role.SHIPPER, Role.RETURNS),
    ),
    ("U9001", "Alex Admin", "9999", (Role.ADMIN, Role.SUPERVISOR)),
)

STATIONS = (
    ("PICK-01", "Pick cart 1", StationRole.PICK),
    ("PICK-02", "Pick cart 2", StationRole.PICK),
    ("PACK-01", "Packing bench 1", StationRole.PACK),
    ("PACK-02", "Packing bench 2", StationRole.PACK),
    ("SHIP-01", "Shipping dock", StationRole.SHIP),
    ("RET-01", "Returns desk", StationRole.RETURNS),
    ("SUP-01", "Supervisor desk", StationRole.SUPERVISOR),
)

WAREHOUSE_CODE = "WH1"


def gtin13(item_reference: int) -> str:
    """A GTIN-13 from the demo company prefix and an item reference, with its check digit."""
    body = f"{GS1_COMPANY_PREFIX}{item_reference:05d}"
    if len(body) != 12:
        raise ValueError(f"item reference {item_reference} does not fit the company prefix")
    return body + str(gs1_check_digit(body))


def gs1_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for a string of digits (weights 3,1 from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def is_empty(session: Session) -> bool:
    """True when the store holds no site yet (no nodes)."""
    return session.scalar(select(func.count()).select_from(Node)) == 0


@dataclass(frozen=True)
class SiteSummary:
    """Counts that describe a seeded site."""

    nodes: dict[str, int]
    products: int
    locations: int
    stock_rows: int
    units_on_hand: int
    boxes: int
    users: int
    stations: int
    orders_by_status: dict[str, int]
    orders_by_channel: dict[str, int]


def summary(session: Session) -> SiteSummary:
    """What the store holds, for `shipfloor demo` and people checking a seed."""
    nodes = {
        str(k): n for k, n in session.execute(select(Node.kind, func.count()).group_by(Node.kind))
    }
    by_status = {
        str(k): n
        for k, n in session.execute(select(Order.status, func.count()).group_by(Order.status))
    }
    by_channel = {
        code: n
        for code, n in session.execute(
            select(Channel.code, func.count(Order.id))
            .join(Order, Order.channel_id == Channel.id)
            .group_by(Channel.code)
        )
    }

    def count(model: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)

    return SiteSummary(
        nodes=nodes,
        products=count(Product),
        locations=count(Location),
        stock_rows=count(Stock),
        units_on_hand=int(session.scalar(select(func.coalesce(func.sum(Stock.on_hand), 0))) or 0),
        boxes=count(Box),
        users=count(User),
        stations=count(Station),
        orders_by_status=by_status,
        orders_by_channel=by_channel,
    )


def seed_site(
    session: Session,
    scale: Scale,
    rng: random.Random,
    hash_pin: Callable[[str], str],
    warehouse_locations: Sequence[dict[str, Any]],
    progress: Progress | None = None,
) -> None:
    """Insert the site (everything but orders) into an empty store, in the caller's
    transaction. The warehouse's locations come from its layout file (app.walks.site)."""
    now = DEMO_EPOCH
    session.execute(
        insert(Channel),
        [{"code": c, "name": n, "kind": k, "active": True} for c, n, k in CHANNELS],
    )
    # Marketplaces want whole orders from one place; the others accept splits.
    session.execute(
        update(Channel).where(Channel.kind == ChannelKind.MARKETPLACE).values(max_packages=1)
    )
    session.execute(
        insert(PostalArea),
        [
            {
                "country": "US",
                "prefix": c.zip_prefix,
                "name": f"{c.name}, {c.region}",
                "latitude": c.latitude,
                "longitude": c.longitude,
            }
            for c in CITIES
        ],
    )
    channel_ids = dict(session.execute(select(Channel.code, Channel.id)).tuples().all())
    _seed_promos(session, channel_ids)
    node_ids = _seed_nodes(session, scale, rng)
    session.execute(
        insert(Box),
        [
            {
                "code": c,
                "name": n,
                "inner_length_mm": length,
                "inner_width_mm": w,
                "inner_height_mm": h,
                "max_weight_g": mw,
                "tare_g": t,
                "cost": Decimal(cost),
                "active": True,
                "outer_length_mm": length + WALL_MM,
                "outer_width_mm": w + WALL_MM,
                "outer_height_mm": h + WALL_MM,
                "barcode": c if c.startswith("BOX-") else f"BOX-{c}",
            }
            for c, n, length, w, h, mw, t, cost in BOXES
        ],
    )
    session.execute(
        insert(PackingMaterial),
        [
            {
                "code": c,
                "name": n,
                "kind": kind,
                "unit_cost": Decimal(cost),
                "unit_weight_g": grams,
                "active": True,
            }
            for c, n, kind, cost, grams in MATERIALS
        ],
    )
    for badge, name, pin, roles in USERS:
        session.add(
            User(
                badge=badge,
                name=name,
                pin_hash=hash_pin(pin),
                active=True,
                created_at=now,
                roles=[UserRole(role=r) for r in roles],
            )
        )
    session.execute(
        insert(Station),
        [
            {"code": c, "name": n, "node_id": node_ids[WAREHOUSE_CODE], "role": r, "active": True}
            for c, n, r in STATIONS
        ],
    )
    session.flush()
    products = _seed_products(session, scale, rng)
    if progress:
        progress("catalog", scale.skus, scale.skus)
    _seed_stock(session, rng, node_ids, products, warehouse_locations, progress)


def _seed_promos(session: Session, channel_ids: dict[str, int]) -> None:
    promos = (
        (
            "WELCOME10",
            "10 % off a first order",
            PromoKind.PERCENT,
            1000,
            None,
            datetime(2026, 1, 1, tzinfo=UTC),
            datetime(2028, 1, 1, tzinfo=UTC),
            (),
        ),
        (
            "SAVE5",
            "5.00 off on web and app",
            PromoKind.AMOUNT,
            None,
            Decimal("5.00"),
            datetime(2026, 6, 1, tzinfo=UTC),
            datetime(2027, 6, 1, tzinfo=UTC),
            ("web", "mobile"),
        ),
        (
            "APP15",
            "15 % off in the app",
            PromoKind.PERCENT,
            1500,
            None,
            datetime(2026, 9, 1, tzinfo=UTC),
            datetime(2027, 3, 1, tzinfo=UTC),
            ("mobile",),
        ),
        (
            "WINTER25",
            "Last winter's sale",
            PromoKind.PERCENT,
            2500,
            None,
            datetime(2026, 1, 1, tzinfo=UTC),
            datetime(2026, 3, 1, tzinfo=UTC),
            (),
        ),
    )
    for code, description, kind, bp, amount, start, end, channels in promos:
        promo = PromoCode(
            code=code,
            description=description,
            kind=kind,
            percent_bp=bp,
            amount_off=amount,
            valid_from=start,
            valid_until=end,
        )
        session.add(promo)
        session.flush()
        for channel in channels:
            session.add(PromoCodeChannel(promo_code_id=promo.id, channel_id=channel_ids[channel]))
    session.flush()


def _seed_nodes(session: Session, scale: Scale, rng: random.Random) -> dict[str, int]:
    rows: list[dict[str, Any]] = []

    def node(code: str, name: str, kind: NodeKind, city: City, **extra: Any) -> None:
        rows.append(
            {
                "code": code,
                "name": name,
                "kind": kind,
                "latitude": round(city.latitude + rng.uniform(-0.05, 0.05), 5),
                "longitude": round(city.longitude + rng.uniform(-0.05, 0.05), 5),
                "address_line1": f"{rng.randint(100, 9999)} {rng.choice(STREETS)}",
                "city": city.name,
                "region": city.region,
                "postal_code": f"{city.zip_prefix}{rng.randint(0, 99):02d}",
                "country": "US",
                "timezone": "UTC",
                "active": True,
                **extra,
            }
        )

    node(
        WAREHOUSE_CODE,
        "Columbus fulfilment centre",
        NodeKind.WAREHOUSE,
        CITIES[12],
        can_ship=True,
        can_pickup=False,
        ship_from_store=False,
        daily_capacity=20_000,
        cutoff_time=time(17, 0),
        safety_stock=2,
        priority=1,
    )
    dc_cities = [
        c
        for c in CITIES
        if c.name
        in ("Los Angeles", "Dallas", "Atlanta", "New York", "Seattle", "Denver", "Chicago")
    ]
    for i in range(scale.dcs):
        city = dc_cities[i % len(dc_cities)]
        node(
            f"DC{i + 1}",
            f"{city.name} distribution centre",
            NodeKind.DC,
            city,
            can_ship=True,
            can_pickup=False,
            ship_from_store=False,
            daily_capacity=rng.choice((4_000, 6_000, 8_000)),
            cutoff_time=time(16, 0),
            safety_stock=1,
            priority=10 + i,
        )
    for i in range(scale.stores):
        city = CITIES[i % len(CITIES)]
        ships = rng.random() < 0.6
        node(
            f"S{i + 1:03d}",
            f"{city.name} store {i // len(CITIES) + 1}",
            NodeKind.STORE,
            city,
            can_ship=ships,
            can_pickup=True,
            ship_from_store=ships,
            daily_capacity=rng.choice((100, 200, 300)) if ships else 0,
            cutoff_time=time(15, 0),
            safety_stock=2,
            priority=100 + i,
        )
    session.execute(insert(Node), rows)
    return dict(session.execute(select(Node.code, Node.id)).tuples().all())


@dataclass(frozen=True)
class _Tracked:
    id: int
    lot: bool
    expiry: bool


def _seed_products(session: Session, scale: Scale, rng: random.Random) -> list[_Tracked]:
    rows = []
    references = rng.sample(range(1, 100_000), scale.skus)
    for i, ref in enumerate(references):
        brand, noun, length, height, depth = rng.choice(PRODUCT_WORDS)
        colour = rng.choice(COLOURS)
        size = rng.choice((1, 1, 1, 2, 3))
        dims = sorted((length * size, height, depth * size), reverse=True)
        volume_l = dims[0] * dims[1] * dims[2] / 1e6
        rows.append(
            {
                "sku": f"SKU-{i + 1:06d}",
                "gtin": gtin13(ref),
                "name": f"{brand} {noun} {colour}" + (f" ×{size}" if size > 1 else ""),
                "length_mm": dims[0],
                "width_mm": dims[1],
                "height_mm": dims[2],
                "weight_g": max(5, int(volume_l * rng.uniform(150, 700))),
                "list_price": Decimal(rng.randint(99, 9999)) / 100,
                "track_lot": noun in ("toothpaste", "hand cream", "chocolate bar", "water filter"),
                "track_serial": noun in ("mouse",),
                "track_expiry": noun in ("toothpaste", "hand cream", "chocolate bar"),
                "active": rng.random() > 0.002,
                **PLAIN_PACKING,
                **PACKING.get(noun, {}),
            }
        )
    insert_rows(session, Product, rows)
    rows_back = session.execute(
        select(Product.id, Product.track_lot, Product.track_expiry).order_by(Product.id)
    )
    return [_Tracked(i, lot, expiry) for i, lot, expiry in rows_back]


def _seed_stock(
    session: Session,
    rng: random.Random,
    node_ids: dict[str, int],
    products: list[_Tracked],
    warehouse_locations: Sequence[dict[str, Any]],
    progress: Progress | None,
) -> None:
    warehouse = node_ids[WAREHOUSE_CODE]
    locations = [{**row, "node_id": warehouse} for row in warehouse_locations]
    insert_rows(session, Location, locations)
    other = [
        {
            "node_id": nid,
            "code": "BACK-01" if code.startswith("S") else "BULK-01",
            "barcode": "LOC-BACK-01" if code.startswith("S") else "LOC-BULK-01",
            "kind": LocationKind.BACKROOM if code.startswith("S") else LocationKind.BULK,
            "zone": "",
            "block": 0,
            "aisle": 0,
            "side": "",
            "bay": 0,
            "level": 0,
            "x_mm": 0,
            "y_mm": 0,
        }
        for code, nid in node_ids.items()
        if code != WAREHOUSE_CODE
    ]
    session.execute(insert(Location), other)
    # The shelf by the pack benches where an order waits when a unit is missing or
    # damaged, and the dock doors where carriers' vehicles are loaded.
    places = [("PROBLEM", LocationKind.STAGING)]
    places += [(f"DOCK-{n}", LocationKind.DOCK) for n in range(1, 5)]
    session.execute(
        insert(Location),
        [
            {
                "node_id": warehouse,
                "code": code,
                "barcode": f"LOC-{code}",
                "kind": kind,
                "zone": "",
                "block": 0,
                "aisle": 0,
                "side": "",
                "bay": 0,
                "level": 0,
                "x_mm": 0,
                "y_mm": 0,
            }
            for code, kind in places
        ],
    )
    location_ids: dict[tuple[int, str], int] = {
        (n, c): i
        for i, n, c in session.execute(select(Location.id, Location.node_id, Location.code))
    }
    # Every SKU gets a face on the first level (the pick faces people reach without
    # stretching), nearest the depot first; that spreads the range over every block.
    pick_codes = [
        loc["code"]
        for loc in sorted(
            locations, key=lambda loc: (loc["level"], loc["x_mm"] + loc["y_mm"], loc["code"])
        )
    ]
    stock: list[dict[str, Any]] = []
    received = DEMO_EPOCH - timedelta(days=7)
    for index, product in enumerate(products):
        placements: list[tuple[int, int, int]] = []
        if rng.random() < 0.95:
            code = pick_codes[index % len(pick_codes)]
            placements.append((warehouse, location_ids[(warehouse, code)], rng.randint(5, 200)))
        for node_code, node_id in node_ids.items():
            if node_code.startswith("DC") and rng.random() < 0.75:
                placements.append(
                    (node_id, location_ids[(node_id, "BULK-01")], rng.randint(10, 500))
                )
            elif node_code.startswith("S") and rng.random() < 0.1:
                placements.append((node_id, location_ids[(node_id, "BACK-01")], rng.randint(1, 25)))
        for node_id, location_id, qty in placements:
            lot = f"L{rng.randint(10_000, 99_999)}" if product.lot else ""
            expiry = (
                DEMO_EPOCH.date() + timedelta(days=rng.randint(20, 540)) if product.expiry else None
            )
            stock.append(
                {
                    "node_id": node_id,
                    "location_id": location_id,
                    "product_id": product.id,
                    "lot": lot,
                    "expiry": expiry,
                    "on_hand": qty,
                }
            )
    total = len(stock)
    chunk = 20_000
    for start in range(0, total, chunk):
        part = stock[start : start + chunk]
        insert_rows(session, Stock, part)
        insert_rows(
            session,
            InventoryPosition,
            [
                {
                    "node_id": s["node_id"],
                    "product_id": s["product_id"],
                    "on_hand": s["on_hand"],
                    "reserved": 0,
                    "safety_stock": None,
                }
                for s in part
            ],
        )
        insert_rows(
            session,
            StockMovement,
            [
                {
                    "node_id": s["node_id"],
                    "location_id": s["location_id"],
                    "product_id": s["product_id"],
                    "lot": s["lot"],
                    "quantity": s["on_hand"],
                    "reason": MovementReason.RECEIPT,
                    "at": received,
                    "actor": "demo-seed",
                    "user_id": None,
                    "station_id": None,
                    "note": "opening stock",
                }
                for s in part
            ],
        )
        if progress:
            progress("stock", min(start + chunk, total), total)


def order_records(session: Session, scale: Scale, rng: random.Random) -> Iterator[dict[str, Any]]:
    """Demo orders as intake records (flat field names, as app.intake.parse builds them).

    About 2 % carry a problem a person must fix (bad phone, expired promo, missing city),
    so held orders appear in the demo as they would on a real day.
    """
    products = session.execute(
        select(Product.sku, Product.list_price).where(Product.active.is_(True)).order_by(Product.id)
    ).all()
    # What each pickup store has on its shelves: pickup orders are for what a customer
    # saw in stock there.
    shelves: dict[str, list[tuple[str, Decimal]]] = {}
    for code, sku, price in session.execute(
        select(Node.code, Product.sku, Product.list_price)
        .join(Stock, Stock.node_id == Node.id)
        .join(Product, Product.id == Stock.product_id)
        .where(
            Node.kind == NodeKind.STORE,
            Node.can_pickup.is_(True),
            Stock.on_hand >= 4,
            Product.active.is_(True),
        )
        .order_by(Node.code, Product.id)
    ):
        shelves.setdefault(code, []).append((sku, price))
    pickup_stores = sorted(shelves)
    customers: list[dict[str, Any]] = []
    for i in range(max(50, scale.orders // 3)):
        city = rng.choices(CITIES, weights=[c.weight for c in CITIES])[0]
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        local = f"{first}.{last}".lower().replace("'", "")
        customers.append(
            {
                "name": f"{first} {last}",
                "email": f"{local}{i}@example.com",
                "phone": f"+1 {city.area_code} {rng.randint(200, 999)} {rng.randint(0, 9999):04d}",
                "city": city,
                "line1": f"{rng.randint(1, 9999)} {rng.choice(STREETS)}",
                "postal": f"{city.zip_prefix}{rng.randint(0, 99):02d}",
            }
        )
    # Skewed popularity: a few SKUs sell far more than the rest.
    cumulative: list[float] = []
    running = 0.0
    for rank in range(len(products)):
        running += 1.0 / (rank + 1) ** 0.8
        cumulative.append(running)
    channel_codes = [c for c, _, _ in CHANNELS]
    for n in range(scale.orders):
        channel = rng.choices(channel_codes, weights=CHANNEL_WEIGHTS)[0]
        customer = rng.choice(customers)
        home: City = customer["city"]
        line_count = rng.choices((1, 2, 3, 4, 5, 8), weights=(45, 25, 14, 8, 5, 3))[0]
        chosen: list[tuple[str, Decimal]] = [
            (sku, price)
            for sku, price in rng.choices(products, cum_weights=cumulative, k=line_count)
        ]
        record: dict[str, Any] = {
            "channel": channel,
            "external_id": f"{channel[:3].upper()}-{100000 + n}",
            "placed_at": (DEMO_EPOCH - timedelta(seconds=rng.randint(0, 3 * 86400)))
            .isoformat()
            .replace("+00:00", "Z"),
            "customer.name": customer["name"],
            "customer.email": customer["email"],
            "customer.phone": customer["phone"],
            "ship_to.name": customer["name"],
            "ship_to.line1": customer["line1"],
            "ship_to.city": home.name,
            "ship_to.region": home.region,
            "ship_to.postal_code": customer["postal"],
            "ship_to.country": "US",
            "service_level": rng.choices(("standard", "express", "next_day"), (80, 15, 5))[0],
            "payment_status": "paid" if channel in ("store", "amazon", "ebay") else "authorized",
            "currency": "USD",
        }
        pickup = bool(pickup_stores) and channel in ("web", "mobile") and rng.random() < 0.05
        if pickup:
            store_code = rng.choice(pickup_stores)
            record["service_level"] = "pickup"
            record["pickup_store"] = store_code
            shelf = shelves[store_code]
            chosen = rng.sample(shelf, min(len(shelf), rng.choice((1, 1, 2))))
        if rng.random() < 0.08:
            offers = {"web": ("WELCOME10", "SAVE5"), "mobile": ("WELCOME10", "SAVE5", "APP15")}
            record["promo_code"] = rng.choice(offers.get(channel, ("WELCOME10",)))
        problem = rng.random()
        if problem < 0.005:
            record["customer.phone"] = "555-01"
        elif problem < 0.01:
            record["promo_code"] = "WINTER25"
        elif problem < 0.015:
            record["ship_to.city"] = ""
        elif problem < 0.02:
            record["payment_status"] = "pending"
        yield {
            **record,
            "_lines": [
                (sku, 1 if pickup else rng.choices((1, 1, 1, 2, 3), k=1)[0], str(price))
                for sku, price in chosen
            ],
        }
