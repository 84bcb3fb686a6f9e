"""The `shipfloor scan`, `devices` and `print` commands."""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.table import Table

from app import barcodes
from app.access import Action
from app.actor import Actor
from app.cli.common import CommandError, acting_options, caller, current_engine, err, out
from app.hardware import config, printqueue, wiring
from app.scanning import ScanFeed
from data import printjobs as rows
from data.models import PrintJobStatus
from data.store import StoreEngine, lost_connection
from data.types import utcnow
from data.uow import UnitOfWork
from devices.errors import DeviceError
from devices.sim_printer import PrinterSimulator
from devices.sim_scale import ScaleSimulator
from devices.sim_scanner import ScannerSimulator
from printing import testpage

_ESCAPES = re.compile(r"<GS>|\\x1[dD]|\\u001[dD]|\{GS\}|\\x([0-9a-fA-F]{2})")


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    devices_file = argparse.ArgumentParser(add_help=False)
    devices_file.add_argument(
        "--devices",
        metavar="FILE",
        default=None,
        help=f"the station device file (default: ${config.ENV}, else {config.DEFAULT_FILE})",
    )

    scan_cmd = commands.add_parser("scan", parents=[common], help="what a scanned code means")
    scan_sub = scan_cmd.add_subparsers(dest="scan_command", required=True, metavar="parse|watch")
    parse = scan_sub.add_parser(
        "parse",
        parents=[common],
        help="how a scanned string is understood",
        description="Write the GS1 group separator as <GS> or \\x1d.",
    )
    parse.add_argument("text", metavar="TEXT")
    parse.add_argument("--json", action="store_true", help="print one JSON object")
    parse.set_defaults(run=cmd_scan_parse)
    watch = scan_sub.add_parser(
        "watch",
        parents=[common, devices_file],
        help="show every scan a station's scanners send (wiring check)",
    )
    watch.add_argument("--station", metavar="ID", default=None, help="use this station's scanners")
    watch.add_argument(
        "--log", metavar="FILE", default=None, help="also append each scan to FILE (JSON Lines)"
    )
    watch.set_defaults(run=cmd_scan_watch)

    dev_cmd = commands.add_parser("devices", parents=[common], help="scanners, scales, printers")
    dev_sub = dev_cmd.add_subparsers(
        dest="devices_command", required=True, metavar="check|simulate"
    )
    check = dev_sub.add_parser(
        "check", parents=[common, devices_file], help="try each configured device"
    )
    check.add_argument("--station", metavar="ID", default=None, help="only this station")
    check.add_argument("--json", action="store_true", help="print one JSON object")
    check.set_defaults(run=cmd_devices_check)
    sim = dev_sub.add_parser(
        "simulate",
        parents=[common],
        help="run a simulated serial scanner, scale and TCP 9100 printer",
    )
    sim.add_argument("--dir", default=".shipfloor-sim", help="where the ports and printed jobs go")
    sim.add_argument("--printer-port", type=int, default=9100, help="TCP port (9100)")
    sim.add_argument(
        "--scale", choices=["sics", "continuous"], default="sics", help="scale protocol"
    )
    sim.add_argument("--station", metavar="ID", default="PACK-01", help="station for the config")
    sim.add_argument(
        "--write-config",
        metavar="FILE",
        default=None,
        help="write a device file pointing the station at the simulators",
    )
    sim.set_defaults(run=cmd_devices_simulate)

    print_cmd = commands.add_parser("print", parents=[common], help="the print queue")
    print_sub = print_cmd.add_subparsers(
        dest="print_command",
        required=True,
        metavar="list|show|deliver|retry|cancel|reprint|test",
    )
    plist = print_sub.add_parser("list", parents=[common], help="print jobs, newest first")
    plist.add_argument("--station", metavar="ID", default=None)
    plist.add_argument("--status", choices=[s.value for s in PrintJobStatus], action="append")
    plist.add_argument("--limit", type=int, default=50)
    plist.add_argument("--json", action="store_true", help="print one JSON object")
    plist.set_defaults(run=cmd_print_list)
    pshow = print_sub.add_parser("show", parents=[common], help="a print job and its history")
    pshow.add_argument("job", type=int, metavar="JOB")
    pshow.add_argument("--json", action="store_true", help="print one JSON object")
    pshow.set_defaults(run=cmd_print_show)
    deliver = print_sub.add_parser(
        "deliver",
        parents=[common, devices_file, acting_options()],
        help="send a station's queued jobs",
    )
    deliver.add_argument("--station", metavar="ID", required=True)
    deliver.add_argument(
        "--watch", metavar="SECONDS", type=float, default=None, help="keep delivering, every S s"
    )
    deliver.set_defaults(run=cmd_print_deliver, action=Action.PRINT_DELIVER)
    for name, helptext in (
        ("retry", "send a failed or unknown job again"),
        ("cancel", "give up a job that has not printed"),
        ("reprint", "print a job's document again (audited)"),
    ):
        p = print_sub.add_parser(name, parents=[common, acting_options()], help=helptext)
        p.add_argument("job", type=int, metavar="JOB")
        p.add_argument("--reason", default="", help="why (required for a reprint)")
        p.add_argument("--station", metavar="ID", default=None, help="where the person is")
        p.set_defaults(run=cmd_print_person, action=Action(f"print {name}"))
    ptest = print_sub.add_parser(
        "test",
        parents=[common, devices_file, acting_options()],
        help="queue a test page for a station's printer",
    )
    ptest.add_argument("--station", metavar="ID", required=True)
    ptest.add_argument("--printer", metavar="NAME", required=True)
    ptest.set_defaults(run=cmd_print_test, action=Action.PRINT_TEST)


def unescape(text: str) -> str:
    """A scan as typed on a command line: ``<GS>``, ``{GS}`` or ``\\x1d`` become ASCII 29."""

    def one(match: re.Match[str]) -> str:
        if match.group(1):
            return chr(int(match.group(1), 16))
        return barcodes.GS

    return _ESCAPES.sub(one, text)


def cmd_scan_parse(args: argparse.Namespace) -> int:
    text = unescape(args.text)
    try:
        found = barcodes.resolve(text)
    except barcodes.BarcodeError as exc:
        if args.json:
            sys.stdout.write(
                json.dumps({"valid": False, "text": text, "reason": exc.reason}) + "\n"
            )
            return 1
        raise CommandError(str(exc), exit_code=1) from None
    if args.json:
        sys.stdout.write(json.dumps({"valid": True, **found.as_json()}) + "\n")
        return 0
    facts = found.as_json()
    out.print(f"{barcodes.show(text)} is a {describe(found)}")
    for key in ("symbology", "gtin", "sscc", "lot", "serial", "expiry", "best_before"):
        if key in facts:
            out.print(f"  {key.replace('_', ' '):12} {facts[key]}", markup=False)
    if found.count is not None:
        out.print(f"  {'count':12} {found.count}")
    if found.net_weight_g is not None:
        out.print(f"  {'net weight':12} {found.net_weight_g} g")
    if found.elements:
        table = Table("AI", "title", "data", "meaning", box=None, pad_edge=False)
        for e in found.elements:
            table.add_row(f"({e.ai})", e.title, barcodes.show(e.value)[1:-1], e.meaning)
        out.print(table)
    return 0


def describe(found: barcodes.Barcode) -> str:
    if found.kind == "gtin":
        return f"product barcode, GTIN {found.value}"
    if found.kind == "gs1":
        what = f"GTIN {found.gtin}" if found.gtin else "no GTIN"
        return f"GS1 element string ({what})"
    if found.kind == "sscc":
        return f"shipping container code, SSCC {found.value}"
    return f"site {found.kind} barcode: {found.kind} {found.value}"


def _device_file(args: argparse.Namespace) -> config.DeviceFile:
    try:
        return config.load(config.config_path(args.devices))
    except config.DeviceConfigError as exc:
        raise CommandError(str(exc)) from None


def _station_devices(args: argparse.Namespace) -> config.StationDevices:
    """The devices of ``--station`` in the device file, or a command error saying why not."""
    try:
        return _device_file(args).station(args.station)
    except config.DeviceConfigError as exc:
        raise CommandError(str(exc)) from None


def cmd_devices_check(args: argparse.Namespace) -> int:
    device_file = _device_file(args)
    try:
        stations = (
            [device_file.station(args.station)]
            if args.station
            else [device_file.stations[c] for c in sorted(device_file.stations)]
        )
    except config.DeviceConfigError as exc:
        raise CommandError(str(exc)) from None
    results = [r for station in stations for r in wiring.check(station)]
    failed = any(r.failed for r in results)
    if args.json:
        devices = [
            {"station": r.station, "device": r.device, "state": r.state, "detail": r.detail}
            for r in results
        ]
        sys.stdout.write(json.dumps({"ok": not failed, "devices": devices}) + "\n")
    else:
        marks = {"ok": "[green]ok  [/]", "fail": "[red]FAIL[/]", "unverified": "[yellow]??  [/]"}
        for r in results:
            out.print(f"{marks[r.state]} {r.station} {r.device}: ", end="")
            out.print(r.detail, markup=False, highlight=False)
        if not results:
            out.print("No devices are configured for that station.")
        elif any(r.state == "unverified" for r in results):
            out.print("?? = could not be tried from here; the detail says how to try it.")
    return 1 if failed else 0


def _actor(args: argparse.Namespace, engine: StoreEngine) -> Actor:
    station_id = None
    if args.station:
        with UnitOfWork(engine, read_only=True) as uow:
            station_id = rows.station_id(uow.session, args.station)
        if station_id is None:
            raise CommandError(f"there is no station {args.station!r}", 1)
    who = caller(args)
    return Actor(name=who.actor.name, user_id=who.user_id, station_id=station_id)


def cmd_print_person(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    actor = _actor(args, engine)
    try:
        if args.print_command == "retry":
            printqueue.retry(engine, args.job, actor, args.reason)
            out.print(f"Print job {args.job} is queued again.")
        elif args.print_command == "cancel":
            printqueue.cancel(engine, args.job, actor, args.reason)
            out.print(f"Print job {args.job} is cancelled.")
        else:
            new = printqueue.reprint(engine, args.job, actor, args.reason)
            out.print(f"Print job {args.job} is queued again as job {new}.")
    except printqueue.PrintQueueError as exc:
        raise CommandError(str(exc), 1) from None
    return 0


def _job_json(job: rows.JobRow) -> dict[str, Any]:
    return {
        "id": job.id,
        "station": job.station,
        "printer": job.printer,
        "document": job.document,
        "title": job.title,
        "content_type": job.content_type,
        "bytes": job.size,
        "status": job.status.value,
        "attempts": job.attempts,
        "error": job.error,
        "receipt": job.receipt,
        "reference": job.reference,
        "reprint_of": job.reprint_of,
        "created_at": job.created_at.isoformat(),
        "created_by": job.created_by,
    }


def cmd_print_list(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    with UnitOfWork(engine, read_only=True) as uow:
        station_id = None
        if args.station:
            station_id = rows.station_id(uow.session, args.station)
            if station_id is None:
                raise CommandError(f"there is no station {args.station!r}", 1)
        statuses = [PrintJobStatus(s) for s in args.status or []]
        found = rows.jobs(uow.session, station_id=station_id, statuses=statuses, limit=args.limit)
    if args.json:
        sys.stdout.write(json.dumps({"jobs": [_job_json(j) for j in found]}) + "\n")
        return 0
    if not found:
        out.print("No print jobs.")
        return 0
    table = Table("job", "station", "printer", "title", "status", "tries", "why / receipt")
    for j in found:
        table.add_row(
            str(j.id),
            j.station,
            j.printer,
            j.title,
            j.status.value,
            str(j.attempts),
            j.error or j.receipt or "",
        )
    out.print(table)
    return 0


def cmd_print_show(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    with UnitOfWork(engine, read_only=True) as uow:
        job = rows.job(uow.session, args.job)
        if job is None:
            raise CommandError(f"there is no print job {args.job}", 1)
        history = rows.events(uow.session, args.job)
    if args.json:
        shown = _job_json(job)
        shown["history"] = [
            {
                "at": e.at.isoformat(),
                "event": e.event,
                "status": e.status.value,
                "actor": e.actor,
                "station": e.station,
                "detail": e.detail,
            }
            for e in history
        ]
        sys.stdout.write(json.dumps(shown) + "\n")
        return 0
    out.print(
        f"Print job {job.id}: {job.title} ({job.document}, {job.size:,} bytes "
        f"{job.content_type}) for {job.station}/{job.printer}: {job.status.value}",
        markup=False,
    )
    if job.error:
        out.print(f"  why: {job.error}", markup=False)
    for e in history:
        where = f" at {e.station}" if e.station else ""
        detail = f": {e.detail}" if e.detail else ""
        out.print(f"  {e.at:%Y-%m-%d %H:%M:%S} {e.event} by {e.actor}{where}{detail}", markup=False)
    return 0


def cmd_print_deliver(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    station = _station_devices(args)
    targets = wiring.targets(station)
    who = caller(args)
    actor = Actor(f"{who.actor.name} print-{args.station}"[:80], who.user_id)

    def said(job_id: int, status: PrintJobStatus, text: str) -> None:
        err.print(f"job {job_id}: {status.value}: {text}", markup=False, highlight=False)

    failures = 0
    unrecorded: list[printqueue.Unrecorded] = []
    while True:
        try:
            report = printqueue.deliver(
                engine, args.station, targets, actor, on_job=said, unrecorded=unrecorded
            )
        except printqueue.PrintQueueError as exc:
            raise CommandError(str(exc), 1) from None
        except Exception as exc:  # noqa: BLE001 - only a lost store is handled here
            reason = lost_connection(exc)
            if args.watch is None or reason is None:
                raise
            # Watching: a job being sent when the store went away stays `sending` (never
            # sent twice); its outcome, if the send ended, is written once it is back.
            err.print(
                f"lost the store ({reason}); trying again in {args.watch:g} s",
                markup=False,
                highlight=False,
            )
            time.sleep(args.watch)
            continue
        failures = len(report.failed) + len(report.unknown)
        if args.watch is None:
            break
        time.sleep(args.watch)
    return 1 if failures else 0


def cmd_print_test(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    station = _station_devices(args)
    cfg = station.printers.get(args.printer)
    if cfg is None:
        known = ", ".join(station.printers) or "none"
        raise CommandError(
            f"station {args.station} has no printer {args.printer!r} (its printers: {known})"
        )
    who = caller(args)
    now = utcnow()
    if cfg.language == "zpl":
        content = testpage.zpl_test_label(args.station, args.printer, now)
    else:
        content = testpage.pdf_test_page(args.station, args.printer, now)
    try:
        job = printqueue.submit(
            engine,
            station=args.station,
            printer=args.printer,
            document="test",
            title=f"Test page for {args.printer}",
            content=content,
            content_type=cfg.content_type,
            actor=who.actor,
        )
    except printqueue.PrintQueueError as exc:
        raise CommandError(str(exc), 1) from None
    out.print(
        f"Queued test job {job} for {args.station}/{args.printer}; "
        f"`shipfloor print deliver --station {args.station}` sends it."
    )
    return 0


def cmd_devices_simulate(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    prepare_simulator_folder(folder)
    try:
        scanner = ScannerSimulator(folder / "scanner")
        scale = ScaleSimulator(args.scale, link=str(folder / "scale"))
        printer = PrinterSimulator(port=args.printer_port, folder=folder / "printed")
    except (OSError, DeviceError) as exc:
        raise CommandError(f"cannot start the simulators: {exc}") from None
    stop = threading.Event()

    def terminate(*_args: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    threads = [
        threading.Thread(target=scale.serve_forever, daemon=True),
        threading.Thread(target=printer.serve_forever, daemon=True),
    ]
    for t in threads:
        t.start()
    if args.write_config:
        Path(args.write_config).write_text(
            simulator_config(args.station, folder, args.printer_port, args.scale), encoding="utf-8"
        )
    err.print(
        f"Simulating for {args.station}:\n"
        f"  serial scanner  {scanner.port}  (type a code and Enter here to scan it)\n"
        f"  {args.scale} scale      {folder / 'scale'}  (type 'w 1234' to put 1,234 g on it)\n"
        f"  ZPL printer     127.0.0.1:{printer.port}  (jobs land in {folder / 'printed'})\n"
        + (f"  device file     {args.write_config}\n" if args.write_config else "")
        + "Ctrl-C (or SIGTERM) stops them; they keep running when input ends.",
        markup=False,
    )
    try:
        for line in sys.stdin:
            text = line.rstrip("\r\n")
            if text.startswith("w ") and text[2:].strip().lstrip("-").isdigit():
                scale.set_weight(int(text[2:].strip()))
            elif text:
                scanner.scan(unescape(text))
        else:
            stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        scanner.close()
        scale.close()
        printer.close()
    return 0


def prepare_simulator_folder(folder: Path) -> None:
    """Where the simulated label printer keeps jobs and the document printer writes PDFs."""
    (folder / "printed").mkdir(parents=True, exist_ok=True)
    (folder / "documents").mkdir(parents=True, exist_ok=True)


def simulator_config(station: str, folder: Path, printer_port: int, scale_kind: str | None) -> str:
    """A device file for ``station`` pointing at the simulators in ``folder`` (no scale
    when ``scale_kind`` is None)."""
    root = folder.resolve()
    scale = (
        f'[stations.{station}.scale]\nkind = "{scale_kind}"\nport = "{root / "scale"}"\n\n'
        if scale_kind is not None
        else ""
    )
    return (
        f"# Written by `shipfloor devices simulate`: {station} on simulated devices.\n"
        f'[stations.{station}.scanners.hand]\nkind = "wedge"\n\n'
        f'[stations.{station}.scanners.serial]\nkind = "serial"\nport = "{root / "scanner"}"\n\n'
        f"{scale}"
        f'[stations.{station}.printers.label]\nkind = "tcp"\nhost = "127.0.0.1"\n'
        f'port = {printer_port}\nlanguage = "zpl"\n\n'
        f'[stations.{station}.printers.documents]\nkind = "folder"\n'
        f'folder = "{root / "documents"}"\nlanguage = "pdf"\n'
    )


def scan_feed(args: argparse.Namespace) -> ScanFeed:
    """The scanners `scan watch` listens to: the station's, or a plain keyboard wedge."""
    if not args.station:
        return ScanFeed.for_station(None)
    return ScanFeed.for_station(_station_devices(args))


def _no_device_file(args: argparse.Namespace) -> bool:
    """No device file is named (option or environment) and the default one is not there."""
    named = bool(args.devices or os.environ.get(config.ENV))
    return not named and not config.config_path(args.devices).exists()


@contextmanager
def demo_station_devices(
    devices_file: str | None, station: str, *, scale: bool = True
) -> Iterator[tuple[Path, bool]]:
    """The device file for the demo's station and whether it is simulated: the site's own
    file when it names the station (real scanners, scale and printers), else simulated
    devices for as long as the demo runs (with a simulated scale if ``scale``)."""
    path = config.config_path(devices_file)
    named = bool(devices_file or os.environ.get(config.ENV))
    # A file named on the command line or in the environment must be there; the default
    # one is optional.
    if (named or path.exists()) and station in config.load(path).stations:
        yield path, False
        return
    with demo_devices(station, scale=scale) as simulated:
        yield simulated, True


@contextmanager
def demo_devices(station: str = "PICK-01", *, scale: bool = True) -> Iterator[Path]:
    """Simulated devices for the demo station (a serial scanner, a scale unless told not
    to, a label printer on 127.0.0.1 and a documents folder) and a device file naming
    them, for as long as the demo runs."""
    with tempfile.TemporaryDirectory(prefix="shipfloor-demo-") as folder:
        root = Path(folder)
        prepare_simulator_folder(root)
        with (
            ScannerSimulator(root / "scanner"),
            ScaleSimulator("sics", link=str(root / "scale")),
            PrinterSimulator(port=0, folder=root / "printed") as printer,
        ):
            path = root / "devices.toml"
            text = simulator_config(station, root, printer.port, "sics" if scale else None)
            path.write_text(text, encoding="utf-8")
            yield path


def cmd_scan_watch(args: argparse.Namespace) -> int:
    """`shipfloor scan watch`: the scan log UI (the station UI's scanner capture, alone).
    With ``--station`` and no device file at all, the station's scanners are the simulated
    ones `shipfloor demo` runs it on, for as long as the watch runs."""
    from stations.scanwatch import run_scan_watch

    log = Path(args.log) if args.log else None
    if not (args.station and _no_device_file(args)):
        return run_scan_watch(scan_feed(args), log)
    with demo_devices(args.station) as simulated:
        err.print(
            f"No device file names {args.station}: watching it on simulated devices, as "
            "`shipfloor demo` runs it (the keyboard, and a serial scanner). Type a code "
            "and Enter to scan it.",
            markup=False,
            highlight=False,
        )
        devices = config.load(simulated).station(args.station)
        return run_scan_watch(ScanFeed.for_station(devices), log)
