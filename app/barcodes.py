"""The one barcode resolver every station uses: what a scanned string means, or why not.

GS1 data (GTIN-8/12/13/14, SSCC, element strings with lot, expiry, serial, variable
count and weight, GS1 Digital Link URIs) is parsed by `biip`; this module only turns its
findings into one :class:`Barcode` and its failures into a specific reason.

The site's own barcodes (printed by Shipfloor on shelf labels, totes, badges and packages)
are ``PREFIX-VALUE`` in upper case:

============  ===========  ==========================================================
prefix        kind         value
============  ===========  ==========================================================
``LOC-``      location     the location code (``LOC-A-03-12-2``)
``TOTE-``     tote         the tote's number or name (``TOTE-0042``)
``BADGE-``    badge        the user's badge id (``BADGE-U1001``)
``PKG-``      package      the package's number (``PKG-000123``)
``LIST-``     pick_list    the pick list's number (``LIST-12``): a picker claims it
``BOX-``      box          a packaging box size (``BOX-M``), on the box stack at packing
============  ===========  ==========================================================

A value is letters, digits, ``-``, ``.`` and ``/``, starting and ending with a letter or
digit, at most 60 characters. Scanners with Caps Lock on send lower case; site barcodes are
read case-insensitively. Nothing else starts with a letter: any other text that does is an
unknown prefix. GS1 data starts with a digit, ``(`` (the human-readable form typed from a
label) or an AIM symbology identifier (``]C1``, ``]E0``, ``]d2``, ``]Q3``, ``]e0``) that
scanners configured to send one put first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import biip
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_element_strings import GS1ElementString
from biip.gs1_messages import GS1Message
from biip.symbology import GS1Symbology, SymbologyIdentifier

GS = "\x1d"

SITE_PREFIXES = {
    "LOC": "location",
    "TOTE": "tote",
    "BADGE": "badge",
    "PKG": "package",
    "LIST": "pick_list",
    "BOX": "box",
}
"""Site barcode prefixes (before the ``-``) and the kind each names."""

SITE_KINDS = {kind: prefix for prefix, kind in SITE_PREFIXES.items()}

_SITE_VALUE = re.compile(r"[A-Z0-9](?:[A-Z0-9./-]{0,58}[A-Z0-9])?")
_AI_IN_ERROR = re.compile(r"Failed to match '([^']*)' with GS1 AI \((\d+)\)")
_CHECK_DIGIT_ERROR = re.compile(r"Invalid (\w+) check digit for '(\d+)': Expected (\d), got (\d)")
_GRAMS_PER_POUND = Decimal("453.59237")

GTIN_SYMBOLOGIES = frozenset(
    {
        GS1Symbology.EAN_13,
        GS1Symbology.EAN_8,
        GS1Symbology.EAN_13_WITH_ADD_ON,
        GS1Symbology.ITF_14,
    }
)
DATE_AIS = {"11": "production_date", "13": "packaging_date", "15": "best_before", "17": "expiry"}


class BarcodeError(ValueError):
    """A scan that is not a valid barcode; ``reason`` says exactly what is wrong."""

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(f"{show(text)} is not a valid barcode: {reason}")
        self.text = text
        self.reason = reason


@dataclass(frozen=True)
class Element:
    """One GS1 element string: application identifier, its data, and what that means."""

    ai: str
    title: str
    value: str
    meaning: str


@dataclass(frozen=True)
class Barcode:
    """What one scan means.

    ``kind`` is ``gtin`` (a plain product barcode), ``gs1`` (GS1 element strings naming a
    product with its lot, expiry, serial, …), ``sscc`` (a logistic unit), or a site kind:
    ``location``, ``tote``, ``badge``, ``package``. ``value`` is the thing identified: the
    GTIN as 14 digits, the 18-digit SSCC, or the site value (``A-03-12-2`` for
    ``LOC-A-03-12-2``).
    """

    text: str
    kind: str
    value: str
    symbology: str | None = None
    gtin: str | None = None
    sscc: str | None = None
    lot: str | None = None
    serial: str | None = None
    expiry: date | None = None
    best_before: date | None = None
    count: int | None = None
    net_weight_g: int | None = None
    elements: tuple[Element, ...] = field(default=())

    @property
    def site_code(self) -> str:
        """The barcode as the site prints it (``LOC-A-03-12-2``); only for site kinds."""
        return f"{SITE_KINDS[self.kind]}-{self.value}"

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "value": self.value, "text": self.text}
        if self.symbology:
            out["symbology"] = self.symbology
        for name in ("gtin", "sscc", "lot", "serial", "count", "net_weight_g"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        for name in ("expiry", "best_before"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value.isoformat()
        if self.elements:
            out["elements"] = [
                {"ai": e.ai, "title": e.title, "value": e.value, "meaning": e.meaning}
                for e in self.elements
            ]
        return out


def show(text: str) -> str:
    """A scan quoted for a message, control characters made visible (``<GS>``)."""
    shown = "".join(
        "<GS>" if c == GS else f"<0x{ord(c):02X}>" if ord(c) < 32 or ord(c) == 127 else c
        for c in text
    )
    return f"'{shown}'"


def site_barcode(kind: str, value: str) -> str:
    """The printed barcode for a site thing (``site_barcode("tote", "0042")``)."""
    if kind not in SITE_KINDS:
        raise ValueError(f"no site barcode kind {kind!r}: use one of {', '.join(SITE_KINDS)}")
    code = f"{SITE_KINDS[kind]}-{value.upper()}"
    resolve(code)
    return code


def gtin14(gtin: str) -> str:
    """A GTIN-8/12/13/14 as 14 digits (how GTINs are compared)."""
    return gtin.zfill(14)


def resolve(text: str) -> Barcode:
    """What ``text`` (one whole scan) means; :class:`BarcodeError` says why it means nothing."""
    if not text:
        raise BarcodeError(text, "the scan is empty")
    if text != text.strip(" "):
        text = text.strip(" ")
    symbology: str | None = None
    gs1_symbol: GS1Symbology | None = None
    body = text
    if text.startswith("]"):
        if len(text) < 3:
            raise BarcodeError(text, "an AIM symbology identifier needs 3 characters (]C1)")
        try:
            ident = SymbologyIdentifier.extract(text)
        except biip.ParseError as exc:
            raise BarcodeError(text, f"unknown AIM symbology identifier ({exc})") from exc
        symbology = _symbology_name(ident)
        gs1_symbol = ident.gs1_symbology
        body = text[len(ident.value) :]
        if not body:
            raise BarcodeError(text, f"nothing follows the symbology identifier {ident.value}")
    try:
        return _resolve(text, body, symbology, gs1_symbol)
    except (ValueError, biip.ParseError) as exc:
        if isinstance(exc, BarcodeError):
            raise
        # Whatever biip or a conversion refuses is still a refusal with a reason, never a
        # crash in a scanner's thread.
        raise BarcodeError(text, str(exc) or type(exc).__name__) from exc


def _resolve(
    text: str, body: str, symbology: str | None, gs1_symbol: GS1Symbology | None
) -> Barcode:
    first = body[0]
    if first.isascii() and first.isalpha():
        if body.lower().startswith(("http://", "https://")):
            return _digital_link(text, body, symbology)
        return _site(text, body)
    if first == "(":
        return _hri(text, body.replace(" ", ""), symbology)
    if symbology is not None and gs1_symbol is None:
        raise BarcodeError(
            text,
            f"a {symbology} symbol holding {show(body)}: it carries neither GS1 data nor a "
            "site barcode (LOC-, TOTE-, BADGE-, PKG-, LIST-)",
        )
    if not (first.isascii() and first.isdigit()):
        raise BarcodeError(
            text,
            f"it starts with {show(first)}: GS1 data starts with a digit or '(', "
            "site barcodes with LOC-, TOTE-, BADGE-, PKG- or LIST-",
        )
    return _gs1(text, body, symbology, gs1_symbol)


def _symbology_name(ident: SymbologyIdentifier) -> str:
    gs1 = ident.gs1_symbology
    name = (gs1.name if gs1 is not None else ident.iso_symbology.name).replace("_", " ")
    return f"{name} ({ident.value})"


def _site(text: str, body: str) -> Barcode:
    prefix, dash, value = body.partition("-")
    kind = SITE_PREFIXES.get(prefix.upper())
    known = ", ".join(f"{p}-" for p in SITE_PREFIXES)
    if not dash or kind is None:
        raise BarcodeError(text, f"unknown prefix {prefix.upper()!r}: site barcodes start {known}")
    value = value.upper()
    if not value:
        raise BarcodeError(text, f"nothing follows {prefix.upper()}-: the {kind} is missing")
    if not _SITE_VALUE.fullmatch(value):
        bad = sorted({c for c in value if not (c.isascii() and (c.isalnum() or c in ".-/"))})
        why = (
            f"it holds {', '.join(show(c) for c in bad)}"
            if bad
            else "it must start and end with a letter or digit and be at most 60 long"
        )
        raise BarcodeError(text, f"{value!r} is not a valid {kind}: {why}")
    return Barcode(text=text, kind=kind, value=value)


def _gs1(text: str, body: str, symbology: str | None, gs1_symbol: GS1Symbology | None) -> Barcode:
    digits_only = body.isdigit()
    if gs1_symbol in GTIN_SYMBOLOGIES or (
        gs1_symbol is None and digits_only and len(body) in (8, 12, 13, 14)
    ):
        # EAN/UPC and ITF-14 carry a GTIN and nothing else.
        return _plain_gtin(text, body, symbology)
    try:
        return _message(text, body, symbology, GS1Message.parse)
    except BarcodeError:
        if gs1_symbol is None and digits_only and len(body) == 18:
            # An SSCC keyed from its human-readable line without the (00).
            sscc = biip.parse("00" + body)
            if sscc.sscc is not None or "SSCC check digit" in (sscc.sscc_error or ""):
                return _message(text, "00" + body, symbology, GS1Message.parse)
        raise


def _hri(text: str, body: str, symbology: str | None) -> Barcode:
    return _message(text, body, symbology, GS1Message.parse_hri)


def _message(
    text: str, body: str, symbology: str | None, parse: Callable[[str], GS1Message]
) -> Barcode:
    try:
        message = parse(body)
    except biip.ParseError as exc:
        raise BarcodeError(text, _explain(str(exc), body)) from exc
    return _from_elements(text, message.element_strings, symbology)


def _digital_link(text: str, body: str, symbology: str | None) -> Barcode:
    try:
        uri = GS1DigitalLinkURI.parse(body)
    except biip.ParseError as exc:
        raise BarcodeError(text, f"not a GS1 Digital Link URI ({exc})") from exc
    return _from_elements(text, uri.element_strings, symbology)


def _plain_gtin(text: str, body: str, symbology: str | None) -> Barcode:
    result = biip.parse(body)
    if result.gtin is None:
        raise BarcodeError(text, _explain(result.gtin_error or "", body))
    gtin = result.gtin.as_gtin_14()
    return Barcode(text=text, kind="gtin", value=gtin, symbology=symbology, gtin=gtin)


def _from_elements(
    text: str, elements: Iterable[GS1ElementString], symbology: str | None
) -> Barcode:
    found: dict[str, Any] = {}
    parsed: list[Element] = []
    for element in elements:
        ai = element.ai.ai
        for error in (element.gtin_error, element.sscc_error, element.gln_error):
            if error:
                raise BarcodeError(text, _explain(error, element.value))
        meaning = element.value
        if element.gtin is not None:
            meaning = element.gtin.as_gtin_14()
            found.setdefault("gtin", meaning)
        elif element.sscc is not None:
            found["sscc"] = element.sscc.value
        elif element.date is not None:
            meaning = element.date.isoformat()
            if ai in DATE_AIS:
                found[DATE_AIS[ai]] = element.date
        elif ai == "10":
            found["lot"] = element.value
        elif ai == "21":
            found["serial"] = element.value
        elif ai in ("30", "37"):
            if not element.value.isdigit():
                raise BarcodeError(
                    text, f"truncated element string: AI ({ai}) needs a count, got nothing"
                )
            found["count"] = int(element.value)
            meaning = f"{int(element.value)} units"
        elif element.decimal is not None and ai[:3] in ("310", "320"):
            grams = element.decimal * (1000 if ai[:3] == "310" else _GRAMS_PER_POUND)
            found["net_weight_g"] = int(grams.quantize(Decimal(1), rounding=ROUND_HALF_UP))
            unit = "kg" if ai[:3] == "310" else "lb"
            meaning = f"{element.decimal} {unit} = {found['net_weight_g']} g"
        elif element.decimal is not None:
            meaning = str(element.decimal)
        parsed.append(
            Element(ai=ai, title=element.ai.data_title, value=element.value, meaning=meaning)
        )
    if not parsed:
        raise BarcodeError(text, "it holds no GS1 element string")
    if "sscc" in found:
        kind, value = "sscc", found["sscc"]
    elif "gtin" in found:
        kind, value = "gs1", found["gtin"]
    else:
        kind, value = "gs1", parsed[0].value
    return Barcode(
        text=text,
        kind=kind,
        value=value,
        symbology=symbology,
        elements=tuple(parsed),
        **found,
    )


def _explain(error: str, body: str) -> str:
    """A biip failure in words an operator and a support person can act on."""
    check = _CHECK_DIGIT_ERROR.search(error)
    if check:
        what, number, expected, got = check.groups()
        return (
            f"wrong check digit in {what} {number}: the last digit should be {expected}, "
            f"not {got}; scan again, or key the number printed under the bars"
        )
    if "Expected 8, 12, 13, or 14 digits" in error:
        return f"a GTIN has 8, 12, 13 or 14 digits, this has {len(body)}"
    if error.startswith("Failed to get GS1 Application Identifier"):
        rest = re.search(r"from '([^']*)'", error)
        tail = rest.group(1) if rest else body
        return f"no GS1 application identifier starts {show(tail)}"
    match = _AI_IN_ERROR.search(error)
    if match:
        data, ai = match.groups()
        return _explain_ai(ai, data)
    return error or "not a GS1 barcode"


def _explain_ai(ai: str, data: str) -> str:
    info = GS1ApplicationIdentifier.extract(ai)
    field_text = data[len(ai) :] if data.startswith(ai) else data
    fmt = info.format.split("+", 1)[1].split("[", 1)[0] if "+" in info.format else ""
    label = f"AI ({ai}) {info.data_title}"
    fixed = re.fullmatch(r"N(\d+)", fmt)
    if fixed and len(field_text) < int(fixed.group(1)) and (field_text.isdigit() or not field_text):
        return (
            f"truncated element string: {label} needs {fixed.group(1)} digits, "
            f"only {len(field_text)} follow"
        )
    if not field_text:
        return f"truncated element string: nothing follows {label}"
    if ai in DATE_AIS or info.format.endswith("N6") and "date" in info.description.lower():
        return f"{label}: {field_text!r} is not a date in the form YYMMDD"
    return f"{label}: {show(field_text)} does not fit its format {fmt or info.format}"
