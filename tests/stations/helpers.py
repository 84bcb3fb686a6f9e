"""What the station tests share: the floor they run on, the app and its scanners, waiting
on the terminal worker, logging in, and reading the screen as text.

Scans are typed as key presses (``pilot.press``, or a burst of key events back to back as
a wedge scanner sends them) and the tests wait on the terminal worker by polling a
condition, never with fixed sleeps.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import Engine, select
from textual import events
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.widgets import Input, Static

from app.actor import Actor
from app.demo import seed
from app.dom.routing import RoutingSettings, route_backlog
from app.hardware.config import load
from app.picking.flow import Step
from app.picking.station import PickListView, Task
from app.scanning import ScanFeed
from app.terminal import Terminal
from app.waves import planning as waves
from app.waves.settings import WaveSettings
from data import pick_station as pick_rows
from data.models import PickList, PickListStatus, Stock
from data.types import utcnow
from data.uow import UnitOfWork
from devices.scanner import WedgeDecoder
from stations.app import StationApp
from stations.pick import PickScreen
from tests.factories import PLAN_AT, age_demo_stock

ACTOR = Actor.system("test")
FAST = WaveSettings(batching_seconds=0.2)
SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("SHIPFLOOR_UPDATE_SNAPSHOTS") == "1"
"""``SHIPFLOOR_UPDATE_SNAPSHOTS=1`` rewrites the snapshots under ``snapshots/``."""


def build_floor(engine: Engine) -> Engine:
    """The small demo site with released waves at WH1: pick lists to claim."""
    seed(engine, "small", 1)
    age_demo_stock(engine)
    route_backlog(engine, ACTOR, RoutingSettings(), limit=40, now=PLAN_AT)
    for wave in waves.plan(engine, "WH1", FAST, ACTOR, now=PLAN_AT).waves:
        waves.release(engine, wave.id, FAST, ACTOR)
    return engine


def scanner(tmp_path: Path) -> ScanFeed:
    """A wedge whose keys count as a scan however slowly Pilot types them."""
    devices = tmp_path / "devices.toml"
    devices.write_text(
        '[stations.PICK-01.scanners.hand]\nkind = "wedge"\nmax_gap_ms = 10000\n'
        "debounce_ms = 0\nmin_length = 1\n"
    )
    return ScanFeed.for_station(load(devices).station("PICK-01"))


def keyboard() -> ScanFeed:
    """A wedge where every entry is keyed by hand (a damaged label typed in)."""
    return ScanFeed(WedgeDecoder(source="keyboard", max_gap=1e-9))


def make_app(
    engine: Engine, feed: ScanFeed, station_code: str = "PICK-01", **kw: Any
) -> StationApp:
    return StationApp(Terminal(engine, station_code, "pick"), feed, **kw)


async def until(
    pilot: Pilot[Any], condition: Callable[[], bool], what: str, within: float = 30.0
) -> None:
    """Poll ``condition`` while the app runs (its worker answers in its own time)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        await pilot.pause()
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def pick_screen(app: StationApp) -> PickScreen:
    screen = app.screen
    assert isinstance(screen, PickScreen), screen
    return screen


def text_of(app: StationApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def send_burst(app: StationApp, text: str) -> None:
    """``text`` and Enter as a wedge scanner sends them: key events back to back, without
    waiting for the app between keys (``pilot.press`` waits after each key)."""
    driver = app._driver
    assert driver is not None
    for char in text + "\r":
        if char == "\x1d":
            event = events.Key("ctrl+right_square_bracket", None)
        elif char == "\r":
            event = events.Key("enter", "\r")
        else:
            event = events.Key(char if char.isalnum() else _character_to_key(char), char)
        event.set_sender(app)
        driver.send_message(event)


async def login(pilot: Pilot[Any], app: StationApp, badge: str, pin: str) -> None:
    """Badge, PIN, Enter; waits for the answer (the pick screen, or a refusal shown)."""
    await pilot.press(*badge, "enter")
    await until(pilot, lambda: isinstance(app.focused, Input), "the PIN field")
    await pilot.press(*pin, "enter")
    await until(
        pilot,
        lambda: not app.busy and not getattr(app.screen, "checking", False),
        "the login's answer",
    )


async def logged_in_with_list(pilot: Pilot[Any], app: StationApp, badge: str, pin: str) -> None:
    await login(pilot, app, f"BADGE-{badge}", pin)
    await until(pilot, lambda: isinstance(app.screen, PickScreen), "the pick screen")
    screen = pick_screen(app)
    await until(
        pilot, lambda: screen.shown.view is not None and not app.busy, "a pick list claimed"
    )


def check_snapshot(app: StationApp, name: str) -> None:
    """The screen as text equals its snapshot (written when missing or when
    SHIPFLOOR_UPDATE_SNAPSHOTS=1; a missing one fails the test to be checked by eye)."""
    got = render_text(app)
    path = SNAPSHOTS / f"{name}.txt"
    if UPDATE or not path.exists():
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(got, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"snapshot {path.name} was missing and is now written: check it by eye")
    want = path.read_text(encoding="utf-8")
    assert got == want, f"snapshot {name} differs (SHIPFLOOR_UPDATE_SNAPSHOTS=1 rewrites it)"


def render_text(app: StationApp) -> str:
    """The screen as plain text, as a terminal of the app's size shows it."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system=None,
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(
        app.screen._compositor.render_update(
            full=True, screen_stack=app._background_screens, simplify=True
        )
    )
    return "\n".join(line.rstrip() for line in console.export_text().splitlines()) + "\n"


def list_events(engine: Engine, list_id: int) -> list[str]:
    with UnitOfWork(engine, read_only=True) as uow:
        return [e[0] for e in pick_rows.events(uow.session, list_id)]


def list_status(engine: Engine, list_id: int) -> PickListStatus:
    with UnitOfWork(engine, read_only=True) as uow:
        found = uow.session.scalar(select(PickList.status).where(PickList.id == list_id))
    assert found is not None
    return found


# --- the pick station, scan by scan ------------------------------------------------------


def keys(text: str) -> list[str]:
    return ["ctrl+right_square_bracket" if c == "\x1d" else c for c in text]


def step_of(screen: PickScreen) -> Step:
    return screen.shown.step


async def scan(pilot: Pilot[Any], app: StationApp, text: str, *, typed: bool = False) -> None:
    """Scan ``text`` (a burst, or key by key with ``pilot.press`` when ``typed``) and wait
    for the pick screen to show the worker's answer."""
    screen = pick_screen(app)
    before = screen.shown
    if typed:
        await pilot.press(*keys(text), "enter")
    else:
        send_burst(app, text)
    await until(pilot, lambda: screen.shown is not before and not app.busy, f"scan {text!r}")


async def act(pilot: Pilot[Any], app: StationApp, *presses: str) -> None:
    """Press keys (a binding, and a choice in its dialog) and wait for the worker's answer."""
    screen = pick_screen(app)
    before = screen.shown
    await pilot.press(*presses)
    await until(pilot, lambda: screen.shown is not before and not app.busy, f"keys {presses}")


def tote_for(view: PickListView, slot: int) -> str:
    return f"TOTE-{view.id:03d}{slot:02d}"


async def set_up_totes(pilot: Pilot[Any], app: StationApp, *, typed: bool = False) -> None:
    screen = pick_screen(app)
    while step_of(screen) is Step.TOTES:
        slot = screen.shown.slot
        view = screen.shown.view
        assert slot is not None
        assert view is not None
        assert f"Scan a tote for slot {slot.slot} (order {slot.order_ref})" in text_of(app, "#step")
        await scan(pilot, app, tote_for(view, slot.slot), typed=typed)


def item_scans(engine: Engine, task: Task) -> list[str]:
    """The barcodes on ``task.left`` units of the task's product, as a scanner reads them."""
    assert task.gtin is not None
    if not (task.track_lot or task.track_expiry or task.track_serial):
        return [task.gtin] * task.left
    with UnitOfWork(engine, read_only=True) as uow:
        expiry = uow.session.scalar(
            select(Stock.expiry).where(Stock.location_id == task.location_id, Stock.lot == task.lot)
        )
    out = []
    for n in range(task.left):
        text = f"01{task.gtin.zfill(14)}"
        if expiry is not None:
            text += f"17{expiry:%y%m%d}"
        if task.track_serial:
            text += f"21SN{task.id}X{n}T{utcnow().timestamp():.0f}\x1d"
        if task.lot:
            text += f"10{task.lot}"
        out.append(text)
    return out


async def pick_current(
    pilot: Pilot[Any], app: StationApp, engine: Engine, *, typed: bool = False
) -> None:
    screen = pick_screen(app)
    task = screen.shown.task
    assert task is not None
    assert task.tote is not None
    if step_of(screen) is Step.LOCATION:
        await scan(pilot, app, task.location_barcode, typed=typed)
    # (A line at the location just scanned starts at the item.)
    assert step_of(screen) is Step.ITEM, screen.shown.message
    for text in item_scans(engine, task):
        await scan(pilot, app, text, typed=typed)
    assert step_of(screen) is Step.TOTE, screen.shown.message
    await scan(pilot, app, task.tote, typed=typed)
    assert "Picked" in screen.shown.message, screen.shown.message
