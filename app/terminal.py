"""What a station terminal may do, for the station UI: one object per running station.

The UI (``stations/``) never sees the store; it holds a :class:`Terminal` and calls it.
Every call is one or more whole transactions; none may run on the UI thread while the
screen waits (the UI runs them in a worker, in order).

Station behaviour the site may set, stored under the site setting ``station`` (JSON)::

    {"idle_logout_minutes": 10, "typed_quantity": true}

``typed_quantity`` lets a picker key a quantity instead of scanning each unit (never for
serial-tracked products).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app import admin, supervisor
from app.access import AccessRefused, Caller
from app.actor import Actor
from app.hardware.config import StationDevices
from app.loading.desk import ShipDesk
from app.packing.desk import PackDesk
from app.picking import station
from app.picking.station import ItemScan, PickDone, PickListView, Pulse, ShortResult, Task
from app.supervisor import FloorQueue
from app.users import LoggedIn, login, logout
from data import settings as site_settings
from data.store import StoreEngine
from data.types import utcnow
from data.uow import UnitOfWork, run_in_transaction

KEY = "station"


class StationSettingsError(ValueError):
    """A station setting that cannot be used."""


@dataclass(frozen=True)
class StationSettings:
    idle_logout_minutes: float = 10.0
    typed_quantity: bool = True

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> StationSettings:
        unknown = sorted(set(raw) - {"idle_logout_minutes", "typed_quantity"})
        if unknown:
            raise StationSettingsError(
                f"station settings: unknown field(s) {', '.join(unknown)}; known: "
                "idle_logout_minutes, typed_quantity"
            )
        minutes = raw.get("idle_logout_minutes", cls.idle_logout_minutes)
        if not isinstance(minutes, int | float) or isinstance(minutes, bool) or minutes <= 0:
            raise StationSettingsError(
                f"idle_logout_minutes: expected a positive number of minutes, got {minutes!r}"
            )
        typed = raw.get("typed_quantity", cls.typed_quantity)
        if not isinstance(typed, bool):
            raise StationSettingsError(f"typed_quantity: expected true or false, got {typed!r}")
        return cls(float(minutes), typed)


class Terminal:
    """One station PC's connection to the store, logged in or not."""

    def __init__(
        self,
        engine: StoreEngine,
        station_code: str,
        role: str,
        devices: StationDevices | None = None,
    ) -> None:
        self._engine = engine
        self.station_code = station_code
        self.role = role
        self.devices = devices
        """The station's scanners, scale and printers from the device file, if it has any."""
        self.user: LoggedIn | None = None
        self.settings = self._load_settings()
        self._desk: PackDesk | None = None
        self._dock: ShipDesk | None = None

    def _load_settings(self) -> StationSettings:
        return load_settings(self._engine)

    # --- people --------------------------------------------------------------------

    def login(self, badge_scan: str, pin: str) -> LoggedIn:
        self.user = login(self._engine, self.station_code, self.role, badge_scan, pin)
        return self.user

    def logout(self, *, idle: bool = False) -> None:
        if self.user is not None:
            logout(self._engine, self.user, idle=idle)
        self.user = None

    def _who(self) -> LoggedIn:
        if self.user is None:
            raise station.StationError("log in first: scan your badge")
        return self.user

    @property
    def actor(self) -> Actor:
        return self._who().actor

    # --- picking -------------------------------------------------------------------

    def claim_next(self) -> PickListView | None:
        return station.claim_next(self._engine, self._who())

    def claim_list(self, list_id: int) -> PickListView:
        return station.claim_list(self._engine, self._who(), list_id)

    def view(self, list_id: int) -> PickListView:
        return station.view(self._engine, list_id)

    def set_tote(self, list_id: int, slot: int, scan: str) -> PickListView:
        return station.set_tote(self._engine, self._who(), list_id, slot, scan)

    def check_location(self, task: Task, scan: str) -> None:
        station.check_location(task, scan)

    def check_item(self, task: Task, scan: str, counted: Sequence[ItemScan]) -> ItemScan:
        return station.check_item(
            task, scan, station.local_today(self._who().node_timezone), counted
        )

    def typed_units(self, task: Task, quantity: int, counted: Sequence[ItemScan]) -> ItemScan:
        """Units keyed as a number instead of scanned one by one, where the site allows."""
        if not self.settings.typed_quantity:
            raise station.StationError("scan each unit: this site does not take typed quantities")
        if task.track_serial or task.track_lot or task.track_expiry:
            raise station.StationError(
                f"{task.sku} is tracked (lot, serial or expiry): scan each unit's barcode"
            )
        already = sum(i.count for i in counted)
        if quantity <= 0:
            raise station.StationError(f"type a quantity from 1 to {task.left - already}")
        if already + quantity > task.left:
            raise station.StationError(
                f"over-pick: {task.left} to pick here, {already} scanned, {quantity} typed"
            )
        return ItemScan(lot=task.lot, serial="", expiry=None, count=quantity)

    def check_tote(self, task: Task, scan: str) -> str:
        return station.check_tote(task, scan)

    def confirm(self, list_id: int, task_id: int, items: Sequence[ItemScan], tote: str) -> PickDone:
        """Commit the pick (the screen reads the list again on its own: a failed read must
        not look like a failed pick)."""
        return station.confirm_pick(self._engine, self._who(), list_id, task_id, items, tote)

    def short(self, list_id: int, task_id: int, reason: str) -> ShortResult:
        return station.short_pick(self._engine, self._who(), list_id, task_id, reason)

    def skip(self, list_id: int, task_id: int) -> PickListView:
        return station.skip(self._engine, self._who(), list_id, task_id)

    def pause(self, list_id: int) -> None:
        station.pause(self._engine, self._who(), list_id)

    def close_if_empty(self, list_id: int) -> PickListView:
        """Finish a list that has nothing left to pick; the list as it then stands."""
        return station.close_if_empty(self._engine, self._who(), list_id)

    def heartbeat(self, list_id: int) -> Pulse:
        return station.heartbeat(self._engine, self._who(), list_id)

    # --- packing ---------------------------------------------------------------------

    def pack_desk(self) -> PackDesk:
        """The pack bench of this station (its scale and printers), made once."""
        if self._desk is None:
            self._desk = PackDesk(self._engine, self._who, self.devices)
        return self._desk

    # --- shipping --------------------------------------------------------------------

    def ship_desk(self) -> ShipDesk:
        """The dock of this ship station (its documents printer for manifests), made once."""
        if self._dock is None:
            self._dock = ShipDesk(self._engine, self._who, self.devices)
        return self._dock

    # --- supervising ----------------------------------------------------------------

    def pick_queue(self) -> FloorQueue:
        return supervisor.pick_queue(self._engine, self._who().node_id)

    def take_back(self, list_id: int) -> None:
        supervisor.take_back(self._engine, self._who(), list_id)

    def unlock(self, badge: str) -> str:
        """Unlock a badge locked by wrong PINs (a supervisor's); returns the person's name.
        Refused (StationError) with the reason: an unknown badge, or no right to."""
        who = self._who()
        caller = Caller(who.user_id, who.badge, who.name, who.roles)
        try:
            return admin.unlock_badge(self._engine, caller, badge)
        except (admin.AdminError, AccessRefused) as exc:
            raise station.StationError(str(exc)) from None


StationError = station.StationError
SHORT_REASONS = tuple(station.SHORT_REASONS)
HEARTBEAT_EVERY = station.HEARTBEAT_EVERY


def load_settings(engine: StoreEngine) -> StationSettings:
    with UnitOfWork(engine, read_only=True) as uow:
        text = site_settings.get(uow.session, KEY)
    return StationSettings.from_dict(json.loads(text)) if text else StationSettings()


def save_settings(engine: StoreEngine, changes: dict[str, Any], actor: Actor) -> StationSettings:
    """Apply ``changes`` on top of the stored station settings."""
    current = load_settings(engine)
    merged = StationSettings.from_dict(
        {
            "idle_logout_minutes": current.idle_logout_minutes,
            "typed_quantity": current.typed_quantity,
            **changes,
        }
    )

    def work(uow: UnitOfWork) -> None:
        site_settings.put(
            uow.session,
            KEY,
            json.dumps(
                {
                    "idle_logout_minutes": merged.idle_logout_minutes,
                    "typed_quantity": merged.typed_quantity,
                }
            ),
            actor=actor.name,
            at=utcnow(),
        )
        uow.commit()

    run_in_transaction(engine, work)
    return merged
