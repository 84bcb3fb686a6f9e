"""The login screen: scan your badge (or key its id and Enter), then your PIN and Enter.

The login runs on the app's terminal worker (it is a store transaction). A refusal shows the
service's message in red, rings the bell, flashes, and goes back to "Scan your badge".
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from app.barcodes import show
from app.users import LoggedIn, LoginError
from stations.capture import EntryChanged, Scanned, ScannerStatus

if TYPE_CHECKING:
    from stations.app import StationApp

BADGE_ID = re.compile(r"[A-Za-z][A-Za-z0-9]{1,30}")
"""A badge id keyed by hand (``U1001``) rather than scanned (``BADGE-U1001``)."""


class LoginScreen(Screen[None], inherit_bindings=False):
    """Badge, then PIN."""

    AUTO_FOCUS = ""
    """Keys are scans until a badge is scanned; then the PIN field takes them."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "clear", "Clear", id="login.clear", tooltip="Clear the badge and PIN"),
    ]
    DEFAULT_CSS = """
    LoginScreen { layout: vertical; }
    LoginScreen #top { height: 1; background: $primary; color: $text; padding: 0 1; }
    LoginScreen #box { height: 1fr; padding: 1 2; }
    LoginScreen #prompt { height: auto; text-style: bold; padding: 1 0; }
    LoginScreen #pin { width: 40; }
    LoginScreen #message { height: auto; min-height: 3; padding: 1 0; }
    LoginScreen #message.error { color: $error; text-style: bold; }
    LoginScreen #message.info { color: $text-muted; }
    LoginScreen #entry { height: 1; padding: 0 1; }
    LoginScreen.refused #prompt, LoginScreen.refused #message { background: $error 40%; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.badge: str | None = None
        self.checking = False
        self._flash_timer: Any = None

    @property
    def station(self) -> StationApp:
        return cast("StationApp", self.app)

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

    def reset(self, message: str = "", level: str = "info") -> None:
        """Back to "Scan your badge", with a message (a refusal, or why the last user left)."""
        self.badge = None
        self.checking = False
        pin = self.query_one("#pin", Input)
        pin.value = ""
        pin.display = False
        pin.disabled = True
        self.set_focus(None)
        self.query_one("#prompt", Static).update("Scan your badge (or key its id and Enter)")
        self.show(message, level)

    def show(self, message: str, level: str = "info") -> None:
        widget = self.query_one("#message", Static)
        widget.set_classes(level)
        widget.update(Content(message))

    def refuse(self, message: str) -> None:
        self.reset(message, "error")
        self.station.bell()
        self.add_class("refused")
        if self._flash_timer is not None:
            self._flash_timer.stop()
        self._flash_timer = self.set_timer(
            self.station.flash_seconds, lambda: self.remove_class("refused")
        )

    def on_scanned(self, message: Scanned) -> None:
        if self.checking:
            return
        scan = message.scan
        code = scan.barcode
        if code is not None and code.kind == "badge":
            badge = code.value
        elif code is None and BADGE_ID.fullmatch(scan.text.strip()):
            badge = scan.text.strip().upper()
        else:
            what = f"a {code.kind} barcode" if code is not None else f"{show(scan.text)}"
            self.refuse(f"that is {what}, not a badge: scan your badge")
            return
        self.badge = badge
        self.query_one("#prompt", Static).update(Content(f"Badge {badge}: enter your PIN"))
        self.show("")
        pin = self.query_one("#pin", Input)
        pin.display = True
        pin.disabled = False
        pin.value = ""
        pin.focus()

    def on_entry_changed(self, message: EntryChanged) -> None:
        pending = show(message.pending)[1:-1] if message.pending else ""
        self.query_one("#entry", Static).update(Content(f"> {pending}"))

    def on_scanner_status(self, message: ScannerStatus) -> None:
        self.show(f"scanner {message.name}: {message.status}")

    @on(Input.Submitted, "#pin")
    def submitted(self, event: Input.Submitted) -> None:
        if self.badge is None or self.checking:
            return
        badge, pin = self.badge, event.value
        event.input.value = ""
        self.checking = True
        self.show("Checking…")
        terminal = self.station.terminal
        self.station.submit(lambda: terminal.login(badge, pin), self._answer)

    def _answer(self, result: LoggedIn | Exception) -> None:
        self.checking = False
        if isinstance(result, LoggedIn):
            self.reset()
            self.station.logged_in(result)
        elif isinstance(result, LoginError):
            self.refuse(str(result))
        else:
            self.refuse(f"the store did not answer ({result}): try again")

    def action_clear(self) -> None:
        self.station.feed.clear()
        self.query_one("#entry", Static).update("> ")
        self.reset()
