"""Reading the label's ZPL back, two ways, for the tests.

``interpret`` is a minimal interpreter of exactly the ZPL subset the label uses (``^XA ^CI
^PW ^LL ^LH ^FO ^A ^FB ^FH ^FD ^FS ^GB ^BY ^BC ^XZ``). It decodes field data the way the
ZPL II guide and a ZD621 do: ``^FH`` hex escapes with the ``_`` indicator, then the bytes
in the ``^CI`` encoding (13 ASCII, 27 code page 1252, 28 UTF-8, where a ZD621 prints the
backslash as its legacy "¢" glyph), then, inside an ``^FB`` block, ``\\&`` as a line break,
``\\\\`` as one backslash, and any other backslash dropped. It is an interpreter of
our subset, not a printer.

``render`` draws the ZPL with zplkit, a local ZPL renderer whose fonts and quirks were
captured from real printers (profile ``zd621``) or follow the ZPL guide to the letter
(``specification``), and returns the label as a greyscale image (0 ink, 255 paper). Its
resident font 0 has the ASCII glyphs only, so the rendering tests use ASCII text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

import zplkit
from PIL import Image

Profile = Literal["zd621", "specification"]
ENCODINGS = {13: "ascii", 27: "cp1252", 28: "utf-8"}
_COMMAND = re.compile(rb"\^([A-Z@][A-Z0-9@]?)")


@dataclass
class Field:
    """One field as the printer sees it: where, in which font or symbology, and its data."""

    x: int
    y: int
    kind: str
    """"text", "box" or "code128"."""
    height: int = 0
    width: int = 0
    module: int = 0
    block: tuple[int, int] | None = None
    """^FB width and line count, when the field is a block."""
    lines: list[str] = field(default_factory=list)
    """Text as printed, one entry a line (a block may have several)."""
    data: str = ""
    """Barcode field data as given (invocation codes and all)."""

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _printed(data: bytes, hex_indicator: str | None, encoding: int, block: bool) -> list[str]:
    if hex_indicator is not None:
        mark = re.escape(hex_indicator.encode("ascii"))
        data = re.sub(mark + rb"([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), data)
    text = data.decode(ENCODINGS[encoding])
    lines = [text]
    if block:
        lines, line, i = [], "", 0
        while i < len(text):
            if text[i] == "\\" and i + 1 < len(text):
                if text[i + 1] == "&":
                    lines.append(line)
                    line = ""
                elif text[i + 1] == "\\":
                    line += "\\"
                else:  # an unknown escape: the backslash is dropped, the next character kept
                    i += 1
                    continue
                i += 2
                continue
            line += text[i]
            i += 1
        lines.append(line)
    if encoding == 28:  # a ZD621's font 0 draws the backslash as its legacy "¢" under ^CI28
        lines = [line.replace("\\", "¢") for line in lines]
    return lines


def interpret(zpl: bytes) -> list[Field]:
    """The fields of one ZPL format, in order, with the text each one prints."""
    assert zpl.startswith(b"^XA"), zpl[:40]
    assert zpl.rstrip().endswith(b"^XZ"), zpl[-40:]
    fields: list[Field] = []
    encoding = 0
    current: Field | None = None
    hex_indicator: str | None = None
    module = 2
    pieces = _COMMAND.split(zpl)
    i = 1
    while i < len(pieces):
        command, args = pieces[i].decode("ascii"), pieces[i + 1]
        i += 2
        if command == "FD":
            # field data runs to the next ^FS; a ^ in it would have started a command
            assert current is not None, "^FD without ^FO"
            assert pieces[i].decode("ascii") == "FS", (pieces[i], args)
            if current.kind == "code128":
                current.data = args.decode("ascii")
            else:
                current.lines = _printed(
                    args, hex_indicator, encoding, block=current.block is not None
                )
            fields.append(current)
            current, hex_indicator = None, None
            i += 2
            continue
        text = args.decode("ascii").strip()
        values = text.split(",") if text else []
        if command in ("XA", "XZ", "PW", "LL", "LH"):
            continue
        if command == "CI":
            encoding = int(values[0])
            assert encoding in ENCODINGS, f"^CI{encoding} is outside the subset"
        elif command == "FO":
            current = Field(int(values[0]), int(values[1]), "text")
        elif command.startswith("A"):
            assert current is not None
            assert (command, values[0]) == ("A0", "N"), command
            current.height, current.width = int(values[1]), int(values[2])
        elif command == "FB":
            assert current is not None
            current.block = (int(values[0]), int(values[1]))
        elif command == "FH":
            hex_indicator = text or "_"
        elif command == "GB":
            assert current is not None
            current.kind, current.width, current.height = "box", int(values[0]), int(values[1])
            assert pieces[i].decode("ascii") == "FS"
            fields.append(current)
            current = None
            i += 2
        elif command == "BY":
            module = int(values[0])
        elif command == "BC":
            assert current is not None
            assert values[0] == "N", values
            current.kind, current.height, current.module = "code128", int(values[1]), module
        else:
            raise AssertionError(f"^{command} is outside the subset the label uses")
    return fields


def render(zpl: bytes, dpi: int, profile: Profile = "zd621") -> Image.Image:
    """The first label of ``zpl`` as the renderer draws it, greyscale."""
    document = zplkit.render(zpl, zplkit.Options(profile=profile, dpi=dpi))
    unexpected = [w for w in document.warnings if "captured bitmap strikes" not in w]
    assert not unexpected, unexpected
    raster = document.labels[0].rasterize()
    return Image.frombytes("L", (raster.width, raster.height), raster.pixels)


def ink_box(image: Image.Image) -> tuple[int, int, int, int] | None:
    """x0, y0, x1, y1 (exclusive) of the dark pixels, or None on a blank image."""
    return image.point(lambda v: 255 if v < 128 else 0).getbbox()
