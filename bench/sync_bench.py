"""Benchmarks (a) and (b): the initial sync of one large company, then the incremental sync after
1% of its invoices change (each paid in full), on one provider's sandbox.

The sync runs in a worker process of its own (bench/worker.py); its API calls are read from the
sandbox's request counters. The minimum is what the provider's contract forces on any client:
- Xero: one call per page of 1000, the pagination block says which page is the last;
  an entity with no changes still takes one call. An incremental sync asks If-Modified-Since the
  newest change it has stored, and Xero's filter includes that instant: the boundary row comes
  back once more (a cursor moved past it would miss a row written in the same instant after the
  read), so n changes are n + 1 rows to page through.
- QuickBooks: a query page carries no total, so a full page is always followed by one more
  (floor(n / 1000) + 1 calls for n rows). An incremental sync is one ChangeDataCapture call per
  entity; CDC answers at most 1000 objects and cannot say it was cut short, so from 1000 changes on
  the same paged queries follow it.
No fixed overhead: the tokens are fresh and the organisation's currency is known at connect time.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from math import ceil

from bench import books
from bench.figures import Figure, at_most, info
from bench.world import BenchWorld, Connected

PAGE = 1000
CALLS_TARGET = 1.05  # within 5% of the minimum
RSS_TARGET_MB = 300


def minimum_calls(provider: str, changed: dict[str, int], incremental: bool) -> int:
    """The fewest calls that can bring `changed` rows per entity into the mirror (see the module doc)."""
    if provider == "xero":
        boundary = 1 if incremental else 0
        return sum(max(1, ceil((n + boundary) / PAGE)) for n in changed.values())
    if not incremental:
        return sum(n // PAGE + 1 for n in changed.values())
    return sum(1 if n < PAGE else 1 + n // PAGE + 1 for n in changed.values())


@dataclass
class SyncRun:
    seconds: float
    calls: int
    throttled: int
    maxrss_mb: float
    upserted: dict[str, int]


def run_sync(world: BenchWorld, company: Connected) -> SyncRun:
    world.reset_counters()
    child = subprocess.run(
        world.worker_command("sync", str(company.connection_id)),
        env=world.env(),
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if child.returncode != 0:
        raise RuntimeError(f"sync worker failed ({child.returncode}): {child.stderr[-3000:]}")
    report = json.loads(child.stdout.strip().splitlines()[-1])
    counters = world.counters(company.provider)
    return SyncRun(
        report["seconds"], counters["total"], counters["throttled_total"], report["maxrss_mb"], report["upserted"]
    )


def change_one_percent(world: BenchWorld, company: Connected) -> dict[str, int]:
    """Pay 1% of the invoices in full (open ones, spread over the ledger); returns rows changed per entity."""
    open_ids = books.open_invoice_ids(company.scenario)
    count = max(1, len(company.scenario.invoices) // 100)
    if count > len(open_ids):
        raise ValueError(f"only {len(open_ids)} open invoices, cannot change {count}")
    step = len(open_ids) / count
    path = (
        f"/companies/{company.key}/payments"
        if company.provider == "quickbooks"
        else f"/organisations/{company.key}/payments"
    )
    for n in range(count):
        world.admin(company.provider, "POST", path, json={"invoice": open_ids[int(n * step)]})
    return {"customer": 0, "invoice": count, "payment": count}


def measure(world: BenchWorld, provider: str, invoices: int) -> list[Figure]:
    scenario = books.company(invoices, books.today(), name=f"Bench {provider} {invoices}")
    company = world.add(provider, scenario)
    initial = run_sync(world, company)
    rows = {"customer": len(scenario.customers), "invoice": len(scenario.invoices), "payment": len(scenario.payments)}
    first_minimum = minimum_calls(provider, rows, incremental=False)
    time.sleep(1.1)  # changes land in a later second than the sync's cursor, as they would in life
    changed = change_one_percent(world, company)
    incremental = run_sync(world, company)
    second_minimum = minimum_calls(provider, changed, incremental=True)
    label = f"{provider} {invoices:,} invoices"
    return [
        info(f"(a) {label}: initial sync wall time", round(initial.seconds, 1), "s"),
        at_most(
            f"(a) {label}: initial sync API calls (minimum {first_minimum})",
            initial.calls,
            "calls",
            first_minimum * CALLS_TARGET,
            f"<= {first_minimum * CALLS_TARGET:.0f} (min + 5%)",
        ),
        at_most(
            f"(a) {label}: worker peak RSS", round(initial.maxrss_mb), "MB", RSS_TARGET_MB, f"< {RSS_TARGET_MB} MB"
        ),
        at_most(f"(a) {label}: 429s received", initial.throttled, "", 0, "0"),
        info(f"(b) {label}, 1% changed: incremental sync wall time", round(incremental.seconds, 2), "s"),
        at_most(
            f"(b) {label}, 1% changed: incremental API calls (minimum {second_minimum})",
            incremental.calls,
            "calls",
            second_minimum * CALLS_TARGET,
            f"<= {second_minimum * CALLS_TARGET:.1f} (min + 5%)",
        ),
        at_most(f"(b) {label}: 429s received", incremental.throttled, "", 0, "0"),
    ]
