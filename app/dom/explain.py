"""`shipfloor route explain ORDER`: a stored DOM decision, as a person reads it."""

from __future__ import annotations

import json
from typing import Any

from data import dom as store
from data.store import StoreEngine
from data.uow import UnitOfWork


class OrderNotFoundError(LookupError):
    """No order, or more than one, answers to the reference given."""


def find_order(engine: StoreEngine, reference: str) -> int:
    """The id of the one order `reference` names (channel/external-id, external id, id)."""
    with UnitOfWork(engine, read_only=True) as uow:
        ids = store.find_order_id(uow.session, reference)
    if not ids:
        raise OrderNotFoundError(
            f"no order answers to {reference!r}; give channel/external-id (web/W-1001), "
            "an external id, or the order id"
        )
    if len(ids) > 1:
        raise OrderNotFoundError(
            f"{reference!r} names {len(ids)} orders; give it as channel/external-id"
        )
    return ids[0]


def explain(engine: StoreEngine, reference: str) -> str:
    """Every DOM decision about the order, oldest first, with candidates and costs."""
    order_id = find_order(engine, reference)
    with UnitOfWork(engine, read_only=True) as uow:
        order = store.order_to_route(uow.session, order_id)
        decisions = store.decisions(uow.session, order_id)
    assert order is not None
    out = [f"Order {order.reference} (id {order.id}) is {order.status}."]
    if not decisions:
        out.append("DOM has not decided anything about it yet.")
    for d in decisions:
        out.append("")
        out.append(f"{d.at:%Y-%m-%d %H:%M:%S} UTC by {d.actor}: {d.outcome} ({d.rule})")
        out.append(f"  {d.summary}")
        out.extend(_detail_lines(json.loads(d.detail)))
    return "\n".join(out)


def _detail_lines(detail: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    given = detail.get("given_back")
    if given:
        lines.append(
            f"  {given['node']} gave back {given['quantity']} x {given['sku']} "
            f"({given['reason']}); {given['written_off']} written off its stock"
        )
    ship_to = detail.get("ship_to")
    if ship_to and "latitude" in ship_to:
        lines.append(
            f"  ship-to {ship_to['country']} {ship_to['postal_code']} "
            f"(located by {ship_to['located_by']})"
        )
    policy = detail.get("policy")
    if policy:
        packages = policy["max_packages"] or "any number of"
        lines.append(
            f"  split policy: {packages} package(s); ties by {', '.join(policy['ranking'])}"
        )
    if "pickup_store" in detail:
        lines.append(f"  pickup store {detail['pickup_store']}")
        for sku, qty in sorted(detail.get("atp", {}).items()):
            lines.append(f"    {sku}: {qty} available")
    candidates = detail.get("candidates", [])
    if candidates:
        lines.append("  candidates (nearest first):")
        for c in candidates:
            stock = ", ".join(f"{sku} {qty}" for sku, qty in sorted(c["atp"].items()))
            lines.append(
                f"    {c['node']:<8} {c['miles']:>7.1f} mi  package {c['package_cost']:.2f}"
                f"  unit {c['unit_cost']:.2f}  priority {c['priority']}  ATP: {stock}"
            )
    excluded = detail.get("excluded", {})
    if excluded:
        lines.append("  not eligible:")
        for node, why in sorted(excluded.items()):
            lines.append(f"    {node:<8} {why}")
    bids = detail.get("bid_prices", {})
    if detail.get("bid_prices_set_aside"):
        lines.append("  bid prices set aside: with them the order would have been held short")
    if bids:
        lines.append(
            "  bid prices used: " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(bids.items()))
        )
    plan = detail.get("plan")
    if plan:
        lines.append(
            f"  plan: {len(plan['packages'])} package(s), shipping {plan['shipping_cost']:.2f}, "
            f"opportunity {plan['opportunity_cost']:.2f}"
        )
        for a in plan["allocations"]:
            number = a.get("line_no", a["line_id"])
            lines.append(f"    line {number}: {a['quantity']} from {a['node']}")
        for line_id, qty in plan.get("unfilled", {}).items():
            lines.append(f"    line {line_id}: {qty} unfilled")
    return lines
