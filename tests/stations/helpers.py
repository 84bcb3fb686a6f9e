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
from app.scanning import ScanFeed
from app.terminal import Terminal
from app.waves import planning as waves
from app.waves.settings import WaveSettings
from data import pick_station as pick_rows
from data.models import PickList, PickListStatus
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
