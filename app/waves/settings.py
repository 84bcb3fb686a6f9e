"""The site's wave settings, kept in the store so every PC plans alike.

Stored under the key `waves` as JSON (every field optional; missing ones take the default):

    {"group_by": ["cutoff", "priority", "zone"],
     "services": {"standard": {"carrier": "GROUND", "service": "Ground", "priority": 3,
                               "cutoff": null}, ...},
     "max_orders_per_wave": 1000,
     "cart": {"totes": 12, "items": 60, "volume_l": 300, "weight_kg": 150},
     "routing": "optimal",
     "walk_m_per_s": 1.0, "seconds_per_stop": 8.0, "seconds_per_unit": 2.0,
     "batching_seconds": 3.0}

A service's `cutoff` is the carrier's collection time ("HH:MM", the node's local time); null
takes the node's own cut-off. `priority` 1 is picked first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import time
from typing import Any

from app.actor import Actor
from app.walks.paths import POLICIES
from app.waves.batching import Cart
from data import settings as store
from data.models import ServiceLevel
from data.store import StoreEngine
from data.types import utcnow
from data.uow import UnitOfWork

KEY = "waves"
GROUPINGS = ("cutoff", "priority", "zone")


class WaveSettingsError(ValueError):
    """A wave setting that cannot be used: which one, what is wrong, what is expected."""


@dataclass(frozen=True)
class ServiceRule:
    """How one service level leaves the building."""

    carrier: str
    service: str
    priority: int
    cutoff: time | None = None


def _default_services() -> dict[ServiceLevel, ServiceRule]:
    return {
        ServiceLevel.NEXT_DAY: ServiceRule("EXPRESS", "Next Day", 1),
        ServiceLevel.EXPRESS: ServiceRule("EXPRESS", "2-Day", 2),
        ServiceLevel.PICKUP: ServiceRule("PICKUP", "In store", 2),
        ServiceLevel.STANDARD: ServiceRule("GROUND", "Ground", 3),
    }


@dataclass(frozen=True)
class WaveSettings:
    """How waves are planned and released."""

    group_by: tuple[str, ...] = GROUPINGS
    services: Mapping[ServiceLevel, ServiceRule] = field(default_factory=_default_services)
    max_orders_per_wave: int = 1000
    cart: Cart = Cart(totes=12, items=60, volume_cm3=300_000, weight_g=150_000)
    routing: str = "optimal"
    walk_m_per_s: float = 1.0
    seconds_per_stop: float = 8.0
    seconds_per_unit: float = 2.0
    batching_seconds: float = 3.0

    def estimate_seconds(self, distance_m: float | None, stops: int, units: int) -> float:
        """How long picking takes: walking (none known without a layout), stops, units."""
        return (
            (distance_m or 0.0) / self.walk_m_per_s
            + stops * self.seconds_per_stop
            + units * self.seconds_per_unit
        )

    def to_dict(self) -> dict[str, Any]:
        """The settings as stored."""
        return {
            "group_by": list(self.group_by),
            "services": {
                str(level): {
                    "carrier": rule.carrier,
                    "service": rule.service,
                    "priority": rule.priority,
                    "cutoff": rule.cutoff.strftime("%H:%M") if rule.cutoff else None,
                }
                for level, rule in self.services.items()
            },
            "max_orders_per_wave": self.max_orders_per_wave,
            "cart": {
                "totes": self.cart.totes,
                "items": self.cart.items,
                "volume_l": self.cart.volume_cm3 / 1000,
                "weight_kg": self.cart.weight_g / 1000,
            },
            "routing": self.routing,
            "walk_m_per_s": self.walk_m_per_s,
            "seconds_per_stop": self.seconds_per_stop,
            "seconds_per_unit": self.seconds_per_unit,
            "batching_seconds": self.batching_seconds,
        }


def from_dict(raw: Mapping[str, Any], base: WaveSettings | None = None) -> WaveSettings:
    """Settings from their JSON form; fields left out keep `base`'s (or the default)."""
    current = base or WaveSettings()
    known = set(current.to_dict())
    unknown = sorted(set(raw) - known)
    if unknown:
        raise WaveSettingsError(
            f"unknown wave setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    out = current
    if "group_by" in raw:
        group_by = raw["group_by"]
        if not isinstance(group_by, list) or any(g not in GROUPINGS for g in group_by):
            raise WaveSettingsError(
                f"group_by: expected a list drawn from {', '.join(GROUPINGS)}, got {group_by!r}"
            )
        out = replace(out, group_by=tuple(dict.fromkeys(group_by)))
    if "services" in raw:
        out = replace(out, services=_services(raw["services"], out.services))
    if "max_orders_per_wave" in raw:
        out = replace(out, max_orders_per_wave=_whole(raw, "max_orders_per_wave"))
    if "cart" in raw:
        out = replace(out, cart=_cart(raw["cart"], out.cart))
    if "routing" in raw:
        if raw["routing"] not in POLICIES:
            raise WaveSettingsError(
                f"routing: expected one of {', '.join(POLICIES)}, got {raw['routing']!r}"
            )
        out = replace(out, routing=raw["routing"])
    for key in ("walk_m_per_s", "seconds_per_stop", "seconds_per_unit", "batching_seconds"):
        if key in raw:
            value = raw[key]
            positive = key in ("walk_m_per_s", "batching_seconds")
            if (
                not isinstance(value, int | float)
                or isinstance(value, bool)
                or value < 0
                or (positive and value == 0)
            ):
                want = "a positive number" if positive else "a number of at least 0"
                raise WaveSettingsError(f"{key}: expected {want}, got {value!r}")
            changes: dict[str, Any] = {key: float(value)}
            out = replace(out, **changes)
    return out


def _whole(raw: Mapping[str, Any], key: str, where: str = "") -> int:
    value = raw.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise WaveSettingsError(
            f"{where}{key}: expected a whole number of at least 1, got {value!r}"
        )
    return value


def _cart(raw: object, base: Cart) -> Cart:
    if not isinstance(raw, dict):
        raise WaveSettingsError(f"cart: expected an object, got {raw!r}")
    unknown = sorted(set(raw) - {"totes", "items", "volume_l", "weight_kg"})
    if unknown:
        raise WaveSettingsError(
            f"cart: unknown field(s) {', '.join(unknown)}; known: items, totes, volume_l, weight_kg"
        )
    cart = base
    if "totes" in raw:
        cart = replace(cart, totes=_whole(raw, "totes", "cart."))
    if "items" in raw:
        cart = replace(cart, items=_whole(raw, "items", "cart."))
    for key, attr, scale in (("volume_l", "volume_cm3", 1000), ("weight_kg", "weight_g", 1000)):
        if key in raw:
            value = raw[key]
            if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
                raise WaveSettingsError(f"cart.{key}: expected a positive number, got {value!r}")
            size: dict[str, Any] = {attr: round(float(value) * scale)}
            cart = replace(cart, **size)
    return cart


def _services(
    raw: object, base: Mapping[ServiceLevel, ServiceRule]
) -> dict[ServiceLevel, ServiceRule]:
    if not isinstance(raw, dict):
        raise WaveSettingsError(f"services: expected an object by service level, got {raw!r}")
    out = dict(base)
    levels = [str(s) for s in ServiceLevel]
    for name, rule in raw.items():
        if name not in levels:
            raise WaveSettingsError(
                f"services: unknown service level {name!r}; expected {', '.join(levels)}"
            )
        where = f"services.{name}."
        if not isinstance(rule, dict):
            raise WaveSettingsError(f"services.{name}: expected an object, got {rule!r}")
        level = ServiceLevel(name)
        current = out[level]
        for key in ("carrier", "service"):
            if key in rule:
                value = rule[key]
                if not isinstance(value, str) or not value.strip() or len(value) > 40:
                    raise WaveSettingsError(
                        f"{where}{key}: expected text of 1–40 characters, got {value!r}"
                    )
                text: dict[str, Any] = {key: value.strip()}
                current = replace(current, **text)
        if "priority" in rule:
            current = replace(current, priority=_whole(rule, "priority", where))
        if "cutoff" in rule:
            current = replace(current, cutoff=_cutoff(rule["cutoff"], where))
        unknown = sorted(set(rule) - {"carrier", "service", "priority", "cutoff"})
        if unknown:
            raise WaveSettingsError(
                f"services.{name}: unknown field(s) {', '.join(unknown)}; "
                "known: carrier, cutoff, priority, service"
            )
        out[level] = current
    return out


def _cutoff(value: object, where: str) -> time | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return time.fromisoformat(value)
        except ValueError:
            pass
    raise WaveSettingsError(
        f'{where}cutoff: expected "HH:MM" (the node\'s local time) or null, got {value!r}'
    )


def load(engine: StoreEngine) -> WaveSettings:
    """The site's wave settings (the defaults where it has set none)."""
    with UnitOfWork(engine, read_only=True) as uow:
        text = store.get(uow.session, KEY)
    if text is None:
        return WaveSettings()
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WaveSettingsError(f"the stored settings are not JSON ({exc.msg})") from None
    if not isinstance(raw, dict):
        raise WaveSettingsError("the stored settings are not a JSON object")
    return from_dict(raw)


def save(engine: StoreEngine, settings: WaveSettings, actor: Actor) -> None:
    """Store the site's wave settings."""
    with UnitOfWork(engine) as uow:
        store.put(uow.session, KEY, json.dumps(settings.to_dict()), actor=actor.name, at=utcnow())
        uow.commit()
