"""Turning a station's device configuration into open devices, and checking each one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from app.hardware.config import PrinterConfig, ScaleConfig, ScannerConfig, StationDevices
from app.hardware.printqueue import Target
from devices.errors import DeviceError
from devices.printers import Printer, open_printer
from devices.scale import Scale, open_scale
from devices.scanner import SerialScanner, WedgeDecoder, terminator


def printer(cfg: PrinterConfig) -> Printer:
    o = dict(cfg.options)
    options: dict[str, Any] = {}
    if "timeout_s" in o:
        options["timeout"] = float(o.pop("timeout_s"))
    if cfg.kind == "serial":
        options["url"] = str(o.pop("port"))
    if cfg.kind == "folder":
        options["extension"] = cfg.language
    options.update(o)
    return open_printer(cfg.name, cfg.kind, **options)


def targets(devices: StationDevices) -> dict[str, Target]:
    """The station's printers as the print queue sends to them."""
    return {
        name: Target(sender=printer(cfg), content_type=cfg.content_type, where=cfg.where())
        for name, cfg in devices.printers.items()
    }


def scale(cfg: ScaleConfig) -> Scale:
    options: dict[str, Any] = {"baudrate": cfg.baudrate, "timeout": cfg.timeout_s}
    if cfg.kind == "continuous":
        options.update(stable_frames=cfg.stable_frames, tolerance_grams=cfg.tolerance_g)
    return open_scale(cfg.kind, cfg.port, **options)


def wedge(cfg: ScannerConfig) -> WedgeDecoder:
    return WedgeDecoder(
        source=cfg.name,
        prefix=cfg.prefix,
        suffix=terminator(cfg.terminator),
        max_gap=cfg.max_gap_ms / 1000,
        min_length=cfg.min_length,
        debounce=cfg.debounce_ms / 1000,
    )


def serial_scanner(cfg: ScannerConfig) -> SerialScanner:
    return SerialScanner(
        cfg.port,
        name=cfg.name,
        baudrate=cfg.baudrate,
        suffix=terminator(cfg.terminator),
        prefix=cfg.prefix,
        debounce=cfg.debounce_ms / 1000,
    )


@dataclass(frozen=True)
class CheckResult:
    """``state`` is ``ok``, ``fail``, or ``unverified`` (it could not be asked from here)."""

    station: str
    device: str
    state: str
    detail: str

    @property
    def failed(self) -> bool:
        return self.state == "fail"


def check(devices: StationDevices) -> Iterator[CheckResult]:
    """Try every device of a station; each result says what works or what is wrong."""
    station = devices.station
    for cfg in devices.scanners:
        name = f"scanner {cfg.name}"
        if cfg.kind == "wedge":
            yield CheckResult(
                station,
                name,
                "unverified",
                "keyboard wedge: it types into the station's terminal, so it cannot be reached "
                "from here; scan a code in `shipfloor scan watch` on that terminal to try it",
            )
            continue
        try:
            port = serial_scanner(cfg).open()
            port.close()
        except (DeviceError, ValueError) as exc:
            yield CheckResult(station, name, "fail", str(exc))
        else:
            yield CheckResult(
                station, name, "ok", f"serial port {cfg.port} opens at {cfg.baudrate} baud"
            )
    if devices.scale is not None:
        try:
            with scale(devices.scale) as s:
                who = s.identify()
                reading = s.read_now()
        except (DeviceError, ValueError) as exc:
            yield CheckResult(station, "scale", "fail", str(exc))
        else:
            state = "stable" if reading.stable else "moving"
            yield CheckResult(station, "scale", "ok", f"{who}; reads {reading.grams} g ({state})")
    for pcfg in devices.printers.values():
        name = f"printer {pcfg.name}"
        try:
            status = printer(pcfg).check()
        except (DeviceError, ValueError) as exc:
            yield CheckResult(station, name, "fail", str(exc))
            continue
        if status.ready:
            state = "ok" if status.verified else "unverified"
            yield CheckResult(station, name, state, f"{pcfg.where()}: {status.detail}")
        else:
            problems = ", ".join(status.problems) or status.detail
            yield CheckResult(station, name, "fail", f"{pcfg.where()} is not ready: {problems}")
