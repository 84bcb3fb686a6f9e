"""Printer transports against real things: a TCP printer simulator, loop:// and pty serial
ports, stand-in ``lp``/``lpstat`` programs, and a temp folder."""

from __future__ import annotations

import errno
import os
import re
import socket
import stat
import tempfile
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devices import printers
from devices.errors import PrinterError
from devices.printers import (
    CupsPrinter,
    FolderPrinter,
    Printer,
    PrinterStatus,
    SerialPrinter,
    TcpPrinter,
    open_printer,
    parse_host_status,
)
from devices.ptys import VirtualPort
from devices.sim_printer import PrinterSimulator

LABEL = b"^XA^FO50,50^A0N,40,40^FDOrder 1234^FS^BCN,80^FD1234^FS^XZ\r\n"


@pytest.fixture
def sim() -> Iterator[PrinterSimulator]:
    with PrinterSimulator() as simulator:
        yield simulator


def tcp(sim: PrinterSimulator, **kwargs: float | bool) -> TcpPrinter:
    return TcpPrinter("label printer", "127.0.0.1", sim.port, **kwargs)  # type: ignore[arg-type]


# --- TCP ---------------------------------------------------------------------------------


def test_a_job_arrives_byte_for_byte(sim: PrinterSimulator) -> None:
    data = LABEL + bytes(range(256)) + b"~HS in the middle stays^XZ"
    receipt = tcp(sim).send(data, title="Order 1234 label")
    assert receipt == f"{len(data)} bytes to 127.0.0.1:{sim.port}"
    assert sim.wait_for_jobs(1) == [data]


def test_several_jobs_arrive_in_order_and_are_kept_in_the_folder(tmp_path: Path) -> None:
    jobs = [LABEL.replace(b"1234", str(n).encode()) for n in range(3)]
    with PrinterSimulator(folder=tmp_path) as sim:
        printer = tcp(sim)
        for n, job in enumerate(jobs):
            printer.send(job, title=f"label {n}")
        assert sim.wait_for_jobs(3) == jobs
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "job-0001.zpl",
        "job-0002.zpl",
        "job-0003.zpl",
    ]
    assert [(tmp_path / f"job-000{n}.zpl").read_bytes() for n in (1, 2, 3)] == jobs


def test_without_the_status_query_the_job_goes_straight_in(sim: PrinterSimulator) -> None:
    sim.paper_out()  # a printer takes jobs whatever its state: the query is what protects
    printer = tcp(sim, status_query=False)
    assert printer.describe() == f"raw data over TCP to 127.0.0.1:{sim.port}"
    printer.send(LABEL, title="label")
    assert sim.wait_for_jobs(1) == [LABEL]


def test_a_refused_connection_sends_nothing_and_says_what_to_do(sim: PrinterSimulator) -> None:
    printer = tcp(sim)
    sim.refuse()
    with pytest.raises(PrinterError) as caught:
        printer.send(LABEL, title="label")
    assert caught.value.sent == "none"
    assert str(caught.value) == (
        f"label printer 127.0.0.1:{sim.port} refused the connection: "
        "is it switched on and on the network?"
    )
    with pytest.raises(PrinterError, match="refused"):
        printer.check()
    sim.accept()
    printer.send(LABEL, title="label")
    assert sim.wait_for_jobs(1) == [LABEL]


@pytest.mark.parametrize(("size", "cut_at"), [(2048, 812), (8_000_000, 1000)])
def test_a_connection_closed_mid_job_is_partial_with_counts(
    sim: PrinterSimulator, size: int, cut_at: int
) -> None:
    data = (LABEL * (size // len(LABEL) + 1))[:size]
    sim.close_after(cut_at)
    with pytest.raises(PrinterError) as caught:
        tcp(sim).send(data, title="big label")
    assert caught.value.sent == "partial"
    found = re.search(rf"after (\d+) of {size} bytes of 'big label'", str(caught.value))
    assert found is not None, str(caught.value)
    assert cut_at <= int(found.group(1)) <= size
    assert str(caught.value).startswith(f"label printer 127.0.0.1:{sim.port} ")
    assert "check the printer before printing again" in str(caught.value)
    # The printer kept what it got before the reset; the next job is whole again.
    assert sim.wait_for_jobs(1) == [data[:cut_at]]
    tcp(sim).send(LABEL, title="next")
    assert sim.wait_for_jobs(2)[1] == LABEL


@pytest.mark.parametrize(
    ("control", "problem", "advice"),
    [
        ("paper_out", "paper out", "load labels"),
        ("pause", "paused", "press PAUSE"),
        ("head_open", "head open", "close the print head"),
        ("ribbon_out", "ribbon out", "load a new ribbon"),
    ],
)
def test_a_printer_that_is_not_ready_gets_nothing(
    sim: PrinterSimulator, control: str, problem: str, advice: str
) -> None:
    getattr(sim, control)(True)
    printer = tcp(sim)
    with pytest.raises(PrinterError) as caught:
        printer.send(LABEL, title="Order 1234 label")
    assert caught.value.sent == "none"
    message = str(caught.value)
    assert message.startswith(f"label printer 127.0.0.1:{sim.port} is not ready ({problem})")
    assert advice in message
    assert "nothing of 'Order 1234 label' was sent" in message
    status = printer.check()
    assert (status.ready, status.problems) == (False, (problem,))
    # Fixed: the next job prints and is the only one the printer ever got.
    getattr(sim, control)(False)
    assert printer.check().ready
    printer.send(LABEL, title="again")
    assert sim.wait_for_jobs(1) == [LABEL]


def test_several_problems_are_named_together(sim: PrinterSimulator) -> None:
    sim.paper_out()
    sim.pause()
    with pytest.raises(PrinterError, match=r"not ready \(paper out, paused\): load labels and"):
        tcp(sim).send(LABEL, title="label")
    assert sim.jobs == []


def test_check_reports_a_ready_printer(sim: PrinterSimulator) -> None:
    printer = tcp(sim)
    assert printer.describe() == f"ZPL over TCP to 127.0.0.1:{sim.port}"
    assert printer.check() == PrinterStatus(
        True, (), "ready (0 format(s) in the buffer, 0 label(s) left in the batch)"
    )
    assert sim.jobs == []  # a status query is not a job


def test_a_printer_that_never_answers_the_status_query() -> None:
    # A listening socket nobody accepts on: the connect succeeds, no reply ever comes.
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        printer = TcpPrinter("label printer", "127.0.0.1", port, timeout=0.3)
        with pytest.raises(PrinterError) as caught:
            printer.send(LABEL, title="label")
    assert caught.value.sent == "none"
    assert "did not answer the status query (~HS) within 0.3 s" in str(caught.value)


def test_a_non_zpl_answer_to_the_status_query_is_shown() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]

        def answer() -> None:
            conn, _ = server.accept()
            with conn:
                conn.recv(16)
                conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        with pytest.raises(PrinterError) as caught:
            TcpPrinter("label printer", "127.0.0.1", port, timeout=2).send(LABEL, title="x")
        thread.join()
    assert caught.value.sent == "none"
    assert "b'HTTP/1.0 400 Bad Request" in str(caught.value)
    assert "turn its status query off" in str(caught.value)


# --- ~HS parsing -------------------------------------------------------------------------

S1 = b"\x02030,0,0,1218,000,0,0,0,000,0,0,0\x03\r\n"
S2 = b"\x02001,0,0,0,1,2,6,0,00000000,1,000\x03\r\n"
S3 = b"\x021234,0\x03\r\n"


def test_a_good_status_reply() -> None:
    assert parse_host_status(S1 + S2 + S3) == PrinterStatus(
        True, (), "ready (0 format(s) in the buffer, 0 label(s) left in the batch)"
    )


def test_every_flag_is_read_from_its_field() -> None:
    s1 = b"\x02030,1,1,1218,003,1,0,0,000,1,1,1\x03\r\n"
    s2 = b"\x02001,0,1,1,1,2,6,0,00000002,1,000\x03\r\n"
    status = parse_host_status(s1 + s2 + S3)
    assert not status.ready
    assert status.problems == (
        "paper out",
        "paused",
        "head open",
        "ribbon out",
        "receive buffer full",
        "corrupt RAM (settings lost)",
        "under temperature",
        "over temperature",
    )
    assert status.detail.endswith("(3 format(s) in the buffer, 2 label(s) left in the batch)")


def test_the_simulator_reply_is_well_formed(sim: PrinterSimulator) -> None:
    sim.head_open()
    assert parse_host_status(sim.status_reply()).problems == ("head open",)


def test_extra_fields_from_newer_firmware_are_ignored() -> None:
    s1 = b"\x02030,1,0,1218,000,0,0,0,000,0,0,0,9,9\x03\r\n"
    assert parse_host_status(s1 + S2 + S3).problems == ("paper out",)


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (b"", "found 0"),
        (b"hello printer", "found 0"),
        (S1 + S2, "found 2"),
        (S1 + S2 + S3[:5], "found 2"),
        (b"\x02030,0,0,1218\x03\r\n" + S2 + S3, "string 1 has 4 fields, expected 12"),
        (S1 + b"\x02001,0\x03" + S3, "string 2 has 2 fields, expected 11"),
        (
            S1.replace(b"030,0,0", b"030,0,x") + S2 + S3,
            "the paused flag (string 1, field 3) is 'x'",
        ),
        (S1 + S2 + b"\x02\xff\xfe,0\x03", "not ASCII"),
    ],
)
def test_a_malformed_status_reply_is_refused_showing_the_bytes(reply: bytes, why: str) -> None:
    with pytest.raises(PrinterError) as caught:
        parse_host_status(reply)
    assert why in str(caught.value)
    assert repr(reply)[:40] in str(caught.value)


# --- serial ------------------------------------------------------------------------------


def test_serial_send_through_loop_reads_back_what_was_written() -> None:
    data = LABEL * 20
    with SerialPrinter("serial zebra", "loop://", baudrate=115200, timeout=0.5) as printer:
        assert printer.send(data, title="label") == f"{len(data)} bytes to loop://"
        assert printer.port.read(len(data)) == data
        # loop:// echoes the ~HS back: not a status, so the baud rate is suspected.
        status = printer.check()
    assert (status.ready, status.problems) == (False, ("unreadable status reply",))
    assert "b'~HS'" in status.detail
    assert "baud" in status.detail
    assert printer.port is None  # closed by the with block


def read_all(port: VirtualPort, n: int) -> bytes:
    got = b""
    while len(got) < n:
        chunk = port.read(2.0)
        if not chunk:
            break
        got += chunk
    return got


def test_serial_send_over_a_pty_and_again_after_a_replug(tmp_path: Path) -> None:
    with VirtualPort(tmp_path / "ttyZEBRA") as device:
        printer = SerialPrinter("serial zebra", device.port, timeout=1.0)
        try:
            printer.send(LABEL, title="first")
            assert read_all(device, len(LABEL)) == LABEL
            device.unplug()
            with pytest.raises(PrinterError) as caught:
                printer.send(LABEL, title="second")
            assert caught.value.sent in ("none", "partial")
            assert str(caught.value).startswith(f"serial zebra on {device.port} ")
            device.plug()  # a new pty behind the same link: the next job reopens the port
            printer.send(LABEL * 3, title="third")
            assert read_all(device, 3 * len(LABEL)) == LABEL * 3
        finally:
            printer.close()


def test_a_serial_printer_that_stops_reading_is_partial() -> None:
    with VirtualPort() as device:  # nobody reads the master: the pty buffer fills up
        printer = SerialPrinter("serial zebra", device.port, baudrate=115200, timeout=0.3)
        with pytest.raises(PrinterError) as caught:
            printer.send(b"x" * 1_000_000, title="huge")
    assert caught.value.sent == "partial"
    found = re.search(r"after (\d+) of 1000000 bytes of 'huge'", str(caught.value))
    assert found is not None
    assert 0 < int(found.group(1)) < 1_000_000
    assert "stopped taking data for 0.3 s" in str(caught.value)


def test_a_serial_printer_answering_host_status_over_a_pty() -> None:
    with VirtualPort() as device:
        printer = SerialPrinter("serial zebra", device.port, timeout=2.0)

        def zebra() -> None:
            if b"~HS" in read_all(device, 3):
                device.write(S1.replace(b"030,0,0", b"030,1,0") + S2 + S3)

        thread = threading.Thread(target=zebra, daemon=True)
        thread.start()
        try:
            status = printer.check()
        finally:
            printer.close()
            thread.join()
    assert (status.ready, status.problems) == (False, ("paper out",))


def test_a_silent_serial_printer_is_not_a_fault() -> None:
    with VirtualPort() as device:
        printer = SerialPrinter("serial zebra", device.port, timeout=0.2)
        try:
            status = printer.check()
        finally:
            printer.close()
    assert status.ready
    assert status.problems == ()
    assert "did not answer the status query" in status.detail


def test_a_missing_serial_port(tmp_path: Path) -> None:
    missing = str(tmp_path / "ttyUSB9")
    printer = SerialPrinter("serial zebra", missing)
    assert printer.describe() == f"serial port {missing} at 9600 baud"
    for attempt in (lambda: printer.send(LABEL, title="label"), printer.check):
        with pytest.raises(PrinterError) as caught:
            attempt()
        assert caught.value.sent == "none"
        assert str(caught.value).startswith(f"serial zebra on {missing} could not be opened")
        assert "plugged in" in str(caught.value)


# --- CUPS --------------------------------------------------------------------------------


def script(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def test_cups_hands_the_job_to_lp_and_returns_the_request_id(tmp_path: Path) -> None:
    lp = script(
        tmp_path,
        "lp",
        'printf "%s\\n" "$@" > "$(dirname "$0")/argv.txt"\n'
        'cat > "$(dirname "$0")/stdin.bin"\n'
        'echo "request id is q-17 (1 file(s))"\n',
    )
    printer = CupsPrinter("office laser", "q", lp=str(lp), options={"raw": "", "media": "4x6 in"})
    assert printer.describe() == "CUPS queue q"
    data = b"%PDF-1.7\n" + bytes(range(256))
    assert printer.send(data, title="Packing list 1234") == "q-17"
    assert (tmp_path / "argv.txt").read_text().splitlines() == [
        "-d",
        "q",
        "-t",
        "Packing list 1234",
        "-o",
        "raw",
        "-o",
        'media="4x6 in"',
        "-",
    ]
    assert (tmp_path / "stdin.bin").read_bytes() == data


def test_cups_passes_on_what_lp_said_when_it_fails(tmp_path: Path) -> None:
    lp = script(tmp_path, "lp", 'echo "lp: The printer or class does not exist." >&2\nexit 1\n')
    with pytest.raises(PrinterError) as caught:
        CupsPrinter("office laser", "nope", lp=str(lp)).send(b"x", title="list")
    assert caught.value.sent == "none"
    assert str(caught.value).startswith(
        "office laser (CUPS queue nope) did not take 'list': "
        "lp: The printer or class does not exist."
    )


def test_cups_without_the_cups_client(tmp_path: Path) -> None:
    printer = CupsPrinter("office laser", "q", lp=str(tmp_path / "bin" / "lp"))
    for attempt in (lambda: printer.send(b"x", title="list"), printer.check):
        with pytest.raises(PrinterError) as caught:
            attempt()
        assert caught.value.sent == "none"
        assert "apt install cups-client" in str(caught.value)


@pytest.mark.parametrize(
    ("body", "ready", "problems"),
    [
        ('echo "printer q is idle.  enabled since Mon 01 Jan 2024"\n', True, ()),
        (
            'echo "printer q disabled since Mon 01 Jan 2024 -"\necho "\tPaused by operator"\n',
            False,
            ("disabled",),
        ),
        (
            'echo "lpstat: Invalid destination name in list \\"q\\"." >&2\nexit 1\n',
            False,
            ("queue not found",),
        ),
    ],
)
def test_cups_check_asks_lpstat_next_to_lp(
    tmp_path: Path, body: str, ready: bool, problems: tuple[str, ...]
) -> None:
    script(tmp_path, "lpstat", 'echo "$@" > "$(dirname "$0")/lpstat-argv.txt"\n' + body)
    status = CupsPrinter("office laser", "q", lp=str(tmp_path / "lp")).check()
    assert (status.ready, status.problems) == (ready, problems)
    assert (tmp_path / "lpstat-argv.txt").read_text() == "-p q\n"


def test_cups_check_when_cups_is_not_running(tmp_path: Path) -> None:
    lpstat = script(tmp_path, "lpstat", 'echo "lpstat: Bad file descriptor" >&2\nexit 1\n')
    with pytest.raises(PrinterError, match="lpstat failed .*is CUPS running"):
        CupsPrinter("office laser", "q", lpstat=str(lpstat)).check()


# --- folder ------------------------------------------------------------------------------


def test_folder_jobs_are_named_by_time_and_title_and_never_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    moment = datetime(2025, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
    monkeypatch.setattr(printers, "_utc_now", lambda: moment)
    printer = FolderPrinter("hot folder", tmp_path, extension=".zpl")
    receipts = [printer.send(LABEL + bytes([n]), title="Order #1234 / label") for n in range(3)]
    stem = "20250304T050607.890123Z-Order-1234-label"
    assert [Path(r).name for r in receipts] == [
        f"{stem}.zpl",
        f"{stem}-2.zpl",
        f"{stem}-3.zpl",
    ]
    assert [Path(r).read_bytes() for r in receipts] == [LABEL + bytes([n]) for n in range(3)]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(Path(r).name for r in receipts)


def test_folder_names_follow_the_clock(tmp_path: Path) -> None:
    printer = FolderPrinter("hot folder", tmp_path, extension="pdf")
    name = Path(printer.send(b"%PDF", title="")).name
    assert re.fullmatch(r"\d{8}T\d{6}\.\d{6}Z-job\.pdf", name)
    assert printer.check() == PrinterStatus(True, (), f"{tmp_path} exists and can be written to")
    assert printer.describe() == f".pdf files in {tmp_path}"


def test_a_missing_folder(tmp_path: Path) -> None:
    printer = FolderPrinter("hot folder", tmp_path / "gone", extension="zpl")
    with pytest.raises(PrinterError, match=r"folder does not exist: create it") as caught:
        printer.send(LABEL, title="label")
    assert caught.value.sent == "none"
    assert printer.check().problems == ("folder missing",)


def test_an_unwritable_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    if os.geteuid() == 0:  # root writes anywhere: refuse the way a read-only share would

        def refuse(*_args: object, **_kwargs: object) -> tuple[int, str]:
            raise PermissionError(errno.EACCES, "Permission denied")

        monkeypatch.setattr(tempfile, "mkstemp", refuse)
    printer = FolderPrinter("hot folder", folder, extension="zpl")
    try:
        with pytest.raises(PrinterError) as caught:
            printer.send(LABEL, title="label")
        assert caught.value.sent == "none"
        assert "cannot write to the folder (Permission denied)" in str(caught.value)
        assert printer.check().problems == ("folder not writable",)
    finally:
        folder.chmod(0o755)
    assert list(folder.iterdir()) == []


# --- factory -----------------------------------------------------------------------------


def test_the_factory_builds_each_kind(tmp_path: Path) -> None:
    made: list[Printer] = [
        open_printer("a", "tcp", host="10.0.0.5", port="9101", status_query="no"),
        open_printer("b", "serial", url="loop://", baudrate=19200),
        open_printer("c", "cups", queue="q", options={"raw": ""}),
        open_printer("d", "FOLDER", folder=str(tmp_path), extension="zpl"),
    ]
    assert [p.describe() for p in made] == [
        "raw data over TCP to 10.0.0.5:9101",
        "serial port loop:// at 19200 baud",
        "CUPS queue q",
        f".zpl files in {tmp_path}",
    ]
    assert all(isinstance(p, Printer) for p in made)
    assert open_printer("e", "tcp", host="10.0.0.5").describe() == "ZPL over TCP to 10.0.0.5:9100"


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        ("usb", {}, "unknown kind 'usb': expected one of tcp, serial, cups, folder"),
        ("tcp", {}, "a tcp printer needs host (options: host, [port], [timeout]"),
        ("folder", {"folder": "/tmp"}, "a folder printer needs extension"),
        ("tcp", {"host": "h", "baud": 9600}, "a tcp printer has no option baud (options: host"),
        ("tcp", {"host": "h", "port": "ninety"}, "option 'port' must be a whole number"),
        ("tcp", {"host": "h", "port": 70000}, "port 70000 is not between 1 and 65535"),
        ("tcp", {"host": "h", "status_query": "maybe"}, "'status_query' must be true or false"),
        ("cups", {"queue": "a b"}, "'a b' is not a CUPS queue name"),
        ("folder", {"folder": "/tmp", "extension": "z/p"}, "'z/p' is not a file extension"),
    ],
)
def test_the_factory_names_what_was_expected(
    kind: str, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        open_printer("label printer", kind, **options)
