"""`shipfloor db`: migrate the store and compare its schema with the models."""

from __future__ import annotations

import argparse
from typing import Any

from app.cli.common import (
    CommandError,
    current_engine,
    err,
    open_engine,
    out,
)
from data.migrate import (
    MigrationRefused,
    StoreTooNew,
    current_revision,
    schema_differences,
    upgrade,
)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    engine = open_engine(args, create=True)
    before = current_revision(engine)
    try:
        upgrade(engine)
    except MigrationRefused as exc:
        raise CommandError(f"the store stays at {before}: {exc}") from None
    except StoreTooNew as exc:
        raise CommandError(str(exc)) from None
    after = current_revision(engine)
    where = engine.url.render_as_string(hide_password=True)
    if before == after:
        out.print(f"{where} is already at the newest schema ({after}).")
    else:
        out.print(f"{where} migrated from {before or 'empty'} to {after}.")
    return 0


def cmd_db_check(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    differences = schema_differences(engine)
    if differences:
        for diff in differences:
            err.print(f"differs from the models: {diff}")
        raise CommandError("the store's schema and the models disagree; write a migration", 1)
    out.print(f"schema {current_revision(engine)} matches the models.")
    return 0


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add this group's commands to the `shipfloor` parser."""
    db_cmd = commands.add_parser("db", parents=[common], help="the store's schema")
    db_sub = db_cmd.add_subparsers(dest="db_command", required=True, metavar="upgrade|check")
    db_sub.add_parser(
        "upgrade", parents=[common], help="migrate to the newest schema"
    ).set_defaults(run=cmd_db_upgrade)
    db_sub.add_parser(
        "check", parents=[common], help="compare the schema with the models"
    ).set_defaults(run=cmd_db_check)
