"""The message line every station screen has: text that names keys by binding id
(``{key:pick.claim}``) shown with the keys the site bound them to, in a level's colour."""

from __future__ import annotations

import re
from typing import Any

from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

from app.flows import Level

__all__ = ["Level", "show_message", "with_keys"]

KEY_TOKEN = re.compile(r"\{key:([a-z_.]+)\}")
"""Messages name keys by binding id; the screen shows the real key."""


def with_keys(screen: Screen[Any], text: str) -> str:
    """``{key:binding.id}`` tokens as the keys bound to them now (after the site keymap)."""
    bound: dict[str, str] = {}
    for _node, bindings in screen._binding_chain:
        for _key, binding in bindings:
            if binding.id and binding.id not in bound:
                bound[binding.id] = screen.app.get_key_display(binding)
    return KEY_TOKEN.sub(lambda m: bound.get(m.group(1), m.group(1)), text)


def show_message(screen: Screen[Any], text: str, level: Level) -> None:
    """Show ``text`` in the screen's ``#message`` line."""
    message = screen.query_one("#message", Static)
    message.set_classes(level)
    message.update(Content(with_keys(screen, text)))
