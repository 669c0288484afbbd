"""`make bench`: every benchmark of the scale-out issue, one table, and bench/results/latest.json.

    .venv/bin/python bench/run.py [--sync-invoices N] [--cycle-invoices N] [--cycle-connections N]
                                  [--xero-cycle-connections N] [--xero-cycle-invoices N] [--workers 4] [--latency-ms 100]
                                  [--policy-invoices N] [--mirror-rows N] [--parts mirror,sync,cycle,policy]

Every size also reads an environment variable (BENCH_SYNC_INVOICES, BENCH_CYCLE_INVOICES,
BENCH_CYCLE_CONNECTIONS, BENCH_XERO_CYCLE_CONNECTIONS, BENCH_XERO_CYCLE_INVOICES, BENCH_WORKERS, BENCH_LATENCY_MS,
BENCH_POLICY_INVOICES, BENCH_MIRROR_ROWS), so `make bench BENCH_SYNC_INVOICES=2000 ...` gives a
quick run. The defaults are the issue's sizes; the table's header says when a run used smaller ones.
`--parts` (env BENCH_PARTS) runs only some of them: mirror upserts, (a)+(b) sync, (c) cycle, (d)
policy, (e) webhook to cancellation (bench/webhook_cancel.py), (f) the owner pages' server time
(bench/dashboard_view.py); bench/results/latest.json then keeps the previous run's figures of the other parts.
Needs PostgreSQL and Redis on loopback, as the production topology does.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import cycle_bench, dashboard_view, mirror_upserts, sync_bench, webhook_cancel  # noqa: E402
from bench.figures import Figure, at_least, load, save, table  # noqa: E402
from bench.world import bench_world  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
POLICY_TARGET = 250_000  # open invoices per CPU second (the policy issue)
ISSUE_SIZES = {
    "sync_invoices": 100_000,
    "cycle_invoices": 2_000,
    "cycle_connections": 200,
    "xero_cycle_connections": 4,
    "xero_cycle_invoices": 200,
    "policy_invoices": 1_000_000,
    "mirror_rows": 100_000,
    "webhook_invoices": 2_000,
    "dashboard_invoices": 20_000,
}
PARTS = ("mirror", "sync", "cycle", "policy", "webhook", "dashboard")
# Which sizes each part uses, and how its figures are named.
PART_SIZES = {
    "mirror": ("mirror_rows",),
    "sync": ("sync_invoices",),
    "cycle": ("cycle_invoices", "cycle_connections", "xero_cycle_connections", "xero_cycle_invoices"),
    "policy": ("policy_invoices",),
    "webhook": ("webhook_invoices",),
    "dashboard": ("dashboard_invoices",),
}
PART_PREFIXES = {
    "mirror": ("mirror upsert",),
    "sync": ("(a) ", "(b) "),
    "cycle": ("(c) ",),
    "policy": ("(d) ",),
    "webhook": ("(e) ",),
    "dashboard": ("(f) ",),
}


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])

    def size(name: str, default: int, what: str) -> None:
        env = f"BENCH_{name.upper()}"
        value = int(os.environ.get(env) or default)
        if value < 0:
            parser.error(f"{env} must not be negative")
        parser.add_argument(
            f"--{name.replace('_', '-')}", type=int, default=value, help=f"{what} (env {env}, default {default})"
        )

    size("sync_invoices", 100_000, "invoices of the company synced in (a) and (b)")
    size("cycle_invoices", 2_000, "invoices of each QuickBooks company in (c)")
    size("cycle_connections", 200, "QuickBooks connections in (c)")
    size("xero_cycle_connections", 4, "Xero connections in (c), besides the QuickBooks ones")
    # A Xero tenant's 60 calls a minute make a 2,000-invoice Xero cycle a quarter of an hour: its
    # companies are smaller, so (c) measures Xero's pacing in minutes.
    size("xero_cycle_invoices", 200, "invoices of each Xero company in (c)")
    size("workers", 4, "RQ worker processes in (c)")
    size("latency_ms", 100, "latency added to every sandbox API answer")
    size("policy_invoices", 1_000_000, "open invoices decided in (d)")
    size("mirror_rows", 100_000, "rows upserted per database in the mirror figures")
    size("webhook_invoices", 2_000, "invoices of each company in (e) (bench/webhook_cancel.py)")
    size("webhook_samples", 20, "payments per provider timed from webhook to cancellation in (e)")
    size("dashboard_invoices", 20_000, "invoices of the company whose owner pages are timed in (f)")
    parser.add_argument(
        "--parts",
        default=os.environ.get("BENCH_PARTS") or ",".join(PARTS),
        help=f"comma-separated parts to run, of {', '.join(PARTS)} (env BENCH_PARTS, default all)",
    )
    args = parser.parse_args(argv)
    args.parts = tuple(part.strip() for part in args.parts.split(",") if part.strip())
    unknown = sorted(set(args.parts) - set(PARTS))
    if unknown or not args.parts:
        parser.error(f"--parts takes some of {', '.join(PARTS)}, got {', '.join(unknown) or 'none'}")
    if args.workers < 1 or args.sync_invoices < 100 or args.cycle_invoices < 1 or args.xero_cycle_invoices < 1:
        parser.error("need at least 1 worker, 100 invoices to sync and 1 invoice per cycle company")
    return args


def policy_figures(invoices: int) -> list[Figure]:
    customers = max(1, invoices // 20)
    child = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("policy.py")),
            "--invoices",
            str(invoices),
            "--customers",
            str(customers),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if child.returncode != 0:
        raise RuntimeError(f"bench/policy.py failed: {child.stderr[-3000:]}")
    report = json.loads(child.stdout.strip().splitlines()[-1])
    label = f"(d) policy: decide over {report['open_invoices']:,} open invoices"
    return [
        at_least(
            f"{label}, per CPU second",
            round(report["per_cpu_second"]),
            "invoices/s",
            POLICY_TARGET,
            f">= {POLICY_TARGET:,}",
        ),
        Figure(f"{label}: peak RSS", round(report["peak_mb"]), "MB", "< 1,536 MB", report["peak_mb"] < 1536),
    ]


def part_of(figure: Figure) -> str:
    return next(part for part in PARTS if figure.name.startswith(PART_PREFIXES[part]))


def merged(new: list[Figure], previous: list[Figure], parts: tuple[str, ...]) -> list[Figure]:
    """`new` in place of the previous run's figures of the parts re-run; the other parts' figures kept."""
    kept = [figure for figure in previous if part_of(figure) not in parts]
    return sorted(kept + new, key=lambda figure: PARTS.index(part_of(figure)))


def header(args: argparse.Namespace, seconds: float) -> str:
    ran = [name for part in args.parts for name in PART_SIZES[part]]
    used = {name: getattr(args, name) for name in ran}
    smaller = [
        f"{name} {used[name]:,} (issue: {ISSUE_SIZES[name]:,})" for name in ran if used[name] < ISSUE_SIZES[name]
    ]
    sizes = "REDUCED SIZES: " + "; ".join(smaller) if smaller else "the issue's sizes"
    if set(args.parts) != set(PARTS):
        sizes += f"; parts run: {', '.join(args.parts)}"
    return (
        f"arpilot benchmarks ({sizes}); both sandboxes with {args.latency_ms} ms latency and their documented "
        f"limits; {args.workers} workers; {seconds / 60:.1f} minutes in all"
    )


def main(argv: list[str]) -> None:
    args = _arguments(argv)
    started = time.perf_counter()
    figures: list[Figure] = []
    if "mirror" in args.parts:
        for kind in ("sqlite", "postgresql"):
            figures += mirror_upserts.measure(kind, args.mirror_rows)
    if {"sync", "cycle", "webhook"} & set(args.parts):
        with bench_world(latency_ms=args.latency_ms) as world:
            if "sync" in args.parts:
                for provider in ("quickbooks", "xero"):
                    figures += sync_bench.measure(world, provider, args.sync_invoices)
            if "cycle" in args.parts:
                connections = {"quickbooks": args.cycle_connections, "xero": args.xero_cycle_connections}
                invoices = {"quickbooks": args.cycle_invoices, "xero": args.xero_cycle_invoices}
                figures += cycle_bench.measure(world, connections, invoices, args.workers, args.latency_ms)
            if "webhook" in args.parts:
                figures += webhook_cancel.measure(world, args.webhook_invoices, args.webhook_samples)
    if "policy" in args.parts:
        figures += policy_figures(args.policy_invoices)
    if "dashboard" in args.parts:
        for kind in ("sqlite", "postgresql"):
            figures += dashboard_view.measure(kind, args.dashboard_invoices, max(1, args.dashboard_invoices // 10), 9)
    save(merged(figures, load(RESULTS), args.parts), RESULTS)
    print(table(figures, header(args, time.perf_counter() - started)))
    print(f"\n(figures also in {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS})")


if __name__ == "__main__":
    main(sys.argv[1:])
