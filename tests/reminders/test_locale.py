"""Amounts and dates follow the invoice currency and the organisation's locale."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connectors.contract import Money
from reminders.content import render_reminder
from tests.reminders.conftest import make_context, make_invoice


@pytest.mark.parametrize(
    ("locale", "currency", "amount", "issued", "due", "total_due"),
    [
        ("en_US", "USD", "$1,234.50", "Mar 1, 2025", "Mar 31, 2025", "$1,234.50"),
        ("en_GB", "GBP", "£1,234.50", "1 Mar 2025", "31 Mar 2025", "£1,234.50"),
        ("de_DE", "EUR", "1.234,50\xa0€", "01.03.2025", "31.03.2025", "1.234,50\xa0€"),
    ],
)
def test_amounts_and_dates_follow_locale_and_currency(
    locale: str, currency: str, amount: str, issued: str, due: str, total_due: str
) -> None:
    email = render_reminder(make_context(locale=locale, invoices=(make_invoice(currency=currency),)))
    assert f"Issued {issued}, due {due}" in email.text
    assert f"Amount {amount}, balance {amount}" in email.text
    assert f"Total due: {total_due}" in email.text
    for cell in (issued, due, amount):
        assert f">{cell}</td>" in email.html


def test_currency_is_the_invoices_not_the_locales() -> None:
    invoice = make_invoice(currency="USD")
    assert "Total due: 1.234,50\xa0$" in render_reminder(make_context(locale="de_DE", invoices=(invoice,))).text
    assert "Total due: US$1,234.50" in render_reminder(make_context(locale="en_GB", invoices=(invoice,))).text


def test_zero_decimal_currency_has_no_cents() -> None:
    invoice = make_invoice(total=Money(Decimal(5000), "JPY"), balance=Money(Decimal(5000), "JPY"))
    assert "Total due: ¥5,000\n" in render_reminder(make_context(invoices=(invoice,))).text


def test_referral_date_follows_locale() -> None:
    email = render_reminder(make_context("final_notice", locale="de_DE", referral_date=dt.date(2025, 7, 1)))
    assert "01.07.2025" in email.subject and "by 01.07.2025" in email.text


def test_locale_accepts_hyphenated_form() -> None:
    assert "1 Mar 2025" in render_reminder(make_context(locale="en-GB")).text
