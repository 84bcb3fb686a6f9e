"""The one family of errors every device raises, each saying what went wrong and what to do."""

from __future__ import annotations


class DeviceError(Exception):
    """A device could not do what was asked; the message is fit to show an operator."""


class ScannerError(DeviceError):
    """A scanner could not be opened or read."""


class ScaleError(DeviceError):
    """A scale could not give a weight: overload, underload, garbage, busy or gone.

    ``kind`` is a stable word for code to branch on (``overload``, ``underload``,
    ``garbage``, ``busy``, ``disconnected``, ``timeout``, ``refused``); the message is for people.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class PrinterError(DeviceError):
    """A printer did not take a job.

    ``sent`` says how far the job got: ``"none"`` when no byte left this machine (safe to
    send again), ``"partial"`` when the connection broke mid-job (the printer may have
    printed part of it: a person checks before it is sent again), ``"all"`` when every
    byte went but the printer reported a fault afterwards.
    """

    def __init__(self, message: str, *, sent: str = "none") -> None:
        super().__init__(message)
        self.sent = sent
