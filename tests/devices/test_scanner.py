"""Scanners: wedge keystrokes told apart from typing; serial ports on real pty pairs."""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path

import pytest

from devices.errors import ScannerError
from devices.scanner import GS, Debouncer, Scan, SerialScanner, WedgeDecoder, terminator
from devices.sim_scanner import ScannerSimulator
from tests.waiting import wait_until


def type_text(decoder: WedgeDecoder, text: str, start: float, gap: float) -> list[Scan]:
    out: list[Scan] = []
    for i, ch in enumerate(text):
        out += decoder.feed(ch, start + i * gap)
    return out


def test_a_fast_burst_ending_in_enter_is_a_scan() -> None:
    decoder = WedgeDecoder(source="pick-1")
    scans = type_text(decoder, "0105901234123457\r", 100.0, 0.004)
    assert [(s.text, s.source, s.keyed) for s in scans] == [("0105901234123457", "pick-1", False)]
    assert scans[0].at == pytest.approx(100.064)
    assert decoder.pending == ""


def test_slow_typing_is_delivered_whole_but_marked_keyed() -> None:
    decoder = WedgeDecoder()
    scans = type_text(decoder, "LOC-A-01\r", 0.0, 0.2)
    assert [(s.text, s.keyed) for s in scans] == [("LOC-A-01", True)]


def test_one_late_read_inside_a_burst_is_still_a_scan() -> None:
    decoder = WedgeDecoder(max_gap=0.05)
    scans = type_text(decoder, "0105012345000", 0.0, 0.002)
    scans += type_text(decoder, "0115\r", 0.4, 0.002)
    assert [(s.text, s.keyed) for s in scans] == [("01050123450000115", False)]


def test_a_code_with_many_slow_gaps_is_keyed() -> None:
    decoder = WedgeDecoder(max_gap=0.05)
    scans = type_text(decoder, "1234", 0.0, 0.01)
    scans += type_text(decoder, "56\r", 0.3, 0.2)
    assert [(s.text, s.keyed) for s in scans] == [("123456", True)]


def test_the_group_separator_survives_the_wedge() -> None:
    decoder = WedgeDecoder()
    code = f"]C1010590123412345710LOT7{GS}17251231"
    scans = type_text(decoder, code + "\r", 0.0, 0.002)
    assert [s.text for s in scans] == [code]


def test_prefix_is_stripped_and_required_for_a_scan() -> None:
    decoder = WedgeDecoder(prefix="@@", suffix=terminator("tab"))
    scans = type_text(decoder, "@@TOTE-0042\t", 0.0, 0.003)
    assert [(s.text, s.keyed) for s in scans] == [("TOTE-0042", False)]
    # Fast but without the prefix: a person's paste or a misconfigured scanner.
    scans = type_text(decoder, "TOTE-0042\t", 1.0, 0.003)
    assert [(s.text, s.keyed) for s in scans] == [("TOTE-0042", True)]


def test_crlf_suffix_and_short_codes() -> None:
    decoder = WedgeDecoder(suffix=terminator("crlf"), min_length=4)
    scans = type_text(decoder, "AB\r\nABCD\r\n", 0.0, 0.001)
    assert [(s.text, s.keyed) for s in scans] == [("AB", True), ("ABCD", False)]


def test_a_lone_terminator_delivers_nothing_and_editing_works() -> None:
    decoder = WedgeDecoder()
    assert decoder.feed("\r", 0.0) == []
    type_text(decoder, "ABX", 1.0, 0.3)
    decoder.backspace()
    assert decoder.pending == "AB"
    decoder.clear()
    assert decoder.pending == ""
    assert [s.text for s in type_text(decoder, "CDE\r", 3.0, 0.3)] == ["CDE"]


def test_decoder_refuses_bad_configuration() -> None:
    with pytest.raises(ValueError, match="terminator"):
        WedgeDecoder(suffix="")
    with pytest.raises(ValueError, match="max_gap"):
        WedgeDecoder(max_gap=0)
    with pytest.raises(ValueError, match="one character"):
        WedgeDecoder().feed("ab", 0.0)
    with pytest.raises(ValueError, match="empty"):
        terminator("")


def test_debounce_counts_a_repeat_within_the_window_once() -> None:
    debouncer = Debouncer(0.5)
    first = Scan("A", "s", 10.0)
    assert debouncer.accept(first)
    assert not debouncer.accept(Scan("A", "s", 10.3))
    assert debouncer.accept(Scan("B", "s", 10.4))
    assert debouncer.accept(Scan("A", "s", 10.5))
    assert debouncer.accept(Scan("A", "s", 11.1))
    # Someone typing the same code twice meant it twice.
    assert debouncer.accept(Scan("A", "s", 11.2, keyed=True))
    with pytest.raises(ValueError, match="debounce"):
        Debouncer(-1)


def test_wedge_debounce_drops_a_double_read() -> None:
    decoder = WedgeDecoder(debounce=0.5)
    scans = type_text(decoder, "TOTE-1\r", 0.0, 0.002)
    scans += type_text(decoder, "TOTE-1\r", 0.1, 0.002)
    scans += type_text(decoder, "TOTE-1\r", 0.9, 0.002)
    assert [s.at for s in scans] == [pytest.approx(0.012), pytest.approx(0.912)]


class Collector:
    def __init__(self) -> None:
        self.scans: queue.Queue[Scan] = queue.Queue()
        self.statuses: list[str] = []
        self.connected = threading.Event()

    def on_scan(self, scan: Scan) -> None:
        self.scans.put(scan)

    def on_status(self, status: str) -> None:
        self.statuses.append(status)
        if status == "connected":
            self.connected.set()

    def take(self, n: int, timeout: float = 5.0) -> list[str]:
        out: list[str] = []
        deadline = time.monotonic() + timeout
        while len(out) < n:
            out.append(self.scans.get(timeout=max(0.01, deadline - time.monotonic())).text)
        return out

    def wait_connected(self) -> None:
        assert self.connected.wait(5.0), self.statuses
        self.connected.clear()


def codes(start: int, n: int) -> list[str]:
    return [f"01{9501101530000 + i:014d}21SER{i}{GS}10LOT{i % 7}" for i in range(start, start + n)]


def test_serial_scans_arrive_whole_and_in_order(tmp_path: Path) -> None:
    sent = codes(0, 200)
    with ScannerSimulator(tmp_path / "scanner") as sim:
        got = Collector()
        with SerialScanner(sim.port, name="pack-1") as scanner:
            scanner.start(got.on_scan, got.on_status)
            got.wait_connected()
            for code in sent:
                sim.scan(code)
            assert got.take(len(sent)) == sent
    assert got.scans.empty()


def test_serial_crlf_and_split_writes(tmp_path: Path) -> None:
    with ScannerSimulator(tmp_path / "scanner", suffix="\r\n") as sim:
        got = Collector()
        with SerialScanner(sim.port) as scanner:
            scanner.start(got.on_scan, got.on_status)
            got.wait_connected()
            # Split writes with gaps between them, as a slow serial line delivers a code.
            sim.send_raw(b"LOC-A-0")
            time.sleep(0.05)
            sim.send_raw(b"1-01\r")
            time.sleep(0.05)
            sim.send_raw(b"\nTOTE-7\r\n")
            assert got.take(2) == ["LOC-A-01-01", "TOTE-7"]


def test_unplug_and_replug_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    before, after = codes(0, 50), codes(50, 50)
    with ScannerSimulator(tmp_path / "scanner") as sim:
        got = Collector()
        with SerialScanner(sim.port, reconnect_interval=0.05) as scanner:
            scanner.start(got.on_scan, got.on_status)
            got.wait_connected()
            for code in before:
                sim.scan(code)
            assert got.take(len(before)) == before
            # The cable comes out halfway through a code: that fragment must not be glued
            # to the first code after the replug.
            sim.send_raw(b"0109501101")
            time.sleep(0.1)  # the fragment is on the wire before the cable comes out
            sim.unplug()
            wait_until(
                lambda: any(s.startswith("disconnected") for s in got.statuses),
                timeout=5,
                what=lambda: f"a disconnect among {got.statuses}",
            )
            sim.replug()
            got.wait_connected()
            for code in after:
                sim.scan(code)
            # Nothing duplicated: the next scan after them is the marker sent last.
            sim.scan("END-MARK")
            assert got.take(len(after) + 1) == [*after, "END-MARK"]
    assert got.scans.empty()


def test_a_scanner_plugged_in_later_is_picked_up(tmp_path: Path) -> None:
    link = tmp_path / "scanner"
    got = Collector()
    with SerialScanner(str(link), name="late", reconnect_interval=0.05) as scanner:
        scanner.start(got.on_scan, got.on_status)
        wait_until(lambda: got.statuses, timeout=5, what="the scanner's first status")
        assert got.statuses[0].startswith("disconnected: scanner late on ")
        assert "cannot be opened" in got.statuses[0]
        with ScannerSimulator(link) as sim:
            got.wait_connected()
            sim.scan("BADGE-0007")
            assert got.take(1) == ["BADGE-0007"]
    # The same reason is reported once, not every retry.
    assert sum("cannot be opened" in s for s in got.statuses) == 1


def test_serial_debounce_and_prefix(tmp_path: Path) -> None:
    with ScannerSimulator(tmp_path / "scanner") as sim:
        got = Collector()
        with SerialScanner(sim.port, debounce=1.0, prefix="#") as scanner:
            scanner.start(got.on_scan, got.on_status)
            got.wait_connected()
            sim.scan("#TOTE-1")
            sim.scan("#TOTE-1")
            sim.scan("#TOTE-2")
            sim.scan("TOTE-3")
            sim.scan("#END-MARK")
            # The repeat of TOTE-1 was dropped: the marker comes right after TOTE-3.
            assert got.take(4) == ["TOTE-1", "TOTE-2", "TOTE-3", "END-MARK"]
    assert got.scans.empty()


def test_opening_a_missing_port_says_what_to_check(tmp_path: Path) -> None:
    scanner = SerialScanner(str(tmp_path / "nothing"), name="pick-2")
    with pytest.raises(ScannerError, match=r"scanner pick-2 on .*nothing cannot be opened"):
        scanner.open()
    with pytest.raises(RuntimeError, match="already running"):
        scanner.start(lambda _s: None)
        scanner.start(lambda _s: None)
    scanner.stop()


def test_keys_typed_before_a_scan_do_not_merge_with_it() -> None:
    decoder = WedgeDecoder(max_gap=0.05)
    scans = type_text(decoder, "12", 0.0, 0.4)
    scans += type_text(decoder, "LOC-A-03-12-2\r", 2.0, 0.003)
    assert [(s.text, s.keyed) for s in scans] == [("12", True), ("LOC-A-03-12-2", False)]


def test_a_handler_that_fails_does_not_stop_the_reader(tmp_path: Path) -> None:
    with ScannerSimulator(tmp_path / "scanner") as sim:
        got = Collector()

        def handler(scan: Scan) -> None:
            if scan.text == "BAD":
                raise ValueError("handler bug")
            got.on_scan(scan)

        with SerialScanner(sim.port) as scanner:
            scanner.start(handler, got.on_status)
            got.wait_connected()
            sim.scan("BAD")
            sim.scan("TOTE-1")
            assert got.take(1) == ["TOTE-1"]
    assert any("'BAD' was read but not handled" in s for s in got.statuses)
