"""The site's administration: which stations exist, checked before a station starts."""

from __future__ import annotations

from data import admin as admin_rows
from data.store import StoreEngine
from data.uow import UnitOfWork


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
