"""Station device files, `devices check`, `devices simulate` and the `print` commands."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.cli.devices import (
    demo_station_devices,
    prepare_simulator_folder,
    simulator_config,
)
from app.hardware import config
from app.users import hash_pin
from data.models import Role, Station, StationRole, User, UserRole
from data.uow import UnitOfWork
from devices.scanner import Scan, SerialScanner
from devices.sim_printer import PrinterSimulator
from devices.sim_scale import ScaleSimulator
from devices.sim_scanner import ScannerSimulator
from tests.cli import main
from tests.factories import add_reference
from tests.waiting import wait_until

EXAMPLE = config.__doc__.split("::", 1)[1].split("Every key is checked", 1)[0]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "devices.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_documented_example_is_a_valid_device_file(tmp_path: Path) -> None:
    found = config.load(write(tmp_path, "\n".join(line[4:] for line in EXAMPLE.splitlines())))
    pack = found.station("PACK-01")
    assert [s.name for s in pack.scanners] == ["hand", "fixed"]
    assert pack.wedge is not None
    assert pack.wedge.max_gap_ms == 50
    assert pack.scale is not None
    assert pack.scale.kind == "sics"
    assert pack.printers["label"].where() == "10.0.0.21:9100"
    assert pack.printers["documents"].content_type == "application/pdf"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[stations.P.printers.label]\nkind = 'tcp'\nhots = 'x'\n", "unknown key 'hots'"),
        ("[stations.P.printers.label]\nkind = 'tcp'\n", "'host' is missing"),
        ("[stations.P.printers.label]\nkind = 'laser'\n", "kind is 'laser'; expected one of"),
        ("[stations.P.printers.label]\nkind = 'tcp'\nhost = 'h'\nport = '9100'\n", ""),
        (
            "[stations.P.printers.l]\nkind = 'tcp'\nhost = 'h'\nlanguage = 'epl'\n",
            "language is 'epl'; expected one of zpl, pdf",
        ),
        (
            "[stations.P.scale]\nkind = 'sics'\nport = '/dev/x'\nbaudrate = 'fast'\n",
            "stations.P.scale.baudrate must be a whole number, not 'fast'",
        ),
        (
            "[stations.P.scale]\nkind = 'sics'\nport = '/dev/x'\ntimeout_s = true\n",
            "timeout_s must be a whole number or a number, not True",
        ),
        ("[stations.P.scale]\nkind = 'sics'\n", "'port' is missing"),
        ("[stations.P.scanners.s]\nkind = 'serial'\n", "'port' is missing"),
        (
            "[stations.P.scanners.s]\nkind = 'wedge'\nmax_gap_ms = 0\n",
            "max_gap_ms is 0; it must be from 1 to 10000",
        ),
        ("[stations.P.scanners.s]\nkind = 'wedge'\nterminator = ''\n", "cannot be empty"),
        ("[stations.P]\nscanner = 1\n", "unknown key 'scanner'"),
        ("stations = 3\n", "stations must be a table, not 3"),
        ("[printers]\n", "unknown key 'printers'"),
        ("stations = [\n", "is not valid TOML"),
        (
            "[stations.P.printers.l]\nkind = 'tcp'\nhost = 'h'\nport = 70000\n",
            "port is 70000; a TCP port is from 1 to 65535",
        ),
        (
            "[stations.P.scale]\nkind = 'continuous'\nport = 'x'\nstable_frames = 0\n",
            "stable_frames is 0; it must be from 1 to 100",
        ),
        ("[stations.P.printers.l]\nkind = 'cups'\nqueue = ' q'\n", "cannot be empty or start"),
        (
            "[stations.P.scanners.a]\nkind = 'wedge'\n[stations.P.scanners.b]\nkind = 'wedge'\n",
            "names 2 wedge scanners (a, b)",
        ),
        (f"[stations.P.printers.{'x' * 41}]\nkind = 'folder'\nfolder = 'f'\n", "1 to 40"),
    ],
)
def test_device_file_mistakes_are_named(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    if not message:  # a port given as text is a mistake the printer reports, not the file
        config.load(path)
        return
    with pytest.raises(config.DeviceConfigError) as caught:
        config.load(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_missing_file_and_station(tmp_path: Path) -> None:
    with pytest.raises(config.DeviceConfigError, match="there is no device file .*--devices FILE"):
        config.load(tmp_path / "nope.toml")
    found = config.load(write(tmp_path, "[stations.A.scanners.w]\nkind = 'wedge'\n"))
    with pytest.raises(config.DeviceConfigError, match=r"station 'B' \(stations in the file: A\)"):
        found.station("B")
    (tmp_path / "bad.toml").write_bytes(b"\xff\xfe")
    with pytest.raises(config.DeviceConfigError, match="is not UTF-8"):
        config.load(tmp_path / "bad.toml")


@pytest.fixture
def simulated(tmp_path: Path) -> Iterator[tuple[Path, PrinterSimulator, ScaleSimulator]]:
    with (
        PrinterSimulator() as printer,
        ScaleSimulator("sics", link=tmp_path / "scale") as scale,
        ScannerSimulator(tmp_path / "scanner"),
    ):
        path = tmp_path / "devices.toml"
        prepare_simulator_folder(tmp_path)
        path.write_text(simulator_config("PACK-01", tmp_path, printer.port, "sics"))
        yield path, printer, scale


def test_devices_check_reports_every_device(
    simulated: tuple[Path, PrinterSimulator, ScaleSimulator], capsys: pytest.CaptureFixture[str]
) -> None:
    path, printer, scale = simulated
    scale.set_weight(1234)
    assert main(["devices", "check", "--devices", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    devices = {d["device"]: d for d in out["devices"]}
    assert set(devices) == {
        "scanner hand",
        "scanner serial",
        "scale",
        "printer label",
        "printer documents",
    }
    assert out["ok"] is True
    assert {name: d["state"] for name, d in devices.items()} == {
        "scanner hand": "unverified",
        "scanner serial": "ok",
        "scale": "ok",
        "printer label": "ok",
        "printer documents": "ok",
    }
    assert "reads 1234 g (stable)" in devices["scale"]["detail"]
    assert "keyboard wedge" in devices["scanner hand"]["detail"]
    printer.paper_out(True)
    scale.unplug()
    assert main(["devices", "check", "--station", "PACK-01", "--devices", str(path)]) == 1
    text = capsys.readouterr().out
    assert "FAIL PACK-01 printer label" in text
    assert "paper out" in text
    assert "FAIL PACK-01 scale" in text
    printer.refuse()
    assert main(["devices", "check", "--devices", str(path), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    label = next(d for d in out["devices"] if d["device"] == "printer label")
    assert label["state"] == "fail"
    assert "refused" in label["detail"]
    assert main(["devices", "check", "--devices", str(path), "--station", "NOPE"]) == 2
    assert "no devices are configured for station 'NOPE'" in capsys.readouterr().err


@pytest.fixture
def site(sqlite_store: Engine) -> Engine:
    ids = add_reference(sqlite_store)
    with UnitOfWork(sqlite_store) as uow:
        uow.session.add(
            Station(code="PACK-01", name="Bench 1", node_id=ids["WH1"], role=StationRole.PACK)
        )
        user = User(badge="U5001", name="Sue Supervisor", pin_hash=hash_pin("5555"))
        user.roles.append(UserRole(role=Role.SUPERVISOR))
        uow.session.add(user)
        uow.commit()
    return sqlite_store


def test_print_commands_end_to_end(
    site: Engine,
    simulated: tuple[Path, PrinterSimulator, ScaleSimulator],
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, printer, _ = simulated
    db = ["--db", site.url.render_as_string(hide_password=False), "--devices", str(path)]
    assert main(["print", "test", "--station", "PACK-01", "--printer", "label", *db]) == 0
    assert main(["print", "test", "--station", "PACK-01", "--printer", "documents", *db]) == 0
    capsys.readouterr()
    assert main(["print", "deliver", "--station", "PACK-01", *db]) == 0
    [label] = printer.wait_for_jobs(1, 5.0)
    assert label.startswith(b"^XA")
    assert b"Station PACK-01" in label
    [pdf] = list((path.parent / "documents").iterdir())
    assert pdf.read_bytes().startswith(b"%PDF")
    dbonly = db[:2]
    assert main(["print", "list", "--json", *dbonly]) == 0
    jobs = json.loads(capsys.readouterr().out)["jobs"]
    assert [(j["printer"], j["status"]) for j in jobs] == [
        ("documents", "printed"),
        ("label", "printed"),
    ]
    label_job = jobs[1]["id"]
    os.environ["SUPERVISOR_PIN"] = "5555"
    sup = ["--user", "U5001", "--pin-env", "SUPERVISOR_PIN"]
    assert main(["print", "reprint", str(label_job), *sup, *dbonly]) == 1
    assert "give a reason" in capsys.readouterr().err
    nobody = ["--user", "NOBODY", "--pin-env", "SUPERVISOR_PIN"]
    assert main(["print", "reprint", str(label_job), *nobody, "--reason", "x", *dbonly]) == 1
    assert "badge NOBODY is not known here" in capsys.readouterr().err
    assert main(["print", "reprint", str(label_job), *sup, "--reason", "smudged", *dbonly]) == 0
    printer.refuse()
    assert main(["print", "deliver", "--station", "PACK-01", *db]) == 1
    assert "refused" in capsys.readouterr().err
    assert main(["print", "list", "--status", "failed", "--json", *dbonly]) == 0
    [failed] = json.loads(capsys.readouterr().out)["jobs"]
    assert failed["reprint_of"] == label_job
    printer.accept()
    assert main(["print", "retry", str(failed["id"]), *sup, *dbonly]) == 0
    assert main(["print", "deliver", "--station", "PACK-01", *db]) == 0
    assert printer.wait_for_jobs(2, 5.0)[1] == label
    capsys.readouterr()
    assert main(["print", "show", str(failed["id"]), *dbonly]) == 0
    text = capsys.readouterr().out
    for step in (
        "queued by U5001",
        "failed by T-ADMIN (token tests) print-PACK-01",
        "retried by U5001",
        "sent by",
    ):
        assert step in text
    assert "reprint of job" in text
    assert "smudged" in text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_devices_simulate_runs_all_three(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    cfg = tmp_path / "devices.toml"
    sim_dir = tmp_path / "sim"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app.cli",
            "devices",
            "simulate",
            "--dir",
            str(sim_dir),
            "--printer-port",
            str(port),
            "--write-config",
            str(cfg),
        ],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:

        def config_written() -> bool:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            return cfg.exists()

        wait_until(config_written, timeout=20, what=f"the simulators to write {cfg}")
        assert main(["devices", "check", "--devices", str(cfg), "--json"]) == 0
        capsys.readouterr()
        got: list[Scan] = []
        with SerialScanner(str(sim_dir / "scanner")) as scanner:
            scanner.start(got.append)
            assert scanner.connected.wait(5)
            assert proc.stdin is not None
            proc.stdin.write("w 2500\nLOC-A-01-01-1\n10LOT<GS>21SN\n")
            proc.stdin.flush()
            wait_until(lambda: len(got) >= 2, timeout=10, what=lambda: f"two scans, not {got}")
        assert [s.text for s in got] == ["LOC-A-01-01-1", "10LOT\x1d21SN"]
        assert main(["devices", "check", "--devices", str(cfg), "--json"]) == 0
        scale = next(
            d for d in json.loads(capsys.readouterr().out)["devices"] if d["device"] == "scale"
        )
        assert "reads 2500 g" in scale["detail"]
    finally:
        proc.terminate()
        proc.wait(10)
    assert proc.returncode == 0


def test_the_demo_uses_the_sites_devices_when_they_name_its_station(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(config.ENV, raising=False)
    own = write(tmp_path, "[stations.PICK-01.scanners.hand]\nkind = 'wedge'\n")
    with demo_station_devices(str(own), "PICK-01") as (path, simulated):
        assert (path, simulated) == (own, False)
    elsewhere = write(tmp_path, "[stations.PACK-01.scanners.hand]\nkind = 'wedge'\n")
    with demo_station_devices(str(elsewhere), "PICK-01") as (path, simulated):
        assert simulated
        assert path != elsewhere
        pick = config.load(path).station("PICK-01")
        assert sorted(s.kind for s in pick.scanners) == ["serial", "wedge"]
    with (
        pytest.raises(config.DeviceConfigError, match="there is no device file"),
        demo_station_devices(str(tmp_path / "none.toml"), "PICK-01"),
    ):
        pass
    monkeypatch.chdir(tmp_path)  # no shipfloor-devices.toml here, none named: simulated devices
    with demo_station_devices(None, "PICK-01") as (path, simulated):
        assert simulated
    broken = write(tmp_path, "[stations.PICK-01.scanners.hand]\nkind = 'laser'\n")
    with (
        pytest.raises(config.DeviceConfigError, match="laser"),
        demo_station_devices(str(broken), "PICK-01"),
    ):
        pass
