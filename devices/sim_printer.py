"""A Zebra-like printer on TCP (port 9100 style) that keeps the jobs it is sent.

One connection is one job. A ``~HS`` host status query at the start of a connection is
answered with a well-formed three-string reply built from the simulator's state (paper
out, paused, head open, ribbon out) and is not part of the job; whatever follows on the
same connection is. Like a real printer it takes jobs whatever its state: refusing to
print into a paused printer is the sender's business.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from pathlib import Path

from devices.printers import HOST_STATUS_QUERY

_BLANKS = b" \t\r\n"


class PrinterSimulator:
    """A threaded TCP printer; ``port`` is the bound port (``port=0`` picks a free one)."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, folder: Path | None = None
    ) -> None:
        self.host = host
        self.folder = Path(folder) if folder is not None else None
        self._state = threading.Condition()
        self._jobs: list[bytes] = []
        self._paper_out = False
        self._paused = False
        self._head_open = False
        self._ribbon_out = False
        self._cut_after: int | None = None
        self._port = port
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._closed = threading.Event()
        self._listen()

    # --- what it received ------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def address(self) -> str:
        return f"{self.host}:{self._port}"

    @property
    def jobs(self) -> list[bytes]:
        """Every job received so far, oldest first (a copy)."""
        with self._state:
            return list(self._jobs)

    def wait_for_jobs(self, n: int, timeout: float = 5.0) -> list[bytes]:
        """All jobs once at least ``n`` have arrived; TimeoutError if they do not in time."""
        with self._state:
            if not self._state.wait_for(lambda: len(self._jobs) >= n, timeout):
                raise TimeoutError(
                    f"the simulated printer got {len(self._jobs)} of {n} jobs in {timeout:g} s"
                )
            return list(self._jobs)

    def status_reply(self) -> bytes:
        """The ``~HS`` reply for the current state (three STX…ETX strings, CR LF after each)."""
        with self._state:
            paper, pause = int(self._paper_out), int(self._paused)
            head, ribbon = int(self._head_open), int(self._ribbon_out)
        strings = (
            f"030,{paper},{pause},1218,000,0,0,0,000,0,0,0",
            f"001,0,{head},{ribbon},1,2,6,0,00000000,1,000",
            "1234,0",
        )
        return b"".join(b"\x02" + s.encode("ascii") + b"\x03\r\n" for s in strings)

    # --- controls --------------------------------------------------------------------

    def paper_out(self, on: bool = True) -> None:
        with self._state:
            self._paper_out = on

    def pause(self, on: bool = True) -> None:
        with self._state:
            self._paused = on

    def head_open(self, on: bool = True) -> None:
        with self._state:
            self._head_open = on

    def ribbon_out(self, on: bool = True) -> None:
        with self._state:
            self._ribbon_out = on

    def close_after(self, n_bytes: int) -> None:
        """Reset the next job's connection after ``n_bytes`` of the job (``~HS`` not counted).

        The bytes received up to then are kept as that job, as a printer may print them.
        """
        if n_bytes < 0:
            raise ValueError("close_after needs a byte count of 0 or more")
        with self._state:
            self._cut_after = n_bytes

    def refuse(self) -> None:
        """Stop listening: connections are refused until :meth:`accept`."""
        with self._state:
            listener, self._listener = self._listener, None
            acceptor, self._acceptor = self._acceptor, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        if acceptor is not None:
            acceptor.join(timeout=2.0)

    def accept(self) -> None:
        """Listen again, on the same port."""
        with self._state:
            if self._listener is not None or self._closed.is_set():
                return
        self._listen()

    def close(self) -> None:
        """Stop listening and drop every open connection."""
        self._closed.set()
        with self._state:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self.refuse()

    def serve_forever(self) -> None:
        """Block until :meth:`close` (from another thread) or Ctrl-C."""
        try:
            while not self._closed.wait(0.5):
                pass
        finally:
            self.close()

    def __enter__(self) -> PrinterSimulator:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- the server --------------------------------------------------------------------

    def _listen(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self.host, self._port))
            listener.listen(16)
        except OSError:
            listener.close()
            raise
        self._port = listener.getsockname()[1]
        acceptor = threading.Thread(
            target=self._accept_loop,
            args=(listener,),
            name=f"printer-sim-{self._port}",
            daemon=True,
        )
        with self._state:
            self._listener, self._acceptor = listener, acceptor
        acceptor.start()

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return  # refuse() or close() shut the listener
            with self._state:
                if self._closed.is_set():
                    conn.close()
                    return
                self._connections.add(conn)
            # One connection at a time, as a printer's raw port works: a second sender
            # waits in the backlog, so jobs print in the order their connections came.
            self._serve(conn)

    def _serve(self, conn: socket.socket) -> None:
        head = bytearray()  # the start of the connection, while it may still be ~HS
        job = bytearray()
        in_job = False
        limit: int | None = None
        cut = False
        try:
            conn.settimeout(60.0)
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                if not in_job:
                    head += chunk
                    rest = self._answer_queries(conn, head)
                    if rest is None:
                        continue
                    in_job, chunk = True, rest
                    if not chunk:
                        continue
                if not job and limit is None:
                    limit = self._claim_cut()
                if limit is not None and len(job) + len(chunk) >= limit:
                    job += chunk[: limit - len(job)]
                    cut = True
                    break
                job += chunk
        except OSError:
            pass  # the sender reset the connection or went quiet: keep what came
        if not in_job and head.strip(_BLANKS):
            job += head  # a start that looked like ~HS but was not
        try:
            if job:
                self._record(bytes(job))
        finally:
            if cut:  # a reset, not a clean close: the sender must notice
                with contextlib.suppress(OSError):
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
            with self._state:
                self._connections.discard(conn)

    def _answer_queries(self, conn: socket.socket, head: bytearray) -> bytes | None:
        """Answer each ``~HS`` at the start; return the job bytes after them, or None when
        more bytes are needed to tell (the start so far is blank or a prefix of ``~HS``)."""
        data = bytes(head)
        while True:
            start = data.lstrip(_BLANKS)
            if start[:3].upper() == HOST_STATUS_QUERY:
                conn.sendall(self.status_reply())
                data = start[3:]
                if data.startswith(b"\r\n"):
                    data = data[2:]
                elif data.startswith(b"\n"):
                    data = data[1:]
                continue
            if len(start) < 3 and HOST_STATUS_QUERY.startswith(start.upper()):
                head[:] = data
                return None
            return data

    def _claim_cut(self) -> int | None:
        with self._state:
            limit, self._cut_after = self._cut_after, None
            return limit

    def _record(self, job: bytes) -> None:
        with self._state:
            self._jobs.append(job)
            if self.folder is not None:
                (self.folder / f"job-{len(self._jobs):04d}.zpl").write_bytes(job)
            self._state.notify_all()
