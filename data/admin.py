"""What the site's administration reads and writes: stations, and the people on them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Node, Station, StationRole


@dataclass(frozen=True)
class StationListing:
    """A station as an admin lists it."""

    code: str
    role: StationRole
    node_code: str
    active: bool


def stations(session: Session) -> list[StationListing]:
    """Every station, by code."""
    rows = session.execute(
        select(Station.code, Station.role, Node.code, Station.active)
        .join(Node, Node.id == Station.node_id)
        .order_by(Station.code)
    )
    return [StationListing(*row) for row in rows]
