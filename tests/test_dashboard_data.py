"""The dashboard's figures read from the mirror of an organization with more than one company.

Provider ids are unique only inside one company: two QuickBooks companies both have an invoice
"130". A payment in one company must never settle the other company's invoice of the same id."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from integration.owner.call_list import HISTORY_LIMIT, CallTask, open_call_tasks
from integration.owner.dashboard_lists import TODAY_LIMIT
from integration.owner.dashboard_reads import Dashboard, load_dashboard
from integration.store.db import transaction
from integration.store.models import (
    Action,
    ActionStatus,
    ActivityEntry,
    Connection,
    MirroredCustomer,
    MirroredInvoice,
    MirroredPayment,
    Organization,
)

NOW = dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC)
UPDATED = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)


def _company(db: Session, organization_id: int, realm: str, paid_on: dt.date) -> None:
    """One company with invoice "1" (100.00, issued 1 September) paid in full on `paid_on`."""
    connection = Connection(
        organization_id=organization_id, provider="quickbooks", external_id=realm, display_name=realm
    )
    db.add(connection)
    db.flush()
    db.add(
        MirroredInvoice(
            connection_id=connection.id,
            provider_id="1",
            customer_provider_id="c1",
            number=f"{realm}-1",
            issue_date=dt.date(2026, 9, 1),
            due_date=dt.date(2026, 10, 1),
            total=Decimal("100.00"),
            balance=Decimal("0.00"),
            currency="USD",
            status="paid",
            provider_updated_at=UPDATED,
        )
    )
    db.add(
        MirroredPayment(
            connection_id=connection.id,
            provider_id="p1",
            customer_provider_id="c1",
            date=paid_on,
            amount=Decimal("100.00"),
            currency="USD",
            applied_to=[{"invoice_id": "1", "amount": "100.00"}],
            provider_updated_at=UPDATED,
        )
    )


def test_a_payment_settles_only_its_own_companys_invoice(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as db:
        organization = Organization(name="Two Companies Ltd")
        db.add(organization)
        db.flush()
        organization_id = organization.id
        _company(db, organization_id, "north", dt.date(2026, 10, 15))  # paid before the end of October
        _company(db, organization_id, "south", dt.date(2026, 11, 10))  # still owed at the end of October
    with sessions() as db:
        trend = load_dashboard(db, organization_id, NOW, dt.timedelta(hours=1)).trend["USD"]
    october = next(p for p in trend if p.day == dt.date(2026, 10, 31))
    assert (october.receivable, october.overdue) == (Decimal("100.00"), Decimal("100.00"))
    september = next(p for p in trend if p.day == dt.date(2026, 9, 30))
    assert september.receivable == Decimal("200.00") and september.overdue == 0
    assert trend[-1].receivable == 0


def _call_tasks(sessions: sessionmaker[Session], count: int) -> int:
    """An organization with `count` customers, each owing an invoice and with a call task to make."""
    with transaction(sessions) as db:
        organization = Organization(name=f"{count} calls Ltd")
        db.add(organization)
        db.flush()
        connection = Connection(organization_id=organization.id, provider="quickbooks", external_id=f"calls-{count}")
        db.add(connection)
        db.flush()
        for n in range(count):
            customer, invoice = f"c{n}", f"i{n}"
            db.add(
                MirroredCustomer(
                    connection_id=connection.id,
                    provider_id=customer,
                    name=f"Customer {n}",
                    phone="555-0100",
                    currency="USD",
                    provider_updated_at=UPDATED,
                )
            )
            db.add(
                MirroredInvoice(
                    connection_id=connection.id,
                    provider_id=invoice,
                    customer_provider_id=customer,
                    number=str(1000 + n),
                    issue_date=dt.date(2026, 9, 1),
                    due_date=dt.date(2026, 10, 1),
                    total=Decimal("100.00"),
                    balance=Decimal("100.00"),
                    currency="USD",
                    status="open",
                    provider_updated_at=UPDATED,
                )
            )
            db.add(
                Action(
                    organization_id=organization.id,
                    connection_id=connection.id,
                    idempotency_key=f"{count}-call-{n}",
                    kind="create_call_task",
                    target_type="customer",
                    target_id=customer,
                    reason="Past due 30",
                    status=ActionStatus.DONE,
                    created_at=NOW - dt.timedelta(days=2),
                    payload={
                        "customer_id": customer,
                        "invoice_ids": [invoice],
                        "stage": "past_due_30",
                        "recipients": [],
                        "idempotency_key": f"{count}-call-{n}",
                    },
                )
            )
            for day in range(HISTORY_LIMIT + 2):
                db.add(
                    ActivityEntry(
                        organization_id=organization.id,
                        connection_id=connection.id,
                        kind="reminder_sent",
                        message=f"Reminder {day} to customer {n}",
                        customer_provider_id=customer,
                        created_at=NOW - dt.timedelta(days=30 - day),
                    )
                )
        return organization.id


def _statements(sessions: sessionmaker[Session], organization_id: int) -> tuple[int, list[CallTask]]:
    counted: list[str] = []
    engine = sessions.kw["bind"]
    listener = lambda *args: counted.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        with sessions() as db:
            calls = open_call_tasks(db, organization_id, NOW)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(counted), calls


def test_the_call_list_takes_the_same_few_queries_however_many_calls(sessions: sessionmaker[Session]) -> None:
    few, one_call = _statements(sessions, _call_tasks(sessions, 1))
    many, calls = _statements(sessions, _call_tasks(sessions, 12))
    assert few == many
    assert len(calls) == 12 and [c.invoices for c in calls[:2]] == [
        ("invoice 1000, 100.00 USD",),
        ("invoice 1001, 100.00 USD",),
    ]
    # Each customer's own latest history, newest first, HISTORY_LIMIT lines at most.
    assert [h.message for h in calls[3].history] == [
        f"Reminder {day} to customer 3" for day in range(HISTORY_LIMIT + 1, 1, -1)
    ]
    assert one_call[0].history[0].message == "Reminder 9 to customer 0"


def _dashboard_loading(
    sessions: sessionmaker[Session], organization_id: int, model: type[Any]
) -> tuple[Dashboard, list[Any]]:
    """The organization's dashboard, and every `model` row the ORM loaded to build it."""
    loaded: list[Any] = []
    listener = lambda target, _context: loaded.append(target)  # noqa: E731
    event.listen(model, "load", listener)
    try:
        with sessions() as db:
            return load_dashboard(db, organization_id, NOW, dt.timedelta(hours=1)), loaded
    finally:
        event.remove(model, "load", listener)


def test_the_dashboard_reads_only_the_customers_it_names(sessions: sessionmaker[Session]) -> None:
    organization_id = _call_tasks(sessions, 2)
    with transaction(sessions) as db:
        connection_id = db.scalars(select(Connection.id).where(Connection.organization_id == organization_id)).one()
        db.add_all(
            MirroredCustomer(
                connection_id=connection_id,
                provider_id=f"idle{n}",
                name=f"Idle {n}",
                currency="USD",
                provider_updated_at=UPDATED,
            )
            for n in range(40)
        )
    data, loaded = _dashboard_loading(sessions, organization_id, MirroredCustomer)
    assert [c.customer_name for c in data.calls] == ["Customer 0", "Customer 1"]
    assert sorted(row.provider_id for row in loaded) == ["c0", "c1"]


def test_a_busy_day_lists_a_page_of_actions_and_counts_them_all(sessions: sessionmaker[Session]) -> None:
    organization_id = _call_tasks(sessions, 1)
    busy = TODAY_LIMIT + 30
    with transaction(sessions) as db:
        connection_id = db.scalars(select(Connection.id).where(Connection.organization_id == organization_id)).one()
        for n in range(busy):
            for kind in ("send_reminder", "add_note"):
                db.add(
                    Action(
                        organization_id=organization_id,
                        connection_id=connection_id,
                        idempotency_key=f"busy-{kind}-{n}",
                        kind=kind,
                        target_type="invoice",
                        target_id=f"x{n}",
                        reason="Reminder 1",
                        status=ActionStatus.DONE,
                        created_at=NOW - dt.timedelta(minutes=n),
                        completed_at=NOW - dt.timedelta(minutes=n),
                        payload={
                            "customer_id": "c0",
                            "invoice_ids": [f"x{n}"],
                            "stage": "reminder_1",
                            "recipients": ["c0@example.com"],
                            "idempotency_key": f"busy-{n}",
                        },
                    )
                )
    data, loaded = _dashboard_loading(sessions, organization_id, Action)
    assert data.today_counts == {"Reminder email": busy, "Note on invoice": busy}
    assert len(data.today_actions) == TODAY_LIMIT and data.today_total == busy
    assert {line.kind for line in data.today_actions} == {"Reminder email"}
    assert len(loaded) < 2 * TODAY_LIMIT
