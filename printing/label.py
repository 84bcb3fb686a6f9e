"""The 4 x 6 inch shipping label: one model, one layout, printed as ZPL II or as PDF.

``layout`` places every field once, in inches from the top left corner of the label: text
boxes, rules and the two barcodes (the tracking number in Code 128, the SSCC in GS1-128).
``to_zpl`` maps that layout to printer dots at 203 or 300 dpi, ``to_pdf`` to PDF points, so
the thermal print and the PDF show the same fields in the same places.

Text never runs into the next field: every text box is cut with a visible "…" to its width
(DejaVu Sans metrics, ``printing.fonts``), and the ZPL also clips each field on the printer
with a one-line ``^FB`` block. Field text reaches the printer hex-escaped (``^FH``): the
command prefixes ``^`` and ``~``, the hex indicator ``_``, the backslash ``^FB`` reads,
control characters and every byte of non-ASCII UTF-8 are written as ``_XX``, so no name or
address can inject a command.

Both barcodes are encoded once, by reportlab's Code 128 encoder (which packs digit runs in
subset C); the ZPL field data spells out that exact symbol sequence with ZPL's invocation
codes (``>:`` start B, ``>;`` start C, ``>5``/``>6`` switch to C/B, ``>8`` FNC1), so the
printer draws the same bars as the PDF. The SSCC therefore prints as ``>;>800<sscc>``:
start C, FNC1, AI 00 and the 18 digits in digit pairs, the form the ZPL II guide documents
for UCC/EAN-128 on every firmware (mode D needs x.11 firmware and computes check digits by
itself).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from reportlab.graphics.barcode.code128 import Code128
from reportlab.pdfgen.canvas import Canvas

from printing import fonts

LABEL_SIZE_IN = (4, 6)
MARGIN_IN = 0.1
PRINTABLE_WIDTH_IN = LABEL_SIZE_IN[0] - 2 * MARGIN_IN
DPIS = (203, 300)
PDF_DPI = 203
"""The PDF draws barcodes with the module widths of a 203 dpi print."""
MIN_MODULE_DOTS = 2
QUIET_ZONE_MODULES = 10
"""Blank modules left and right of each barcode, kept inside the printable width."""
FNC1 = "\xf1"
"""reportlab's Code 128 encoder reads this character as FNC1."""
TRACKING_MAX_LEN = 40

_POINTS_PER_INCH = 72
_ASCENT = 0.8
"""Baseline below the top of a text box, as a fraction of the font size (PDF only)."""


class LabelError(ValueError):
    """A label that cannot be printed; the message names the field and says why."""


@dataclass(frozen=True)
class Address:
    name: str
    company: str = ""
    lines: tuple[str, ...] = ()
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""
    phone: str = ""


@dataclass(frozen=True)
class ShippingLabel:
    ship_from: Address
    ship_to: Address
    carrier: str
    service: str
    weight_g: int
    package_number: int
    package_count: int
    order_ref: str
    shipment_ref: str
    tracking_number: str
    sscc: str


# --- layout ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextBox:
    """One line of text; ``y`` is the top of the line. Inches; the size in points."""

    x: float
    y: float
    width: float
    size: float
    bold: bool
    text: str

    @property
    def font(self) -> str:
        return fonts.BOLD if self.bold else fonts.REGULAR

    def shown(self) -> str:
        """The text as printed: cut with "…" when it does not fit the box."""
        return fonts.fit(self.text, self.font, self.size, self.width * _POINTS_PER_INCH)


@dataclass(frozen=True)
class Rule:
    """A horizontal line; ``y`` is its top edge. Inches."""

    x: float
    y: float
    width: float
    thickness: float


@dataclass(frozen=True)
class Barcode:
    """A Code 128 symbol centred in a box ``width`` wide; ``y`` is the top of the bars.

    ``data`` is the encoder's input: printable ASCII, with ``FNC1`` for FNC1.
    """

    x: float
    y: float
    width: float
    height: float
    data: str


Element = TextBox | Rule | Barcode


@dataclass(frozen=True)
class _Block:
    """Lines of one size at a fixed pitch, ``slots`` of them at most."""

    x: float
    y: float
    width: float
    size: float
    pitch: float
    slots: int

    def boxes(self, lines: list[str]) -> list[TextBox]:
        return [
            TextBox(self.x, self.y + i * self.pitch, self.width, self.size, False, line)
            for i, line in enumerate(lines[: self.slots])
        ]


_LEFT = MARGIN_IN
_FULL = PRINTABLE_WIDTH_IN
_RIGHT_COL = 2.0
_RIGHT_W = LABEL_SIZE_IN[0] - MARGIN_IN - _RIGHT_COL

# Top to bottom, inches. FROM block.
_FROM_CAPTION = TextBox(_LEFT, 0.10, 0.42, 7, True, "FROM")
_FROM = _Block(x=0.55, y=0.10, width=3.35, size=7, pitch=0.12, slots=6)
# Carrier (large) and service on one baseline; weight and package count.
_CARRIER = (_LEFT, 0.86, 2.3, 22.0)
_SERVICE = (2.5, 0.97, 1.4, 12.0)
_WEIGHT = (_LEFT, 1.24, 1.8, 14.0)
_PACKAGE = (_RIGHT_COL, 1.24, _RIGHT_W, 14.0)
_RULE_1 = Rule(_LEFT, 1.52, _FULL, 0.03)
# SHIP TO block: caption, name (large, bold), six lines.
_TO_CAPTION = TextBox(_LEFT, 1.60, 1.0, 8, True, "SHIP TO")
_TO_NAME = (_LEFT, 1.76, _FULL, 16.0)
_TO = _Block(x=_LEFT, y=2.05, width=_FULL, size=11, pitch=0.185, slots=6)
_RULE_2 = Rule(_LEFT, 3.21, _FULL, 0.03)
# References, then the two barcodes with their human-readable lines.
_ORDER = (_LEFT, 3.29, 1.85, 10.0)
_SHIPMENT = (_RIGHT_COL, 3.29, _RIGHT_W, 10.0)
_TRACKING_BARS = (_LEFT, 3.50, _FULL, 0.80)
_TRACKING_TEXT = (_LEFT, 4.34, _FULL, 9.0)
_SSCC_BARS = (_LEFT, 4.56, _FULL, 1.00)
_SSCC_TEXT = (_LEFT, 5.61, _FULL, 10.0)


def _box(spot: tuple[float, float, float, float], text: str, *, bold: bool = False) -> TextBox:
    x, y, width, size = spot
    return TextBox(x, y, width, size, bold, text)


def _address_lines(address: Address, slots: int, *, with_name: bool) -> list[str]:
    """The non-empty lines of an address; street lines are joined when there are too many."""
    head = [address.name] if with_name else []
    head += [address.company]
    place = " ".join(part for part in (address.city, address.region, address.postal_code) if part)
    tail = [place, address.country]
    if not with_name:
        tail.append(f"PHONE {address.phone}" if address.phone else "")
    head = [line for line in head if line]
    tail = [line for line in tail if line]
    streets = [line for line in address.lines if line]
    room = max(1, slots - len(head) - len(tail))
    if len(streets) > room:
        streets = streets[: room - 1] + [", ".join(streets[room - 1 :])]
    return head + streets + tail


def format_weight(weight_g: int) -> str:
    """Grams as kilograms with one decimal, rounded half up: 2450 -> "2.5 kg"."""
    kg = (Decimal(weight_g) / 1000).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{kg} kg"


def layout(label: ShippingLabel) -> tuple[Element, ...]:
    """Every element of the label, in inches from the top left corner, top to bottom."""
    tracking = Barcode(*_TRACKING_BARS, data=label.tracking_number)
    sscc = Barcode(*_SSCC_BARS, data=f"{FNC1}00{label.sscc}")
    return (
        _FROM_CAPTION,
        *_FROM.boxes(_address_lines(label.ship_from, _FROM.slots, with_name=True)),
        _box(_CARRIER, label.carrier, bold=True),
        _box(_SERVICE, label.service),
        _box(_WEIGHT, format_weight(label.weight_g), bold=True),
        _box(_PACKAGE, f"PKG {label.package_number} OF {label.package_count}", bold=True),
        _RULE_1,
        _TO_CAPTION,
        _box(_TO_NAME, label.ship_to.name, bold=True),
        *_TO.boxes(_address_lines(label.ship_to, _TO.slots, with_name=False)),
        _RULE_2,
        _box(_ORDER, f"ORDER {label.order_ref}"),
        _box(_SHIPMENT, f"SHIPMENT {label.shipment_ref}"),
        tracking,
        _box(_TRACKING_TEXT, f"TRACKING {label.tracking_number}"),
        sscc,
        _box(_SSCC_TEXT, f"(00) {label.sscc}"),
    )


# --- validation -----------------------------------------------------------------------------


def sscc_check_digit(body17: str) -> int:
    """The GS1 mod 10 check digit of an SSCC's first 17 digits (weights 3, 1 from the right)."""
    if len(body17) != 17 or not (body17.isascii() and body17.isdigit()):
        raise LabelError(f"sscc: {body17!r} is not the 17 digits before the check digit")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body17)))
    return (10 - total % 10) % 10


def _check_tracking(tracking: str) -> None:
    if not 1 <= len(tracking) <= TRACKING_MAX_LEN:
        raise LabelError(
            f"tracking_number: {len(tracking)} characters; it must have 1 to {TRACKING_MAX_LEN}"
        )
    for position, char in enumerate(tracking, start=1):
        if char in "^~":
            raise LabelError(
                f"tracking_number: {char!r} at position {position} is a ZPL command prefix"
            )
        if not " " <= char <= "~":
            raise LabelError(
                f"tracking_number: {char!r} (U+{ord(char):04X}) at position {position} is not"
                " printable ASCII"
            )
    modules = _code128(tracking).modules
    needed = (modules + 2 * QUIET_ZONE_MODULES) * MIN_MODULE_DOTS
    available = _dots(PRINTABLE_WIDTH_IN, PDF_DPI)
    if needed > available:
        raise LabelError(
            f"tracking_number: {tracking!r} encodes to {modules} Code 128 modules; with quiet"
            f" zones at {MIN_MODULE_DOTS} dots a module it needs {needed / PDF_DPI:.2f} in at"
            f" {PDF_DPI} dpi, more than the {PRINTABLE_WIDTH_IN:.1f} in printable width"
        )


def _check_sscc(sscc: str) -> None:
    if len(sscc) != 18 or not (sscc.isascii() and sscc.isdigit()):
        raise LabelError(f"sscc: {sscc!r} is not 18 digits ({len(sscc)} characters)")
    expected = sscc_check_digit(sscc[:17])
    if int(sscc[17]) != expected:
        raise LabelError(
            f"sscc: {sscc!r} has check digit {sscc[17]}, expected {expected} (GS1 mod 10)"
        )


def validate(label: ShippingLabel) -> None:
    """Raise LabelError naming the first field that cannot be printed as given."""
    if not label.ship_to.name.strip():
        raise LabelError("ship_to.name: empty; the carrier needs a recipient name")
    if label.weight_g < 0:
        raise LabelError(f"weight_g: {label.weight_g} is negative")
    if not 1 <= label.package_number <= label.package_count:
        raise LabelError(
            f"package_number: package {label.package_number} of {label.package_count};"
            " need 1 <= package_number <= package_count"
        )
    _check_tracking(label.tracking_number)
    _check_sscc(label.sscc)


# --- barcodes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Symbol:
    """A Code 128 symbol: its symbol values (start … check, stop) and width in modules."""

    values: tuple[int, ...]

    @property
    def modules(self) -> int:
        return 11 * len(self.values) + 2  # every symbol 11 modules, the stop 13


def _code128(data: str) -> _Symbol:
    encoder = Code128(data, quiet=0)
    encoder.validate()
    return _Symbol(tuple(int(v) for v in encoder.encode()))


_STARTS = {103: ("A", ">9"), 104: ("B", ">:"), 105: ("C", ">;")}
_SWITCHES = {99: ("C", ">5"), 100: ("B", ">6"), 101: ("A", ">7")}
_FNC1_VALUE = 102


def _zpl_code128_data(symbol: _Symbol) -> str:
    """ZPL ``^BC`` field data (mode N) for exactly this symbol sequence."""
    subset, text = _STARTS[symbol.values[0]]
    out = [text]
    for value in symbol.values[1:-2]:  # the printer adds the check symbol and the stop
        if value == _FNC1_VALUE:
            out.append(">8")
        elif subset == "C" and value < 100:
            out.append(f"{value:02d}")
        elif (subset == "A" and value < 64) or (subset == "B" and value < 95):
            char = chr(value + 32)
            if char in "^~":
                raise LabelError(f"barcode: {char!r} cannot be written in ZPL field data")
            out.append("><" if char == ">" else char)
        elif value in _SWITCHES and _SWITCHES[value][0] != subset:
            subset, text = _SWITCHES[value]
            out.append(text)
        else:
            raise LabelError(f"barcode: Code 128 value {value} in subset {subset} is not supported")
    return "".join(out)


@dataclass(frozen=True)
class _Placed:
    """A barcode in whole dots at one dpi."""

    x: int
    y: int
    module: int
    height: int
    symbol: _Symbol


def _dots(inches: float, dpi: int) -> int:
    return round(inches * dpi)


def _place(barcode: Barcode, dpi: int) -> _Placed:
    symbol = _code128(barcode.data)
    box = _dots(barcode.width, dpi)
    module = box // (symbol.modules + 2 * QUIET_ZONE_MODULES)
    if module < MIN_MODULE_DOTS:
        raise LabelError(
            f"barcode: {symbol.modules} modules do not fit {barcode.width} in at {dpi} dpi"
        )
    width = symbol.modules * module
    x = _dots(barcode.x, dpi) + (box - width) // 2
    return _Placed(x, _dots(barcode.y, dpi), module, _dots(barcode.height, dpi), symbol)


# --- ZPL ------------------------------------------------------------------------------------

_ZPL_PLAIN = frozenset(chr(c) for c in range(0x20, 0x7F)) - set("^~_\\")


def zpl_escape(text: str) -> str:
    """Field data for ``^FH_``: only printable ASCII stays, everything else is ``_XX``."""
    return "".join(
        char if char in _ZPL_PLAIN else "".join(f"_{b:02X}" for b in char.encode("utf-8"))
        for char in text
    )


def _zpl_element(element: Element, dpi: int) -> str:
    if isinstance(element, TextBox):
        height = _dots(element.size / _POINTS_PER_INCH, dpi)
        return (
            f"^FO{_dots(element.x, dpi)},{_dots(element.y, dpi)}"
            f"^A0N,{height},{height}"
            f"^FB{_dots(element.width, dpi)},1,0,L,0"
            f"^FH_^FD{zpl_escape(element.shown())}^FS"
        )
    if isinstance(element, Rule):
        thickness = max(1, _dots(element.thickness, dpi))
        return (
            f"^FO{_dots(element.x, dpi)},{_dots(element.y, dpi)}"
            f"^GB{_dots(element.width, dpi)},{thickness},{thickness}^FS"
        )
    placed = _place(element, dpi)
    return (
        f"^FO{placed.x},{placed.y}^BY{placed.module}"
        f"^BCN,{placed.height},N,N,N^FD{_zpl_code128_data(placed.symbol)}^FS"
    )


def to_zpl(label: ShippingLabel, dpi: int = 203) -> bytes:
    """The label as one ZPL II format for a 4 x 6 inch label at 203 or 300 dpi."""
    if dpi not in DPIS:
        raise LabelError(f"dpi: {dpi} is not supported; use 203 or 300")
    validate(label)
    width, height = (_dots(size, dpi) for size in LABEL_SIZE_IN)
    lines = ["^XA", "^CI28", f"^PW{width}", f"^LL{height}", "^LH0,0"]
    lines += [_zpl_element(element, dpi) for element in layout(label)]
    lines.append("^XZ")
    return ("\n".join(lines) + "\n").encode("ascii")


# --- PDF ------------------------------------------------------------------------------------

BAR_REDUCTION_DOTS = 0.05
"""Each PDF bar is this much narrower on each side than its whole dots.

The bars' edges would otherwise land exactly on the pixel grid of a 203 dpi rasterizer
(printer driver, viewer), where the rounding in the coordinates decides whether the pixel
beside the edge turns black: bars grew by a dot here and there and a long symbol with
2-dot modules stopped scanning. A twentieth of a dot keeps every edge inside its pixel.
"""


class _Bars(Code128):  # type: ignore[misc]  # reportlab has no type hints
    """reportlab's Code 128 with every bar narrowed by ``reduction`` points on each side."""

    reduction = 0.0

    def rect(self, x: float, y: float, w: float, h: float) -> None:
        r = self.reduction
        self.canv.rect(x + r, y, w - 2 * r, h, stroke=0, fill=1)


def _pdf_element(canvas: Canvas, element: Element, page_height: float) -> None:
    pt = _POINTS_PER_INCH
    if isinstance(element, TextBox):
        canvas.setFont(element.font, element.size)
        baseline = page_height - element.y * pt - _ASCENT * element.size
        canvas.drawString(element.x * pt, baseline, element.shown())
    elif isinstance(element, Rule):
        top = page_height - element.y * pt
        thickness = element.thickness * pt
        canvas.rect(element.x * pt, top - thickness, element.width * pt, thickness, 0, 1)
    else:
        placed = _place(element, PDF_DPI)
        dot = pt / PDF_DPI
        bars = _Bars(
            element.data,
            barWidth=placed.module * dot,
            barHeight=placed.height * dot,
            quiet=0,
            humanReadable=0,
            reduction=BAR_REDUCTION_DOTS * dot,
        )
        bars.drawOn(canvas, placed.x * dot, page_height - (placed.y + placed.height) * dot)


def to_pdf(label: ShippingLabel) -> bytes:
    """The label as a one-page 4 x 6 inch PDF, DejaVu Sans embedded, barcodes as vectors."""
    validate(label)
    fonts.register()
    page_width, page_height = (size * _POINTS_PER_INCH for size in LABEL_SIZE_IN)
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(page_width, page_height), invariant=True)
    canvas.setTitle(f"Shipping label {label.shipment_ref}")
    canvas.setCreator("Shipfloor")
    canvas.setFillColorRGB(0, 0, 0)
    for element in layout(label):
        _pdf_element(canvas, element, page_height)
    canvas.showPage()
    canvas.save()
    return out.getvalue()
