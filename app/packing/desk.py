"""A pack bench as its flow uses it: the store, the packing catalogue and settings, the
station's scale and printers. One per running pack station (see ``app.terminal``).
"""

from __future__ import annotations

from collections.abc import Callable

from app.flows import Level
from app.hardware import wiring
from app.hardware.config import StationDevices
from app.hardware.stationprints import StationPrints
from app.packing import cartonize
from app.packing import station as pack
from app.packing.station import Bench, Closed, PackError, Printers, PrinterSpec, Unit, WeightCheck
from app.picking.station import local_today
from app.shipping.settings import ShippingSettings
from app.shipping.settings import load as load_shipping
from app.users import LoggedIn
from data.store import StoreEngine
from devices.errors import DeviceError


def printers_of(devices: StationDevices | None) -> Printers:
    """The station's label and documents printers: those named ``label`` and
    ``documents``, else the first ZPL and the first PDF printer, else queue-only names."""
    found = dict(devices.printers) if devices is not None else {}
    default = Printers.default()

    def pick(name: str, language: str, fallback: PrinterSpec) -> PrinterSpec:
        cfg = found.get(name) or next((p for p in found.values() if p.language == language), None)
        if cfg is None and name == "label":
            cfg = next(iter(found.values()), None)
        if cfg is None:
            return fallback
        return PrinterSpec(cfg.name, cfg.language, cfg.dpi)

    return Printers(
        pick("label", "zpl", default.label), pick("documents", "pdf", default.documents)
    )


class PackDesk:
    """What a pack bench does; every call is one or more whole transactions or a device."""

    def __init__(
        self,
        engine: StoreEngine,
        user: Callable[[], LoggedIn],
        devices: StationDevices | None,
    ) -> None:
        self._engine = engine
        self._user = user
        self.devices = devices
        self.printers = printers_of(devices)
        self._catalogue: pack.Catalogue | None = None
        self._shipping: ShippingSettings | None = None
        self._settings: pack.PackSettings | None = None
        self._scale = wiring.scale(devices.scale) if devices and devices.scale else None
        self._prints = StationPrints(engine, user, devices, "pack.print", "at the pack bench")

    @property
    def user(self) -> LoggedIn | None:
        try:
            return self._user()
        except ValueError:  # nobody is logged in
            return None

    @property
    def has_scale(self) -> bool:
        return self._scale is not None

    def _cat(self) -> pack.Catalogue:
        if self._catalogue is None:
            self._catalogue = pack.catalogue(self._engine)
        return self._catalogue

    def _ship(self) -> ShippingSettings:
        if self._shipping is None:
            self._shipping = load_shipping(self._engine)
        return self._shipping

    def _pack_settings(self) -> pack.PackSettings:
        if self._settings is None:
            self._settings = pack.load_settings(self._engine)
        return self._settings

    def open_tote(self, scan: str) -> Bench:
        # Catalogue and settings are read again for each order: an admin's change shows
        # at the next tote.
        self._catalogue = self._shipping = self._settings = None
        return pack.open_tote(self._engine, self._user(), scan, self._cat(), self._ship())

    def read_bench(self, bench: Bench) -> Bench:
        return pack.read_bench(self._engine, bench.shipment_ids, self._cat(), self._ship())

    def check_box(self, scan: str) -> cartonize.BoxType:
        return pack.check_box(self._cat(), scan)

    def check_unit(self, bench: Bench, scan: str, in_box: list[Unit]) -> Unit:
        today = local_today(self._user().node_timezone)
        return pack.check_unit(bench, scan, today, in_box)

    def check_fit(self, bench: Bench, box: cartonize.BoxType, units: list[Unit]) -> str:
        return pack.check_fit(bench, box, units, self._cat())

    def expected_weight(
        self, bench: Bench, box: cartonize.BoxType | None, in_box: list[Unit]
    ) -> int:
        return pack.expected_weight(bench, box, in_box, self._cat())

    def read_scale(self) -> int:
        if self._scale is None:
            raise PackError("this station has no scale: key the weight instead")
        try:
            reading = self._scale.read_stable()
        except DeviceError as exc:
            raise PackError(f"the scale did not give a weight: {exc}") from None
        return reading.grams

    def check_weight(self, measured_g: int, expected_g: int) -> WeightCheck:
        return pack.check_weight(self._pack_settings(), measured_g, expected_g)

    def override(self, badge: str, pin: str) -> tuple[int, str]:
        return pack.supervisor_override(self._engine, badge, pin)

    def note_weighing(
        self, bench: Bench, box: cartonize.BoxType | None, grams: int, expected_g: int
    ) -> None:
        pack.note_weighing(self._engine, self._user(), bench, box, grams, expected_g)

    def close_box(
        self,
        bench: Bench,
        box: cartonize.BoxType | None,
        in_box: list[Unit],
        weight_g: int,
        expected_g: int,
        override_by: int | None,
    ) -> Closed:
        user = self._user()
        return pack.close_box(
            self._engine,
            user,
            bench,
            box,
            in_box,
            weight_g,
            expected_g,
            override_by=override_by,
            printers=self.printers,
            ship=self._ship(),
            today=lambda: local_today(user.node_timezone),
        )

    def deliver_prints(self) -> list[tuple[Level, str]]:
        """Send this station's queued jobs to its printers; one line per job."""
        return self._prints.deliver()

    def retry_prints(self) -> list[tuple[Level, str]]:
        """Put this station's failed jobs back in the queue and send everything queued."""
        return self._prints.retry()

    def release(self, bench: Bench, why: str) -> None:
        pack.release(self._engine, self._user(), bench, why)

    def problem(self, bench: Bench, kind: str, line_id: int) -> str:
        return pack.problem(self._engine, self._user(), bench, kind, line_id, self._pack_settings())

    def damaged(self, bench: Bench, line_id: int) -> pack.Damaged:
        user = self._user()
        return pack.damaged(
            self._engine,
            user,
            bench,
            line_id,
            printers=self.printers,
            ship=self._ship(),
            today=lambda: local_today(user.node_timezone),
        )

    def heartbeat(self, bench: Bench) -> bool:
        return pack.heartbeat(self._engine, self._user(), bench)
