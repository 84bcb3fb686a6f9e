"""Running `shipfloor` commands in tests as the store's test admin.

A command that changes the floor needs to know who runs it (app.access). Tests about what
a command does run it through :func:`main` (or :func:`as_admin` for a subprocess), which
adds an API token of an admin of that store when the command needs one and the test gave
none. Who may do what is tested on its own, command by command and role by role, in
tests/app/test_access.py, without this."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from datetime import timedelta

from app.access import Caller, issue_token
from app.cli import main as shipfloor_main
from app.cli.common import acts
from app.cli.parser import build_parser
from app.users import hash_pin
from data import users as user_rows
from data.models import Role
from data.store import make_engine, resolve_url, sqlite_path
from data.types import utcnow
from data.uow import UnitOfWork

TOKEN_ENV = "SHIPFLOOR_TEST_TOKEN"
TEST_ADMIN = "T-ADMIN"


def admin_token(url: str) -> str:
    """A new API token of the store's test admin (added to the store the first time; a
    store emptied between tests has neither)."""
    engine = make_engine(url)
    try:
        with UnitOfWork(engine) as uow:
            found = user_rows.by_badge(uow.session, TEST_ADMIN)
            if found is None:
                user_id = user_rows.add_user(
                    uow.session,
                    badge=TEST_ADMIN,
                    name="Test Admin",
                    pin_hash=hash_pin("0000"),
                    roles=frozenset({Role.ADMIN}),
                    at=utcnow() - timedelta(days=1),
                )
                uow.commit()
            else:
                user_id = found.id
        admin = Caller(user_id, TEST_ADMIN, "Test Admin", frozenset({Role.ADMIN}))
        token = issue_token(engine, admin, TEST_ADMIN, "tests", [Role.ADMIN], 30).secret
    finally:
        engine.dispose()
    return token


def _needs_someone(argv: Sequence[str]) -> argparse.Namespace | None:
    try:
        args = build_parser().parse_args(list(argv))
    except SystemExit:
        return None
    if not acts(args):
        return None
    if args.user is not None or args.token_env is not None:
        return None
    return args


def as_admin(argv: Sequence[str]) -> list[str]:
    """``argv`` with the test admin's token when the command acts on someone's behalf and
    names no one (the token is put in $SHIPFLOOR_TEST_TOKEN, which subprocesses inherit)."""
    args = _needs_someone(argv)
    if args is None:
        return list(argv)
    try:
        url = resolve_url(args.db)
        path = sqlite_path(url)
        if path is not None and not path.exists():
            return list(argv)  # no store to act on (and none to be made here)
        token = admin_token(url)
    except Exception:  # noqa: BLE001 - no store to act on: the command says why itself
        return list(argv)
    os.environ[TOKEN_ENV] = token
    return [*argv, "--token-env", TOKEN_ENV]


def main(argv: Sequence[str]) -> int:
    """`shipfloor ARGV` in this process, as the store's test admin where it must be someone."""
    return shipfloor_main(as_admin(argv))
