"""The login flow against a fake terminal: badge, PIN, checking; every refusal and move."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from app.barcodes import BarcodeError, resolve
from app.flows import IllegalMove
from app.login_flow import (
    LOGIN_STEPS,
    LoginAttempt,
    LoginFlow,
    LoginState,
    LoginStep,
    LoginTerminal,
)
from app.scanning import ScanEvent
from app.users import LoggedIn, LoginError
from tests.factories import PAT


class FakeTerminal:
    """Logs in U1001 with PIN 1111; refuses anything else as the service does."""

    def __init__(self) -> None:
        self.tries: list[tuple[str, str]] = []

    def login(self, badge_scan: str, pin: str) -> LoggedIn:
        self.tries.append((badge_scan, pin))
        if badge_scan != "U1001":
            raise LoginError("unknown_badge", f"there is no active badge {badge_scan}")
        if pin != "1111":
            raise LoginError("wrong_pin", "wrong PIN for U1001: 4 tries left before it locks")
        return PAT


def scanned(text: str) -> ScanEvent:
    try:
        return ScanEvent(text, "test", False, 0.0, resolve(text), None)
    except BarcodeError as exc:
        return ScanEvent(text, "test", False, 0.0, None, str(exc))


def new_flow() -> tuple[LoginFlow, FakeTerminal]:
    terminal = FakeTerminal()
    fake: LoginTerminal = terminal
    return LoginFlow(fake), terminal


def checking(flow: LoginFlow, badge: str = "BADGE-U1001", pin: str = "1111") -> LoginAttempt:
    flow.scan(scanned(badge))
    entered = flow.enter_pin(pin)
    assert entered is not None
    return entered[1]


# --- the table ------------------------------------------------------------------------


def test_the_table() -> None:
    table = {s.step: (s.prompt, s.expects, set(s.next_steps), s.keys) for s in LOGIN_STEPS}
    assert table == {
        LoginStep.BADGE: (
            "Scan your badge (or key its id and Enter)",
            ("badge",),
            {LoginStep.PIN},
            ("login.clear",),
        ),
        LoginStep.PIN: (
            "Badge $badge: enter your PIN",
            ("badge",),
            {LoginStep.CHECKING, LoginStep.BADGE},
            ("login.clear",),
        ),
        LoginStep.CHECKING: (
            "Badge $badge: enter your PIN",
            (),
            {LoginStep.BADGE},
            ("login.clear",),
        ),
    }
    assert LOGIN_STEPS.start is LoginStep.BADGE
    assert LOGIN_STEPS.reachable() == frozenset(LoginStep)


@pytest.mark.parametrize("start", list(LoginStep))
@pytest.mark.parametrize("end", list(LoginStep))
def test_every_move_not_in_the_table_is_refused(start: LoginStep, end: LoginStep) -> None:
    flow, _ = new_flow()
    flow._step = start  # the guard itself is under test, from every step
    if LOGIN_STEPS.allows(start, end):
        flow.move_to(end)
        assert flow.step is end
    else:
        with pytest.raises(IllegalMove):
            flow.move_to(end)
        assert flow.step is start


def to_pin(flow: LoginFlow) -> None:
    flow.scan(scanned("BADGE-U1001"))


def to_checking(flow: LoginFlow) -> None:
    checking(flow)


MOVES: dict[
    tuple[LoginStep, LoginStep], tuple[Callable[[LoginFlow], object], Callable[[LoginFlow], object]]
] = {
    (LoginStep.BADGE, LoginStep.PIN): (lambda _f: None, to_pin),
    (LoginStep.PIN, LoginStep.CHECKING): (to_pin, lambda f: f.enter_pin("1111")),
    (LoginStep.PIN, LoginStep.BADGE): (to_pin, lambda f: f.reset()),
    (LoginStep.CHECKING, LoginStep.BADGE): (to_checking, lambda f: f.answer(PAT)),
}


def test_every_declared_move_has_an_action_that_makes_it() -> None:
    assert set(MOVES) == {(s.step, n) for s in LOGIN_STEPS for n in s.next_steps}


@pytest.mark.parametrize(("start", "end"), list(MOVES))
def test_a_declared_move(start: LoginStep, end: LoginStep) -> None:
    flow, _ = new_flow()
    before, act = MOVES[(start, end)]
    before(flow)
    assert flow.step is start
    act(flow)
    assert flow.step is end


# --- logging in -----------------------------------------------------------------------


def test_a_badge_then_its_pin() -> None:
    flow, terminal = new_flow()
    start = flow.state()
    assert (start.step, start.prompt, start.keys) == (
        LoginStep.BADGE,
        "Scan your badge (or key its id and Enter)",
        frozenset({"login.clear"}),
    )
    state = flow.scan(scanned("BADGE-U1001"))
    assert state == LoginState(
        LoginStep.PIN,
        keys=frozenset({"login.clear"}),
        prompt="Badge U1001: enter your PIN",
        badge="U1001",
    )
    entered = flow.enter_pin("1111")
    assert entered is not None
    shown, attempt = entered
    assert (shown.step, shown.message, shown.prompt) == (
        LoginStep.CHECKING,
        "Checking…",
        "Badge U1001: enter your PIN",
    )
    assert "1111" not in repr(attempt)
    # Checked on the worker: the flow is not changed by it.
    user = flow.check(attempt)
    assert flow.step is LoginStep.CHECKING
    assert terminal.tries == [("U1001", "1111")]
    state = flow.answer(user)
    assert (state.step, state.user, state.message, state.alert) == (LoginStep.BADGE, PAT, "", False)
    assert state.prompt == "Scan your badge (or key its id and Enter)"
    assert flow.badge is None


def test_a_badge_id_keyed_by_hand() -> None:
    flow, _ = new_flow()
    state = flow.scan(ScanEvent(" u1001 ", "keyboard", True, 0.0, None, "not a barcode"))
    assert state is not None
    assert (state.step, state.badge) == (LoginStep.PIN, "U1001")


def test_a_second_badge_replaces_the_first() -> None:
    flow, _ = new_flow()
    flow.scan(scanned("BADGE-U1001"))
    state = flow.scan(scanned("BADGE-U1002"))
    assert state is not None
    assert (state.step, state.badge) == (LoginStep.PIN, "U1002")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("TOTE-0001", "that is a tote barcode, not a badge: scan your badge"),
        ("LOC-A-01-01-1", "that is a location barcode, not a badge: scan your badge"),
        ("5012345658308", "that is a gtin barcode, not a badge: scan your badge"),
        ("1", "that is '1', not a badge: scan your badge"),
        ("U1001!", "that is 'U1001!', not a badge: scan your badge"),
    ],
)
@pytest.mark.parametrize("at_pin", [False, True])
def test_not_a_badge(text: str, message: str, at_pin: bool) -> None:
    flow, _ = new_flow()
    if at_pin:
        to_pin(flow)
    state = flow.scan(scanned(text))
    assert state is not None
    assert (state.step, state.message, state.level, state.alert, state.badge) == (
        LoginStep.BADGE,
        message,
        "error",
        True,
        None,
    )


def test_scans_while_checking_are_ignored() -> None:
    flow, _ = new_flow()
    checking(flow)
    assert flow.scan(scanned("BADGE-U1002")) is None
    assert flow.scan(scanned("TOTE-0001")) is None
    assert flow.step is LoginStep.CHECKING


def test_a_pin_without_a_badge_or_while_checking_is_not_taken() -> None:
    flow, terminal = new_flow()
    assert flow.enter_pin("1111") is None
    checking(flow)
    assert flow.enter_pin("1111") is None
    assert terminal.tries == []


@pytest.mark.parametrize(
    ("badge", "pin", "message"),
    [
        ("BADGE-U1001", "9999", "wrong PIN for U1001: 4 tries left before it locks"),
        ("BADGE-U9999", "1111", "there is no active badge U9999"),
    ],
)
def test_refused_by_the_service(badge: str, pin: str, message: str) -> None:
    flow, _ = new_flow()
    attempt = checking(flow, badge, pin)
    with pytest.raises(LoginError) as refused:
        flow.check(attempt)
    state = flow.answer(refused.value)
    assert (state.step, state.message, state.level, state.alert, state.user) == (
        LoginStep.BADGE,
        message,
        "error",
        True,
        None,
    )


def test_the_store_not_answering() -> None:
    flow, _ = new_flow()
    checking(flow)
    state = flow.answer(ConnectionError("no route to host"))
    assert (state.step, state.message, state.alert) == (
        LoginStep.BADGE,
        "the store did not answer (no route to host): try again",
        True,
    )


def test_cleared_while_checking_the_answer_still_logs_in() -> None:
    """A login already sent cannot be called back: its answer is shown when it comes."""
    flow, _ = new_flow()
    attempt = checking(flow)
    flow.reset()
    state = flow.answer(flow.check(attempt))
    assert (state.step, state.user) == (LoginStep.BADGE, PAT)


def test_a_reset_says_why() -> None:
    flow, _ = new_flow()
    to_pin(flow)
    state = flow.reset("Pat Picker logged out.")
    assert (state.step, state.message, state.level, state.alert, state.badge) == (
        LoginStep.BADGE,
        "Pat Picker logged out.",
        "info",
        False,
        None,
    )
