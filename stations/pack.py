"""The pack station's screen: hands scans and keys to the pack flow and shows what it
answers.

The flow (:class:`app.packing.flow.PackFlow`) is what the packer is doing and every call to
the bench; :class:`PackScreen` submits its methods to the app's job queue (one by one, on
the terminal worker) and shows each :class:`~app.packing.flow.PackState` it gets back.
Which keys are enabled, and the step line, come from :data:`app.packing.flow.PACK_STEPS`.
Keyboard and scanner alone; every binding has an id (see :data:`PACK_BINDINGS`).
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Static

from app.packing.flow import PackFlow, PackState, Step, suggested_box
from app.packing.station import PROBLEMS, Bench, PackError, PackLine, keyed_grams
from stations.capture import Scanned
from stations.flowscreen import FlowScreen
from stations.messages import with_keys
from stations.questions import ChoiceQuestion, forward

PACK_BINDINGS: list[BindingType] = [
    Binding("f2", "print_again", "Print", id="pack.print", tooltip="Send failed print jobs again"),
    Binding(
        "f3", "aside", "Aside", id="pack.aside", tooltip="Set the order aside (anyone goes on)"
    ),
    Binding("f4", "problem", "Problem", id="pack.problem", tooltip="A unit missing or damaged"),
    Binding("f5", "close_box", "Close box", id="pack.close", tooltip="Close the box and weigh it"),
    Binding("f6", "weigh", "Weigh", id="pack.weigh", tooltip="Read the scale"),
    Binding("f7", "key_weight", "Key g", id="pack.keyweight", tooltip="Key the weight (no scale)"),
    Binding(
        "f8", "override", "Override", id="pack.override", tooltip="A supervisor lets the weight go"
    ),
    Binding("f9", "back", "Reopen", id="pack.back", tooltip="Open the box again to change it"),
]

LINE_ROWS = 8
"""Order lines the table shows at 80x24 (beside the suggestion, the notes and, when
weighing, the weight); more are summed up in the last row."""

ACTION_IDS = {
    binding.action: binding.id
    for binding in PACK_BINDINGS
    if isinstance(binding, Binding) and binding.id
}
"""Each pack action's binding id: the step table enables bindings by id."""


class PackScreen(FlowScreen[PackState], inherit_bindings=False):
    """The pack station's one screen; usable at 80x24 from the keyboard and scanner alone."""

    AUTO_FOCUS = ""
    BINDINGS: ClassVar[list[BindingType]] = PACK_BINDINGS
    ACTION_IDS: ClassVar[dict[str, str]] = ACTION_IDS

    def __init__(self) -> None:
        super().__init__()
        self.flow = PackFlow(self.station.terminal.pack_desk())
        self.shown = self.flow.state()
        self._beating = False

    def compose(self) -> ComposeResult:
        user = self.station.terminal.user
        who = f"{user.name} ({user.badge}) · {user.node_code}" if user else ""
        yield Static(f"Shipfloor pack · {self.station.terminal.station_code} · {who}", id="top")
        yield Static("", id="order")
        yield Static("", id="step")
        with Vertical(id="work"):
            yield Static("", id="headline")
            yield Static("", id="lines")
            yield Static("", id="suggestion")
            yield Static("", id="notes")
        yield Static("", id="weight")
        yield Static("", id="prints")
        yield Static("", id="message")
        yield Static("> ", id="entry")
        yield Footer()

    def on_mount(self) -> None:
        self.render_state(self.shown)
        self.set_interval(self.station.heartbeat_every, self._beat)

    # --- jobs -------------------------------------------------------------------------

    def _beat(self) -> None:
        if self._beating or not self.shown.holding:
            return
        self._beating = True

        def done(result: PackState | None | Exception) -> None:
            self._beating = False
            if not isinstance(result, Exception):
                self._result(result)

        self.station.submit(self.flow.heartbeat, done, generation=self.generation)

    def leaving(self) -> None:
        """Run on the worker before the terminal logs out."""
        self.flow.leave()

    def leave_note(self) -> str:
        """What the login screen tells the packer leaving with an order on the bench."""
        state, bench = self.shown, self.shown.bench
        if not state.holding or bench is None:
            return ""
        said = f"Order {bench.order_ref} is set aside: anyone can scan its tote to go on."
        if state.counted and not state.own_container:
            box = "closed box" if state.step is Step.WEIGH else "open box"
            said += (
                f" Take the {state.counted} unit(s) out of the {box} and put them back in "
                f"tote {', '.join(bench.totes)}."
            )
        return said

    # --- input ------------------------------------------------------------------------

    def on_scanned(self, message: Scanned) -> None:
        scan = message.scan
        self._submit(lambda: self.flow.scan(scan))

    def action_print_again(self) -> None:
        self.render_message("Sending the print jobs again…", "info")
        self._submit(self.flow.print_again)

    def action_aside(self) -> None:
        self._submit(self.flow.set_aside)

    def action_close_box(self) -> None:
        self._submit(self.flow.close)

    def action_weigh(self) -> None:
        self.render_message("Reading the scale…", "info")
        self._submit(self.flow.weigh)

    def action_back(self) -> None:
        self._submit(self.flow.back)

    def action_key_weight(self) -> None:
        def typed(grams: int | None) -> None:
            if grams is not None:
                self._submit(lambda: self.flow.keyed_weight(grams))

        self.app.push_screen(WeightModal(), typed)

    def action_override(self) -> None:
        def given(answer: tuple[str, str] | None) -> None:
            if answer is not None:
                badge, pin = answer
                self._submit(lambda: self.flow.override(badge, pin))

        self.app.push_screen(OverrideModal(), given)

    def action_problem(self) -> None:
        bench = self.shown.bench
        if bench is None:
            return
        open_lines = [line for line in bench.lines if line.left > 0]

        def kind_chosen(kind: str | None) -> None:
            if kind is None:
                return
            if len(open_lines) == 1:
                line_id = open_lines[0].line_id
                self._submit(lambda: self.flow.problem(kind, line_id))
                return

            def line_chosen(line_id: int | None) -> None:
                if line_id is not None:
                    self._submit(lambda: self.flow.problem(kind, line_id))

            self.app.push_screen(LineModal(kind, open_lines), line_chosen)

        self.app.push_screen(ProblemModal(), kind_chosen)

    # --- showing ----------------------------------------------------------------------

    def render_state(self, state: PackState) -> None:
        self.shown = state
        self.refresh_bindings()
        bench = state.bench
        self.query_one("#order", Static).update(Content(self._order_line(state)))
        self.query_one("#step", Static).update(Content(with_keys(self, state.prompt)))
        headline = self.query_one("#headline", Static)
        headline.display = bench is None
        headline.update(Content(state.headline))
        for part in ("#lines", "#suggestion", "#notes"):
            self.query_one(part).display = bench is not None
        if bench is not None:
            self._show_bench(bench, state)
        weight = self.query_one("#weight", Static)
        weight.display = state.step is Step.WEIGH
        if state.step is Step.WEIGH:
            check = state.weight
            said = (
                f"Box {state.box_name}: {state.counted} unit(s) · expected {state.expected_g:,} g"
            )
            if check is not None:
                said += f" ± {check.tolerance_g:,} g · scale {check.measured_g:,} g"
            weight.update(Content(said))
        prints = self.query_one("#prints", Static)
        prints.display = bool(state.prints)
        prints.set_classes("ok" if all(level == "ok" for level, _ in state.prints) else "warn")
        prints.update(Content(with_keys(self, "\n".join(text for _, text in state.prints[-6:]))))
        self.show_common(state)

    def _order_line(self, state: PackState) -> str:
        bench = state.bench
        if bench is None:
            return ""
        boxes = f" · {len(bench.closed)} box(es) closed" if bench.closed else ""
        return (
            f"Order {bench.order_ref} · {bench.carrier} {bench.service} · "
            f"tote(s) {', '.join(bench.totes)}{boxes}"
        )

    def _show_bench(self, bench: Bench, state: PackState) -> None:
        in_box = {u.line_id: 0 for u in state.in_box}
        for unit in state.in_box:
            in_box[unit.line_id] += unit.count
        rows = [f"{'SKU':<14} {'item':<32} {'to pack':>7} {'in box':>6}"]
        rows += _line_rows(bench.lines, in_box)
        self.query_one("#lines", Static).update(Content("\n".join(rows)))
        self.query_one("#suggestion", Static).update(Content(_suggestion(bench)))
        notes = bench.instructions()
        widget = self.query_one("#notes", Static)
        widget.display = bool(notes)
        widget.update(Content(" · ".join(notes)))


def _line_rows(lines: tuple[PackLine, ...], in_box: dict[int, int]) -> list[str]:
    """A row per order line; past :data:`LINE_ROWS`, the lines still to pack first and
    the rest summed up (the screen has no room to scroll)."""
    if len(lines) > LINE_ROWS:
        open_first = sorted(lines, key=lambda ln: ln.left - in_box.get(ln.line_id, 0) <= 0)
        shown, rest = open_first[: LINE_ROWS - 1], open_first[LINE_ROWS - 1 :]
        left = sum(ln.left - in_box.get(ln.line_id, 0) for ln in rest)
        return [
            *(_line_row(ln, in_box.get(ln.line_id, 0)) for ln in shown),
            f" … {len(rest)} more line(s), {left} unit(s) of them to pack",
        ]
    return [_line_row(ln, in_box.get(ln.line_id, 0)) for ln in lines]


def _line_row(line: PackLine, in_box: int) -> str:
    left = line.left - in_box
    mark = "✓" if left == 0 else " "
    return f"{mark}{line.sku[:13]:<13} {line.name[:32]:<32} {left:>7} {in_box:>6}"


def _suggestion(bench: Bench) -> str:
    suggestion = bench.suggestion
    if suggestion is None or not suggestion.boxes:
        return f"No suggestion: {bench.suggestion_note}" if bench.suggestion_note else ""
    first = suggestion.boxes[0]
    box = suggested_box(bench)
    units = len(first.placements)
    materials = ", ".join(f"{m.name} {m.quantity}" for m in first.materials) or "no fill"
    more = f" (+{len(suggestion.boxes) - 1} more box(es))" if len(suggestion.boxes) > 1 else ""
    return f"Suggested: {box} for {units} unit(s){more} · {materials}\n{first.reason}"


class ProblemModal(ChoiceQuestion[str]):
    """Missing or damaged? 1 or 2 and Enter; Escape goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Back", id="problem.cancel"),
    ]
    CHOICES: ClassVar[dict[str, str]] = {str(n): kind for n, kind in enumerate(PROBLEMS, 1)}

    def lines(self) -> list[str]:
        return [
            "A unit is…",
            "",
            *(f"  {n}  {kind} ({PROBLEMS[kind]})" for n, kind in self.CHOICES.items()),
            "",
            "  Missing: the order goes to the problem shelf,",
            "  and the supervisor is told.",
            "  Damaged: the unit goes in the damaged bin, the",
            "  order gets another from stock, and you pack on.",
            "  Type 1 or 2 and Enter · Esc back",
        ]

    def answer(self, text: str) -> str | None:
        return self.CHOICES.get(text)

    def numbers(self) -> str:
        return "1 or 2"


class LineModal(ChoiceQuestion[int]):
    """Which item is missing or damaged? Its number and Enter."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Back", id="problemline.cancel"),
    ]

    def __init__(self, kind: str, lines: list[PackLine]) -> None:
        super().__init__()
        self.kind = kind
        self.choices = {str(n): line for n, line in enumerate(lines[:9], 1)}

    def lines(self) -> list[str]:
        return [
            f"Which item is {self.kind}?",
            "",
            *(f"  {n}  {line.sku} {line.name[:40]}" for n, line in self.choices.items()),
            "",
            "  Type its number and Enter · Esc back",
        ]

    def answer(self, text: str) -> int | None:
        line = self.choices.get(text)
        return line.line_id if line is not None else None

    def numbers(self) -> str:
        count = len(self.choices)
        return "1" if count == 1 else "1 or 2" if count == 2 else f"1 to {count}"


class WeightModal(ModalScreen[int | None]):
    """Key the box's weight: grams (1780) or kilograms with kg (1.78 kg). Something else
    keeps the question open and says what to key; a scan closes it and goes beneath."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Back", id="weight.cancel"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content("The box's weight: grams (1780) or kg (1.78 kg), Enter; Esc back"))
            yield Input(max_length=24, id="grams")
            yield Static("", id="weight-error")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        error = self.query_one("#weight-error", Static)
        if not event.value.strip():
            error.update(Content("Key the weight first, or Esc to go back"))
            return
        try:
            grams = keyed_grams(event.value)
        except PackError as exc:
            error.update(Content(str(exc)))
            event.input.value = ""
            self.app.bell()
            return
        self.dismiss(grams)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_scanned(self, message: Scanned) -> None:
        forward(self, message)


class OverrideModal(ModalScreen[tuple[str, str] | None]):
    """A supervisor lets a box go out of tolerance: scan (or type) their badge, then PIN."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Back", id="override.cancel"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content("Supervisor: scan your badge (or type it), then your PIN"))
            yield Input(placeholder="badge", max_length=40, id="badge")
            yield Input(password=True, placeholder="PIN, then Enter", max_length=12, id="pin")
            yield Static(Content("Esc back: the box stays on the scale"))

    def on_mount(self) -> None:
        self.query_one("#badge", Input).focus()

    def on_scanned(self, message: Scanned) -> None:
        if message.scan.barcode is not None and message.scan.barcode.kind == "badge":
            self.query_one("#badge", Input).value = message.scan.text.strip()
            self.query_one("#pin", Input).focus()
            return
        forward(self, message)

    @on(Input.Submitted, "#badge")
    def badge_given(self) -> None:
        self.query_one("#pin", Input).focus()

    @on(Input.Submitted, "#pin")
    def pin_given(self, event: Input.Submitted) -> None:
        badge = self.query_one("#badge", Input).value.strip()
        if badge and event.value:
            self.dismiss((badge, event.value))

    def action_cancel(self) -> None:
        self.dismiss(None)
