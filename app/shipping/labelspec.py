"""A shipping label as JSON, for `shipfloor label render --from-json` (support and testing).

::

    {"ship_from": {"name": "Shipfloor Demo", "lines": ["1 Dock Road"], "city": "Leeds",
                   "postal_code": "LS1 1AA", "country": "GB"},
     "ship_to": {"name": "Zoë Łukasiewicz", "company": "", "lines": ["Flat 2", "5 High St"],
                 "city": "York", "region": "", "postal_code": "YO1 7HH", "country": "GB",
                 "phone": "+44 1904 000000"},
     "carrier": "GROUND", "service": "Ground Parcel standard",
     "weight_g": 2500, "package_number": 1, "package_count": 2,
     "order_ref": "web/W-1001", "shipment_ref": "S-17",
     "tracking_number": "GP00000000017", "sscc": "050123450000000015"}

Addresses take ``name`` (required), ``company``, ``lines`` (a list), ``city``, ``region``,
``postal_code``, ``country`` and ``phone``; every other field is required.

``parse`` checks the shape (fields and their types); the values are checked, against the
shipping settings, by ``app.shipping.labelcheck`` like every label's.
"""

from __future__ import annotations

import json
from typing import Any, cast

from printing import label

ADDRESS_KEYS = ("name", "company", "lines", "city", "region", "postal_code", "country", "phone")
LABEL_KEYS = {
    "ship_from": dict,
    "ship_to": dict,
    "carrier": str,
    "service": str,
    "weight_g": int,
    "package_number": int,
    "package_count": int,
    "order_ref": str,
    "shipment_ref": str,
    "tracking_number": str,
    "sscc": str,
}


class LabelSpecError(ValueError):
    """The JSON does not describe a label; the message names the field and the fix."""


def parse(text: str, where: str = "label JSON") -> label.ShippingLabel:
    """The label the JSON describes; LabelSpecError names what is missing or mistyped."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LabelSpecError(f"{where} is not JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise LabelSpecError(f"{where}: expected a JSON object, got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(LABEL_KEYS))
    if unknown:
        raise LabelSpecError(
            f"{where}: unknown field {unknown[0]!r}; the fields are {', '.join(LABEL_KEYS)}"
        )
    missing = [k for k in LABEL_KEYS if k not in raw]
    if missing:
        raise LabelSpecError(f"{where}: {missing[0]!r} is missing")
    values: dict[str, Any] = {}
    for key, kind in LABEL_KEYS.items():
        value = raw[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            want = {dict: "an object", str: "text", int: "a whole number"}[kind]
            raise LabelSpecError(f"{where}: {key} must be {want}, not {value!r}")
        values[key] = (
            _address(cast(dict[str, Any], value), f"{where}: {key}") if kind is dict else value
        )
    return label.ShippingLabel(**values)


def _address(raw: dict[str, Any], where: str) -> label.Address:
    unknown = sorted(set(raw) - set(ADDRESS_KEYS))
    if unknown:
        raise LabelSpecError(
            f"{where}: unknown field {unknown[0]!r}; an address has {', '.join(ADDRESS_KEYS)}"
        )
    if not isinstance(raw.get("name"), str) or not raw["name"].strip():
        raise LabelSpecError(f"{where}.name: every address needs a name")
    lines = raw.get("lines", [])
    if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
        raise LabelSpecError(f"{where}.lines must be a list of text lines, not {lines!r}")
    for key in ADDRESS_KEYS:
        if key != "lines" and key in raw and not isinstance(raw[key], str):
            raise LabelSpecError(f"{where}.{key} must be text, not {raw[key]!r}")
    return label.Address(
        name=raw["name"],
        company=raw.get("company", ""),
        lines=tuple(lines),
        city=raw.get("city", ""),
        region=raw.get("region", ""),
        postal_code=raw.get("postal_code", ""),
        country=raw.get("country", ""),
        phone=raw.get("phone", ""),
    )
