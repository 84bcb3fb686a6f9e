"""`shipfloor orders`: import order files and cancel orders."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.access import Action
from app.actor import Actor
from app.cli.common import (
    CommandError,
    acting_options,
    caller,
    current_engine,
    err,
    out,
    print_json,
    progress,
)
from app.intake.importer import ImportSummary, import_file
from app.intake.parse import FileFormatError


def _print_import(summary: ImportSummary, path: Path) -> None:
    # Rejections quote customer data: print it as it is, never as Rich markup.
    for rejection in summary.rejected:
        err.print(f"{path.name}: {rejection}", markup=False, emoji=False)
    out.print(
        f"{path.name}: imported {summary.imported}, duplicates {summary.duplicates}, "
        f"held {summary.held}, rejected {len(summary.rejected)} "
        f"({summary.records} records in {summary.seconds:.1f} s, "
        f"{summary.orders_per_second:,.0f} orders/s)",
        markup=False,
        emoji=False,
    )


def cmd_orders_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"{path} is not a file")
    engine = current_engine(args)
    who = caller(args)
    actor = Actor(f"{who.actor.name} import:{path.name}"[:80], who.user_id)
    try:
        with progress(not args.json and err.is_terminal) as update:
            summary = import_file(engine, path, actor, lambda d, t: update("import", d, t))
    except FileFormatError as exc:
        raise CommandError(f"{path.name}: {exc}", 1) from None  # names the file once
    if args.json:
        print_json(
            {
                "file": str(path),
                "imported": summary.imported,
                "duplicates": summary.duplicates,
                "held": summary.held,
                "rejected": [
                    {
                        "line": r.line,
                        "external_id": r.external_id,
                        "field": r.field,
                        "reason": r.reason,
                    }
                    for r in summary.rejected
                ],
                "seconds": round(summary.seconds, 3),
            }
        )
    else:
        _print_import(summary, path)
        if summary.records == 0:
            err.print(f"{path.name} holds no orders; nothing was imported.")
    return 1 if summary.rejected else 0


def cmd_orders_cancel(args: argparse.Namespace) -> int:
    from app.orders.cancel import CancelRefused, cancel_order

    engine = current_engine(args)
    who = caller(args)
    try:
        done = cancel_order(engine, args.order, args.reason, who.actor)
    except CancelRefused as exc:
        raise CommandError(str(exc), 1) from None
    out.print(f"Cancelled {done.reference}: {done.released_units} reserved unit(s) back in stock.")
    for content in done.in_totes:
        out.print(
            f"  {content.quantity} x {content.sku} already picked into "
            f"{content.tote or 'a tote'} (pick list {content.pick_list_id}): the picker is told to "
            "put them on the exceptions shelf",
            markup=False,
        )
    return 0


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add this group's commands to the `shipfloor` parser."""
    orders_cmd = commands.add_parser("orders", parents=[common], help="order intake")
    orders_sub = orders_cmd.add_subparsers(
        dest="orders_command", required=True, metavar="import|cancel"
    )
    imp = orders_sub.add_parser(
        "import", parents=[common, acting_options()], help="import a JSON Lines or CSV file"
    )
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    imp.set_defaults(run=cmd_orders_import, action=Action.ORDERS_IMPORT)
    cancel = orders_sub.add_parser(
        "cancel", parents=[common, acting_options()], help="cancel an order not yet picked"
    )
    cancel.add_argument("order", metavar="ORDER", help="CHANNEL/EXTERNAL-ID")
    cancel.add_argument("--reason", required=True, help="why (kept with the order)")
    cancel.set_defaults(run=cmd_orders_cancel, action=Action.ORDERS_CANCEL)
