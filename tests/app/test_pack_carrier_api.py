"""A box whose carrier has an API: the pack station asks the carrier (a fake UPS on
127.0.0.1, through the karrio adapter) for the shipment, records the package with the
carrier's tracking number and prints the carrier's label; a refusal records nothing; an
answer that never came is asked again under the same key, so one box makes one shipment."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from app.actor import Actor
from app.carriers import registry
from app.carriers.karrio_ups import ENV_CREDENTIALS_FILE
from app.packing import station as pack
from app.shipping import settings as ship_settings
from data.models import LabelRequest, Package, PrintJob
from data.uow import UnitOfWork
from tests.app.test_carrier_ups import (  # noqa: F401 - fixtures
    ACCOUNT,
    CLIENT_ID,
    SECRET,
    FakeUps,
    fake,
    no_internet,
)
from tests.app.test_pack_station import _open, close, units_of
from tests.cli import main
from tests.packfloor import packer, pick_lists, single_tote_orders

UPS = {
    "carriers": {
        "UPS": {
            "name": "UPS",
            "tracking_prefix": "1Z",
            "account": ACCOUNT,
            "api": "ups",
            "services": {
                "UPS_GROUND": {
                    "name": "Ground",
                    "levels": ["standard", "express", "next_day"],
                    "bands": [{"up_to_km": None, "days": 1, "base": "0.10", "per_kg": "0"}],
                }
            },
        }
    }
}


@pytest.fixture
def ups_floor(
    floor: Engine,
    fake: FakeUps,  # noqa: F811 - the fixture
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Engine, list[str]]]:
    """The demo floor with totes picked, and a UPS account (the cheapest service by far)
    whose API is the fake."""
    creds = tmp_path / "carriers.toml"
    creds.write_text(
        f'[ups]\nclient_id = "{CLIENT_ID}"\nclient_secret = "{SECRET}"\n'
        f'account_number = "{ACCOUNT}"\nserver_url = "{fake.url}"\n'
    )
    monkeypatch.setenv(ENV_CREDENTIALS_FILE, str(creds))
    registry.forget()
    ship_settings.save(floor, UPS, Actor.system("test"))
    totes = single_tote_orders(floor, pick_lists(floor, 1))
    assert totes
    yield floor, totes
    registry.forget()


def requests(engine: Engine) -> list[tuple[str, str, str | None]]:
    with UnitOfWork(engine, read_only=True) as uow:
        return [
            (r.key, r.status, r.tracking_number)
            for r in uow.session.scalars(select(LabelRequest).order_by(LabelRequest.id))
        ]


def test_the_box_gets_the_carriers_shipment_and_label(
    ups_floor: tuple[Engine, list[str]],
    fake: FakeUps,  # noqa: F811
) -> None:
    engine, totes = ups_floor
    bench = _open(engine, totes[0])
    closed = close(engine, bench, units_of(bench))
    [(key, status, tracking)] = requests(engine)
    assert status == "used"
    assert fake.shipments == {key: tracking}
    assert (closed.carrier, closed.tracking_number, closed.service) == (
        "UPS",
        tracking,
        "UPS_GROUND",
    )
    with UnitOfWork(engine, read_only=True) as uow:
        s = uow.session
        number, fmt, theirs = s.execute(
            select(Package.tracking_number, Package.carrier_label_format, Package.carrier_label)
        ).one()
        label = s.scalar(select(PrintJob.content).where(PrintJob.document == "label"))
    assert (number, fmt) == (tracking, "zpl")
    # The carrier's label is what prints, as it came.
    assert label is not None
    assert label == theirs
    assert tracking is not None
    assert tracking.encode() in label


def test_a_refused_label_records_nothing(
    ups_floor: tuple[Engine, list[str]],
    fake: FakeUps,  # noqa: F811
) -> None:
    engine, totes = ups_floor
    bench = _open(engine, totes[0])
    units = units_of(bench)
    fake.fail["ship"] = "400"
    with pytest.raises(pack.PackError, match="UPS refused the label .*: the box is not closed"):
        close(engine, bench, units)
    with UnitOfWork(engine, read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Package)) == 0
    assert [status for _, status, _ in requests(engine)] == ["refused"]
    # Fixed: the box closes, under a new request.
    del fake.fail["ship"]
    closed = close(engine, bench, units)
    assert [status for _, status, _ in requests(engine)] == ["refused", "used"]
    assert closed.tracking_number in fake.shipments.values()


def test_an_answer_that_never_came_is_asked_again_under_the_same_key(
    capsys: pytest.CaptureFixture[str],
    ups_floor: tuple[Engine, list[str]],
    fake: FakeUps,  # noqa: F811
) -> None:
    engine, totes = ups_floor
    bench = _open(engine, totes[0])
    units = units_of(bench)
    fake.fail["ship"] = "stall"
    fake.stall_s = 3.0
    api = registry.api_of(ship_settings.load(engine).carrier("UPS"))
    assert api is not None
    api.timeout = 1.0  # type: ignore[attr-defined]
    with pytest.raises(pack.PackError, match="UPS did not answer in time"):
        close(engine, bench, units)
    [(key, status, _)] = requests(engine)
    assert status == "pending"
    # A supervisor sees it pending: the carrier may have made it.
    db = ["--db", engine.url.render_as_string(hide_password=False)]
    assert main(["package", "requests", "--status", "pending", "--json", *db]) == 0
    listed = json.loads(capsys.readouterr().out)["requests"]
    assert [(r["key"], r["carrier"], r["box"]) for r in listed] == [(key, "UPS", 1)]
    # The carrier made it, but the answer was lost.
    assert list(fake.shipments) == [key]
    del fake.fail["ship"]
    closed = close(engine, bench, units)
    # Asked again under the same key: still one shipment, and it is the package's.
    assert requests(engine) == [(key, "used", closed.tracking_number)]
    assert fake.shipments == {key: closed.tracking_number}


def test_a_box_not_recorded_after_the_carrier_made_it_is_voided_there(
    ups_floor: tuple[Engine, list[str]],
    fake: FakeUps,  # noqa: F811 - the fixture
) -> None:
    engine, totes = ups_floor
    bench = _open(engine, totes[0])
    units = units_of(bench)
    # A supervisor takes the order off the bench while the carrier is being asked.
    pack.release(engine, packer(engine), bench, "taken back")
    with pytest.raises(pack.PackError, match="shipment 1ZFAKE0000000001 was voided"):
        close(engine, bench, units)
    assert fake.voided == ["1ZFAKE0000000001"]
    assert [status for _, status, _ in requests(engine)] == ["voided"]
    with UnitOfWork(engine, read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Package)) == 0


def test_a_reprint_prints_the_carriers_label(
    ups_floor: tuple[Engine, list[str]],
    tmp_path: Path,
) -> None:
    engine, totes = ups_floor
    bench = _open(engine, totes[0])
    closed = close(engine, bench, units_of(bench))
    devices = tmp_path / "devices.toml"
    devices.write_text(
        '[stations.PACK-01.printers.label]\nkind = "folder"\n'
        f'folder = "{tmp_path}"\nlanguage = "zpl"\n'
    )
    db = ["--db", engine.url.render_as_string(hide_password=False)]
    at = ["--station", "PACK-01", "--devices", str(devices)]
    assert main(["label", "print", "--shipment", str(bench.lead), *at, *db]) == 0
    with UnitOfWork(engine, read_only=True) as uow:
        printed = uow.session.scalars(
            select(PrintJob.content).where(PrintJob.document == "label").order_by(PrintJob.id)
        ).all()
    # The label printed when the order was packed, and the reprint: both the carrier's.
    assert len(printed) == 2
    assert printed[0] == printed[1]
    assert closed.tracking_number.encode() in printed[1]
