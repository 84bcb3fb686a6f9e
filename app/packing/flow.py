"""The pack station's flow: open a tote, take a box, scan every unit into it, weigh it,
and let its label, packing slip and invoice print.

:data:`PACK_STEPS` declares the steps: what each asks for, the scans it expects, the steps
that may follow and the keys it enables. The pack screen reads it for its step line,
footer and help; :class:`PackFlow` moves between its steps only as it allows.

:class:`PackFlow` runs on the station's terminal worker, one scan or key at a time, and
answers each with a :class:`PackState`. It calls a :class:`PackTerminal` (the desk of a
running station, or a fake in the tests) and knows nothing of the screen or the store.
"""

from __future__ import annotations

import contextlib
import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from app.barcodes import BarcodeError, resolve, show
from app.flows import Flow, FlowState, Level, StepSpec, StepTable
from app.packing import cartonize
from app.packing.station import (
    MAX_KEYED_G,
    Bench,
    Closed,
    Damaged,
    PackError,
    Unit,
    WeightCheck,
)
from app.scanning import ScanEvent
from app.users import LoggedIn


class Step(enum.StrEnum):
    """Where the packer is in the work."""

    NO_TOTE = "no_tote"
    TOTES = "totes"
    """The order came in several totes: bring the rest to the bench."""
    BOX = "box"
    ITEMS = "items"
    WEIGH = "weigh"


PACK_STEPS: StepTable[Step] = StepTable(
    [
        StepSpec(
            Step.NO_TOTE,
            prompt="Scan a tote (or a single-order pick list's LIST- barcode)",
            expects=("tote", "pick_list"),
            next_steps=frozenset({Step.TOTES, Step.BOX}),
            keys=("pack.print",),
        ),
        StepSpec(
            Step.TOTES,
            prompt="Bring tote $tote to the bench and scan it ($have of $totes here)",
            expects=("tote",),
            next_steps=frozenset({Step.BOX, Step.NO_TOTE}),
            keys=("pack.aside",),
        ),
        StepSpec(
            Step.BOX,
            prompt="Scan a box: $box suggested",
            expects=("box", "gtin", "gs1"),
            # An item that ships in its own container goes straight to the scale.
            next_steps=frozenset({Step.ITEMS, Step.WEIGH, Step.NO_TOTE}),
            keys=("pack.problem", "pack.aside"),
        ),
        StepSpec(
            Step.ITEMS,
            prompt="Scan each unit into $box ($count in it, $left left)",
            # Another box scanned while this one is still empty takes its place.
            expects=("gtin", "gs1", "box"),
            next_steps=frozenset({Step.WEIGH, Step.NO_TOTE}),
            keys=("pack.close", "pack.problem", "pack.aside"),
        ),
        StepSpec(
            Step.WEIGH,
            prompt="Close $box and put it on the scale: $how",
            expects=(),
            next_steps=frozenset({Step.BOX, Step.ITEMS, Step.NO_TOTE}),
            keys=("pack.weigh", "pack.keyweight", "pack.override", "pack.back", "pack.problem"),
        ),
    ]
)
"""The pack station's steps, as data (the first is where a login starts)."""

HOLDING = frozenset({Step.TOTES, Step.BOX, Step.ITEMS, Step.WEIGH})
"""The steps in which the packer has an order on the bench."""


class PackTerminal(Protocol):
    """What the pack flow uses of the station (a test hands in a fake)."""

    @property
    def user(self) -> LoggedIn | None: ...

    @property
    def has_scale(self) -> bool: ...

    def open_tote(self, scan: str) -> Bench: ...

    def read_bench(self, bench: Bench) -> Bench: ...

    def check_box(self, scan: str) -> cartonize.BoxType: ...

    def check_unit(self, bench: Bench, scan: str, in_box: list[Unit]) -> Unit: ...

    def check_fit(self, bench: Bench, box: cartonize.BoxType, units: list[Unit]) -> str: ...

    def expected_weight(
        self, bench: Bench, box: cartonize.BoxType | None, in_box: list[Unit]
    ) -> int: ...

    def read_scale(self) -> int: ...

    def check_weight(self, measured_g: int, expected_g: int) -> WeightCheck: ...

    def override(self, badge: str, pin: str) -> tuple[int, str]: ...

    def note_weighing(
        self, bench: Bench, box: cartonize.BoxType | None, grams: int, expected_g: int
    ) -> None: ...

    def close_box(
        self,
        bench: Bench,
        box: cartonize.BoxType | None,
        in_box: list[Unit],
        weight_g: int,
        expected_g: int,
        override_by: int | None,
    ) -> Closed: ...

    def deliver_prints(self) -> list[tuple[Level, str]]: ...

    def retry_prints(self) -> list[tuple[Level, str]]: ...

    def release(self, bench: Bench, why: str) -> None: ...

    def problem(self, bench: Bench, kind: str, line_id: int) -> str: ...

    def damaged(self, bench: Bench, line_id: int) -> Damaged: ...

    def heartbeat(self, bench: Bench) -> bool: ...


@dataclass(frozen=True)
class PackState(FlowState[Step]):
    """What the pack screen shows after one scan or key."""

    headline: str = ""
    """The big line when no order is on the bench."""
    bench: Bench | None = None
    box: cartonize.BoxType | None = None
    own_container: bool = False
    """The open package is an item in its own container (no box)."""
    in_box: tuple[Unit, ...] = ()
    totes_here: tuple[str, ...] = ()
    weight: WeightCheck | None = None
    """The last weighing of the open box."""
    expected_g: int = 0
    """What the box being weighed should weigh."""
    prints: tuple[tuple[Level, str], ...] = ()
    """What the station's printers did with the last documents."""

    @property
    def holding(self) -> bool:
        return self.step in HOLDING

    @property
    def box_name(self) -> str:
        return box_name(self.box, self.own_container)

    @property
    def counted(self) -> int:
        return sum(u.count for u in self.in_box)

    @property
    def prompt(self) -> str:
        spec = PACK_STEPS[self.step]
        bench = self.bench
        if self.step is Step.NO_TOTE or bench is None:
            return PACK_STEPS[Step.NO_TOTE].prompt
        if self.step is Step.TOTES:
            missing = [t for t in bench.totes if t not in self.totes_here]
            return spec.say(
                tote=missing[0] if missing else "",
                have=len(self.totes_here),
                totes=len(bench.totes),
            )
        if self.step is Step.BOX:
            return spec.say(box=suggested_box(bench) or "any")
        if self.step is Step.ITEMS:
            return spec.say(
                box=self.box_name, count=self.counted, left=bench.units_left - self.counted
            )
        how = (
            "{key:pack.weigh} weighs it"
            if "pack.keyweight" not in self.keys
            else "{key:pack.keyweight} keys its weight"
        )
        return spec.say(box=self.box_name, how=how)


def kind_of(text: str) -> str | None:
    """The barcode kind of a scan, or None if it is no valid barcode."""
    try:
        return resolve(text).kind
    except BarcodeError:
        return None


def box_name(box: cartonize.BoxType | None, own_container: bool) -> str:
    """What the open package is called on screen."""
    if own_container:
        return "its own container"
    return box.code if box is not None else "the box"


def suggested_box(bench: Bench) -> str | None:
    """The code of the next box the suggestion names (``own container`` for an item that
    ships in its own), or None without a suggestion."""
    if bench.suggestion is None or not bench.suggestion.boxes:
        return None
    first = bench.suggestion.boxes[0]
    return first.box.code if first.box is not None else "own container"


class PackFlow(Flow[Step]):
    """The packer's work, one scan or key at a time (on the terminal worker thread only)."""

    def __init__(self, terminal: PackTerminal) -> None:
        super().__init__(PACK_STEPS)
        self.terminal = terminal
        self.headline = "Scan a tote to start packing"
        self.bench: Bench | None = None
        self.box: cartonize.BoxType | None = None
        self.own_container = False
        self.in_box: list[Unit] = []
        self.fit_warned = False
        """The packer was told the units may not fit this box (once is enough)."""
        self.totes_here: list[str] = []
        self.weight: WeightCheck | None = None
        self.expected_g = 0
        self.rechecked = False
        """The box was weighed out of tolerance twice: a supervisor may let it go."""
        self.prints: list[tuple[Level, str]] = []

    # --- what the screen sees ---------------------------------------------------------

    @property
    def box_name(self) -> str:
        return box_name(self.box, self.own_container)

    def _counted(self) -> int:
        """Units in the open box."""
        return sum(u.count for u in self.in_box)

    def keys(self) -> frozenset[str]:
        keys = super().keys()
        if self.step is Step.WEIGH:
            if not self.rechecked:
                keys -= {"pack.override"}
            if self.terminal.has_scale:
                keys -= {"pack.keyweight"}
            else:
                keys -= {"pack.weigh"}
        if self.step is Step.ITEMS and not self.in_box:
            keys -= {"pack.close"}
        return keys

    def state(self, message: str = "", level: Level = "info", *, alert: bool = False) -> PackState:
        return PackState(
            step=self.step,
            message=re.sub(r" {2,}", " ", message).strip(),
            level=level,
            alert=alert,
            keys=self.keys(),
            headline=self.headline,
            bench=self.bench,
            box=self.box,
            own_container=self.own_container,
            in_box=tuple(self.in_box),
            totes_here=tuple(self.totes_here),
            weight=self.weight,
            expected_g=self.expected_g,
            prints=tuple(self.prints),
        )

    def refuse(self, message: str) -> PackState:
        """Nothing was recorded; the step stays."""
        return self.state(message, "error", alert=True)

    def _guard(self, action: Callable[[], PackState]) -> PackState:
        try:
            return action()
        except PackError as exc:
            return self.refuse(str(exc))

    def _drop(self, headline: str) -> None:
        self.move_to(Step.NO_TOTE)
        self.headline = headline
        self.bench = None
        self._new_box()
        self.totes_here = []

    def _new_box(self) -> None:
        self.fit_warned = False
        self.box = None
        self.own_container = False
        self.in_box = []
        self.weight = None
        self.expected_g = 0
        self.rechecked = False

    # --- scans ------------------------------------------------------------------------

    def scan(self, event: ScanEvent) -> PackState:
        return self._guard(lambda: self._scan(event))

    def _scan(self, event: ScanEvent) -> PackState:
        text = event.text
        kind = event.barcode.kind if event.barcode is not None else None
        me = self.terminal.user.badge if self.terminal.user else None
        if kind is None and me is not None and text.strip().upper() == me:
            kind = "badge"  # the badge id typed, as at the login
        if kind == "badge":
            who = me or "someone"
            if event.barcode is None or event.barcode.value == who:
                return self.refuse(
                    f"you are logged in here already ({who}), scanned your badge: carry on, "
                    "or log out with {key:app.logout}"
                )
            return self.refuse(
                f"{who} is logged in here: log out with {{key:app.logout}} before another "
                "badge logs in"
            )
        if self.step is Step.NO_TOTE:
            return self._open(text)
        bench = self.bench
        assert bench is not None
        if self.step is Step.TOTES:
            return self._tote(bench, text)
        if kind in ("tote", "pick_list"):
            return self.refuse(self._another_tote(bench, text))
        if self.step is Step.BOX:
            if kind in ("gtin", "gs1"):
                return self._own_container(bench, text)
            self.box = self.terminal.check_box(text)
            self.move_to(Step.ITEMS)
            chose = suggested_box(bench)
            note = "" if chose in (None, self.box.code) else f" (suggested {chose})"
            return self.state(f"Box {self.box.code}{note}: scan each unit into it", "ok")
        if self.step is Step.ITEMS:
            if not self.in_box and kind in ("box", None) and not self.own_container:
                return self._other_box(bench, text)
            if kind == "box":
                return self.refuse(
                    f"expected an item, scanned box {show(text)}: {self.box_name} already "
                    f"holds {self._counted()} unit(s). Close it with {{key:pack.close}} "
                    "and scan the next box for the rest, or set the order aside with "
                    "{key:pack.aside} to start again"
                )
            return self._unit(bench, text)
        weigh = "pack.weigh" if self.terminal.has_scale else "pack.keyweight"
        return self.refuse(
            f"the box is being weighed, scanned {show(text)}: {{key:{weigh}}} weighs it, "
            "{key:pack.back} opens it again"
        )

    def _open(self, text: str) -> PackState:
        bench = self.terminal.open_tote(text)
        self.bench = bench
        self._new_box()
        # What printed for the order before is no news for this one.
        self.prints = []
        try:
            scanned = resolve(text).site_code
        except BarcodeError:
            scanned = text
        self.totes_here = [t for t in bench.totes if t.upper() == scanned.upper()]
        if len(bench.totes) > len(self.totes_here) and self.totes_here:
            self.move_to(Step.TOTES)
            return self.state(
                f"Order {bench.order_ref} is in {len(bench.totes)} totes: bring the others "
                "to the bench",
                "ok",
            )
        self.totes_here = list(bench.totes)
        self.move_to(Step.BOX)
        return self.state(self._opened(bench), "ok")

    def _another_tote(self, bench: Bench, text: str) -> str:
        code = resolve(text).site_code
        if code.upper() in {t.upper() for t in bench.totes}:
            return (
                f"tote {code} is this order's and open already, scanned it again: carry on "
                f"with {bench.order_ref}"
            )
        return (
            f"expected a box or an item of {bench.order_ref}, scanned {show(text)}: finish "
            "this order, or set it aside with {key:pack.aside}, before opening another"
        )

    def _opened(self, bench: Bench) -> str:
        said = f"Order {bench.order_ref}: {bench.units_left} unit(s) to pack"
        if bench.left_open:
            said = (
                f"Order {bench.order_ref} was still open on a bench: a box not closed then was "
                "not recorded, put its units back in the tote. "
                f"{len(bench.closed)} box(es) closed, {bench.units_left} unit(s) to pack"
            )
        if bench.closed:
            said += f", {len(bench.closed)} box(es) closed before"
        if bench.suggestion_note:
            said += f". No suggestion: {bench.suggestion_note}"
        return said

    def _tote(self, bench: Bench, text: str) -> PackState:
        try:
            code = resolve(text)
        except BarcodeError as exc:
            raise PackError(f"expected a tote of order {bench.order_ref}: {exc}") from None
        wanted = [t for t in bench.totes if t not in self.totes_here]
        if code.kind != "tote" or code.site_code.upper() not in {t.upper() for t in wanted}:
            raise PackError(
                f"expected tote {', '.join(wanted)} of order {bench.order_ref}, scanned "
                f"{show(text)}"
            )
        self.totes_here.append(next(t for t in wanted if t.upper() == code.site_code.upper()))
        if len(self.totes_here) < len(bench.totes):
            return self.state(f"{code.site_code} is here", "ok")
        self.move_to(Step.BOX)
        return self.state(f"All {len(bench.totes)} totes are here. {self._opened(bench)}", "ok")

    def _own_container(self, bench: Bench, text: str) -> PackState:
        unit = self.terminal.check_unit(bench, text, [])
        if not bench.line(unit.line_id).unit.own_container:
            raise PackError(
                f"expected a box's barcode first ({suggested_box(bench) or 'any box'}), scanned "
                f"{show(text)} ({unit.sku}): take a box, scan it, then scan the items into it"
            )
        self.own_container = True
        self.in_box = [unit]
        self.expected_g = self.terminal.expected_weight(bench, None, self.in_box)
        self.move_to(Step.WEIGH)
        return self.state(f"{unit.sku} ships in its own container: weigh it", "ok")

    def _other_box(self, bench: Bench, text: str) -> PackState:
        """The packer took another box before putting anything in the first."""
        try:
            box = self.terminal.check_box(text)
        except PackError:
            if kind_of(text) == "box":
                raise
            return self._unit(bench, text)
        before, self.box = self.box, box
        self.fit_warned = False
        was = f" instead of {before.code}" if before is not None else ""
        return self.state(f"Box {box.code}{was}: scan each unit into it", "ok")

    def _unit(self, bench: Bench, text: str) -> PackState:
        unit = self.terminal.check_unit(bench, text, self.in_box)
        line = bench.line(unit.line_id)
        if line.unit.own_container and not self.in_box:
            # Nothing in the box yet: the item goes out in its own container instead.
            self.box = None
            return self._own_container(bench, text)
        if line.unit.own_container:
            raise PackError(
                f"{unit.sku} ships in its own container, not in {self.box_name}: close this "
                "box first, then scan it at the box step"
            )
        # A box's weight limit is a refusal; a unit the suggestion could not place with
        # the others is a warning (the packer sees the real box).
        warning = (
            self.terminal.check_fit(bench, self.box, [*self.in_box, unit])
            if self.box is not None
            else ""
        )
        if warning and self.fit_warned:
            warning = ""  # said once for this box is enough
        self.fit_warned = self.fit_warned or bool(warning)
        self.in_box.append(unit)
        left = bench.units_left - self._counted()
        tail = (
            "every unit is in: {key:pack.close} closes the box"
            if left == 0
            else f"{left} left to pack"
        )
        if warning:
            return self.state(f"{unit.sku} into {self.box_name}; {tail}. {warning}", "warn")
        return self.state(f"{unit.sku} into {self.box_name}; {tail}", "ok")

    # --- keys -------------------------------------------------------------------------

    def close(self) -> PackState:
        return self._guard(self._close)

    def _close(self) -> PackState:
        if self.step is not Step.ITEMS or self.bench is None or not self.in_box:
            return self.refuse("scan the items into the box before closing it")
        self.expected_g = self.terminal.expected_weight(self.bench, self.box, self.in_box)
        self.weight = None
        self.rechecked = False
        self.move_to(Step.WEIGH)
        how = (
            "{key:pack.weigh} weighs it"
            if self.terminal.has_scale
            else ("no scale here: weigh it and key the weight with {key:pack.keyweight}")
        )
        return self.state(
            f"Close {self.box_name} ({self._counted()} unit(s)); expected "
            f"{self.expected_g:,} g: put it on the scale, {how}",
            "info",
        )

    def back(self) -> PackState:
        return self._guard(self._back)

    def _back(self) -> PackState:
        if self.step is not Step.WEIGH:
            return self.refuse("there is no box being weighed")
        if self.own_container:
            self.own_container = False
            self.in_box = []
            self.move_to(Step.BOX)
            return self.state("Scan a box, or the item that ships in its own container", "info")
        self.weight = None
        self.move_to(Step.ITEMS)
        return self.state(f"{self.box_name} is open again: scan more units or close it", "info")

    def weigh(self) -> PackState:
        return self._guard(lambda: self._weighed(self.terminal.read_scale(), None))

    def keyed_weight(self, grams: int) -> PackState:
        if grams > MAX_KEYED_G:
            return self.refuse(
                f"expected the box's weight in grams, keyed {grams:,} g (more than "
                f"{MAX_KEYED_G // 1000} kg): key it again"
            )
        if grams <= 0:
            return self.refuse(f"expected the box's weight in grams, keyed {grams} g: key it again")
        return self._guard(lambda: self._weighed(grams, None))

    def override(self, badge: str, pin: str) -> PackState:
        return self._guard(lambda: self._override(badge, pin))

    def _override(self, badge: str, pin: str) -> PackState:
        if (
            self.step is not Step.WEIGH
            or self.weight is None
            or self.weight.ok
            or not self.rechecked
        ):
            return self.refuse("an override is for a box weighed out of tolerance twice")
        user_id, name = self.terminal.override(badge, pin)
        return self._weighed(self.weight.measured_g, (user_id, name))

    def _weighed(self, grams: int, override: tuple[int, str] | None) -> PackState:
        bench = self.bench
        if self.step is not Step.WEIGH or bench is None:
            return self.refuse("close a box before weighing it")
        if grams <= 0:
            return self.refuse(
                f"the scale reads {grams} g: put the box on the scale (and zero it when empty)"
            )
        check = self.terminal.check_weight(grams, self.expected_g)
        out_before = self.weight is not None and not self.weight.ok
        self.weight = check
        if not check.ok and override is None:
            self.terminal.note_weighing(bench, self.box, grams, self.expected_g)
            if self.rechecked or out_before:
                # Weighed again and still out: now a supervisor may let it go.
                self.rechecked = True
                return self.state(
                    f"Still out of tolerance: {check.say()}. Check the contents; a supervisor "
                    "may let it go with {key:pack.override}",
                    "error",
                    alert=True,
                )
            return self.state(
                f"Out of tolerance: {check.say()}. Check the box holds what the screen lists, "
                "then weigh it again",
                "error",
                alert=True,
            )
        try:
            closed = self.terminal.close_box(
                bench,
                self.box,
                self.in_box,
                grams,
                self.expected_g,
                override[0] if override else None,
            )
        except PackError:
            raise
        except Exception as exc:  # noqa: BLE001 - the box may be saved: never close it twice
            self._drop(f"Order {bench.order_ref}: scan its tote again")
            return self.state(
                "The store did not answer while the box was being closed "
                f"({(str(exc).splitlines() or [type(exc).__name__])[0][:100]}): it may have "
                "been recorded. "
                "Scan the tote again: the screen shows the boxes closed and what is left",
                "error",
                alert=True,
            )
        # Saved: the package exists whatever happens next.
        by = f", let go by {override[1]}" if override else ""
        said = (
            f"Box {closed.package_number} closed: {closed.weight_g:,} g{by}, {closed.carrier} "
            f"{closed.tracking_number}"
        )
        if closed.rated:
            # Rate shopping chose the carrier's service: which, and why.
            said += f" ({closed.rated})"
        if not closed.last:
            try:
                self.bench = self.terminal.read_bench(bench)
            except Exception as exc:  # noqa: BLE001 - the box is saved: never close it twice
                self._drop(f"Order {bench.order_ref}: box {closed.package_number} closed")
                return self.state(
                    f"{said}. The order could not be read again ({exc}): scan its tote to go on",
                    "warn",
                )
            self._new_box()
            self.move_to(Step.BOX)
            return self.state(
                f"{said}. {self.bench.units_left} unit(s) left: scan the next box. The labels "
                "print with the last box",
                "ok",
            )
        self._send_prints()
        freed = ", ".join(closed.totes_freed)
        self._drop(f"Order {bench.order_ref} packed — scan the next tote")
        level: Level = "ok" if all(lvl == "ok" for lvl, _ in self.prints) else "warn"
        return self.state(
            f"{said}. Order packed; tote(s) {freed} free for picking", level, alert=level != "ok"
        )

    def print_again(self) -> PackState:
        return self._guard(self._print_again)

    def _print_again(self) -> PackState:
        self.prints = self.terminal.retry_prints()
        if not self.prints:
            return self.state("No print job of this station is waiting or failed", "info")
        level: Level = "ok" if all(lvl == "ok" for lvl, _ in self.prints) else "warn"
        return self.state("Print jobs sent again", level)

    def problem(self, kind: str, line_id: int) -> PackState:
        return self._guard(lambda: self._problem(kind, line_id))

    def _problem(self, kind: str, line_id: int) -> PackState:
        bench = self.bench
        if self.step not in HOLDING or bench is None:
            return self.refuse("there is no order on the bench")
        if kind == "damaged":
            return self._damaged(bench, line_id)
        shelf = self.terminal.problem(bench, kind, line_id)
        sku = bench.line(line_id).sku
        back = self._unpack_note()
        self._drop(f"Order {bench.order_ref} is on the problem shelf")
        return self.state(
            f"{sku} {kind}: take every tote of {bench.order_ref} ({', '.join(bench.totes)}) "
            f"to {shelf}; the supervisor is told. {back}",
            "warn",
        )

    def _send_prints(self) -> None:
        """Send the documents just queued; the order is packed whatever the printers do."""
        try:
            self.prints = self.terminal.deliver_prints()
        except Exception as exc:  # noqa: BLE001 - the jobs stay queued; say so, carry on
            self.prints = [
                (
                    "error",
                    f"the documents are queued but were not sent ({exc}): {{key:pack.print}} "
                    "sends them",
                )
            ]

    def _damaged(self, bench: Bench, line_id: int) -> PackState:
        sku = bench.line(line_id).sku
        done = self.terminal.damaged(bench, line_id)
        # Recorded: the unit is off the order whatever happens next.
        said = f"{sku} damaged, put it in the damaged bin: {done.rerouted}"
        if done.finished is not None:
            self._send_prints()
            self._drop(f"Order {bench.order_ref} packed — scan the next tote")
            level: Level = "ok" if all(lvl == "ok" for lvl, _ in self.prints) else "warn"
            return self.state(
                f"{said}. The rest is packed: tote(s) {', '.join(bench.totes)} free for picking",
                level,
            )
        if done.ended:
            self._drop(f"Order {bench.order_ref}: nothing left to pack here")
            return self.state(
                f"{said}. Nothing of the order is left to ship from here: tote(s) "
                f"{', '.join(bench.totes)} free for picking",
                "warn",
            )
        try:
            self.bench = fresh = self.terminal.read_bench(bench)
        except Exception as exc:  # noqa: BLE001 - the unit is recorded: never twice
            self._drop(f"Order {bench.order_ref}: scan its tote again")
            return self.state(f"{said}. The order could not be read again ({exc})", "warn")
        # A unit of the line scanned into the open box may have been the damaged one.
        left = next((ln.left for ln in fresh.lines if ln.line_id == line_id), 0)
        taken_out = False
        while sum(u.count for u in self.in_box if u.line_id == line_id) > left:
            drop = next(u for u in reversed(self.in_box) if u.line_id == line_id)
            self.in_box.remove(drop)
            taken_out = True
        if taken_out:
            said += f". Take it out of {self.box_name}"
        if self.step is Step.WEIGH and taken_out:
            self.weight = None
            self.move_to(Step.BOX if self.own_container or not self.in_box else Step.ITEMS)
            if self.own_container:
                self._new_box()
            elif self.in_box:
                said += f"; {self.box_name} is open again"
        outside = fresh.units_left - self._counted()
        return self.state(f"{said}. Pack on: {outside} unit(s) left to scan", "warn")

    def _unpack_note(self) -> str:
        units = self._counted()
        return f"Put the {units} unit(s) of the open box back in the tote." if units else ""

    def set_aside(self) -> PackState:
        return self._guard(self._set_aside)

    def _set_aside(self) -> PackState:
        bench = self.bench
        if self.step not in HOLDING or bench is None:
            return self.refuse("there is no order on the bench")
        self.terminal.release(bench, "set aside")
        back = self._unpack_note()
        self._drop(f"Order {bench.order_ref} set aside")
        return self.state(f"Anyone can scan its tote to go on. {back}", "info")

    def leave(self) -> None:
        """Before logging out: the order on the bench is let go so anyone can pack it."""
        if self.step in HOLDING and self.bench is not None:
            with contextlib.suppress(PackError):
                self.terminal.release(self.bench, "logged out")
        self._drop("Logged out")

    # --- live -------------------------------------------------------------------------

    def heartbeat(self) -> PackState | None:
        """Tell the store the bench still has its order; what changed, or None."""
        if self.step not in HOLDING or self.bench is None:
            return None
        if self.terminal.heartbeat(self.bench):
            return None
        bench = self.bench
        back = self._unpack_note()
        self._drop(f"Order {bench.order_ref} was taken off this bench")
        return self.state(
            f"A supervisor took it back or it was cancelled: nothing more is recorded on it "
            f"here. {back}",
            "warn",
            alert=True,
        )
