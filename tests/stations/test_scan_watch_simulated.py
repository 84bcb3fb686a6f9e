"""`shipfloor scan watch --station PICK-01` with no device file: it runs on the simulated
devices `shipfloor demo` runs the station on (a serial scanner among them), in a real
terminal (tmux), and logs what is scanned."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from app.hardware import config
from tests.waiting import wait_until

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")

ROOT = Path(__file__).resolve().parents[2]


def test_scan_watch_runs_on_the_demos_simulated_devices(tmp_path: Path) -> None:
    log = tmp_path / "scans.jsonl"
    socket = f"shipfloor-test-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if k != config.ENV}
    env["TERM"] = "xterm-256color"
    env["PYTHONPATH"] = str(ROOT)
    tmux = ["tmux", "-L", socket, "-f", "/dev/null"]
    # No device file in the working folder, none named: the demo station's simulated ones.
    command = f"{sys.executable} -m app.cli scan watch --station PICK-01 --log {log}"
    subprocess.run(
        [
            *tmux,
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
            "-c",
            str(tmp_path),
            command,
        ],
        check=True,
        env=env,
        cwd=tmp_path,
    )

    def screen() -> str:
        done = subprocess.run(
            [*tmux, "capture-pane", "-p", "-t", "w"], capture_output=True, text=True, check=True
        )
        return done.stdout

    try:
        wait_until(lambda: "serial: connected" in screen(), timeout=30, what=screen)
        subprocess.run(
            [*tmux, "send-keys", "-t", "w", "-l", "LOC-A01-01-1\r5012345658308\r"], check=True
        )
        wait_until(
            lambda: log.exists() and len(log.read_text().splitlines()) >= 2,
            timeout=30,
            what=screen,
        )
        got = [json.loads(line) for line in log.read_text().splitlines()]
        assert [(g["text"], g["kind"]) for g in got] == [
            ("LOC-A01-01-1", "location"),
            ("5012345658308", "gtin"),
        ]
        wait_until(lambda: "2 scan(s)" in screen(), timeout=30, what=screen)
        subprocess.run([*tmux, "send-keys", "-t", "w", "C-q"], check=True)
        wait_until(
            lambda: "No device file names PICK-01: watching it on simulated devices" in screen(),
            timeout=30,
            what=screen,
        )
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
