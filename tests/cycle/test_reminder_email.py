"""The email a planned reminder becomes: recipients, sender identity, the action's key."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connectors.contract import Customer, Invoice, InvoiceStatus, Money
from integration.cycle.reminder_email import ReminderComposer
from integration.policy.rules import Rules
from integration.policy.snapshot import Company
from integration.store.models import Action
from reminders.delivery import InvalidMessage

UTC = dt.timezone.utc


def test_recipients_are_deduplicated_case_insensitively_billing_first() -> None:
    composer = ReminderComposer(
        Company("Harbor & Pine", "America/Denver", "USD"),
        Rules.from_json({"sender": {"reply_to": "owner@harbor.example"}}),
        dt.date(2026, 11, 23),
        "reminders@harbor.example",
    )
    row = Action(
        id=7,
        organization_id=1,
        idempotency_key="1:abc",
        payload={
            "stage": "reminder_1",
            "recipients": ["ap@planned.example"],  # as decided; the books' addresses as it goes out win
            "payload": {"invoice_stages": {"i1": "reminder_1"}},
        },
    )
    customer = Customer(
        "c1",
        "Acme <Plumbing>",
        "payables@acme.example; ap@ACME.example",
        None,
        "USD",
        None,
        True,
        dt.datetime(2026, 1, 1, tzinfo=UTC),
    )
    invoice = Invoice(
        "i1",
        "1042",
        "c1",
        dt.date(2026, 10, 1),
        dt.date(2026, 10, 31),
        Money(Decimal("100"), "USD"),
        Money(Decimal("100"), "USD"),
        InvoiceStatus.OPEN,
        dt.datetime(2026, 1, 1, tzinfo=UTC),
        email="AP@acme.example",  # the invoice's own bill-to address comes first
    )
    message = composer(row, customer, [invoice])
    # Every address the customer can be written to receives it directly (#13), each once.
    assert [a.email for a in message.to] == ["AP@acme.example", "payables@acme.example"]
    assert message.cc == ()
    assert message.key == "1:abc" and message.reply_to.email == "owner@harbor.example"
    assert message.custom_args["arpilot_action"] == "7"
    assert "1042" in message.text and "&lt;Plumbing&gt;" in (message.html or "")


def _compose(on_file: str):  # type: ignore[no-untyped-def]
    composer = ReminderComposer(
        Company("Harbor & Pine", "America/Denver", "USD"),
        Rules.default(),
        dt.date(2026, 11, 23),
        "reminders@harbor.example",
    )
    row = Action(
        id=8,
        organization_id=1,
        idempotency_key="1:def",
        payload={"stage": "reminder_1", "recipients": [], "payload": {"invoice_stages": {"i1": "reminder_1"}}},
    )
    customer = Customer("c1", "Acme", on_file, None, "USD", None, True, dt.datetime(2026, 1, 1, tzinfo=UTC))
    invoice = Invoice(
        "i1",
        "1042",
        "c1",
        dt.date(2026, 10, 1),
        dt.date(2026, 10, 31),
        Money(Decimal("100"), "USD"),
        Money(Decimal("100"), "USD"),
        InvoiceStatus.OPEN,
        dt.datetime(2026, 1, 1, tzinfo=UTC),
    )
    return composer(row, customer, [invoice])


def test_each_address_is_checked_as_the_email_goes_out_and_a_bad_one_is_left_out() -> None:
    message = _compose("ap@acme.example, not an address; owner@acme.example")
    assert [a.email for a in message.to] == ["ap@acme.example", "owner@acme.example"]


def test_no_valid_address_refuses_the_email_naming_the_bad_ones() -> None:
    with pytest.raises(InvalidMessage, match="no valid email address to send to \\('ap at acme', 'x@'\\)"):
        _compose("ap at acme; x@")
