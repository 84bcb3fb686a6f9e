"""The print queue on both stores, delivering to a real TCP 9100 printer simulator."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from multiprocessing.queues import Queue

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from app.actor import Actor
from app.hardware import printqueue
from app.hardware.printqueue import PrintQueueError, Target
from data import printjobs as rows
from data.models import PrintJobStatus, Station, StationRole
from data.store import make_engine
from data.types import utcnow
from data.uow import UnitOfWork
from devices.printers import TcpPrinter
from devices.sim_printer import PrinterSimulator
from tests.factories import add_reference

ZPL = "application/zpl"
CLERK = Actor(name="U2001")


@pytest.fixture
def site(store: Engine) -> Engine:
    ids = add_reference(store)
    with UnitOfWork(store) as uow:
        uow.session.add_all(
            [
                Station(code="PACK-01", name="Bench 1", node_id=ids["WH1"], role=StationRole.PACK),
                Station(code="PACK-02", name="Bench 2", node_id=ids["WH1"], role=StationRole.PACK),
            ]
        )
        uow.commit()
    return store


@pytest.fixture
def printer() -> Iterator[PrinterSimulator]:
    with PrinterSimulator() as sim:
        yield sim


def label(n: int) -> bytes:
    return f"^XA^FO50,50^A0N,40,40^FDLabel {n}^FS^XZ".encode()


def queue(engine: Engine, n: int, station: str = "PACK-01", printer: str = "label") -> int:
    return printqueue.submit(
        engine,
        station=station,
        printer=printer,
        document="label",
        title=f"Label {n}",
        content=label(n),
        content_type=ZPL,
        actor=CLERK,
        reference=f"shipment {n}",
    )


def targets(sim: PrinterSimulator, **kw: object) -> dict[str, Target]:
    sender = TcpPrinter("label", "127.0.0.1", sim.port, timeout=2.0, **kw)  # type: ignore[arg-type]
    return {"label": Target(sender=sender, content_type=ZPL, where=f"127.0.0.1:{sim.port}")}


def status(engine: Engine, job_id: int) -> PrintJobStatus:
    with UnitOfWork(engine, read_only=True) as uow:
        job = rows.job(uow.session, job_id)
        assert job is not None
        return job.status


def test_jobs_print_in_order_byte_for_byte(site: Engine, printer: PrinterSimulator) -> None:
    ids = [queue(site, n) for n in range(5)]
    report = printqueue.deliver(site, "PACK-01", targets(printer), Actor("PACK-01"))
    assert report.printed == ids
    assert printer.wait_for_jobs(5, 5.0) == [label(n) for n in range(5)]
    with UnitOfWork(site, read_only=True) as uow:
        job = rows.job(uow.session, ids[0])
        assert job is not None
        assert (job.status, job.attempts, job.error) == (PrintJobStatus.PRINTED, 1, None)
        assert job.receipt
        assert str(printer.port) in job.receipt
        assert [e.event for e in rows.events(uow.session, ids[0])] == ["queued", "sent"]
    # Delivering again sends nothing twice.
    again = printqueue.deliver(site, "PACK-01", targets(printer), Actor("PACK-01"))
    assert again.printed == []
    assert len(printer.jobs) == 5


def test_a_printer_that_is_off_fails_one_job_and_holds_the_rest(
    site: Engine, printer: PrinterSimulator
) -> None:
    ids = [queue(site, n) for n in range(3)]
    printer.refuse()
    report = printqueue.deliver(site, "PACK-01", targets(printer), Actor("PACK-01"))
    assert report.printed == []
    assert [job for job, _ in report.failed] == [ids[0]]
    assert "refused" in report.failed[0][1]
    assert [status(site, i) for i in ids] == [
        PrintJobStatus.FAILED,
        PrintJobStatus.QUEUED,
        PrintJobStatus.QUEUED,
    ]
    # Still off: nothing more is tried while the failed job waits for a person.
    assert printqueue.deliver(site, "PACK-01", targets(printer), Actor("PACK-01")).failed == []
    printer.accept()
    assert printqueue.deliver(site, "PACK-01", targets(printer), Actor("PACK-01")).printed == []
    printqueue.retry(site, ids[0], Actor("U5001"))
    report = printqueue.deliver(site, "PACK-01", targets(printer), Actor("PACK-01"))
    assert report.printed == ids
    assert printer.wait_for_jobs(3, 5.0) == [label(n) for n in range(3)]
    with UnitOfWork(site, read_only=True) as uow:
        history = rows.events(uow.session, ids[0])
        assert [(e.event, e.actor) for e in history] == [
            ("queued", "U2001"),
            ("failed", "PACK-01"),
            ("retried", "U5001"),
            ("sent", "PACK-01"),
        ]
        job = rows.job(uow.session, ids[0])
        assert job is not None
        assert job.attempts == 2


def test_paper_out_is_a_failure_naming_the_problem(site: Engine, printer: PrinterSimulator) -> None:
    job = queue(site, 1)
    printer.paper_out(True)
    report = printqueue.deliver(site, "PACK-01", targets(printer), Actor("PACK-01"))
    assert [j for j, _ in report.failed] == [job]
    assert "paper out" in report.failed[0][1]
    assert printer.jobs == []


def test_a_connection_closed_mid_job_is_unknown_and_never_resent_alone(
    site: Engine, printer: PrinterSimulator
) -> None:
    big = b"^XA" + b"^FO10,10^GB100,100,3^FS" * 4000 + b"^XZ"
    job = printqueue.submit(
        site,
        station="PACK-01",
        printer="label",
        document="label",
        title="Big label",
        content=big,
        content_type=ZPL,
        actor=CLERK,
    )
    second = queue(site, 2)
    printer.close_after(1000)
    report = printqueue.deliver(
        site, "PACK-01", targets(printer, status_query=False), Actor("PACK-01")
    )
    assert [j for j, _ in report.unknown] == [job]
    assert "part" in report.unknown[0][1]
    assert status(site, job) is PrintJobStatus.UNKNOWN
    assert status(site, second) is PrintJobStatus.QUEUED
    # A person cancels it (they saw the half label); the next job goes on.
    printqueue.cancel(site, job, Actor("U5001"), "half printed, binned")
    report = printqueue.deliver(
        site, "PACK-01", targets(printer, status_query=False), Actor("PACK-01")
    )
    assert report.printed == [second]


def test_a_job_for_an_unconfigured_printer_or_wrong_language_fails_with_why(
    site: Engine, printer: PrinterSimulator
) -> None:
    job = queue(site, 1, printer="documents")
    report = printqueue.deliver(site, "PACK-01", targets(printer), Actor("PACK-01"))
    assert report.failed == [(job, report.failed[0][1])]
    assert "no printer named 'documents'" in report.failed[0][1]
    pdf_target = {
        "documents": Target(
            sender=TcpPrinter("documents", "127.0.0.1", printer.port, timeout=2.0),
            content_type="application/pdf",
            where="here",
        )
    }
    printqueue.retry(site, job, Actor("U5001"))
    report = printqueue.deliver(site, "PACK-01", pdf_target, Actor("PACK-01"))
    assert "takes application/pdf, this job is application/zpl" in report.failed[0][1]
    assert printer.jobs == []


def test_reprint_is_a_new_audited_job(site: Engine, printer: PrinterSimulator) -> None:
    job = queue(site, 7)
    with pytest.raises(PrintQueueError, match="is queued: only a printed or cancelled job"):
        printqueue.reprint(site, job, Actor("U2001"), "torn")
    printqueue.deliver(site, "PACK-01", targets(printer), Actor("PACK-01"))
    with pytest.raises(PrintQueueError, match="give a reason"):
        printqueue.reprint(site, job, Actor("U2001"), "  ")
    again = printqueue.reprint(site, job, Actor("U2001"), "label torn on the box")
    printqueue.deliver(site, "PACK-01", targets(printer), Actor("PACK-01"))
    assert printer.wait_for_jobs(2, 5.0) == [label(7), label(7)]
    with UnitOfWork(site, read_only=True) as uow:
        new = rows.job(uow.session, again)
        assert new is not None
        assert new.reprint_of == job
        assert new.status is PrintJobStatus.PRINTED
        original = rows.events(uow.session, job)
        assert original[-1].event == "reprinted"
        assert original[-1].detail == f"as job {again}: label torn on the box"
        assert rows.events(uow.session, again)[0].detail.startswith(f"reprint of job {job}")


def test_refusals_name_what_is_wrong(site: Engine) -> None:
    with pytest.raises(PrintQueueError, match="no station 'PACK-99'"):
        queue(site, 1, station="PACK-99")
    with pytest.raises(PrintQueueError, match="takes application/zpl, application/pdf"):
        printqueue.submit(
            site,
            station="PACK-01",
            printer="label",
            document="label",
            title="x",
            content=b"x",
            content_type="text/plain",
            actor=CLERK,
        )
    with pytest.raises(PrintQueueError, match="nothing to print"):
        printqueue.submit(
            site,
            station="PACK-01",
            printer="label",
            document="label",
            title="x",
            content=b"",
            content_type=ZPL,
            actor=CLERK,
        )
    job = queue(site, 1)
    with pytest.raises(PrintQueueError, match="is queued: only a failed or unknown job"):
        printqueue.retry(site, job, CLERK)
    with pytest.raises(PrintQueueError, match="no print job 999"):
        printqueue.retry(site, 999, CLERK)
    printqueue.cancel(site, job, CLERK)
    with pytest.raises(PrintQueueError, match="is cancelled"):
        printqueue.cancel(site, job, CLERK)


def test_a_vanished_sender_leaves_the_job_unknown(site: Engine, printer: PrinterSimulator) -> None:
    job = queue(site, 1)
    with UnitOfWork(site) as uow:
        station_id = rows.station_id(uow.session, "PACK-01")
        assert station_id is not None
        old = rows.Who("PACK-01", None, None, utcnow() - printqueue.STALE_AFTER * 2)
        assert rows.claim_next(uow.session, station_id, "label", old) == (job, 1)
        uow.commit()
    report = printqueue.deliver(site, "PACK-01", targets(printer), Actor("PACK-01"))
    assert report.recovered == [job]
    assert status(site, job) is PrintJobStatus.UNKNOWN
    assert printer.jobs == []


def test_print_history_is_append_only(site: Engine) -> None:
    job = queue(site, 1)
    with pytest.raises(DBAPIError, match="append-only"), UnitOfWork(site) as uow:
        uow.session.execute(text("UPDATE print_job_events SET detail = 'x'"))
    with pytest.raises(DBAPIError, match="append-only"), UnitOfWork(site) as uow:
        uow.session.execute(text(f"DELETE FROM print_job_events WHERE job_id = {job}"))


def _deliver_rounds(url: str, port: int, rounds: int, out: Queue[list[int]]) -> None:
    engine = make_engine(url)
    printed: list[int] = []
    for _ in range(rounds):
        sender = TcpPrinter("label", "127.0.0.1", port, timeout=5.0)
        target = {"label": Target(sender=sender, content_type=ZPL, where=f"127.0.0.1:{port}")}
        printed += printqueue.deliver(engine, "PACK-01", target, Actor("PACK-01")).printed
    engine.dispose()
    out.put(printed)


def test_two_sender_processes_print_each_job_once_in_order(
    site: Engine, printer: PrinterSimulator
) -> None:
    ids = [queue(site, n) for n in range(20)]
    ctx = multiprocessing.get_context("spawn")
    out: Queue[list[int]] = ctx.Queue()
    url = site.url.render_as_string(hide_password=False)
    procs = [
        ctx.Process(target=_deliver_rounds, args=(url, printer.port, 40, out)) for _ in range(2)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(30)
    assert sorted(results[0] + results[1]) == ids
    # One at a time per printer, in queue order: what the printer got is the queue's order.
    assert printer.wait_for_jobs(20, 5.0) == [label(n) for n in range(20)]
    with UnitOfWork(site, read_only=True) as uow:
        assert {j.attempts for j in rows.jobs(uow.session, limit=None)} == {1}


def test_a_send_that_outlives_its_claim_still_records_what_happened(site: Engine) -> None:
    first, second = queue(site, 1), queue(site, 2)
    long_ago = utcnow() - printqueue.STALE_AFTER * 2
    with UnitOfWork(site) as uow:
        station_id = rows.station_id(uow.session, "PACK-01")
        assert station_id is not None
        claimed = rows.claim_next(
            uow.session, station_id, "label", rows.Who("a", None, None, long_ago)
        )
        assert claimed == (first, 1)
        uow.commit()
    with UnitOfWork(site) as uow:
        now = rows.Who("b", None, None, utcnow())
        assert rows.recover_stale(
            uow.session, station_id, utcnow() - printqueue.STALE_AFTER, now
        ) == [first]
        uow.commit()
    # A person re-queues it while the slow send is still going; then the send ends well.
    printqueue.retry(site, first, Actor("U5001"), "printer looked idle")
    with UnitOfWork(site) as uow:
        assert rows.finish(uow.session, first, 1, PrintJobStatus.PRINTED, now, receipt="ok")
        uow.commit()
    assert status(site, first) is PrintJobStatus.PRINTED  # not printed a second time
    with UnitOfWork(site) as uow:
        claimed = rows.claim_next(uow.session, station_id, "label", now)
        assert claimed == (second, 1)
        # A stale outcome of an older attempt never overwrites a newer one.
        assert not rows.finish(uow.session, second, 0, PrintJobStatus.FAILED, now, error="x")
        uow.commit()
    with UnitOfWork(site, read_only=True) as uow:
        history = [(e.event, e.detail) for e in rows.events(uow.session, first)]
    assert history == [
        ("queued", ""),
        ("unknown", history[1][1]),
        ("retried", "printer looked idle"),
        ("sent", "ok"),
    ]
