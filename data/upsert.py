"""INSERT … ON CONFLICT for whichever database the session is on (both speak it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

UpsertInsert = postgresql.Insert | sqlite.Insert


def insert_on_conflict(session: Session, table: Any) -> UpsertInsert:
    """An INSERT that can take ON CONFLICT DO NOTHING / DO UPDATE on this session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
