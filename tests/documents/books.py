"""A hand-built book for one customer: open invoices in every aging bucket, one paid invoice, a
payment and a credit note inside the statement's window and one of each outside it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from connectors.contract import Credit, CreditKind, Customer, Invoice, InvoiceStatus, Money, Payment, PaymentApplication
from integration.policy.snapshot import Company

NOW = dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 6, 10)
EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
COMPANY = Company("Müller & Söhne GmbH", "Europe/Berlin", "EUR", "de_DE")
US_COMPANY = Company("Acme Supply", "America/Denver", "USD", "en_US")


def eur(text: str) -> Money:
    return Money(Decimal(text), "EUR")


def customer(name: str = "Café Zoë Ltd", cid: str = "c1", currency: str = "EUR") -> Customer:
    return Customer(cid, name, "ap@zoe.example", None, currency, None, True, EPOCH)


def invoice(
    number: str, days_late: int, balance: str, total: str | None = None, *, cid: str = "c1", currency: str = "EUR"
) -> Invoice:
    due = TODAY - dt.timedelta(days=days_late)
    status = InvoiceStatus.OPEN if Decimal(balance) > 0 else InvoiceStatus.PAID
    return Invoice(
        f"inv-{number}",
        number,
        cid,
        due - dt.timedelta(days=30),
        due,
        Money(Decimal(total or balance), currency),
        Money(Decimal(balance), currency),
        status,
        EPOCH,
    )


def payment(pid: str, days_ago: int, amount: str, *, deleted: bool = False) -> Payment:
    return Payment(
        pid,
        "c1",
        TODAY - dt.timedelta(days=days_ago),
        eur(amount),
        (PaymentApplication("inv-P1", eur(amount)),),
        EPOCH,
        deleted,
    )


def credit(number: str, days_ago: int, total: str, remaining: str) -> Credit:
    return Credit(
        f"cr-{number}",
        CreditKind.CREDIT_NOTE,
        "c1",
        number,
        TODAY - dt.timedelta(days=days_ago),
        eur(total),
        eur(remaining),
        EPOCH,
    )


INVOICES = (
    invoice("A-1", -5, "100.00"),  # not yet due
    invoice("A-2", 10, "250.50", "300.00"),  # 1-30, part paid
    invoice("A-3", 45, "1000.00"),  # 31-60
    invoice("A-4", 75, "40.25"),  # 61-90
    invoice("A-5", 200, "9.99"),  # 90+
    invoice("P1", 20, "0.00", "500.00"),  # paid: on no statement line
)
PAYMENTS = (
    payment("pay-1", 3, "500.00"),
    payment("pay-old", 60, "70.00"),
    payment("pay-gone", 2, "5.00", deleted=True),
)
CREDITS = (credit("CN-1", 5, "49.50", "20.00"), credit("CN-0", 90, "10.00", "10.00"))
OPEN_TOTAL = eur("1400.74")


def other_currency(record: Invoice) -> Invoice:
    return dataclasses.replace(
        record, total=Money(record.total.amount, "JPY"), balance=Money(record.balance.amount, "JPY")
    )


def usd(text: str) -> Money:
    return Money(Decimal(text), "USD")


def bhd(text: str) -> Money:
    return Money(Decimal(text), "BHD")
