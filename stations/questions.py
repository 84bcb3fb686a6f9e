"""A question over a station screen, answered by typing a short answer and Enter.

Scan capture stays on over it: a wedge scanner's burst is a scan, which closes the
question and goes to the screen beneath, never key presses that could answer it.
"""

from __future__ import annotations

from typing import Any, TypeVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from stations.capture import Scanned

T = TypeVar("T")


def forward(overlay: Screen[Any], message: Scanned) -> None:
    """A scan arriving over an overlay closes it and goes to the screen beneath."""
    stack = overlay.app.screen_stack
    if len(stack) >= 2 and stack[-1] is overlay:
        stack[-2].post_message(Scanned(message.scan))
        overlay.dismiss(None)


class TypedQuestion(ModalScreen[T | None]):
    """The question's ``lines``; ``answer`` turns a typed entry into the answer, or None
    for anything else (a scan, which is forwarded). Subclasses bind Escape to ``cancel``
    with their own binding id."""

    def lines(self) -> list[str]:
        raise NotImplementedError

    def answer(self, text: str) -> T | None:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content("\n".join(self.lines())))

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_scanned(self, message: Scanned) -> None:
        chosen = self.answer(message.scan.text.strip())
        if chosen is not None:
            self.dismiss(chosen)
            return
        forward(self, message)


class ChoiceQuestion(TypedQuestion[T]):
    """A numbered choice: a number not on the list keeps the question open and says so
    (anything longer is a scan, which closes it and goes to the screen beneath)."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content("\n".join(self.lines())))
            error = Static("", id="choice-error")
            error.display = False  # only once a wrong number was typed
            yield error

    def numbers(self) -> str:
        raise NotImplementedError

    def on_scanned(self, message: Scanned) -> None:
        # This handler decides alone (TypedQuestion's would close the question again).
        message.prevent_default()
        text = message.scan.text.strip()
        chosen = self.answer(text)
        if chosen is not None:
            self.dismiss(chosen)
            return
        if len(text) <= 3:
            error = self.query_one("#choice-error", Static)
            error.display = True
            error.update(Content(f"{text} is not on the list: type {self.numbers()} and Enter"))
            self.app.bell()
            return
        forward(self, message)
