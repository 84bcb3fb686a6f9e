"""Help: every binding active on the screen beneath, by key, id and what it does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from stations.capture import Scanned


@dataclass(frozen=True)
class HelpRow:
    key: str
    binding_id: str
    description: str
    enabled: bool


class HelpScreen(Screen[None], inherit_bindings=False):
    """The bindings of the screen it was opened over; Escape closes it."""

    AUTO_FOCUS = ""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="help.close", tooltip="Close this help"),
    ]

    def __init__(self, title: str, rows: list[HelpRow]) -> None:
        super().__init__()
        self.title_text = title
        self.rows = rows

    def compose(self) -> ComposeResult:
        yield Static(Content(f"Help · {self.title_text}"), id="top")
        width = max([len(r.key) for r in self.rows] + [3])
        ident = max([len(r.binding_id) for r in self.rows] + [2])
        lines = [f"{'Key':<{width}}  {'Id':<{ident}}  What it does", ""]
        for row in self.rows:
            note = "" if row.enabled else " (not now)"
            lines.append(f"{row.key:<{width}}  {row.binding_id:<{ident}}  {row.description}{note}")
        yield VerticalScroll(Static(Content("\n".join(lines)), id="table"), id="rows")
        yield Static(
            "Scan codes any time: a scan closes this help and goes to the work screen. "
            "Keys are set per site (keymap by id).",
            id="scan",
        )
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(None)

    def on_scanned(self, message: Scanned) -> None:
        stack = self.app.screen_stack
        if len(stack) >= 2 and stack[-1] is self:
            stack[-2].post_message(Scanned(message.scan))
            self.dismiss(None)
