"""The fonts printed documents use: DejaVu Sans in PDFs, and the widths of a ZPL printer's font 0.

PDFs embed DejaVu Sans (regular and bold, in ``printing/fonts``; licence beside them) so
names and addresses in any Latin, Greek or Cyrillic script print as written on every
machine, whatever fonts it has. The standard PDF fonts cover only Western European
letters.

A Zebra printer draws label text in its resident font 0 (a condensed sans serif). Its
advance widths are not DejaVu's: most letters are narrower, but ``-``, ``+``, ``=``, ``%``,
``@``, ``<``, ``>`` and ``~`` are far wider. ``FONT0_ADVANCE`` holds them, as a fraction of
the height given to ``^A0`` (measured with a ZPL renderer built from a ZD621's print-outs,
and rounded up; the label tests measure them again), so that text fitted to a place on the
label fits there on the printer too.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).with_name("fonts")
REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
_FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf"}

_FONT0_GROUPS = {
    0.26: "ijl",
    0.30: " !'(),./:;I[\\]`ft",
    0.36: "r",
    0.42: "z",
    0.44: "s",
    0.48: "?Jackvxy",
    0.49: '"#$*0123456789Leo',
    0.53: "EFTZ^_bdghnpqu{|}",
    0.55: "CSV",
    0.57: "ABKPXY",
    0.59: "OQ",
    0.60: "DGR",
    0.63: "&HNU",
    0.68: "w",
    0.78: "Mm",
    0.83: "W",
    0.91: "%+-=@",
    1.00: "<>~",
}
FONT0_ADVANCE = {char: width for width, chars in _FONT0_GROUPS.items() for char in chars}
"""Font 0's advance width of each printable ASCII character, per unit of ``^A0`` height."""
FONT0_WIDEST = max(FONT0_ADVANCE.values())
FONT0_ROUNDING_PT = 0.5 / 203 * 72
"""The printer's font height is whole dots: up to half a 203 dpi dot taller than asked."""


def register() -> None:
    """Make the fonts known to reportlab (once; later calls do nothing)."""
    registered = set(pdfmetrics.getRegisteredFontNames())
    if all(name in registered for name in _FILES):
        return
    for name, file in _FILES.items():
        if name not in registered:
            pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / file)))
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD)


@cache
def _pdf_coverage() -> frozenset[int]:
    register()
    regular, bold = (pdfmetrics.getFont(name).face.charToGlyph for name in (REGULAR, BOLD))
    return frozenset(set(regular) & set(bold))


def covers(char: str) -> bool:
    """Whether both DejaVu Sans faces have a glyph for ``char``."""
    return ord(char) in _pdf_coverage()


def text_width(text: str, font: str, size: float) -> float:
    """The width of ``text`` in points."""
    register()
    return float(pdfmetrics.stringWidth(text, font, size))


@cache
def _font0_advance(char: str) -> float:
    found = FONT0_ADVANCE.get(char)
    if found is not None:
        return found
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return 0.0  # never sent to the printer: ZPL text is transliterated to code page 1252
    # An accented letter is as wide as its base letter; anything else counts as the widest.
    base = unicodedata.normalize("NFKD", char)[:1]
    return FONT0_ADVANCE.get(base, FONT0_WIDEST)


def font0_width(text: str, size: float) -> float:
    """The width of ``text`` in points when printed in ZPL font 0 ``size`` points tall."""
    return sum(_font0_advance(char) for char in text) * (size + FONT0_ROUNDING_PT)


def fit(text: str, font: str, size: float, width: float) -> str:
    """``text`` cut to ``width`` points with a visible ellipsis when it does not fit."""
    if text_width(text, font, size) <= width:
        return text
    ellipsis = "…"
    low, high = 0, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if text_width(text[:mid].rstrip() + ellipsis, font, size) <= width:
            low = mid
        else:
            high = mid - 1
    return text[:low].rstrip() + ellipsis
