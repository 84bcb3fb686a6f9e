"""The site's DOM settings, kept in the store so every PC routes alike.

Stored under the key `dom` as JSON:

    {"cost": {"model": "linear", "per_package": 8.759, "per_unit": 0.423, "per_mile": 0.000541},
     "ranking": ["cost", "proximity", "priority"],
     "unfilled_penalty": 1000.0}

or with `"cost": {"model": "rate_table", "bands": [[150, 6.1, 0.3], [600, 8.4, 0.35], ...]}`
(up to miles, per package, per unit). Split policies live on the channels.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.actor import Actor
from app.dom.assign import DEFAULT_RANKING, Criterion
from app.dom.costs import LinearShippingCost, RateBand, RateTable
from app.dom.routing import RoutingSettings
from data import settings as store
from data.store import StoreEngine
from data.types import utcnow
from data.uow import UnitOfWork

KEY = "dom"


class SettingsError(ValueError):
    """A setting that cannot be used, with what is wrong."""


def to_json(settings: RoutingSettings) -> str:
    """The settings as stored."""
    cost = settings.cost
    if isinstance(cost, LinearShippingCost):
        cost_json: dict[str, Any] = {
            "model": "linear",
            "per_package": cost.per_package,
            "per_unit": cost.per_unit,
            "per_mile": cost.per_mile,
        }
    elif isinstance(cost, RateTable):
        cost_json = {
            "model": "rate_table",
            "bands": [[b.up_to_miles, b.per_package, b.per_unit] for b in cost.bands],
        }
    else:
        raise SettingsError(f"{type(cost).__name__} cannot be stored as a site setting")
    return json.dumps(
        {
            "cost": cost_json,
            "ranking": [str(c) for c in settings.ranking],
            "unfilled_penalty": settings.unfilled_penalty,
        },
        sort_keys=True,
    )


def from_json(text: str) -> RoutingSettings:
    """Settings from their stored form; SettingsError names what is wrong."""
    try:
        raw = json.loads(text)
        cost_raw = raw.get("cost", {"model": "linear"})
        if cost_raw.get("model") == "rate_table":
            cost: Any = RateTable(
                [RateBand(float(a), float(b), float(c)) for a, b, c in cost_raw["bands"]]
            )
        elif cost_raw.get("model") == "linear":
            default = LinearShippingCost()
            cost = LinearShippingCost(
                float(cost_raw.get("per_package", default.per_package)),
                float(cost_raw.get("per_unit", default.per_unit)),
                float(cost_raw.get("per_mile", default.per_mile)),
            )
        else:
            raise SettingsError(
                f"unknown cost model {cost_raw.get('model')!r}; use linear or rate_table"
            )
        ranking = parse_ranking(",".join(raw.get("ranking", [str(c) for c in DEFAULT_RANKING])))
        penalty = float(raw.get("unfilled_penalty", RoutingSettings().unfilled_penalty))
    except SettingsError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SettingsError(f"the stored DOM settings cannot be read: {exc}") from None
    if penalty <= 0:
        raise SettingsError("the unfilled penalty must be positive")
    check_cost(cost)
    return RoutingSettings(cost=cost, ranking=ranking, unfilled_penalty=penalty)


def check_cost(cost: object) -> None:
    """Refuse costs that would make splitting or distance pay (negative terms)."""
    values: tuple[float, ...]
    if isinstance(cost, LinearShippingCost):
        values = (cost.per_package, cost.per_unit, cost.per_mile)
    elif isinstance(cost, RateTable):
        values = tuple(v for b in cost.bands for v in (b.up_to_miles, b.per_package, b.per_unit))
    else:
        return
    if any(v < 0 for v in values):
        raise SettingsError("shipping costs and distances cannot be negative")


def parse_ranking(text: str) -> tuple[Criterion, ...]:
    """`proximity,cost,priority` → criteria; each at most once, cost required."""
    names = [t.strip().lower() for t in text.split(",") if t.strip()]
    try:
        ranking = tuple(Criterion(n) for n in names)
    except ValueError:
        raise SettingsError(
            f"ranking {text!r}: use cost, proximity and priority, comma-separated"
        ) from None
    if len(set(ranking)) != len(ranking) or Criterion.COST not in ranking:
        raise SettingsError(f"ranking {text!r}: name cost once, and each other criterion once")
    return ranking


def parse_rate_table(text: str) -> RateTable:
    """A CSV with columns up_to_miles, per_package, per_unit, one band per row."""
    rows = list(csv.DictReader(io.StringIO(text)))
    try:
        bands = [
            RateBand(float(r["up_to_miles"]), float(r["per_package"]), float(r["per_unit"]))
            for r in rows
        ]
    except (KeyError, ValueError, TypeError) as exc:
        raise SettingsError(
            f"rate table: {exc}; the columns are up_to_miles, per_package, per_unit"
        ) from None
    try:
        return RateTable(bands)
    except ValueError as exc:
        raise SettingsError(f"rate table: {exc}") from None


def load(engine: StoreEngine) -> RoutingSettings:
    """The site's settings, or the defaults where it has set none."""
    with UnitOfWork(engine, read_only=True) as uow:
        text = store.get(uow.session, KEY)
    return RoutingSettings() if text is None else from_json(text)


@dataclass(frozen=True)
class SplitPolicies:
    """Package limits by channel (None: any split)."""

    by_channel: dict[str, int | None]


def save(
    engine: StoreEngine,
    settings: RoutingSettings,
    actor: Actor,
    channel_limits: dict[str, int | None] | None = None,
) -> SplitPolicies:
    """Store the settings and any channel split policies in one transaction."""
    check_cost(settings.cost)
    if settings.unfilled_penalty <= 0:
        raise SettingsError("the unfilled penalty must be positive")
    with UnitOfWork(engine) as uow:
        store.put(uow.session, KEY, to_json(settings), actor=actor.name, at=utcnow())
        for channel, limit in (channel_limits or {}).items():
            if limit is not None and limit < 1:
                raise SettingsError(f"channel {channel}: a package limit is 1 or more, or any")
            if not store.set_channel_split_policy(uow.session, channel, limit):
                raise SettingsError(f"there is no channel {channel!r}")
        policies = store.channel_split_policies(uow.session)
        uow.commit()
    return SplitPolicies(policies)


def split_policies(engine: StoreEngine) -> SplitPolicies:
    """Package limits by channel."""
    with UnitOfWork(engine, read_only=True) as uow:
        return SplitPolicies(store.channel_split_policies(uow.session))


BID_PRICES_KEY = "dom.bid_prices"
BID_PRICES_MAX_AGE = timedelta(hours=1)


def store_bid_prices(
    engine: StoreEngine, prices: dict[tuple[str, str], float], actor: Actor
) -> None:
    """Keep the latest bid prices for routing between batch runs."""
    now = utcnow()
    value = json.dumps(
        {
            "computed_at": now.isoformat(),
            "prices": {f"{n}/{s}": p for (n, s), p in sorted(prices.items())},
        }
    )
    with UnitOfWork(engine) as uow:
        store.put(uow.session, BID_PRICES_KEY, value, actor=actor.name, at=now)
        uow.commit()


def current_bid_prices(
    engine: StoreEngine, max_age: timedelta = BID_PRICES_MAX_AGE
) -> tuple[dict[tuple[str, str], float], datetime | None]:
    """The stored bid prices if computed within `max_age`, with when; else nothing (stale
    prices would keep stock back for demand that has moved on)."""
    with UnitOfWork(engine, read_only=True) as uow:
        text = store.get(uow.session, BID_PRICES_KEY)
    if text is None:
        return {}, None
    raw = json.loads(text)
    computed = datetime.fromisoformat(raw["computed_at"])
    if utcnow() - computed > max_age:
        return {}, computed
    prices: dict[tuple[str, str], float] = {}
    for key, price in raw["prices"].items():
        node, sku = key.split("/", 1)
        prices[(node, sku)] = float(price)
    return prices, computed
