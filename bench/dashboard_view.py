"""Benchmark (not a test): the owner's pages' server time on a large company, through Flask's test
client signed in: the dashboard (GET /, target under 150 ms) and the other owner pages (activity,
approvals, settings: under 300 ms), each the median of N runs after one warm-up.

    .venv/bin/python bench/dashboard_view.py [--invoices 20000] [--customers 2000] [--runs 9] [--postgres]

The company is written straight into the mirror and the ledger (no sandbox): INVOICES invoices over
the last fifteen months, a tenth of them open, CUSTOMERS customers, their payments, a reminder and
its log entry per open overdue invoice, call tasks, escalations, approvals waiting and promises. A
second organization as large shares the database, as a neighbour does. The embedded SQLite is the
default; --postgres measures on a throwaway PostgreSQL database too. The figures are merged into
bench/results/latest.json as part "dashboard" of bench/run.py.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from bench.databases import throwaway_database
from bench.figures import Figure, at_most, info
from integration.config import load_settings
from integration.store.db import make_engine, make_session_factory, transaction
from integration.store.models import (
    Action,
    ActivityEntry,
    Connection,
    CycleRun,
    InvoicePause,
    MirroredCustomer,
    MirroredInvoice,
    MirroredPayment,
    Organization,
    User,
)
from integration.web import create_app

PAGES = {
    "dashboard": ("/", 150.0),
    "activity": ("/activity", 300.0),
    "approvals": ("/approvals", 300.0),
    "settings": ("/settings", 300.0),
}
PREFIX = "(f) "  # bench/run.py's part "dashboard"
PROFILES = ("reliable", "good_but_slipping", "slow_but_steady", "habitually_late", "unresponsive", "new")


@dataclasses.dataclass(frozen=True)
class Built:
    organization_id: int
    user_id: int
    open_invoices: int


def _action(
    org: int, conn: int, key: str, kind: str, customer: str, invoice: str, when: dt.datetime, **extra: Any
) -> dict[str, Any]:
    row = {
        "organization_id": org,
        "connection_id": conn,
        "idempotency_key": f"{conn}:{key}",
        "kind": kind,
        "target_type": "invoice",
        "target_id": invoice,
        "reason": f"{kind.replace('_', ' ')} for invoice {invoice}",
        "status": "done",
        "payload": {"customer_id": customer, "invoice_ids": [invoice], "stage": "past_due_30"},
        "created_at": when,
        "completed_at": when,
    }
    row.update(extra)
    return row


def build(sessions: sessionmaker[Session], name: str, invoices: int, customers: int, today: dt.date) -> Built:
    """One organization with one company of `invoices` invoices over `customers` customers."""
    now = dt.datetime.combine(today, dt.time(9), dt.UTC)
    with transaction(sessions) as db:
        org = Organization(name=name)
        db.add(org)
        db.flush()
        user = User(organization_id=org.id, provider="quickbooks", subject=f"owner-{name}", email="o@bench.example")
        connection = Connection(
            organization_id=org.id, provider="quickbooks", external_id=name, display_name=name, last_sync_at=now
        )
        db.add_all([user, connection])
        db.flush()
        o, c = org.id, connection.id
        db.execute(
            insert(MirroredCustomer),
            [
                {
                    "connection_id": c,
                    "provider_id": f"c{k}",
                    "name": f"Customer {k}",
                    "phone": f"+1 555 {k:04d}",
                    "currency": "USD",
                    "provider_updated_at": now,
                }
                for k in range(customers)
            ],
        )
        rows, payments, actions, entries, pauses = [], [], [], [], []
        open_count = 0
        for n in range(invoices):
            customer = f"c{n % customers}"
            issued = today - dt.timedelta(days=(n * 457) // invoices)  # spread over fifteen months
            due = issued + dt.timedelta(days=30)
            total = Decimal(100 + (n * 37) % 9_900)
            is_open = n % 10 == 0
            open_count += is_open
            rows.append(
                {
                    "connection_id": c,
                    "provider_id": f"i{n}",
                    "customer_provider_id": customer,
                    "number": str(10_000 + n),
                    "issue_date": issued,
                    "due_date": due,
                    "total": total,
                    "balance": total if is_open else Decimal(0),
                    "currency": "USD",
                    "status": "open" if is_open else "paid",
                    "provider_updated_at": now,
                }
            )
            if not is_open:
                paid = min(today, due + dt.timedelta(days=(n % 5) * 9 - 3))
                payments.append(
                    {
                        "connection_id": c,
                        "provider_id": f"p{n}",
                        "customer_provider_id": customer,
                        "date": paid,
                        "amount": total,
                        "currency": "USD",
                        "applied_to": [{"invoice_id": f"i{n}", "amount": str(total)}],
                        "provider_updated_at": now,
                    }
                )
            elif due < today:
                when = now - dt.timedelta(days=n % 20, minutes=n % 600)
                actions.append(_action(o, c, f"r{n}", "send_reminder", customer, f"i{n}", when))
                entries.append(
                    {
                        "organization_id": o,
                        "connection_id": c,
                        "kind": "action_done",
                        "message": f"Reminder sent for invoice {10_000 + n}",
                        "customer_provider_id": customer,
                        "invoice_provider_id": f"i{n}",
                        "created_at": when,
                        "details": {},
                    }
                )
                if n % 40 == 0:  # a call task, its customer's class recorded as the policy does
                    payload = {
                        "customer_id": customer,
                        "invoice_ids": [f"i{n}"],
                        "stage": "past_due_30",
                        "payload": {"classification": PROFILES[n % 6], "talking_points": ["Ask when."]},
                    }
                    actions.append(_action(o, c, f"t{n}", "create_call_task", customer, f"i{n}", when, payload=payload))
                if n % 200 == 0:
                    actions.append(_action(o, c, f"e{n}", "recommend_escalation", customer, f"i{n}", when))
                if n % 300 == 0:
                    actions.append(
                        _action(o, c, f"a{n}", "send_reminder", customer, f"i{n}", when, status="awaiting_approval")
                    )
                if n % 100 == 0:
                    promised = today + dt.timedelta(days=n % 20)
                    pauses.append({"connection_id": c, "invoice_provider_id": f"i{n}", "promise_to_pay": promised})
        for table, batch in (
            (MirroredInvoice, rows),
            (MirroredPayment, payments),
            (Action, actions),
            (ActivityEntry, entries),
            (InvoicePause, pauses),
        ):
            if batch:
                db.execute(insert(table), batch)
        db.add(
            CycleRun(
                connection_id=c,
                started_at=now - dt.timedelta(minutes=5),
                finished_at=now,
                status="done",
                summary={"progress": {"phase": "sending", "pages": 24, "invoices": 0}},
            )
        )
        return Built(o, user.id, open_count)


def _timed_ms(client: Any, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    assert response.status_code == 200, path
    return (time.perf_counter() - started) * 1000


def _medians_ms(client: Any, path: str, runs: int) -> tuple[float, float]:
    """Median wall time and median CPU time of this process (the test client serves in it): on a
    shared machine the wall time also counts the waits for a CPU."""
    wall, cpu = [], []
    for _ in range(runs):
        started, used = time.perf_counter(), time.process_time()
        response = client.get(path)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
        assert response.status_code == 200, path
    return statistics.median(wall), statistics.median(cpu)


def measure(kind: str, invoices: int, customers: int, runs: int) -> list[Figure]:
    today = dt.datetime.now(dt.UTC).date()
    with throwaway_database(kind) as url, tempfile.TemporaryDirectory(prefix="arpilot-bench-var-") as var:
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        built = build(sessions, "Bench Co", invoices, customers, today)
        build(sessions, "Neighbour Co", invoices, customers, today)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")  # what autovacuum gathers after a bulk load
        engine.dispose()
        settings = load_settings({"ARPILOT_VAR_DIR": var, "ARPILOT_EMBEDDED_CLOCK": "0"})
        app = create_app(dataclasses.replace(settings, database_url=url))
        client = app.test_client()
        with client.session_transaction() as cookie:
            cookie["user_id"], cookie["organization_id"] = built.user_id, built.organization_id
        size = f"{invoices:,} invoices, {customers:,} customers"
        figures = [info(f"{PREFIX}{kind}: open invoices of the {size} company", built.open_invoices, "invoices")]
        # The first view after the mirror changed works the figures out; later views reuse them.
        first = round(_timed_ms(client, "/"), 1)
        figures.append(info(f"{PREFIX}dashboard page GET /, {kind}, {size}, first view after a sync", first, "ms"))
        for name, (path, limit) in PAGES.items():
            _timed_ms(client, path)  # warm-up
            wall, cpu = _medians_ms(client, path, runs)
            label = f"{PREFIX}{name} page GET {path}, {kind}, {size}, median of {runs}"
            figures.append(at_most(label, round(wall, 1), "ms", limit, f"< {limit:.0f} ms"))
            figures.append(info(f"{label}, CPU time", round(cpu, 1), "ms"))
        app.extensions["arpilot"].engine.dispose()
        return figures


def main(argv: list[str]) -> None:
    # Here, not at the top: bench/run.py imports this module to run it as its part "dashboard".
    from bench.figures import load, save, table
    from bench.run import RESULTS, merged

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--postgres", action="store_true", help="measure on PostgreSQL too")
    parser.add_argument("--no-save", action="store_true", help="print only; leave bench/results/latest.json")
    args = parser.parse_args(argv)
    if args.invoices < 1 or args.customers < 1 or args.runs < 1:
        parser.error("--invoices, --customers and --runs must be at least 1")
    figures: list[Figure] = []
    for kind in ("sqlite", "postgresql") if args.postgres else ("sqlite",):
        figures += measure(kind, args.invoices, args.customers, args.runs)
    busy = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    print(table(figures, f"arpilot owner pages, server time through the Flask test client (load average {busy})"))
    if not args.no_save:
        save(merged(figures, load(RESULTS), ("dashboard",)), RESULTS)


if __name__ == "__main__":
    main(sys.argv[1:])
