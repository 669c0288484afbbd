"""One customer's collection record: the open balance is what the customer owes now."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from integration.owner.records import CustomerRecord
from integration.store.models import MirroredCustomer, MirroredInvoice


def _invoice(number: str, status: str, balance: str, currency: str = "USD") -> MirroredInvoice:
    return MirroredInvoice(
        connection_id=1,
        provider_id=number,
        customer_provider_id="c1",
        number=number,
        issue_date=dt.date(2026, 10, 1),
        due_date=dt.date(2026, 10, 31),
        total=Decimal("500.00"),
        balance=Decimal(balance),
        currency=currency,
        status=status,
        provider_updated_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
    )


def test_open_balance_counts_open_invoices_only() -> None:
    # A Xero draft carries its AmountDue as balance, yet nobody owes it: the customer never got it.
    invoices = [
        _invoice("1001", "open", "450.00"),
        _invoice("1002", "draft", "500.00"),
        _invoice("1003", "paid", "0.00"),
        _invoice("1004", "open", "80.00", "EUR"),
    ]
    record = CustomerRecord(
        MirroredCustomer(connection_id=1, provider_id="c1", name="Acme"), invoices, [], [], [], [], [], []
    )
    assert record.open_balance == {"USD": Decimal("450.00"), "EUR": Decimal("80.00")}
