"""`shipfloor inventory`: available to promise and the stock ledger's reconciliation."""

from __future__ import annotations

import argparse
from typing import Any

from rich.table import Table
from rich.text import Text

from app.cli.common import (
    CommandError,
    current_engine,
    out,
    print_json,
)
from app.inventory import UnknownNode, UnknownSKU, available, reconcile


def cmd_inventory_available(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    try:
        result = available(engine, args.sku, args.node)
    except (UnknownSKU, UnknownNode) as exc:
        raise CommandError(str(exc), 1) from None
    if args.json:
        print_json(result.as_dict())
        return 0
    table = Table(title=f"Available to promise: {result.sku}")
    for heading in ("node", "kind", "on hand", "reserved", "safety", "ATP"):
        table.add_column(heading, justify="left" if heading in ("node", "kind") else "right")
    for n in result.nodes:
        table.add_row(
            n.node_code,
            str(n.node_kind),
            str(n.on_hand),
            str(n.reserved),
            str(n.safety_stock),
            str(n.atp),
        )
    table.add_section()
    table.add_row(
        "network",
        "",
        str(result.network_on_hand),
        str(result.network_reserved),
        "",
        str(result.network_atp),
    )
    out.print(table)
    return 0


def cmd_inventory_reconcile(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    drifts = reconcile(engine)
    if args.json:
        print_json(
            {
                "in_step": not drifts,
                "drifts": [
                    {
                        "check": d.check,
                        "node": d.node_code,
                        "sku": d.sku,
                        "location": d.location,
                        "lot": d.lot,
                        "kept": d.kept,
                        "from_history": d.from_history,
                    }
                    for d in drifts
                ],
            }
        )
        return 1 if drifts else 0
    if not drifts:
        out.print(
            "Stock is in step: reservations match the ledger, node totals match "
            "their locations, and every location matches its movements."
        )
        return 0
    table = Table(title=f"{len(drifts)} disagreements between stock and its history")
    for heading in ("check", "node", "SKU", "location", "lot", "kept", "history says"):
        table.add_column(
            heading, justify="right" if heading in ("kept", "history says") else "left"
        )
    for d in drifts:
        cells = (d.check, d.node_code, d.sku, d.location, d.lot, str(d.kept), str(d.from_history))
        table.add_row(*(Text(cell) for cell in cells))  # codes are data, never markup
    out.print(table)
    return 1


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add this group's commands to the `shipfloor` parser."""
    inv_cmd = commands.add_parser("inventory", parents=[common], help="stock and availability")
    inv_sub = inv_cmd.add_subparsers(
        dest="inventory_command", required=True, metavar="available|reconcile"
    )
    avail = inv_sub.add_parser("available", parents=[common], help="available to promise")
    avail.add_argument("sku", metavar="SKU")
    avail.add_argument("--node", metavar="CODE", help="one node only")
    avail.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    avail.set_defaults(run=cmd_inventory_available)
    recon = inv_sub.add_parser(
        "reconcile", parents=[common], help="check stock totals against their history"
    )
    recon.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    recon.set_defaults(run=cmd_inventory_reconcile)
