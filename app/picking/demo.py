"""The demo's picker at work: pick lists picked whole, so a pack bench has full totes."""

from __future__ import annotations

from app.picking import station as picking
from app.users import login, logout
from data.store import StoreEngine

DEMO_TOTE_LISTS = 3
"""Pick lists the demo's pickers pick whole, so a packer has full totes at once."""


def fill_demo_totes(engine: StoreEngine, lists: int = DEMO_TOTE_LISTS) -> int:
    """Have the demo's picker (U1001 at PICK-01) pick ``lists`` pick lists whole, as a
    picker scanning every unit would, so their totes wait at packing; returns the totes
    filled. Serial-tracked units get serials ``DEMO<task>-<n>``."""
    who = login(engine, "PICK-01", "pick", "BADGE-U1001", "1111")
    filled = 0
    try:
        for _ in range(lists):
            view = picking.claim_next(engine, who)
            if view is None:
                break
            for slot in view.totes:
                view = picking.set_tote(
                    engine, who, view.id, slot.slot, f"TOTE-{view.id:03d}{slot.slot:02d}"
                )
            while (task := view.current) is not None:
                assert task.tote is not None
                expiry = picking.lot_expiry(engine, task)
                if task.track_serial:
                    units = [
                        picking.ItemScan(task.lot, f"DEMO{task.id}-{n}", expiry, 1)
                        for n in range(task.left)
                    ]
                else:
                    units = [picking.ItemScan(task.lot, "", expiry, task.left)]
                picking.confirm_pick(engine, who, view.id, task.id, units, task.tote)
                view = picking.view(engine, view.id)
            filled += sum(1 for t in view.totes if t.tote and t.status == "picked")
    finally:
        logout(engine, who)
    return filled
