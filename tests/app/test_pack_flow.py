"""The pack flow as a state machine against a fake bench: no Textual, no store.

Every step, every move the step table declares made by a real scan or key (and every
move it does not declare refused), the refusals the flow makes itself and those the
bench makes (passed on), an order in several totes, an item in its own container, a box
out of tolerance let go by a supervisor, the last box and the one before it, setting an
order aside, a problem, a bench lost, logging out, and which keys each step enables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from app.barcodes import BarcodeError, resolve
from app.flows import IllegalMove, Level
from app.packing import cartonize
from app.packing import station as pack
from app.packing.flow import HOLDING, PACK_STEPS, PackFlow, PackState, PackTerminal, Step
from app.packing.station import (
    Bench,
    Catalogue,
    Closed,
    PackError,
    PackLine,
    PackSettings,
    Unit,
    WeightCheck,
)
from app.scanning import ScanEvent
from app.users import LoggedIn
from data.models import Role

TODAY = date(2026, 6, 1)
PAD = "5012345658308"
PEN = "5012345036670"
KETTLE = "5012345871301"
"""Ships in its own container."""
STRANGER = "5012345999999"
"""A product no order here has."""

PAM = LoggedIn(
    user_id=3,
    badge="U2001",
    name="Pam Packer",
    roles=frozenset({Role.PACKER}),
    station_id=3,
    station_code="PACK-01",
    station_role="pack",
    node_id=1,
    node_code="WH1",
    node_timezone="Europe/London",
)


# --- orders on a bench, built by hand ------------------------------------------------------


def box_type(code: str, length: int, width: int, height: int, tare: int) -> cartonize.BoxType:
    return cartonize.BoxType(
        code=code,
        name=f"{code} box",
        inner_length=length,
        inner_width=width,
        inner_height=height,
        outer_length=length + 6,
        outer_width=width + 6,
        outer_height=height + 6,
        tare=tare,
        max_weight=10_000,
        cost=Decimal("0.60"),
    )


BOX_S = box_type("BOX-S", 200, 150, 100, 120)
BOX_M = box_type("BOX-M", 300, 220, 150, 220)
CATALOGUE = Catalogue(
    boxes=(BOX_S, BOX_M), materials=(), barcodes={"BOX-S": "BOX-S", "BOX-M": "BOX-M"}
)


def line(
    line_id: int, gtin: str, quantity: int, weight: int, *, own: bool = False, packed: int = 0
) -> PackLine:
    sku = f"SKU-{line_id}"
    return PackLine(
        line_id=line_id,
        line_no=line_id,
        product_id=100 + line_id,
        sku=sku,
        name=f"Product {line_id}",
        gtin=gtin,
        track_lot=False,
        track_serial=False,
        track_expiry=False,
        quantity=quantity,
        packed=packed,
        lots=(),
        serials=(),
        packed_serials=(),
        unit=cartonize.Item(
            sku=sku, length=100, width=80, height=50, weight=weight, own_container=own
        ),
    )


def packed_box(box: cartonize.BoxType | None, lines: tuple[PackLine, ...]) -> cartonize.PackedBox:
    units = [ln for ln in lines for _ in range(ln.left)]
    return cartonize.PackedBox(
        box=box,
        placements=tuple(cartonize.Placement(u.sku, 0, 0, 0, 100, 80, 50) for u in units),
        materials=(),
        gross_weight=sum(u.unit.weight for u in units) + (box.tare if box else 0),
        box_cost=Decimal("0.60"),
        materials_cost=Decimal(0),
        carrier_charge=Decimal("9.00"),
        cost=Decimal("9.60"),
        billable_kg=1,
        reason="the cheapest box that holds them",
    )


def suggest(lines: tuple[PackLine, ...]) -> cartonize.Suggestion | None:
    """Its own container first for such an item, then one small box for the rest."""
    own = tuple(ln for ln in lines if ln.unit.own_container and ln.left > 0)
    rest = tuple(ln for ln in lines if not ln.unit.own_container and ln.left > 0)
    boxes = [packed_box(None, (ln,)) for ln in own]
    if rest:
        boxes.append(packed_box(BOX_S, rest))
    if not boxes:
        return None
    return cartonize.Suggestion(tuple(boxes), sum((b.cost for b in boxes), Decimal(0)), "EXPRESS")


def bench(order: int, totes: tuple[str, ...], *lines: PackLine) -> Bench:
    return Bench(
        lead=order,
        shipment_ids=tuple(range(order, order + len(totes))),
        order_id=order,
        order_ref=f"web/{order}",
        carrier="EXPRESS",
        service="2-Day",
        totes=totes,
        lines=lines,
        closed=(),
        suggestion=suggest(lines),
    )


def plain_order() -> Bench:
    """web/1 in one tote: a pad and two pens."""
    return bench(1, ("TOTE-00101",), line(1, PAD, 1, 300), line(2, PEN, 2, 50))


def three_tote_order() -> Bench:
    return bench(2, ("TOTE-00201", "TOTE-00202", "TOTE-00203"), line(1, PAD, 1, 300))


def kettle_order() -> Bench:
    """web/3: a kettle in its own container, and a pad."""
    return bench(3, ("TOTE-00301",), line(3, KETTLE, 1, 1500, own=True), line(1, PAD, 1, 300))


# --- a bench without a store or devices ----------------------------------------------------


class FakeBench:
    """The pack bench on orders held in memory; box, unit and weight checks are the real
    pure ones. ``failing`` makes a method raise once."""

    def __init__(self, *orders: Bench, has_scale: bool = False) -> None:
        self.user: LoggedIn | None = PAM
        self.has_scale = has_scale
        self.orders = {tote: b for b in orders for tote in b.totes}
        self.taken: dict[str, str] = {}
        """Tote to who has its order at another bench."""
        self.calls: list[str] = []
        self.failing: dict[str, Exception] = {}
        self.scale: list[int] = []
        self.closed: list[tuple[Bench, str | None, tuple[Unit, ...], int, int, int | None]] = []
        self.released: list[tuple[str, str]] = []
        self.problems: list[tuple[str, str, int]] = []
        self.beats: list[str] = []
        self.pulses: list[bool] = []
        self.prints: list[tuple[Level, str]] = [("ok", "Label web box 1 of 1 → label: printed")]
        self.reprints: list[tuple[Level, str]] = []
        self.damages: list[tuple[str, int]] = []
        self.removed: dict[tuple[int, int], int] = {}
        """Units reported damaged, by (order, line)."""
        self.weighings: list[tuple[str, str | None, int, int]] = []
        """Weighings out of tolerance noted in the pack history: (order, box, grams,
        expected)."""

    def _call(self, name: str) -> None:
        self.calls.append(name)
        failure = self.failing.pop(name, None)
        if failure is not None:
            raise failure

    def open_tote(self, scan: str) -> Bench:
        self._call("open_tote")
        try:
            code = resolve(scan)
        except BarcodeError as exc:
            raise PackError(f"expected a tote (TOTE-…) or a pick list (LIST-…): {exc}") from None
        if code.kind != "tote":
            raise PackError(f"expected a tote (TOTE-…), scanned a {code.kind}: {scan}")
        found = self.orders.get(code.site_code)
        if found is None:
            raise PackError(f"expected a tote with picked items, scanned {code.site_code}")
        if code.site_code in self.taken:
            raise PackError(
                f"order {found.order_ref} is being packed by {self.taken[code.site_code]}: "
                f"leave tote {code.site_code} there"
            )
        return found

    def read_bench(self, bench: Bench) -> Bench:
        self._call("read_bench")
        return self._fresh(bench)

    def _fresh(self, bench: Bench) -> Bench:
        """The order as the store would have it: boxes closed, damaged units taken out."""
        first = next(b for b in self.orders.values() if b.order_id == bench.order_id)
        done = [c for c in self.closed if c[0].order_id == bench.order_id]
        lines = tuple(
            replace(
                ln,
                quantity=ln.quantity - self.removed.get((bench.order_id, ln.line_id), 0),
                packed=sum(u.count for c in done for u in c[2] if u.line_id == ln.line_id),
            )
            for ln in first.lines
        )
        return replace(bench, lines=lines, suggestion=suggest(lines))

    def damaged(self, bench: Bench, line_id: int) -> pack.Damaged:
        self._call("damaged")
        self.damages.append((bench.order_ref, line_id))
        key = (bench.order_id, line_id)
        self.removed[key] = self.removed.get(key, 0) + 1
        left = self._fresh(bench).units_left
        boxes = any(c[0].order_id == bench.order_id for c in self.closed)
        return pack.Damaged(
            f"order {bench.order_ref} gets the unit from other stock",
            () if left == 0 and boxes else None,
            left == 0 and not boxes,
        )

    def check_box(self, scan: str) -> cartonize.BoxType:
        self._call("check_box")
        return pack.check_box(CATALOGUE, scan)

    def check_unit(self, bench: Bench, scan: str, in_box: list[Unit]) -> Unit:
        self._call("check_unit")
        return pack.check_unit(bench, scan, TODAY, in_box)

    def check_fit(self, bench: Bench, box: cartonize.BoxType, units: list[Unit]) -> str:
        self._call("check_fit")
        return pack.check_fit(bench, box, units, CATALOGUE)

    def expected_weight(
        self, bench: Bench, box: cartonize.BoxType | None, in_box: list[Unit]
    ) -> int:
        self._call("expected_weight")
        units = sum(bench.line(u.line_id).unit.weight * u.count for u in in_box)
        return units + (box.tare if box is not None else 0)

    def read_scale(self) -> int:
        self._call("read_scale")
        if not self.has_scale:
            raise PackError("this station has no scale: key the weight instead")
        return self.scale.pop(0)

    def check_weight(self, measured_g: int, expected_g: int) -> WeightCheck:
        self._call("check_weight")
        return pack.check_weight(PackSettings(), measured_g, expected_g)

    def override(self, badge: str, pin: str) -> tuple[int, str]:
        self._call("override")
        if (badge, pin) != ("BADGE-U5001", "5555"):
            raise PackError(f"{badge}: wrong badge or PIN")
        return 5, "Sue Supervisor"

    def note_weighing(
        self, bench: Bench, box: cartonize.BoxType | None, grams: int, expected_g: int
    ) -> None:
        self._call("note_weighing")
        self.weighings.append((bench.order_ref, box.code if box else None, grams, expected_g))

    def close_box(
        self,
        bench: Bench,
        box: cartonize.BoxType | None,
        in_box: list[Unit],
        weight_g: int,
        expected_g: int,
        override_by: int | None,
    ) -> Closed:
        self._call("close_box")
        self.closed.append(
            (bench, box.code if box else None, tuple(in_box), weight_g, expected_g, override_by)
        )
        number = len([c for c in self.closed if c[0].order_id == bench.order_id])
        packed = sum(u.count for c in self.closed if c[0].order_id == bench.order_id for u in c[2])
        last = packed == sum(ln.quantity for ln in bench.lines)
        return Closed(
            package_number=number,
            sscc=f"00350123450000000{number}",
            tracking_number=f"EX{number:011d}",
            carrier="EXPRESS",
            weight_g=weight_g,
            last=last,
            queued=(),
            totes_freed=bench.totes if last else (),
        )

    def deliver_prints(self) -> list[tuple[Level, str]]:
        self._call("deliver_prints")
        return list(self.prints)

    def retry_prints(self) -> list[tuple[Level, str]]:
        self._call("retry_prints")
        return list(self.reprints)

    def release(self, bench: Bench, why: str) -> None:
        self._call("release")
        self.released.append((bench.order_ref, why))

    def problem(self, bench: Bench, kind: str, line_id: int) -> str:
        self._call("problem")
        self.problems.append((bench.order_ref, kind, line_id))
        return "PROBLEM"

    def heartbeat(self, bench: Bench) -> bool:
        self._call("heartbeat")
        self.beats.append(bench.order_ref)
        return self.pulses.pop(0) if self.pulses else True


def scanned(text: str) -> ScanEvent:
    try:
        return ScanEvent(text, "test", False, 0.0, resolve(text), None)
    except BarcodeError as exc:
        return ScanEvent(text, "test", False, 0.0, None, str(exc))


def new_flow(*orders: Bench, has_scale: bool = False) -> tuple[PackFlow, FakeBench]:
    terminal = FakeBench(*(orders or (plain_order(),)), has_scale=has_scale)
    fake: PackTerminal = terminal  # the fake is what the flow asks for
    return PackFlow(fake), terminal


def flow_at(
    step: Step, order: Bench | None = None, *, has_scale: bool = False
) -> tuple[PackFlow, FakeBench]:
    """A fresh flow driven by real scans and keys to ``step``: at TOTES with the first tote
    of a three-tote order; otherwise with the box the suggestion names (``ITEMS``: the pad
    in it; ``WEIGH``: every unit in it, closed)."""
    if step is Step.TOTES:
        flow, terminal = new_flow(three_tote_order(), has_scale=has_scale)
        flow.scan(scanned("TOTE-00201"))
        assert flow.step is Step.TOTES
        return flow, terminal
    order = order or plain_order()
    flow, terminal = new_flow(order, has_scale=has_scale)
    if step is Step.NO_TOTE:
        return flow, terminal
    flow.scan(scanned(order.totes[0]))
    if step is Step.BOX:
        return flow, terminal
    flow.scan(scanned("BOX-S"))
    flow.scan(scanned(PAD))
    if step is Step.ITEMS:
        return flow, terminal
    for ln in order.lines:
        for _ in range(ln.left - (1 if ln.gtin == PAD else 0)):
            flow.scan(scanned(ln.gtin or ""))
    flow.close()
    assert flow.step is step is Step.WEIGH, flow.state().message
    return flow, terminal


def refused(state: PackState, message: str, step: Step) -> None:
    assert (state.message, state.level, state.alert, state.step) == (message, "error", True, step)


# --- the table -----------------------------------------------------------------------------


def test_the_table_declares_every_step_once_and_reaches_each() -> None:
    assert [s.step for s in PACK_STEPS] == list(Step)
    assert PACK_STEPS.start is Step.NO_TOTE
    assert PACK_STEPS.reachable() == frozenset(Step)
    for spec in PACK_STEPS:
        assert spec.step not in spec.next_steps, "staying is not a move"


def test_the_table_as_data() -> None:
    table = {s.step: (s.expects, set(s.next_steps), s.keys) for s in PACK_STEPS}
    assert table == {
        Step.NO_TOTE: (("tote", "pick_list"), {Step.TOTES, Step.BOX}, ("pack.print",)),
        Step.TOTES: (("tote",), {Step.BOX, Step.NO_TOTE}, ("pack.aside",)),
        Step.BOX: (
            ("box", "gtin", "gs1"),
            {Step.ITEMS, Step.WEIGH, Step.NO_TOTE},
            ("pack.problem", "pack.aside"),
        ),
        Step.ITEMS: (
            ("gtin", "gs1", "box"),
            {Step.WEIGH, Step.NO_TOTE},
            ("pack.close", "pack.problem", "pack.aside"),
        ),
        Step.WEIGH: (
            (),
            {Step.BOX, Step.ITEMS, Step.NO_TOTE},
            ("pack.weigh", "pack.keyweight", "pack.override", "pack.back", "pack.problem"),
        ),
    }
    assert {s.step for s in PACK_STEPS if s.step is not Step.NO_TOTE} == HOLDING


@pytest.mark.parametrize("start", list(Step))
@pytest.mark.parametrize("end", list(Step))
def test_every_move_not_in_the_table_is_refused(start: Step, end: Step) -> None:
    flow, _ = new_flow()
    flow._step = start  # the guard itself is under test, from every step
    if start == end or end in PACK_STEPS[start].next_steps:
        flow.move_to(end)
        assert flow.step is end
    else:
        with pytest.raises(IllegalMove, match=f"{start.name} may not move to {end.name}"):
            flow.move_to(end)
        assert flow.step is start


# --- every declared move, made by a real scan or key ---------------------------------------


def scan(text: str) -> Callable[[PackFlow, FakeBench], object]:
    return lambda f, _t: f.scan(scanned(text))


def weigh_in(flow: PackFlow, _terminal: FakeBench) -> None:
    flow.keyed_weight(flow.expected_g)


def the_pad_alone_on_the_scale() -> tuple[PackFlow, FakeBench]:
    """A first box holding the pad only, closed: the pens go in a second box."""
    flow, terminal = flow_at(Step.ITEMS)
    flow.close()
    return flow, terminal


MOVES: dict[
    tuple[Step, Step],
    tuple[Callable[[], tuple[PackFlow, FakeBench]], Callable[[PackFlow, FakeBench], object]],
] = {
    (Step.NO_TOTE, Step.TOTES): (
        lambda: new_flow(three_tote_order()),
        scan("TOTE-00202"),
    ),
    (Step.NO_TOTE, Step.BOX): (lambda: flow_at(Step.NO_TOTE), scan("TOTE-00101")),
    (Step.TOTES, Step.BOX): (
        lambda: flow_at(Step.TOTES),
        lambda f, _t: [f.scan(scanned(t)) for t in ("TOTE-00202", "TOTE-00203")],
    ),
    (Step.TOTES, Step.NO_TOTE): (lambda: flow_at(Step.TOTES), lambda f, _t: f.set_aside()),
    (Step.BOX, Step.ITEMS): (lambda: flow_at(Step.BOX), scan("BOX-M")),
    (Step.BOX, Step.WEIGH): (lambda: flow_at(Step.BOX, kettle_order()), scan(KETTLE)),
    (Step.BOX, Step.NO_TOTE): (lambda: flow_at(Step.BOX), lambda f, _t: f.problem("missing", 2)),
    (Step.ITEMS, Step.WEIGH): (lambda: flow_at(Step.ITEMS), lambda f, _t: f.close()),
    (Step.ITEMS, Step.NO_TOTE): (lambda: flow_at(Step.ITEMS), lambda f, _t: f.set_aside()),
    (Step.WEIGH, Step.BOX): (the_pad_alone_on_the_scale, weigh_in),
    (Step.WEIGH, Step.ITEMS): (lambda: flow_at(Step.WEIGH), lambda f, _t: f.back()),
    (Step.WEIGH, Step.NO_TOTE): (lambda: flow_at(Step.WEIGH), weigh_in),
}


def test_every_declared_move_has_a_scan_or_key_that_makes_it() -> None:
    declared = {(s.step, n) for s in PACK_STEPS for n in s.next_steps}
    assert set(MOVES) == declared


@pytest.mark.parametrize(("start", "end"), list(MOVES))
def test_a_declared_move(start: Step, end: Step) -> None:
    make, act = MOVES[(start, end)]
    flow, terminal = make()
    assert flow.step is start
    act(flow, terminal)
    assert flow.step is end, flow.state().message


# --- a whole order -------------------------------------------------------------------------


def test_a_whole_order_step_by_step() -> None:
    flow, terminal = new_flow()
    start = flow.state()
    assert (start.step, start.headline, start.keys) == (
        Step.NO_TOTE,
        "Scan a tote to start packing",
        frozenset({"pack.print"}),
    )
    assert start.prompt == "Scan a tote (or a single-order pick list's LIST- barcode)"
    assert not start.holding

    state = flow.scan(scanned("TOTE-00101"))
    assert (state.step, state.level, state.message) == (
        Step.BOX,
        "ok",
        "Order web/1: 3 unit(s) to pack",
    )
    assert state.prompt == "Scan a box: BOX-S suggested"
    assert state.keys == {"pack.problem", "pack.aside"}
    assert state.bench is not None
    assert state.totes_here == ("TOTE-00101",)
    assert state.holding

    state = flow.scan(scanned("BOX-S"))
    assert (state.step, state.message) == (Step.ITEMS, "Box BOX-S: scan each unit into it")
    assert state.prompt == "Scan each unit into BOX-S (0 in it, 3 left)"
    assert state.keys == {"pack.problem", "pack.aside"}, "nothing to close yet"

    state = flow.scan(scanned(PAD))
    assert (state.step, state.level, state.message) == (
        Step.ITEMS,
        "ok",
        "SKU-1 into BOX-S; 2 left to pack",
    )
    assert state.keys == {"pack.close", "pack.problem", "pack.aside"}
    assert state.prompt == "Scan each unit into BOX-S (1 in it, 2 left)"
    flow.scan(scanned(PEN))
    state = flow.scan(scanned(PEN))
    assert state.message == "SKU-2 into BOX-S; every unit is in: {key:pack.close} closes the box"
    assert state.counted == 3
    assert [u.sku for u in state.in_box] == ["SKU-1", "SKU-2", "SKU-2"]

    state = flow.close()
    assert (state.step, state.level, state.expected_g) == (Step.WEIGH, "info", 520)
    assert state.message == (
        "Close BOX-S (3 unit(s)); expected 520 g: put it on the scale, no scale here: weigh "
        "it and key the weight with {key:pack.keyweight}"
    )
    assert (
        state.prompt == "Close BOX-S and put it on the scale: {key:pack.keyweight} keys its weight"
    )
    assert state.keys == {"pack.keyweight", "pack.back", "pack.problem"}

    state = flow.keyed_weight(530)
    assert (state.step, state.level, state.alert) == (Step.NO_TOTE, "ok", False)
    assert state.message == (
        "Box 1 closed: 530 g, EXPRESS EX00000000001. Order packed; tote(s) TOTE-00101 free "
        "for picking"
    )
    assert state.headline == "Order web/1 packed — scan the next tote"
    assert state.prints == (("ok", "Label web box 1 of 1 → label: printed"),)
    assert (state.bench, state.box, state.in_box, state.weight) == (None, None, (), None)
    assert state.keys == {"pack.print"}
    (closed,) = terminal.closed
    assert closed[1:] == ("BOX-S", closed[2], 530, 520, None)
    assert sum(u.count for u in closed[2]) == 3
    assert terminal.calls.count("deliver_prints") == 1


def test_a_box_other_than_the_suggested_one_is_taken_and_said() -> None:
    flow, terminal = flow_at(Step.BOX)
    state = flow.scan(scanned("box-m"))
    assert (state.step, state.level) == (Step.ITEMS, "ok")
    assert state.message == "Box BOX-M (suggested BOX-S): scan each unit into it"
    assert state.box == BOX_M
    for gtin in (PAD, PEN, PEN):
        flow.scan(scanned(gtin))
    flow.close()
    assert flow.expected_g == 300 + 100 + BOX_M.tare
    flow.keyed_weight(flow.expected_g)
    assert terminal.closed[0][1] == "BOX-M"


def test_a_pick_lists_barcode_opens_its_order() -> None:
    flow, terminal = new_flow()

    def by_list(scan: str) -> Bench:
        terminal.calls.append("open_tote")
        assert scan == "LIST-7"
        return plain_order()

    terminal.open_tote = by_list  # type: ignore[method-assign]
    state = flow.scan(scanned("LIST-7"))
    assert state.step is Step.BOX
    assert state.totes_here == ("TOTE-00101",)


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize("step", list(Step))
def test_a_badge_scanned_while_logged_in_is_refused(step: Step) -> None:
    flow, terminal = flow_at(step)
    before = flow.state()
    calls = len(terminal.calls)
    refused(
        flow.scan(scanned("BADGE-U5001")),
        "U2001 is logged in here: log out with {key:app.logout} before another badge logs in",
        step,
    )
    assert flow.state() == before
    assert len(terminal.calls) == calls, "nothing asked of the bench"


@pytest.mark.parametrize(
    ("step", "scan", "message"),
    [
        (Step.NO_TOTE, "TOTE-09999", "expected a tote with picked items, scanned TOTE-09999"),
        (Step.NO_TOTE, PAD, "expected a tote (TOTE-…), scanned a gtin: 5012345658308"),
        (Step.TOTES, "TOTE-09999", "expected tote TOTE-00202, TOTE-00203 of order web/2, "),
        (Step.TOTES, "TOTE-00201", "expected tote TOTE-00202, TOTE-00203 of order web/2, "),
        (Step.TOTES, "BOX-S", "expected tote TOTE-00202, TOTE-00203 of order web/2, scanned"),
        (Step.TOTES, "%%%", "expected a tote of order web/2: "),
        (Step.BOX, "BOX-ZZ", "expected a box's barcode (BOX-M, BOX-S…), scanned 'BOX-ZZ'"),
        (
            Step.BOX,
            PAD,
            "expected a box's barcode first (BOX-S), scanned '5012345658308' (SKU-1): take a "
            "box, scan it, then scan the items into it",
        ),
        (
            Step.BOX,
            STRANGER,
            "wrong item: GTIN 05012345999999 is not in order web/1; expected SKU-1, SKU-2. "
            "Put it aside for the supervisor",
        ),
        (
            Step.ITEMS,
            STRANGER,
            "wrong item: GTIN 05012345999999 is not in order web/1; expected SKU-2. Put it "
            "aside for the supervisor",
        ),
        (
            Step.ITEMS,
            PAD,
            "too many: order web/1 has 1 × SKU-1, and all are packed or in this box; this one "
            "is extra. Put it aside for the supervisor",
        ),
        (
            Step.ITEMS,
            "TOTE-00101",
            "tote TOTE-00101 is this order's and open already, scanned it again: carry on with "
            "web/1",
        ),
        (
            Step.WEIGH,
            PEN,
            "the box is being weighed, scanned '5012345036670': {key:pack.keyweight} weighs "
            "it, {key:pack.back} opens it again",
        ),
    ],
)
def test_a_wrong_scan_is_refused_and_the_step_stays(step: Step, scan: str, message: str) -> None:
    flow, terminal = flow_at(step)
    before = flow.state()
    state = flow.scan(scanned(scan))
    assert (state.step, state.level, state.alert) == (step, "error", True)
    assert state.message.startswith(message), state.message
    assert (state.bench, state.box, state.in_box, state.totes_here) == (
        before.bench,
        before.box,
        before.in_box,
        before.totes_here,
    )
    assert "close_box" not in terminal.calls


def test_too_many_of_a_line_counts_what_is_in_the_open_box() -> None:
    flow, _ = flow_at(Step.ITEMS)
    flow.scan(scanned(PEN))
    flow.scan(scanned(PEN))
    state = flow.scan(scanned(PEN))
    assert state.message.startswith("too many: order web/1 has 2 × SKU-2")
    assert state.counted == 3


def test_an_item_in_its_own_container_is_not_put_in_a_box() -> None:
    flow, _ = flow_at(Step.ITEMS, kettle_order())
    refused(
        flow.scan(scanned(KETTLE)),
        "SKU-3 ships in its own container, not in BOX-S: close this box first, then scan it at "
        "the box step",
        Step.ITEMS,
    )
    assert flow.state().counted == 1


def test_an_open_tote_another_bench_has_is_refused_naming_who() -> None:
    flow, terminal = new_flow()
    terminal.taken["TOTE-00101"] = "Sue Supervisor at PACK-02"
    refused(
        flow.scan(scanned("TOTE-00101")),
        "order web/1 is being packed by Sue Supervisor at PACK-02: leave tote TOTE-00101 there",
        Step.NO_TOTE,
    )
    assert flow.state().bench is None


def test_keys_out_of_their_step_are_refused() -> None:
    flow, terminal = new_flow()
    refused(flow.close(), "scan the items into the box before closing it", Step.NO_TOTE)
    refused(flow.back(), "there is no box being weighed", Step.NO_TOTE)
    refused(flow.set_aside(), "there is no order on the bench", Step.NO_TOTE)
    refused(flow.problem("missing", 1), "there is no order on the bench", Step.NO_TOTE)
    refused(flow.keyed_weight(500), "close a box before weighing it", Step.NO_TOTE)
    refused(
        flow.override("BADGE-U5001", "5555"),
        "an override is for a box weighed out of tolerance twice",
        Step.NO_TOTE,
    )
    flow, terminal = flow_at(Step.ITEMS)
    refused(flow.keyed_weight(500), "close a box before weighing it", Step.ITEMS)
    refused(flow.back(), "there is no box being weighed", Step.ITEMS)
    flow, terminal = flow_at(Step.BOX)
    refused(flow.close(), "scan the items into the box before closing it", Step.BOX)
    flow.scan(scanned("BOX-S"))
    refused(flow.close(), "scan the items into the box before closing it", Step.ITEMS)
    assert "check_weight" not in terminal.calls
    assert "close_box" not in terminal.calls


def test_weighing_in_the_wrong_step_with_a_scale() -> None:
    flow, terminal = flow_at(Step.ITEMS, has_scale=True)
    terminal.scale.append(420)
    refused(flow.weigh(), "close a box before weighing it", Step.ITEMS)
    assert "check_weight" not in terminal.calls
    flow, terminal = flow_at(Step.WEIGH)
    refused(flow.weigh(), "this station has no scale: key the weight instead", Step.WEIGH)


@pytest.mark.parametrize("grams", [0, -5])
def test_a_weight_of_nothing_is_refused(grams: int) -> None:
    flow, terminal = flow_at(Step.WEIGH)
    refused(
        flow.keyed_weight(grams),
        f"expected the box's weight in grams, keyed {grams} g: key it again",
        Step.WEIGH,
    )
    assert "check_weight" not in terminal.calls


def test_a_scale_reading_nothing_is_refused() -> None:
    flow, terminal = flow_at(Step.WEIGH, has_scale=True)
    terminal.scale.append(0)
    refused(
        flow.weigh(),
        "the scale reads 0 g: put the box on the scale (and zero it when empty)",
        Step.WEIGH,
    )
    assert "check_weight" not in terminal.calls


def test_a_barcode_keyed_as_a_weight_is_a_slip_not_a_weighing() -> None:
    flow, terminal = flow_at(Step.WEIGH)
    refused(
        flow.keyed_weight(501234),
        "expected the box's weight in grams, keyed 501,234 g (more than 150 kg): key it again",
        Step.WEIGH,
    )
    assert "check_weight" not in terminal.calls
    assert terminal.weighings == []
    # The next weighing out of tolerance is the first, not a re-weigh.
    flow.keyed_weight(5000)
    assert "pack.override" not in flow.state().keys


def test_every_weighing_out_of_tolerance_is_noted() -> None:
    flow, terminal = flow_at(Step.WEIGH)
    expected = flow.state().expected_g
    flow.keyed_weight(expected + 900)
    flow.keyed_weight(expected + 800)
    assert terminal.weighings == [
        ("web/1", "BOX-S", expected + 900, expected),
        ("web/1", "BOX-S", expected + 800, expected),
    ]
    flow.keyed_weight(expected)
    assert len(terminal.weighings) == 2


def test_another_box_replaces_an_empty_one() -> None:
    flow, terminal = flow_at(Step.BOX)
    flow.scan(scanned("BOX-S"))
    state = flow.scan(scanned("BOX-M"))
    assert (state.step, state.level, state.box) == (Step.ITEMS, "ok", BOX_M)
    assert state.message == "Box BOX-M instead of BOX-S: scan each unit into it"
    refused(
        flow.scan(scanned("BOX-ZZ")),
        "expected a box's barcode (BOX-M, BOX-S…), scanned 'BOX-ZZ'",
        Step.ITEMS,
    )
    flow.scan(scanned(PAD))
    refused(
        flow.scan(scanned("BOX-S")),
        "expected an item, scanned box 'BOX-S': BOX-M already holds 1 unit(s). Close it with "
        "{key:pack.close} and scan the next box for the rest, or set the order aside with "
        "{key:pack.aside} to start again",
        Step.ITEMS,
    )


def test_an_own_container_item_scanned_into_an_empty_box_goes_out_alone() -> None:
    flow, terminal = flow_at(Step.BOX, kettle_order())
    flow.scan(scanned("BOX-S"))
    state = flow.scan(scanned(KETTLE))
    assert (state.step, state.own_container, state.box) == (Step.WEIGH, True, None)


def test_a_close_the_store_refuses_keeps_the_box_on_the_scale() -> None:
    flow, terminal = flow_at(Step.WEIGH)
    terminal.failing["close_box"] = PackError(
        "order web/1 is no longer on your bench (a supervisor took it, or it was cancelled): "
        "nothing was recorded; scan the tote again"
    )
    state = flow.keyed_weight(520)
    assert (state.step, state.level, state.alert) == (Step.WEIGH, "error", True)
    assert state.message.startswith("order web/1 is no longer on your bench")
    assert state.counted == 3
    # Tried again, it closes.
    assert flow.keyed_weight(520).step is Step.NO_TOTE


# --- several totes -------------------------------------------------------------------------


def test_an_order_in_three_totes_waits_for_all_of_them() -> None:
    flow, terminal = new_flow(three_tote_order())
    state = flow.scan(scanned("TOTE-00202"))
    assert (state.step, state.level) == (Step.TOTES, "ok")
    assert state.message == "Order web/2 is in 3 totes: bring the others to the bench"
    assert state.prompt == "Bring tote TOTE-00201 to the bench and scan it (1 of 3 here)"
    assert state.keys == {"pack.aside"}
    state = flow.scan(scanned("tote-00203"))
    assert (state.step, state.message) == (Step.TOTES, "TOTE-00203 is here")
    assert state.prompt == "Bring tote TOTE-00201 to the bench and scan it (2 of 3 here)"
    assert state.totes_here == ("TOTE-00202", "TOTE-00203")
    refused(
        flow.scan(scanned("TOTE-00203")),
        "expected tote TOTE-00201 of order web/2, scanned 'TOTE-00203'",
        Step.TOTES,
    )
    refused(
        flow.scan(scanned(PAD)),
        "expected tote TOTE-00201 of order web/2, scanned '5012345658308'",
        Step.TOTES,
    )
    refused(flow.close(), "scan the items into the box before closing it", Step.TOTES)
    state = flow.scan(scanned("TOTE-00201"))
    assert (state.step, state.level) == (Step.BOX, "ok")
    assert state.message == "All 3 totes are here. Order web/2: 1 unit(s) to pack"
    assert state.prompt == "Scan a box: BOX-S suggested"
    assert terminal.calls.count("open_tote") == 1


# --- its own container ---------------------------------------------------------------------


def test_an_item_in_its_own_container_goes_straight_to_the_scale() -> None:
    flow, terminal = flow_at(Step.BOX, kettle_order())
    assert flow.state().prompt == "Scan a box: own container suggested"
    state = flow.scan(scanned(KETTLE))
    assert (state.step, state.level) == (Step.WEIGH, "ok")
    assert state.message == "SKU-3 ships in its own container: weigh it"
    assert (state.own_container, state.box, state.expected_g) == (True, None, 1500)
    assert state.box_name == "its own container"
    assert state.prompt == (
        "Close its own container and put it on the scale: {key:pack.keyweight} keys its weight"
    )
    # Put back: the box step again, nothing held.
    state = flow.back()
    assert (state.step, state.own_container, state.in_box) == (Step.BOX, False, ())
    assert state.message == "Scan a box, or the item that ships in its own container"
    flow.scan(scanned(KETTLE))
    state = flow.keyed_weight(1510)
    assert (state.step, state.level) == (Step.BOX, "ok")
    assert state.message == (
        "Box 1 closed: 1,510 g, EXPRESS EX00000000001. 1 unit(s) left: scan the next box. "
        "The labels print with the last box"
    )
    assert terminal.closed[0][1:2] == (None,)
    assert state.prompt == "Scan a box: BOX-S suggested"
    assert (state.own_container, state.in_box) == (False, ())


# --- weighing ------------------------------------------------------------------------------


def test_out_of_tolerance_twice_then_a_supervisor_lets_it_go() -> None:
    flow, terminal = flow_at(Step.WEIGH)
    assert "pack.override" not in flow.state().keys
    state = flow.keyed_weight(700)
    assert (state.step, state.level, state.alert) == (Step.WEIGH, "error", True)
    assert state.message == (
        "Out of tolerance: the scale reads 700 g, expected 520 g ± 50 g (+180 g). Check the "
        "box holds what the screen lists, then weigh it again"
    )
    assert state.weight == WeightCheck(700, 520, 50)
    assert state.keys == {"pack.keyweight", "pack.back", "pack.problem"}, "no override yet"
    refused(
        flow.override("BADGE-U5001", "5555"),
        "an override is for a box weighed out of tolerance twice",
        Step.WEIGH,
    )
    assert "override" not in terminal.calls

    state = flow.keyed_weight(450)
    assert (state.step, state.level, state.alert) == (Step.WEIGH, "error", True)
    assert state.message == (
        "Still out of tolerance: the scale reads 450 g, expected 520 g ± 50 g (-70 g). Check "
        "the contents; a supervisor may let it go with {key:pack.override}"
    )
    assert state.keys == {"pack.keyweight", "pack.override", "pack.back", "pack.problem"}
    refused(flow.override("BADGE-U2001", "2222"), "BADGE-U2001: wrong badge or PIN", Step.WEIGH)
    assert flow.state().keys == state.keys, "still for a supervisor to let go"

    state = flow.override("BADGE-U5001", "5555")
    assert (state.step, state.level) == (Step.NO_TOTE, "ok")
    assert state.message == (
        "Box 1 closed: 450 g, let go by Sue Supervisor, EXPRESS EX00000000001. Order packed; "
        "tote(s) TOTE-00101 free for picking"
    )
    (closed,) = terminal.closed
    assert (closed[3], closed[4], closed[5]) == (450, 520, 5)


def test_a_box_reopened_after_a_bad_weighing_starts_its_weighing_again() -> None:
    flow, _ = flow_at(Step.WEIGH)
    flow.keyed_weight(700)
    flow.keyed_weight(700)
    assert "pack.override" in flow.state().keys
    state = flow.back()
    assert (state.step, state.weight) == (Step.ITEMS, None)
    assert state.message == "BOX-S is open again: scan more units or close it"
    flow.close()
    state = flow.keyed_weight(700)
    assert state.message.startswith("Out of tolerance:")
    assert "pack.override" not in state.keys


def test_a_weighing_in_tolerance_after_one_out_closes_the_box() -> None:
    flow, terminal = flow_at(Step.WEIGH)
    flow.keyed_weight(700)
    state = flow.keyed_weight(560)
    assert state.step is Step.NO_TOTE
    assert [c[3] for c in terminal.closed] == [560]


def test_a_station_with_a_scale_reads_it() -> None:
    flow, terminal = flow_at(Step.WEIGH, has_scale=True)
    state = flow.state()
    assert state.keys == {"pack.weigh", "pack.back", "pack.problem"}
    assert state.prompt == "Close BOX-S and put it on the scale: {key:pack.weigh} weighs it"
    refused(flow.close(), "scan the items into the box before closing it", Step.WEIGH)
    terminal.scale.extend([700, 710, 525])
    assert flow.weigh().message.startswith("Out of tolerance: the scale reads 700 g")
    state = flow.weigh()
    assert state.keys == {"pack.weigh", "pack.override", "pack.back", "pack.problem"}
    state = flow.weigh()
    assert state.step is Step.NO_TOTE
    assert terminal.calls.count("read_scale") == 3
    assert terminal.closed[0][3] == 525


def test_a_scale_that_gives_no_weight_is_said_plainly() -> None:
    flow, terminal = flow_at(Step.WEIGH, has_scale=True)
    terminal.failing["read_scale"] = PackError(
        "the scale did not give a weight: no stable reading within 2 s"
    )
    refused(
        flow.weigh(),
        "the scale did not give a weight: no stable reading within 2 s",
        Step.WEIGH,
    )
    terminal.scale.append(0)
    refused(
        flow.weigh(),
        "the scale reads 0 g: put the box on the scale (and zero it when empty)",
        Step.WEIGH,
    )
    assert "close_box" not in terminal.calls


# --- the last box and the one before -------------------------------------------------------


def test_a_box_before_the_last_goes_back_to_the_box_step() -> None:
    flow, terminal = flow_at(Step.ITEMS)
    state = flow.close()
    assert state.expected_g == 300 + BOX_S.tare
    state = flow.keyed_weight(430)
    assert (state.step, state.level) == (Step.BOX, "ok")
    assert state.message == (
        "Box 1 closed: 430 g, EXPRESS EX00000000001. 2 unit(s) left: scan the next box. The "
        "labels print with the last box"
    )
    assert state.bench is not None
    assert state.bench.units_left == 2
    assert (state.box, state.in_box, state.weight, state.expected_g) == (None, (), None, 0)
    assert "deliver_prints" not in terminal.calls
    flow.scan(scanned("BOX-S"))
    refused(
        flow.scan(scanned(PAD)),
        "too many: order web/1 has 1 × SKU-1, and all are packed or in this box; this one is "
        "extra. Put it aside for the supervisor",
        Step.ITEMS,
    )
    flow.scan(scanned(PEN))
    state = flow.scan(scanned(PEN))
    assert state.message.endswith("every unit is in: {key:pack.close} closes the box")
    flow.close()
    state = flow.keyed_weight(220)
    assert state.step is Step.NO_TOTE
    assert state.message.startswith("Box 2 closed: 220 g, EXPRESS EX00000000002. Order packed")
    assert terminal.calls.count("deliver_prints") == 1


def test_a_box_saved_but_not_read_back_is_never_closed_twice() -> None:
    flow, terminal = flow_at(Step.ITEMS)
    flow.close()
    terminal.failing["read_bench"] = ConnectionError("the store did not answer")
    state = flow.keyed_weight(430)
    assert (state.step, state.level) == (Step.NO_TOTE, "warn")
    assert state.message == (
        "Box 1 closed: 430 g, EXPRESS EX00000000001. The order could not be read again (the "
        "store did not answer): scan its tote to go on"
    )
    assert state.headline == "Order web/1: box 1 closed"
    refused(flow.keyed_weight(430), "close a box before weighing it", Step.NO_TOTE)
    assert len(terminal.closed) == 1


@pytest.mark.parametrize(
    ("prints", "level"),
    [
        ([("ok", "Label → label: printed"), ("ok", "Invoice → documents: printed")], "ok"),
        (
            [
                ("ok", "Label → label: printed"),
                ("error", "Invoice → documents: not printed, connection refused"),
            ],
            "warn",
        ),
    ],
)
def test_the_last_box_shows_what_printed(prints: list[tuple[Level, str]], level: Level) -> None:
    flow, terminal = flow_at(Step.WEIGH)
    terminal.prints = prints
    state = flow.keyed_weight(520)
    assert (state.step, state.level, state.alert) == (Step.NO_TOTE, level, level != "ok")
    assert state.prints == tuple(prints)
    assert state.message.endswith("Order packed; tote(s) TOTE-00101 free for picking")
    # They stay on show until the next tote is scanned.
    assert flow.state().prints == tuple(prints)
    terminal.orders["TOTE-00201"] = three_tote_order()
    refused(
        flow.scan(scanned("TOTE-09999")),
        "expected a tote with picked items, scanned TOTE-09999",
        Step.NO_TOTE,
    )
    assert flow.state().prints == tuple(prints)
    assert flow.scan(scanned("TOTE-00201")).prints == ()


def test_printers_that_fail_outright_leave_the_order_packed() -> None:
    flow, terminal = flow_at(Step.WEIGH)
    terminal.failing["deliver_prints"] = OSError("the print queue is locked")
    state = flow.keyed_weight(520)
    assert (state.step, state.level, state.alert) == (Step.NO_TOTE, "warn", True)
    assert state.headline == "Order web/1 packed — scan the next tote"
    assert state.prints == (
        (
            "error",
            "the documents are queued but were not sent (the print queue is locked): "
            "{key:pack.print} sends them",
        ),
    )
    assert len(terminal.closed) == 1


def test_print_again() -> None:
    flow, terminal = new_flow()
    state = flow.print_again()
    assert (state.step, state.level, state.message) == (
        Step.NO_TOTE,
        "info",
        "No print job of this station is waiting or failed",
    )
    terminal.reprints = [("ok", "Label → label: printed")]
    state = flow.print_again()
    assert (state.level, state.message, state.prints) == (
        "ok",
        "Print jobs sent again",
        (("ok", "Label → label: printed"),),
    )
    terminal.reprints = [("error", "Label → label: not printed, connection refused")]
    assert flow.print_again().level == "warn"


# --- setting aside, problems, a bench lost, logging out ------------------------------------


def test_set_aside_lets_anyone_go_on() -> None:
    flow, terminal = flow_at(Step.ITEMS)
    flow.scan(scanned(PEN))
    state = flow.set_aside()
    assert (state.step, state.level, state.headline) == (
        Step.NO_TOTE,
        "info",
        "Order web/1 set aside",
    )
    assert state.message == (
        "Anyone can scan its tote to go on. Put the 2 unit(s) of the open box back in the tote."
    )
    assert terminal.released == [("web/1", "set aside")]
    assert (state.bench, state.in_box) == (None, ())
    flow, terminal = flow_at(Step.TOTES)
    assert flow.set_aside().message == "Anyone can scan its tote to go on."


def test_a_unit_missing_sends_the_order_to_the_problem_shelf() -> None:
    flow, terminal = flow_at(Step.ITEMS)
    state = flow.problem("missing", 2)
    assert (state.step, state.level, state.headline) == (
        Step.NO_TOTE,
        "warn",
        "Order web/1 is on the problem shelf",
    )
    assert state.message == (
        "SKU-2 missing: take every tote of web/1 (TOTE-00101) to PROBLEM; the supervisor is "
        "told. Put the 1 unit(s) of the open box back in the tote."
    )
    assert terminal.problems == [("web/1", "missing", 2)]
    # Refused by the store (the bench lost the order meanwhile): nothing changes here.
    flow, terminal = flow_at(Step.BOX)
    terminal.failing["problem"] = PackError("order web/1 is no longer on your bench")
    refused(flow.problem("missing", 1), "order web/1 is no longer on your bench", Step.BOX)


def test_a_heartbeat_with_no_news_shows_nothing() -> None:
    flow, terminal = new_flow()
    assert flow.heartbeat() is None
    assert "heartbeat" not in terminal.calls
    flow, terminal = flow_at(Step.ITEMS)
    assert flow.heartbeat() is None
    assert terminal.beats == ["web/1"]
    assert flow.step is Step.ITEMS


def test_a_bench_that_lost_its_order_says_so() -> None:
    flow, terminal = flow_at(Step.ITEMS)
    terminal.pulses.append(False)
    state = flow.heartbeat()
    assert state is not None
    assert (state.step, state.level, state.alert, state.headline) == (
        Step.NO_TOTE,
        "warn",
        True,
        "Order web/1 was taken off this bench",
    )
    assert state.message == (
        "A supervisor took it back or it was cancelled: nothing more is recorded on it here. "
        "Put the 1 unit(s) of the open box back in the tote."
    )
    assert (state.bench, state.in_box) == (None, ())
    assert "release" not in terminal.calls


def test_leaving_lets_the_order_go() -> None:
    flow, terminal = flow_at(Step.WEIGH)
    flow.leave()
    assert terminal.released == [("web/1", "logged out")]
    assert (flow.step, flow.headline, flow.bench) == (Step.NO_TOTE, "Logged out", None)
    flow, terminal = flow_at(Step.ITEMS)
    terminal.failing["release"] = PackError("order web/1 is no longer on your bench")
    flow.leave()
    assert flow.step is Step.NO_TOTE
    flow, terminal = new_flow()
    flow.leave()
    assert "release" not in terminal.calls


# --- keys per step -------------------------------------------------------------------------


@pytest.mark.parametrize("has_scale", [False, True])
def test_the_keys_each_step_enables(has_scale: bool) -> None:
    weigh = "pack.weigh" if has_scale else "pack.keyweight"
    want = {
        Step.NO_TOTE: {"pack.print"},
        Step.TOTES: {"pack.aside"},
        Step.BOX: {"pack.problem", "pack.aside"},
        Step.ITEMS: {"pack.close", "pack.problem", "pack.aside"},
        Step.WEIGH: {weigh, "pack.back", "pack.problem"},
    }
    for step, keys in want.items():
        flow, _ = flow_at(step, has_scale=has_scale)
        assert flow.state().keys == keys, step
        assert flow.keys() <= set(PACK_STEPS[step].keys)


def test_a_damaged_unit_goes_back_to_dom_and_the_rest_is_packed_on() -> None:
    flow, terminal = flow_at(Step.ITEMS)  # the pad of web/1 in BOX-S; two pens to pack
    state = flow.problem("damaged", 2)
    assert terminal.damages == [("web/1", 2)]
    assert terminal.problems == []
    assert (state.step, state.level) == (Step.ITEMS, "warn")
    assert state.message == (
        "SKU-2 damaged, put it in the damaged bin: order web/1 gets the unit from other "
        "stock. Pack on: 1 unit(s) left to scan"
    )
    flow.scan(scanned(PEN))
    refused(
        flow.scan(scanned(PEN)),
        "too many: order web/1 has 1 × SKU-2, and all are packed or in this box; this one is "
        "extra. Put it aside for the supervisor",
        Step.ITEMS,
    )
    flow.close()
    last = flow.keyed_weight(flow.state().expected_g)
    assert last.step is Step.NO_TOTE
    assert last.headline == "Order web/1 packed — scan the next tote"


def test_a_damaged_unit_already_in_the_box_comes_out_of_it() -> None:
    flow, terminal = flow_at(Step.WEIGH)  # every unit of web/1 in BOX-S, on the scale
    state = flow.problem("damaged", 2)
    assert (state.step, [u.sku for u in state.in_box]) == (Step.ITEMS, ["SKU-1", "SKU-2"])
    assert state.weight is None


def test_the_last_unit_damaged_finishes_the_order_or_ends_it() -> None:
    single = bench(9, ("TOTE-00901",), line(1, PAD, 1, 300))
    flow, terminal = flow_at(Step.BOX, single)
    state = flow.problem("damaged", 1)
    assert (state.step, state.headline) == (Step.NO_TOTE, "Order web/9: nothing left to pack here")
    assert "Nothing of the order is left to ship from here: tote(s) TOTE-00901 free" in (
        state.message
    )
    flow, terminal = flow_at(Step.BOX)
    flow.scan(scanned("BOX-S"))
    flow.scan(scanned(PAD))
    flow.scan(scanned(PEN))
    flow.close()
    flow.keyed_weight(flow.state().expected_g)  # box 1: the pad and a pen
    assert flow.step is Step.BOX
    state = flow.problem("damaged", 2)
    assert (state.step, state.headline) == (Step.NO_TOTE, "Order web/1 packed — scan the next tote")
    assert "deliver_prints" in terminal.calls


def test_a_box_refuses_a_unit_over_its_weight_limit_and_warns_when_they_may_not_fit() -> None:
    heavy = bench(4, ("TOTE-00401",), line(1, PAD, 3, 4000))
    flow, terminal = flow_at(Step.BOX, heavy)
    flow.scan(scanned("BOX-S"))
    flow.scan(scanned(PAD))
    flow.scan(scanned(PAD))
    refused(
        flow.scan(scanned(PAD)),
        "BOX-S takes at most 10,000 g packed; with this SKU-1 it would weigh 12,120 g. Close "
        "it with {key:pack.close} and put the rest in the next box",
        Step.ITEMS,
    )
    assert flow.state().counted == 2
    many = bench(5, ("TOTE-00501",), line(1, PAD, 12, 100))
    flow, terminal = flow_at(Step.BOX, many)
    flow.scan(scanned("BOX-S"))
    states = [flow.scan(scanned(PAD)) for _ in range(12)]
    assert states[0].level == "ok"
    warned = [s for s in states if s.level == "warn"]
    # Said once, when the units stop fitting; every unit is still taken.
    assert len(warned) == 1
    assert "Check it fits: BOX-S is 200×150×100 mm inside and these" in warned[0].message
    assert "units may not go in it" in warned[0].message
    assert states[-1].counted == 12


def test_another_box_after_units_are_in_says_what_to_do() -> None:
    flow, terminal = flow_at(Step.ITEMS)
    refused(
        flow.scan(scanned("BOX-M")),
        "expected an item, scanned box 'BOX-M': BOX-S already holds 1 unit(s). Close it with "
        "{key:pack.close} and scan the next box for the rest, or set the order aside with "
        "{key:pack.aside} to start again",
        Step.ITEMS,
    )


def test_the_packers_own_badge_is_not_another_login() -> None:
    flow, terminal = flow_at(Step.ITEMS)
    refused(
        flow.scan(scanned("BADGE-U2001")),
        "you are logged in here already (U2001), scanned your badge: carry on, or log out with "
        "{key:app.logout}",
        Step.ITEMS,
    )


def test_a_serial_scanned_twice_is_the_same_unit_not_an_extra_one() -> None:
    tracked = replace(line(1, PAD, 2, 300), track_serial=True, serials=("S1", "S2"))
    flow, terminal = flow_at(Step.BOX, bench(6, ("TOTE-00601",), tracked))
    flow.scan(scanned("BOX-S"))
    first = f"01{PAD.zfill(14)}21S1"
    assert flow.scan(scanned(first)).level == "ok"
    refused(
        flow.scan(scanned(first)),
        "serial S1 is already in this box: scan the next unit",
        Step.ITEMS,
    )


def test_a_lot_tracked_line_is_packed_lot_by_lot_as_picked() -> None:
    tracked = replace(
        line(1, PAD, 2, 300),
        track_lot=True,
        lots=("L1", "L2"),
        lot_left=(("L1", 1), ("L2", 1)),
    )
    flow, terminal = flow_at(Step.BOX, bench(7, ("TOTE-00701",), tracked))
    flow.scan(scanned("BOX-S"))
    first = f"01{PAD.zfill(14)}10L1"
    assert flow.scan(scanned(first)).level == "ok"
    refused(
        flow.scan(scanned(first)),
        "wrong lot: every unit of lot L1 picked for SKU-1 is packed or in this box; expected "
        "1 of lot L2. Put it aside for the supervisor",
        Step.ITEMS,
    )
    assert flow.scan(scanned(f"01{PAD.zfill(14)}10L2")).level == "ok"
