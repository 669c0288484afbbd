"""Owner pages on both databases: the shared `app` (on the `database_url` fixture), two organizations with a
collection history each, and a test client signed in as one of them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from connectors.contract import PostalAddress
from integration.store.db import transaction
from integration.store.models import (
    Action,
    ActionStatus,
    ActivityEntry,
    Connection,
    InvoicePause,
    MirroredCustomer,
    MirroredInvoice,
    MirroredPayment,
    Organization,
    User,
)
from integration.store.postal import address_json
from tests.oauth.conftest import sandbox, sandbox_app, xero_app, xero_sandbox  # noqa: F401 - shared fixtures

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def add_jobs(sessions, connection_id: int, parent_id: str) -> None:  # type: ignore[no-untyped-def]
    """Two jobs of the customer `parent_id`, each with an open invoice J-job-n of 80.00 USD: job-1 billed
    with its parent (QuickBooks BillWithParent), job-2 on its own account."""
    with transaction(sessions) as db:
        for provider_id, billed in (("job-1", True), ("job-2", False)):
            db.add(
                MirroredCustomer(
                    connection_id=connection_id,
                    provider_id=provider_id,
                    name=f"Shopfit {provider_id}",
                    currency="USD",
                    provider_updated_at=T0,
                    parent_provider_id=parent_id,
                    bill_with_parent=billed,
                )
            )
            db.add(
                MirroredInvoice(
                    connection_id=connection_id,
                    provider_id=f"{provider_id}-inv",
                    customer_provider_id=provider_id,
                    number=f"J-{provider_id}",
                    issue_date=dt.date(2026, 10, 1),
                    due_date=dt.date(2026, 10, 31),
                    total=Decimal("80.00"),
                    balance=Decimal("80.00"),
                    currency="USD",
                    status="open",
                    provider_updated_at=T0,
                )
            )


def reprice(sessions, invoice_ids: list[str], currency: str, balance: str) -> None:  # type: ignore[no-untyped-def]
    """The mirrored invoices (provider ids) in another currency, each `balance` open of as much: a
    customer invoiced in yen or in dinars."""
    with transaction(sessions) as db:
        for invoice in db.scalars(select(MirroredInvoice).where(MirroredInvoice.provider_id.in_(invoice_ids))):
            invoice.currency, invoice.total, invoice.balance = currency, Decimal(balance), Decimal(balance)


@dataclass(frozen=True)
class Seeded:
    organization_id: int
    user_id: int
    connection_id: int
    customer_id: int  # MirroredCustomer.id of the customer with the history
    quiet_customer_id: int  # a second customer of the same organization, with its own history
    invoice_numbers: tuple[str, ...]
    action_ids: tuple[int, ...]
    entry_ids: tuple[int, ...]


def seed_organization(
    sessions, name: str, realm: str, customer_name: str, *, note: str = "Promised on the phone"
) -> Seeded:  # type: ignore[no-untyped-def]
    """An organization with one connection, two customers and, for the first, a full collection history:
    three invoices (one reminded alone, two in a consolidated reminder), a payment, a promise, a
    dispute, an email, a call task, a note, a credit hold and their log entries."""
    with transaction(sessions) as db:
        org = Organization(name=name)
        db.add(org)
        db.flush()
        user = User(
            organization_id=org.id, provider="quickbooks", subject=f"owner-{realm}", email=f"owner@{realm}.example"
        )
        connection = Connection(organization_id=org.id, provider="quickbooks", external_id=realm, display_name=name)
        db.add_all([user, connection])
        db.flush()
        customer = MirroredCustomer(
            connection_id=connection.id,
            provider_id="58",
            name=customer_name,
            email="ap@example.com",
            phone="+1 555 0199",
            currency="USD",
            provider_updated_at=T0,
            billing_address=address_json(PostalAddress((f"{realm} Dock 7", "12 Harbor Rd"), "Boulder", "CO", "80302")),
        )
        quiet = MirroredCustomer(
            connection_id=connection.id, provider_id="77", name="Quiet Co", currency="USD", provider_updated_at=T0
        )
        db.add_all([customer, quiet])
        numbers = (f"{realm}-1001", f"{realm}-1002", f"{realm}-1003")
        for index, number in enumerate(numbers):
            db.add(
                MirroredInvoice(
                    connection_id=connection.id,
                    provider_id=str(130 + index),
                    customer_provider_id="58",
                    number=number,
                    issue_date=dt.date(2026, 9, 1 + index),
                    due_date=dt.date(2026, 10, 1 + index),
                    total=Decimal("500.00"),
                    balance=Decimal("500.00") if index else Decimal("0"),
                    currency="USD",
                    status="open" if index else "paid",
                    provider_updated_at=T0,
                )
            )
        db.add(
            MirroredInvoice(
                connection_id=connection.id,
                provider_id="200",
                customer_provider_id="77",
                number=f"{realm}-2001",
                issue_date=dt.date(2026, 9, 1),
                due_date=dt.date(2026, 10, 1),
                total=Decimal("90.00"),
                balance=Decimal("90.00"),
                currency="USD",
                status="open",
                provider_updated_at=T0,
            )
        )
        db.add(
            MirroredPayment(
                connection_id=connection.id,
                provider_id="P9",
                customer_provider_id="58",
                date=dt.date(2026, 10, 20),
                amount=Decimal("500.00"),
                currency="USD",
                applied_to=[{"invoice_id": "130", "amount": "500.00"}],
                provider_updated_at=T0,
            )
        )
        db.add_all(
            [
                InvoicePause(
                    connection_id=connection.id,
                    invoice_provider_id="131",
                    promise_to_pay=dt.date(2026, 11, 30),
                    note=note,
                ),
                InvoicePause(
                    connection_id=connection.id, invoice_provider_id="132", disputed=True, note="Wrong quantity"
                ),
            ]
        )

        def action(
            key: str,
            kind: str,
            target: tuple[str, str],
            invoice_ids: list[str],
            reason: str,
            minutes: int,
            status: ActionStatus = ActionStatus.DONE,
            ref: str | None = None,
            customer_id: str = "58",
        ) -> Action:
            row = Action(
                organization_id=org.id,
                connection_id=connection.id,
                idempotency_key=f"{connection.id}:{key}",
                kind=kind,
                target_type=target[0],
                target_id=target[1],
                reason=reason,
                status=status,
                external_ref=ref,
                created_at=T0 + dt.timedelta(minutes=minutes),
                payload={
                    "customer_id": customer_id,
                    "invoice_ids": invoice_ids,
                    "stage": "reminder_1",
                    "recipients": [],
                    "idempotency_key": key,
                    "payload": {},
                },
            )
            db.add(row)
            return row

        actions = [
            action(
                "a1",
                "send_reminder",
                ("invoice", "131"),
                ["131"],
                f"{realm}-1002 is 3 days past due",
                1,
                ref="email:m1",
            ),
            action(
                "a2",
                "send_reminder",
                ("customer", "58"),
                ["131", "132"],
                "two invoices past due: one email",
                2,
                ref="email:m2",
            ),
            action(
                "a3",
                "create_call_task",
                ("customer", "58"),
                ["131", "132"],
                "14 days late: call the customer",
                3,
                status=ActionStatus.PLANNED,
            ),
            action("a4", "add_note", ("invoice", "132"), ["132"], "dispute noted", 4, status=ActionStatus.FAILED),
            action("a5", "credit_hold_on", ("customer", "58"), ["131", "132"], "60 days overdue: credit hold", 5),
            action("q1", "send_reminder", ("invoice", "200"), ["200"], "Quiet Co is late", 6, customer_id="77"),
        ]
        db.flush()
        entries = [
            ActivityEntry(
                organization_id=org.id,
                connection_id=connection.id,
                action_id=actions[0].id,
                kind="action_done",
                message=actions[0].reason,
                customer_provider_id="58",
                invoice_provider_id="131",
                created_at=T0 + dt.timedelta(minutes=10),
            ),
            ActivityEntry(
                organization_id=org.id,
                connection_id=connection.id,
                action_id=actions[1].id,
                kind="action_done",
                message=actions[1].reason,
                customer_provider_id="58",
                created_at=T0 + dt.timedelta(minutes=11),
            ),
            ActivityEntry(
                organization_id=org.id,
                connection_id=connection.id,
                kind="call_outcome",
                level="info",
                message=f"Call: {note}",
                customer_provider_id="58",
                invoice_provider_id="131",
                details={"outcome": "promised", "comment": "<i>Spoke to Jo</i> in accounts"},
                created_at=T0 + dt.timedelta(minutes=12),
            ),
            ActivityEntry(
                organization_id=org.id,
                connection_id=connection.id,
                kind="cycle_failed",
                level="error",
                message="The cycle stopped: provider down",
                created_at=T0 + dt.timedelta(minutes=13),
            ),
        ]
        db.add_all(entries)
        db.flush()
        return Seeded(
            org.id,
            user.id,
            connection.id,
            customer.id,
            quiet.id,
            numbers,
            tuple(a.id for a in actions),
            tuple(e.id for e in entries),
        )


@pytest.fixture
def two_orgs(app: Flask) -> tuple[Seeded, Seeded]:
    sessions = app.extensions["arpilot"].sessions
    return (
        seed_organization(
            sessions,
            "Harbor & Pine",
            "9130001",
            "Acme <b>Tools</b> & Co",
            note="<script>alert('x')</script> will pay Friday",
        ),
        seed_organization(sessions, "Other Org", "9130002", "Rival Customer"),
    )


def signed_in(app: Flask, seeded: Seeded) -> FlaskClient:
    client = app.test_client()
    with client.session_transaction() as session:
        session["user_id"], session["organization_id"] = seeded.user_id, seeded.organization_id
    return client
