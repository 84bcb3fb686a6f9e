"""Wedge bursts through the real terminal path: `shipfloor scan watch` in tmux.

A keyboard-wedge scanner is a keyboard, so the test types: tmux sends 1,000 scans as
keystrokes, back to back, into the app running in a pseudo-terminal, and every scan must
come out of the app whole, once, in order, group separators included. Pilot cannot show
this: it skips the terminal, its input thread and the key parser.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.barcodes import GS
from tests.waiting import wait_until

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


def gtin(body: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def scans(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        kind = i % 5
        if kind == 0:
            out.append(f"LOC-{'AB'[i % 2]}-{rng.randint(1, 40):02d}-{rng.randint(1, 60):02d}-1")
        elif kind == 1:
            out.append(gtin(f"501234500{rng.randint(0, 9999):04d}"))
        elif kind == 2:
            lot = "".join(rng.choice("ABCDEFGH0123456789") for _ in range(rng.randint(1, 12)))
            out.append(
                f"01{gtin(f'0501234500{rng.randint(0, 999):03d}')}10{lot}{GS}17{27 + i % 3}1231"
            )
        elif kind == 3:
            out.append(f"TOTE-{i:04d}")
        else:
            out.append(f"00{gtin(f'05012345{i:09d}')}")
    return out


class Tmux:
    def __init__(self, socket: str) -> None:
        self.socket = socket

    def __call__(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout


@pytest.fixture
def watch(tmp_path: Path) -> Iterator[tuple[Tmux, Path]]:
    yield from watching(tmp_path, "max_gap_ms = 200\ndebounce_ms = 0\n")


@pytest.fixture
def watch_as_configured(tmp_path: Path) -> Iterator[tuple[Tmux, Path]]:
    """A wedge with the device file's defaults (``debounce_ms`` 400)."""
    yield from watching(tmp_path, "max_gap_ms = 200\n")


def watching(tmp_path: Path, settings: str) -> Iterator[tuple[Tmux, Path]]:
    log = tmp_path / "scans.jsonl"
    devices = tmp_path / "devices.toml"
    devices.write_text(
        '[stations.PICK-01.scanners.hand]\nkind = "wedge"\nterminator = "enter"\n' + settings
    )
    tmux = Tmux(f"shipfloor-test-{uuid.uuid4().hex[:8]}")
    command = (
        f"{sys.executable} -m app.cli scan watch --station PICK-01 --devices {devices} --log {log}"
    )
    env = {**os.environ, "TERM": "xterm-256color"}
    subprocess.run(
        [
            "tmux",
            "-L",
            tmux.socket,
            "-f",
            "/dev/null",
            # The pane outlives the command, so a failure still shows what it printed.
            "start-server",
            ";",
            "set-option",
            "-g",
            "remain-on-exit",
            "on",
            ";",
            "new-session",
            "-d",
            "-s",
            "w",
            "-x",
            "80",
            "-y",
            "24",
            command,
        ],
        check=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:

        def screen() -> str:
            return tmux("capture-pane", "-p", "-t", "w")

        wait_until(lambda: "Scan a code" in screen(), timeout=30, what=screen)
        yield tmux, log
    finally:
        subprocess.run(["tmux", "-L", tmux.socket, "kill-server"], capture_output=True)


def read_log(log: Path, n: int, timeout: float) -> list[dict[str, object]]:
    """The first `n` scans the log holds, once it holds them."""

    def lines() -> list[str]:
        return log.read_text().splitlines() if log.exists() else []

    wait_until(lambda: len(lines()) >= n, timeout=timeout, what=lambda: f"{n} scans in {log}")
    return [json.loads(line) for line in lines()]


def test_a_thousand_back_to_back_scans_arrive_whole_and_in_order(
    watch: tuple[Tmux, Path],
) -> None:
    tmux, log = watch
    sent = scans(1000)
    chunk = 40
    for i in range(0, len(sent), chunk):
        tmux("send-keys", "-t", "w", "-l", "".join(code + "\r" for code in sent[i : i + chunk]))
    got = read_log(log, len(sent), timeout=180)
    assert len(got) == len(sent)
    assert [g["text"] for g in got] == sent
    # Told apart from typing by keystroke timing as the terminal's input thread saw it; on a
    # starved machine a rare scan may read late enough to look typed (it still arrives whole).
    assert sum(g["keyed"] is False for g in got) >= 990
    assert all(g["error"] is None for g in got), [g for g in got if g["error"]][:3]
    kinds = [g["kind"] for g in got[:5]]
    assert kinds == ["location", "gtin", "gs1", "tote", "sscc"]

    # The screen catches up (it redraws when the app is idle) and says what it saw, at 80x24.
    def screen() -> str:
        return tmux("capture-pane", "-p", "-t", "w")

    wait_until(lambda: "1000 scan(s)" in screen(), timeout=60, what=screen)


def test_slow_typing_is_delivered_as_keyed(watch: tuple[Tmux, Path]) -> None:
    tmux, log = watch
    # A person types: each key well past the wedge's 200 ms gap. The pause is the input
    # itself (how fast a hand types), not a wait for the program.
    for ch in "TOTE-7":
        tmux("send-keys", "-t", "w", "-l", ch)
        time.sleep(0.3)
    tmux("send-keys", "-t", "w", "Enter")
    tmux("send-keys", "-t", "w", "-l", "LOC-A-01-01-1\r")
    got = read_log(log, 2, timeout=30)
    assert [(g["text"], g["keyed"], g["kind"]) for g in got] == [
        ("TOTE-7", True, "tote"),
        ("LOC-A-01-01-1", False, "location"),
    ]


def test_the_same_item_scanned_three_times_quickly_counts_three(
    watch_as_configured: tuple[Tmux, Path],
) -> None:
    tmux, log = watch_as_configured
    # A picker taking three of one item scans its GTIN three times, well within 400 ms.
    tmux("send-keys", "-t", "w", "-l", "5012345658308\r" * 3 + "TOTE-0042\r")
    got = read_log(log, 4, timeout=30)
    assert [g["text"] for g in got] == ["5012345658308"] * 3 + ["TOTE-0042"]
