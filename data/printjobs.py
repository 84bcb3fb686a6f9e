"""The print queue in the store: jobs, their claims by a sending station, and their history.

A printer's jobs go out one at a time in the order they were queued. A printer with a job
``failed`` or ``unknown`` is held: its queued jobs wait until a person retries or cancels
that job, so a printer that is off fails one job (with the reason) and loses none.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, insert, select, update
from sqlalchemy.orm import Session

from data.models import PrintJob, PrintJobEvent, PrintJobStatus, Station

HOLDING = (PrintJobStatus.SENDING, PrintJobStatus.FAILED, PrintJobStatus.UNKNOWN)
"""Statuses of a job that keep the later jobs of its printer waiting."""


@dataclass(frozen=True)
class JobRow:
    id: int
    station: str
    printer: str
    document: str
    title: str
    content_type: str
    status: PrintJobStatus
    attempts: int
    error: str | None
    receipt: str | None
    reference: str | None
    reprint_of: int | None
    created_at: datetime
    created_by: str
    updated_at: datetime
    size: int


@dataclass(frozen=True)
class EventRow:
    at: datetime
    event: str
    status: PrintJobStatus
    actor: str
    station: str | None
    detail: str


@dataclass(frozen=True)
class Who:
    """Who acts and where, as history rows record it."""

    actor: str
    user_id: int | None
    station_id: int | None
    at: datetime


def station_id(session: Session, code: str) -> int | None:
    return session.scalar(select(Station.id).where(Station.code == code))


def station_codes(session: Session) -> list[str]:
    return list(session.scalars(select(Station.code).order_by(Station.code)))


def add_job(
    session: Session,
    *,
    station_id: int,
    printer: str,
    document: str,
    title: str,
    content_type: str,
    content: bytes,
    reference: str | None,
    who: Who,
    reprint_of: int | None = None,
    detail: str = "",
) -> int:
    job_id: int = session.execute(
        insert(PrintJob)
        .values(
            station_id=station_id,
            printer=printer,
            document=document,
            title=title,
            content_type=content_type,
            content=content,
            status=PrintJobStatus.QUEUED,
            attempts=0,
            reference=reference,
            reprint_of=reprint_of,
            created_at=who.at,
            created_by=who.actor,
            updated_at=who.at,
        )
        .returning(PrintJob.id)
    ).scalar_one()
    _event(session, job_id, "queued", PrintJobStatus.QUEUED, who, detail)
    return job_id


def claim_next(session: Session, station_id: int, printer: str, who: Who) -> tuple[int, int] | None:
    """The printer's oldest queued job moved to ``sending``, with its attempt number; None
    when the printer is idle or held.

    Every active job of the printer is locked first (``FOR UPDATE``, not ``SKIP LOCKED``):
    a second sender for the same printer waits, then sees the job it waited for
    ``sending`` and takes nothing, so jobs never overtake each other.
    """
    active = session.execute(
        select(PrintJob.id, PrintJob.status, PrintJob.attempts)
        .where(
            PrintJob.station_id == station_id,
            PrintJob.printer == printer,
            PrintJob.status.in_((PrintJobStatus.QUEUED, *HOLDING)),
        )
        .order_by(PrintJob.id)
        .with_for_update()
    ).all()
    if not active or any(row.status in HOLDING for row in active):
        return None
    job_id, _, attempts = active[0]
    session.execute(
        update(PrintJob)
        .where(PrintJob.id == job_id)
        .values(
            status=PrintJobStatus.SENDING,
            attempts=attempts + 1,
            sending_since=who.at,
            updated_at=who.at,
        )
    )
    return job_id, attempts + 1


def printers_with_work(session: Session, station_id: int) -> list[str]:
    return list(
        session.scalars(
            select(PrintJob.printer)
            .where(PrintJob.station_id == station_id, PrintJob.status == PrintJobStatus.QUEUED)
            .distinct()
            .order_by(PrintJob.printer)
        )
    )


def content(session: Session, job_id: int) -> bytes:
    return session.execute(select(PrintJob.content).where(PrintJob.id == job_id)).scalar_one()


def finish(
    session: Session,
    job_id: int,
    attempt: int,
    status: PrintJobStatus,
    who: Who,
    *,
    receipt: str | None = None,
    error: str | None = None,
) -> bool:
    """Record how send number ``attempt`` ended; False if the job has moved on since.

    A send that outlived its claim (the job was marked unknown meanwhile) still records
    its outcome, which is then known. A job a person re-queued after that is marked printed
    if this send printed it, so the retry does not print it twice.
    """
    from_statuses = [PrintJobStatus.SENDING, PrintJobStatus.UNKNOWN]
    if status is PrintJobStatus.PRINTED:
        from_statuses.append(PrintJobStatus.QUEUED)
    moved = session.execute(
        update(PrintJob)
        .where(
            PrintJob.id == job_id,
            PrintJob.attempts == attempt,
            PrintJob.status.in_(from_statuses),
        )
        .values(status=status, receipt=receipt, error=error, sending_since=None, updated_at=who.at)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return False
    event = {PrintJobStatus.PRINTED: "sent"}.get(status, status.value)
    _event(session, job_id, event, status, who, receipt or error or "")
    return True


def recover_stale(session: Session, station_id: int, before: datetime, who: Who) -> list[int]:
    """Jobs left ``sending`` since before ``before`` (their sender vanished) become unknown."""
    stale = session.execute(
        select(PrintJob.id, PrintJob.attempts)
        .where(
            PrintJob.station_id == station_id,
            PrintJob.status == PrintJobStatus.SENDING,
            PrintJob.sending_since < before,
        )
        .with_for_update()
    ).all()
    reason = (
        "the station sending this job stopped before it said whether the printer took it; "
        "check the printer, then retry or cancel"
    )
    for job_id, attempt in stale:
        finish(session, job_id, attempt, PrintJobStatus.UNKNOWN, who, error=reason)
    return [job_id for job_id, _ in stale]


def move(
    session: Session,
    job_id: int,
    *,
    allowed: Iterable[PrintJobStatus],
    to: PrintJobStatus,
    event: str,
    who: Who,
    detail: str = "",
) -> PrintJobStatus | None:
    """A person's move (retry, cancel); returns the status it was refused from, else None."""
    allowed = tuple(allowed)
    moved = session.execute(
        update(PrintJob)
        .where(PrintJob.id == job_id, PrintJob.status.in_(allowed))
        .values(status=to, updated_at=who.at)
    )
    if moved.rowcount == 1:  # type: ignore[attr-defined]
        _event(session, job_id, event, to, who, detail)
        return None
    current = session.scalar(select(PrintJob.status).where(PrintJob.id == job_id))
    if current is None:
        raise LookupError(job_id)
    return current


def note(session: Session, job_id: int, event: str, who: Who, detail: str) -> None:
    """A history row without a status change (a reprint noted on the original)."""
    status = session.execute(select(PrintJob.status).where(PrintJob.id == job_id)).scalar_one()
    _event(session, job_id, event, status, who, detail)


def _event(
    session: Session, job_id: int, event: str, status: PrintJobStatus, who: Who, detail: str
) -> None:
    session.execute(
        insert(PrintJobEvent).values(
            job_id=job_id,
            event=event,
            status=status,
            detail=detail,
            at=who.at,
            actor=who.actor,
            user_id=who.user_id,
            station_id=who.station_id,
        )
    )


_JOB_COLUMNS = (
    PrintJob.id,
    Station.code,
    PrintJob.printer,
    PrintJob.document,
    PrintJob.title,
    PrintJob.content_type,
    PrintJob.status,
    PrintJob.attempts,
    PrintJob.error,
    PrintJob.receipt,
    PrintJob.reference,
    PrintJob.reprint_of,
    PrintJob.created_at,
    PrintJob.created_by,
    PrintJob.updated_at,
)


def _job_rows(
    session: Session, where: Sequence[ColumnElement[bool]], limit: int | None
) -> list[JobRow]:
    stmt = (
        select(*_JOB_COLUMNS, func.length(PrintJob.content))
        .join(Station, Station.id == PrintJob.station_id)
        .where(*where)
        .order_by(PrintJob.id.desc())
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [JobRow(*row) for row in session.execute(stmt)]


def job(session: Session, job_id: int) -> JobRow | None:
    found = _job_rows(session, [PrintJob.id == job_id], 1)
    return found[0] if found else None


def jobs(
    session: Session,
    *,
    station_id: int | None = None,
    statuses: Sequence[PrintJobStatus] = (),
    limit: int | None = 50,
) -> list[JobRow]:
    where: list[ColumnElement[bool]] = []
    if station_id is not None:
        where.append(PrintJob.station_id == station_id)
    if statuses:
        where.append(PrintJob.status.in_(statuses))
    return _job_rows(session, where, limit)


def events(session: Session, job_id: int) -> list[EventRow]:
    stmt = (
        select(
            PrintJobEvent.at,
            PrintJobEvent.event,
            PrintJobEvent.status,
            PrintJobEvent.actor,
            Station.code,
            PrintJobEvent.detail,
        )
        .outerjoin(Station, Station.id == PrintJobEvent.station_id)
        .where(PrintJobEvent.job_id == job_id)
        .order_by(PrintJobEvent.id)
    )
    return [EventRow(*row) for row in session.execute(stmt)]
