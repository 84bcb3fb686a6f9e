"""The fonts printed documents use: DejaVu Sans, shipped with Shipfloor.

PDFs embed DejaVu Sans (regular and bold, in ``printing/fonts``; licence beside them) so
names and addresses in any Latin, Greek or Cyrillic script print as written on every
machine, whatever fonts it has. The standard PDF fonts cover only Western European
letters.
"""

from __future__ import annotations

from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).with_name("fonts")
REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
_FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf"}


def register() -> None:
    """Make the fonts known to reportlab (once; later calls do nothing)."""
    registered = set(pdfmetrics.getRegisteredFontNames())
    if all(name in registered for name in _FILES):
        return
    for name, file in _FILES.items():
        if name not in registered:
            pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / file)))
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD)


def text_width(text: str, font: str, size: float) -> float:
    """The width of ``text`` in points."""
    register()
    return float(pdfmetrics.stringWidth(text, font, size))


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
