"""The API of a carrier in the shipping settings, made once per process.

A carrier with ``"api": "ups"`` has its shipments created (and voided, and tracked) through
:class:`app.carriers.karrio_ups.UpsApi`, with the credentials of the environment or the
credentials file (never the store). Its service codes in the settings are karrio's UPS
service codes in capitals (``UPS_GROUND``, ``UPS_NEXT_DAY_AIR``…).
"""

from __future__ import annotations

import threading

from app.carriers.api import CarrierApi
from app.shipping.settings import Carrier

_made: dict[tuple[str, str], CarrierApi] = {}
_lock = threading.Lock()


def api_of(carrier: Carrier) -> CarrierApi | None:
    """The carrier's API, or None for a carrier whose labels are the site's own. Raises
    :class:`app.carriers.api.CarrierError` when its credentials are missing."""
    if not carrier.api:
        return None
    key = (carrier.code, carrier.api)
    with _lock:
        found = _made.get(key)
        if found is None:
            if carrier.api != "ups":
                raise ValueError(f"no adapter for carrier API {carrier.api!r}")
            from app.carriers.karrio_ups import UpsApi

            found = UpsApi(code=carrier.code)
            _made[key] = found
        return found


def forget() -> None:
    """Drop the APIs made (new credentials take effect at the next call)."""
    with _lock:
        _made.clear()


def service_name(code: str) -> str:
    """The API's name of a service code in the settings (karrio's codes are lower case)."""
    return code.lower()
