"""The `shipfloor` command line: one parser built from every command group's module."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from app.cli import (
    admin,
    bench,
    db,
    demo,
    devices,
    inventory,
    orders,
    pack,
    route,
    shipping,
    station,
    waves,
)
from app.cli.common import CommandError, authorise, err, write_crash_report
from data.store import lost_connection, masked, permission_denied

UNEXPECTED = "the command stopped on an error it does not know how to explain"
"""The start of the last-resort message; tests check no bad input ever reaches it."""

# The order `shipfloor --help` lists the groups in.
GROUPS = (station, demo, db, orders, inventory, route, waves, devices, pack, shipping, admin, bench)


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
    for group in GROUPS:
        group.add_commands(commands, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code (0 ok, 1 failed records, 2 usage or set-up)."""
    args = build_parser().parse_args(argv)
    try:
        authorise(args)
        code: int = args.run(args)
    except CommandError as exc:
        err.print(f"shipfloor: {exc}", markup=False, emoji=False)
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("shipfloor: interrupted; every finished transaction is kept, none is half-done")
        return 130
    except Exception as exc:  # the last line of defence: a person never sees a traceback
        return _unexpected(args, exc)
    return code


def _unexpected(args: argparse.Namespace, exc: Exception) -> int:
    """Say what happened in a sentence; keep the traceback in a file for whoever fixes it."""
    reason = lost_connection(exc)
    if reason is not None:
        err.print(
            f"shipfloor: lost the store in the middle of the command ({reason}). The "
            "transaction it was in was rolled back whole, so nothing is half-written; "
            "check that the database server is running and reachable, then run the "
            "command again.",
            markup=False,
            emoji=False,
        )
        return 2
    refused = permission_denied(exc)
    if refused is not None:
        err.print(
            f"shipfloor: the database refused ({refused}): the role this store is reached "
            "as may not do this. Nothing was written. Run the command with a database role "
            "that may (the one `shipfloor db upgrade` uses), not a station's.",
            markup=False,
            emoji=False,
        )
        return 2
    report = write_crash_report(args, exc)
    err.print(
        f"shipfloor: {UNEXPECTED} ({type(exc).__name__}: {masked(str(exc))}). "
        "Nothing of the unfinished transaction was kept. Please report it with the "
        f"details in {report}.",
        markup=False,
        emoji=False,
    )
    return 2
