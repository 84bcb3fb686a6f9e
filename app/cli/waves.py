"""The `shipfloor layout`, `wave` and `picklist` commands."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.table import Table

from app.access import Action
from app.cli.common import CommandError, acting_options, caller, current_engine, out, print_json
from app.walks import site as layouts
from app.walks.layout import path_length
from app.waves import planning as waves
from app.waves import settings as wave_settings
from data import waves as rows
from data.models import WaveStatus
from data.store import StoreEngine
from data.types import utcnow
from data.uow import UnitOfWork


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    """Register the commands on the `shipfloor` parser."""
    layout_cmd = commands.add_parser("layout", parents=[common], help="warehouse layouts")
    layout_sub = layout_cmd.add_subparsers(
        dest="layout_command", required=True, metavar="load|show"
    )
    load = layout_sub.add_parser(
        "load",
        parents=[common, acting_options()],
        help="load a layout file: its geometry and locations",
    )
    load.add_argument("file", metavar="FILE")
    load.set_defaults(run=cmd_layout_load, action=Action.LAYOUT_LOAD)
    show = layout_sub.add_parser("show", parents=[common], help="a node's layout")
    show.add_argument("--node", metavar="CODE", required=True)
    show.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    show.set_defaults(run=cmd_layout_show)

    wave_cmd = commands.add_parser("wave", parents=[common], help="plan and release waves")
    wave_sub = wave_cmd.add_subparsers(
        dest="wave_command", required=True, metavar="plan|release|list|show|settings"
    )
    plan = wave_sub.add_parser(
        "plan", parents=[common, acting_options()], help="propose waves from a node's routed orders"
    )
    plan.add_argument("--node", metavar="CODE", default="WH1", help="the node (default WH1)")
    plan.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    plan.set_defaults(run=cmd_wave_plan, action=Action.WAVE_PLAN)
    rel = wave_sub.add_parser(
        "release",
        parents=[common, acting_options()],
        help="create a wave's pick lists (idempotent)",
    )
    rel.add_argument("wave", metavar="WAVE", type=int)
    rel.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    rel.set_defaults(run=cmd_wave_release, action=Action.WAVE_RELEASE)
    lst = wave_sub.add_parser("list", parents=[common], help="waves and their state")
    lst.add_argument("--node", metavar="CODE")
    lst.add_argument("--status", choices=[str(s) for s in WaveStatus], action="append")
    lst.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    lst.set_defaults(run=cmd_wave_list)
    wshow = wave_sub.add_parser("show", parents=[common], help="a wave and its pick lists")
    wshow.add_argument("wave", metavar="WAVE", type=int)
    wshow.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    wshow.set_defaults(run=cmd_wave_show)
    wset = wave_sub.add_parser(
        "settings",
        parents=[common, acting_options()],
        help="show or change the site's wave settings (changing them is for an admin)",
    )
    wset.add_argument(
        "--file", metavar="JSON", help="settings to change (fields left out stay as they are)"
    )
    wset.set_defaults(
        run=cmd_wave_settings, action=Action.WAVE_SETTINGS, acts_when=lambda a: a.file is not None
    )

    pl_cmd = commands.add_parser("picklist", parents=[common], help="pick lists")
    pl_sub = pl_cmd.add_subparsers(dest="picklist_command", required=True, metavar="show|take-back")
    pshow = pl_sub.add_parser(
        "show", parents=[common], help="a pick list's tasks in route order, and its walk"
    )
    pshow.add_argument("pick_list", metavar="ID", type=int)
    pshow.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    pshow.set_defaults(run=cmd_picklist_show)
    back = pl_sub.add_parser(
        "take-back",
        parents=[common, acting_options()],
        help="a supervisor takes a claimed or paused list back",
    )
    back.add_argument("pick_list", metavar="ID", type=int)
    back.set_defaults(run=cmd_picklist_take_back, action=Action.PICKLIST_TAKE_BACK)


def _settings(engine: StoreEngine) -> wave_settings.WaveSettings:
    try:
        return wave_settings.load(engine)
    except wave_settings.WaveSettingsError as exc:
        raise CommandError(
            f"the stored wave settings are not usable ({exc}); fix them with "
            "`shipfloor wave settings --file FILE`"
        ) from None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _metres(value: float | None) -> str:
    return "unknown" if value is None else f"{value:,.0f} m"


# --- layout -------------------------------------------------------------------------------


def cmd_layout_load(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    who = caller(args)
    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None
    try:
        layout = layouts.parse(text, where=str(path))
    except layouts.LayoutFileError as exc:
        raise CommandError(str(exc), 1) from None
    location_rows = list(layout.location_rows())
    with UnitOfWork(engine) as uow:
        node = rows.node(uow.session, layout.node)
        if node is None:
            known = ", ".join(rows.node_codes(uow.session)) or "none"
            raise CommandError(f"{path}: node {layout.node!r} does not exist; nodes: {known}", 1)
        created = rows.upsert_locations(uow.session, node.id, location_rows)
        rows.put_layout(uow.session, node.id, layout.to_json(), actor=who.actor.name, at=utcnow())
        off = [
            loc.code
            for loc in rows.locations(uow.session, node.id)
            # Staging and dock places (the problem shelf by the pack benches) are not
            # picked from: only storage off the aisles is worth a word.
            if loc.kind.value not in ("staging", "dock") and layout.spot(loc.x_mm, loc.y_mm) is None
        ]
        uow.commit()
    out.print(
        f"Loaded {path} for {layout.node}: {len(layout.blocks)} block(s), "
        f"{len(layout.aisle_x_m)} aisles, {len(location_rows):,} locations "
        f"({created:,} new, {len(location_rows) - created:,} placed anew)."
    )
    if off:
        out.print(
            f"{len(off)} other location(s) of {layout.node} lie off its aisles and cannot be "
            f"picked by route: {', '.join(off[:10])}{' …' if len(off) > 10 else ''}"
        )
    return 0


def cmd_layout_show(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    with UnitOfWork(engine, read_only=True) as uow:
        node = rows.node(uow.session, args.node)
        if node is None:
            raise CommandError(f"there is no node {args.node!r}", 1)
        text = rows.layout_spec(uow.session, node.id)
    if text is None:
        raise CommandError(
            f"{args.node} has no layout; load one with `shipfloor layout load FILE`", 1
        )
    if args.json:
        print_json(json.loads(text))
        return 0
    try:
        layout = layouts.parse(text, where=f"{args.node}'s stored layout")
    except layouts.LayoutFileError as exc:
        raise CommandError(
            f"{exc}; load a corrected file with `shipfloor layout load FILE`"
        ) from None
    geometry = layout.layout
    out.print(f"[bold]{layout.node}[/bold] layout")
    out.print(f"  depot         ({layout.depot_m[0]:g}, {layout.depot_m[1]:g}) m")
    out.print(
        f"  aisles        {geometry.aisles} at x = "
        f"{', '.join(f'{x:g}' for x in layout.aisle_x_m)} m"
    )
    out.print(
        f"  cross aisles  {len(layout.cross_aisles_y_m)} at y = "
        f"{', '.join(f'{y:g}' for y in layout.cross_aisles_y_m)} m"
    )
    for b, block in enumerate(layout.blocks):
        last = block.first_cell_y_m + (block.cells_per_side - 1) * layout.cell_m
        out.print(
            f"  block {b + 1}       zone {block.zone}: {block.cells_per_side} cells per side, "
            f"y {block.first_cell_y_m:g}–{last:g} m, {layout.levels} levels"
        )
    return 0


# --- waves --------------------------------------------------------------------------------


def _wave_figures(w: rows.WaveRow | waves.WavePlanRow) -> dict[str, Any]:
    """What a wave holds and takes, as `wave plan` and `wave list` print it."""
    return {
        "carrier": w.carrier,
        "service": w.service,
        "cutoff_at": _iso(w.cutoff_at),
        "priority": w.priority,
        "zone": w.zone,
        "orders": w.orders,
        "lines": w.lines,
        "units": w.units,
        "pick_lists": w.pick_lists,
        "est_distance_m": w.est_distance_m,
        "est_seconds": w.est_seconds,
    }


def _pick_list_figures(p: rows.PickListRow | waves.ReleasedPickList) -> dict[str, Any]:
    """A pick list's size, walk and time, as `wave release` and `wave show` print them."""
    return {
        "zone": p.zone,
        "totes": p.totes,
        "lines": p.lines,
        "units": p.units,
        "distance_m": p.distance_m,
        "est_seconds": p.est_seconds,
        "oversize": p.oversize,
    }


def _plan_json(plan: waves.WavePlan) -> dict[str, Any]:
    return {
        "node": plan.node,
        "has_layout": plan.has_layout,
        "waves": [
            {
                "id": w.id,
                **_wave_figures(w),
            }
            for w in plan.waves
        ],
        "unpickable": plan.unpickable,
    }


def cmd_wave_plan(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    who = caller(args)
    try:
        plan = waves.plan(engine, args.node, _settings(engine), who.actor)
    except waves.WaveError as exc:
        raise CommandError(str(exc), 1) from None
    if args.json:
        print_json(_plan_json(plan))
        return 0
    if not plan.waves:
        out.print(f"{plan.node} has no routed work waiting for a wave.")
    else:
        table = Table(title=f"Proposed waves for {plan.node}")
        for heading in (
            "wave",
            "carrier",
            "cut-off (UTC)",
            "prio",
            "zone",
            "orders",
            "lines",
            "units",
            "lists",
            "distance",
            "time",
        ):
            table.add_column(
                heading,
                justify="right"
                if heading
                in {"orders", "lines", "units", "lists", "distance", "time", "wave", "prio"}
                else "left",
            )
        for w in plan.waves:
            table.add_row(
                str(w.id),
                f"{w.carrier} {w.service}",
                f"{w.cutoff_at:%a %H:%M}" if w.cutoff_at else "-",
                str(w.priority),
                w.zone or "mixed",
                f"{w.orders:,}",
                f"{w.lines:,}",
                f"{w.units:,}",
                f"{w.pick_lists:,}",
                _metres(w.est_distance_m),
                _minutes(w.est_seconds),
            )
        out.print(table)
        out.print("Release one with `shipfloor wave release WAVE`.")
    if not plan.has_layout:
        out.print(
            f"{plan.node} has no layout: pick lists follow location codes and distances are "
            "unknown (`shipfloor layout load FILE`)."
        )
    if plan.unpickable:
        out.print(f"{len(plan.unpickable)} order(s) cannot be picked now:")
        for ref, reason in list(plan.unpickable.items())[:20]:
            out.print(f"  {ref}: {reason}", markup=False)
    return 0


def cmd_wave_release(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    who = caller(args)
    try:
        result = waves.release(engine, args.wave, _settings(engine), who.actor)
    except waves.WaveError as exc:
        raise CommandError(str(exc), 1) from None
    if args.json:
        print_json(
            {
                "wave": result.wave_id,
                "node": result.node,
                "already_released": result.already_released,
                "orders": result.orders,
                "pick_lists": [
                    {
                        "id": p.id,
                        "seq": p.seq,
                        **_pick_list_figures(p),
                    }
                    for p in result.pick_lists
                ],
                "dropped": result.dropped,
            }
        )
        return 0
    if not result.pick_lists and not result.already_released:
        out.print(
            f"Wave {result.wave_id} at {result.node} had nothing left to pick; it is cancelled."
        )
        for ref, reason in result.dropped.items():
            out.print(f"  {ref}: {reason}", markup=False)
        return 1
    verb = "was already released" if result.already_released else "released"
    distance = [p.distance_m for p in result.pick_lists if p.distance_m is not None]
    out.print(
        f"Wave {result.wave_id} at {result.node} {verb}: {result.orders:,} orders on "
        f"{len(result.pick_lists):,} pick lists"
        + (f", {sum(distance):,.0f} m of walking." if distance else ".")
    )
    oversize = [p for p in result.pick_lists if p.oversize]
    if oversize:
        out.print(
            f"{len(oversize)} order(s) are bigger than a cart and have a pick list each: "
            + ", ".join(str(p.id) for p in oversize)
        )
    for ref, reason in result.dropped.items():
        out.print(f"  left out {ref}: {reason}", markup=False)
    out.print("Each pick list's route: `shipfloor picklist show ID`.")
    return 0


def _wave_json(w: rows.WaveRow) -> dict[str, Any]:
    return {
        "id": w.id,
        "node": w.node_code,
        "status": str(w.status),
        **_wave_figures(w),
        "created_at": _iso(w.created_at),
        "released_at": _iso(w.released_at),
        "released_by": w.released_by,
    }


def cmd_wave_list(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    statuses = [WaveStatus(s) for s in args.status] if args.status else None
    try:
        found = waves.waves(engine, args.node, statuses)
    except waves.WaveError as exc:
        raise CommandError(str(exc), 1) from None
    if args.json:
        print_json({"waves": [_wave_json(w) for w in found]})
        return 0
    if not found:
        out.print("No waves; propose some with `shipfloor wave plan --node CODE`.")
        return 0
    table = Table(title="Waves")
    for heading in (
        "wave",
        "node",
        "status",
        "carrier",
        "cut-off (UTC)",
        "orders",
        "lists",
        "distance",
    ):
        table.add_column(heading)
    for w in found:
        table.add_row(
            str(w.id),
            w.node_code,
            str(w.status),
            f"{w.carrier} {w.service}",
            f"{w.cutoff_at:%a %H:%M}" if w.cutoff_at else "-",
            f"{w.orders:,}",
            f"{w.pick_lists:,}",
            _metres(w.est_distance_m),
        )
    out.print(table)
    return 0


def cmd_wave_show(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    try:
        wave, lists = waves.wave_pick_lists(engine, args.wave)
    except waves.WaveError as exc:
        raise CommandError(str(exc), 1) from None
    if args.json:
        print_json(
            {
                **_wave_json(wave),
                "pick_list_rows": [
                    {
                        "id": p.id,
                        "seq": p.seq,
                        "status": str(p.status),
                        **_pick_list_figures(p),
                    }
                    for p in lists
                ],
            }
        )
        return 0
    out.print(
        f"[bold]Wave {wave.id}[/bold] at {wave.node_code}: {wave.status}, {wave.carrier} "
        f"{wave.service}, {wave.orders:,} orders, {wave.units:,} units, "
        f"{_metres(wave.est_distance_m)}, {_minutes(wave.est_seconds)}"
    )
    if not lists:
        out.print("No pick lists yet: `shipfloor wave release WAVE` creates them.")
        return 0
    table = Table()
    for heading in ("pick list", "status", "zone", "totes", "lines", "units", "distance", "time"):
        table.add_column(heading)
    for p in lists:
        table.add_row(
            str(p.id),
            str(p.status),
            p.zone or "mixed",
            str(p.totes),
            str(p.lines),
            str(p.units),
            _metres(p.distance_m),
            _minutes(p.est_seconds),
        )
    out.print(table)
    return 0


def cmd_wave_settings(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    current = _settings(engine)
    if args.file:
        path = Path(args.file)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        except json.JSONDecodeError as exc:
            raise CommandError(
                f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})", 1
            ) from None
        if not isinstance(raw, dict):
            raise CommandError(f"{path}: expected a JSON object of wave settings", 1)
        try:
            current = wave_settings.from_dict(raw, current)
        except wave_settings.WaveSettingsError as exc:
            raise CommandError(f"{path}: {exc}", 1) from None
        who = caller(args)
        wave_settings.save(engine, current, who.actor)
    print_json(current.to_dict())
    return 0


# --- pick lists ---------------------------------------------------------------------------


def cmd_picklist_show(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    try:
        view = waves.pick_list(engine, args.pick_list)
    except waves.WaveError as exc:
        raise CommandError(str(exc), 1) from None
    p = view.header
    if args.json:
        print_json(
            {
                "id": p.id,
                "barcode": f"LIST-{p.id}",
                "wave": p.wave_id,
                "node": p.node_code,
                "status": str(p.status),
                "zone": p.zone,
                "totes": p.totes,
                "routing": p.routing,
                "distance_m": p.distance_m,
                "est_seconds": p.est_seconds,
                "route": [t.location_code for t in view.tasks],
                "path": [list(point) for point in view.path],
                "tasks": [
                    {
                        "seq": t.seq,
                        "location": t.location_code,
                        "sku": t.sku,
                        "lot": t.lot,
                        "quantity": t.quantity,
                        "picked": t.picked,
                        "status": str(t.status),
                        "tote_slot": t.tote_slot,
                        "order": t.order_ref,
                    }
                    for t in view.tasks
                ],
            }
        )
        return 0
    out.print(
        f"[bold]Pick list {p.id}[/bold] (wave {p.wave_id}, {p.node_code}): {p.status}, "
        f"{p.totes} totes, {p.units} units, route by {p.routing}: {_metres(p.distance_m)}, "
        f"about {_minutes(p.est_seconds)}. A picker claims it by scanning LIST-{p.id}."
    )
    table = Table()
    for heading in ("#", "location", "sku", "lot", "qty", "tote", "order", "status"):
        table.add_column(heading)
    for t in view.tasks:
        table.add_row(
            str(t.seq),
            t.location_code,
            t.sku,
            t.lot or "-",
            str(t.quantity),
            str(t.tote_slot),
            t.order_ref,
            str(t.status),
        )
    out.print(table)
    if view.path:
        walked = path_length(view.path)
        out.print(
            f"Walk ({walked:,.1f} m, depot to depot): "
            + " → ".join(f"({x:g}, {y:g})" for x, y in view.path),
            markup=False,
        )
    return 0


# --- benchmark ----------------------------------------------------------------------------


@contextmanager
def _stdout_to_stderr(enabled: bool) -> Iterator[None]:
    """Send anything written to file descriptor 1 to stderr meanwhile: the solver library
    (HiGHS) can print progress lines from C, which would spoil a --json report."""
    if not enabled:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def bench_picking(args: argparse.Namespace, progress: Any) -> int:
    """`shipfloor bench picking`: print the report as JSON, or as tables."""
    from app.waves import bench

    with _stdout_to_stderr(args.json):
        report = bench.run(lists=args.lists, wave_orders=args.wave_orders, progress=progress)
    if args.json:
        print_json(report)
        return 0
    routing = report["routing"]
    assert isinstance(routing, dict)
    for layout_name, by_size in routing.items():
        table = Table(title=f"Routing, {layout_name.replace('_', ' ')}: gap to the optimum")
        table.add_column("picks", justify="right")
        policies = list(next(iter(by_size.values())))
        for policy in policies:
            table.add_column(f"{policy} mean/max %", justify="right")
        table.add_column("ours ms", justify="right")
        for size, results in by_size.items():
            table.add_row(
                size,
                *(
                    f"{results[p]['mean_gap_pct']:.2f} / {results[p]['max_gap_pct']:.2f}"
                    for p in policies
                ),
                f"{results['ours']['ms_per_route']:.3f}",
            )
        out.print(table)
    batching = report["batching"]
    assert isinstance(batching, dict)
    table = Table(title="Batching: metres walked")
    for heading in (
        "instance",
        "single order",
        "FCFS",
        "Clarke–Wright",
        "local search",
        "local search vs C–W",
    ):
        table.add_column(heading, justify="left" if heading == "instance" else "right")
    for name, m in batching.items():
        table.add_row(
            name,
            f"{m['single_order']:,.0f}",
            f"{m['fcfs']:,.0f}",
            f"{m['clarke_wright']:,.0f}",
            f"{m['local_search']:,.0f}",
            f"{(m['local_search'] / m['clarke_wright'] - 1):+.2%}",
        )
    out.print(table)
    wave = report["wave"]
    assert isinstance(wave, dict)
    out.print(
        f"Wave: {wave['orders']:,} orders planned and released in {wave['seconds']:.2f} s "
        f"(plan {wave['plan_seconds']:.2f} s, release {wave['release_seconds']:.2f} s, "
        f"{wave['pick_lists']:,} pick lists)"
    )
    return 0


def cmd_picklist_take_back(args: argparse.Namespace) -> int:
    from app.picking import station

    engine = current_engine(args)
    who = caller(args)
    try:
        station.take_back(engine, who.actor, args.pick_list)
    except station.StationError as exc:
        raise CommandError(str(exc), 1) from None
    out.print(
        f"Pick list {args.pick_list} is released again; its picker's screen says so within "
        "seconds, and anyone can claim it."
    )
    return 0
