"""Verification: check a parsed order against the store's reference data and business rules.

A record that cannot be stored (unknown channel or SKU) is rejected; an order that can be
stored but needs a person (bad phone, incomplete address, unknown promo) is held with its
reasons.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from app.intake.records import ParsedOrder, Rejection
from app.orders.lifecycle import intake_path
from data.catalog import ChannelRef, NodeRef, ProductRef, PromoRef
from data.models import NodeKind, PaymentStatus, PromoKind, ServiceLevel
from data.orders import NewAddress, NewHold, NewLine, NewOrder

CENT = Decimal("0.01")
COUNTRIES = frozenset(phonenumbers.SUPPORTED_REGIONS)
POSTAL_PATTERNS = {
    "US": re.compile(r"^\d{5}(-\d{4})?$"),
    "CA": re.compile(r"^[A-Z]\d[A-Z] ?\d[A-Z]\d$"),
    "GB": re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$"),
    "DE": re.compile(r"^\d{5}$"),
    "FR": re.compile(r"^\d{5}$"),
}


@dataclass(frozen=True)
class ReferenceData:
    """What verification checks orders against, read once per import."""

    channels: dict[str, ChannelRef]
    products: dict[str, ProductRef]
    promos: dict[str, PromoRef]
    nodes: dict[str, NodeRef]
    now: datetime


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def allocate_discount(line_totals: list[Decimal], discount: Decimal) -> list[Decimal]:
    """Split an order discount over its lines in proportion to their totals, to the cent.

    Largest remainder: the shares always add up to the discount exactly, and no line's
    share exceeds its own total.
    """
    total = sum(line_totals, Decimal(0))
    if discount == 0 or total == 0:
        return [Decimal("0.00")] * len(line_totals)
    cents = int(discount * 100)
    exact = [Decimal(cents) * t / total for t in line_totals]
    shares = [int(e) for e in exact]
    order = sorted(range(len(exact)), key=lambda i: (exact[i] - shares[i], -i), reverse=True)
    for i in order[: cents - sum(shares)]:
        shares[i] += 1
    return [(Decimal(s) / 100).quantize(CENT) for s in shares]


def order_discount(promo: PromoRef, subtotal: Decimal) -> Decimal:
    """What a promo takes off an order's subtotal, rounded half up to the cent."""
    if promo.kind is PromoKind.PERCENT:
        assert promo.percent_bp is not None
        return _money(subtotal * promo.percent_bp / 10_000)
    assert promo.amount_off is not None
    return min(promo.amount_off, subtotal)


def verify(order: ParsedOrder, ref: ReferenceData) -> NewOrder | Rejection:
    """A storable order (verified, or held with reasons), or the reason it cannot be stored."""

    def reject(field: str, reason: str) -> Rejection:
        return Rejection(order.source_line, order.external_id, field, reason)

    channel = ref.channels.get(order.channel)
    if channel is None:
        known = ", ".join(sorted(ref.channels)) or "none are set up"
        return reject("channel", f"{order.channel!r} is not a known channel ({known})")
    if not channel.active:
        return reject("channel", f"{order.channel!r} is switched off; it takes no orders")

    holds: list[NewHold] = []

    def hold(code: str, field: str, message: str) -> None:
        holds.append(NewHold(code, field, message))

    products: list[ProductRef] = []
    for number, line in enumerate(order.lines, start=1):
        product = ref.products.get(line.sku)
        if product is None:
            return reject(f"lines[{number}].sku", f"{line.sku!r} is not a known SKU")
        if not product.active:
            hold(
                "inactive_product",
                f"lines[{number}].sku",
                f"{line.sku} ({product.name}) is no longer sold",
            )
        products.append(product)

    # Contact.
    name = order.customer_name
    if not name:
        hold("missing_name", "customer.name", "the customer has no name")
    email: str | None = None
    if order.email:
        email, problem = _check_email(order.email)
        if problem:
            hold("invalid_email", "customer.email", f"{order.email!r}: {problem}")
    country = order.ship_to.country.upper()
    phone: str | None = None
    if order.phone:
        phone = _normalise_phone(order.phone, country if country in COUNTRIES else None)
        if phone is None:
            hold(
                "invalid_phone",
                "customer.phone",
                f"{order.phone!r} is not a valid phone number"
                + (f" for {country}" if country in COUNTRIES else "")
                + "; give it with its country code, e.g. +1 415 555 0100",
            )
    if not order.email and not order.phone:
        hold(
            "no_contact",
            "customer",
            "no email or phone: the customer cannot be told about the shipment",
        )

    # Address.
    address = order.ship_to
    for part in ("line1", "city", "postal_code", "country"):
        if not getattr(address, part):
            hold("incomplete_address", f"ship_to.{part}", f"the address has no {part}")
    if address.country and country not in COUNTRIES:
        hold(
            "unknown_country",
            "ship_to.country",
            f"{address.country!r} is not an ISO 3166 country code such as US or CA",
        )
    postal = address.postal_code.upper()
    pattern = POSTAL_PATTERNS.get(country)
    if postal and pattern is not None and not pattern.match(postal):
        hold(
            "invalid_postal_code",
            "ship_to.postal_code",
            f"{address.postal_code!r} is not a valid {country} postal code",
        )

    # Service level and pickup store.
    service = order.service_level or (
        ServiceLevel.PICKUP if order.pickup_store else ServiceLevel.STANDARD
    )
    pickup_node_id: int | None = None
    if order.pickup_store:
        node = ref.nodes.get(order.pickup_store)
        if service is not ServiceLevel.PICKUP:
            hold(
                "pickup_conflict",
                "pickup_store",
                f"pickup store {order.pickup_store} given but service level is {service}",
            )
        elif node is None:
            hold("unknown_pickup_store", "pickup_store", f"{order.pickup_store!r} is not a node")
        elif node.kind is not NodeKind.STORE or not node.can_pickup or not node.active:
            hold(
                "pickup_not_offered",
                "pickup_store",
                f"{node.code} does not offer pickup in store",
            )
        else:
            pickup_node_id = node.id
    elif service is ServiceLevel.PICKUP:
        hold("missing_pickup_store", "pickup_store", "pickup in store needs a pickup_store")

    # Payment.
    if order.payment_status is PaymentStatus.FAILED:
        hold("payment_failed", "payment_status", "the channel reports the payment failed")
    elif order.payment_status is PaymentStatus.PENDING:
        hold("payment_pending", "payment_status", "payment is not yet authorized")

    # Prices and promo.
    line_totals = [line.unit_price * line.quantity for line in order.lines]
    subtotal = sum(line_totals, Decimal("0.00")).quantize(CENT)
    if subtotal >= Decimal("10000000000"):
        return reject("lines", f"the order totals {subtotal}, more than the store can hold")
    placed_at = order.placed_at or ref.now
    discount = Decimal("0.00")
    promo_code: str | None = order.promo_code or None
    if promo_code:
        promo = ref.promos.get(promo_code)
        if promo is None:
            hold("unknown_promo", "promo_code", f"{promo_code!r} is not a known promo code")
        elif not promo.valid_from <= placed_at < promo.valid_until:
            hold(
                "promo_not_valid",
                "promo_code",
                f"{promo_code} is valid from {promo.valid_from:%Y-%m-%d %H:%M} to "
                f"{promo.valid_until:%Y-%m-%d %H:%M} UTC; the order was placed "
                f"{placed_at:%Y-%m-%d %H:%M} UTC",
            )
        elif promo.channel_ids and channel.id not in promo.channel_ids:
            hold(
                "promo_wrong_channel",
                "promo_code",
                f"{promo_code} is not valid on the {channel.code} channel",
            )
        else:
            discount = order_discount(promo, subtotal)
    shares = allocate_discount(line_totals, discount)

    customer_key = (
        f"email:{email.lower()}"
        if email
        else f"phone:{phone}"
        if phone
        else f"order:{channel.code}:{order.external_id}"
    )
    return NewOrder(
        channel_id=channel.id,
        external_id=order.external_id,
        customer_key=customer_key,
        customer_name=name,
        customer_email=email or order.email or None,
        customer_phone=phone or order.phone or None,
        status=intake_path(verified=not holds)[-1][1],
        placed_at=placed_at,
        service_level=service,
        pickup_node_id=pickup_node_id,
        promo_code=promo_code,
        payment_status=order.payment_status,
        currency=order.currency,
        subtotal=subtotal,
        discount_total=discount,
        ship_to=NewAddress(
            name=address.name or name,
            company=address.company,
            line1=address.line1,
            line2=address.line2,
            city=address.city,
            region=address.region,
            postal_code=postal,
            country=country if country in COUNTRIES else address.country,
            phone=phone,
        ),
        lines=tuple(
            NewLine(
                line_no=number,
                product_id=product.id,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount=share,
            )
            for number, (line, product, share) in enumerate(
                zip(order.lines, products, shares, strict=True), start=1
            )
        ),
        holds=tuple(holds),
        max_packages=order.max_packages,
        history=intake_path(verified=not holds),
    )


@lru_cache(maxsize=65_536)
def _check_email(text: str) -> tuple[str | None, str | None]:
    """(normalised address, None) or (None, why it is not valid). Syntax only, no DNS."""
    try:
        return validate_email(text, check_deliverability=False).normalized, None
    except EmailNotValidError as exc:
        return None, str(exc)


@lru_cache(maxsize=65_536)
def _normalise_phone(text: str, region: str | None) -> str | None:
    """The number in E.164 form, or None if it is not a valid number."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
