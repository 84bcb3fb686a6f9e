"""A virtual serial port (a pty pair) that simulators write to, with unplug and replug.

The device end (the slave, ``/dev/pts/N``) is what a driver opens, usually through a
stable symlink (``link``) because every replug makes a new pty with a new number.
"""

from __future__ import annotations

import contextlib
import os
import select
import tty
from pathlib import Path


class VirtualPort:
    """The master side of a pty pair; ``port`` is the path a driver opens."""

    def __init__(self, link: str | Path | None = None) -> None:
        self.link = Path(link) if link is not None else None
        self._master = -1
        self._slave = -1
        self.plug()

    @property
    def port(self) -> str:
        """The path to open: the symlink when there is one, else the pty itself."""
        if self.link is not None:
            return str(self.link)
        return self.device

    @property
    def device(self) -> str:
        if self._slave < 0:
            raise OSError("the virtual port is unplugged")
        return os.ttyname(self._slave)

    @property
    def plugged(self) -> bool:
        return self._master >= 0

    def plug(self) -> None:
        """Make a new pty pair and point the link at it (atomically)."""
        if self.plugged:
            return
        master, slave = os.openpty()
        tty.setraw(slave)
        self._master, self._slave = master, slave
        if self.link is not None:
            tmp = self.link.with_name(f".{self.link.name}.{os.getpid()}.tmp")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            tmp.symlink_to(os.ttyname(slave))
            os.replace(tmp, self.link)

    def unplug(self) -> None:
        """Close both ends: a driver reading the port sees an error, as with a pulled cable."""
        for fd in (self._master, self._slave):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = -1

    def close(self) -> None:
        self.unplug()
        if self.link is not None:
            with contextlib.suppress(FileNotFoundError):
                self.link.unlink()

    def write(self, data: bytes) -> None:
        """Send bytes to whoever has the device end open."""
        if not self.plugged:
            raise OSError("the virtual port is unplugged")
        view = memoryview(data)
        while view:
            _, ready, _ = select.select([], [self._master], [], 5.0)
            if not ready:
                raise TimeoutError("nobody is reading the virtual port")
            view = view[os.write(self._master, view) :]

    def read(self, timeout: float) -> bytes:
        """Bytes the driver wrote, or b"" when none came within ``timeout`` seconds."""
        if not self.plugged:
            return b""
        ready, _, _ = select.select([self._master], [], [], timeout)
        if not ready:
            return b""
        try:
            return os.read(self._master, 4096)
        except OSError:
            return b""

    def fileno(self) -> int:
        return self._master

    def __enter__(self) -> VirtualPort:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
