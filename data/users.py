"""Users as the stations and commands look them up: by badge, with their roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from data.models import ApiToken, LoginEvent, Node, Role, Station, StationRole, User, UserRole


def roles_of(session: Session, user_id: int) -> frozenset[Role]:
    """The roles a user holds."""
    return frozenset(session.scalars(select(UserRole.role).where(UserRole.user_id == user_id)))


@dataclass(frozen=True)
class UserRow:
    id: int
    badge: str
    name: str
    active: bool
    roles: frozenset[Role]


def by_badge(session: Session, badge: str) -> UserRow | None:
    row = session.execute(
        select(User.id, User.badge, User.name, User.active).where(User.badge == badge)
    ).one_or_none()
    if row is None:
        return None
    roles = roles_of(session, row.id)
    return UserRow(row.id, row.badge, row.name, row.active, roles)


@dataclass(frozen=True)
class LoginRow:
    id: int
    badge: str
    name: str
    pin_hash: str
    active: bool
    failed_logins: int
    locked_until: datetime | None
    roles: frozenset[Role]


def for_login(session: Session, badge: str) -> LoginRow | None:
    """The user with this badge, locked for the login's transaction."""
    row = session.execute(
        select(
            User.id,
            User.badge,
            User.name,
            User.pin_hash,
            User.active,
            User.failed_logins,
            User.locked_until,
        )
        .where(User.badge == badge)
        .with_for_update()
    ).one_or_none()
    if row is None:
        return None
    roles = roles_of(session, row.id)
    return LoginRow(*row, roles=roles)  # type: ignore[misc]


def set_failures(
    session: Session, user_id: int, failures: int, locked_until: datetime | None
) -> None:
    session.execute(
        update(User)
        .where(User.id == user_id)
        .values(failed_logins=failures, locked_until=locked_until)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class StationRow:
    id: int
    code: str
    role: StationRole
    active: bool
    node_id: int
    node_code: str
    node_timezone: str


def station(session: Session, code: str) -> StationRow | None:
    row = session.execute(
        select(
            Station.id,
            Station.code,
            Station.role,
            Station.active,
            Node.id,
            Node.code,
            Node.timezone,
        )
        .join(Node, Node.id == Station.node_id)
        .where(Station.code == code)
    ).one_or_none()
    return StationRow(*row) if row else None


def add_login_event(
    session: Session,
    *,
    badge: str,
    user_id: int | None,
    station_id: int | None,
    outcome: str,
    at: datetime,
) -> None:
    session.execute(
        insert(LoginEvent).values(
            badge=badge[:80], user_id=user_id, station_id=station_id, outcome=outcome, at=at
        )
    )


def login_outcomes(session: Session, badge: str) -> list[str]:
    return list(
        session.scalars(
            select(LoginEvent.outcome).where(LoginEvent.badge == badge).order_by(LoginEvent.id)
        )
    )


# --- administration: people, stations, tokens ------------------------------------------


def add_user(
    session: Session, *, badge: str, name: str, pin_hash: str, roles: frozenset[Role], at: datetime
) -> int:
    user_id = session.execute(
        insert(User)
        .values(badge=badge, name=name, pin_hash=pin_hash, active=True, created_at=at)
        .returning(User.id)
    ).scalar_one()
    if roles:
        session.execute(insert(UserRole), [{"user_id": user_id, "role": r} for r in sorted(roles)])
    return user_id


def set_pin(session: Session, user_id: int, pin_hash: str) -> None:
    session.execute(
        update(User)
        .where(User.id == user_id)
        .values(pin_hash=pin_hash, failed_logins=0, locked_until=None)
        .execution_options(synchronize_session=False)
    )


def set_active(session: Session, user_id: int, active: bool) -> None:
    session.execute(
        update(User)
        .where(User.id == user_id)
        .values(active=active)
        .execution_options(synchronize_session=False)
    )


def any_admin(session: Session) -> bool:
    """Whether an active user holds the admin role."""
    return (
        session.execute(
            select(User.id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.ADMIN, User.active.is_(True))
            .limit(1)
        ).first()
        is not None
    )


@dataclass(frozen=True)
class UserListing:
    badge: str
    name: str
    active: bool
    locked_until: datetime | None
    roles: frozenset[Role]


def users(session: Session) -> list[UserListing]:
    """Every user, by badge."""
    roles: dict[int, set[Role]] = {}
    for user_id, role in session.execute(select(UserRole.user_id, UserRole.role)):
        roles.setdefault(user_id, set()).add(role)
    rows = session.execute(
        select(User.id, User.badge, User.name, User.active, User.locked_until).order_by(User.badge)
    )
    return [
        UserListing(r.badge, r.name, r.active, r.locked_until, frozenset(roles.get(r.id, ())))
        for r in rows
    ]


def node_id(session: Session, code: str) -> int | None:
    found: int | None = session.scalar(select(Node.id).where(Node.code == code))
    return found


def add_station(session: Session, *, code: str, name: str, node: int, role: StationRole) -> int:
    station_id: int = session.execute(
        insert(Station)
        .values(code=code, name=name, node_id=node, role=role, active=True)
        .returning(Station.id)
    ).scalar_one()
    return station_id


def _roles_text(roles: frozenset[Role]) -> str:
    return " ".join(sorted(r.value for r in roles))


def _roles_of(text_: str) -> frozenset[Role]:
    known = {r.value: r for r in Role}
    return frozenset(known[w] for w in text_.split() if w in known)


def add_token(
    session: Session,
    *,
    user_id: int,
    name: str,
    lookup: str,
    secret_hash: str,
    roles: frozenset[Role],
    created_by: int,
    created_at: datetime,
    expires_at: datetime,
) -> int:
    token_id: int = session.execute(
        insert(ApiToken)
        .values(
            user_id=user_id,
            name=name,
            lookup=lookup,
            secret_hash=secret_hash,
            roles=_roles_text(roles),
            created_by=created_by,
            created_at=created_at,
            expires_at=expires_at,
        )
        .returning(ApiToken.id)
    ).scalar_one()
    return token_id


@dataclass(frozen=True)
class TokenRow:
    """A token as an admin lists it (never its secret)."""

    id: int
    name: str
    badge: str
    roles: frozenset[Role]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


_TOKEN_LISTING = (
    select(
        ApiToken.id,
        ApiToken.name,
        User.badge,
        ApiToken.roles,
        ApiToken.created_at,
        ApiToken.expires_at,
        ApiToken.revoked_at,
    )
    .join(User, User.id == ApiToken.user_id)
    .order_by(ApiToken.id)
)


def _token_row(r: Any) -> TokenRow:
    return TokenRow(r[0], r[1], r[2], _roles_of(r[3]), r[4], r[5], r[6])


def tokens(session: Session) -> list[TokenRow]:
    return [_token_row(r) for r in session.execute(_TOKEN_LISTING)]


def token_by_id(session: Session, token_id: int) -> TokenRow | None:
    row = session.execute(_TOKEN_LISTING.where(ApiToken.id == token_id)).one_or_none()
    return _token_row(row) if row else None


def revoke_token(session: Session, token_id: int, by: int, at: datetime) -> None:
    session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=at, revoked_by=by)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class TokenForUse:
    """What checking a presented token needs."""

    name: str
    secret_hash: str
    roles: frozenset[Role]
    expires_at: datetime
    revoked_at: datetime | None
    user_id: int
    badge: str
    user_name: str
    user_active: bool
    user_roles: frozenset[Role]


def token_for_use(session: Session, lookup: str) -> TokenForUse | None:
    row = session.execute(
        select(
            ApiToken.name,
            ApiToken.secret_hash,
            ApiToken.roles,
            ApiToken.expires_at,
            ApiToken.revoked_at,
            User.id,
            User.badge,
            User.name,
            User.active,
        )
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.lookup == lookup)
    ).one_or_none()
    if row is None:
        return None
    user_roles = roles_of(session, row[5])
    return TokenForUse(
        row[0],
        row[1],
        _roles_of(row[2]),
        row[3],
        row[4],
        row[5],
        row[6],
        row[7],
        row[8],
        user_roles,
    )
