"""The dashboard's figures read from the mirror of an organization with more than one company.

Provider ids are unique only inside one company: two QuickBooks companies both have an invoice
"130". A payment in one company must never settle the other company's invoice of the same id."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from integration.dashboard_data import load_dashboard
from integration.db import transaction
from integration.models import Connection, MirroredInvoice, MirroredPayment, Organization

NOW = dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC)
UPDATED = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)


def _company(db: Session, organization_id: int, realm: str, paid_on: dt.date) -> None:
    """One company with invoice "1" (100.00, issued 1 September) paid in full on `paid_on`."""
    connection = Connection(organization_id=organization_id, provider="quickbooks", external_id=realm, display_name=realm)
    db.add(connection)
    db.flush()
    db.add(MirroredInvoice(connection_id=connection.id, provider_id="1", customer_provider_id="c1", number=f"{realm}-1",
                           issue_date=dt.date(2026, 9, 1), due_date=dt.date(2026, 10, 1), total=Decimal("100.00"),
                           balance=Decimal("0.00"), currency="USD", status="paid", provider_updated_at=UPDATED))
    db.add(MirroredPayment(connection_id=connection.id, provider_id="p1", customer_provider_id="c1", date=paid_on,
                           amount=Decimal("100.00"), currency="USD", applied_to=[{"invoice_id": "1", "amount": "100.00"}],
                           provider_updated_at=UPDATED))


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
