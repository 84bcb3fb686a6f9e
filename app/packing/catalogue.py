"""The built-in box, material and carrier catalogue, used when no catalogue is given.

Stock sizes as corrugated-box suppliers sell them (single wall, 3 mm B flute: outer = inner
+ 6 mm each way, + 8 mm in height for the flaps; the two largest double wall), with typical
tares, a safe packed weight for the board and prices for a few thousand at a time. The
carriers' prices match the default shipping settings' GROUND and EXPRESS.
"""

from __future__ import annotations

from decimal import Decimal

from app.packing.cartonize import BoxType, CarrierRate, Material


def _box(
    code: str,
    name: str,
    inner: tuple[int, int, int],
    wall: tuple[int, int, int],
    tare: int,
    max_weight: int,
    cost: str,
    *,
    carriers: frozenset[str] = frozenset(),
    hazmat_ok: bool = False,
) -> BoxType:
    return BoxType(
        code=code,
        name=name,
        inner_length=inner[0],
        inner_width=inner[1],
        inner_height=inner[2],
        outer_length=inner[0] + wall[0],
        outer_width=inner[1] + wall[1],
        outer_height=inner[2] + wall[2],
        tare=tare,
        max_weight=max_weight,
        cost=Decimal(cost),
        carriers=carriers,
        hazmat_ok=hazmat_ok,
    )


SINGLE = (6, 6, 8)
DOUBLE = (10, 10, 14)

DEFAULT_BOXES: tuple[BoxType, ...] = (
    _box("MLR-S", "Mailer S (A5)", (230, 160, 45), SINGLE, 80, 3_000, "0.32"),
    _box("MLR-M", "Mailer M (A4)", (310, 220, 80), SINGLE, 150, 5_000, "0.46"),
    _box("BOX-XS", "Box XS", (200, 150, 100), SINGLE, 110, 5_000, "0.34"),
    _box("BOX-S", "Box S", (250, 200, 150), SINGLE, 180, 10_000, "0.45"),
    _box("BOX-M", "Box M", (350, 250, 200), SINGLE, 300, 15_000, "0.62"),
    _box("BOX-L", "Box L", (400, 300, 300), SINGLE, 430, 20_000, "0.84"),
    _box("BOX-XL", "Box XL", (500, 400, 300), DOUBLE, 780, 30_000, "1.35"),
    _box("BOX-XXL", "Box XXL", (600, 400, 400), DOUBLE, 980, 30_000, "1.75"),
    _box("BOX-TALL", "Tall box for bottles", (300, 200, 360), SINGLE, 340, 15_000, "0.72"),
    _box("BOX-LONG", "Long box", (700, 150, 150), SINGLE, 380, 10_000, "0.95"),
    _box(
        "HAZ-4G",
        "UN 4G dangerous goods box",
        (300, 250, 250),
        DOUBLE,
        520,
        20_000,
        "3.20",
        carriers=frozenset({"GROUND"}),
        hazmat_ok=True,
    ),
)
"""Ten boxes and mailers, and one UN-approved box for dangerous goods (by road only)."""

DEFAULT_MATERIALS: tuple[Material, ...] = (
    Material("VOID-AIR", "Air pillows", "void_fill", Decimal("0.015"), 2),
    Material("BUBBLE", "Bubble wrap sleeve", "bubble_wrap", Decimal("0.15"), 12),
    Material("BAG", "Sealed poly bag", "bag", Decimal("0.05"), 6),
    Material("DIVIDER", "Corrugated divider", "divider", Decimal("0.12"), 35),
)

DEFAULT_RATES: tuple[CarrierRate, ...] = (
    CarrierRate("GROUND", 5000, Decimal("4.20"), Decimal("0.85"), 31_500),
    CarrierRate("EXPRESS", 5000, Decimal("8.90"), Decimal("1.60"), 70_000),
    # 139 in³/lb, the divisor of the US parcel networks' retail rates, is 5022 mm³/g.
    CarrierRate("POSTAL", 5022, Decimal("3.80"), Decimal("1.10"), 20_000),
)
"""The first is the default carrier."""
