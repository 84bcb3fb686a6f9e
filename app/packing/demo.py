"""The demo's packer: packs the totes waiting at the warehouse's benches as a packer scanning
every unit would, one box per order, so the demo's ship station has packages to load."""

from __future__ import annotations

from app.packing import cartonize
from app.packing import station as pack
from app.picking.station import local_today
from app.shipping.settings import load as load_shipping
from app.users import login, logout
from data.pack_station import totes_at
from data.store import StoreEngine
from data.uow import UnitOfWork

DEMO_NODE = "WH1"


def units_left(bench: pack.Bench) -> list[pack.Unit]:
    """Every unit on the bench not in a closed box yet, as the packer's scans give them:
    one per serial, one case per lot, the rest together."""
    units = []
    for line in bench.lines:
        if line.left <= 0:
            continue
        if line.track_serial:
            serials = [s for s in line.serials if s not in line.packed_serials]
            lot = line.lots[0] if line.lots else ""
            units += [pack.Unit(line.line_id, line.product_id, line.sku, lot, s) for s in serials]
        elif line.lot_left:
            units += [
                pack.Unit(line.line_id, line.product_id, line.sku, lot, "", count)
                for lot, count in line.lot_left
                if count > 0
            ]
        else:
            lot = line.lots[0] if line.lots else ""
            units.append(pack.Unit(line.line_id, line.product_id, line.sku, lot, "", line.left))
    return units


def pack_demo_totes(engine: StoreEngine, limit: int = 40) -> int:
    """Have the demo's packer (U2001 at PACK-01) pack up to ``limit`` waiting orders whole,
    each in its suggested box (or the biggest) at its expected weight; returns the orders
    packed. An order of several totes is packed when its first tote is opened."""
    who = login(engine, "PACK-01", "pack", "BADGE-U2001", "2222")
    cat, ship = pack.catalogue(engine), load_shipping(engine)
    printers = pack.Printers.default()
    packed = 0
    try:
        with UnitOfWork(engine, read_only=True) as uow:
            totes = totes_at(uow.session, DEMO_NODE)
        for tote in totes:
            if packed >= limit:
                break
            try:
                bench = pack.open_tote(engine, who, tote, cat, ship)
            except pack.PackError:
                continue  # packed with an earlier tote of its order, or not complete
            units = units_left(bench)
            box = _box(bench, cat)
            weight = pack.expected_weight(bench, box, units, cat)
            try:
                pack.close_box(
                    engine,
                    who,
                    bench,
                    box,
                    units,
                    weight,
                    weight,
                    override_by=None,
                    printers=printers,
                    ship=ship,
                    today=lambda: local_today(who.node_timezone),
                )
            except pack.PackError:
                # Too much for one box (a real packer takes several): left for the bench.
                pack.release(engine, who, bench, "the demo packer packs one box per order")
                continue
            packed += 1
    finally:
        logout(engine, who)
    return packed


def _box(bench: pack.Bench, cat: pack.Catalogue) -> cartonize.BoxType:
    suggestion = bench.suggestion
    if suggestion is not None and len(suggestion.boxes) == 1:
        chosen = suggestion.boxes[0].box
        if chosen is not None:
            return chosen
    return max(cat.boxes, key=lambda b: b.inner_volume)
