"""The pick flow as a state machine against a fake terminal: no Textual, no store.

Every step, every refusal the flow makes itself (and one the terminal makes, passed on),
every move of the step table made by a real scan or action, every move it does not declare
refused, and the table itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date

import pytest

from app.barcodes import BarcodeError, resolve
from app.flows import IllegalMove
from app.picking import station
from app.picking.flow import (
    AT_TASK,
    HOLDING,
    PICK_STEPS,
    PickFlow,
    PickState,
    PickTerminal,
    Step,
)
from app.picking.station import (
    ItemScan,
    PickDone,
    PickListView,
    Pulse,
    ShortResult,
    StationError,
    Task,
    Tote,
)
from app.scanning import ScanEvent
from app.users import LoggedIn
from data.models import PickListStatus, PickTaskStatus
from tests.factories import PAT

TODAY = date(2026, 6, 1)
PLAIN = "5012345658308"
OTHER = "5012345036670"
SERIAL = "5012345871301"


# --- a pick list and a terminal without a store ------------------------------------------


def task(
    id: int,  # noqa: A002 - the field's name
    location: str,
    gtin: str,
    quantity: int,
    slot: int,
    order: str,
    *,
    serial: bool = False,
) -> Task:
    return Task(
        id=id,
        seq=id,
        location_id=id,
        location=location,
        location_barcode=f"LOC-{location}",
        x_mm=1000 * id,
        y_mm=0,
        sku=f"SKU-{id}",
        product=f"Product {id}",
        gtin=gtin,
        track_lot=False,
        track_serial=serial,
        track_expiry=False,
        lot="",
        quantity=quantity,
        picked=0,
        status=PickTaskStatus.OPEN,
        tote_slot=slot,
        tote=None,
        order_ref=order,
    )


def pick_list(list_id: int = 7, *tasks: Task) -> PickListView:
    tasks = tasks or (
        task(1, "A-01-01-1", PLAIN, 1, 1, "web/1"),
        task(2, "A-01-02-1", OTHER, 2, 2, "web/2"),
        task(3, "A-01-03-1", SERIAL, 1, 1, "web/1", serial=True),
    )
    orders = dict.fromkeys(t.order_ref for t in tasks)
    slots = {t.order_ref: t.tote_slot for t in tasks}
    return PickListView(
        id=list_id,
        wave_id=3,
        node="WH1",
        status=PickListStatus.RELEASED,
        zone="A",
        claimed_by=None,
        claimed_station=None,
        totes=tuple(Tote(slots[o], slots[o], None, o, "picking") for o in orders),
        tasks=tasks,
        distance_m=30.0,
        est_seconds=60.0,
        path=((0.0, 0.0), (3.0, 0.0)),
    )


def tote_of(slot: int, list_id: int = 7) -> str:
    return f"TOTE-{list_id:03d}{slot:02d}"


@dataclass(frozen=True)
class Settings:
    typed_quantity: bool = True


class FakeTerminal:
    """The terminal's pick methods on lists held in memory; the scan checks are the real
    pure ones. ``failing`` makes a method raise once; ``pulses`` are what heartbeats say."""

    def __init__(self, *lists: PickListView, typed_quantity: bool = True) -> None:
        self.user: LoggedIn | None = PAT
        self.settings = Settings(typed_quantity)
        self.waiting = list(lists)
        self.held: PickListView | None = None
        self.calls: list[str] = []
        self.failing: dict[str, Exception] = {}
        self.pulses: list[Pulse] = []
        self.confirm_only: int | None = None
        """The store records this many units of a pick, whatever was scanned."""
        self.finishes = True
        """False: a pick never reports its list done (its closing failed in the store)."""
        self.confirmed_into: list[str] = []

    def _call(self, name: str) -> None:
        self.calls.append(name)
        failure = self.failing.pop(name, None)
        if failure is not None:
            raise failure

    def _list(self, list_id: int) -> PickListView:
        assert self.held is not None
        assert self.held.id == list_id
        return self.held

    def _tasks(self, change: Callable[[Task], Task]) -> PickListView:
        view = self._list(self.held.id if self.held else 0)
        tasks = tuple(change(t) for t in view.tasks)
        done = not any(t.status is PickTaskStatus.OPEN for t in tasks)
        self.held = replace(view, tasks=tasks, status=PickListStatus.DONE if done else view.status)
        return self.held

    def claim_next(self) -> PickListView | None:
        self._call("claim_next")
        if not self.waiting:
            return None
        self.held = replace(self.waiting.pop(0), status=PickListStatus.CLAIMED)
        return self.held

    def claim_list(self, list_id: int) -> PickListView:
        self._call("claim_list")
        found = next((v for v in self.waiting if v.id == list_id), None)
        if found is None:
            raise StationError(f"scanned LIST-{list_id}: there is no pick list {list_id}")
        self.waiting.remove(found)
        self.held = replace(found, status=PickListStatus.CLAIMED)
        return self.held

    def view(self, list_id: int) -> PickListView:
        self._call("view")
        return self._list(list_id)

    def set_tote(self, list_id: int, slot: int, scan: str) -> PickListView:
        self._call("set_tote")
        try:
            code = resolve(scan)
        except BarcodeError as exc:
            raise StationError(f"expected a tote barcode (TOTE-…) for slot {slot}: {exc}") from None
        if code.kind != "tote":
            raise StationError(
                f"expected a tote barcode (TOTE-…) for slot {slot}, scanned a {code.kind}: {scan}"
            )
        view = self._list(list_id)
        if any(t.tote == code.site_code for t in view.totes):
            raise StationError(f"{code.site_code} is already on this cart; scan another tote")
        self.held = replace(
            view,
            totes=tuple(
                replace(t, tote=code.site_code) if t.slot == slot else t for t in view.totes
            ),
            tasks=tuple(
                replace(t, tote=code.site_code) if t.tote_slot == slot else t for t in view.tasks
            ),
        )
        return self.held

    def check_location(self, task: Task, scan: str) -> None:
        self._call("check_location")
        station.check_location(task, scan)

    def check_item(self, task: Task, scan: str, counted: Sequence[ItemScan]) -> ItemScan:
        self._call("check_item")
        return station.check_item(task, scan, TODAY, counted)

    def typed_units(self, task: Task, quantity: int, counted: Sequence[ItemScan]) -> ItemScan:
        self._call("typed_units")
        already = sum(i.count for i in counted)
        if already + quantity > task.left:
            raise StationError(
                f"over-pick: {task.left} to pick here, {already} scanned, {quantity} typed"
            )
        return ItemScan(lot=task.lot, serial="", expiry=None, count=quantity)

    def check_tote(self, task: Task, scan: str) -> str:
        self._call("check_tote")
        return station.check_tote(task, scan)

    def confirm(self, list_id: int, task_id: int, items: Sequence[ItemScan], tote: str) -> PickDone:
        self._call("confirm")
        self.confirmed_into.append(tote)
        units = sum(i.count for i in items) if self.confirm_only is None else self.confirm_only

        def picked(t: Task) -> Task:
            if t.id != task_id:
                return t
            done = t.picked + units >= t.quantity
            return replace(
                t, picked=t.picked + units, status=PickTaskStatus.DONE if done else t.status
            )

        self._list(list_id)
        view = self._tasks(picked)
        done = self.finishes and view.status is PickListStatus.DONE
        return PickDone(list_id, task_id, units, done)

    def short(self, list_id: int, task_id: int, reason: str) -> ShortResult:
        self._call("short")
        self._list(list_id)
        view = self._tasks(
            lambda t: replace(t, status=PickTaskStatus.SHORT) if t.id == task_id else t
        )
        assert reason in station.SHORT_REASONS
        return ShortResult(view, f"order web/{task_id} gets the 1 missing unit(s) from other stock")

    def skip(self, list_id: int, task_id: int) -> PickListView:
        self._call("skip")
        view = self._list(list_id)
        skipped = [t for t in view.tasks if t.id == task_id]
        self.held = replace(view, tasks=(*[t for t in view.tasks if t.id != task_id], *skipped))
        return self.held

    def pause(self, list_id: int) -> None:
        self._call("pause")
        view = self._list(list_id)
        self.waiting.insert(0, replace(view, status=PickListStatus.PAUSED))
        self.held = None

    def close_if_empty(self, list_id: int) -> PickListView:
        self._call("close_if_empty")
        self.held = replace(self._list(list_id), status=PickListStatus.DONE)
        return self.held

    def heartbeat(self, list_id: int) -> Pulse:
        self._call("heartbeat")
        if self.pulses:
            return self.pulses.pop(0)
        return Pulse(ours=True, view=self._list(list_id))

    def cancel_order(self, order: str) -> None:
        """What cancelling an order does to the list held: its open tasks are cancelled."""
        self._tasks(
            lambda t: (
                replace(t, status=PickTaskStatus.CANCELLED)
                if t.order_ref == order and t.status is PickTaskStatus.OPEN
                else t
            )
        )


def scanned(text: str) -> ScanEvent:
    try:
        return ScanEvent(text, "test", False, 0.0, resolve(text), None)
    except BarcodeError as exc:
        return ScanEvent(text, "test", False, 0.0, None, str(exc))


def new_flow(*lists: PickListView, typed_quantity: bool = True) -> tuple[PickFlow, FakeTerminal]:
    terminal = FakeTerminal(*(lists or (pick_list(),)), typed_quantity=typed_quantity)
    fake: PickTerminal = terminal  # the fake is what the flow asks for
    return PickFlow(fake, clock=lambda: 100.0), terminal


def flow_at(step: Step, *lists: PickListView) -> tuple[PickFlow, FakeTerminal]:
    """A fresh flow driven by real scans to ``step`` (at the list's first task)."""
    flow, terminal = new_flow(*lists)
    if step is Step.NO_LIST:
        return flow, terminal
    flow.claim()
    if step is Step.TOTES:
        return flow, terminal
    while flow.step is Step.TOTES:
        state = flow.state()
        assert state.slot is not None
        assert state.view is not None
        flow.scan(scanned(tote_of(state.slot.slot, state.view.id)))
    task = flow.task
    assert task is not None
    if step is Step.LOCATION:
        return flow, terminal
    flow.scan(scanned(task.location_barcode))
    if step is Step.ITEM:
        return flow, terminal
    assert task.gtin is not None
    for _ in range(task.left):
        flow.scan(scanned(task.gtin))
    assert flow.step is step is Step.TOTE
    return flow, terminal


def refused(state: PickState, message: str, step: Step) -> None:
    assert (state.message, state.level, state.alert, state.step) == (message, "error", True, step)


# --- the table ------------------------------------------------------------------------


def test_the_table_declares_every_step_once_and_reaches_each() -> None:
    assert [s.step for s in PICK_STEPS] == list(Step)
    assert PICK_STEPS.start is Step.NO_LIST
    assert PICK_STEPS.reachable() == frozenset(Step)
    for spec in PICK_STEPS:
        assert spec.next_steps <= set(Step)
        assert spec.step not in spec.next_steps, "staying is not a move"


def test_the_table_as_data() -> None:
    table = {s.step: (s.expects, set(s.next_steps), s.keys) for s in PICK_STEPS}
    assert table == {
        Step.NO_LIST: (("pick_list",), {Step.TOTES, Step.LOCATION}, ("pick.claim",)),
        Step.TOTES: (("tote",), {Step.LOCATION, Step.NO_LIST}, ("pick.pause",)),
        Step.LOCATION: (
            ("location",),
            {Step.ITEM, Step.NO_LIST},
            ("pick.short", "pick.skip", "pick.pause"),
        ),
        Step.ITEM: (
            ("gtin", "gs1"),
            {Step.TOTE, Step.LOCATION, Step.NO_LIST},
            ("pick.quantity", "pick.short", "pick.skip", "pick.pause"),
        ),
        Step.TOTE: (
            ("tote",),
            {Step.ITEM, Step.LOCATION, Step.NO_LIST},
            ("pick.short", "pick.skip", "pick.pause"),
        ),
    }
    assert {s.step for s in PICK_STEPS if "pick.pause" in s.keys} == HOLDING
    assert {s.step for s in PICK_STEPS if "pick.skip" in s.keys} == AT_TASK


@pytest.mark.parametrize("start", list(Step))
@pytest.mark.parametrize("end", list(Step))
def test_every_move_not_in_the_table_is_refused(start: Step, end: Step) -> None:
    flow, _ = new_flow()
    flow._step = start  # the guard itself is under test, from every step
    if start == end or end in PICK_STEPS[start].next_steps:
        flow.move_to(end)
        assert flow.step is end
    else:
        with pytest.raises(IllegalMove, match=f"{start.name} may not move to {end.name}"):
            flow.move_to(end)
        assert flow.step is start


# --- every declared move, made by a real scan or action -----------------------------------


def one_task_list() -> PickListView:
    return pick_list(8, task(1, "A-01-01-1", OTHER, 2, 1, "web/1"))


def two_unit_task() -> tuple[PickFlow, FakeTerminal]:
    flow, terminal = flow_at(
        Step.ITEM,
        pick_list(
            8,
            task(1, "A-01-01-1", OTHER, 2, 1, "web/1"),
            task(2, "A-01-02-1", PLAIN, 1, 1, "web/1"),
        ),
    )
    return flow, terminal


def claim_a_list_with_its_totes_set(flow: PickFlow, terminal: FakeTerminal) -> None:
    view = terminal.waiting[0]
    terminal.waiting[0] = replace(
        view,
        totes=tuple(replace(t, tote=tote_of(t.slot)) for t in view.totes),
        tasks=tuple(replace(t, tote=tote_of(t.tote_slot)) for t in view.tasks),
    )
    flow.claim()


def pick_last(flow: PickFlow, _terminal: FakeTerminal) -> None:
    task = flow.task
    assert task is not None
    assert task.tote is not None
    flow.scan(scanned(task.tote))


def confirm_fewer(flow: PickFlow, terminal: FakeTerminal) -> None:
    terminal.confirm_only = 1
    task = flow.task
    assert task is not None
    assert task.tote is not None
    flow.scan(scanned(task.tote))


MOVES: dict[
    tuple[Step, Step],
    tuple[Callable[[], tuple[PickFlow, FakeTerminal]], Callable[[PickFlow, FakeTerminal], object]],
] = {
    (Step.NO_LIST, Step.TOTES): (lambda: flow_at(Step.NO_LIST), lambda f, _t: f.claim()),
    (Step.NO_LIST, Step.LOCATION): (lambda: flow_at(Step.NO_LIST), claim_a_list_with_its_totes_set),
    (Step.TOTES, Step.LOCATION): (
        lambda: flow_at(Step.TOTES, one_task_list()),
        lambda f, _t: f.scan(scanned(tote_of(1, 8))),
    ),
    (Step.TOTES, Step.NO_LIST): (lambda: flow_at(Step.TOTES), lambda f, _t: f.pause()),
    (Step.LOCATION, Step.ITEM): (
        lambda: flow_at(Step.LOCATION),
        lambda f, _t: f.scan(scanned("LOC-A-01-01-1")),
    ),
    (Step.LOCATION, Step.NO_LIST): (lambda: flow_at(Step.LOCATION), lambda f, _t: f.pause()),
    (Step.ITEM, Step.TOTE): (lambda: flow_at(Step.ITEM), lambda f, _t: f.scan(scanned(PLAIN))),
    (Step.ITEM, Step.LOCATION): (lambda: flow_at(Step.ITEM), lambda f, _t: f.skip()),
    (Step.ITEM, Step.NO_LIST): (
        lambda: flow_at(Step.ITEM, one_task_list()),
        lambda f, _t: f.short("empty"),
    ),
    (Step.TOTE, Step.ITEM): (lambda: flow_at(Step.TOTE, one_task_list()), confirm_fewer),
    (Step.TOTE, Step.LOCATION): (lambda: flow_at(Step.TOTE), pick_last),
    (Step.TOTE, Step.NO_LIST): (lambda: flow_at(Step.TOTE, one_task_list()), pick_last),
}


def test_every_declared_move_has_a_scan_or_action_that_makes_it() -> None:
    declared = {(s.step, n) for s in PICK_STEPS for n in s.next_steps}
    assert set(MOVES) == declared


@pytest.mark.parametrize(("start", "end"), list(MOVES))
def test_a_declared_move(start: Step, end: Step) -> None:
    make, act = MOVES[(start, end)]
    flow, terminal = make()
    assert flow.step is start
    act(flow, terminal)
    assert flow.step is end, flow.state().message


# --- a whole list -----------------------------------------------------------------------


def test_a_whole_list_step_by_step() -> None:
    flow, terminal = new_flow()
    start = flow.state()
    assert (start.step, start.headline, start.keys) == (
        Step.NO_LIST,
        "Looking for a pick list…",
        frozenset({"pick.claim"}),
    )
    assert start.prompt == "{key:pick.claim}: claim the next pick list, or scan a list's barcode"

    state = flow.claim()
    assert (state.step, state.level) == (Step.TOTES, "ok")
    assert state.message == "Pick list 7 is yours: 3 lines, 4 units, 2 tote(s)"
    assert state.started == 100.0
    assert state.slot is not None
    assert state.slot.slot == 1
    assert state.keys == {"pick.pause"}
    assert state.prompt == "Scan a tote for slot 1 (order web/1)"

    state = flow.scan(scanned(tote_of(1)))
    assert (state.step, state.message) == (Step.TOTES, "Slot 1: TOTE-00701 for web/1.")
    assert state.prompt == "Scan a tote for slot 2 (order web/2)"
    state = flow.scan(scanned(tote_of(2)))
    assert state.step is Step.LOCATION
    assert state.message == "Slot 2: TOTE-00702 for web/2. The cart is ready: go to A-01-01-1"
    assert state.keys == {"pick.short", "pick.skip", "pick.pause"}
    assert state.prompt == "▶ Scan location   · Scan item (1 of 1)   · Scan tote"

    state = flow.scan(scanned("LOC-A-01-01-1"))
    assert (state.step, state.message) == (Step.ITEM, "At A-01-01-1: scan SKU-1")
    assert state.keys == {"pick.quantity", "pick.short", "pick.skip", "pick.pause"}
    assert state.prompt == "· Scan location   ▶ Scan item (1 of 1)   · Scan tote"

    state = flow.scan(scanned(PLAIN))
    assert (state.step, state.counted) == (Step.TOTE, 1)
    assert state.message == "1 of 1 SKU-1: scan tote TOTE-00701"
    assert state.prompt == "· Scan location   · Scan item (1 of 1)   ▶ Scan tote"

    state = flow.scan(scanned(tote_of(1)))
    assert (state.step, state.level) == (Step.LOCATION, "ok")
    assert state.message == "Picked 1 × SKU-1 into TOTE-00701. Next: go to A-01-02-1"
    assert state.task is not None
    assert state.task.id == 2

    # Two units: one scanned, then the other typed.
    flow.scan(scanned("LOC-A-01-02-1"))
    state = flow.scan(scanned(OTHER))
    assert (state.step, state.message) == (Step.ITEM, "1 of 2 SKU-2 scanned")
    assert state.prompt == "· Scan location   ▶ Scan item (2 of 2)   · Scan tote"
    state = flow.typed(1)
    assert (state.step, state.counted) == (Step.TOTE, 2)
    flow.scan(scanned(tote_of(2)))

    # A serial-tracked unit: no typed quantity for it.
    state = flow.scan(scanned("LOC-A-01-03-1"))
    assert state.keys == {"pick.short", "pick.skip", "pick.pause"}
    flow.scan(scanned(f"01{SERIAL.zfill(14)}21SN1"))
    state = flow.scan(scanned(tote_of(1)))
    assert state.step is Step.NO_LIST
    assert state.headline == "Pick list 7 done — take the totes to packing"
    assert state.message == "Picked 1 × SKU-3 into TOTE-00701"
    assert (state.view, state.task, state.started) == (None, None, None)
    assert terminal.calls.count("confirm") == 3


def test_a_site_without_typed_quantities_never_enables_the_key() -> None:
    flow, _ = new_flow(typed_quantity=False)
    flow.claim()
    for slot in (1, 2):
        flow.scan(scanned(tote_of(slot)))
    state = flow.scan(scanned("LOC-A-01-01-1"))
    assert state.step is Step.ITEM
    assert "pick.quantity" not in state.keys


def test_a_partial_pick_stays_at_the_task() -> None:
    flow, terminal = two_unit_task()
    flow.scan(scanned(OTHER))
    state = flow.scan(scanned(tote_of(1, 8)))
    assert (state.step, state.counted, state.level) == (Step.ITEM, 0, "ok")
    assert (
        state.message
        == "1 × SKU-1 in TOTE-00801; 1 more to pick here, or {key:pick.short} to short-pick"
    )
    assert terminal.calls.count("confirm") == 1


def test_no_work_then_work() -> None:
    flow, terminal = new_flow()
    terminal.waiting.clear()
    state = flow.claim()
    assert (state.step, state.headline, state.level) == (Step.NO_LIST, "No work", "warn")
    assert state.message == "No pick list is waiting. {key:pick.claim}: look again"
    terminal.waiting.append(pick_list())
    assert flow.claim().step is Step.TOTES


def test_a_claimed_list_with_nothing_left_is_closed() -> None:
    empty = pick_list(
        9, replace(task(1, "A-01-01-1", PLAIN, 1, 1, "web/1"), status=PickTaskStatus.CANCELLED)
    )
    flow, terminal = new_flow(empty)
    claim_a_list_with_its_totes_set(flow, terminal)
    state = flow.state()
    assert state.step is Step.NO_LIST
    assert state.headline == "Pick list 9 done — take the totes to packing"
    assert "close_if_empty" in terminal.calls


def test_a_list_that_cannot_be_closed_says_why() -> None:
    empty = pick_list(
        9, replace(task(1, "A-01-01-1", PLAIN, 1, 1, "web/1"), status=PickTaskStatus.CANCELLED)
    )
    flow, terminal = new_flow(empty)
    terminal.failing["close_if_empty"] = StationError("pick list 9 is no longer yours")
    claim_a_list_with_its_totes_set(flow, terminal)
    state = flow.state()
    assert state.headline == "Pick list 9: nothing left to pick"
    assert state.notice == "pick list 9 is no longer yours"


# --- refusals -----------------------------------------------------------------------------


def test_refusals_of_the_flow_itself() -> None:
    flow, _ = new_flow()
    refused(
        flow.scan(scanned("LOC-A-01-01-1")),
        "no pick list is open, scanned 'LOC-A-01-01-1': {key:pick.claim} claims one, or "
        "scan a list's barcode",
        Step.NO_LIST,
    )
    refused(flow.pause(), "there is no pick list to pause", Step.NO_LIST)
    refused(flow.skip(), "there is no task on screen to skip", Step.NO_LIST)
    refused(
        flow.short("empty"), "a short pick is for the task on screen: there is none", Step.NO_LIST
    )
    refused(
        flow.typed(1),
        "a quantity is typed at the location: scan the location first",
        Step.NO_LIST,
    )
    flow.claim()
    refused(
        flow.claim(),
        "you hold pick list 7: finish it, or pause it with {key:pick.pause}, before claiming "
        "another",
        Step.TOTES,
    )
    refused(
        flow.scan(scanned("BADGE-U1002")),
        "U1001 is logged in here: log out with {key:app.logout} before another badge logs in",
        Step.TOTES,
    )
    refused(flow.skip(), "there is no task on screen to skip", Step.TOTES)
    refused(
        flow.short("empty"), "a short pick is for the task on screen: there is none", Step.TOTES
    )


def test_a_badge_with_nobody_logged_in() -> None:
    flow, terminal = flow_at(Step.LOCATION)
    terminal.user = None
    refused(
        flow.scan(scanned("BADGE-U1002")),
        "someone is logged in here: log out with {key:app.logout} before another badge logs in",
        Step.LOCATION,
    )


def test_a_quantity_is_typed_at_the_item_step_only() -> None:
    flow, _ = flow_at(Step.LOCATION)
    refused(
        flow.typed(1), "a quantity is typed at the location: scan the location first", Step.LOCATION
    )
    flow, _ = flow_at(Step.TOTE)
    refused(
        flow.typed(1), "a quantity is typed at the location: scan the location first", Step.TOTE
    )


def test_a_short_pick_with_units_in_hand() -> None:
    flow, _ = two_unit_task()
    flow.scan(scanned(OTHER))
    refused(
        flow.short("damaged"),
        "1 unit(s) scanned are not in a tote yet: scan tote TOTE-00801 first, then short-pick "
        "the rest",
        Step.ITEM,
    )
    # The screen asks the state before it asks why: the same refusal, and no short.
    assert flow.state().short_refusal() == (
        "1 unit(s) scanned are not in a tote yet: scan tote TOTE-00801 first, then short-pick "
        "the rest"
    )
    assert flow_at(Step.ITEM)[0].state().short_refusal() is None
    assert flow_at(Step.NO_LIST)[0].state().short_refusal() is not None


@pytest.mark.parametrize(
    ("step", "scan", "message"),
    [
        (
            Step.TOTES,
            "LOC-A-01-01-1",
            "expected a tote barcode (TOTE-…) for slot 1, scanned a location: LOC-A-01-01-1",
        ),
        (
            Step.TOTES,
            "HELLO",
            "expected a tote barcode (TOTE-…) for slot 1: 'HELLO' is not a valid barcode",
        ),
        (
            Step.LOCATION,
            "LOC-Z-99",
            "wrong location: expected A-01-01-1 (LOC-A-01-01-1), scanned LOC-Z-99",
        ),
        (Step.LOCATION, PLAIN, "expected location A-01-01-1 (LOC-A-01-01-1), scanned a gtin"),
        (
            Step.ITEM,
            OTHER,
            "wrong item: expected SKU-1 (GTIN 5012345658308), scanned GTIN 05012345036670",
        ),
        (Step.ITEM, tote_of(1), "expected the product SKU-1 (Product 1), scanned a tote"),
        # (The task's own location again is taken: the picker is there.)
        (Step.ITEM, "LOC-A-01-09-1", "expected the product SKU-1 (Product 1), scanned a location"),
        (Step.TOTE, PLAIN, "over-pick: 1 to pick here, 1 scanned; this scan would make 2"),
        (Step.TOTE, tote_of(2), "wrong tote: expected TOTE-00701 (slot 1), scanned TOTE-00702"),
        (Step.TOTE, "LOC-A-01-01-1", "expected tote TOTE-00701 (slot 1), scanned a location"),
    ],
)
def test_a_wrong_scan_is_refused_and_the_step_stays(step: Step, scan: str, message: str) -> None:
    flow, terminal = flow_at(step)
    before = flow.state()
    state = flow.scan(scanned(scan))
    assert (state.step, state.level, state.alert) == (step, "error", True)
    assert state.message.startswith(message), state.message
    assert state.counted == before.counted
    assert "confirm" not in terminal.calls


def test_a_typed_over_pick_is_refused() -> None:
    flow, _ = flow_at(Step.ITEM)
    refused(flow.typed(2), "over-pick: 1 to pick here, 0 scanned, 2 typed", Step.ITEM)


def test_a_refused_pick_in_the_store_leaves_the_units_counted() -> None:
    flow, terminal = flow_at(Step.TOTE)
    terminal.failing["confirm"] = StationError("pick list 7 is no longer yours (it is released)")
    refused(
        flow.scan(scanned(tote_of(1))), "pick list 7 is no longer yours (it is released)", Step.TOTE
    )
    assert flow.state().counted == 1


# --- exceptions -------------------------------------------------------------------------


def test_short_skip_and_pause() -> None:
    flow, terminal = flow_at(Step.LOCATION)
    state = flow.short("not_found")
    assert (state.step, state.level) == (Step.LOCATION, "warn")
    assert (
        state.message
        == "Short pick of SKU-1 at A-01-01-1 (not found) recorded: order web/1 gets the 1 "
        "missing unit(s) from other stock. Next: go to A-01-02-1"
    )
    assert state.task is not None
    assert state.task.id == 2

    flow.scan(scanned("LOC-A-01-02-1"))
    flow.scan(scanned(OTHER))
    state = flow.skip()
    assert (state.step, state.level) == (Step.LOCATION, "info")
    assert (
        state.message
        == "A-01-02-1 skipped: it comes again at the end. Put the 1 scanned unit(s) back."
    )
    assert state.task is not None
    assert state.task.id == 3
    state = flow.skip()
    assert state.message == "A-01-03-1 skipped: it comes again at the end."

    flow.scan(scanned("LOC-A-01-02-1"))
    flow.scan(scanned(OTHER))
    state = flow.pause()
    assert (state.step, state.headline, state.level) == (Step.NO_LIST, "Pick list 7 paused", "info")
    assert state.message == (
        "Anyone can resume it (it is claimed first). Put the 1 scanned unit(s) back. "
        "{key:pick.claim}: claim a list"
    )
    assert terminal.calls[-1] == "pause"
    # Claimed again, it goes on where it was.
    state = flow.claim()
    assert state.step is Step.LOCATION
    assert state.task is not None
    assert state.task.id == 2


def test_leaving_pauses_a_list_held() -> None:
    flow, terminal = flow_at(Step.ITEM)
    flow.leave()
    assert terminal.calls[-1] == "pause"
    assert (flow.step, flow.headline) == (Step.NO_LIST, "Logged out")
    flow, terminal = flow_at(Step.ITEM)
    terminal.failing["pause"] = StationError("pick list 7 is no longer yours")
    flow.leave()
    assert flow.step is Step.NO_LIST
    flow, terminal = new_flow()
    flow.leave()
    assert "pause" not in terminal.calls


# --- the store going away after a pick --------------------------------------------------


def test_a_pick_saved_but_not_read_back_goes_on_from_the_pick() -> None:
    flow, terminal = flow_at(Step.TOTE)
    terminal.failing["view"] = ConnectionError("the store did not answer")
    state = flow.scan(scanned(tote_of(1)))
    assert (state.step, state.level) == (Step.LOCATION, "warn")
    assert state.message == (
        "Picked 1 × SKU-1 into TOTE-00701 — saved. The list could not be read again (the "
        "store did not answer); it is read again by itself"
    )
    assert state.task is not None
    assert state.task.id == 2
    assert state.counted == 0


def test_a_partial_pick_saved_but_not_read_back_stays_at_the_task() -> None:
    flow, terminal = two_unit_task()
    flow.scan(scanned(OTHER))
    terminal.failing["view"] = ConnectionError("gone")
    state = flow.scan(scanned(tote_of(1, 8)))
    assert (state.step, state.counted) == (Step.ITEM, 0)
    assert state.task is not None
    assert state.task.left == 1


def test_the_last_pick_saved_but_not_read_back_ends_the_list() -> None:
    flow, terminal = flow_at(Step.TOTE, one_task_list())
    terminal.failing["view"] = ConnectionError("gone")
    state = flow.scan(scanned(tote_of(1, 8)))
    assert (state.step, state.level) == (Step.NO_LIST, "warn")
    assert state.headline == "Pick list 8 done — take the totes to packing"


def test_nothing_read_after_a_pick_drops_the_list() -> None:
    """The store said the list is not finished, yet nothing is left on it as the pick
    leaves it, and the store cannot be asked to close it."""
    flow, terminal = flow_at(Step.TOTE, one_task_list())
    terminal.finishes = False
    terminal.failing["view"] = ConnectionError("gone")
    terminal.failing["close_if_empty"] = ConnectionError("gone")
    state = flow.scan(scanned(tote_of(1, 8)))
    assert (state.step, state.level) == (Step.NO_LIST, "warn")
    assert state.headline == "Pick list 8 could not be read back from the store"
    assert state.message.startswith("Picked 2 × SKU-1 into TOTE-00801 — saved.")


# --- heartbeats ---------------------------------------------------------------------------


def test_a_heartbeat_with_no_news_shows_nothing() -> None:
    flow, terminal = new_flow()
    assert flow.heartbeat() is None
    assert "heartbeat" not in terminal.calls
    flow, terminal = flow_at(Step.ITEM)
    assert flow.heartbeat() is None
    assert terminal.calls[-1] == "heartbeat"


@pytest.mark.parametrize(
    ("status", "headline", "message"),
    [
        (
            PickListStatus.RELEASED,
            "Pick list 8 was taken back by a supervisor",
            "Nothing more is recorded on it. Put the 1 scanned unit(s) back. {key:pick.claim}: "
            "claim a list",
        ),
        (
            PickListStatus.CANCELLED,
            "Pick list 8 was cancelled",
            "Take the totes to the exceptions shelf. Put the 1 scanned unit(s) back. "
            "{key:pick.claim}: claim a list",
        ),
        (
            PickListStatus.CLAIMED,
            "Pick list 8 was taken over on another terminal",
            "Nothing more is recorded on it here. Put the 1 scanned unit(s) back. "
            "{key:pick.claim}: claim a list",
        ),
        (
            None,
            "Pick list 8 was taken back by a supervisor",
            "Nothing more is recorded on it. Put the 1 scanned unit(s) back. {key:pick.claim}: "
            "claim a list",
        ),
    ],
)
def test_a_list_taken_away(status: PickListStatus | None, headline: str, message: str) -> None:
    flow, terminal = two_unit_task()
    flow.scan(scanned(OTHER))
    assert terminal.held is not None
    view = replace(terminal.held, status=status) if status is not None else None
    terminal.pulses.append(Pulse(ours=False, view=view))
    state = flow.heartbeat()
    assert state is not None
    assert (state.step, state.headline, state.level, state.alert) == (
        Step.NO_LIST,
        headline,
        "warn",
        True,
    )
    assert state.message == message


def test_a_list_finished_by_cancellations_elsewhere_ends_here_too() -> None:
    flow, terminal = flow_at(Step.LOCATION, one_task_list())
    terminal.cancel_order("web/1")
    assert terminal.held is not None
    terminal.pulses.append(Pulse(ours=False, view=terminal.held))
    state = flow.heartbeat()
    assert state is not None
    assert state.step is Step.NO_LIST
    assert state.headline == "Pick list 8 done — take the totes to packing"
    assert state.notice == "Order web/1 was cancelled: its picks are off the list"


def test_an_order_cancelled_under_the_picker() -> None:
    flow, terminal = flow_at(Step.TOTE)
    # Nothing of web/1 is in its tote yet: its picks leave the list.
    terminal.cancel_order("web/1")
    state = flow.heartbeat()
    assert state is not None
    assert (state.step, state.level, state.alert) == (Step.LOCATION, "warn", True)
    assert state.message == "The list changed under you: read the note"
    assert state.notice == (
        "Order web/1 was cancelled: its picks are off the list\n"
        "Put the 1 unit(s) scanned for it back on the shelf."
    )
    assert state.counted == 0
    assert state.task is not None
    assert state.task.id == 2
    # The next pick clears the note.
    flow.scan(scanned("LOC-A-01-02-1"))
    flow.typed(2)
    assert flow.scan(scanned(tote_of(2))).notice == ""


def test_an_order_cancelled_after_a_pick_into_its_tote() -> None:
    flow, terminal = flow_at(Step.TOTE)
    flow.scan(scanned(tote_of(1)))
    terminal.cancel_order("web/1")
    state = flow.heartbeat()
    assert state is not None
    assert state.step is Step.LOCATION
    assert state.notice == (
        "Order web/1 was cancelled: take its items out of tote TOTE-00701 and put them on "
        "the exceptions shelf"
    )


# --- resuming, changing hands, one location for several lines ----------------------------


def test_a_resumed_list_says_how_far_it_is_and_keeps_its_time() -> None:
    done = replace(task(1, "A-01-01-1", PLAIN, 1, 1, "web/1"), picked=1, status=PickTaskStatus.DONE)
    view = pick_list(7, done, task(2, "A-01-02-1", OTHER, 2, 1, "web/1"))
    view = replace(
        view,
        totes=tuple(replace(t, tote=tote_of(t.slot)) for t in view.totes),
        tasks=tuple(replace(t, tote=tote_of(t.tote_slot)) for t in view.tasks),
        elapsed_seconds=95.0,
        resumed=True,
    )
    flow, _ = new_flow(view)
    state = flow.claim()
    assert state.step is Step.LOCATION
    assert state.message == "Pick list 7 resumed: 1 of 2 lines done, 1 left (2 units)"
    # The clock reads 100 now: the list was first claimed 95 s ago.
    assert state.started == 5.0


def test_a_list_from_another_picker_sets_its_totes_up_again() -> None:
    first = replace(
        task(1, "A-01-01-1", PLAIN, 1, 1, "web/1"), picked=1, status=PickTaskStatus.DONE
    )
    view = pick_list(7, first, task(2, "A-01-02-1", OTHER, 2, 1, "web/1"))
    view = replace(
        view,
        totes=tuple(replace(t, earlier=(tote_of(1),)) for t in view.totes),
        resumed=True,
        handed_over=True,
    )
    flow, _ = new_flow(view)
    state = flow.claim()
    assert state.step is Step.TOTES
    assert state.message == (
        "Pick list 7 resumed: 1 of 2 lines done, 1 left (2 units). Its totes were on another "
        "cart: put empty totes on yours"
    )
    assert state.prompt == (
        "Scan a tote for slot 1 (order web/1); its units in TOTE-00701 stay there"
    )
    state = flow.scan(scanned("TOTE-0099"))
    assert state.step is Step.LOCATION
    assert state.task is not None
    assert state.task.tote == "TOTE-0099"


def test_the_next_line_at_the_same_location_goes_straight_to_the_item() -> None:
    flow, terminal = flow_at(
        Step.LOCATION,
        pick_list(
            7,
            task(1, "A-01-01-1", PLAIN, 1, 1, "web/1"),
            replace(task(2, "A-01-01-1", OTHER, 1, 2, "web/2"), location_id=1),
            task(3, "A-01-03-1", SERIAL, 1, 1, "web/1", serial=True),
        ),
    )
    flow.scan(scanned("LOC-A-01-01-1"))
    flow.scan(scanned(PLAIN))
    state = flow.scan(scanned(tote_of(1)))
    assert (state.step, state.level) == (Step.ITEM, "ok")
    assert (
        state.message == "Picked 1 × SKU-1 into TOTE-00701. Next at the same location: scan SKU-2"
    )
    assert state.prompt == "· Scan location   ▶ Scan item (1 of 1)   · Scan tote"
    assert terminal.calls.count("check_location") == 1
    # Scanning the shelf label again out of habit is taken, not refused.
    state = flow.scan(scanned("LOC-A-01-01-1"))
    assert (state.step, state.level, state.message) == (
        Step.ITEM,
        "ok",
        "At A-01-01-1: scan SKU-2",
    )
    refused(
        flow.scan(scanned("LOC-A-01-09-1")),
        "expected the product SKU-2 (Product 2), scanned a location: LOC-A-01-09-1",
        Step.ITEM,
    )
    # A wrong scan there is still refused, naming the item wanted.
    refused(
        flow.scan(scanned(PLAIN)),
        "wrong item: expected SKU-2 (GTIN 5012345036670), scanned GTIN 05012345658308",
        Step.ITEM,
    )
    flow.scan(scanned(OTHER))
    state = flow.scan(scanned(tote_of(2)))
    # Another location: scanned again.
    assert state.step is Step.LOCATION
    assert state.message == "Picked 1 × SKU-2 into TOTE-00702. Next: go to A-01-03-1"


def test_a_short_pick_at_a_location_with_another_line_there_stays() -> None:
    flow, _ = flow_at(
        Step.ITEM,
        pick_list(
            7,
            task(1, "A-01-01-1", PLAIN, 1, 1, "web/1"),
            replace(task(2, "A-01-01-1", OTHER, 1, 2, "web/2"), location_id=1),
        ),
    )
    state = flow.short("empty")
    assert state.step is Step.ITEM
    assert state.message.endswith(". Next at the same location: scan SKU-2")
    # A skip is leaving the location: the next line there is scanned at its shelf again.
    flow2, _ = flow_at(
        Step.ITEM,
        pick_list(
            7,
            task(1, "A-01-01-1", PLAIN, 1, 1, "web/1"),
            replace(task(2, "A-01-01-1", OTHER, 1, 2, "web/2"), location_id=1),
        ),
    )
    assert flow2.skip().step is Step.LOCATION


def test_a_list_is_claimed_by_scanning_its_barcode() -> None:
    flow, terminal = new_flow(pick_list(7), pick_list(8))
    refused(flow.scan(scanned("LIST-9")), "scanned LIST-9: there is no pick list 9", Step.NO_LIST)
    refused(
        flow.scan(scanned("LIST-X9")),
        "expected a pick list's barcode (LIST- and its number), scanned 'LIST-X9': scan the "
        "barcode on the list's sheet",
        Step.NO_LIST,
    )
    state = flow.scan(scanned("LIST-8"))
    assert (state.step, state.level) == (Step.TOTES, "ok")
    assert state.message.startswith("Pick list 8 is yours")
    assert terminal.calls.count("claim_list") == 2
    assert "claim_next" not in terminal.calls
    # Holding a list, a list's barcode is no claim: it is checked as the step's scan.
    state = flow.scan(scanned("LIST-7"))
    assert (state.step, state.level, state.alert) == (Step.TOTES, "error", True)
    assert terminal.calls.count("claim_list") == 2
