"""The carrier interface: what Shipfloor asks of a carrier, whichever it is.

A carrier rates a parcel (its services, prices, days in transit), creates a shipment (a
tracking number and a label in ZPL or PDF), voids one, and reads its tracking events. The
site's own rate tables answer rating in the core (``app.carriers.rates``); a carrier with an
account and an API is reached through an adapter implementing :class:`CarrierApi`.

Every failure is a :class:`CarrierError` that says what happened in a sentence, whether
trying again may help (``retryable``: a timeout, a 5xx, a rate limit) and whether the
carrier may have done it anyway (``outcome_unknown``: a create whose answer never came; it
must not be repeated blindly, only with the same idempotency key).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal, Protocol


@dataclass(frozen=True)
class Address:
    name: str
    lines: tuple[str, ...]
    city: str
    postal_code: str
    country: str
    region: str = ""
    company: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class Shipment:
    """One parcel to rate or ship."""

    ship_from: Address
    ship_to: Address
    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int
    reference: str = ""
    """The site's reference printed on the label (the order)."""


@dataclass(frozen=True)
class Rate:
    carrier: str
    service: str
    price: Decimal
    currency: str
    days: int | None
    """Days in transit, where the carrier says."""


@dataclass(frozen=True)
class Label:
    carrier: str
    service: str
    tracking_number: str
    format: Literal["zpl", "pdf"]
    content: bytes
    price: Decimal | None = None
    """What the carrier charged, where it says."""


@dataclass(frozen=True)
class TrackingEvent:
    at: datetime | None
    status: str
    description: str
    location: str = ""


@dataclass
class CarrierError(Exception):
    """A carrier call that failed: ``message`` is a sentence for a person."""

    message: str
    retryable: bool = False
    outcome_unknown: bool = False
    details: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        return self.message


class CarrierApi(Protocol):
    """A carrier reached through its API (an adapter per carrier family)."""

    code: str
    """The carrier's code in the shipping settings."""

    def rate(self, shipment: Shipment) -> list[Rate]: ...

    def create(
        self, shipment: Shipment, service: str, idempotency_key: str, label_format: str
    ) -> Label: ...

    def void(self, tracking_number: str) -> None: ...

    def track(self, tracking_number: str) -> list[TrackingEvent]: ...
