"""Reminder emails: one frozen context in, a subject, a plain-text body and an HTML body out.

Formatting happens here, in Python, so the templates only lay out ready-made strings; the words
of each stage live in its templates (`templates/<stage>.txt` and `.html`), which extend one layout
per format. Several invoices for one customer always go out as one email.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from babel import Locale
from jinja2 import TemplateError

from connectors.contract import Money
from reminders import formatting
from reminders.environment import render, render_block
from reminders.errors import ContentError, IncompleteContext, UnknownStage
from reminders.wording import Wording, render_html, render_text

# The ladder's stages, each with a .txt and a .html template here; the rules may name no other
# (tests/reminders/test_content.py checks both against integration.policy.rules.STAGES).
REMINDER_STAGES: tuple[str, ...] = (
    "check_in",
    "courtesy",
    "reminder_1",
    "reminder_2",
    "past_due_30",
    "past_due_60",
    "final_notice",
)


@dataclass(frozen=True, slots=True)
class ReminderInvoice:
    number: str
    issue_date: dt.date
    due_date: dt.date | None  # None: due on receipt
    total: Money
    balance: Money
    days_overdue: int  # negative while not yet due
    pay_link: str | None = None

    def __post_init__(self) -> None:
        if not self.number.strip():
            raise IncompleteContext("invoice number must not be blank")
        if self.total.currency != self.balance.currency:
            raise IncompleteContext(
                f"invoice {self.number}: total is in {self.total.currency} but balance in {self.balance.currency}"
            )
        # Autoescaping does not make an href safe: only web links may become a button.
        if self.pay_link is not None and urlsplit(self.pay_link).scheme not in ("https", "http"):
            raise IncompleteContext(f"invoice {self.number}: pay_link must be an http(s) URL")


@dataclass(frozen=True, slots=True)
class ReminderFee:
    """A late fee charged on one of the email's invoices, billed as an invoice of its own."""

    invoice_number: str  # the overdue invoice it is for
    fee_number: str  # the fee's own invoice
    amount: Money


@dataclass(frozen=True, slots=True)
class ReminderContext:
    company_name: str
    locale: str  # the organisation's locale, e.g. "en_US"
    sender_name: str
    signature: str  # the owner's sign-off lines; blank means sender and company name
    reply_to: str
    customer_name: str
    stage: str
    invoices: tuple[ReminderInvoice, ...]
    ways_to_pay: tuple[str, ...] = ()  # e.g. "Bank transfer to ...", besides the pay-online links
    credit_hold: bool = False  # the account is on hold now: every stage says so
    referral_date: dt.date | None = None  # final notice: the owner's chosen referral date (None: no date named)
    credits: tuple[Money, ...] = ()  # unapplied credit per currency, less than the balance in it: net amounts shown
    # The customer's own page (pay, say it is paid, dispute, promise a date): signed for this customer.
    customer_page_url: str | None = None
    late_fees: tuple[ReminderFee, ...] = ()  # fees charged on these invoices (rules.late_fees)
    by_post: bool = False  # the words of the letter a stage posts: "write to" where the email says "reply"

    def __post_init__(self) -> None:
        if self.customer_page_url is not None and urlsplit(self.customer_page_url).scheme not in ("https", "http"):
            raise IncompleteContext("customer_page_url must be an http(s) URL")
        if self.stage not in REMINDER_STAGES:
            raise UnknownStage(f"unknown reminder stage {self.stage!r}; known: {', '.join(REMINDER_STAGES)}")
        if not self.invoices:
            raise IncompleteContext("a reminder needs at least one invoice")
        formatting.parse_locale(self.locale)


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_reminder(context: ReminderContext, wording: Wording | None = None) -> RenderedEmail:
    """The stage's stock email, or with `wording` the owner's subject, opening and closing in its layout."""
    variables = stage_variables(context)
    if wording is not None:
        return _render_worded(context.stage, wording, variables)
    subject = render_block(f"{context.stage}.txt", "subject", variables)
    return RenderedEmail(
        subject=subject,
        text=render(f"{context.stage}.txt", variables),
        html=render(f"{context.stage}.html", {**variables, "subject": subject}),
    )


def _render_worded(stage: str, wording: Wording, variables: dict[str, Any]) -> RenderedEmail:
    try:
        return _fill_worded(stage, wording, variables)
    except TemplateError as exc:  # checked at save, so only a wording saved before a rule changed gets here
        raise ContentError(f"the owner's wording of {stage} cannot be filled in: {exc}") from None


def _fill_worded(stage: str, wording: Wording, variables: dict[str, Any]) -> RenderedEmail:
    subject = " ".join(render_text(wording.subject, variables).split())
    layout = {**variables, "stage_template": f"{stage}.txt", "subject": subject}
    return RenderedEmail(
        subject=subject,
        text=render(
            "custom.txt",
            {
                **layout,
                "custom_opening": render_text(wording.opening, variables),
                "custom_closing": render_text(wording.closing, variables),
            },
        ),
        html=render(
            "custom.html",
            {
                **layout,
                "stage_template": f"{stage}.html",
                "custom_opening": render_html(wording.opening, variables),
                "custom_closing": render_html(wording.closing, variables),
            },
        ),
    )


def stage_variables(context: ReminderContext) -> dict[str, Any]:
    """What a stage's templates and the owner's merge fields are filled with."""
    locale = formatting.parse_locale(context.locale)
    numbers = [invoice.number for invoice in context.invoices]
    # Wording that calls an invoice late names only the overdue ones; the rest are listed apart.
    overdue = [i for i in context.invoices if i.days_overdue > 0]
    upcoming = [i for i in context.invoices if i.days_overdue <= 0]
    rows = [
        {
            "number": invoice.number,
            "issue_date": formatting.date(invoice.issue_date, locale),
            "due_date": formatting.date(invoice.due_date, locale) if invoice.due_date else "on receipt",
            "total": formatting.money(invoice.total, locale),
            "balance": formatting.money(invoice.balance, locale),
            "days_overdue": invoice.days_overdue,
            "timing": formatting.timing(invoice.days_overdue),
            "pay_link": invoice.pay_link,
        }
        for invoice in context.invoices
    ]
    totals = formatting.totals_by_currency(invoice.balance for invoice in context.invoices)
    # Blank: the sender and the company, once each (the From name defaults to the company's name).
    signature = tuple(line.strip() for line in context.signature.strip().splitlines()) or tuple(
        dict.fromkeys((context.sender_name, context.company_name))
    )
    return {
        "company_name": context.company_name,
        "sender_name": context.sender_name,
        "reply_to": context.reply_to,
        "customer_name": context.customer_name,
        "invoices": rows,
        "invoice_label": _label(numbers),
        "overdue_label": _label([i.number for i in overdue]),
        "upcoming_label": _label([i.number for i in upcoming]),
        "total_overdue": _total(overdue, locale),
        "total_upcoming": _total(upcoming, locale),
        "invoice_count": len(rows),
        "oldest_days_overdue": max(invoice.days_overdue for invoice in context.invoices),
        "total_due": _total(context.invoices, locale),
        "any_pay_link": any(invoice.pay_link for invoice in context.invoices),
        "ways_to_pay": context.ways_to_pay,
        "credit_hold": context.credit_hold,
        "referral_date": formatting.date(context.referral_date, locale) if context.referral_date else None,
        "credit_lines": _credit_lines(totals, context.credits, locale),
        "fee_lines": [
            f"A late fee of {formatting.money(fee.amount, locale)} was charged on invoice {fee.invoice_number}; "
            f"it is listed separately, as invoice {fee.fee_number}."
            for fee in context.late_fees
        ],
        "signature": signature,
        "customer_page_url": context.customer_page_url,
        "by_post": context.by_post,
        # How the customer answers: a letter cannot be replied to, so it names the address.
        "reply_way": f"write to {context.reply_to}" if context.by_post else "reply to this email",
    }


def _credit_lines(totals: tuple[Money, ...], credits: tuple[Money, ...], locale: Any) -> list[str]:
    """ "Less your unapplied credit of $20.00: $80.00 to pay", per currency the customer holds credit in."""
    lines = []
    for total in totals:
        credit = next((c for c in credits if c.currency == total.currency), None)
        if credit is not None and credit.amount > 0:
            net = total - credit
            lines.append(
                f"Less your unapplied credit of {formatting.money(credit, locale)}: "
                f"{formatting.money(net, locale)} to pay"
            )
    return lines


def _label(numbers: list[str]) -> str:
    """'invoice 1042', 'invoices 1042 and 1043', or '' for none."""
    if not numbers:
        return ""
    return f"{'invoice' if len(numbers) == 1 else 'invoices'} {formatting.english_list(numbers)}"


def _total(invoices: Sequence[ReminderInvoice], locale: Locale) -> str:
    totals = formatting.totals_by_currency(invoice.balance for invoice in invoices)
    return formatting.english_list(formatting.money(total, locale) for total in totals)
