"""The `shipfloor label`, `document`, `package`, `manifest` and `shipping` commands."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.table import Table

from app.access import Action, Caller
from app.actor import Actor
from app.cli.common import (
    CommandError,
    acting_options,
    caller,
    current_engine,
    err,
    maybe_caller,
    out,
)
from app.hardware import config, printqueue
from app.loading import station as loadout
from app.shipping import labelcheck, labelspec, service
from app.shipping import settings as ship_settings
from app.shipping.service import ShippingError
from app.shipping.settings import ShippingSettingsError
from data.store import URL_ENV
from data.types import utcnow
from printing import documents, label


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    out_file = argparse.ArgumentParser(add_help=False)
    out_file.add_argument("-o", "--output", metavar="OUT", required=True, help="file to write")
    devices_file = argparse.ArgumentParser(add_help=False)
    devices_file.add_argument(
        "--devices",
        metavar="FILE",
        default=None,
        help=f"the station device file (default: ${config.ENV}, else {config.DEFAULT_FILE})",
    )

    label_cmd = commands.add_parser("label", parents=[common], help="shipping labels")
    label_sub = label_cmd.add_subparsers(
        dest="label_command", required=True, metavar="render|print"
    )
    render = label_sub.add_parser(
        "render", parents=[common, out_file], help="a shipping label as ZPL or PDF"
    )
    source = render.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-json", metavar="FILE", help="a label described in JSON")
    source.add_argument("--shipment", type=int, metavar="ID", help="a shipment's labels")
    render.add_argument("--package", type=int, metavar="N", help="only package N")
    render.add_argument("--format", choices=["zpl", "pdf"], required=True)
    render.add_argument("--dpi", type=int, choices=[203, 300], default=203, help="ZPL only")
    render.set_defaults(run=cmd_label_render)
    lprint = label_sub.add_parser(
        "print",
        parents=[common, devices_file, acting_options()],
        help="queue a shipment's labels for a printer",
    )
    lprint.add_argument("--shipment", type=int, metavar="ID", required=True)
    lprint.add_argument("--package", type=int, metavar="N", help="only package N")
    lprint.add_argument("--station", metavar="ID", required=True)
    lprint.add_argument("--printer", metavar="NAME", default="label")
    lprint.set_defaults(run=cmd_label_print, action=Action.LABEL_PRINT)

    doc_cmd = commands.add_parser("document", parents=[common], help="packing slips, invoices")
    doc_sub = doc_cmd.add_subparsers(dest="document_command", required=True, metavar="render|print")
    drender = doc_sub.add_parser(
        "render",
        parents=[common, out_file, acting_options()],
        help="write a PDF (an invoice is issued: its number is taken)",
    )
    drender.add_argument("kind", choices=["invoice", "slip"])
    drender.add_argument("--shipment", type=int, metavar="ID", required=True)
    drender.set_defaults(
        run=cmd_document_render,
        action=Action.DOCUMENT_RENDER,
        acts_when=lambda a: a.kind == "invoice",
    )
    dprint = doc_sub.add_parser(
        "print",
        parents=[common, devices_file, acting_options()],
        help="queue a document for a printer",
    )
    dprint.add_argument("kind", choices=["invoice", "slip"])
    dprint.add_argument("--shipment", type=int, metavar="ID", required=True)
    dprint.add_argument("--station", metavar="ID", required=True)
    dprint.add_argument("--printer", metavar="NAME", default="documents")
    dprint.set_defaults(run=cmd_document_print, action=Action.DOCUMENT_PRINT)

    pkg_cmd = commands.add_parser("package", parents=[common], help="a shipment's packages")
    pkg_sub = pkg_cmd.add_subparsers(
        dest="package_command", required=True, metavar="add|relabel|requests|list"
    )
    padd = pkg_sub.add_parser(
        "add", parents=[common, acting_options()], help="add a package (SSCC, tracking)"
    )
    padd.add_argument("--shipment", type=int, metavar="ID", required=True)
    padd.add_argument("--weight", type=int, metavar="GRAMS", help="default: the contents")
    padd.add_argument("--box", metavar="CODE")
    padd.add_argument("--json", action="store_true", help="print one JSON object")
    padd.set_defaults(run=cmd_package_add, action=Action.PACKAGE_ADD)
    prel = pkg_sub.add_parser(
        "relabel",
        parents=[common, acting_options()],
        help="void a package's label (its tracking number is dead) and give it a new one",
    )
    prel.add_argument("package", metavar="SCAN", help="its SSCC or tracking number")
    prel.add_argument("--reason", required=True, help="why: a damaged label, a wrong carrier…")
    prel.add_argument("--carrier", metavar="CODE", help="another carrier (default: the same)")
    prel.add_argument("--node", default="WH1", help="where the package is (default WH1)")
    prel.set_defaults(run=cmd_package_relabel, action=Action.PACKAGE_RELABEL)
    preq = pkg_sub.add_parser(
        "requests",
        parents=[common],
        help="shipments asked of carriers' APIs (pending: no answer came; check with the carrier)",
    )
    preq.add_argument("--status", choices=list(service.LABEL_REQUEST_STATUSES))
    preq.add_argument("--json", action="store_true", help="print one JSON object")
    preq.set_defaults(run=cmd_package_requests)
    plist = pkg_sub.add_parser("list", parents=[common], help="a shipment's packages")
    plist.add_argument("--shipment", type=int, metavar="ID", required=True)
    plist.add_argument("--json", action="store_true", help="print one JSON object")
    plist.set_defaults(run=cmd_package_list)

    man_cmd = commands.add_parser("manifest", parents=[common], help="carrier manifests")
    man_sub = man_cmd.add_subparsers(
        dest="manifest_command", required=True, metavar="close|render|print"
    )
    mclose = man_sub.add_parser(
        "close", parents=[common, out_file, acting_options()], help="close out a carrier's packages"
    )
    mclose.add_argument("--carrier", required=True)
    mclose.add_argument("--node", default="WH1")
    mclose.set_defaults(run=cmd_manifest_close, action=Action.MANIFEST_CLOSE)
    mrender = man_sub.add_parser("render", parents=[common, out_file], help="a manifest again")
    mrender.add_argument("manifest", type=int, metavar="ID")
    mrender.set_defaults(run=cmd_manifest_render)
    mprint = man_sub.add_parser(
        "print",
        parents=[common, devices_file, acting_options()],
        help="queue a closed manifest for a printer",
    )
    mprint.add_argument("manifest", type=int, metavar="ID")
    mprint.add_argument("--station", metavar="ID", required=True)
    mprint.add_argument("--printer", metavar="NAME", default="documents")
    mprint.set_defaults(run=cmd_manifest_print, action=Action.MANIFEST_PRINT)

    set_cmd = commands.add_parser("shipping", parents=[common], help="shipping settings")
    set_sub = set_cmd.add_subparsers(dest="shipping_command", required=True, metavar="settings")
    sset = set_sub.add_parser(
        "settings",
        parents=[common, acting_options()],
        help="show or change them (changing them is for an admin)",
    )
    sset.add_argument("--file", metavar="JSON", help="apply the settings in this JSON file")
    sset.set_defaults(
        run=cmd_shipping_settings,
        action=Action.SHIPPING_SETTINGS,
        acts_when=lambda a: a.file is not None,
    )


def _settings(args: argparse.Namespace) -> ship_settings.ShippingSettings:
    try:
        return ship_settings.load(current_engine(args))
    except ShippingSettingsError as exc:
        raise CommandError(f"the stored shipping settings are wrong: {exc}") from None


def _write(path: str, data: bytes) -> None:
    target = Path(path)
    try:
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
    except OSError as exc:
        raise CommandError(f"cannot write {target}: {exc.strerror}") from None
    err.print(f"Wrote {target} ({len(data):,} bytes).", markup=False)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path} is not UTF-8 text: save it as UTF-8 and try again", 1) from None


def _labels(args: argparse.Namespace, output: label.Output) -> list[label.ShippingLabel]:
    """The labels asked for, checked against the shipping settings and made printable by
    ``output``; what was changed is printed as warnings, a refusal exits 1."""
    if getattr(args, "from_json", None):
        path = Path(args.from_json)
        text = _read_text(path)
        try:
            specs = [(str(path), labelspec.parse(text, str(path)))]
        except labelspec.LabelSpecError as exc:
            raise CommandError(str(exc), 1) from None
        settings = _label_settings(args)
    else:
        engine = current_engine(args)
        settings = _settings(args)
        try:
            doc = service.shipment(engine, args.shipment)
            found = service.labels(doc, settings, args.package)
        except ShippingError as exc:
            raise CommandError(str(exc), 1) from None
        specs = [(f"shipment {args.shipment} package {one.package_number}", one) for one in found]
    checked = []
    for where, spec in specs:
        try:
            result = labelcheck.check(spec, settings, output)
        except labelcheck.LabelRefused as exc:
            raise CommandError(f"{where}: {exc}", exit_code=1) from None
        for note in result.notes:
            err.print(f"shipfloor: warning: {where}: {note}", markup=False, emoji=False)
        checked.append(result.label)
    return checked


def _label_settings(args: argparse.Namespace) -> ship_settings.ShippingSettings:
    """A label from JSON is checked against the store's shipping settings when a store is
    named (--db or $SHIPFLOOR_DATABASE_URL), else against the defaults."""
    if args.db is None and not os.environ.get(URL_ENV):
        return ship_settings.ShippingSettings()
    return _settings(args)


def _render(labels: list[label.ShippingLabel], fmt: str, dpi: int) -> bytes:
    try:
        if fmt == "zpl":
            return b"".join(label.to_zpl(one, dpi) for one in labels)
        if len(labels) > 1:
            raise CommandError(
                f"{len(labels)} labels: a PDF holds one; choose one with --package N, or render "
                "ZPL (one file, every label)",
                1,
            )
        return label.to_pdf(labels[0])
    except label.LabelError as exc:
        raise CommandError(str(exc), exit_code=1) from None


def cmd_label_render(args: argparse.Namespace) -> int:
    _write(args.output, _render(_labels(args, args.format), args.format, args.dpi))
    return 0


def _printer(args: argparse.Namespace) -> config.PrinterConfig:
    try:
        station = config.load(config.config_path(args.devices)).station(args.station)
    except config.DeviceConfigError as exc:
        raise CommandError(str(exc)) from None
    found = station.printers.get(args.printer)
    if found is None:
        known = ", ".join(station.printers) or "none"
        raise CommandError(
            f"station {args.station} has no printer {args.printer!r} (its printers: {known})"
        )
    return found


def _queue(
    args: argparse.Namespace,
    actor: Actor,
    document: str,
    title: str,
    content: bytes,
    content_type: str,
) -> int:
    try:
        return printqueue.submit(
            current_engine(args),
            station=args.station,
            printer=args.printer,
            document=document,
            title=title,
            content=content,
            content_type=content_type,
            actor=actor,
            reference=f"shipment {args.shipment}" if args.shipment else None,
        )
    except printqueue.PrintQueueError as exc:
        raise CommandError(str(exc), 1) from None


def cmd_label_print(args: argparse.Namespace) -> int:
    printer = _printer(args)
    output: label.Output = "pdf" if printer.language == "pdf" else "zpl"
    rendered = []
    theirs = service.carrier_labels(current_engine(args), args.shipment)
    for one in _labels(args, output):
        made = theirs.get(one.package_number)
        # A label a carrier's API made prints as it came (its tracking number is theirs).
        content = (
            made[1] if made and made[0] == output else _render([one], printer.language, printer.dpi)
        )
        title = f"Label {one.shipment_ref} package {one.package_number} of {one.package_count}"
        rendered.append((title, content))
    actor = caller(args).actor
    jobs = [
        _queue(args, actor, "label", title, content, printer.content_type)
        for title, content in rendered
    ]
    out.print(f"Queued print job(s) {', '.join(map(str, jobs))} for {args.station}/{args.printer}.")
    return 0


def _document(args: argparse.Namespace) -> tuple[str, bytes, Caller | None]:
    """The document's title and PDF, and who asked for it when that took something from the
    store (an invoice's number) or queues it."""
    engine = current_engine(args)
    settings = _settings(args)
    try:
        doc = service.shipment(engine, args.shipment)
    except (ShippingError, ValueError) as exc:
        raise CommandError(str(exc), 1) from None
    who = maybe_caller(args)
    try:
        today = utcnow().date()
        if args.kind == "invoice":
            assert who is not None
            number, pdf = service.issue_invoice(engine, settings, args.shipment, who.actor, today)
            return f"Invoice {number}", pdf, who
        return (
            f"Packing slip {service.shipment_ref(doc.shipment_id)}",
            documents.packing_slip_pdf(service.packing_slip(doc, settings, today)),
            who,
        )
    except (ShippingError, ValueError) as exc:
        raise CommandError(str(exc), 1) from None


def cmd_document_render(args: argparse.Namespace) -> int:
    _, data, _ = _document(args)
    _write(args.output, data)
    return 0


def cmd_document_print(args: argparse.Namespace) -> int:
    printer = _printer(args)
    if printer.language != "pdf":
        raise CommandError(
            f"printer {args.printer!r} of {args.station} takes {printer.language}; packing "
            "slips and invoices are PDF: choose a PDF printer with --printer",
            1,
        )
    title, data, who = _document(args)
    assert who is not None
    job = _queue(
        args,
        who.actor,
        "invoice" if args.kind == "invoice" else "packing_slip",
        title,
        data,
        printer.content_type,
    )
    out.print(f"Queued print job {job}: {title} for {args.station}/{args.printer}.")
    return 0


def _package_json(p: Any) -> dict[str, Any]:
    return {
        "number": p.number,
        "sscc": p.sscc,
        "carrier": p.carrier,
        "tracking_number": p.tracking_number,
        "weight_g": p.weight_g,
        "box": p.box,
        "manifest": p.manifest_id,
    }


def cmd_package_add(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    who = caller(args)
    try:
        package = service.add_package(
            engine,
            _settings(args),
            args.shipment,
            who.actor,
            weight_g=args.weight,
            box=args.box,
        )
    except ShippingError as exc:
        raise CommandError(str(exc), 1) from None
    if args.json:
        sys.stdout.write(json.dumps(_package_json(package)) + "\n")
    else:
        out.print(
            f"Package {package.number} of shipment {args.shipment}: SSCC {package.sscc}, "
            f"{package.carrier} tracking {package.tracking_number}, {package.weight_g:,} g."
        )
    return 0


def cmd_package_relabel(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    who = caller(args)
    try:
        done = loadout.relabel(
            engine,
            _settings(args),
            args.node,
            args.package,
            args.reason,
            who.actor,
            carrier=args.carrier,
        )
    except loadout.ShipError as exc:
        raise CommandError(str(exc), 1) from None
    out.print(
        f"Package {done.sscc} ({done.order_ref}): label {done.old} voided, new {done.carrier} "
        f"label {done.new}. Print it with `shipfloor label print --shipment "
        f"{done.shipment_id} --package {done.number} --station ID` and put it over the old one."
    )
    return 0


def cmd_package_requests(args: argparse.Namespace) -> int:
    try:
        found = service.label_requests(current_engine(args), args.status)
    except ShippingError as exc:
        raise CommandError(str(exc), 1) from None
    if args.json:
        listed = [
            {
                "shipment": r.shipment_id,
                "box": r.box_number,
                "carrier": r.carrier,
                "key": r.key,
                "status": r.status,
                "tracking_number": r.tracking_number,
                "detail": r.detail,
                "asked_at": r.created_at.isoformat(),
            }
            for r in found
        ]
        sys.stdout.write(json.dumps({"requests": listed}) + "\n")
        return 0
    if not found:
        out.print("No label requests" + (f" are {args.status}." if args.status else "."))
        return 0
    table = Table("shipment", "box", "carrier", "key", "status", "tracking", "asked at")
    for r in found:
        table.add_row(
            str(r.shipment_id),
            str(r.box_number),
            r.carrier,
            r.key,
            r.status,
            r.tracking_number or "",
            r.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    out.print(table)
    return 0


def cmd_package_list(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    try:
        doc = service.shipment(engine, args.shipment)
    except ShippingError as exc:
        raise CommandError(str(exc), 1) from None
    if args.json:
        sys.stdout.write(json.dumps({"packages": [_package_json(p) for p in doc.packages]}) + "\n")
        return 0
    table = Table("package", "SSCC", "carrier", "tracking", "weight g", "manifest")
    for p in doc.packages:
        table.add_row(
            f"{p.number} of {len(doc.packages)}",
            p.sscc,
            p.carrier,
            p.tracking_number,
            f"{p.weight_g:,}" if p.weight_g is not None else "",
            str(p.manifest_id or ""),
        )
    out.print(table if doc.packages else f"Shipment {args.shipment} has no packages.")
    return 0


def _manifest(args: argparse.Namespace, make: Callable[[], documents.Manifest]) -> int:
    try:
        manifest = make()
    except ShippingError as exc:
        raise CommandError(str(exc), 1) from None
    try:
        _write(args.output, documents.manifest_pdf(manifest))
    except CommandError as exc:
        number = manifest.number.removeprefix("M-")
        raise CommandError(
            f"manifest {manifest.number} is closed, but {exc}; write it again with "
            f"`shipfloor manifest render {number} -o FILE`"
        ) from None
    out.print(
        f"Manifest {manifest.number}: {len(manifest.packages)} {manifest.carrier} package(s)."
    )
    return 0


def cmd_manifest_close(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    settings = _settings(args)
    who = caller(args)

    def close() -> documents.Manifest:
        try:
            return loadout.close_manifest(engine, settings, args.node, args.carrier, who.actor)[1]
        except loadout.ShipError as exc:
            raise ShippingError(str(exc)) from None

    return _manifest(args, close)


def cmd_manifest_render(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    settings = _settings(args)
    return _manifest(args, lambda: service.manifest_document(engine, settings, args.manifest))


def cmd_manifest_print(args: argparse.Namespace) -> int:
    printer = _printer(args)
    if printer.language != "pdf":
        raise CommandError(
            f"printer {args.printer!r} of {args.station} takes {printer.language}; a manifest "
            "is PDF: choose a PDF printer with --printer",
            1,
        )
    engine = current_engine(args)
    try:
        manifest = service.manifest_document(engine, _settings(args), args.manifest)
    except ShippingError as exc:
        raise CommandError(str(exc), 1) from None
    who = caller(args)
    args.shipment = None
    job = _queue(
        args,
        who.actor,
        "manifest",
        f"Manifest {manifest.number}",
        documents.manifest_pdf(manifest),
        printer.content_type,
    )
    out.print(
        f"Queued print job {job}: manifest {manifest.number} for {args.station}/{args.printer}."
    )
    return 0


def cmd_shipping_settings(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    if args.file:
        path = Path(args.file)
        try:
            changes = json.loads(_read_text(path))
        except json.JSONDecodeError as exc:
            raise CommandError(f"{path} is not JSON: {exc}", 1) from None
        who = caller(args)
        try:
            current = ship_settings.save(engine, changes, who.actor)
        except ShippingSettingsError as exc:
            raise CommandError(f"{path}: {exc}", 1) from None
    else:
        current = _settings(args)
    sys.stdout.write(json.dumps(current.to_dict(), indent=2, ensure_ascii=False) + "\n")
    return 0


def bench_labels(args: argparse.Namespace) -> dict[str, float]:
    from app.shipping import bench

    del args
    return bench.run()
