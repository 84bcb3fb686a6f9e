"""Site settings: small JSON values every station reads from the store."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from data.models import Channel, SiteSetting
from data.upsert import insert_on_conflict


def get(session: Session, key: str) -> str | None:
    """The setting's JSON text, or None when the site has not set it."""
    return session.scalar(select(SiteSetting.value).where(SiteSetting.key == key))


def put(session: Session, key: str, value: str, *, actor: str, at: datetime) -> None:
    """Set (or replace) a setting."""
    stmt = insert_on_conflict(session, SiteSetting).values(
        key=key, value=value, updated_at=at, updated_by=actor
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={"value": value, "updated_at": at, "updated_by": actor},
        )
    )


def channel_split_policies(session: Session) -> dict[str, int | None]:
    """Each channel's package limit (None: any split)."""
    return dict(session.execute(select(Channel.code, Channel.max_packages)).tuples().all())


def set_channel_split_policy(session: Session, channel: str, max_packages: int | None) -> bool:
    """Set a channel's package limit; False if there is no such channel."""
    result = session.execute(
        update(Channel)
        .where(Channel.code == channel)
        .values(max_packages=max_packages)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
