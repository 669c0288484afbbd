"""Mirror writes in bulk: rows per second that `sync_connection` stores on SQLite and PostgreSQL.

    .venv/bin/python bench/mirror_upserts.py [--rows 100000]

Pages of 1000 invoices go through the real sync path (one bulk INSERT ... ON CONFLICT DO UPDATE and
the cursor advance per page, one transaction each): first into an empty mirror (inserts), then the
same invoices again with a newer update time (every row takes the DO UPDATE branch).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.databases import throwaway_database  # noqa: E402
from bench.figures import Figure, info  # noqa: E402
from connectors.contract import Invoice, InvoiceStatus, Money, Page, Provider, SyncRequest  # noqa: E402
from integration.cycle.sync import PAGE_SIZE, sync_connection  # noqa: E402
from integration.store.db import make_engine, make_session_factory, transaction  # noqa: E402
from integration.store.models import Connection, Organization  # noqa: E402

NOW = dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC)


class PagedInvoices:
    """A connector stand-in that streams `rows` invoices in pages, all updated at `updated_at`."""

    provider = Provider.QUICKBOOKS

    def __init__(self, rows: int, updated_at: dt.datetime) -> None:
        self.rows, self.updated_at = rows, updated_at

    def changes(self, request: SyncRequest) -> Iterator[Page]:
        for start in range(0, self.rows, request.page_size):
            records = [self._invoice(n) for n in range(start, min(start + request.page_size, self.rows))]
            yield Page("invoice", records, f"{start}", done=start + request.page_size >= self.rows)

    def _invoice(self, n: int) -> Invoice:
        amount = Money(Decimal(100 + n % 900), "USD")
        issued = dt.date(2026, 1, 1) + dt.timedelta(days=n % 300)
        return Invoice(
            str(n),
            f"INV-{n}",
            str(n % 5000),
            issued,
            issued + dt.timedelta(days=30),
            amount,
            amount,
            InvoiceStatus.OPEN,
            self.updated_at,
        )


def measure(kind: str, rows: int) -> list[Figure]:
    figures = []
    with throwaway_database(kind) as url:
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        with transaction(sessions) as session:
            organization = Organization(name="Bench")
            session.add(organization)
            session.flush()
            connection = Connection(organization_id=organization.id, provider="quickbooks", external_id="bench")
            session.add(connection)
            session.flush()
            connection_id = connection.id
        for label, updated_at in (("insert", NOW - dt.timedelta(days=1)), ("update", NOW)):
            started = time.perf_counter()
            result = sync_connection(
                sessions, connection_id, PagedInvoices(rows, updated_at), NOW, entities=("invoice",)
            )
            elapsed = time.perf_counter() - started
            assert result.upserted["invoice"] == rows, result
            figures.append(
                info(f"mirror upsert, {kind}, {label} (pages of {PAGE_SIZE})", round(rows / elapsed), "rows/s")
            )
        engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    for kind in ("sqlite", "postgresql"):
        for figure in measure(kind, args.rows):
            print(f"{figure.name}: {figure.value:,.0f} {figure.unit}")


if __name__ == "__main__":
    main()
