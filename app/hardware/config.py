"""Each station's devices, named in one TOML file on the station PC.

The file is ``shipfloor-devices.toml`` in the working directory unless ``--devices FILE`` or
``SHIPFLOOR_DEVICES`` names another. One table per station code, holding its scanners,
its scale and its printers by name::

    [stations.PACK-01.scanners.hand]
    kind = "wedge"             # keystrokes into the terminal
    terminator = "enter"       # enter | tab | lf | crlf | any text
    prefix = ""                # what the scanner sends before each code, if anything
    max_gap_ms = 50            # keystrokes further apart than this are typing
    min_length = 3

    [stations.PACK-01.scanners.fixed]
    kind = "serial"
    port = "/dev/ttyACM0"      # or /dev/serial/by-id/…, COM3, rfc2217://host:port
    baudrate = 9600
    terminator = "enter"

    [stations.PACK-01.scale]
    kind = "sics"              # sics (Mettler Toledo MT-SICS) | continuous (ST,GS,+ 1.234kg)
    port = "/dev/ttyUSB0"
    baudrate = 9600
    timeout_s = 2.0

    [stations.PACK-01.printers.label]
    kind = "tcp"               # tcp (raw 9100) | serial | cups | folder
    host = "10.0.0.21"
    port = 9100
    language = "zpl"           # zpl | pdf: what the printer takes
    dpi = 203                  # 203 | 300 (ZPL label printers)

    [stations.PACK-01.printers.documents]
    kind = "cups"
    queue = "pack1-laser"
    language = "pdf"

    [stations.PICK-01.keymap]  # the site's own keys, by binding id (F1 lists them)
    "pick.short" = "f8"

Every key is checked: an unknown key, a missing one or a value of the wrong type is
reported with its place in the file and what was expected.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_FILE = "shipfloor-devices.toml"
ENV = "SHIPFLOOR_DEVICES"

LANGUAGES = {"zpl": "application/zpl", "pdf": "application/pdf"}


class DeviceConfigError(ValueError):
    """The device file is missing or wrong; the message names the place and the fix."""


@dataclass(frozen=True)
class ScannerConfig:
    name: str
    kind: str
    terminator: str = "enter"
    prefix: str = ""
    max_gap_ms: int = 50
    min_length: int = 3
    debounce_ms: int = 0
    """Accepted from older device files and not used: every scan counts (app.scanning)."""
    port: str = ""
    baudrate: int = 9600


@dataclass(frozen=True)
class ScaleConfig:
    kind: str
    port: str
    baudrate: int = 9600
    timeout_s: float = 2.0
    stable_frames: int = 3
    tolerance_g: int = 2


@dataclass(frozen=True)
class PrinterConfig:
    name: str
    kind: str
    language: str
    options: Mapping[str, Any]
    dpi: int = 203
    """A label printer's resolution (203 or 300): ZPL is laid out in its dots."""

    @property
    def content_type(self) -> str:
        return LANGUAGES[self.language]

    def where(self) -> str:
        o = self.options
        if self.kind == "tcp":
            return f"{o['host']}:{o.get('port', 9100)}"
        if self.kind == "serial":
            return str(o["port"])
        if self.kind == "cups":
            return f"CUPS queue {o['queue']}"
        return str(o["folder"])


@dataclass(frozen=True)
class StationDevices:
    station: str
    scanners: tuple[ScannerConfig, ...] = ()
    scale: ScaleConfig | None = None
    printers: Mapping[str, PrinterConfig] = field(default_factory=dict)
    keymap: Mapping[str, str] = field(default_factory=dict)
    """Binding id to key(s) (``"pick.short" = "f8"``): the site's own keys for the station."""

    @property
    def wedge(self) -> ScannerConfig | None:
        """The station's keyboard-wedge scanner settings, if it has one."""
        return next((s for s in self.scanners if s.kind == "wedge"), None)


@dataclass(frozen=True)
class DeviceFile:
    path: Path
    stations: Mapping[str, StationDevices]

    def station(self, code: str) -> StationDevices:
        found = self.stations.get(code)
        if found is None:
            known = ", ".join(sorted(self.stations)) or "none"
            raise DeviceConfigError(
                f"{self.path}: no devices are configured for station {code!r} "
                f"(stations in the file: {known}); add a [stations.{code}] table"
            )
        return found


def config_path(explicit: str | None = None) -> Path:
    return Path(explicit or os.environ.get(ENV) or DEFAULT_FILE)


def load(path: Path) -> DeviceFile:
    """Read and check the device file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DeviceConfigError(
            f"there is no device file {path}: write one (README, 'Wiring devices') or name "
            f"it with --devices FILE or ${ENV}"
        ) from None
    except OSError as exc:
        raise DeviceConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise DeviceConfigError(f"{path} is not UTF-8 text ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise DeviceConfigError(f"{path} is not valid TOML: {exc}") from None
    return parse(data, path)


def parse(data: Mapping[str, Any], path: Path) -> DeviceFile:
    _keys(data, {"stations"}, str(path), required={"stations"})
    stations_table = _table(data["stations"], "stations", path)
    stations: dict[str, StationDevices] = {}
    for code, body in stations_table.items():
        where = f"stations.{code}"
        _name(code, where, path)
        table = _table(body, where, path)
        _keys(table, {"scanners", "scale", "printers", "keymap"}, f"{path}: {where}")
        keymap = _table(table.get("keymap", {}), f"{where}.keymap", path)
        for binding, keys in keymap.items():
            if not isinstance(keys, str) or not keys.strip():
                raise DeviceConfigError(
                    f'{path}: {where}.keymap.{binding} must name a key ("f8", "ctrl+s"), '
                    f"not {keys!r}"
                )
        scanners = tuple(
            _scanner(
                name, _table(t, f"{where}.scanners.{name}", path), f"{where}.scanners.{name}", path
            )
            for name, t in _table(table.get("scanners", {}), f"{where}.scanners", path).items()
        )
        wedges = [sc.name for sc in scanners if sc.kind == "wedge"]
        if len(wedges) > 1:
            raise DeviceConfigError(
                f"{path}: {where} names {len(wedges)} wedge scanners ({', '.join(wedges)}); a "
                "terminal has one keyboard input, so name one (any number of serial ones)"
            )
        scale = None
        if "scale" in table:
            scale = _scale(_table(table["scale"], f"{where}.scale", path), f"{where}.scale", path)
        printers = {
            name: _printer(
                name, _table(t, f"{where}.printers.{name}", path), f"{where}.printers.{name}", path
            )
            for name, t in _table(table.get("printers", {}), f"{where}.printers", path).items()
        }
        stations[code] = StationDevices(
            station=code,
            scanners=scanners,
            scale=scale,
            printers=printers,
            keymap={str(k): str(v) for k, v in keymap.items()},
        )
    return DeviceFile(path=path, stations=stations)


_SCANNER_KEYS = {
    "wedge": {"kind", "terminator", "prefix", "max_gap_ms", "min_length", "debounce_ms"},
    "serial": {"kind", "port", "baudrate", "terminator", "prefix", "debounce_ms"},
}
_SCALE_KEYS = {
    "sics": {"kind", "port", "baudrate", "timeout_s"},
    "continuous": {"kind", "port", "baudrate", "timeout_s", "stable_frames", "tolerance_g"},
}
_PRINTER_KEYS = {
    "tcp": ({"host"}, {"port", "timeout_s", "status_query"}),
    "serial": ({"port"}, {"baudrate", "timeout_s"}),
    "cups": ({"queue"}, {"lp", "options", "timeout_s"}),
    "folder": ({"folder"}, set()),
}
_TYPES: dict[str, type | tuple[type, ...]] = {
    "kind": str,
    "terminator": str,
    "prefix": str,
    "max_gap_ms": int,
    "min_length": int,
    "debounce_ms": int,
    "port": (str, int),
    "baudrate": int,
    "timeout_s": (int, float),
    "stable_frames": int,
    "tolerance_g": int,
    "host": str,
    "status_query": bool,
    "queue": str,
    "lp": str,
    "options": dict,
    "folder": str,
    "language": str,
    "dpi": int,
}


def _scanner(name: str, t: Mapping[str, Any], where: str, path: Path) -> ScannerConfig:
    _name(name, where, path)
    kind = _kind(t, _SCANNER_KEYS, where, path)
    _keys(
        t, _SCANNER_KEYS[kind], f"{path}: {where}", required={"port"} if kind == "serial" else set()
    )
    values = _typed(t, where, path)
    if values.get("terminator", "enter") == "":
        raise DeviceConfigError(f"{path}: {where}.terminator cannot be empty")
    return ScannerConfig(name=name, **values)


def _scale(t: Mapping[str, Any], where: str, path: Path) -> ScaleConfig:
    kind = _kind(t, _SCALE_KEYS, where, path)
    _keys(t, _SCALE_KEYS[kind], f"{path}: {where}", required={"port"})
    values = _typed(t, where, path)
    values["port"] = str(values["port"])
    return ScaleConfig(**values)


def _printer(name: str, t: Mapping[str, Any], where: str, path: Path) -> PrinterConfig:
    _name(name, where, path)
    kind = _kind(t, {k: set() for k in _PRINTER_KEYS}, where, path)
    required, optional = _PRINTER_KEYS[kind]
    _keys(
        t, required | optional | {"kind", "language", "dpi"}, f"{path}: {where}", required=required
    )
    values = _typed(t, where, path)
    language = values.pop("language", "pdf" if kind == "cups" else "zpl")
    dpi = values.pop("dpi", 203)
    if dpi not in (203, 300):
        raise DeviceConfigError(f"{path}: {where}.dpi is {dpi}; a label printer is 203 or 300 dpi")
    if language not in LANGUAGES:
        raise DeviceConfigError(
            f"{path}: {where}.language is {language!r}; expected one of {', '.join(LANGUAGES)}"
        )
    values.pop("kind")
    if kind == "cups" and "options" in values:
        values["options"] = {str(k): str(v) for k, v in values["options"].items()}
    return PrinterConfig(name=name, kind=kind, language=language, options=values, dpi=dpi)


def _name(name: str, where: str, path: Path) -> None:
    if not 1 <= len(name) <= 40:
        raise DeviceConfigError(f"{path}: {where}: a name is 1 to 40 characters long")


def _kind(t: Mapping[str, Any], kinds: Mapping[str, object], where: str, path: Path) -> str:
    kind = t.get("kind")
    if kind not in kinds:
        got = "nothing" if kind is None else repr(kind)
        raise DeviceConfigError(
            f"{path}: {where}.kind is {got}; expected one of {', '.join(sorted(kinds))}"
        )
    return str(kind)


def _keys(
    t: Mapping[str, Any],
    allowed: set[str],
    where: str,
    *,
    required: set[str] | frozenset[str] = frozenset(),
) -> None:
    unknown = sorted(set(t) - allowed)
    if unknown:
        raise DeviceConfigError(
            f"{where}: unknown key {unknown[0]!r} (expected {', '.join(sorted(allowed))})"
        )
    missing = sorted(required - set(t))
    if missing:
        raise DeviceConfigError(f"{where}: {missing[0]!r} is missing")


_RANGES: dict[str, tuple[float, float]] = {
    "max_gap_ms": (1, 10_000),
    "min_length": (1, 1_000),
    "debounce_ms": (0, 60_000),
    "baudrate": (50, 4_000_000),
    "timeout_s": (0.01, 600),
    "stable_frames": (1, 100),
    "tolerance_g": (0, 100_000),
}


def _typed(t: Mapping[str, Any], where: str, path: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in t.items():
        expected = _TYPES[key]
        # TOML booleans are ints to Python; a number key never takes true/false.
        wrong = not isinstance(value, expected) or (
            isinstance(value, bool) and expected is not bool
        )
        if wrong:
            names = expected if isinstance(expected, tuple) else (expected,)
            want = " or ".join(_TYPE_WORDS[n] for n in names)
            raise DeviceConfigError(f"{path}: {where}.{key} must be {want}, not {value!r}")
        if key in _RANGES and not _RANGES[key][0] <= value <= _RANGES[key][1]:
            low, high = _RANGES[key]
            raise DeviceConfigError(
                f"{path}: {where}.{key} is {value}; it must be from {low:g} to {high:g}"
            )
        if key == "port" and isinstance(value, int) and not 1 <= value <= 65_535:
            raise DeviceConfigError(
                f"{path}: {where}.port is {value}; a TCP port is from 1 to 65535"
            )
        if key in ("host", "queue", "folder") and (not value.strip() or value != value.strip()):
            raise DeviceConfigError(
                f"{path}: {where}.{key} is {value!r}; it cannot be empty or start or end with "
                "a space"
            )
        out[key] = value
    return out


_TYPE_WORDS: dict[type, str] = {
    str: "text",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    dict: "a table",
}


def _table(value: Any, where: str, path: Path) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise DeviceConfigError(f"{path}: {where} must be a table, not {value!r}")
    return value
