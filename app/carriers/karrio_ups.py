"""UPS through karrio: an adapter implementing :class:`~app.carriers.api.CarrierApi`.

karrio (https://karrio.io, LGPL-3.0, used unmodified as a library) is a maintained
multi-carrier shipping SDK: its UPS plugin speaks UPS's REST API (OAuth token, Rating, Ship,
Void, Track) and parses its answers, so Shipfloor keeps no hand-written UPS client.

Configuration (never the store, never printed):

* ``SHIPFLOOR_UPS_CLIENT_ID``, ``SHIPFLOOR_UPS_CLIENT_SECRET``, ``SHIPFLOOR_UPS_ACCOUNT``; or
* a TOML file named by ``SHIPFLOOR_CARRIER_CREDENTIALS`` with a ``[ups]`` table of
  ``client_id``, ``client_secret``, ``account_number`` and optionally ``server_url`` (UPS's
  sandbox ``https://wwwcie.ups.com`` or a local fake; production by default). A variable
  that is set wins over the file.

Deadlines: karrio's UPS connector sets no HTTP timeout, so a UPS that stalls would block a
station forever. Every request karrio makes for an :class:`UpsApi` carries a socket timeout
equal to what is left of the call's deadline (``timeout``, 10 s by default): the call
returns once the deadline has passed without an answer (a server trickling bytes can stretch
that only by as long as each single read may wait). This is done by wrapping
``karrio.lib.request`` once; the wrapper changes nothing for requests that are not this
module's (it recognises them by the trace callback of this module's settings), and it also
records the HTTP status that karrio itself does not report, which tells a server error from a
reply that could not be read.

Idempotency: ``create`` sends its ``idempotency_key`` as the shipment's reference
(``TransactionReference.CustomerContext``, and the shipment's ``ReferenceNumber`` outside
US/PR domestic). A carrier (or fake) that deduplicates on it never creates two shipments for
one key; UPS itself does not promise to, which is why an unanswered create is reported
with ``outcome_unknown`` and must be resolved (voided or looked up), not blindly repeated.

Calls on one :class:`UpsApi` are serialised (one at a time): each call's deadline and what
its HTTP exchange saw belong to that object.
"""

from __future__ import annotations

import base64
import binascii
import math
import os
import socket
import threading
import time
import tomllib
import urllib.error
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal
from urllib.parse import urlsplit

from loguru import logger

# karrio logs every request through loguru to stderr (some at import): silence it before
# importing it; failures reach the caller as CarrierError instead.
logger.disable("karrio")

with warnings.catch_warnings():
    # karrio imports PyPDF2, which warns that it is deprecated on import; not ours to fix.
    warnings.filterwarnings("ignore", "PyPDF2 is deprecated", DeprecationWarning)
    import karrio.lib as karrio_lib
    import karrio.sdk as karrio
    from karrio.core import models as karrio_models
    from karrio.mappers.ups.settings import Settings as _KarrioUpsSettings

from app.carriers.api import (  # noqa: E402
    Address,
    CarrierError,
    Label,
    Rate,
    Shipment,
    TrackingEvent,
)

ENV_CLIENT_ID = "SHIPFLOOR_UPS_CLIENT_ID"
ENV_CLIENT_SECRET = "SHIPFLOOR_UPS_CLIENT_SECRET"
ENV_ACCOUNT = "SHIPFLOOR_UPS_ACCOUNT"
ENV_CREDENTIALS_FILE = "SHIPFLOOR_CARRIER_CREDENTIALS"

PRODUCTION_URL = "https://onlinetools.ups.com"
DEFAULT_TIMEOUT_S = 10.0

_INTERNAL_ERROR = "SHIPPING_SDK_INTERNAL_ERROR"
_MAX_CARRIER_TEXT = 300


# --- credentials ------------------------------------------------------------------------


@dataclass(frozen=True)
class UpsCredentials:
    """A UPS API account: the OAuth client and the shipper account number."""

    client_id: str
    client_secret: str = field(repr=False)
    account_number: str
    server_url: str = PRODUCTION_URL

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None) -> UpsCredentials:
        """The credentials from the environment, or from the file it names.

        Raises :class:`CarrierError` naming the variable to set when one is missing.
        """
        env = os.environ if environ is None else environ
        table = _credentials_table(env.get(ENV_CREDENTIALS_FILE, ""))
        fields = (
            ("client_id", ENV_CLIENT_ID),
            ("client_secret", ENV_CLIENT_SECRET),
            ("account_number", ENV_ACCOUNT),
        )
        values: dict[str, str] = {}
        for key, variable in fields:
            value = env.get(variable) or table.get(key, "")
            if not value:
                raise CarrierError(
                    f"The UPS {key.replace('_', ' ')} is missing: set {variable}, or {key} in "
                    f"the [ups] table of the TOML file named by {ENV_CREDENTIALS_FILE}."
                )
            values[key] = value
        server_url = (table.get("server_url") or PRODUCTION_URL).rstrip("/")
        if urlsplit(server_url).scheme not in ("http", "https"):
            raise CarrierError(
                f"The UPS server_url in {env.get(ENV_CREDENTIALS_FILE)} is not an http(s) URL."
            )
        return cls(server_url=server_url, **values)


def _credentials_table(path: str) -> dict[str, str]:
    """The ``[ups]`` table of the credentials file (empty when no file is named)."""
    if not path:
        return {}
    try:
        with open(path, "rb") as file:
            document = tomllib.load(file)
    except OSError as exc:
        raise CarrierError(
            f"The carrier credentials file {path} (named by {ENV_CREDENTIALS_FILE}) cannot be "
            f"read: {exc.strerror or type(exc).__name__}."
        ) from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message gives the line and column, never the text there.
        raise CarrierError(
            f"The carrier credentials file {path} is not valid TOML: {exc}."
        ) from None
    table = document.get("ups", {})
    if not isinstance(table, dict):
        raise CarrierError(f"In the carrier credentials file {path}, ups is not a table.")
    allowed = {"client_id", "client_secret", "account_number", "server_url"}
    for key, value in table.items():
        if key not in allowed:
            raise CarrierError(
                f"The [ups] table of {path} has an unknown key {key!r}; "
                f"it takes {', '.join(sorted(allowed))}."
            )
        if not isinstance(value, str):
            raise CarrierError(f"In the [ups] table of {path}, {key} must be a string.")
    return dict(table)


# --- the HTTP deadline and what the exchange saw -----------------------------------------


@dataclass
class _Exchange:
    """What the HTTP requests of one call saw."""

    deadline: float
    requests: int = 0
    status: int | None = None
    timed_out: bool = False
    refused: str = ""
    """Why nothing could be sent (connection refused, unknown host): UPS never saw it."""
    lost: str = ""
    """A connection lost after sending: UPS may have acted on it."""


class _Transport:
    """The deadline of the call in progress and the record of its requests."""

    def __init__(self) -> None:
        self.exchange = _Exchange(deadline=math.inf)

    def begin(self, timeout: float) -> _Exchange:
        self.exchange = _Exchange(deadline=time.monotonic() + timeout)
        return self.exchange

    def send(self, request: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        exchange = self.exchange
        remaining = exchange.deadline - time.monotonic()
        if remaining <= 0:
            exchange.timed_out = True
            raise TimeoutError("the call's deadline passed before this request")
        if kwargs.get("timeout") is None or kwargs["timeout"] > remaining:
            kwargs["timeout"] = remaining
        on_error = kwargs.get("on_error")
        error_status: list[int] = []

        def record_error(error: urllib.error.HTTPError) -> Any:
            error_status.append(error.code)
            if on_error is not None:
                return on_error(error)
            return _decode(error.read())

        kwargs["on_error"] = record_error
        exchange.requests += 1
        try:
            result = request(*args, **kwargs)
        except TimeoutError:
            exchange.timed_out = True
            raise
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                exchange.timed_out = True
            elif isinstance(exc.reason, ConnectionRefusedError | socket.gaierror):
                exchange.refused = str(exc.reason)
            else:
                exchange.lost = str(exc.reason)
            raise
        except OSError as exc:
            exchange.lost = str(exc) or type(exc).__name__
            raise
        exchange.status = error_status[0] if error_status else 200
        return result


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("iso-8859-1")


class _Trace:
    """The trace callback of this module's settings: records nothing, carries the transport.

    karrio's default tracer keeps every request and answer for the life of the gateway; an
    adapter that lives as long as a station would grow without bound.
    """

    def __init__(self, transport: _Transport) -> None:
        self.transport = transport

    def __call__(self, data: Any, *_args: Any, **_kwargs: Any) -> Any:
        return data


_karrio_request: Callable[..., Any] = karrio_lib.request
_install_lock = threading.Lock()


def _request_with_deadline(*args: Any, **kwargs: Any) -> Any:
    trace = kwargs.get("trace")
    if isinstance(trace, _Trace):
        return trace.transport.send(_karrio_request, *args, **kwargs)
    return _karrio_request(*args, **kwargs)


def _install_deadline() -> None:
    """Route karrio's requests through :func:`_request_with_deadline` (once)."""
    with _install_lock:
        if karrio_lib.request is not _request_with_deadline:
            karrio_lib.request = _request_with_deadline


class _Settings(_KarrioUpsSettings):  # type: ignore[misc]
    """karrio's UPS settings with the server chosen by the credentials and a quiet trace.

    karrio's ``server_url`` is a property (its sandbox in test mode, production otherwise);
    overriding it is how karrio lets a connection point elsewhere.
    """

    shipfloor_server_url: str = PRODUCTION_URL
    shipfloor_trace: _Trace | None = None

    @property
    def server_url(self) -> str:
        return self.shipfloor_server_url

    def trace(self, data: Any, *_args: Any, **_kwargs: Any) -> Any:
        return data

    def trace_as(self, _format: str) -> Any:
        return self.shipfloor_trace


# --- the adapter ---------------------------------------------------------------------------


class UpsApi:
    """UPS's API through karrio's UPS gateway (built once: it caches the OAuth token)."""

    def __init__(
        self,
        credentials: UpsCredentials | None = None,
        *,
        code: str = "ups",
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        creds = credentials if credentials is not None else UpsCredentials.load()
        self.code = code
        self.timeout = timeout
        self._server_url = creds.server_url
        self._account = creds.account_number
        self._secrets = _secret_forms(creds)
        self._transport = _Transport()
        self._lock = threading.Lock()
        _install_deadline()
        settings = _Settings(
            client_id=creds.client_id,
            client_secret=creds.client_secret,
            account_number=creds.account_number,
            test_mode=False,
        )
        settings.shipfloor_server_url = creds.server_url
        settings.shipfloor_trace = _Trace(self._transport)
        self._gateway = karrio.gateway["ups"].create(settings)

    @property
    def timeout(self) -> float:
        """Seconds a call may take before it fails (retryable; a create's outcome unknown)."""
        return self._timeout

    @timeout.setter
    def timeout(self, seconds: float) -> None:
        if not seconds > 0:
            raise ValueError(f"a carrier call's timeout must be positive, not {seconds!r}")
        self._timeout = float(seconds)

    def __repr__(self) -> str:
        return (
            f"UpsApi(code={self.code!r}, server_url={self._server_url!r}, "
            f"account={self._account!r}, timeout={self._timeout:g})"
        )

    # --- the four calls ---

    def rate(self, shipment: Shipment) -> list[Rate]:
        request = karrio_models.RateRequest(
            shipper=_address(shipment.ship_from),
            recipient=_address(shipment.ship_to),
            parcels=[_parcel(shipment)],
            reference=shipment.reference,
        )
        with self._call() as exchange:
            rates, messages = karrio.Rating.fetch(request).from_(self._gateway).parse()
        if not rates and (failure := self._failure("rating the parcel", messages, exchange)):
            raise failure
        result = []
        for rate in rates:
            price = _decimal(rate.total_charge)
            if price is None:
                raise CarrierError(
                    f"UPS's reply to rating the parcel could not be read: the price of "
                    f"{rate.service} is {rate.total_charge!r}.",
                    retryable=True,
                )
            result.append(
                Rate(
                    carrier=self.code,
                    service=str(rate.service),
                    price=price,
                    currency=str(rate.currency or ""),
                    days=int(rate.transit_days) if rate.transit_days is not None else None,
                )
            )
        return result

    def create(
        self, shipment: Shipment, service: str, idempotency_key: str, label_format: str
    ) -> Label:
        if label_format not in ("zpl", "pdf"):
            raise CarrierError(f"A UPS label is ZPL or PDF, not {label_format!r}.")
        fmt: Literal["zpl", "pdf"] = "zpl" if label_format == "zpl" else "pdf"
        if not idempotency_key.strip():
            raise CarrierError("A UPS shipment needs an idempotency key; none was given.")
        request = karrio_models.ShipmentRequest(
            service=service,
            shipper=_address(shipment.ship_from),
            recipient=_address(shipment.ship_to),
            parcels=[_parcel(shipment)],
            label_type=fmt.upper(),
            reference=idempotency_key,
        )
        with self._call() as exchange:
            created, messages = karrio.Shipment.create(request).from_(self._gateway).parse()
        if created is None:
            failure = self._failure("creating the shipment", messages, exchange, creating=True)
            raise failure or CarrierError(
                "UPS answered the shipment request without a shipment or an error; it may "
                "have been created: retry only with the same idempotency key.",
                retryable=True,
                outcome_unknown=True,
            )
        tracking_number = str(created.tracking_number or "")
        received = str(created.label_type or "").lower()
        encoded = getattr(created.docs, "label", None) or ""
        try:
            content = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            content = b""
        what = ""
        if not tracking_number:
            what = "no tracking number"
        elif received != fmt:
            what = f"a {received.upper() or 'missing'} label, not {fmt.upper()}"
        elif not content:
            what = "a label that could not be decoded"
        if what:
            raise CarrierError(
                f"UPS created shipment {tracking_number or '(unknown)'} but sent {what}; "
                "void it and create it again.",
                retryable=False,
            )
        return Label(
            carrier=self.code,
            service=service,
            tracking_number=tracking_number,
            format=fmt,
            content=content,
            price=_decimal(getattr(created.selected_rate, "total_charge", None)),
        )

    def void(self, tracking_number: str) -> None:
        request = karrio_models.ShipmentCancelRequest(shipment_identifier=tracking_number)
        with self._call() as exchange:
            confirmation, messages = karrio.Shipment.cancel(request).from_(self._gateway).parse()
        if confirmation is not None and confirmation.success:
            return
        action = f"voiding {tracking_number}"
        raise self._failure(action, messages, exchange) or CarrierError(
            f"UPS did not confirm {action}.", retryable=True
        )

    def track(self, tracking_number: str) -> list[TrackingEvent]:
        request = karrio_models.TrackingRequest(tracking_numbers=[tracking_number])
        with self._call() as exchange:
            details, messages = karrio.Tracking.fetch(request).from_(self._gateway).parse()
        if not details:
            failure = self._failure(f"tracking {tracking_number}", messages, exchange)
            if failure:
                raise failure
            return []
        return [
            TrackingEvent(
                at=_local_time(event.timestamp),
                status=str(event.status or event.code or ""),
                description=str(event.description or ""),
                location=str(event.location or ""),
            )
            for info in details
            for event in (info.events or [])
        ]

    # --- internals ---

    @contextmanager
    def _call(self) -> Iterator[_Exchange]:
        """One call: serialised on this adapter, with a fresh deadline and exchange record."""
        with self._lock:
            yield self._transport.begin(self._timeout)

    def _failure(
        self,
        action: str,
        messages: list[Any],
        exchange: _Exchange,
        *,
        creating: bool = False,
    ) -> CarrierError | None:
        """The CarrierError for a call that brought no result, or None if nothing failed."""
        texts = tuple(self._scrub(_message_text(m)) for m in messages)
        said = f": {'; '.join(t.rstrip('.') for t in texts)}" if texts else ""
        maybe_done = (
            " It may have been created anyway: retry only with the same idempotency key."
            if creating
            else ""
        )
        if exchange.timed_out:
            return CarrierError(
                f"UPS did not answer {action} within {self._timeout:g} s; try again." + maybe_done,
                retryable=True,
                outcome_unknown=creating,
                details=texts,
            )
        if exchange.refused:
            host = urlsplit(self._server_url).netloc
            return CarrierError(
                f"UPS could not be reached at {host} for {action} "
                f"({self._scrub(exchange.refused)}); try again.",
                retryable=True,
                details=texts,
            )
        if exchange.lost:
            return CarrierError(
                f"The connection to UPS was lost while {action} "
                f"({self._scrub(exchange.lost)}); try again." + maybe_done,
                retryable=True,
                outcome_unknown=creating,
                details=texts,
            )
        status = exchange.status
        if status == 429:
            return CarrierError(
                f"UPS is limiting requests (HTTP 429) and refused {action} for now{said}; "
                "try again shortly.",
                retryable=True,
                details=texts,
            )
        if status is not None and status >= 500:
            # A gateway error (502, 504) means UPS's own answer never came back.
            unknown = creating and status in (502, 504)
            return CarrierError(
                f"UPS failed with a server error (HTTP {status}) while {action}; try again."
                + (maybe_done if unknown else ""),
                retryable=True,
                outcome_unknown=unknown,
                details=texts,
            )
        if status in (401, 403):
            return CarrierError(
                f"UPS refused the credentials (HTTP {status}) while {action}{said}. Check "
                f"{ENV_CLIENT_ID}, {ENV_CLIENT_SECRET} and {ENV_ACCOUNT}.",
                details=texts,
            )
        if not messages:
            return None
        internal = all(getattr(m, "code", None) in (None, _INTERNAL_ERROR) for m in messages)
        if internal and exchange.requests == 0:
            return CarrierError(
                f"The request for {action} could not be prepared for UPS{said}.",
                details=texts,
            )
        if internal and status is not None and status >= 400:
            return CarrierError(
                f"UPS refused {action} (HTTP {status}) with a reply that could not be read{said}.",
                details=texts,
            )
        if internal:
            return CarrierError(
                f"UPS's reply to {action} could not be read{said}; try again." + maybe_done,
                retryable=True,
                outcome_unknown=creating,
                details=texts,
            )
        http = f" (HTTP {status})" if status and status >= 400 else ""
        return CarrierError(f"UPS refused {action}{http}{said}.", details=texts)

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        if len(text) > _MAX_CARRIER_TEXT:
            text = text[: _MAX_CARRIER_TEXT - 1] + "…"
        return text


def _secret_forms(creds: UpsCredentials) -> tuple[str, ...]:
    """The secret as text could carry it: plain, and inside an HTTP Basic credential."""
    basic = base64.b64encode(f"{creds.client_id}:{creds.client_secret}".encode()).decode()
    return tuple(s for s in (creds.client_secret, basic) if s)


def _message_text(message: Any) -> str:
    code = getattr(message, "code", None)
    text = str(getattr(message, "message", "") or "").strip()
    if code and code != _INTERNAL_ERROR:
        return f"{code} {text}".strip()
    return text or str(code or "unknown error")


def _address(address: Address) -> Any:
    lines = address.lines
    return karrio_models.Address(
        person_name=address.name,
        company_name=address.company or None,
        address_line1=lines[0] if lines else "",
        address_line2=", ".join(lines[1:]) or None,
        city=address.city,
        postal_code=address.postal_code,
        country_code=address.country,
        state_code=address.region or None,
        phone_number=address.phone or None,
        email=address.email or None,
    )


def _parcel(shipment: Shipment) -> Any:
    return karrio_models.Parcel(
        weight=shipment.weight_g / 1000,
        weight_unit="KG",
        length=shipment.length_mm / 10,
        width=shipment.width_mm / 10,
        height=shipment.height_mm / 10,
        dimension_unit="CM",
        reference_number=shipment.reference or None,
    )


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _local_time(timestamp: str | None) -> datetime | None:
    """An event's time: UPS gives the local time where it happened, without a zone.

    karrio writes it with a ``Z`` it does not have; it is kept naive (local to the event).
    """
    if not timestamp:
        return None
    try:
        return datetime.fromisoformat(timestamp.removesuffix("Z")).replace(tzinfo=None)
    except ValueError:
        return None


__all__ = [
    "DEFAULT_TIMEOUT_S",
    "ENV_ACCOUNT",
    "ENV_CLIENT_ID",
    "ENV_CLIENT_SECRET",
    "ENV_CREDENTIALS_FILE",
    "UpsApi",
    "UpsCredentials",
]
