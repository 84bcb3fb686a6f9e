"""The shipping label: validation, fitting every field to its place, ZPL and PDF.

The PDF is rendered with pdfium and its barcodes decoded with zxing-cpp; its text is read
back with pypdf. The ZPL is rendered with zplkit, a local ZPL renderer built from a ZD621's
print-outs, and its barcodes decoded the same way; its text is read back by
``tests.printing.zpl.interpret``, an interpreter of the ZPL subset the label uses, and
compared pixel for pixel with the simplest ZPL that prints the same text.
"""

from __future__ import annotations

import dataclasses
import io
import re
import string
from pathlib import Path

import pypdf
import pypdfium2 as pdfium
import pytest
import zxingcpp
from biip.sscc import Sscc
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from reportlab.graphics.barcode.code128 import Code128

from printing import fonts
from printing.label import (
    FNC1,
    LABEL_SIZE_IN,
    MARGIN_IN,
    MIN_TEXT_PT,
    OUTPUTS,
    SSCC_MIN_BAR_HEIGHT_MM,
    Address,
    Barcode,
    LabelError,
    Rule,
    ShippingLabel,
    TextBox,
    format_weight,
    layout,
    map_text,
    prints,
    sscc_check_digit,
    text_fields,
    text_width,
    to_pdf,
    to_zpl,
    validate,
    zpl_escape,
)
from tests.printing.zpl import Field, Profile, ink_box, interpret, render

GOLDEN = Path(__file__).with_name("golden")
SSCC = "376123450000012347"
TRACKING = "1Z999AA10123456784"
LONG_NAME = "Maximiliana Wolkenstein-Trostburg von Hohenzollern-Sigmaringen und Liechtenstein-Vaduz"
MM_PER_INCH = 25.4


def sample(**changes: object) -> ShippingLabel:
    """A label in Western European letters: what a ZPL printer's font 0 prints."""
    label = ShippingLabel(
        ship_from=Address(
            name="Zoë Ødegård",
            company="Ñandú Logistics GmbH",
            lines=("Hafenstraße 12",),
            city="Hamburg",
            postal_code="20457",
            country="DE",
        ),
        ship_to=Address(
            name="Jürgen Groß",
            company="c/o Søren Ærø",
            lines=("Rue de l'Église 5", "3e étage"),
            city="Liège",
            region="Wallonie",
            postal_code="4000",
            country="BE",
            phone="+32 4 123 45 67",
        ),
        carrier="GROUND",
        service="standard",
        weight_g=2500,
        package_number=2,
        package_count=3,
        order_ref="web/W-1001",
        shipment_ref="S-17",
        tracking_number=TRACKING,
        sscc=SSCC,
    )
    return dataclasses.replace(label, **changes)  # type: ignore[arg-type]


def world_sample() -> ShippingLabel:
    """Names in Polish and Greek: the PDF prints them, the ZPL printer's font does not."""
    return sample(
        ship_from=dataclasses.replace(sample().ship_from, name="Zoë Łukasiewicz"),
        ship_to=dataclasses.replace(
            sample().ship_to,
            name="Σοφία Παπαδοπούλου",
            lines=("Odos Ermou 5", "3rd floor"),
            city="Athína",
            region="Attiki",
            postal_code="105 63",
            country="GR",
        ),
    )


def long_sample() -> ShippingLabel:
    """Real-looking values too long for their places at their preferred sizes."""
    return sample(
        service="Ground Parcel Economy Saver (2-5 business days, signature on delivery)",
        order_ref="amazon/AMA-102-3456789-1234567",
        shipment_ref="S-1234567",
        tracking_number="9" * 40,
        ship_to=Address(
            name=LONG_NAME,
            company="Wolkenstein-Trostburg Logistik- und Speditionsgesellschaft mbH & Co. KG",
            lines=(
                "Unit 14, Building C, Northgate Industrial Estate, Gate 3",
                "Attn: Receiving Dock 7 (use rear entrance)",
                "Floor 3",
                "Room 4",
            ),
            city="Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch",
            region="Anglesey",
            postal_code="LL61 5UJ",
            country="GB",
            phone="+44 1248 713 177 ext. 4567",
        ),
    )


def ascii_label(label: ShippingLabel) -> ShippingLabel:
    """The label spelled in ASCII (the renderer's font 0 has no other glyphs)."""
    table = str.maketrans("ëØåÑúßüÆøÉéèô", "eOaNusuAoEeeo", "")
    return map_text(label, lambda _field, text: text.translate(table))


def squeeze(text: str) -> str:
    """Text without whitespace: a wrapped value reads the same as the value."""
    return re.sub(r"\s+", "", text)


# --- helpers: reading ZPL and PDF back --------------------------------------------------------


_STARTS = {">9": (103, "A"), ">:": (104, "B"), ">;": (105, "C")}
_CODES = {"8": (102, None), "5": (99, "C"), "6": (100, "B"), "7": (101, "A")}


def zpl_code128(data: str) -> tuple[list[int], str]:
    """What a printer encodes for ^BC mode N field data: symbol values and the text they carry."""
    first, subset = _STARTS[data[:2]]
    values, text, i = [first], "", 2
    while i < len(data):
        if data[i] == ">":
            code = data[i + 1]
            i += 2
            if code == "<":
                assert subset != "C"
                values.append(ord(">") - 32)
                text += ">"
                continue
            value, switch = _CODES[code]
            values.append(value)
            if switch is None:
                text += FNC1
            else:
                subset = switch
        elif subset == "C":
            pair = data[i : i + 2]
            assert re.fullmatch(r"\d\d", pair), data
            values.append(int(pair))
            text += pair
            i += 2
        else:
            assert data[i] not in "^~>"
            values.append(ord(data[i]) - 32)
            text += data[i]
            i += 1
    check = (values[0] + sum(n * v for n, v in enumerate(values[1:], start=1))) % 103
    return [*values, check, 106], text


def reportlab_code128(data: str) -> list[int]:
    encoder = Code128(data, quiet=0)
    encoder.validate()
    return [int(v) for v in encoder.encode()]


def pdf_text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return str(reader.pages[0].extract_text())


def pdf_barcodes(pdf: bytes, dpi: int) -> list[zxingcpp.Barcode]:
    image = pdfium.PdfDocument(pdf)[0].render(scale=dpi / 72).to_pil()
    found = zxingcpp.read_barcodes(image)
    assert all(barcode.format == zxingcpp.BarcodeFormat.Code128 for barcode in found)
    return found


def pdf_page(pdf: bytes, dpi: int) -> Image.Image:
    image: Image.Image = pdfium.PdfDocument(pdf)[0].render(scale=dpi / 72).to_pil()
    return image.convert("L")


def tallest_bars(image: Image.Image, barcode: zxingcpp.Barcode) -> int:
    """The tallest run of dark pixels in any column of a decoded barcode, in pixels."""
    xs = [point.x for point in (barcode.position.top_left, barcode.position.bottom_right)]
    pixels = image.load()
    assert pixels is not None
    tallest = 0
    for x in range(min(xs), max(xs) + 1):
        run = 0
        for y in range(image.height):
            dark = pixels[x, y] < 128  # type: ignore[operator]
            run = run + 1 if dark else 0
            tallest = max(tallest, run)
    return tallest


def text_lines(fields: list[Field]) -> list[str]:
    return [line for f in fields if f.kind == "text" for line in f.lines]


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "digit"),
    [("10614141123456789", 7), ("37612345000001234", 7), ("00000000000000000", 0)],
)
def test_sscc_check_digit_known_values(body: str, digit: int) -> None:
    assert sscc_check_digit(body) == digit


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_sscc_check_digit_agrees_with_biip(body: str) -> None:
    sscc = body + str(sscc_check_digit(body))
    assert Sscc.parse(sscc).value == sscc


def test_sscc_check_digit_needs_17_digits() -> None:
    with pytest.raises(LabelError, match="17 digits"):
        sscc_check_digit("1234")


def test_samples_are_valid() -> None:
    validate(sample(), "zpl")
    validate(sample(), "pdf")
    validate(world_sample(), "pdf")
    validate(long_sample(), "zpl")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sscc": "376123450000012345"}, r"^sscc: .*check digit 5, expected 7"),
        ({"sscc": "37612345000001234"}, r"^sscc: .*not 18 digits \(17 characters\)"),
        ({"sscc": "37612345000001234X"}, r"^sscc: .*not 18 digits"),
        ({"tracking_number": "1Z^999"}, r"^tracking_number: '\^' at position 3"),
        ({"tracking_number": "1Z~999"}, r"^tracking_number: '~' at position 3"),
        ({"tracking_number": "1Z\n999"}, r"^tracking_number: .*U\+000A.*not printable ASCII"),
        ({"tracking_number": "1Zé999"}, r"^tracking_number: .*not printable ASCII"),
        ({"tracking_number": ""}, r"^tracking_number: 0 characters"),
        ({"tracking_number": "1" * 41}, r"^tracking_number: 41 characters"),
        ({"tracking_number": "X" * 31}, r"^tracking_number: .*printable width"),
        ({"package_number": 4, "package_count": 3}, r"^package_number: package 4 of 3"),
        ({"package_number": 0, "package_count": 3}, r"^package_number: package 0 of 3"),
        ({"package_number": 1, "package_count": 1000}, r"^package_number: .*<= 999"),
        ({"weight_g": -1}, r"^weight_g: -1 g is outside 0 to 999,949 g"),
        ({"weight_g": 10**30}, r"^weight_g: 1,000,000,000,.* g is outside 0 to 999,949 g"),
        ({"ship_to": Address(name="  ")}, r"^ship_to.name: empty"),
        ({"order_ref": "W-1\x00"}, r"^order_ref: .*control character '\\x00' \(U\+0000"),
        ({"service": "next\nday"}, r"^service: .*control character '\\n' \(U\+000A"),
        ({"order_ref": "W-1" + "0" * 120}, r"^order_ref: .* has 123 characters; .* at most 4\d "),
    ],
)
def test_validate_rejects(changes: dict[str, object], message: str) -> None:
    label = sample(**changes)
    with pytest.raises(LabelError, match=message):
        validate(label)
    with pytest.raises(LabelError, match=message):
        to_zpl(label)
    with pytest.raises(LabelError, match=message):
        to_pdf(label)


def test_each_output_refuses_what_it_cannot_print() -> None:
    with pytest.raises(LabelError, match=r"^ship_from.name: 'Ł' \(U\+0141 .*code page 1252"):
        to_zpl(world_sample())
    with pytest.raises(LabelError, match=r"^ship_to.city: '🌸' .*DejaVu Sans, has no glyph"):
        to_pdf(sample(ship_to=dataclasses.replace(sample().ship_to, city="Liège 🌸")))
    assert all(prints(char, "zpl") for char in "é€ßØ…")
    assert not prints("Σ", "zpl")
    assert all(prints(char, "pdf") for char in "éΣЖ☕")
    assert not prints("🌸", "pdf")
    for output in OUTPUTS:
        assert not any(prints(c, output) for c in "\x00\t\n\u200b\u00ad\u202e")


def test_longest_printable_trackings_are_accepted() -> None:
    validate(sample(tracking_number="X" * 30))  # 30 subset B characters at 2 dots a module
    validate(sample(tracking_number="1" * 40))  # digits pack in pairs


@pytest.mark.parametrize("dpi", [0, 152, 600])
def test_to_zpl_rejects_other_resolutions(dpi: int) -> None:
    with pytest.raises(LabelError, match=f"^dpi: {dpi} is not supported"):
        to_zpl(sample(), dpi=dpi)


@pytest.mark.parametrize(
    ("grams", "shown"), [(2500, "2.5 kg"), (2450, "2.5 kg"), (2449, "2.4 kg"), (0, "0.0 kg")]
)
def test_weight_in_kilograms_with_one_decimal(grams: int, shown: str) -> None:
    assert format_weight(grams) == shown


def test_text_fields_and_map_text_cover_every_free_text_field() -> None:
    names = [name for name, _ in text_fields(sample())]
    assert {"ship_to.lines[1]", "ship_from.phone", "service"} <= set(names)
    marked = map_text(sample(), lambda name, _text: f"<{name}>")
    assert all(text == f"<{name}>" for name, text in text_fields(marked))
    assert (marked.tracking_number, marked.sscc) == (TRACKING, SSCC)


# --- layout -----------------------------------------------------------------------------------


def _extent(element: TextBox | Rule | Barcode) -> tuple[float, float, float, float]:
    """x0, y0, x1, y1 in inches; a text box is one line of 1.2 times its size."""
    if isinstance(element, TextBox):
        height = element.size * 1.2 / 72
    elif isinstance(element, Rule):
        height = element.thickness
    else:
        height = element.height
    return element.x, element.y, element.x + element.width, element.y + height


@pytest.mark.parametrize(
    "label", [sample(), world_sample(), long_sample()], ids=["sample", "world", "long"]
)
def test_layout_stays_inside_the_margins_without_overlaps(label: ShippingLabel) -> None:
    elements = layout(label)
    width, height = LABEL_SIZE_IN
    extents = [_extent(element) for element in elements]
    for x0, y0, x1, y1 in extents:
        assert x0 >= MARGIN_IN
        assert x1 <= width - MARGIN_IN + 1e-9
        assert y0 >= MARGIN_IN
        assert y1 <= height - MARGIN_IN
    for i, (ax0, ay0, ax1, ay1) in enumerate(extents):
        for bx0, by0, bx1, by1 in extents[i + 1 :]:
            overlap = (
                ax0 < bx1 - 1e-9 and bx0 < ax1 - 1e-9 and ay0 < by1 - 1e-9 and by0 < ay1 - 1e-9
            )
            assert not overlap, (elements[i], (bx0, by0, bx1, by1))
    for box in (e for e in elements if isinstance(e, TextBox)):
        assert box.size >= MIN_TEXT_PT
        assert fonts.text_width(box.text, box.font, box.size) <= box.width * 72 + 1e-6
        assert fonts.font0_width(box.text, box.size) <= box.width * 72 + 1e-6


def test_long_values_shrink_and_wrap_and_nothing_is_cut() -> None:
    label = long_sample()
    boxes = [e for e in layout(label) if isinstance(e, TextBox)]
    printed = squeeze("".join(box.text for box in boxes))
    assert "…" not in printed
    for name, text in text_fields(label):
        assert squeeze(text) in printed, name
    assert squeeze(f"TRACKING {label.tracking_number}") in printed
    by_text = {box.text: box for box in boxes}
    # the service wraps beside the carrier, the name onto a second line, smaller
    assert [b.text for b in boxes if b.x == 2.5] == [
        "Ground Parcel Economy",
        "Saver (2-5 business days,",
        "signature on delivery)",
    ]
    name_lines = [b for b in boxes if b.bold and b.y >= 1.7 and b.y < 2.0]
    assert len(name_lines) == 2
    assert all(b.size < 16 for b in name_lines)
    assert by_text[f"TRACKING {'9' * 40}"].size < 9


def test_a_field_that_cannot_fit_is_refused_with_its_length_and_limit() -> None:
    label = sample(ship_to=dataclasses.replace(sample().ship_to, name="Maximiliana " * 20))
    with pytest.raises(LabelError) as caught:
        layout(label)
    message = str(caught.value)
    assert message.startswith("ship_to.name: 'Maximiliana Maximiliana")
    limit = int(re.findall(r"at most (\d+) characters", message)[0])
    assert "has 240 characters" in message
    assert 40 < limit < 240
    layout(sample(ship_to=dataclasses.replace(sample().ship_to, name=label.ship_to.name[:limit])))
    streets = tuple(f"Street line number {i} with a long description" for i in range(20))
    with pytest.raises(LabelError, match=r"^ship_to: the address needs \d+ lines of 8 pt"):
        layout(sample(ship_to=dataclasses.replace(sample().ship_to, lines=streets)))


def test_layout_barcodes_and_their_heights() -> None:
    bars = [e for e in layout(sample()) if isinstance(e, Barcode)]
    assert [b.data for b in bars] == [TRACKING, f"{FNC1}00{SSCC}"]
    assert bars[1].height * MM_PER_INCH >= SSCC_MIN_BAR_HEIGHT_MM >= 31.75


def test_too_many_street_lines_are_joined_keeping_city_country_and_phone() -> None:
    streets = ("1 First Street", "Building 2", "Floor 3", "Room 4", "Desk 5")
    label = sample(ship_to=dataclasses.replace(sample().ship_to, lines=streets))
    boxes = [e for e in layout(label) if isinstance(e, TextBox)]
    texts = [box.text for box in boxes]
    start = texts.index("Jürgen Groß") + 1
    assert texts[start : start + 6] == [
        "c/o Søren Ærø",
        "1 First Street, Building 2, Floor 3, Room 4, Desk 5",
        "Liège Wallonie 4000",
        "BE",
        "PHONE +32 4 123 45 67",
        "ORDER web/W-1001",
    ]
    assert boxes[start].size == 11  # joined at full size rather than shrunk apart


# --- ZPL ------------------------------------------------------------------------------------


@pytest.mark.parametrize("dpi", [203, 300])
def test_zpl_matches_golden_file(dpi: int) -> None:
    golden = (GOLDEN / f"label-{dpi}.zpl").read_bytes()
    assert to_zpl(sample(), dpi=dpi) == golden


@pytest.mark.parametrize(("dpi", "width", "length"), [(203, 812, 1218), (300, 1200, 1800)])
def test_zpl_page_setup(dpi: int, width: int, length: int) -> None:
    lines = to_zpl(sample(), dpi=dpi).decode("ascii").splitlines()
    assert lines[:5] == ["^XA", "^CI27", f"^PW{width}", f"^LL{length}", "^LH0,0"]
    assert lines[-1] == "^XZ"


@pytest.mark.parametrize(("dpi", "tracking_module", "sscc_module"), [(203, 3, 4), (300, 5, 6)])
def test_zpl_barcodes_fit_and_draw_the_pdf_symbols(
    dpi: int, tracking_module: int, sscc_module: int
) -> None:
    fields = [f for f in interpret(to_zpl(sample(), dpi=dpi)) if f.kind == "code128"]
    assert [f.module for f in fields] == [tracking_module, sscc_module]
    assert [f.height for f in fields] == [round(0.70 * dpi), round(1.27 * dpi)]
    left, right = round(MARGIN_IN * dpi), round((LABEL_SIZE_IN[0] - MARGIN_IN) * dpi)
    for f, expected in zip(fields, [TRACKING, f"{FNC1}00{SSCC}"], strict=True):
        values, text = zpl_code128(f.data)
        assert text == expected
        assert values == reportlab_code128(expected)
        modules = 11 * len(values) + 2
        # the quiet zones (10 modules a side) stay inside the printable width too
        assert left <= f.x - 10 * f.module
        assert f.x + (modules + 10) * f.module <= right
        # one module wider would not fit
        assert (modules + 20) * (f.module + 1) > right - left


@pytest.mark.parametrize("dpi", [203, 300])
def test_zpl_sscc_bars_are_at_least_32_mm_tall(dpi: int) -> None:
    (sscc,) = [f for f in interpret(to_zpl(sample(), dpi=dpi)) if f.data.startswith(">;>800")]
    assert sscc.height / dpi * MM_PER_INCH >= SSCC_MIN_BAR_HEIGHT_MM
    assert b"^BCN,%d,N,N,N^FD>;>800%s^FS" % (sscc.height, SSCC.encode()) in to_zpl(sample(), dpi)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1))
def test_zpl_tracking_field_encodes_what_the_pdf_draws(tracking: str) -> None:
    label = sample(tracking_number=tracking)
    try:
        validate(label)
    except LabelError:
        return
    data = next(f.data for f in interpret(to_zpl(label)) if f.kind == "code128")
    values, text = zpl_code128(data)
    assert text == tracking
    assert values == reportlab_code128(tracking)


EVIL = r"^XA^FS~JA^XZ~JR_ \& \\ \(x) C:\dir\ _5C _&"
"""ZPL command prefixes, the ^FH indicator, ^FB's escapes, hex-escape look-alikes."""


def _evil_label() -> ShippingLabel:
    def address(base: str) -> Address:
        return Address(
            name=f"{base}{EVIL}",
            company=f"Co{EVIL}",
            lines=(f"Street{EVIL}", f"Floor{EVIL}"),
            city=f"City{EVIL}",
            region=f"Re{EVIL}",
            postal_code=f"PC{EVIL}",
            country=f"Land{EVIL}",
            phone=f"Tel{EVIL}",
        )

    return sample(
        ship_from=address("Zoë"),
        ship_to=address("Jürgen"),
        carrier="GR^~\\",
        service=f"std{EVIL}",
        order_ref=f"web/{EVIL}",
        shipment_ref="S\\^~_",
        tracking_number="TRK_>12 x\\",
    )


_ZPL_LINE = re.compile(
    r"\^XA|\^CI27|\^PW\d+|\^LL\d+|\^LH0,0|\^XZ"
    r"|\^FO\d+,\d+\^A0N,(\d+),\1\^FH_\^FD[ -\[\]_-}]*\^FS"
    r"|\^FO\d+,\d+\^GB\d+,\d+,\d+\^FS"
    r"|\^FO\d+,\d+\^BY\d+\^BCN,\d+,N,N,N\^FD[ -\]_-}]*\^FS"
)


@pytest.mark.parametrize("dpi", [203, 300])
def test_zpl_field_text_cannot_inject_commands_and_prints_exactly(dpi: int) -> None:
    label = _evil_label()
    zpl = to_zpl(label, dpi=dpi)
    assert zpl.count(b"^XA") == 1
    assert zpl.count(b"^XZ") == 1
    assert b"~" not in zpl
    for line in zpl.decode("ascii").splitlines():
        assert _ZPL_LINE.fullmatch(line), line
    boxes = [e for e in layout(label) if isinstance(e, TextBox)]
    fields = interpret(zpl)
    assert [f.lines for f in fields if f.kind == "text"] == [[box.text] for box in boxes]
    printed = squeeze("".join(text_lines(fields)))
    for name, text in text_fields(label):
        assert squeeze(text) in printed, name


def test_zpl_writes_code_page_1252_hex_escapes() -> None:
    zpl = to_zpl(sample())
    assert b"\n^CI27\n" in zpl
    assert b"^FDZo_EB _D8deg_E5rd^FS" in zpl
    assert zpl_escape("a\\b^c~d_e") == "a_5Cb_5Ec_7Ed_5Fe"
    lines = text_lines(interpret(zpl))
    for name in ("Zoë Ødegård", "Jürgen Groß", "c/o Søren Ærø", "Ñandú Logistics GmbH"):
        assert name in lines


CP1252_TEXT = st.text(
    alphabet=st.characters(
        codec="cp1252", exclude_categories=("Cc", "Cf", "Zl", "Zp"), include_characters="\\^~_"
    ),
    min_size=1,
    max_size=40,
).filter(lambda text: text.strip() == text and "  " not in text)


@settings(max_examples=200, deadline=None)
@given(CP1252_TEXT)
def test_any_text_font_0_prints_comes_back_exactly_from_the_zpl(text: str) -> None:
    label = sample(ship_to=dataclasses.replace(sample().ship_to, lines=(text,)))
    try:
        layout(label)
    except LabelError:
        return  # too long for its place: refused, not cut
    lines = text_lines(interpret(to_zpl(label)))
    start = lines.index("c/o Søren Ærø") + 1
    end = next(i for i in range(start, len(lines)) if lines[i] == "Liège Wallonie 4000")
    wrapped = lines[start:end]
    assert squeeze("".join(wrapped)) == squeeze(text)
    assert all(line in text for line in wrapped)  # only the spaces at line breaks are gone


def test_the_old_block_encoding_mangled_backslashes() -> None:
    """Why the label has no ^FB and no ^CI28: how a ZD621 read what we used to send."""
    old = b"^XA^CI28^FO0,0^A0N,30,30^FB700,1,0,L,0^FH_^FDC:_5Cdir_5C _5C_26 x^FS^XZ"
    assert interpret(old)[0].lines == ["C:dir ", " x"]
    new = b"^XA^CI27^FO0,0^A0N,30,30^FH_^FDC:_5Cdir_5C _5C_26 x^FS^XZ"
    assert interpret(new)[0].lines == ["C:\\dir\\ \\& x"]


# --- ZPL, rendered ----------------------------------------------------------------------------


def _reference(field: TextBox, dpi: int) -> bytes:
    """The simplest ZPL that prints ``field``: ASCII (^CI13, whose backslash is a backslash),
    every byte hex-escaped, no block."""
    height = round(field.size / 72 * dpi)
    data = "".join(f"_{byte:02X}" for byte in field.text.encode("ascii"))
    return (
        f"^XA^CI13^PW{round(4 * dpi)}^LL{round(6 * dpi)}^LH0,0"
        f"^FO{round(field.x * dpi)},{round(field.y * dpi)}^A0N,{height},{height}"
        f"^FH_^FD{data}^FS^XZ"
    ).encode("ascii")


def _alone(zpl: bytes, line: str) -> bytes:
    head = b"\n".join(zpl.splitlines()[:5])
    return head + b"\n" + line.encode("ascii") + b"\n^XZ\n"


@pytest.mark.parametrize("profile", ["zd621", "specification"])
@pytest.mark.parametrize("dpi", [203, 300])
def test_rendered_zpl_barcodes_decode_and_the_sscc_is_32_mm_tall(
    dpi: int, profile: Profile
) -> None:
    image = render(to_zpl(ascii_label(sample()), dpi=dpi), dpi, profile)
    found = {b.symbology_identifier: b for b in zxingcpp.read_barcodes(image)}
    assert found["]C0"].text == TRACKING
    sscc = found["]C1"]
    assert sscc.content_type == zxingcpp.ContentType.GS1
    assert sscc.bytes == f"00{SSCC}".encode()
    assert tallest_bars(image, sscc) / dpi * MM_PER_INCH >= SSCC_MIN_BAR_HEIGHT_MM


@pytest.mark.parametrize("profile", ["zd621", "specification"])
@pytest.mark.parametrize("dpi", [203, 300])
def test_rendered_zpl_text_is_the_text_given(dpi: int, profile: Profile) -> None:
    label = ascii_label(_evil_label())
    zpl = to_zpl(label, dpi=dpi)
    boxes = [e for e in layout(label) if isinstance(e, TextBox)]
    lines = [line for line in zpl.decode("ascii").splitlines() if "^A0N" in line]
    assert len(lines) == len(boxes)
    for box, line in zip(boxes, lines, strict=True):
        ours = render(_alone(zpl, line), dpi, profile)
        reference = render(_reference(box, dpi), dpi, profile)
        assert ink_box(ours) is not None, box
        assert ours.tobytes() == reference.tobytes(), box.text


def test_a_zd621_prints_a_utf8_backslash_as_a_cent_sign() -> None:
    """Why the label is not ^CI28: the same field in UTF-8 prints "C:¢dir"."""
    ours = to_zpl(sample(order_ref="C:\\dir"))
    (line,) = [x for x in ours.decode("ascii").splitlines() if "C:_5Cdir" in x]
    box = next(
        e for e in layout(sample(order_ref="C:\\dir")) if isinstance(e, TextBox) and "C:" in e.text
    )
    as_sent = render(_alone(ours, line), 203)
    assert as_sent.tobytes() == render(_reference(box, 203), 203).tobytes()
    in_utf8 = render(_alone(ours, line).replace(b"^CI27", b"^CI28"), 203)
    assert in_utf8.tobytes() != as_sent.tobytes()
    assert interpret(_alone(ours, line).replace(b"^CI27", b"^CI28"))[0].lines == ["ORDER C:¢dir"]


@pytest.mark.parametrize("dpi", [203, 300])
def test_rendered_zpl_text_stays_in_its_place(dpi: int) -> None:
    for label in (ascii_label(long_sample()), ascii_label(sample()), _wide_label()):
        zpl = to_zpl(label, dpi=dpi)
        boxes = [e for e in layout(label) if isinstance(e, TextBox)]
        lines = [line for line in zpl.decode("ascii").splitlines() if "^A0N" in line]
        for box, line in zip(boxes, lines, strict=True):
            found = ink_box(render(_alone(zpl, line), dpi))
            assert found is not None
            x0, y0, x1, y1 = found
            # a dot either way: the printer rounds the origin and the glyph height to dots
            left, top = round(box.x * dpi) - 1, round(box.y * dpi) - 1
            right = round((box.x + box.width) * dpi) + 1
            bottom = top + round(box.size * 1.2 / 72 * dpi) + 2
            assert (left, top) <= (x0, y0), box
            assert x1 <= right, box
            assert y1 <= bottom, box


def _wide_label() -> ShippingLabel:
    """Text in font 0's widest characters."""
    label = ascii_label(sample())
    return dataclasses.replace(
        label,
        service="-" * 30,
        order_ref="<" * 25,
        shipment_ref="~" * 12,
        ship_to=dataclasses.replace(label.ship_to, name="W" * 40, company="%=+@" * 12),
    )


@pytest.mark.parametrize("dpi", [203, 300])
def test_font_0_advance_widths_hold_on_the_renderer(dpi: int) -> None:
    size = 10
    height = round(size / 72 * dpi)
    for char in string.printable[:95]:
        data = "".join(f"_{b:02X}" for b in (char * 20).encode("ascii"))
        zpl = f"^XA^CI27^PW3000^LL200^FO0,0^A0N,{height},{height}^FH_^FD{data}^FS^XZ".encode()
        found = ink_box(render(zpl, dpi))
        width = found[2] if found else 0
        assert width <= fonts.font0_width(char * 20, size) / 72 * dpi, repr(char)


# --- PDF ------------------------------------------------------------------------------------


@pytest.mark.parametrize("dpi", [203, 300])
def test_pdf_barcodes_decode(dpi: int) -> None:
    found = pdf_barcodes(to_pdf(sample()), dpi)
    assert len(found) == 2
    by_id = {barcode.symbology_identifier: barcode for barcode in found}
    tracking, sscc = by_id["]C0"], by_id["]C1"]
    assert tracking.text == TRACKING
    assert sscc.content_type == zxingcpp.ContentType.GS1
    assert sscc.text in (f"00{SSCC}", f"(00){SSCC}")
    assert sscc.bytes == f"00{SSCC}".encode()
    decoded = sscc.bytes.decode()[2:]
    assert sscc_check_digit(decoded[:17]) == int(decoded[17])
    assert Sscc.parse(decoded).value == SSCC


@pytest.mark.parametrize("dpi", [300, 600])
def test_pdf_sscc_bars_are_at_least_32_mm_tall(dpi: int) -> None:
    image = pdf_page(to_pdf(sample()), dpi)
    (sscc,) = [b for b in zxingcpp.read_barcodes(image) if b.symbology_identifier == "]C1"]
    assert tallest_bars(image, sscc) / dpi * MM_PER_INCH >= SSCC_MIN_BAR_HEIGHT_MM


@pytest.mark.parametrize("dpi", [203, 300])
@pytest.mark.parametrize(
    "tracking",
    ["9400111899223100012345", "ab>_12 34 -x", "X" * 30, "1" * 40],
    ids=["usps", "punctuation", "widest-subset-b", "widest-digits"],
)
def test_pdf_tracking_decodes_exactly(tracking: str, dpi: int) -> None:
    found = pdf_barcodes(to_pdf(sample(tracking_number=tracking)), dpi)
    assert tracking in [barcode.text for barcode in found if barcode.symbology_identifier == "]C0"]


def test_pdf_page_title_and_text() -> None:
    pdf = to_pdf(world_sample())
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == (288.0, 432.0)
    assert reader.metadata is not None
    assert reader.metadata.title == "Shipping label S-17"
    text = pdf_text(pdf)
    for expected in (
        "Zoë Łukasiewicz",
        "Ñandú Logistics GmbH",
        "Hafenstraße 12",
        "Hamburg 20457",
        "Σοφία Παπαδοπούλου",
        "c/o Søren Ærø",
        "Odos Ermou 5",
        "Athína Attiki 105 63",
        "GR",
        "+32 4 123 45 67",
        "GROUND",
        "standard",
        "2.5 kg",
        "PKG 2 OF 3",
        "ORDER web/W-1001",
        "SHIPMENT S-17",
        f"TRACKING {TRACKING}",
        f"(00) {SSCC}",
    ):
        assert expected in text, expected


def test_pdf_carries_every_long_value_whole() -> None:
    label = long_sample()
    pdf = to_pdf(label)
    printed = squeeze(pdf_text(pdf))
    assert "…" not in printed
    for name, text in text_fields(label):
        assert squeeze(text) in printed, name
    assert squeeze(f"TRACKING {label.tracking_number}") in printed
    codes = {b.text for b in pdf_barcodes(pdf, 300)}
    assert label.tracking_number in codes


def test_pdf_embeds_dejavu() -> None:
    pdf = to_pdf(sample())
    assert b"DejaVuSans" in pdf
    assert b"/FontFile2" in pdf


def test_pdf_of_hostile_text_renders_with_both_barcodes() -> None:
    pdf = to_pdf(_evil_label())
    assert squeeze("^XA^FS~JA^XZ~JR_") in squeeze(pdf_text(pdf))
    assert len(pdf_barcodes(pdf, 203)) == 2


def test_text_width_is_the_wider_of_the_two_fonts() -> None:
    assert text_width("-----", False, 10) == fonts.font0_width("-----", 10)
    assert text_width("Mmmm", True, 10) == fonts.text_width("Mmmm", fonts.BOLD, 10)


# --- determinism ----------------------------------------------------------------------------


def test_rendering_is_deterministic() -> None:
    assert to_zpl(sample()) == to_zpl(sample())
    assert to_zpl(sample(), dpi=300) == to_zpl(sample(), dpi=300)
    assert to_pdf(sample()) == to_pdf(sample())
