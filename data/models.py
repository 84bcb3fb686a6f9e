"""The store's tables as typed SQLAlchemy 2 models; Alembic migrations are derived from these."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from data.types import Money, UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Annotated column types keep the models short and identical on both databases.
IntPK = Annotated[
    int, mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
]
Code = Annotated[str, mapped_column(String(40))]
Name = Annotated[str, mapped_column(String(200))]
Timestamp = Annotated[datetime, mapped_column(UTCDateTime())]
Amount = Annotated[Decimal, mapped_column(Money())]


class Base(DeclarativeBase):
    """Declarative base carrying the constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    """A portable enum column: a VARCHAR with a named CHECK constraint on both databases."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class ChannelKind(enum.StrEnum):
    """Where an order comes from."""

    WEB = "web"
    MOBILE = "mobile"
    CALL_CENTER = "call_center"
    STORE = "store"
    MARKETPLACE = "marketplace"


class NodeKind(enum.StrEnum):
    """A place that holds stock and fulfils orders."""

    WAREHOUSE = "warehouse"
    DC = "dc"
    STORE = "store"


class OrderStatus(enum.StrEnum):
    """An order's place in its lifecycle; the allowed moves live in app.orders.lifecycle."""

    RECEIVED = "received"
    VERIFIED = "verified"
    HELD = "held"
    ROUTED = "routed"
    RELEASED = "released"
    PICKING = "picking"
    PICKED = "picked"
    PACKED = "packed"
    PARTIALLY_SHIPPED = "partially_shipped"
    """Some of its units have left (a split order: another node's part is still coming)."""
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    RETURNED = "returned"


class PaymentStatus(enum.StrEnum):
    """What the sales channel says about payment."""

    PENDING = "pending"
    AUTHORIZED = "authorized"
    PAID = "paid"
    FAILED = "failed"


class ServiceLevel(enum.StrEnum):
    """The delivery promise the customer chose."""

    STANDARD = "standard"
    EXPRESS = "express"
    NEXT_DAY = "next_day"
    PICKUP = "pickup"


class PromoKind(enum.StrEnum):
    """How a promo code reduces an order."""

    PERCENT = "percent"
    AMOUNT = "amount"


class LocationKind(enum.StrEnum):
    """What a storage location is used for."""

    PICK = "pick"
    BULK = "bulk"
    BACKROOM = "backroom"
    STAGING = "staging"
    DOCK = "dock"


class ReservationKind(enum.StrEnum):
    """A ledger entry's effect on reserved stock."""

    RESERVE = "reserve"
    RELEASE = "release"
    CONSUME = "consume"


class MovementReason(enum.StrEnum):
    """Why on-hand stock changed."""

    RECEIPT = "receipt"
    ADJUSTMENT = "adjustment"
    PICK = "pick"
    SHORT_PICK = "short_pick"
    COUNT = "count"
    RETURN = "return"


class Role(enum.StrEnum):
    """What a user may do; each station role needs the matching user role."""

    PICKER = "picker"
    PACKER = "packer"
    SHIPPER = "shipper"
    RETURNS = "returns"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class StationRole(enum.StrEnum):
    """Which screen a station PC starts in."""

    PICK = "pick"
    PACK = "pack"
    SHIP = "ship"
    RETURNS = "returns"
    SUPERVISOR = "supervisor"


class Channel(Base):
    """A sales channel orders arrive from; orders are unique per (channel, external id)."""

    __tablename__ = "channels"

    id: Mapped[IntPK]
    code: Mapped[Code] = mapped_column(unique=True)
    name: Mapped[Name]
    kind: Mapped[ChannelKind] = mapped_column(_enum(ChannelKind, "channel_kind"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    max_packages: Mapped[int | None] = mapped_column(Integer)
    """DOM split policy: 1 ships complete from one node; None allows any split."""


class Customer(Base):
    """A person who orders; `key` deduplicates them across orders (normalised email or phone)."""

    __tablename__ = "customers"

    id: Mapped[IntPK]
    key: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[Name]
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class Node(Base):
    """A fulfilment node: warehouse, distribution centre or store."""

    __tablename__ = "nodes"
    __table_args__ = (
        CheckConstraint("daily_capacity >= 0", name="daily_capacity_non_negative"),
        CheckConstraint("safety_stock >= 0", name="safety_stock_non_negative"),
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
        # A store that ships to customers is ship-from-store; other kinds never are.
        CheckConstraint(
            "ship_from_store = false OR kind = 'store'", name="ship_from_store_is_a_store"
        ),
    )

    id: Mapped[IntPK]
    code: Mapped[Code] = mapped_column(unique=True)
    name: Mapped[Name]
    kind: Mapped[NodeKind] = mapped_column(_enum(NodeKind, "node_kind"))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    address_line1: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    region: Mapped[str] = mapped_column(String(100), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    country: Mapped[str] = mapped_column(String(2), default="US")
    can_ship: Mapped[bool] = mapped_column(Boolean, default=True)
    can_pickup: Mapped[bool] = mapped_column(Boolean, default=False)
    ship_from_store: Mapped[bool] = mapped_column(Boolean, default=False)
    daily_capacity: Mapped[int] = mapped_column(Integer, default=0)
    cutoff_time: Mapped[time] = mapped_column(Time)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    safety_stock: Mapped[int] = mapped_column(Integer, default=0)
    priority: Mapped[int] = mapped_column(Integer, default=100)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Product(Base):
    """A stock-keeping unit with its barcode, size and tracking needs."""

    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint(
            "length_mm > 0 AND width_mm > 0 AND height_mm > 0", name="dimensions_positive"
        ),
        CheckConstraint("weight_g > 0", name="weight_positive"),
        CheckConstraint("list_price >= 0", name="list_price_non_negative"),
    )

    id: Mapped[IntPK]
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True)
    name: Mapped[Name]
    length_mm: Mapped[int] = mapped_column(Integer)
    width_mm: Mapped[int] = mapped_column(Integer)
    height_mm: Mapped[int] = mapped_column(Integer)
    weight_g: Mapped[int] = mapped_column(Integer)
    list_price: Mapped[Amount]
    track_lot: Mapped[bool] = mapped_column(Boolean, default=False)
    track_serial: Mapped[bool] = mapped_column(Boolean, default=False)
    track_expiry: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # How it is packed (the pack station's packaging suggestion reads these).
    fragile: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    liquid: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    upright: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Keep this side up: it may only be turned about the vertical axis."""
    own_container: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Ships in its own packaging: a package of its own, no box."""
    hazmat_class: Mapped[str] = mapped_column(String(8), default="", server_default="")
    """The UN dangerous-goods class ("3", "9"); empty: not hazardous."""
    max_stack_g: Mapped[int | None] = mapped_column(Integer)
    """The weight that may rest on it; None: no limit."""


class PromoCode(Base):
    """A promotion: valid between two instants, for all channels or the listed ones."""

    __tablename__ = "promo_codes"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'percent' AND percent_bp BETWEEN 1 AND 10000 AND amount_off IS NULL)"
            " OR (kind = 'amount' AND amount_off > 0 AND percent_bp IS NULL)",
            name="one_discount",
        ),
        CheckConstraint("valid_until > valid_from", name="valid_window"),
    )

    id: Mapped[IntPK]
    code: Mapped[Code] = mapped_column(unique=True)
    description: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[PromoKind] = mapped_column(_enum(PromoKind, "promo_kind"))
    # Percent discounts in basis points (1250 = 12.5 %), amount discounts in money.
    percent_bp: Mapped[int | None] = mapped_column(Integer)
    amount_off: Mapped[Decimal | None] = mapped_column(Money())
    valid_from: Mapped[Timestamp]
    valid_until: Mapped[Timestamp]
    channels: Mapped[list[Channel]] = relationship(secondary="promo_code_channels")


class PromoCodeChannel(Base):
    """A channel a promo code is limited to; a code with no rows here is valid everywhere."""

    __tablename__ = "promo_code_channels"

    promo_code_id: Mapped[int] = mapped_column(ForeignKey("promo_codes.id"), primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), primary_key=True)


class User(Base):
    """A person on the floor: a badge to scan and a PIN, stored as a salted scrypt hash."""

    __tablename__ = "users"

    id: Mapped[IntPK]
    badge: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[Name]
    pin_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Wrong PINs in a row; the badge locks at five."""
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    roles: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan")


class UserRole(Base):
    """One role held by one user."""

    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), primary_key=True)


class ApiToken(Base):
    """A key a program (a router, print delivery, an integration) acts with, as one user in
    some of that user's roles: only a hash of its secret is kept; it expires, and an admin
    can revoke it."""

    __tablename__ = "api_tokens"

    id: Mapped[IntPK]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    lookup: Mapped[str] = mapped_column(String(16), unique=True)
    """The start of the token after its prefix, to find it by; the rest is secret."""
    secret_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 (hex) of the whole token."""
    roles: Mapped[str] = mapped_column(String(200))
    """The roles it acts in, space-separated."""
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Station(Base):
    """A station PC on the floor, at one node, starting in one role."""

    __tablename__ = "stations"

    id: Mapped[IntPK]
    code: Mapped[Code] = mapped_column(unique=True)
    name: Mapped[Name]
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"))
    role: Mapped[StationRole] = mapped_column(_enum(StationRole, "station_role"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Order(Base):
    """A customer order from one channel; its status follows app.orders.lifecycle."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("channel_id", "external_id"),
        CheckConstraint("subtotal >= 0", name="subtotal_non_negative"),
        CheckConstraint("discount_total >= 0", name="discount_non_negative"),
        CheckConstraint("discount_total <= subtotal", name="discount_at_most_subtotal"),
        CheckConstraint(
            "service_level != 'pickup' OR pickup_node_id IS NOT NULL"
            " OR status IN ('held', 'cancelled')",
            name="pickup_has_store",
        ),
        Index("ix_orders_status_placed_at", "status", "placed_at"),
    )

    id: Mapped[IntPK]
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    external_id: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    status: Mapped[OrderStatus] = mapped_column(_enum(OrderStatus, "order_status"))
    placed_at: Mapped[Timestamp]
    received_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    service_level: Mapped[ServiceLevel] = mapped_column(_enum(ServiceLevel, "service_level"))
    pickup_node_id: Mapped[int | None] = mapped_column(ForeignKey("nodes.id"))
    promo_code: Mapped[str | None] = mapped_column(String(40))
    max_packages: Mapped[int | None] = mapped_column(Integer)
    """The order's own split policy (1: ship complete); None follows its channel."""
    payment_status: Mapped[PaymentStatus] = mapped_column(_enum(PaymentStatus, "payment_status"))
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[Amount]
    discount_total: Mapped[Amount]

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.line_no", cascade="all, delete-orphan"
    )
    ship_to: Mapped[Address] = relationship(
        primaryjoin="and_(Address.order_id == Order.id, Address.role == 'ship_to')",
        viewonly=True,
        uselist=False,
    )
    holds: Mapped[list[OrderHold]] = relationship(order_by="OrderHold.id", viewonly=True)
    channel: Mapped[Channel] = relationship()
    customer: Mapped[Customer] = relationship()


class Address(Base):
    """A postal address as the order gave it: a snapshot that later edits never rewrite."""

    __tablename__ = "addresses"
    __table_args__ = (UniqueConstraint("order_id", "role"),)

    id: Mapped[IntPK]
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="ship_to")
    name: Mapped[Name]
    company: Mapped[str] = mapped_column(String(200), default="")
    line1: Mapped[str] = mapped_column(String(200))
    line2: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100))
    region: Mapped[str] = mapped_column(String(100), default="")
    postal_code: Mapped[str] = mapped_column(String(20))
    # Wide enough to keep what a held order gave ("USA"); verified orders hold ISO codes.
    country: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str | None] = mapped_column(String(32))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)


class OrderLine(Base):
    """One SKU and quantity of an order, with its price and share of the promo discount."""

    __tablename__ = "order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "line_no"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="unit_price_non_negative"),
        CheckConstraint("discount >= 0", name="discount_non_negative"),
    )

    id: Mapped[IntPK]
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Amount]
    discount: Mapped[Amount]

    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()


class OrderHold(Base):
    """Why an order is held for a person: one row per failed check, kept after release."""

    __tablename__ = "order_holds"

    id: Mapped[IntPK]
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    field: Mapped[str] = mapped_column(String(80))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    released_by: Mapped[str | None] = mapped_column(String(80))


class OrderEvent(Base):
    """One status change of an order: append-only, with who, where and when."""

    __tablename__ = "order_events"

    id: Mapped[IntPK]
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    from_status: Mapped[OrderStatus | None] = mapped_column(_enum(OrderStatus, "from_status"))
    to_status: Mapped[OrderStatus] = mapped_column(_enum(OrderStatus, "to_status"))
    at: Mapped[Timestamp] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    note: Mapped[str] = mapped_column(Text, default="")


class Location(Base):
    """A storage location in a node, with its place in the layout and its barcode."""

    __tablename__ = "locations"
    __table_args__ = (
        UniqueConstraint("node_id", "code"),
        UniqueConstraint("node_id", "barcode"),
        # Lets stock rows prove their location belongs to their node.
        UniqueConstraint("node_id", "id"),
    )

    id: Mapped[IntPK]
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"))
    code: Mapped[str] = mapped_column(String(40))
    barcode: Mapped[str] = mapped_column(String(64))
    kind: Mapped[LocationKind] = mapped_column(_enum(LocationKind, "location_kind"))
    zone: Mapped[str] = mapped_column(String(20), default="")
    block: Mapped[int] = mapped_column(Integer, default=0)
    aisle: Mapped[int] = mapped_column(Integer, default=0)
    side: Mapped[str] = mapped_column(String(1), default="")
    bay: Mapped[int] = mapped_column(Integer, default=0)
    level: Mapped[int] = mapped_column(Integer, default=0)
    x_mm: Mapped[int] = mapped_column(Integer, default=0)
    y_mm: Mapped[int] = mapped_column(Integer, default=0)


class Stock(Base):
    """On-hand quantity of one SKU and lot in one location."""

    __tablename__ = "stock"
    __table_args__ = (
        UniqueConstraint("location_id", "product_id", "lot"),
        ForeignKeyConstraint(
            ["node_id", "location_id"],
            ["locations.node_id", "locations.id"],
            name="fk_stock_node_location",
        ),
        CheckConstraint("on_hand >= 0", name="on_hand_non_negative"),
        Index("ix_stock_node_product", "node_id", "product_id"),
    )

    id: Mapped[IntPK]
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"))
    location_id: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    lot: Mapped[str] = mapped_column(String(40), default="")
    expiry: Mapped[date | None] = mapped_column(Date)
    on_hand: Mapped[int] = mapped_column(Integer)


class InventoryPosition(Base):
    """Per node and SKU: on hand and reserved, kept by conditional updates only.

    The CHECK constraints make an oversell impossible even if code above them is wrong.
    """

    __tablename__ = "inventory_positions"
    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="on_hand_non_negative"),
        CheckConstraint("reserved >= 0", name="reserved_non_negative"),
        CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
        CheckConstraint(
            "safety_stock IS NULL OR safety_stock >= 0", name="safety_stock_non_negative"
        ),
        Index("ix_inventory_positions_product", "product_id"),
    )

    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    # NULL means: use the node's safety stock.
    safety_stock: Mapped[int | None] = mapped_column(Integer)


class Reservation(Base):
    """The reservation ledger: append-only; its sum per node and SKU equals `reserved`."""

    __tablename__ = "reservations"
    __table_args__ = (
        CheckConstraint("quantity != 0", name="quantity_non_zero"),
        Index("ix_reservations_node_product", "node_id", "product_id"),
    )

    id: Mapped[IntPK]
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_lines.id"), index=True)
    kind: Mapped[ReservationKind] = mapped_column(_enum(ReservationKind, "reservation_kind"))
    # Signed: a reserve adds, a release or consume subtracts.
    quantity: Mapped[int] = mapped_column(Integer)
    at: Mapped[Timestamp] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    note: Mapped[str] = mapped_column(Text, default="")


class StockMovement(Base):
    """Every change of on-hand stock in a location: append-only history."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        CheckConstraint("quantity != 0", name="quantity_non_zero"),
        Index("ix_stock_movements_node_product", "node_id", "product_id"),
    )

    id: Mapped[IntPK]
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    lot: Mapped[str] = mapped_column(String(40), default="")
    quantity: Mapped[int] = mapped_column(Integer)
    reason: Mapped[MovementReason] = mapped_column(_enum(MovementReason, "movement_reason"))
    at: Mapped[Timestamp] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    note: Mapped[str] = mapped_column(Text, default="")


class Box(Base):
    """A shipping carton in the packaging catalogue."""

    __tablename__ = "boxes"
    __table_args__ = (
        CheckConstraint(
            "inner_length_mm > 0 AND inner_width_mm > 0 AND inner_height_mm > 0",
            name="dimensions_positive",
        ),
        CheckConstraint("max_weight_g > 0", name="max_weight_positive"),
        CheckConstraint("tare_g >= 0", name="tare_non_negative"),
        CheckConstraint("cost >= 0", name="cost_non_negative"),
    )

    id: Mapped[IntPK]
    code: Mapped[Code] = mapped_column(unique=True)
    name: Mapped[Name]
    inner_length_mm: Mapped[int] = mapped_column(Integer)
    inner_width_mm: Mapped[int] = mapped_column(Integer)
    inner_height_mm: Mapped[int] = mapped_column(Integer)
    max_weight_g: Mapped[int] = mapped_column(Integer)
    tare_g: Mapped[int] = mapped_column(Integer)
    cost: Mapped[Amount]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    outer_length_mm: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    outer_width_mm: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    outer_height_mm: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Outer dimensions (the carrier bills on these); 0: inner plus the wall."""
    carriers: Mapped[str] = mapped_column(String(200), default="", server_default="")
    """Carrier codes this box may go with, space-separated; empty: any carrier."""
    hazmat_ok: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    barcode: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    """What is printed on the box stack (scanned at packing); None: ``BOX-`` and its code."""


class PackingMaterial(Base):
    """Void fill, bubble wrap, bags, dividers: what goes into a box besides the items."""

    __tablename__ = "packing_materials"
    __table_args__ = (
        CheckConstraint("unit_cost >= 0", name="unit_cost_non_negative"),
        CheckConstraint("unit_weight_g >= 0", name="unit_weight_non_negative"),
    )

    id: Mapped[IntPK]
    code: Mapped[Code] = mapped_column(unique=True)
    name: Mapped[Name]
    kind: Mapped[str] = mapped_column(String(20))
    """``void_fill`` (per litre of space left), ``bubble_wrap`` (per fragile unit), ``bag``
    (per liquid unit), ``divider`` (per fragile unit sharing a box)."""
    unit_cost: Mapped[Amount]
    unit_weight_g: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AllocationStatus(enum.StrEnum):
    """Where an order line's units at one node stand."""

    RESERVED = "reserved"
    RELEASED = "released"
    REJECTED = "rejected"
    PICKED = "picked"
    SHIPPED = "shipped"


class DecisionOutcome(enum.StrEnum):
    """What DOM did with an order."""

    ROUTED = "routed"
    HELD = "held"


class PostalArea(Base):
    """Where a postal code (or its leading digits) lies, for distances to ship-to addresses."""

    __tablename__ = "postal_areas"
    __table_args__ = (
        UniqueConstraint("country", "prefix"),
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
    )

    id: Mapped[IntPK]
    country: Mapped[str] = mapped_column(String(2))
    prefix: Mapped[str] = mapped_column(String(20))
    """A whole postal code, or its leading characters (US: the 3-digit ZIP prefix)."""
    name: Mapped[str] = mapped_column(String(100), default="")
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)


class LineAllocation(Base):
    """Units of an order line promised by one node, backed by a reservation."""

    __tablename__ = "line_allocations"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[IntPK]
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), index=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[AllocationStatus] = mapped_column(_enum(AllocationStatus, "allocation_status"))
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class NodeDayLoad(Base):
    """Packages a node has been given for one day, kept within its daily capacity."""

    __tablename__ = "node_day_loads"
    __table_args__ = (CheckConstraint("packages >= 0", name="packages_non_negative"),)

    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    packages: Mapped[int] = mapped_column(Integer, default=0)


class DomDecision(Base):
    """Why DOM routed or held an order: candidates, costs, the deciding rule, bid prices."""

    __tablename__ = "dom_decisions"

    id: Mapped[IntPK]
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    at: Mapped[Timestamp] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    outcome: Mapped[DecisionOutcome] = mapped_column(_enum(DecisionOutcome, "decision_outcome"))
    rule: Mapped[str] = mapped_column(String(80))
    summary: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text)
    """JSON: the ship-to, each candidate with its ATP and costs, the plan, bid prices used."""


class SiteSetting(Base):
    """A site-wide setting shared by every station (a JSON value), with who changed it."""

    __tablename__ = "site_settings"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(80))


class WaveStatus(enum.StrEnum):
    """Where a wave stands: proposed by `wave plan`, then released to the floor."""

    PLANNED = "planned"
    RELEASED = "released"
    DONE = "done"
    CANCELLED = "cancelled"


class PickListStatus(enum.StrEnum):
    """A pick list's place on the floor."""

    RELEASED = "released"
    CLAIMED = "claimed"
    PAUSED = "paused"
    DONE = "done"
    CANCELLED = "cancelled"


class PickTaskStatus(enum.StrEnum):
    """One stop of a pick list."""

    OPEN = "open"
    DONE = "done"
    SHORT = "short"
    CANCELLED = "cancelled"


class ShipmentStatus(enum.StrEnum):
    """The part of an order one node sends out, from picking to the carrier."""

    PICKING = "picking"
    PICKED = "picked"
    PACKED = "packed"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


class WarehouseLayout(Base):
    """A node's walking geometry (aisles, cross aisles, depot) as its layout file gave it."""

    __tablename__ = "layouts"

    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"), primary_key=True)
    spec: Mapped[str] = mapped_column(Text)
    """JSON: the layout file (see app.walks.site)."""
    updated_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(80))


class Wave(Base):
    """A group of a node's orders picked together: proposed, then released as pick lists."""

    __tablename__ = "waves"
    __table_args__ = (
        CheckConstraint("orders >= 0 AND lines >= 0 AND units >= 0", name="counts_non_negative"),
        Index("ix_waves_node_status", "node_id", "status"),
        # Re-planning deletes proposals; a wave number must never come back meaning others.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[IntPK]
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"))
    status: Mapped[WaveStatus] = mapped_column(_enum(WaveStatus, "wave_status"))
    carrier: Mapped[str] = mapped_column(String(40))
    service: Mapped[str] = mapped_column(String(40))
    cutoff_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    priority: Mapped[int] = mapped_column(Integer)
    zone: Mapped[str] = mapped_column(String(20), default="")
    """The one zone every pick of the wave lies in, or '' when it spans zones."""
    orders: Mapped[int] = mapped_column(Integer)
    lines: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(Integer)
    pick_lists: Mapped[int] = mapped_column(Integer)
    est_distance_m: Mapped[float | None] = mapped_column(Float)
    est_seconds: Mapped[float] = mapped_column(Float)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    released_by: Mapped[str | None] = mapped_column(String(80))


class WaveOrder(Base):
    """An order (its part at the wave's node) in a wave."""

    __tablename__ = "wave_orders"

    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id"), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True, index=True)


class PickList(Base):
    """One picker's trip with a cart of totes: its tasks follow the route in order."""

    __tablename__ = "pick_lists"
    __table_args__ = (
        UniqueConstraint("wave_id", "seq"),
        CheckConstraint("totes > 0", name="totes_positive"),
        Index("ix_pick_lists_node_status", "node_id", "status"),
    )

    id: Mapped[IntPK]
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id"))
    seq: Mapped[int] = mapped_column(Integer)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"))
    status: Mapped[PickListStatus] = mapped_column(_enum(PickListStatus, "pick_list_status"))
    zone: Mapped[str] = mapped_column(String(20), default="")
    totes: Mapped[int] = mapped_column(Integer)
    lines: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(Integer)
    volume_cm3: Mapped[int] = mapped_column(BigInteger)
    weight_g: Mapped[int] = mapped_column(BigInteger)
    oversize: Mapped[bool] = mapped_column(Boolean, default=False)
    """One order bigger than the cart: picked on its own."""
    routing: Mapped[str] = mapped_column(String(20))
    distance_m: Mapped[float | None] = mapped_column(Float)
    est_seconds: Mapped[float] = mapped_column(Float)
    path: Mapped[str] = mapped_column(Text, default="[]")
    """JSON: the walk's waypoints [[x, y], ...] in metres, depot to depot."""
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


ACTIVE_SHIPMENTS = (ShipmentStatus.PICKING, ShipmentStatus.PICKED)
"""Shipments whose units are in a tote (or going into one): from picking until packing."""

ACTIVE_TOTE = "tote IS NOT NULL AND status IN ({})".format(
    ", ".join(f"'{s.value}'" for s in ACTIVE_SHIPMENTS)
)
"""The same, as the condition of the unique index on totes in use."""


class Shipment(Base):
    """An order's units leaving one node together: picked into one tote of a pick list."""

    __tablename__ = "shipments"
    __table_args__ = (
        UniqueConstraint("pick_list_id", "tote_slot"),
        # A tote holds one order's units from picking until packing empties it.
        Index(
            "ix_shipments_active_tote",
            "tote",
            unique=True,
            sqlite_where=text(ACTIVE_TOTE),
            postgresql_where=text(ACTIVE_TOTE),
        ),
    )

    id: Mapped[IntPK]
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"))
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id"), index=True)
    pick_list_id: Mapped[int] = mapped_column(ForeignKey("pick_lists.id"))
    tote_slot: Mapped[int] = mapped_column(Integer)
    """The tote's place on the cart (1 = first)."""
    tote: Mapped[str | None] = mapped_column(String(64))
    """The tote's barcode, scanned when the picker sets up the cart."""
    status: Mapped[ShipmentStatus] = mapped_column(_enum(ShipmentStatus, "shipment_status"))
    carrier: Mapped[str] = mapped_column(String(40))
    service: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    packed_with: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"))
    """The order's shipment whose packages carry this one's units (an order that came to
    the pack bench in several totes is packed together)."""
    packing_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    """The packer who has its tote on their bench, if anyone."""
    packing_station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    packing_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """The packing station's last sign of life (a claim older than a while can be taken)."""
    problem: Mapped[str | None] = mapped_column(Text)
    """Why it waits on the problem shelf (a unit missing or damaged at packing)."""
    problem_location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))


class PickTask(Base):
    """One stop of a pick list: take `quantity` of a product from a location into a tote."""

    __tablename__ = "pick_tasks"
    __table_args__ = (
        UniqueConstraint("pick_list_id", "seq"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("picked >= 0 AND picked <= quantity", name="picked_within_quantity"),
        CheckConstraint("removed >= 0 AND removed <= picked", name="removed_within_picked"),
    )

    id: Mapped[IntPK]
    pick_list_id: Mapped[int] = mapped_column(ForeignKey("pick_lists.id"))
    seq: Mapped[int] = mapped_column(Integer)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    lot: Mapped[str] = mapped_column(String(40), default="")
    quantity: Mapped[int] = mapped_column(Integer)
    picked: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Picked units taken out again at the pack bench (damaged): they are not shipped."""
    status: Mapped[PickTaskStatus] = mapped_column(_enum(PickTaskStatus, "pick_task_status"))
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    allocation_id: Mapped[int] = mapped_column(ForeignKey("line_allocations.id"), index=True)


class PrintJobStatus(enum.StrEnum):
    """A print job's way from the queue to paper.

    ``sending`` is held while a station sends it; ``unknown`` means the printer may have
    printed part or all of it (the connection broke mid-job, or the sender vanished): a
    person looks before it is sent again, it is never resent on its own.
    """

    QUEUED = "queued"
    SENDING = "sending"
    PRINTED = "printed"
    FAILED = "failed"
    UNKNOWN = "unknown"
    CANCELLED = "cancelled"


class PrintJob(Base):
    """A document for one printer of one station, kept until it is printed or given up."""

    __tablename__ = "print_jobs"
    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        Index("ix_print_jobs_station_status", "station_id", "status", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[IntPK]
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    printer: Mapped[str] = mapped_column(String(40))
    """The printer's name in the station's device configuration (``label``, ``documents``)."""
    document: Mapped[str] = mapped_column(String(40))
    """What it is: ``label``, ``packing_slip``, ``invoice``, ``manifest``, ``test``."""
    title: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    """``application/zpl`` or ``application/pdf``."""
    content: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[PrintJobStatus] = mapped_column(_enum(PrintJobStatus, "print_job_status"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    receipt: Mapped[str | None] = mapped_column(Text)
    """What the transport reported: bytes sent and where, a CUPS request id, a file path."""
    reference: Mapped[str | None] = mapped_column(String(80))
    """What the document is for (``shipment 17``), for people looking for it."""
    reprint_of: Mapped[int | None] = mapped_column(ForeignKey("print_jobs.id"))
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    sending_since: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PrintJobEvent(Base):
    """Every step of a print job, append-only: queued, sent, failed, retried, reprinted…"""

    __tablename__ = "print_job_events"

    id: Mapped[IntPK]
    job_id: Mapped[int] = mapped_column(ForeignKey("print_jobs.id"), index=True)
    event: Mapped[str] = mapped_column(String(24))
    status: Mapped[PrintJobStatus] = mapped_column(_enum(PrintJobStatus, "event_status"))
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[Timestamp] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))


class Sequence(Base):
    """A named counter that never gives a number twice (SSCC serials, tracking numbers)."""

    __tablename__ = "sequences"
    __table_args__ = (CheckConstraint("next_value >= 1", name="next_value_positive"),)

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    next_value: Mapped[int] = mapped_column(BigInteger)


class Manifest(Base):
    """A carrier's end-of-day close-out: the packages handed over together."""

    __tablename__ = "manifests"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[IntPK]
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"))
    carrier: Mapped[str] = mapped_column(String(40))
    closed_at: Mapped[Timestamp]
    closed_by: Mapped[str] = mapped_column(String(80))


class LoadStatus(enum.StrEnum):
    """Whether a load is still being filled or has been handed to its carrier."""

    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    """Cancelled empty (no manifest)."""


class Load(Base):
    """A carrier's pickup, trailer or van at a dock door, filled by scanning packages onto
    it at the ship station; closing it out makes its manifest."""

    __tablename__ = "loads"
    __table_args__ = (
        # One load at a time fills at a door.
        Index(
            "ix_loads_open_door",
            "node_id",
            "door",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[IntPK]
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"))
    carrier: Mapped[str] = mapped_column(String(40))
    door: Mapped[str] = mapped_column(String(40))
    """The dock location's code (``DOCK-1``) where the carrier's vehicle is loaded."""
    status: Mapped[LoadStatus] = mapped_column(_enum(LoadStatus, "load_status"))
    opened_at: Mapped[Timestamp]
    opened_by: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(80))
    manifest_id: Mapped[int | None] = mapped_column(ForeignKey("manifests.id"))


class ShipEvent(Base):
    """What happened at a ship station, append-only: loads opened and closed out, packages
    loaded and taken off, scans refused."""

    __tablename__ = "ship_events"
    __table_args__ = (Index("ix_ship_events_load", "load_id", "id"),)

    id: Mapped[IntPK]
    load_id: Mapped[int | None] = mapped_column(ForeignKey("loads.id"))
    package_id: Mapped[int | None] = mapped_column(ForeignKey("packages.id"))
    kind: Mapped[str] = mapped_column(String(24))
    scan: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[Timestamp] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))


class OutboxStatus(enum.StrEnum):
    """Where a message to the world outside stands."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    UNKNOWN = "unknown"
    """Sent, but whether it arrived is not known: a person decides, never a blind repeat."""


class OutboxMessage(Base):
    """A message for outside the store (a sales channel told an order shipped, the customer's
    email), written in the transaction of the change it tells of and delivered later by the
    outbox worker, once, under its idempotency key."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_id", "status", "id"),)

    id: Mapped[IntPK]
    topic: Mapped[str] = mapped_column(String(40))
    """What it is: ``channel.shipped``, ``email.shipped``…"""
    key: Mapped[str] = mapped_column(String(200), unique=True)
    """The idempotency key the receiver sees: the same message is never written twice."""
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    payload: Mapped[str] = mapped_column(Text)
    """JSON: what the receiver is told."""
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus, "outbox_status"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Package(Base):
    """One box of a shipment, with its own SSCC and tracking number for life."""

    __tablename__ = "packages"
    __table_args__ = (
        UniqueConstraint("shipment_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("weight_g IS NULL OR weight_g >= 0", name="weight_non_negative"),
        CheckConstraint("length(sscc) = 18", name="sscc_length"),
        UniqueConstraint("carrier", "tracking_number"),
    )

    id: Mapped[IntPK]
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    """n in "package n of m"; m is the shipment's package count."""
    sscc: Mapped[str] = mapped_column(String(18), unique=True)
    carrier: Mapped[str] = mapped_column(String(40))
    tracking_number: Mapped[str] = mapped_column(String(40))
    weight_g: Mapped[int | None] = mapped_column(Integer)
    box: Mapped[str | None] = mapped_column(String(40))
    manifest_id: Mapped[int | None] = mapped_column(ForeignKey("manifests.id"), index=True)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))
    suggested_box: Mapped[str | None] = mapped_column(String(40))
    """The box the packaging suggestion named for it (the packer may take another)."""
    expected_weight_g: Mapped[int | None] = mapped_column(Integer)
    weight_override_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    """The supervisor who let it go out of the weight tolerance."""
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    load_id: Mapped[int | None] = mapped_column(ForeignKey("loads.id"), index=True)
    """The load it was scanned onto at the ship station (taken off: None again)."""
    loaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    loaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    service: Mapped[str | None] = mapped_column(String(40))
    """The carrier's service rate shopping chose for it (None: the shipment's)."""
    charge: Mapped[Decimal | None] = mapped_column(Money())
    """What the carrier's rate table charges for it."""
    arrives: Mapped[date | None] = mapped_column(Date)
    """When the chosen service delivers it."""
    carrier_label: Mapped[bytes | None] = mapped_column(LargeBinary)
    """The label the carrier's API returned (printed as it is), for a carrier with one."""
    carrier_label_format: Mapped[str | None] = mapped_column(String(3))
    """``zpl`` or ``pdf``."""


class VoidedLabel(Base):
    """A package's label voided and replaced (wrong carrier, damaged label), append-only:
    its tracking number is dead for good (the carrier's sequence never gives it again)."""

    __tablename__ = "voided_labels"

    id: Mapped[IntPK]
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id"), index=True)
    carrier: Mapped[str] = mapped_column(String(40))
    service: Mapped[str | None] = mapped_column(String(40))
    tracking_number: Mapped[str] = mapped_column(String(40), index=True)
    replaced_by: Mapped[str] = mapped_column(String(40))
    """The tracking number of the label that replaced it."""
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[Timestamp] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))


class LabelRequest(Base):
    """A shipment asked of a carrier's API for a box, under its idempotency key: pending
    until the carrier answers (a request whose answer never came stays pending, and the
    same box asks again under the same key), then created, used by the package, refused,
    or voided."""

    __tablename__ = "label_requests"
    __table_args__ = (Index("ix_label_requests_box", "shipment_id", "box_number", "id"),)

    id: Mapped[IntPK]
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"))
    box_number: Mapped[int] = mapped_column(Integer)
    carrier: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    tracking_number: Mapped[str | None] = mapped_column(String(40))
    package_id: Mapped[int | None] = mapped_column(ForeignKey("packages.id"))
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    updated_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class PackageRate(Base):
    """A quote rate shopping weighed for a package, append-only: the chosen one and every
    alternative, with why each did or did not meet the order (for audit)."""

    __tablename__ = "package_rates"

    id: Mapped[IntPK]
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id"), index=True)
    carrier: Mapped[str] = mapped_column(String(40))
    service: Mapped[str] = mapped_column(String(40))
    price: Mapped[Amount]
    days: Mapped[int] = mapped_column(Integer)
    arrives: Mapped[date] = mapped_column(Date)
    chosen: Mapped[bool] = mapped_column(Boolean, default=False)
    why: Mapped[str] = mapped_column(Text, default="")
    """Why it does not meet the order (empty when it does)."""
    at: Mapped[Timestamp] = mapped_column(default=utcnow)


class PackageItem(Base):
    """Units the packer scanned into a package."""

    __tablename__ = "package_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[IntPK]
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    lot: Mapped[str] = mapped_column(String(40), default="")
    serial: Mapped[str] = mapped_column(String(64), default="")


class PackEvent(Base):
    """What happened at a pack bench, append-only: totes opened, boxes closed, weights
    out of tolerance and their overrides, units missing or damaged, totes released."""

    __tablename__ = "pack_events"
    __table_args__ = (Index("ix_pack_events_shipment", "shipment_id", "id"),)

    id: Mapped[IntPK]
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"))
    package_id: Mapped[int | None] = mapped_column(ForeignKey("packages.id"))
    kind: Mapped[str] = mapped_column(String(24))
    sku: Mapped[str] = mapped_column(String(64), default="")
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[Timestamp] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))


class LoginEvent(Base):
    """Every login try at a station, append-only: who, where, when, and how it ended."""

    __tablename__ = "login_events"

    id: Mapped[IntPK]
    badge: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    outcome: Mapped[str] = mapped_column(String(24))
    """``ok``, ``wrong_pin``, ``blank_pin``, ``locked``, ``unknown_badge``, ``wrong_role``,
    ``inactive``, ``logout``, ``idle_logout``."""
    at: Mapped[Timestamp] = mapped_column(default=utcnow)


class PickEvent(Base):
    """What happened on a pick list, append-only: claims, picks, short picks, skips, pauses."""

    __tablename__ = "pick_events"
    __table_args__ = (Index("ix_pick_events_list", "pick_list_id", "id"),)

    id: Mapped[IntPK]
    pick_list_id: Mapped[int] = mapped_column(ForeignKey("pick_lists.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("pick_tasks.id"))
    kind: Mapped[str] = mapped_column(String(24))
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    lot: Mapped[str] = mapped_column(String(40), default="")
    serials: Mapped[str] = mapped_column(Text, default="")
    """Serial numbers scanned, one per line."""
    expiry: Mapped[date | None] = mapped_column(Date)
    tote: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[Timestamp] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))


class PickedSerial(Base):
    """A serial-numbered unit that has been picked: one row per product and serial, so the
    same unit can never leave twice, even when two pickers scan it at once. A return that
    puts the unit back on stock is what removes its row."""

    __tablename__ = "picked_serials"
    __table_args__ = (UniqueConstraint("product_id", "serial"),)

    id: Mapped[IntPK]
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    serial: Mapped[str] = mapped_column(String(64))
    task_id: Mapped[int] = mapped_column(ForeignKey("pick_tasks.id"))
    at: Mapped[Timestamp] = mapped_column(default=utcnow)


class Invoice(Base):
    """An issued invoice: its number is given once, and a reprint is this very document."""

    __tablename__ = "invoices"

    id: Mapped[IntPK]
    number: Mapped[str] = mapped_column(String(40), unique=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"), unique=True)
    issued: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Amount]
    content: Mapped[bytes] = mapped_column(LargeBinary)
    """The PDF as issued."""
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))
