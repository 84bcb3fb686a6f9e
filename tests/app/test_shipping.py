"""Packages, their SSCC and tracking numbers, shipping settings, and a shipment's documents
built from the store and read back."""

from __future__ import annotations

import io
import json
import multiprocessing
from decimal import Decimal
from multiprocessing.queues import Queue
from pathlib import Path

import pypdf
import pypdfium2 as pdfium
import pytest
import zxingcpp
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from app.actor import Actor
from app.barcodes import resolve
from app.demo import DEMO_SHIPPING, seed
from app.dom.routing import RoutingSettings, route_backlog
from app.shipping import service
from app.shipping import settings as ship_settings
from app.shipping.service import ShippingError
from app.shipping.settings import ShippingSettings, ShippingSettingsError, from_dict
from app.waves import planning as waves
from app.waves.settings import WaveSettings
from data import shipping as rows
from data.models import Shipment
from data.store import make_engine
from data.uow import UnitOfWork
from devices.sim_printer import PrinterSimulator
from tests.cli import main
from tests.factories import PLAN_AT, age_demo_stock
from tests.printing.zpl import interpret

ACTOR = Actor.system("test")
SETTINGS = from_dict(DEMO_SHIPPING)


def test_sscc_is_extension_prefix_serial_and_check_digit() -> None:
    # extension 0, prefix 5012345, serial reference 000000017 (9 digits), check digit 6
    code = service.sscc(SETTINGS, 17)
    assert code == "050123450000000176"
    assert resolve("00" + code).sscc == code  # the resolver agrees it is valid
    with pytest.raises(ShippingError, match="used up"):
        service.sscc(SETTINGS, 10**9)
    with pytest.raises(ShippingSettingsError, match="no GS1 company prefix"):
        service.sscc(ShippingSettings(), 1)
    assert service.tracking_number(SETTINGS.carrier("GROUND"), 17) == "GP00000000178"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"gs1_company_prefix": "12345"}, "7 to 10 digits"),
        ({"gs1_company_prefix": 5012345}, "7 to 10 digits"),
        ({"sscc_extension_digit": 10}, "expected 0 to 9"),
        ({"carriers": {"X": {"tracking_prefix": "gp"}}}, "capital letters or digits"),
        ({"carriers": {"X": {"nme": "x"}}}, "unknown field(s) nme"),
        ({"tax_rates": {"GB": 0.2}}, "as text"),
        ({"tax_rates": {"GB": "1.5"}}, "below"),
        ({"tax_rates": {"GB": "0.123456"}}, "at most 4"),
        ({"seller": {"city": "x"}}, "needs a name"),
        ({"colour": "red"}, "unknown field(s) colour"),
        ({"max_package_weight_g": 10**30}, "expected whole grams from 1 to 999949"),
        ({"max_package_weight_g": "70 kg"}, "expected whole grams"),
        ({"carriers": {"GROUND": {"max_weight_g": 0}}}, "GROUND.max_weight_g: expected whole"),
        ({"ship_to_countries": ["GB", "Greece"]}, "'Greece' is not an ISO 3166-1 alpha-2"),
        ({"ship_to_countries": "GB"}, "expected a list of country codes"),
    ],
)
def test_shipping_settings_mistakes_are_named(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ShippingSettingsError) as caught:
        from_dict(raw)
    assert message in str(caught.value)


def test_tax_rate_lookup_and_round_trip(store: Engine) -> None:
    assert SETTINGS.tax_rate("US", "OH") == SETTINGS.tax_rates["US-OH"]
    assert SETTINGS.tax_rate("US", "TX") == 0
    saved = ship_settings.save(store, DEMO_SHIPPING, ACTOR)
    assert ship_settings.load(store) == saved
    assert ship_settings.load(store).to_dict() == from_dict(DEMO_SHIPPING).to_dict()


def _take(url: str, n: int, out: Queue[list[int]]) -> None:
    engine = make_engine(url)
    got = []
    for _ in range(n):
        with UnitOfWork(engine) as uow:
            got.append(rows.take_numbers(uow.session, "sscc"))
            uow.commit()
    engine.dispose()
    out.put(got)


def test_sequence_numbers_are_never_given_twice_across_processes(store: Engine) -> None:
    url = store.url.render_as_string(hide_password=False)
    ctx = multiprocessing.get_context("spawn")
    out: Queue[list[int]] = ctx.Queue()
    procs = [ctx.Process(target=_take, args=(url, 40, out)) for _ in range(3)]
    for p in procs:
        p.start()
    taken = [n for _ in procs for n in out.get(timeout=120)]
    for p in procs:
        p.join(30)
    assert sorted(taken) == list(range(1, 121))
    # A number taken in a transaction that rolled back was never printed: it comes again.
    with UnitOfWork(store) as uow:
        assert rows.take_numbers(uow.session, "sscc", 5) == 121
    with UnitOfWork(store) as uow:
        assert rows.take_numbers(uow.session, "sscc") == 121
        uow.commit()


@pytest.fixture
def released(store: Engine) -> tuple[Engine, list[int]]:
    """The small demo site with one wave of routed orders released: shipments to pack."""
    seed(store, "small", 1)
    age_demo_stock(store)
    route_backlog(store, ACTOR, RoutingSettings(), limit=40, now=PLAN_AT)
    fast = WaveSettings(batching_seconds=0.2)
    for wave in waves.plan(store, "WH1", fast, ACTOR, now=PLAN_AT).waves:
        waves.release(store, wave.id, fast, ACTOR)
    with UnitOfWork(store, read_only=True) as uow:
        ids = list(uow.session.scalars(select(Shipment.id).order_by(Shipment.id)))
    assert len(ids) >= 3
    return store, ids


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def pdf_barcodes(data: bytes) -> list[zxingcpp.Barcode]:
    found = []
    for page in pdfium.PdfDocument(data):
        found += zxingcpp.read_barcodes(page.render(scale=300 / 72).to_pil())
    return found


def test_a_shipment_from_package_to_label_slip_invoice_and_manifest(
    released: tuple[Engine, list[int]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine, ids = released
    settings = ship_settings.load(engine)
    first, second = ids[0], ids[1]
    with pytest.raises(ShippingError, match="has no packages yet"):
        service.labels(service.shipment(engine, first), settings)
    one = service.add_package(engine, settings, first, ACTOR)
    with pytest.raises(ShippingError, match="give this one's weight"):
        service.add_package(engine, settings, first, ACTOR)
    two = service.add_package(engine, settings, first, ACTOR, weight_g=900)
    other = service.add_package(engine, settings, second, ACTOR, weight_g=800)
    assert (one.number, two.number, other.number) == (1, 2, 1)
    assert len({one.sscc, two.sscc, other.sscc}) == 3
    assert len({one.tracking_number, two.tracking_number}) == 2
    doc = service.shipment(engine, first)
    assert one.weight_g == service.contents_weight(doc) > 0
    labels = service.labels(doc, settings)
    assert [(x.package_number, x.package_count) for x in labels] == [(1, 2), (2, 2)]
    assert labels[0].ship_to.name == doc.ship_to.name
    assert labels[0].order_ref == doc.order_ref

    db = ["--db", engine.url.render_as_string(hide_password=False)]
    out = tmp_path / "label.pdf"
    assert (
        main(
            [
                "label",
                "render",
                "--shipment",
                str(first),
                "--package",
                "2",
                "--format",
                "pdf",
                "-o",
                str(out),
                *db,
            ]
        )
        == 0
    )
    codes = {b.text for b in pdf_barcodes(out.read_bytes())}
    assert two.tracking_number in codes
    assert any(two.sscc in c for c in codes)
    zpl = tmp_path / "labels.zpl"
    assert (
        main(["label", "render", "--shipment", str(first), "--format", "zpl", "-o", str(zpl), *db])
        == 0
    )
    text = zpl.read_text()
    assert text.count("^XA") == 2
    assert one.tracking_number in text
    assert two.sscc in text
    assert (
        main(["label", "render", "--shipment", str(first), "--format", "pdf", "-o", str(out), *db])
        == 1
    )
    assert "choose one with --package N" in capsys.readouterr().err

    invoice = tmp_path / "invoice.pdf"
    assert (
        main(["document", "render", "invoice", "--shipment", str(first), "-o", str(invoice), *db])
        == 0
    )
    words = pdf_text(invoice.read_bytes())
    assert "INV-000001" in words
    issued = invoice.read_bytes()
    # Issued once: asking again gives the same document, not a new number.
    assert (
        main(["document", "render", "invoice", "--shipment", str(first), "-o", str(invoice), *db])
        == 0
    )
    assert invoice.read_bytes() == issued
    for line in doc.contents:
        assert line.sku in words
    slip = tmp_path / "slip.pdf"
    assert main(["document", "render", "slip", "--shipment", str(first), "-o", str(slip), *db]) == 0
    assert f"S-{first}" in pdf_text(slip.read_bytes())

    # Printing goes through the print queue to the station's printers.
    with PrinterSimulator() as printer:
        devices = tmp_path / "devices.toml"
        (tmp_path / "docs").mkdir()
        devices.write_text(
            f'[stations.PACK-01.printers.label]\nkind = "tcp"\nhost = "127.0.0.1"\n'
            f"port = {printer.port}\n"
            f'[stations.PACK-01.printers.documents]\nkind = "folder"\n'
            f'folder = "{tmp_path / "docs"}"\n'
            'language = "pdf"\n'
        )
        at = ["--station", "PACK-01", "--devices", str(devices), *db]
        assert main(["label", "print", "--shipment", str(first), *at]) == 0
        assert main(["document", "print", "slip", "--shipment", str(first), *at]) == 0
        assert (
            main(
                [
                    "document",
                    "print",
                    "invoice",
                    "--shipment",
                    str(first),
                    "--printer",
                    "label",
                    *at,
                ]
            )
            == 1
        )
        assert "packing slips and invoices are PDF" in capsys.readouterr().err
        assert main(["print", "deliver", *at]) == 0
        jobs = printer.wait_for_jobs(2, 5.0)
        assert one.sscc in jobs[0].decode()
        assert two.sscc in jobs[1].decode()
        [slip_file] = (tmp_path / "docs").iterdir()
        assert f"S-{first}" in pdf_text(slip_file.read_bytes())

    # Nothing of these shipments was picked and packed: nothing is handed to a carrier
    # (tests/app/test_ship_station.py closes out packed ones).
    manifest = tmp_path / "manifest.pdf"
    assert main(["manifest", "close", "--carrier", one.carrier, "-o", str(manifest), *db]) == 1
    assert f"no packed {one.carrier} packages at WH1 are waiting for a manifest" in (
        capsys.readouterr().err
    )
    assert not manifest.exists()
    assert main(["package", "list", "--shipment", str(first), "--json", *db]) == 0
    listed = json.loads(capsys.readouterr().out)["packages"]
    assert [p["sscc"] for p in listed] == [one.sscc, two.sscc]
    assert all(p["manifest"] is None for p in listed)


README_LABEL = {
    "ship_from": {
        "name": "Shipfloor Demo Co.",
        "lines": ["100 Commerce Way"],
        "city": "Columbus",
        "region": "OH",
        "postal_code": "43215",
        "country": "US",
    },
    "ship_to": {
        "name": "Zoë Łukasiewicz",
        "company": "",
        "lines": ["Flat 2", "5 High St"],
        "city": "York",
        "region": "",
        "postal_code": "YO1 7HH",
        "country": "GB",
        "phone": "+44 1904 000000",
    },
    "carrier": "GROUND",
    "service": "Ground Parcel standard",
    "weight_g": 2500,
    "package_number": 1,
    "package_count": 2,
    "order_ref": "web/W-1001",
    "shipment_ref": "S-17",
    "tracking_number": "GP00000000017",
    "sscc": "050123450000000015",
}


def test_label_render_from_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "label.json"
    spec.write_text(json.dumps(README_LABEL), encoding="utf-8")
    pdf, zpl = tmp_path / "label.pdf", tmp_path / "label.zpl"
    assert (
        main(["label", "render", "--from-json", str(spec), "--format", "pdf", "-o", str(pdf)]) == 0
    )
    codes = {b.text for b in pdf_barcodes(pdf.read_bytes())}
    assert "GP00000000017" in codes
    assert any("050123450000000015" in c for c in codes)
    assert "Zoë Łukasiewicz" in pdf_text(pdf.read_bytes())
    for dpi in ("203", "300"):
        assert (
            main(
                [
                    "label",
                    "render",
                    "--from-json",
                    str(spec),
                    "--format",
                    "zpl",
                    "--dpi",
                    dpi,
                    "-o",
                    str(zpl),
                ]
            )
            == 0
        )
        assert zpl.read_text().startswith("^XA")
    # Łukasiewicz: the PDF prints it as written, the ZPL printer's font cannot
    warnings = capsys.readouterr().err
    assert warnings.count("prints as 'Zoë Lukasiewicz'") == 2  # the two ZPL renders only
    bad = dict(README_LABEL, sscc="050123450000000016")
    spec.write_text(json.dumps(bad), encoding="utf-8")
    assert (
        main(["label", "render", "--from-json", str(spec), "--format", "zpl", "-o", str(zpl)]) == 1
    )
    assert "sscc: '050123450000000016' has check digit 6, expected 5" in capsys.readouterr().err
    for broken, message in (
        ({**README_LABEL, "weight": 1}, "unknown field 'weight'"),
        ({k: v for k, v in README_LABEL.items() if k != "carrier"}, "'carrier' is missing"),
        ({**README_LABEL, "weight_g": "2500"}, "weight_g must be a whole number"),
        ({**README_LABEL, "ship_to": {"city": "York"}}, "every address needs a name"),
    ):
        spec.write_text(json.dumps(broken), encoding="utf-8")
        assert (
            main(["label", "render", "--from-json", str(spec), "--format", "zpl", "-o", str(zpl)])
            == 1
        )
        assert message in capsys.readouterr().err


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    st.decimals(min_value=0, max_value=Decimal("999.99"), places=2),
    st.lists(st.integers(1, 20), min_size=1, max_size=6),
)
def test_discount_shares_of_a_split_line_add_up_to_the_discount(
    discount: Decimal, parts: list[int]
) -> None:
    ordered = sum(parts)
    earlier = 0
    shares = []
    for quantity in parts:
        shares.append(service.discount_share(discount, ordered, earlier, quantity))
        earlier += quantity
    assert sum(shares) == discount
    assert all(share >= 0 for share in shares)
    with pytest.raises(ShippingError, match="do not fit the order line"):
        service.discount_share(discount, ordered, ordered, 1)


def test_files_that_are_not_utf8_are_refused_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "label.json"
    spec.write_text(json.dumps(README_LABEL), encoding="utf-16")
    assert (
        main(
            [
                "label",
                "render",
                "--from-json",
                str(spec),
                "--format",
                "zpl",
                "-o",
                str(tmp_path / "x"),
            ]
        )
        == 1
    )
    assert "is not UTF-8 text: save it as UTF-8" in capsys.readouterr().err


# --- what a label may say ---------------------------------------------------------------------


def _render(tmp_path: Path, spec: dict[str, object], fmt: str, *db: str) -> tuple[int, Path]:
    source, out = tmp_path / "label.json", tmp_path / f"label.{fmt}"
    out.unlink(missing_ok=True)
    source.write_text(json.dumps(spec), encoding="utf-8")
    code = main(
        ["label", "render", "--from-json", str(source), "--format", fmt, "-o", str(out), *db]
    )
    return code, out


def _to(**changes: object) -> dict[str, object]:
    ship_to = dict(README_LABEL["ship_to"])  # type: ignore[call-overload]
    ship_to.update(changes)
    return {**README_LABEL, "ship_to": ship_to}


@pytest.mark.parametrize("fmt", ["zpl", "pdf"])
@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {**README_LABEL, "weight_g": 10**30},
            "weight_g: 1,000,000,000,000,000,000,000,000,000,000 g is more than the 70,000 g a"
            " GROUND package may weigh (shipping settings, max_package_weight_g); weigh it again",
        ),
        ({**README_LABEL, "weight_g": 70_001}, "weight_g: 70,001 g is more than the 70,000 g"),
        ({**README_LABEL, "weight_g": -5}, "weight_g: -5 g is negative"),
        (_to(country="XX"), "ship_to.country: 'XX' is not an ISO 3166-1 alpha-2 country code"),
        (_to(country="Greece"), "ship_to.country: 'Greece' is not an ISO 3166-1 alpha-2"),
        (_to(country=""), "ship_to.country: empty; the carrier needs the destination country"),
        (
            _to(lines=["Flat 2\x00", "5 High St"]),
            "ship_to.lines[0]: 'Flat 2\\x00' holds NUL (U+0000) at position 7",
        ),
        (
            _to(lines=["Flat 2\n5 High St"]),
            "ship_to.lines[0]: 'Flat 2\\n5 High St' holds LINE FEED (U+000A) at position 7",
        ),
        (_to(city="York\t"), "ship_to.city: 'York\\t' holds TAB (U+0009) at position 5"),
        (_to(name="🌸🌸"), "ship_to.name: '🌸🌸' has no character the"),
        (
            {**README_LABEL, "order_ref": "amazon/AMA-" + "1234567-" * 20},
            "order_ref: 'amazon/AMA-1234567-",
        ),
    ],
)
def test_label_refusals_exit_1_with_a_sentence(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    spec: dict[str, object],
    message: str,
    fmt: str,
) -> None:
    code, out = _render(tmp_path, spec, fmt)
    err = capsys.readouterr().err
    assert code == 1, err
    assert message in err
    assert "Traceback" not in err
    assert not out.exists()


def test_the_weight_limit_itself_prints(tmp_path: Path) -> None:
    code, out = _render(tmp_path, {**README_LABEL, "weight_g": 70_000}, "zpl")
    assert code == 0
    assert "70.0 kg" in "".join(line for f in interpret(out.read_bytes()) for line in f.lines)


def test_what_an_output_cannot_print_is_transliterated_and_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _to(name="Σοφία Παπαδοπούλου 🌸", company="Łódź\u200b Trading", city="Москва")
    code, out = _render(tmp_path, spec, "zpl")
    err = capsys.readouterr().err
    assert code == 0, err
    printed = [line for f in interpret(out.read_bytes()) for line in f.lines]
    assert {"Sofia Papadopoyloy", "Lódz Trading", "Moskva YO1 7HH"} <= set(printed)
    assert (
        "warning: " + str(tmp_path / "label.json") + ": ship_to.name: 'Σοφία Παπαδοπούλου 🌸'"
        " prints as 'Sofia Papadopoyloy' (the ZPL printer's font cannot print Greek letters, '🌸')"
    ) in err
    assert "ship_to.company: 'Łódź\\u200b Trading' prints as 'Lódz Trading'" in err
    assert "ship_to.city: 'Москва' prints as 'Moskva' (the ZPL printer's font cannot print" in err

    # The PDF's font has Greek, Polish and Cyrillic: only the flower is left out.
    code, out = _render(tmp_path, spec, "pdf")
    err = capsys.readouterr().err
    assert code == 0, err
    text = pdf_text(out.read_bytes())
    assert "Σοφία Παπαδοπούλου" in text
    assert "Łódź Trading" in text
    assert "Москва YO1 7HH" in text
    assert "'Σοφία Παπαδοπούλου 🌸' prints as 'Σοφία Παπαδοπούλου' (the PDF's font" in err
    assert "ship_to.city" not in err


def _squeeze(text: str) -> str:
    return "".join(text.split())


def test_long_real_values_are_printed_whole_on_both_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = {
        **_to(
            name="Maximiliana Wolkenstein-Trostburg von Hohenzollern-Sigmaringen",
            lines=["Unit 14, Building C, Northgate Industrial Estate, Gate 3", "Dock 7"],
        ),
        "service": "Ground Parcel standard (2-5 business days, signature on delivery)",
        "order_ref": "amazon/AMA-102-3456789-1234567",
        "tracking_number": "9" * 40,
    }
    values = [
        spec["service"],
        spec["order_ref"],
        f"TRACKING {'9' * 40}",
        "Maximiliana Wolkenstein-Trostburg von Hohenzollern-Sigmaringen",
        "Unit 14, Building C, Northgate Industrial Estate, Gate 3",
    ]
    for dpi in ("203", "300"):
        out = tmp_path / "long.zpl"
        source = tmp_path / "long.json"
        source.write_text(json.dumps(spec), encoding="utf-8")
        args = ["label", "render", "--from-json", str(source), "--format", "zpl", "-o", str(out)]
        assert main([*args, "--dpi", dpi]) == 0
        fields = interpret(out.read_bytes())
        printed = _squeeze("".join(line for f in fields for line in f.lines))
        for value in values:
            assert _squeeze(str(value)) in printed, value
        assert "…" not in printed
    code, out = _render(tmp_path, spec, "pdf")
    assert code == 0, capsys.readouterr().err
    text = _squeeze(pdf_text(out.read_bytes()))
    for value in values:
        assert _squeeze(str(value)) in text, value
    assert "9" * 40 in {b.text for b in pdf_barcodes(out.read_bytes())}


def test_label_json_is_checked_against_the_store_settings(
    store: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ship_settings.save(
        store,
        {"ship_to_countries": ["US", "CA"], "carriers": {"GROUND": {"max_weight_g": 2000}}},
        ACTOR,
    )
    db = ["--db", store.url.render_as_string(hide_password=False)]
    code, _ = _render(tmp_path, README_LABEL, "zpl", *db)
    err = capsys.readouterr().err
    assert code == 1, err
    assert (
        "weight_g: 2,500 g is more than the 2,000 g a GROUND package may weigh (shipping"
        " settings, carriers.GROUND.max_weight_g)"
    ) in err
    code, _ = _render(tmp_path, {**README_LABEL, "weight_g": 1500}, "zpl", *db)
    err = capsys.readouterr().err
    assert code == 1
    assert (
        "ship_to.country: the site does not ship to GB: it ships to US, CA (shipping settings,"
        " ship_to_countries)"
    ) in err
    code, _ = _render(tmp_path, _to(country="ca") | {"weight_g": 1500}, "zpl", *db)
    assert code == 0, capsys.readouterr().err
    # Without a store named, the defaults: any country, 70 kg.
    code, _ = _render(tmp_path, README_LABEL, "zpl")
    assert code == 0, capsys.readouterr().err


def test_a_package_heavier_than_its_carrier_takes_is_refused(
    released: tuple[Engine, list[int]],
) -> None:
    engine, ids = released
    settings = ship_settings.load(engine)
    for grams in (70_001, 10**30):
        with pytest.raises(ShippingError, match=r"more than the 70,000 g a \w+ package may weigh"):
            service.add_package(engine, settings, ids[0], ACTOR, weight_g=grams)
    assert not service.shipment(engine, ids[0]).packages
    assert service.add_package(engine, settings, ids[0], ACTOR, weight_g=70_000).number == 1


def test_shipping_settings_round_trip_their_bounds(store: Engine) -> None:
    changes = {
        "max_package_weight_g": 31_500,
        "ship_to_countries": ["gb", "IE", "GB"],
        "carriers": {"EXPRESS": {"max_weight_g": 20_000}},
    }
    saved = ship_settings.save(store, changes, ACTOR)
    assert saved.ship_to_countries == ("GB", "IE")
    assert saved.max_weight_g("EXPRESS") == (20_000, "carriers.EXPRESS.max_weight_g")
    assert saved.max_weight_g("GROUND") == (31_500, "max_package_weight_g")
    assert ship_settings.load(store) == saved
    assert from_dict(saved.to_dict()) == saved
