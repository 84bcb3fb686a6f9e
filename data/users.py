"""Users as the stations and commands look them up: by badge, with their roles."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Role, User, UserRole


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
