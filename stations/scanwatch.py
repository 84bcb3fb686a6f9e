"""`shipfloor scan watch`: every scan a station's scanners send, and what it means.

For wiring a scanner: scan labels and see whether they arrive whole, as scans (not typed),
with their group separators, and how the resolver reads them. ``--log FILE`` appends each
scan to a JSON Lines file as well.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, RichLog, Static

from app.barcodes import show
from app.scanning import ScanFeed
from stations import STYLES
from stations.capture import EntryChanged, ScanCaptureApp, Scanned, ScannerStatus


class ScanWatchApp(ScanCaptureApp):
    """A log of scans; usable at 80x24 from the keyboard alone (Ctrl+Q quits)."""

    TITLE = "Shipfloor scan watch"
    CSS_PATH = STYLES / "scanwatch.tcss"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True)]

    def __init__(self, feed: ScanFeed, log: Path | None = None, **kwargs: Any) -> None:
        super().__init__(feed, **kwargs)
        self._log_path = log
        self._log_file: IO[str] | None = None
        self.scans = 0

    def compose(self) -> ComposeResult:
        yield Static("Scan a code, or type one and press Enter.", id="count")
        yield RichLog(markup=False, wrap=True, max_lines=500)
        yield Static("> ", id="entry")
        yield Footer()

    def on_mount(self) -> None:
        # Textual calls ScanCaptureApp.on_mount as well (it starts the serial scanners).
        if self._log_path is not None:
            self._log_file = self._log_path.open("a", encoding="utf-8")
        for name in self.feed.serial_names:
            self.query_one(RichLog).write(f"serial scanner {name}: connecting")

    def on_unmount(self) -> None:
        if self._log_file is not None:
            self._log_file.close()

    def on_scanned(self, message: Scanned) -> None:
        scan = message.scan
        self.scans += 1
        how = "keyed" if scan.keyed else "scan"
        if scan.barcode is not None:
            meaning = f"{scan.barcode.kind} {scan.barcode.value}"
        else:
            meaning = f"not valid: {scan.error}"
        self.query_one(RichLog).write(
            f"{self.scans:>5} {scan.source} {how}: {show(scan.text)} -> {meaning}"
        )
        self.query_one("#count", Static).update(f"{self.scans} scan(s)")
        if self._log_file is not None:
            record = {
                "text": scan.text,
                "source": scan.source,
                "keyed": scan.keyed,
                "kind": scan.barcode.kind if scan.barcode else None,
                "value": scan.barcode.value if scan.barcode else None,
                "error": scan.error,
            }
            self._log_file.write(json.dumps(record) + "\n")
            self._log_file.flush()

    def on_entry_changed(self, message: EntryChanged) -> None:
        self.query_one("#entry", Static).update("> " + show(message.pending)[1:-1])

    def on_scanner_status(self, message: ScannerStatus) -> None:
        self.query_one(RichLog).write(f"serial scanner {message.name}: {message.status}")


def run_scan_watch(feed: ScanFeed, log: Path | None) -> int:
    ScanWatchApp(feed, log).run()
    return 0
