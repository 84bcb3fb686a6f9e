"""Verification rules that need no store: discount arithmetic and phone normalisation."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from app.intake.verify import _normalise_phone, allocate_discount

cents = st.integers(min_value=0, max_value=10_000_000).map(lambda c: Decimal(c) / 100)


@given(st.lists(cents, min_size=1, max_size=40), st.integers(min_value=0, max_value=10_000))
def test_discount_shares_add_up_exactly_and_never_exceed_a_line(
    totals: list[Decimal], basis_points: int
) -> None:
    subtotal = sum(totals, Decimal(0))
    discount = (subtotal * basis_points / 10_000).quantize(Decimal("0.01"))
    discount = min(discount, subtotal)
    shares = allocate_discount(totals, discount)
    assert len(shares) == len(totals)
    assert sum(shares, Decimal(0)) == discount
    for share, total in zip(shares, totals, strict=True):
        assert Decimal(0) <= share <= total
        assert share == share.quantize(Decimal("0.01"))


def test_discount_split_is_proportional_and_deterministic() -> None:
    assert allocate_discount([Decimal("10.00"), Decimal("20.00")], Decimal("3.00")) == [
        Decimal("1.00"),
        Decimal("2.00"),
    ]
    # 1.00 over three equal lines: the odd cent goes to the first line.
    assert allocate_discount([Decimal("5.00")] * 3, Decimal("1.00")) == [
        Decimal("0.34"),
        Decimal("0.33"),
        Decimal("0.33"),
    ]
    assert allocate_discount([Decimal("0.00")], Decimal("0.00")) == [Decimal("0.00")]


def test_phones_are_normalised_to_e164_or_refused() -> None:
    assert _normalise_phone("(415) 555-0123", "US") == "+14155550123"
    assert _normalise_phone("+44 20 7946 0958", "US") == "+442079460958"
    assert _normalise_phone("555-01", "US") is None
    assert _normalise_phone("not a phone", None) is None
    assert _normalise_phone("415 555 0123", None) is None  # no country to read it in
