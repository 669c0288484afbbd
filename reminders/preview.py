"""Sample reminders for previews: the settings page's live preview and `arpilot reminders preview`.

The sample customer owes two invoices at each stage (one with a pay-online link, one without), so a
preview shows consolidation and the missing-link case as a real customer would see them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from connectors.contract import Money
from reminders.content import REMINDER_STAGES, ReminderContext, ReminderInvoice, RenderedEmail, render_reminder

SAMPLE_TODAY = dt.date(2025, 6, 16)
SAMPLE_TERMS_DAYS = 30  # the sample invoices fall due this many days after their issue date

# How late the sample's main invoice is at each stage (negative: not yet due), close to the defaults.
_SAMPLE_DAYS_OVERDUE = {
    "check_in": -27,
    "courtesy": -3,
    "reminder_1": 3,
    "reminder_2": 14,
    "past_due_30": 31,
    "past_due_60": 61,
    "final_notice": 91,
}


def sample_context(
    stage: str,
    *,
    company_name: str = "Harbour Joinery Ltd",
    locale: str = "en_US",
    currency: str = "USD",
    sender_name: str = "Sam Rivera",
    signature: str = "Sam Rivera\nOwner, Harbour Joinery Ltd\n(555) 010-2030",
    reply_to: str = "accounts@harbourjoinery.example",
    today: dt.date = SAMPLE_TODAY,
    days_overdue: int | None = None,
    ways_to_pay: tuple[str, ...] | None = None,
) -> ReminderContext:
    """`days_overdue`: how late the main invoice is (the settings page passes the stage's timing);
    `ways_to_pay`: None for the sample's bank transfer and check lines."""
    days = (
        _SAMPLE_DAYS_OVERDUE.get(stage, 0) if days_overdue is None else days_overdue
    )  # an unknown stage fails in ReminderContext
    return ReminderContext(
        company_name=company_name,
        locale=locale,
        sender_name=sender_name,
        signature=signature,
        reply_to=reply_to,
        customer_name="Acme Widgets",
        stage=stage,
        invoices=(
            _sample_invoice("1042", days, Decimal("1250.00"), Decimal("1250.00"), currency, today, linked=True),
            _sample_invoice("1047", days - 2, Decimal("480.50"), Decimal("240.25"), currency, today, linked=False),
        ),
        ways_to_pay=(
            f"Bank transfer to {company_name}, account 12345678, routing 021000021",
            f"Check payable to {company_name}, 12 Quay Street, Portsmouth",
        )
        if ways_to_pay is None
        else ways_to_pay,
        credit_hold=stage == "final_notice",
        referral_date=today + dt.timedelta(days=14) if stage == "final_notice" else None,
        customer_page_url="https://arpilot.example/c/sample-link",
    )


def render_previews(stages: tuple[str, ...] = REMINDER_STAGES, **sample: object) -> dict[str, RenderedEmail]:
    """Every requested stage rendered for the sample customer; `sample` overrides sample_context's defaults."""
    return {stage: render_reminder(sample_context(stage, **sample)) for stage in stages}  # type: ignore[arg-type]


def _sample_invoice(
    number: str, days_overdue: int, total: Decimal, balance: Decimal, currency: str, today: dt.date, *, linked: bool
) -> ReminderInvoice:
    due = today - dt.timedelta(days=days_overdue)
    return ReminderInvoice(
        number=number,
        issue_date=due - dt.timedelta(days=SAMPLE_TERMS_DAYS),
        due_date=due,
        total=Money(total, currency),
        balance=Money(balance, currency),
        days_overdue=days_overdue,
        pay_link=f"https://pay.example/invoices/{number}" if linked else None,
    )
