"""`shipfloor pack`: the packaging suggestion for an order and the box catalogue it uses
(files in, no store, nobody needs to say who they are); the problem shelf and the pack
settings of the site's store."""

from __future__ import annotations

import argparse
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.table import Table

from app.access import Action
from app.cli.common import (
    CommandError,
    acting_options,
    caller,
    current_engine,
    json_object_file,
    out,
    print_json,
)
from app.packing import station as pack
from app.packing.cartonize import CartonizeError, PackedBox, Suggestion, suggest
from app.packing.files import (
    DEFAULT_CATALOGUE,
    Catalogue,
    PackFileError,
    catalogue_json,
    read_catalogue,
    read_items,
    read_rules,
)


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add this group's commands to the `shipfloor` parser."""
    boxes = argparse.ArgumentParser(add_help=False)
    boxes.add_argument(
        "--boxes",
        metavar="FILE",
        default=None,
        help="the box, material and carrier catalogue as JSON (default: the built-in one)",
    )
    pack_cmd = commands.add_parser(
        "pack", parents=[common], help="packaging suggestions: boxes, materials, placements"
    )
    pack_sub = pack_cmd.add_subparsers(
        dest="pack_command",
        required=True,
        metavar="suggest|catalogue|load-catalogue|rules|problems|clear|settings",
    )
    suggest_cmd = pack_sub.add_parser(
        "suggest",
        parents=[common, boxes],
        help="the boxes, materials and item placements for an order",
    )
    suggest_cmd.add_argument(
        "--items",
        metavar="FILE",
        required=True,
        help="the order's items as JSON: sizes in mm, weights in g (see the Packing page)",
    )
    suggest_cmd.add_argument(
        "--carrier",
        metavar="CODE",
        default=None,
        help="the carrier whose rates count (default: the catalogue's first)",
    )
    suggest_cmd.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    suggest_cmd.set_defaults(run=cmd_suggest)
    catalogue_cmd = pack_sub.add_parser(
        "catalogue",
        parents=[common, boxes],
        help="the boxes, materials and carrier rates suggestions are made from",
    )
    catalogue_cmd.add_argument(
        "--json",
        action="store_true",
        help="print it as a catalogue file (a start for a site's own)",
    )
    catalogue_cmd.set_defaults(run=cmd_catalogue)
    load_cmd = pack_sub.add_parser(
        "load-catalogue",
        parents=[common, acting_options()],
        help="make a catalogue file's boxes and materials the ones the pack benches use",
    )
    load_cmd.add_argument("file", metavar="FILE", help="a catalogue file (as --boxes takes)")
    load_cmd.set_defaults(run=cmd_load_catalogue, action=Action.PACK_LOAD_CATALOGUE)
    rules_cmd = pack_sub.add_parser(
        "rules",
        parents=[common, acting_options()],
        help="set products' packing rules (fragile, upright, liquid, …) from a file",
    )
    rules_cmd.add_argument("file", metavar="FILE", help="a list of {sku, fragile, …} as JSON")
    rules_cmd.set_defaults(run=cmd_rules, action=Action.PACK_RULES)
    problems_cmd = pack_sub.add_parser(
        "problems", parents=[common], help="orders a pack bench sent to the problem shelf"
    )
    problems_cmd.add_argument("--node", metavar="CODE", default="WH1", help="the node (WH1)")
    problems_cmd.add_argument("--json", action="store_true", help="print one JSON object")
    problems_cmd.set_defaults(run=cmd_problems)
    clear_cmd = pack_sub.add_parser(
        "clear",
        parents=[common, acting_options()],
        help="an order on the problem shelf was dealt with: its totes may be packed again",
    )
    clear_cmd.add_argument("order", metavar="ORDER", help="the order, CHANNEL/EXTERNAL-ID")
    clear_cmd.add_argument("--node", metavar="CODE", default="WH1", help="the node (WH1)")
    clear_cmd.add_argument(
        "--note", default="", help="what was done (found the unit, line cancelled, …)"
    )
    clear_cmd.set_defaults(run=cmd_clear, action=Action.PACK_CLEAR)
    settings_cmd = pack_sub.add_parser(
        "settings",
        parents=[common, acting_options()],
        help="the weight tolerance and the problem shelf; changing them is for an admin",
    )
    settings_cmd.add_argument("--file", metavar="JSON", help="apply the settings in this file")
    settings_cmd.set_defaults(
        run=cmd_settings,
        action=Action.PACK_SETTINGS,
        acts_when=lambda a: a.file is not None,
    )


def cmd_load_catalogue(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    try:
        found = read_catalogue(Path(args.file))
        added, changed = pack.load_catalogue(engine, found.boxes, found.materials)
    except (PackFileError, pack.PackError) as exc:
        raise CommandError(str(exc), 1) from None
    out.print(
        f"The pack benches now offer {len(found.boxes)} box(es) ({added} new, {changed} "
        f"changed) and {len(found.materials)} material(s); boxes not in the file are no "
        "longer offered. Carrier rates are the shipping settings' "
        "(`shipfloor shipping settings --file FILE`).",
        markup=False,
    )
    return 0


def cmd_rules(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    try:
        changed = pack.set_packing_rules(engine, read_rules(Path(args.file)))
    except (PackFileError, pack.PackError) as exc:
        raise CommandError(str(exc), 1) from None
    out.print(f"Packing rules set for {changed} product(s).", markup=False)
    return 0


def cmd_problems(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    try:
        found = pack.problems(engine, pack.node_id(engine, args.node))
    except pack.PackError as exc:
        raise CommandError(str(exc), 1) from None
    if args.json:
        print_json(
            {
                "problems": [
                    {
                        "order": p.order_ref,
                        "tote": p.tote,
                        "problem": p.problem,
                        "shelf": p.shelf,
                        "since": p.since.isoformat() if p.since else None,
                    }
                    for p in found
                ]
            }
        )
        return 0
    if not found:
        out.print(f"The problem shelf at {args.node} is empty.")
        return 0
    table = Table("order", "tote", "shelf", "problem")
    for p in found:
        table.add_row(p.order_ref, p.tote or "", p.shelf or "", p.problem)
    out.print(table)
    return 0


def cmd_clear(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    who = caller(args)
    try:
        said = pack.clear_problem(
            engine, who.actor, pack.node_id(engine, args.node), args.order, args.note
        )
    except pack.PackError as exc:
        raise CommandError(str(exc), 1) from None
    out.print(said[0].upper() + said[1:] + ".", markup=False)
    return 0


def cmd_settings(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    try:
        if args.file:
            changes = json_object_file(args.file)
            current = pack.save_settings(engine, changes, caller(args).actor)
        else:
            current = pack.load_settings(engine)
    except pack.PackError as exc:
        raise CommandError(str(exc), 1) from None
    print_json(current.to_dict())
    return 0


def _catalogue(args: argparse.Namespace) -> Catalogue:
    if args.boxes is None:
        return DEFAULT_CATALOGUE
    return read_catalogue(Path(args.boxes))


def cmd_suggest(args: argparse.Namespace) -> int:
    try:
        items = read_items(Path(args.items))
        catalogue = _catalogue(args)
        rate = catalogue.rate(args.carrier)
        found = suggest(items, catalogue.boxes, catalogue.materials, rate)
    except (PackFileError, CartonizeError) as exc:
        raise CommandError(str(exc), 1) from None
    if args.json:
        print_json(suggestion_json(found))
        return 0
    _show(found)
    return 0


def _number(amount: Decimal) -> float:
    """Money as a JSON number: cents, which a float's shortest form keeps exactly."""
    return float(amount)


def package_json(packed: PackedBox) -> dict[str, Any]:
    return {
        "box": packed.box.code if packed.box else None,
        "name": packed.box.name if packed.box else "own container",
        "cost": _number(packed.cost),
        "box_cost": _number(packed.box_cost),
        "materials_cost": _number(packed.materials_cost),
        "carrier_charge": _number(packed.carrier_charge),
        "billable_kg": packed.billable_kg,
        "gross_weight_g": packed.gross_weight,
        "items": [
            {"sku": p.sku, "x": p.x, "y": p.y, "z": p.z, "dx": p.dx, "dy": p.dy, "dz": p.dz}
            for p in packed.placements
        ],
        "materials": [
            {
                "code": m.code,
                "name": m.name,
                "quantity": m.quantity,
                "cost": _number(m.cost),
                "reason": m.reason,
            }
            for m in packed.materials
        ],
        "reason": packed.reason,
    }


def suggestion_json(found: Suggestion) -> dict[str, Any]:
    """The suggestion as `pack suggest --json` prints it."""
    return {
        "carrier": found.carrier,
        "boxes": [package_json(packed) for packed in found.boxes],
        "total_cost": _number(found.total_cost),
    }


def _show(found: Suggestion) -> None:
    count = len(found.boxes)
    for n, packed in enumerate(found.boxes, 1):
        what = packed.box.code if packed.box else "its own container"
        out.print(
            f"Package {n} of {count}: {what}, {packed.gross_weight:,} g, cost {packed.cost:.2f}",
            markup=False,
            style="bold",
        )
        out.print(packed.reason, markup=False)
        table = Table("#", "sku", "at x, y, z mm", "size mm", title=None)
        for k, p in enumerate(packed.placements, 1):
            table.add_row(str(k), p.sku, f"{p.x}, {p.y}, {p.z}", f"{p.dx}×{p.dy}×{p.dz}")
        out.print(table)
        if packed.materials:
            used = ", ".join(f"{m.quantity} × {m.name} ({m.cost:.2f})" for m in packed.materials)
            out.print(f"Materials: {used}", markup=False)
        out.print()
    out.print(f"Total {found.total_cost:.2f} with {found.carrier}", markup=False, style="bold")


def cmd_catalogue(args: argparse.Namespace) -> int:
    try:
        catalogue = _catalogue(args)
    except PackFileError as exc:
        raise CommandError(str(exc), 1) from None
    if args.json:
        print_json(catalogue_json(catalogue))
        return 0
    boxes = Table(
        "code",
        "name",
        "inside mm",
        "outside mm",
        "tare g",
        "max g",
        "cost",
        "carriers",
        title="Boxes",
    )
    for b in catalogue.boxes:
        carriers = ", ".join(sorted(b.carriers)) or "any"
        if b.hazmat_ok:
            carriers += " (dangerous goods)"
        boxes.add_row(
            b.code,
            b.name,
            f"{b.inner_length}×{b.inner_width}×{b.inner_height}",
            f"{b.outer_length}×{b.outer_width}×{b.outer_height}",
            f"{b.tare:,}",
            f"{b.max_weight:,}",
            str(b.cost),
            carriers,
        )
    out.print(boxes)
    materials = Table("code", "name", "kind", "unit cost", "g per unit", title="Materials")
    for m in catalogue.materials:
        materials.add_row(m.code, m.name, m.kind, str(m.unit_cost), str(m.weight_per_unit))
    out.print(materials)
    rates = Table("carrier", "dim divisor", "base", "per kg", "max g", title="Carriers")
    for r in catalogue.rates:
        limit = f"{r.max_weight:,}" if r.max_weight is not None else "-"
        rates.add_row(r.carrier, str(r.dim_divisor), str(r.base), str(r.per_kg), limit)
    out.print(rates)
    return 0
