"""The station app: one Textual app, a mode per station role, one terminal worker.

The app starts at the login screen; a login opens the mode of the station's role (``pick``, ``pack``
and ``supervisor`` are built so far). Every call to the :class:`~app.terminal.Terminal` (a store
transaction) goes through :meth:`StationApp.submit`: a ``queue.Queue`` read by a single
long-running thread worker that runs the jobs one by one, in the order they were
submitted, and hands each result back to the UI thread with ``call_from_thread``. A scan
that arrives while the previous one is being saved waits in the queue; none is lost or
reordered, and the UI never blocks on the store.

Bindings have ids (``app.help``, ``pick.claim``, …) so a site can move keys with a keymap
(``{"pick.short": "f4"}``); keys are function or control keys because printable keys are
scanner input.
"""

from __future__ import annotations

import queue
import re
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, ClassVar, TypeVar

from textual import events
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import get_current_worker

from app.scanning import ScanEvent, ScanFeed
from app.terminal import HEARTBEAT_EVERY, Terminal
from app.users import LoggedIn
from stations import STYLES
from stations.capture import ScanCaptureApp
from stations.help import HelpRow, HelpScreen
from stations.login import LoginScreen
from stations.messages import show_message, with_keys
from stations.pack import PackScreen
from stations.pick import PickScreen
from stations.ship import ShipScreen
from stations.supervisor import SupervisorScreen

T = TypeVar("T")

ROLE_SCREENS: dict[str, Callable[[], Screen[Any]]] = {
    "pick": PickScreen,
    "pack": PackScreen,
    "ship": ShipScreen,
    "supervisor": SupervisorScreen,
}
"""The station roles built so far, each a mode of the app."""

FLASH_SECONDS = 0.6
CURRENT = -1
"""``submit(generation=CURRENT)``: the job belongs to the session logged in now."""


@dataclass(frozen=True)
class Job:
    work: Callable[[], Any]
    done: Callable[[Any], None] | None
    generation: int | None
    """The login session it belongs to; None runs whatever happened since (a logout)."""
    ends_session: bool = False
    """A logout: jobs of that session submitted after it are dropped unrun."""


class StationApp(ScanCaptureApp, inherit_bindings=False):
    """A station PC's UI: login, then the screen of the station's role."""

    TITLE = "Shipfloor"
    ENABLE_COMMAND_PALETTE = False
    CSS_PATH: ClassVar[list[str | PurePath]] = [
        STYLES / "app.tcss",
        STYLES / "login.tcss",
        STYLES / "pick.tcss",
        STYLES / "pack.tcss",
        STYLES / "ship.tcss",
        STYLES / "supervisor.tcss",
        STYLES / "help.tcss",
    ]
    """The shared styles first: a screen's file may narrow them (pick.tcss's ShortModal)."""
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {
        "login": LoginScreen,
        **ROLE_SCREENS,
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help", id="app.help", tooltip="This list of keys"),
        Binding(
            "f10",
            "logout",
            "Log out",
            id="app.logout",
            tooltip="Log out (work held is paused or set aside)",
        ),
        Binding(
            "ctrl+q",
            "quit",
            "Quit",
            id="app.quit",
            priority=True,
            tooltip="Log out and close the station app",
        ),
        # Ctrl+C is what people press to get out of a terminal program: say how instead
        # of ignoring it (closing at once would lose a half-typed scan or PIN).
        Binding(
            "ctrl+c",
            "how_to_leave",
            "How to leave",
            id="app.how_to_leave",
            show=False,
            priority=True,
            tooltip="Say how to log out or close the station app",
        ),
    ]

    def __init__(
        self,
        terminal: Terminal,
        feed: ScanFeed,
        *,
        keymap: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        heartbeat_every: float = HEARTBEAT_EVERY,
        idle_seconds: float | None = None,
        flash_seconds: float = FLASH_SECONDS,
    ) -> None:
        if terminal.role not in ROLE_SCREENS:
            built = ", ".join(ROLE_SCREENS)
            raise ValueError(
                f"the {terminal.role!r} station screen is not built yet (built: {built})"
            )
        super().__init__(feed)
        self.terminal = terminal
        self.clock = clock
        self.heartbeat_every = heartbeat_every
        self.idle_seconds = (
            idle_seconds
            if idle_seconds is not None
            else terminal.settings.idle_logout_minutes * 60.0
        )
        self.flash_seconds = flash_seconds
        self.user: LoggedIn | None = None
        """Who is logged in, as the UI knows it (set when the login's answer arrives)."""
        self.generation = 0
        """Bumped at every logout (on the UI thread)."""
        self._served_generation = 0
        """Bumped by the worker when it runs a logout: a session's jobs queued before its
        logout still run (a scan made before the logout key is never lost); any submitted
        after it (a late timer of the closed screen) are dropped."""
        self.bells = 0
        self.last_input = clock()
        self._site_keymap = dict(keymap or {})
        self._jobs: queue.Queue[Job | None] = queue.Queue()
        self._busy = 0
        self._busy_lock = threading.Lock()

    # --- start and stop --------------------------------------------------------------

    def on_mount(self) -> None:
        # Textual calls ScanCaptureApp.on_mount as well (it starts the serial scanners).
        if self._site_keymap:
            self.set_keymap(self._site_keymap)
        self.run_worker(self._serve, name="terminal", thread=True, exit_on_error=True)
        self.set_interval(min(1.0, max(self.idle_seconds / 4, 0.05)), self.check_idle_logout)
        self.switch_mode("login")

    def on_unmount(self) -> None:
        self._jobs.put(None)

    # --- the terminal worker ---------------------------------------------------------

    def submit(
        self,
        work: Callable[[], T],
        done: Callable[[T | Exception], None] | None = None,
        *,
        generation: int | None = CURRENT,
        ends_session: bool = False,
    ) -> None:
        """Run ``work`` on the terminal worker after every job submitted before it; then
        ``done(result or exception)`` on the UI thread. ``generation`` (default: the
        current session) drops the job if it was submitted after that session's logout,
        and its answer is not shown once the session is over."""
        with self._busy_lock:
            self._busy += 1
        gen = self.generation if generation == CURRENT else generation
        self._jobs.put(Job(work, done, gen, ends_session))

    @property
    def busy(self) -> bool:
        """Jobs submitted whose answer has not been shown yet."""
        with self._busy_lock:
            return self._busy > 0

    def _serve(self) -> None:
        worker = get_current_worker()
        while True:
            try:
                job = self._jobs.get(timeout=0.25)
            except queue.Empty:
                if worker.is_cancelled:
                    return
                continue
            if job is None or worker.is_cancelled:
                return
            if job.generation is not None and job.generation < self._served_generation:
                self._done_one()
                continue
            result: Any
            try:
                result = job.work()
            except Exception as exc:  # shown to the operator; the worker carries on
                result = exc
            if job.ends_session:
                self._served_generation += 1
            if worker.is_cancelled:
                return
            try:
                self.call_from_thread(self._finish, job, result)
            except RuntimeError:
                return

    def _done_one(self) -> None:
        with self._busy_lock:
            self._busy -= 1

    def _finish(self, job: Job, result: Any) -> None:
        try:
            # A session's answers arriving after its logout have no screen to go to.
            current = job.generation is None or job.generation == self.generation
            if job.done is not None and current:
                job.done(result)
        except Exception as exc:  # a screen that cannot show an answer must not stop scans
            self.bell()
            self.notify(f"the screen could not show the last answer: {exc}", severity="error")
        finally:
            self._done_one()

    # --- input, idle ------------------------------------------------------------------

    def _captures(self, event: events.Key) -> bool:
        if not getattr(self.screen, "CAPTURES_SCANS", True):
            return False
        return super()._captures(event)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self.last_input = self.clock()
        await super().on_event(event)

    def _deliver(self, scan: ScanEvent) -> None:
        self.last_input = self.clock()
        super()._deliver(scan)

    def check_idle_logout(self) -> None:
        """Log out after ``idle_seconds`` without a key or scan (checked every second)."""
        if self.user is not None and self.clock() - self.last_input >= self.idle_seconds:
            self.logout(
                idle=True,
                message=f"Logged out after {_span(self.idle_seconds)} without a key or scan.",
            )

    def get_key_display(self, binding: Binding) -> str:
        """Function keys as printed on the keyboard (F5), the rest as Textual shows them."""
        key = binding.key.split(",")[0].strip()
        if not binding.key_display and re.fullmatch(r"f\d{1,2}", key):
            return key.upper()
        return super().get_key_display(binding)

    def bell(self) -> None:
        self.bells += 1
        super().bell()

    # --- people -----------------------------------------------------------------------

    def logged_in(self, user: LoggedIn) -> None:
        self.user = user
        self.last_input = self.clock()
        self.switch_mode(self.terminal.role)

    def _role_screen(self) -> Screen[Any] | None:
        stack = self._screen_stacks.get(self.terminal.role)
        return stack[0] if stack else None

    def logout(
        self, *, idle: bool = False, message: str = "", then: Callable[[], None] | None = None
    ) -> None:
        """Pause what the role screen holds, log out (on the worker), show the login."""
        user, self.user = self.user, None
        if user is None:
            if then is not None:
                then()
            return
        role_screen = self._role_screen()
        leave = getattr(role_screen, "leaving", None)
        terminal = self.terminal

        def work() -> None:
            if leave is not None:
                leave()
            terminal.logout(idle=idle)

        def done(result: None | Exception) -> None:
            if isinstance(result, Exception) and isinstance(self.screen, LoginScreen):
                self.screen.show(f"the logout was not recorded ({result})", "error")
            if then is not None:
                then()

        note_of = getattr(role_screen, "leave_note", None)
        note = note_of() if note_of is not None else ""
        self.submit(work, done, generation=None, ends_session=True)
        self.generation += 1
        self._show_login(" ".join(t for t in (message or f"{user.name} logged out.", note) if t))

    def _show_login(self, message: str) -> None:
        while len(self.screen_stack) > 1:
            self.pop_screen()
        role = self.terminal.role
        self.switch_mode("login")
        if role in self._modes and role in self._screen_stacks:
            self.remove_mode(role)
            self.add_mode(role, ROLE_SCREENS[role])
        screen = self.screen
        if isinstance(screen, LoginScreen):
            screen.reset(message)

    def check_action(self, action: str, _parameters: tuple[object, ...]) -> bool | None:
        if action == "logout":
            return self.user is not None
        return True

    def action_logout(self) -> None:
        self.logout()

    def action_how_to_leave(self) -> None:
        if self.user is None:
            text = "Ctrl+C does not close the station: {key:app.quit} closes it"
        else:
            text = (
                "Ctrl+C does not close the station: {key:app.logout} logs you out (work "
                "you hold is paused or set aside); {key:app.quit} logs out and closes the "
                "station app"
            )
        screen = self.screen
        try:
            screen.query_one("#message", Static)
        except NoMatches:
            self.notify(with_keys(screen, text), severity="warning")
            return
        show_message(screen, text, "warn")

    async def action_quit(self) -> None:
        if self.user is not None:
            self.logout(then=self.exit)
        else:
            self.exit()

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
            return
        rows = [
            HelpRow(
                key=self.get_key_display(active.binding),
                binding_id=active.binding.id or "-",
                description=active.binding.tooltip
                or active.binding.description
                or active.binding.action,
                enabled=active.enabled,
            )
            for active in self.screen.active_bindings.values()
        ]
        # The station's own keys (with ids, remappable) first; a widget's keys (moving in
        # a table) after them.
        rows.sort(key=lambda row: row.binding_id == "-")
        rows.append(HelpRow("esc", "help.close", "Close this help", True))
        where = f"station {self.terminal.station_code} ({self.terminal.role})"
        self.push_screen(HelpScreen(where, rows))


def _span(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:g} seconds"
    return f"{seconds / 60:g} minutes"


def run_station(terminal: Terminal, feed: ScanFeed, keymap: Mapping[str, str] | None = None) -> int:
    """Run the station UI until it quits; the exit code."""
    try:
        app = StationApp(terminal, feed, keymap=keymap)
    except ValueError as exc:
        sys.stderr.write(f"shipfloor station: {exc}\n")
        return 2
    app.run()
    return app.return_code or 0
