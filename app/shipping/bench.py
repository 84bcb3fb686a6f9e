"""`shipfloor bench labels`: how long each document takes to render (median per document)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from app.shipping.labelcheck import check
from app.shipping.settings import ShippingSettings
from printing import documents, label
from printing.label import OUTPUTS

SAMPLE_FROM = label.Address(
    name="Shipfloor Demo Ltd",
    lines=("Unit 4, Dockside Park",),
    city="Leeds",
    postal_code="LS1 1AA",
    country="GB",
)
SAMPLE_TO = label.Address(
    name="Zoë Łukasiewicz-Brandt",
    company="Müller & Søn GmbH",
    lines=("Hauptstraße 12", "Hinterhaus, 3. OG"),
    city="München",
    region="BY",
    postal_code="80331",
    country="DE",
    phone="+49 89 1234567",
)


def sample_label() -> label.ShippingLabel:
    return label.ShippingLabel(
        ship_from=SAMPLE_FROM,
        ship_to=SAMPLE_TO,
        carrier="EXPRESS",
        service="Express Courier next_day",
        weight_g=2350,
        package_number=2,
        package_count=3,
        order_ref="web/W-100234",
        shipment_ref="S-8812",
        tracking_number="EX00000881234",
        sscc="050123450000088129",
    )


def sample_invoice(lines: int) -> documents.Invoice:
    seller = documents.Party(
        name="Shipfloor Demo Ltd",
        lines=("Unit 4, Dockside Park",),
        city="Leeds",
        postal_code="LS1 1AA",
        country="GB",
        tax_id="GB123456789",
    )
    buyer = documents.Party(
        name=SAMPLE_TO.name,
        company=SAMPLE_TO.company,
        lines=SAMPLE_TO.lines,
        city=SAMPLE_TO.city,
        postal_code=SAMPLE_TO.postal_code,
        country=SAMPLE_TO.country,
    )
    return documents.Invoice(
        number="INV-000123",
        issued=date(2026, 11, 26),
        order_ref="web/W-100234",
        currency="EUR",
        seller=seller,
        bill_to=buyer,
        ship_to=buyer,
        lines=tuple(
            documents.DocumentLine(
                sku=f"SKU-{i:05d}",
                description=f"Demo product {i} with a longer description that wraps",
                quantity=1 + i % 4,
                unit_price=Decimal(f"{3 + i % 50}.{i % 100:02d}"),
                discount=Decimal("0.50") if i % 7 == 0 else Decimal("0"),
                tax_rate=Decimal("0.19"),
                promo="TEN" if i % 7 == 0 else "",
            )
            for i in range(lines)
        ),
    )


def _median_ms(render: Callable[[], object], repeat: int) -> float:
    render()  # warm up: fonts, imports
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        render()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 3)


def run(repeat: int = 50) -> dict[str, float]:
    # Each output gets the label as the CLI hands it over: checked and transliterated.
    zpl, pdf = (check(sample_label(), ShippingSettings(), output).label for output in OUTPUTS)
    small, large = sample_invoice(20), sample_invoice(300)
    return {
        "zpl_label_ms": _median_ms(lambda: label.to_zpl(zpl), repeat * 10),
        "pdf_label_ms": _median_ms(lambda: label.to_pdf(pdf), repeat),
        "invoice_20_lines_ms": _median_ms(lambda: documents.invoice_pdf(small), repeat),
        "invoice_300_lines_ms": _median_ms(
            lambda: documents.invoice_pdf(large), max(5, repeat // 5)
        ),
    }
