"""The statement builder against a hand-built book: every total is the book's own sum."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from connectors.contract import Money
from integration.documents.statement import StatementError, build_statement
from tests.documents.books import (
    COMPANY,
    CREDITS,
    INVOICES,
    NOW,
    OPEN_TOTAL,
    PAYMENTS,
    TODAY,
    customer,
    eur,
    invoice,
    payment,
)


def test_open_invoices_are_aged_and_totalled() -> None:
    statement = build_statement(COMPANY, customer(), INVOICES, PAYMENTS, CREDITS, NOW)
    assert statement.as_of == TODAY
    assert [(line.number, line.bucket) for line in statement.open_invoices] == [
        ("A-5", "90+"),
        ("A-4", "61-90"),
        ("A-3", "31-60"),
        ("A-2", "1-30"),
        ("A-1", "current"),
    ]
    (totals,) = statement.totals
    assert totals.open == OPEN_TOTAL
    assert dict(totals.buckets) == {
        "current": eur("100.00"),
        "1-30": eur("250.50"),
        "31-60": eur("1000.00"),
        "61-90": eur("40.25"),
        "90+": eur("9.99"),
    }
    assert sum((amount for _, amount in totals.buckets), Money.zero("EUR")) == totals.open


def test_recent_payments_and_credits_only_and_deleted_ones_never() -> None:
    statement = build_statement(COMPANY, customer(), INVOICES, PAYMENTS, CREDITS, NOW)
    assert statement.since == TODAY - dt.timedelta(days=29)
    assert [(line.kind, line.reference, line.amount) for line in statement.received] == [
        ("credit", "CN-1", eur("49.50")),
        ("payment", "pay-1", eur("500.00")),
    ]
    (totals,) = statement.totals
    assert totals.received == eur("549.50")
    assert totals.credit_available == eur("30.00")  # every credit still unapplied, however old


def test_the_as_of_date_is_the_companys_day() -> None:
    late_evening_in_tokyo = dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC)
    company = COMPANY.__class__("Tokyo KK", "Asia/Tokyo", "JPY", "ja_JP")
    assert build_statement(company, customer(), (), (), (), late_evening_in_tokyo).as_of == dt.date(2026, 6, 11)


def test_two_currencies_give_two_totals_never_converted() -> None:
    invoices = (invoice("E-1", 5, "10.00"), invoice("J-1", 5, "1500", currency="JPY"))
    statement = build_statement(COMPANY, customer(), invoices, (), (), NOW)
    assert [(t.currency, t.open) for t in statement.totals] == [
        ("EUR", eur("10.00")),
        ("JPY", Money(Decimal(1500), "JPY")),
    ]


def test_a_customer_with_nothing_open_owes_nothing() -> None:
    statement = build_statement(COMPANY, customer(), (invoice("P", 3, "0.00", "10.00"),), (), (), NOW)
    assert statement.open_invoices == ()
    assert not statement.owes_anything


def test_another_customers_record_is_refused() -> None:
    with pytest.raises(StatementError, match="belongs to customer 'c2'"):
        build_statement(COMPANY, customer(), (invoice("X", 1, "5.00", cid="c2"),), (), (), NOW)


def test_an_empty_window_is_refused() -> None:
    with pytest.raises(StatementError, match="at least 1"):
        build_statement(COMPANY, customer(), (), (), (), NOW, recent_days=0)


def test_an_unapplied_payment_is_credit_available_however_old() -> None:
    """QuickBooks' UnappliedAmt (and Xero's overpayments come as credits): money the customer holds."""
    old = dataclasses.replace(payment("pay-over", 200, "75.00"), unapplied=eur("75.00"))
    recent = dataclasses.replace(payment("pay-part", 2, "40.00"), unapplied=eur("15.00"))
    statement = build_statement(COMPANY, customer(), INVOICES, (old, recent), CREDITS, NOW)
    (totals,) = statement.totals
    assert totals.credit_available == eur("120.00")  # 20.00 + 10.00 of the credit notes, 75.00 + 15.00 unapplied
    assert totals.received == eur("89.50")  # the recent payment once, as received, and CN-1


def test_unapplied_credit_in_a_currency_nothing_is_owed_in_gets_its_own_total() -> None:
    held = dataclasses.replace(
        payment("pay-jpy", 200, "0.00"), amount=Money(Decimal(5000), "JPY"), unapplied=Money(Decimal(5000), "JPY")
    )
    statement = build_statement(COMPANY, customer(), INVOICES, (held,), (), NOW)
    assert [(t.currency, t.open, t.credit_available) for t in statement.totals] == [
        ("EUR", OPEN_TOTAL, eur("0")),
        ("JPY", Money(Decimal(0), "JPY"), Money(Decimal(5000), "JPY")),
    ]
