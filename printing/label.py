"""The 4 x 6 inch shipping label: one model, one layout, printed as ZPL II or as PDF.

``layout`` places every field once, in inches from the top left corner of the label: lines
of text, rules and the two barcodes (the tracking number in Code 128, the SSCC in GS1-128).
``to_zpl`` maps that layout to printer dots at 203 or 300 dpi, ``to_pdf`` to PDF points, so
the thermal print and the PDF show the same fields in the same places.

Nothing a carrier or a packer reads is ever cut. Each field has a place (a box) and a
preferred size: text too wide for it is set smaller, down to the field's legible minimum,
and wrapped onto as many lines as the box holds; text that still does not fit is refused
with a ``LabelError`` that names the field, its length and how much of it fits. Widths are
measured with both DejaVu Sans (the PDF's font) and the printer's font 0
(``printing.fonts``), whichever is wider, so one layout fits both outputs.

The SSCC's bars are ``SSCC_BAR_HEIGHT_IN`` tall, at least the 31.75 mm (1.25 in) the GS1
General Specifications ask of an SSCC on a logistic label, at every resolution.

ZPL text is written in Zebra code page 1252 (``^CI27``), the characters font 0 prints, and
every field reaches the printer hex-escaped with ``^FH_``: the command prefixes ``^`` and
``~``, the hex indicator ``_``, the backslash and every byte above ASCII are written as
``_XX``, so no name or address can inject a command. Each line is its own field: no
``^FB`` block, whose ``\\`` and ``\\&`` escapes would be one more layer to get wrong (a
backslash in a block needs ``^CI13`` by the ZPL guide). Under ``^CI28`` (UTF-8) a ZD621
prints a backslash as its legacy "¢" glyph, which is why the label is not UTF-8: names in
other scripts are transliterated before they get here (``app.shipping.labelcheck``), and
``validate`` refuses a character an output cannot print.

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
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from reportlab.graphics.barcode.code128 import Code128
from reportlab.pdfgen.canvas import Canvas

from printing import fonts

Output = Literal["zpl", "pdf"]
OUTPUTS: tuple[Output, ...] = ("zpl", "pdf")
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
SSCC_MIN_BAR_HEIGHT_MM = 32.0
"""GS1 General Specifications: an SSCC in GS1-128 on a logistic label has bars at least
31.75 mm (1.25 in) tall at the minimum X-dimension; the label keeps at least 32 mm."""
SSCC_BAR_HEIGHT_IN = 1.27
"""32.3 mm: 258 dots at 203 dpi (and in the PDF), 381 dots at 300 dpi."""
TRACKING_BAR_HEIGHT_IN = 0.70
MIN_TEXT_PT = 6.0
"""The smallest text the label prints: 17 dots tall at 203 dpi, still read at arm's length."""
LEADING = 1.2
"""The pitch of lines of text, as a multiple of their size."""
SIZE_STEP_PT = 0.5
MAX_WEIGHT_G = 999_949
"""The weight field prints at most "999.9 kg"; the site's own bound is far lower."""
MAX_PACKAGES = 999
ZPL_CODE_PAGE = "cp1252"
"""Zebra code page 1252 (``^CI27``): what the label's ZPL text is written in."""

_POINTS_PER_INCH = 72
_ASCENT = 0.8
"""Baseline below the top of a text line, as a fraction of the font size (PDF only)."""


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


# --- the text a label carries ---------------------------------------------------------------

_ADDRESS_TEXT = ("name", "company", "city", "region", "postal_code", "country", "phone")
_LABEL_TEXT = ("carrier", "service", "order_ref", "shipment_ref")


def text_fields(label: ShippingLabel) -> Iterator[tuple[str, str]]:
    """Every free-text field of the label as (field name, text), ``ship_to.lines[0]`` style.

    The tracking number and the SSCC are not free text: they are checked as barcode data.
    """
    for side in ("ship_from", "ship_to"):
        address: Address = getattr(label, side)
        for key in _ADDRESS_TEXT:
            yield f"{side}.{key}", getattr(address, key)
        for i, line in enumerate(address.lines):
            yield f"{side}.lines[{i}]", line
    for key in _LABEL_TEXT:
        yield key, getattr(label, key)


def map_text(label: ShippingLabel, change: Callable[[str, str], str]) -> ShippingLabel:
    """The label with every free-text field replaced by ``change(field, text)``."""

    def address(side: str) -> Address:
        old: Address = getattr(label, side)
        new = {key: change(f"{side}.{key}", getattr(old, key)) for key in _ADDRESS_TEXT}
        lines = tuple(change(f"{side}.lines[{i}]", line) for i, line in enumerate(old.lines))
        return replace(old, lines=lines, **new)

    return replace(
        label,
        ship_from=address("ship_from"),
        ship_to=address("ship_to"),
        carrier=change("carrier", label.carrier),
        service=change("service", label.service),
        order_ref=change("order_ref", label.order_ref),
        shipment_ref=change("shipment_ref", label.shipment_ref),
    )


_LINE_BREAKING = frozenset({"Cc", "Zl", "Zp"})
_INVISIBLE = frozenset({"Cf", "Cs", "Co", "Cn"})


def is_control(char: str) -> bool:
    """A control character or line separator: never part of one line of label text."""
    return unicodedata.category(char) in _LINE_BREAKING


def prints(char: str, output: Output) -> bool:
    """Whether ``output`` prints ``char`` as itself.

    ZPL: the characters of code page 1252, the ones font 0 draws. PDF: the characters
    both DejaVu Sans faces have a glyph for. Neither prints control, format (zero-width,
    direction marks, soft hyphen), private-use or unassigned characters.
    """
    category = unicodedata.category(char)
    if category in _LINE_BREAKING or category in _INVISIBLE:
        return False
    if output == "zpl":
        try:
            char.encode(ZPL_CODE_PAGE)
        except UnicodeEncodeError:
            return False
        return True
    return fonts.covers(char)


def _describe(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"{char!r} (U+{ord(char):04X}{' ' + name if name else ''})"


_WHY_NOT = {
    "zpl": "a ZPL printer's font 0 prints code page 1252 (Western European letters) only",
    "pdf": "the PDF's font, DejaVu Sans, has no glyph for it",
}


def _check_text(field: str, text: str, output: Output | None) -> None:
    for position, char in enumerate(text, start=1):
        if is_control(char):
            raise LabelError(
                f"{field}: {text!r} holds the control character {_describe(char)} at"
                f" position {position}; a label field is one line of text: remove it"
            )
        if output is not None and not prints(char, output):
            raise LabelError(
                f"{field}: {_describe(char)} at position {position} cannot be printed:"
                f" {_WHY_NOT[output]}; transliterate it"
            )


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


def text_width(text: str, bold: bool, size: float) -> float:
    """The width of ``text`` in points: the wider of the PDF's font and the printer's font 0."""
    font = fonts.BOLD if bold else fonts.REGULAR
    return max(fonts.text_width(text, font, size), fonts.font0_width(text, size))


@dataclass(frozen=True)
class _Place:
    """Where a field's text goes: a box, a preferred size, the smallest size allowed."""

    x: float
    y: float
    width: float
    height: float
    size: float
    min_size: float = MIN_TEXT_PT
    bold: bool = False

    def pitch(self, size: float) -> float:
        return size * LEADING / _POINTS_PER_INCH

    def room(self, size: float) -> int:
        """How many lines of ``size`` points the box holds."""
        return int((self.height + 1e-9) / self.pitch(size))

    def sizes(self) -> Iterator[float]:
        size = self.size
        while size >= self.min_size - 1e-9:
            yield size
            size -= SIZE_STEP_PT

    def fits(self, text: str, size: float) -> bool:
        return text_width(text, self.bold, size) <= self.width * _POINTS_PER_INCH + 1e-6

    def wrap(self, text: str, size: float) -> list[str]:
        """``text`` in lines no wider than the box: broken after spaces, ``/``, ``-`` or
        ``,`` where it can be, inside a word where it must. The spaces at the breaks are the
        only characters left out."""
        lines: list[str] = []
        start = 0
        while start < len(text):
            if self.fits(text[start:], size):
                lines.append(text[start:])
                break
            breaks = [i + 1 for i in range(start, len(text)) if text[i] in " /-," and i + 1 > start]
            end = next(
                (
                    b
                    for b in reversed(breaks)
                    if text[start:b].strip() and self.fits(text[start:b].rstrip(), size)
                ),
                None,
            )
            if end is None:  # no break point fits: as many characters as fit
                end = start + 1
                while end < len(text) and self.fits(text[start : end + 1], size):
                    end += 1
            lines.append(text[start:end].rstrip())
            start = end
            while start < len(text) and text[start] == " ":
                start += 1
        return lines or [""]

    def boxes(self, lines: list[str], size: float) -> list[TextBox]:
        return [
            TextBox(self.x, self.y + i * self.pitch(size), self.width, size, self.bold, line)
            for i, line in enumerate(lines)
        ]

    def set(self, field: str, value: str, prefix: str = "") -> list[TextBox]:
        """``prefix`` and the field's value at the largest size at which they fit the box,
        wrapped if need be."""
        text = prefix + value
        for size in self.sizes():
            lines = [text] if self.fits(text, size) else self.wrap(text, size)
            if len(lines) <= self.room(size):
                return self.boxes(lines, size)
        lines_at_min = self.room(self.min_size)
        low, high = 0, len(value)
        while low < high:  # the longest beginning of the value that would fit
            mid = (low + high + 1) // 2
            if len(self.wrap(prefix + value[:mid], self.min_size)) <= lines_at_min:
                low = mid
            else:
                high = mid - 1
        raise LabelError(
            f"{field}: {value!r} has {len(value)} characters; its place on the label holds"
            f" {lines_at_min} line(s) of {self.min_size:g} pt at the smallest, room for the"
            f" first {low} of them: shorten it to at most {low} characters"
        )

    def set_block(self, what: str, variants: list[list[tuple[str, str]]]) -> list[TextBox]:
        """Several fields, one per line (wrapped if need be), at the largest size at which
        one of the ``variants`` (the same text, differently joined) fits the box."""
        for size in self.sizes():
            for fields in variants:
                lines = [
                    line
                    for _, text in fields
                    for line in ([text] if self.fits(text, size) else self.wrap(text, size))
                ]
                if len(lines) <= self.room(size):
                    return self.boxes(lines, size)
        fields = variants[-1]
        needed = sum(len(self.wrap(text, self.min_size)) for _, text in fields)
        longest, text = max(fields, key=lambda field: text_width(field[1], False, 1))
        raise LabelError(
            f"{what}: the address needs {needed} lines of {self.min_size:g} pt, its place on"
            f" the label holds {self.room(self.min_size)}: shorten it, starting with the"
            f" longest part, {longest} ({len(text)} characters)"
        )


_LEFT = MARGIN_IN
_FULL = PRINTABLE_WIDTH_IN
_RIGHT_COL = 2.0
_RIGHT_W = LABEL_SIZE_IN[0] - MARGIN_IN - _RIGHT_COL

# Top to bottom, inches. FROM block.
_FROM_CAPTION = TextBox(_LEFT, 0.10, 0.42, 7, True, "FROM")
_FROM = _Place(0.55, 0.10, 3.35, 0.70, size=7)
# Carrier (large) with the service beside it; weight and package count.
_CARRIER = _Place(_LEFT, 0.84, 2.3, 0.37, size=22, min_size=12, bold=True)
_SERVICE = _Place(2.5, 0.84, 1.4, 0.37, size=12)
_WEIGHT = _Place(_LEFT, 1.23, 1.8, 0.24, size=14, min_size=10, bold=True)
_PACKAGE = _Place(_RIGHT_COL, 1.23, _RIGHT_W, 0.24, size=14, min_size=10, bold=True)
_RULE_1 = Rule(_LEFT, 1.50, _FULL, 0.03)
# SHIP TO block: caption, name (large, bold), then the address at up to six lines of 11 pt.
_TO_CAPTION = TextBox(_LEFT, 1.56, 1.0, 8, True, "SHIP TO")
_TO_NAME = _Place(_LEFT, 1.70, _FULL, 0.30, size=16, min_size=8, bold=True)
_TO = _Place(_LEFT, 2.02, _FULL, 1.11, size=11, min_size=8)
_RULE_2 = Rule(_LEFT, 3.15, _FULL, 0.03)
# References, then the two barcodes with their human-readable lines.
_ORDER = _Place(_LEFT, 3.20, 2.45, 0.26, size=10)
_SHIPMENT = _Place(2.6, 3.20, LABEL_SIZE_IN[0] - MARGIN_IN - 2.6, 0.26, size=10)
_TRACKING_BARS = (_LEFT, 3.51, _FULL, TRACKING_BAR_HEIGHT_IN)
_TRACKING_TEXT = _Place(_LEFT, 4.24, _FULL, 0.15, size=9)
_SSCC_BARS = (_LEFT, 4.42, _FULL, SSCC_BAR_HEIGHT_IN)
_SSCC_TEXT = _Place(_LEFT, 5.73, _FULL, 0.17, size=10)


def _address_lines(address: Address, side: str, *, with_name: bool) -> list[list[tuple[str, str]]]:
    """An address's non-empty lines as (field, text): as given, then with the street lines
    joined into one (for an address with more street lines than room)."""
    head = [(f"{side}.name", address.name)] if with_name else []
    head += [(f"{side}.company", address.company)]
    place = " ".join(part for part in (address.city, address.region, address.postal_code) if part)
    tail = [(f"{side}.city", place), (f"{side}.country", address.country)]
    if not with_name and address.phone:
        tail.append((f"{side}.phone", f"PHONE {address.phone}"))
    head = [(field, text) for field, text in head if text]
    tail = [(field, text) for field, text in tail if text]
    streets = [(f"{side}.lines[{i}]", line) for i, line in enumerate(address.lines) if line]
    variants = [head + streets + tail]
    if len(streets) > 1:
        joined = ", ".join(text for _, text in streets)
        variants.append(head + [(f"{side}.lines", joined)] + tail)
    return variants


def format_weight(weight_g: int) -> str:
    """Grams as kilograms with one decimal, rounded half up: 2450 -> "2.5 kg"."""
    kg = (Decimal(weight_g) / 1000).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{kg} kg"


def layout(label: ShippingLabel) -> tuple[Element, ...]:
    """Every element of the label, in inches from the top left corner, top to bottom.

    Raises LabelError naming the first field that does not fit its place.
    """
    tracking = Barcode(*_TRACKING_BARS, data=label.tracking_number)
    sscc = Barcode(*_SSCC_BARS, data=f"{FNC1}00{label.sscc}")
    return (
        _FROM_CAPTION,
        *_FROM.set_block("ship_from", _address_lines(label.ship_from, "ship_from", with_name=True)),
        *_CARRIER.set("carrier", label.carrier),
        *_SERVICE.set("service", label.service),
        *_WEIGHT.set("weight_g", format_weight(label.weight_g)),
        *_PACKAGE.set("package_count", f"{label.package_number} OF {label.package_count}", "PKG "),
        _RULE_1,
        _TO_CAPTION,
        *_TO_NAME.set("ship_to.name", label.ship_to.name),
        *_TO.set_block("ship_to", _address_lines(label.ship_to, "ship_to", with_name=False)),
        _RULE_2,
        *_ORDER.set("order_ref", label.order_ref, "ORDER "),
        *_SHIPMENT.set("shipment_ref", label.shipment_ref, "SHIPMENT "),
        tracking,
        *_TRACKING_TEXT.set("tracking_number", label.tracking_number, "TRACKING "),
        sscc,
        *_SSCC_TEXT.set("sscc", label.sscc, "(00) "),
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


def _check_fields(label: ShippingLabel, output: Output | None) -> None:
    if not label.ship_to.name.strip():
        raise LabelError("ship_to.name: empty; the carrier needs a recipient name")
    if not 0 <= label.weight_g <= MAX_WEIGHT_G:
        raise LabelError(
            f"weight_g: {label.weight_g:,} g is outside 0 to {MAX_WEIGHT_G:,} g, what a label"
            " can show; weigh the package again"
        )
    if not 1 <= label.package_number <= label.package_count <= MAX_PACKAGES:
        raise LabelError(
            f"package_number: package {label.package_number} of {label.package_count};"
            f" need 1 <= package_number <= package_count <= {MAX_PACKAGES}"
        )
    _check_tracking(label.tracking_number)
    _check_sscc(label.sscc)
    for field, text in text_fields(label):
        _check_text(field, text, output)


def validate(label: ShippingLabel, output: Output | None = None) -> None:
    """Raise LabelError naming the first field that cannot be printed as given (by
    ``output``, when given: each prints its own set of characters)."""
    _check_fields(label, output)
    layout(label)


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

_ZPL_PLAIN = frozenset(range(0x20, 0x7F)) - set(b"^~_\\")


def zpl_escape(text: str) -> str:
    """Field data for ``^FH_`` under ``^CI27``: the text in code page 1252, every byte but
    printable ASCII (and ``^ ~ _ \\``) written as ``_XX``."""
    try:
        data = text.encode(ZPL_CODE_PAGE)
    except UnicodeEncodeError as exc:
        char = text[exc.start]
        raise LabelError(
            f"text: {_describe(char)} cannot be printed: {_WHY_NOT['zpl']}; transliterate it"
        ) from None
    return "".join(chr(byte) if byte in _ZPL_PLAIN else f"_{byte:02X}" for byte in data)


def _zpl_element(element: Element, dpi: int) -> str:
    if isinstance(element, TextBox):
        height = _dots(element.size / _POINTS_PER_INCH, dpi)
        return (
            f"^FO{_dots(element.x, dpi)},{_dots(element.y, dpi)}"
            f"^A0N,{height},{height}"
            f"^FH_^FD{zpl_escape(element.text)}^FS"
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
    _check_fields(label, "zpl")
    width, height = (_dots(size, dpi) for size in LABEL_SIZE_IN)
    lines = ["^XA", "^CI27", f"^PW{width}", f"^LL{height}", "^LH0,0"]
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
        canvas.drawString(element.x * pt, baseline, element.text)
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
    _check_fields(label, "pdf")
    elements = layout(label)
    fonts.register()
    page_width, page_height = (size * _POINTS_PER_INCH for size in LABEL_SIZE_IN)
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(page_width, page_height), invariant=True)
    canvas.setTitle(f"Shipping label {label.shipment_ref}")
    canvas.setCreator("Shipfloor")
    canvas.setFillColorRGB(0, 0, 0)
    for element in elements:
        _pdf_element(canvas, element, page_height)
    canvas.showPage()
    canvas.save()
    return out.getvalue()
