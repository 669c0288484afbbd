"""How long the activity log's queries take on a large history: one organization with ACTIONS
ledger rows and ENTRIES log entries over 2,000 customers (and a second organization as large).

    .venv/bin/python bench/activity_feed.py [DATABASE_URL] [ACTIONS] [ENTRIES]

DATABASE_URL defaults to a fresh SQLite file; pass an empty PostgreSQL database's URL to measure
there (its tables are created, and dropped at the end). The tables are analyzed after loading,
as autovacuum does after a bulk load: without statistics PostgreSQL's planner guesses one row per
filter and a customer's page takes about a second instead of tens of milliseconds.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
from decimal import Decimal

from sqlalchemy import insert

from integration.owner.records import FeedFilter, activity_feed, customer_record
from integration.store.db import make_engine, make_session_factory, transaction, upgrade
from integration.store.models import (
    Action,
    ActivityEntry,
    Base,
    Connection,
    MirroredCustomer,
    MirroredInvoice,
    Organization,
)

CUSTOMERS = 2000
T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def seed(sessions, name: str, actions: int, entries: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with transaction(sessions) as db:
        org = Organization(name=name)
        db.add(org)
        db.flush()
        connection = Connection(organization_id=org.id, provider="quickbooks", external_id=name)
        db.add(connection)
        db.flush()
        org_id, conn_id = org.id, connection.id
        db.execute(
            insert(MirroredCustomer),
            [
                {
                    "connection_id": conn_id,
                    "provider_id": str(c),
                    "name": f"Customer {c}",
                    "currency": "USD",
                    "provider_updated_at": T0,
                }
                for c in range(CUSTOMERS)
            ],
        )
        db.execute(
            insert(MirroredInvoice),
            [
                {
                    "connection_id": conn_id,
                    "provider_id": f"i{c}-{n}",
                    "customer_provider_id": str(c),
                    "number": f"{c}-{n}",
                    "issue_date": dt.date(2025, 1, 1),
                    "total": Decimal(100),
                    "balance": Decimal(100),
                    "currency": "USD",
                    "status": "open",
                    "provider_updated_at": T0,
                }
                for c in range(CUSTOMERS)
                for n in range(5)
            ],
        )
        db.execute(
            insert(Action),
            [
                {
                    "organization_id": org_id,
                    "connection_id": conn_id,
                    "idempotency_key": f"{conn_id}:{n}",
                    "kind": "send_reminder",
                    "target_type": "invoice",
                    "target_id": f"i{n % CUSTOMERS}-{n % 5}",
                    "reason": f"reason {n}",
                    "status": "done",
                    "payload": {"customer_id": str(n % CUSTOMERS), "invoice_ids": [f"i{n % CUSTOMERS}-{n % 5}"]},
                    "created_at": T0 + dt.timedelta(minutes=n),
                }
                for n in range(actions)
            ],
        )
        db.execute(
            insert(ActivityEntry),
            [
                {
                    "organization_id": org_id,
                    "connection_id": conn_id,
                    "kind": "action_done",
                    "message": f"entry {n}",
                    "customer_provider_id": str(n % CUSTOMERS),
                    "invoice_provider_id": f"i{n % CUSTOMERS}-{n % 5}",
                    "created_at": T0 + dt.timedelta(minutes=n),
                    "details": {},
                }
                for n in range(entries)
            ],
        )
        customer_id = db.query(MirroredCustomer.id).filter_by(connection_id=conn_id, provider_id="7").scalar()
    return org_id, customer_id


def timed(label: str, call, repeat: int = 5) -> None:  # type: ignore[no-untyped-def]
    call()  # warm
    started = time.perf_counter()
    for _ in range(repeat):
        result = call()
    each = (time.perf_counter() - started) / repeat * 1000
    size = len(result.rows) if hasattr(result, "rows") else len(result.activity)
    print(f"  {label}: {each:.1f} ms ({size} rows)")


def main(url: str | None, actions: int, entries: int) -> None:
    url = url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    started = time.perf_counter()
    org_id, customer_id = seed(sessions, "bench", actions, entries)
    seed(sessions, "neighbour", actions, entries)
    print(
        f"{engine.dialect.name}: seeded 2 x ({actions} actions, {entries} entries) in {time.perf_counter() - started:.1f}s"
    )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("ANALYZE")  # the statistics PostgreSQL's autovacuum gathers after a bulk load
    with sessions() as db:
        timed("page 1", lambda: activity_feed(db, org_id, FeedFilter()))
        timed("page 100", lambda: activity_feed(db, org_id, FeedFilter(page=100)))
        timed("one customer, page 1", lambda: activity_feed(db, org_id, FeedFilter(customer_id=customer_id)))
        timed("one invoice, page 1", lambda: activity_feed(db, org_id, FeedFilter(invoice_number="7-2")))
        timed("one customer's whole record", lambda: customer_record(db, org_id, customer_id))
    if engine.dialect.name == "postgresql":
        Base.metadata.drop_all(engine)
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    engine.dispose()


if __name__ == "__main__":
    args = sys.argv[1:]
    main(
        args[0] if args else None,
        int(args[1]) if len(args) > 1 else 100_000,
        int(args[2]) if len(args) > 2 else 200_000,
    )
