"""Invoices, packing slips and manifests: exact money, and what the PDFs actually print.

PDF text is read back with pypdf; manifest pages are rendered with pdfium and their
barcodes decoded with zxing-cpp, so the tests check the documents a person or a scanner
sees, not reportlab's internals.
"""

from __future__ import annotations

import ast
import hashlib
import io
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pypdf
import pypdfium2 as pdfium
import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st

from printing import documents, money
from printing.documents import (
    DocumentLine,
    Invoice,
    Manifest,
    ManifestPackage,
    PackingSlip,
    Party,
    format_money,
    invoice_pdf,
    manifest_pdf,
    packing_slip_pdf,
)
from printing.money import CENT, LineAmounts, line_amounts, round_money, totals

RATES = [Decimal(r) for r in ("0", "0.05", "0.07", "0.19", "0.2", "0.0825")]
REPO = Path(__file__).resolve().parents[2]

# ----------------------------------------------------------------------------- money


def cents(value: int) -> Decimal:
    return Decimal(value).scaleb(-2)


def reference_tax(net: Decimal, rate: Decimal) -> Decimal:
    """Half-up rounding done with integers, independently of the decimal module's modes."""
    net_cents = int(net * 100)
    rate_e4 = int(rate * 10_000)
    assert Decimal(net_cents) == net * 100
    assert Decimal(rate_e4) == rate * 10_000
    return cents((net_cents * rate_e4 + 5_000) // 10_000)


@st.composite
def priced_lines(draw: st.DrawFn) -> tuple[int, Decimal, Decimal, Decimal]:
    quantity = draw(st.integers(1, 1000))
    price = draw(st.integers(0, 999_999))
    discount = draw(st.integers(0, quantity * price))
    rate = draw(st.sampled_from(RATES))
    return quantity, cents(price), cents(discount), rate


def is_cents(value: Decimal) -> bool:
    return value.as_tuple().exponent == -2


# No deadline: the machine is shared, and a slow example is not a wrong one.
@settings(deadline=None)
@given(st.lists(priced_lines(), min_size=0, max_size=40))
def test_totals_are_exact_sums_of_rounded_lines(
    raw: list[tuple[int, Decimal, Decimal, Decimal]],
) -> None:
    lines = [line_amounts(*args) for args in raw]
    for (quantity, price, discount, rate), line in zip(raw, lines, strict=True):
        assert line.gross == quantity * price
        assert line.discount == discount
        assert line.net == line.gross - discount
        assert line.tax == reference_tax(line.net, rate)
        assert line.tax == (line.net * rate).quantize(CENT, rounding=ROUND_HALF_UP)
        assert line.total == line.net + line.tax
        assert line.tax_rate == rate
        assert all(is_cents(v) for v in (line.gross, line.discount, line.net, line.tax))

    result = totals(lines)
    assert result.total == result.subtotal - result.discounts + result.tax
    assert result.net == result.subtotal - result.discounts
    assert result.subtotal == sum((line.gross for line in lines), Decimal(0))
    assert result.tax == sum((line.tax for line in lines), Decimal(0))
    assert result.total == sum((line.total for line in lines), Decimal(0))
    assert result.tax == sum((tax for _, _, tax in result.tax_by_rate), Decimal(0))
    assert result.net == sum((net for _, net, _ in result.tax_by_rate), Decimal(0))
    rates = [rate for rate, _, _ in result.tax_by_rate]
    assert rates == sorted(set(rates))
    assert set(rates) == {rate for *_, rate in raw}
    for rate, net, tax in result.tax_by_rate:
        same = [line for line in lines if line.tax_rate == rate]
        assert net == sum((line.net for line in same), Decimal(0))
        assert tax == sum((line.tax for line in same), Decimal(0))
    assert all(is_cents(v) for v in (result.subtotal, result.net, result.tax, result.total))


def test_hand_computed_example() -> None:
    # 1 x 0.25 at 7 %:      tax 0.25 x 0.07   = 0.0175  -> 0.02 (half up)
    # 3 x 0.35 at 5 %:      net 1.05, tax 1.05 x 0.05 = 0.0525 -> 0.05
    # 2 x 19.99 - 5.00 at 19 %: gross 39.98, net 34.98, tax 6.6462 -> 6.65
    # 1 x 10.10 at 8.25 %:  tax 10.10 x 0.0825 = 0.83325 -> 0.83
    lines = [
        line_amounts(1, Decimal("0.25"), Decimal("0"), Decimal("0.07")),
        line_amounts(3, Decimal("0.35"), Decimal("0"), Decimal("0.05")),
        line_amounts(2, Decimal("19.99"), Decimal("5.00"), Decimal("0.19")),
        line_amounts(1, Decimal("10.10"), Decimal("0"), Decimal("0.0825")),
    ]
    assert [line.tax for line in lines] == [
        Decimal("0.02"),
        Decimal("0.05"),
        Decimal("6.65"),
        Decimal("0.83"),
    ]
    assert lines[2] == LineAmounts(
        gross=Decimal("39.98"),
        discount=Decimal("5.00"),
        net=Decimal("34.98"),
        tax=Decimal("6.65"),
        total=Decimal("41.63"),
        tax_rate=Decimal("0.19"),
    )
    result = totals(lines)
    # subtotal 0.25 + 1.05 + 39.98 + 10.10 = 51.38; net 51.38 - 5.00 = 46.38
    # tax 0.02 + 0.05 + 6.65 + 0.83 = 7.55; total 46.38 + 7.55 = 53.93
    assert result.subtotal == Decimal("51.38")
    assert result.discounts == Decimal("5.00")
    assert result.net == Decimal("46.38")
    assert result.tax == Decimal("7.55")
    assert result.total == Decimal("53.93")
    assert result.tax_by_rate == (
        (Decimal("0.05"), Decimal("1.05"), Decimal("0.05")),
        (Decimal("0.07"), Decimal("0.25"), Decimal("0.02")),
        (Decimal("0.0825"), Decimal("10.10"), Decimal("0.83")),
        (Decimal("0.19"), Decimal("34.98"), Decimal("6.65")),
    )


def test_tax_is_rounded_per_line_not_on_the_sum() -> None:
    # Three lines of 0.25 at 7 %: 3 x round(0.0175) = 3 x 0.02 = 0.06, whereas the tax of
    # the summed net would be round(0.75 x 0.07 = 0.0525) = 0.05. The rule is per line.
    result = totals([line_amounts(1, Decimal("0.25"), Decimal("0"), Decimal("0.07"))] * 3)
    assert result.tax == Decimal("0.06")
    assert result.tax_by_rate == ((Decimal("0.07"), Decimal("0.75"), Decimal("0.06")),)
    assert result.total == Decimal("0.81")


def test_round_money_is_half_up() -> None:
    assert round_money(Decimal("0.0175")) == Decimal("0.02")
    assert round_money(Decimal("0.0525")) == Decimal("0.05")
    assert round_money(Decimal("0.005")) == Decimal("0.01")
    assert round_money(Decimal("0.0049999")) == Decimal("0.00")
    assert round_money(Decimal("2.675")) == Decimal("2.68")  # a float would give 2.67
    assert round_money(Decimal("-0.005")) == Decimal("-0.01")  # half away from zero


def test_equal_rates_written_differently_share_a_row() -> None:
    result = totals(
        [
            line_amounts(1, Decimal("1.00"), Decimal("0"), Decimal("0.07")),
            line_amounts(1, Decimal("2.00"), Decimal("0"), Decimal("0.0700")),
        ]
    )
    # 1.00 x 0.07 = 0.07 and 2.00 x 0.07 = 0.14: one 7 % row of net 3.00, tax 0.21.
    assert result.tax_by_rate == ((Decimal("0.07"), Decimal("3.00"), Decimal("0.21")),)


def test_no_lines_total_zero() -> None:
    result = totals([])
    assert (result.subtotal, result.tax, result.total, result.tax_by_rate) == (
        Decimal(0),
        Decimal(0),
        Decimal(0),
        (),
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0, "1.00", "0", "0"), "quantity must be >= 1"),
        ((-3, "1.00", "0", "0"), "quantity must be >= 1"),
        ((1, "-0.01", "0", "0"), "unit price must be >= 0"),
        ((1, "1.001", "0", "0"), "unit price must have at most 2 decimals"),
        ((1, "NaN", "0", "0"), "finite"),
        ((1, "Infinity", "0", "0"), "finite"),
        ((1, "1E+20", "0", "0"), "below"),
        ((2, "1.00", "2.01", "0"), "discount 2.01 exceeds the line's gross amount 2.00"),
        ((1, "1.00", "-0.01", "0"), "discount must be >= 0"),
        ((1, "1.00", "0.005", "0"), "discount must have at most 2 decimals"),
        ((1, "1.00", "0", "1"), "tax rate"),
        ((1, "1.00", "0", "-0.01"), "tax rate"),
        ((1, "1.00", "0", "19"), "tax rate"),
        ((1, "1.00", "0", "0.08251"), "tax rate must have at most 4 decimals"),
    ],
)
def test_invalid_inputs_raise_value_error(args: tuple[int, str, str, str], message: str) -> None:
    quantity, price, discount, rate = args
    with pytest.raises(ValueError, match=re.escape(message)):
        line_amounts(quantity, Decimal(price), Decimal(discount), Decimal(rate))


def test_trailing_zeros_do_not_count_as_decimals() -> None:
    line = line_amounts(1, Decimal("1.5000"), Decimal("0.100"), Decimal("0.070000"))
    assert (line.gross, line.discount, line.tax) == (
        Decimal("1.50"),
        Decimal("0.10"),
        Decimal("0.10"),
    )


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        line_amounts(1, 1.5, Decimal(0), Decimal(0))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="int"):
        line_amounts(1.0, Decimal(1), Decimal(0), Decimal(0))  # type: ignore[arg-type]


@settings(deadline=None)
@given(
    quantity=st.integers(1, 1000),
    price=st.integers(0, 999_999),
    excess=st.integers(1, 10**6),
    rate=st.sampled_from(RATES),
)
def test_any_discount_above_gross_is_refused(
    quantity: int, price: int, excess: int, rate: Decimal
) -> None:
    with pytest.raises(ValueError, match="exceeds the line's gross amount"):
        line_amounts(quantity, cents(price), cents(quantity * price + excess), rate)


@settings(deadline=None)
@given(
    kind=st.sampled_from(["price_places", "negative_price", "rate_high", "rate_places", "qty"]),
    n=st.integers(1, 10**6),
)
def test_any_invalid_price_rate_or_quantity_is_refused(kind: str, n: int) -> None:
    quantity, price, rate = 1, Decimal("1.00"), Decimal("0.19")
    if kind == "price_places":
        price = Decimal(n * 10 + 1).scaleb(-3)  # ends in a tenth of a cent
    elif kind == "negative_price":
        price = -cents(n)
    elif kind == "rate_high":
        rate = Decimal(1) + Decimal(n).scaleb(-4)
    elif kind == "rate_places":
        rate = Decimal((n % 9999) * 10 + 1).scaleb(-5)
    else:
        quantity = 1 - n
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies with the kind
        line_amounts(quantity, price, Decimal(0), rate)


# ------------------------------------------------------------------------- documents

SELLER = Party(
    name="Łukasz Nowak",
    company="Shipfloor Sp. z o.o.",
    lines=("ul. Długa 5",),
    city="Kraków",
    postal_code="31-000",
    country="Poland",
    email="billing@shipfloor.example",
    tax_id="PL1234567890",
)
BILL_TO = Party(
    name="Σοφία Παπαδοπούλου",
    company="<b>& Sons",
    lines=("Odos Ermou 1",),
    city="Αθήνα",
    postal_code="105 57",
    country="Greece",
)
SHIP_TO = Party(
    name="Jürgen Groß",
    lines=("Hauptstraße 1", "Hinterhaus"),
    city="Berlin",
    postal_code="10115",
    country="Germany",
    phone="+49 30 123456",
)

EXAMPLE_LINES = (
    DocumentLine("TEA-1", "Green tea 25 g", 1, Decimal("0.25"), tax_rate=Decimal("0.07")),
    DocumentLine("PEN-3", "Pen <blue> & cap", 3, Decimal("0.35"), tax_rate=Decimal("0.05")),
    DocumentLine(
        "MUG-2",
        "Mug",
        2,
        Decimal("19.99"),
        discount=Decimal("5.00"),
        tax_rate=Decimal("0.19"),
        promo="SPRING5",
    ),
    DocumentLine("BAG-1", "Bag", 1, Decimal("10.10"), tax_rate=Decimal("0.0825")),
)


def pages_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def example_invoice(lines: tuple[DocumentLine, ...] = EXAMPLE_LINES) -> Invoice:
    return Invoice(
        number="INV-2024-0042",
        issued=date(2024, 5, 1),
        order_ref="SO-1001",
        currency="EUR",
        seller=SELLER,
        bill_to=BILL_TO,
        ship_to=SHIP_TO,
        lines=lines,
        notes="Paid by card.\nThank you <3 & see you",
    )


def example_slip(lines: tuple[DocumentLine, ...] = EXAMPLE_LINES) -> PackingSlip:
    return PackingSlip(
        order_ref="SO-1001",
        shipment_ref="SH-77",
        packed=date(2024, 5, 2),
        seller=SELLER,
        ship_to=SHIP_TO,
        lines=lines,
        currency="EUR",
        package_count=2,
    )


def test_invoice_prints_parties_lines_and_totals() -> None:
    data = invoice_pdf(example_invoice())
    assert data.startswith(b"%PDF-")
    [text] = pages_text(data)
    for expected in [
        "Invoice number: INV-2024-0042",
        "Invoice date: 2024-05-01",
        "Order: SO-1001",
        "Shipfloor Sp. z o.o.",
        "Łukasz Nowak",
        "ul. Długa 5",
        "31-000 Kraków",
        "Σοφία Παπαδοπούλου",
        "105 57 Αθήνα",
        "Jürgen Groß",
        "Hauptstraße 1",
        "Tax ID: PL1234567890",
        "<b>& Sons",  # the company's name, not markup
        "Pen <blue> & cap",
        "Thank you <3 & see you",
        "SPRING5",
        "Page 1 of 1",
    ]:
        assert expected in text, expected
    assert "&amp;" not in text
    assert "&lt;" not in text
    for sku in ("TEA-1", "PEN-3", "MUG-2", "BAG-1"):
        assert sku in text
    # Quantities, unit prices, discount, per-line tax and net, as printed in each row.
    rows = text.splitlines()
    assert rows[rows.index("PEN-3") + 2 : rows.index("PEN-3") + 4] == ["3", "EUR 0.35"]
    assert rows[rows.index("MUG-2") + 2 : rows.index("MUG-2") + 4] == ["2", "EUR 19.99"]
    for amount in ["EUR -5.00", "EUR 6.65", "EUR 34.98", "EUR 0.02", "EUR 1.05", "EUR 0.83"]:
        assert amount in text
    # The totals, hand-computed in test_hand_computed_example.
    for label, amount in [
        ("Subtotal", "EUR 51.38"),
        ("Discounts", "EUR -5.00"),
        ("Net", "EUR 46.38"),
        ("Tax 5% on EUR 1.05", "EUR 0.05"),
        ("Tax 7% on EUR 0.25", "EUR 0.02"),
        ("Tax 8.25% on EUR 10.10", "EUR 0.83"),
        ("Tax 19% on EUR 34.98", "EUR 6.65"),
        ("Tax", "EUR 7.55"),
        ("Total", "EUR 53.93"),
    ]:
        assert f"{label}\n {amount}" in text, label


def test_packing_slip_prints_what_was_packed_with_prices() -> None:
    [text] = pages_text(packing_slip_pdf(example_slip()))
    for expected in [
        "Packing slip",
        "Order: SO-1001",
        "Shipment: SH-77",
        "Packed: 2024-05-02",
        "Packages: 2",
        "Łukasz Nowak",
        "Jürgen Groß",
        "Hauptstraße 1",
        "Pen <blue> & cap",
        "EUR 19.99",
        "SPRING5",
        "EUR 53.93",
        "7 in 2 package(s)",
        "Page 1 of 1",
    ]:
        assert expected in text, expected
    assert "Σοφία" not in text  # the bill-to party is not on a slip


def test_markup_in_text_prints_literally() -> None:
    tricky = ["<b>&", "&amp;", "<br/>", "&#65;", "<font size=40>x</font>", "a\u00a0&\u00a0b"]
    party = Party(name=tricky[0], company=tricky[1], lines=tuple(tricky[2:]))
    lines = tuple(
        DocumentLine(sku=f"S{i}{text}", description=text, quantity=1, unit_price=Decimal(1))
        for i, text in enumerate(tricky)
    )
    invoice = Invoice("N<&>", date(2024, 1, 1), "O&1", "EUR", party, party, party, lines)
    [text] = pages_text(invoice_pdf(invoice))
    for value in tricky:
        assert value.replace("\u00a0", " ") in text.replace("\u00a0", " "), value
    assert "Invoice number: N<&>" in text
    assert "\nA\n" not in text  # &#65; was not turned into "A"


def test_control_characters_print_as_spaces() -> None:
    party = Party(name="Tab\there", lines=("NUL\x00here",))
    line = DocumentLine("S\tKU", "bell\x07here", 1, Decimal("1.00"))
    invoice = Invoice("N", date(2024, 1, 1), "O", "EUR", party, party, party, (line,))
    [text] = pages_text(invoice_pdf(invoice))
    for expected in ("Tab here", "NUL here", "S KU", "bell here"):
        assert expected in text


def test_documents_use_the_shipped_fonts_only() -> None:
    data = invoice_pdf(example_invoice())
    assert b"DejaVuSans" in data
    assert b"Helvetica" not in data
    assert b"Times" not in data


# ---------------------------------------------------------------------- pagination


def big_order(count: int = 300) -> tuple[DocumentLine, ...]:
    return tuple(
        DocumentLine(
            sku=f"SKU-{i:04d}",
            description=(
                f"Widget {i}: stainless steel, blue, size M "
                + ("with a long description that wraps onto more lines " * (i % 4))
            ),
            quantity=i % 7 + 1,
            unit_price=cents(1999 + 37 * i),
            discount=cents(150) if i % 5 == 0 else Decimal(0),
            tax_rate=RATES[i % len(RATES)],
            promo="BULK5" if i % 5 == 0 else "",
        )
        for i in range(count)
    )


def reference_total(lines: tuple[DocumentLine, ...]) -> Decimal:
    """The grand total with integer cents only: per line net plus its half-up tax."""
    total = 0
    for line in lines:
        net = int(line.unit_price * 100) * line.quantity - int(line.discount * 100)
        total += net + (net * int(line.tax_rate * 10_000) + 5_000) // 10_000
    return cents(total)


@pytest.mark.parametrize("render", ["invoice", "packing_slip"])
def test_three_hundred_lines_paginate(render: str) -> None:
    lines = big_order()
    if render == "invoice":
        data = invoice_pdf(example_invoice(lines))
    else:
        data = packing_slip_pdf(example_slip(lines))
    pages = pages_text(data)
    count = len(pages)
    assert count > 1
    grand_total = format_money(reference_total(lines), "EUR")
    for number, text in enumerate(pages, start=1):
        # The header row, as one run of cells (a bare "SKU" would also match "SKU-0001").
        assert "SKU\nDescription\nQty\nUnit price\nDiscount\nTax\nNet\n" in text, number
        assert f"Page {number} of {count}" in text
        assert len(re.findall(r"Page \d+ of \d+", text)) == 1
        assert (grand_total in text) == (number == count), number
    skus = Counter(sku for text in pages for sku in re.findall(r"SKU-\d{4}", text))
    assert skus == Counter({f"SKU-{i:04d}": 1 for i in range(300)})
    assert "Total" in pages[-1]
    assert "Subtotal" in pages[-1]
    assert all("Subtotal" not in text for text in pages[:-1])


def test_a_description_longer_than_a_page_splits_across_pages() -> None:
    long = DocumentLine("LONG-1", "word " * 4000, 1, Decimal("1.00"))
    pages = pages_text(invoice_pdf(example_invoice((long, *EXAMPLE_LINES))))
    assert len(pages) > 1
    assert sum(text.count("word") for text in pages) == 4000
    assert "EUR 54.93" in pages[-1]


# -------------------------------------------------------------------------- manifest

# Tracking numbers in the carriers' shapes: UPS, FedEx (12 and 22 digits), DHL, Royal Mail.
TRACKING = [
    *(f"1Z{i:03d}AA1{i * 7919 % 10**10:010d}" for i in range(30)),
    *(f"{7000_0000_0000 + i * 131:012d}" for i in range(4)),
    *(f"9612019{i * 104_729 % 10**15:015d}" for i in range(2)),
    *(f"{3_456_789_012 + i:010d}" for i in range(2)),
    "RB123456785GB",
    "AB000000017GB",
]


def example_manifest() -> Manifest:
    names = ["Jürgen Groß", "Σοφία Παπαδοπούλου", "Иван <Петров> & Co", "Łukasz Nowak"]
    packages = tuple(
        ManifestPackage(
            sscc=f"00340123450000{i:04d}",
            tracking_number=tracking,
            order_ref=f"SO-{2000 + i}",
            ship_to_name=names[i % len(names)],
            postal_code=f"{10115 + i}",
            country="DE",
            weight_g=850 + 125 * i,
        )
        for i, tracking in enumerate(TRACKING)
    )
    return Manifest(
        number="MAN-2024-05-01-UPS",
        carrier="UPS",
        closed_at=datetime(2024, 5, 1, 19, 30, tzinfo=timezone(timedelta(hours=2))),
        ship_from=SELLER,
        packages=packages,
        account="A1B2C3",
    )


def test_manifest_barcodes_decode_to_every_tracking_number_once() -> None:
    assert len(TRACKING) == 40 == len(set(TRACKING))
    data = manifest_pdf(example_manifest())
    pdf = pdfium.PdfDocument(data)
    assert len(pdf) >= 2
    decoded: list[str] = []
    for index in range(len(pdf)):
        image = pdf[index].render(scale=3).to_pil()
        for barcode in zxingcpp.read_barcodes(image):
            assert barcode.format == zxingcpp.BarcodeFormat.Code128
            decoded.append(barcode.text)
    pdf.close()
    assert Counter(decoded) == Counter(TRACKING)


def test_manifest_prints_packages_summary_and_signature() -> None:
    manifest = example_manifest()
    pages = pages_text(manifest_pdf(manifest))
    count = len(pages)
    everything = "\n".join(pages)
    words = " ".join(everything.split())  # a consignee's name may wrap in its cell
    for number, text in enumerate(pages, start=1):
        assert "#\nTracking number\nOrder / SSCC\nConsignee\nWeight\n" in text, number
        assert f"Page {number} of {count}" in text
    for package in manifest.packages:
        assert everything.count(package.tracking_number) == 1
        assert package.order_ref in everything
    for expected in [
        "Carrier manifest",
        "Manifest: MAN-2024-05-01-UPS",
        "Carrier: UPS",
        "Account: A1B2C3",
        "Closed: 2024-05-01 17:30 UTC",  # 19:30 at +02:00
        "Иван <Петров> & Co",
        "Σοφία Παπαδοπούλου",
        "0.850 kg",
    ]:
        assert expected in words, expected
    total_g = sum(850 + 125 * i for i in range(40))  # 131,500 g
    assert total_g == 131_500
    assert "40 packages, total weight 131.500 kg" in pages[-1]
    assert "Received by (driver)" in pages[-1]
    assert "Date / time" in pages[-1]
    assert "Signature" in pages[-1]


def test_an_empty_manifest_still_prints_its_summary() -> None:
    manifest = Manifest("M-0", "DHL", datetime(2024, 5, 1, tzinfo=UTC), SELLER, ())
    [text] = pages_text(manifest_pdf(manifest))
    assert "0 packages, total weight 0.000 kg" in text
    assert "Received by (driver)" in text


def test_manifest_closed_at_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Manifest("M", "UPS", datetime(2024, 5, 1, 17, 30), SELLER, ())  # noqa: DTZ001


def test_tracking_numbers_must_be_printable_ascii() -> None:
    for bad in ("", "1Z\u00e9", "1Z\n2"):
        with pytest.raises(ValueError, match="tracking number"):
            ManifestPackage("", bad, "SO-1", "X", "1", "DE", 1)


def test_document_fields_are_checked() -> None:
    with pytest.raises(ValueError, match="currency"):
        Invoice("I", date(2024, 1, 1), "O", "eur", SELLER, SELLER, SELLER, EXAMPLE_LINES)
    with pytest.raises(ValueError, match="at least one line"):
        Invoice("I", date(2024, 1, 1), "O", "EUR", SELLER, SELLER, SELLER, ())
    with pytest.raises(ValueError, match="package count"):
        PackingSlip("O", "S", date(2024, 1, 1), SELLER, SELLER, EXAMPLE_LINES, "EUR", 0)
    with pytest.raises(ValueError, match="exceeds"):
        DocumentLine("S", "D", 1, Decimal("1.00"), discount=Decimal("1.01"))
    with pytest.raises(ValueError, match="weight"):
        ManifestPackage("", "1Z1", "SO-1", "X", "1", "DE", -1)


# ----------------------------------------------------------------------- determinism


def test_rendering_is_deterministic() -> None:
    assert invoice_pdf(example_invoice()) == invoice_pdf(example_invoice())
    assert packing_slip_pdf(example_slip()) == packing_slip_pdf(example_slip())
    assert manifest_pdf(example_manifest()) == manifest_pdf(example_manifest())


def test_rendering_is_deterministic_across_processes() -> None:
    script = (
        "import hashlib\n"
        "from tests.printing.test_documents import example_invoice\n"
        "from printing.documents import invoice_pdf\n"
        "print(hashlib.sha256(invoice_pdf(example_invoice())).hexdigest())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert out.stdout.strip() == hashlib.sha256(invoice_pdf(example_invoice())).hexdigest()


def test_money_format() -> None:
    assert format_money(Decimal("1234.5"), "EUR") == "EUR 1,234.50"
    assert format_money(Decimal("-5"), "USD") == "USD -5.00"
    assert format_money(Decimal("1234567.891"), "GBP") == "GBP 1,234,567.89"
    assert documents.format_rate(Decimal("0.0825")) == "8.25%"
    assert documents.format_rate(Decimal("0.2")) == "20%"
    assert documents.format_rate(Decimal("0")) == "0%"
    assert documents.format_weight(131_500) == "131.500 kg"


@settings(max_examples=20, deadline=None)
@given(
    name=st.text(alphabet=st.sampled_from("aZłŁßΣσЖж<>&;#/ \"'"), min_size=1, max_size=24).filter(
        lambda s: s.strip() == s and "  " not in s
    )
)
def test_any_name_prints_as_written(name: str) -> None:
    party = Party(name=name)
    slip = PackingSlip("O", "S", date(2024, 1, 1), party, party, EXAMPLE_LINES[:1], "EUR")
    [text] = pages_text(packing_slip_pdf(slip))
    assert name in text.splitlines()


# --------------------------------------------------------------------------- layering

ALLOWED = {"reportlab", "barcode", "printing", "__future__"}


@pytest.mark.parametrize("module", [money, documents])
def test_printing_imports_only_reportlab_barcode_stdlib_and_printing(module: object) -> None:
    path = Path(str(getattr(module, "__file__", "")))
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            imported.add(node.module.split(".")[0])
    outside = {name for name in imported if name not in sys.stdlib_module_names}
    assert outside <= ALLOWED, outside - ALLOWED
