"""What checking each synced row for values the database would refuse costs (integration.store.quarantine).

    PYTHONPATH=. .venv/bin/python bench/quarantine_check.py [--rows 100000]

Prints the time to check that many ordinary invoice rows, the work the sync adds to every page.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.contract import Invoice, InvoiceStatus, Money  # noqa: E402
from integration.cycle.sync import _invoice_row  # noqa: E402
from integration.store.models import MirroredInvoice  # noqa: E402
from integration.store.quarantine import refused_value  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    at = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
    rows = [
        {
            "connection_id": 1,
            **_invoice_row(
                Invoice(
                    str(n),
                    f"INV-{n}",
                    f"c{n % 500}",
                    at.date(),
                    at.date(),
                    Money(Decimal("1250.00"), "USD"),
                    Money(Decimal("250.00"), "USD"),
                    InvoiceStatus.OPEN,
                    at,
                    pay_link=f"https://pay.example/{n}",
                    email="ap@acme.example, owner@acme.example",
                    sync_token="3",
                )
            ),
        }
        for n in range(args.rows)
    ]
    table = MirroredInvoice.__table__
    started = time.perf_counter()
    refused = sum(1 for row in rows if refused_value(table, row))
    elapsed = time.perf_counter() - started
    print(
        f"quarantine check: {args.rows:,} invoice rows in {elapsed:.2f} s "
        f"({elapsed / args.rows * 1e6:.1f} µs a row), {refused} refused"
    )


if __name__ == "__main__":
    main()
