"""What a customer types on their page, checked before anything is recorded (pure)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connectors.contract import minor_digits
from integration.customer.actions import (
    CustomerInputError,
    Said,
    describe,
    parse_dispute,
    parse_paid,
    parse_promise,
)

TODAY = dt.date(2026, 11, 23)
LATEST = dt.date(2027, 11, 23)


def test_a_payment_is_read_with_its_reference() -> None:
    statement = parse_paid("2026-11-20", "1,250.50", "  cheque   1042 ", TODAY, "USD")
    assert (statement.said, statement.paid_on, statement.amount, statement.reference) == (
        Said.PAID,
        dt.date(2026, 11, 20),
        Decimal("1250.50"),
        "cheque 1042",
    )
    assert (
        describe(statement, "1003", "USD")
        == "says invoice 1003 was paid on 2026-11-20: 1250.50 USD, reference cheque 1042"
    )


@pytest.mark.parametrize(
    ("paid_on", "amount", "field", "message"),
    [
        ("", "10", "paid_on", "Enter the date you paid."),
        ("20/11/2026", "10", "paid_on", "Enter the date you paid as a date like 2026-12-01."),
        ("2026-11-24", "10", "paid_on", "The date you paid cannot be after today (2026-11-23)."),
        ("2020-01-01", "10", "paid_on", "That date is more than three years ago: check the year."),
        ("2026-11-20", "ten", "amount", "Enter the amount you paid as a number, like 250.00."),
        ("2026-11-20", "0", "amount", "Enter the amount you paid as a number above zero, like 250.00."),
        ("2026-11-20", "-5", "amount", "Enter the amount you paid as a number above zero, like 250.00."),
        ("2026-11-20", "1.005", "amount", "Enter the amount you paid as a number above zero, like 250.00."),
        ("2026-11-20", "NaN", "amount", "Enter the amount you paid as a number above zero, like 250.00."),
    ],
)
def test_a_bad_payment_is_refused_naming_the_field(paid_on: str, amount: str, field: str, message: str) -> None:
    with pytest.raises(CustomerInputError) as refused:
        parse_paid(paid_on, amount, "", TODAY, "USD")
    assert (refused.value.field, refused.value.message) == (field, message)


@pytest.mark.parametrize(
    ("amount", "currency", "read"),
    [("10.125", "BHD", "10.125"), ("1,500", "JPY", "1500"), ("0.5", "KWD", "0.5"), ("1e3", "USD", "1000")],
)
def test_an_amount_is_read_to_the_currencys_minor_unit(amount: str, currency: str, read: str) -> None:
    statement = parse_paid("2026-11-20", amount, "", TODAY, currency)
    assert statement.amount == Decimal(read)
    assert describe(statement, "9", currency).endswith(f": {Decimal(read):.{minor_digits(currency)}f} {currency}")


@pytest.mark.parametrize(
    ("amount", "currency", "example"),
    [("1500.5", "JPY", "like 250."), ("10.1255", "BHD", "like 250.000."), ("-0.001", "KWD", "like 250.000.")],
)
def test_an_amount_finer_than_the_currency_is_refused_with_its_example(
    amount: str, currency: str, example: str
) -> None:
    with pytest.raises(CustomerInputError) as refused:
        parse_paid("2026-11-20", amount, "", TODAY, currency)
    assert refused.value.field == "amount" and refused.value.message.endswith(example)


@pytest.mark.parametrize("amount", ["1e12", "1000000000000.00", "1" * 40])
def test_an_amount_beyond_any_invoice_is_refused_as_such(amount: str) -> None:
    with pytest.raises(CustomerInputError) as refused:
        parse_paid("2026-11-20", amount, "", TODAY, "USD")
    assert (refused.value.field, refused.value.message) == (
        "amount",
        "That is more than any invoice could be: check the amount you paid.",
    )


def test_a_dispute_needs_a_reason_of_reasonable_length() -> None:
    assert parse_dispute("  Wrong quantity \n").reason == "Wrong quantity"
    for reason, message in (
        ("  ", "Tell us what is wrong with this invoice."),
        ("x" * 1001, "Keep the reason to 1000 characters."),
    ):
        with pytest.raises(CustomerInputError) as refused:
            parse_dispute(reason)
        assert refused.value.message == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter the date you will pay by."),
        ("2026-11-22", "Choose today (2026-11-23) or a later date."),
        ("2027-11-24", "Choose a date no later than 2027-11-23."),
    ],
)
def test_a_promise_lies_between_today_and_the_owners_limit(text: str, message: str) -> None:
    assert parse_promise("2027-11-23", TODAY, LATEST).promised_on == LATEST
    with pytest.raises(CustomerInputError) as refused:
        parse_promise(text, TODAY, LATEST)
    assert (refused.value.field, refused.value.message) == ("promised_on", message)
