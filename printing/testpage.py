"""A printer test: a small ZPL label and a one-page PDF naming the station and printer."""

from __future__ import annotations

import io
from datetime import datetime

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas


def _zpl_text(text: str) -> str:
    """Field data with ZPL's command characters replaced (they would start commands)."""
    return text.replace("^", " ").replace("~", " ")


def zpl_test_label(station: str, printer: str, at: datetime) -> bytes:
    """A 4x6 inch test label at 203 dpi: who asked, when, and a Code 128 to scan back."""
    lines = [
        "^XA",
        "^CI28",
        "^PW812",
        "^LL1218",
        "^FO40,40^A0N,60,60^FDShipfloor printer test^FS",
        f"^FO40,130^A0N,40,40^FDStation {_zpl_text(station)}^FS",
        f"^FO40,190^A0N,40,40^FDPrinter {_zpl_text(printer)}^FS",
        f"^FO40,250^A0N,30,30^FD{at:%Y-%m-%d %H:%M:%S} UTC^FS",
        "^FO40,320^BY3^BCN,120,Y,N,N^FDSHIPFLOOR-TEST^FS",
        "^FO40,520^GB732,4,4^FS",
        "^XZ",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def pdf_test_page(station: str, printer: str, at: datetime) -> bytes:
    """An A4 page saying which station and printer it came from."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, invariant=True)
    canvas.setTitle("Shipfloor printer test")
    width, height = A4
    canvas.setFont("Helvetica-Bold", 24)
    canvas.drawString(72, height - 100, "Shipfloor printer test")
    canvas.setFont("Helvetica", 14)
    canvas.drawString(72, height - 140, f"Station {station}")
    canvas.drawString(72, height - 165, f"Printer {printer}")
    canvas.drawString(72, height - 190, f"{at:%Y-%m-%d %H:%M:%S} UTC")
    canvas.rect(72, 72, width - 144, height - 300)
    canvas.showPage()
    canvas.save()
    return out.getvalue()
