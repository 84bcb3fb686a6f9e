"""The site's shipping settings, kept in the store under the key ``shipping``.

Stored as JSON (every field optional; missing ones take the default)::

    {"gs1_company_prefix": "5012345",
     "sscc_extension_digit": 0,
     "carriers": {"GROUND": {"name": "Ground Parcel", "tracking_prefix": "GP",
                             "account": "SF-0001"}, ...},
     "seller": {"name": "Shipfloor Demo Ltd", "lines": ["1 Harbour Road"], "city": "Leeds",
                "region": "", "postal_code": "LS1 1AA", "country": "GB",
                "email": "orders@example.com", "phone": "", "tax_id": "GB123456789"},
     "tax_rates": {"default": "0", "GB": "0.20", "US-CA": "0.0725"},
     "invoice_prefix": "INV-"}

``gs1_company_prefix`` (7 to 10 digits, from GS1) and the extension digit make every SSCC
``extension + prefix + serial + check digit``; the serial comes from a store sequence, so an
SSCC is never given twice. A carrier's ``tracking_prefix`` starts the tracking numbers
Shipfloor assigns from the number range the carrier gave the site: prefix, 10-digit serial,
GS1 mod-10 check digit. Tax rates are looked up by ``COUNTRY-REGION``, then ``COUNTRY``,
then ``default``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from app.actor import Actor
from data import settings as store
from data.store import StoreEngine
from data.types import utcnow
from data.uow import UnitOfWork

KEY = "shipping"
DEFAULT_CARRIERS = {
    "GROUND": ("Ground Parcel", "GP"),
    "EXPRESS": ("Express Courier", "EX"),
    "PICKUP": ("Store Pickup", "PU"),
}
_PREFIX = re.compile(r"[A-Z0-9]{1,10}")
PARTY_KEYS = ("name", "company", "lines", "city", "region", "postal_code", "country")
PARTY_KEYS_ALL = (*PARTY_KEYS, "email", "phone", "tax_id")


class ShippingSettingsError(ValueError):
    """A shipping setting that cannot be used: which one, what is wrong, what is expected."""


@dataclass(frozen=True)
class Carrier:
    code: str
    name: str
    tracking_prefix: str
    account: str = ""


@dataclass(frozen=True)
class ShippingSettings:
    gs1_company_prefix: str | None = None
    sscc_extension_digit: int = 0
    carriers: Mapping[str, Carrier] = field(
        default_factory=lambda: {
            code: Carrier(code, name, prefix) for code, (name, prefix) in DEFAULT_CARRIERS.items()
        }
    )
    seller: Mapping[str, Any] = field(default_factory=dict)
    tax_rates: Mapping[str, Decimal] = field(default_factory=lambda: {"default": Decimal("0")})
    invoice_prefix: str = "INV-"

    def carrier(self, code: str) -> Carrier:
        found = self.carriers.get(code)
        if found is None:
            known = ", ".join(sorted(self.carriers)) or "none"
            raise ShippingSettingsError(
                f"carrier {code!r} is not in the shipping settings (carriers: {known}); add it "
                "with `shipfloor shipping settings --file FILE`"
            )
        return found

    def tax_rate(self, country: str, region: str = "") -> Decimal:
        for key in (f"{country}-{region}".upper(), country.upper(), "default"):
            if key in self.tax_rates:
                return self.tax_rates[key]
        return Decimal("0")

    def company_prefix(self) -> str:
        if not self.gs1_company_prefix:
            raise ShippingSettingsError(
                "the site has no GS1 company prefix, so no SSCC can be made: set "
                '"gs1_company_prefix" with `shipfloor shipping settings --file FILE`'
            )
        return self.gs1_company_prefix

    def to_dict(self) -> dict[str, Any]:
        return {
            "gs1_company_prefix": self.gs1_company_prefix,
            "sscc_extension_digit": self.sscc_extension_digit,
            "carriers": {
                c.code: {"name": c.name, "tracking_prefix": c.tracking_prefix, "account": c.account}
                for c in self.carriers.values()
            },
            "seller": dict(self.seller),
            "tax_rates": {k: str(v) for k, v in self.tax_rates.items()},
            "invoice_prefix": self.invoice_prefix,
        }


def from_dict(raw: Mapping[str, Any], base: ShippingSettings | None = None) -> ShippingSettings:
    """Settings from JSON values on top of ``base``; every mistake is named."""
    base = base or ShippingSettings()
    if not isinstance(raw, Mapping):
        raise ShippingSettingsError(f"expected a JSON object, got {raw!r}")
    known = {
        "gs1_company_prefix",
        "sscc_extension_digit",
        "carriers",
        "seller",
        "tax_rates",
        "invoice_prefix",
    }
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ShippingSettingsError(
            f"unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    out: dict[str, Any] = {}
    if raw.get("gs1_company_prefix") is not None:
        prefix = raw["gs1_company_prefix"]
        if not isinstance(prefix, str) or not prefix.isdigit() or not 7 <= len(prefix) <= 10:
            raise ShippingSettingsError(
                f"gs1_company_prefix: expected the 7 to 10 digits GS1 gave the company (as "
                f"text), got {prefix!r}"
            )
        out["gs1_company_prefix"] = prefix
    if "sscc_extension_digit" in raw:
        digit = raw["sscc_extension_digit"]
        if not isinstance(digit, int) or isinstance(digit, bool) or not 0 <= digit <= 9:
            raise ShippingSettingsError(f"sscc_extension_digit: expected 0 to 9, got {digit!r}")
        out["sscc_extension_digit"] = digit
    if "carriers" in raw:
        out["carriers"] = _carriers(raw["carriers"], base.carriers)
    if "seller" in raw:
        out["seller"] = _seller(raw["seller"])
    if "tax_rates" in raw:
        out["tax_rates"] = _rates(raw["tax_rates"])
    if "invoice_prefix" in raw:
        prefix = raw["invoice_prefix"]
        if not isinstance(prefix, str) or len(prefix) > 20:
            raise ShippingSettingsError(
                f"invoice_prefix: expected text of up to 20 characters, got {prefix!r}"
            )
        out["invoice_prefix"] = prefix
    return ShippingSettings(**{**base.__dict__, **out})


def _carriers(raw: object, base: Mapping[str, Carrier]) -> dict[str, Carrier]:
    if not isinstance(raw, dict):
        raise ShippingSettingsError(f"carriers: expected an object by carrier code, got {raw!r}")
    out = dict(base)
    for code, body in raw.items():
        where = f"carriers.{code}"
        if not isinstance(body, dict):
            raise ShippingSettingsError(f"{where}: expected an object, got {body!r}")
        unknown = sorted(set(body) - {"name", "tracking_prefix", "account"})
        if unknown:
            raise ShippingSettingsError(
                f"{where}: unknown field(s) {', '.join(unknown)}; known: account, name, "
                "tracking_prefix"
            )
        current = out.get(code, Carrier(code, code, ""))
        name = body.get("name", current.name)
        prefix = body.get("tracking_prefix", current.tracking_prefix)
        account = body.get("account", current.account)
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 60:
            raise ShippingSettingsError(f"{where}.name: expected 1–60 characters, got {name!r}")
        if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
            raise ShippingSettingsError(
                f"{where}.tracking_prefix: expected 1–10 capital letters or digits, got {prefix!r}"
            )
        if not isinstance(account, str) or len(account) > 40:
            raise ShippingSettingsError(f"{where}.account: expected up to 40 characters")
        out[code] = Carrier(code, name.strip(), prefix, account)
    return out


def _seller(raw: object) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ShippingSettingsError(f"seller: expected an object, got {raw!r}")
    unknown = sorted(set(raw) - set(PARTY_KEYS_ALL))
    if unknown:
        raise ShippingSettingsError(
            f"seller: unknown field(s) {', '.join(unknown)}; known: {', '.join(PARTY_KEYS_ALL)}"
        )
    for key, value in raw.items():
        if key == "lines":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ShippingSettingsError("seller.lines: expected a list of address lines")
        elif not isinstance(value, str):
            raise ShippingSettingsError(f"seller.{key}: expected text, got {value!r}")
    if not str(raw.get("name", "")).strip():
        raise ShippingSettingsError("seller.name: the seller needs a name")
    return dict(raw)


def _rates(raw: object) -> dict[str, Decimal]:
    if not isinstance(raw, dict):
        raise ShippingSettingsError(f"tax_rates: expected an object, got {raw!r}")
    out: dict[str, Decimal] = {}
    for key, value in raw.items():
        try:
            rate = Decimal(str(value)) if isinstance(value, str | int) else None
        except InvalidOperation:
            rate = None
        if (
            rate is None
            or isinstance(value, bool)
            or not Decimal(0) <= rate < 1
            or rate.as_tuple().exponent < -4  # type: ignore[operator]
        ):
            raise ShippingSettingsError(
                f'tax_rates.{key}: expected a rate from "0" to below "1" with at most 4 '
                f'decimals, as text ("0.20" for 20 %), got {value!r}'
            )
        out[key if key == "default" else key.upper()] = rate
    out.setdefault("default", Decimal("0"))
    return out


def load(engine: StoreEngine) -> ShippingSettings:
    with UnitOfWork(engine, read_only=True) as uow:
        text = store.get(uow.session, KEY)
    return from_dict(json.loads(text)) if text else ShippingSettings()


def save(engine: StoreEngine, changes: Mapping[str, Any], actor: Actor) -> ShippingSettings:
    """Apply ``changes`` on top of the stored settings and store the result."""
    with UnitOfWork(engine) as uow:
        text = store.get(uow.session, KEY)
        current = from_dict(json.loads(text)) if text else ShippingSettings()
        updated = from_dict(changes, current)
        store.put(uow.session, KEY, json.dumps(updated.to_dict()), actor=actor.name, at=utcnow())
        uow.commit()
    return updated
