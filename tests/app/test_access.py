"""Who may do what: every command that changes the floor, run by a person holding each
role in turn, as the one permission table (app.access.PERMISSIONS) says; and the ways a
person or a program is refused: unknown badge, wrong PIN, locked badge, disabled person,
expired, revoked or out-of-scope token. A refusal exits 1, names what is missing, and
leaves the store as it was (but for the login history, which records refused tries)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from app import admin
from app.access import (
    PERMISSIONS,
    AccessRefused,
    Action,
    Caller,
    authenticate_token,
    issue_token,
)
from app.cli import main as shipfloor
from app.cli.parser import build_parser
from app.users import hash_pin
from data import users as user_rows
from data.models import Role, User
from data.types import utcnow
from data.uow import UnitOfWork
from tests.factories import add_reference, snapshot

PIN = "2468"
PIN_ENV = "ACCESS_TEST_PIN"
NEW_PIN_ENV = "ACCESS_TEST_NEW_PIN"
TOKEN_ENV = "ACCESS_TEST_TOKEN"


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*path, name))


def _declared() -> dict[Action, tuple[str, ...]]:
    """Each command's declared action (``set_defaults(action=…)``), by action."""
    found: dict[Action, tuple[str, ...]] = {}
    for path, parser in _commands(build_parser()):
        action = parser.get_default("action")
        if isinstance(action, Action):
            assert action not in found, f"{action} declared by {found[action]} and {path}"
            found[action] = path
    return found


def _sample(action: Action, tmp: Path) -> list[str]:
    """A command line for ``action`` that parses and, where a command only sometimes
    changes the floor, changes it."""
    settings = tmp / "settings.json"
    settings.write_text("{}", encoding="utf-8")
    at_pack = ["--station", "PACK-01", "--devices", str(tmp / "nodevices.toml")]
    extra: dict[Action, list[str]] = {
        Action.ORDERS_IMPORT: [str(tmp / "none.jsonl")],
        Action.ORDERS_CANCEL: ["web/W-404", "--reason", "customer called"],
        Action.ROUTE: ["--limit", "1"],
        Action.ROUTE_REJECT: ["web/W-404", "1", "WH1", "--reason", "no_stock"],
        Action.ROUTE_SETTINGS: ["--channel", "web=any"],
        Action.ROUTE_AREAS: [str(tmp / "none.csv")],
        Action.LAYOUT_LOAD: [str(tmp / "none.json")],
        Action.WAVE_PLAN: ["--node", "WH1"],
        Action.WAVE_RELEASE: ["404"],
        Action.WAVE_SETTINGS: ["--file", str(settings)],
        Action.PICKLIST_TAKE_BACK: ["404"],
        Action.PRINT_DELIVER: at_pack,
        Action.PRINT_RETRY: ["404"],
        Action.PRINT_CANCEL: ["404"],
        Action.PRINT_REPRINT: ["404", "--reason", "smudged"],
        Action.PRINT_TEST: [*at_pack, "--printer", "label"],
        Action.LABEL_PRINT: ["--shipment", "404", *at_pack],
        Action.DOCUMENT_RENDER: ["invoice", "--shipment", "404", "-o", str(tmp / "i.pdf")],
        Action.DOCUMENT_PRINT: ["slip", "--shipment", "404", *at_pack],
        Action.PACKAGE_ADD: ["--shipment", "404"],
        Action.PACKAGE_RELABEL: ["NO-SUCH", "--reason", "torn"],
        Action.PACK_CLEAR: ["web/W-404"],
        Action.PACK_SETTINGS: ["--file", str(settings)],
        Action.PACK_LOAD_CATALOGUE: [str(tmp / "none.json")],
        Action.PACK_RULES: [str(tmp / "none.json")],
        Action.MANIFEST_CLOSE: ["--carrier", "NOPE", "-o", str(tmp / "m.pdf")],
        Action.MANIFEST_PRINT: ["404", *at_pack],
        Action.SHIPPING_SETTINGS: ["--file", str(settings)],
        Action.STATION_SETTINGS: ["--file", str(settings)],
        Action.USERS_ADD: ["NEW-1", "--name", "New Person", "--role", "picker"],
        Action.USERS_RESET_PIN: ["VICTIM"],
        Action.USERS_UNLOCK: ["VICTIM"],
        Action.USERS_DISABLE: ["VICTIM"],
        Action.USERS_ENABLE: ["VICTIM"],
        Action.STATIONS_ADD: ["PICK-77", "--name", "Pick 77", "--node", "WH1", "--role", "pick"],
        Action.TOKENS_ISSUE: ["--for", "VICTIM", "--name", "t", "--role", "picker"],
        Action.TOKENS_REVOKE: ["404"],
        Action.TOKENS_LIST: [],
    }
    return [*_declared()[action], *extra[action]]


def _person(engine: Engine, badge: str, roles: frozenset[Role]) -> int:
    with UnitOfWork(engine) as uow:
        user_id = user_rows.add_user(
            uow.session,
            badge=badge,
            name=f"Person {badge}",
            pin_hash=hash_pin(PIN),
            roles=roles,
            at=utcnow() - timedelta(days=1),
        )
        uow.commit()
    return user_id


@pytest.fixture
def site(store: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """A site with one person per role (badge R-<ROLE>, PIN 2468) and VICTIM, a picker
    the admin commands act on."""
    add_reference(store)
    for role in Role:
        _person(store, f"R-{role.value.upper()}", frozenset({role}))
    _person(store, "VICTIM", frozenset({Role.PICKER}))
    monkeypatch.setenv(PIN_ENV, PIN)
    monkeypatch.setenv(NEW_PIN_ENV, "97531")
    monkeypatch.delenv("SHIPFLOOR_DATABASE_URL", raising=False)
    return store


def _run(url: str, argv: list[str], *who: str) -> int:
    """`shipfloor --db URL ARGV WHO`; a new PIN, where the command sets one, from the
    environment."""
    sets_pin = tuple(argv[:2]) in {("users", "add"), ("users", "reset-pin")}
    return shipfloor(["--db", url, *argv, *who, *(["--new-pin-env", NEW_PIN_ENV] * sets_pin)])


def test_every_action_is_one_command_named_as_the_action() -> None:
    declared = _declared()
    assert set(declared) == set(Action) == set(PERMISSIONS)
    for action, path in declared.items():
        assert " ".join(path) == action.value
        # Every role set has the admin: an admin can do whatever a station role can.
        assert Role.ADMIN in PERMISSIONS[action]


def test_each_role_may_take_exactly_the_actions_the_table_gives_it(
    site: Engine, store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checked = 0
    for action in Action:
        argv = _sample(action, tmp_path)
        for role in Role:
            who = ("--user", f"R-{role.value.upper()}", "--pin-env", PIN_ENV)
            before = snapshot(site)
            code = _run(store_url, argv, *who)
            said = capsys.readouterr().err
            if role in PERMISSIONS[action]:
                assert "role;" not in said, (action, role, said)
            else:
                needed = " or ".join(sorted(r.value for r in PERMISSIONS[action]))
                assert code == 1, (action, role, said)
                assert f"{action} needs the {needed} role" in said, (action, role, said)
                assert f"has {role.value}" in said
                assert "Traceback" not in said
                assert snapshot(site) == before, (action, role)
            checked += 1
    assert checked == len(Action) * len(Role)


def test_nobody_named_is_refused_before_anything_is_read_or_written(
    site: Engine, store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for action in Action:
        if action is Action.USERS_ADD:
            continue  # with nobody named it is the first-admin path, tested below
        before = snapshot(site)
        assert _run(store_url, _sample(action, tmp_path)) == 1, action
        said = capsys.readouterr().err
        assert f"`shipfloor {action}` changes the floor" in said
        assert "--user BADGE" in said
        assert "--token-env VAR" in said
        assert snapshot(site) == before


def test_wrong_pin_unknown_badge_locked_and_disabled_are_refused(
    site: Engine, store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = _sample(Action.ORDERS_CANCEL, tmp_path)
    before = snapshot(site)
    os.environ["WRONG_PIN"] = "1357"
    sup = ("--user", "R-SUPERVISOR")
    for attempt in range(1, 5):
        assert _run(store_url, argv, *sup, "--pin-env", "WRONG_PIN") == 1
        left = "1 try" if attempt == 4 else f"{5 - attempt} tries"
        assert f"wrong PIN for R-SUPERVISOR: {left} left" in capsys.readouterr().err
    assert _run(store_url, argv, *sup, "--pin-env", "WRONG_PIN") == 1
    assert "is locked for 15 minutes: see a supervisor" in capsys.readouterr().err
    # Locked: even the right PIN is refused until a supervisor unlocks the badge.
    assert _run(store_url, argv, *sup, "--pin-env", PIN_ENV) == 1
    assert "badge R-SUPERVISOR is locked" in capsys.readouterr().err
    assert _run(store_url, argv, "--user", "NOBODY", "--pin-env", PIN_ENV) == 1
    assert "badge NOBODY is not known here" in capsys.readouterr().err
    assert _run(store_url, argv, *sup, "--pin-env", "NO_SUCH_VARIABLE") == 1
    assert "environment variable NO_SUCH_VARIABLE holds no PIN" in capsys.readouterr().err
    after = snapshot(site)
    # Only the badge's lock and its count of wrong tries changed: nothing was cancelled.
    assert {k: v for k, v in after.items() if k != "users"} == {
        k: v for k, v in before.items() if k != "users"
    }
    unlock = ["users", "unlock", "R-SUPERVISOR"]
    assert _run(store_url, unlock, "--user", "R-SUPERVISOR", "--pin-env", PIN_ENV) == 1
    assert _run(store_url, unlock, "--user", "R-ADMIN", "--pin-env", PIN_ENV) == 0
    assert "badge is unlocked" in capsys.readouterr().out
    assert _run(store_url, argv, *sup, "--pin-env", PIN_ENV) == 1
    assert "no order" in capsys.readouterr().err  # let in; the order is not there
    disable = ["users", "disable", "R-SUPERVISOR"]
    assert _run(store_url, disable, "--user", "R-ADMIN", "--pin-env", PIN_ENV) == 0
    capsys.readouterr()
    assert _run(store_url, argv, *sup, "--pin-env", PIN_ENV) == 1
    assert "is not active: see a supervisor" in capsys.readouterr().err


def test_a_token_acts_in_its_roles_until_it_expires_or_is_revoked(
    site: Engine, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with UnitOfWork(site, read_only=True) as uow:
        admin_id = uow.session.scalar(select(User.id).where(User.badge == "R-ADMIN"))
    assert admin_id is not None
    by = Caller(admin_id, "R-ADMIN", "Person R-ADMIN", frozenset({Role.ADMIN}))
    with pytest.raises(ValueError, match="does not hold supervisor"):
        issue_token(site, by, "R-ADMIN", "router", [Role.SUPERVISOR], 30)
    _person(site, "ROUTER", frozenset({Role.SUPERVISOR, Role.ADMIN}))
    issued = issue_token(site, by, "ROUTER", "nightly-router", [Role.SUPERVISOR], 30)
    with UnitOfWork(site, read_only=True) as uow:
        stored = user_rows.tokens(uow.session)
    assert [(t.name, t.badge) for t in stored] == [("nightly-router", "ROUTER")]
    assert issued.secret not in repr(snapshot(site))  # only its hash is kept
    os.environ[TOKEN_ENV] = issued.secret
    assert _run(store_url, ["route", "--limit", "1"], "--token-env", TOKEN_ENV) == 0
    # In scope: supervisor work. Out of scope: what only its user's admin role allows.
    before = snapshot(site)
    assert _run(store_url, ["tokens", "list"], "--token-env", TOKEN_ENV) == 1
    said = capsys.readouterr().err
    assert "tokens list needs the admin role; token nightly-router of" in said
    assert snapshot(site) == before
    # Expired (checked at a time after its expiry) and revoked tokens are refused.
    with pytest.raises(AccessRefused, match="expired at"):
        authenticate_token(site, issued.secret, now=issued.expires_at + timedelta(seconds=1))
    with pytest.raises(AccessRefused, match="not known here"):
        authenticate_token(site, issued.secret[:-2] + "xx")
    admin.set_user_active(site, by, "ROUTER", False)
    with pytest.raises(AccessRefused, match="no longer active"):
        authenticate_token(site, issued.secret)
    admin.set_user_active(site, by, "ROUTER", True)
    assert (
        _run(
            store_url,
            ["tokens", "revoke", str(issued.id)],
            "--user",
            "R-ADMIN",
            "--pin-env",
            PIN_ENV,
        )
        == 0
    )
    capsys.readouterr()
    before = snapshot(site)
    assert _run(store_url, ["route", "--limit", "1"], "--token-env", TOKEN_ENV) == 1
    assert "was revoked at" in capsys.readouterr().err
    assert snapshot(site) == before
    os.environ[TOKEN_ENV] = "not-a-token"
    assert _run(store_url, ["route"], "--token-env", TOKEN_ENV) == 1
    assert "not a Shipfloor API token" in capsys.readouterr().err


def test_the_first_admin_needs_no_one_and_then_everyone_else_needs_an_admin(
    store: Engine,
    store_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_reference(store)
    monkeypatch.setenv(NEW_PIN_ENV, "97531")
    add = ["users", "add", "BOSS", "--name", "The Boss"]
    assert _run(store_url, [*add, "--role", "picker"]) == 1
    assert "the first person added to a store must be an admin" in capsys.readouterr().err
    assert _run(store_url, [*add, "--role", "admin"]) == 0
    capsys.readouterr()
    assert _run(store_url, ["users", "add", "P1", "--name", "Pat", "--role", "picker"]) == 1
    assert "this store has an admin" in capsys.readouterr().err
    monkeypatch.setenv(PIN_ENV, "97531")
    boss = ("--user", "BOSS", "--pin-env", PIN_ENV)
    assert _run(store_url, ["users", "add", "P1", "--name", "Pat", "--role", "picker"], *boss) == 0
    assert _run(store_url, ["users", "add", "P1", "--name", "Pat", "--role", "picker"], *boss) == 1
    assert "badge P1 is already someone's" in capsys.readouterr().err
    monkeypatch.setenv(NEW_PIN_ENV, "12")
    assert _run(store_url, ["users", "reset-pin", "P1"], *boss) == 1
    assert "the new PIN: a PIN is 4 to 12 digits" in capsys.readouterr().err
