"""The pick station as a new picker finds it at 80x24, under Pilot on a seeded store file:
how to leave (Ctrl+Q on the bottom line, Ctrl+C says how), a short pick refused before it
asks why, a station restarted under its picker, and a resumed list's progress."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.picking import station
from app.picking.flow import Step
from app.users import login as service_login
from stations.login import LoginScreen
from tests.stations.helpers import (
    act,
    item_scans,
    list_events,
    logged_in_with_list,
    make_app,
    pick_current,
    pick_screen,
    render_text,
    scan,
    scanner,
    set_up_totes,
    step_of,
    text_of,
    until,
)


@pytest.mark.asyncio
async def test_the_bottom_line_shows_how_to_quit_and_ctrl_c_says_how_to_leave(
    sqlite_floor: Engine, tmp_path: Path
) -> None:
    app = make_app(sqlite_floor, scanner(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LoginScreen), "the login screen")
        assert "^q Quit" in render_text(app).splitlines()[-1]
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)
        assert "Ctrl+C does not close the station: ^q closes it" in text_of(app, "#message")

        await logged_in_with_list(pilot, app, "U1001", "1111")
        screen = pick_screen(app)
        assert "^q Quit" in render_text(app).splitlines()[-1]
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert pick_screen(app) is screen
        assert app.user is not None
        assert text_of(app, "#message") == (
            "Ctrl+C does not close the station: F10 logs you out (work you hold is paused or "
            "set aside); ^q logs out and closes the station app"
        )
        # What it says is so: Ctrl+Q logs out (the list held is paused) and closes the app.
        view = screen.shown.view
        assert view is not None
        await pilot.press("ctrl+q")
        await until(pilot, lambda: not app.is_running, "the app to close")
    assert list_events(sqlite_floor, view.id)[-1] == "pause"


@pytest.mark.asyncio
async def test_a_short_pick_with_units_not_in_a_tote_is_refused_before_asking_why(
    sqlite_floor: Engine, tmp_path: Path
) -> None:
    engine = sqlite_floor
    app = make_app(engine, scanner(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await logged_in_with_list(pilot, app, "U1001", "1111")
        screen = pick_screen(app)
        await set_up_totes(pilot, app)
        task = screen.shown.task
        assert task is not None
        await scan(pilot, app, task.location_barcode)
        await scan(pilot, app, item_scans(engine, task)[0])
        assert screen.shown.counted == 1
        bells = app.bells
        await pilot.press("f7")
        await pilot.pause()
        # No question: the refusal at once, and nothing recorded.
        assert app.screen is screen
        assert text_of(app, "#message") == (
            f"1 unit(s) scanned are not in a tote yet: scan tote {task.tote} first, then "
            "short-pick the rest"
        )
        assert app.bells == bells + 1
        assert screen.shown.counted == 1
        view = screen.shown.view
        assert view is not None
        assert "short" not in list_events(engine, view.id)


@pytest.mark.asyncio
async def test_a_station_restarted_under_its_picker_gives_them_their_own_list(
    sqlite_floor: Engine, tmp_path: Path
) -> None:
    engine = sqlite_floor
    first = make_app(engine, scanner(tmp_path))
    async with first.run_test(size=(80, 24)) as pilot:
        await logged_in_with_list(pilot, first, "U1001", "1111")
        screen = pick_screen(first)
        await set_up_totes(pilot, first)
        await pick_current(pilot, first, engine)
        held = screen.shown.view
        assert held is not None
        totes = [t.tote for t in held.totes]
    # The station's program ends without a logout (a crash, a power cut). Meanwhile another
    # picker pauses a list, which would otherwise come first.
    other = service_login(engine, "PICK-02", "pick", "BADGE-U1002", "1112")
    theirs = station.claim_next(engine, other)
    assert theirs is not None
    station.pause(engine, other, theirs.id)

    again = make_app(engine, scanner(tmp_path))
    async with again.run_test(size=(80, 24)) as pilot:
        await logged_in_with_list(pilot, again, "U1001", "1111")
        screen = pick_screen(again)
        view = screen.shown.view
        assert view is not None
        assert view.id == held.id
        # Same picker, same cart: the totes are still there, and the list goes on.
        assert [t.tote for t in view.totes] == totes
        assert step_of(screen) in (Step.LOCATION, Step.ITEM)
        lines = len(view.tasks)
        assert text_of(again, "#message").startswith(
            f"Pick list {view.id} resumed: {view.lines_done} of {lines} lines done, "
            f"{view.lines_left} left"
        )
        assert view.lines_done >= 1
        progress = text_of(again, "#progress")
        assert progress.startswith(f"Lines {view.lines_done} done · {view.lines_left} left")


@pytest.mark.asyncio
async def test_a_paused_list_resumed_shows_the_whole_list(
    sqlite_floor: Engine, tmp_path: Path
) -> None:
    engine = sqlite_floor
    app = make_app(engine, scanner(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await logged_in_with_list(pilot, app, "U1001", "1111")
        screen = pick_screen(app)
        await set_up_totes(pilot, app)
        await pick_current(pilot, app, engine)
        view = screen.shown.view
        assert view is not None
        if view.lines_left == 0:
            pytest.skip("the demo's first list had one line")
        started = screen.shown.started
        await act(pilot, app, "f9")
        assert step_of(screen) is Step.NO_LIST
        await act(pilot, app, "f5")
        resumed = screen.shown.view
        assert resumed is not None
        assert resumed.id == view.id
        total = len(resumed.tasks)
        assert text_of(app, "#message").startswith(
            f"Pick list {view.id} resumed: 1 of {total} lines done, {total - 1} left"
        )
        assert text_of(app, "#progress").startswith(f"Lines 1 done · {total - 1} left")
        # The time runs on from the first claim: the start is not moved to the resume.
        assert started is not None
        assert screen.shown.started is not None
        assert screen.shown.started <= started + 0.5
