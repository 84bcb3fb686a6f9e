"""Exact money arithmetic for invoices and packing slips.

Amounts are :class:`~decimal.Decimal` (never float), quantities are ``int``.

Inputs:

* a unit price is >= 0 with at most 2 decimals (whole cents);
* a line's discount is the money taken off that line by a promotion, >= 0, at most
  2 decimals and at most the line's gross amount;
* a tax rate is a fraction, 0 <= rate < 1, with at most 4 decimals (``0.0825`` is 8.25 %);
* a quantity is an ``int`` >= 1;
* every amount (price, discount, quantity x price) is below ``LIMIT`` (10**15).

Anything else raises ``ValueError`` (``TypeError`` for a float or another non-Decimal).

Rounding rule (the documented one; printed documents follow it):

1. ``gross = quantity * unit_price`` and ``net = gross - discount`` are exact (whole cents).
2. Tax is rounded **per line**: ``tax = round_money(net * rate)``, half up (a half cent
   goes away from zero: 0.0175 -> 0.02, 0.0525 -> 0.05, 0.005 -> 0.01).
3. ``line total = net + tax``.
4. Every document total is the exact sum of its rounded line values: subtotal = sum of
   gross, discounts = sum of discounts, net = sum of nets, tax = sum of line taxes, total =
   sum of line totals. Hence ``total == subtotal - discounts + tax`` and
   ``net == subtotal - discounts`` always hold exactly, and the tax shown per rate is the
   sum of that rate's line taxes (never a re-rounded ``rate * net``).

Arithmetic runs in a private 100-digit decimal context that raises on any inexact result,
so neither the caller's decimal context nor a silent precision loss can change a sum.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import (
    ROUND_HALF_UP,
    Context,
    Decimal,
    Inexact,
    InvalidOperation,
    Overflow,
)

CENT = Decimal("0.01")
RATE_QUANTUM = Decimal("0.0001")
ZERO = Decimal("0.00")
# Amounts (prices, discounts, line amounts) stay below this; larger ones are input errors.
LIMIT = Decimal(10) ** 15

# Sums and products: exact or an exception.
_EXACT = Context(prec=100, rounding=ROUND_HALF_UP, traps=[InvalidOperation, Inexact, Overflow])
# Rounding to cents: Inexact/Rounded are the point here, so they are not trapped.
_ROUND = Context(prec=100, rounding=ROUND_HALF_UP, traps=[InvalidOperation, Overflow])


def _check_decimal(value: object, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal):
        raise TypeError(f"{what} must be a Decimal, not {type(value).__name__}: {value!r}")
    if not value.is_finite():
        raise ValueError(f"{what} must be a finite number, got {value}")
    return value


def _check_amount(value: object, what: str) -> Decimal:
    amount = _check_decimal(value, what)
    if abs(amount) >= LIMIT:
        raise ValueError(f"{what} must be below {LIMIT:,}, got {amount}")
    return amount


def _has_places(value: Decimal, places: int) -> bool:
    """Whether ``value`` has at most ``places`` decimals (trailing zeros do not count)."""
    try:
        return value.quantize(Decimal(1).scaleb(-places), context=_ROUND) == value
    except InvalidOperation:
        return False


def round_money(x: Decimal) -> Decimal:
    """``x`` rounded to cents, half up (half away from zero): 0.0175 -> 0.02."""
    _check_decimal(x, "amount")
    return x.quantize(CENT, context=_ROUND)


def check_unit_price(unit_price: Decimal) -> Decimal:
    """``unit_price`` as whole cents, or ValueError: it must be >= 0 with <= 2 decimals."""
    _check_amount(unit_price, "unit price")
    if unit_price < 0:
        raise ValueError(f"unit price must be >= 0, got {unit_price}")
    if not _has_places(unit_price, 2):
        raise ValueError(f"unit price must have at most 2 decimals, got {unit_price}")
    return unit_price.quantize(CENT, context=_EXACT)


def check_tax_rate(tax_rate: Decimal) -> Decimal:
    """``tax_rate`` as given, or ValueError: it must be 0 <= rate < 1 with <= 4 decimals."""
    _check_decimal(tax_rate, "tax rate")
    if not 0 <= tax_rate < 1:
        raise ValueError(
            f"tax rate must be a fraction with 0 <= rate < 1 (0.19 for 19 %), got {tax_rate}"
        )
    if not _has_places(tax_rate, 4):
        raise ValueError(f"tax rate must have at most 4 decimals, got {tax_rate}")
    return tax_rate


def check_quantity(quantity: int) -> int:
    """``quantity``, or ValueError: it must be an int >= 1."""
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise TypeError(f"quantity must be an int, not {type(quantity).__name__}: {quantity!r}")
    if quantity < 1:
        raise ValueError(f"quantity must be >= 1, got {quantity}")
    return quantity


@dataclass(frozen=True)
class LineAmounts:
    """One line's money, all in cents: ``net = gross - discount``, ``total = net + tax``.

    ``tax_rate`` is the rate ``tax`` was computed with; :func:`totals` groups taxes by it.
    """

    gross: Decimal
    discount: Decimal
    net: Decimal
    tax: Decimal
    total: Decimal
    tax_rate: Decimal


def line_amounts(
    quantity: int, unit_price: Decimal, discount: Decimal, tax_rate: Decimal
) -> LineAmounts:
    """The money of one line: quantity at unit price, less its promo discount, plus tax.

    ``discount`` is money (not a percentage), ``0 <= discount <= quantity * unit_price``.
    Tax is rounded on this line, half up, to the cent.
    """
    check_quantity(quantity)
    price = check_unit_price(unit_price)
    rate = check_tax_rate(tax_rate)
    _check_amount(discount, "discount")
    gross = _EXACT.multiply(Decimal(quantity), price).quantize(CENT, context=_EXACT)
    if gross >= LIMIT:
        raise ValueError(f"line amount {quantity} x {price} = {gross} must be below {LIMIT:,}")
    if discount < 0:
        raise ValueError(f"discount must be >= 0, got {discount}")
    if not _has_places(discount, 2):
        raise ValueError(f"discount must have at most 2 decimals, got {discount}")
    if discount > gross:
        raise ValueError(
            f"discount {discount} exceeds the line's gross amount {gross} ({quantity} x {price})"
        )
    off = discount.quantize(CENT, context=_EXACT)
    net = _EXACT.subtract(gross, off)
    tax = round_money(_EXACT.multiply(net, rate))
    return LineAmounts(
        gross=gross,
        discount=off,
        net=net,
        tax=tax,
        total=_EXACT.add(net, tax),
        tax_rate=rate,
    )


@dataclass(frozen=True)
class Totals:
    """A document's totals: exact sums of its lines' rounded values.

    ``tax_by_rate`` holds ``(rate, net, tax)`` for each rate used, rates ascending; its
    taxes sum to ``tax`` and its nets to ``net``.
    """

    subtotal: Decimal
    discounts: Decimal
    net: Decimal
    tax: Decimal
    total: Decimal
    tax_by_rate: tuple[tuple[Decimal, Decimal, Decimal], ...]


def totals(lines: Iterable[LineAmounts]) -> Totals:
    """The totals of ``lines`` (each from :func:`line_amounts`); no lines give zeros."""
    subtotal = discounts = net = tax = total = ZERO
    by_rate: dict[Decimal, tuple[Decimal, Decimal]] = {}
    for line in lines:
        subtotal = _EXACT.add(subtotal, line.gross)
        discounts = _EXACT.add(discounts, line.discount)
        net = _EXACT.add(net, line.net)
        tax = _EXACT.add(tax, line.tax)
        total = _EXACT.add(total, line.total)
        # Equal rates written differently (0.07, 0.0700) share one key: Decimal hashes
        # by value.
        rate_net, rate_tax = by_rate.get(line.tax_rate, (ZERO, ZERO))
        by_rate[line.tax_rate] = (_EXACT.add(rate_net, line.net), _EXACT.add(rate_tax, line.tax))
    return Totals(
        subtotal=subtotal,
        discounts=discounts,
        net=net,
        tax=tax,
        total=total,
        tax_by_rate=tuple(
            (rate.quantize(RATE_QUANTUM, context=_EXACT).normalize(_EXACT), rate_net, rate_tax)
            for rate, (rate_net, rate_tax) in sorted(by_rate.items())
        ),
    )
