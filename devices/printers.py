"""Printer transports: raw TCP (port 9100), serial ports, CUPS queues and a folder.

Every transport takes a finished job (ZPL, PDF, … made elsewhere) and its title, and either
returns a short receipt for the audit log or raises :class:`PrinterError`. The error's
``sent`` says whether the job may simply be sent again (``"none"``), must be checked by a
person first because part of it may have printed (``"partial"``), or went out whole
(``"all"``). Messages name the printer and its address and say what to do.

TCP (:class:`TcpPrinter`)
    A Zebra (or any JetDirect-style printer) on port 9100. With ``status_query`` the
    printer is first asked for its host status (``~HS``) on the same connection, and a job
    is not sent while it reports paper out, paused, head open or ribbon out. The job then
    goes in chunks, counting the bytes handed to the network; afterwards the write side is
    shut down and the printer is given ``close_wait`` seconds to close its end. A reset in
    that time means it did not take the whole job (``sent="partial"``); a printer that keeps
    the connection open is not an error.

Serial (:class:`SerialPrinter`)
    Opened through :func:`serial.serial_for_url` (device paths, ``loop://``, …) and kept
    open between jobs (a reopen can toggle DTR and reset some printers); after an error the
    port is closed and opened again for the next job.

CUPS (:class:`CupsPrinter`)
    ``lp`` with the job on its standard input; the receipt is the CUPS request id.

Folder (:class:`FolderPrinter`)
    Each job becomes one file, written atomically and never overwriting another: for hot
    folders watched by other software, and for trying things out without a printer.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import re
import select
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import serial

from devices.errors import PrinterError

__all__ = [
    "CupsPrinter",
    "FolderPrinter",
    "Printer",
    "PrinterStatus",
    "SerialPrinter",
    "TcpPrinter",
    "open_printer",
    "parse_host_status",
]

STX = b"\x02"
ETX = b"\x03"
HOST_STATUS_QUERY = b"~HS"
"""The ZPL host status query; the printer answers with three STX…ETX framed strings."""

BLOCKING_PROBLEMS: Mapping[str, str] = {
    "paper out": "load labels",
    "paused": "press PAUSE on the printer to resume",
    "head open": "close the print head",
    "ribbon out": "load a new ribbon",
}
"""Problems a job is not sent into, each with what the operator does about it."""

_TCP_CHUNK = 64 * 1024
_SERIAL_CHUNK = 256


@dataclass(frozen=True)
class PrinterStatus:
    """What a printer says about itself.

    ``problems`` are plain words (``"paper out"``, ``"paused"``, ``"head open"``,
    ``"ribbon out"``, ``"receive buffer full"``, …); ``ready`` is true when there are none.
    ``detail`` is one line for people.
    """

    ready: bool
    problems: tuple[str, ...]
    detail: str
    verified: bool = True
    """False when the printer could not be asked (a serial printer that never answers)."""


@runtime_checkable
class Printer(Protocol):
    """Where finished print jobs go."""

    name: str

    def describe(self) -> str:
        """How and where jobs go, e.g. ``ZPL over TCP to 10.0.0.5:9100``."""
        ...

    def send(self, data: bytes, *, title: str) -> str:
        """Deliver one job; return a short receipt for the audit log or raise PrinterError."""
        ...

    def check(self) -> PrinterStatus:
        """Ask the printer how it is; raise PrinterError when it cannot be reached at all."""
        ...


# --- ~HS host status -------------------------------------------------------------------

_FRAME = re.compile(rb"\x02([^\x02\x03]*)\x03")

# (string index, field index, what the flag means when it is 1), after the ZPL II guide:
# string 1 aaa,b,c,dddd,eee,f,g,h,iii,j,k,l  string 2 mmm,n,o,p,q,r,s,t,uuuuuuuu,v,www
_FLAGS: tuple[tuple[int, int, str], ...] = (
    (0, 1, "paper out"),
    (0, 2, "paused"),
    (1, 2, "head open"),
    (1, 3, "ribbon out"),
    (0, 5, "receive buffer full"),
    (0, 9, "corrupt RAM (settings lost)"),
    (0, 10, "under temperature"),
    (0, 11, "over temperature"),
)
_MIN_FIELDS = (12, 11, 2)


def _show(data: bytes, limit: int = 120) -> str:
    """Bytes as a person can read them in a message, cut short when long."""
    if len(data) <= limit:
        return repr(data)
    return f"{data[:limit]!r}… ({len(data)} bytes)"


def _bad_status(data: bytes, why: str) -> PrinterError:
    return PrinterError(f"the status reply could not be read ({why}): got {_show(data)}")


def parse_host_status(data: bytes) -> PrinterStatus:
    """Read a Zebra ``~HS`` reply: three STX…ETX framed, comma-separated strings.

    Fields beyond the documented ones (newer firmware) are ignored. Anything else (fewer
    than three strings, too few fields, a flag that is not 0 or 1) raises
    :class:`PrinterError` showing the bytes.
    """
    frames = _FRAME.findall(data)
    if len(frames) < 3:
        raise _bad_status(data, f"expected three STX…ETX strings, found {len(frames)}")
    try:
        fields = [frame.decode("ascii").strip().split(",") for frame in frames[:3]]
    except UnicodeDecodeError:
        raise _bad_status(data, "it is not ASCII text") from None
    for number, (got, need) in enumerate(zip(fields, _MIN_FIELDS, strict=True), start=1):
        if len(got) < need:
            raise _bad_status(data, f"string {number} has {len(got)} fields, expected {need}")
    problems: list[str] = []
    for string, index, word in _FLAGS:
        flag = fields[string][index].strip()
        if flag not in ("0", "1"):
            raise _bad_status(
                data, f"the {word} flag (string {string + 1}, field {index + 1}) is {flag!r}"
            )
        if flag == "1":
            problems.append(word)
    counts: list[str] = []
    formats, labels = fields[0][4].strip(), fields[1][8].strip()
    if formats.isdigit():
        counts.append(f"{int(formats)} format(s) in the buffer")
    if labels.isdigit():
        counts.append(f"{int(labels)} label(s) left in the batch")
    state = ", ".join(problems) if problems else "ready"
    detail = f"{state} ({', '.join(counts)})" if counts else state
    return PrinterStatus(ready=not problems, problems=tuple(problems), detail=detail)


def _not_ready(who: str, status: PrinterStatus, title: str) -> PrinterError | None:
    """The refusal for a printer reporting a problem a job must not be sent into."""
    blocking = [p for p in status.problems if p in BLOCKING_PROBLEMS]
    if not blocking:
        return None
    todo = " and ".join(BLOCKING_PROBLEMS[p] for p in blocking)
    return PrinterError(
        f"{who} is not ready ({', '.join(blocking)}): {todo}, then print again "
        f"— nothing of {title!r} was sent",
        sent="none",
    )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


# --- TCP 9100 --------------------------------------------------------------------------


class TcpPrinter:
    """A printer taking raw jobs on a TCP port (9100), optionally asked ``~HS`` first."""

    def __init__(
        self,
        name: str,
        host: str,
        port: int = 9100,
        *,
        timeout: float = 5.0,
        status_query: bool = True,
        close_wait: float = 2.0,
    ) -> None:
        if not host:
            raise ValueError(f"printer {name!r} needs a host name or address")
        if not 0 < port < 65536:
            raise ValueError(f"printer {name!r}: port {port} is not between 1 and 65535")
        if timeout <= 0 or close_wait < 0:
            raise ValueError(f"printer {name!r}: timeouts must be positive")
        self.name = name
        self.host = host
        self.port = port
        self.timeout = timeout
        self.status_query = status_query
        self.close_wait = close_wait

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def _who(self) -> str:
        return f"{self.name} {self.address}"

    def describe(self) -> str:
        kind = "ZPL" if self.status_query else "raw data"
        return f"{kind} over TCP to {self.address}"

    def send(self, data: bytes, *, title: str) -> str:
        with self._connect() as sock:
            if self.status_query:
                refusal = _not_ready(self._who, self._query(sock), title)
                if refusal is not None:
                    raise refusal
            self._send_job(sock, data, title)
        return f"{len(data)} bytes to {self.address}"

    def check(self) -> PrinterStatus:
        with self._connect() as sock:
            if not self.status_query:
                return PrinterStatus(
                    True, (), f"{self.address} accepts connections (status query is off)"
                )
            status = self._query(sock)
            self._close_gently(sock)
            return status

    def _connect(self) -> socket.socket:
        who = self._who
        try:
            return socket.create_connection((self.host, self.port), timeout=self.timeout)
        except ConnectionRefusedError:
            raise PrinterError(
                f"{who} refused the connection: is it switched on and on the network?"
            ) from None
        except TimeoutError:
            raise PrinterError(
                f"{who} did not answer within {self.timeout:g} s: is it switched on and on "
                "the network, and is the address right?"
            ) from None
        except socket.gaierror as exc:
            raise PrinterError(
                f"{who}: the host name {self.host!r} cannot be looked up ({_reason(exc)}): "
                "check the printer address in the settings"
            ) from None
        except OSError as exc:
            raise PrinterError(
                f"{who} cannot be reached ({_reason(exc)}): check the network and the "
                "printer address"
            ) from None

    def _query(self, sock: socket.socket) -> PrinterStatus:
        """Ask ``~HS`` and read the three strings of the reply within the timeout."""
        who = self._who
        reply = bytearray()
        deadline = time.monotonic() + self.timeout
        try:
            sock.sendall(HOST_STATUS_QUERY)
            while reply.count(ETX) < 3 and len(reply) < 4096:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                sock.settimeout(left)
                chunk = sock.recv(1024)
                if not chunk:
                    raise PrinterError(
                        f"{who} closed the connection instead of answering the status query "
                        f"(~HS) (got {_show(bytes(reply))}): try again; if it is not a ZPL "
                        "printer, turn its status query off — nothing was printed"
                    )
                reply += chunk
        except TimeoutError:
            got = f" (got {_show(bytes(reply))})" if reply else ""
            raise PrinterError(
                f"{who} did not answer the status query (~HS) within {self.timeout:g} s{got}: "
                "check it is a ZPL printer and not busy, or turn its status query off "
                "— nothing was printed"
            ) from None
        except OSError as exc:
            raise PrinterError(
                f"{who} dropped the connection during the status query ({_reason(exc)}): "
                "try again — nothing was printed"
            ) from None
        finally:
            sock.settimeout(self.timeout)
        try:
            return parse_host_status(bytes(reply))
        except PrinterError as exc:
            raise PrinterError(
                f"{who}: {exc}: is it a ZPL printer? If not, turn its status query off "
                "— nothing was printed"
            ) from None

    def _cut(self, sent: int, total: int, title: str, how: str) -> PrinterError:
        who = self._who
        if sent == 0:
            return PrinterError(
                f"{who} {how} before any of {title!r} was sent: print again — nothing of it "
                "was printed",
                sent="none",
            )
        return PrinterError(
            f"{who} {how} after {sent} of {total} bytes of {title!r}: check the printer "
            "before printing again — part of the label may have printed",
            sent="partial",
        )

    def _send_job(self, sock: socket.socket, data: bytes, title: str) -> None:
        view = memoryview(data)
        total = len(data)
        sent = 0
        while sent < total:
            if self._peer_closed(sock):
                raise self._cut(sent, total, title, "closed the connection")
            try:
                sent += sock.send(view[sent : sent + _TCP_CHUNK])
            except TimeoutError:
                raise self._cut(
                    sent, total, title, f"stopped taking data for {self.timeout:g} s"
                ) from None
            except OSError:
                raise self._cut(sent, total, title, "closed the connection") from None
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            raise self._cut(total, total, title, "closed the connection") from None
        if not self._close_gently(sock):
            raise self._cut(total, total, title, "reset the connection")

    @staticmethod
    def _peer_closed(sock: socket.socket) -> bool:
        """True when the printer has closed or reset its end (anything it sent is dropped)."""
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return False
        try:
            return not sock.recv(4096)
        except OSError:
            return True

    def _close_gently(self, sock: socket.socket) -> bool:
        """Wait up to ``close_wait`` for the printer to close its end; False on a reset."""
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + self.close_wait
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                if not sock.recv(4096):
                    return True
            except TimeoutError:
                return True
            except OSError:
                return False
        return True


# --- serial ----------------------------------------------------------------------------


class SerialPrinter:
    """A printer on a serial port (RS-232 or USB-CDC), kept open between jobs.

    ``check()`` opens the port and asks ``~HS``. Serial printers often answer nothing (the
    command is ZPL-only, or the cable has no receive line), so silence is *not* a fault: the
    status is ready with a detail saying paper and head are not known. An unreadable answer
    is reported as not ready (``"unreadable status reply"``): usually the baud rate is wrong.
    """

    def __init__(self, name: str, url: str, *, baudrate: int = 9600, timeout: float = 5.0) -> None:
        if not url:
            raise ValueError(f"printer {name!r} needs a serial port (e.g. /dev/ttyUSB0)")
        if baudrate <= 0 or timeout <= 0:
            raise ValueError(f"printer {name!r}: baud rate and timeout must be positive")
        self.name = name
        self.url = url
        self.baudrate = baudrate
        self.timeout = timeout
        self._port: Any = None
        self._lock = threading.Lock()

    @property
    def port(self) -> Any:
        """The open pyserial port, or None before the first job and after an error."""
        return self._port

    @property
    def _who(self) -> str:
        return f"{self.name} on {self.url}"

    def describe(self) -> str:
        return f"serial port {self.url} at {self.baudrate} baud"

    def send(self, data: bytes, *, title: str) -> str:
        total = len(data)
        with self._lock:
            port = self._open()
            written = 0
            try:
                for start in range(0, total, _SERIAL_CHUNK):
                    chunk = data[start : start + _SERIAL_CHUNK]
                    count = port.write(chunk)
                    written += len(chunk) if count is None else count
                self._drain(port)
            except serial.SerialTimeoutException:
                self.close()
                # pyserial does not say how much of the timed-out write went out: at least
                # one byte may have, so this is never "nothing was sent".
                raise self._cut(
                    written,
                    total,
                    title,
                    f"stopped taking data for {self.timeout:g} s",
                    unsure=written == 0,
                ) from None
            except (serial.SerialException, OSError) as exc:
                self.close()
                raise self._cut(written, total, title, f"failed ({_reason(exc)})") from None
        return f"{total} bytes to {self.url}"

    def check(self) -> PrinterStatus:
        with self._lock:
            port = self._open()
            reply = bytearray()
            wait = min(self.timeout, 2.0)
            try:
                port.reset_input_buffer()
                port.write(HOST_STATUS_QUERY)
                deadline = time.monotonic() + wait
                while reply.count(ETX) < 3 and time.monotonic() < deadline:
                    waiting = port.in_waiting
                    if waiting:
                        reply += port.read(waiting)
                    else:
                        time.sleep(0.02)
            except (serial.SerialException, OSError) as exc:
                self.close()
                raise PrinterError(
                    f"{self._who} failed during the status query ({_reason(exc)}): is the "
                    "cable plugged in?"
                ) from None
        if not reply:
            return PrinterStatus(
                True,
                (),
                f"port {self.url} is open; the printer did not answer the status query "
                f"(~HS) within {wait:g} s, so paper and head are not known",
                verified=False,
            )
        try:
            return parse_host_status(bytes(reply))
        except PrinterError:
            return PrinterStatus(
                False,
                ("unreadable status reply",),
                f"answered {_show(bytes(reply))} to the status query: check that the baud "
                f"rate ({self.baudrate}) and data format match the printer's settings",
            )

    def close(self) -> None:
        """Close the port; the next job opens it again."""
        port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(Exception):
                port.close()

    def __enter__(self) -> SerialPrinter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _open(self) -> Any:
        if self._port is not None:
            return self._port
        try:
            self._port = serial.serial_for_url(
                self.url,
                baudrate=self.baudrate,
                timeout=self.timeout,
                write_timeout=self.timeout,
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            code = getattr(exc, "errno", None)
            if code == errno.ENOENT:
                todo = "is the printer plugged in, and is the port name right?"
            elif code in (errno.EACCES, errno.EPERM):
                todo = "this user may not use the port: add it to the dialout group"
            elif code == errno.EBUSY:
                todo = "another program has the port open: close it"
            else:
                todo = "is the printer plugged in, and is the port name right?"
            raise PrinterError(
                f"{self._who} could not be opened ({_reason(exc)}): {todo} — nothing was printed"
            ) from None
        return self._port

    def _drain(self, port: Any) -> None:
        """Wait until the port has transmitted everything, for at most the timeout.

        ``flush()`` (tcdrain) on a real port would wait forever for a printer that holds
        hardware handshake off, so a real port's output queue is polled instead.
        """
        if not isinstance(port, serial.Serial):
            port.flush()
            return
        deadline = time.monotonic() + self.timeout
        while port.out_waiting:
            if time.monotonic() > deadline:
                raise serial.SerialTimeoutException("output not drained")
            time.sleep(0.01)

    def _cut(
        self, written: int, total: int, title: str, how: str, *, unsure: bool = False
    ) -> PrinterError:
        if unsure:
            return PrinterError(
                f"{self._who} {how} while {title!r} was being sent: check the printer before "
                "printing again — part of the label may have printed",
                sent="partial",
            )
        if written == 0:
            return PrinterError(
                f"{self._who} {how} before any of {title!r} was sent: check it is switched "
                "on and the cable is plugged in, then print again — nothing was printed",
                sent="none",
            )
        return PrinterError(
            f"{self._who} {how} after {written} of {total} bytes of {title!r}: check the "
            "printer and the cable before printing again — part of the label may have printed",
            sent="partial",
        )


# --- CUPS ------------------------------------------------------------------------------

_QUEUE_NAME = re.compile(r"[^\s/#]+")
_OPTION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_REQUEST_ID = re.compile(r"request id is (\S+)")
_C_LOCALE = {"LC_ALL": "C", "LANG": "C"}


def _lp_option(key: str, value: str) -> str:
    """One ``-o`` argument; a value with spaces or quotes is quoted the way CUPS reads it."""
    if not value:
        return key
    if re.search(r"[\s'\"\\]", value):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{key}="{escaped}"'
    return f"{key}={value}"


class CupsPrinter:
    """A CUPS queue, printed to with ``lp`` (the job goes on its standard input)."""

    def __init__(
        self,
        name: str,
        queue: str,
        *,
        lp: str = "lp",
        lpstat: str | None = None,
        options: Mapping[str, str] | None = None,
        timeout: float = 30.0,
    ) -> None:
        if not _QUEUE_NAME.fullmatch(queue):
            raise ValueError(
                f"printer {name!r}: {queue!r} is not a CUPS queue name (no spaces, / or #)"
            )
        for key in options or {}:
            if not _OPTION_NAME.fullmatch(key):
                raise ValueError(f"printer {name!r}: {key!r} is not a CUPS option name")
        if timeout <= 0:
            raise ValueError(f"printer {name!r}: the timeout must be positive")
        self.name = name
        self.queue = queue
        self.lp = lp
        self.lpstat = lpstat or (str(Path(lp).with_name("lpstat")) if os.sep in lp else "lpstat")
        self.options: dict[str, str] = dict(options or {})
        self.timeout = timeout

    @property
    def _who(self) -> str:
        return f"{self.name} (CUPS queue {self.queue})"

    def describe(self) -> str:
        return f"CUPS queue {self.queue}"

    def send(self, data: bytes, *, title: str) -> str:
        argv = [self.lp, "-d", self.queue, "-t", title or "shipfloor job"]
        for key, value in self.options.items():
            argv += ["-o", _lp_option(key, value)]
        argv.append("-")  # the job is on stdin; lp stops reading options here
        try:
            done = self._run(argv, data)
        except subprocess.TimeoutExpired:
            raise PrinterError(
                f"{self._who}: lp did not finish within {self.timeout:g} s: the job may have "
                f"been queued — check with lpstat -o {self.queue} before printing again",
                sent="partial",
            ) from None
        if done.returncode != 0:
            said = done.stderr.decode(errors="replace").strip() or (
                f"lp ended with exit status {done.returncode}"
            )
            raise PrinterError(
                f"{self._who} did not take {title!r}: {said} — check the queue name "
                "(lpstat -p) and that CUPS is running, then print again"
            )
        out = done.stdout.decode(errors="replace")
        found = _REQUEST_ID.search(out)
        if found is None:
            return f"queued on {self.queue} (lp reported no request id)"
        return found.group(1)

    def check(self) -> PrinterStatus:
        try:
            done = self._run([self.lpstat, "-p", self.queue], b"", program=self.lpstat)
        except subprocess.TimeoutExpired:
            raise PrinterError(
                f"{self._who}: lpstat did not answer within {self.timeout:g} s: is CUPS running?"
            ) from None
        out = " ".join(done.stdout.decode(errors="replace").split())
        err = " ".join(done.stderr.decode(errors="replace").split())
        if done.returncode != 0:
            lowered = err.lower()
            if any(
                words in lowered
                for words in ("does not exist", "invalid destination", "unknown destination")
            ):
                return PrinterStatus(
                    False,
                    ("queue not found",),
                    f"{err}: add the queue {self.queue} in CUPS or fix its name",
                )
            raise PrinterError(
                f"{self._who}: lpstat failed ({err or f'exit status {done.returncode}'}): "
                "is CUPS running?"
            )
        if "disabled" in out:
            return PrinterStatus(
                False, ("disabled",), f"{out} (enable it with cupsenable {self.queue})"
            )
        return PrinterStatus(True, (), out or f"queue {self.queue} is there")

    def _run(
        self, argv: list[str], data: bytes, *, program: str | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        program = program or self.lp
        try:
            return subprocess.run(
                argv,
                input=data,
                capture_output=True,
                timeout=self.timeout,
                env={**os.environ, **_C_LOCALE},
                check=False,
            )
        except FileNotFoundError:
            raise PrinterError(
                f"{self._who}: the CUPS client program {program!r} is missing: install it "
                "(apt install cups-client) or set its path — nothing was printed"
            ) from None
        except OSError as exc:
            raise PrinterError(
                f"{self._who}: {program!r} cannot be run ({_reason(exc)}): check the CUPS "
                "client installation — nothing was printed"
            ) from None


# --- folder ----------------------------------------------------------------------------

_EXTENSION = re.compile(r"[A-Za-z0-9]{1,10}")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _safe_title(title: str) -> str:
    """A title as a file-name part: letters, digits, ``.``, ``_`` and ``-`` only."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", title).strip("-.")
    return cleaned[:60].rstrip("-.") or "job"


class FolderPrinter:
    """Writes each job as ``<UTC time>-<title>.<extension>`` into a folder."""

    def __init__(self, name: str, folder: str | Path, *, extension: str) -> None:
        ext = extension.lstrip(".")
        if not _EXTENSION.fullmatch(ext):
            raise ValueError(
                f"printer {name!r}: {extension!r} is not a file extension (e.g. zpl, pdf)"
            )
        self.name = name
        self.folder = Path(folder)
        self.extension = ext

    @property
    def _who(self) -> str:
        return f"{self.name} (folder {self.folder})"

    def describe(self) -> str:
        return f".{self.extension} files in {self.folder}"

    def send(self, data: bytes, *, title: str) -> str:
        folder = self.folder
        if not folder.is_dir():
            raise PrinterError(
                f"{self._who}: the folder does not exist: create it or choose another "
                "folder in the printer settings — nothing was written"
            )
        base = f"{_utc_now().strftime('%Y%m%dT%H%M%S.%fZ')}-{_safe_title(title)}"
        try:
            handle, temp_name = tempfile.mkstemp(dir=folder, prefix=".", suffix=".part")
        except OSError as exc:
            raise PrinterError(
                f"{self._who}: cannot write to the folder ({_reason(exc)}): give this user "
                "write access or choose another folder — nothing was written"
            ) from None
        temp = Path(temp_name)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            path = self._claim(temp, base)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise PrinterError(
                f"{self._who}: writing {title!r} failed ({_reason(exc)}): check free space "
                "and permissions, then print again — nothing was written"
            ) from None
        _sync_folder(folder)
        return str(path)

    def check(self) -> PrinterStatus:
        folder = self.folder
        if not folder.is_dir():
            return PrinterStatus(False, ("folder missing",), f"{folder} does not exist")
        try:
            handle, temp_name = tempfile.mkstemp(dir=folder, prefix=".", suffix=".check")
        except OSError as exc:
            return PrinterStatus(
                False,
                ("folder not writable",),
                f"{folder} cannot be written to ({_reason(exc)})",
            )
        os.close(handle)
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        return PrinterStatus(True, (), f"{folder} exists and can be written to")

    def _claim(self, temp: Path, base: str) -> Path:
        """Give the finished temp file its name, adding a counter rather than overwriting.

        A hard link claims a name atomically and fails when it is taken; where the folder
        cannot hold hard links (some network shares) the name is checked and replaced.
        """
        for number in itertools.count(1):
            suffix = "" if number == 1 else f"-{number}"
            final = self.folder / f"{base}{suffix}.{self.extension}"
            try:
                os.link(temp, final)
            except FileExistsError:
                continue
            except OSError:
                if final.exists():
                    continue
                os.replace(temp, final)
                return final
            with contextlib.suppress(OSError):
                temp.unlink()
            return final
        raise AssertionError("unreachable")  # pragma: no cover


def _sync_folder(folder: Path) -> None:
    """Make the new name durable (POSIX); a folder that cannot be opened is left be."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(handle)
    finally:
        os.close(handle)


# --- factory ---------------------------------------------------------------------------


def _as_str(key: str, value: Any) -> str:
    if isinstance(value, str | Path):
        return str(value)
    raise ValueError(f"option {key!r} must be text, not {value!r}")


def _as_int(key: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"option {key!r} must be a whole number, not {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"option {key!r} must be a whole number, not {value!r}") from None


def _as_float(key: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"option {key!r} must be a number of seconds, not {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"option {key!r} must be a number of seconds, not {value!r}") from None


def _as_bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    words = {"true": True, "yes": True, "on": True, "1": True}
    words |= {"false": False, "no": False, "off": False, "0": False}
    if isinstance(value, str | int) and str(value).strip().lower() in words:
        return words[str(value).strip().lower()]
    raise ValueError(f"option {key!r} must be true or false, not {value!r}")


def _as_options(key: str, value: Any) -> dict[str, str]:
    if isinstance(value, Mapping) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        return dict(value)
    raise ValueError(f"option {key!r} must map option names to text values, not {value!r}")


@dataclass(frozen=True)
class _Kind:
    build: Callable[..., Printer]
    required: Mapping[str, Callable[[str, Any], Any]]
    optional: Mapping[str, Callable[[str, Any], Any]]


_KINDS: Mapping[str, _Kind] = {
    "tcp": _Kind(
        TcpPrinter,
        {"host": _as_str},
        {
            "port": _as_int,
            "timeout": _as_float,
            "status_query": _as_bool,
            "close_wait": _as_float,
        },
    ),
    "serial": _Kind(SerialPrinter, {"url": _as_str}, {"baudrate": _as_int, "timeout": _as_float}),
    "cups": _Kind(
        CupsPrinter,
        {"queue": _as_str},
        {"lp": _as_str, "lpstat": _as_str, "options": _as_options, "timeout": _as_float},
    ),
    "folder": _Kind(FolderPrinter, {"folder": _as_str, "extension": _as_str}, {}),
}


def open_printer(name: str, kind: str, **options: Any) -> Printer:
    """A printer from its configuration: ``kind`` is tcp, serial, cups or folder.

    Option values may be given as text (from a settings file): numbers and true/false are
    converted. An unknown kind, a missing or unknown option, or a bad value raises
    ValueError naming what was expected.
    """
    spec = _KINDS.get(kind.strip().lower())
    if spec is None:
        raise ValueError(
            f"printer {name!r}: unknown kind {kind!r}: expected one of {', '.join(_KINDS)}"
        )
    expected = ", ".join([*spec.required, *(f"[{key}]" for key in spec.optional)])
    missing = [key for key in spec.required if key not in options]
    if missing:
        raise ValueError(
            f"printer {name!r}: a {kind} printer needs {', '.join(missing)} (options: {expected})"
        )
    unknown = sorted(set(options) - set(spec.required) - set(spec.optional))
    if unknown:
        raise ValueError(
            f"printer {name!r}: a {kind} printer has no option {', '.join(unknown)} "
            f"(options: {expected})"
        )
    converters = {**spec.required, **spec.optional}
    try:
        values = {key: converters[key](key, value) for key, value in options.items()}
    except ValueError as exc:
        raise ValueError(f"printer {name!r}: {exc}") from None
    return spec.build(name, **values)
