"""The supervisor station: the node's pick lists on the floor, live, and taking one back.

The queue is read on the terminal worker every heartbeat (and at F5). Claimed lists come
first; a list whose terminal has gone quiet (no heartbeat for two minutes, so anyone may
take it over) or that is paused needs attention and is marked. Taking a list back is typed
(Y and Enter), so a scanner's burst can never confirm it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from app.barcodes import show
from app.supervisor import FloorQueue, ListOnFloor
from app.terminal import StationError
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
]

COLUMNS = ("List", "Wave", "Status", "Picker", "Station", "Lines", "Quiet")


def quiet_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    whole = max(0, int(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


class SupervisorScreen(Screen[None], inherit_bindings=False):
    """The supervisor station's one screen; usable at 80x24 from the keyboard alone."""

    BINDINGS: ClassVar[list[BindingType]] = SUPERVISOR_BINDINGS
    DEFAULT_CSS = """
    SupervisorScreen { layout: vertical; }
    SupervisorScreen #top { height: 1; background: $primary; color: $text; padding: 0 1; }
    SupervisorScreen #summary { height: 1; padding: 0 1; background: $boost; text-style: bold; }
    SupervisorScreen #lists { height: 1fr; }
    SupervisorScreen #message { height: 3; padding: 0 1; }
    SupervisorScreen #message.error { color: $error; text-style: bold; }
    SupervisorScreen #message.ok { color: $success; }
    SupervisorScreen #message.warn { color: $warning; text-style: bold; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.generation = self.station.generation
        self.queue: FloorQueue | None = None
        self.attention_only = False
        self._reading = False

    @property
    def station(self) -> StationApp:
        return cast("StationApp", self.app)

    def compose(self) -> ComposeResult:
        user = self.station.terminal.user
        who = f"{user.name} ({user.badge}) · {user.node_code}" if user else ""
        yield Static(
            f"Shipfloor supervisor · {self.station.terminal.station_code} · {who}", id="top"
        )
        yield Static("Reading the floor…", id="summary")
        table: DataTable[Any] = DataTable(id="lists", cursor_type="row", zebra_stripes=True)
        table.add_columns(*COLUMNS)
        yield table
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
        self.station.submit(
            self.station.terminal.pick_queue, self._read, generation=self.generation
        )

    def _read(self, result: FloorQueue | Exception) -> None:
        self._reading = False
        if not self.is_attached:
            return
        if isinstance(result, Exception):
            self.say(f"the store did not answer ({result}); the queue is as last read", "error")
            return
        self.show_queue(result)

    def shown_lists(self) -> list[ListOnFloor]:
        if self.queue is None:
            return []
        lists = self.queue.lists
        return [x for x in lists if x.needs_attention] if self.attention_only else list(lists)

    def show_queue(self, queue: FloorQueue) -> None:
        self.queue = queue
        table = self.query_one(DataTable)
        keep = self.highlighted()
        table.clear()
        for item in self.shown_lists():
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
        which = "Needing attention" if self.attention_only else "On the floor"
        self.query_one("#summary", Static).update(
            Content(
                f"{which}: {queue.count('claimed')} claimed ({queue.stale} quiet) · "
                f"{queue.count('paused')} paused · {queue.count('released')} released · "
                f"{queue.at:%H:%M:%S}"
            )
        )

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

    def action_refresh(self) -> None:
        self.say("Reading the queue…", "info")
        self.read()

    def action_attention(self) -> None:
        self.attention_only = not self.attention_only
        if self.queue is not None:
            self.show_queue(self.queue)

    def action_take_back(self) -> None:
        item = self.highlighted()
        if item is None:
            self.refuse("there is no list to take back: choose one with ↑ ↓")
            return
        if item.status == "released":
            self.refuse(f"pick list {item.id} is released, nobody holds it: nothing to take back")
            return

        def chosen(sure: bool | None) -> None:
            if sure:
                self._take_back(item)

        self.app.push_screen(TakeBackModal(item), chosen)

    def _take_back(self, item: ListOnFloor) -> None:
        def work() -> FloorQueue:
            self.station.terminal.take_back(item.id)
            return self.station.terminal.pick_queue()

        def done(result: FloorQueue | Exception) -> None:
            if not self.is_attached:
                return
            if isinstance(result, StationError):
                self.refuse(str(result))
            elif isinstance(result, Exception):
                self.refuse(f"the store did not answer ({result}); nothing was taken back")
            else:
                self.show_queue(result)
                holder = f" from {item.picker}" if item.picker else ""
                self.say(f"Pick list {item.id} taken back{holder}: anyone can claim it", "ok")

        self.station.submit(work, done, generation=self.generation)

    def on_scanned(self, message: Scanned) -> None:
        self.refuse(
            f"nothing is scanned here, scanned {show(message.scan.text)}: choose a list with "
            "↑ ↓; {key:supervisor.take_back} takes it back"
        )

    # --- showing ----------------------------------------------------------------------

    def say(self, text: str, level: Level) -> None:
        show_message(self, text, level)

    def refuse(self, text: str) -> None:
        self.say(text, "error")
        self.station.bell()


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
            "  Type Y and Enter to take it back · Esc to leave it",
        ]

    def answer(self, text: str) -> bool | None:
        return True if text.upper() == "Y" else None
