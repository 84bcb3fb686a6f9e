"""The shipping label: validation, the shared layout, ZPL (golden files, injection) and PDF.

The PDF is rendered with pdfium and its barcodes decoded with zxing-cpp; its text is read
back with pypdf. The ZPL cannot be printed here, so its barcode field data is interpreted
(ZPL ``^BC`` mode N invocation codes) and compared with the symbols the PDF draws.
"""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path

import pypdf
import pypdfium2 as pdfium
import pytest
import zxingcpp
from biip.sscc import Sscc
from hypothesis import given, settings
from hypothesis import strategies as st
from reportlab.graphics.barcode.code128 import Code128

from printing import fonts
from printing.label import (
    FNC1,
    LABEL_SIZE_IN,
    MARGIN_IN,
    Address,
    Barcode,
    LabelError,
    Rule,
    ShippingLabel,
    TextBox,
    format_weight,
    layout,
    sscc_check_digit,
    to_pdf,
    to_zpl,
    validate,
)

GOLDEN = Path(__file__).with_name("golden")
SSCC = "376123450000012347"
TRACKING = "1Z999AA10123456784"
LONG_NAME = "Maximiliana Wolkenstein-Trostburg von Hohenzollern-Sigmaringen und Liechtenstein-Vaduz"


def sample(**changes: object) -> ShippingLabel:
    label = ShippingLabel(
        ship_from=Address(
            name="Zoë Łukasiewicz",
            company="Ñandú Logistics GmbH",
            lines=("Hafenstraße 12",),
            city="Hamburg",
            postal_code="20457",
            country="Germany",
        ),
        ship_to=Address(
            name="Σοφία Παπαδοπούλου",
            company="c/o Jürgen Groß",
            lines=("Odos Ermou 5", "3rd floor"),
            city="Athína",
            region="Attiki",
            postal_code="105 63",
            country="Greece",
            phone="+30 21 0123 4567",
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


# --- helpers: reading ZPL and PDF back --------------------------------------------------------


def field_data(zpl: bytes) -> list[bytes]:
    return re.findall(rb"\^FD([^^]*)\^FS", zpl)


def unescape(data: bytes) -> str:
    """Field data written for ``^FH_`` back to text."""
    raw = re.sub(rb"_([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), data)
    return raw.decode("utf-8")


def text_fields(zpl: bytes) -> list[str]:
    return [unescape(data) for data in re.findall(rb"\^FH_\^FD([^^]*)\^FS", zpl)]


def barcode_fields(zpl: bytes) -> list[tuple[int, int, int, int, str]]:
    """(x, y, module, height, data) of every ^BC field."""
    found = re.findall(rb"\^FO(\d+),(\d+)\^BY(\d+)\^BCN,(\d+),N,N,N\^FD([^^]*)\^FS", zpl)
    return [(int(x), int(y), int(m), int(h), d.decode("ascii")) for x, y, m, h, d in found]


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


def test_sample_is_valid() -> None:
    validate(sample())


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
        ({"weight_g": -1}, r"^weight_g: -1 is negative"),
        ({"ship_to": Address(name="  ")}, r"^ship_to.name: empty"),
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
    "label",
    [
        sample(),
        sample(
            ship_to=Address(
                name=LONG_NAME,
                company="A" * 80,
                lines=("1 First Street", "Building 2", "Floor 3", "Room 4", "Desk 5"),
                city="C" * 40,
                region="R" * 40,
                postal_code="P" * 20,
                country="Country " * 10,
                phone="+1 555 0100 " * 5,
            )
        ),
    ],
    ids=["sample", "everything-too-long"],
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
            overlap = ax0 < bx1 and bx0 < ax1 and ay0 < by1 and by0 < ay1
            assert not overlap, (elements[i], (bx0, by0, bx1, by1))
    for box in (e for e in elements if isinstance(e, TextBox)):
        assert fonts.text_width(box.shown(), box.font, box.size) <= box.width * 72


def test_layout_barcodes_and_their_heights() -> None:
    bars = [e for e in layout(sample()) if isinstance(e, Barcode)]
    assert [b.data for b in bars] == [TRACKING, f"{FNC1}00{SSCC}"]
    assert [b.height for b in bars] == [pytest.approx(0.8), pytest.approx(1.0)]


def test_too_many_street_lines_are_joined_keeping_city_country_and_phone() -> None:
    streets = ("1 First Street", "Building 2", "Floor 3", "Room 4", "Desk 5")
    label = sample(ship_to=dataclasses.replace(sample().ship_to, lines=streets))
    texts = [e.text for e in layout(label) if isinstance(e, TextBox)]
    start = texts.index("Σοφία Παπαδοπούλου") + 1
    assert texts[start : start + 6] == [
        "c/o Jürgen Groß",
        "1 First Street",
        "Building 2, Floor 3, Room 4, Desk 5",
        "Athína Attiki 105 63",
        "Greece",
        "PHONE +30 21 0123 4567",
    ]


# --- ZPL ------------------------------------------------------------------------------------


@pytest.mark.parametrize("dpi", [203, 300])
def test_zpl_matches_golden_file(dpi: int) -> None:
    golden = (GOLDEN / f"label-{dpi}.zpl").read_bytes()
    assert to_zpl(sample(), dpi=dpi) == golden


@pytest.mark.parametrize(("dpi", "width", "length"), [(203, 812, 1218), (300, 1200, 1800)])
def test_zpl_page_setup(dpi: int, width: int, length: int) -> None:
    lines = to_zpl(sample(), dpi=dpi).decode("ascii").splitlines()
    assert lines[:5] == ["^XA", "^CI28", f"^PW{width}", f"^LL{length}", "^LH0,0"]
    assert lines[-1] == "^XZ"


@pytest.mark.parametrize(("dpi", "tracking_module", "sscc_module"), [(203, 3, 4), (300, 5, 6)])
def test_zpl_barcodes_fit_and_draw_the_pdf_symbols(
    dpi: int, tracking_module: int, sscc_module: int
) -> None:
    fields = barcode_fields(to_zpl(sample(), dpi=dpi))
    assert [m for _, _, m, _, _ in fields] == [tracking_module, sscc_module]
    assert [h for _, _, _, h, _ in fields] == [round(0.8 * dpi), round(1.0 * dpi)]
    left, right = round(MARGIN_IN * dpi), round((LABEL_SIZE_IN[0] - MARGIN_IN) * dpi)
    for (x, _, module, _, data), expected in zip(
        fields, [TRACKING, f"{FNC1}00{SSCC}"], strict=True
    ):
        values, text = zpl_code128(data)
        assert text == expected
        assert values == reportlab_code128(expected)
        modules = 11 * len(values) + 2
        # the quiet zones (10 modules a side) stay inside the printable width too
        assert left <= x - 10 * module
        assert x + (modules + 10) * module <= right
        # one module wider would not fit
        assert (modules + 20) * (module + 1) > right - left


def test_zpl_sscc_is_start_c_fnc1_ai_00() -> None:
    assert b"^BCN,203,N,N,N^FD>;>800" + SSCC.encode() + b"^FS" in to_zpl(sample())


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1))
def test_zpl_tracking_field_encodes_what_the_pdf_draws(tracking: str) -> None:
    label = sample(tracking_number=tracking)
    try:
        validate(label)
    except LabelError:
        return
    (_, _, _, _, data), _ = barcode_fields(to_zpl(label))
    values, text = zpl_code128(data)
    assert text == tracking
    assert values == reportlab_code128(tracking)


EVIL = "^XA^FS~JA^XZ~JR_\n\t"


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
        carrier=f"GR{EVIL}",
        service=f"std{EVIL}",
        order_ref=f"web/{EVIL}",
        shipment_ref=f"S{EVIL}",
        tracking_number="TRK_>12 x",
    )


_ZPL_LINE = re.compile(
    r"\^XA|\^CI28|\^PW\d+|\^LL\d+|\^LH0,0|\^XZ"
    r"|\^FO\d+,\d+\^A0N,\d+,\d+\^FB\d+,1,0,L,0\^FH_\^FD[ -\]_-}]*\^FS"
    r"|\^FO\d+,\d+\^GB\d+,\d+,\d+\^FS"
    r"|\^FO\d+,\d+\^BY\d+\^BCN,\d+,N,N,N\^FD[ -\]_-}]*\^FS"
)


@pytest.mark.parametrize("dpi", [203, 300])
def test_zpl_field_text_cannot_inject_commands(dpi: int) -> None:
    label = _evil_label()
    zpl = to_zpl(label, dpi=dpi)
    assert zpl.count(b"^XA") == 1
    assert zpl.count(b"^XZ") == 1
    assert b"~" not in zpl
    for line in zpl.decode("ascii").splitlines():
        assert _ZPL_LINE.fullmatch(line), line
    boxes = [e for e in layout(label) if isinstance(e, TextBox)]
    datas = field_data(zpl)
    assert len(datas) == len(boxes) + 2
    for data in datas:
        assert all(0x20 <= byte < 0x7F for byte in data), data
        assert b"^" not in data
        assert b"~" not in data
    shown = text_fields(zpl)
    assert shown == [box.shown() for box in boxes]
    texts = [box.text for box in boxes]
    for address in (label.ship_from, label.ship_to):
        fields = [address.name, address.company, *address.lines, address.country, address.phone]
        for field in fields + [address.city, address.region, address.postal_code]:
            assert any(field in text for text in texts), field
    for field in (label.carrier, label.service, label.order_ref, label.shipment_ref):
        assert any(field in text for text in texts), field
    # the small FROM lines print the whole hostile text, escaped
    assert f"Zoë{EVIL}" in shown
    assert b"Zo_C3_AB_5EXA_5EFS_7EJA_5EXZ_7EJR_5F_0A_09" in zpl


def test_zpl_utf8_round_trips_through_hex_escapes() -> None:
    zpl = to_zpl(sample())
    assert b"\n^CI28\n" in zpl
    assert b"^FDZo_C3_AB _C5_81ukasiewicz^FS" in zpl
    fields = text_fields(zpl)
    for name in ("Zoë Łukasiewicz", "Σοφία Παπαδοπούλου", "c/o Jürgen Groß"):
        assert name in fields
    assert "Ñandú Logistics GmbH" in fields


def test_zpl_cuts_an_overlong_name_visibly() -> None:
    label = sample(ship_to=dataclasses.replace(sample().ship_to, name=LONG_NAME))
    (name,) = [f for f in text_fields(to_zpl(label)) if f.startswith("Maximiliana")]
    assert name.endswith("…")
    assert LONG_NAME.startswith(name[:-1])


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
    pdf = to_pdf(sample())
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
        "c/o Jürgen Groß",
        "Odos Ermou 5",
        "Athína Attiki 105 63",
        "Greece",
        "+30 21 0123 4567",
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


def test_pdf_embeds_dejavu() -> None:
    pdf = to_pdf(sample())
    assert b"DejaVuSans" in pdf
    assert b"/FontFile2" in pdf


def test_pdf_cuts_an_overlong_name_visibly() -> None:
    label = sample(ship_to=dataclasses.replace(sample().ship_to, name=LONG_NAME))
    text = pdf_text(to_pdf(label))
    assert LONG_NAME not in text
    (line,) = [line for line in text.splitlines() if line.startswith("Maximiliana")]
    assert line.endswith("…")
    assert LONG_NAME.startswith(line[:-1])


def test_pdf_of_hostile_text_renders_with_both_barcodes() -> None:
    pdf = to_pdf(_evil_label())
    assert "^XA^FS" in pdf_text(pdf)
    assert len(pdf_barcodes(pdf, 203)) == 2


# --- determinism ----------------------------------------------------------------------------


def test_rendering_is_deterministic() -> None:
    assert to_zpl(sample()) == to_zpl(sample())
    assert to_zpl(sample(), dpi=300) == to_zpl(sample(), dpi=300)
    assert to_pdf(sample()) == to_pdf(sample())
