"""The pick station: claim a pick list, put totes on the cart, and scan every pick.

Two halves:

:class:`PickFlow`
    What the picker is doing (claiming, setting up totes, at a task's location, scanning
    units, scanning the tote) and every call to the :class:`~app.terminal.Terminal`. It runs
    only on the app's single terminal worker thread, one scan or action at a time in the
    order they arrived, and answers each with a :class:`PickState`, an immutable picture of
    what the screen must show. The flow never touches a widget.

:class:`PickScreen`
    Hands scans, keys and heartbeats to the flow through the app's job queue
    (:meth:`stations.app.StationApp.submit`) and shows each :class:`PickState` it gets back.
    Keyboard and scanner alone; every binding has an id (see :data:`PICK_BINDINGS`).
"""

from __future__ import annotations

import contextlib
import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Digits, Footer, Input, Static

from app.barcodes import show
from app.picking.station import ItemScan, PickDone, PickListView, Task, Tote
from app.scanning import ScanEvent
from app.terminal import SHORT_REASONS, StationError, Terminal
from stations.capture import EntryChanged, Scanned, ScannerStatus
from stations.messages import Level, show_message, with_keys
from stations.questions import TypedQuestion, forward

if TYPE_CHECKING:
    from stations.app import StationApp


class Step(enum.StrEnum):
    """Where the picker is in the work."""

    NO_LIST = "no_list"
    """No pick list held: claiming, no work, a list done, paused or taken back."""
    TOTES = "totes"
    LOCATION = "location"
    ITEM = "item"
    TOTE = "tote"


OPEN, CANCELLED = "open", "cancelled"
"""Task statuses (``PickTaskStatus`` values)."""

HOLDING = frozenset({Step.TOTES, Step.LOCATION, Step.ITEM, Step.TOTE})
AT_TASK = frozenset({Step.LOCATION, Step.ITEM, Step.TOTE})


@dataclass(frozen=True)
class PickState:
    """What the pick screen shows after one scan or action."""

    step: Step
    headline: str = ""
    """The big line when no list is held (no work, list done, taken back)."""
    view: PickListView | None = None
    task: Task | None = None
    slot: Tote | None = None
    """The tote slot to set up next (step TOTES)."""
    counted: int = 0
    """Units scanned (or typed) for the task and not yet confirmed."""
    message: str = ""
    level: Level = "info"
    notice: str = ""
    """A standing instruction (an order cancelled under the picker) until the next pick."""
    alert: bool = False
    """Ring the bell and flash: a refusal, or news the picker must act on."""
    started: float | None = None
    """The injected clock's reading when the list was claimed."""

    @property
    def holding(self) -> bool:
        return self.step in HOLDING


class PickFlow:
    """The picker's work, one scan or action at a time (on the terminal worker thread only)."""

    def __init__(self, terminal: Terminal, clock: Callable[[], float]) -> None:
        self.terminal = terminal
        self.clock = clock
        self.step = Step.NO_LIST
        self.headline = "Looking for a pick list…"
        self.view: PickListView | None = None
        self.task_id: int | None = None
        self.items: list[ItemScan] = []
        self.started: float | None = None
        self.notice = ""

    # --- what the screen sees -------------------------------------------------------

    def now(self) -> Step:
        """The step (a call, so type checkers do not keep an earlier narrowing)."""
        return self.step

    @property
    def task(self) -> Task | None:
        if self.view is None or self.task_id is None or self.step not in AT_TASK:
            return None
        return next((t for t in self.view.tasks if t.id == self.task_id), None)

    def _slot(self) -> Tote | None:
        if self.view is None:
            return None
        return next((t for t in self.view.totes if t.status == "picking" and not t.tote), None)

    def state(self, message: str = "", level: Level = "info", *, alert: bool = False) -> PickState:
        message = re.sub(r" {2,}", " ", message).strip()
        return PickState(
            step=self.step,
            headline=self.headline,
            view=self.view,
            task=self.task,
            slot=self._slot() if self.step is Step.TOTES else None,
            counted=sum(i.count for i in self.items),
            message=message,
            level=level,
            notice=self.notice,
            alert=alert,
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
        self.view = view
        self.items = []
        self.task_id = None
        self.started = self.clock()
        self.notice = ""
        self.step = Step.TOTES
        self._advance()
        return self.state(
            f"Pick list {view.id} is yours: {len(view.tasks)} lines, "
            f"{view.units_left} units, {len(view.totes)} tote(s)",
            "ok",
        )

    def _drop(self, headline: str) -> None:
        self.step = Step.NO_LIST
        self.headline = headline
        self.view = None
        self.task_id = None
        self.items = []
        self.started = None

    def _advance(self) -> None:
        """The step that follows from the list as it now stands."""
        view = self.view
        assert view is not None
        if self._slot() is not None:
            self.step = Step.TOTES
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
            self.step = Step.LOCATION

    # --- scans ------------------------------------------------------------------------

    def scan(self, event: ScanEvent) -> PickState:
        return self._guard(lambda: self._scan(event))

    def _scan(self, event: ScanEvent) -> PickState:
        text = event.text
        kind = event.barcode.kind if event.barcode is not None else None
        if self.step is Step.NO_LIST:
            return self.refuse(
                f"no pick list is open, scanned {show(text)}: {{key:pick.claim}} claims one"
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
            self.step = Step.ITEM
            return self.state(f"At {task.location}: scan {task.sku}", "ok")
        item_step = self.step is Step.ITEM and not (kind == "tote" and self.items)
        if item_step or kind in ("gtin", "gs1"):
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
            self.step = Step.TOTE
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
            self.step = Step.ITEM
            return self.state(
                f"{units} × {task.sku} in {tote}; {still.left} more to pick here, or "
                "{key:pick.short} to short-pick",
                "ok",
            )
        try:
            self._advance()
        except Exception as exc:  # noqa: BLE001 - the pick is saved; say so, then carry on
            return self._saved_unread(view, task, done, tote, exc)
        return self.state(f"Picked {units} × {task.sku} into {tote}", "ok")

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
                self.step = Step.ITEM
            else:
                self.task_id = None
                try:
                    self._advance()
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
        task = self.task
        if task is None or self.view is None:
            return self.refuse("a short pick is for the task on screen: there is none")
        if self.items:
            return self.refuse(
                f"{sum(i.count for i in self.items)} unit(s) scanned are not in a tote yet: "
                f"scan tote {task.tote} first, then short-pick the rest"
            )
        result = self.terminal.short(self.view.id, task.id, reason)
        self.view = result.view
        self._advance()
        return self.state(
            f"Short pick of {task.sku} at {task.location} ({reason.replace('_', ' ')}): "
            f"{result.rerouted}",
            "warn",
        )

    def skip(self) -> PickState:
        return self._guard(self._skip)

    def _skip(self) -> PickState:
        task = self.task
        if task is None or self.view is None:
            return self.refuse("there is no task on screen to skip")
        self.view = self.terminal.skip(self.view.id, task.id)
        back = self._put_back()
        self.task_id = None
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


# --- the screen -----------------------------------------------------------------------

PICK_BINDINGS: list[BindingType] = [
    Binding("f5", "claim", "Claim", id="pick.claim", tooltip="Claim the next pick list"),
    Binding(
        "f6",
        "quantity",
        "Qty",
        id="pick.quantity",
        tooltip="Key the quantity instead of scanning each unit",
    ),
    Binding("f7", "short", "Short", id="pick.short", tooltip="Short pick: choose why (1/2/3)"),
    Binding("f8", "skip", "Skip", id="pick.skip", tooltip="Skip to the end of the route"),
    Binding("f9", "pause", "Pause", id="pick.pause", tooltip="Pause the list (anyone resumes it)"),
]

SHORT_LABELS = {"empty": "location empty", "damaged": "damaged", "not_found": "not found"}


DIGITS_OK = frozenset(" 0123456789+-^x:ABCDEF")
"""What the big digits can draw; other location codes are shown in bold text."""


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class PickScreen(Screen[None], inherit_bindings=False):
    """The pick station's one screen; usable at 80x24 from the keyboard and scanner alone."""

    AUTO_FOCUS = ""
    BINDINGS: ClassVar[list[BindingType]] = PICK_BINDINGS
    DEFAULT_CSS = """
    PickScreen { layout: vertical; }
    PickScreen #top { height: 1; background: $primary; color: $text; padding: 0 1; }
    PickScreen #list { height: 1; padding: 0 1; color: $text-muted; }
    PickScreen #step { height: 1; padding: 0 1; background: $boost; text-style: bold; }
    PickScreen #work { height: 1fr; }
    PickScreen #headline { height: auto; padding: 1 2; text-style: bold; }
    PickScreen #task { height: auto; }
    PickScreen #where { height: 5; border: round $accent; padding: 0 1; }
    PickScreen #loc-big { width: auto; }
    PickScreen #loc-text { height: 3; content-align: left middle; text-style: bold; }
    PickScreen #product { height: 1; padding: 0 1; text-style: bold; }
    PickScreen #qty, PickScreen #tote { height: 1; padding: 0 1; }
    PickScreen #slots { height: 1fr; padding: 0 1; }
    PickScreen #notice { height: auto; max-height: 3; padding: 0 1; color: $warning; }
    PickScreen #message { height: 3; padding: 0 1; }
    PickScreen #message.error { color: $error; text-style: bold; }
    PickScreen #message.ok { color: $success; }
    PickScreen #message.warn { color: $warning; text-style: bold; }
    PickScreen #progress { height: 1; padding: 0 1; background: $boost; }
    PickScreen #entry { height: 1; padding: 0 1; }
    PickScreen.refused #step, PickScreen.refused #message { background: $error 40%; }
    PickScreen.refused #where { border: round $error; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.flow = PickFlow(self.station.terminal, self.station.clock)
        self.shown = PickState(Step.NO_LIST, headline="Looking for a pick list…")
        self.generation = self.station.generation
        self._beating = False
        self._flash_timer: Any = None

    @property
    def station(self) -> StationApp:
        return cast("StationApp", self.app)

    def compose(self) -> ComposeResult:
        user = self.station.terminal.user
        who = f"{user.name} ({user.badge}) · {user.node_code}" if user else ""
        yield Static(f"Shipfloor pick · {self.station.terminal.station_code} · {who}", id="top")
        yield Static("", id="list")
        yield Static("", id="step")
        with Vertical(id="work"):
            yield Static("", id="headline")
            with Vertical(id="task"):
                with Vertical(id="where"):
                    yield Digits("", id="loc-big")
                    yield Static("", id="loc-text")
                yield Static("", id="product")
                yield Static("", id="qty")
                yield Static("", id="tote")
            yield VerticalScroll(Static("", id="slot-lines"), id="slots")
        yield Static("", id="notice")
        yield Static("", id="message")
        yield Static("", id="progress")
        yield Static("> ", id="entry")
        yield Footer()

    def on_mount(self) -> None:
        self.render_state(self.shown)
        self.set_interval(self.station.heartbeat_every, self._beat)
        self.set_interval(1.0, self._tick)
        self._submit(self.flow.claim)

    # --- jobs -------------------------------------------------------------------------

    def _submit(self, work: Callable[[], PickState | None]) -> None:
        self.station.submit(work, self._result, generation=self.generation)

    def _result(self, result: PickState | None | Exception) -> None:
        if not self.is_attached:
            return
        if isinstance(result, Exception):
            self.render_state(
                self.flow_snapshot(
                    f"the store did not answer ({result}); nothing was recorded: try again"
                )
            )
            return
        if result is not None:
            self.render_state(result)

    def flow_snapshot(self, message: str) -> PickState:
        """The last state shown, with an error message (the flow is not read off its thread)."""
        return replace(self.shown, message=message, level="error", alert=True)

    def _beat(self) -> None:
        if self._beating or not self.shown.holding:
            return
        self._beating = True

        def done(result: PickState | None | Exception) -> None:
            self._beating = False
            if isinstance(result, Exception):
                return  # the next beat tries again; a scan will say if the store is gone
            self._result(result)

        self.station.submit(self.flow.heartbeat, done, generation=self.generation)

    def leaving(self) -> None:
        """Run on the worker before the terminal logs out."""
        self.flow.leave()

    # --- input ------------------------------------------------------------------------

    def on_scanned(self, message: Scanned) -> None:
        scan = message.scan
        self._submit(lambda: self.flow.scan(scan))

    def on_entry_changed(self, message: EntryChanged) -> None:
        pending = show(message.pending)[1:-1] if message.pending else ""
        self.query_one("#entry", Static).update(Content(f"> {pending}"))

    def on_scanner_status(self, message: ScannerStatus) -> None:
        self.query_one("#message", Static).update(
            Content(f"scanner {message.name}: {message.status}")
        )

    def check_action(self, action: str, _parameters: tuple[object, ...]) -> bool | None:
        """Only what the picker can do now is bound (and shown in the footer and help)."""
        step = self.shown.step
        if action == "claim":
            return step is Step.NO_LIST
        if action == "quantity":
            task = self.shown.task
            return (
                self.station.terminal.settings.typed_quantity
                and step is Step.ITEM
                and task is not None
                and not (task.track_serial or task.track_lot or task.track_expiry)
            )
        if action in ("short", "skip"):
            return step in AT_TASK
        if action == "pause":
            return step in HOLDING
        return True

    def action_claim(self) -> None:
        self.render_message("Claiming…", "info")
        self._submit(self.flow.claim)

    def action_quantity(self) -> None:
        task = self.shown.task
        if task is None:
            return
        left = task.left - self.shown.counted

        def typed(quantity: int | None) -> None:
            if quantity is not None:
                self._submit(lambda: self.flow.typed(quantity))

        self.app.push_screen(QuantityModal(task.sku, left), typed)

    def action_short(self) -> None:
        task = self.shown.task
        if task is None:
            return

        def chosen(reason: str | None) -> None:
            if reason is not None:
                self._submit(lambda: self.flow.short(reason))

        self.app.push_screen(ShortModal(task), chosen)

    def action_skip(self) -> None:
        self._submit(self.flow.skip)

    def action_pause(self) -> None:
        self._submit(self.flow.pause)

    # --- showing ----------------------------------------------------------------------

    def render_message(self, text: str, level: Level) -> None:
        show_message(self, text, level)

    def render_state(self, state: PickState) -> None:
        self.shown = state
        self.refresh_bindings()
        view, task = state.view, state.task
        self.query_one("#list", Static).update(Content(self._list_line(state)))
        self.query_one("#step", Static).update(Content(self._step_line(state)))
        headline = self.query_one("#headline", Static)
        headline.display = state.step is Step.NO_LIST
        headline.update(Content(state.headline))
        self.query_one("#task").display = task is not None
        self.query_one("#slots").display = state.step is Step.TOTES
        if task is not None:
            self._show_task(task, state)
        if state.step is Step.TOTES and view is not None:
            self._show_slots(view, state.slot)
        notice = self.query_one("#notice", Static)
        notice.display = bool(state.notice)
        notice.update(Content(state.notice))
        self.render_message(state.message, state.level)
        self._tick()
        if state.alert:
            self.station.bell()
            self.add_class("refused")
            if self._flash_timer is not None:
                self._flash_timer.stop()
            self._flash_timer = self.set_timer(
                self.station.flash_seconds, lambda: self.remove_class("refused")
            )

    def _list_line(self, state: PickState) -> str:
        view = state.view
        if view is None:
            return ""
        orders = len({t.order_ref for t in view.totes})
        zone = f" · zone {view.zone}" if view.zone else ""
        return (
            f"Pick list {view.id} · wave {view.wave_id}{zone} · {orders} order(s) · "
            f"{len(view.totes)} tote(s)"
        )

    def _step_line(self, state: PickState) -> str:
        task = state.task
        if state.step is Step.NO_LIST:
            return with_keys(self, "{key:pick.claim}: claim the next pick list")
        if state.step is Step.TOTES:
            slot = state.slot
            if slot is None:
                return "Totes ready"
            return f"Scan a tote for slot {slot.slot} (order {slot.order_ref})"
        assert task is not None
        left = task.left
        k = min(state.counted + 1, left)
        steps = [
            (Step.LOCATION, "Scan location"),
            (Step.ITEM, f"Scan item ({k} of {left})"),
            (Step.TOTE, "Scan tote"),
        ]
        return "   ".join(
            f"▶ {text}" if step is state.step else f"· {text}" for step, text in steps
        )

    def _show_task(self, task: Task, state: PickState) -> None:
        big = all(c in DIGITS_OK for c in task.location)
        digits = self.query_one("#loc-big", Digits)
        text = self.query_one("#loc-text", Static)
        digits.display = big
        text.display = not big
        if big:
            digits.update(task.location)
        else:
            text.update(Content(task.location))
        where = self.query_one("#where")
        where.border_title = "Go to location"
        where.border_subtitle = task.location
        lot = f" · lot {task.lot}" if task.lot else ""
        self.query_one("#product", Static).update(Content(f"{task.sku}  {task.product}{lot}"))
        before = f" ({task.picked} of {task.quantity} picked before)" if task.picked else ""
        tracked = [
            name
            for name, on in (
                ("serial", task.track_serial),
                ("lot", task.track_lot),
                ("expiry", task.track_expiry),
            )
            if on
        ]
        how = f" · scan each unit's GS1 code ({', '.join(tracked)})" if tracked else ""
        self.query_one("#qty", Static).update(
            Content(f"Pick {task.left}{before} · scanned {state.counted}{how}")
        )
        self.query_one("#tote", Static).update(
            Content(f"Into slot {task.tote_slot}: {task.tote} · order {task.order_ref}")
        )

    def _show_slots(self, view: PickListView, slot: Tote | None) -> None:
        lines = []
        for tote in view.totes:
            mark = "▶" if slot is not None and tote.slot == slot.slot else " "
            held = tote.tote or ("(cancelled)" if tote.status == "cancelled" else "—")
            lines.append(f"{mark} slot {tote.slot:>2}  {held:<16} {tote.order_ref}")
        self.query_one("#slot-lines", Static).update(Content("\n".join(lines)))

    def _tick(self) -> None:
        """The progress line; the elapsed time comes from the injected clock."""
        state = self.shown
        view = state.view
        progress = self.query_one("#progress", Static)
        if view is None or state.step is Step.NO_LIST:
            progress.update("")
            return
        distance = view.distance_left_m()
        far = f"{distance:.0f} m left" if distance is not None else "distance unknown"
        elapsed = self.station.clock() - state.started if state.started is not None else 0.0
        progress.update(
            Content(
                f"Lines {view.lines_done} done · {view.lines_left} left · "
                f"{view.units_left} units left · {far} · {_clock(elapsed)} "
                f"of est {_clock(view.est_seconds)}"
            )
        )


class ShortModal(TypedQuestion[str]):
    """Why is the pick short? 1, 2 or 3 typed and Enter; Escape goes back. A lone 1, 2 or
    3 is a choice (no barcode is a single digit)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Back", id="short.cancel"),
    ]
    CHOICES: ClassVar[dict[str, str]] = {
        str(n): reason for n, reason in enumerate(SHORT_REASONS, 1)
    }
    DEFAULT_CSS = "ShortModal > Vertical { width: 60; }"

    def __init__(self, task: Task) -> None:
        super().__init__()
        self.pick_task = task

    def lines(self) -> list[str]:
        task = self.pick_task
        return [
            f"Short pick: {task.left} × {task.sku} at {task.location}",
            "",
            *(f"  {n}  {SHORT_LABELS[r]}" for n, r in enumerate(SHORT_REASONS, 1)),
            "",
            "  Type 1, 2 or 3 and Enter · Esc back to the pick",
        ]

    def answer(self, text: str) -> str | None:
        return self.CHOICES.get(text)


class QuantityModal(ModalScreen[int | None]):
    """Key the number of units instead of scanning each (where the site allows)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Back", id="quantity.cancel"),
    ]
    DEFAULT_CSS = """
    QuantityModal { align: center middle; }
    QuantityModal > Vertical {
        width: 50; height: auto; border: thick $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, sku: str, left: int) -> None:
        super().__init__()
        self.sku = sku
        self.left = left

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(f"How many {self.sku}? ({self.left} left) Enter, or Esc"))
            yield Input(type="integer", max_length=5, id="quantity")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        self.dismiss(int(text) if text.isdigit() else None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_scanned(self, message: Scanned) -> None:
        forward(self, message)
