"""A serial scale simulator on a pty pair: an MT-SICS scale or a continuous-output indicator.

The simulator opens a pty pair and serves the master end in a daemon thread; a driver opens
the slave end (:attr:`ScaleSimulator.port`, or the symlink given as ``link``, which
survives a replug the way a udev name such as ``/dev/scale0`` does).

The weight on the platter (the *load*) is set with :meth:`ScaleSimulator.set_weight`. The
scale shows ``load - zero point`` as the gross weight and ``gross - tare`` when a tare is in
use. ``sics`` mode answers ``S``, ``SI``, ``Z``, ``T``, ``TAC`` and ``I4`` exactly as an
MT-SICS scale does (``ES`` for any other command; ``S`` is held until the weight is stable,
or answered ``S I`` after ``stable_wait`` seconds). ``continuous`` mode writes a frame such
as ``ST,GS,+   1.234kg`` every ``interval`` seconds and takes ``Z``, ``T`` and ``C``
(clear tare) without replying; frames are ``NT`` (net) while a tare is in use.

:func:`format_sics_weight` and :func:`format_continuous_frame` render a weight the way the
simulator sends it.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import threading
import time
import tty
from collections import deque
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from types import TracebackType

from devices.scale import UNIT_GRAMS

PROTOCOLS = ("sics", "continuous")
DECIMALS = {"g": 2, "kg": 3, "lb": 4, "oz": 3}
"""Decimals the simulator shows per unit: enough that every whole gram survives a round trip."""

SICS_COMMANDS = ("S", "SI", "Z", "T", "TAC", "I4")
_POLL = 0.05


def weight_text(grams: int, unit: str) -> str:
    """``grams`` in ``unit`` as a decimal number (``-0.120``), rounded half up."""
    if unit not in DECIMALS:
        raise ValueError(f"the simulator shows g, kg, lb or oz, not {unit!r}")
    step = Decimal(1).scaleb(-DECIMALS[unit])
    value = (Decimal(grams) / UNIT_GRAMS[unit]).quantize(step, rounding=ROUND_HALF_UP)
    return f"{value:f}"


def format_sics_weight(
    grams: int, *, unit: str = "g", stable: bool = True, command: str = "S"
) -> str:
    """An MT-SICS weight reply such as ``S S      100.00 g`` (``command`` ``T`` for a tare)."""
    return f"{command} {'S' if stable else 'D'} {weight_text(grams, unit):>10} {unit}"


def format_continuous_frame(
    grams: int, *, stable: bool = True, net: bool = False, unit: str = "kg", zero_pad: bool = False
) -> str:
    """A continuous frame such as ``ST,GS,+   1.234kg`` (``+0001.234kg`` with ``zero_pad``)."""
    number = weight_text(abs(grams), unit).rjust(8, "0" if zero_pad else " ")
    sign = "-" if grams < 0 else "+"
    return f"{'ST' if stable else 'US'},{'NT' if net else 'GS'},{sign}{number}{unit}"


class ScaleSimulator:
    """A scale on a pty pair; see the module docstring for what it answers.

    Controls: :meth:`set_weight`, :meth:`overload`, :meth:`underload`, :meth:`busy` (SICS
    answers ``<command> I``), :meth:`answer_next` (script the next SICS replies),
    :meth:`send_raw` (inject bytes), :meth:`unplug`, :meth:`replug`, :meth:`close`.
    It serves from construction on; :meth:`serve_forever` just blocks until :meth:`close`.
    """

    def __init__(
        self,
        protocol: str = "sics",
        *,
        link: str | os.PathLike[str] | None = None,
        unit: str | None = None,
        interval: float = 0.05,
        zero_pad: bool = False,
        serial_number: str = "0123456789",
        zero_range_grams: int = 600,
        stable_wait: float = 0.5,
    ) -> None:
        if protocol not in PROTOCOLS:
            raise ValueError(
                f"unknown scale protocol {protocol!r}: use one of {', '.join(PROTOCOLS)}"
            )
        self.protocol = protocol
        self.unit = unit or ("g" if protocol == "sics" else "kg")
        weight_text(0, self.unit)  # refuses a unit it cannot show
        if interval <= 0:
            raise ValueError(
                f"the frame interval must be a positive number of seconds, not {interval}"
            )
        self.link = Path(link) if link is not None else None
        self.interval = interval
        self.zero_pad = zero_pad
        self.serial_number = serial_number
        self.zero_range_grams = zero_range_grams
        self.stable_wait = stable_wait
        self._state = threading.Lock()
        self._writing = threading.Lock()
        self._load = 0
        self._stable = True
        self._fault: str | None = None
        self._busy = False
        self._zero = 0
        self._tare: int | None = None
        self._scripted: deque[bytes] = deque()
        self._master = -1
        self._slave = -1
        self._port = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._wake_r = self._wake_w = -1
        self._closed = threading.Event()
        self._plug()

    # --- the port ----------------------------------------------------------------------------

    @property
    def port(self) -> str:
        """The pty device a driver opens (``/dev/pts/N``); the last one while unplugged."""
        return self._port

    @property
    def plugged(self) -> bool:
        return self._master >= 0

    def _plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self._port = os.ttyname(slave)
        if self.link is not None:
            tmp = self.link.with_name(f".{self.link.name}.{os.getpid()}.tmp")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            tmp.symlink_to(self._port)
            os.replace(tmp, self.link)
        self._stop = threading.Event()
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(
            target=self._serve,
            args=(master, self._stop, self._wake_r),
            name=f"scale-simulator-{self.protocol}",
            daemon=True,
        )
        self._thread.start()

    def unplug(self) -> None:
        """Stop serving and close the pty (a driver sees an error or EOF); the link goes too."""
        self._stop.set()
        if self._thread is not None:
            with contextlib.suppress(OSError):
                os.write(self._wake_w, b"x")  # wake the serving thread at once
            self._thread.join(2.0)
            self._thread = None
            for fd in (self._wake_r, self._wake_w):
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._wake_r = self._wake_w = -1
        with self._writing:
            for fd in (self._master, self._slave):
                if fd >= 0:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            self._master = self._slave = -1
        if self.link is not None and self.link.is_symlink():
            with contextlib.suppress(FileNotFoundError):
                self.link.unlink()

    def replug(self) -> None:
        """A new pty pair (a new :attr:`port`) with the link pointing at it; state is kept."""
        self.unplug()
        with self._state:
            self._scripted.clear()
        self._plug()

    def close(self) -> None:
        self.unplug()
        self._closed.set()

    def serve_forever(self) -> None:
        """Block until :meth:`close` (from another thread or a signal handler)."""
        while not self._closed.wait(0.5):
            pass

    def __enter__(self) -> ScaleSimulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- controls ----------------------------------------------------------------------------

    def set_weight(self, grams: int, *, stable: bool = True) -> None:
        """Put ``grams`` on the platter (ends an overload or underload)."""
        with self._state:
            self._load, self._stable, self._fault = grams, stable, None

    def overload(self) -> None:
        with self._state:
            self._fault = "overload"

    def underload(self) -> None:
        with self._state:
            self._fault = "underload"

    def busy(self, on: bool = True) -> None:
        """While busy, every SICS command is answered ``<command> I``."""
        with self._state:
            self._busy = on

    def answer_next(self, *replies: str | bytes) -> None:
        """SICS: answer the next commands with these replies (text gets CR LF, bytes go as is)."""
        with self._state:
            for reply in replies:
                self._scripted.append(reply.encode() + b"\r\n" if isinstance(reply, str) else reply)

    def send_raw(self, data: bytes) -> None:
        """Send bytes as they are (garbage, a partial frame)."""
        if not self._write(data, wait=1.0):
            raise OSError(f"the simulated scale could not send {data!r}: it is unplugged")

    @property
    def tare_grams(self) -> int | None:
        with self._state:
            return self._tare

    # --- serving -----------------------------------------------------------------------------

    def _write(self, data: bytes, *, wait: float = 0.0) -> bool:
        """Write to the master; False when unplugged or nobody reads (then data is dropped)."""
        with self._writing:
            if self._master < 0:
                return False
            view = memoryview(data)
            give_up = time.monotonic() + wait
            while view:
                try:
                    view = view[os.write(self._master, view) :]
                except BlockingIOError:
                    left = give_up - time.monotonic()
                    if left <= 0:
                        return False
                    select.select([], [self._master], [], min(left, _POLL))
                except OSError:
                    return False
            return True

    def _serve(self, master: int, stop: threading.Event, wake: int) -> None:
        pending = b""
        held_until: float | None = None  # an S command waiting for a stable weight
        next_frame = time.monotonic()
        while not stop.is_set():
            now = time.monotonic()
            wait = _POLL
            if self.protocol == "continuous":
                wait = max(0.0, min(wait, next_frame - now))
            elif held_until is not None:
                wait = 0.01
            try:
                ready, _, _ = select.select([master, wake], [], [], wait)
                data = os.read(master, 4096) if master in ready else b""
            except (BlockingIOError, InterruptedError):
                data = b""
            except OSError:
                # Nobody has the slave open any more (or it is being closed): wait.
                stop.wait(_POLL)
                continue
            pending += data
            lines = re.split(rb"[\r\n]", pending)
            pending = lines.pop()
            for line in lines:
                command = line.decode("ascii", errors="replace").strip()
                if not command:
                    continue
                if self.protocol == "continuous":
                    self._control(command)
                    continue
                held_until = None  # a new command ends a held S
                reply = self._answer(command)
                if reply is None:
                    held_until = time.monotonic() + self.stable_wait
                else:
                    self._write(reply)
            if held_until is not None:
                reply = self._answer_held(time.monotonic() >= held_until)
                if reply is not None:
                    held_until = None
                    self._write(reply)
            if self.protocol == "continuous" and time.monotonic() >= next_frame:
                self._write(self._frame().encode() + b"\r\n")
                next_frame = max(next_frame + self.interval, time.monotonic())

    def _shown_grams(self) -> int:
        gross = self._load - self._zero
        return gross - self._tare if self._tare is not None else gross

    def _answer(self, command: str) -> bytes | None:
        """The SICS reply to ``command``; None for ``S`` while the weight is not stable."""
        with self._state:
            if self._scripted:
                return self._scripted.popleft()
            if command not in SICS_COMMANDS:
                return b"ES\r\n"
            text = self._sics_reply(command)
        return None if text is None else text.encode() + b"\r\n"

    def _answer_held(self, give_up: bool) -> bytes | None:
        with self._state:
            text = self._sics_reply("S")
        if text is None and give_up:
            text = "S I"
        return None if text is None else text.encode() + b"\r\n"

    def _sics_reply(self, command: str) -> str | None:
        """Called with the state lock held."""
        prefix = "S" if command in ("S", "SI") else command  # SI is answered "S …"
        if self._busy:
            return f"{prefix} I"
        if command == "I4":
            return f'I4 A "{self.serial_number}"'
        if command == "TAC":
            self._tare = None
            return "TAC A"
        if self._fault == "overload":
            return f"{prefix} +"
        if self._fault == "underload":
            return f"{prefix} -"
        if command == "SI":
            return format_sics_weight(self._shown_grams(), unit=self.unit, stable=self._stable)
        if command == "S":
            if not self._stable:
                return None
            return format_sics_weight(self._shown_grams(), unit=self.unit)
        if not self._stable:
            return f"{command} I"
        if command == "Z":
            if self._load > self.zero_range_grams:
                return "Z +"
            if self._load < -self.zero_range_grams:
                return "Z -"
            self._zero, self._tare = self._load, None
            return "Z A"
        # T: the whole gross weight becomes the tare.
        gross = self._load - self._zero
        if gross < 0:
            return "T -"
        self._tare = gross
        return format_sics_weight(gross, unit=self.unit, command="T")

    def _control(self, command: str) -> None:
        """A continuous-output indicator's remote keys: Z, T and C; anything else is ignored."""
        with self._state:
            ok = self._stable and self._fault is None
            if command == "Z" and ok and abs(self._load) <= self.zero_range_grams:
                self._zero, self._tare = self._load, None
            elif command == "T" and ok and self._load - self._zero >= 0:
                self._tare = self._load - self._zero
            elif command == "C":
                self._tare = None

    def _frame(self) -> str:
        with self._state:
            net = self._tare is not None
            if self._fault is not None:
                big = 9_999_999 if self._fault == "overload" else -9_999_999
                return "OL" + format_continuous_frame(big, net=net, unit=self.unit)[2:]
            return format_continuous_frame(
                self._shown_grams(),
                stable=self._stable,
                net=net,
                unit=self.unit,
                zero_pad=self.zero_pad,
            )
