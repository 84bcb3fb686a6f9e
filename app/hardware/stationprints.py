"""A station's own print queue sent to its printers, as one line per document for the
station's screen; shared by the stations that print (pack, ship)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from app.hardware import printqueue, wiring
from app.hardware.config import StationDevices
from app.users import LoggedIn
from data.models import PrintJobStatus
from data.printjobs import jobs as job_rows
from data.store import StoreEngine
from data.uow import UnitOfWork
from devices.errors import DeviceError

Level = Literal["info", "ok", "warn", "error"]


class StationPrints:
    """Deliver and retry the station's print jobs. ``retry_key`` is the binding id of the
    station's key that sends failed jobs again (named in the messages)."""

    def __init__(
        self,
        engine: StoreEngine,
        user: Callable[[], LoggedIn],
        devices: StationDevices | None,
        retry_key: str,
        where: str,
    ) -> None:
        self._engine = engine
        self._user = user
        self.devices = devices
        self.retry_key = retry_key
        self.where = where
        """Where a retry happens, for the job's history ("at the pack bench")."""

    def deliver(self) -> list[tuple[Level, str]]:
        """Send this station's queued jobs to its printers; one line per job."""
        user = self._user()
        lines: list[tuple[Level, str]] = []
        if self.devices is None or not self.devices.printers:
            return [
                (
                    "warn",
                    f"station {user.station_code} has no printers in its device file: the "
                    "documents wait in its print queue (`shipfloor print jobs`)",
                )
            ]
        targets = wiring.targets(self.devices)
        titles = self._titles()

        def said(job_id: int, status: PrintJobStatus, text: str) -> None:
            title = titles.get(job_id, f"job {job_id}")
            if status is PrintJobStatus.PRINTED:
                lines.append(("ok", f"{title}: printed"))
            elif status is PrintJobStatus.FAILED:
                lines.append(
                    (
                        "error",
                        f"{title}: not printed ({text.rstrip('.?! ')}); it is kept: fix the "
                        f"printer and press {{key:{self.retry_key}}}",
                    )
                )
            else:
                lines.append(("error", f"{title}: may be part printed ({text}); check the printer"))

        try:
            printqueue.deliver(self._engine, user.station_code, targets, user.actor, on_job=said)
        except (DeviceError, ValueError) as exc:
            lines.append(("error", f"printing stopped: {exc}; the jobs stay queued"))
        return lines

    def _titles(self) -> dict[int, str]:
        user = self._user()
        with UnitOfWork(self._engine, read_only=True) as uow:
            found = job_rows(uow.session, station_id=user.station_id, limit=50)
        return {j.id: f"{j.title} → {j.printer}" for j in found}

    def retry(self) -> list[tuple[Level, str]]:
        """Put this station's failed jobs back in the queue and send everything queued."""
        user = self._user()
        with UnitOfWork(self._engine, read_only=True) as uow:
            failed = job_rows(
                uow.session,
                station_id=user.station_id,
                statuses=[PrintJobStatus.FAILED],
                limit=50,
            )
        for job in failed:
            printqueue.retry(self._engine, job.id, user.actor, f"printed again {self.where}")
        with UnitOfWork(self._engine, read_only=True) as uow:
            queued = job_rows(
                uow.session, station_id=user.station_id, statuses=[PrintJobStatus.QUEUED], limit=1
            )
        if not queued:
            return []
        return self.deliver()
