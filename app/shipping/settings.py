"""The site's shipping settings, kept in the store under the key ``shipping``.

Stored as JSON (every field optional; missing ones take the default)::

    {"gs1_company_prefix": "5012345",
     "sscc_extension_digit": 0,
     "carriers": {"GROUND": {"name": "Ground Parcel", "tracking_prefix": "GP",
                             "account": "SF-0001", "max_weight_g": 31500}, ...},
     "seller": {"name": "Shipfloor Demo Ltd", "lines": ["1 Harbour Road"], "city": "Leeds",
                "region": "", "postal_code": "LS1 1AA", "country": "GB",
                "email": "orders@example.com", "phone": "", "tax_id": "GB123456789"},
     "tax_rates": {"default": "0", "GB": "0.20", "US-CA": "0.0725"},
     "invoice_prefix": "INV-",
     "max_package_weight_g": 70000,
     "ship_to_countries": ["GB", "IE"],
     "expedite_late": false}

``gs1_company_prefix`` (7 to 10 digits, from GS1) and the extension digit make every SSCC
``extension + prefix + serial + check digit``; the serial comes from a store sequence, so an
SSCC is never given twice. A carrier's ``tracking_prefix`` starts the tracking numbers
Shipfloor assigns from the number range the carrier gave the site: prefix, 10-digit serial,
GS1 mod-10 check digit. Tax rates are looked up by ``COUNTRY-REGION``, then ``COUNTRY``,
then ``default``.

``max_package_weight_g`` is the heaviest package a label is printed for (default 70 kg: the
per-package limit of the big parcel networks, DHL Express 70 kg, UPS and FedEx 150 lb =
68 kg); a carrier's ``max_weight_g`` overrides it for that carrier. ``ship_to_countries``
lists the ISO 3166-1 alpha-2 codes the site ships to; empty (the default) means any country.
Country codes are checked against libphonenumber's regions, the list order intake verifies
addresses against.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers

from app.actor import Actor
from app.carriers import tracking
from data import settings as store
from data.store import StoreEngine
from data.types import utcnow
from data.uow import UnitOfWork

KEY = "shipping"
DEFAULT_CARRIERS = {
    "GROUND": ("Ground Parcel", "GP", Decimal("4.20"), Decimal("0.85")),
    "EXPRESS": ("Express Courier", "EX", Decimal("8.90"), Decimal("1.60")),
    "PICKUP": ("Store Pickup", "PU", Decimal("0"), Decimal("0")),
}
_PREFIX = re.compile(r"[A-Z0-9]{1,10}")
PARTY_KEYS = ("name", "company", "lines", "city", "region", "postal_code", "country")
PARTY_KEYS_ALL = (*PARTY_KEYS, "email", "phone", "tax_id")
COUNTRIES = frozenset(phonenumbers.SUPPORTED_REGIONS)
"""ISO 3166-1 alpha-2 codes (libphonenumber's regions, as order intake uses)."""
DEFAULT_MAX_PACKAGE_WEIGHT_G = 70_000
WEIGHT_LIMIT_G = 999_949
"""No weight bound may exceed what a label can show ("999.9 kg")."""


class ShippingSettingsError(ValueError):
    """A shipping setting that cannot be used: which one, what is wrong, what is expected."""


@dataclass(frozen=True)
class Band:
    """One distance band of a service's rate table: parcels going up to ``up_to_km`` (None:
    any distance) take ``days`` and cost ``base`` plus ``per_kg`` per started kilogram."""

    up_to_km: int | None
    days: int
    base: Decimal
    per_kg: Decimal


@dataclass(frozen=True)
class Service:
    """A carrier's service in the site's own rate table."""

    code: str
    name: str
    levels: tuple[str, ...]
    """The order service levels it may carry (``standard``, ``express``, ``next_day``)."""
    bands: tuple[Band, ...]
    """Nearest first; the first whose ``up_to_km`` covers the distance applies."""
    cutoff: str = ""
    """``HH:MM`` at the node: a parcel handed over later leaves the next day."""
    fuel_pct: Decimal = Decimal("0")
    """Fuel surcharge, a fraction of the charge ("0.12" is 12 %)."""
    residential: Decimal = Decimal("0")
    """Added for a delivery to a person rather than a company."""
    oversize_mm: int | None = None
    """A parcel with a side longer than this pays ``oversize``."""
    oversize: Decimal = Decimal("0")


@dataclass(frozen=True)
class Carrier:
    code: str
    name: str
    tracking_prefix: str
    account: str = ""
    max_weight_g: int | None = None
    """The heaviest package this carrier takes; None: the site's max_package_weight_g."""
    dim_divisor: int = 5000
    """Dimensional weight: a package's outer volume in mm³ over this is its weight in grams
    for billing (5,000 cm³/kg is 5000; 139 in³/lb is about 5022)."""
    base_charge: Decimal = Decimal("0")
    """What the carrier charges per package, before weight."""
    per_kg: Decimal = Decimal("0")
    """What the carrier charges per started kilogram of billable weight."""
    tracking_format: str = "site"
    """How its tracking numbers look (see app.carriers.tracking): site, ups, usps, fedex."""
    services: tuple[Service, ...] = ()
    """Its services with the site's rate tables; none: the carrier is not rate-shopped."""
    api: str = ""
    """The carrier's API its shipments are created through (``ups``); "": labels are the
    site's own, numbered from the carrier's range."""


@dataclass(frozen=True)
class ShippingSettings:
    gs1_company_prefix: str | None = None
    sscc_extension_digit: int = 0
    carriers: Mapping[str, Carrier] = field(
        default_factory=lambda: {
            code: Carrier(code, name, prefix, base_charge=base, per_kg=per_kg)
            for code, (name, prefix, base, per_kg) in DEFAULT_CARRIERS.items()
        }
    )
    seller: Mapping[str, Any] = field(default_factory=dict)
    tax_rates: Mapping[str, Decimal] = field(default_factory=lambda: {"default": Decimal("0")})
    invoice_prefix: str = "INV-"
    max_package_weight_g: int = DEFAULT_MAX_PACKAGE_WEIGHT_G
    """The heaviest package a label is printed for, unless its carrier says otherwise."""
    ship_to_countries: tuple[str, ...] = ()
    """The countries (ISO 3166-1 alpha-2) the site ships to; empty: any country."""
    expedite_late: bool = False
    """Rate shopping for an order past its promised date takes the soonest service (else
    the cheapest that carries its service level)."""

    def max_weight_g(self, carrier: str) -> tuple[int, str]:
        """The heaviest package ``carrier`` takes, and the setting that says so."""
        found = self.carriers.get(carrier)
        if found is not None and found.max_weight_g is not None:
            return found.max_weight_g, f"carriers.{carrier}.max_weight_g"
        return self.max_package_weight_g, "max_package_weight_g"

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
            "carriers": {c.code: _carrier_dict(c) for c in self.carriers.values()},
            "seller": dict(self.seller),
            "tax_rates": {k: str(v) for k, v in self.tax_rates.items()},
            "invoice_prefix": self.invoice_prefix,
            "max_package_weight_g": self.max_package_weight_g,
            "ship_to_countries": list(self.ship_to_countries),
            "expedite_late": self.expedite_late,
        }


def _carrier_dict(carrier: Carrier) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": carrier.name,
        "tracking_prefix": carrier.tracking_prefix,
        "account": carrier.account,
    }
    if carrier.max_weight_g is not None:
        out["max_weight_g"] = carrier.max_weight_g
    out["dim_divisor"] = carrier.dim_divisor
    out["base_charge"] = str(carrier.base_charge)
    out["per_kg"] = str(carrier.per_kg)
    out["tracking_format"] = carrier.tracking_format
    if carrier.api:
        out["api"] = carrier.api
    if carrier.services:
        out["services"] = {sv.code: _service_dict(sv) for sv in carrier.services}
    return out


def _service_dict(service: Service) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": service.name,
        "levels": list(service.levels),
        "bands": [
            {
                "up_to_km": b.up_to_km,
                "days": b.days,
                "base": str(b.base),
                "per_kg": str(b.per_kg),
            }
            for b in service.bands
        ],
        "cutoff": service.cutoff,
        "fuel_pct": str(service.fuel_pct),
        "residential": str(service.residential),
        "oversize": str(service.oversize),
    }
    if service.oversize_mm is not None:
        out["oversize_mm"] = service.oversize_mm
    return out


LEVELS = ("standard", "express", "next_day")
APIS = ("", "ups")
"""Carrier APIs Shipfloor speaks (app.carriers.registry)."""
_CODE = re.compile(r"[A-Z0-9_]{1,40}")
_CUTOFF = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


def _services(where: str, raw: object) -> tuple[Service, ...]:
    if not isinstance(raw, dict):
        raise ShippingSettingsError(f"{where}: expected an object by service code, got {raw!r}")
    out = []
    for code, body in raw.items():
        here = f"{where}.{code}"
        if not isinstance(code, str) or not _CODE.fullmatch(code):
            raise ShippingSettingsError(
                f"{where}: a service code is 1–40 capital letters, digits or _, got {code!r}"
            )
        if not isinstance(body, dict):
            raise ShippingSettingsError(f"{here}: expected an object, got {body!r}")
        known = {
            "name",
            "levels",
            "bands",
            "cutoff",
            "fuel_pct",
            "residential",
            "oversize_mm",
            "oversize",
        }
        unknown = sorted(set(body) - known)
        if unknown:
            raise ShippingSettingsError(
                f"{here}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        name = body.get("name", code)
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 60:
            raise ShippingSettingsError(f"{here}.name: expected 1–60 characters, got {name!r}")
        levels = body.get("levels", [])
        if (
            not isinstance(levels, list)
            or not levels
            or any(level not in LEVELS for level in levels)
        ):
            raise ShippingSettingsError(
                f"{here}.levels: expected a list of the service levels it carries "
                f"({', '.join(LEVELS)}), got {levels!r}"
            )
        bands = _bands(f"{here}.bands", body.get("bands"))
        cutoff = body.get("cutoff", "")
        if not isinstance(cutoff, str) or (cutoff and not _CUTOFF.fullmatch(cutoff)):
            raise ShippingSettingsError(
                f'{here}.cutoff: expected the time at the node as "HH:MM" ("17:30"), got {cutoff!r}'
            )
        fuel = _charge(f"{here}.fuel_pct", body.get("fuel_pct", "0"))
        if fuel >= 1:
            raise ShippingSettingsError(
                f'{here}.fuel_pct: expected a fraction below 1 ("0.12" for 12 %), got {fuel}'
            )
        oversize_mm = body.get("oversize_mm")
        if oversize_mm is not None and (
            not isinstance(oversize_mm, int) or isinstance(oversize_mm, bool) or oversize_mm < 1
        ):
            raise ShippingSettingsError(
                f"{here}.oversize_mm: expected whole millimetres, got {oversize_mm!r}"
            )
        out.append(
            Service(
                code,
                name.strip(),
                tuple(levels),
                bands,
                cutoff,
                fuel,
                _charge(f"{here}.residential", body.get("residential", "0")),
                oversize_mm,
                _charge(f"{here}.oversize", body.get("oversize", "0")),
            )
        )
    return tuple(out)


def _bands(where: str, raw: object) -> tuple[Band, ...]:
    if not isinstance(raw, list) or not raw:
        raise ShippingSettingsError(
            f'{where}: expected a list of distance bands such as [{{"up_to_km": 300, '
            f'"days": 1, "base": "5.10", "per_kg": "0.40"}}], got {raw!r}'
        )
    out = []
    last = 0
    for n, band in enumerate(raw, 1):
        here = f"{where}[{n}]"
        if not isinstance(band, dict) or set(band) - {"up_to_km", "days", "base", "per_kg"}:
            raise ShippingSettingsError(
                f"{here}: expected an object with up_to_km, days, base and per_kg, got {band!r}"
            )
        up_to = band.get("up_to_km")
        final = n == len(raw)
        if up_to is None and not final:
            raise ShippingSettingsError(f"{here}.up_to_km: only the last band may be open-ended")
        if up_to is not None and (
            not isinstance(up_to, int) or isinstance(up_to, bool) or up_to <= last
        ):
            raise ShippingSettingsError(
                f"{here}.up_to_km: expected whole kilometres above the band before ({last}), "
                f"got {up_to!r}"
            )
        days = band.get("days")
        if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 60:
            raise ShippingSettingsError(
                f"{here}.days: expected the days in transit from 0 to 60, got {days!r}"
            )
        out.append(
            Band(
                up_to,
                days,
                _charge(f"{here}.base", band.get("base", "0")),
                _charge(f"{here}.per_kg", band.get("per_kg", "0")),
            )
        )
        last = up_to or last
    return tuple(out)


def _charge(where: str, value: object) -> Decimal:
    try:
        amount = Decimal(str(value)) if isinstance(value, str | int) else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0 or isinstance(value, bool):
        raise ShippingSettingsError(
            f'{where}: expected an amount of money of 0 or more as a string ("4.50"), got {value!r}'
        )
    return amount


def _weight_bound(where: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= WEIGHT_LIMIT_G:
        raise ShippingSettingsError(
            f"{where}: expected whole grams from 1 to {WEIGHT_LIMIT_G} (70 kg is 70000), "
            f"got {value!r}"
        )
    return value


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
        "max_package_weight_g",
        "ship_to_countries",
        "expedite_late",
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
    if "max_package_weight_g" in raw:
        out["max_package_weight_g"] = _weight_bound(
            "max_package_weight_g", raw["max_package_weight_g"]
        )
    if "ship_to_countries" in raw:
        out["ship_to_countries"] = _countries(raw["ship_to_countries"])
    if "expedite_late" in raw:
        if not isinstance(raw["expedite_late"], bool):
            raise ShippingSettingsError(
                f"expedite_late: expected true or false, got {raw['expedite_late']!r}"
            )
        out["expedite_late"] = raw["expedite_late"]
    return ShippingSettings(**{**base.__dict__, **out})


def _carriers(raw: object, base: Mapping[str, Carrier]) -> dict[str, Carrier]:
    if not isinstance(raw, dict):
        raise ShippingSettingsError(f"carriers: expected an object by carrier code, got {raw!r}")
    out = dict(base)
    for code, body in raw.items():
        where = f"carriers.{code}"
        if not isinstance(body, dict):
            raise ShippingSettingsError(f"{where}: expected an object, got {body!r}")
        known = {
            "name",
            "tracking_prefix",
            "account",
            "max_weight_g",
            "dim_divisor",
            "base_charge",
            "per_kg",
            "tracking_format",
            "services",
            "api",
        }
        unknown = sorted(set(body) - known)
        if unknown:
            raise ShippingSettingsError(
                f"{where}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
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
        max_weight = body.get("max_weight_g", current.max_weight_g)
        if max_weight is not None:
            max_weight = _weight_bound(f"{where}.max_weight_g", max_weight)
        divisor = body.get("dim_divisor", current.dim_divisor)
        if (
            not isinstance(divisor, int)
            or isinstance(divisor, bool)
            or not 1000 <= divisor <= 20000
        ):
            raise ShippingSettingsError(
                f"{where}.dim_divisor: expected mm³ per gram from 1000 to 20000 (5,000 cm³/kg "
                f"is 5000), got {divisor!r}"
            )
        fmt = body.get("tracking_format", current.tracking_format)
        if fmt not in tracking.FORMATS:
            raise ShippingSettingsError(
                f"{where}.tracking_format: expected one of {', '.join(tracking.FORMATS)}, "
                f"got {fmt!r}"
            )
        try:
            tracking.make(fmt, 1, prefix=prefix, account=account)
        except tracking.TrackingError as exc:
            raise ShippingSettingsError(f"{where}: {exc}") from None
        services = (
            _services(f"{where}.services", body["services"])
            if "services" in body
            else current.services
        )
        api = body.get("api", current.api)
        if api not in APIS:
            raise ShippingSettingsError(
                f'{where}.api: expected one of {", ".join(repr(a) for a in APIS)} ("" for '
                f"labels of the site's own), got {api!r}"
            )
        out[code] = Carrier(
            code,
            name.strip(),
            prefix,
            account,
            max_weight,
            divisor,
            _charge(f"{where}.base_charge", body.get("base_charge", str(current.base_charge))),
            _charge(f"{where}.per_kg", body.get("per_kg", str(current.per_kg))),
            fmt,
            services,
            api,
        )
    return out


def _countries(raw: object) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(code, str) for code in raw):
        raise ShippingSettingsError(
            f'ship_to_countries: expected a list of country codes such as ["GB", "IE"], got {raw!r}'
        )
    for code in raw:
        if code.upper() not in COUNTRIES:
            raise ShippingSettingsError(
                f"ship_to_countries: {code!r} is not an ISO 3166-1 alpha-2 country code "
                "(such as GB, US or DE)"
            )
    return tuple(dict.fromkeys(code.upper() for code in raw))


def _seller(raw: object) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ShippingSettingsError(f"seller: expected an object, got {raw!r}")
    if not raw:
        return {}  # no seller: documents show the shipping node (what to_dict writes for none)
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
