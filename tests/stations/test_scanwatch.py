"""`scan watch` under Pilot: wedge keys and a serial scanner into one log of whole scans."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from textual.widgets import RichLog

from app.hardware.config import load
from app.scanning import ScanFeed
from devices.sim_scanner import ScannerSimulator
from stations.scanwatch import ScanWatchApp


def lines(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.mark.asyncio
async def test_wedge_with_a_control_prefix_and_a_serial_scanner_together(tmp_path: Path) -> None:
    devices = tmp_path / "devices.toml"
    devices.write_text(
        # Pilot waits for the app between keys, so "fast" is generous here; the tmux test
        # covers real keystroke timing.
        '[stations.P.scanners.hand]\nkind = "wedge"\nprefix = "\\u0002"\nmax_gap_ms = 5000\n'
        f'[stations.P.scanners.fixed]\nkind = "serial"\nport = "{tmp_path / "scanner"}"\n'
    )
    log = tmp_path / "scans.jsonl"
    with ScannerSimulator(tmp_path / "scanner") as sim:
        app = ScanWatchApp(ScanFeed.for_station(load(devices).station("P")), log)
        async with app.run_test(size=(80, 24)) as pilot:
            # STX arrives as Ctrl+B: it is the scanner's prefix, so it belongs to the scan.
            await pilot.press("ctrl+b", *"TOTE-0042", "enter")
            await pilot.press("ctrl+b", *"10AB", "ctrl+right_square_bracket", *"21X", "enter")
            for _ in range(100):
                text = "\n".join(str(line) for line in app.query_one(RichLog).lines)
                if "fixed: connected" in text:
                    break
                await asyncio.sleep(0.05)
            sim.scan("LOC-A-01-01-1")
            for _ in range(100):
                if len(lines(log)) == 3:
                    break
                await pilot.pause(0.05)
            assert app.scans == 3
    got = lines(log)
    assert [(g["text"], g["source"], g["keyed"], g["kind"]) for g in got] == [
        ("TOTE-0042", "hand", False, "tote"),
        ("10AB\x1d21X", "hand", False, "gs1"),
        ("LOC-A-01-01-1", "fixed", False, "location"),
    ]


@pytest.mark.asyncio
async def test_typing_without_the_prefix_is_keyed_and_editable(tmp_path: Path) -> None:
    app = ScanWatchApp(ScanFeed.for_station(None), tmp_path / "log.jsonl")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"TOTE-9X", "backspace", "enter")
        await pilot.press(*"JUNK", "escape", *"30", "enter")
        await pilot.pause()
        assert app.scans == 2
    got = lines(tmp_path / "log.jsonl")
    assert [g["text"] for g in got] == ["TOTE-9", "30"]
    assert got[1]["error"] is not None
    assert "truncated element string" in str(got[1]["error"])
