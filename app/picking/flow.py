"""The pick station's flow: claim a pick list, put totes on the cart, and scan every pick.

:data:`PICK_STEPS` declares the steps (no list, totes, location, item, tote): what each
asks for, the scans it expects, the steps that may follow and the keys it enables. The
pick screen reads it for its step line, footer and help; :class:`PickFlow` moves between
its steps only as it allows.

:class:`PickFlow` is what the picker is doing and every call to the terminal
(:class:`PickTerminal`, the part of :class:`app.terminal.Terminal` it uses). The station
runs it on its single terminal worker thread, one scan or action at a time in the order
they arrived, and it answers each with a :class:`PickState`, an immutable picture of what
the screen must show. It knows nothing of the screen.
"""

from __future__ import annotations

import contextlib
import enum
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from app.barcodes import show
from app.flows import Flow, FlowState, IllegalMove, Level, StepSpec, StepTable
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


class Step(enum.StrEnum):
    """Where the picker is in the work."""

    NO_LIST = "no_list"
    """No pick list held: claiming, no work, a list done, paused or taken back."""
    TOTES = "totes"
    LOCATION = "location"
    ITEM = "item"
    TOTE = "tote"


PICK_STEPS: StepTable[Step] = StepTable(
    [
        StepSpec(
            Step.NO_LIST,
            prompt="{key:pick.claim}: claim the next pick list, or scan a list's barcode",
            expects=("pick_list",),
            next_steps=frozenset({Step.TOTES, Step.LOCATION}),
            keys=("pick.claim",),
        ),
        StepSpec(
            Step.TOTES,
            prompt="Scan a tote for slot $slot (order $order)",
            expects=("tote",),
            next_steps=frozenset({Step.LOCATION, Step.NO_LIST}),
            keys=("pick.pause",),
        ),
        StepSpec(
            Step.LOCATION,
            prompt="Scan location",
            expects=("location",),
            next_steps=frozenset({Step.ITEM, Step.NO_LIST}),
            keys=("pick.short", "pick.skip", "pick.pause"),
        ),
        StepSpec(
            Step.ITEM,
            prompt="Scan item ($unit of $units)",
            expects=("gtin", "gs1"),
            # A tote scanned with units counted puts them in (a partial pick).
            next_steps=frozenset({Step.TOTE, Step.LOCATION, Step.NO_LIST}),
            keys=("pick.quantity", "pick.short", "pick.skip", "pick.pause"),
        ),
        StepSpec(
            Step.TOTE,
            prompt="Scan tote",
            # An item scanned here is checked as one unit more (refused as an over-pick).
            expects=("tote",),
            next_steps=frozenset({Step.ITEM, Step.LOCATION, Step.NO_LIST}),
            keys=("pick.short", "pick.skip", "pick.pause"),
        ),
    ]
)
"""The pick station's steps, as data (the first is where a login starts)."""

HOLDING = frozenset({Step.TOTES, Step.LOCATION, Step.ITEM, Step.TOTE})
"""The steps in which the picker holds a pick list."""
AT_TASK = frozenset({Step.LOCATION, Step.ITEM, Step.TOTE})
"""The steps of one task, in the order the step line shows them."""
TASK_STEPS = (Step.LOCATION, Step.ITEM, Step.TOTE)

OPEN, CANCELLED = "open", "cancelled"
"""Task statuses (``PickTaskStatus`` values)."""

QUANTITY_KEY = "pick.quantity"


class TypedQuantities(Protocol):
    """The station setting the flow reads."""

    @property
    def typed_quantity(self) -> bool: ...


class PickTerminal(Protocol):
    """What the pick flow uses of :class:`app.terminal.Terminal` (a test hands in a fake)."""

    @property
    def user(self) -> LoggedIn | None: ...

    @property
    def settings(self) -> TypedQuantities: ...

    def claim_next(self) -> PickListView | None: ...

    def claim_list(self, list_id: int) -> PickListView: ...

    def view(self, list_id: int) -> PickListView: ...

    def set_tote(self, list_id: int, slot: int, scan: str) -> PickListView: ...

    def check_location(self, task: Task, scan: str) -> None: ...

    def check_item(self, task: Task, scan: str, counted: Sequence[ItemScan]) -> ItemScan: ...

    def typed_units(self, task: Task, quantity: int, counted: Sequence[ItemScan]) -> ItemScan: ...

    def check_tote(self, task: Task, scan: str) -> str: ...

    def confirm(
        self, list_id: int, task_id: int, items: Sequence[ItemScan], tote: str
    ) -> PickDone: ...

    def short(self, list_id: int, task_id: int, reason: str) -> ShortResult: ...

    def skip(self, list_id: int, task_id: int) -> PickListView: ...

    def pause(self, list_id: int) -> None: ...

    def close_if_empty(self, list_id: int) -> PickListView: ...

    def heartbeat(self, list_id: int) -> Pulse: ...


@dataclass(frozen=True)
class PickState(FlowState[Step]):
    """What the pick screen shows after one scan or action."""

    headline: str = ""
    """The big line when no list is held (no work, list done, taken back)."""
    view: PickListView | None = None
    task: Task | None = None
    slot: Tote | None = None
    """The tote slot to set up next (step TOTES)."""
    counted: int = 0
    """Units scanned (or typed) for the task and not yet confirmed."""
    notice: str = ""
    """A standing instruction (an order cancelled under the picker) until the next pick."""
    started: float | None = None
    """The injected clock's reading when the list was first claimed (by anyone: a list
    resumed keeps the time already spent on it)."""

    @property
    def holding(self) -> bool:
        return self.step in HOLDING

    def short_refusal(self) -> str | None:
        """Why a short pick cannot be asked for now, or None: units scanned for the task
        go into its tote first (checked before the picker is asked for a reason)."""
        task = self.task
        if task is None or self.view is None:
            return "a short pick is for the task on screen: there is none"
        if self.counted:
            return (
                f"{self.counted} unit(s) scanned are not in a tote yet: scan tote {task.tote} "
                "first, then short-pick the rest"
            )
        return None

    @property
    def prompt(self) -> str:
        """The step line: what to scan now, from the step table."""
        if self.step is Step.NO_LIST:
            return PICK_STEPS[Step.NO_LIST].prompt
        if self.step is Step.TOTES:
            slot = self.slot
            if slot is None:
                return "Totes ready"
            prompt = PICK_STEPS[Step.TOTES].say(slot=slot.slot, order=slot.order_ref)
            if slot.earlier:
                prompt += f"; its units in {', '.join(slot.earlier)} stay there"
            return prompt
        task = self.task
        assert task is not None
        left = task.left
        unit = min(self.counted + 1, left)
        return "   ".join(
            f"{'▶' if step is self.step else '·'} {PICK_STEPS[step].say(unit=unit, units=left)}"
            for step in TASK_STEPS
        )


class PickFlow(Flow[Step]):
    """The picker's work, one scan or action at a time (on the terminal worker thread only)."""

    def __init__(self, terminal: PickTerminal, clock: Callable[[], float]) -> None:
        super().__init__(PICK_STEPS)
        self.terminal = terminal
        self.clock = clock
        self.headline = "Looking for a pick list…"
        self.view: PickListView | None = None
        self.task_id: int | None = None
        self.items: list[ItemScan] = []
        self.started: float | None = None
        self.notice = ""
        self.at_location: int | None = None
        """The location the picker last confirmed by scanning it (they are standing there)."""

    # --- what the screen sees -------------------------------------------------------

    @property
    def task(self) -> Task | None:
        if self.view is None or self.task_id is None or self.step not in AT_TASK:
            return None
        return next((t for t in self.view.tasks if t.id == self.task_id), None)

    def _slot(self) -> Tote | None:
        if self.view is None:
            return None
        return next((t for t in self.view.totes if t.status == "picking" and not t.tote), None)

    def keys(self) -> frozenset[str]:
        """The step's keys; the quantity key only where the site takes typed quantities and
        the product is not tracked."""
        keys = super().keys()
        task = self.task
        typed = (
            self.terminal.settings.typed_quantity
            and task is not None
            and not (task.track_serial or task.track_lot or task.track_expiry)
        )
        return keys if typed else keys - {QUANTITY_KEY}

    def state(self, message: str = "", level: Level = "info", *, alert: bool = False) -> PickState:
        message = re.sub(r" {2,}", " ", message).strip()
        return PickState(
            step=self.step,
            message=message,
            level=level,
            alert=alert,
            keys=self.keys(),
            headline=self.headline,
            view=self.view,
            task=self.task,
            slot=self._slot() if self.step is Step.TOTES else None,
            counted=sum(i.count for i in self.items),
            notice=self.notice,
            started=self.started,
        )

    def refuse(self, message: str) -> PickState:
        """Nothing was recorded; the step stays."""
        return self.state(message, "error", alert=True)

    def _guard(self, action: Callable[[], PickState]) -> PickState:
        try:
            return action()
        except StationError as exc:
            return self.refuse(str(exc))

    # --- the list ---------------------------------------------------------------------

    def claim(self) -> PickState:
        return self._guard(self._claim)

    def _claim(self) -> PickState:
        if self.step in HOLDING and self.view is not None:
            return self.refuse(
                f"you hold pick list {self.view.id}: finish it, or pause it with "
                "{key:pick.pause}, before claiming another"
            )
        view = self.terminal.claim_next()
        if view is None:
            self._drop("No work")
            return self.state("No pick list is waiting. {key:pick.claim}: look again", "warn")
        return self._took(view)

    def _took(self, view: PickListView) -> PickState:
        """A list just claimed: set up its cart, or go to its first pick."""
        self.view = view
        self.items = []
        self.task_id = None
        self.at_location = None
        self.started = self.clock() - view.elapsed_seconds
        self.notice = ""
        self._advance()
        lines = len(view.tasks)
        if not view.resumed:
            said = (
                f"Pick list {view.id} is yours: {lines} lines, {view.units_left} units, "
                f"{len(view.totes)} tote(s)"
            )
        else:
            said = (
                f"Pick list {view.id} resumed: {view.lines_done} of {lines} lines done, "
                f"{view.lines_left} left ({view.units_left} units)"
            )
        if view.handed_over and self.now() is Step.TOTES:
            said += ". Its totes were on another cart: put empty totes on yours"
        return self.state(said, "ok")

    def _drop(self, headline: str) -> None:
        self.move_to(Step.NO_LIST)
        self.headline = headline
        self.view = None
        self.task_id = None
        self.items = []
        self.started = None
        self.at_location = None

    def _advance(self) -> None:
        """The step that follows from the list as it now stands."""
        view = self.view
        assert view is not None
        if self._slot() is not None:
            self.move_to(Step.TOTES)
            return
        current = view.current
        if current is None and view.status.value != "done":
            # Its last picks were taken away (an order cancelled): finish it in the store
            # so its totes go to packing.
            try:
                view = self.view = self.terminal.close_if_empty(view.id)
            except StationError as exc:
                self.notice = str(exc)
        if current is None:
            if view.status.value == "done":
                headline = f"Pick list {view.id} done — take the totes to packing"
            else:
                headline = f"Pick list {view.id}: nothing left to pick"
            self._drop(headline)
            return
        if current.id != self.task_id or self.step not in AT_TASK:
            self.task_id = current.id
            self.items = []
            if current.location_id == self.at_location and self.step in AT_TASK:
                # The picker is standing at it: no need to scan the shelf again.
                self.move_to(Step.ITEM)
            else:
                self.move_to(Step.LOCATION)

    # --- scans ------------------------------------------------------------------------

    def scan(self, event: ScanEvent) -> PickState:
        return self._guard(lambda: self._scan(event))

    def _scan(self, event: ScanEvent) -> PickState:
        text = event.text
        kind = event.barcode.kind if event.barcode is not None else None
        if self.step is Step.NO_LIST:
            if kind == "pick_list" and event.barcode is not None:
                if not event.barcode.value.isdigit():
                    return self.refuse(
                        f"expected a pick list's barcode (LIST- and its number), scanned "
                        f"{show(text)}: scan the barcode on the list's sheet"
                    )
                return self._took(self.terminal.claim_list(int(event.barcode.value)))
            return self.refuse(
                f"no pick list is open, scanned {show(text)}: {{key:pick.claim}} claims one, "
                "or scan a list's barcode"
            )
        if kind == "badge":
            who = self.terminal.user.badge if self.terminal.user else "someone"
            return self.refuse(
                f"{who} is logged in here: log out with {{key:app.logout}} before another "
                "badge logs in"
            )
        view = self.view
        assert view is not None
        if self.step is Step.TOTES:
            slot = self._slot()
            assert slot is not None
            self.view = self.terminal.set_tote(view.id, slot.slot, text)
            tote = next(t.tote for t in self.view.totes if t.slot == slot.slot)
            self._advance()
            done = f"Slot {slot.slot}: {tote} for {slot.order_ref}."
            if self.now() is Step.LOCATION and self.task is not None:
                done += f" The cart is ready: go to {self.task.location}"
            return self.state(done, "ok")
        task = self.task
        assert task is not None
        if self.step is Step.LOCATION:
            self.terminal.check_location(task, text)
            self.at_location = task.location_id
            self.move_to(Step.ITEM)
            return self.state(f"At {task.location}: scan {task.sku}", "ok")
        if kind == "location" and self.step is Step.ITEM and not self.items:
            # Sent straight to the item (the line before was at this shelf): scanning the
            # shelf label again out of habit is no mistake.
            with contextlib.suppress(StationError):
                self.terminal.check_location(task, text)
                return self.state(f"At {task.location}: scan {task.sku}", "ok")
        tote_now = kind in self.table[Step.TOTE].expects and bool(self.items)
        item_step = self.step is Step.ITEM and not tote_now
        if item_step or kind in self.table[Step.ITEM].expects:
            # One unit more than the task at the tote step is refused as an over-pick.
            item = self.terminal.check_item(task, text, self.items)
            return self._count(task, item)
        return self._confirm(task, text)

    def typed(self, quantity: int) -> PickState:
        return self._guard(lambda: self._typed(quantity))

    def _typed(self, quantity: int) -> PickState:
        task = self.task
        if task is None or self.step is not Step.ITEM:
            return self.refuse("a quantity is typed at the location: scan the location first")
        return self._count(task, self.terminal.typed_units(task, quantity, self.items))

    def _count(self, task: Task, item: ItemScan) -> PickState:
        self.items.append(item)
        counted = sum(i.count for i in self.items)
        if counted >= task.left:
            self.move_to(Step.TOTE)
            return self.state(f"{counted} of {task.left} {task.sku}: scan tote {task.tote}", "ok")
        return self.state(f"{counted} of {task.left} {task.sku} scanned", "ok")

    def _confirm(self, task: Task, text: str) -> PickState:
        view = self.view
        assert view is not None
        tote = self.terminal.check_tote(task, text)
        units = sum(i.count for i in self.items)
        done = self.terminal.confirm(view.id, task.id, self.items, tote)
        # Saved: these units are in the tote, whatever happens next; never send them again.
        self.items = []
        self.notice = ""
        try:
            self.view = self.terminal.view(view.id)
        except Exception as exc:  # noqa: BLE001 - the pick is saved; say so, then carry on
            return self._saved_unread(view, task, done, tote, exc)
        still = next((t for t in self.view.tasks if t.id == task.id), None)
        if still is not None and still.status == OPEN and self.view.current == still:
            # Fewer than asked went in: the rest is still to pick here (or short-pick it).
            self.move_to(Step.ITEM)
            return self.state(
                f"{units} × {task.sku} in {tote}; {still.left} more to pick here, or "
                "{key:pick.short} to short-pick",
                "ok",
            )
        try:
            self._advance()
        except IllegalMove:
            raise
        except Exception as exc:  # noqa: BLE001 - the pick is saved; say so, then carry on
            return self._saved_unread(view, task, done, tote, exc)
        return self.state(f"Picked {units} × {task.sku} into {tote}{self._next()}", "ok")

    def _saved_unread(
        self, view: PickListView, task: Task, done: PickDone, tote: str, exc: Exception
    ) -> PickState:
        """The pick is committed but the list could not be read back: go on from the list
        as the pick leaves it (the next heartbeat reads the store again)."""
        if done.list_done:
            self._drop(f"Pick list {view.id} done — take the totes to packing")
        else:
            self.view = view.with_picked(task.id, done.quantity)
            still = next(t for t in self.view.tasks if t.id == task.id)
            if still.status == OPEN:
                # A partial pick: the rest is still to pick here.
                self.task_id = task.id
                self.move_to(Step.ITEM)
            else:
                self.task_id = None
                try:
                    self._advance()
                except IllegalMove:
                    raise
                except Exception:  # noqa: BLE001 - the store is still away
                    self._drop(f"Pick list {view.id} could not be read back from the store")
        return self.state(
            f"Picked {done.quantity} × {task.sku} into {tote} — saved. The list could not be "
            f"read again ({exc}); it is read again by itself",
            "warn",
        )

    # --- exceptions -------------------------------------------------------------------

    def short(self, reason: str) -> PickState:
        return self._guard(lambda: self._short(reason))

    def _short(self, reason: str) -> PickState:
        refusal = self.state().short_refusal()
        task = self.task
        if refusal is not None or task is None or self.view is None:
            return self.refuse(refusal or "there is no task on screen to short-pick")
        result = self.terminal.short(self.view.id, task.id, reason)
        self.view = result.view
        self._advance()
        return self.state(
            f"Short pick of {task.sku} at {task.location} ({reason.replace('_', ' ')}) "
            f"recorded: {result.rerouted}{self._next()}",
            "warn",
        )

    def _next(self) -> str:
        """What to do now, after a pick or short pick moved the picker on."""
        task = self.task
        if self.step is Step.NO_LIST or task is None:
            return ""
        if self.step is Step.ITEM:
            return f". Next at the same location: scan {task.sku}"
        return f". Next: go to {task.location}"

    def skip(self) -> PickState:
        return self._guard(self._skip)

    def _skip(self) -> PickState:
        task = self.task
        if task is None or self.view is None:
            return self.refuse("there is no task on screen to skip")
        self.view = self.terminal.skip(self.view.id, task.id)
        back = self._put_back()
        self.task_id = None
        self.at_location = None
        self._advance()
        return self.state(f"{task.location} skipped: it comes again at the end. {back}", "info")

    def _put_back(self) -> str:
        units = sum(i.count for i in self.items)
        self.items = []
        return f"Put the {units} scanned unit(s) back." if units else ""

    def pause(self) -> PickState:
        return self._guard(self._pause)

    def _pause(self) -> PickState:
        if self.step not in HOLDING or self.view is None:
            return self.refuse("there is no pick list to pause")
        list_id = self.view.id
        self.terminal.pause(list_id)
        back = self._put_back()
        self._drop(f"Pick list {list_id} paused")
        return self.state(
            f"Anyone can resume it (it is claimed first). {back} {{key:pick.claim}}: claim a list",
            "info",
        )

    def leave(self) -> None:
        """Before logging out: a list held is paused, so anyone can resume it at once."""
        if self.step in HOLDING and self.view is not None:
            # Taken back meanwhile: nothing to hand over.
            with contextlib.suppress(StationError):
                self.terminal.pause(self.view.id)
        self._drop("Logged out")

    # --- live -------------------------------------------------------------------------

    def heartbeat(self) -> PickState | None:
        """Tell the store the list is still being picked; what changed, or None."""
        if self.step not in HOLDING or self.view is None:
            return None
        old = self.view
        pulse = self.terminal.heartbeat(old.id)
        if not pulse.ours and pulse.view is not None and pulse.view.status.value == "done":
            # Finished while we looked away: its last picks were cancelled (an order). Say
            # which totes to empty and that the rest go to packing.
            pulse = type(pulse)(ours=True, view=pulse.view)
        if not pulse.ours:
            back = self._put_back()
            status = pulse.view.status.value if pulse.view is not None else "gone"
            if status == "cancelled":
                self._drop(f"Pick list {old.id} was cancelled")
                what = "take the totes to the exceptions shelf"
            elif status in ("claimed", "paused"):
                # This terminal went quiet and another one took the list over.
                self._drop(f"Pick list {old.id} was taken over on another terminal")
                what = "nothing more is recorded on it here"
            else:
                self._drop(f"Pick list {old.id} was taken back by a supervisor")
                what = "nothing more is recorded on it"
            return self.state(
                f"{what.capitalize()}. {back} {{key:pick.claim}}: claim a list".replace("  ", " "),
                "warn",
                alert=True,
            )
        new = pulse.view
        assert new is not None
        was_open = {t.id for t in old.tasks if t.status == OPEN}
        gone = [t for t in new.tasks if t.id in was_open and t.status == CANCELLED]
        self.view = new
        if not gone:
            return None
        in_hand = sum(i.count for i in self.items) if self.task_id in {t.id for t in gone} else 0
        lines = []
        for ref in dict.fromkeys(t.order_ref for t in gone):
            tote = next((t.tote for t in new.tasks if t.order_ref == ref and t.tote), None)
            picked = any(t.order_ref == ref and t.picked for t in new.tasks)
            if picked:
                lines.append(
                    f"Order {ref} was cancelled: take its items out of tote {tote} and put "
                    "them on the exceptions shelf"
                )
            else:
                lines.append(f"Order {ref} was cancelled: its picks are off the list")
        if in_hand:
            lines.append(f"Put the {in_hand} unit(s) scanned for it back on the shelf.")
            self.items = []
        self.notice = "\n".join(lines)
        self._advance()
        return self.state("The list changed under you: read the note", "warn", alert=True)
