"""Layout files: a warehouse's aisles, cross aisles, depot and storage cells, as JSON.

A layout file describes one node (see the README, "Warehouse layouts"):

    {
      "node": "WH1",
      "depot_m": [2.5, 1.5],
      "aisles": {"first_x_m": 2.5, "pitch_m": 5.0, "count": 8},
      "cross_aisles_y_m": [1.5, 14.5, 27.5],
      "cell_m": 1.0,
      "levels": 4,
      "blocks": [
        {"zone": "A", "first_cell_y_m": 3.5, "cells_per_side": 10},
        {"zone": "B", "first_cell_y_m": 16.5, "cells_per_side": 10}
      ],
      "location_code": "{zone}{aisle:02d}-{bay:02d}-{level}"
    }

Aisles are numbered from 1 left to right. In every block each aisle has `cells_per_side`
cells on each side, `cell_m` apart from `first_cell_y_m`; cell p (from 0) is bay 2p+1 on the
left and bay 2p+2 on the right, with `levels` levels each. A location's code comes from
`location_code` (fields: zone, block, aisle, bay, level, side) and its barcode is
`LOC-<code>`. Blocks lie between consecutive cross aisles, front (smallest y) first.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from app.walks.layout import EPSILON, Layout, LayoutError, Spot

MM = 1000.0
BARCODE_PREFIX = "LOC-"
DEFAULT_CODE = "{zone}{aisle:02d}-{bay:02d}-{level}"


class LayoutFileError(ValueError):
    """A layout file that cannot be used: which field, what is wrong, what is expected."""


@dataclass(frozen=True)
class BlockSpec:
    """One block's storage cells."""

    zone: str
    first_cell_y_m: float
    cells_per_side: int


@dataclass(frozen=True)
class SiteLayout:
    """A node's layout file, read and checked."""

    node: str
    depot_m: tuple[float, float]
    aisle_x_m: tuple[float, ...]
    cross_aisles_y_m: tuple[float, ...]
    cell_m: float
    levels: int
    blocks: tuple[BlockSpec, ...]
    location_code: str
    source: Mapping[str, Any]

    @property
    def layout(self) -> Layout:
        """The walking geometry."""
        return Layout(self.aisle_x_m, self.cross_aisles_y_m, self.depot_m)

    def to_json(self) -> str:
        """The file as stored."""
        return json.dumps(self.source, sort_keys=True)

    def location_rows(self) -> Iterator[dict[str, Any]]:
        """Every storage location the layout defines, as location rows (millimetres)."""
        for b, block in enumerate(self.blocks):
            for a, x in enumerate(self.aisle_x_m, start=1):
                for p in range(block.cells_per_side):
                    y = block.first_cell_y_m + p * self.cell_m
                    for side, bay in (("L", 2 * p + 1), ("R", 2 * p + 2)):
                        for level in range(1, self.levels + 1):
                            code = self.location_code.format(
                                zone=block.zone,
                                block=b + 1,
                                aisle=a,
                                bay=bay,
                                level=level,
                                side=side,
                            )
                            yield {
                                "code": code,
                                "barcode": BARCODE_PREFIX + code,
                                "kind": "pick",
                                "zone": block.zone,
                                "block": b + 1,
                                "aisle": a,
                                "side": side,
                                "bay": bay,
                                "level": level,
                                "x_mm": round(x * MM),
                                "y_mm": round(y * MM),
                            }

    def spot(self, x_mm: int, y_mm: int) -> Spot | None:
        """Where a picker stands for a location at (x_mm, y_mm), or None if it is not on
        an aisle of this layout."""
        return spot_at(self.layout, x_mm, y_mm)


def spot_at(layout: Layout, x_mm: int, y_mm: int) -> Spot | None:
    """The spot of a location at (x_mm, y_mm) on `layout`, or None if it is off the aisles."""
    x = x_mm / MM
    y = y_mm / MM
    for index, ax in enumerate(layout.aisle_x):
        if abs(ax - x) <= 0.001 + EPSILON:
            if layout.cross_y[0] <= y <= layout.cross_y[-1]:
                return Spot(index, y)
            return None
    return None


def parse(text: str, *, where: str = "layout file") -> SiteLayout:
    """Read and check a layout file's JSON text."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LayoutFileError(
            f"{where}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(raw, dict):
        raise LayoutFileError(f"{where}: expected a JSON object, got {type(raw).__name__}")
    return from_dict(raw, where=where)


def from_dict(raw: Mapping[str, Any], *, where: str = "layout file") -> SiteLayout:
    """Check a layout given as a dict (the parsed file)."""
    known = {
        "node",
        "depot_m",
        "aisles",
        "cross_aisles_y_m",
        "cell_m",
        "levels",
        "blocks",
        "location_code",
    }
    unknown = sorted(set(raw) - known)
    if unknown:
        raise LayoutFileError(
            f"{where}: unknown field(s) {', '.join(unknown)}; expected {', '.join(sorted(known))}"
        )

    def fail(field: str, message: str) -> LayoutFileError:
        return LayoutFileError(f"{where}: {field}: {message}")

    node = raw.get("node")
    if not isinstance(node, str) or not node.strip():
        raise fail("node", f"expected the node's code (text), got {node!r}")
    depot = raw.get("depot_m")
    if not (isinstance(depot, list) and len(depot) == 2 and all(_is_number(v) for v in depot)):
        raise fail("depot_m", f"expected [x, y] in metres, got {depot!r}")
    aisles = raw.get("aisles")
    if not isinstance(aisles, dict):
        raise fail(
            "aisles", f'expected {{"first_x_m": …, "pitch_m": …, "count": …}}, got {aisles!r}'
        )
    first_x = _number(aisles, "first_x_m", fail, "aisles.first_x_m")
    pitch = _number(aisles, "pitch_m", fail, "aisles.pitch_m", positive=True)
    count = _integer(aisles, "count", fail, "aisles.count")
    cross = raw.get("cross_aisles_y_m")
    if not (isinstance(cross, list) and len(cross) >= 2 and all(_is_number(v) for v in cross)):
        raise fail(
            "cross_aisles_y_m",
            f"expected at least two y values in metres (front, back), got {cross!r}",
        )
    cell = _number(raw, "cell_m", fail, "cell_m", positive=True)
    levels = _integer(raw, "levels", fail, "levels")
    code = raw.get("location_code", DEFAULT_CODE)
    if not isinstance(code, str) or not code:
        raise fail("location_code", f"expected a format text such as {DEFAULT_CODE!r}")
    blocks_raw = raw.get("blocks")
    if not isinstance(blocks_raw, list) or len(blocks_raw) != len(cross) - 1:
        raise fail(
            "blocks",
            f"expected a list of {len(cross) - 1} block(s), one between each pair of cross "
            f"aisles, got {blocks_raw!r}",
        )
    blocks: list[BlockSpec] = []
    for b, block in enumerate(blocks_raw):
        field = f"blocks[{b}]"
        if not isinstance(block, dict):
            raise fail(field, f"expected an object, got {block!r}")
        zone = block.get("zone")
        if not isinstance(zone, str) or not zone or len(zone) > 20:
            raise fail(f"{field}.zone", f"expected a zone name of 1–20 characters, got {zone!r}")
        first_y = _number(block, "first_cell_y_m", fail, f"{field}.first_cell_y_m")
        cells = _integer(block, "cells_per_side", fail, f"{field}.cells_per_side")
        last_y = first_y + (cells - 1) * cell
        front, back = float(cross[b]), float(cross[b + 1])
        if not (front < first_y - EPSILON and last_y + EPSILON < back):
            raise fail(
                field,
                f"its cells run from y = {first_y:g} to {last_y:g} m; they must lie between "
                f"cross aisles {front:g} and {back:g} m",
            )
        blocks.append(BlockSpec(zone, float(first_y), cells))
    aisle_x = tuple(float(first_x) + i * float(pitch) for i in range(count))
    try:
        layout = SiteLayout(
            node=node.strip(),
            depot_m=(float(depot[0]), float(depot[1])),
            aisle_x_m=aisle_x,
            cross_aisles_y_m=tuple(float(v) for v in cross),
            cell_m=float(cell),
            levels=levels,
            blocks=tuple(blocks),
            location_code=code,
            source=dict(raw),
        )
        layout.layout  # noqa: B018 - builds the geometry, which checks itself
    except LayoutError as exc:
        raise LayoutFileError(f"{where}: {exc}") from None
    _check_codes(layout, fail)
    return layout


def _check_codes(layout: SiteLayout, fail: Any) -> None:
    seen: set[str] = set()
    try:
        for row in layout.location_rows():
            if row["code"] in seen:
                raise fail(
                    "location_code",
                    f"{layout.location_code!r} gives {row['code']!r} twice; include zone, "
                    "aisle, bay and level",
                )
            if len(row["code"]) > 40:
                raise fail("location_code", f"{row['code']!r} is longer than 40 characters")
            seen.add(row["code"])
    except (KeyError, IndexError, ValueError) as exc:
        raise fail(
            "location_code",
            f"{layout.location_code!r} cannot be filled ({exc}); fields are zone, block, "
            "aisle, bay, level, side",
        ) from None


def _is_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _number(
    raw: Mapping[str, Any], key: str, fail: Any, field: str, *, positive: bool = False
) -> float:
    value: Any = raw.get(key)
    if not _is_number(value) or (positive and float(value) <= 0):
        kind = "a positive number" if positive else "a number"
        raise fail(field, f"expected {kind} of metres, got {value!r}")
    return float(value)


def _integer(raw: Mapping[str, Any], key: str, fail: Any, field: str) -> int:
    value = raw.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise fail(field, f"expected a whole number of at least 1, got {value!r}")
    return value
