"""The ship station's screen: hands scans and keys to the ship flow and shows what it
answers.

The flow (:class:`app.loading.flow.ShipFlow`) is what the shipper is doing and every call
to the dock; :class:`ShipScreen` submits its methods to the app's job queue (one by one,
on the terminal worker) and shows each :class:`~app.loading.flow.ShipState` it gets back.
Which keys are enabled, and the step line, come from :data:`app.loading.flow.SHIP_STEPS`.
Keyboard and scanner alone; every binding has an id (see :data:`SHIP_BINDINGS`).
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import Footer, Static

from app.loading.flow import ShipFlow, ShipState, Step
from app.loading.station import Dock, LoadView, local_when
from stations.capture import Scanned
from stations.flowscreen import FlowScreen
from stations.messages import with_keys
from stations.questions import ChoiceQuestion

SHIP_BINDINGS: list[BindingType] = [
    Binding("f2", "print_again", "Print", id="ship.print", tooltip="Send failed print jobs again"),
    Binding("f3", "carrier", "Carrier", id="ship.carrier", tooltip="Choose the door's carrier"),
    Binding("f4", "unload", "Take off", id="ship.unload", tooltip="Take a package off the load"),
    Binding("f5", "close_out", "Close out", id="ship.close", tooltip="Close the load out"),
    Binding("f6", "confirm", "Confirm", id="ship.confirm", tooltip="Confirm the close-out"),
    Binding(
        "f7", "leave", "Dock", id="ship.leave", tooltip="Leave the load open, back to the dock"
    ),
    Binding("f8", "refresh", "Refresh", id="ship.refresh", tooltip="Read the dock again"),
    Binding("f9", "back", "Back", id="ship.back", tooltip="Go on loading"),
]

ROWS = 5
"""Packages each list shows at 80x24 (loaded, on the floor); counts are whole."""


class ShipScreen(FlowScreen[ShipState], inherit_bindings=False):
    """The ship station's one screen; usable at 80x24 from the keyboard and scanner alone."""

    AUTO_FOCUS = ""
    BINDINGS: ClassVar[list[BindingType]] = SHIP_BINDINGS
    ACTION_IDS: ClassVar[dict[str, str]] = {
        b.action: b.id for b in SHIP_BINDINGS if isinstance(b, Binding) and b.id
    }

    def __init__(self) -> None:
        super().__init__()
        self.flow = ShipFlow(self.station.terminal.ship_desk())
        self.shown = self.flow.state()

    def compose(self) -> ComposeResult:
        user = self.station.terminal.user
        who = f"{user.name} ({user.badge}) · {user.node_code}" if user else ""
        yield Static(f"Shipfloor ship · {self.station.terminal.station_code} · {who}", id="top")
        yield Static("", id="load")
        yield Static("", id="step")
        yield Static("", id="work")
        yield Static("", id="prints")
        yield Static("", id="message")
        yield Static("> ", id="entry")
        yield Footer()

    def on_mount(self) -> None:
        self.render_state(self.shown)
        self._submit(self.flow.start)

    # --- input ------------------------------------------------------------------------

    def on_scanned(self, message: Scanned) -> None:
        scan = message.scan
        self._submit(lambda: self.flow.scan(scan))

    def action_print_again(self) -> None:
        self.render_message("Sending the print jobs again…", "info")
        self._submit(self.flow.print_again)

    def action_carrier(self) -> None:
        carriers = list(self.shown.carriers)
        if not carriers:
            return

        def chosen(code: str | None) -> None:
            if code is not None:
                self._submit(lambda: self.flow.choose_carrier(code))
            elif self.shown.step is Step.CARRIER:
                # Esc: no carrier for this door after all; back to the dock.
                self._submit(self.flow.leave)

        self.app.push_screen(CarrierModal(self.shown.door, carriers), chosen)

    def action_unload(self) -> None:
        self._submit(self.flow.unload)

    def action_close_out(self) -> None:
        self._submit(self.flow.ask_close)

    def action_confirm(self) -> None:
        self.render_message("Closing out…", "info")
        self._submit(self.flow.confirm)

    def action_leave(self) -> None:
        self._submit(self.flow.leave)

    def action_refresh(self) -> None:
        self._submit(self.flow.refresh)

    def action_back(self) -> None:
        self._submit(self.flow.back)

    # --- showing ----------------------------------------------------------------------

    def render_state(self, state: ShipState) -> None:
        previous = self.shown
        self.shown = state
        self.refresh_bindings()
        load = state.load
        head = self.query_one("#load", Static)
        if load is not None:
            head.update(
                Content(
                    f"Load {load.id} · {load.carrier_name} ({load.carrier}) at {load.door} · "
                    f"opened by {load.opened_by}"
                )
            )
        elif state.step is Step.CARRIER:
            head.update(Content(f"Door {state.door}: no load open"))
        else:
            head.update(Content("No load chosen"))
        self.query_one("#step", Static).update(Content(with_keys(self, state.prompt)))
        user = self.station.terminal.user
        tz = user.node_timezone if user is not None else "UTC"
        work = load_lines(load, tz) if load is not None else dock_lines(state, tz)
        self.query_one("#work", Static).update(Content("\n".join(work)))
        prints = self.query_one("#prints", Static)
        prints.display = bool(state.prints) and load is None
        prints.set_classes("ok" if all(level == "ok" for level, _ in state.prints) else "warn")
        prints.update(Content(with_keys(self, "\n".join(text for _, text in state.prints[-3:]))))
        self.show_common(state)
        if state.step is Step.CARRIER and previous.step is not Step.CARRIER:
            self.action_carrier()


def dock_lines(state: ShipState, tz: str) -> list[str]:
    """The dock: the headline, each door and its load, each carrier's packages, and what
    is on the floor past its cut-off."""
    out = [state.headline, ""] if state.headline else []
    dock: Dock | None = state.dock
    if dock is None:
        return out
    loads = {load.door: load for load in dock.loads}
    if not dock.doors:
        out.append("No dock doors are set up at this node: ask an admin to add them")
    doors = [
        f"{d.code}: {loads[d.code].carrier} loading" if d.code in loads else f"{d.code}: free"
        for d in dock.doors
    ]
    if doors:
        out.append("Doors  " + " · ".join(doors[:6]) + (" …" if len(doors) > 6 else ""))
    out.append(f"{'carrier':<12} {'packed':>7} {'loaded':>7} {'on floor':>9}")
    for count in dock.counts[:4]:
        out.append(
            f"{count.carrier:<12} {count.expected:>7} {count.loaded:>7} "
            f"{count.expected - count.loaded:>9}"
        )
    if not dock.counts:
        out.append("  nothing packed is waiting to ship")
    if dock.past_cutoff_count:
        out.append(f"On the floor past cut-off: {dock.past_cutoff_count}")
        for p in dock.past_cutoff[:3]:
            out.append(
                f"  {_ref(p.order_ref)} box {p.number} {p.carrier:<9} {p.sscc} "
                f"{local_when(p.cutoff_at, tz)}"
            )
    return out


def _ref(order_ref: str, width: int = 22) -> str:
    """An order reference in ``width`` columns, cut visibly (…) when longer."""
    return order_ref if len(order_ref) <= width else order_ref[: width - 1] + "…"


def load_lines(load: LoadView, tz: str) -> list[str]:
    """The load: counts, the last packages loaded, and the carrier's still on the floor."""
    out = [
        f"{load.loaded} loaded · {load.to_load} {load.carrier} on the floor · "
        f"{load.past_cutoff} past cut-off (all carriers)",
        "Loaded, last first: order, box, service, tracking number",
    ]
    for p in load.packages[:ROWS]:
        out.append(
            f"  {_ref(p.order_ref):<22} {p.number:>2} {p.service[:9]:<9} {p.tracking_number}"
        )
    if load.loaded > ROWS:
        out.append(f"  … and {load.loaded - ROWS} more")
    if not load.packages:
        out.append("  nothing yet")
    out.append("Still on the floor: order, box, service, SSCC, cut-off")
    for p in load.floor[:ROWS]:
        out.append(
            f"  {_ref(p.order_ref):<22} {p.number:>2} {p.service[:9]:<9} {p.sscc} "
            f"{local_when(p.cutoff_at, tz)}"
        )
    if load.to_load > ROWS:
        out.append(f"  … and {load.to_load - ROWS} more")
    if not load.floor:
        out.append("  none: every packed package of this carrier is loaded")
    return out


class CarrierModal(ChoiceQuestion[str]):
    """Which carrier loads at the door? Its number and Enter; Escape goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Back", id="carrier.cancel"),
    ]

    def __init__(self, door: str, carriers: list[tuple[str, str]]) -> None:
        super().__init__()
        self.door = door
        self.choices = {str(n): code for n, (code, _) in enumerate(carriers[:9], 1)}
        self.names = dict(carriers)

    def lines(self) -> list[str]:
        return [
            f"Which carrier loads at {self.door}?",
            "",
            *(f"  {n}  {self.names[c]} ({c})" for n, c in self.choices.items()),
            "",
            "  Type its number and Enter · Esc back",
        ]

    def answer(self, text: str) -> str | None:
        return self.choices.get(text)

    def numbers(self) -> str:
        count = len(self.choices)
        return "1" if count == 1 else "1 or 2" if count == 2 else f"1 to {count}"
