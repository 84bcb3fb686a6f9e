"""Order rows: bulk insertion for intake, status changes (the only writes of an order's
status, for app.orders.lifecycle), and the reads stations need."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, BindParameter, bindparam, insert, select, text, tuple_, update
from sqlalchemy.orm import Session

from data.bulk import insert_new_rows, insert_rows
from data.models import (
    Address,
    Channel,
    Customer,
    Order,
    OrderEvent,
    OrderHold,
    OrderLine,
    OrderStatus,
    PaymentStatus,
    ServiceLevel,
)
from data.types import UTCDateTime

OrderKey = tuple[int, str]
"""(channel id, external id): what makes an order unique."""


@dataclass(frozen=True)
class NewAddress:
    """A ship-to address, as verified."""

    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    company: str = ""
    line2: str = ""
    region: str = ""
    phone: str | None = None


@dataclass(frozen=True)
class NewLine:
    """An order line, as verified."""

    line_no: int
    product_id: int
    quantity: int
    unit_price: Decimal
    discount: Decimal


@dataclass(frozen=True)
class NewHold:
    """A reason to hold an order for a person."""

    code: str
    field: str
    message: str


@dataclass(frozen=True)
class NewOrder:
    """A verified (or held) order ready to store, with its history so far."""

    channel_id: int
    external_id: str
    customer_key: str
    customer_name: str
    customer_email: str | None
    customer_phone: str | None
    status: OrderStatus
    placed_at: datetime
    service_level: ServiceLevel
    pickup_node_id: int | None
    promo_code: str | None
    payment_status: PaymentStatus
    currency: str
    subtotal: Decimal
    discount_total: Decimal
    ship_to: NewAddress
    lines: tuple[NewLine, ...]
    holds: tuple[NewHold, ...] = ()
    max_packages: int | None = None
    history: tuple[tuple[OrderStatus | None, OrderStatus, str], ...] = field(default=())
    """(from, to, note) status changes to record, oldest first."""

    @property
    def key(self) -> OrderKey:
        return (self.channel_id, self.external_id)


class LostInsertRace(Exception):
    """Another process stored some of these orders between our check and our insert.

    The caller rolls the transaction back and runs it again; the second run sees them.
    """


@dataclass(frozen=True)
class StoredBatch:
    """What a batch insert did."""

    stored: dict[OrderKey, int]
    """Order ids of the orders stored, by key."""
    duplicates: list[OrderKey]
    """Orders that were already in the store; nothing about them changed."""


def existing_order_keys(session: Session, keys: Sequence[OrderKey]) -> set[OrderKey]:
    """Which of these (channel id, external id) pairs are already stored."""
    found: set[OrderKey] = set()
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        rows = session.execute(
            select(Order.channel_id, Order.external_id).where(
                tuple_(Order.channel_id, Order.external_id).in_(chunk)
            )
        )
        found.update((r.channel_id, r.external_id) for r in rows)
    return found


def store_new_orders(
    session: Session,
    orders: Sequence[NewOrder],
    *,
    actor: str,
    user_id: int | None,
    station_id: int | None,
    at: datetime,
) -> StoredBatch:
    """Insert a batch of orders with their customers, addresses, lines, holds and history.

    Orders already stored are skipped and reported as duplicates. Runs inside the
    caller's transaction; raises LostInsertRace if a concurrent import got in first.
    """
    unique: dict[OrderKey, NewOrder] = {}
    duplicates: list[OrderKey] = []
    for o in orders:
        if o.key in unique:
            duplicates.append(o.key)
        else:
            unique[o.key] = o
    already = existing_order_keys(session, list(unique))
    duplicates.extend(k for k in unique if k in already)
    todo = [o for k, o in unique.items() if k not in already]
    if not todo:
        return StoredBatch(stored={}, duplicates=duplicates)

    customer_ids = _upsert_customers(session, todo, at)

    order_rows = [
        {
            "channel_id": o.channel_id,
            "external_id": o.external_id,
            "customer_id": customer_ids[o.customer_key],
            "status": o.status,
            "placed_at": o.placed_at,
            "received_at": at,
            "service_level": o.service_level,
            "pickup_node_id": o.pickup_node_id,
            "promo_code": o.promo_code,
            "max_packages": o.max_packages,
            "payment_status": o.payment_status,
            "currency": o.currency,
            "subtotal": o.subtotal,
            "discount_total": o.discount_total,
        }
        for o in todo
    ]
    stored: dict[OrderKey, int] = {
        (channel_id, external_id): order_id
        for order_id, channel_id, external_id in insert_new_rows(
            session,
            Order,
            order_rows,
            conflict=("channel_id", "external_id"),
            returning=("id", "channel_id", "external_id"),
        )
    }
    if len(stored) != len(todo):
        raise LostInsertRace(f"{len(todo) - len(stored)} orders were stored by another import")

    addresses: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    holds: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for o in todo:
        order_id = stored[o.key]
        a = o.ship_to
        addresses.append(
            {
                "order_id": order_id,
                "customer_id": customer_ids[o.customer_key],
                "role": "ship_to",
                "name": a.name,
                "company": a.company,
                "line1": a.line1,
                "line2": a.line2,
                "city": a.city,
                "region": a.region,
                "postal_code": a.postal_code,
                "country": a.country,
                "phone": a.phone,
                "latitude": None,
                "longitude": None,
            }
        )
        lines.extend(
            {
                "order_id": order_id,
                "line_no": ln.line_no,
                "product_id": ln.product_id,
                "quantity": ln.quantity,
                "unit_price": ln.unit_price,
                "discount": ln.discount,
            }
            for ln in o.lines
        )
        holds.extend(
            {
                "order_id": order_id,
                "code": h.code,
                "field": h.field,
                "message": h.message,
                "created_at": at,
                "released_at": None,
                "released_by": None,
            }
            for h in o.holds
        )
        events.extend(
            {
                "order_id": order_id,
                "from_status": frm,
                "to_status": to,
                "at": at,
                "actor": actor,
                "user_id": user_id,
                "station_id": station_id,
                "note": note,
            }
            for frm, to, note in o.history
        )
    insert_rows(session, Address, addresses)
    insert_rows(session, OrderLine, lines)
    insert_rows(session, OrderHold, holds)
    insert_rows(session, OrderEvent, events)
    return StoredBatch(stored=stored, duplicates=duplicates)


def _upsert_customers(session: Session, orders: Sequence[NewOrder], at: datetime) -> dict[str, int]:
    """Customer ids by key, inserting the customers not yet known."""
    rows: dict[str, dict[str, Any]] = {}
    for o in orders:
        rows.setdefault(
            o.customer_key,
            {
                "key": o.customer_key,
                "name": o.customer_name,
                "email": o.customer_email,
                "phone": o.customer_phone,
                "created_at": at,
            },
        )
    keys = sorted(rows)
    ids: dict[str, int] = {}
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        for r in session.execute(select(Customer.id, Customer.key).where(Customer.key.in_(chunk))):
            ids[r.key] = r.id
    missing = [rows[k] for k in keys if k not in ids]
    if missing:
        for customer_id, key in insert_new_rows(
            session, Customer, missing, conflict=("key",), returning=("id", "key")
        ):
            ids[key] = customer_id
        # Customers another transaction inserted meanwhile (PostgreSQL waits for it).
        still = [k for k in keys if k not in ids]
        for start in range(0, len(still), 1000):
            chunk = still[start : start + 1000]
            for r in session.execute(
                select(Customer.id, Customer.key).where(Customer.key.in_(chunk))
            ):
                ids[r.key] = r.id
    return ids


@dataclass(frozen=True)
class StatusChange:
    """Orders to move from ``current`` to ``wanted`` with a history row each, as the
    lifecycle allowed it: who, where, when and why."""

    order_ids: tuple[int, ...]
    current: OrderStatus
    wanted: OrderStatus
    actor: str
    user_id: int | None
    station_id: int | None
    at: datetime
    note: str = ""


def change_status(session: Session, change: StatusChange) -> bool:
    """Move one order from ``current`` to ``wanted`` and record it; False if it was not
    ``current``. The caller (app.orders.lifecycle) decides whether the move is allowed."""
    (order_id,) = change.order_ids
    return change_statuses(session, change) == [order_id]


def status_change_ctes(name: str) -> str:
    """A status change as common table expressions of a PostgreSQL statement that writes
    more (a pick with its order's first move): ``{name}`` holds the ids that moved, with
    their history rows written. Its parameters are :func:`status_change_params` and
    :func:`status_change_binds` with the same ``name``."""
    return f"""
{name}_moved AS (
    UPDATE orders AS o
    SET status = :{name}_wanted
    WHERE o.id = ANY(CAST(:{name}_ids AS BIGINT[])) AND o.status = :{name}_current
    RETURNING o.id
),
{name} AS (
    INSERT INTO order_events
        (order_id, from_status, to_status, at, actor, user_id, station_id, note)
    SELECT id, :{name}_current, :{name}_wanted, :{name}_at, :{name}_actor, :{name}_user_id,
           :{name}_station_id, :{name}_note
    FROM {name}_moved
    RETURNING order_id
)"""


def status_change_params(change: StatusChange, name: str) -> dict[str, object]:
    return {
        f"{name}_ids": sorted(set(change.order_ids)),
        f"{name}_current": change.current.value,
        f"{name}_wanted": change.wanted.value,
        f"{name}_at": change.at,
        f"{name}_actor": change.actor,
        f"{name}_user_id": change.user_id,
        f"{name}_station_id": change.station_id,
        f"{name}_note": change.note,
    }


def status_change_binds(name: str) -> tuple[BindParameter[Any], ...]:
    return (
        bindparam(f"{name}_at", type_=UTCDateTime()),
        bindparam(f"{name}_station_id", type_=BigInteger()),
        bindparam(f"{name}_user_id", type_=BigInteger()),
    )


# On PostgreSQL a status change and its history rows are one statement.
_CHANGE_STATUSES = text(
    "WITH" + status_change_ctes("change") + "\nSELECT order_id FROM change"
).bindparams(*status_change_binds("change"))


def change_statuses(session: Session, change: StatusChange) -> list[int]:
    """Move the orders that are ``current`` to ``wanted``, with a history row each; returns
    the ids that moved (sorted). Orders in any other status stay as they are.

    The caller (app.orders.lifecycle) decides whether the move is allowed. This, with
    :func:`change_status` and the statements built from :func:`status_change_ctes`, is
    the only writer of an order's status.
    """
    ids = sorted(set(change.order_ids))
    if not ids:
        return []
    if session.get_bind().dialect.name == "postgresql":
        found = session.connection().execute(
            _CHANGE_STATUSES, status_change_params(change, "change")
        )
        return sorted(int(o) for o in found.scalars())
    who = {
        "at": change.at,
        "actor": change.actor,
        "user_id": change.user_id,
        "station_id": change.station_id,
        "note": change.note,
    }
    moved: list[int] = []
    for start in range(0, len(ids), 500):
        moved.extend(
            session.scalars(
                update(Order)
                .where(Order.id.in_(ids[start : start + 500]), Order.status == change.current)
                .values(status=change.wanted)
                .returning(Order.id)
                .execution_options(synchronize_session=False)
            )
        )
    if moved:
        session.execute(
            insert(OrderEvent),
            [
                {"order_id": o, "from_status": change.current, "to_status": change.wanted, **who}
                for o in moved
            ],
        )
    return sorted(moved)


@dataclass(frozen=True)
class OrderStatusRow:
    """An order's identity and current status."""

    id: int
    channel: str
    external_id: str
    status: OrderStatus


def order_status(session: Session, order_id: int) -> OrderStatusRow | None:
    """The order's identity and status, or None if there is no such order."""
    row = session.execute(
        select(Order.id, Channel.code, Order.external_id, Order.status)
        .join(Channel, Channel.id == Order.channel_id)
        .where(Order.id == order_id)
    ).one_or_none()
    if row is None:
        return None
    return OrderStatusRow(row[0], row[1], row[2], row[3])
