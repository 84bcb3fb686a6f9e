"""The supervisor station: the node's pick lists on the floor, live, and taking one back.

The queue is read on the terminal worker every heartbeat (and at F5). Claimed lists come
first; a list whose terminal has gone quiet (no heartbeat for two minutes, so anyone may
take it over) or that is paused needs attention and is marked. Taking a list back is typed
(Y and Enter), so a scanner's burst can never confirm it. The steps and messages are
:class:`app.supervisor_flow.SupervisorFlow`'s; this screen shows each
:class:`~app.supervisor_flow.SupervisorState` it answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from app.supervisor import FloorQueue, ListOnFloor
from app.supervisor_flow import (
    SUPERVISOR_STEPS,
    SupervisorFlow,
    SupervisorState,
    SupervisorStep,
)
from stations.capture import Scanned
from stations.messages import Level, show_message
from stations.questions import TypedQuestion

if TYPE_CHECKING:
    from stations.app import StationApp

SUPERVISOR_BINDINGS: list[BindingType] = [
    Binding("f5", "refresh", "Refresh", id="supervisor.refresh", tooltip="Read the queue now"),
    Binding(
        "f6",
        "take_back",
        "Take back",
        id="supervisor.take_back",
        tooltip="Take the highlighted list back (type Y to confirm): anyone can claim it",
    ),
    Binding(
        "f7",
        "attention",
        "Attention",
        id="supervisor.attention",
        tooltip="Show only lists that need attention (quiet terminal, paused), or all",
    ),
    Binding(
        "f8",
        "unlock",
        "Unlock badge",
        id="supervisor.unlock",
        tooltip="Unlock a badge locked by wrong PINs: scan it, or type it and Enter",
    ),
]

ACTION_IDS = {
    binding.action: binding.id for binding in SUPERVISOR_BINDINGS if isinstance(binding, Binding)
}
"""Each supervisor action's binding id: the step table enables bindings by id."""

COLUMNS = ("List", "Wave", "Status", "Picker", "Station", "Lines", "Quiet")


def quiet_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    whole = max(0, int(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


class SupervisorScreen(Screen[None], inherit_bindings=False):
    """The supervisor station's one screen; usable at 80x24 from the keyboard alone."""

    BINDINGS: ClassVar[list[BindingType]] = SUPERVISOR_BINDINGS

    def __init__(self) -> None:
        super().__init__()
        self.generation = self.station.generation
        self.flow = SupervisorFlow(self.station.terminal)
        self.shown: SupervisorState = self.flow.state()
        self._reading = False

    @property
    def station(self) -> StationApp:
        return cast("StationApp", self.app)

    @property
    def queue(self) -> FloorQueue | None:
        """The queue as last read."""
        return self.shown.queue

    @property
    def attention_only(self) -> bool:
        return self.shown.attention_only

    def compose(self) -> ComposeResult:
        user = self.station.terminal.user
        who = f"{user.name} ({user.badge}) · {user.node_code}" if user else ""
        yield Static(
            f"Shipfloor supervisor · {self.station.terminal.station_code} · {who}", id="top"
        )
        yield Static(self.shown.summary, id="summary")
        table: DataTable[Any] = DataTable(id="lists", cursor_type="row", zebra_stripes=True)
        table.add_columns(*COLUMNS)
        yield table
        yield Static("", id="problems")
        yield Static("", id="message")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self.set_interval(self.station.heartbeat_every, self.read)
        self.read()

    # --- reading ----------------------------------------------------------------------

    def read(self) -> None:
        if self._reading:
            return
        self._reading = True
        self.station.submit(self.flow.read, self._read, generation=self.generation)

    def _read(self, result: FloorQueue | Exception) -> None:
        self._reading = False
        if not self.is_attached:
            return
        self.render_state(self.flow.queue_read(result))

    def shown_lists(self) -> list[ListOnFloor]:
        return self.shown.lists

    def highlighted(self) -> ListOnFloor | None:
        table = self.query_one(DataTable)
        if table.row_count == 0 or self.queue is None:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except Exception:  # noqa: BLE001 - no row under the cursor
            return None
        return next((x for x in self.queue.lists if str(x.id) == key), None)

    # --- actions ----------------------------------------------------------------------

    def check_action(self, action: str, _parameters: tuple[object, ...]) -> bool | None:
        """The keys the step table enables in the step this screen shows, QUEUE. (CONFIRM is
        the question's, which holds the keys while it is open; the footer beneath it goes on
        showing this screen's keys, as it always has.)"""
        binding_id = ACTION_IDS.get(action)
        if binding_id is None:
            return True
        return binding_id in SUPERVISOR_STEPS[SupervisorStep.QUEUE].keys

    def action_refresh(self) -> None:
        self.render_state(self.flow.refresh())
        self.read()

    def action_attention(self) -> None:
        self.render_state(self.flow.toggle_attention())

    def action_take_back(self) -> None:
        state = self.flow.ask(self.highlighted())
        self.render_state(state)
        item = state.asking
        if item is None:
            return

        def chosen(sure: bool | None) -> None:
            taken = self.flow.answered(sure)
            self.render_state(self.flow.state())
            if taken is not None:
                self._take_back(taken)

        self.app.push_screen(TakeBackModal(item), chosen)

    def _take_back(self, item: ListOnFloor) -> None:
        def done(result: FloorQueue | Exception) -> None:
            if not self.is_attached:
                return
            self.render_state(self.flow.taken_back(item, result))

        self.station.submit(lambda: self.flow.take_back(item), done, generation=self.generation)

    def action_unlock(self) -> None:
        self.render_state(self.flow.ask_unlock())

        def chosen(text: str | None) -> None:
            badge = self.flow.unlock_answered(text)
            self.render_state(self.flow.state())
            if badge is not None:
                self._unlock(badge)

        self.app.push_screen(UnlockModal(), chosen)

    def _unlock(self, badge: str) -> None:
        def done(result: str | Exception) -> None:
            if not self.is_attached:
                return
            self.render_state(self.flow.unlocked(badge, result))

        self.station.submit(lambda: self.flow.unlock(badge), done, generation=self.generation)

    def on_scanned(self, message: Scanned) -> None:
        self.render_state(self.flow.scan(message.scan))

    # --- showing ----------------------------------------------------------------------

    def render_state(self, state: SupervisorState) -> None:
        before, self.shown = self.shown, state
        if state.queue is not None and (
            state.queue is not before.queue or state.attention_only != before.attention_only
        ):
            self.show_queue(state)
        if (state.message, state.level) != (before.message, before.level) or state.alert:
            self.say(state.message, state.level)
        if state.alert:
            self.station.bell()

    def show_queue(self, state: SupervisorState) -> None:
        table = self.query_one(DataTable)
        keep = self.highlighted()
        table.clear()
        for item in state.lists:
            status = Text(item.status)
            if item.stale:
                status = Text("QUIET", style="bold red")
            elif item.status == "paused":
                status = Text("paused", style="bold yellow")
            table.add_row(
                str(item.id),
                str(item.wave_id),
                status,
                item.picker,
                item.station,
                f"{item.lines_done}/{item.lines}",
                quiet_text(item.quiet_seconds),
                key=str(item.id),
            )
        if keep is not None and str(keep.id) in table.rows:
            table.move_cursor(row=table.get_row_index(str(keep.id)))
        self.query_one("#summary", Static).update(Content(state.summary))
        shelf = self.query_one("#problems", Static)
        problems = state.queue.problems if state.queue is not None else ()
        shelf.display = bool(problems)
        shelf.update(
            Content(
                "\n".join(
                    f"Problem shelf: {p.order_ref} (tote {p.tote or '—'}) at {p.shelf}: {p.problem}"
                    for p in problems[:3]
                )
                + (f"\n… and {len(problems) - 3} more" if len(problems) > 3 else "")
            )
        )

    def say(self, text: str, level: Level) -> None:
        show_message(self, text, level)


class TakeBackModal(TypedQuestion[bool]):
    """Take this list back? Y typed and Enter; Escape (or a scan) leaves it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Back", id="take_back.cancel"),
    ]

    def __init__(self, item: ListOnFloor) -> None:
        super().__init__()
        self.item = item

    def lines(self) -> list[str]:
        item = self.item
        holder = f"{item.picker} at {item.station}" if item.picker else "nobody (paused)"
        return [
            f"Take pick list {item.id} back?",
            f"  held by {holder}, {item.lines_done}/{item.lines} lines done",
            "  Its picker is told at once; anyone can then claim it.",
            "",
            f"  {SUPERVISOR_STEPS[SupervisorStep.CONFIRM].prompt}",
        ]

    def check_action(self, action: str, _parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return "take_back.cancel" in SUPERVISOR_STEPS[SupervisorStep.CONFIRM].keys
        return True

    def answer(self, text: str) -> bool | None:
        return True if text.upper() == "Y" else None


class UnlockModal(TypedQuestion[str]):
    """Which badge to unlock? Scanned, or typed and Enter; Escape leaves it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Back", id="unlock.cancel"),
    ]

    def lines(self) -> list[str]:
        return [
            "Unlock a badge",
            "  For someone locked out after wrong PINs; they log in again at once.",
            "",
            f"  {SUPERVISOR_STEPS[SupervisorStep.UNLOCK].prompt}",
        ]

    def check_action(self, action: str, _parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return "unlock.cancel" in SUPERVISOR_STEPS[SupervisorStep.UNLOCK].keys
        return True

    def answer(self, text: str) -> str | None:
        return text or None
