"""A station's scanners as the stations run them: every scan counts, even the same code
again at once (three units of one item are three scans); no device reports a double
read of one physical scan, so nothing is dropped as one."""

from __future__ import annotations

import os
import tty
from pathlib import Path

from app.hardware.config import load
from app.scanning import ScanEvent, ScanFeed
from tests.waiting import wait_until

GTIN = "5012345658308"


def feed_for(tmp_path: Path, scanners: str) -> ScanFeed:
    devices = tmp_path / "devices.toml"
    devices.write_text(scanners)
    return ScanFeed.for_station(load(devices).station("PICK-01"))


def burst(feed: ScanFeed, text: str, at: float) -> list[ScanEvent]:
    """``text`` and Enter as a wedge scanner types them: 2 ms between keys."""
    out: list[ScanEvent] = []
    for i, char in enumerate(text + "\r"):
        out += feed.key(char, at + i * 0.002)
    return out


def test_a_wedge_counts_the_same_code_scanned_again_at_once(tmp_path: Path) -> None:
    # The device file's defaults, debounce_ms 400 among them.
    feed = feed_for(tmp_path, '[stations.PICK-01.scanners.hand]\nkind = "wedge"\n')
    got: list[ScanEvent] = []
    at = 10.0
    for _ in range(3):
        got += burst(feed, GTIN, at)
        at += 0.1  # the next trigger pull, 100 ms later
    got += burst(feed, "TOTE-0042", at)
    assert [(e.text, e.keyed, e.barcode.kind if e.barcode else None) for e in got] == [
        (GTIN, False, "gtin"),
        (GTIN, False, "gtin"),
        (GTIN, False, "gtin"),
        ("TOTE-0042", False, "tote"),
    ]


def test_the_default_keyboard_counts_the_same_code_again() -> None:
    feed = ScanFeed.for_station(None)
    got = burst(feed, GTIN, 1.0) + burst(feed, GTIN, 1.05)
    assert [e.text for e in got] == [GTIN, GTIN]


def test_a_serial_scanner_counts_the_same_code_sent_again_at_once(tmp_path: Path) -> None:
    main, other = os.openpty()
    tty.setraw(other)
    try:
        feed = feed_for(
            tmp_path,
            '[stations.PICK-01.scanners.fixed]\nkind = "serial"\n'
            f'port = "{os.ttyname(other)}"\ndebounce_ms = 400\n',
        )
        got: list[ScanEvent] = []
        statuses: list[str] = []
        feed.start(got.append, lambda _name, status: statuses.append(status))
        try:
            wait_until(lambda: "connected" in statuses, timeout=10, what="the port open")
            os.write(main, f"{GTIN}\r{GTIN}\r{GTIN}\r".encode())
            wait_until(lambda: len(got) >= 3, timeout=10, what=lambda: f"3 scans, got {got}")
        finally:
            feed.stop()
        assert [e.text for e in got] == [GTIN] * 3
        assert all(e.barcode is not None and e.barcode.kind == "gtin" for e in got)
    finally:
        os.close(main)
        os.close(other)
