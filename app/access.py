"""Who may do what: the one table of roles each action needs, and how a person (badge and
PIN) or a program (an API token) proves who it is before acting.

A command that changes the floor on someone's behalf names its action; the caller is
authenticated, the action checked against :data:`PERMISSIONS`, and only then does the
command touch the store, with the caller's real user id in every history row it writes.
A refusal says what is missing and writes nothing but the security history (a wrong PIN
counts towards locking the badge)."""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.actor import Actor
from app.users import LoginError, badge_of, check_pin
from data import users as user_rows
from data.models import Role
from data.store import StoreEngine
from data.types import utcnow
from data.uow import UnitOfWork, run_in_transaction


class Action(enum.StrEnum):
    """Everything a person or a program may be allowed to do to the floor."""

    # Orders and DOM
    ORDERS_IMPORT = "orders import"
    ORDERS_CANCEL = "orders cancel"
    ROUTE = "route"
    ROUTE_REJECT = "route reject"
    ROUTE_SETTINGS = "route settings"
    ROUTE_AREAS = "route areas"
    # Waves and pick lists
    LAYOUT_LOAD = "layout load"
    WAVE_PLAN = "wave plan"
    WAVE_RELEASE = "wave release"
    WAVE_SETTINGS = "wave settings"
    PICKLIST_TAKE_BACK = "picklist take-back"
    # Printing and shipping
    PRINT_DELIVER = "print deliver"
    PRINT_RETRY = "print retry"
    PRINT_CANCEL = "print cancel"
    PRINT_REPRINT = "print reprint"
    PRINT_TEST = "print test"
    LABEL_PRINT = "label print"
    DOCUMENT_RENDER = "document render"
    """An invoice rendered is issued: it takes the next invoice number."""
    DOCUMENT_PRINT = "document print"
    PACKAGE_ADD = "package add"
    PACKAGE_RELABEL = "package relabel"
    """A package's label voided (its tracking number dead) and a new one given."""
    PACK_CLEAR = "pack clear"
    """An order on the problem shelf may be packed again."""
    PACK_SETTINGS = "pack settings"
    PACK_LOAD_CATALOGUE = "pack load-catalogue"
    PACK_RULES = "pack rules"
    MANIFEST_CLOSE = "manifest close"
    MANIFEST_PRINT = "manifest print"
    SHIPPING_SETTINGS = "shipping settings"
    # The site
    STATION_SETTINGS = "station-settings"
    USERS_ADD = "users add"
    USERS_RESET_PIN = "users reset-pin"
    USERS_UNLOCK = "users unlock"
    USERS_DISABLE = "users disable"
    USERS_ENABLE = "users enable"
    STATIONS_ADD = "stations add"
    TOKENS_ISSUE = "tokens issue"
    TOKENS_REVOKE = "tokens revoke"
    TOKENS_LIST = "tokens list"


_ADMIN = frozenset({Role.ADMIN})
_SUPERVISE = frozenset({Role.SUPERVISOR, Role.ADMIN})
_PACK_AND_SHIP = frozenset({Role.PACKER, Role.SHIPPER, Role.SUPERVISOR, Role.ADMIN})
_SHIP = frozenset({Role.SHIPPER, Role.SUPERVISOR, Role.ADMIN})

PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.ORDERS_IMPORT: _SUPERVISE,
    Action.ORDERS_CANCEL: _SUPERVISE,
    Action.ROUTE: _SUPERVISE,
    Action.ROUTE_REJECT: _SUPERVISE,
    Action.ROUTE_SETTINGS: _ADMIN,
    Action.ROUTE_AREAS: _ADMIN,
    Action.LAYOUT_LOAD: _ADMIN,
    Action.WAVE_PLAN: _SUPERVISE,
    Action.WAVE_RELEASE: _SUPERVISE,
    Action.WAVE_SETTINGS: _ADMIN,
    Action.PICKLIST_TAKE_BACK: _SUPERVISE,
    Action.PRINT_DELIVER: _PACK_AND_SHIP,
    Action.PRINT_RETRY: _SUPERVISE,
    Action.PRINT_CANCEL: _SUPERVISE,
    Action.PRINT_REPRINT: _SUPERVISE,
    Action.PRINT_TEST: _PACK_AND_SHIP,
    Action.LABEL_PRINT: _PACK_AND_SHIP,
    Action.DOCUMENT_RENDER: _PACK_AND_SHIP,
    Action.DOCUMENT_PRINT: _PACK_AND_SHIP,
    Action.PACKAGE_ADD: _PACK_AND_SHIP,
    Action.PACKAGE_RELABEL: _PACK_AND_SHIP,
    Action.PACK_CLEAR: _SUPERVISE,
    Action.PACK_SETTINGS: _ADMIN,
    Action.PACK_LOAD_CATALOGUE: _ADMIN,
    Action.PACK_RULES: _ADMIN,
    Action.MANIFEST_CLOSE: _SHIP,
    Action.MANIFEST_PRINT: _SHIP,
    Action.SHIPPING_SETTINGS: _ADMIN,
    Action.STATION_SETTINGS: _ADMIN,
    Action.USERS_ADD: _ADMIN,
    Action.USERS_RESET_PIN: _ADMIN,
    Action.USERS_UNLOCK: _SUPERVISE,
    Action.USERS_DISABLE: _ADMIN,
    Action.USERS_ENABLE: _ADMIN,
    Action.STATIONS_ADD: _ADMIN,
    Action.TOKENS_ISSUE: _ADMIN,
    Action.TOKENS_REVOKE: _ADMIN,
    Action.TOKENS_LIST: _ADMIN,
}
"""The roles that may take each action: one of them is enough."""


class AccessRefused(PermissionError):
    """The caller is not who they said, or may not do this; nothing was done."""


@dataclass(frozen=True)
class Caller:
    """Someone proven to be who they said: a person by badge and PIN, or a program by a
    token issued to a user (acting in the token's roles only)."""

    user_id: int
    badge: str
    name: str
    roles: frozenset[Role]
    token: str | None = None
    """The token's name, when a program acts with one."""

    @property
    def actor(self) -> Actor:
        name = self.badge if self.token is None else f"{self.badge} (token {self.token})"
        return Actor(name=name[:80], user_id=self.user_id)


def allowed(roles: Iterable[Role], action: Action) -> bool:
    return bool(PERMISSIONS[action] & frozenset(roles))


def require(caller: Caller, action: Action) -> None:
    """Refuse unless one of the caller's roles may take ``action``."""
    if allowed(caller.roles, action):
        return
    needed = " or ".join(sorted(r.value for r in PERMISSIONS[action]))
    held = ", ".join(sorted(r.value for r in caller.roles)) or "no role"
    via = f"token {caller.token} of " if caller.token else ""
    raise AccessRefused(
        f"{action} needs the {needed} role; {via}{caller.name} ({caller.badge}) has {held}: "
        "ask an admin"
    )


def authenticate_pin(
    engine: StoreEngine, badge_scan: str, pin: str, *, now: datetime | None = None
) -> Caller:
    """The person with this badge, if the PIN is theirs. A wrong PIN counts towards locking
    the badge, as at a station; every refused try is in the login history."""
    now = now or utcnow()
    badge = badge_of(badge_scan)

    def work(uow: UnitOfWork) -> user_rows.LoginRow:
        user = user_rows.for_login(uow.session, badge)
        try:
            check_pin(uow.session, badge, user, pin, now)
        except LoginError as refused:
            user_rows.add_login_event(
                uow.session,
                badge=badge,
                user_id=user.id if user else None,
                station_id=None,
                outcome=refused.outcome,
                at=now,
            )
            uow.commit()
            raise AccessRefused(str(refused)) from None
        uow.commit()
        assert user is not None
        return user

    user = run_in_transaction(engine, work)
    return Caller(user.id, user.badge, user.name, user.roles)


# --- API tokens -----------------------------------------------------------------------

TOKEN_PREFIX = "sft_"
_LOOKUP_CHARS = 12
MAX_TOKEN_DAYS = 366


def _token_hash(secret: str) -> str:
    """Tokens are 256 random bits, so one round of SHA-256 is as good as a slow hash."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _lookup(token: str) -> str | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    body = token[len(TOKEN_PREFIX) :]
    return body[:_LOOKUP_CHARS] if len(body) > _LOOKUP_CHARS else None


@dataclass(frozen=True)
class IssuedToken:
    """A token just issued: ``secret`` is shown once and never kept."""

    id: int
    name: str
    badge: str
    roles: frozenset[Role]
    expires_at: datetime
    secret: str


def issue_token(
    engine: StoreEngine,
    by: Caller,
    badge_scan: str,
    name: str,
    roles: Iterable[Role],
    days: int,
    *,
    now: datetime | None = None,
) -> IssuedToken:
    """A token for a program to act as the user with ``badge_scan`` in ``roles`` (which
    the user must hold) for ``days`` days."""
    require(by, Action.TOKENS_ISSUE)
    now = now or utcnow()
    wanted = frozenset(roles)
    name = name.strip()
    if not name or len(name) > 80:
        raise ValueError("give the token a name of 1 to 80 characters (what uses it)")
    if not wanted:
        raise ValueError("give the token at least one role (--role)")
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValueError(f"a token lasts 1 to {MAX_TOKEN_DAYS} days; {days} was asked for")
    badge = badge_of(badge_scan)
    lookup = secrets.token_hex(_LOOKUP_CHARS // 2)
    secret = TOKEN_PREFIX + lookup + secrets.token_urlsafe(32)

    def work(uow: UnitOfWork) -> IssuedToken:
        user = user_rows.by_badge(uow.session, badge)
        if user is None or not user.active:
            raise ValueError(f"there is no active user with badge {badge}")
        missing = wanted - user.roles
        if missing:
            raise ValueError(
                f"{user.name} ({badge}) does not hold {', '.join(sorted(missing))}: a token "
                "acts in roles its user holds"
            )
        expires = now + timedelta(days=days)
        token_id = user_rows.add_token(
            uow.session,
            user_id=user.id,
            name=name,
            lookup=lookup,
            secret_hash=_token_hash(secret),
            roles=wanted,
            created_by=by.user_id,
            created_at=now,
            expires_at=expires,
        )
        uow.commit()
        return IssuedToken(token_id, name, badge, wanted, expires, secret)

    return run_in_transaction(engine, work)


def revoke_token(engine: StoreEngine, by: Caller, token_id: int) -> user_rows.TokenRow:
    """Revoke a token at once; revoking one already revoked says so."""
    require(by, Action.TOKENS_REVOKE)
    now = utcnow()

    def work(uow: UnitOfWork) -> user_rows.TokenRow:
        row = user_rows.token_by_id(uow.session, token_id)
        if row is None:
            raise ValueError(f"there is no token {token_id}: `shipfloor tokens list` shows them")
        if row.revoked_at is not None:
            raise ValueError(f"token {token_id} ({row.name}) was revoked at {row.revoked_at:%c}")
        user_rows.revoke_token(uow.session, token_id, by.user_id, now)
        uow.commit()
        return row

    return run_in_transaction(engine, work)


def list_tokens(engine: StoreEngine, by: Caller) -> list[user_rows.TokenRow]:
    require(by, Action.TOKENS_LIST)
    with UnitOfWork(engine, read_only=True) as uow:
        return user_rows.tokens(uow.session)


def authenticate_token(engine: StoreEngine, token: str, *, now: datetime | None = None) -> Caller:
    """The user a token acts for, in the token's roles that the user still holds."""
    now = now or utcnow()
    token = token.strip()
    lookup = _lookup(token)
    if lookup is None:
        raise AccessRefused(
            f"that is not a Shipfloor API token (they start {TOKEN_PREFIX!r}): check the "
            "variable it is read from"
        )
    with UnitOfWork(engine, read_only=True) as uow:
        row = user_rows.token_for_use(uow.session, lookup)
    if row is None or not hmac.compare_digest(row.secret_hash, _token_hash(token)):
        raise AccessRefused("the API token is not known here: ask an admin for a new one")
    if row.revoked_at is not None:
        raise AccessRefused(
            f"the API token {row.name!r} was revoked at {row.revoked_at:%Y-%m-%d %H:%M} UTC: "
            "ask an admin for a new one"
        )
    if row.expires_at <= now:
        raise AccessRefused(
            f"the API token {row.name!r} expired at {row.expires_at:%Y-%m-%d %H:%M} UTC: "
            "ask an admin for a new one"
        )
    if not row.user_active:
        raise AccessRefused(
            f"the API token {row.name!r} acts for {row.badge}, who is no longer active"
        )
    return Caller(row.user_id, row.badge, row.user_name, row.roles & row.user_roles, row.name)
