"""A station's scanners as one stream of whole, understood scans.

The station UI hands every keystroke's character to :meth:`ScanFeed.key` (keyboard-wedge
scanners type into the terminal) and starts the serial scanners with :meth:`ScanFeed.start`;
both come out as :class:`ScanEvent` values, each with the resolver's reading of the code or
its reason for refusing it. The UI never sees half a scan.

Every scan counts, however quickly it follows an equal one: a picker taking three of one
item scans the same GTIN three times in a second, and each is a unit. Only a scanner's
own report that a read repeats one physical scan could be dropped, and none of the
scanners we drive (keyboard wedge, serial) reports that: equal text is all they send. So
the stations run them without a debounce, whatever a device file's ``debounce_ms`` says
(it is still read and checked, for the ``scan watch`` log and older files).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from app.barcodes import Barcode, BarcodeError, resolve
from app.hardware import wiring
from app.hardware.config import ScannerConfig, StationDevices
from devices.scanner import Scan, SerialScanner, WedgeDecoder

DEFAULT_WEDGE = ScannerConfig(name="keyboard", kind="wedge")


@dataclass(frozen=True)
class ScanEvent:
    """One whole scan (or keyed entry) and what it means."""

    text: str
    source: str
    keyed: bool
    at: float
    barcode: Barcode | None
    error: str | None

    @classmethod
    def of(cls, scan: Scan) -> ScanEvent:
        try:
            found: Barcode | None = resolve(scan.text)
            error = None
        except BarcodeError as exc:
            found, error = None, str(exc)
        return cls(scan.text, scan.source, scan.keyed, scan.at, found, error)


def every_scan(cfg: ScannerConfig) -> ScannerConfig:
    """The scanner as the stations run it: no scan dropped for equalling the one before
    (see the module's docstring: no device tells a double read from a second scan)."""
    return replace(cfg, debounce_ms=0)


class ScanFeed:
    """Keystrokes from the terminal and lines from serial scanners, as whole scans."""

    def __init__(self, wedge: WedgeDecoder, serial: Sequence[SerialScanner] = ()) -> None:
        self._wedge = wedge
        self._serial = list(serial)
        self._lock = threading.Lock()

    @classmethod
    def for_station(cls, devices: StationDevices | None) -> ScanFeed:
        """The station's configured scanners; a plain keyboard wedge if none are named."""
        wedge_cfg = (devices.wedge if devices else None) or DEFAULT_WEDGE
        serial = [s for s in devices.scanners if s.kind == "serial"] if devices else []
        return cls(
            wiring.wedge(every_scan(wedge_cfg)),
            [wiring.serial_scanner(every_scan(s)) for s in serial],
        )

    @property
    def serial_names(self) -> list[str]:
        return [f"{s.name} ({s.url})" for s in self._serial]

    @property
    def control_chars(self) -> frozenset[str]:
        """Control characters the wedge scanner sends as its prefix or terminator (STX…)."""
        return frozenset(c for c in self._wedge.prefix + self._wedge.suffix if not c.isprintable())

    @property
    def pending(self) -> str:
        """Characters typed or scanned since the last terminator."""
        return self._wedge.pending

    def key(self, char: str, at: float) -> list[ScanEvent]:
        """One character from the terminal; the whole entries it completed."""
        with self._lock:
            return [ScanEvent.of(s) for s in self._wedge.feed(char, at)]

    def backspace(self) -> None:
        with self._lock:
            self._wedge.backspace()

    def clear(self) -> None:
        with self._lock:
            self._wedge.clear()

    def start(
        self,
        on_event: Callable[[ScanEvent], None],
        on_status: Callable[[str, str], None] | None = None,
    ) -> None:
        """Read the serial scanners in the background; ``on_status(name, status)``."""
        for scanner in self._serial:

            def status(text: str, name: str = scanner.name) -> None:
                if on_status is not None:
                    on_status(name, text)

            scanner.start(lambda scan: on_event(ScanEvent.of(scan)), status)

    def stop(self) -> None:
        for scanner in self._serial:
            scanner.stop()
