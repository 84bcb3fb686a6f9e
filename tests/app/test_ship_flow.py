"""The ship flow as a state machine against a fake dock: no Textual, no store.

Every step of the table reached by real scans and keys, every declared move made, a
carrier chosen by its number typed at the carrier step, the refusals the flow makes itself
(a package before its door, a door or a shelf while loading, a badge, another scan while
choosing a carrier or closing out) and those the dock makes (passed on with the step
unchanged), taking a package off, closing out (and a close-out refused), cancelling an
empty load (and a cancel refused), leaving a load open, reading again, and which keys each
step enables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pytest

from app.barcodes import BarcodeError, resolve
from app.flows import Level
from app.loading.flow import SHIP_STEPS, ShipFlow, ShipState, ShipTerminal, Step
from app.loading.station import ClosedOut, Dock, Loaded, LoadView, OpenLoad, ShipError
from app.scanning import ScanEvent
from app.users import LoggedIn
from data import ship_station as rows
from data.models import LoadStatus, Role, ShipmentStatus

SAM = LoggedIn(
    user_id=4,
    badge="U3001",
    name="Sam Shipper",
    roles=frozenset({Role.SHIPPER}),
    station_id=5,
    station_code="SHIP-01",
    station_role="ship",
    node_id=1,
    node_code="WH1",
    node_timezone="UTC",
)
CARRIERS = [("GROUND", "Ground Parcel"), ("EXPRESS", "Express Courier")]
DOORS = ("DOCK-1", "DOCK-2")
CUTOFF = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
OPENED = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)

# Three EXPRESS packages and one GROUND package, each the only box of its order.
SSCC_1 = "050123450000000015"
SSCC_2 = "050123450000000022"
SSCC_3 = "050123450000000039"
SSCC_G = "050123450000000046"


def package(n: int, sscc: str, carrier: str, order_ref: str) -> rows.WaitingPackage:
    return rows.WaitingPackage(
        id=n,
        sscc=sscc,
        tracking_number=f"{carrier[:2]}{n:011d}",
        carrier=carrier,
        order_ref=order_ref,
        shipment_id=n,
        number=1,
        cutoff_at=CUTOFF,
        load_id=None,
        service="GROUND" if carrier == "GROUND" else "2DAY",
    )


@dataclass
class FakeLoad:
    id: int
    carrier: str
    door: str
    opened_by: str
    status: LoadStatus = LoadStatus.OPEN
    manifest_id: int | None = None

    def row(self) -> OpenLoad:
        return rows.LoadRow(
            id=self.id,
            node_id=SAM.node_id,
            carrier=self.carrier,
            door=self.door,
            status=self.status,
            opened_at=OPENED,
            opened_by=self.opened_by,
            closed_at=None,
            manifest_id=self.manifest_id,
        )


@dataclass
class FakeDock:
    """The dock of one node held in memory: its doors, its packed packages, its loads.
    ``failing`` makes a method raise once; ``calls`` records what the flow asked for."""

    user: LoggedIn | None = SAM
    packages: dict[str, rows.WaitingPackage] = field(
        default_factory=lambda: {
            SSCC_1: package(1, SSCC_1, "EXPRESS", "web/WEB-1"),
            SSCC_2: package(2, SSCC_2, "EXPRESS", "web/WEB-2"),
            SSCC_3: package(3, SSCC_3, "EXPRESS", "store/STO-3"),
            SSCC_G: package(4, SSCC_G, "GROUND", "ebay/EBA-4"),
        }
    )
    loads: dict[int, FakeLoad] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    failing: dict[str, Exception] = field(default_factory=dict)
    closing: ClosedOut | None = None
    """What the next close-out answers (otherwise every order on the load shipped)."""
    prints: list[tuple[Level, str]] = field(
        default_factory=lambda: [("ok", "Manifest M-7 → documents: printed")]
    )
    reprints: list[tuple[Level, str]] = field(default_factory=list)
    loaded_at: dict[str, int] = field(default_factory=dict)
    """Order of loading (the load lists the last loaded first)."""

    def _call(self, name: str) -> None:
        self.calls.append(name)
        failure = self.failing.pop(name, None)
        if failure is not None:
            raise failure

    def open_at(self, door: str) -> FakeLoad | None:
        return next(
            (ld for ld in self.loads.values() if ld.door == door and ld.status is LoadStatus.OPEN),
            None,
        )

    def add_load(self, carrier: str, door: str, opened_by: str = "Sam Shipper") -> FakeLoad:
        load = FakeLoad(len(self.loads) + 1, carrier, door, opened_by)
        self.loads[load.id] = load
        return load

    def put_on(self, sscc: str, load_id: int | None) -> None:
        self.packages[sscc] = replace(self.packages[sscc], load_id=load_id)
        self.loaded_at[sscc] = len(self.loaded_at) + 1

    # --- ShipTerminal ------------------------------------------------------------------

    def dock(self) -> Dock:
        self._call("dock")
        return Dock(
            doors=tuple(rows.Door(d, f"LOC-{d}") for d in DOORS),
            loads=tuple(ld.row() for ld in self.loads.values() if ld.status is LoadStatus.OPEN),
            counts=self._counts(),
            past_cutoff=(),
            past_cutoff_count=0,
        )

    def _counts(self) -> tuple[rows.CarrierCount, ...]:
        carriers = sorted({p.carrier for p in self.packages.values()})
        return tuple(
            rows.CarrierCount(
                c,
                sum(1 for p in self.packages.values() if p.carrier == c),
                sum(1 for p in self.packages.values() if p.carrier == c and p.load_id),
            )
            for c in carriers
        )

    def door_of(self, scan: str) -> tuple[str, OpenLoad | None]:
        self._call("door_of")
        try:
            code = resolve(scan.strip())
            name = code.value if code.kind == "location" else None
        except BarcodeError:
            name = None
        if name not in DOORS:
            raise ShipError(
                f"expected a dock door's barcode, scanned '{scan}': it is no dock door at WH1"
            )
        assert name is not None
        there = self.open_at(name)
        return name, there.row() if there else None

    def carriers(self) -> list[tuple[str, str]]:
        self._call("carriers")
        return list(CARRIERS)

    def open_load(self, door: str, carrier: str) -> LoadView:
        self._call("open_load")
        if carrier not in dict(CARRIERS):
            raise ShipError(f"no carrier {carrier}")
        return self._view(self.add_load(carrier, door))

    def view(self, load_id: int) -> LoadView:
        self._call("view")
        return self._view(self.loads[load_id])

    def _view(self, load: FakeLoad) -> LoadView:
        on = sorted(
            (p for p in self.packages.values() if p.load_id == load.id),
            key=lambda p: -self.loaded_at[p.sscc],
        )
        floor = [p for p in self.packages.values() if p.carrier == load.carrier and not p.load_id]
        return LoadView(
            id=load.id,
            carrier=load.carrier,
            carrier_name=dict(CARRIERS)[load.carrier],
            door=load.door,
            status=load.status,
            opened_by=load.opened_by,
            packages=tuple(on),
            to_load=len(floor),
            floor=tuple(floor),
            counts=self._counts(),
            past_cutoff=0,
        )

    def _find(self, scan: str) -> rows.WaitingPackage:
        try:
            code = resolve(scan.strip())
        except BarcodeError:
            code = None
        found = self.packages.get(code.value) if code is not None else None
        if found is None:
            raise ShipError(f"expected a package label, scanned '{scan}': no package has it")
        return found

    def _found(self, p: rows.WaitingPackage) -> rows.FoundPackage:
        return rows.FoundPackage(
            id=p.id,
            shipment_id=p.shipment_id,
            number=p.number,
            sscc=p.sscc,
            carrier=p.carrier,
            tracking_number=p.tracking_number,
            load_id=p.load_id,
            loaded_at=None,
            loaded_by=None,
            manifest_id=None,
            service=None,
            shipment_status=ShipmentStatus.PACKED,
            node_id=SAM.node_id,
            node_code=SAM.node_code,
            order_id=p.id,
            order_ref=p.order_ref,
            packing_station=None,
        )

    def load(self, load_id: int, scan: str) -> Loaded:
        self._call("load")
        load = self.loads[load_id]
        p = self._find(scan)
        label = f"package {p.sscc} ({p.order_ref}, box {p.number})"
        if p.load_id == load_id:
            raise ShipError(f"{label} is on this load already (loaded by Sam Shipper at 09:10)")
        if p.carrier != load.carrier:
            raise ShipError(f"{label} goes with {p.carrier}, this load is {load.carrier}")
        self.put_on(p.sscc, load_id)
        return Loaded(self._found(self.packages[p.sscc]), 1, self._view(load))

    def unload(self, load_id: int, scan: str) -> Loaded:
        self._call("unload")
        p = self._find(scan)
        if p.load_id != load_id:
            raise ShipError(f"package {p.sscc} ({p.order_ref}) is not on this load")
        self.put_on(p.sscc, None)
        return Loaded(self._found(self.packages[p.sscc]), 1, self._view(self.loads[load_id]))

    def close_out(self, load_id: int) -> ClosedOut:
        self._call("close_out")
        load = self.loads[load_id]
        on = [p for p in self.packages.values() if p.load_id == load_id]
        load.status, load.manifest_id = LoadStatus.CLOSED, 7
        for p in on:
            del self.packages[p.sscc]
        return self.closing or ClosedOut(7, len(on), tuple(p.order_ref for p in on), (), (), ())

    def cancel_load(self, load_id: int) -> None:
        self._call("cancel_load")
        load = self.loads[load_id]
        assert not any(p.load_id == load_id for p in self.packages.values()), "not empty"
        load.status = LoadStatus.CANCELLED

    def deliver_prints(self) -> list[tuple[Level, str]]:
        self._call("deliver_prints")
        return list(self.prints)

    def retry_prints(self) -> list[tuple[Level, str]]:
        self._call("retry_prints")
        return list(self.reprints)


def scanned(text: str) -> ScanEvent:
    try:
        return ScanEvent(text, "test", False, 0.0, resolve(text), None)
    except BarcodeError as exc:
        return ScanEvent(text, "test", False, 0.0, None, str(exc))


def sscc_scan(sscc: str) -> str:
    """A package label's SSCC as a GS1-128 scanner reads it (AI 00)."""
    return f"00{sscc}"


def new_flow(dock: FakeDock | None = None) -> tuple[ShipFlow, FakeDock]:
    terminal = dock or FakeDock()
    fake: ShipTerminal = terminal  # the fake is what the flow asks for
    flow = ShipFlow(fake)
    flow.start()
    return flow, terminal


def flow_at(step: Step) -> tuple[ShipFlow, FakeDock]:
    """A fresh flow driven by real scans and keys to ``step``: CARRIER after scanning the
    free DOCK-1; LOADING with an EXPRESS load at DOCK-1 and SSCC_1 on it; UNLOAD and
    CONFIRM from there."""
    flow, terminal = new_flow()
    if step is Step.DOCK:
        return flow, terminal
    flow.scan(scanned("LOC-DOCK-1"))
    if step is Step.CARRIER:
        assert flow.step is Step.CARRIER
        return flow, terminal
    flow.choose_carrier("EXPRESS")
    flow.scan(scanned(sscc_scan(SSCC_1)))
    if step is Step.UNLOAD:
        flow.unload()
    elif step is Step.CONFIRM:
        flow.ask_close()
    assert flow.step is step, flow.state().message
    return flow, terminal


def refused(state: ShipState, step: Step, *parts: str) -> None:
    """An error with the bell and flash, the step unchanged, naming every part."""
    assert (state.level, state.alert, state.step) == ("error", True, step), state
    for part in parts:
        assert part in state.message, (part, state.message)


# --- the table -----------------------------------------------------------------------------


def test_the_table_declares_every_step_once_and_reaches_each() -> None:
    assert [s.step for s in SHIP_STEPS] == list(Step)
    assert SHIP_STEPS.start is Step.DOCK
    assert SHIP_STEPS.reachable() == frozenset(Step)
    for spec in SHIP_STEPS:
        assert spec.step not in spec.next_steps, "staying is not a move"


def test_the_table_as_data() -> None:
    table = {s.step: (s.expects, set(s.next_steps), s.keys) for s in SHIP_STEPS}
    assert table == {
        Step.DOCK: (("location",), {Step.CARRIER, Step.LOADING}, ("ship.print", "ship.refresh")),
        Step.CARRIER: ((), {Step.LOADING, Step.DOCK}, ("ship.carrier", "ship.leave")),
        Step.LOADING: (
            ("sscc", "package"),
            {Step.UNLOAD, Step.CONFIRM, Step.DOCK},
            ("ship.unload", "ship.close", "ship.leave", "ship.refresh"),
        ),
        Step.UNLOAD: (("sscc", "package"), {Step.LOADING}, ("ship.back", "ship.refresh")),
        Step.CONFIRM: ((), {Step.DOCK, Step.LOADING}, ("ship.confirm", "ship.back")),
    }


def test_every_step_is_reached_by_scans_and_keys() -> None:
    flow, _ = new_flow()
    seen = [flow.step]
    acts: list[Callable[[], ShipState]] = [
        lambda: flow.scan(scanned("LOC-DOCK-1")),
        lambda: flow.choose_carrier("EXPRESS"),
        lambda: flow.scan(scanned(sscc_scan(SSCC_1))),
        flow.unload,
        flow.back,
        flow.ask_close,
        flow.confirm,
    ]
    for act in acts:
        state = act()
        assert state.level != "error", state.message
        seen.append(state.step)
    assert seen == [
        Step.DOCK,
        Step.CARRIER,
        Step.LOADING,
        Step.LOADING,
        Step.UNLOAD,
        Step.LOADING,
        Step.CONFIRM,
        Step.DOCK,
    ]
    assert set(seen) == set(Step)


def leave(f: ShipFlow, _t: FakeDock) -> ShipState:
    return f.leave()


MOVES: dict[
    tuple[Step, Step],
    tuple[Step, Callable[[ShipFlow, FakeDock], ShipState]],
] = {
    (Step.DOCK, Step.CARRIER): (Step.DOCK, lambda f, _t: f.scan(scanned("LOC-DOCK-2"))),
    (Step.DOCK, Step.LOADING): (
        Step.DOCK,
        lambda f, t: (t.add_load("GROUND", "DOCK-2"), f.scan(scanned("LOC-DOCK-2")))[1],
    ),
    (Step.CARRIER, Step.LOADING): (Step.CARRIER, lambda f, _t: f.choose_carrier("GROUND")),
    (Step.CARRIER, Step.DOCK): (Step.CARRIER, leave),
    (Step.LOADING, Step.UNLOAD): (Step.LOADING, lambda f, _t: f.unload()),
    (Step.LOADING, Step.CONFIRM): (Step.LOADING, lambda f, _t: f.ask_close()),
    (Step.LOADING, Step.DOCK): (Step.LOADING, leave),
    (Step.UNLOAD, Step.LOADING): (
        Step.UNLOAD,
        lambda f, _t: f.scan(scanned(sscc_scan(SSCC_1))),
    ),
    (Step.CONFIRM, Step.DOCK): (Step.CONFIRM, lambda f, _t: f.confirm()),
    (Step.CONFIRM, Step.LOADING): (Step.CONFIRM, lambda f, _t: f.back()),
}


def test_every_declared_move_has_a_scan_or_key_that_makes_it() -> None:
    declared = {(s.step, n) for s in SHIP_STEPS for n in s.next_steps}
    assert set(MOVES) == declared


@pytest.mark.parametrize(("start", "end"), list(MOVES))
def test_a_declared_move(start: Step, end: Step) -> None:
    at, act = MOVES[(start, end)]
    flow, terminal = flow_at(at)
    state = act(flow, terminal)
    assert state.level != "error", state.message
    assert flow.step is state.step is end


# --- the dock: a door, its carrier -----------------------------------------------------------


def test_the_start_reads_the_dock() -> None:
    flow, terminal = new_flow()
    state = flow.state()
    assert terminal.calls == ["dock"]
    assert state.step is Step.DOCK
    assert state.dock is not None
    assert [d.barcode for d in state.dock.doors] == ["LOC-DOCK-1", "LOC-DOCK-2"]
    assert state.prompt == "Scan a dock door's barcode to load a carrier there"
    assert state.keys == {"ship.print", "ship.refresh"}


def test_a_dock_that_cannot_be_read_at_the_start_is_said() -> None:
    terminal = FakeDock(failing={"dock": ShipError("there is no node 'WH1'")})
    flow = ShipFlow(terminal)
    state = flow.start()
    refused(state, Step.DOCK)
    assert state.message == "there is no node 'WH1'"


def test_a_free_door_asks_for_its_carrier() -> None:
    flow, terminal = new_flow()
    state = flow.scan(scanned("LOC-DOCK-1"))
    assert (state.step, state.level, state.alert) == (Step.CARRIER, "info", False)
    assert state.message == "No load is open at DOCK-1: choose its carrier"
    assert state.door == "DOCK-1"
    assert state.load is None
    assert state.carriers == tuple(CARRIERS)
    assert state.prompt == "Which carrier loads at DOCK-1? {key:ship.carrier} lists them"
    assert state.keys == {"ship.carrier", "ship.leave"}
    assert terminal.calls[-2:] == ["door_of", "carriers"]
    assert "open_load" not in terminal.calls  # nothing opened until a carrier is chosen


def test_a_door_with_a_load_open_goes_on_loading_it() -> None:
    flow, terminal = new_flow()
    opened = terminal.add_load("EXPRESS", "DOCK-2", opened_by="Pat Other")
    terminal.put_on(SSCC_2, opened.id)
    state = flow.scan(scanned("LOC-DOCK-2"))
    assert (state.step, state.level) == (Step.LOADING, "ok")
    assert state.message == (
        "Express Courier is loading at DOCK-2 (opened by Pat Other): scan its packages"
    )
    assert state.load is not None
    assert (state.load.id, state.load.loaded, state.load.to_load) == (opened.id, 1, 2)
    assert state.prompt == "Scan each Express Courier package onto DOCK-2 (1 loaded, 2 to load)"
    assert "carriers" not in terminal.calls


def test_a_scan_that_is_no_door_is_refused_by_the_dock() -> None:
    flow, _ = new_flow()
    state = flow.scan(scanned("LOC-A01-01-1"))
    refused(state, Step.DOCK, "expected a dock door's barcode", "LOC-A01-01-1")
    assert state.door == ""


@pytest.mark.parametrize("text", [sscc_scan(SSCC_1), "PKG-000001"])
def test_a_package_before_its_door_is_refused_naming_it(text: str) -> None:
    flow, terminal = new_flow()
    state = flow.scan(scanned(text))
    refused(
        state,
        Step.DOCK,
        f"expected a dock door, scanned package '{text}'",
        "scan the door the vehicle is at first, then its packages",
    )
    assert terminal.calls == ["dock"]  # the dock was not asked
    assert all(p.load_id is None for p in terminal.packages.values())


def test_choosing_a_carrier_opens_its_load_at_the_door() -> None:
    flow, terminal = flow_at(Step.CARRIER)
    state = flow.choose_carrier("EXPRESS")
    assert (state.step, state.level) == (Step.LOADING, "ok")
    assert state.message == "Express Courier load open at DOCK-1: scan its packages"
    assert state.load is not None
    assert (state.load.carrier, state.load.door, state.load.loaded) == ("EXPRESS", "DOCK-1", 0)
    assert state.prompt == "Scan each Express Courier package onto DOCK-1 (0 loaded, 3 to load)"
    assert [ld.carrier for ld in terminal.loads.values()] == ["EXPRESS"]


def test_a_carrier_the_dock_refuses_keeps_the_question() -> None:
    flow, terminal = flow_at(Step.CARRIER)
    state = flow.choose_carrier("PIGEON")
    refused(state, Step.CARRIER, "no carrier PIGEON")
    assert state.load is None
    assert state.carriers == tuple(CARRIERS)
    assert not terminal.loads


def test_a_carrier_is_chosen_only_after_a_door() -> None:
    flow, terminal = new_flow()
    state = flow.choose_carrier("EXPRESS")
    refused(state, Step.DOCK, "choose a carrier after scanning a dock door")
    assert not terminal.loads


@pytest.mark.parametrize(
    ("typed", "carrier"), [("1", "GROUND"), ("2", "EXPRESS"), (" 2 ", "EXPRESS")]
)
def test_a_number_on_the_list_typed_at_the_carrier_step_chooses_that_carrier(
    typed: str, carrier: str
) -> None:
    flow, terminal = flow_at(Step.CARRIER)
    state = flow.scan(scanned(typed))
    assert (state.step, state.level, state.alert) == (Step.LOADING, "ok", False)
    name = dict(CARRIERS)[carrier]
    assert state.message == f"{name} load open at DOCK-1: scan its packages"
    assert state.load is not None
    assert (state.load.carrier, state.load.door) == (carrier, "DOCK-1")
    assert [(ld.carrier, ld.door) for ld in terminal.loads.values()] == [(carrier, "DOCK-1")]
    assert terminal.calls[-1] == "open_load"


@pytest.mark.parametrize("text", ["LOC-DOCK-2", "0", "3", "12", "EXPRESS"])
def test_another_scan_while_the_carrier_is_asked_is_refused(text: str) -> None:
    flow, terminal = flow_at(Step.CARRIER)
    calls = len(terminal.calls)
    state = flow.scan(scanned(text))
    refused(
        state,
        Step.CARRIER,
        f"expected a carrier from the list, scanned '{text}'",
        "press {key:ship.carrier} and type the carrier's number",
    )
    assert state.door == "DOCK-1"
    assert state.carriers == tuple(CARRIERS)
    assert terminal.calls[calls:] == []
    assert not terminal.loads


# --- loading ---------------------------------------------------------------------------------


def test_a_package_goes_on_the_load() -> None:
    flow, terminal = flow_at(Step.CARRIER)
    flow.choose_carrier("EXPRESS")
    state = flow.scan(scanned(sscc_scan(SSCC_2)))
    assert (state.step, state.level, state.alert) == (Step.LOADING, "ok", False)
    assert state.message == "Loaded web/WEB-2 box 1 of 1 · EX00000000002"
    assert state.load is not None
    assert [p.sscc for p in state.load.packages] == [SSCC_2]
    assert state.prompt == "Scan each Express Courier package onto DOCK-1 (1 loaded, 2 to load)"
    assert terminal.packages[SSCC_2].load_id == state.load.id


def test_the_same_package_twice_is_refused_by_the_dock_and_stays_loading() -> None:
    flow, terminal = flow_at(Step.LOADING)
    before = flow.state().load
    state = flow.scan(scanned(sscc_scan(SSCC_1)))
    refused(state, Step.LOADING, f"package {SSCC_1} (web/WEB-1, box 1) is on this load already")
    assert state.load == before
    assert state.keys == {"ship.unload", "ship.close", "ship.leave", "ship.refresh"}
    assert terminal.calls.count("load") == 2


def test_a_store_refusal_while_loading_keeps_the_step() -> None:
    flow, terminal = flow_at(Step.LOADING)
    terminal.failing["load"] = ShipError("the EXPRESS load at DOCK-1 was closed out (M-3)")
    state = flow.scan(scanned(sscc_scan(SSCC_2)))
    refused(state, Step.LOADING, "the EXPRESS load at DOCK-1 was closed out (M-3)")
    assert terminal.packages[SSCC_2].load_id is None
    assert state.load is not None
    assert state.load.loaded == 1


def test_another_carriers_package_is_refused() -> None:
    flow, terminal = flow_at(Step.LOADING)
    state = flow.scan(scanned(sscc_scan(SSCC_G)))
    refused(state, Step.LOADING, f"package {SSCC_G}", "goes with GROUND")
    assert terminal.packages[SSCC_G].load_id is None


@pytest.mark.parametrize("text", ["LOC-DOCK-2", "LOC-DOCK-1", "loc-dock-2"])
def test_a_door_while_loading_is_refused_saying_how_to_load_there(text: str) -> None:
    flow, terminal = flow_at(Step.LOADING)
    calls = len(terminal.calls)
    state = flow.scan(scanned(text))
    refused(state, Step.LOADING)
    assert state.message == (
        f"expected a package for Express Courier, scanned door '{text}': to load at another "
        "door, leave this load with {key:ship.leave} first (it stays open)"
    )
    assert terminal.calls[calls:] == []  # neither a door nor a package was looked up
    assert state.load is not None
    assert (state.load.door, state.load.loaded) == ("DOCK-1", 1)


@pytest.mark.parametrize("text", ["LOC-A01-01-1", "LOC-PROBLEM"])
def test_a_shelf_while_loading_is_refused_as_no_package_label(text: str) -> None:
    flow, terminal = flow_at(Step.LOADING)
    calls = len(terminal.calls)
    state = flow.scan(scanned(text))
    refused(state, Step.LOADING)
    assert state.message == (
        f"expected a package for Express Courier, scanned '{text}': that is a shelf's "
        "barcode, not a package's label. Scan the package's SSCC or tracking barcode"
    )
    assert "{key:ship.leave}" not in state.message
    assert terminal.calls[calls:] == []
    assert state.load is not None
    assert (state.load.door, state.load.loaded) == ("DOCK-1", 1)


@pytest.mark.parametrize("step", [Step.DOCK, Step.CARRIER, Step.LOADING, Step.UNLOAD])
@pytest.mark.parametrize("text", ["BADGE-U3001", "BADGE-U9999", "u3001"])
def test_a_badge_is_refused_in_every_step(step: Step, text: str) -> None:
    flow, terminal = flow_at(step)
    calls = len(terminal.calls)
    state = flow.scan(scanned(text))
    refused(
        state,
        step,
        "U3001 is logged in here: carry on, or log out with {key:app.logout} before another "
        "badge logs in",
    )
    assert terminal.calls[calls:] == []


def test_a_scan_while_closing_out_is_refused() -> None:
    flow, terminal = flow_at(Step.CONFIRM)
    state = flow.scan(scanned(sscc_scan(SSCC_2)))
    refused(state, Step.CONFIRM, f"the load is being closed out, scanned '{sscc_scan(SSCC_2)}'")
    assert terminal.packages[SSCC_2].load_id is None


# --- taking off ------------------------------------------------------------------------------


def test_taking_a_package_off_and_back_to_loading() -> None:
    flow, terminal = flow_at(Step.LOADING)
    flow.scan(scanned(sscc_scan(SSCC_2)))
    state = flow.unload()
    assert (state.step, state.level) == (Step.UNLOAD, "warn")
    assert state.message == "Scan the package to take off; {key:ship.back} if none"
    assert state.prompt == "Scan the package to take off DOCK-1"
    assert state.keys == {"ship.back", "ship.refresh"}
    state = flow.scan(scanned(sscc_scan(SSCC_1)))
    assert (state.step, state.level) == (Step.LOADING, "warn")
    assert state.message == (
        f"Taken off: web/WEB-1 box 1 of 1 ({SSCC_1}). Put it back on the floor"
    )
    assert terminal.packages[SSCC_1].load_id is None
    assert state.load is not None
    assert [p.sscc for p in state.load.packages] == [SSCC_2]
    assert state.load.to_load == 2


def test_a_package_not_on_the_load_cannot_be_taken_off() -> None:
    flow, terminal = flow_at(Step.UNLOAD)
    state = flow.scan(scanned(sscc_scan(SSCC_3)))
    refused(state, Step.UNLOAD, f"package {SSCC_3} (store/STO-3) is not on this load")
    assert terminal.packages[SSCC_1].load_id is not None


def test_back_from_taking_off_takes_nothing_off() -> None:
    flow, terminal = flow_at(Step.UNLOAD)
    state = flow.back()
    assert (state.step, state.message) == (Step.LOADING, "Go on loading")
    assert "unload" not in terminal.calls
    assert state.load is not None
    assert state.load.loaded == 1


def test_nothing_to_take_off_is_refused() -> None:
    flow, _ = flow_at(Step.CARRIER)
    flow.choose_carrier("EXPRESS")
    state = flow.unload()
    refused(state, Step.LOADING, "nothing is loaded to take off")


def test_the_last_package_taken_off_disables_take_off_only() -> None:
    flow, _ = flow_at(Step.UNLOAD)
    state = flow.scan(scanned(sscc_scan(SSCC_1)))
    assert state.step is Step.LOADING
    assert state.keys == {"ship.close", "ship.leave", "ship.refresh"}


# --- keys ------------------------------------------------------------------------------------


def test_take_off_is_disabled_while_nothing_is_loaded_and_close_out_is_not() -> None:
    flow, _ = flow_at(Step.CARRIER)
    empty = flow.choose_carrier("EXPRESS")
    assert empty.step is Step.LOADING
    assert empty.keys == {"ship.close", "ship.leave", "ship.refresh"}
    assert flow.keys() == empty.keys
    loaded = flow.scan(scanned(sscc_scan(SSCC_1)))
    assert loaded.keys == set(SHIP_STEPS[Step.LOADING].keys)


@pytest.mark.parametrize("step", list(Step))
def test_each_step_enables_its_keys_only(step: Step) -> None:
    flow, _ = flow_at(step)
    assert flow.state().keys == set(SHIP_STEPS[step].keys)


# --- closing out -----------------------------------------------------------------------------


CANCEL_ASKED = (
    "Nothing is loaded on the Express Courier load at DOCK-1: {key:ship.confirm} cancels it "
    "(the door is free again), {key:ship.back} goes on loading"
)


def test_close_out_of_an_empty_load_asks_to_cancel_it() -> None:
    flow, terminal = flow_at(Step.CARRIER)
    flow.choose_carrier("EXPRESS")
    state = flow.ask_close()
    assert (state.step, state.level, state.alert) == (Step.CONFIRM, "warn", False)
    assert state.message == CANCEL_ASKED
    assert state.keys == {"ship.confirm", "ship.back"}
    assert state.load is not None
    assert state.load.loaded == 0
    assert "cancel_load" not in terminal.calls
    assert "close_out" not in terminal.calls
    # Back: the load stays open and empty.
    state = flow.back()
    assert (state.step, state.message) == (Step.LOADING, "Go on loading")
    assert "cancel_load" not in terminal.calls
    assert [ld.status for ld in terminal.loads.values()] == [LoadStatus.OPEN]


def test_confirming_cancels_an_empty_load_and_frees_its_door() -> None:
    flow, terminal = flow_at(Step.CARRIER)
    flow.choose_carrier("EXPRESS")
    flow.ask_close()
    state = flow.confirm()
    said = "The empty Express Courier load at DOCK-1 is cancelled"
    assert (state.step, state.level, state.alert) == (Step.DOCK, "ok", False)
    assert (state.message, state.headline) == (said, said)
    assert (state.load, state.door) == (None, "")
    assert terminal.calls[-2:] == ["cancel_load", "dock"]
    assert "close_out" not in terminal.calls
    assert "deliver_prints" not in terminal.calls
    assert [ld.status for ld in terminal.loads.values()] == [LoadStatus.CANCELLED]
    assert state.dock is not None
    assert state.dock.loads == ()
    assert state.keys == {"ship.print", "ship.refresh"}
    # The door is free again: a new load is asked for, and the headline is gone.
    again = flow.scan(scanned("LOC-DOCK-1"))
    assert (again.step, again.headline) == (Step.CARRIER, "")


def test_a_cancel_the_store_refuses_goes_back_to_loading() -> None:
    flow, terminal = flow_at(Step.CARRIER)
    flow.choose_carrier("EXPRESS")
    flow.ask_close()
    why = "the EXPRESS load at DOCK-1 holds packages: take them off first, or close it out"
    terminal.failing["cancel_load"] = ShipError(why)
    state = flow.confirm()
    refused(state, Step.LOADING)
    assert state.message == why
    assert state.load is not None
    assert (state.load.door, state.load.loaded) == ("DOCK-1", 0)
    assert state.headline == ""
    assert state.keys == {"ship.close", "ship.leave", "ship.refresh"}
    assert [ld.status for ld in terminal.loads.values()] == [LoadStatus.OPEN]
    assert "dock" not in terminal.calls[terminal.calls.index("cancel_load") :]
    # It can be asked again.
    assert flow.ask_close().step is Step.CONFIRM


def test_closing_out_reads_the_load_again_first() -> None:
    """Another shipper took the only package off meanwhile: it asks to cancel instead."""
    flow, terminal = flow_at(Step.LOADING)
    terminal.put_on(SSCC_1, None)
    state = flow.ask_close()
    assert (state.step, state.level) == (Step.CONFIRM, "warn")
    assert state.message == CANCEL_ASKED
    assert state.load is not None
    assert state.load.loaded == 0
    state = flow.confirm()
    assert state.step is Step.DOCK
    assert "close_out" not in terminal.calls
    assert terminal.calls.count("cancel_load") == 1


def test_close_out_asks_first_and_says_what_stays_on_the_floor() -> None:
    flow, terminal = flow_at(Step.LOADING)
    state = flow.ask_close()
    assert (state.step, state.level) == (Step.CONFIRM, "warn")
    assert state.message == (
        "Close out 1 package(s)? 2 EXPRESS package(s) are still on the floor and stay for a "
        "later load."
    )
    assert state.prompt == (
        "Close out 1 package(s) for Express Courier at DOCK-1? {key:ship.confirm} confirms, "
        "{key:ship.back} goes on loading"
    )
    assert state.keys == {"ship.confirm", "ship.back"}
    assert "close_out" not in terminal.calls
    state = flow.back()
    assert (state.step, state.message) == (Step.LOADING, "Go on loading")
    assert "close_out" not in terminal.calls


def test_confirming_closes_out_to_the_dock_naming_the_manifest() -> None:
    flow, terminal = flow_at(Step.LOADING)
    flow.scan(scanned(sscc_scan(SSCC_2)))
    flow.ask_close()
    state = flow.confirm()
    said = "Express Courier at DOCK-1 closed out: manifest M-7, 2 package(s), 2 order(s) shipped"
    assert (state.step, state.level, state.alert) == (Step.DOCK, "ok", False)
    assert state.message == "Give the driver manifest M-7 to sign; scan the next door to load"
    assert state.headline == said
    assert (state.load, state.door) == (None, "")
    assert state.prints == (("ok", "Manifest M-7 → documents: printed"),)
    assert terminal.calls[-3:] == ["close_out", "deliver_prints", "dock"]
    assert state.dock is not None
    assert state.dock.loads == ()  # the load is closed
    assert state.keys == {"ship.print", "ship.refresh"}
    assert state.prompt == "Scan a dock door's barcode to load a carrier there"
    assert "cancel_load" not in terminal.calls
    # The door is free again: a new load is asked for, and the headline is gone.
    again = flow.scan(scanned("LOC-DOCK-1"))
    assert (again.step, again.headline) == (Step.CARRIER, "")


def test_a_close_out_with_orders_partly_shipped_and_held_says_so() -> None:
    flow, terminal = flow_at(Step.CONFIRM)
    terminal.closing = ClosedOut(
        12, 3, ("web/WEB-1",), ("web/WEB-9",), ("store/STO-8", "web/WEB-9"), ()
    )
    state = flow.confirm()
    assert state.headline == (
        "Express Courier at DOCK-1 closed out: manifest M-12, 3 package(s), 1 order(s) "
        "shipped, 1 partially (the rest comes from elsewhere)"
    )
    assert (state.step, state.level, state.alert) == (Step.DOCK, "warn", True)
    assert state.message == (
        "store/STO-8, web/WEB-9 left while held or cancelled: tell a supervisor"
    )


def test_a_close_out_the_store_refuses_goes_back_to_loading() -> None:
    flow, terminal = flow_at(Step.CONFIRM)
    why = (
        "web/WEB-1 is only partly loaded: its box 2 (SSCC 050123450000000091) is not on this "
        "load. Load it, or take the order's other boxes off, before closing out"
    )
    terminal.failing["close_out"] = ShipError(why)
    state = flow.confirm()
    refused(state, Step.LOADING)
    assert state.message == why
    assert state.load is not None
    assert (state.load.door, state.load.loaded) == ("DOCK-1", 1)
    assert state.headline == ""
    assert "deliver_prints" not in terminal.calls
    assert terminal.loads[state.load.id].status is LoadStatus.OPEN
    # It can be asked again once the shipper has put it right.
    assert flow.ask_close().step is Step.CONFIRM


def test_confirm_outside_a_close_out_is_refused() -> None:
    flow, terminal = flow_at(Step.LOADING)
    state = flow.confirm()
    refused(state, Step.LOADING, "nothing is being closed out")
    assert "close_out" not in terminal.calls


# --- leaving a load, reading again, printing again ------------------------------------------


def test_leaving_keeps_the_load_open() -> None:
    flow, terminal = flow_at(Step.LOADING)
    state = flow.leave()
    assert state.step is Step.DOCK
    assert state.headline == (
        "The Express Courier load at DOCK-1 stays open with 1 package(s): scan its door to go on"
    )
    assert (state.load, state.door) == (None, "")
    assert state.dock is not None
    assert [(ld.carrier, ld.door) for ld in state.dock.loads] == [("EXPRESS", "DOCK-1")]
    assert "close_out" not in terminal.calls
    assert terminal.packages[SSCC_1].load_id is not None
    # Its door again: the same load, its package still on it.
    again = flow.scan(scanned("LOC-DOCK-1"))
    assert again.step is Step.LOADING
    assert again.headline == ""  # a door scanned clears the headline
    assert again.load is not None
    assert [p.sscc for p in again.load.packages] == [SSCC_1]


def test_leaving_the_carrier_question_opens_nothing() -> None:
    flow, terminal = flow_at(Step.CARRIER)
    state = flow.leave()
    assert (state.step, state.door, state.load) == (Step.DOCK, "", None)
    assert not terminal.loads


def test_refresh_reads_the_load_or_the_dock_again() -> None:
    flow, terminal = flow_at(Step.LOADING)
    terminal.put_on(SSCC_2, 1)  # a second shipper loads at the same door
    state = flow.refresh()
    assert (state.step, state.message) == (Step.LOADING, "Read again")
    assert state.load is not None
    assert state.load.loaded == 2
    flow.leave()
    terminal.add_load("GROUND", "DOCK-2")
    state = flow.refresh()
    assert state.dock is not None
    assert {ld.door for ld in state.dock.loads} == {"DOCK-1", "DOCK-2"}


def test_refresh_while_taking_off_reads_the_load_and_stays_taking_off() -> None:
    flow, terminal = flow_at(Step.UNLOAD)
    terminal.put_on(SSCC_2, 1)  # a second shipper loads at the same door
    state = flow.refresh()
    assert (state.step, state.message) == (Step.UNLOAD, "Read again")
    assert state.load is not None
    assert state.load.loaded == 2
    assert "unload" not in terminal.calls


def test_printing_again() -> None:
    flow, terminal = new_flow()
    state = flow.print_again()
    assert state.message == "Nothing is waiting to print"
    terminal.reprints = [("warn", "documents printer offline: the manifest waits")]
    state = flow.print_again()
    assert state.prints == (("warn", "documents printer offline: the manifest waits"),)


# --- keys pressed before the answer to the one before -----------------------------------------


def test_leave_queued_behind_take_off_is_refused_not_a_crash() -> None:
    """F4 then F7 before F4's answer shows: the screen checked F7 against LOADING, and the
    flow gets leave() in UNLOAD."""
    flow, terminal = flow_at(Step.UNLOAD)
    state = flow.leave()
    assert state.step is Step.UNLOAD
    assert state.level == "error"
    assert state.alert
    assert "a package is being taken off" in state.message
    assert terminal.packages[SSCC_1].load_id is not None


def test_leave_queued_behind_close_out_leaves_the_load_open() -> None:
    """F5 then F7 before F5's answer shows: CONFIRM may go to the dock; nothing closes."""
    flow, terminal = flow_at(Step.CONFIRM)
    state = flow.leave()
    assert state.step is Step.DOCK
    assert "stays open with 1 package(s)" in state.headline
    assert "close_out" not in terminal.calls
