"""What the pack station's tests share: totes the demo's pickers have filled (whole pick
lists picked at WH1), a packer at PACK-01, and the scans of an order's units."""

from __future__ import annotations

from sqlalchemy import Engine

from app.packing import station as pack
from app.picking import station
from app.shipping.settings import ShippingSettings
from app.shipping.settings import load as load_shipping
from app.users import LoggedIn, login
from tests.pickfloor import load_totes, pick_task, picker


def pick_lists(engine: Engine, count: int = 1) -> list[station.PickListView]:
    """Claim and pick ``count`` whole pick lists; the lists as they end (done)."""
    who = picker(engine)
    done = []
    for _ in range(count):
        view = station.claim_next(engine, who)
        assert view is not None, "the demo floor has no pick list left"
        view = load_totes(engine, who, view)
        while view.current is not None:
            view = pick_task(engine, who, view)
        done.append(view)
    return done


def packer(engine: Engine, station_code: str = "PACK-01") -> LoggedIn:
    return login(engine, station_code, "pack", "BADGE-U2001", "2222")


def setup(engine: Engine) -> tuple[pack.Catalogue, ShippingSettings]:
    return pack.catalogue(engine), load_shipping(engine)


def single_tote_orders(engine: Engine, views: list[station.PickListView]) -> list[str]:
    """Totes whose order came in that tote alone (every unit of it at WH1 picked there)."""
    who = packer(engine)
    cat, ship = setup(engine)
    found = []
    for view in views:
        for tote in view.totes:
            if tote.tote is None or tote.status != "picked":
                continue
            try:
                bench = pack.open_tote(engine, who, tote.tote, cat, ship)
            except pack.PackError:
                continue
            pack.release(engine, who, bench, "looked")
            if len(bench.totes) == 1:
                found.append(tote.tote)
    return found


def unit_scans(bench: pack.Bench) -> list[str]:
    """A scan for every unit left to pack, as the units in the totes carry them."""
    scans = []
    for line in bench.lines:
        assert line.gtin is not None
        gtin = line.gtin.zfill(14)
        serials = [s for s in line.serials if s not in line.packed_serials]
        for n in range(line.left):
            if line.track_serial:
                scans.append(
                    f"01{gtin}21{serials[n]}\x1d"
                    + (f"10{line.lots[0]}" if line.lots and line.lots[0] else "")
                )
            elif line.track_lot or line.track_expiry:
                lot = line.lots[0] if line.lots else ""
                scans.append(f"01{gtin}" + (f"10{lot}" if lot else ""))
            else:
                scans.append(line.gtin)
    return scans
