"""Invoices, packing slips and carrier manifests as PDF bytes (pure functions).

Every document is A4 portrait with 15 mm margins, set in DejaVu Sans (see
:mod:`printing.fonts`) so names in Latin, Greek or Cyrillic script print as written
(scripts DejaVu Sans lacks, such as CJK, print as empty boxes). Text from orders and
customers is escaped before it reaches reportlab's Paragraph markup, so ``<b>&`` in a name
prints as those three characters; control characters print as spaces.

Layout, top to bottom:

* a heading: the sender (seller or ship-from party) on the left, the document's title and
  reference data (number, dates, order) on the right;
* the address blocks (bill to and ship to; ship to alone on a packing slip) and the notes;
* one table: the lines (or packages) under a header row that repeats on every page, long
  text wrapping inside its cell; then the summary in the same table (the money totals;
  the manifest's package count, total weight and the driver's signature lines), kept on
  one page with the last line. So every page carries the header row and the last page
  the totals;
* from page 2 on, a running head (document, order) at the top;
* a footer on every page: the document's name on the left, "Page n of m" on the right. The
  page count is known only once the whole document is laid out, so a two-pass canvas
  keeps each page until the end and then draws the footers.

Money is printed as the ISO currency code, a space and the amount with thousands
separators and two decimals (``EUR 1,234.50``; a discount is ``EUR -5.00``), right-aligned.
Each line shows its unit price, promo discount (code beneath), tax (rate beneath) and net
amount; the totals show subtotal, discounts, net, tax per rate, tax and total. The money
follows :mod:`printing.money`: tax is rounded per line, half up, and every total is the
exact sum of the printed line values.

PDFs are built with ``invariant=True``: the same document always gives the same bytes.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from printing import fonts, money

PAGE_SIZE = A4
MARGIN = 15 * mm
CONTENT_WIDTH = PAGE_SIZE[0] - 2 * MARGIN
_FRAME_PADDING = 6.0  # platypus's default Frame padding, taken out of the page margins
CREATOR = "Shipfloor"

# Code 128 on the manifest: the narrowest bar is at least MIN_MODULE points wide (and at
# most MAX_MODULE); bars are BAR_HEIGHT points tall. At 0.9 pt a module is 2.7 pixels when a
# page is rendered at 3x (216 dpi) and 2.5 dots on a 203 dpi printer.
MIN_MODULE = 0.9
MAX_MODULE = 1.2
BAR_HEIGHT = 32.0
QUIET_MODULES = 10

_GREY = colors.Color(0.35, 0.35, 0.35)
_RULE = colors.Color(0.75, 0.75, 0.75)
_HEAD_BG = colors.Color(0.9, 0.9, 0.9)
_ZEBRA = colors.Color(0.965, 0.965, 0.965)
_LINE_PADDING = 6.0  # left plus right padding of a cell in a table of lines or packages
_CURRENCY = re.compile(r"[A-Z]{3}")


# ---------------------------------------------------------------------------- documents


@dataclass(frozen=True)
class Party:
    """A seller, customer or ship-from address. ``lines`` are the street lines."""

    name: str
    company: str = ""
    lines: tuple[str, ...] = ()
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""
    email: str = ""
    phone: str = ""
    tax_id: str = ""


@dataclass(frozen=True)
class DocumentLine:
    """An order line: ``quantity`` at ``unit_price``, less ``discount`` (money), taxed at
    ``tax_rate`` (a fraction: 0.19 is 19 %). ``promo`` is the promotion code that gave the
    discount, printed beside it. Invalid money raises ValueError here (see
    :mod:`printing.money`)."""

    sku: str
    description: str
    quantity: int
    unit_price: Decimal
    discount: Decimal = Decimal("0")
    tax_rate: Decimal = Decimal("0")
    promo: str = ""
    amounts: money.LineAmounts = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        amounts = money.line_amounts(self.quantity, self.unit_price, self.discount, self.tax_rate)
        object.__setattr__(self, "amounts", amounts)


def _check_currency(currency: str) -> None:
    if not _CURRENCY.fullmatch(currency):
        raise ValueError(f"currency must be an ISO 4217 code like 'EUR', got {currency!r}")


def _check_lines(lines: Sequence[DocumentLine], what: str) -> None:
    if not lines:
        raise ValueError(f"{what} needs at least one line")


@dataclass(frozen=True)
class Invoice:
    """An invoice for an order; ``issued`` is the invoice date."""

    number: str
    issued: date
    order_ref: str
    currency: str
    seller: Party
    bill_to: Party
    ship_to: Party
    lines: tuple[DocumentLine, ...]
    notes: str = ""

    def __post_init__(self) -> None:
        _check_currency(self.currency)
        _check_lines(self.lines, "an invoice")


@dataclass(frozen=True)
class PackingSlip:
    """The slip packed with a shipment: what was ordered, priced like the invoice.

    ``currency`` (an ISO code) is the order's currency, needed to print the prices.
    """

    order_ref: str
    shipment_ref: str
    packed: date
    seller: Party
    ship_to: Party
    lines: tuple[DocumentLine, ...]
    currency: str
    package_count: int = 1
    notes: str = ""

    def __post_init__(self) -> None:
        _check_currency(self.currency)
        _check_lines(self.lines, "a packing slip")
        if isinstance(self.package_count, bool) or self.package_count < 1:
            raise ValueError(f"package count must be >= 1, got {self.package_count}")


@dataclass(frozen=True)
class ManifestPackage:
    """One package handed to the carrier. ``tracking_number`` is printed as Code 128, so it
    must be printable ASCII."""

    sscc: str
    tracking_number: str
    order_ref: str
    ship_to_name: str
    postal_code: str
    country: str
    weight_g: int

    def __post_init__(self) -> None:
        if not self.tracking_number or not all(" " <= c <= "~" for c in self.tracking_number):
            raise ValueError(
                "tracking number must be non-empty printable ASCII (it is printed as Code 128), "
                f"got {self.tracking_number!r}"
            )
        if isinstance(self.weight_g, bool) or not isinstance(self.weight_g, int):
            raise TypeError(f"weight must be an int of grams, got {self.weight_g!r}")
        if self.weight_g < 0:
            raise ValueError(f"weight must be >= 0 g, got {self.weight_g}")


@dataclass(frozen=True)
class Manifest:
    """A carrier's end-of-day close-out. ``closed_at`` must be timezone-aware; it prints in
    UTC."""

    number: str
    carrier: str
    closed_at: datetime
    ship_from: Party
    packages: tuple[ManifestPackage, ...]
    account: str = ""

    def __post_init__(self) -> None:
        if self.closed_at.tzinfo is None or self.closed_at.utcoffset() is None:
            raise ValueError(f"closed_at must be timezone-aware (UTC), got {self.closed_at!r}")


# ------------------------------------------------------------------------------ formats


def format_money(amount: Decimal, currency: str) -> str:
    """``EUR 1,234.50``: the currency code, then the amount with two decimals."""
    return f"{currency} {money.round_money(amount):,.2f}"


def _minus(amount: Decimal) -> Decimal:
    """``-amount``, but zero stays 0.00 rather than -0.00."""
    return -amount if amount else amount


def format_rate(rate: Decimal) -> str:
    """A tax rate as a percentage: 0.19 -> ``19%``, 0.0825 -> ``8.25%``."""
    percent = (rate * 100).normalize()
    return f"{percent:f}%"


def format_weight(grams: int) -> str:
    """Grams as kilograms with three decimals: 1250 -> ``1.250 kg``."""
    return f"{Decimal(grams).scaleb(-3):,.3f} kg"


def _clean(text: str) -> str:
    """``text`` with control characters (tabs, NULs, escapes) as spaces; newlines kept.

    DejaVu has no glyphs for them: they would print as empty boxes.
    """
    return "".join(" " if c != "\n" and unicodedata.category(c) == "Cc" else c for c in text)


def _markup(text: str) -> str:
    """``text`` as Paragraph markup that prints it literally; newlines become breaks."""
    return "<br/>".join(escape(line) for line in _clean(text).splitlines())


# ------------------------------------------------------------------------------- styles


@dataclass(frozen=True)
class _Styles:
    body: ParagraphStyle
    right: ParagraphStyle
    centre: ParagraphStyle
    small: ParagraphStyle
    small_right: ParagraphStyle
    label: ParagraphStyle
    title: ParagraphStyle
    meta: ParagraphStyle


def _styles() -> _Styles:
    fonts.register()

    def style(
        name: str, size: float, *, bold: bool = False, align: int = TA_LEFT, grey: bool = False
    ) -> ParagraphStyle:
        return ParagraphStyle(
            name,
            fontName=fonts.BOLD if bold else fonts.REGULAR,
            fontSize=size,
            leading=round(size * 1.25, 1),
            alignment=align,
            textColor=_GREY if grey else colors.black,
            splitLongWords=1,
        )

    return _Styles(
        body=style("body", 8),
        right=style("right", 8, align=TA_RIGHT),
        centre=style("centre", 8, align=TA_CENTER),
        small=style("small", 6.5, grey=True),
        small_right=style("small_right", 6.5, align=TA_RIGHT, grey=True),
        label=style("label", 7, bold=True, grey=True),
        title=style("title", 18, bold=True, align=TA_RIGHT),
        meta=style("meta", 8.5, align=TA_RIGHT),
    )


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(_markup(text), style)


# ------------------------------------------------------------------------------- canvas


class _NumberedCanvas(Canvas):  # type: ignore[misc]  # reportlab has no type hints
    """A canvas that holds every page until the end, then draws "Page n of m" on each.

    The first pass is the layout itself (pages are kept, not written); the second,
    in ``save``, adds the footer once the page count is known.
    """

    def __init__(self, *args: Any, footer: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shipfloor_footer = footer
        self._shipfloor_pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._shipfloor_pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        count = len(self._shipfloor_pages)
        for number, state in enumerate(self._shipfloor_pages, start=1):
            self.__dict__.update(state)
            self._draw_footer(number, count)
            super().showPage()
        super().save()

    def _draw_footer(self, number: int, count: int) -> None:
        width = PAGE_SIZE[0]
        y = MARGIN / 2
        self.saveState()
        self.setStrokeColor(_RULE)
        self.setLineWidth(0.5)
        self.line(MARGIN, y + 9, width - MARGIN, y + 9)
        self.setFillColor(_GREY)
        self.setFont(fonts.REGULAR, 7.5)
        page = f"Page {number} of {count}"
        room = CONTENT_WIDTH - fonts.text_width(page, fonts.REGULAR, 7.5) - 24
        self.drawString(MARGIN, y, fonts.fit(self._shipfloor_footer, fonts.REGULAR, 7.5, room))
        self.drawRightString(width - MARGIN, y, page)
        self.restoreState()


def _build(
    story: list[Flowable], *, title: str, author: str, footer: str, running_head: str
) -> bytes:
    """The PDF of ``story``: A4, numbered pages, ``running_head`` atop pages 2..m."""
    fonts.register()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=PAGE_SIZE,
        # The frame pads its content by _FRAME_PADDING: content spans MARGIN to MARGIN.
        leftMargin=MARGIN - _FRAME_PADDING,
        rightMargin=MARGIN - _FRAME_PADDING,
        topMargin=MARGIN - _FRAME_PADDING,
        bottomMargin=MARGIN + 4 * mm - _FRAME_PADDING,
        title=title,
        author=author,
        subject=title,
        creator=CREATOR,
        invariant=True,
        initialFontName=fonts.REGULAR,
        initialFontSize=8,
    )

    def later_page(canvas: Canvas, _doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFillColor(_GREY)
        canvas.setFont(fonts.REGULAR, 7.5)
        head = fonts.fit(" ".join(running_head.split()), fonts.REGULAR, 7.5, CONTENT_WIDTH)
        canvas.drawString(MARGIN, PAGE_SIZE[1] - MARGIN / 2 - 4, head)
        canvas.restoreState()

    def first_page(_canvas: Canvas, _doc: SimpleDocTemplate) -> None:
        return None

    canvasmaker: Callable[..., Canvas] = partial(_NumberedCanvas, footer=" ".join(footer.split()))
    doc.build(story, onFirstPage=first_page, onLaterPages=later_page, canvasmaker=canvasmaker)
    return out.getvalue()


# ------------------------------------------------------------------------------- blocks


def _party_markup(party: Party) -> list[str]:
    """The lines of an address block as Paragraph markup, name (or company) in bold."""

    def line(text: str) -> str:
        return escape(" ".join(_clean(text).split()))

    rows: list[str] = []
    first = party.company or party.name
    if first.strip():
        rows.append(f"<b>{line(first)}</b>")
    if party.company:
        rows.append(line(party.name))
    rows += [line(street) for street in party.lines]
    place = " ".join(part for part in (party.postal_code, party.city) if part)
    if party.region:
        place = f"{place}, {party.region}" if place else party.region
    rows += [line(row) for row in (place, party.country, party.email, party.phone)]
    if party.tax_id.strip():
        rows.append(f"Tax ID: {line(party.tax_id)}")
    return [row for row in rows if row]


def _party(label: str, party: Party, styles: _Styles) -> list[Flowable]:
    return [
        Paragraph(escape(label.upper()), styles.label),
        Spacer(1, 2),
        Paragraph("<br/>".join(_party_markup(party)), styles.body),
    ]


def _heading(sender: Party, title: str, facts: Sequence[tuple[str, str]], styles: _Styles) -> Table:
    """Sender on the left; title and ``(label, value)`` facts on the right."""
    meta = "<br/>".join(
        f"{escape(label)}: <b>{escape(' '.join(_clean(value).split()))}</b>"
        for label, value in facts
    )
    right: list[Flowable] = [_p(title, styles.title), Spacer(1, 6), Paragraph(meta, styles.meta)]
    left = [Paragraph("<br/>".join(_party_markup(sender)), styles.body)]
    table = Table([[left, right]], colWidths=[CONTENT_WIDTH * 0.55, CONTENT_WIDTH * 0.45])
    table.setStyle(_plain_grid())
    return table


def _addresses(blocks: Sequence[tuple[str, Party]], styles: _Styles) -> Table:
    width = CONTENT_WIDTH / 2
    cells = [_party(label, party, styles) for label, party in blocks]
    while len(cells) < 2:
        cells.append([])
    table = Table([cells], colWidths=[width, width])
    table.setStyle(_plain_grid())
    return table


def _plain_grid() -> TableStyle:
    return TableStyle(
        [
            ("FONT", (0, 0), (-1, -1), fonts.REGULAR, 8),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("RIGHTPADDING", (0, 0), (-1, -1), 6),
            ("RIGHTPADDING", (-1, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 0),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
        ]
    )


def _notes(notes: str, styles: _Styles) -> list[Flowable]:
    """Notes go above the table of lines, so the page after the table never holds only
    notes (every page after the first starts with the table's header row)."""
    if not notes.strip():
        return []
    return [
        Paragraph("NOTES", styles.label),
        Spacer(1, 2),
        _p(notes, styles.body),
        Spacer(1, 10),
    ]


def _grid_style(rows: int, aligns: Sequence[tuple[int, str]]) -> list[tuple[Any, ...]]:
    """The look of a table's header row and its ``rows`` body rows: a grey header row,
    light rules and zebra stripes; ``aligns`` are ``(column, ALIGN)`` for the whole table.

    A summary (totals, signatures) follows the body rows in the same table and is kept on
    one page with the last body row (NOSPLIT), so it always sits under a header row on the
    last page.
    """
    commands: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, 0), fonts.BOLD, 7.5),
        ("FONT", (0, 1), (-1, -1), fonts.REGULAR, 8),
        ("BACKGROUND", (0, 0), (-1, 0), _HEAD_BG),
        ("LINEBELOW", (0, 0), (-1, 0), 0.75, _GREY),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), _LINE_PADDING / 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), _LINE_PADDING / 2),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("NOSPLIT", (0, rows), (-1, -1)),
    ]
    if rows:
        commands += [
            ("ROWBACKGROUNDS", (0, 1), (-1, rows), [colors.white, _ZEBRA]),
            ("LINEBELOW", (0, 1), (-1, rows), 0.25, _RULE),
        ]
    commands += [("ALIGN", (col, 0), (col, -1), align) for col, align in aligns]
    return commands


# -------------------------------------------------------------------------- order lines

_LINE_HEADERS = ("SKU", "Description", "Qty", "Unit price", "Discount", "Tax", "Net")
# Description takes what the other columns leave.
_LINE_WIDTHS = (64.0, 0.0, 30.0, 64.0, 66.0, 58.0, 68.0)
# The totals: labels span columns 0-4, amounts columns 5-6.
_AMOUNT_COLUMN = 5


def _line_widths() -> list[float]:
    fixed = sum(_LINE_WIDTHS)
    return [w if w else CONTENT_WIDTH - fixed for w in _LINE_WIDTHS]


def _cell(text: str, width: float, style: ParagraphStyle) -> str | Paragraph:
    """Plain text (the table's FONT and ALIGN), wrapped at word boundaries onto as many
    lines as it needs; a Paragraph only when a single word is wider than the cell. Plain
    text is several times cheaper to lay out than a Paragraph."""
    room = width - _LINE_PADDING
    lines: list[str] = []
    for part in _clean(text).splitlines() or [""]:
        plain = " ".join(part.split())  # spaces collapse, as in a Paragraph
        lines += simpleSplit(plain, fonts.REGULAR, 8, room) or [""]
    if all(fonts.text_width(line, fonts.REGULAR, 8) <= room for line in lines):
        return "\n".join(lines)
    return _p(text, style)


def _right_cell(text: str, width: float, styles: _Styles, note: str = "") -> str | Paragraph:
    """A right-aligned amount; ``note`` (a promo code, a tax rate) goes on the line beneath."""
    if not note:
        return _cell(text, width, styles.right)
    return _cell(f"{text}\n{note}", width, styles.right)


def _line_rows(lines: Sequence[DocumentLine], currency: str, styles: _Styles) -> list[list[Any]]:
    widths = _line_widths()
    rows: list[list[Any]] = []
    for line in lines:
        amounts = line.amounts
        discount: str | Paragraph = ""
        if amounts.discount or line.promo:
            discount = _right_cell(
                format_money(_minus(amounts.discount), currency), widths[4], styles, line.promo
            )
        rows.append(
            [
                _cell(line.sku, widths[0], styles.body),
                _cell(line.description, widths[1], styles.body),
                _right_cell(f"{line.quantity:,}", widths[2], styles),
                _right_cell(format_money(line.unit_price, currency), widths[3], styles),
                discount,
                _right_cell(
                    format_money(amounts.tax, currency),
                    widths[5],
                    styles,
                    format_rate(amounts.tax_rate),
                ),
                _right_cell(format_money(amounts.net, currency), widths[6], styles),
            ]
        )
    return rows


def _total_rows(
    totals: money.Totals, currency: str, extra: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """``(label, amount)``: ``extra``, subtotal, discounts, net, tax per rate, tax, total."""
    rows = list(extra)
    rows += [
        ("Subtotal", format_money(totals.subtotal, currency)),
        ("Discounts", format_money(_minus(totals.discounts), currency)),
        ("Net", format_money(totals.net, currency)),
    ]
    rows += [
        (f"Tax {format_rate(rate)} on {format_money(net, currency)}", format_money(tax, currency))
        for rate, net, tax in totals.tax_by_rate
    ]
    rows += [
        ("Tax", format_money(totals.tax, currency)),
        ("Total", format_money(totals.total, currency)),
    ]
    return rows


def _lines_table(
    lines: Sequence[DocumentLine],
    currency: str,
    styles: _Styles,
    extra: Sequence[tuple[str, str]] = (),
) -> Table:
    """The lines under a repeated header row, then the totals (with ``extra`` rows first),
    kept on the last page with the last line."""
    body = _line_rows(lines, currency, styles)
    totals = _total_rows(money.totals(line.amounts for line in lines), currency, extra)
    columns = len(_LINE_HEADERS)
    bold = ParagraphStyle(
        "total", parent=styles.right, fontName=fonts.BOLD, fontSize=10, leading=13
    )
    summary: list[list[Any]] = []
    for index, (label, amount) in enumerate(totals):
        style = bold if index == len(totals) - 1 else styles.right
        row: list[Any] = [""] * columns
        row[0] = _p(label, style)
        row[_AMOUNT_COLUMN] = _p(amount, style)
        summary.append(row)
    table = Table(
        [list(_LINE_HEADERS), *body, *summary],
        colWidths=_line_widths(),
        repeatRows=1,
        splitInRow=1,
        hAlign="LEFT",
    )
    first = len(body) + 1
    commands = _grid_style(len(body), [(col, "RIGHT") for col in range(2, columns)])
    commands += [
        ("SPAN", (0, row), (_AMOUNT_COLUMN - 1, row)) for row in range(first, first + len(totals))
    ]
    commands += [
        ("SPAN", (_AMOUNT_COLUMN, row), (-1, row)) for row in range(first, first + len(totals))
    ]
    commands += [
        ("LINEABOVE", (_AMOUNT_COLUMN - 2, first), (-1, first), 0.75, _GREY),
        ("TOPPADDING", (0, first), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, first), (-1, -1), 1.5),
        ("TOPPADDING", (0, first), (-1, first), 8),
        ("LINEABOVE", (_AMOUNT_COLUMN - 2, -1), (-1, -1), 0.75, colors.black),
        ("TOPPADDING", (0, -1), (-1, -1), 4),
    ]
    table.setStyle(TableStyle(commands))
    return table


# ---------------------------------------------------------------------------- documents


def invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice as PDF bytes (A4, numbered pages; the totals end the last page)."""
    styles = _styles()
    title = f"Invoice {invoice.number}"
    facts = [
        ("Invoice number", invoice.number),
        ("Invoice date", f"{invoice.issued:%Y-%m-%d}"),
        ("Order", invoice.order_ref),
        ("Currency", invoice.currency),
    ]
    story: list[Flowable] = [
        _heading(invoice.seller, "Invoice", facts, styles),
        Spacer(1, 14),
        _addresses([("Bill to", invoice.bill_to), ("Ship to", invoice.ship_to)], styles),
        Spacer(1, 14),
        *_notes(invoice.notes, styles),
        _lines_table(invoice.lines, invoice.currency, styles),
    ]
    return _build(
        story,
        title=title,
        author=invoice.seller.company or invoice.seller.name,
        footer=f"{title} · Order {invoice.order_ref}",
        running_head=f"{title} · Order {invoice.order_ref} · {invoice.issued:%Y-%m-%d} (continued)",
    )


def packing_slip_pdf(slip: PackingSlip) -> bytes:
    """The packing slip as PDF bytes: what is in the shipment, priced like the invoice."""
    styles = _styles()
    title = f"Packing slip {slip.shipment_ref}"
    facts = [
        ("Order", slip.order_ref),
        ("Shipment", slip.shipment_ref),
        ("Packed", f"{slip.packed:%Y-%m-%d}"),
        ("Packages", f"{slip.package_count}"),
    ]
    units = sum(line.quantity for line in slip.lines)
    extra = [("Units", f"{units:,} in {slip.package_count} package(s)")]
    story: list[Flowable] = [
        _heading(slip.seller, "Packing slip", facts, styles),
        Spacer(1, 14),
        _addresses([("Ship to", slip.ship_to)], styles),
        Spacer(1, 14),
        *_notes(slip.notes, styles),
        _lines_table(slip.lines, slip.currency, styles, extra),
    ]
    return _build(
        story,
        title=title,
        author=slip.seller.company or slip.seller.name,
        footer=f"{title} · Order {slip.order_ref}",
        running_head=f"{title} · Order {slip.order_ref} (continued)",
    )


# ----------------------------------------------------------------------------- manifest

_PACKAGE_HEADERS = ("#", "Tracking number", "Order / SSCC", "Consignee", "Weight")
# The tracking number column is as wide as the widest barcode needs at MAX_MODULE, within
# these bounds; the consignee column takes what is left.
_BARCODE_COLUMN = (160.0, 280.0)
_PACKAGE_WIDTHS = (22.0, 0.0, 92.0, 0.0, 50.0)


def _modules(value: str) -> float:
    """The width of ``value`` in Code 128 modules, quiet zones included."""
    return float(Code128(value, barWidth=1, quiet=0).width) + 2 * QUIET_MODULES


def _package_widths(packages: Sequence[ManifestPackage]) -> list[float]:
    widest = max((_modules(package.tracking_number) for package in packages), default=0.0)
    low, high = _BARCODE_COLUMN
    barcode = min(high, max(low, widest * MAX_MODULE + _LINE_PADDING))
    consignee = CONTENT_WIDTH - sum(_PACKAGE_WIDTHS) - barcode
    return [
        barcode if i == 1 else consignee if i == 3 else w for i, w in enumerate(_PACKAGE_WIDTHS)
    ]


def tracking_barcode(value: str, width: float) -> Code128:
    """A Code 128 flowable of ``value`` no wider than ``width`` points, quiet zones included.

    The narrowest bar is MAX_MODULE points wide when that fits. The manifest's column is
    wide enough for MIN_MODULE up to about 24 letters (more digits, which Code 128 packs
    two to a symbol); longer values get thinner bars, which may not scan.
    """
    bar = min(MAX_MODULE, width / _modules(value))
    return Code128(
        value,
        barWidth=bar,
        barHeight=BAR_HEIGHT,
        quiet=1,
        lquiet=QUIET_MODULES * bar,
        rquiet=QUIET_MODULES * bar,
        humanReadable=0,
    )


def _package_rows(
    packages: Sequence[ManifestPackage], widths: Sequence[float], styles: _Styles
) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for number, package in enumerate(packages, start=1):
        place = f"{package.postal_code} {package.country}".strip()
        rows.append(
            [
                f"{number}",
                [
                    tracking_barcode(package.tracking_number, widths[1] - _LINE_PADDING),
                    Spacer(1, 2),
                    _p(package.tracking_number, styles.centre),
                ],
                [_p(package.order_ref, styles.body), _p(package.sscc, styles.small)],
                [_p(package.ship_to_name, styles.body), _p(place, styles.body)],
                format_weight(package.weight_g),
            ]
        )
    return rows


def _signature_lines() -> Table:
    """Blank lines for the driver: name, signature, date and time, vehicle."""
    table = Table(
        [
            ["Received by (driver)", "", "Signature", ""],
            ["Date / time", "", "Vehicle", ""],
        ],
        colWidths=[90, 160, 72, CONTENT_WIDTH - 322 - _LINE_PADDING],
        rowHeights=[28, 28],
        hAlign="LEFT",
    )
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), fonts.REGULAR, 8),
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LINEBELOW", (1, 0), (1, -1), 0.75, colors.black),
                ("LINEBELOW", (3, 0), (3, -1), 0.75, colors.black),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("LEFTPADDING", (2, 0), (2, -1), 12),
            ]
        )
    )
    return table


def manifest_pdf(manifest: Manifest) -> bytes:
    """The carrier manifest as PDF bytes: one row per package with a Code 128 of its
    tracking number, the count and total weight, and lines for the driver to sign."""
    styles = _styles()
    closed = manifest.closed_at.astimezone(UTC)
    title = f"Manifest {manifest.number}"
    sender = manifest.ship_from.company or manifest.ship_from.name
    facts = [("Manifest", manifest.number), ("Carrier", manifest.carrier)]
    if manifest.account:
        facts.append(("Account", manifest.account))
    facts.append(("Closed", f"{closed:%Y-%m-%d %H:%M} UTC"))

    packages = manifest.packages
    widths = _package_widths(packages)
    count = len(packages)
    total_g = sum(package.weight_g for package in packages)
    noun = "package" if count == 1 else "packages"
    summary = f"<b>{count:,} {noun}</b>, total weight <b>{escape(format_weight(total_g))}</b>"
    statement = f"Received the {count:,} {noun} above from {sender} for {manifest.carrier}."
    blank = [""] * (len(_PACKAGE_HEADERS) - 1)
    table = Table(
        [
            list(_PACKAGE_HEADERS),
            *_package_rows(packages, widths, styles),
            [Paragraph(summary, styles.body), *blank],
            [_p(statement, styles.body), *blank],
            [_signature_lines(), *blank],
        ],
        colWidths=widths,
        repeatRows=1,
        hAlign="LEFT",
    )
    first = count + 1
    commands = _grid_style(count, [(0, "RIGHT"), (1, "CENTER"), (4, "RIGHT")])
    commands += [
        ("VALIGN", (0, 1), (-1, count), "MIDDLE"),
        ("SPAN", (0, first), (-1, first)),
        ("SPAN", (0, first + 1), (-1, first + 1)),
        ("SPAN", (0, first + 2), (-1, first + 2)),
        ("ALIGN", (0, first), (-1, -1), "LEFT"),
        ("TOPPADDING", (0, first), (-1, first), 10),
    ]
    table.setStyle(TableStyle(commands))
    story: list[Flowable] = [
        _heading(manifest.ship_from, "Carrier manifest", facts, styles),
        Spacer(1, 14),
        table,
    ]
    return _build(
        story,
        title=title,
        author=sender,
        footer=f"{title} · {manifest.carrier} · closed {closed:%Y-%m-%d %H:%M} UTC",
        running_head=f"{title} · {manifest.carrier} (continued)",
    )
