"""`shipfloor station` and `station-settings`: the station UI and how stations behave."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.access import Action
from app.admin import UnknownStation, check_station
from app.cli.common import (
    CommandError,
    acting_options,
    caller,
    current_engine,
    json_object_file,
    print_json,
)
from data.store import StoreEngine

STATION_ROLES = ("pick", "pack", "ship", "returns", "supervisor")
BUILT_ROLES = ("pick", "pack", "ship", "supervisor")


def cmd_station(args: argparse.Namespace) -> int:
    """`shipfloor station ROLE --station ID`: the station UI."""
    if args.role not in BUILT_ROLES:
        built = " and ".join(f"`shipfloor station {r} --station ID`" for r in BUILT_ROLES)
        raise CommandError(f"the {args.role} station is not built yet; {built} are")
    engine = current_engine(args)
    try:
        check_station(engine, args.station)
    except UnknownStation as exc:
        raise CommandError(str(exc)) from None
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise CommandError(
            "the station UI needs a terminal (its input and output are not one): run it in "
            "a terminal window, or over ssh with -t"
        )
    return run_station(engine, args.role, args.station, args.devices)


def run_station(engine: StoreEngine, role: str, station: str, devices_file: str | None) -> int:
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
        terminal = Terminal(engine, station, role, devices)
    except StationSettingsError as exc:
        raise CommandError(f"the stored station settings are wrong: {exc}") from None
    feed = ScanFeed.for_station(devices)
    from stations.app import run_station

    return run_station(terminal, feed, dict(devices.keymap) if devices else {})


def cmd_station_settings(args: argparse.Namespace) -> int:
    """Show or change how stations behave (idle log-out, typed quantities)."""
    from app.terminal import StationSettingsError, load_settings, save_settings

    engine = current_engine(args)
    try:
        if args.file:
            changes = json_object_file(args.file)
            who = caller(args)
            current = save_settings(engine, changes, who.actor)
        else:
            current = load_settings(engine)
    except StationSettingsError as exc:
        raise CommandError(str(exc), 1) from None
    print_json(
        {
            "idle_logout_minutes": current.idle_logout_minutes,
            "typed_quantity": current.typed_quantity,
        }
    )
    return 0


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add this group's commands to the `shipfloor` parser."""
    station_cmd = commands.add_parser(
        "station",
        parents=[common],
        help="the station UI: pick, pack, ship, supervisor (pickup and returns come later)",
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
        "station-settings",
        parents=[common, acting_options()],
        help="how stations behave (idle log-out, …); changing them is for an admin",
    )
    sset_cmd.add_argument("--file", metavar="JSON", help="apply the settings in this JSON file")
    sset_cmd.set_defaults(
        run=cmd_station_settings,
        action=Action.STATION_SETTINGS,
        acts_when=lambda a: a.file is not None,
    )
