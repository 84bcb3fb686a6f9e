"""Rating a parcel from the site's own rate tables, and rate shopping: the cheapest service
that meets the order's service level and arrives by its promised date.

A carrier's service (see ``app.shipping.settings.Service``) has distance bands, nearest
first: the first band whose ``up_to_km`` covers the distance from the shipping node to the
ship-to address prices the parcel and says its days in transit. Without the address's
coordinates the distance is unknown and the last (farthest) band applies: the dearest and
slowest, so a promise is never made on a guess.

The charge: the band's base, plus its price per started kilogram of the billable weight
(the larger of the weight and the outer volume over the carrier's dimensional divisor),
plus the residential and oversize surcharges where they apply, all increased by the fuel
surcharge, rounded half up to the cent. A parcel handed over after the service's cut-off
(at the node's time) leaves the next day; it arrives its band's days later (calendar days).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from app.shipping.settings import Carrier, Service, ShippingSettings
from printing.money import round_money

EARTH_KM = 6371.0088

SERVICE_DAYS = {"standard": 5, "express": 2, "next_day": 1}
"""Days from the order's placing to the date it is promised by, for each service level."""


@dataclass(frozen=True)
class Parcel:
    """A closed box as a carrier rates it."""

    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int
    distance_km: float | None
    """From the shipping node to the ship-to address; None: not known."""
    residential: bool = True


@dataclass(frozen=True)
class Quote:
    carrier: str
    service: str
    name: str
    """The carrier's and the service's names, as the screen shows them."""
    price: Decimal
    days: int
    ship_date: date
    arrives: date
    billable_g: int
    meets: bool
    """Carries the order's service level and arrives by its promised date."""
    why: str = ""
    """Why it does not meet the order (empty when it does)."""


@dataclass(frozen=True)
class Shopped:
    """The choice and every quote, cheapest first, as kept for audit."""

    choice: Quote | None
    quotes: tuple[Quote, ...]
    level: str
    promised: date
    late: bool = False
    """No service arrives by the promised date: the choice is the soonest."""

    def reason(self) -> str:
        if self.choice is None:
            return f"no service in the rate tables carries {self.level} orders"
        if self.late:
            return (
                f"{self.choice.name} {self.choice.price} arrives {self.choice.arrives:%a %d %b}: "
                f"LATE, promised by {self.promised:%a %d %b}"
            )
        others = sum(1 for q in self.quotes if q.meets) - 1
        return (
            f"{self.choice.name} {self.choice.price} arrives {self.choice.arrives:%a %d %b}, "
            f"cheapest of {others + 1} that arrive by {self.promised:%a %d %b}"
        )


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(math.sqrt(a))


def billable_g(carrier: Carrier, parcel: Parcel) -> int:
    volume = parcel.length_mm * parcel.width_mm * parcel.height_mm
    return max(parcel.weight_g, math.ceil(volume / carrier.dim_divisor))


def quote(
    carrier: Carrier,
    service: Service,
    parcel: Parcel,
    now: datetime,
    level: str,
    promised: date,
) -> Quote:
    """What ``service`` charges for the parcel and when it arrives; ``now`` is the node's
    local time."""
    band = service.bands[-1]
    if parcel.distance_km is not None:
        band = next(
            (b for b in service.bands if b.up_to_km is None or parcel.distance_km <= b.up_to_km),
            service.bands[-1],
        )
    billable = billable_g(carrier, parcel)
    charge = band.base + band.per_kg * math.ceil(billable / 1000)
    if parcel.residential:
        charge += service.residential
    longest = max(parcel.length_mm, parcel.width_mm, parcel.height_mm)
    if service.oversize_mm is not None and longest > service.oversize_mm:
        charge += service.oversize
    price = round_money(charge * (1 + service.fuel_pct))
    ship_date = now.date()
    if service.cutoff and now.time() > time.fromisoformat(service.cutoff):
        ship_date += timedelta(days=1)
    arrives = ship_date + timedelta(days=band.days)
    why = ""
    if level not in service.levels:
        why = f"does not carry {level} orders"
    elif (
        parcel.distance_km is not None
        and band.up_to_km is not None
        and parcel.distance_km > band.up_to_km
    ):
        why = f"goes no farther than {band.up_to_km} km"
    elif arrives > promised:
        why = f"arrives {arrives:%a %d %b}, after {promised:%a %d %b}"
    return Quote(
        carrier=carrier.code,
        service=service.code,
        name=f"{carrier.name} {service.name}",
        price=price,
        days=band.days,
        ship_date=ship_date,
        arrives=arrives,
        billable_g=billable,
        meets=not why,
        why=why,
    )


def promised_by(level: str, placed: date) -> date:
    """The date an order of ``level`` placed on ``placed`` is promised by."""
    return placed + timedelta(days=SERVICE_DAYS.get(level, SERVICE_DAYS["standard"]))


def shop(
    settings: ShippingSettings,
    parcel: Parcel,
    now: datetime,
    level: str,
    promised: date,
) -> Shopped:
    """Every rate-table service's quote, cheapest first (then soonest, then by code). The
    choice is the first that meets the order. When none can arrive by the promised date
    (the order is late already), it is the cheapest that carries the order's level, or the
    soonest where the site expedites late orders (``expedite_late``); None when no service
    carries the level at all."""
    quotes = [
        quote(carrier, service, parcel, now, level, promised)
        for carrier in settings.carriers.values()
        for service in carrier.services
    ]
    quotes.sort(key=lambda q: (not q.meets, q.price, q.arrives, q.carrier, q.service))
    choice = next((q for q in quotes if q.meets), None)
    late = False
    if choice is None:
        carrying = [q for q in quotes if q.why.startswith("arrives ")]
        if carrying:
            if settings.expedite_late:
                choice = min(carrying, key=lambda q: (q.arrives, q.price, q.carrier, q.service))
            else:
                choice = carrying[0]
            late = True
    return Shopped(choice, tuple(quotes), level, promised, late)


def rate_shopping(settings: ShippingSettings) -> bool:
    """Whether the site rate-shops: some carrier has services with rate tables."""
    return any(carrier.services for carrier in settings.carriers.values())
