"""Users as the stations and commands look them up: by badge, with their roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from data.models import LoginEvent, Node, Role, Station, StationRole, User, UserRole


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
    roles = frozenset(session.scalars(select(UserRole.role).where(UserRole.user_id == row.id)))
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
    roles = frozenset(session.scalars(select(UserRole.role).where(UserRole.user_id == row.id)))
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
