"""Small builders for policy tests: a company, customers and invoices with only what matters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from connectors.contract import Contact, Customer, Invoice, InvoiceStatus, Money, Payment, PaymentApplication

EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
TODAY = dt.date(2026, 6, 10)  # a Wednesday
NOW = dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC)  # 10:00 in Denver: inside the send window


def customer(
    cid: str = "c1", email: str | None = "ap@acme.example", contacts: tuple[Contact, ...] = (), name: str = "Acme"
) -> Customer:
    return Customer(cid, name, email, "+1-555-0100", "USD", None, True, EPOCH, contacts)


def invoice(
    iid: str,
    days_late: int,
    *,
    cid: str = "c1",
    total: str = "100.00",
    balance: str | None = None,
    status: InvoiceStatus = InvoiceStatus.OPEN,
    terms: int = 30,
    today: dt.date = TODAY,
) -> Invoice:
    due = today - dt.timedelta(days=days_late)
    return Invoice(
        iid,
        iid.removeprefix("inv-"),
        cid,
        due - dt.timedelta(days=terms),
        due,
        Money(Decimal(total), "USD"),
        Money(Decimal(balance if balance is not None else total), "USD"),
        status,
        EPOCH,
    )


def paid_invoice(
    iid: str, due: dt.date, paid: dt.date, *, cid: str = "c1", total: str = "100.00"
) -> tuple[Invoice, Payment]:
    inv = Invoice(
        iid,
        iid.removeprefix("inv-"),
        cid,
        due - dt.timedelta(days=30),
        due,
        Money(Decimal(total), "USD"),
        Money(Decimal(0), "USD"),
        InvoiceStatus.PAID,
        EPOCH,
    )
    pay = Payment(
        f"pay-{iid}",
        cid,
        paid,
        Money(Decimal(total), "USD"),
        (PaymentApplication(iid, Money(Decimal(total), "USD")),),
        EPOCH,
    )
    return inv, pay


def history_of(
    days_late: list[int], *, cid: str = "c1", today: dt.date = TODAY, due_day: int = 10
) -> tuple[list[Invoice], list[Payment]]:
    """Paid invoices in the last year, one per month, each paid `days_late[i]` after its due date."""
    invoices, payments = [], []
    for index, late in enumerate(days_late):
        month = (today.month - 2 - index) % 12 + 1
        year = today.year - (1 if month >= today.month else 0)
        due = dt.date(year, month, due_day)
        inv, pay = paid_invoice(f"h-{cid}-{index}", due, due + dt.timedelta(days=late), cid=cid)
        invoices.append(inv)
        payments.append(pay)
    return invoices, payments
