"""The pick station's screen: hands scans, keys and heartbeats to the pick flow and shows
what it answers.

The flow (:class:`app.picking.flow.PickFlow`) is what the picker is doing and every call to
the terminal; :class:`PickScreen` submits its methods to the app's job queue
(:meth:`stations.app.StationApp.submit`), which runs them one by one on the terminal worker,
and shows each :class:`~app.picking.flow.PickState` it gets back. Which keys are enabled, and
the step line, come from the flow's step table (:data:`app.picking.flow.PICK_STEPS`).
Keyboard and scanner alone; every binding has an id (see :data:`PICK_BINDINGS`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Digits, Footer, Input, Static

from app.barcodes import show
from app.picking.flow import PickFlow, PickState, Step
from app.picking.station import PickListView, Task, Tote
from app.terminal import SHORT_REASONS
from stations.capture import EntryChanged, Scanned, ScannerStatus
from stations.messages import Level, show_message, with_keys
from stations.questions import ChoiceQuestion, forward

if TYPE_CHECKING:
    from stations.app import StationApp


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

ACTION_IDS = {
    binding.action: binding.id for binding in PICK_BINDINGS if isinstance(binding, Binding)
}
"""Each pick action's binding id: the step table enables bindings by id."""

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

    def __init__(self) -> None:
        super().__init__()
        self.flow = PickFlow(self.station.terminal, self.station.clock)
        # Built on this thread before any job runs, so reading it here is safe.
        self.shown = self.flow.state()
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
        """Only what the picker can do now is bound (and shown in the footer and help): the
        keys the step table enables in this step, as the flow last said."""
        binding_id = ACTION_IDS.get(action)
        if binding_id is None:
            return True
        return binding_id in self.shown.keys

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
        refusal = self.shown.short_refusal()
        if refusal is not None:
            # Refused before the picker is asked why: the flow's own rule, on what it showed.
            self.render_state(self.flow_snapshot(refusal))
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
        self.query_one("#step", Static).update(Content(with_keys(self, state.prompt)))
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


class ShortModal(ChoiceQuestion[str]):
    """Why is the pick short? 1, 2 or 3 typed and Enter; Escape goes back. A lone 1, 2 or
    3 is a choice (no barcode is a single digit)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Back", id="short.cancel"),
    ]
    CHOICES: ClassVar[dict[str, str]] = {
        str(n): reason for n, reason in enumerate(SHORT_REASONS, 1)
    }

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

    def numbers(self) -> str:
        return "1, 2 or 3"


class QuantityModal(ModalScreen[int | None]):
    """Key the number of units instead of scanning each (where the site allows)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Back", id="quantity.cancel"),
    ]

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
