"""The login screen: scan your badge (or key its id and Enter), then your PIN and Enter.

The steps are :class:`app.login_flow.LoginFlow`'s; this screen shows each
:class:`~app.login_flow.LoginState` it answers. The PIN check runs on the app's terminal
worker (it is a store transaction). A refusal shows the service's message in red, rings the
bell, flashes, and goes back to "Scan your badge".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from app.barcodes import show
from app.flows import Level
from app.login_flow import LoginFlow, LoginState, LoginStep
from app.users import LoggedIn
from stations.capture import EntryChanged, Scanned, ScannerStatus

if TYPE_CHECKING:
    from stations.app import StationApp


class LoginScreen(Screen[None], inherit_bindings=False):
    """Badge, then PIN."""

    AUTO_FOCUS = ""
    """Keys are scans until a badge is scanned; then the PIN field takes them."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "clear", "Clear", id="login.clear", tooltip="Clear the badge and PIN"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.flow = LoginFlow(self.station.terminal)
        self.shown: LoginState = self.flow.state()
        self._flash_timer: Any = None

    @property
    def station(self) -> StationApp:
        return cast("StationApp", self.app)

    @property
    def badge(self) -> str | None:
        """The badge waiting for its PIN."""
        return self.flow.badge

    @property
    def checking(self) -> bool:
        """Badge and PIN are being checked in the store."""
        return self.flow.step is LoginStep.CHECKING

    def compose(self) -> ComposeResult:
        terminal = self.station.terminal
        yield Static(f"Shipfloor · station {terminal.station_code} ({terminal.role})", id="top")
        with Vertical(id="box"):
            yield Static("Scan your badge", id="prompt")
            yield Input(password=True, placeholder="PIN, then Enter", max_length=12, id="pin")
            yield Static("", id="message")
        yield Static("> ", id="entry")
        yield Footer()

    def on_mount(self) -> None:
        self.reset()

    def on_screen_resume(self) -> None:
        # Coming back to this screen restores the focus it had (the PIN field): until a
        # badge is scanned, keys are scans.
        if self.badge is None:
            self.set_focus(None)

    def reset(self, message: str = "", level: Level = "info") -> None:
        """Back to "Scan your badge", with a message (a refusal, or why the last user left)."""
        self.render_state(self.flow.reset(message, level))

    def show(self, message: str, level: str = "info") -> None:
        widget = self.query_one("#message", Static)
        widget.set_classes(level)
        widget.update(Content(message))

    def render_state(self, state: LoginState) -> None:
        self.shown = state
        self.refresh_bindings()
        pin = self.query_one("#pin", Input)
        if state.step is LoginStep.BADGE:
            pin.value = ""
            pin.display = False
            pin.disabled = True
            self.set_focus(None)
        elif state.step is LoginStep.PIN:
            pin.display = True
            pin.disabled = False
            pin.value = ""
            pin.focus()
        self.query_one("#prompt", Static).update(Content(state.prompt))
        self.show(state.message, state.level)
        if state.alert:
            self.station.bell()
            self.add_class("refused")
            if self._flash_timer is not None:
                self._flash_timer.stop()
            self._flash_timer = self.set_timer(
                self.station.flash_seconds, lambda: self.remove_class("refused")
            )

    def check_action(self, action: str, _parameters: tuple[object, ...]) -> bool | None:
        """The keys the login's step table enables in this step."""
        if action == "clear":
            return "login.clear" in self.shown.keys
        return True

    def on_scanned(self, message: Scanned) -> None:
        state = self.flow.scan(message.scan)
        if state is not None:
            self.render_state(state)

    def on_entry_changed(self, message: EntryChanged) -> None:
        pending = show(message.pending)[1:-1] if message.pending else ""
        self.query_one("#entry", Static).update(Content(f"> {pending}"))

    def on_scanner_status(self, message: ScannerStatus) -> None:
        self.show(f"scanner {message.name}: {message.status}")

    @on(Input.Submitted, "#pin")
    def submitted(self, event: Input.Submitted) -> None:
        entered = self.flow.enter_pin(event.value)
        if entered is None:
            return
        state, attempt = entered
        event.input.value = ""
        self.render_state(state)
        self.station.submit(lambda: self.flow.check(attempt), self._answer)

    def _answer(self, result: LoggedIn | Exception) -> None:
        state = self.flow.answer(result)
        self.render_state(state)
        if state.user is not None:
            self.station.logged_in(state.user)

    def action_clear(self) -> None:
        self.station.feed.clear()
        self.query_one("#entry", Static).update("> ")
        self.reset()
