"""Site DOM settings: stored in the store, validated, and used by routing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.actor import Actor
from app.demo import seed
from app.dom import settings as dom
from app.dom.assign import Criterion
from app.dom.costs import LinearShippingCost, RateTable
from app.dom.routing import RoutingSettings
from data.uow import UnitOfWork
from tests.cli import main
from tests.factories import add_reference


def test_settings_round_trip_and_defaults(store: Engine) -> None:
    add_reference(store)
    assert dom.load(store) == RoutingSettings()
    table = dom.parse_rate_table("up_to_miles,per_package,per_unit\n150,6,0.3\n3000,9,0.4\n")
    wanted = RoutingSettings(
        cost=table, ranking=(Criterion.PRIORITY, Criterion.COST), unfilled_penalty=250.0
    )
    policies = dom.save(store, wanted, Actor.system("t"), {"amazon": 1, "web": None})
    assert dom.load(store) == wanted
    assert policies.by_channel["amazon"] == 1
    assert policies.by_channel["web"] is None
    assert isinstance(dom.from_json(dom.to_json(RoutingSettings())).cost, LinearShippingCost)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("proximity,priority", "name cost once"),
        ("cost,cost", "name cost once"),
        ("cost,speed", "use cost, proximity and priority"),
    ],
)
def test_bad_rankings_are_explained(text: str, message: str) -> None:
    with pytest.raises(dom.SettingsError, match=message):
        dom.parse_ranking(text)


def test_bad_rate_tables_and_stored_json_are_explained() -> None:
    with pytest.raises(dom.SettingsError, match="columns are up_to_miles"):
        dom.parse_rate_table("miles,price\n1,2\n")
    with pytest.raises(dom.SettingsError, match="increasing distance"):
        dom.parse_rate_table("up_to_miles,per_package,per_unit\n500,1,1\n100,1,1\n")
    with pytest.raises(dom.SettingsError, match="unknown cost model"):
        dom.from_json('{"cost": {"model": "magic"}}')
    with pytest.raises(dom.SettingsError, match="cannot be read"):
        dom.from_json("{not json")
    assert isinstance(dom.parse_rate_table("up_to_miles,per_package,per_unit\n9,1,1\n"), RateTable)


def test_route_settings_command(
    store: Engine, store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_reference(store)
    table = tmp_path / "rates.csv"
    table.write_text("up_to_miles,per_package,per_unit\n300,5.5,0.25\n3000,8,0.3\n")
    assert (
        main(
            [
                "--db",
                store_url,
                "route",
                "settings",
                "--ranking",
                "proximity,cost",
                "--rate-table",
                str(table),
                "--channel",
                "amazon=1",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert '"model": "rate_table"' in out
    assert "amazon=1" in out
    assert dom.load(store).ranking == (Criterion.PROXIMITY, Criterion.COST)
    assert main(["--db", store_url, "route", "settings", "--channel", "fax=1"]) == 1
    assert "there is no channel 'fax'" in capsys.readouterr().err
    assert main(["--db", store_url, "route", "settings", "--channel", "web=0"]) == 1
    assert "a package limit is 1 or more, or any" in capsys.readouterr().err
    assert main(["--db", store_url, "route", "settings", "--channel", "web"]) == 1
    assert "give CODE=N or CODE=any" in capsys.readouterr().err


def test_bid_prices_are_kept_and_go_stale(store: Engine) -> None:
    from datetime import timedelta

    add_reference(store)
    assert dom.current_bid_prices(store) == ({}, None)
    dom.store_bid_prices(store, {("WH1", "PEN-1"): 1.25}, Actor.system("t"))
    prices, computed = dom.current_bid_prices(store)
    assert prices == {("WH1", "PEN-1"): 1.25}
    assert computed is not None
    stale, when = dom.current_bid_prices(store, max_age=timedelta(0))
    assert stale == {}
    assert when == computed


def test_route_command_routes_the_backlog(
    store: Engine, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(store, "small", 3)
    assert main(["--db", store_url, "route", "--batch", "--limit", "40", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["routed"] + result["held"] == 40
    assert result["routed"] > 30
    assert main(["--db", store_url, "inventory", "reconcile"]) == 0
    first = result["orders"][0]["order"]
    assert main(["--db", store_url, "route", "explain", first]) == 0
    assert f"Order {first}" in capsys.readouterr().out


def test_postal_areas_import(
    store: Engine, store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_reference(store)
    good = tmp_path / "areas.csv"
    good.write_text(
        "country,prefix,name,latitude,longitude\n"
        "us,021,Boston MA,42.36,-71.06\nCA,M5V,Toronto,43.64,-79.39\n"
    )
    assert main(["--db", store_url, "route", "areas", str(good)]) == 0
    assert "2 areas read, 2 new" in capsys.readouterr().out
    assert main(["--db", store_url, "route", "areas", str(good)]) == 0
    assert "2 areas read, 0 new" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("country,prefix,name,latitude,longitude\nUS,100,NYC,40.7,-74\nUS,101,X,95,-74\n")
    assert main(["--db", store_url, "route", "areas", str(bad)]) == 1
    assert "line 3: 95.0, -74.0 is not a place on earth; nothing was stored" in (
        capsys.readouterr().err
    )
    with UnitOfWork(store, read_only=True) as uow:
        from data import dom as routing

        assert routing.count_postal_areas(uow.session) == 2
        assert routing.locate(uow.session, "US", "02108") == (42.36, -71.06, "021")


def test_negative_costs_are_refused(store: Engine) -> None:
    add_reference(store)
    with pytest.raises(dom.SettingsError, match="cannot be negative"):
        dom.save(
            store, RoutingSettings(cost=LinearShippingCost(-50, 0.4, 0.0005)), Actor.system("t")
        )
    with pytest.raises(dom.SettingsError, match="cannot be negative"):
        dom.from_json('{"cost": {"model": "linear", "per_package": -1}}')
    assert dom.load(store) == RoutingSettings()
