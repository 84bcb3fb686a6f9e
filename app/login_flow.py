"""Logging in at any station: scan your badge (or key its id and Enter), then your PIN.

:data:`LOGIN_STEPS` declares the steps (badge, PIN, checking); :class:`LoginFlow` moves
between them on the UI thread, with no store of its own: the PIN is checked by
:meth:`LoginFlow.check`, which the station runs on its terminal worker (a store
transaction) and which changes nothing in the flow, and the answer comes back to
:meth:`LoginFlow.answer`.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Protocol

from app.barcodes import show
from app.flows import Flow, FlowState, Level, StepSpec, StepTable
from app.scanning import ScanEvent
from app.users import LoggedIn, LoginError


class LoginStep(enum.StrEnum):
    """Where the person at the station is in logging in."""

    BADGE = "badge"
    PIN = "pin"
    CHECKING = "checking"
    """Badge and PIN are being checked in the store."""


LOGIN_STEPS: StepTable[LoginStep] = StepTable(
    [
        StepSpec(
            LoginStep.BADGE,
            prompt="Scan your badge (or key its id and Enter)",
            expects=("badge",),
            next_steps=frozenset({LoginStep.PIN}),
            keys=("login.clear",),
        ),
        StepSpec(
            LoginStep.PIN,
            prompt="Badge $badge: enter your PIN",
            # The PIN is typed into its field; a badge scanned now replaces the one before.
            expects=("badge",),
            next_steps=frozenset({LoginStep.CHECKING, LoginStep.BADGE}),
            keys=("login.clear",),
        ),
        StepSpec(
            LoginStep.CHECKING,
            prompt="Badge $badge: enter your PIN",
            expects=(),
            # Cleared meanwhile, the answer still comes (a login cannot be called back).
            next_steps=frozenset({LoginStep.BADGE}),
            keys=("login.clear",),
        ),
    ]
)
"""The login's steps, as data (the first is where the station starts)."""

BADGE_ID = re.compile(r"[A-Za-z][A-Za-z0-9]{1,30}")
"""A badge id keyed by hand (``U1001``) rather than scanned (``BADGE-U1001``)."""


class LoginTerminal(Protocol):
    """What the login flow uses of :class:`app.terminal.Terminal`."""

    def login(self, badge_scan: str, pin: str) -> LoggedIn: ...


@dataclass(frozen=True)
class LoginAttempt:
    """A badge and the PIN typed for it, on their way to the store."""

    badge: str
    pin: str = field(repr=False)


@dataclass(frozen=True)
class LoginState(FlowState[LoginStep]):
    """What the login screen shows."""

    prompt: str = ""
    badge: str | None = None
    user: LoggedIn | None = None
    """Who just logged in (the station opens its role's screen)."""


class LoginFlow(Flow[LoginStep]):
    """Badge, then PIN; every change on the UI thread."""

    def __init__(self, terminal: LoginTerminal) -> None:
        super().__init__(LOGIN_STEPS)
        self.terminal = terminal
        self.badge: str | None = None

    def state(
        self,
        message: str = "",
        level: Level = "info",
        *,
        alert: bool = False,
        user: LoggedIn | None = None,
    ) -> LoginState:
        prompt = self.spec.say(badge=self.badge) if self.badge else self.spec.prompt
        return LoginState(
            step=self.step,
            message=message,
            level=level,
            alert=alert,
            keys=self.keys(),
            prompt=prompt,
            badge=self.badge,
            user=user,
        )

    def reset(
        self, message: str = "", level: Level = "info", *, user: LoggedIn | None = None
    ) -> LoginState:
        """Back to "Scan your badge", with a message (a refusal, or why the last user left)."""
        self.move_to(LoginStep.BADGE)
        self.badge = None
        return self.state(message, level, alert=level == "error", user=user)

    def refuse(self, message: str) -> LoginState:
        return self.reset(message, "error")

    def scan(self, event: ScanEvent) -> LoginState | None:
        """A badge moves on to its PIN; anything else is refused. None while checking."""
        if self.step is LoginStep.CHECKING:
            return None
        code = event.barcode
        if code is not None and code.kind in self.spec.expects:
            badge = code.value
        elif code is None and BADGE_ID.fullmatch(event.text.strip()):
            badge = event.text.strip().upper()
        else:
            what = f"a {code.kind} barcode" if code is not None else f"{show(event.text)}"
            return self.refuse(f"that is {what}, not a badge: scan your badge")
        self.move_to(LoginStep.PIN)
        self.badge = badge
        return self.state()

    def enter_pin(self, pin: str) -> tuple[LoginState, LoginAttempt] | None:
        """The PIN typed for the badge: what to show while :meth:`check` runs, and the
        attempt to hand it. None when no badge waits for a PIN."""
        if self.step is not LoginStep.PIN or self.badge is None:
            return None
        self.move_to(LoginStep.CHECKING)
        return self.state("Checking…"), LoginAttempt(self.badge, pin)

    def check(self, attempt: LoginAttempt) -> LoggedIn:
        """Check the attempt in the store (on the terminal worker; the flow is not touched)."""
        return self.terminal.login(attempt.badge, attempt.pin)

    def answer(self, result: LoggedIn | Exception) -> LoginState:
        """The store's answer: logged in (``user`` set), or refused and back to the badge."""
        if isinstance(result, LoggedIn):
            return self.reset(user=result)
        if isinstance(result, LoginError):
            return self.refuse(str(result))
        return self.refuse(f"the store did not answer ({result}): try again")
