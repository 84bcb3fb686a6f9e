"""The UPS adapter over karrio, against a fake UPS API on 127.0.0.1 (never the internet).

The fake speaks the shapes karrio's UPS plugin parses (OAuth token, Rating, Ship, Void,
Track), deduplicates shipments on their reference (the adapter's idempotency key), and can be
told to fail an endpoint: a 500, a 429, malformed JSON, a 400 validation error, a 401, or a
stall past the adapter's timeout.
"""

from __future__ import annotations

import base64
import io
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import pytest
from PIL import Image
from pypdf import PdfReader

from app.carriers.api import Address, CarrierApi, CarrierError, Shipment
from app.carriers.karrio_ups import (
    ENV_ACCOUNT,
    ENV_CLIENT_ID,
    ENV_CLIENT_SECRET,
    ENV_CREDENTIALS_FILE,
    UpsApi,
    UpsCredentials,
)

CLIENT_ID = "shipfloor-test-client"
SECRET = "s3cr3t-Zq9-never-print-me"
ACCOUNT = "A1B2C3"

T = TypeVar("T")


# --- the fake UPS API ------------------------------------------------------------------------

UPS_ERRORS = {
    "429": (429, {"response": {"errors": [{"code": "429", "message": "Rate limit exceeded"}]}}),
    "400": (
        400,
        {
            "response": {
                "errors": [
                    {
                        "code": "111210",
                        "message": "The requested service is unavailable between the "
                        "selected locations.",
                    }
                ]
            }
        },
    ),
    "401": (
        401,
        {
            "response": {
                "errors": [
                    # A careless carrier echoing the secret back: the adapter must not.
                    {"code": "250003", "message": f"Invalid Authentication Information {SECRET}"}
                ]
            }
        },
    ),
}


@dataclass
class FakeUps:
    url: str = ""
    fail: dict[str, str] = field(default_factory=dict)
    """endpoint (token, rate, ship, void, track) -> 500 | 429 | badjson | 400 | 401 | stall"""
    stall_s: float = 8.0
    tokens: int = 0
    shipments: dict[str, str] = field(default_factory=dict)
    """reference (idempotency key) -> tracking number: one shipment per reference."""
    ship_requests: int = 0
    voided: list[str] = field(default_factory=list)
    last_ship_request: dict[str, Any] = field(default_factory=dict)
    stopping: threading.Event = field(default_factory=threading.Event)

    def failure(self, endpoint: str) -> str:
        return self.fail.get(endpoint, "")


def rate_reply() -> dict[str, Any]:
    def rated(code: str, price: str, days: str) -> dict[str, Any]:
        return {
            "Service": {"Code": code, "Description": ""},
            "BillingWeight": {"UnitOfMeasurement": {"Code": "KGS"}, "Weight": "2.0"},
            "TransportationCharges": {"CurrencyCode": "USD", "MonetaryValue": price},
            "BaseServiceCharge": {"CurrencyCode": "USD", "MonetaryValue": price},
            "ServiceOptionsCharges": {"CurrencyCode": "USD", "MonetaryValue": "0.00"},
            "TotalCharges": {"CurrencyCode": "USD", "MonetaryValue": price},
            "TimeInTransit": {
                "ServiceSummary": {"EstimatedArrival": {"BusinessDaysInTransit": days}}
            },
        }

    return {
        "RateResponse": {
            "Response": {"ResponseStatus": {"Code": "1", "Description": "Success"}},
            "RatedShipment": [rated("03", "12.34", "3"), rated("01", "45.60", "1")],
        }
    }


def zpl_label(tracking: str) -> bytes:
    return f"^XA^FO50,50^A0N,40,40^FD{tracking}^FS^XZ".encode()


def png_label() -> bytes:
    out = io.BytesIO()
    Image.new("L", (120, 80), 255).save(out, "PNG")
    return out.getvalue()


def ship_reply(tracking: str, image_format: str) -> dict[str, Any]:
    image = zpl_label(tracking) if image_format == "ZPL" else png_label()
    return {
        "ShipmentResponse": {
            "Response": {"ResponseStatus": {"Code": "1", "Description": "Success"}},
            "ShipmentResults": {
                "ShipmentIdentificationNumber": tracking,
                "ShipmentCharges": {
                    "TotalCharges": {"CurrencyCode": "USD", "MonetaryValue": "12.34"}
                },
                "PackageResults": [
                    {
                        "TrackingNumber": tracking,
                        "ShippingLabel": {
                            "ImageFormat": {"Code": image_format},
                            "GraphicImage": base64.b64encode(image).decode(),
                        },
                    }
                ],
            },
        }
    }


def track_reply(tracking: str) -> dict[str, Any]:
    return {
        "trackResponse": {
            "shipment": [
                {
                    "package": [
                        {
                            "trackingNumber": tracking,
                            "activity": [
                                {
                                    "date": "20260108",
                                    "time": "101500",
                                    "status": {
                                        "type": "I",
                                        "description": "Departed from Facility",
                                        "code": "DP",
                                    },
                                    "location": {
                                        "address": {
                                            "city": "Louisville",
                                            "stateProvince": "KY",
                                            "country": "US",
                                        }
                                    },
                                },
                                {
                                    "date": "20260107",
                                    "time": "090000",
                                    "status": {
                                        "type": "M",
                                        "description": "Shipper created a label",
                                        "code": "MP",
                                    },
                                },
                            ],
                        }
                    ]
                }
            ]
        }
    }


def make_handler(fake: FakeUps) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def send(self, status: int, body: Any, content_type: str = "application/json") -> None:
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
            except OSError:
                pass  # the client gave up (a stall past its timeout)

        def fail(self, endpoint: str) -> bool:
            """Answer with the endpoint's failure, if it is told to fail."""
            mode = fake.failure(endpoint)
            if not mode:
                return False
            if mode == "stall":
                fake.stopping.wait(fake.stall_s)
                return False  # then answer normally, long after the client's deadline
            if mode == "500":
                self.send(500, b"Internal Server Error", "text/plain")
            elif mode == "badjson":
                self.send(200, b'{"RateResponse": {not json')
            else:
                status, body = UPS_ERRORS[mode]
                self.send(status, body)
            return True

        def body(self) -> dict[str, Any]:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                parsed = json.loads(raw or b"{}")
            except ValueError:
                return {}
            return parsed if isinstance(parsed, dict) else {}

        def authorised(self) -> bool:
            if self.headers.get("Authorization") == "Bearer fake-token":
                return True
            self.send(401, {"response": {"errors": [{"code": "250002", "message": "No token"}]}})
            return False

        def do_POST(self) -> None:
            if self.path == "/security/v1/oauth/token":
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                expected = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
                if self.headers.get("Authorization") != f"Basic {expected}":
                    status, body = UPS_ERRORS["401"]
                    self.send(status, body)
                    return
                if self.fail("token"):
                    return
                fake.tokens += 1
                self.send(
                    200,
                    {
                        "token_type": "Bearer",
                        "access_token": "fake-token",
                        "issued_at": str(int(time.time() * 1000)),
                        "expires_in": "14399",
                        "status": "approved",
                    },
                )
            elif self.path.startswith("/api/rating/"):
                self.body()
                if self.authorised() and not self.fail("rate"):
                    self.send(200, rate_reply())
            elif self.path.startswith("/api/shipments/") and self.path.endswith("/ship"):
                request = self.body()
                if not self.authorised():
                    return
                fake.ship_requests += 1
                fake.last_ship_request = request
                ship = request["ShipmentRequest"]
                reference = ship["Request"]["TransactionReference"]["CustomerContext"]
                image_format = ship["LabelSpecification"]["LabelImageFormat"]["Code"]
                mode = fake.failure("ship")
                if mode and mode != "stall" and self.fail("ship"):
                    return  # refused: nothing created
                if reference not in fake.shipments:
                    fake.shipments[reference] = f"1ZFAKE{len(fake.shipments) + 1:010d}"
                if self.fail("ship"):  # a stall: created, but the answer comes too late
                    return
                self.send(200, ship_reply(fake.shipments[reference], image_format))
            else:
                self.send(404, {"response": {"errors": [{"code": "404", "message": self.path}]}})

        def do_DELETE(self) -> None:
            if "/void/cancel/" not in self.path:
                self.send(404, {})
                return
            if not self.authorised() or self.fail("void"):
                return
            tracking = self.path.rsplit("/", 1)[-1]
            if tracking not in fake.shipments.values() or tracking in fake.voided:
                self.send(
                    400,
                    {
                        "response": {
                            "errors": [
                                {"code": "190117", "message": f"No shipment {tracking} to void"}
                            ]
                        }
                    },
                )
                return
            fake.voided.append(tracking)
            self.send(
                200,
                {
                    "VoidShipmentResponse": {
                        "Response": {"ResponseStatus": {"Code": "1", "Description": "Success"}},
                        "SummaryResult": {"Status": {"Code": "1", "Description": "Voided"}},
                    }
                },
            )

        def do_GET(self) -> None:
            if "/api/track/v1/details/" not in self.path:
                self.send(404, {})
                return
            if not self.authorised() or self.fail("track"):
                return
            tracking = self.path.split("/api/track/v1/details/")[1].split("?")[0]
            self.send(200, track_reply(tracking))

    return Handler


@pytest.fixture(autouse=True)
def no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection but to this machine fails the test."""
    connect = socket.create_connection

    def loopback_only(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        if address[0] not in ("127.0.0.1", "localhost"):
            pytest.fail(f"a test tried to reach {address[0]}")
        return connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", loopback_only)


@pytest.fixture
def fake() -> Iterator[FakeUps]:
    state = FakeUps()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    state.stopping.set()
    server.shutdown()
    server.server_close()


def credentials(url: str) -> UpsCredentials:
    return UpsCredentials(
        client_id=CLIENT_ID, client_secret=SECRET, account_number=ACCOUNT, server_url=url
    )


@pytest.fixture
def ups(fake: FakeUps) -> UpsApi:
    return UpsApi(credentials(fake.url), timeout=2.0)


SHIPMENT = Shipment(
    ship_from=Address(
        name="Shipfloor WH1",
        lines=("1 Dock Road",),
        city="New York",
        postal_code="10001",
        country="US",
        region="NY",
        phone="2125550100",
    ),
    ship_to=Address(
        name="Ada Customer",
        lines=("2 Palm Drive", "Apt 5"),
        city="Beverly Hills",
        postal_code="90210",
        country="US",
        region="CA",
        phone="3105550100",
    ),
    weight_g=900,
    length_mm=250,
    width_mm=200,
    height_mm=100,
    reference="SO-1001",
)


def guarded(call: Callable[[], T], limit_s: float = 20.0) -> T:
    """Run ``call`` and return or raise what it does; fail the test if it hangs."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # re-raised in the test's thread
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(limit_s)
    if worker.is_alive():
        pytest.fail(f"the carrier call was still blocked after {limit_s:g} s")
    if "error" in outcome:
        raise outcome["error"]
    value: T = outcome["value"]
    return value


def carrier_error(call: Callable[[], object]) -> CarrierError:
    with pytest.raises(CarrierError) as caught:
        guarded(call)
    return caught.value


def assert_no_secret(*texts: object) -> None:
    basic = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    for text in texts:
        for shown in (str(text), repr(text)):
            assert SECRET not in shown
            assert basic not in shown


# --- the four calls -------------------------------------------------------------------------


def test_it_is_a_carrier_api(ups: UpsApi) -> None:
    api: CarrierApi = ups
    assert api.code == "ups"
    assert ups.timeout == 2.0
    ups.timeout = 7
    assert ups.timeout == 7.0
    with pytest.raises(ValueError, match="positive"):
        ups.timeout = 0


def test_rate_returns_each_service_with_its_price(ups: UpsApi, fake: FakeUps) -> None:
    rates = ups.rate(SHIPMENT)
    assert [(r.service, r.price, r.currency, r.days) for r in rates] == [
        ("ups_ground", Decimal("12.34"), "USD", 3),
        ("ups_next_day_air", Decimal("45.60"), "USD", 1),
    ]
    assert {r.carrier for r in rates} == {"ups"}
    ups.rate(SHIPMENT)
    assert fake.tokens == 1, "the OAuth token is fetched once and cached by the gateway"


def test_create_returns_a_zpl_label_with_the_tracking_number(ups: UpsApi, fake: FakeUps) -> None:
    label = ups.create(SHIPMENT, "ups_ground", "pkg-0001", "zpl")
    assert label.tracking_number == "1ZFAKE0000000001"
    assert label.format == "zpl"
    assert label.carrier == "ups"
    assert label.service == "ups_ground"
    assert label.content.startswith(b"^XA")
    assert label.tracking_number.encode() in label.content
    ship = fake.last_ship_request["ShipmentRequest"]
    assert ship["Request"]["TransactionReference"]["CustomerContext"] == "pkg-0001"
    assert ship["Shipment"]["Service"]["Code"] == "03"
    assert ship["Shipment"]["Shipper"]["ShipperNumber"] == ACCOUNT
    assert ship["Shipment"]["Package"][0]["ReferenceNumber"]["Value"] == "SO-1001"


def test_create_returns_a_pdf_label(ups: UpsApi) -> None:
    label = ups.create(SHIPMENT, "ups_ground", "pkg-0002", "pdf")
    assert label.format == "pdf"
    assert label.content.startswith(b"%PDF")
    assert len(PdfReader(io.BytesIO(label.content)).pages) == 1


def test_the_same_idempotency_key_creates_one_shipment(ups: UpsApi, fake: FakeUps) -> None:
    first = ups.create(SHIPMENT, "ups_ground", "pkg-0003", "zpl")
    again = ups.create(SHIPMENT, "ups_ground", "pkg-0003", "zpl")
    other = ups.create(SHIPMENT, "ups_ground", "pkg-0004", "zpl")
    assert again.tracking_number == first.tracking_number
    assert other.tracking_number != first.tracking_number
    assert fake.shipments == {"pkg-0003": first.tracking_number, "pkg-0004": other.tracking_number}


def test_create_refuses_a_label_format_or_key_it_cannot_honour(ups: UpsApi) -> None:
    assert (
        "ZPL or PDF"
        in carrier_error(lambda: ups.create(SHIPMENT, "ups_ground", "k", "png")).message
    )
    assert (
        "idempotency key"
        in carrier_error(lambda: ups.create(SHIPMENT, "ups_ground", " ", "zpl")).message
    )


def test_void(ups: UpsApi, fake: FakeUps) -> None:
    label = ups.create(SHIPMENT, "ups_ground", "pkg-0005", "zpl")
    ups.void(label.tracking_number)
    assert fake.voided == [label.tracking_number]
    error = carrier_error(lambda: ups.void(label.tracking_number))
    assert not error.retryable
    assert error.message == (
        f"UPS refused voiding {label.tracking_number} (HTTP 400): "
        f"190117 No shipment {label.tracking_number} to void."
    )


def test_track_returns_the_events(ups: UpsApi) -> None:
    events = ups.track("1ZFAKE0000000001")
    assert [(e.at, e.status, e.description, e.location) for e in events] == [
        (local(2026, 1, 8, 10, 15), "in_transit", "Departed from Facility", "Louisville, KY, US"),
        (local(2026, 1, 7, 9, 0), "pending", "Shipper created a label", ""),
    ]


def local(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """UPS's event times are local to the event, without a zone: naive on purpose."""
    return datetime(year, month, day, hour, minute)  # noqa: DTZ001


# --- failures -------------------------------------------------------------------------------


def test_a_server_error_is_retryable(ups: UpsApi, fake: FakeUps) -> None:
    fake.fail["rate"] = "500"
    error = carrier_error(lambda: ups.rate(SHIPMENT))
    assert error.retryable
    assert not error.outcome_unknown
    assert error.message.startswith(
        "UPS failed with a server error (HTTP 500) while rating the parcel; try again."
    )


def test_a_server_error_on_create_is_retryable(ups: UpsApi, fake: FakeUps) -> None:
    fake.fail["ship"] = "500"
    error = carrier_error(lambda: ups.create(SHIPMENT, "ups_ground", "pkg-0006", "zpl"))
    assert error.retryable
    assert "HTTP 500" in error.message
    assert fake.shipments == {}


def test_a_rate_limit_is_retryable(ups: UpsApi, fake: FakeUps) -> None:
    fake.fail["rate"] = "429"
    error = carrier_error(lambda: ups.rate(SHIPMENT))
    assert error.retryable
    assert not error.outcome_unknown
    assert error.message == (
        "UPS is limiting requests (HTTP 429) and refused rating the parcel for now: "
        "429 Rate limit exceeded; try again shortly."
    )


def test_a_malformed_reply_is_retryable(ups: UpsApi, fake: FakeUps) -> None:
    fake.fail["rate"] = "badjson"
    error = carrier_error(lambda: ups.rate(SHIPMENT))
    assert error.retryable
    assert error.message.startswith("UPS's reply to rating the parcel could not be read")


def test_a_malformed_reply_to_create_leaves_its_outcome_unknown(ups: UpsApi, fake: FakeUps) -> None:
    fake.fail["ship"] = "badjson"
    error = carrier_error(lambda: ups.create(SHIPMENT, "ups_ground", "pkg-0007", "zpl"))
    assert error.retryable
    assert error.outcome_unknown
    assert "could not be read" in error.message
    assert "retry only with the same idempotency key" in error.message


def test_a_validation_error_is_not_retryable_and_says_what_ups_said(
    ups: UpsApi, fake: FakeUps
) -> None:
    fake.fail["ship"] = "400"
    error = carrier_error(lambda: ups.create(SHIPMENT, "ups_ground", "pkg-0008", "zpl"))
    assert not error.retryable
    assert not error.outcome_unknown
    assert error.message == (
        "UPS refused creating the shipment (HTTP 400): 111210 The requested service is "
        "unavailable between the selected locations."
    )
    assert error.details == (
        "111210 The requested service is unavailable between the selected locations.",
    )


def test_a_stall_on_rate_times_out_retryable(fake: FakeUps) -> None:
    ups = UpsApi(credentials(fake.url), timeout=1.0)
    ups.rate(SHIPMENT)  # the token, fetched before the stall
    fake.fail["rate"] = "stall"
    started = time.monotonic()
    error = carrier_error(lambda: ups.rate(SHIPMENT))
    assert time.monotonic() - started < 20
    assert error.retryable
    assert not error.outcome_unknown
    assert error.message == "UPS did not answer rating the parcel within 1 s; try again."


def test_a_stall_on_create_leaves_its_outcome_unknown(fake: FakeUps) -> None:
    ups = UpsApi(credentials(fake.url), timeout=1.0)
    fake.fail["ship"] = "stall"
    error = carrier_error(lambda: ups.create(SHIPMENT, "ups_ground", "pkg-0009", "zpl"))
    assert error.retryable
    assert error.outcome_unknown
    assert error.message == (
        "UPS did not answer creating the shipment within 1 s; try again. It may have been "
        "created anyway: retry only with the same idempotency key."
    )
    # UPS did create it; the retry with the same key gets that shipment, not a second one.
    del fake.fail["ship"]
    label = guarded(lambda: ups.create(SHIPMENT, "ups_ground", "pkg-0009", "zpl"))
    assert fake.shipments == {"pkg-0009": label.tracking_number}
    assert fake.ship_requests == 2


def test_a_stalled_token_request_times_out_too(fake: FakeUps) -> None:
    ups = UpsApi(credentials(fake.url), timeout=1.0)
    fake.fail["token"] = "stall"
    error = carrier_error(lambda: ups.track("1ZFAKE0000000001"))
    assert error.retryable
    assert "did not answer tracking 1ZFAKE0000000001 within 1 s" in error.message


def test_an_unreachable_carrier_is_retryable_and_nothing_was_created() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ups = UpsApi(credentials(f"http://127.0.0.1:{port}"), timeout=2.0)
    error = carrier_error(lambda: ups.create(SHIPMENT, "ups_ground", "pkg-0010", "zpl"))
    assert error.retryable
    assert not error.outcome_unknown
    assert error.message.startswith(f"UPS could not be reached at 127.0.0.1:{port} for creating")


def test_refused_credentials_name_the_variables_and_never_the_secret(fake: FakeUps) -> None:
    ups = UpsApi(
        UpsCredentials(
            client_id=CLIENT_ID, client_secret="wrong", account_number=ACCOUNT, server_url=fake.url
        )
    )
    error = carrier_error(lambda: ups.rate(SHIPMENT))
    assert not error.retryable
    assert "HTTP 401" in error.message
    assert ENV_CLIENT_SECRET in error.message


def test_the_secret_never_appears_in_repr_or_errors(ups: UpsApi, fake: FakeUps) -> None:
    errors: list[CarrierError] = []
    for endpoint, mode in [
        ("rate", "500"),
        ("rate", "429"),
        ("rate", "badjson"),
        ("rate", "400"),
        ("ship", "400"),
        ("void", "500"),
        ("track", "429"),
    ]:
        fake.fail = {endpoint: mode}
        call: Callable[[], object] = {
            "rate": lambda: ups.rate(SHIPMENT),
            "ship": lambda: ups.create(SHIPMENT, "ups_ground", "pkg-0011", "zpl"),
            "void": lambda: ups.void("1ZFAKE0000000001"),
            "track": lambda: ups.track("1ZFAKE0000000001"),
        }[endpoint]
        errors.append(carrier_error(call))
    # A carrier echoing the secret in its refusal: it is masked.
    fake.fail = {"token": "401"}
    fresh = UpsApi(credentials(fake.url))
    echoed = carrier_error(lambda: fresh.rate(SHIPMENT))
    assert "250003 Invalid Authentication Information ***" in echoed.message
    errors.append(echoed)
    assert_no_secret(ups, fresh, *errors, *(e.details for e in errors))
    assert repr(ups) == (
        f"UpsApi(code='ups', server_url={fake.url!r}, account='A1B2C3', timeout=2)"
    )
    assert_no_secret(credentials(fake.url))


# --- credentials ----------------------------------------------------------------------------


def test_credentials_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_CREDENTIALS_FILE, raising=False)
    monkeypatch.setenv(ENV_CLIENT_ID, CLIENT_ID)
    monkeypatch.setenv(ENV_CLIENT_SECRET, SECRET)
    monkeypatch.setenv(ENV_ACCOUNT, ACCOUNT)
    creds = UpsCredentials.load()
    assert (creds.client_id, creds.client_secret, creds.account_number) == (
        CLIENT_ID,
        SECRET,
        ACCOUNT,
    )
    assert creds.server_url == "https://onlinetools.ups.com"
    api = UpsApi()  # builds the gateway; makes no request
    assert_no_secret(api, creds)
    assert api.timeout == 10.0


def test_a_missing_credential_names_its_variable() -> None:
    error = carrier_error(
        lambda: UpsCredentials.load({ENV_CLIENT_ID: CLIENT_ID, ENV_ACCOUNT: ACCOUNT})
    )
    assert error.message == (
        "The UPS client secret is missing: set SHIPFLOOR_UPS_CLIENT_SECRET, or client_secret "
        "in the [ups] table of the TOML file named by SHIPFLOOR_CARRIER_CREDENTIALS."
    )
    assert (
        ENV_ACCOUNT
        in carrier_error(
            lambda: UpsCredentials.load({ENV_CLIENT_ID: CLIENT_ID, ENV_CLIENT_SECRET: SECRET})
        ).message
    )


def test_credentials_from_the_toml_file(tmp_path: Path, fake: FakeUps) -> None:
    path = tmp_path / "carriers.toml"
    path.write_text(
        "[ups]\n"
        f'client_id = "{CLIENT_ID}"\n'
        f'client_secret = "{SECRET}"\n'
        f'account_number = "{ACCOUNT}"\n'
        f'server_url = "{fake.url}/"\n'
    )
    creds = UpsCredentials.load({ENV_CREDENTIALS_FILE: str(path)})
    assert creds == credentials(fake.url)
    ups = UpsApi(creds)
    assert [r.service for r in guarded(lambda: ups.rate(SHIPMENT))][0] == "ups_ground"
    # A variable that is set wins over the file.
    other = UpsCredentials.load({ENV_CREDENTIALS_FILE: str(path), ENV_ACCOUNT: "Z9"})
    assert other.account_number == "Z9"


def test_a_bad_credentials_file_is_named_without_its_contents(tmp_path: Path) -> None:
    missing = tmp_path / "absent.toml"
    error = carrier_error(lambda: UpsCredentials.load({ENV_CREDENTIALS_FILE: str(missing)}))
    assert str(missing) in error.message
    assert "cannot be read" in error.message
    broken = tmp_path / "broken.toml"
    broken.write_text(f'[ups]\nclient_secret = "{SECRET}\n')
    error = carrier_error(lambda: UpsCredentials.load({ENV_CREDENTIALS_FILE: str(broken)}))
    assert "is not valid TOML" in error.message
    assert_no_secret(error)
    typo = tmp_path / "typo.toml"
    typo.write_text('[ups]\nclient_secrt = "x"\n')
    error = carrier_error(lambda: UpsCredentials.load({ENV_CREDENTIALS_FILE: str(typo)}))
    assert "unknown key 'client_secrt'" in error.message
