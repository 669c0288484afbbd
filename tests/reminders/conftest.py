"""Helpers for the reminder-content tests: a small context builder with sensible defaults."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from connectors.contract import Money
from reminders.content import ReminderContext, ReminderInvoice


def make_invoice(number: str = "1042", *, currency: str = "USD", **changes: Any) -> ReminderInvoice:
    fields: dict[str, Any] = {
        "number": number,
        "issue_date": dt.date(2025, 3, 1),
        "due_date": dt.date(2025, 3, 31),
        "total": Money(Decimal("1234.50"), currency),
        "balance": Money(Decimal("1234.50"), currency),
        "days_overdue": 14,
        "pay_link": f"https://pay.example/{number}",
    }
    return ReminderInvoice(**{**fields, **changes})


def make_context(stage: str = "reminder_2", **changes: Any) -> ReminderContext:
    context = ReminderContext(
        company_name="Harbour Joinery Ltd",
        locale="en_US",
        sender_name="Sam Rivera",
        signature="Sam Rivera\nOwner",
        reply_to="accounts@harbour.example",
        customer_name="Acme Widgets",
        stage="reminder_2",
        invoices=(make_invoice(),),
        referral_date=dt.date(2025, 7, 1),
    )
    return dataclasses.replace(context, stage=stage, **changes)


@pytest.fixture
def context() -> ReminderContext:
    return make_context()
