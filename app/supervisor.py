"""What a shift supervisor watches and does at the supervisor station: the node's pick
lists still on the floor, the ones whose terminal went quiet (no heartbeat for
``STALE_AFTER``) or that were paused, and taking a list back so anyone can claim it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.packing import station as pack
from app.picking import station
from app.picking.station import STALE_AFTER, StationError
from app.users import LoggedIn
from data import pick_station as rows
from data.models import PickListStatus, Role
from data.store import StoreEngine
from data.types import utcnow
from data.uow import UnitOfWork


@dataclass(frozen=True)
class ListOnFloor:
    """One pick list as the supervisor's queue shows it."""

    id: int
    wave_id: int
    zone: str
    status: str
    lines: int
    lines_done: int
    totes: int
    picker: str
    """Name and badge of who holds it (claimed) or held it last (paused: nobody)."""
    station: str
    quiet_seconds: float | None
    """Since the holding terminal's last heartbeat (claimed lists only)."""
    stale: bool
    """Claimed, but its terminal has been quiet long enough for anyone to take it over."""

    @property
    def needs_attention(self) -> bool:
        return self.stale or self.status == PickListStatus.PAUSED.value


@dataclass(frozen=True)
class ProblemOrder:
    """An order waiting on the problem shelf for the supervisor."""

    order_ref: str
    tote: str
    problem: str
    shelf: str


@dataclass(frozen=True)
class FloorQueue:
    at: datetime
    lists: tuple[ListOnFloor, ...]
    problems: tuple[ProblemOrder, ...] = ()
    """Orders the pack benches sent to the problem shelf (a unit missing or damaged)."""

    def count(self, status: str) -> int:
        return sum(item.status == status for item in self.lists)

    @property
    def stale(self) -> int:
        return sum(item.stale for item in self.lists)


def pick_queue(engine: StoreEngine, node_id: int, now: datetime | None = None) -> FloorQueue:
    """The node's released, claimed and paused pick lists, claimed ones first."""
    now = now or utcnow()
    with UnitOfWork(engine, read_only=True) as uow:
        found = rows.floor_lists(uow.session, node_id)
    lists = []
    for f in found:
        claimed = f.status is PickListStatus.CLAIMED
        quiet = (now - f.heartbeat_at).total_seconds() if claimed and f.heartbeat_at else None
        lists.append(
            ListOnFloor(
                id=f.id,
                wave_id=f.wave_id,
                zone=f.zone,
                status=f.status.value,
                lines=f.lines,
                lines_done=f.lines - f.lines_open,
                totes=f.totes,
                picker=f"{f.picker} ({f.badge})" if f.picker else "",
                station=f.station or "",
                quiet_seconds=quiet,
                stale=quiet is not None and quiet >= STALE_AFTER.total_seconds(),
            )
        )
    shelf = tuple(
        ProblemOrder(p.order_ref, p.tote or "", p.problem, p.shelf or "the problem shelf")
        for p in pack.problems(engine, node_id)
    )
    return FloorQueue(now, tuple(lists), shelf)


def take_back(
    engine: StoreEngine, who: LoggedIn, list_id: int, *, uow: UnitOfWork | None = None
) -> None:
    """Take a claimed or paused list back (released for anyone to claim): the picker's
    screen says so within a heartbeat. Only a supervisor, only at their own node."""
    if Role.SUPERVISOR not in who.roles:
        raise StationError(f"{who.name} is not a supervisor: only a supervisor takes lists back")
    station.take_back(engine, who.actor, list_id, node_code=who.node_code, uow=uow)
