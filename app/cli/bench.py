"""`shipfloor bench NAME`: the benchmarks, each a JSON object with `--json`."""

from __future__ import annotations

import argparse
import os
from typing import Any

from rich.table import Table

from app.cli.common import (
    CommandError,
    err,
    out,
    positive,
    print_json,
    progress,
)


def cmd_bench(args: argparse.Namespace) -> int:
    if args.name == "picking":
        from app.cli.waves import bench_picking

        with progress(not args.json and err.is_terminal) as update:
            return bench_picking(args, update)
    if args.name == "scan":
        from app.picking import bench as bench_scan

        with progress(not args.json and err.is_terminal) as update:
            scan_report = bench_scan.run(args.postgresql, orders=args.scan_orders, progress=update)
        if args.json:
            print_json(scan_report)
            return 0
        table = Table(
            "store", "scan p50 ms", "scan p99 ms", "commit p50 ms", "commit p99 ms", "picks"
        )
        for store_name, figures in scan_report.items():
            if "skipped" in figures:
                table.add_row(store_name, figures["skipped"], "", "", "", "")
                continue
            table.add_row(
                store_name,
                f"{figures['scan_ms_p50']:.2f}",
                f"{figures['scan_ms_p99']:.2f}",
                f"{figures['bare_commit_ms_p50']:.2f}",
                f"{figures['bare_commit_ms_p99']:.2f}",
                str(figures["picks"]),
            )
        out.print(table)
        return 0
    if args.name == "labels":
        from app.cli.shipping import bench_labels

        figures = bench_labels(args)
        if args.json:
            print_json(figures)
        else:
            table = Table("document", "median ms", title="Rendering labels and documents")
            for name, ms in figures.items():
                table.add_row(name.removesuffix("_ms").replace("_", " "), f"{ms:.3f}")
            out.print(table)
        return 0
    if args.name == "pack":
        return bench_pack(args)
    if args.name == "ship":
        return bench_ship(args)
    if args.name != "dom":
        raise CommandError(
            f"unknown benchmark {args.name!r}; available: dom, labels, pack, picking, scan, ship"
        )
    from app.dom import bench

    with progress(not args.json and err.is_terminal) as update:
        report = bench.run(
            instances=args.instances,
            sequences=args.sequences,
            horizon=args.orders,
            progress=update,
        )
    if args.json:
        print_json(report)
        return 0
    table = Table(
        title=f"DOM: {args.instances} instances × {args.sequences} sequences × "
        f"{args.orders:,} orders"
    )
    for heading in (
        "policy",
        "cost ÷ DLP",
        "split rate",
        "packages/order",
        "unit fill",
        "p50 ms",
        "p95 ms",
    ):
        table.add_column(heading, justify="left" if heading == "policy" else "right")
    policies = report["policies"]
    assert isinstance(policies, dict)
    for name, v in policies.items():
        table.add_row(
            name,
            f"{v['cost_ratio']:.4f}",
            f"{v['split_rate']:.1%}",
            f"{v['packages_per_order']:.3f}",
            f"{v['unit_fill']:.2%}",
            f"{v['latency_ms_p50']:.2f}",
            f"{v['latency_ms_p95']:.2f}",
        )
    out.print(table)
    large = report["large_network"]
    assert isinstance(large, dict)
    out.print(
        f"{large['nodes']} nodes, {large['lines_per_order']}-line orders: decision "
        f"p50 {large['latency_ms_p50']:.1f} ms, p95 {large['latency_ms_p95']:.1f} ms"
    )
    return 0


def bench_pack(args: argparse.Namespace) -> int:
    from app.packing import bench as bench_packing

    with progress(not args.json and err.is_terminal) as update:
        report = bench_packing.run(
            pairs=args.pack_pairs, orders=args.pack_orders, seed=args.pack_seed, progress=update
        )
    if args.json:
        print_json(report)
        return 0
    two, mixed = report["two_item"], report["mixed"]
    table = Table("orders", "figure", "ours", "py3dbp", "p95 ms", title="Packaging suggestion")
    table.add_row(
        f"{two['orders']:,} two-unit",
        "cost = the exact optimum",
        f"{two['best_box_rate']:.2%}",
        f"{two['py3dbp_best_box_rate']:.2%}",
        f"{two['ms_p95']:.2f}",
    )
    table.add_row(
        f"{mixed['orders']:,} mixed",
        "total cost",
        f"{mixed['ours_cost']:,.2f}",
        f"{mixed['py3dbp_cost']:,.2f}",
        f"{mixed['ms_p95']:.2f}",
    )
    table.add_row("", "packages", f"{mixed['ours_boxes']:,}", f"{mixed['py3dbp_boxes']:,}", "")
    if mixed["large_ms_p95"] is not None:
        table.add_row(
            f"{mixed['large_orders']:,} of them",
            "of 15-20 units",
            "",
            "",
            f"{mixed['large_ms_p95']:.2f}",
        )
    table.add_row(
        "both / mixed",
        "valid packings",
        f"{report['valid_packings']:.2%}",
        f"{report['py3dbp_valid_packings']:.2%}",
        "",
    )
    out.print(table)
    return 0


def bench_ship(args: argparse.Namespace) -> int:
    from app.loading import bench as ship_bench

    with progress(not args.json and err.is_terminal) as update:
        try:
            report = ship_bench.run(args.postgresql, packages=args.ship_packages, progress=update)
        except ship_bench.BenchError as exc:
            raise CommandError(str(exc)) from None
    if args.json:
        print_json(report)
        return 0
    table = Table(
        "store",
        "rate shop p95 ms",
        "load scan p50 ms",
        "load scan p95 ms",
        "close-out s",
        "packages",
        "orders",
    )
    for store_name, figures in report["stores"].items():
        if "skipped" in figures:
            table.add_row(store_name, figures["skipped"], "", "", "", "", "")
            continue
        table.add_row(
            store_name,
            f"{figures['rate_shop_ms_p95']:.3f}",
            f"{figures['load_scan_ms_p50']:.2f}",
            f"{figures['load_scan_ms_p95']:.2f}",
            f"{figures['close_out_1000_packages_s']:.2f}",
            f"{figures['packages_closed_out']:,}",
            f"{figures['orders_shipped']:,}",
        )
    out.print(table)
    return 0


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add this group's commands to the `shipfloor` parser."""
    bench_cmd = commands.add_parser("bench", parents=[common], help="run a benchmark")
    bench_cmd.add_argument(
        "name",
        metavar="NAME",
        choices=["dom", "labels", "pack", "picking", "scan", "ship"],
        help="dom, labels, pack, picking, scan, ship",
    )
    bench_cmd.add_argument(
        "--postgresql",
        metavar="URL",
        default=os.environ.get("SHIPFLOOR_BENCH_POSTGRES_URL"),
        help="scan, ship: a PostgreSQL server where a scratch database may be made "
        "(default: $SHIPFLOOR_BENCH_POSTGRES_URL)",
    )
    bench_cmd.add_argument(
        "--ship-packages",
        type=positive,
        default=1000,
        help="ship: packages on the load closed out (1000)",
    )
    bench_cmd.add_argument(
        "--scan-orders", type=positive, default=150, help="scan: orders routed and picked (150)"
    )
    bench_cmd.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    bench_cmd.add_argument("--instances", type=int, default=10, help="dom: instances (10)")
    bench_cmd.add_argument("--sequences", type=int, default=3, help="dom: arrival sequences (3)")
    bench_cmd.add_argument("--orders", type=int, default=10_000, help="dom: orders per run")
    bench_cmd.add_argument(
        "--lists", type=positive, default=200, help="picking: random pick lists per size (200)"
    )
    bench_cmd.add_argument(
        "--wave-orders", type=positive, default=5000, help="picking: orders in the wave (5000)"
    )
    bench_cmd.add_argument(
        "--pack-pairs", type=positive, default=5000, help="pack: random two-unit orders (5000)"
    )
    bench_cmd.add_argument(
        "--pack-orders", type=positive, default=1000, help="pack: mixed orders of 1-20 units (1000)"
    )
    bench_cmd.add_argument(
        "--pack-seed", type=int, default=1, help="pack: the seed both sets of orders come from (1)"
    )
    bench_cmd.set_defaults(run=cmd_bench)
