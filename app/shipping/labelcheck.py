"""What a shipping label may say: its values checked against the site's shipping settings,
and its text made printable by the output it goes to.

``check`` refuses, with a ``LabelRefused`` that names the field, what was given and what to
do: a weight above the carrier's limit (``max_weight_g`` of the carrier, else the site's
``max_package_weight_g``), a country that is not an ISO 3166-1 alpha-2 code or not one the
site ships to (``ship_to_countries``), a control character (NUL, tab, a line break) in any
text, and anything ``printing.label.validate`` refuses (an SSCC with a wrong check digit, a
field too long for its place).

Characters the output cannot print are not refused: ZPL prints code page 1252 (printer font
0), the PDF whatever DejaVu Sans has (Latin, Greek, Cyrillic and many symbols). Such a
character is transliterated to ASCII by anyascii ("Σοφία" → "Sofia", "Łódź" → "Lodz",
"北京" → "BeiJing"); pictographs and emoji, which have no spelling, and invisible
characters (zero-width, direction marks) are left out. Each field changed gets one sentence
in ``CheckedLabel.notes``, which the CLI prints as a warning on stderr. A field that would
be left empty is refused instead.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace

from anyascii import anyascii

from app.shipping.settings import COUNTRIES, ShippingSettings
from printing import label
from printing.label import LabelError, Output, ShippingLabel

_NO_SPELLING = frozenset({"So", "Sk", "Cf", "Cs", "Co", "Cn"})
"""Pictographs, emoji, their modifiers and invisible characters: left out, not spelled."""
_OUTPUT_NAMES = {"zpl": "the ZPL printer's font", "pdf": "the PDF's font"}


class LabelRefused(ValueError):
    """A label that will not be printed: the message names the field, the value and the fix."""


@dataclass(frozen=True)
class CheckedLabel:
    """A label ready for one output, and what was changed to make it so."""

    label: ShippingLabel
    notes: tuple[str, ...] = ()
    """One sentence per field whose text was transliterated or had characters left out."""


def check(spec: ShippingLabel, settings: ShippingSettings, output: Output) -> CheckedLabel:
    """``spec`` checked against ``settings`` and made printable by ``output``.

    Raises LabelRefused for the first value that cannot go on a label.
    """
    _check_weight(spec, settings)
    _check_country("ship_to.country", spec.ship_to.country, settings, required=True)
    _check_country("ship_from.country", spec.ship_from.country, None, required=False)
    notes: list[str] = []

    def printable(field: str, text: str) -> str:
        text = unicodedata.normalize("NFC", text)
        _refuse_controls(field, text)
        shown, left_out = transliterate(text, output)
        if shown == text:
            return text
        if text.strip() and not shown.strip():
            raise LabelRefused(
                f"{field}: {text!r} has no character {_OUTPUT_NAMES[output]} can print or"
                " spell in Latin letters; write it in Latin letters"
            )
        if "  " not in text:  # a left-out character leaves no double space behind
            shown = re.sub(" {2,}", " ", shown)
        if text == text.strip():
            shown = shown.strip()
        why = f"{_OUTPUT_NAMES[output]} cannot print {_listing(left_out)}"
        notes.append(f"{field}: {text!r} prints as {shown!r} ({why})")
        return shown

    checked = label.map_text(spec, printable)
    checked = replace(
        checked,
        ship_to=replace(checked.ship_to, country=checked.ship_to.country.strip().upper()),
        ship_from=replace(checked.ship_from, country=checked.ship_from.country.strip().upper()),
    )
    try:
        label.validate(checked, output)
    except LabelError as exc:
        raise LabelRefused(str(exc)) from None
    return CheckedLabel(checked, tuple(notes))


def transliterate(text: str, output: Output) -> tuple[str, str]:
    """``text`` with every character ``output`` cannot print spelled in ASCII (or left out,
    for pictographs and invisible characters), and the characters that were replaced."""
    shown: list[str] = []
    replaced: list[str] = []
    for char in text:
        if label.prints(char, output):
            shown.append(char)
            continue
        replaced.append(char)
        category = unicodedata.category(char)
        if category in _NO_SPELLING or category.startswith("M"):
            continue
        shown.append(anyascii(char))
    return "".join(shown), "".join(dict.fromkeys(replaced))


def _listing(chars: str) -> str:
    """The characters an output cannot print, in words: letters of another script by their
    script ("Greek letters"), anything else one by one."""
    scripts: list[str] = []
    singles: list[str] = []
    for char in chars:
        name = unicodedata.name(char, "")
        script = name.split(" ")[0] if name else ""
        if unicodedata.category(char).startswith("L") and script not in ("", "LATIN"):
            words = "CJK characters" if script == "CJK" else f"{script.title()} letters"
            if words not in scripts:
                scripts.append(words)
        elif char.isprintable() and not char.isspace():
            singles.append(repr(char))
        else:
            singles.append(f"U+{ord(char):04X}")
    more = f" and {len(singles) - 6} more" if len(singles) > 6 else ""
    return ", ".join(scripts + singles[:6]) + more


def _refuse_controls(field: str, text: str) -> None:
    for position, char in enumerate(text, start=1):
        if label.is_control(char):
            name = unicodedata.name(char, "") or {
                "\0": "NUL",
                "\t": "TAB",
                "\n": "LINE FEED",
                "\r": "CARRIAGE RETURN",
            }.get(char, "control character")
            raise LabelRefused(
                f"{field}: {text!r} holds {name} (U+{ord(char):04X}) at position {position};"
                " a label field is one line of printable text: correct it where it was"
                " entered (the order or the label JSON) and print again"
            )


def _check_weight(spec: ShippingLabel, settings: ShippingSettings) -> None:
    limit, setting = settings.max_weight_g(spec.carrier)
    if spec.weight_g < 0:
        raise LabelRefused(f"weight_g: {spec.weight_g:,} g is negative; weigh the package again")
    if spec.weight_g > limit:
        raise LabelRefused(
            f"weight_g: {spec.weight_g:,} g is more than the {limit:,} g a {spec.carrier}"
            f" package may weigh (shipping settings, {setting}); weigh it again, or split the"
            " contents into more packages"
        )


def _check_country(
    field: str, given: str, settings: ShippingSettings | None, *, required: bool
) -> None:
    code = given.strip().upper()
    if not code:
        if required:
            raise LabelRefused(
                f"{field}: empty; the carrier needs the destination country as an ISO 3166-1"
                " alpha-2 code such as GB, US or DE"
            )
        return
    if code not in COUNTRIES:
        raise LabelRefused(
            f"{field}: {given!r} is not an ISO 3166-1 alpha-2 country code; write the"
            " two-letter code, such as GB, US or DE"
        )
    allowed = settings.ship_to_countries if settings is not None else ()
    if allowed and code not in allowed:
        raise LabelRefused(
            f"{field}: the site does not ship to {code}: it ships to"
            f" {', '.join(allowed)} (shipping settings,"
            " ship_to_countries)"
        )
