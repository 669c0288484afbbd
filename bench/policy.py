"""Benchmark (not a test): decide over a synthetic mirror of 1,000,000 open invoices across 50,000
customers with 12 months of paid history. Prints invoices per second and peak memory.

    .venv/bin/python bench/policy.py [--invoices 1000000] [--customers 50000] [--paid-per-customer 12] [--profile] [--with-gc]

Target: at least 250,000 open invoices per second on one core, under 1.5 GB peak (VmHWM). decide
runs on one core, so the one-core figure is open invoices per CPU second (`time.process_time()`);
wall time is printed beside it because the machine may be shared. `--profile` prints the top
functions of a cProfile run of decide instead (slower, for finding hot spots). The cycle collector
is off while decide runs (see main; `--with-gc` keeps it on): decide itself never touches it.
The mirror shares immutable values (dates, amounts) the way a loader interning them would; most
open invoices already have their current stage in the history, as on any day after the first.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import json
import pstats
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.figures import peak_rss_mb  # noqa: E402
from connectors.contract import Customer, Invoice, InvoiceStatus, Money, Payment, PaymentApplication  # noqa: E402
from integration.policy.decide import decide  # noqa: E402
from integration.policy.rules import Rules  # noqa: E402
from integration.policy.snapshot import Company, History, SentReminder, Snapshot  # noqa: E402

TODAY = dt.date(2026, 6, 10)
NOW = dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC)
EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
# Days late from which each stage is due (check_in: 3 days after issue, on 30-day terms).
STAGE_FROM = {
    "check_in": -27,
    "courtesy": -3,
    "reminder_1": 1,
    "reminder_2": 14,
    "past_due_30": 30,
    "past_due_60": 60,
    "final_notice": 90,
}


def build(customers: int, open_per: int, paid_per: int, seed: int) -> Snapshot:
    rng = random.Random(seed)
    dates = [TODAY - dt.timedelta(days=n) for n in range(800)]
    amounts = [Money(Decimal(n) * 25, "USD") for n in range(1, 201)]
    zero = Money(Decimal(0), "USD")
    paid_status, open_status = InvoiceStatus.PAID, InvoiceStatus.OPEN
    all_customers, invoices, payments, sent = [], [], [], []
    for c in range(customers):
        cid = f"c{c}"
        email = f"ap@customer{c}.example"
        all_customers.append(Customer(cid, f"Customer {c}", email, None, "USD", None, True, EPOCH))
        habit = rng.choice((-3, 2, 10, 20, 45))
        for p in range(paid_per):
            due_ago = 30 * p + rng.randint(40, 60)
            paid_ago = max(due_ago - habit - rng.randint(0, 8), 0)
            iid = f"p{c}-{p}"
            amount = amounts[rng.randrange(200)]
            invoices.append(
                Invoice(iid, iid, cid, dates[due_ago + 30], dates[due_ago], amount, zero, paid_status, EPOCH)
            )
            payments.append(
                Payment(f"y{c}-{p}", cid, dates[paid_ago], amount, (PaymentApplication(iid, amount),), EPOCH)
            )
        by_stage: dict[str, list[str]] = {}
        for o in range(open_per):
            late = rng.randint(-29, 120)
            iid = f"o{c}-{o}"
            amount = amounts[rng.randrange(200)]
            invoices.append(
                Invoice(
                    iid,
                    iid,
                    cid,
                    dates[late + 30] if late > -30 else TODAY,
                    dates[late] if late >= 0 else TODAY + dt.timedelta(days=-late),
                    amount,
                    amount,
                    open_status,
                    EPOCH,
                )
            )
            reached = [s for s, start in STAGE_FROM.items() if late >= start]
            if reached and rng.random() < 0.95:  # 5% of invoices step up today
                by_stage.setdefault(reached[-1], []).append(iid)
        for stage, ids in by_stage.items():
            sent.append(SentReminder(cid, tuple(ids), stage, dates[rng.randint(6, 20)]))
    return Snapshot(
        Company("Bench Co", "America/Denver", "USD"),
        tuple(all_customers),
        tuple(invoices),
        tuple(payments),
        history=History(tuple(sent)),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--invoices", type=int, default=1_000_000, help="open invoices, spread evenly over the customers"
    )
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--paid-per-customer", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of decide instead of timing it")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line (for bench/run.py)")
    parser.add_argument("--with-gc", action="store_true", help="keep the cycle collector on while decide runs")
    args = parser.parse_args()
    if args.customers < 1 or args.invoices < args.customers:
        parser.error("--invoices must be at least --customers, and --customers at least 1")
    open_per = args.invoices // args.customers
    started = time.perf_counter()
    snapshot = build(args.customers, open_per, args.paid_per_customer, args.seed)
    built = time.perf_counter() - started
    open_count = args.customers * open_per
    print(
        f"mirror: {args.customers:,} customers, {open_count:,} open invoices, "
        f"{args.customers * args.paid_per_customer:,} paid invoices and payments (built in {built:.1f} s)"
    )
    rules = Rules.default()
    # The figures are decide's own cost. With the collector on, its passes walk every live object,
    # the million-object mirror included, each time decide's allocations cross a threshold: a cost
    # of the process holding the mirror, not of the policy (decide makes no reference cycles).
    if not args.with_gc:
        gc.disable()
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(decide, snapshot, rules, NOW)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return
    started, cpu_started = time.perf_counter(), time.process_time()
    actions = decide(snapshot, rules, NOW)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak_mb = peak_rss_mb()
    if args.json:
        print(
            json.dumps(
                {
                    "open_invoices": open_count,
                    "per_cpu_second": open_count / cpu,
                    "per_wall_second": open_count / elapsed,
                    "peak_mb": peak_mb,
                    "actions": len(actions),
                }
            )
        )
        return
    print(f"decide: {elapsed:.2f} s wall, {cpu:.2f} s CPU, {len(actions):,} actions")
    print(
        f"throughput: {open_count / elapsed:,.0f} open invoices/s wall; "
        f"one core: {open_count / cpu:,.0f} open invoices per CPU second (target >= 250,000)"
    )
    print(f"peak memory (VmHWM): {peak_mb:,.0f} MB (target < 1,536 MB)")


if __name__ == "__main__":
    main()
