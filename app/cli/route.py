"""`shipfloor route`: DOM routing, its explanations, rejections, settings and areas."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.access import Action
from app.cli.common import (
    CommandError,
    acting_options,
    caller,
    current_engine,
    err,
    out,
    positive,
    print_json,
    progress,
)

WAIT_FOR_STORE = 120.0
"""How long `shipfloor route` waits for a store lost in the middle of a run."""


def cmd_route(args: argparse.Namespace) -> int:
    from app.dom import settings as dom_settings
    from app.dom.routing import backlog_bid_prices, route_backlog

    engine = current_engine(args)
    who = caller(args)
    try:
        settings = dom_settings.load(engine)
    except dom_settings.SettingsError as exc:
        raise CommandError(f"{exc}; fix them with `shipfloor route settings`") from None
    if args.batch:
        bids = backlog_bid_prices(engine, settings)
        dom_settings.store_bid_prices(engine, bids, who.actor)
        bid_note = f" with {len(bids)} bid prices from the backlog LP (kept for an hour)"
    else:
        bids, computed = dom_settings.current_bid_prices(engine)
        if bids:
            bid_note = f" with {len(bids)} bid prices from {computed:%H:%M} UTC"
        elif computed is not None:
            bid_note = " without bid prices (the last are over an hour old: run --batch)"
        else:
            bid_note = " without bid prices (none computed yet: run --batch)"
    with progress(not args.json and err.is_terminal) as update:
        summary = route_backlog(
            engine,
            who.actor,
            settings,
            limit=args.limit,
            bid_prices=bids,
            progress=lambda done, total: update("route", done, total),
            wait_for_store=WAIT_FOR_STORE,
            on_store_lost=lambda reason: err.print(
                f"shipfloor: lost the store ({reason}); the order being routed was rolled "
                f"back whole. Trying again every few seconds for up to {WAIT_FOR_STORE:.0f} s.",
                markup=False,
                emoji=False,
            ),
        )
    if args.json:
        print_json(
            {
                "routed": summary.routed,
                "held": summary.held,
                "skipped": summary.skipped,
                "bid_prices": len(bids),
                "orders": [
                    {
                        "order": r.reference,
                        "outcome": str(r.outcome),
                        "rule": r.rule,
                        "summary": r.summary,
                    }
                    for r in summary.results
                ],
            }
        )
        return 0
    for result in summary.results:
        if result.outcome != "routed":
            err.print(result.summary, markup=False, emoji=False)
    out.print(
        f"routed {summary.routed}, held {summary.held}, taken by another router "
        f"{summary.skipped}{bid_note}.",
        markup=False,
    )
    return 0


def cmd_route_reject(args: argparse.Namespace) -> int:
    from app.dom.explain import OrderNotFoundError, find_order
    from app.dom.reroute import REJECTION_REASONS
    from app.dom.routing import NotRoutable
    from app.dom.service import give_back
    from app.dom.settings import load as load_settings

    engine = current_engine(args)
    if args.reason not in REJECTION_REASONS:
        raise CommandError(
            f"unknown reason {args.reason!r}; use one of: {', '.join(sorted(REJECTION_REASONS))}",
            1,
        )
    who = caller(args)
    try:
        order_id = find_order(engine, args.order)
        result = give_back(
            engine,
            order_id,
            args.line,
            args.node,
            args.reason,
            who.actor,
            load_settings(engine),
            quantity=args.quantity,
        )
    except (OrderNotFoundError, NotRoutable, ValueError) as exc:
        raise CommandError(str(exc), 1) from None
    out.print(result.summary, markup=False, emoji=False)
    return 0 if result.outcome == "routed" else 1


def cmd_route_settings(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from app.dom import settings as dom
    from app.dom.costs import LinearShippingCost

    engine = current_engine(args)
    try:
        current = dom.load(engine)
        changed = current
        if args.ranking:
            changed = replace(changed, ranking=dom.parse_ranking(args.ranking))
        if args.unfilled_penalty is not None:
            if args.unfilled_penalty <= 0:
                raise dom.SettingsError("the unfilled penalty must be positive")
            changed = replace(changed, unfilled_penalty=args.unfilled_penalty)
        if args.rate_table:
            path = Path(args.rate_table)
            if not path.is_file():
                raise dom.SettingsError(f"{path} is not a file")
            changed = replace(changed, cost=dom.parse_rate_table(path.read_text()))
        if args.linear:
            try:
                per_package, per_unit, per_mile = (float(v) for v in args.linear.split(","))
            except ValueError:
                raise dom.SettingsError(
                    f"--linear {args.linear!r}: give PER_PACKAGE,PER_UNIT,PER_MILE"
                ) from None
            changed = replace(changed, cost=LinearShippingCost(per_package, per_unit, per_mile))
        limits: dict[str, int | None] = {}
        for item in args.channel or []:
            code, _, value = item.partition("=")
            if not value or not (value == "any" or value.isdigit()):
                raise dom.SettingsError(f"--channel {item!r}: give CODE=N or CODE=any")
            limits[code] = None if value == "any" else int(value)
        if changed != current or limits:
            who = caller(args)
            policies = dom.save(engine, changed, who.actor, limits)
        else:
            policies = dom.split_policies(engine)
    except dom.SettingsError as exc:
        raise CommandError(str(exc), 1) from None
    out.print(dom.to_json(changed), markup=False)
    out.print(
        "split policy: "
        + ", ".join(
            f"{c}={'any' if n is None else n}" for c, n in sorted(policies.by_channel.items())
        ),
        markup=False,
    )
    return 0


def cmd_route_areas(args: argparse.Namespace) -> int:
    from app.dom.areas import AreaFileError, import_areas

    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"{path} is not a file")
    engine = current_engine(args)
    try:
        result = import_areas(engine, path.read_text(encoding="utf-8"))
    except (AreaFileError, UnicodeDecodeError) as exc:
        raise CommandError(f"{path.name}: {exc}; nothing was stored", 1) from None
    out.print(f"{path.name}: {result.rows} areas read, {result.added} new.", markup=False)
    return 0


def cmd_route_explain(args: argparse.Namespace) -> int:
    from app.dom.explain import OrderNotFoundError, explain

    engine = current_engine(args)
    try:
        text = explain(engine, args.order)
    except OrderNotFoundError as exc:
        raise CommandError(str(exc), 1) from None
    out.print(text, markup=False, emoji=False, highlight=False)
    return 0


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add this group's commands to the `shipfloor` parser."""
    route_cmd = commands.add_parser(
        "route",
        parents=[common, acting_options()],
        help="route verified orders (DOM); `route explain ORDER`",
    )
    route_cmd.add_argument(
        "--batch",
        action="store_true",
        help="price scarce stock over the whole backlog first (bid prices from an LP)",
    )
    route_cmd.add_argument("--limit", type=positive, help="route at most this many orders")
    route_cmd.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    route_cmd.set_defaults(run=cmd_route, action=Action.ROUTE)
    route_sub = route_cmd.add_subparsers(
        dest="route_command", metavar="explain|reject|settings|areas"
    )
    explain_cmd = route_sub.add_parser(
        "explain", parents=[common], help="why an order went where it went"
    )
    explain_cmd.add_argument(
        "order", metavar="ORDER", help="channel/external-id, external id or id"
    )
    explain_cmd.set_defaults(run=cmd_route_explain, action=None)
    reject_cmd = route_sub.add_parser(
        "reject",
        parents=[common, acting_options()],
        help="a node gives back a line; DOM re-routes it",
    )
    reject_cmd.add_argument("order", metavar="ORDER", help="channel/external-id, external id or id")
    reject_cmd.add_argument("line", metavar="LINE", type=int, help="the order line number")
    reject_cmd.add_argument("node", metavar="NODE", help="the node giving it back")
    reject_cmd.add_argument(
        "--reason", required=True, help="no_stock, damaged, not_found or capacity"
    )
    reject_cmd.add_argument("--quantity", type=int, help="units given back (default: all)")
    reject_cmd.set_defaults(run=cmd_route_reject, action=Action.ROUTE_REJECT)
    settings_cmd = route_sub.add_parser(
        "settings",
        parents=[common, acting_options()],
        help="show or change the site's DOM settings (changing them is for an admin)",
    )
    settings_cmd.add_argument("--ranking", help="e.g. cost,proximity,priority")
    settings_cmd.add_argument(
        "--linear",
        metavar="PKG,UNIT,MILE",
        help="linear cost: per package, per unit, per package-mile",
    )
    settings_cmd.add_argument(
        "--rate-table", metavar="CSV", help="rate table: up_to_miles,per_package,per_unit rows"
    )
    settings_cmd.add_argument("--unfilled-penalty", type=float, help="cost of an unfilled unit")
    settings_cmd.add_argument(
        "--channel",
        action="append",
        metavar="CODE=N|any",
        help="split policy: at most N packages (1 = ship complete)",
    )
    settings_cmd.set_defaults(
        run=cmd_route_settings,
        action=Action.ROUTE_SETTINGS,
        acts_when=lambda a: any(
            v is not None
            for v in (a.ranking, a.linear, a.rate_table, a.unfilled_penalty, a.channel)
        ),
    )
    areas_cmd = route_sub.add_parser(
        "areas",
        parents=[common, acting_options()],
        help="import postal areas (country,prefix,name,latitude,longitude)",
    )
    areas_cmd.add_argument("file", metavar="CSV")
    areas_cmd.set_defaults(run=cmd_route_areas, action=Action.ROUTE_AREAS)
