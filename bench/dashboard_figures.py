"""Benchmark (not a test): the dashboard's figures (aging, and receivables/overdue/DSO at 13
month-ends) over a synthetic year of invoices and their payments. Prints the time for each.

    .venv/bin/python bench/dashboard_figures.py [--invoices 20000]

A small business issues a few thousand invoices a year; the dashboard computes these on every
page view, so the figures should take a small part of a second at that size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.contract import Invoice, InvoiceStatus, Money, Payment, PaymentApplication  # noqa: E402
from integration.owner.dashboard_figures import month_ends, trend  # noqa: E402
from integration.policy.aging import aging_totals  # noqa: E402

TODAY = dt.date(2026, 11, 23)
UPDATED = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)


def build(count: int, seed: int) -> tuple[list[Invoice], list[Payment]]:
    rng = random.Random(seed)
    invoices, payments = [], []
    for n in range(count):
        issued = TODAY - dt.timedelta(days=rng.randint(0, 455))
        amount = Money(Decimal(rng.randint(100, 500_000)) / 100, "USD")
        paid_on = issued + dt.timedelta(days=rng.randint(5, 120))
        paid = paid_on <= TODAY
        invoices.append(
            Invoice(
                f"i{n}",
                str(n),
                f"c{n % 300}",
                issued,
                issued + dt.timedelta(days=30),
                amount,
                Money(Decimal(0), "USD") if paid else amount,
                InvoiceStatus.PAID if paid else InvoiceStatus.OPEN,
                UPDATED,
            )
        )
        if paid:
            payments.append(
                Payment(f"p{n}", f"c{n % 300}", paid_on, amount, (PaymentApplication(f"i{n}", amount),), UPDATED)
            )
    return invoices, payments


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=20_000)
    args = parser.parse_args()
    invoices, payments = build(args.invoices, seed=7)
    started = time.perf_counter()
    aging_totals(invoices, TODAY)
    aging = time.perf_counter() - started
    started = time.perf_counter()
    trend([(invoices, payments)], month_ends(TODAY))
    series = time.perf_counter() - started
    print(
        f"dashboard figures over {len(invoices)} invoices and {len(payments)} payments: "
        f"aging {aging * 1000:.0f} ms, trend at 13 days {series * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
