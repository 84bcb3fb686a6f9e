"""A serial scanner simulator on a pty pair: what it is told to scan arrives on the port."""

from __future__ import annotations

from pathlib import Path

from devices.ptys import VirtualPort


class ScannerSimulator:
    """Sends scans, each followed by the terminator, as a serial scanner does."""

    def __init__(self, link: str | Path | None = None, *, suffix: str = "\r") -> None:
        self._port = VirtualPort(link)
        self.suffix = suffix

    @property
    def port(self) -> str:
        return self._port.port

    def scan(self, text: str) -> None:
        """One code, exactly as the scanner would send it."""
        self._port.write(text.encode() + self.suffix.encode())

    def send_raw(self, data: bytes) -> None:
        """Bytes as they are (a partial code, noise on the line)."""
        self._port.write(data)

    def unplug(self) -> None:
        self._port.unplug()

    def replug(self) -> None:
        self._port.plug()

    def close(self) -> None:
        self._port.close()

    def __enter__(self) -> ScannerSimulator:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
