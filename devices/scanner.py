"""Barcode scanners: keyboard-wedge keystrokes and serial (RS-232 / USB-CDC) ports.

Both kinds hand over whole scans as :class:`Scan` values. What a scan *means* is not decided
here (that is the application's barcode resolver); this module only makes sure every scan
arrives exactly once, whole, in order, with its control characters (the GS1 group
separator, ASCII 29) intact.

Keyboard wedge
    A wedge scanner types its code as keystrokes followed by a terminator (Enter, Tab, …).
    :class:`WedgeDecoder` buffers printable keystrokes until the terminator and then hands
    over the whole entry. An entry whose keystrokes arrived within ``max_gap`` seconds of
    each other (at least three gaps in four: a busy terminal may read one burst in two late
    pieces) and which carries the configured prefix is a *scan*; anything slower is *keyed*
    by a person. Nothing is dropped either way: a keyed entry is still delivered, marked
    ``keyed=True``, so a station can accept a code typed from a damaged label and record
    that it was typed.

Serial
    :class:`SerialScanner` reads a port in a thread, splits it at the terminator and
    reopens the port by itself after an unplug. A partial code cut off by the unplug is
    dropped (the scanner never finished sending it; the operator sees no beep on screen and
    scans again), so nothing half-read is ever merged with the next scan.

Debounce
    :class:`Debouncer` drops the same code scanned again within a window (a trigger held
    down, a scanner in presentation mode reading one label twice). Keyed entries are never
    debounced.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import serial

from devices.errors import ScannerError

GS = "\x1d"
"""The GS1 group separator (FNC1 in the middle of a GS1 element string)."""

TERMINATORS = {"enter": "\r", "tab": "\t", "lf": "\n", "crlf": "\r\n"}
"""Names a configuration may give a terminator (suffix); any other text is taken literally."""


@dataclass(frozen=True)
class Scan:
    """One whole code as the scanner sent it (prefix and terminator removed).

    ``text`` keeps everything else, including an AIM symbology identifier (``]C1``, …) and
    group separators. ``keyed`` is true for an entry typed by a person at a wedge.
    ``source`` names the scanner, ``at`` is ``time.monotonic()`` when the terminator came.
    """

    text: str
    source: str
    at: float
    keyed: bool = False


def terminator(name: str) -> str:
    """The terminator for a configured name (``enter``, ``tab``, ``lf``, ``crlf``) or text."""
    if not name:
        raise ValueError("a scanner terminator cannot be empty: use enter, tab, lf or crlf")
    return TERMINATORS.get(name.lower(), name)


class Debouncer:
    """Counts the same code scanned twice within ``window`` seconds once."""

    def __init__(self, window: float) -> None:
        if window < 0:
            raise ValueError(f"the debounce window must be 0 or more seconds, not {window}")
        self.window = window
        self._last: tuple[str, float] | None = None

    def accept(self, scan: Scan) -> bool:
        """True when ``scan`` counts; a keyed entry always counts."""
        if scan.keyed:
            return True
        last = self._last
        self._last = (scan.text, scan.at)
        return not (last is not None and last[0] == scan.text and scan.at - last[1] < self.window)


@dataclass
class WedgeDecoder:
    """Turns keystrokes into whole scans and keyed entries.

    Feed it every character a key produced (``"\\r"`` for Enter, ``"\\x1d"`` for the GS1
    group separator, which arrives as Ctrl+]) with the time it arrived. It returns the
    entries the character completed, usually none.
    """

    source: str = "wedge"
    prefix: str = ""
    suffix: str = "\r"
    max_gap: float = 0.05
    min_length: int = 3
    debounce: float = 0.0
    _chars: list[str] = field(default_factory=list, repr=False)
    _times: list[float] = field(default_factory=list, repr=False)
    _debouncer: Debouncer = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.suffix:
            raise ValueError("a wedge scanner needs a terminator: use enter, tab, lf or crlf")
        if self.max_gap <= 0:
            raise ValueError(f"max_gap must be a positive number of seconds, not {self.max_gap}")
        self._debouncer = Debouncer(self.debounce)

    @property
    def pending(self) -> str:
        """What has been typed or scanned since the last terminator (for an entry line)."""
        return "".join(self._chars)

    def clear(self) -> None:
        """Forget a half-typed entry (the operator pressed Escape)."""
        self._chars.clear()
        self._times.clear()

    def backspace(self) -> None:
        """Remove the last keyed character."""
        if self._chars:
            self._chars.pop()
            self._times.pop()

    def feed(self, char: str, at: float) -> list[Scan]:
        """Take one character; returns the entries it completed (zero or one)."""
        if len(char) != 1:
            raise ValueError(f"feed one character at a time, not {char!r}")
        self._chars.append(char)
        self._times.append(at)
        if not self._ends_with_suffix():
            return []
        n = len(self.suffix)
        chars, times = self._chars[:-n], self._times
        self._chars, self._times = [], []
        out: list[Scan] = []
        split = self._typed_before_burst(times)
        if split:
            # Keys typed slowly and left unfinished, then a scan: two entries, not one.
            out += self._entry(chars[:split], times[: split + 1], at, keyed=True)
            chars, times = chars[split:], times[split:]
        return out + self._entry(chars, times, at)

    def _typed_before_burst(self, times: list[float]) -> int:
        """Where a fast burst (a scan) starts after slowly typed keys; 0 when it does not."""
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        start = len(gaps)
        while start > 0 and gaps[start - 1] <= self.max_gap:
            start -= 1
        if start == 0 or len(times) - start - len(self.suffix) < self.min_length:
            return 0
        before = gaps[: start - 1]
        # The keys before the long gap must look typed (mostly slow), else the long gap is
        # a late read in the middle of one burst.
        if before and sum(g <= self.max_gap for g in before) * 4 >= len(before) * 3:
            return 0
        return start

    def _entry(
        self, chars: list[str], times: list[float], at: float, *, keyed: bool = False
    ) -> list[Scan]:
        text = "".join(chars)
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        # Most gaps, not all: a busy terminal reads a burst in pieces, and one late read
        # must not turn a scan into typing; a person's keystrokes are nearly all slow.
        fast = sum(gap <= self.max_gap for gap in gaps)
        scanned = not keyed and bool(gaps) and fast * 4 >= len(gaps) * 3
        if self.prefix:
            if text.startswith(self.prefix):
                text = text[len(self.prefix) :]
            else:
                scanned = False
        if scanned and len(text) < self.min_length:
            scanned = False
        if not text:
            return []
        scan = Scan(text=text, source=self.source, at=at, keyed=not scanned)
        return [scan] if self._debouncer.accept(scan) else []

    def _ends_with_suffix(self) -> bool:
        n = len(self.suffix)
        return len(self._chars) >= n and "".join(self._chars[-n:]) == self.suffix


class SerialScanner:
    """A scanner on a serial port (a device path, a symlink to one, or a pyserial URL).

    ``start(on_scan)`` reads in a daemon thread and calls ``on_scan`` with every whole scan
    in order; ``on_status`` hears ``"connected"`` and ``"disconnected: <why>"`` as the port
    comes and goes. The port is reopened every ``reconnect_interval`` seconds until it is
    back. ``stop()`` ends the thread.
    """

    def __init__(
        self,
        url: str,
        *,
        name: str = "scanner",
        baudrate: int = 9600,
        suffix: str = "\r",
        prefix: str = "",
        debounce: float = 0.0,
        reconnect_interval: float = 0.5,
        read_timeout: float = 0.1,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.url = url
        self.name = name
        self.baudrate = baudrate
        self._suffix = suffix.encode()
        self._alt_suffixes = [b"\r\n", b"\n", b"\r"] if suffix in ("\r", "\n", "\r\n") else []
        self._prefix = prefix
        self._debouncer = Debouncer(debounce)
        self.reconnect_interval = reconnect_interval
        self.read_timeout = read_timeout
        self._options = options or {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._port: Any = None
        self.connected = threading.Event()
        self._status: Callable[[str], None] = lambda _s: None

    def open(self) -> Any:
        """Open the port once, or raise :class:`ScannerError` saying why it cannot be."""
        try:
            return serial.serial_for_url(
                self.url, baudrate=self.baudrate, timeout=self.read_timeout, **self._options
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            raise ScannerError(
                f"scanner {self.name} on {self.url} cannot be opened ({exc}): check the cable "
                "and that the path or port name in the station's device config is right"
            ) from exc

    def start(
        self, on_scan: Callable[[Scan], None], on_status: Callable[[str], None] | None = None
    ) -> None:
        """Read scans in the background until :meth:`stop`."""
        if self._thread is not None:
            raise RuntimeError(f"scanner {self.name} is already running")
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(on_scan, on_status), name=f"scanner-{self.name}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._close()

    def __enter__(self) -> SerialScanner:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _close(self) -> None:
        port, self._port = self._port, None
        self.connected.clear()
        if port is not None:
            with contextlib.suppress(Exception):
                port.close()

    def _run(
        self, on_scan: Callable[[Scan], None], on_status: Callable[[str], None] | None
    ) -> None:
        status = self._status = on_status or (lambda _s: None)
        last_error = ""
        while not self._stop.is_set():
            try:
                self._port = self.open()
            except ScannerError as exc:
                if str(exc) != last_error:
                    status(f"disconnected: {exc}")
                    last_error = str(exc)
                self._stop.wait(self.reconnect_interval)
                continue
            last_error = ""
            self.connected.set()
            status("connected")
            try:
                self._read(on_scan)
            except (serial.SerialException, OSError, TypeError) as exc:
                # TypeError: pyserial on a closed pty sometimes fails inside select().
                if not self._stop.is_set():
                    status(
                        f"disconnected: scanner {self.name} on {self.url} stopped answering ({exc})"
                    )
            finally:
                self._close()
            self._stop.wait(self.reconnect_interval)

    def _read(self, on_scan: Callable[[Scan], None]) -> None:
        buffer = b""
        while not self._stop.is_set():
            chunk = self._port.read(self._port.in_waiting or 1)
            if not chunk:
                continue
            buffer += chunk
            while True:
                line, rest = self._split(buffer)
                if line is None:
                    break
                buffer = rest
                self._deliver(line, on_scan)

    def _split(self, buffer: bytes) -> tuple[bytes | None, bytes]:
        ends = self._alt_suffixes or [self._suffix]
        best: tuple[int, int] | None = None
        for end in ends:
            i = buffer.find(end)
            if i >= 0 and (best is None or i < best[0] or (i == best[0] and len(end) > best[1])):
                best = (i, len(end))
        if best is None:
            return None, buffer
        # A CR LF split across two reads leaves an empty line behind, which is skipped.
        i, n = best
        return buffer[:i], buffer[i + n :]

    def _deliver(self, line: bytes, on_scan: Callable[[Scan], None]) -> None:
        text = line.decode("utf-8", errors="replace")
        # A line without the configured prefix is passed on whole: the resolver says what
        # is wrong with it rather than this reader dropping it unseen.
        if self._prefix and text.startswith(self._prefix):
            text = text[len(self._prefix) :]
        if not text:
            return
        scan = Scan(text=text, source=self.name, at=time.monotonic())
        if self._debouncer.accept(scan):
            try:
                on_scan(scan)
            except Exception as exc:  # a handler's bug must not end the reader
                self._status(f"error: scan {text!r} was read but not handled ({exc!r})")
