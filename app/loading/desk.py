"""A ship station's dock as its flow uses it: the store, the shipping settings and the
station's documents printer (for the manifest). One per running ship station (see
``app.terminal``)."""

from __future__ import annotations

from collections.abc import Callable

from app.flows import Level
from app.hardware.config import StationDevices
from app.hardware.stationprints import StationPrints
from app.loading import station as ship
from app.loading.station import ClosedOut, Dock, Loaded, LoadView, OpenLoad
from app.packing.desk import printers_of
from app.shipping.settings import ShippingSettings
from app.shipping.settings import load as load_shipping
from app.users import LoggedIn
from data.store import StoreEngine


class ShipDesk:
    """What a ship station does; every call is one or more whole transactions."""

    def __init__(
        self,
        engine: StoreEngine,
        user: Callable[[], LoggedIn],
        devices: StationDevices | None,
    ) -> None:
        self._engine = engine
        self._user = user
        self.devices = devices
        self.printer = printers_of(devices).documents
        self._prints = StationPrints(engine, user, devices, "ship.print", "at the ship station")
        self._shipping: ShippingSettings | None = None

    @property
    def user(self) -> LoggedIn | None:
        try:
            return self._user()
        except ValueError:  # nobody is logged in
            return None

    def _ship(self) -> ShippingSettings:
        if self._shipping is None:
            self._shipping = load_shipping(self._engine)
        return self._shipping

    def dock(self) -> Dock:
        # Settings are read again each time the shipper is back at the dock: an admin's
        # new carrier shows at the next load.
        self._shipping = None
        return ship.dock(self._engine, self._user())

    def door_of(self, scan: str) -> tuple[str, OpenLoad | None]:
        return ship.door_of(self._engine, self._user(), scan)

    def carriers(self) -> list[tuple[str, str]]:
        return [(c.code, c.name) for c in self._ship().carriers.values()]

    def open_load(self, door: str, carrier: str) -> LoadView:
        return ship.open_load(self._engine, self._user(), door, carrier, self._ship())

    def view(self, load_id: int) -> LoadView:
        return ship.view(self._engine, self._user(), load_id, self._ship())

    def load(self, load_id: int, scan: str) -> Loaded:
        return ship.load_package(self._engine, self._user(), load_id, scan, self._ship())

    def unload(self, load_id: int, scan: str) -> Loaded:
        return ship.unload_package(self._engine, self._user(), load_id, scan, self._ship())

    def close_out(self, load_id: int) -> ClosedOut:
        return ship.close_out(self._engine, self._user(), load_id, self._ship(), self.printer)

    def cancel_load(self, load_id: int) -> None:
        ship.cancel_load(self._engine, self._user(), load_id)

    def deliver_prints(self) -> list[tuple[Level, str]]:
        return self._prints.deliver()

    def retry_prints(self) -> list[tuple[Level, str]]:
        return self._prints.retry()
