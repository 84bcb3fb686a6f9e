"""`shipfloor demo`: seed a demo site and start the station UI on it."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app import demo
from app.admin import UnknownStation, station_role
from app.cli.common import (
    CommandError,
    err,
    open_engine,
    out,
    progress,
)
from app.cli.station import run_station
from app.packing.demo import pack_demo_totes
from app.picking.demo import fill_demo_totes
from data.demo import SCALES
from data.migrate import (
    MigrationRefused,
    upgrade,
)
from data.store import StoreEngine


def cmd_demo_seed(args: argparse.Namespace) -> int:
    engine = open_engine(args, create=True)
    upgrade(engine)
    try:
        with progress(err.is_terminal) as update:
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


def cmd_demo(args: argparse.Namespace) -> int:
    engine = open_engine(args, create=True)
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
        with progress(err.is_terminal) as update:
            report = demo.seed(engine, "small", 1, update)
            released = demo.release_demo_work(engine, update)
        out.print(
            f"Seeded the small demo site in {report.seconds:.1f} s and released "
            f"{released} pick list(s) at the warehouse to pick."
        )
    _print_site(engine)
    code = args.station
    try:
        role = station_role(engine, code)
    except UnknownStation as exc:
        raise CommandError(str(exc)) from None
    if role == "pack" and demo.totes_waiting(engine) == 0:
        filled = fill_demo_totes(engine)
        out.print(f"The demo's picker filled {filled} tote(s): they wait at packing.")
    if role == "ship" and demo.packages_waiting(engine) == 0:
        if demo.totes_waiting(engine) == 0:
            fill_demo_totes(engine)
        packed = pack_demo_totes(engine)
        out.print(
            f"The demo's picker and packer got {packed} order(s) packed: they wait at the dock."
        )
    login = DEMO_LOGINS.get(role, "")
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        out.print(
            f"\nNot a terminal, so the station UI is not started: run "
            f"`shipfloor station {role} --station {code}` in one{login}."
        )
        return 0
    from app.cli.devices import demo_station_devices
    from app.hardware.config import DeviceConfigError

    try:
        with demo_station_devices(args.devices, code, scale=role != "pack") as (
            devices_file,
            simulated,
        ):
            if simulated:
                out.print(f"No devices are configured for {code}: using simulated ones.")
            else:
                out.print(f"Using the devices of {code} in {devices_file}.")
            return run_station(engine, role, code, str(devices_file))
    except DeviceConfigError as exc:
        raise CommandError(str(exc)) from None


DEMO_LOGINS = {
    "pick": " (log in as U1001, PIN 1111)",
    "pack": " (log in as U2001, PIN 2222)",
    "ship": " (log in as U3001, PIN 3333)",
    "supervisor": " (log in as U5001, PIN 5555)",
}


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


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add this group's commands to the `shipfloor` parser."""
    demo_cmd = commands.add_parser(
        "demo", parents=[common], help="seed a demo site if the store is empty, then start"
    )
    demo_cmd.add_argument(
        "--devices",
        metavar="FILE",
        default=None,
        help="the device file; its PICK-01 devices are used (else simulated ones)",
    )
    demo_cmd.add_argument(
        "--station",
        metavar="ID",
        default="PICK-01",
        help="the demo station to start (PICK-01, PACK-01, SHIP-01, SUP-01…); a pack station gets "
        "totes the demo's picker filled, a ship station packages its packer packed",
    )
    demo_cmd.set_defaults(run=cmd_demo)
    demo_sub = demo_cmd.add_subparsers(dest="demo_command", metavar="seed")
    seed_cmd = demo_sub.add_parser("seed", parents=[common], help="build deterministic demo data")
    seed_cmd.add_argument("--scale", choices=list(SCALES), default="small")
    seed_cmd.add_argument("--seed", type=int, default=1)
    seed_cmd.set_defaults(run=cmd_demo_seed)
