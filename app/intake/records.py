"""What intake reads from a file before verification, and how a bad record is reported."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from data.models import PaymentStatus, ServiceLevel


@dataclass(frozen=True)
class ParsedLine:
    """An order line whose fields have the right types and ranges."""

    sku: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class ParsedAddress:
    """A ship-to address as given; empty strings where a field was absent."""

    name: str = ""
    company: str = ""
    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""


@dataclass(frozen=True)
class ParsedOrder:
    """A structurally valid order record, not yet checked against the store."""

    source_line: int
    """Line number in the file where the record starts (1-based)."""
    channel: str
    external_id: str
    placed_at: datetime | None
    customer_name: str
    email: str
    phone: str
    ship_to: ParsedAddress
    service_level: ServiceLevel | None
    """None when the record did not say; verification decides."""
    pickup_store: str
    promo_code: str
    payment_status: PaymentStatus
    currency: str
    lines: tuple[ParsedLine, ...]
    max_packages: int | None = None
    """The order's split policy (1: ship complete), or None to follow the channel."""


@dataclass(frozen=True)
class Rejection:
    """A record that cannot be stored at all, with where, which field and why."""

    line: int
    external_id: str | None
    field: str
    reason: str

    def __str__(self) -> str:
        ident = self.external_id
        if ident is not None and len(ident) > 64:
            ident = ident[:64] + "…"
        order = f"order {ident}" if ident else "order id unknown"
        return f"line {self.line} ({order}): {self.field}: {self.reason}"
