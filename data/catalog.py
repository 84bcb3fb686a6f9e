"""Reference data read in one go: channels, products, promo codes and nodes by their codes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import (
    Channel,
    ChannelKind,
    Node,
    NodeKind,
    Product,
    PromoCode,
    PromoCodeChannel,
    PromoKind,
)


@dataclass(frozen=True)
class ChannelRef:
    """A channel as intake needs it."""

    id: int
    code: str
    kind: ChannelKind
    active: bool


@dataclass(frozen=True)
class ProductRef:
    """A product as intake needs it."""

    id: int
    sku: str
    name: str
    active: bool


@dataclass(frozen=True)
class PromoRef:
    """A promo code and where and when it is valid."""

    code: str
    kind: PromoKind
    percent_bp: int | None
    amount_off: Decimal | None
    valid_from: datetime
    valid_until: datetime
    channel_ids: frozenset[int]
    """Empty means every channel."""


@dataclass(frozen=True)
class NodeRef:
    """A node as intake needs it (pickup stores)."""

    id: int
    code: str
    kind: NodeKind
    can_pickup: bool
    active: bool


def channels(session: Session) -> dict[str, ChannelRef]:
    """Every channel by code."""
    rows = session.execute(select(Channel.id, Channel.code, Channel.kind, Channel.active))
    return {r.code: ChannelRef(r.id, r.code, r.kind, r.active) for r in rows}


def products_by_sku(session: Session) -> dict[str, ProductRef]:
    """Every product by SKU."""
    stmt = select(Product.id, Product.sku, Product.name, Product.active)
    return {r.sku: ProductRef(r.id, r.sku, r.name, r.active) for r in session.execute(stmt)}


def promo_codes(session: Session) -> dict[str, PromoRef]:
    """Every promo code by its upper-case code."""
    limits: dict[int, set[int]] = {}
    for promo_id, channel_id in session.execute(
        select(PromoCodeChannel.promo_code_id, PromoCodeChannel.channel_id)
    ):
        limits.setdefault(promo_id, set()).add(channel_id)
    result: dict[str, PromoRef] = {}
    for p in session.scalars(select(PromoCode)):
        result[p.code.upper()] = PromoRef(
            code=p.code,
            kind=p.kind,
            percent_bp=p.percent_bp,
            amount_off=p.amount_off,
            valid_from=p.valid_from,
            valid_until=p.valid_until,
            channel_ids=frozenset(limits.get(p.id, set())),
        )
    return result


def nodes(session: Session) -> dict[str, NodeRef]:
    """Every node by code."""
    rows = session.execute(select(Node.id, Node.code, Node.kind, Node.can_pickup, Node.active))
    return {r.code: NodeRef(r.id, r.code, r.kind, r.can_pickup, r.active) for r in rows}
