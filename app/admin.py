"""The site's administration: its stations (checked before a station starts) and the
people who use them: adding them, their PINs, locked badges."""

from __future__ import annotations

import re
from collections.abc import Iterable

from app.access import AccessRefused, Action, Caller, require
from app.users import badge_of, hash_pin
from data import admin as admin_rows
from data import users as user_rows
from data.models import Role, StationRole
from data.store import StoreEngine
from data.types import utcnow
from data.uow import UnitOfWork, run_in_transaction


class UnknownStation(LookupError):
    """No active station has that code; the message lists the ones there are."""


def check_station(engine: StoreEngine, code: str) -> None:
    """Refuse a station code the store does not hold as an active station, naming the
    active ones, so a mistyped `--station` is caught before the UI starts."""
    with UnitOfWork(engine, read_only=True) as uow:
        listed = admin_rows.stations(uow.session)
    if any(s.code == code and s.active for s in listed):
        return
    active = [f"{s.code} ({s.role})" for s in listed if s.active]
    known = ", ".join(active) if active else "none yet"
    inactive = any(s.code == code for s in listed)
    what = f"station {code!r} is not active" if inactive else f"there is no station {code!r}"
    raise UnknownStation(f"{what}; the active stations are: {known}")


def station_role(engine: StoreEngine, code: str) -> str:
    """The role of an active station (``pick``, ``pack``…); UnknownStation if there is none."""
    check_station(engine, code)
    with UnitOfWork(engine, read_only=True) as uow:
        listed = admin_rows.stations(uow.session)
    return next(str(s.role) for s in listed if s.code == code)


# --- people and stations ----------------------------------------------------------------


class AdminError(ValueError):
    """An administration request that cannot be done as asked; nothing was written."""


_BADGE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,38}$")


def _clean_badge(scan: str) -> str:
    badge = badge_of(scan)
    if not _BADGE.match(badge):
        raise AdminError(
            f"badge {scan!r}: use 2 to 39 letters, digits or dashes (as printed on the card)"
        )
    return badge


def _clean_name(name: str, what: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > 120 or any(not c.isprintable() for c in name):
        raise AdminError(f"give the {what} a name of 1 to 120 printable characters")
    return name


def create_user(
    engine: StoreEngine,
    by: Caller | None,
    badge_scan: str,
    name: str,
    roles: Iterable[Role],
    pin: str,
) -> int:
    """Add a person with a badge, a PIN and roles. With no caller, only the site's first
    admin may be added (the store has no active admin yet)."""
    badge = _clean_badge(badge_scan)
    name = _clean_name(name, "person")
    wanted = frozenset(roles)
    if not wanted:
        raise AdminError("give at least one role (--role), e.g. --role picker")
    try:
        pin_hash = hash_pin(pin)
    except ValueError as exc:
        raise AdminError(f"the new PIN: {exc}") from None
    if by is not None:
        require(by, Action.USERS_ADD)

    def work(uow: UnitOfWork) -> int:
        if by is None:
            if user_rows.any_admin(uow.session):
                raise AccessRefused(
                    "this store has an admin: say who you are (--user BADGE, or --token-env)"
                    " to add people"
                )
            if Role.ADMIN not in wanted:
                raise AccessRefused(
                    "the first person added to a store must be an admin (--role admin); "
                    "that admin then adds everyone else"
                )
        if user_rows.by_badge(uow.session, badge) is not None:
            raise AdminError(f"badge {badge} is already someone's: choose another")
        user_id = user_rows.add_user(
            uow.session, badge=badge, name=name, pin_hash=pin_hash, roles=wanted, at=utcnow()
        )
        uow.commit()
        return user_id

    return run_in_transaction(engine, work)


def _user(uow: UnitOfWork, badge_scan: str) -> user_rows.UserRow:
    badge = badge_of(badge_scan)
    user = user_rows.by_badge(uow.session, badge)
    if user is None:
        raise AdminError(f"there is no user with badge {badge}: `shipfloor users list` shows them")
    return user


def reset_pin(engine: StoreEngine, by: Caller, badge_scan: str, pin: str) -> str:
    """Give a person a new PIN (which also unlocks their badge); returns their name."""
    require(by, Action.USERS_RESET_PIN)
    try:
        pin_hash = hash_pin(pin)
    except ValueError as exc:
        raise AdminError(f"the new PIN: {exc}") from None

    def work(uow: UnitOfWork) -> str:
        user = _user(uow, badge_scan)
        user_rows.set_pin(uow.session, user.id, pin_hash)
        uow.commit()
        return user.name

    return run_in_transaction(engine, work)


def unlock_badge(engine: StoreEngine, by: Caller, badge_scan: str) -> str:
    """Clear a badge's wrong PIN tries and its lock; returns the person's name."""
    require(by, Action.USERS_UNLOCK)

    def work(uow: UnitOfWork) -> str:
        user = _user(uow, badge_scan)
        user_rows.set_failures(uow.session, user.id, 0, None)
        uow.commit()
        return user.name

    return run_in_transaction(engine, work)


def set_user_active(engine: StoreEngine, by: Caller, badge_scan: str, active: bool) -> str:
    """Stop (or allow again) a person from logging in and acting; returns their name."""
    require(by, Action.USERS_ENABLE if active else Action.USERS_DISABLE)

    def work(uow: UnitOfWork) -> str:
        user = _user(uow, badge_scan)
        if not active and user.id == by.user_id:
            raise AdminError("you cannot disable yourself: ask another admin")
        user_rows.set_active(uow.session, user.id, active)
        uow.commit()
        return user.name

    return run_in_transaction(engine, work)


def list_users(engine: StoreEngine) -> list[user_rows.UserListing]:
    with UnitOfWork(engine, read_only=True) as uow:
        return user_rows.users(uow.session)


_STATION_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,31}$")


def create_station(
    engine: StoreEngine, by: Caller, code: str, name: str, node_code: str, role: StationRole
) -> int:
    """Add a station PC at a node, starting in ``role``."""
    require(by, Action.STATIONS_ADD)
    code = code.strip().upper()
    if not _STATION_CODE.match(code):
        raise AdminError(f"station code {code!r}: use 2 to 32 letters, digits or dashes")
    name = _clean_name(name, "station")

    def work(uow: UnitOfWork) -> int:
        node = user_rows.node_id(uow.session, node_code)
        if node is None:
            raise AdminError(f"there is no node {node_code!r}")
        if any(s.code == code for s in admin_rows.stations(uow.session)):
            raise AdminError(f"there is a station {code} already")
        station_id = user_rows.add_station(uow.session, code=code, name=name, node=node, role=role)
        uow.commit()
        return station_id

    return run_in_transaction(engine, work)
