"""The `shipfloor` command: the composition root that wires the store, the core and the UI."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from app import demo
from app.actor import Actor
from app.intake.importer import ImportSummary, import_file
from app.intake.parse import FileFormatError
from app.inventory import UnknownNode, UnknownSKU, available, reconcile
from data.demo import SCALES
from data.migrate import (
    MigrationRefused,
    current_revision,
    head_revision,
    schema_differences,
    upgrade,
)
from data.store import (
    StoreEngine,
    StoreUnavailable,
    StoreURLError,
    make_engine,
    ping,
    resolve_url,
    sqlite_path,
)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class CommandError(Exception):
    """A problem the person running the command can fix; printed without a traceback."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# ------------------------------------------------------------------ helpers


def _print_json(value: object) -> None:
    """One JSON object on stdout and nothing else, for scripts."""
    sys.stdout.write(json.dumps(value, separators=(",", ":")) + "\n")


def _engine(args: argparse.Namespace, *, create: bool = False) -> StoreEngine:
    """The store's engine, once it is known to be reachable.

    Only commands that build a store (`db upgrade`, `demo`) may create an SQLite file;
    the others refuse a path where there is none rather than leave an empty file behind.
    """
    try:
        url = resolve_url(args.db)
    except StoreURLError as exc:
        raise CommandError(str(exc)) from None
    path = sqlite_path(url)
    if path is not None:
        if not path.parent.exists():
            raise CommandError(
                f"{path.parent} does not exist; create the folder or choose another --db"
            )
        if not create and not path.exists():
            raise CommandError(
                f"there is no store at {path}; create it with `shipfloor db upgrade` "
                "(or `shipfloor demo`), or point --db at an existing one"
            )
    engine = make_engine(url)
    try:
        ping(engine)
    except StoreUnavailable as exc:
        raise CommandError(str(exc)) from None
    return engine


def _require_current(engine: StoreEngine) -> None:
    """Refuse to work on a store whose schema is older or newer than this program."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        where = engine.url.render_as_string(hide_password=True)
        if current is None:
            raise CommandError(f"the store at {where} is empty; run `shipfloor db upgrade` first")
        raise CommandError(
            f"the store at {where} is at schema {current}, this program needs {head}; "
            "run `shipfloor db upgrade`"
        )


def _current_engine(args: argparse.Namespace) -> StoreEngine:
    """The store's engine, reachable and at this program's schema."""
    engine = _engine(args)
    _require_current(engine)
    return engine


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar on stderr (stdout stays clean for --json); a no-op when disabled."""
    if not enabled:
        yield lambda _stage, _done, _total: None
        return
    bar = Progress(
        TextColumn("{task.description:<8}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )
    tasks: dict[str, object] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)  # type: ignore[arg-type]

    with bar:
        yield update


# ------------------------------------------------------------------ commands


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    engine = _engine(args, create=True)
    before = current_revision(engine)
    try:
        upgrade(engine)
    except MigrationRefused as exc:
        raise CommandError(f"the store stays at {before}: {exc}") from None
    after = current_revision(engine)
    where = engine.url.render_as_string(hide_password=True)
    if before == after:
        out.print(f"{where} is already at the newest schema ({after}).")
    else:
        out.print(f"{where} migrated from {before or 'empty'} to {after}.")
    return 0


def cmd_db_check(args: argparse.Namespace) -> int:
    engine = _current_engine(args)
    differences = schema_differences(engine)
    if differences:
        for diff in differences:
            err.print(f"differs from the models: {diff}")
        raise CommandError("the store's schema and the models disagree; write a migration", 1)
    out.print(f"schema {current_revision(engine)} matches the models.")
    return 0


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
    engine = _current_engine(args)
    actor = Actor.system(f"import:{path.name}")
    try:
        with _progress(not args.json and err.is_terminal) as update:
            summary = import_file(engine, path, actor, lambda d, t: update("import", d, t))
    except FileFormatError as exc:
        raise CommandError(f"{path.name}: {exc}", 1) from None  # names the file once
    if args.json:
        _print_json(
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


def cmd_inventory_available(args: argparse.Namespace) -> int:
    engine = _current_engine(args)
    try:
        result = available(engine, args.sku, args.node)
    except (UnknownSKU, UnknownNode) as exc:
        raise CommandError(str(exc), 1) from None
    if args.json:
        _print_json(result.as_dict())
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
    engine = _current_engine(args)
    drifts = reconcile(engine)
    if args.json:
        _print_json(
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


def cmd_route(args: argparse.Namespace) -> int:
    from app.dom import settings as dom_settings
    from app.dom.routing import backlog_bid_prices, route_backlog

    engine = _current_engine(args)
    try:
        settings = dom_settings.load(engine)
    except dom_settings.SettingsError as exc:
        raise CommandError(f"{exc}; fix them with `shipfloor route settings`") from None
    if args.batch:
        bids = backlog_bid_prices(engine, settings)
        dom_settings.store_bid_prices(engine, bids, Actor.system("dom"))
        bid_note = f" with {len(bids)} bid prices from the backlog LP (kept for an hour)"
    else:
        bids, computed = dom_settings.current_bid_prices(engine)
        if bids:
            bid_note = f" with {len(bids)} bid prices from {computed:%H:%M} UTC"
        elif computed is not None:
            bid_note = " without bid prices (the last are over an hour old: run --batch)"
        else:
            bid_note = " without bid prices (none computed yet: run --batch)"
    with _progress(not args.json and err.is_terminal) as update:
        summary = route_backlog(
            engine,
            Actor.system("dom"),
            settings,
            limit=args.limit,
            bid_prices=bids,
            progress=lambda done, total: update("route", done, total),
        )
    if args.json:
        _print_json(
            {
                "routed": summary.routed,
                "held": summary.held,
                "skipped": summary.skipped,
                "bid_prices": len(bids),
                "orders": [
                    {
                        "order": r.reference,
                        "outcome": str(r.outcome),
                        "rule": r.rule,
                        "summary": r.summary,
                    }
                    for r in summary.results
                ],
            }
        )
        return 0
    for result in summary.results:
        if result.outcome != "routed":
            err.print(result.summary, markup=False, emoji=False)
    out.print(
        f"routed {summary.routed}, held {summary.held}, taken by another router "
        f"{summary.skipped}{bid_note}.",
        markup=False,
    )
    return 0


def cmd_route_reject(args: argparse.Namespace) -> int:
    from app.dom.explain import OrderNotFoundError, find_order
    from app.dom.reroute import REJECTION_REASONS
    from app.dom.routing import NotRoutable
    from app.dom.service import give_back
    from app.dom.settings import load as load_settings

    engine = _current_engine(args)
    if args.reason not in REJECTION_REASONS:
        raise CommandError(
            f"unknown reason {args.reason!r}; use one of: {', '.join(sorted(REJECTION_REASONS))}"
        )
    try:
        order_id = find_order(engine, args.order)
        result = give_back(
            engine,
            order_id,
            args.line,
            args.node,
            args.reason,
            Actor.system("dom"),
            load_settings(engine),
            quantity=args.quantity,
        )
    except (OrderNotFoundError, NotRoutable, ValueError) as exc:
        raise CommandError(str(exc), 1) from None
    out.print(result.summary, markup=False, emoji=False)
    return 0 if result.outcome == "routed" else 1


def cmd_route_settings(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from app.dom import settings as dom
    from app.dom.costs import LinearShippingCost

    engine = _current_engine(args)
    try:
        current = dom.load(engine)
        changed = current
        if args.ranking:
            changed = replace(changed, ranking=dom.parse_ranking(args.ranking))
        if args.unfilled_penalty is not None:
            if args.unfilled_penalty <= 0:
                raise dom.SettingsError("the unfilled penalty must be positive")
            changed = replace(changed, unfilled_penalty=args.unfilled_penalty)
        if args.rate_table:
            path = Path(args.rate_table)
            if not path.is_file():
                raise dom.SettingsError(f"{path} is not a file")
            changed = replace(changed, cost=dom.parse_rate_table(path.read_text()))
        if args.linear:
            try:
                per_package, per_unit, per_mile = (float(v) for v in args.linear.split(","))
            except ValueError:
                raise dom.SettingsError(
                    f"--linear {args.linear!r}: give PER_PACKAGE,PER_UNIT,PER_MILE"
                ) from None
            changed = replace(changed, cost=LinearShippingCost(per_package, per_unit, per_mile))
        limits: dict[str, int | None] = {}
        for item in args.channel or []:
            code, _, value = item.partition("=")
            if not value or not (value == "any" or value.isdigit()):
                raise dom.SettingsError(f"--channel {item!r}: give CODE=N or CODE=any")
            limits[code] = None if value == "any" else int(value)
        if changed != current or limits:
            policies = dom.save(engine, changed, Actor.system("settings"), limits)
        else:
            policies = dom.split_policies(engine)
    except dom.SettingsError as exc:
        raise CommandError(str(exc), 1) from None
    out.print(dom.to_json(changed), markup=False)
    out.print(
        "split policy: "
        + ", ".join(
            f"{c}={'any' if n is None else n}" for c, n in sorted(policies.by_channel.items())
        ),
        markup=False,
    )
    return 0


def cmd_route_areas(args: argparse.Namespace) -> int:
    from app.dom.areas import AreaFileError, import_areas

    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"{path} is not a file")
    engine = _current_engine(args)
    try:
        result = import_areas(engine, path.read_text(encoding="utf-8"))
    except (AreaFileError, UnicodeDecodeError) as exc:
        raise CommandError(f"{path.name}: {exc}; nothing was stored", 1) from None
    out.print(f"{path.name}: {result.rows} areas read, {result.added} new.", markup=False)
    return 0


def cmd_orders_cancel(args: argparse.Namespace) -> int:
    from app.orders.cancel import CancelRefused, cancel_order

    engine = _current_engine(args)
    actor = Actor(name=args.user) if args.user else Actor.system("orders-cancel")
    try:
        done = cancel_order(engine, args.order, args.reason, actor)
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


def cmd_route_explain(args: argparse.Namespace) -> int:
    from app.dom.explain import OrderNotFoundError, explain

    engine = _current_engine(args)
    try:
        text = explain(engine, args.order)
    except OrderNotFoundError as exc:
        raise CommandError(str(exc), 1) from None
    out.print(text, markup=False, emoji=False, highlight=False)
    return 0


def cmd_demo_seed(args: argparse.Namespace) -> int:
    engine = _engine(args, create=True)
    upgrade(engine)
    try:
        with _progress(err.is_terminal) as update:
            report = demo.seed(engine, args.scale, args.seed, update)
    except demo.StoreNotEmpty as exc:
        raise CommandError(str(exc), 1) from None
    orders = report.orders
    out.print(
        f"Seeded the {report.scale} demo site (seed {report.seed}) in {report.seconds:.1f} s: "
        f"{orders.imported + orders.held} orders ({orders.held} held), "
        f"{orders.orders_per_second:,.0f} orders/s through intake."
    )
    return 0


def cmd_scan_watch(args: argparse.Namespace) -> int:
    """`shipfloor scan watch`: the scan log UI (the station UI's scanner capture, alone)."""
    from app.hardware.commands import scan_feed

    feed = scan_feed(args)
    from stations.scanwatch import run_scan_watch

    return run_scan_watch(feed, Path(args.log) if args.log else None)


STATION_ROLES = ("pick", "pack", "ship", "returns", "supervisor")
BUILT_ROLES = ("pick", "supervisor")


def cmd_station(args: argparse.Namespace) -> int:
    """`shipfloor station ROLE --station ID`: the station UI."""
    if args.role not in BUILT_ROLES:
        built = " and ".join(f"`shipfloor station {r} --station ID`" for r in BUILT_ROLES)
        raise CommandError(f"the {args.role} station is not built yet; {built} are")
    engine = _current_engine(args)
    return _run_station(engine, args.role, args.station, args.devices)


def _run_station(engine: StoreEngine, role: str, station: str, devices_file: str | None) -> int:
    from app.hardware import config
    from app.scanning import ScanFeed
    from app.terminal import StationSettingsError, Terminal

    path = config.config_path(devices_file)
    devices = None
    if path.exists():
        try:
            loaded = config.load(path)
        except config.DeviceConfigError as exc:
            raise CommandError(str(exc)) from None
        devices = loaded.stations.get(station)
    try:
        terminal = Terminal(engine, station, role)
    except StationSettingsError as exc:
        raise CommandError(f"the stored station settings are wrong: {exc}") from None
    feed = ScanFeed.for_station(devices)
    from stations.app import run_station

    return run_station(terminal, feed, dict(devices.keymap) if devices else {})


def cmd_station_settings(args: argparse.Namespace) -> int:
    """Show or change how stations behave (idle log-out, typed quantities)."""
    from app.terminal import StationSettingsError, load_settings, save_settings

    engine = _current_engine(args)
    try:
        if args.file:
            try:
                changes = json.loads(Path(args.file).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise CommandError(f"cannot read {args.file} as UTF-8 JSON: {exc}") from None
            if not isinstance(changes, dict):
                raise CommandError(f"{args.file}: expected a JSON object")
            current = save_settings(engine, changes, Actor.system("station-settings"))
        else:
            current = load_settings(engine)
    except StationSettingsError as exc:
        raise CommandError(str(exc)) from None
    _print_json(
        {
            "idle_logout_minutes": current.idle_logout_minutes,
            "typed_quantity": current.typed_quantity,
        }
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    engine = _engine(args, create=True)
    try:
        upgrade(engine)
    except MigrationRefused as exc:
        raise CommandError(f"the store cannot be upgraded: {exc}") from None
    if demo.unfinished_seed(engine):
        where = engine.url.render_as_string(hide_password=True)
        raise CommandError(
            f"a demo seed into {where} did not finish (the site is there, its orders are "
            "not); delete that store (or choose another --db) and run `shipfloor demo` again"
        )
    if demo.is_empty(engine):
        with _progress(err.is_terminal) as update:
            report = demo.seed(engine, "small", 1, update)
            released = demo.release_demo_work(engine, update)
        out.print(
            f"Seeded the small demo site in {report.seconds:.1f} s and released "
            f"{released} pick list(s) at the warehouse to pick."
        )
    _print_site(engine)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        out.print(
            "\nNot a terminal, so the station UI is not started: run "
            "`shipfloor station pick --station PICK-01` in one (log in as U1001, PIN 1111)."
        )
        return 0
    from app.hardware.commands import demo_station_devices
    from app.hardware.config import DeviceConfigError

    try:
        with demo_station_devices(args.devices, "PICK-01") as (devices_file, simulated):
            if simulated:
                out.print("No devices are configured for PICK-01: using simulated ones.")
            else:
                out.print(f"Using the devices of PICK-01 in {devices_file}.")
            return _run_station(engine, "pick", "PICK-01", str(devices_file))
    except DeviceConfigError as exc:
        raise CommandError(str(exc)) from None


def _print_site(engine: StoreEngine) -> None:
    site = demo.site_summary(engine)
    where = engine.url.render_as_string(hide_password=True)
    out.print(f"[bold]Shipfloor site[/bold] in {where}")
    nodes = ", ".join(
        f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in sorted(site.nodes.items())
    )
    out.print(f"  network   {nodes}")
    out.print(
        f"  warehouse {site.locations:,} locations, {site.stock_rows:,} stock rows, "
        f"{site.units_on_hand:,} units on hand"
    )
    out.print(f"  catalog   {site.products:,} products, {site.boxes} box sizes")
    out.print(f"  people    {site.users} users, {site.stations} stations")
    statuses = ", ".join(f"{k} {v:,}" for k, v in sorted(site.orders_by_status.items()))
    channels = ", ".join(f"{k} {v:,}" for k, v in sorted(site.orders_by_channel.items()))
    out.print(f"  orders    {statuses or 'none'}")
    out.print(f"  channels  {channels or 'none'}")


def cmd_bench(args: argparse.Namespace) -> int:
    if args.name == "picking":
        from app.picking.commands import bench_picking

        with _progress(not args.json and err.is_terminal) as update:
            return bench_picking(args, update)
    if args.name == "scan":
        from app.picking import bench_scan

        with _progress(not args.json and err.is_terminal) as update:
            scan_report = bench_scan.run(args.postgresql, orders=args.scan_orders, progress=update)
        if args.json:
            _print_json(scan_report)
            return 0
        table = Table(
            "store", "scan p50 ms", "scan p99 ms", "commit p50 ms", "commit p99 ms", "picks"
        )
        for store_name, figures in scan_report.items():
            if "skipped" in figures:
                table.add_row(store_name, figures["skipped"], "", "", "", "")
                continue
            table.add_row(
                store_name,
                f"{figures['scan_ms_p50']:.2f}",
                f"{figures['scan_ms_p99']:.2f}",
                f"{figures['bare_commit_ms_p50']:.2f}",
                f"{figures['bare_commit_ms_p99']:.2f}",
                str(figures["picks"]),
            )
        out.print(table)
        return 0
    if args.name == "labels":
        from app.shipping.commands import bench_labels

        figures = bench_labels(args)
        if args.json:
            _print_json(figures)
        else:
            table = Table("document", "median ms", title="Rendering labels and documents")
            for name, ms in figures.items():
                table.add_row(name.removesuffix("_ms").replace("_", " "), f"{ms:.3f}")
            out.print(table)
        return 0
    if args.name != "dom":
        raise CommandError(f"unknown benchmark {args.name!r}; available: dom, labels, picking")
    from app.dom import bench

    with _progress(not args.json and err.is_terminal) as update:
        report = bench.run(
            instances=args.instances,
            sequences=args.sequences,
            horizon=args.orders,
            progress=update,
        )
    if args.json:
        _print_json(report)
        return 0
    table = Table(
        title=f"DOM: {args.instances} instances × {args.sequences} sequences × "
        f"{args.orders:,} orders"
    )
    for heading in (
        "policy",
        "cost ÷ DLP",
        "split rate",
        "packages/order",
        "unit fill",
        "p50 ms",
        "p95 ms",
    ):
        table.add_column(heading, justify="left" if heading == "policy" else "right")
    policies = report["policies"]
    assert isinstance(policies, dict)
    for name, v in policies.items():
        table.add_row(
            name,
            f"{v['cost_ratio']:.4f}",
            f"{v['split_rate']:.1%}",
            f"{v['packages_per_order']:.3f}",
            f"{v['unit_fill']:.2%}",
            f"{v['latency_ms_p50']:.2f}",
            f"{v['latency_ms_p95']:.2f}",
        )
    out.print(table)
    large = report["large_network"]
    assert isinstance(large, dict)
    out.print(
        f"{large['nodes']} nodes, {large['lines_per_order']}-line orders: decision "
        f"p50 {large['latency_ms_p50']:.1f} ms, p95 {large['latency_ms_p95']:.1f} ms"
    )
    return 0


# ------------------------------------------------------------------ parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not 1 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command line; names are stable (DESIGN.md): docs and checks rely on them."""
    db_help = (
        "the store: sqlite:///PATH or postgresql://USER@HOST/DB "
        "(default: $SHIPFLOOR_DATABASE_URL, else sqlite:///shipfloor.db)"
    )
    # --db is accepted before or after the command; SUPPRESS keeps a subcommand's absent
    # --db from overwriting one given earlier.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="URL", default=argparse.SUPPRESS, help=db_help)
    parser = argparse.ArgumentParser(
        prog="shipfloor", description="Warehouse floor: pick, pack and ship stations with DOM."
    )
    parser.add_argument("--db", metavar="URL", default=None, help=db_help)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    station_cmd = commands.add_parser(
        "station", parents=[common], help="the station UI: pick (pack, ship, … come later)"
    )
    station_cmd.add_argument(
        "role", choices=STATION_ROLES, metavar="ROLE", help=", ".join(STATION_ROLES)
    )
    station_cmd.add_argument("--station", metavar="ID", required=True, help="this PC's station")
    station_cmd.add_argument(
        "--devices", metavar="FILE", default=None, help="the device file (scanners, keymap)"
    )
    station_cmd.set_defaults(run=cmd_station)
    sset_cmd = commands.add_parser(
        "station-settings", parents=[common], help="how stations behave (idle log-out, …)"
    )
    sset_cmd.add_argument("--file", metavar="JSON", help="apply the settings in this JSON file")
    sset_cmd.set_defaults(run=cmd_station_settings)

    demo_cmd = commands.add_parser(
        "demo", parents=[common], help="seed a demo site if the store is empty, then start"
    )
    demo_cmd.add_argument(
        "--devices",
        metavar="FILE",
        default=None,
        help="the device file; its PICK-01 devices are used (else simulated ones)",
    )
    demo_cmd.set_defaults(run=cmd_demo)
    demo_sub = demo_cmd.add_subparsers(dest="demo_command", metavar="seed")
    seed_cmd = demo_sub.add_parser("seed", parents=[common], help="build deterministic demo data")
    seed_cmd.add_argument("--scale", choices=list(SCALES), default="small")
    seed_cmd.add_argument("--seed", type=int, default=1)
    seed_cmd.set_defaults(run=cmd_demo_seed)

    db_cmd = commands.add_parser("db", parents=[common], help="the store's schema")
    db_sub = db_cmd.add_subparsers(dest="db_command", required=True, metavar="upgrade|check")
    db_sub.add_parser(
        "upgrade", parents=[common], help="migrate to the newest schema"
    ).set_defaults(run=cmd_db_upgrade)
    db_sub.add_parser(
        "check", parents=[common], help="compare the schema with the models"
    ).set_defaults(run=cmd_db_check)

    orders_cmd = commands.add_parser("orders", parents=[common], help="order intake")
    orders_sub = orders_cmd.add_subparsers(
        dest="orders_command", required=True, metavar="import|cancel"
    )
    imp = orders_sub.add_parser("import", parents=[common], help="import a JSON Lines or CSV file")
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    imp.set_defaults(run=cmd_orders_import)
    cancel = orders_sub.add_parser(
        "cancel", parents=[common], help="cancel an order not yet picked"
    )
    cancel.add_argument("order", metavar="ORDER", help="CHANNEL/EXTERNAL-ID")
    cancel.add_argument("--reason", required=True, help="why (kept with the order)")
    cancel.add_argument("--user", metavar="BADGE", default=None, help="who cancels it")
    cancel.set_defaults(run=cmd_orders_cancel)

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

    route_cmd = commands.add_parser(
        "route", parents=[common], help="route verified orders (DOM); `route explain ORDER`"
    )
    route_cmd.add_argument(
        "--batch",
        action="store_true",
        help="price scarce stock over the whole backlog first (bid prices from an LP)",
    )
    route_cmd.add_argument("--limit", type=_positive, help="route at most this many orders")
    route_cmd.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    route_cmd.set_defaults(run=cmd_route)
    route_sub = route_cmd.add_subparsers(
        dest="route_command", metavar="explain|reject|settings|areas"
    )
    explain_cmd = route_sub.add_parser(
        "explain", parents=[common], help="why an order went where it went"
    )
    explain_cmd.add_argument(
        "order", metavar="ORDER", help="channel/external-id, external id or id"
    )
    explain_cmd.set_defaults(run=cmd_route_explain)
    reject_cmd = route_sub.add_parser(
        "reject", parents=[common], help="a node gives back a line; DOM re-routes it"
    )
    reject_cmd.add_argument("order", metavar="ORDER", help="channel/external-id, external id or id")
    reject_cmd.add_argument("line", metavar="LINE", type=int, help="the order line number")
    reject_cmd.add_argument("node", metavar="NODE", help="the node giving it back")
    reject_cmd.add_argument(
        "--reason", required=True, help="no_stock, damaged, not_found or capacity"
    )
    reject_cmd.add_argument("--quantity", type=int, help="units given back (default: all)")
    reject_cmd.set_defaults(run=cmd_route_reject)
    settings_cmd = route_sub.add_parser(
        "settings", parents=[common], help="show or change the site's DOM settings"
    )
    settings_cmd.add_argument("--ranking", help="e.g. cost,proximity,priority")
    settings_cmd.add_argument(
        "--linear",
        metavar="PKG,UNIT,MILE",
        help="linear cost: per package, per unit, per package-mile",
    )
    settings_cmd.add_argument(
        "--rate-table", metavar="CSV", help="rate table: up_to_miles,per_package,per_unit rows"
    )
    settings_cmd.add_argument("--unfilled-penalty", type=float, help="cost of an unfilled unit")
    settings_cmd.add_argument(
        "--channel",
        action="append",
        metavar="CODE=N|any",
        help="split policy: at most N packages (1 = ship complete)",
    )
    settings_cmd.set_defaults(run=cmd_route_settings)
    areas_cmd = route_sub.add_parser(
        "areas",
        parents=[common],
        help="import postal areas (country,prefix,name,latitude,longitude)",
    )
    areas_cmd.add_argument("file", metavar="CSV")
    areas_cmd.set_defaults(run=cmd_route_areas)

    from app.picking.commands import add_commands as add_picking_commands

    add_picking_commands(commands, common)
    from app.hardware.commands import add_commands as add_hardware_commands

    add_hardware_commands(commands, common)
    from app.shipping.commands import add_commands as add_shipping_commands

    add_shipping_commands(commands, common)

    bench_cmd = commands.add_parser("bench", parents=[common], help="run a benchmark")
    bench_cmd.add_argument(
        "name",
        metavar="NAME",
        choices=["dom", "labels", "picking", "scan"],
        help="dom, labels, picking, scan",
    )
    bench_cmd.add_argument(
        "--postgresql",
        metavar="URL",
        default=os.environ.get("SHIPFLOOR_BENCH_POSTGRES_URL"),
        help="scan: a PostgreSQL server where a scratch database may be made "
        "(default: $SHIPFLOOR_BENCH_POSTGRES_URL)",
    )
    bench_cmd.add_argument(
        "--scan-orders", type=_positive, default=150, help="scan: orders routed and picked (150)"
    )
    bench_cmd.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    bench_cmd.add_argument("--instances", type=int, default=10, help="dom: instances (10)")
    bench_cmd.add_argument("--sequences", type=int, default=3, help="dom: arrival sequences (3)")
    bench_cmd.add_argument("--orders", type=int, default=10_000, help="dom: orders per run")
    bench_cmd.add_argument(
        "--lists", type=_positive, default=200, help="picking: random pick lists per size (200)"
    )
    bench_cmd.add_argument(
        "--wave-orders", type=_positive, default=5000, help="picking: orders in the wave (5000)"
    )
    bench_cmd.set_defaults(run=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code (0 ok, 1 failed records, 2 usage or set-up)."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except CommandError as exc:
        err.print(f"shipfloor: {exc}", markup=False, emoji=False)
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("shipfloor: interrupted; every finished transaction is kept, none is half-done")
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
