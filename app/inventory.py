"""Inventory availability: what each node, and the network, can still promise."""

from __future__ import annotations

from dataclasses import dataclass

from data import inventory
from data.inventory import Drift, NodeAvailability
from data.store import StoreEngine
from data.uow import UnitOfWork


class UnknownSKU(LookupError):
    """No product has that SKU."""


class UnknownNode(LookupError):
    """No node has that code."""


@dataclass(frozen=True)
class Availability:
    """A SKU's availability per node and over the whole network."""

    sku: str
    nodes: tuple[NodeAvailability, ...]

    @property
    def network_on_hand(self) -> int:
        return sum(n.on_hand for n in self.nodes)

    @property
    def network_reserved(self) -> int:
        return sum(n.reserved for n in self.nodes)

    @property
    def network_atp(self) -> int:
        """Sum of the nodes' ATP (each node's safety stock is kept back at that node)."""
        return sum(n.atp for n in self.nodes)

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready view, as `shipfloor inventory available --json` prints it."""
        return {
            "sku": self.sku,
            "network": {
                "on_hand": self.network_on_hand,
                "reserved": self.network_reserved,
                "atp": self.network_atp,
            },
            "nodes": [
                {
                    "node": n.node_code,
                    "name": n.node_name,
                    "kind": str(n.node_kind),
                    "on_hand": n.on_hand,
                    "reserved": n.reserved,
                    "safety_stock": n.safety_stock,
                    "atp": n.atp,
                }
                for n in self.nodes
            ],
        }


def available(engine: StoreEngine, sku: str, node_code: str | None = None) -> Availability:
    """ATP of `sku` at every node holding it, or at one node."""
    with UnitOfWork(engine, read_only=True) as uow:
        if node_code is not None and not inventory.node_exists(uow.session, node_code):
            raise UnknownNode(f"no node has the code {node_code!r}")
        rows = inventory.availability(uow.session, sku, node_code)
    if rows is None:
        raise UnknownSKU(f"no product has the SKU {sku!r}")
    return Availability(sku=sku, nodes=tuple(rows))


def reconcile(engine: StoreEngine) -> list[Drift]:
    """Every place where stock totals disagree with their history (empty: all in step)."""
    with UnitOfWork(engine, read_only=True) as uow:
        return inventory.reconcile(uow.session)
