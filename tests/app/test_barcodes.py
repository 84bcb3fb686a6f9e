"""The barcode resolver: GS1 through biip, the site's own codes, and every refusal's reason."""

from __future__ import annotations

import json
import string
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import barcodes
from app.barcodes import GS, BarcodeError, resolve, site_barcode
from tests.cli import main


def check_digit(body: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def test_plain_gtins_of_every_length() -> None:
    for code in ("96385074", "036000291452", "5901234123457", "05901234123457"):
        found = resolve(code)
        assert (found.kind, found.gtin) == ("gtin", code.zfill(14))


def test_gs1_128_with_aim_identifier_lot_and_expiry() -> None:
    found = resolve(f"]C1010590123412345710LOT-7{GS}17251231")
    assert found.kind == "gs1"
    assert found.symbology == "GS1 128 (]C1)"
    assert (found.gtin, found.lot, found.expiry) == ("05901234123457", "LOT-7", date(2025, 12, 31))
    assert [e.ai for e in found.elements] == ["01", "10", "17"]


@pytest.mark.parametrize(
    ("text", "symbology"),
    [
        ("]E05901234123457", "EAN 13 (]E0)"),
        ("]E496385074", "EAN 8 (]E4)"),
        ("]d2010590123412345721SN1", "GS1 DATAMATRIX (]d2)"),
        ("]Q3010590123412345721SN1", "GS1 QR CODE (]Q3)"),
        ("]e0010590123412345721SN1", "GS1 DATABAR (]e0)"),
    ],
)
def test_aim_symbology_identifiers_are_understood(text: str, symbology: str) -> None:
    found = resolve(text)
    assert found.symbology == symbology
    assert found.gtin is not None


def test_sscc_with_and_without_its_ai() -> None:
    for text in ("00340123450000000000", "340123450000000000", "(00)340123450000000000"):
        found = resolve(text)
        assert (found.kind, found.value, found.sscc) == ("sscc",) + ("340123450000000000",) * 2


def test_variable_count_and_weight() -> None:
    found = resolve(f"0195012345678903300012{GS}3103001250")
    assert (found.count, found.net_weight_g) == (12, 1250)
    found = resolve("01950123456789033202000250")  # 2.50 lb
    assert found.net_weight_g == 1134


def test_itf14_carton_codes_and_element_strings_of_eighteen_digits() -> None:
    found = resolve("]I110012345678902")
    assert (found.kind, found.gtin) == ("gtin", "10012345678902")
    found = resolve("172712311012345679")  # expiry and lot, scanned without an identifier
    assert (found.kind, found.expiry, found.lot) == ("gs1", date(2027, 12, 31), "12345679")
    assert resolve("(00) 340123450000000000").sscc == "340123450000000000"


def test_human_readable_form_and_digital_link() -> None:
    found = resolve("(01)05901234123457(10)ABC(17)251231")
    assert (found.gtin, found.lot, found.expiry) == ("05901234123457", "ABC", date(2025, 12, 31))
    found = resolve("https://id.gs1.org/01/05901234123457/10/ABC")
    assert (found.gtin, found.lot) == ("05901234123457", "ABC")


def test_site_barcodes() -> None:
    assert resolve("LOC-A-01-02-1").kind == "location"
    assert resolve("LOC-A-01-02-1").value == "A-01-02-1"
    assert resolve("tote-0042").site_code == "TOTE-0042"
    assert resolve("BADGE-U1001").value == "U1001"
    assert resolve("PKG-000123").kind == "package"
    assert resolve("BOX-M").kind == "box"
    assert site_barcode("tote", "0042") == "TOTE-0042"
    assert site_barcode("box", "XL") == "BOX-XL"
    with pytest.raises(ValueError, match="no site barcode kind 'pallet'"):
        site_barcode("pallet", "1")
    with pytest.raises(BarcodeError, match="not a valid tote"):
        site_barcode("tote", "a b")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "the scan is empty"),
        ("5901234123458", "wrong check digit in GTIN 5901234123458: the last digit should be 7"),
        ("0105901234123458", "wrong check digit in GTIN 05901234123458"),
        ("00340123450000000001", "wrong check digit in SSCC 340123450000000001"),
        ("FOO-12", "unknown prefix 'FOO': site barcodes start LOC-, TOTE-, BADGE-, PKG-"),
        ("LOC-", "nothing follows LOC-: the location is missing"),
        ("TOTE-A B", "'A B' is not a valid tote: it holds ' '"),
        ("LOC-A-", "must start and end with a letter or digit"),
        ("010590123412", "wrong check digit in GTIN 010590123412"),
        ("01059012341234", "wrong check digit"),
        ("0105901234123457171", "truncated element string: AI (17) "),
        ("01059012341234571", "no GS1 application identifier starts '1'"),
        ("0105901234123457171399", "truncated element string: AI (17) USE BY or EXPIRY needs 6"),
        ("010590123412345717251332", "AI (17) USE BY or EXPIRY: '251332' is not a date"),
        ("#123", "it starts with '#'"),
        ("]C1", "nothing follows the symbology identifier ]C1"),
        ("]C", "needs 3 characters"),
        ("https://example.com/x", "not a GS1 Digital Link URI"),
        ("(01)123", "truncated element string: AI (01) GTIN needs 14 digits, only 3 follow"),
        ("30", "truncated element string: AI (30) needs a count, got nothing"),
        ("0105012345000015\x1d30", "AI (30) needs a count"),
        ("]C012345678", "a CODE 128 (]C0) symbol holding '12345678': it carries neither"),
        ("123456789012345678", "wrong check digit in SSCC 123456789012345678"),
    ],
)
def test_every_refusal_says_why(text: str, reason: str) -> None:
    with pytest.raises(BarcodeError) as caught:
        resolve(text)
    assert reason in str(caught.value)
    assert str(caught.value).startswith(f"{barcodes.show(text)} is not a valid barcode: ")


def test_show_makes_control_characters_visible() -> None:
    assert barcodes.show(f"10A{GS}21B\x00") == "'10A<GS>21B<0x00>'"


# Property: every element string built from valid parts parses back to those parts.
GS1_CHARS = string.ascii_letters + string.digits + "!\"%&'()*+,-./:;<=>?_"
lots = st.text(alphabet=GS1_CHARS, min_size=1, max_size=20)
plain = st.text(alphabet=string.ascii_uppercase + string.digits, min_size=1, max_size=20)
dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2049, 12, 31))


@st.composite
def element_strings(draw: st.DrawFn, hri: bool = False) -> tuple[str, dict[str, object]]:
    text_values = plain if hri else lots
    gtin13 = draw(st.text(alphabet=string.digits, min_size=12, max_size=12))
    gtin = "0" + gtin13 + check_digit(gtin13)
    parts: list[tuple[str, str, bool]] = [("01", gtin, False)]
    expected: dict[str, object] = {"gtin": gtin}
    optional = draw(st.sets(st.sampled_from(["10", "21", "17", "15", "30", "3103"])))
    for ai in sorted(optional, key=lambda _a: draw(st.integers(0, 100))):
        if ai in ("10", "21"):
            value = draw(text_values)
            parts.append((ai, value, True))
            expected["lot" if ai == "10" else "serial"] = value
        elif ai in ("15", "17"):
            day = draw(dates)
            parts.append((ai, day.strftime("%y%m%d"), False))
            expected["expiry" if ai == "17" else "best_before"] = day
        elif ai == "30":
            count = draw(st.integers(0, 99_999_999))
            parts.append((ai, str(count), True))
            expected["count"] = count
        else:
            grams = draw(st.integers(0, 999_999))
            parts.append((ai, f"{grams:06d}", False))
            expected["net_weight_g"] = grams
    if hri:
        return "".join(f"({ai}){value}" for ai, value, _ in parts), expected
    text = ""
    for i, (ai, value, variable) in enumerate(parts):
        text += ai + value
        if variable and i < len(parts) - 1:
            text += GS
    prefix = draw(st.sampled_from(["", "]C1", "]d2", "]Q3"]))
    return prefix + text, expected


@settings(max_examples=300, deadline=None)
@given(element_strings())
def test_every_valid_element_string_parses_back(case: tuple[str, dict[str, object]]) -> None:
    text, expected = case
    found = resolve(text)
    got = {key: getattr(found, key) for key in expected}
    assert got == expected


@settings(max_examples=100, deadline=None)
@given(element_strings(hri=True))
def test_every_human_readable_string_parses_back(case: tuple[str, dict[str, object]]) -> None:
    text, expected = case
    found = resolve(text)
    assert {key: getattr(found, key) for key in expected} == expected


def test_scan_parse_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "parse", "]C1010590123412345710LOT7<GS>17251231", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] is True
    assert (out["kind"], out["gtin"], out["lot"], out["expiry"]) == (
        "gs1",
        "05901234123457",
        "LOT7",
        "2025-12-31",
    )
    assert [e["ai"] for e in out["elements"]] == ["01", "10", "17"]
    assert main(["scan", "parse", "0105901234123458", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out == {
        "valid": False,
        "text": "0105901234123458",
        "reason": "wrong check digit in GTIN 05901234123458: the last digit should be 7, "
        "not 8; scan again, or key the number printed under the bars",
    }
    assert main(["scan", "parse", "LOC-A-01-02-1"]) == 0
    assert "site location barcode: location A-01-02-1" in capsys.readouterr().out
    assert main(["scan", "parse", "10ABC\\x1d21X"]) == 0
    text = capsys.readouterr().out
    assert "(10)" in text
    assert "(21)" in text
    assert main(["scan", "parse", "FOO-1"]) == 1
    assert "unknown prefix 'FOO'" in capsys.readouterr().err
