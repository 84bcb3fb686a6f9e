"""Waiting on a condition, never for a fixed time: the one way tests wait for another thread,
process or terminal to catch up."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

POLL_S = 0.01
"""How often a condition is asked again: often enough that a test never waits long for
what has already happened, rarely enough not to starve what it waits for."""


def wait_until(
    condition: Callable[[], T], *, timeout: float, what: str | Callable[[], str] = ""
) -> T:
    """Return `condition()`'s first truthy value; fail the test after `timeout` seconds.

    `what` says what was awaited (or computes it, e.g. the screen as it was), for the
    failure message.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            said = what() if callable(what) else what
            raise AssertionError(f"waited {timeout:g} s in vain for {said or condition!r}")
        time.sleep(POLL_S)
