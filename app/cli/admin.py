"""`shipfloor users`, `stations` and `tokens`: the people on the floor, the station PCs, and
the API tokens programs act with."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

from rich.table import Table

from app import admin
from app.access import AccessRefused, Action, issue_token, list_tokens, revoke_token
from app.cli.common import (
    CommandError,
    acting_options,
    caller,
    current_engine,
    maybe_caller,
    out,
    positive,
)
from data.models import Role, StationRole

ROLES = [r.value for r in Role]


def _new_pin(args: argparse.Namespace, badge: str) -> str:
    """The new PIN: from --new-pin-env, or typed twice without echo."""
    if args.new_pin_env is not None:
        pin = os.environ.get(args.new_pin_env)
        if not pin:
            raise CommandError(
                f"environment variable {args.new_pin_env} holds no PIN: set it first", 1
            )
        return pin
    if not sys.stdin.isatty():
        raise CommandError(
            f"no new PIN for {badge}: run the command in a terminal to be asked, or give "
            "--new-pin-env VAR with the PIN in that environment variable",
            1,
        )
    first = getpass.getpass(f"New PIN for {badge} (4 to 12 digits): ")
    if getpass.getpass("The same PIN again: ") != first:
        raise CommandError("the two PINs differ; nothing was changed", 1)
    return first


def _admin_errors(work: Any) -> Any:
    try:
        return work()
    except (admin.AdminError, AccessRefused, ValueError) as exc:
        raise CommandError(str(exc), 1) from None


def cmd_users_add(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    # The site's first admin is added by whoever holds the store; everyone else by an admin.
    who = maybe_caller(args)
    pin = _new_pin(args, args.badge)
    roles = [Role(r) for r in args.role]
    _admin_errors(lambda: admin.create_user(engine, who, args.badge, args.name, roles, pin))
    out.print(
        f"Added {args.name} with badge {args.badge.upper()} ({', '.join(args.role)}).",
        markup=False,
    )
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    table = Table("badge", "name", "roles", "state")
    for u in admin.list_users(engine):
        state = "active" if u.active else "disabled"
        if u.locked_until is not None:
            state += f", locked until {u.locked_until:%Y-%m-%d %H:%M} UTC"
        table.add_row(u.badge, u.name, ", ".join(sorted(r.value for r in u.roles)), state)
    out.print(table)
    return 0


def cmd_users_reset_pin(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    who = caller(args)
    pin = _new_pin(args, args.badge)
    name = _admin_errors(lambda: admin.reset_pin(engine, who, args.badge, pin))
    out.print(f"{name} has a new PIN; their badge is unlocked.", markup=False)
    return 0


def cmd_users_unlock(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    who = caller(args)
    name = _admin_errors(lambda: admin.unlock_badge(engine, who, args.badge))
    out.print(f"{name}'s badge is unlocked: they can log in again.", markup=False)
    return 0


def cmd_users_active(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    who = caller(args)
    active = args.users_command == "enable"
    name = _admin_errors(lambda: admin.set_user_active(engine, who, args.badge, active))
    said = "may log in again" if active else "can no longer log in or act"
    out.print(f"{name} ({args.badge.upper()}) {said}.", markup=False)
    return 0


def cmd_stations_add(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    who = caller(args)
    _admin_errors(
        lambda: admin.create_station(
            engine, who, args.code, args.name, args.node, StationRole(args.role)
        )
    )
    out.print(
        f"Added station {args.code.upper()} ({args.role}) at {args.node}: start it with "
        f"`shipfloor station {args.role} --station {args.code.upper()}`.",
        markup=False,
    )
    return 0


def cmd_stations_list(args: argparse.Namespace) -> int:
    from data import admin as admin_rows
    from data.uow import UnitOfWork

    engine = current_engine(args)
    with UnitOfWork(engine, read_only=True) as uow:
        listed = admin_rows.stations(uow.session)
    table = Table("station", "role", "node", "state")
    for s in listed:
        table.add_row(s.code, s.role.value, s.node_code, "active" if s.active else "inactive")
    out.print(table)
    return 0


def cmd_tokens_issue(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    who = caller(args)
    roles = [Role(r) for r in args.role]
    issued = _admin_errors(
        lambda: issue_token(engine, who, args.for_badge, args.name, roles, args.days)
    )
    out.print(
        f"Token {issued.id} ({issued.name}) acts as {issued.badge} in "
        f"{', '.join(sorted(r.value for r in issued.roles))} until "
        f"{issued.expires_at:%Y-%m-%d %H:%M} UTC. It is shown once and not kept: store it "
        "where the program reads it (e.g. SHIPFLOOR_TOKEN) and use --token-env SHIPFLOOR_TOKEN.",
        markup=False,
    )
    sys.stdout.write(issued.secret + "\n")
    return 0


def cmd_tokens_list(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    who = caller(args)
    table = Table("id", "name", "acts as", "roles", "expires", "state")
    for t in _admin_errors(lambda: list_tokens(engine, who)):
        state = "revoked" if t.revoked_at is not None else "active"
        table.add_row(
            str(t.id),
            t.name,
            t.badge,
            ", ".join(sorted(r.value for r in t.roles)),
            f"{t.expires_at:%Y-%m-%d %H:%M}",
            state,
        )
    out.print(table)
    return 0


def cmd_tokens_revoke(args: argparse.Namespace) -> int:
    engine = current_engine(args)
    who = caller(args)
    row = _admin_errors(lambda: revoke_token(engine, who, args.token))
    out.print(f"Token {row.id} ({row.name}) is revoked: it no longer works.", markup=False)
    return 0


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add this group's commands to the `shipfloor` parser."""
    new_pin = argparse.ArgumentParser(add_help=False)
    new_pin.add_argument(
        "--new-pin-env",
        metavar="VAR",
        default=None,
        help="read the new PIN from environment variable VAR (else it is asked for twice)",
    )

    users_cmd = commands.add_parser("users", parents=[common], help="people, PINs, badges")
    users_sub = users_cmd.add_subparsers(
        dest="users_command", required=True, metavar="add|list|reset-pin|unlock|disable|enable"
    )
    add = users_sub.add_parser(
        "add",
        parents=[common, acting_options(), new_pin],
        help="add a person (the first one of a store is its admin)",
    )
    add.add_argument("badge", metavar="BADGE", help="the id printed on their badge")
    add.add_argument("--name", required=True, help="their name as the floor knows it")
    add.add_argument(
        "--role", action="append", required=True, choices=ROLES, help="a role (repeat for more)"
    )
    # With nobody named, only a store's first admin may be added (the core checks).
    add.set_defaults(
        run=cmd_users_add,
        action=Action.USERS_ADD,
        acts_when=lambda a: a.user is not None or a.token_env is not None,
    )
    lst = users_sub.add_parser("list", parents=[common], help="everyone, with roles and locks")
    lst.set_defaults(run=cmd_users_list, action=None)
    reset = users_sub.add_parser(
        "reset-pin",
        parents=[common, acting_options(), new_pin],
        help="give someone a new PIN (unlocks the badge)",
    )
    reset.add_argument("badge", metavar="BADGE")
    reset.set_defaults(run=cmd_users_reset_pin, action=Action.USERS_RESET_PIN)
    unlock = users_sub.add_parser(
        "unlock", parents=[common, acting_options()], help="unlock a badge locked by wrong PINs"
    )
    unlock.add_argument("badge", metavar="BADGE")
    unlock.set_defaults(run=cmd_users_unlock, action=Action.USERS_UNLOCK)
    for name, action, helptext in (
        ("disable", Action.USERS_DISABLE, "stop someone logging in or acting"),
        ("enable", Action.USERS_ENABLE, "let a disabled person log in again"),
    ):
        one = users_sub.add_parser(name, parents=[common, acting_options()], help=helptext)
        one.add_argument("badge", metavar="BADGE")
        one.set_defaults(run=cmd_users_active, action=action)

    st_cmd = commands.add_parser("stations", parents=[common], help="the station PCs")
    st_sub = st_cmd.add_subparsers(dest="stations_command", required=True, metavar="add|list")
    sadd = st_sub.add_parser("add", parents=[common, acting_options()], help="add a station PC")
    sadd.add_argument("code", metavar="CODE", help="e.g. PICK-03")
    sadd.add_argument("--name", required=True)
    sadd.add_argument("--node", required=True, metavar="CODE", help="where it stands, e.g. WH1")
    sadd.add_argument("--role", required=True, choices=[r.value for r in StationRole])
    sadd.set_defaults(run=cmd_stations_add, action=Action.STATIONS_ADD)
    slist = st_sub.add_parser("list", parents=[common], help="every station")
    slist.set_defaults(run=cmd_stations_list, action=None)

    tok_cmd = commands.add_parser("tokens", parents=[common], help="API tokens for programs")
    tok_sub = tok_cmd.add_subparsers(
        dest="tokens_command", required=True, metavar="issue|list|revoke"
    )
    issue = tok_sub.add_parser(
        "issue", parents=[common, acting_options()], help="a token for a program (shown once)"
    )
    issue.add_argument("--for", dest="for_badge", required=True, metavar="BADGE")
    issue.add_argument("--name", required=True, help="what uses it, e.g. nightly-router")
    issue.add_argument(
        "--role", action="append", required=True, choices=ROLES, help="a role (repeat for more)"
    )
    issue.add_argument("--days", type=positive, default=90, help="how long it lasts (90)")
    issue.set_defaults(run=cmd_tokens_issue, action=Action.TOKENS_ISSUE)
    tlist = tok_sub.add_parser("list", parents=[common, acting_options()], help="every token")
    tlist.set_defaults(run=cmd_tokens_list, action=Action.TOKENS_LIST)
    revoke = tok_sub.add_parser(
        "revoke", parents=[common, acting_options()], help="stop a token working now"
    )
    revoke.add_argument("token", metavar="ID", type=int)
    revoke.set_defaults(run=cmd_tokens_revoke, action=Action.TOKENS_REVOKE)
