"""The supervisor flow against a fake terminal: the queue, the attention filter, and taking
a list back with its question, refusals and answers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.barcodes import resolve
from app.flows import IllegalMove
from app.picking.station import StationError
from app.scanning import ScanEvent
from app.supervisor import FloorQueue, ListOnFloor
from app.supervisor_flow import (
    SUPERVISOR_STEPS,
    SupervisorFlow,
    SupervisorStep,
    SupervisorTerminal,
)

AT = datetime(2026, 6, 1, 9, 30, 5, tzinfo=UTC)


def on_floor(
    list_id: int, status: str, picker: str = "", *, stale: bool = False, quiet: float | None = None
) -> ListOnFloor:
    return ListOnFloor(
        id=list_id,
        wave_id=1,
        zone="A",
        status=status,
        lines=4,
        lines_done=1,
        totes=2,
        picker=picker,
        station="PICK-01" if picker else "",
        quiet_seconds=quiet,
        stale=stale,
    )


HELD = on_floor(1, "claimed", "Pat Picker (U1001)", quiet=2.0)
QUIET = on_floor(2, "claimed", "Quinn Picker (U1002)", stale=True, quiet=300.0)
PAUSED = on_floor(3, "paused")
FREE = on_floor(4, "released")
QUEUE = FloorQueue(AT, (HELD, QUIET, PAUSED, FREE))


class FakeTerminal:
    def __init__(self) -> None:
        self.queue = QUEUE
        self.taken: list[int] = []
        self.refuse: Exception | None = None
        self.unlocked: list[str] = []

    def unlock(self, badge: str) -> str:
        if self.refuse is not None:
            raise self.refuse
        self.unlocked.append(badge)
        return "Pat Picker"

    def pick_queue(self) -> FloorQueue:
        return self.queue

    def take_back(self, list_id: int) -> None:
        if self.refuse is not None:
            raise self.refuse
        self.taken.append(list_id)
        self.queue = FloorQueue(
            AT,
            tuple(on_floor(x.id, "released") if x.id == list_id else x for x in self.queue.lists),
        )


def new_flow() -> tuple[SupervisorFlow, FakeTerminal]:
    terminal = FakeTerminal()
    fake: SupervisorTerminal = terminal
    flow = SupervisorFlow(fake)
    return flow, terminal


# --- the table ------------------------------------------------------------------------


def test_the_table() -> None:
    table = {s.step: (s.expects, set(s.next_steps), s.keys) for s in SUPERVISOR_STEPS}
    assert table == {
        SupervisorStep.QUEUE: (
            (),
            {SupervisorStep.CONFIRM, SupervisorStep.UNLOCK},
            (
                "supervisor.refresh",
                "supervisor.take_back",
                "supervisor.attention",
                "supervisor.unlock",
            ),
        ),
        SupervisorStep.CONFIRM: ((), {SupervisorStep.QUEUE}, ("take_back.cancel",)),
        SupervisorStep.UNLOCK: (("badge",), {SupervisorStep.QUEUE}, ("unlock.cancel",)),
    }
    assert SUPERVISOR_STEPS[SupervisorStep.CONFIRM].prompt == (
        "Type Y and Enter to take it back · Esc to leave it"
    )
    assert SUPERVISOR_STEPS.reachable() == frozenset(SupervisorStep)


@pytest.mark.parametrize("start", list(SupervisorStep))
@pytest.mark.parametrize("end", list(SupervisorStep))
def test_every_move_not_in_the_table_is_refused(start: SupervisorStep, end: SupervisorStep) -> None:
    flow, _ = new_flow()
    flow._step = start  # the guard itself is under test, from every step
    if SUPERVISOR_STEPS.allows(start, end):
        flow.move_to(end)
        assert flow.step is end
    else:
        with pytest.raises(IllegalMove):
            flow.move_to(end)


def test_an_answer_with_no_question_takes_nothing_back() -> None:
    flow, terminal = new_flow()
    assert flow.answered(True) is None
    assert flow.step is SupervisorStep.QUEUE
    assert terminal.taken == []


# --- the queue --------------------------------------------------------------------------


def test_before_the_first_read() -> None:
    flow, _ = new_flow()
    state = flow.state()
    assert (state.step, state.queue, state.lists, state.message) == (
        SupervisorStep.QUEUE,
        None,
        [],
        "",
    )
    assert state.summary == "Reading the floor…"
    assert state.keys == {
        "supervisor.refresh",
        "supervisor.take_back",
        "supervisor.attention",
        "supervisor.unlock",
    }


def test_reading_and_the_attention_filter() -> None:
    flow, _ = new_flow()
    state = flow.queue_read(flow.read())
    assert state.lists == [HELD, QUIET, PAUSED, FREE]
    assert state.summary == ("On the floor: 2 claimed (1 quiet) · 1 paused · 1 released · 09:30:05")
    state = flow.toggle_attention()
    assert state.lists == [QUIET, PAUSED]
    assert state.summary.startswith("Needing attention: 2 claimed (1 quiet)")
    assert flow.toggle_attention().lists == [HELD, QUIET, PAUSED, FREE]


def test_a_refresh_says_so_and_the_message_stays_through_reads() -> None:
    flow, _ = new_flow()
    state = flow.refresh()
    assert (state.message, state.level, state.alert) == ("Reading the queue…", "info", False)
    state = flow.queue_read(QUEUE)
    assert (state.message, state.alert) == ("Reading the queue…", False)


def test_a_read_that_fails_keeps_the_queue_as_last_read() -> None:
    flow, _ = new_flow()
    flow.queue_read(QUEUE)
    state = flow.queue_read(ConnectionError("no route to host"))
    assert state.queue is QUEUE
    assert (state.message, state.level, state.alert) == (
        "the store did not answer (no route to host); the queue is as last read",
        "error",
        False,
    )


# --- taking a list back -------------------------------------------------------------------


def test_taking_a_list_back() -> None:
    flow, terminal = new_flow()
    flow.queue_read(QUEUE)
    state = flow.ask(HELD)
    assert (state.step, state.asking, state.keys) == (
        SupervisorStep.CONFIRM,
        HELD,
        frozenset({"take_back.cancel"}),
    )
    item = flow.answered(True)
    assert item == HELD
    assert flow.step is SupervisorStep.QUEUE
    state = flow.taken_back(HELD, flow.take_back(HELD))
    assert terminal.taken == [1]
    assert (state.message, state.level, state.alert) == (
        "Pick list 1 taken back from Pat Picker (U1001): anyone can claim it",
        "ok",
        False,
    )
    assert state.lists[0].status == "released"


def test_a_paused_list_is_taken_back_from_nobody() -> None:
    flow, _ = new_flow()
    flow.ask(PAUSED)
    flow.answered(True)
    state = flow.taken_back(PAUSED, flow.take_back(PAUSED))
    assert state.message == "Pick list 3 taken back: anyone can claim it"


@pytest.mark.parametrize("answer", [None, False])
def test_left_as_it_is(answer: bool | None) -> None:
    flow, terminal = new_flow()
    flow.ask(HELD)
    assert flow.answered(answer) is None
    assert flow.step is SupervisorStep.QUEUE
    assert flow.state().asking is None
    assert terminal.taken == []


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (None, "there is no list to take back: choose one with ↑ ↓"),
        (FREE, "pick list 4 is released, nobody holds it: nothing to take back"),
    ],
)
def test_nothing_to_take_back(item: ListOnFloor | None, message: str) -> None:
    flow, _ = new_flow()
    state = flow.ask(item)
    assert (state.step, state.message, state.level, state.alert, state.asking) == (
        SupervisorStep.QUEUE,
        message,
        "error",
        True,
        None,
    )


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (StationError("pick list 1 is at WH1, not DC9"), "pick list 1 is at WH1, not DC9"),
        (
            ConnectionError("no route to host"),
            "the store did not answer (no route to host); nothing was taken back",
        ),
    ],
)
def test_a_take_back_refused(failure: Exception, message: str) -> None:
    flow, terminal = new_flow()
    flow.queue_read(QUEUE)
    terminal.refuse = failure
    flow.ask(HELD)
    flow.answered(True)
    with pytest.raises(type(failure)) as raised:
        flow.take_back(HELD)
    state = flow.taken_back(HELD, raised.value)
    assert (state.message, state.level, state.alert, state.queue) == (message, "error", True, QUEUE)


def test_nothing_is_scanned_here() -> None:
    flow, _ = new_flow()
    state = flow.scan(ScanEvent("TOTE-0001", "test", False, 0.0, resolve("TOTE-0001"), None))
    assert (state.message, state.level, state.alert) == (
        "nothing is scanned here, scanned 'TOTE-0001': choose a list with ↑ ↓; "
        "{key:supervisor.take_back} takes it back, {key:supervisor.unlock} unlocks a badge",
        "error",
        True,
    )


# --- unlocking a badge ----------------------------------------------------------------


@pytest.mark.parametrize("entered", ["BADGE-U1001", "U1001", " u1001 "])
def test_a_badge_scanned_or_typed_is_unlocked(entered: str) -> None:
    flow, terminal = new_flow()
    state = flow.ask_unlock()
    assert state.step is SupervisorStep.UNLOCK
    assert state.message == "Scan the badge to unlock, or type it and Enter · Esc to leave it"
    badge = flow.unlock_answered(entered)
    assert (badge, flow.step) == ("U1001", SupervisorStep.QUEUE)
    assert badge is not None
    state = flow.unlocked(badge, flow.unlock(badge))
    assert terminal.unlocked == ["U1001"]
    assert (state.message, state.level, state.alert) == (
        "Badge U1001 (Pat Picker) is unlocked: they can log in again",
        "ok",
        False,
    )


@pytest.mark.parametrize("left", [None, "", "   "])
def test_an_unlock_left_unlocks_nothing(left: str | None) -> None:
    flow, terminal = new_flow()
    flow.ask_unlock()
    assert flow.unlock_answered(left) is None
    assert (flow.step, flow.message, terminal.unlocked) == (SupervisorStep.QUEUE, "", [])


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (
            StationError("there is no user with badge NOPE: `shipfloor users list` shows them"),
            "there is no user with badge NOPE: `shipfloor users list` shows them",
        ),
        (
            OSError("connection refused"),
            "the store did not answer (connection refused); badge NOPE is as it was",
        ),
    ],
)
def test_an_unlock_refused(failure: Exception, message: str) -> None:
    flow, terminal = new_flow()
    terminal.refuse = failure
    flow.ask_unlock()
    badge = flow.unlock_answered("NOPE")
    assert badge == "NOPE"
    with pytest.raises(type(failure)) as raised:
        flow.unlock(badge)
    state = flow.unlocked(badge, raised.value)
    assert (state.message, state.level, state.alert) == (message, "error", True)
