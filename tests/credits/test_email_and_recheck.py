"""The reminder states the net amount when the customer holds some credit; the send-time re-check
leaves out what credit read now covers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from connectors.contract import Credit, CreditKind, Invoice, InvoiceStatus, Money
from integration.cycle.credit_recheck import effective_credit, uncovered
from reminders.content import render_reminder
from tests.reminders.conftest import make_context, make_invoice

T = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def test_reminder_states_the_credit_and_the_net_amount() -> None:
    context = make_context(
        "reminder_1",
        invoices=(make_invoice(balance=Money(Decimal("100.00"), "USD"), total=Money(Decimal("100.00"), "USD")),),
        credits=(Money(Decimal("20.00"), "USD"),),
    )
    email = render_reminder(context)
    assert "Total due: $100.00" in email.text
    assert "Less your unapplied credit of $20.00: $80.00 to pay" in email.text
    assert "Less your unapplied credit of $20.00: $80.00 to pay" in email.html


def test_reminder_without_credit_says_nothing_of_it() -> None:
    email = render_reminder(make_context("reminder_1", credits=(Money(Decimal("5.00"), "EUR"),)))
    assert "unapplied credit" not in email.text and "unapplied credit" not in email.html


def _invoice(iid: str, balance: str, currency: str = "USD") -> Invoice:
    return Invoice(
        iid,
        iid,
        "c1",
        dt.date(2026, 9, 1),
        dt.date(2026, 10, 1),
        Money(Decimal(balance), currency),
        Money(Decimal(balance), currency),
        InvoiceStatus.OPEN,
        T,
    )


def _credit(remaining: str, currency: str = "USD") -> Credit:
    return Credit(
        "cn",
        CreditKind.CREDIT_NOTE,
        "c1",
        "CN-0001",
        dt.date(2026, 10, 5),
        Money(Decimal("92.50"), currency),
        Money(Decimal(remaining), currency),
        T,
    )


def test_recheck_keeps_everything_without_credit() -> None:
    invoices = [_invoice("a", "40.00")]
    assert uncovered(invoices, effective_credit({}, [])) == (invoices, {}, "")


def test_recheck_drops_a_currency_the_credit_now_covers() -> None:
    kept, mention, why = uncovered(
        [_invoice("a", "40.00"), _invoice("b", "10.00", "EUR")], effective_credit({}, [_credit("92.50")])
    )
    assert [i.provider_id for i in kept] == ["b"] and mention == {}
    assert why == "the customer's unapplied credit of 92.50 USD now covers the 40.00 USD this was to ask for"


def test_recheck_keeps_part_covered_invoices_with_the_credit_to_state() -> None:
    kept, mention, _ = uncovered([_invoice("a", "100.00")], effective_credit({}, [_credit("20.00"), _credit("0.00")]))
    assert [i.provider_id for i in kept] == ["a"] and mention == {"USD": Money(Decimal("20.00"), "USD")}


def test_recheck_counts_only_the_credit_the_policy_left_plus_credit_new_since() -> None:
    # Planned: 70.00 available, 60.00 of it covering an older invoice, 10.00 left for this reminder.
    planned = {"USD": {"available": "70.00", "left": "10.00"}}
    assert effective_credit(planned, [_credit("70.00")]) == {"USD": Decimal("10.00")}
    assert effective_credit(planned, [_credit("10.00")]) == {"USD": Decimal("10.00")}  # the 60.00 was applied
    assert effective_credit(planned, [_credit("70.00"), _credit("50.00")]) == {"USD": Decimal("60.00")}  # a new note
    assert effective_credit(planned, []) == {"USD": Decimal("0")}  # all of it used elsewhere since
