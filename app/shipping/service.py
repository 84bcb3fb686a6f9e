"""Packages and their numbers, and the documents a shipment prints, built from the store.

Every package gets an SSCC (the site's GS1 company prefix and a serial from the store
sequence ``sscc``) and a tracking number (the carrier's prefix and a serial from the
sequence ``tracking:<carrier>``, with a GS1 mod-10 check digit) when it is added; both stay
with it for good, so a reprinted label carries the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from decimal import Decimal

from app.actor import Actor
from app.carriers import tracking
from app.shipping.settings import Carrier, ShippingSettings, ShippingSettingsError
from data import shipping as rows
from data.models import ShipmentStatus
from data.store import StoreEngine
from data.types import utcnow
from data.uow import StoreSession, UnitOfWork
from printing import documents, label, money
from printing.money import round_money


class ShippingError(ValueError):
    """A shipping request that cannot be done; the message says why and what to do."""


check_digit = tracking.gs1_mod10
"""The GS1 mod-10 check digit of a string of digits (weights 3, 1 from the right)."""


def sscc(settings: ShippingSettings, serial: int) -> str:
    """The SSCC for a serial: extension digit, company prefix, serial reference, check."""
    prefix = settings.company_prefix()
    width = 16 - len(prefix)
    if not 1 <= serial < 10**width:
        raise ShippingError(
            f"SSCC serial {serial} does not fit the {width} digits company prefix {prefix} "
            "leaves: the prefix's SSCC range is used up; ask GS1 for another prefix"
        )
    body = f"{settings.sscc_extension_digit}{prefix}{serial:0{width}d}"
    return body + str(check_digit(body))


def tracking_number(carrier: Carrier, serial: int, service: str = "") -> str:
    """The carrier's tracking number for store serial ``serial``, in its format."""
    try:
        return tracking.make(
            carrier.tracking_format,
            serial,
            prefix=carrier.tracking_prefix,
            account=carrier.account,
            service=service,
        )
    except tracking.TrackingError as exc:
        raise ShippingError(f"carrier {carrier.code}: {exc}") from None


def add_package(
    engine: StoreEngine,
    settings: ShippingSettings,
    shipment_id: int,
    actor: Actor,
    *,
    weight_g: int | None = None,
    box: str | None = None,
) -> rows.PackageRow:
    """A new package for a shipment, with its SSCC and tracking number."""
    if weight_g is not None and weight_g < 0:
        raise ShippingError(f"a package cannot weigh {weight_g} g")
    with UnitOfWork(engine) as uow:
        if not rows.lock_shipment(uow.session, shipment_id):
            raise ShippingError(f"there is no shipment {shipment_id}")
        try:
            doc = rows.shipment_doc(uow.session, shipment_id)
        except LookupError as exc:
            raise ShippingError(str(exc)) from None
        assert doc is not None
        if doc.status in (ShipmentStatus.CANCELLED, ShipmentStatus.SHIPPED):
            raise ShippingError(
                f"shipment {shipment_id} is {doc.status.value}: it takes no more packages"
            )
        handed_over = rows.manifested(uow.session, shipment_id)
        if handed_over is not None:
            raise ShippingError(
                f"shipment {shipment_id} was handed to the carrier on manifest M-{handed_over}: "
                "its labels say how many packages there are, so none can be added"
            )
        if weight_g is None and doc.packages:
            raise ShippingError(
                f"shipment {shipment_id} already has {len(doc.packages)} package(s): give this "
                "one's weight (--weight GRAMS); the contents' weight is only a default for the "
                "first"
            )
        try:
            carrier = settings.carrier(doc.carrier)
            code = sscc(settings, rows.take_numbers(uow.session, "sscc"))
        except ShippingSettingsError as exc:
            raise ShippingError(str(exc)) from None
        weight = weight_g if weight_g is not None else contents_weight(doc)
        limit, setting = settings.max_weight_g(carrier.code)
        if weight > limit:
            given = "this package weighs" if weight_g is not None else "the contents weigh"
            raise ShippingError(
                f"{given} {weight:,} g, more than the {limit:,} g a {carrier.code} "
                f"package may weigh (shipping settings, {setting}): weigh it again, or split "
                "the contents into packages with --weight"
            )
        number = tracking_number(
            carrier, rows.take_numbers(uow.session, f"tracking:{carrier.code}"), doc.service
        )
        package = rows.add_package(
            uow.session,
            shipment_id=shipment_id,
            sscc=code,
            carrier=carrier.code,
            tracking_number=number,
            weight_g=weight,
            box=box,
            actor=actor.name,
            at=utcnow(),
        )
        uow.commit()
    return package


def contents_weight(doc: rows.ShipmentDoc) -> int:
    """What the shipment's items weigh (the pack station replaces it with the scale's)."""
    return sum(line.quantity * line.weight_g for line in doc.contents)


def carrier_labels(engine: StoreEngine, shipment_id: int) -> dict[int, tuple[str, bytes]]:
    """Package number → (format, content) of the labels carriers' APIs made for the
    shipment: a reprint prints these as they came."""
    with UnitOfWork(engine, read_only=True) as uow:
        return rows.carrier_labels(uow.session, shipment_id)


LABEL_REQUEST_STATUSES = ("pending", "created", "used", "refused", "voided")
"""A carrier label request: pending (no answer yet: the carrier may have made it), created
(made, the box not recorded yet), used (the box's), refused, voided."""


def label_requests(
    engine: StoreEngine, status: str | None, limit: int = 200
) -> list[rows.LabelRequestRow]:
    if status is not None and status not in LABEL_REQUEST_STATUSES:
        raise ShippingError(
            f"no label request status {status!r}: use one of {', '.join(LABEL_REQUEST_STATUSES)}"
        )
    with UnitOfWork(engine, read_only=True) as uow:
        return rows.label_requests(uow.session, status, limit)


def shipment(engine: StoreEngine, shipment_id: int) -> rows.ShipmentDoc:
    with UnitOfWork(engine, read_only=True) as uow:
        try:
            doc = rows.shipment_doc(uow.session, shipment_id)
        except LookupError as exc:
            raise ShippingError(str(exc)) from None
    if doc is None:
        raise ShippingError(f"there is no shipment {shipment_id}")
    return doc


def _address(place: rows.Place) -> label.Address:
    return label.Address(
        name=place.name,
        company=place.company,
        lines=place.lines,
        city=place.city,
        region=place.region,
        postal_code=place.postal_code,
        country=place.country,
        phone=place.phone,
    )


def shipment_ref(shipment_id: int) -> str:
    return f"S-{shipment_id}"


def labels(
    doc: rows.ShipmentDoc, settings: ShippingSettings, package: int | None = None
) -> list[label.ShippingLabel]:
    """The shipping labels of a shipment's packages (all, or package number ``package``)."""
    if not doc.packages:
        raise ShippingError(
            f"shipment {doc.shipment_id} has no packages yet: add one with "
            f"`shipfloor package add --shipment {doc.shipment_id}` (the pack station does)"
        )
    chosen = [p for p in doc.packages if package is None or p.number == package]
    if not chosen:
        numbers = ", ".join(str(p.number) for p in doc.packages)
        raise ShippingError(
            f"shipment {doc.shipment_id} has no package {package} (its packages: {numbers})"
        )
    seller = settings.seller
    ship_from = _address(doc.ship_from)
    if seller.get("name"):
        ship_from = label.Address(
            name=str(seller["name"]),
            company=doc.ship_from.name,
            lines=doc.ship_from.lines,
            city=doc.ship_from.city,
            region=doc.ship_from.region,
            postal_code=doc.ship_from.postal_code,
            country=doc.ship_from.country,
            phone=str(seller.get("phone", "")),
        )
    out = []
    for p in chosen:
        # A package rate shopping put on another carrier's service says that one.
        code = p.service or doc.service
        try:
            carrier = settings.carrier(p.carrier)
            named = next((sv.name for sv in carrier.services if sv.code == code), code)
            service = f"{carrier.name} {named}".strip()
        except ShippingSettingsError:
            service = code
        out.append(
            label.ShippingLabel(
                ship_from=ship_from,
                ship_to=_address(doc.ship_to),
                carrier=p.carrier,
                service=service,
                weight_g=p.weight_g if p.weight_g is not None else contents_weight(doc),
                package_number=p.number,
                package_count=len(doc.packages),
                order_ref=doc.order_ref,
                shipment_ref=shipment_ref(doc.shipment_id),
                tracking_number=p.tracking_number,
                sscc=p.sscc,
            )
        )
    return out


def _party(values: Mapping[str, object] | rows.Place) -> documents.Party:
    if isinstance(values, rows.Place):
        return documents.Party(
            name=values.name,
            company=values.company,
            lines=values.lines,
            city=values.city,
            region=values.region,
            postal_code=values.postal_code,
            country=values.country,
            email=values.email,
            phone=values.phone,
        )
    lines = values.get("lines", [])
    return documents.Party(
        name=str(values.get("name", "")),
        company=str(values.get("company", "")),
        lines=tuple(str(x) for x in lines) if isinstance(lines, list) else (),
        city=str(values.get("city", "")),
        region=str(values.get("region", "")),
        postal_code=str(values.get("postal_code", "")),
        country=str(values.get("country", "")),
        email=str(values.get("email", "")),
        phone=str(values.get("phone", "")),
        tax_id=str(values.get("tax_id", "")),
    )


def _seller(doc: rows.ShipmentDoc, settings: ShippingSettings) -> documents.Party:
    if settings.seller.get("name"):
        return _party(dict(settings.seller))
    return _party(doc.ship_from)


def document_lines(
    doc: rows.ShipmentDoc, settings: ShippingSettings
) -> tuple[documents.DocumentLine, ...]:
    """The shipment's lines with prices; a line shipped in part gets its share of the
    line's discount (rounded half up to the cent)."""
    rate = settings.tax_rate(doc.ship_to.country, doc.ship_to.region)
    out = []
    for line in doc.contents:
        discount = discount_share(line.discount, line.ordered, line.earlier, line.quantity)
        out.append(
            documents.DocumentLine(
                sku=line.sku,
                description=line.name,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount=discount,
                tax_rate=rate,
                promo=(doc.promo_code or "") if discount else "",
            )
        )
    return tuple(out)


def discount_share(discount: Decimal, ordered: int, earlier: int, quantity: int) -> Decimal:
    """The part of a line's discount that goes with ``quantity`` units shipped after
    ``earlier`` units: the rounded running share, so the parts of every split add up to the
    whole discount to the cent."""
    if ordered <= 0 or not 0 <= earlier <= earlier + quantity <= ordered:
        raise ShippingError(
            f"{earlier} + {quantity} units shipped of a line of {ordered}: the shipments do not "
            "fit the order line"
        )
    upto = round_money(discount * (earlier + quantity) / ordered)
    before = round_money(discount * earlier / ordered)
    return upto - before


def issue_invoice(
    engine: StoreEngine, settings: ShippingSettings, shipment_id: int, actor: Actor, today: date
) -> tuple[str, bytes]:
    """The shipment's invoice: issued once (number from the store sequence, PDF kept);
    asking again gives the same document."""
    with UnitOfWork(engine) as uow:
        if not rows.lock_shipment(uow.session, shipment_id):
            raise ShippingError(f"there is no shipment {shipment_id}")
        number, pdf = issue_invoice_in(uow.session, settings, shipment_id, actor, today)
        uow.commit()
    return number, pdf


def issue_invoice_in(
    session: StoreSession,
    settings: ShippingSettings,
    shipment_id: int,
    actor: Actor,
    today: date,
) -> tuple[str, bytes]:
    """:func:`issue_invoice` in the caller's transaction, which holds the shipment's lock."""
    found = rows.invoice(session, shipment_id)
    if found is not None:
        return found.number, found.content
    try:
        doc = rows.shipment_doc(session, shipment_id)
    except LookupError as exc:
        raise ShippingError(str(exc)) from None
    assert doc is not None
    if doc.status is ShipmentStatus.CANCELLED:
        raise ShippingError(f"shipment {shipment_id} is cancelled: there is nothing to invoice")
    lines = document_lines(doc, settings)
    if not lines:
        raise ShippingError(f"shipment {shipment_id} holds nothing to invoice")
    number = f"{settings.invoice_prefix}{rows.take_numbers(session, 'invoice'):06d}"
    model = invoice(doc, settings, number, today, lines)
    pdf = documents.invoice_pdf(model)
    rows.add_invoice(
        session,
        shipment_id=shipment_id,
        number=number,
        issued=today,
        currency=doc.currency,
        total=money.totals(line.amounts for line in lines).total,
        content=pdf,
        actor=actor.name,
        at=utcnow(),
    )
    return number, pdf


def invoice(
    doc: rows.ShipmentDoc,
    settings: ShippingSettings,
    number: str,
    issued: date,
    lines: tuple[documents.DocumentLine, ...] | None = None,
) -> documents.Invoice:
    return documents.Invoice(
        number=number,
        issued=issued,
        order_ref=doc.order_ref,
        currency=doc.currency,
        seller=_seller(doc, settings),
        bill_to=_party(doc.ship_to),
        ship_to=_party(doc.ship_to),
        lines=lines if lines is not None else document_lines(doc, settings),
    )


def packing_slip(
    doc: rows.ShipmentDoc, settings: ShippingSettings, packed: date
) -> documents.PackingSlip:
    return documents.PackingSlip(
        order_ref=doc.order_ref,
        shipment_ref=shipment_ref(doc.shipment_id),
        packed=packed,
        seller=_seller(doc, settings),
        ship_to=_party(doc.ship_to),
        lines=document_lines(doc, settings),
        currency=doc.currency,
        package_count=max(1, len(doc.packages)),
    )


def manifest_document(
    engine: StoreEngine, settings: ShippingSettings, manifest_id: int
) -> documents.Manifest:
    with UnitOfWork(engine, read_only=True) as uow:
        return manifest_document_in(uow.session, settings, manifest_id)


def manifest_document_in(
    session: StoreSession, settings: ShippingSettings, manifest_id: int
) -> documents.Manifest:
    """:func:`manifest_document` in the caller's transaction (a close-out prints it)."""
    found = rows.manifest(session, manifest_id)
    if found is None:
        raise ShippingError(f"there is no manifest {manifest_id}")
    head, lines = found
    try:
        account = settings.carrier(head.carrier).account
    except ShippingSettingsError:
        account = ""
    # Ship from the dispatching node, under the seller's name where the site has one.
    node = _party(head.node)
    if settings.seller.get("name"):
        node = replace(node, name=str(settings.seller["name"]), company=head.node.name)
    return documents.Manifest(
        number=f"M-{head.id}",
        carrier=head.carrier,
        closed_at=head.closed_at,
        ship_from=node,
        packages=tuple(
            documents.ManifestPackage(
                sscc=line.package.sscc,
                tracking_number=line.package.tracking_number,
                order_ref=line.order_ref,
                ship_to_name=line.ship_to_name,
                postal_code=line.postal_code,
                country=line.country,
                weight_g=line.package.weight_g or 0,
            )
            for line in lines
        ),
        account=account,
    )
