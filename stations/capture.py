"""Scanner capture for Textual apps: keystrokes buffered into whole scans.

A keyboard-wedge scanner types a code in a burst. Handled one key at a time by widgets,
such a burst gets merged and cut (an ``Input`` cleared in its submit handler loses the next
scan's first keys while it is busy). So :class:`ScanCaptureApp` takes every key event
before any widget sees it, hands its character to the station's :class:`ScanFeed`, and
posts one :class:`Scanned` message per whole scan to the screen. Keys without a character
(arrows, function keys) and keys while an ``Input`` has focus (a PIN) go on as usual;
Enter or Tab with nothing pending also go on, so buttons and focus still work.

The time each key arrived (``Key.time``, taken on the terminal's input thread) tells a scan
from typing, however busy the UI is when it gets to the key.
"""

from __future__ import annotations

from typing import Any

from textual import events
from textual.app import App
from textual.message import Message
from textual.widgets import Input, TextArea

from app.scanning import ScanEvent, ScanFeed

CONTROL = frozenset("\r\t\n\x1d")
"""Terminators and the GS1 group separator: control keys that belong to a scan."""


NAMED = {"enter": "\r", "tab": "\t", "ctrl+right_square_bracket": "\x1d"}


def key_char(event: events.Key) -> str | None:
    """The character a key stands for; terminals send it, synthetic keys may not."""
    if event.character is not None:
        return event.character
    if event.key in NAMED:
        return NAMED[event.key]
    if event.key.startswith("ctrl+") and len(event.key) == 6 and event.key[5].isalpha():
        return chr(ord(event.key[5].lower()) - 96)
    return None


class Scanned(Message):
    """A whole scan or keyed entry, and what it means."""

    def __init__(self, scan: ScanEvent) -> None:
        super().__init__()
        self.scan = scan


class EntryChanged(Message):
    """What is typed so far changed (for an entry line on screen)."""

    def __init__(self, pending: str) -> None:
        super().__init__()
        self.pending = pending


class ScannerStatus(Message):
    """A serial scanner connected or went away."""

    def __init__(self, name: str, status: str) -> None:
        super().__init__()
        self.name = name
        self.status = status


class ScanCaptureApp(App[Any]):
    """An app whose screens receive :class:`Scanned` messages instead of scanner keys."""

    def __init__(self, feed: ScanFeed, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.feed = feed

    def on_mount(self) -> None:
        self.feed.start(
            lambda scan: self.call_from_thread(self._deliver, scan),
            lambda name, status: self.call_from_thread(self._status, name, status),
        )

    def on_unmount(self) -> None:
        self.feed.stop()

    def _deliver(self, scan: ScanEvent) -> None:
        self.screen.post_message(Scanned(scan))

    def _status(self, name: str, status: str) -> None:
        self.screen.post_message(ScannerStatus(name, status))

    def _captures(self, event: events.Key) -> bool:
        if isinstance(self.focused, Input | TextArea):
            return False
        char = key_char(event)
        if char is None:
            return False
        pending = self.feed.pending
        if event.key in ("backspace", "escape"):
            return bool(pending)
        if char in ("\r", "\t", "\n") and not pending:
            return False
        return char.isprintable() or char in CONTROL or char in self.feed.control_chars

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded and self._captures(event):
            if event.key == "backspace":
                self.feed.backspace()
            elif event.key == "escape":
                self.feed.clear()
            else:
                char = key_char(event)
                assert char is not None
                for scan in self.feed.key(char, event.time):
                    self.screen.post_message(Scanned(scan))
            self.screen.post_message(EntryChanged(self.feed.pending))
            event.stop()
            return
        await super().on_event(event)
