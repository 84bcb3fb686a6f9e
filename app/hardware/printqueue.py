"""The print queue: every document goes through the store before it goes to a printer.

``submit`` stores the job; ``deliver`` (run by the station that owns the printers) claims
each printer's oldest queued job, sends it outside any transaction, and records how it
went. A printer that does not take a job leaves it ``failed`` with the printer's reason;
a connection that broke mid-job leaves it ``unknown`` (part of it may be on paper). Either
holds that printer's later jobs until a person retries or cancels it, so nothing is lost
and nothing is printed twice behind anyone's back. A reprint is a new job, recorded on
both jobs with who asked for it and why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from app.actor import Actor
from data import printjobs as rows
from data.models import PrintJobStatus
from data.store import StoreEngine, lost_connection
from data.types import utcnow
from data.uow import UnitOfWork
from devices.errors import PrinterError

CONTENT_TYPES = ("application/zpl", "application/pdf")
STALE_AFTER = timedelta(minutes=10)
"""A job ``sending`` for longer than this has lost its sender. Sends time out in seconds;
a big job to a slow serial printer takes minutes. Should a send outlive this after all,
its outcome is still recorded when it ends (``finish`` matches the attempt)."""


class PrintQueueError(ValueError):
    """A request the queue refuses; the message says why and what to do."""


class Sender(Protocol):
    """What the queue needs of a printer (``devices.printers`` transports are senders)."""

    def send(self, data: bytes, *, title: str) -> str: ...


@dataclass(frozen=True)
class Target:
    """A station's printer as the queue sees it: a sender and the content type it takes."""

    sender: Sender
    content_type: str
    where: str


@dataclass
class DeliveryReport:
    printed: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    unknown: list[tuple[int, str]] = field(default_factory=list)
    recovered: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Unrecorded:
    """A send whose outcome could not be written: the store went away just after it. The
    deliverer keeps it and writes it first when the store is back (the job stays
    ``sending`` meanwhile, so nothing is sent twice)."""

    job_id: int
    attempt: int
    status: PrintJobStatus
    text: str


def _who(actor: Actor) -> rows.Who:
    return rows.Who(actor.name, actor.user_id, actor.station_id, utcnow())


def _station(uow: UnitOfWork, code: str) -> int:
    station_id = rows.station_id(uow.session, code)
    if station_id is None:
        known = ", ".join(rows.station_codes(uow.session)) or "none"
        raise PrintQueueError(f"there is no station {code!r} (stations: {known})")
    return station_id


def submit(
    engine: StoreEngine,
    *,
    station: str,
    printer: str,
    document: str,
    title: str,
    content: bytes,
    content_type: str,
    actor: Actor,
    reference: str | None = None,
) -> int:
    """Queue a document for a station's printer; returns the job number."""
    if content_type not in CONTENT_TYPES:
        raise PrintQueueError(
            f"cannot queue {content_type!r}: the queue takes {', '.join(CONTENT_TYPES)}"
        )
    if not content:
        raise PrintQueueError(f"{title!r} is empty: there is nothing to print")
    with UnitOfWork(engine) as uow:
        job_id = rows.add_job(
            uow.session,
            station_id=_station(uow, station),
            printer=printer,
            document=document,
            title=title[:200],
            content_type=content_type,
            content=content,
            reference=reference,
            who=_who(actor),
        )
        uow.commit()
    return job_id


def deliver(
    engine: StoreEngine,
    station: str,
    targets: Mapping[str, Target],
    actor: Actor,
    *,
    on_job: Callable[[int, PrintJobStatus, str], None] | None = None,
    unrecorded: list[Unrecorded] | None = None,
) -> DeliveryReport:
    """Send every queued job of ``station`` that its printers can take now.

    ``targets`` maps the printer names of the station's device config to their senders.
    A job for a printer the config does not name fails with that reason. A deliverer that
    goes on after losing the store passes the same ``unrecorded`` list each round: an
    outcome the store could not take is kept there and written at the next round.
    """
    report = DeliveryReport()
    pending = unrecorded if unrecorded is not None else []
    while pending:
        done = pending[0]
        _finish(engine, done, actor, report, on_job)
        pending.pop(0)
    with UnitOfWork(engine) as uow:
        station_id = _station(uow, station)
        report.recovered = rows.recover_stale(
            uow.session, station_id, utcnow() - STALE_AFTER, _who(actor)
        )
        printers = rows.printers_with_work(uow.session, station_id)
        uow.commit()
    for printer in printers:
        _deliver_printer(
            engine, station_id, printer, targets.get(printer), actor, report, on_job, pending
        )
    return report


def _deliver_printer(
    engine: StoreEngine,
    station_id: int,
    printer: str,
    target: Target | None,
    actor: Actor,
    report: DeliveryReport,
    on_job: Callable[[int, PrintJobStatus, str], None] | None,
    unrecorded: list[Unrecorded],
) -> None:
    while True:
        with UnitOfWork(engine) as uow:
            claim = rows.claim_next(uow.session, station_id, printer, _who(actor))
            if claim is None:
                return
            job_id, attempt = claim
            job = rows.job(uow.session, job_id)
            data = rows.content(uow.session, job_id)
            uow.commit()
        assert job is not None
        status, text = _send(job, data, printer, target)
        done = Unrecorded(job_id, attempt, status, text)
        try:
            status = _finish(engine, done, actor, report, on_job)
        except Exception as exc:
            if lost_connection(exc) is not None:
                unrecorded.append(done)
            raise
        if status is not PrintJobStatus.PRINTED:
            return


def _finish(
    engine: StoreEngine,
    done: Unrecorded,
    actor: Actor,
    report: DeliveryReport,
    on_job: Callable[[int, PrintJobStatus, str], None] | None,
) -> PrintJobStatus:
    """Write a send's outcome (unless a person changed the job meanwhile: then it is
    unknown) and report it; the outcome as written."""
    status, text = done.status, done.text
    with UnitOfWork(engine) as uow:
        if status is PrintJobStatus.PRINTED:
            kept = rows.finish(
                uow.session, done.job_id, done.attempt, status, _who(actor), receipt=text
            )
        else:
            kept = rows.finish(
                uow.session, done.job_id, done.attempt, status, _who(actor), error=text
            )
        uow.commit()
    if not kept:
        status, text = (
            PrintJobStatus.UNKNOWN,
            (
                f"the send ended ({status.value}: {text}) after a person changed the job; "
                "check the printer and the job's history"
            ),
        )
    if status is PrintJobStatus.PRINTED:
        report.printed.append(done.job_id)
    elif status is PrintJobStatus.FAILED:
        report.failed.append((done.job_id, text))
    else:
        report.unknown.append((done.job_id, text))
    if on_job is not None:
        on_job(done.job_id, status, text)
    return status


def _send(
    job: rows.JobRow, data: bytes, printer: str, target: Target | None
) -> tuple[PrintJobStatus, str]:
    if target is None:
        return PrintJobStatus.FAILED, (
            f"station {job.station} has no printer named {printer!r} in its device config: "
            "add it, or cancel this job"
        )
    if job.content_type != target.content_type:
        return PrintJobStatus.FAILED, (
            f"printer {printer!r} ({target.where}) takes {target.content_type}, this job is "
            f"{job.content_type}: check the printer's language in the device config"
        )
    try:
        receipt = target.sender.send(data, title=f"job {job.id}: {job.title}")
    except PrinterError as exc:
        if exc.sent == "none":
            return PrintJobStatus.FAILED, str(exc)
        return PrintJobStatus.UNKNOWN, str(exc)
    return PrintJobStatus.PRINTED, receipt


def retry(engine: StoreEngine, job_id: int, actor: Actor, reason: str = "") -> None:
    """Put a failed or unknown job back in the queue (a person decided to)."""
    _person_move(
        engine,
        job_id,
        actor,
        allowed=(PrintJobStatus.FAILED, PrintJobStatus.UNKNOWN),
        to=PrintJobStatus.QUEUED,
        event="retried",
        refusal="only a failed or unknown job can be retried",
        detail=reason,
    )


def cancel(engine: StoreEngine, job_id: int, actor: Actor, reason: str = "") -> None:
    """Give up a job that has not printed; its printer's later jobs go on."""
    _person_move(
        engine,
        job_id,
        actor,
        allowed=(PrintJobStatus.QUEUED, PrintJobStatus.FAILED, PrintJobStatus.UNKNOWN),
        to=PrintJobStatus.CANCELLED,
        event="cancelled",
        refusal="only a queued, failed or unknown job can be cancelled",
        detail=reason,
    )


def _person_move(
    engine: StoreEngine,
    job_id: int,
    actor: Actor,
    *,
    allowed: tuple[PrintJobStatus, ...],
    to: PrintJobStatus,
    event: str,
    refusal: str,
    detail: str = "",
) -> None:
    with UnitOfWork(engine) as uow:
        try:
            refused = rows.move(
                uow.session,
                job_id,
                allowed=allowed,
                to=to,
                event=event,
                who=_who(actor),
                detail=detail,
            )
        except LookupError:
            raise PrintQueueError(f"there is no print job {job_id}") from None
        if refused is not None:
            raise PrintQueueError(f"print job {job_id} is {refused.value}: {refusal}")
        uow.commit()


def reprint(engine: StoreEngine, job_id: int, actor: Actor, reason: str) -> int:
    """Print a job's document again as a new job, recorded on both with who and why."""
    if not reason.strip():
        raise PrintQueueError("say why it is reprinted (a reprint is audited): give a reason")
    with UnitOfWork(engine) as uow:
        job = rows.job(uow.session, job_id)
        if job is None:
            raise PrintQueueError(f"there is no print job {job_id}")
        if job.status not in (PrintJobStatus.PRINTED, PrintJobStatus.CANCELLED):
            # A failed or unknown job still holds its printer: a reprint would queue behind
            # it, and a later retry would print the document twice.
            raise PrintQueueError(
                f"print job {job_id} is {job.status.value}: only a printed or cancelled job "
                "is reprinted (retry or cancel a failed or unknown one)"
            )
        who = _who(actor)
        new_id = rows.add_job(
            uow.session,
            station_id=_station(uow, job.station),
            printer=job.printer,
            document=job.document,
            title=job.title,
            content_type=job.content_type,
            content=rows.content(uow.session, job_id),
            reference=job.reference,
            who=who,
            reprint_of=job_id,
            detail=f"reprint of job {job_id}: {reason}",
        )
        rows.note(uow.session, job_id, "reprinted", who, f"as job {new_id}: {reason}")
        uow.commit()
    return new_id
