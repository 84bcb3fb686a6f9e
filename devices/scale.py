"""Serial scales: Mettler Toledo MT-SICS (command/reply) and continuous-output indicators.

Every weight is handed over as a :class:`Reading` in whole grams, converted from kg, g, lb or
oz with :class:`~decimal.Decimal` arithmetic and rounded half up (ties away from zero).

MT-SICS (:class:`SicsScale`)
    Commands go out terminated CR LF and each gets one reply line: ``S`` (stable weight),
    ``SI`` (weight now), ``Z`` (zero), ``T`` (tare), ``TAC`` (clear tare), ``I4`` (serial
    number). Stale input is discarded before each command. ``S S``/``S D`` replies do not
    say whether a tare is in use, so their readings have ``net=False``.

Continuous output (:class:`ContinuousScale`)
    The indicator sends frames like ``ST,GS,+  1.234kg`` all the time: ``ST`` stable,
    ``US`` unstable, ``OL`` overload (a negative ``OL`` frame is an underload); ``GS`` gross,
    ``NT`` net, ``TR`` tare. Reading starts after the first line break (the first text may be
    the tail of a frame), so a frame is only taken whole. A ``TR`` frame parses to a
    :class:`Reading` of the tare weight with ``net=False`` (see :func:`parse_continuous_frame`),
    but :class:`ContinuousScale` never reports it as the weight on the platter: it skips such
    frames, and says so when nothing else arrives.

Disconnects
    Any serial failure (the port vanished, a read or write error, a pty whose other end
    closed) raises :class:`~devices.errors.ScaleError` ``disconnected`` and closes the port;
    the next call opens it again, so a replugged scale works without restarting anything.

Every :class:`~devices.errors.ScaleError` message names what the scale sent (or that it
sent nothing) and what the operator can do about it.
"""

from __future__ import annotations

import abc
import contextlib
import re
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from types import TracebackType
from typing import Any

import serial

from devices.errors import ScaleError

try:
    import termios
except ImportError:  # pragma: no cover - not on POSIX
    _PORT_FAILURES: tuple[type[BaseException], ...] = (OSError,)
else:
    # pyserial raises SerialException (an OSError) for read and write errors, OSError for
    # ioctl failures (``in_waiting``) and lets termios.error through from
    # ``reset_input_buffer`` on a port whose device went away.
    _PORT_FAILURES = (OSError, termios.error)

_OPEN_FAILURES: tuple[type[BaseException], ...] = (*_PORT_FAILURES, ValueError)
"""What opening a port may raise: also ValueError for a URL or setting pyserial refuses."""

UNIT_GRAMS: dict[str, Decimal] = {
    "g": Decimal(1),
    "kg": Decimal(1000),
    "lb": Decimal("453.59237"),
    "oz": Decimal("28.349523125"),
}
"""Grams in one of each unit a scale may report (the international avoirdupois pound)."""

_POLL = 0.05
"""Seconds one read of the port may block; deadlines are kept by the loops around it."""


@dataclass(frozen=True)
class Reading:
    """One weight from a scale.

    ``grams`` is whole grams (negative below zero); ``stable`` is the scale's own stability
    flag; ``net`` is true when the scale says the weight is net of a tare (only the
    continuous ``NT`` frame says so); ``raw`` is the reply or frame as received.
    """

    grams: int
    stable: bool
    net: bool
    raw: str


def to_grams(value: str | Decimal | int, unit: str) -> int:
    """``value`` in ``unit`` (g, kg, lb, oz; any case) as whole grams, rounded half up."""
    factor = UNIT_GRAMS.get(unit.lower())
    if factor is None:
        raise ValueError(f"unknown weight unit {unit!r}: use one of {', '.join(UNIT_GRAMS)}")
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"{value!r} is not a number") from exc
    return int((amount * factor).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _shown(text: str) -> str:
    """``text`` as an operator should see it: quoted, or as bytes when not printable ASCII."""
    if text.isascii() and text.isprintable():
        return f'"{text}"'
    return repr(text.encode("latin-1", errors="backslashreplace"))


def _why(exc: BaseException) -> str:
    """A serial failure in words (termios.error carries ``(errno, message)``)."""
    args = exc.args
    if not isinstance(exc, OSError) and len(args) == 2 and isinstance(args[1], str):
        return args[1]
    return str(exc) or type(exc).__name__


def _baud_hint(baudrate: int | None) -> str:
    return f"check the baud rate ({baudrate} configured)" if baudrate else "check the baud rate"


# --- MT-SICS -------------------------------------------------------------------------------

_NUMBER = r"(?P<sign>[+-]?)\s*(?P<number>\d+(?:\.\d*)?|\.\d+)"
_SICS_STATUS = {"I", "+", "-"}


def _sics_garbage(line: str, baudrate: int | None, what: str = "a weight reply") -> ScaleError:
    return ScaleError(
        "garbage",
        f"scale sent {_shown(line)} which is not {what}: {_baud_hint(baudrate)} "
        "and that the scale speaks MT-SICS",
    )


def _sics_command_error(line: str, baudrate: int | None) -> ScaleError | None:
    """The error for ``ES``/``ET``/``EL`` (any command may get these), else None."""
    if line == "ES":
        return ScaleError(
            "refused",
            'scale sent "ES" (syntax error: it did not recognise the command): check that it '
            "is set to MT-SICS and not to another interface protocol",
        )
    if line == "ET":
        return ScaleError(
            "garbage",
            'scale sent "ET" (transmission error: the command arrived garbled): '
            f"{_baud_hint(baudrate)}, parity and cable",
        )
    if line == "EL":
        return ScaleError(
            "refused",
            'scale sent "EL" (logical error: the command is not allowed now): leave the '
            "scale's menu or finish what it is doing, then try again",
        )
    return None


def _sics_status_error(line: str, command: str, status: str) -> ScaleError:
    """The error for ``<command> I``, ``<command> +`` or ``<command> -``."""
    quoted = f'"{line}"'
    if status == "I":
        if command == "T":
            return ScaleError(
                "busy",
                f"scale sent {quoted} (busy: it could not tare, e.g. the weight would not "
                "settle): keep the platter still and tare again",
            )
        if command == "Z":
            return ScaleError(
                "busy",
                f"scale sent {quoted} (busy: it could not zero, e.g. the weight would not "
                "settle): keep the empty platter still and zero again",
            )
        return ScaleError(
            "busy",
            f"scale sent {quoted} (busy or command not executable): wait until the display "
            "settles and the scale is not in a menu, then try again",
        )
    if command == "Z":
        if status == "+":
            return ScaleError(
                "overload",
                f"scale sent {quoted} (above the zero range): take everything off the "
                "platter, then zero",
            )
        return ScaleError(
            "underload",
            f"scale sent {quoted} (below the zero range): put the empty platter back on, then zero",
        )
    if command == "T":
        if status == "+":
            return ScaleError(
                "overload",
                f"scale sent {quoted} (above the tare range): take weight off the platter, "
                "then tare",
            )
        return ScaleError(
            "underload",
            f"scale sent {quoted} (below the tare range: nothing or less than zero on the "
            "platter): put the container on the platter, then tare",
        )
    if status == "+":
        return ScaleError(
            "overload", f"scale sent {quoted} (overload): take weight off the platter"
        )
    return ScaleError(
        "underload",
        f"scale sent {quoted} (underload): put the platter back on, or zero the scale with "
        "nothing on it",
    )


def _parse_sics_weight(line: str, command: str, baudrate: int | None) -> Reading:
    """A ``<prefix> S|D <weight> <unit>`` reply; ``command`` is S (also for SI) or T."""
    text = line.strip()
    error = _sics_command_error(text, baudrate)
    if error is not None:
        raise error
    match = re.fullmatch(rf"{command}\s+(?P<flag>[SD])\s+{_NUMBER}\s*(?P<unit>[A-Za-z]+)", text)
    if match is None:
        status = re.fullmatch(rf"{command}\s+(?P<status>[I+-])", text)
        if status is not None:
            raise _sics_status_error(text, command, status["status"])
        raise _sics_garbage(line, baudrate)
    unit = match["unit"]
    if unit.lower() not in UNIT_GRAMS:
        raise ScaleError(
            "garbage",
            f"scale sent {_shown(text)} in {unit!r}, which Shipfloor does not convert: set the "
            f"scale's unit to {', '.join(UNIT_GRAMS)}",
        )
    return Reading(
        grams=to_grams(match["sign"] + match["number"], unit),
        stable=match["flag"] == "S" or command == "T",
        net=False,
        raw=text,
    )


def parse_sics_reply(line: str) -> Reading:
    """An MT-SICS reply to ``S`` or ``SI``: ``S S     100.00 g`` (stable), ``S D …`` (dynamic).

    ``S I`` raises :class:`ScaleError` ``busy``, ``S +`` ``overload``, ``S -`` ``underload``,
    ``ES``/``EL`` ``refused``, ``ET`` and anything else ``garbage``.
    """
    return _parse_sics_weight(line, "S", None)


def _parse_sics_ack(line: str, command: str, baudrate: int | None) -> None:
    """An ``<command> A`` acknowledgement, or the error the reply stands for."""
    text = line.strip()
    error = _sics_command_error(text, baudrate)
    if error is not None:
        raise error
    if text == f"{command} A":
        return
    status = re.fullmatch(rf"{command}\s+(?P<status>[I+-])", text)
    if status is not None:
        raise _sics_status_error(text, command, status["status"])
    raise _sics_garbage(line, baudrate, f"a reply to {command}")


# --- Continuous output ---------------------------------------------------------------------

_FRAME = re.compile(r"(?P<state>ST|US|OL),(?P<mode>GS|NT|TR),(?P<rest>.*)")
_FRAME_WEIGHT = re.compile(rf"\s*{_NUMBER}\s*(?P<unit>[A-Za-z]+)\s*")
_EXAMPLE_FRAME = '"ST,GS,+  1.234kg"'


def _parse_frame(line: str, baudrate: int | None) -> tuple[str, Reading]:
    """The frame's mode (``GS``, ``NT``, ``TR``) and its reading; see parse_continuous_frame."""
    text = line.strip()
    frame = _FRAME.fullmatch(text)
    if frame is not None and frame["state"] == "OL":
        if frame["rest"].lstrip().startswith("-"):
            raise ScaleError(
                "underload",
                f"scale sent {_shown(text)} (underload): put the platter back on, or zero the "
                "scale with nothing on it",
            )
        raise ScaleError(
            "overload", f"scale sent {_shown(text)} (overload): take weight off the platter"
        )
    weight = _FRAME_WEIGHT.fullmatch(frame["rest"]) if frame is not None else None
    if frame is None or weight is None:
        raise ScaleError(
            "garbage",
            f"scale sent {_shown(line)} which is not a weight frame: {_baud_hint(baudrate)} "
            f"and that the scale sends continuous frames like {_EXAMPLE_FRAME}",
        )
    unit = weight["unit"]
    if unit.lower() not in UNIT_GRAMS:
        raise ScaleError(
            "garbage",
            f"scale sent {_shown(text)} in {unit!r}, which Shipfloor does not convert: set the "
            f"scale's unit to {', '.join(UNIT_GRAMS)}",
        )
    reading = Reading(
        grams=to_grams(weight["sign"] + weight["number"], unit),
        stable=frame["state"] == "ST",
        net=frame["mode"] == "NT",
        raw=text,
    )
    return frame["mode"], reading


def parse_continuous_frame(line: str) -> Reading:
    """A continuous-output frame: ``ST,GS,+  1.234kg``, ``US,NT,-0000.120kg``, ….

    ``ST``/``US`` set ``stable``, ``NT`` sets ``net``. The number may be padded with spaces
    or leading zeros; the unit is kg, g, lb or oz. ``OL`` raises :class:`ScaleError`
    ``overload`` (``underload`` when its sign is ``-``); anything malformed or partial raises
    ``garbage`` naming the text. A ``TR`` (tare) frame gives the tare weight with
    ``net=False``; its ``raw`` keeps ``TR`` for whoever needs to tell it apart.
    """
    return _parse_frame(line, None)[1]


# --- Pure helpers --------------------------------------------------------------------------


class StabilityDetector:
    """Decides when a stream of readings has settled.

    :meth:`add` returns the reading once the last ``frames`` readings were all flagged
    stable, all net or all gross, and within ``tolerance_grams`` of each other. An unstable
    reading, or a change between gross and net, starts the count again; a jump beyond the
    tolerance drops every earlier reading it is too far from.
    """

    def __init__(self, frames: int, tolerance_grams: int) -> None:
        if frames < 1:
            raise ValueError(f"stable_frames must be 1 or more, not {frames}")
        if tolerance_grams < 0:
            raise ValueError(f"tolerance_grams must be 0 or more, not {tolerance_grams}")
        self.frames = frames
        self.tolerance_grams = tolerance_grams
        self._window: deque[Reading] = deque(maxlen=frames)

    def reset(self) -> None:
        self._window.clear()

    def add(self, reading: Reading) -> Reading | None:
        """The settled reading (this one) once enough agree, else None."""
        if not reading.stable:
            self._window.clear()
            return None
        if self._window and self._window[-1].net != reading.net:
            self._window.clear()
        self._window.append(reading)
        while self._spread() > self.tolerance_grams:
            self._window.popleft()
        return reading if len(self._window) == self.frames else None

    def _spread(self) -> int:
        grams = [r.grams for r in self._window]
        return max(grams) - min(grams)


class LineSplitter:
    """Cuts a byte stream into lines at CR, LF or CR LF; empty lines are dropped.

    With ``skip_partial`` the text before the first line break is thrown away: after
    joining a stream midway, the first bytes may be the tail of a line.
    """

    def __init__(self, *, skip_partial: bool = False) -> None:
        self._buffer = b""
        self._synced = not skip_partial

    def reset(self, *, skip_partial: bool = False) -> None:
        self._buffer = b""
        self._synced = not skip_partial

    @property
    def pending(self) -> bytes:
        """Bytes received after the last line break, or since the start when none came."""
        return self._buffer

    def feed(self, data: bytes) -> list[bytes]:
        """The whole lines ``data`` completed, in order."""
        self._buffer += data
        parts = re.split(rb"[\r\n]", self._buffer)
        self._buffer = parts.pop()
        if not self._synced and parts:
            parts.pop(0)
            self._synced = True
        return [part for part in parts if part]


# --- Drivers -------------------------------------------------------------------------------


class Scale(abc.ABC):
    """A scale the application weighs with; use it as a context manager or open/close it.

    Every method raises :class:`~devices.errors.ScaleError` when there is no weight to give.
    """

    @abc.abstractmethod
    def open(self) -> None:
        """Open the connection (methods also open it on demand)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Close the connection; a later call opens it again."""

    @abc.abstractmethod
    def read_stable(self, timeout: float = 5.0) -> Reading:
        """A stable weight, waiting up to ``timeout`` seconds for the platter to settle."""

    @abc.abstractmethod
    def read_now(self) -> Reading:
        """The weight right now, stable or not."""

    @abc.abstractmethod
    def zero(self) -> None:
        """Set the zero point to the empty platter."""

    @abc.abstractmethod
    def tare(self) -> Reading:
        """Tare what is on the platter; returns the tare weight."""

    @abc.abstractmethod
    def clear_tare(self) -> None:
        """Drop the tare: weights are gross again."""

    @abc.abstractmethod
    def identify(self) -> str:
        """A one-line description of the scale for a device check."""

    def __enter__(self) -> Scale:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _SerialScale(Scale):
    """Opening, reopening and line reading shared by the serial drivers."""

    def __init__(self, url: str, *, baudrate: int, timeout: float, skip_partial: bool) -> None:
        if timeout <= 0:
            raise ValueError(
                f"the scale timeout must be a positive number of seconds, not {timeout}"
            )
        self.url = url
        self.baudrate = baudrate
        self.timeout = timeout
        self._port: Any = None
        self._lock = threading.RLock()
        self._skip_partial = skip_partial
        self._lines = LineSplitter(skip_partial=skip_partial)
        self._ready: deque[bytes] = deque()

    def open(self) -> None:
        with self._lock:
            self._ensure_open()

    def close(self) -> None:
        with self._lock:
            self._drop_port()

    def _ensure_open(self) -> Any:
        if self._port is None:
            try:
                self._port = serial.serial_for_url(
                    self.url, baudrate=self.baudrate, timeout=min(_POLL, self.timeout)
                )
            except _OPEN_FAILURES as exc:
                raise ScaleError(
                    "disconnected",
                    f"scale on {self.url} cannot be opened ({_why(exc)}): check that it is "
                    "plugged in and switched on and that the port in the station's device "
                    "config is right",
                ) from exc
        return self._port

    def _drop_port(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(Exception):
                port.close()

    @contextlib.contextmanager
    def _session(self) -> Iterator[Any]:
        """The open port; a serial failure inside closes it and raises ``disconnected``."""
        with self._lock:
            port = self._ensure_open()
            try:
                yield port
            except _PORT_FAILURES as exc:
                self._drop_port()
                raise ScaleError(
                    "disconnected",
                    f"lost the scale on {self.url} ({_why(exc)}): check its cable and power; the "
                    "next weighing connects again",
                ) from exc

    def _start(self, port: Any) -> None:
        """Forget everything received so far: what comes next answers what is sent next."""
        port.reset_input_buffer()
        self._lines.reset(skip_partial=self._skip_partial)
        self._ready.clear()

    def _send(self, port: Any, command: str) -> None:
        port.write(command.encode("ascii") + b"\r\n")

    def _read_line(self, port: Any, deadline: float) -> str | None:
        """The next whole line (decoded as Latin-1, so nothing is lost), or None at deadline."""
        while not self._ready:
            if time.monotonic() >= deadline:
                return None
            chunk: bytes = port.read(port.in_waiting or 1)
            self._ready.extend(self._lines.feed(chunk))
        return self._ready.popleft().decode("latin-1")

    def _pending(self) -> str:
        return self._lines.pending.decode("latin-1")


class SicsScale(_SerialScale):
    """A Mettler Toledo scale speaking MT-SICS level 0/1 on a serial port or pyserial URL.

    ``timeout`` is how long a reply may take (except in :meth:`read_stable`, which has its
    own). A reply cut off at the timeout is reported as garbage, naming what did arrive.
    """

    def __init__(self, url: str, *, baudrate: int = 9600, timeout: float = 2.0) -> None:
        super().__init__(url, baudrate=baudrate, timeout=timeout, skip_partial=False)

    def _no_answer(self, command: str, waited: float) -> ScaleError:
        return ScaleError(
            "timeout",
            f"scale on {self.url} did not answer {command} within {waited} s: is it on and "
            f"set to MT-SICS at {self.baudrate} baud?",
        )

    def _ask(self, command: str, wait: float | None = None) -> str | None:
        """Send ``command`` and return its reply line, or None when none came in time."""
        wait = self.timeout if wait is None else wait
        with self._session() as port:
            self._start(port)
            self._send(port, command)
            line = self._read_line(port, time.monotonic() + wait)
            if line is None and self._pending():
                what = "a weight reply" if command in ("S", "SI", "T") else f"a reply to {command}"
                raise _sics_garbage(self._pending(), self.baudrate, what)
            return line

    def _ask_or_timeout(self, command: str) -> str:
        line = self._ask(command)
        if line is None:
            raise self._no_answer(command, self.timeout)
        return line

    def read_stable(self, timeout: float = 5.0) -> Reading:
        """Send ``S`` until the scale reports a stable weight or ``timeout`` seconds pass.

        An MT-SICS scale holds its answer to ``S`` until the weight is stable (or answers
        ``S I`` when it gives up); ``S I`` and dynamic replies make this ask again.
        """
        deadline = time.monotonic() + timeout
        last: str | None = None
        while True:
            remaining = deadline - time.monotonic()
            line = self._ask("S", remaining) if remaining > 0 else None
            if line is None:
                if last is None:
                    raise self._no_answer("S", timeout)
                raise ScaleError(
                    "timeout",
                    f"scale on {self.url} did not report a stable weight within {timeout} s "
                    f"(last reply {_shown(last.strip())}): keep the platter still and weigh again",
                )
            try:
                reading = _parse_sics_weight(line, "S", self.baudrate)
            except ScaleError as exc:
                if exc.kind != "busy":
                    raise
                reading = None
            if reading is not None and reading.stable:
                return reading
            last = line
            time.sleep(max(0.0, min(_POLL, deadline - time.monotonic())))

    def read_now(self) -> Reading:
        """Send ``SI``: the weight now, ``stable=False`` when the scale says dynamic."""
        return _parse_sics_weight(self._ask_or_timeout("SI"), "S", self.baudrate)

    def zero(self) -> None:
        """Send ``Z``; ``Z +``/``Z -`` (outside the zero range) and ``Z I`` raise."""
        _parse_sics_ack(self._ask_or_timeout("Z"), "Z", self.baudrate)

    def tare(self) -> Reading:
        """Send ``T``; returns the tare weight from ``T S <weight> <unit>``."""
        return _parse_sics_weight(self._ask_or_timeout("T"), "T", self.baudrate)

    def clear_tare(self) -> None:
        """Send ``TAC`` (expects ``TAC A``)."""
        _parse_sics_ack(self._ask_or_timeout("TAC"), "TAC", self.baudrate)

    def identify(self) -> str:
        """``MT-SICS scale, serial number …`` from the ``I4`` reply."""
        line = self._ask_or_timeout("I4").strip()
        error = _sics_command_error(line, self.baudrate)
        if error is not None:
            raise error
        match = re.fullmatch(r'I4\s+A\s+"(?P<serial>[^"]*)"', line)
        if match is None:
            status = re.fullmatch(r"I4\s+(?P<status>[I+-])", line)
            if status is not None:
                raise _sics_status_error(line, "I4", status["status"])
            raise _sics_garbage(line, self.baudrate, "a reply to I4")
        return f"MT-SICS scale on {self.url}, serial number {match['serial']}"


class ContinuousScale(_SerialScale):
    """An indicator that sends a weight frame many times a second (``ST,GS,+  1.234kg``).

    :meth:`read_now` waits for the next whole frame after the call (older frames are
    discarded, so the weight is never stale); :meth:`read_stable` waits for
    ``stable_frames`` frames in a row flagged ``ST`` and within ``tolerance_grams`` of each
    other. Frames that are garbage are skipped; they are reported only when no weight frame
    came before the timeout. ``TR`` (tare) frames are skipped too.

    :meth:`zero`, :meth:`tare` and :meth:`clear_tare` send ``Z``, ``T`` and ``C`` (CR LF),
    which such indicators take without a reply. :meth:`tare` first waits for a stable
    weight, sends ``T`` and then waits for a net (``NT``) frame to confirm the scale took
    it; it returns that stable weight (gross when no tare was in use before) as the tare.
    """

    def __init__(
        self,
        url: str,
        *,
        baudrate: int = 9600,
        timeout: float = 2.0,
        stable_frames: int = 3,
        tolerance_grams: int = 2,
    ) -> None:
        super().__init__(url, baudrate=baudrate, timeout=timeout, skip_partial=True)
        self.detector = StabilityDetector(stable_frames, tolerance_grams)

    def _frames(self, port: Any, deadline: float, waited: float) -> Iterator[Reading]:
        """Weight frames (not ``TR``) from now until the deadline, then the right error.

        Overload and underload frames raise at once; garbage and tare frames are skipped
        and reported only when the deadline passes without a weight frame.
        """
        self._start(port)
        last_garbage: ScaleError | None = None
        last_tare: str | None = None
        got_weight = False
        while True:
            line = self._read_line(port, deadline)
            if line is None:
                break
            try:
                mode, reading = _parse_frame(line, self.baudrate)
            except ScaleError as exc:
                if exc.kind != "garbage":
                    raise
                last_garbage = exc
                continue
            if mode == "TR":
                last_tare = reading.raw
                continue
            got_weight = True
            yield reading
        if got_weight:
            return
        if last_tare is not None:
            raise ScaleError(
                "refused",
                f"scale on {self.url} sends only tare frames ({_shown(last_tare)}): switch its "
                "display back to the gross or net weight",
            )
        if last_garbage is not None:
            raise last_garbage
        if self._pending():
            raise ScaleError(
                "garbage",
                f"scale on {self.url} sent {_shown(self._pending())} and no line break within "
                f"{waited} s: {_baud_hint(self.baudrate)} and that the scale ends its frames "
                "with CR or LF",
            )
        raise ScaleError(
            "timeout",
            f"scale on {self.url} sent no frame within {waited} s: is it on and set to "
            f"continuous output at {self.baudrate} baud?",
        )

    def read_now(self) -> Reading:
        """The first whole weight frame received after the call."""
        with self._session() as port:
            for reading in self._frames(port, time.monotonic() + self.timeout, self.timeout):
                return reading
        raise AssertionError("unreachable: _frames raises when it yields nothing")

    def read_stable(self, timeout: float = 5.0) -> Reading:
        """The last of ``stable_frames`` agreeing stable frames, within ``timeout`` seconds."""
        self.detector.reset()
        last: Reading | None = None
        with self._session() as port:
            for reading in self._frames(port, time.monotonic() + timeout, timeout):
                last = reading
                settled = self.detector.add(reading)
                if settled is not None:
                    return settled
        assert last is not None
        raise ScaleError(
            "timeout",
            f"scale on {self.url} did not settle within {timeout} s (last frame "
            f"{_shown(last.raw)}): keep the platter still and weigh again",
        )

    def _command(self, command: str) -> None:
        with self._session() as port:
            self._send(port, command)

    def zero(self) -> None:
        """Send ``Z`` (no reply is expected)."""
        self._command("Z")

    def clear_tare(self) -> None:
        """Send ``C`` (no reply is expected)."""
        self._command("C")

    def tare(self, timeout: float = 5.0) -> Reading:
        """Tare the stable weight on the platter (waiting up to ``timeout`` s for it).

        Returns that weight as the tare; raises ``refused`` when no net frame follows ``T``
        within the scale's ``timeout`` (the scale ignored the command).
        """
        weight = self.read_stable(timeout)
        with self._session() as port:
            self._start(port)
            self._send(port, "T")
            deadline = time.monotonic() + self.timeout
            while (line := self._read_line(port, deadline)) is not None:
                with contextlib.suppress(ScaleError):
                    mode, reading = _parse_frame(line, self.baudrate)
                    if mode == "NT" and (
                        not weight.net or abs(reading.grams) <= self.detector.tolerance_grams
                    ):
                        return Reading(grams=weight.grams, stable=True, net=False, raw=weight.raw)
        raise ScaleError(
            "refused",
            f"scale on {self.url} kept sending gross weights after T (tare) for {self.timeout} "
            "s: check that it accepts remote commands, or tare on the scale's keypad",
        )

    def identify(self) -> str:
        """``continuous output, last frame …`` from the next whole frame (any kind)."""
        with self._session() as port:
            self._start(port)
            deadline = time.monotonic() + self.timeout
            last_garbage: str | None = None
            while (line := self._read_line(port, deadline)) is not None:
                if _FRAME.fullmatch(line.strip()):
                    return f"continuous output on {self.url}, last frame {line.strip()}"
                last_garbage = line
        if last_garbage is not None:
            raise ScaleError(
                "garbage",
                f"scale on {self.url} sent {_shown(last_garbage)} which is not a weight frame: "
                f"{_baud_hint(self.baudrate)} and that the scale sends continuous frames like "
                f"{_EXAMPLE_FRAME}",
            )
        raise ScaleError(
            "timeout",
            f"scale on {self.url} sent no frame within {self.timeout} s: is it on and set to "
            f"continuous output at {self.baudrate} baud?",
        )


SCALE_KINDS: dict[str, type[SicsScale] | type[ContinuousScale]] = {
    "sics": SicsScale,
    "continuous": ContinuousScale,
}
_OPTIONS = {
    "sics": {"baudrate", "timeout"},
    "continuous": {"baudrate", "timeout", "stable_frames", "tolerance_grams"},
}


def open_scale(kind: str, url: str, **options: Any) -> Scale:
    """A scale driver of ``kind`` (``sics`` or ``continuous``) for ``url``, not yet opened."""
    cls = SCALE_KINDS.get(kind)
    if cls is None:
        raise ValueError(f"unknown scale kind {kind!r}: use one of {', '.join(SCALE_KINDS)}")
    unknown = sorted(set(options) - _OPTIONS[kind])
    if unknown:
        raise ValueError(
            f"unknown option(s) {', '.join(unknown)} for a {kind} scale: "
            f"use {', '.join(sorted(_OPTIONS[kind]))}"
        )
    return cls(url, **options)
