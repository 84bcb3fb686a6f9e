"""The ship station's flow: choose a dock door and its carrier, scan each package onto the
load, take one off if it is in the wrong vehicle, and close the load out as the carrier's
manifest (which ships its orders).

:data:`SHIP_STEPS` declares the steps: what each asks for, the scans it expects, the steps
that may follow and the keys it enables. The ship screen reads it for its step line, footer
and help; :class:`ShipFlow` moves between its steps only as it allows.

:class:`ShipFlow` runs on the station's terminal worker, one scan or key at a time, and
answers each with a :class:`ShipState`. It calls a :class:`ShipTerminal` (the dock of a
running station, or a fake in the tests) and knows nothing of the screen or the store.
"""

from __future__ import annotations

import contextlib
import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from app.barcodes import show
from app.flows import Flow, FlowState, Level, StepSpec, StepTable
from app.loading.station import ClosedOut, Dock, Loaded, LoadView, OpenLoad, ShipError
from app.scanning import ScanEvent
from app.users import LoggedIn


class Step(enum.StrEnum):
    """Where the shipper is in the work."""

    DOCK = "dock"
    CARRIER = "carrier"
    LOADING = "loading"
    UNLOAD = "unload"
    CONFIRM = "confirm"


SHIP_STEPS: StepTable[Step] = StepTable(
    [
        StepSpec(
            Step.DOCK,
            prompt="Scan a dock door's barcode to load a carrier there",
            expects=("location",),
            next_steps=frozenset({Step.CARRIER, Step.LOADING}),
            keys=("ship.print", "ship.refresh"),
        ),
        StepSpec(
            Step.CARRIER,
            prompt="Which carrier loads at $door? {key:ship.carrier} lists them",
            expects=(),
            next_steps=frozenset({Step.LOADING, Step.DOCK}),
            keys=("ship.carrier", "ship.leave"),
        ),
        StepSpec(
            Step.LOADING,
            prompt="Scan each $carrier package onto $door ($loaded loaded, $left to load)",
            expects=("sscc", "package"),
            next_steps=frozenset({Step.UNLOAD, Step.CONFIRM, Step.DOCK}),
            keys=("ship.unload", "ship.close", "ship.leave", "ship.refresh"),
        ),
        StepSpec(
            Step.UNLOAD,
            prompt="Scan the package to take off $door",
            expects=("sscc", "package"),
            next_steps=frozenset({Step.LOADING}),
            keys=("ship.back", "ship.refresh"),
        ),
        StepSpec(
            Step.CONFIRM,
            prompt="Close out $count package(s) for $carrier at $door? {key:ship.confirm} "
            "confirms, {key:ship.back} goes on loading",
            expects=(),
            next_steps=frozenset({Step.DOCK, Step.LOADING}),
            keys=("ship.confirm", "ship.back"),
        ),
    ]
)
"""The ship station's steps, as data (the first is where a login starts)."""


class ShipTerminal(Protocol):
    """What the ship flow uses of the station (a test hands in a fake)."""

    @property
    def user(self) -> LoggedIn | None: ...

    def dock(self) -> Dock: ...

    def door_of(self, scan: str) -> tuple[str, OpenLoad | None]: ...

    def carriers(self) -> list[tuple[str, str]]: ...

    def open_load(self, door: str, carrier: str) -> LoadView: ...

    def view(self, load_id: int) -> LoadView: ...

    def load(self, load_id: int, scan: str) -> Loaded: ...

    def unload(self, load_id: int, scan: str) -> Loaded: ...

    def close_out(self, load_id: int) -> ClosedOut: ...

    def cancel_load(self, load_id: int) -> None: ...

    def deliver_prints(self) -> list[tuple[Level, str]]: ...

    def retry_prints(self) -> list[tuple[Level, str]]: ...


@dataclass(frozen=True)
class ShipState(FlowState[Step]):
    """What the ship screen shows after one scan or key."""

    headline: str = ""
    dock: Dock | None = None
    """The dock (doors, open loads, counts by carrier, the floor past cut-off) when no load
    is chosen."""
    load: LoadView | None = None
    door: str = ""
    carriers: tuple[tuple[str, str], ...] = ()
    """(code, name) to choose from at the carrier step."""
    prints: tuple[tuple[Level, str], ...] = ()

    @property
    def prompt(self) -> str:
        spec = SHIP_STEPS[self.step]
        load = self.load
        if self.step is Step.CARRIER:
            return spec.say(door=self.door)
        if load is None:
            return SHIP_STEPS[Step.DOCK].prompt
        if self.step is Step.CONFIRM and not load.packages:
            return (
                f"Cancel the empty {load.carrier_name} load at {load.door}? "
                "{key:ship.confirm} confirms, {key:ship.back} goes on loading"
            )
        return spec.say(
            carrier=load.carrier_name,
            door=load.door,
            loaded=load.loaded,
            left=load.to_load,
            count=load.loaded,
        )


class ShipFlow(Flow[Step]):
    """The shipper's work, one scan or key at a time (on the terminal worker thread only)."""

    def __init__(self, terminal: ShipTerminal) -> None:
        super().__init__(SHIP_STEPS)
        self.terminal = terminal
        self.headline = ""
        self.dock: Dock | None = None
        self.load: LoadView | None = None
        self.door = ""
        self.carriers: list[tuple[str, str]] = []
        self.prints: list[tuple[Level, str]] = []

    def keys(self) -> frozenset[str]:
        keys = super().keys()
        if self.step is Step.LOADING and (self.load is None or not self.load.packages):
            keys -= {"ship.unload"}
        return keys

    def state(self, message: str = "", level: Level = "info", *, alert: bool = False) -> ShipState:
        return ShipState(
            step=self.step,
            message=re.sub(r" {2,}", " ", message).strip(),
            level=level,
            alert=alert,
            keys=self.keys(),
            headline=self.headline,
            dock=self.dock,
            load=self.load,
            door=self.door,
            carriers=tuple(self.carriers),
            prints=tuple(self.prints),
        )

    def refuse(self, message: str) -> ShipState:
        """Nothing was recorded; the step stays."""
        return self.state(message, "error", alert=True)

    def _guard(self, action: Callable[[], ShipState]) -> ShipState:
        try:
            return action()
        except ShipError as exc:
            return self.refuse(str(exc))

    def start(self) -> ShipState:
        """The dock as it is now (after login, and on {key:ship.refresh})."""
        return self._guard(self._start)

    def _start(self) -> ShipState:
        self.dock = self.terminal.dock()
        return self.state()

    # --- scans ------------------------------------------------------------------------

    def scan(self, event: ScanEvent) -> ShipState:
        return self._guard(lambda: self._scan(event))

    def _scan(self, event: ScanEvent) -> ShipState:
        text = event.text
        kind = event.barcode.kind if event.barcode is not None else None
        me = self.terminal.user.badge if self.terminal.user else None
        if kind == "badge" or (me is not None and text.strip().upper() == me):
            return self.refuse(
                f"{me or 'someone'} is logged in here: carry on, or log out with "
                "{key:app.logout} before another badge logs in"
            )
        if self.step is Step.DOCK:
            if kind in ("sscc", "package"):
                return self.refuse(
                    f"expected a dock door, scanned package {show(text)}: scan the door the "
                    "vehicle is at first, then its packages"
                )
            return self._door(text)
        if self.step is Step.CARRIER:
            typed = text.strip()
            if typed.isascii() and typed.isdecimal() and 1 <= int(typed) <= len(self.carriers):
                return self._choose(self.carriers[int(typed) - 1][0])
            return self.refuse(
                f"expected a carrier from the list, scanned {show(text)}: press "
                "{key:ship.carrier} and type the carrier's number, or {key:ship.leave} to "
                "choose another door"
            )
        if self.step is Step.CONFIRM:
            return self.refuse(
                f"the load is being closed out, scanned {show(text)}: {{key:ship.back}} goes "
                "on loading, {key:ship.confirm} confirms"
            )
        load = self.load
        assert load is not None
        if kind == "location":
            value = event.barcode.value.upper() if event.barcode is not None else ""
            if self.dock is None:
                self.dock = self.terminal.dock()
            doors = {d.code.upper() for d in self.dock.doors}
            if value not in doors:
                return self.refuse(
                    f"expected a package for {load.carrier_name}, scanned {show(text)}: that is "
                    "a shelf's barcode, not a package's label. Scan the package's SSCC or "
                    "tracking barcode"
                )
            return self.refuse(
                f"expected a package for {load.carrier_name}, scanned door {show(text)}: to "
                "load at another door, leave this load with {key:ship.leave} first (it stays "
                "open)"
            )
        if self.step is Step.UNLOAD:
            done = self.terminal.unload(load.id, text)
            self.load = done.view
            self.move_to(Step.LOADING)
            p = done.package
            return self.state(
                f"Taken off: {p.order_ref} box {p.number} of {done.count} ({p.sscc}). Put it "
                "back on the floor",
                "warn",
            )
        done = self.terminal.load(load.id, text)
        self.load = done.view
        p = done.package
        return self.state(
            f"Loaded {p.order_ref} box {p.number} of {done.count} · {p.tracking_number}", "ok"
        )

    def _door(self, text: str) -> ShipState:
        door, open_load = self.terminal.door_of(text)
        self.door = door
        self.headline = ""
        if open_load is not None:
            self.load = self.terminal.view(open_load.id)
            self.move_to(Step.LOADING)
            return self.state(
                f"{self.load.carrier_name} is loading at {door} (opened by "
                f"{open_load.opened_by}): scan its packages",
                "ok",
            )
        self.carriers = self.terminal.carriers()
        self.move_to(Step.CARRIER)
        return self.state(f"No load is open at {door}: choose its carrier", "info")

    # --- keys -------------------------------------------------------------------------

    def choose_carrier(self, code: str) -> ShipState:
        return self._guard(lambda: self._choose(code))

    def _choose(self, code: str) -> ShipState:
        if self.step is not Step.CARRIER:
            return self.refuse("choose a carrier after scanning a dock door")
        self.load = self.terminal.open_load(self.door, code)
        self.move_to(Step.LOADING)
        return self.state(
            f"{self.load.carrier_name} load open at {self.door}: scan its packages", "ok"
        )

    def leave(self) -> ShipState:
        """Back to the dock; a load stays open for anyone to go on with."""
        return self._guard(self._leave)

    def _leave(self) -> ShipState:
        if self.step is Step.UNLOAD:
            # A key pressed before the answer to the one before (take off, then leave).
            return self.refuse(
                "a package is being taken off: scan it, or {key:ship.back} to go on loading, "
                "then leave the load"
            )
        load = self.load
        if self.step is not Step.DOCK:
            self.move_to(Step.DOCK)
        self.load = None
        self.door = ""
        if load is not None:
            self.headline = (
                f"The {load.carrier_name} load at {load.door} stays open with "
                f"{load.loaded} package(s): scan its door to go on"
            )
        self.dock = self.terminal.dock()
        return self.state()

    def refresh(self) -> ShipState:
        return self._guard(self._refresh)

    def _refresh(self) -> ShipState:
        if self.load is not None:
            self.load = self.terminal.view(self.load.id)
            return self.state("Read again", "info")
        self.dock = self.terminal.dock()
        return self.state("Read again", "info")

    def unload(self) -> ShipState:
        if self.step is not Step.LOADING or self.load is None or not self.load.packages:
            return self.refuse("nothing is loaded to take off")
        self.move_to(Step.UNLOAD)
        return self.state("Scan the package to take off; {key:ship.back} if none", "warn")

    def back(self) -> ShipState:
        if self.step in (Step.UNLOAD, Step.CONFIRM):
            self.move_to(Step.LOADING)
            return self.state("Go on loading", "info")
        return self.state()

    def ask_close(self) -> ShipState:
        return self._guard(self._ask_close)

    def _ask_close(self) -> ShipState:
        load = self.load
        if self.step is not Step.LOADING or load is None:
            return self.refuse("choose a load first: scan its dock door")
        self.load = load = self.terminal.view(load.id)
        self.move_to(Step.CONFIRM)
        if not load.packages:
            return self.state(
                f"Nothing is loaded on the {load.carrier_name} load at {load.door}: "
                "{key:ship.confirm} cancels it (the door is free again), {key:ship.back} goes "
                "on loading",
                "warn",
            )
        left = (
            f" {load.to_load} {load.carrier} package(s) are still on the floor and stay "
            "for a later load."
            if load.to_load
            else ""
        )
        return self.state(f"Close out {load.loaded} package(s)?{left}", "warn")

    def confirm(self) -> ShipState:
        return self._guard(self._confirm)

    def _confirm(self) -> ShipState:
        load = self.load
        if self.step is not Step.CONFIRM or load is None:
            return self.refuse("nothing is being closed out")
        if not load.packages:
            try:
                self.terminal.cancel_load(load.id)
            except ShipError:
                self._back_to_loading(load.id)
                raise
            self.move_to(Step.DOCK)
            self.load = None
            self.door = ""
            self.headline = f"The empty {load.carrier_name} load at {load.door} is cancelled"
            self.dock = self.terminal.dock()
            return self.state(self.headline, "ok")
        try:
            done = self.terminal.close_out(load.id)
        except ShipError:
            self._back_to_loading(load.id)
            raise
        self.move_to(Step.DOCK)
        self.load = None
        self.door = ""
        said = f"{load.carrier_name} at {load.door} closed out: manifest {done.number}, "
        said += f"{done.packages} package(s), {len(done.shipped)} order(s) shipped"
        if done.partly:
            said += f", {len(done.partly)} partially (the rest comes from elsewhere)"
        self.headline = said
        self.prints = self.terminal.deliver_prints()
        self.dock = self.terminal.dock()
        if done.held:
            return self.state(
                f"{', '.join(done.held[:3])} left while held or cancelled: tell a supervisor",
                "warn",
                alert=True,
            )
        return self.state(
            f"Give the driver manifest {done.number} to sign; scan the next door to load", "ok"
        )

    def _back_to_loading(self, load_id: int) -> None:
        """A refused close-out or cancel: loading again, the load as it is now (someone may
        have loaded or taken off meanwhile)."""
        self.move_to(Step.LOADING)
        with contextlib.suppress(ShipError):
            self.load = self.terminal.view(load_id)

    def print_again(self) -> ShipState:
        self.prints = self.terminal.retry_prints()
        if not self.prints:
            return self.state("Nothing is waiting to print", "info")
        return self.state()
